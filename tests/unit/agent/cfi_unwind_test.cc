// The blocked-thread unwinder (agent/stacks/cfi_unwind.cc, agent/trackers/track_threads_blocked.cc) on this very
// process: a thread parked in nanosleep inside a known call chain is read from outside, and the
// stack must name the chain, in order, down to the thread's start. Built -O2 like users' code
// (no frame pointers needed: the walk follows .eh_frame), linked -rdynamic so that dladdr1 gives
// each function's address range.
#include "agent/stacks/cfi_unwind.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include "agent/trackers/track_threads_blocked.h"
#include "gtest/gtest.h"

using leakscope::agent::blocked_thread_stack;
using leakscope::agent::cfi_unwind;
using leakscope::agent::parse_syscall_regs;
using leakscope::agent::SyscallRegs;
using leakscope::agent::UnwindEnd;

std::atomic<pid_t> g_tid{0};
std::atomic<bool> g_stop{false};
std::atomic<int> g_sink{0};

// The chain: each calls the next and works after it returns, so no call is a tail call.
extern "C" __attribute__((noipa, visibility("default"))) int chain_c(int x) {
  int r = 0;
  while (!g_stop.load()) {
    timespec ts{60, 0};
    r += nanosleep(&ts, nullptr);
  }
  return r + x;
}
extern "C" __attribute__((noipa, visibility("default"))) int chain_b(int x) {
  int r = chain_c(x + 1);
  g_sink.fetch_add(r);
  return r * 3;
}
extern "C" __attribute__((noipa, visibility("default"))) int chain_a(int x) {
  int r = chain_b(x + 2);
  g_sink.fetch_add(r);
  return r * 5;
}

namespace {

void* thread_main(void*) {
  g_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  g_sink.fetch_add(chain_a(1));
  return nullptr;
}

// The same in a library dlopened now: its unwind tables appear after the process started.
using ParkFn = int (*)(volatile int*);
ParkFn g_park = nullptr;
volatile int g_module_stop = 0;

}  // namespace

extern "C" __attribute__((noipa, visibility("default"))) int module_caller(int x) {
  int r = g_park(&g_module_stop);
  g_sink.fetch_add(r);
  return r + x;
}

namespace {

void* module_thread_main(void*) {
  g_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  g_sink.fetch_add(module_caller(3));
  return nullptr;
}

void on_wake(int) {}

// The index of the first frame at or after `from` inside function `fn` (by its symbol's size).
int frame_in(const uintptr_t* pcs, int n, int from, void* fn) {
  Dl_info info{};
  ElfW(Sym)* sym = nullptr;
  if (dladdr1(fn, &info, reinterpret_cast<void**>(&sym), RTLD_DL_SYMENT) == 0 || sym == nullptr)
    return -2;
  auto begin = reinterpret_cast<uintptr_t>(fn), end = begin + sym->st_size;
  for (int i = from; i < n; ++i) {
    uintptr_t at = i == 0 ? pcs[i] : pcs[i] - 1;  // a return address: look at the call
    if (at >= begin && at < end) return i;
  }
  return -1;
}

bool in_sleep(pid_t tid) {
  char path[64], buf[256];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", static_cast<int>(tid));
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return false;
  bool ok = std::fgets(buf, sizeof(buf), f) != nullptr;
  std::fclose(f);
  SyscallRegs regs;
  return ok && parse_syscall_regs(buf, &regs) &&
         (regs.nr == SYS_clock_nanosleep || regs.nr == SYS_nanosleep);
}

// Starts body on a thread, waits until it blocks in nanosleep, reads its stack from outside,
// then wakes and joins it. The frame count; -100 if it never blocked.
int read_parked(void* (*body)(void*), uintptr_t* pcs, int max, const char** why) {
  struct sigaction wake {};
  wake.sa_handler = on_wake;  // no SA_RESTART: the signal ends the test thread's nanosleep
  sigaction(SIGUSR1, &wake, nullptr);
  g_tid.store(0);
  g_stop.store(false);
  g_module_stop = 0;
  pthread_t thread;
  if (pthread_create(&thread, nullptr, body, nullptr) != 0) return -100;
  for (int i = 0; i < 1000 && (g_tid.load() == 0 || !in_sleep(g_tid.load())); ++i) usleep(10000);
  int n = in_sleep(g_tid.load()) ? blocked_thread_stack(g_tid.load(), pcs, max, why) : -100;
  g_stop.store(true);
  g_module_stop = 1;
  pthread_kill(thread, SIGUSR1);
  pthread_join(thread, nullptr);
  for (int i = 0; i < n; ++i) {
    Dl_info info{};
    dladdr(reinterpret_cast<void*>(pcs[i] - (i > 0)), &info);
    std::printf("#%d %#lx %s\n", i, static_cast<unsigned long>(pcs[i]),
                info.dli_sname ? info.dli_sname : "?");
  }
  return n;
}

}  // namespace

