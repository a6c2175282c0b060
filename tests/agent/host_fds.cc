// A host that does to its descriptors what daemons and leaky services do (issue 18), for
// tests/integration/agent_host_fds.sh:
//
//   host_fds closeall UPTO READY GO [closefrom]
//     Writes READY, waits for GO to exist, then closes every descriptor from 3 to UPTO-1 (the
//     daemon idiom; with "closefrom", glibc's closefrom(3) instead), and opens a pipe and a file
//     of its own, which likely get the numbers the agent had. It writes "hello" into the pipe,
//     waits, raises SIGUSR2 (the test's LEAKSCOPE_DUMP_SIGNAL), waits again, and checks that
//     the pipe still holds exactly "hello", that the file is still empty, and that a fork child
//     still has both. Prints "host fds intact" (exit 0) or what went wrong (exit 1), then writes
//     GO.done and sleeps until killed.
//
//   host_fds closeall UPTO READY GO dup2
//     The same, with dup2(/dev/null, fd) over every number from 3 to UPTO-1 instead of close:
//     checks that each is still /dev/null, in the process and in a fork child.
//
//   host_fds exhaust READY
//     Opens /dev/null until EMFILE, writes READY (with the one descriptor it frees and takes
//     back), and sleeps until killed, holding every descriptor.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void write_file(const std::string& path, const char* text) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  ssize_t ignored = write(fd, text, strlen(text));
  (void)ignored;
  close(fd);
  rename(tmp.c_str(), path.c_str());
}

void wait_for(const std::string& path) {
  for (int i = 0; i < 600 && access(path.c_str(), F_OK) != 0; ++i) usleep(50 * 1000);
}

bool open_fd(int fd) { return fcntl(fd, F_GETFD) != -1; }

int closeall(int upto, const std::string& ready, const std::string& go, bool use_closefrom) {
  write_file(ready, "ready\n");
  wait_for(go);
  if (use_closefrom) {
    closefrom(3);
  } else {
    for (int fd = 3; fd < upto; ++fd) close(fd);
  }
  int p[2];
  if (pipe(p) != 0) return 1;
  std::string path = go + ".hostfile";
  int file = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (file < 0) return 1;
  printf("host pipe %d %d, file %d\n", p[0], p[1], file);
  if (write(p[1], "hello", 5) != 5) return 1;
  usleep(1500 * 1000);  // the agent thread's turns; before the fix it read the pipe
  raise(SIGUSR2);       // a dump request: its wake byte once went into the host's descriptor
  usleep(500 * 1000);
  const char* problem = nullptr;
  char buf[64] = {};
  int flags = fcntl(p[0], F_GETFL);
  fcntl(p[0], F_SETFL, flags | O_NONBLOCK);
  ssize_t n = read(p[0], buf, sizeof(buf));
  struct stat st {};
  if (n != 5 || memcmp(buf, "hello", 5) != 0) problem = "the pipe lost or gained bytes";
  if (fstat(file, &st) != 0 || st.st_size != 0) problem = "bytes were written into the file";
  if (!open_fd(p[0]) || !open_fd(p[1]) || !open_fd(file)) problem = "a descriptor was closed";
  pid_t child = fork();
  if (child == 0) _exit(open_fd(p[0]) && open_fd(p[1]) && open_fd(file) ? 0 : 1);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) problem = "the fork child lost a descriptor";
  puts(problem == nullptr ? "host fds intact" : problem);
  fflush(stdout);
  write_file(go + ".done", problem == nullptr ? "ok\n" : "bad\n");
  for (;;) pause();
}

// dup2 over every number instead: 3..UPTO-1 all become /dev/null (the agent's numbers too).
// The agent must leave them alone: in the parent and in a fork child each is still /dev/null.
bool all_dev_null(int upto, dev_t rdev) {
  for (int fd = 3; fd < upto; ++fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != rdev) return false;
  }
  return true;
}

int dup2all(int upto, const std::string& ready, const std::string& go) {
  write_file(ready, "ready\n");
  wait_for(go);
  int null_fd = open("/dev/null", O_RDWR);
  struct stat null_st {};
  if (null_fd < 0 || fstat(null_fd, &null_st) != 0) return 1;
  for (int fd = 3; fd < upto; ++fd) {
    if (fd != null_fd) dup2(null_fd, fd);
  }
  usleep(1500 * 1000);
  raise(SIGUSR2);
  usleep(500 * 1000);
  const char* problem = all_dev_null(upto, null_st.st_rdev) ? nullptr : "a descriptor changed";
  pid_t child = fork();
  if (child == 0) _exit(all_dev_null(upto, null_st.st_rdev) ? 0 : 1);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) problem = "the fork child lost a descriptor";
  puts(problem == nullptr ? "host fds intact" : problem);
  fflush(stdout);
  for (int fd = 3; fd < 64; ++fd) close(fd);  // room for the done file
  write_file(go + ".done", problem == nullptr ? "ok\n" : "bad\n");
  for (;;) pause();
}

int exhaust(const std::string& ready) {
  int last = -1;
  for (;;) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) break;
    last = fd;
  }
  if (errno != EMFILE || last < 0) return 1;
  close(last);  // one for the ready file, taken back at once
  write_file(ready, "ready\n");
  if (open("/dev/null", O_RDONLY) < 0) return 1;
  printf("holding descriptors up to %d\n", last);
  fflush(stdout);
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "closeall" && argc >= 6 && strcmp(argv[5], "dup2") == 0) {
    return dup2all(atoi(argv[2]), argv[3], argv[4]);
  }
  if (mode == "closeall" && argc >= 5) {
    return closeall(atoi(argv[2]), argv[3], argv[4], argc > 5 && strcmp(argv[5], "closefrom") == 0);
  }
  if (mode == "exhaust" && argc >= 3) return exhaust(argv[2]);
  fprintf(stderr, "usage: host_fds closeall UPTO READY GO [closefrom|dup2] | exhaust READY\n");
  return 2;
}
