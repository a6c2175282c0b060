// /debug/pprof/threads: the process's threads, grouped by the stack that created them.
//
// Serving reconciles the table with /proc/self/task, the kernel's list of live threads:
//   a running record whose tid is listed      -> its creation stack, label state=running
//   an exited, never joined record            -> its creation stack, label state=exited-unjoined
//                                               (its stack and descriptor are still held)
//   a running record whose thread is gone     -> it left without its TSD destructors (raw exit
//                                               syscall): booked as exited now
//   a listed tid with no record               -> "[unknown origin]" (the main thread, threads
//                                               from before the agent or from raw clone)
// A live thread blocked in a sleep, a lock (futex) or I/O also gets label wait=<system call>
// (/proc/self/task/TID/syscall), which says where a thread that never ends is parked. The agent's
// own threads are left out. Sample type threads/count.
//
// ?debug=1: Go's count-profile text, counts per creation stack. ?debug=2: every thread with its
// name, kernel state, creation stack and *current* stack, captured by a signal to the thread
// (track_threads_signal.cc), like Go's goroutine?debug=2; timeout per thread ?timeout_ms=
// (default 100), and the whole page spends at most 2 s waiting.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>

#include "agent/agent_api.h"
#include "agent/trackers/track_fds.h"
#include "agent/trackers/track_threads.h"
#include "agent/trackers/tracker_pages.h"

namespace leakscope::agent {

namespace {

struct TaskView {
  pid_t tid = 0;
  bool tracked = false;
  ThreadInfo info;
  std::string name;
  char kernel_state = '?';
  const char* wait = nullptr;  // the system call it is blocked in, if one of wait_name()'s
};

bool read_small_file(const char* path, char* buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n < 0) return false;
  buf[n] = '\0';
  return true;
}

// The blocking system calls a parked thread waits in, by number: a sleep, a lock or condition
// (futex), I/O with no deadline. Others (and "running", -1) give no label.
const char* wait_name(long nr) {
  switch (nr) {
#ifdef SYS_nanosleep
    case SYS_nanosleep:
      return "nanosleep";
#endif
    case SYS_clock_nanosleep:
      return "clock_nanosleep";
    case SYS_futex:
      return "futex";
    case SYS_read:
      return "read";
    case SYS_recvfrom:
      return "recvfrom";
    case SYS_recvmsg:
      return "recvmsg";
    case SYS_ppoll:
      return "ppoll";
    case SYS_pselect6:
      return "pselect6";
    case SYS_epoll_pwait:
      return "epoll_pwait";
    case SYS_accept4:
      return "accept4";
    case SYS_connect:
      return "connect";
    case SYS_wait4:
      return "wait4";
    case SYS_rt_sigtimedwait:
      return "rt_sigtimedwait";
#ifdef SYS_poll
    case SYS_poll:
      return "poll";
#endif
#ifdef SYS_select
    case SYS_select:
      return "select";
#endif
#ifdef SYS_epoll_wait
    case SYS_epoll_wait:
      return "epoll_wait";
#endif
#ifdef SYS_accept
    case SYS_accept:
      return "accept";
#endif
#ifdef SYS_pause
    case SYS_pause:
      return "pause";
#endif
    default:
      return nullptr;
  }
}

// /proc/self/task/TID/syscall: "NR arg... sp pc" while blocked in a call (readable for the
// threads of one's own process), "running" or "-1 ..." otherwise.
const char* read_wait(pid_t tid) {
  char path[64], buf[256];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", static_cast<int>(tid));
  if (!read_small_file(path, buf, sizeof(buf)) || buf[0] < '0' || buf[0] > '9') return nullptr;
  return wait_name(std::strtol(buf, nullptr, 10));
}

void read_task_details(TaskView& v) {
  char path[64], buf[1024];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/comm", static_cast<int>(v.tid));
  if (read_small_file(path, buf, sizeof(buf))) {
    v.name = buf;
    while (!v.name.empty() && v.name.back() == '\n') v.name.pop_back();
  }
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/stat", static_cast<int>(v.tid));
  if (read_small_file(path, buf, sizeof(buf))) v.kernel_state = parse_task_state(buf);
  v.wait = read_wait(v.tid);
}

std::set<pid_t> list_tasks() {
  std::set<pid_t> tids;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] >= '0' && d->d_name[0] <= '9') tids.insert(std::atoi(d->d_name));
  }
  closedir(dir);
  return tids;
}

bool task_alive(pid_t tid) { return syscall(SYS_tgkill, getpid(), tid, 0) == 0 || errno != ESRCH; }

std::vector<TaskView> scan_threads(ThreadTable& table) {
  std::vector<ThreadInfo> records = table.snapshot();
  std::set<pid_t> tids = list_tasks();  // listed after the snapshot: a live record is listed
  for (pid_t t : table.agent_tids()) tids.erase(t);
  tids.erase(static_cast<pid_t>(gettid()));  // the server thread itself
  std::vector<TaskView> out;
  for (const ThreadInfo& info : records) {
    if (info.state == kThreadRunning && !tids.count(info.tid) && info.tid != 0 &&
        !task_alive(info.tid)) {
      table.gone(info);  // only if the record is still this thread's (see gone())
      continue;
    }
    TaskView v;
    v.tid = info.tid;
    v.tracked = true;
    v.info = info;
    tids.erase(info.tid);
    out.push_back(v);
  }
  for (pid_t tid : tids) {
    TaskView v;
    v.tid = tid;
    out.push_back(v);
  }
  for (auto& v : out) {
    if (v.info.state != kThreadExited) read_task_details(v);
  }
  std::sort(out.begin(), out.end(),
            [](const TaskView& a, const TaskView& b) { return a.tid < b.tid; });
  return out;
}

