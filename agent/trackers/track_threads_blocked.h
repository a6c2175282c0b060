// The current stack of a thread blocked in a system call, read without a signal
// (track_threads_blocked.cc).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace leakscope::agent {

// What /proc/self/task/TID/syscall says: "NR ARG1..ARG6 SP PC" while the thread is blocked in a
// system call, "-1 SP PC" while it is blocked outside one, "running" while it runs.
struct SyscallRegs {
  long nr = -1;
  uintptr_t sp = 0;
  uintptr_t pc = 0;
};

// Parses that text; false for "running" or anything malformed.
bool parse_syscall_regs(const char* text, SyscallRegs* out);

// The stack of thread `tid` if it is blocked in a system call now and stays there while its
// stack is read: the frame count, with *why nullptr or a note on a stack cut short. -1 when the
// thread must be asked by a signal instead (it runs, it is not in a system call, /proc or
// process_vm_readv is unreadable, or it moved while its stack was read).
int blocked_thread_stack(pid_t tid, uintptr_t* pcs, int max, const char** why);

}  // namespace leakscope::agent
