// A host that hands sampled blocks to every entry point that can receive one (run at
// LEAKSCOPE_RATE=1 by tests/integration/agent_region_hosts.sh, where every block is sampled and
// lives in the agent's sample region): malloc_usable_size, realloc across sizes (small to large
// and back), reallocarray, realloc(p, 0), calloc after dirty frees, every aligned allocator,
// sized, aligned and nothrow deletes, a block allocated on one thread and freed on another, a
// 1 GiB block, a forked child that frees its parent's blocks and allocates its own, and (on
// jemalloc) jemalloc's sdallocx/dallocx/sallocx/rallocx/xallocx, (on tcmalloc) its tc_* calls.
//
// Prints "region host ok: exact=N/M" on success, where N of M odd-sized blocks had a
// malloc_usable_size equal to the size asked for: the region reports exact sizes, while glibc,
// jemalloc and tcmalloc round them up, so the script can tell whether blocks came from the region.
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <thread>
#include <vector>

namespace {

int g_failures = 0;

void check(bool ok, const char* what, size_t detail = 0) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s (%zu)\n", what, detail);
    ++g_failures;
  }
}

void fill(void* p, size_t n, unsigned seed) {
  auto* c = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) c[i] = static_cast<unsigned char>(seed + i * 7);
}

bool holds(const void* p, size_t n, unsigned seed) {
  auto* c = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (c[i] != static_cast<unsigned char>(seed + i * 7)) return false;
  }
  return true;
}

// Keeps the compiler from eliding an allocation whose result it can see through.
void* escape(void* p) {
  asm volatile("" : "+r"(p) : : "memory");
  return p;
}

bool aligned(const void* p, size_t a) {
  return reinterpret_cast<uintptr_t>(escape(const_cast<void*>(p))) % a == 0;
}

void usable_sizes(int& exact, int& total) {
  for (size_t size = 1; size < 100000; size = size * 3 + 1) {
    void* p = malloc(size);
    size_t usable = malloc_usable_size(p);
    check(usable >= size, "malloc_usable_size below the size", size);
    fill(p, usable, 3);  // the whole usable size is the program's to write
    check(holds(p, usable, 3), "usable bytes", size);
    exact += usable == size;
    ++total;
    free(p);
  }
}

void reallocs() {
  size_t sizes[] = {10, 100, 5000, 40000, 3 << 20, 70000, 300, 1, 200000, 24};
  size_t old = 16;
  char* p = static_cast<char*>(malloc(old));
  fill(p, old, 11);
  for (size_t size : sizes) {
    char* q = static_cast<char*>(realloc(p, size));
    check(q != nullptr, "realloc", size);
    size_t kept = old < size ? old : size;
    check(holds(q, kept, 11), "realloc kept the contents", size);
    fill(q, size, 11);
    p = q;
    old = size;
  }
  p = static_cast<char*>(reallocarray(p, 1000, 8));
  check(p != nullptr && holds(p, 24, 11), "reallocarray", 8000);
  volatile size_t huge = SIZE_MAX / 2;  // volatile: the compiler would see the overflow
  void* same = escape(p);
  check(reallocarray(same, huge, 4) == nullptr, "reallocarray overflow");
  check(holds(escape(p), 24, 11), "reallocarray overflow kept the block");
  free(escape(p));
  void* z = realloc(malloc(100), 0);  // freed, or a minimal block: either is allowed
  free(z);
  void* n = realloc(nullptr, 123);
  check(n != nullptr, "realloc(nullptr)");
  free(n);
}

void callocs() {
  for (size_t size : {64ul, 1000ul, 30000ul, 500000ul}) {
    for (int round = 0; round < 3; ++round) {
      void* dirty = malloc(size);
      memset(dirty, 0xee, size);
      free(dirty);
      auto* c = static_cast<unsigned char*>(calloc(size / 8, 8));
      bool zero = c != nullptr;
      for (size_t i = 0; zero && i < size; ++i) zero = c[i] == 0;
      check(zero, "calloc is zero", size);
      free(c);
    }
  }
  volatile size_t huge = SIZE_MAX / 2;
  check(calloc(huge, 4) == nullptr, "calloc overflow");
}

