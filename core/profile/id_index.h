// IdIndex: id -> position in a vector of mappings, locations or functions. Profiles written by
// Go, by pprof and by our own compact() number their entities 1..N, so the common case is a flat
// table indexed by id (one load per lookup, which matters when a 50 MB profile resolves tens of
// millions of location ids); sparse ids (addresses used as ids, which profile.proto allows) fall
// back to a hash map.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace leakscope {

class IdIndex {
 public:
  static constexpr int64_t kMissing = -1;

  // Builds the index over `items` (anything with a uint64_t `id`). Returns false and sets
  // `bad_id` to the first id that is 0 or appears twice; the index then keeps the first of
  // duplicates and skips id 0.
  template <typename T>
  bool build(const std::vector<T>& items, uint64_t& bad_id) {
    dense_.clear();
    sparse_.clear();
    uint64_t max_id = 0;
    for (const T& item : items) max_id = item.id > max_id ? item.id : max_id;
    use_dense_ = max_id <= 2 * static_cast<uint64_t>(items.size()) + 64;
    if (use_dense_) dense_.assign(max_id + 1, kMissing);
    bool ok = true;
    for (size_t i = 0; i < items.size(); ++i) {
      uint64_t id = items[i].id;
      if (id == 0 || find(id) != kMissing) {
        if (ok) bad_id = id;
        ok = false;
        continue;
      }
      if (use_dense_) {
        dense_[id] = static_cast<int64_t>(i);
      } else {
        sparse_.emplace(id, static_cast<int64_t>(i));
      }
    }
    return ok;
  }

  // Position of `id`, or kMissing.
  int64_t find(uint64_t id) const {
    if (use_dense_) return id < dense_.size() ? dense_[id] : kMissing;
    auto it = sparse_.find(id);
    return it == sparse_.end() ? kMissing : it->second;
  }

 private:
  bool use_dense_ = true;
  std::vector<int64_t> dense_;
  std::unordered_map<uint64_t, int64_t> sparse_;
};

}  // namespace leakscope
