// LiveSet (see live_set.h for the structure and its invariants).
#include "agent/heap/live_set.h"

#include "agent/agent_internal.h"

namespace leakscope::agent {

std::atomic<LiveSet::Node*> LiveSet::empty_bucket_[1];

bool LiveSet::init(int64_t capacity) {
  int bits = 4;
  while ((int64_t{1} << bits) < capacity / 4 && bits < 34) ++bits;
  auto* buckets = static_cast<std::atomic<Node*>*>(agent_map(sizeof(std::atomic<Node*>) << bits));
  auto* pool = static_cast<Node*>(agent_map(sizeof(Node) * capacity));
  if (buckets == nullptr || pool == nullptr) return false;
  pool_size_ = capacity;
  pool_ = pool;
  buckets_.store(buckets, std::memory_order_release);
  mask_.store((uint64_t{1} << bits) - 1, std::memory_order_release);
  return true;
}

bool LiveSet::insert(uintptr_t key, const Payload& payload) {
  filter_add(key);
  if (!insert_node(key, payload)) {
    filter_remove(key);
    return false;
  }
  return true;
}

namespace {

void counter_add(std::atomic<uint8_t>& c, uint8_t sticky) {
  uint8_t v = c.load(std::memory_order_relaxed);
  while (v != sticky && !c.compare_exchange_weak(v, v + 1, std::memory_order_relaxed)) {
  }
}

void counter_remove(std::atomic<uint8_t>& c, uint8_t sticky) {
  uint8_t v = c.load(std::memory_order_relaxed);
  while (v != sticky && v != 0 && !c.compare_exchange_weak(v, v - 1, std::memory_order_relaxed)) {
  }
}

}  // namespace

void LiveSet::filter_add(uintptr_t key) {
  counter_add(line_[(key * 0x9e3779b97f4a7c15ull) >> 58], kSticky);
  counter_add(filter_[filter_of(key)], kSticky);
}

void LiveSet::filter_remove(uintptr_t key) {
  counter_remove(filter_[filter_of(key)], kSticky);
  counter_remove(line_[(key * 0x9e3779b97f4a7c15ull) >> 58], kSticky);
}

bool LiveSet::insert_node(uintptr_t key, const Payload& payload) {
  std::atomic<Node*>& bucket = *bucket_for(key);
  Node* head = bucket.load(std::memory_order_acquire);
  for (Node* n = head; n != nullptr; n = n->next) {
    uintptr_t expected = 0;
    if (n->key.load(std::memory_order_relaxed) == 0 &&
        n->key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
      n->payload = payload;
      return true;
    }
  }
  int64_t index = pool_used_.fetch_add(1, std::memory_order_relaxed);
  if (index >= pool_size_) {
    pool_used_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  Node* node = &pool_[index];  // zero pages from the kernel: key 0, next null
  node->payload = payload;
  node->key.store(key, std::memory_order_relaxed);
  do {
    node->next = head;
  } while (!bucket.compare_exchange_weak(head, node, std::memory_order_release,
                                         std::memory_order_acquire));
  return true;
}

int64_t LiveSet::live() const {
  int64_t used = pool_used_.load(std::memory_order_relaxed), n = 0;
  if (used > pool_size_) used = pool_size_;
  for (int64_t i = 0; i < used; ++i) n += pool_[i].key.load(std::memory_order_relaxed) != 0;
  return n;
}

bool LiveSet::remove(uintptr_t key, Payload* out) {
  Node* n = bucket_for(key)->load(std::memory_order_acquire);
  for (; n != nullptr; n = n->next) {
    if (n->key.load(std::memory_order_relaxed) != key) continue;
    *out = n->payload;
    uintptr_t expected = key;
    if (n->key.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
      filter_remove(key);
      return true;
    }
  }
  return false;
}

}  // namespace leakscope::agent