TEST(CfiUnwind, ParsesTheSyscallFile) {
  SyscallRegs r;
  ASSERT_TRUE(
      parse_syscall_regs("230 0x0 0x0 0x7ffc1 0x7ffc2 0x0 0x0 0x7f00aa10 0x7f00bb20\n", &r));
  EXPECT_EQ(r.nr, 230);
  EXPECT_EQ(r.sp, 0x7f00aa10u);
  EXPECT_EQ(r.pc, 0x7f00bb20u);
  ASSERT_TRUE(parse_syscall_regs("-1 0x7ffd10 0x401000\n", &r));
  EXPECT_EQ(r.nr, -1);
  EXPECT_EQ(r.sp, 0x7ffd10u);
  EXPECT_EQ(r.pc, 0x401000u);
  EXPECT_FALSE(parse_syscall_regs("running\n", &r));
  EXPECT_FALSE(parse_syscall_regs("230 0x0 0x0\n", &r));  // cut short
  EXPECT_FALSE(parse_syscall_regs("", &r));
}

TEST(CfiUnwind, ReadsABlockedThreadsStackThroughItsCallers) {
  uintptr_t pcs[64];
  const char* why = "unset";
  int n = read_parked(thread_main, pcs, 64, &why);
  ASSERT_NE(n, -100) << "the thread never blocked in nanosleep";
  ASSERT_GT(n, 0) << "the blocked thread was not read (would have been signalled)";
  int c = frame_in(pcs, n, 0, reinterpret_cast<void*>(&chain_c));
  ASSERT_GE(c, 0) << "chain_c is not on the stack";
  int b = frame_in(pcs, n, c + 1, reinterpret_cast<void*>(&chain_b));
  ASSERT_GE(b, 0) << "chain_b is not above chain_c";
  int a = frame_in(pcs, n, b + 1, reinterpret_cast<void*>(&chain_a));
  ASSERT_GE(a, 0) << "chain_a is not above chain_b";
  EXPECT_EQ(b, c + 1);
  EXPECT_EQ(a, b + 1);
  EXPECT_GE(c, 1) << "frame 0 is inside libc's nanosleep, not chain_c";
  EXPECT_EQ(why, nullptr) << "the walk stopped early: " << why;
}

TEST(CfiUnwind, FindsTheTablesOfALibraryLoadedLater) {
  void* lib = dlopen(LEAKSCOPE_BLOCKING_MODULE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  g_park = reinterpret_cast<ParkFn>(dlsym(lib, "blocking_module_park"));
  ASSERT_NE(g_park, nullptr);
  uintptr_t pcs[64];
  const char* why = "unset";
  int n = read_parked(module_thread_main, pcs, 64, &why);
  ASSERT_NE(n, -100) << "the thread never blocked in nanosleep";
  ASSERT_GT(n, 0) << "the blocked thread was not read (would have been signalled)";
  int park = frame_in(pcs, n, 0, reinterpret_cast<void*>(g_park));
  ASSERT_GE(park, 1) << "blocking_module_park is not on the stack";
  EXPECT_EQ(frame_in(pcs, n, park + 1, reinterpret_cast<void*>(&module_caller)), park + 1)
      << "the walk did not get out of the dlopened library";
  EXPECT_EQ(why, nullptr) << "the walk stopped early: " << why;
}

TEST(CfiUnwind, StopsAtAPcInNoObject) {
  uintptr_t pcs[8];
  UnwindEnd end;
  uintptr_t sp = reinterpret_cast<uintptr_t>(&end);
  EXPECT_EQ(cfi_unwind(0x1000, sp, pcs, 8, &end), 1);
  EXPECT_EQ(pcs[0], 0x1000u);
  EXPECT_EQ(end, UnwindEnd::kNoModule);
}

TEST(CfiUnwind, AnUnmappedStackEndsTheWalkWithoutAFault) {
  uintptr_t pcs[8];
  UnwindEnd end;
  // A real pc (inside chain_b, after its prologue) with a stack pointer into unmapped memory.
  uintptr_t pc = reinterpret_cast<uintptr_t>(&chain_b) + 4;
  int n = cfi_unwind(pc, 0x10, pcs, 8, &end);
  EXPECT_EQ(n, 1);
  EXPECT_EQ(end, UnwindEnd::kBadMemory);
}
