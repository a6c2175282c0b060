/* A hung file system, for tests/integration/agent_dump_hung_fs.sh: preloaded before the agent,
 * this open() stalls every open of a dump's temporary file (a name ending in ".pb.gz.tmp")
 * until the file named by STALL_RELEASE exists, as an open on a dead NFS mount would, and says
 * so by creating STALL_RELEASE.stalled first. Everything else goes straight to the next open. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*open_fn)(const char*, int, ...);

static void stall(const char* path) {
  const char* release = getenv("STALL_RELEASE");
  size_t n = strlen(path);
  if (release == NULL || n < 10 || strcmp(path + n - 10, ".pb.gz.tmp") != 0) return;
  char marker[4096];
  strncpy(marker, release, sizeof(marker) - 16);
  marker[sizeof(marker) - 16] = '\0';
  strcat(marker, ".stalled");
  open_fn real = (open_fn)dlsym(RTLD_NEXT, "open");
  int fd = real(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ssize_t ignored = write(fd, "stalled\n", 8);
    (void)ignored;
    close(fd);
  }
  while (access(release, F_OK) != 0) usleep(20000);
}

static int forward(const char* name, const char* path, int flags, va_list ap) {
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
  stall(path);
  open_fn real = (open_fn)dlsym(RTLD_NEXT, name);
  return real(path, flags, mode);
}

__attribute__((visibility("default"))) int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int fd = forward("open", path, flags, ap);
  va_end(ap);
  return fd;
}

__attribute__((visibility("default"))) int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int fd = forward("open64", path, flags, ap);
  va_end(ap);
  return fd;
}
