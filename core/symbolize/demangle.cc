// Demangling. Which demangler a symbol goes to is decided by its prefix:
//   _R...                        Rust v0            -> libiberty (DMGL_RUST)
//   _ZN...17h<16 hex>E           Rust legacy        -> libiberty (DMGL_RUST), hash stripped
//   _Z...                        C++                -> abi::__cxa_demangle
//   anything else                C, Go, already readable: unchanged
// The legacy-Rust test comes before C++ because a legacy Rust symbol is a valid C++ mangling
// too; demangled as C++ it would keep the "::h0123456789abcdef" hash that Rust tools strip.
//
// Suffixes. LLVM renames a local symbol it promotes across codegen units (or ThinLTO modules)
// by appending ".llvm.<digits>", and compilers name the pieces they split off or specialise
// ".cold", ".cold.1", ".isra.0", ".part.0", ".constprop.0". The code is still that function's,
// so a Rust symbol is demangled without such a suffix (as rustc-demangle does). A Rust symbol's
// end is certain: legacy ends at its "17h<16 hex>E" hash, v0 uses only [_0-9A-Za-z] (a legacy
// name may hold dots, "..", inside). C++ keeps its suffixes: __cxa_demangle already reads them
// and says "[clone .cold]".
#include "core/symbolize/demangle.h"

#include <cxxabi.h>

#include <cctype>
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

// One or more groups of "." and [_0-9A-Za-z]+: ".llvm.123", ".cold", ".isra.0".
bool is_compiler_suffix(std::string_view s) {
  if (s.empty()) return false;
  while (!s.empty()) {
    size_t n = 1;
    while (n < s.size() && (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_')) ++n;
    if (s[0] != '.' || n == 1) return false;
    s.remove_prefix(n);
  }
  return true;
}

// `s` without a compiler suffix when it is a Rust symbol (legacy or v0); empty otherwise.
std::string_view rust_symbol(std::string_view s) {
  if (s.starts_with("_R")) {
    size_t dot = s.find('.');
    if (dot == std::string_view::npos) return s;
    return is_compiler_suffix(s.substr(dot)) ? s.substr(0, dot) : std::string_view();
  }
  if (is_legacy_rust(s)) return s;
  for (size_t e = s.find("E."); e != std::string_view::npos; e = s.find("E.", e + 1)) {
    if (is_legacy_rust(s.substr(0, e + 1)) && is_compiler_suffix(s.substr(e + 1))) {
      return s.substr(0, e + 1);
    }
  }
  return {};
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
  std::string rust(rust_symbol(symbol));
#ifdef LEAKSCOPE_HAVE_LIBIBERTY
  if (!rust.empty()) {
    std::string name = rust_demangle(rust);
    return name == rust ? s : name;
  }
#else
  if (rust.starts_with("_ZN")) return strip_rust_hash(cxa_demangle(rust));
#endif
  if (s.starts_with("_Z")) return cxa_demangle(s);
  return s;
}

}  // namespace leakscope
