// Text forms of stacks for the debug=N pages of /debug/pprof/fds and /debug/pprof/threads.
//
// The agent never symbolizes its profiles (the CLI and pprof do, from the mappings); the text
// pages are for a person with curl, so they add what dladdr knows: the nearest dynamic symbol
// (demangled) and the object file. A return address is resolved at pc - 1, the call
// instruction, so a call at the very end of a function is not named after the next one.
// Called only from the server thread, under a ReentryGuard (dladdr and the demangler allocate).
#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "agent/agent_api.h"
#include "agent/track_fds.h"

namespace leakscope::agent {

namespace {

void append_hex(std::string& out, uintptr_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(v));
  out += buf;
}

void append_symbol(std::string& out, uintptr_t pc) {
  Dl_info info{};
  uintptr_t lookup = pc > 0 ? pc - 1 : pc;
  if (dladdr(reinterpret_cast<void*>(lookup), &info) == 0) {
    out += "?";
    return;
  }
  if (info.dli_sname != nullptr && info.dli_saddr != nullptr) {
    int status = -1;
    char* demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
    out += status == 0 && demangled != nullptr ? demangled : info.dli_sname;
    std::free(demangled);
    out += "+";
    append_hex(out, pc - reinterpret_cast<uintptr_t>(info.dli_saddr));
  } else {
    out += "?";
  }
  if (info.dli_fname != nullptr) {
    out += " (";
    out += info.dli_fname;
    out += "+";
    append_hex(out, pc - reinterpret_cast<uintptr_t>(info.dli_fbase));
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