const char* state_label(const TaskView& v) {
  return v.tracked && v.info.state == kThreadExited ? "exited-unjoined" : "running";
}

std::vector<CountItem> count_items(const std::vector<TaskView>& threads) {
  std::vector<CountItem> items;
  items.reserve(threads.size());
  for (const auto& v : threads) {
    CountItem item;
    item.origin = v.tracked ? Origin::kTracked : Origin::kUnknown;
    item.stack_id = v.tracked ? v.info.stack_id : 0;
    item.labels.push_back(Label{"state", state_label(v), 0, ""});
    if (v.wait != nullptr) item.labels.push_back(Label{"wait", v.wait, 0, ""});
    if (!v.tracked && v.tid == getpid()) item.labels.push_back(Label{"thread", "main", 0, ""});
    if (v.tracked && v.info.state == kThreadExited) item.note = "state: exited-unjoined";
    items.push_back(std::move(item));
  }
  return items;
}

std::string profile_body(const std::vector<TaskView>& threads, const ThreadTable& table) {
  int64_t unknown = 0;
  for (const auto& v : threads) unknown += v.tracked ? 0 : 1;
  return count_profile_bytes(
      "threads", count_items(threads),
      "leakscope threads: " + std::to_string(threads.size()) + " (" + std::to_string(unknown) +
          " of unknown origin); table capacity " + std::to_string(table.capacity()) +
          ", threads not booked for lack of room: " + std::to_string(table.overflow()));
}

int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string text_each(const std::vector<TaskView>& threads, int timeout_ms) {
  constexpr int64_t kPageBudgetMs = 2000;
  int64_t deadline = monotonic_ms() + kPageBudgetMs;
  std::string out = "threads: " + std::to_string(threads.size()) + "\n\n";
  uintptr_t pcs[kMaxFrames];
  for (const auto& v : threads) {
    out += "thread " + std::to_string(v.tid) + " \"" + v.name + "\" [" + state_label(v);
    if (v.info.state != kThreadExited) out += std::string(", kernel state ") + v.kernel_state;
    if (v.info.flags & kThreadDetached) out += ", detached";
    if (v.info.flags & kThreadCancelled) out += ", cancel requested";
    if (v.tid == getpid()) out += ", main";
    out += "]:\n";
    if (v.info.state != kThreadExited) {
      const char* why = "the page's time budget is spent";
      int n = 0;
      if (monotonic_ms() < deadline)
        n = capture_thread_stack(v.tid, pcs, kMaxFrames, timeout_ms, &why);
      out += "  current stack:\n";
      if (n > 0) {
        append_stack_text(out, pcs, n, "    ");
        if (why != nullptr) out += std::string("    (partial: ") + why + ")\n";
      } else {
        out += std::string("    (unavailable: ") + why + ")\n";
      }
    }
    out += "  created by:\n";
    if (v.tracked) {
      append_stack_text_for_id(out, v.info.stack_id, "    ");
    } else {
      out += "    [unknown origin]\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace

std::string threads_profile_bytes() {
  ReentryGuard guard;
  ThreadTable& table = thread_table();
  return profile_body(scan_threads(table), table);
}

std::string threads_dump_profile() { return threads_tracking() ? threads_profile_bytes() : ""; }

// The table alone, no /proc walk: a running record whose thread is gone (it left by a raw exit
// syscall) is checked with a signal-0 tgkill, as serving does, but left for serving to book.
TrackerFigures threads_figures() {
  TrackerFigures f;
  if (!threads_tracking()) return f;
  ReentryGuard guard;
  ThreadTable& table = thread_table();
  int64_t running = 0, unjoined = 0, agent = 0;
  for (const ThreadInfo& info : table.snapshot(true)) {
    if (info.flags & kThreadAgent) {
      ++agent;
    } else if (info.state == kThreadExited) {
      ++unjoined;
    } else if (info.tid == 0 || task_alive(info.tid)) {
      ++running;
    }
  }
  table_figures(table, thread_table_bytes(), f);
  f.live = {{"running", running}, {"exited_unjoined", unjoined}};
  f.entries = running + unjoined + agent;
  return f;
}

namespace {

void serve_threads(const HttpRequest& req, HttpResponse& res) {
  ReentryGuard guard;
  ThreadTable& table = thread_table();
  std::vector<TaskView> threads = scan_threads(table);
  auto text = [&](int debug) {
    if (debug == 1) return count_text("threads", count_items(threads));
    int timeout_ms = std::atoi(req.param("timeout_ms", "100").c_str());
    if (timeout_ms <= 0 || timeout_ms > 2000) timeout_ms = 100;
    return text_each(threads, timeout_ms);
  };
  serve_tracker_page(req, res, "threads", text, [&] { return profile_body(threads, table); });
}

}  // namespace

void threads_register_routes() {
  register_route("/debug/pprof/threads",
                 "Live threads, grouped by the stack that created them (threads/count); "
                 "?debug=2 adds each thread's current stack",
                 serve_threads);
}

}  // namespace leakscope::agent
