// The thread table (see track_threads.h for the lifecycle). Lock-free: a slot is claimed by a
// CAS kFree -> kReserved, and every later transition is a CAS on the same word, so the three
// parties that may race on a record (the thread exiting, a joiner, a detacher) always agree on
// who frees it. The fields other than `word` are written only by the slot's owner (the creator
// before publishing kRunning, the thread itself in started()) and read by the server, which
// tolerates a torn view of a record that is changing state.
// Nothing here touches agent state, so the unit tests compile this file alone.
#include "agent/trackers/track_threads.h"

namespace leakscope::agent {

namespace {

uint32_t state_of(uint32_t w) { return w & kThreadStateMask; }
uint32_t generation_of(uint32_t w) { return w & kThreadGenerationMask; }
// The word of a slot claimed for freeing: same occupant, no flags, kReserved (which hides it
// from snapshots and lookups until release() stores kFree).
uint32_t claimed(uint32_t w) { return generation_of(w) | kThreadReserved; }

}  // namespace

ThreadRecord* ThreadTable::reserve(uint32_t stack_id, uint32_t flags, int64_t now_ns) {
  in_use_.fetch_add(1, std::memory_order_relaxed);  // before the claim: never below the truth
  int start = hint_.load(std::memory_order_relaxed);
  for (int i = 0; i < capacity_; ++i) {
    int idx = (start + i) % capacity_;
    ThreadRecord& r = slots_[idx];
    uint32_t w = r.word.load(std::memory_order_relaxed);
    uint32_t next =
        generation_of(w + kThreadGenerationOne) | kThreadReserved | (flags & kThreadFlagsMask);
    if (state_of(w) != kThreadFree ||
        !r.word.compare_exchange_strong(w, next, std::memory_order_acquire)) {
      continue;
    }
    r.tid.store(0, std::memory_order_relaxed);
    r.handle.store(0, std::memory_order_relaxed);
    r.stack_id = stack_id;
    r.created_ns = now_ns;
    r.start = nullptr;
    r.arg = nullptr;
    hint_.store((idx + 1) % capacity_, std::memory_order_relaxed);
    int hw = high_water_.load(std::memory_order_relaxed);
    while (hw <= idx &&
           !high_water_.compare_exchange_weak(hw, idx + 1, std::memory_order_relaxed)) {
    }
    return &r;
  }
  in_use_.fetch_sub(1, std::memory_order_relaxed);
  overflow_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void ThreadTable::release(ThreadRecord* r) {
  r->tid.store(0, std::memory_order_relaxed);
  r->handle.store(0, std::memory_order_relaxed);
  r->word.store(generation_of(r->word.load(std::memory_order_relaxed)) | kThreadFree,
                std::memory_order_release);
  in_use_.fetch_sub(1, std::memory_order_relaxed);  // after the release: never below the truth
}

void ThreadTable::unreserve(ThreadRecord* r) { release(r); }

void ThreadTable::started(ThreadRecord* r, pid_t tid, uint64_t handle) {
  r->tid.store(tid, std::memory_order_relaxed);
  r->handle.store(handle, std::memory_order_relaxed);
  uint32_t w = r->word.load(std::memory_order_relaxed);
  while (state_of(w) == kThreadReserved &&
         !r->word.compare_exchange_weak(w, (w & ~kThreadStateMask) | kThreadRunning,
                                        std::memory_order_release)) {
  }
}

bool ThreadTable::book_exit(ThreadRecord* r, uint32_t& w) {
  if ((w & kThreadDetached) && (w & kThreadPublished)) {
    if (!r->word.compare_exchange_strong(w, claimed(w), std::memory_order_acq_rel)) return false;
    release(r);  // detached: nobody will join; its resources are gone now
    return true;
  }
  return r->word.compare_exchange_strong(w, (w & ~kThreadStateMask) | kThreadExited,
                                         std::memory_order_acq_rel);
}

void ThreadTable::exited(ThreadRecord* r) {
  uint32_t w = r->word.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t s = state_of(w);
    if (s != kThreadRunning && s != kThreadReserved) return;  // already handled
    if (book_exit(r, w)) return;  // else w holds the word that changed under it: look again
  }
}

bool ThreadTable::gone(const ThreadInfo& seen) {
  ThreadRecord* r = slot(seen.slot);
  if (r == nullptr || state_of(seen.word) != kThreadRunning) return false;
  uint32_t w = seen.word;
  return book_exit(r, w);  // once, from exactly the word seen
}

ThreadRecord* ThreadTable::find(uint64_t handle, bool joinable_only) {
  if (handle == 0) return nullptr;
  int hw = high_water_.load(std::memory_order_relaxed);
  for (int i = 0; i < hw; ++i) {
    ThreadRecord& r = slots_[i];
    uint32_t w = r.word.load(std::memory_order_acquire);
    if (state_of(w) == kThreadFree || r.handle.load(std::memory_order_relaxed) != handle) continue;
    // A detached or joined thread's handle may already belong to a newer thread (glibc reuses
    // the descriptor at once) while its record is not freed yet; join and detach can only mean
    // the joinable one.
    if (joinable_only && (w & (kThreadDetached | kThreadJoining))) continue;
    return &r;
  }
  return nullptr;
}

ThreadRecord* ThreadTable::begin_join(uint64_t handle) {
  ThreadRecord* r = find(handle, true);
  if (r != nullptr) set_flag(r, kThreadJoining);
  return r;
}

void ThreadTable::end_join(ThreadRecord* r, bool success) {
  if (r == nullptr) return;
  if (success) {
    joined(r);
    return;
  }
  uint32_t w = r->word.load(std::memory_order_relaxed);
  while (state_of(w) != kThreadFree &&
         !r->word.compare_exchange_weak(w, w & ~kThreadJoining, std::memory_order_relaxed)) {
  }
}

ThreadRecord* ThreadTable::slot(int index) {
  return index >= 0 && index < capacity_ ? &slots_[index] : nullptr;
}

bool ThreadTable::joined(ThreadRecord* r) {
  if (r == nullptr) return false;
  uint32_t w = r->word.load(std::memory_order_relaxed);
  // A successful join means the thread is gone, whatever the record says (it may have left
  // without running its TSD destructors, e.g. by a raw exit syscall).
  while (state_of(w) != kThreadFree) {
    if ((w & kThreadPublished) == 0) {
      // The creator has not published the record yet: leave the freeing to it.
      uint32_t gone = (w & ~kThreadStateMask) | kThreadExited | kThreadDetached;
      if (r->word.compare_exchange_weak(w, gone, std::memory_order_acq_rel)) return true;
    } else if (r->word.compare_exchange_weak(w, claimed(w), std::memory_order_acq_rel)) {
      release(r);
      return true;
    }
  }
  return false;
}

void ThreadTable::publish(ThreadRecord* r, uint64_t handle) {
  r->handle.store(handle, std::memory_order_relaxed);
  uint32_t w = r->word.load(std::memory_order_relaxed);
  for (;;) {
    if (state_of(w) == kThreadExited && (w & kThreadDetached)) {
      // It already ran, exited and was detached (or joined) before its creator got here.
      if (r->word.compare_exchange_weak(w, claimed(w), std::memory_order_acq_rel)) {
        release(r);
        return;
      }
    } else if (r->word.compare_exchange_weak(w, w | kThreadPublished, std::memory_order_acq_rel)) {
      return;
    }
  }
}

bool ThreadTable::detached(ThreadRecord* r) {
  if (r == nullptr) return false;
  uint32_t w = r->word.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t s = state_of(w);
    if (s == kThreadFree) return false;
    if (s == kThreadExited && (w & kThreadPublished)) {
      if (r->word.compare_exchange_weak(w, claimed(w), std::memory_order_acq_rel)) {
        release(r);
        return true;
      }
    } else if (r->word.compare_exchange_weak(w, w | kThreadDetached, std::memory_order_acq_rel)) {
      return true;
    }
  }
}

