// Text forms of stacks for the debug=N pages of /debug/pprof/fds and /debug/pprof/threads.
//
// The agent never symbolizes its profiles (the CLI and pprof do, from the mappings); the text
// pages are for a person with curl, so they add what dladdr knows: the nearest dynamic symbol
// (demangled) and the object file. A return address is resolved at pc - 1, the call
// instruction, so a call at the very end of a function is not named after the next one.
// Called only from the server thread, under a ReentryGuard (dladdr and the demangler allocate).
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>

#include "agent/agent_api.h"
#include "agent/profile/elf_symbols.h"
#include "agent/trackers/track_fds.h"

namespace leakscope::agent {

namespace {

void append_hex(std::string& out, uintptr_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(v));
  out += buf;
}

void append_symbol(std::string& out, uintptr_t pc) {
  DlSymbol sym;
  if (!dl_symbol(pc > 0 ? pc - 1 : pc, sym)) {
    out += "?";
    return;
  }
  if (sym.name != nullptr) {
    int status = -1;
    char* demangled = abi::__cxa_demangle(sym.name, nullptr, nullptr, &status);
    out += status == 0 && demangled != nullptr ? demangled : sym.name;
    std::free(demangled);
    out += "+";
    append_hex(out, pc - sym.start);
  } else {
    out += "?";
  }
  if (sym.file != nullptr) {
    out += " (";
    out += sym.file;
    out += "+";
    append_hex(out, pc - sym.base);
    out += ")";
  }
}

}  // namespace

void append_stack_text(std::string& out, const uintptr_t* pcs, int n, const char* indent) {
  for (int i = 0; i < n; ++i) {
    out += indent;
    out += "#";
    out += std::to_string(i);
    out += " ";
    append_hex(out, pcs[i]);
    out += " ";
    append_symbol(out, pcs[i]);
    out += "\n";
  }
}

void append_stack_text_for_id(std::string& out, uint32_t stack_id, const char* indent) {
  uintptr_t pcs[kMaxFrames];
  int n = stack_id == 0 ? 0 : stack_pcs(stack_id, pcs, kMaxFrames);
  if (n == 0) {
    out += indent;
    out += "[leakscope: overflow] (the stack table was full)\n";
    return;
  }
  append_stack_text(out, pcs, n, indent);
}

void append_pcs_hex(std::string& out, const uintptr_t* pcs, int n) {
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += " ";
    append_hex(out, pcs[i]);
  }
}

}  // namespace leakscope::agent
