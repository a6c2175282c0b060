// The sample region's allocator (agent/heap/region.h): size classes, alignment, headers, reuse of
// freed chunks and page runs, large blocks given back to the kernel, zeroing, threads, fork, and
// a reservation the kernel refuses.
#include "agent/heap/region.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace leakscope::agent {

// Stubs for what guard.cc's neighbours provide inside the library.
std::atomic<bool> g_sampling{false};
std::atomic<bool> g_ready{false};

namespace {

constexpr size_t kGiB = size_t{1} << 30;

// Each test's own region (its reservation stays mapped: the allocator never unmaps it).
std::unique_ptr<SampleRegion> fresh_region() {
  auto r = std::make_unique<SampleRegion>();
  EXPECT_TRUE(r->reserve(256 * kGiB, kGiB, 64 << 10));
  return r;
}

// Pages of [p, p + bytes) that are resident.
size_t resident_pages(void* p, size_t bytes) {
  std::vector<unsigned char> vec(bytes / 4096);
  if (mincore(p, bytes, vec.data()) != 0) return ~size_t{0};
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

// The VmFlags of the mapping that holds `p` (/proc/self/smaps), "" if none does.
std::string vm_flags(const void* p) {
  FILE* f = fopen("/proc/self/smaps", "r");
  if (f == nullptr) return "";
  char line[512];
  bool inside = false;
  std::string flags;
  auto addr = reinterpret_cast<uintptr_t>(p);
  while (fgets(line, sizeof(line), f) != nullptr) {
    unsigned long start, end;
    if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      inside = start <= addr && addr < end;
    } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
      flags = line + 8;
      break;
    }
  }
  fclose(f);
  return flags;
}

TEST(SampleRegion, CoreDumpsSkipTheReservationButKeepBlocks) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  void* small = r.allocate(100, 16, false);
  void* large = r.allocate(16 << 20, 16, false);  // over the retained-run bound: given back
  EXPECT_EQ(vm_flags(small).find(" dd"), std::string::npos) << vm_flags(small);
  EXPECT_EQ(vm_flags(large).find(" dd"), std::string::npos) << vm_flags(large);
  EXPECT_NE(vm_flags(reinterpret_cast<char*>(r.base() + r.size() - 4096)).find(" dd"),
            std::string::npos);
  char* page = static_cast<char*>(large) - 16;
  r.deallocate(large);
  EXPECT_NE(vm_flags(page).find(" dd"), std::string::npos) << vm_flags(page);
  r.deallocate(small);
}

TEST(SampleRegion, ClassesGrowWithBoundedSlack) {
  EXPECT_EQ(SampleRegion::class_bytes(0), 32u);
  EXPECT_EQ(SampleRegion::class_bytes(SampleRegion::kClasses - 1), 32768u);
  for (int c = 1; c < SampleRegion::kClasses; ++c) {
    size_t prev = SampleRegion::class_bytes(c - 1), cur = SampleRegion::class_bytes(c);
    EXPECT_GT(cur, prev) << c;
    EXPECT_LE(cur - prev, cur / 4 + 16) << c;  // at most a quarter of a chunk is slack
    EXPECT_EQ(cur % 16, 0u) << c;
  }
}

TEST(SampleRegion, BlocksAreAlignedHeaderedAndDisjoint) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  std::vector<std::pair<char*, size_t>> blocks;
  for (size_t size :
       {0ul, 1ul, 15ul, 16ul, 17ul, 100ul, 1000ul, 4000ul, 30000ul, 40000ul, 1ul << 20}) {
    for (size_t alignment : {16ul, 32ul, 64ul, 4096ul, 1ul << 16}) {
      char* p = static_cast<char*>(r.allocate(size, alignment, false));
      ASSERT_NE(p, nullptr) << size << " " << alignment;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignment, 0u) << size << " " << alignment;
      EXPECT_TRUE(r.contains(p));
      EXPECT_EQ(SampleRegion::header(p)->size, static_cast<int64_t>(size));
      EXPECT_EQ(SampleRegion::header(p)->stack_id, kUnbooked);
      memset(p, static_cast<int>(blocks.size() & 0x7f), size);
      blocks.push_back({p, size});
    }
  }
  EXPECT_EQ(r.live_blocks(), static_cast<int64_t>(blocks.size()));
  for (size_t i = 0; i < blocks.size(); ++i) {  // no block overwrote another (or a header)
    auto [p, size] = blocks[i];
    for (size_t j = 0; j < size; ++j) ASSERT_EQ(p[j], static_cast<char>(i & 0x7f)) << i;
    EXPECT_EQ(SampleRegion::header(p)->size, static_cast<int64_t>(size));
  }
  for (auto [p, size] : blocks) r.deallocate(p);
  EXPECT_EQ(r.live_blocks(), 0);
}

