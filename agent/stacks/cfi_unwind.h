// A DWARF CFI unwinder that starts from a given pc and sp: the stack of another thread of this
// process, blocked in a system call, read without stopping it (cfi_unwind.cc explains how).
#pragma once

#include <cstddef>
#include <cstdint>

namespace leakscope::agent {

// Why a walk ended.
enum class UnwindEnd : int {
  kOutermost = 0,    // the outermost frame (its return address is undefined: _start, clone)
  kNoModule,         // a pc in no loaded object, or in one without .eh_frame_hdr (JIT code)
  kNoFde,            // no FDE covers a pc
  kUnknownRegister,  // a rule needs a register this walk could not recover
  kExpression,       // a CFA given by a DWARF expression (PLT stubs, the signal trampoline)
  kSignalFrame,      // a signal frame: where the walk would need the saved ucontext
  kBadMemory,        // unreadable unwind tables or stack
  kBadTables,        // unwind tables this parser does not accept
  kNotAdvancing,     // a caller's sp not above its callee's: garbage, stop rather than loop
  kMaxFrames,        // the buffer is full
};

// Walks the stack of a thread of this process that is stopped at `pc` with stack pointer `sp`
// (x86-64). Writes pc first, then each caller's return address; returns how many (0 if pc is 0)
// and why it stopped in *end. Every read of the stack and of the unwind tables goes through
// process_vm_readv, so memory that a waking thread changes or unmaps under the walk yields a
// short stack, never a fault. Never allocates, takes no lock: _dl_find_object finds the objects.
int cfi_unwind(uintptr_t pc, uintptr_t sp, uintptr_t* pcs, int max, UnwindEnd* end);

// Whether process_vm_readv works on our own pid here (a seccomp profile may refuse it): when it
// does not, every walk would stop at its first read. Checked once.
bool fault_safe_reads_work();

// A short phrase for an end that cut the stack short; nullptr for kOutermost.
const char* unwind_end_text(UnwindEnd end);

}  // namespace leakscope::agent
