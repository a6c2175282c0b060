/* A library the cfi_unwind unit test dlopens after start-up: a thread parks in nanosleep inside
 * it, so the unwinder must find this object's unwind tables though it was loaded late. Built
 * -O2; the work after the call keeps it from being a tail call. */
#include <time.h>

__attribute__((noinline, visibility("default"))) int blocking_module_park(volatile int* stop) {
  int r = 0;
  while (!*stop) {
    struct timespec ts = {60, 0};
    r += nanosleep(&ts, 0);
  }
  return r * 7 + 1;
}