void aligned_allocators() {
  for (size_t a : {8ul, 16ul, 64ul, 256ul, 4096ul, 65536ul}) {
    for (size_t size : {1ul, 100ul, 5000ul, 100000ul}) {
      void* p = nullptr;
      check(posix_memalign(&p, a, size) == 0 && aligned(p, a), "posix_memalign", a);
      fill(p, size, 5);
      void* q = aligned_alloc(a, size);
      check(q != nullptr && aligned(q, a), "aligned_alloc", a);
      void* m = memalign(a, size);
      check(m != nullptr && aligned(m, a), "memalign", a);
      check(holds(p, size, 5), "posix_memalign block kept", a);
      free(p);
      free(q);
      free(m);
    }
  }
  void* p = nullptr;
  check(posix_memalign(&p, 24, 100) == EINVAL, "posix_memalign rejects 24");
  void* v = valloc(5000);
  check(v != nullptr && aligned(v, 4096), "valloc");
  free(v);
  if (getenv("REGION_HOST_NO_PVALLOC") == nullptr) {  // jemalloc has none: glibc's would answer
    void* pv = pvalloc(5000);
    check(pv != nullptr && aligned(pv, 4096) && malloc_usable_size(pv) >= 8192, "pvalloc");
    free(pv);
  }
}

struct alignas(128) Wide {
  char bytes[200];
};

void news_and_deletes() {
  for (int i = 0; i < 100; ++i) {
    auto* a = static_cast<int*>(escape(new int[100 + i]));
    a[99] = i;
    ::operator delete[](a, (100 + i) * sizeof(int));
    auto* s = static_cast<std::vector<int>*>(escape(new std::vector<int>(1000 + i)));
    check(s->size() == static_cast<size_t>(1000 + i), "vector");
    delete s;  // sized delete
    auto* w = new Wide;
    check(aligned(w, 128), "aligned new");
    delete w;  // sized, aligned delete
    auto* wa = new Wide[3];
    check(aligned(wa, 128), "aligned new[]");
    delete[] wa;
    void* n = escape(::operator new(77, std::nothrow));
    ::operator delete(n, std::nothrow);
    void* al = ::operator new (300, std::align_val_t{4096}, std::nothrow);
    check(aligned(al, 4096), "aligned nothrow new");
    ::operator delete (al, std::align_val_t{4096}, std::nothrow);
    void* als = ::operator new (300, std::align_val_t{64});
    ::operator delete (als, 300, std::align_val_t{64});
  }
}

void across_threads() {
  std::vector<void*> blocks;
  std::thread maker([&] {
    for (int i = 0; i < 2000; ++i) {
      void* p = malloc(16 + i % 3000);
      fill(p, 16, i);
      blocks.push_back(p);
    }
  });
  maker.join();
  std::thread freer([&] {
    for (size_t i = 0; i < blocks.size(); ++i) {
      check(holds(blocks[i], 16, static_cast<unsigned>(i)), "block across threads", i);
      free(blocks[i]);
    }
  });
  freer.join();
}

void huge_block() {
  if (getenv("REGION_HOST_NO_HUGE") != nullptr) return;  // under a small RLIMIT_AS
  size_t gib = size_t{1} << 30;
  auto* p = static_cast<char*>(malloc(gib));
  check(p != nullptr, "1 GiB block");
  if (p == nullptr) return;
  p[0] = 1;
  p[gib - 1] = 2;
  check(malloc_usable_size(p) >= gib, "1 GiB usable size");
  free(p);
}