TEST(SampleRegion, OutsideAddressesAndTheHeadAreNotBlocks) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  int local = 0;
  EXPECT_FALSE(r.contains(&local));
  EXPECT_FALSE(r.contains(nullptr));
  EXPECT_FALSE(r.contains(r.head()));  // the bootstrap buffer's area
  EXPECT_FALSE(r.contains(reinterpret_cast<char*>(r.base() + r.size())));
  r.head()[0] = 1;  // the head is accessible
}

TEST(SampleRegion, FreedChunksAreReused) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  std::set<void*> first;
  for (int i = 0; i < 1000; ++i) first.insert(r.allocate(200, 16, false));
  for (void* p : first) r.deallocate(p);
  std::set<void*> second;
  for (int i = 0; i < 1000; ++i) second.insert(r.allocate(200, 16, false));
  EXPECT_EQ(first, second);
}

TEST(SampleRegion, LargeRunsAreReusedAndCoalesced) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  void* a = r.allocate(1 << 20, 16, false);
  void* b = r.allocate(3 << 20, 16, false);
  void* c = r.allocate(1 << 20, 16, false);
  r.deallocate(a);
  r.deallocate(b);  // a and b coalesce: 4 MiB + 2 pages of headers fit a 4 MiB block
  void* d = r.allocate(4 << 20, 16, false);
  EXPECT_EQ(d, a);
  r.deallocate(c);
  r.deallocate(d);
  // Many rounds of varied sizes stay within the address space of the largest live set.
  std::mt19937 rng(7);
  uintptr_t highest = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<void*> live;
    for (int i = 0; i < 4; ++i) {
      void* p = r.allocate(40000 + rng() % (8 << 20), 16, false);
      ASSERT_NE(p, nullptr);
      highest = std::max(highest, reinterpret_cast<uintptr_t>(p));
      live.push_back(p);
    }
    for (void* p : live) r.deallocate(p);
  }
  EXPECT_LT(highest - reinterpret_cast<uintptr_t>(a), size_t{64} << 20);
  EXPECT_EQ(r.lost_runs(), 0);
}

TEST(SampleRegion, LargeBlocksGiveTheirMemoryBack) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  constexpr size_t kBytes = 64 << 20;
  char* p = static_cast<char*>(r.allocate(kBytes, 16, false));
  ASSERT_NE(p, nullptr);
  memset(p, 0x5a, kBytes);
  char* page = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{4095});
  EXPECT_EQ(resident_pages(page, kBytes), kBytes / 4096);
  EXPECT_GE(r.committed_bytes(), static_cast<int64_t>(kBytes));
  r.deallocate(p);
  EXPECT_EQ(resident_pages(page, kBytes), 0u);
  EXPECT_EQ(r.committed_bytes(), 0);
}

// A program that takes and frees a buffer per request gets the same resident pages back (no
// system call, no page fault), and what is kept that way stays under the region's bound.
TEST(SampleRegion, FreedLargeBlocksAreKeptForReuseWithinABound) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  constexpr size_t kMiB = 1 << 20;
  char* p = static_cast<char*>(r.allocate(kMiB, 16, false));
  ASSERT_NE(p, nullptr);
  memset(p, 0x5a, kMiB);
  r.deallocate(p);
  char* page = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{4095});
  EXPECT_EQ(resident_pages(page, kMiB), kMiB / 4096);  // kept
  char* q = static_cast<char*>(r.allocate(kMiB - 100, 16, false));
  EXPECT_EQ(q, p);
  r.deallocate(q);
  std::vector<void*> blocks;
  for (int i = 0; i < 40; ++i) blocks.push_back(r.allocate(4 * kMiB, 16, false));
  for (void* b : blocks) r.deallocate(b);
  EXPECT_LE(r.committed_bytes(), static_cast<int64_t>(33 * kMiB));  // 32 MiB kept at most
  EXPECT_EQ(r.lost_runs(), 0);
}

