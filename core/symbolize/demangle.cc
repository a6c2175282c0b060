// Demangling. Which demangler a symbol goes to is decided by its prefix:
//   _R...                        Rust v0            -> libiberty (DMGL_RUST)
//   _ZN...17h<16 hex>E           Rust legacy        -> libiberty (DMGL_RUST), hash stripped
//   _Z...                        C++                -> abi::__cxa_demangle
//   anything else                C, Go, already readable: unchanged
// The legacy-Rust test comes before C++ because a legacy Rust symbol is a valid C++ mangling
// too; demangled as C++ it would keep the "::h0123456789abcdef" hash that Rust tools strip.
#include "core/symbolize/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#ifdef LEAKSCOPE_HAVE_LIBIBERTY
extern "C" {
#include <libiberty/demangle.h>
}
#endif

namespace leakscope {
namespace {

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using MallocString = std::unique_ptr<char, FreeDeleter>;

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Legacy Rust symbols end in a path component "h" + 16 hex digits: "17h0123456789abcdefE".
bool is_legacy_rust(std::string_view s) {
  constexpr std::string_view kHashTail = "17h";
  if (!s.starts_with("_ZN") || s.size() < 3 + 3 + 16 + 1 || s.back() != 'E') return false;
  std::string_view hash = s.substr(s.size() - 1 - 16, 16);
  for (char c : hash) {
    if (!is_hex(c)) return false;
  }
  return s.substr(s.size() - 1 - 16 - kHashTail.size(), kHashTail.size()) == kHashTail;
}

std::string cxa_demangle(const std::string& s) {
  int status = 0;
  MallocString out(abi::__cxa_demangle(s.c_str(), nullptr, nullptr, &status));
  return status == 0 && out ? std::string(out.get()) : s;
}

#ifdef LEAKSCOPE_HAVE_LIBIBERTY
std::string rust_demangle(const std::string& s) {
  MallocString out(cplus_demangle(s.c_str(), DMGL_PARAMS | DMGL_ANSI | DMGL_RUST));
  return out ? std::string(out.get()) : s;
}
#else
// "a::b::h0123456789abcdef" -> "a::b" (what __cxa_demangle makes of a legacy Rust symbol).
std::string strip_rust_hash(std::string name) {
  size_t pos = name.rfind("::h");
  if (pos != std::string::npos && name.size() - pos == 3 + 16) name.resize(pos);
  return name;
}
#endif

}  // namespace

bool rust_v0_supported() {
#ifdef LEAKSCOPE_HAVE_LIBIBERTY
  return true;
#else
  return false;
#endif
}

std::string demangle(std::string_view symbol) {
  std::string s(symbol);
#ifdef LEAKSCOPE_HAVE_LIBIBERTY
  if (s.starts_with("_R") || is_legacy_rust(s)) return rust_demangle(s);
#else
  if (is_legacy_rust(s)) return strip_rust_hash(cxa_demangle(s));
#endif
  if (s.starts_with("_Z")) return cxa_demangle(s);
  return s;
}

}  // namespace leakscope