void fork_child_frees_parent_blocks() {
  std::vector<void*> parent;
  for (int i = 0; i < 500; ++i) {
    parent.push_back(malloc(40 + i));
    fill(parent.back(), 40, i);
  }
  pid_t pid = fork();
  if (pid == 0) {
    bool ok = true;
    for (size_t i = 0; i < parent.size(); ++i) {
      ok = ok && holds(parent[i], 40, static_cast<unsigned>(i));
      free(parent[i]);
    }
    for (int i = 0; i < 1000; ++i) free(realloc(malloc(100), 5000));
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child", status);
  for (void* p : parent) free(p);
}

// jemalloc's own calls on blocks from malloc (REGION_HOST_JEMALLOC=1: jemalloc is loaded). Found
// by name, as a program linked with jemalloc would find them: the agent's, in front of jemalloc's.
void jemalloc_api() {
  if (getenv("REGION_HOST_JEMALLOC") == nullptr) return;
  auto sdallocx = reinterpret_cast<void (*)(void*, size_t, int)>(dlsym(RTLD_DEFAULT, "sdallocx"));
  auto dallocx = reinterpret_cast<void (*)(void*, int)>(dlsym(RTLD_DEFAULT, "dallocx"));
  auto sallocx = reinterpret_cast<size_t (*)(const void*, int)>(dlsym(RTLD_DEFAULT, "sallocx"));
  auto rallocx = reinterpret_cast<void* (*)(void*, size_t, int)>(dlsym(RTLD_DEFAULT, "rallocx"));
  auto xallocx =
      reinterpret_cast<size_t (*)(void*, size_t, size_t, int)>(dlsym(RTLD_DEFAULT, "xallocx"));
  check(sdallocx && dallocx && sallocx && rallocx && xallocx, "jemalloc's API is there");
  if (!(sdallocx && dallocx && sallocx && rallocx && xallocx)) return;
  for (size_t size : {24ul, 1000ul, 50000ul}) {
    char* p = static_cast<char*>(malloc(size));
    fill(p, size, 9);
    check(sallocx(p, 0) >= size, "sallocx", size);
    check(xallocx(p, size, 0, 0) >= size, "xallocx", size);
    char* q = static_cast<char*>(rallocx(p, size * 3, 0));
    check(q != nullptr && holds(q, size, 9), "rallocx grows", size);
    char* r = static_cast<char*>(rallocx(q, size / 2, 6));  // MALLOCX_LG_ALIGN(6): 64 bytes
    check(r != nullptr && aligned(r, 64) && holds(r, size / 2, 9), "rallocx aligned", size);
    sdallocx(r, sallocx(r, 0), 0);
    dallocx(malloc(size), 0);
  }
}

// gperftools' tc_* calls on blocks from malloc and new (REGION_HOST_TCMALLOC=1: tcmalloc loaded).
void tcmalloc_api() {
  if (getenv("REGION_HOST_TCMALLOC") == nullptr) return;
  auto tc_free = reinterpret_cast<void (*)(void*)>(dlsym(RTLD_DEFAULT, "tc_free"));
  auto tc_free_sized =
      reinterpret_cast<void (*)(void*, size_t)>(dlsym(RTLD_DEFAULT, "tc_free_sized"));
  auto tc_delete_sized =
      reinterpret_cast<void (*)(void*, size_t)>(dlsym(RTLD_DEFAULT, "tc_delete_sized"));
  auto tc_realloc = reinterpret_cast<void* (*)(void*, size_t)>(dlsym(RTLD_DEFAULT, "tc_realloc"));
  auto tc_malloc_size = reinterpret_cast<size_t (*)(void*)>(dlsym(RTLD_DEFAULT, "tc_malloc_size"));
  check(tc_free && tc_free_sized && tc_delete_sized && tc_realloc && tc_malloc_size,
        "tcmalloc's API is there");
  if (!(tc_free && tc_free_sized && tc_delete_sized && tc_realloc && tc_malloc_size)) return;
  for (size_t size : {24ul, 1000ul, 50000ul}) {
    char* p = static_cast<char*>(malloc(size));
    fill(p, size, 13);
    check(tc_malloc_size(p) >= size, "tc_malloc_size", size);
    char* q = static_cast<char*>(tc_realloc(p, size * 2));
    check(q != nullptr && holds(q, size, 13), "tc_realloc", size);
    tc_free(q);
    tc_free_sized(malloc(size), size);
    tc_delete_sized(escape(::operator new(size)), size);
  }
}

}  // namespace

int main() {
  int exact = 0, total = 0;
  usable_sizes(exact, total);
  reallocs();
  callocs();
  aligned_allocators();
  news_and_deletes();
  across_threads();
  huge_block();
  fork_child_frees_parent_blocks();
  jemalloc_api();
  tcmalloc_api();
  if (g_failures != 0) return 1;
  printf("region host ok: exact=%d/%d\n", exact, total);
  return 0;
}
