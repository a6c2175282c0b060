// Fuzz target: the pprof decoder, and everything that trusts a decoded profile.
//
// Any input must decode to a profile or to an error, never crash, hang or overrun. A profile
// that decodes must be valid, must survive encode -> decode unchanged (the codec loses nothing
// it accepted), and must go through compact, merge, scale and frames_of without trouble, since
// `leakscope top` and `diff` run exactly those on whatever file they are given.
#include <stdint.h>
#include <stdlib.h>

#include "core/profile/pprof_codec.h"
#include "core/profile/profile_ops.h"

using namespace leakscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DecodeOptions options;
  options.max_inflated_bytes = 64 << 20;  // under libFuzzer's RSS limit; the bound is the point
  options.max_model_bytes = 256 << 20;
  Result<Profile> p = decode_profile({data, size}, options);
  if (!p.ok()) {
    if (p.error().message.empty()) abort();
    return 0;
  }
  if (!validate(*p).ok()) abort();
  for (bool gzip : {false, true}) {
    Result<Profile> again = decode_profile(encode_profile(*p, gzip));
    if (!again.ok() || !(*again == *p)) abort();
  }
  ProfileIndex index(*p);
  for (const Sample& s : p->samples) (void)frames_of(index, s);
  (void)select_sample_type(*p);
  Result<Profile> merged = merge({&*p, &*p});
  if (merged.ok() && !validate(*merged).ok()) abort();
  Profile copy = *p;
  scale(copy, -1);
  compact(copy);
  if (!validate(copy).ok()) abort();
  return 0;
}