void ThreadTable::set_flag(ThreadRecord* r, uint32_t flag) {
  uint32_t w = r->word.load(std::memory_order_relaxed);
  while (state_of(w) != kThreadFree &&
         !r->word.compare_exchange_weak(w, w | flag, std::memory_order_relaxed)) {
  }
}

std::vector<ThreadInfo> ThreadTable::snapshot(bool include_agent) const {
  std::vector<ThreadInfo> out;
  int hw = high_water_.load(std::memory_order_relaxed);
  for (int i = 0; i < hw; ++i) {
    const ThreadRecord& r = slots_[i];
    uint32_t w = r.word.load(std::memory_order_acquire);
    uint32_t s = state_of(w);
    if (s != kThreadRunning && s != kThreadExited) continue;
    if ((w & kThreadAgent) && !include_agent) continue;
    ThreadInfo info;
    info.tid = r.tid.load(std::memory_order_relaxed);
    info.handle = r.handle.load(std::memory_order_relaxed);
    info.state = s;
    info.flags = w & kThreadFlagsMask;
    info.stack_id = r.stack_id;
    info.created_ns = r.created_ns;
    info.slot = i;
    info.word = w;
    out.push_back(info);
  }
  return out;
}

std::vector<pid_t> ThreadTable::agent_tids() const {
  std::vector<pid_t> out;
  for (const auto& info : snapshot(true)) {
    if (info.flags & kThreadAgent) out.push_back(info.tid);
  }
  return out;
}

int ThreadTable::after_fork_child(ThreadRecord* self, pid_t tid, uint64_t handle) {
  // Writes only records that are in use: the table is shared copy-on-write with the parent, and
  // rewriting every slot up to the high-water mark (16,384 after enough threads came and went)
  // copied its every page in each child, which made fork 4.6x slower (issue 18, item 7). The
  // scan stops once it has seen every record in use (in_use_ is never below the truth, so a
  // record claimed by a thread that fork interrupted is still found). The high-water mark then
  // drops to what is in use: the child's next fork, snapshots and lookups scan only that far.
  int hw = high_water_.load(std::memory_order_relaxed);
  int64_t in_use = in_use_.load(std::memory_order_relaxed);
  int written = 0, top = 0;
  int64_t seen = 0;
  for (int i = 0; i < hw && seen < in_use; ++i) {
    ThreadRecord& r = slots_[i];
    if (&r == self) {
      top = i + 1;
      ++seen;
      continue;
    }
    uint32_t w = r.word.load(std::memory_order_relaxed);
    if (state_of(w) == kThreadFree) continue;
    ++seen;
    r.tid.store(0, std::memory_order_relaxed);
    r.handle.store(0, std::memory_order_relaxed);
    r.word.store(generation_of(w) | kThreadFree, std::memory_order_relaxed);
    ++written;
  }
  if (self != nullptr) {
    self->tid.store(tid, std::memory_order_relaxed);
    self->handle.store(handle, std::memory_order_relaxed);
    ++written;
  }
  if (top != hw) high_water_.store(top, std::memory_order_relaxed);
  in_use_.store(self != nullptr ? 1 : 0, std::memory_order_relaxed);
  if (overflow_.load(std::memory_order_relaxed) != 0) overflow_.store(0, std::memory_order_relaxed);
  return written;
}

}  // namespace leakscope::agent
