// Demangling: linker symbols to the names people read. C++ (Itanium ABI) goes through the
// compiler runtime's abi::__cxa_demangle; Rust goes through libiberty's Rust demangler, which
// knows both manglings: legacy (`_ZN...17h<16 hex>E`, C++-shaped, hash stripped) and v0
// (`_R...`). Without libiberty (a build option), legacy Rust is still demangled by
// __cxa_demangle with the hash stripped by hand, and v0 names stay mangled (rust_v0_supported()
// says which). A compiler's suffix on a Rust symbol (".llvm.<digits>", ".cold", ".isra.0") is
// dropped; C++ shows it as "[clone ...]", as __cxa_demangle does.
#pragma once

#include <string>
#include <string_view>

namespace leakscope {

// The readable name for `symbol`, or `symbol` itself when it is not mangled (C, Go) or cannot be
// demangled. Never throws.
std::string demangle(std::string_view symbol);

// True when this build demangles Rust v0 (`_R...`) names.
bool rust_v0_supported();

}  // namespace leakscope