// A buffer grown by realloc steps keeps its bytes and mostly its address (the pages after it
// are free), moves by its pages when they are not, and shrinks in place.
TEST(SampleRegion, LargeBlocksResizeWithoutCopying) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  constexpr size_t kStep = 64 << 10;
  char* p = static_cast<char*>(r.allocate(kStep, 16, false));
  ASSERT_NE(p, nullptr);
  memset(p, 1, kStep);
  char* first = p;
  for (size_t n = 2 * kStep; n <= (16u << 20); n += kStep) {
    p = static_cast<char*>(r.resize_large(p, n));
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(p, first) << n;  // at the frontier: always in place
    memset(p + n - kStep, static_cast<int>(n / kStep), kStep);
  }
  EXPECT_EQ(SampleRegion::header(p)->size, int64_t{16} << 20);
  void* neighbour = r.allocate(kStep, 16, false);  // now the pages after it are taken
  char* moved = static_cast<char*>(r.resize_large(p, (16u << 20) + kStep));
  ASSERT_NE(moved, nullptr);
  EXPECT_NE(moved, p);
  for (size_t n = kStep; n <= (16u << 20); n += kStep) {
    ASSERT_EQ(moved[n - 1], static_cast<char>(n == kStep ? 1 : n / kStep)) << n;
  }
  char* shrunk = static_cast<char*>(r.resize_large(moved, 100000));
  EXPECT_EQ(shrunk, moved);
  EXPECT_EQ(shrunk[99999], static_cast<char>(2));
  EXPECT_EQ(r.resize_large(shrunk, 100), nullptr);  // small: the caller copies
  r.deallocate(shrunk);
  r.deallocate(neighbour);
  EXPECT_EQ(r.lost_runs(), 0);
}

TEST(SampleRegion, AGibibyteBlockFitsAndGoesBack) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  char* p = static_cast<char*>(r.allocate(kGiB, 16, true));
  ASSERT_NE(p, nullptr);
  p[0] = 1;
  p[kGiB - 1] = 2;
  r.deallocate(p);
  EXPECT_EQ(r.committed_bytes(), 0);
  EXPECT_EQ(r.allocate(200 * kGiB, 16, false), nullptr);  // more than the region: caller falls back
}

TEST(SampleRegion, ZeroedBlocksAreZeroAfterReuse) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  for (size_t size : {100ul, 20000ul, 100000ul}) {
    char* p = static_cast<char*>(r.allocate(size, 16, false));
    memset(p, 0xff, size);
    r.deallocate(p);
    char* q = static_cast<char*>(r.allocate(size, 16, true));
    EXPECT_EQ(q, p) << size;  // the same chunk or run, reused
    for (size_t i = 0; i < size; ++i) ASSERT_EQ(q[i], 0) << size << " at " << i;
    r.deallocate(q);
  }
}

TEST(SampleRegion, ThreadsAllocateAndFreeConcurrently) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, &bad, t] {
      std::mt19937 rng(t);
      std::vector<std::pair<unsigned char*, size_t>> live;
      for (int i = 0; i < 20000; ++i) {
        if (live.size() < 64 && rng() % 2 == 0) {
          size_t size = rng() % 3 == 0 ? rng() % 100000 : rng() % 2000;
          auto* p = static_cast<unsigned char*>(r.allocate(size, 16, false));
          if (p == nullptr) {
            ++bad;
            continue;
          }
          memset(p, t + 1, size);
          live.push_back({p, size});
        } else if (!live.empty()) {
          auto [p, size] = live.back();
          live.pop_back();
          for (size_t j = 0; j < size; ++j) {
            if (p[j] != t + 1) {
              ++bad;
              break;
            }
          }
          r.deallocate(p);
        }
      }
      for (auto [p, size] : live) r.deallocate(p);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(r.live_blocks(), 0);
}

TEST(SampleRegion, ForkChildKeepsBlocksAndAllocates) {
  auto owner = fresh_region();
  SampleRegion& r = *owner;
  char* kept = static_cast<char*>(r.allocate(300, 16, false));
  strcpy(kept, "from the parent");
  std::atomic<bool> stop{false};
  std::thread busy([&] {  // holds the class locks now and then while the parent forks
    while (!stop.load()) r.deallocate(r.allocate(300, 16, false));
  });
  for (int i = 0; i < 20; ++i) {
    r.fork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
      r.fork_child();
      bool ok = strcmp(kept, "from the parent") == 0;
      for (int j = 0; j < 1000 && ok; ++j) {
        void* p = r.allocate(300, 16, false);
        ok = p != nullptr && r.contains(p);
        r.deallocate(p);
      }
      r.deallocate(kept);
      _exit(ok ? 0 : 1);
    }
    r.fork_parent();
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  stop.store(true);
  busy.join();
  EXPECT_STREQ(kept, "from the parent");
}

TEST(SampleRegion, RefusedReservationAllocatesNothing) {
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit limit = {size_t{512} << 20, size_t{512} << 20};
    setrlimit(RLIMIT_AS, &limit);
    SampleRegion r;
    bool reserved = r.reserve(256 * kGiB, kGiB, 64 << 10);
    int local = 0;
    _exit(!reserved && r.allocate(100, 16, false) == nullptr && !r.contains(&local) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace leakscope::agent
