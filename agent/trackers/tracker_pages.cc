// The count profile and count text both trackers serve (see tracker_pages.h).
#include "agent/trackers/tracker_pages.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "agent/trackers/track_fds.h"

namespace leakscope::agent {

const char* origin_frame(Origin origin) {
  return origin == Origin::kUnknown ? "[unknown origin]" : "[leakscope: overflow]";
}

std::string count_profile_bytes(const char* type, const std::vector<CountItem>& items,
                                std::string comment) {
  ProfileBuilder b({ValueType{type, "count"}}, ValueType{type, "count"}, 1);
  uintptr_t pcs[kMaxFrames];
  for (const auto& item : items) {
    int n = item.origin == Origin::kTracked && item.stack_id != 0
                ? stack_pcs(item.stack_id, pcs, kMaxFrames)
                : 0;
    if (n > 0) {
      b.add(pcs, n, {1}, item.labels);
    } else {
      b.add_named(origin_frame(item.origin), {1}, item.labels);
    }
  }
  b.add_comment(std::move(comment));
  return encode_profile_bytes(b.finish());
}

std::string count_text(const char* type, const std::vector<CountItem>& items) {
  using Key = std::tuple<int, uint32_t, std::string>;  // (origin, stack id, note)
  std::map<Key, int64_t> counts;
  for (const auto& item : items) {
    ++counts[{static_cast<int>(item.origin), item.stack_id, item.note ? item.note : ""}];
  }
  std::vector<std::pair<int64_t, Key>> order;
  for (const auto& [key, n] : counts) order.push_back({n, key});
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out = std::string(type) + " profile: total " + std::to_string(items.size()) + "\n";
  uintptr_t pcs[kMaxFrames];
  for (const auto& [n, key] : order) {
    const auto& [origin_int, stack_id, note] = key;
    auto origin = static_cast<Origin>(origin_int);
    int depth = origin == Origin::kTracked && stack_id ? stack_pcs(stack_id, pcs, kMaxFrames) : 0;
    out += std::to_string(n) + " @ ";
    if (depth == 0) {
      out += origin_frame(origin);
      out += "\n\n";
      continue;
    }
    append_pcs_hex(out, pcs, depth);
    out += "\n";
    if (!note.empty()) out += "# " + note + "\n";
    append_stack_text(out, pcs, depth, "#\t");
    out += "\n";
  }
  return out;
}

}  // namespace leakscope::agent
