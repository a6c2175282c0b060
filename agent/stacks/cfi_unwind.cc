// cfi_unwind(): the stack of a blocked thread, from the pc and sp the kernel reports.
//
// Why: a thread blocked in a system call (the usual state of a leaked thread: parked in a
// sleep, a lock or a read) has its user registers saved by the kernel, and
// /proc/self/task/TID/syscall gives two of them, the stack pointer and the instruction pointer.
// Its stack is in our own address space. So its current stack can be read without sending it a
// signal, which would make nanosleep, poll, epoll_wait, futex waits with a timeout... return
// EINTR to the host (issue 18). libgcc's unwinder cannot start from registers someone else
// supplies (it unwinds only the calling thread), and the agent takes no unwinder library
// (DESIGN.md), so this file is a small DWARF CFI unwinder of its own, for x86-64.
//
// How, per frame:
//   1. find the object that holds the pc with _dl_find_object (glibc >= 2.35, lock-free, sees
//      every dlopen and dlclose as it happens: no table of ours to keep up to date, and none of
//      the dl_iterate_phdr lock that unwinders have deadlocked on); it gives the object's
//      PT_GNU_EH_FRAME segment, .eh_frame_hdr;
//   2. binary-search .eh_frame_hdr's sorted table (initial location, FDE) for the pc;
//   3. parse the FDE and its CIE (augmentations z, R, P, L, S; the usual pointer encodings);
//   4. run the CIE's initial instructions, then the FDE's, up to the pc: this gives the rule
//      for the CFA (a register plus an offset) and for each register (saved at CFA+n, same
//      value, undefined...);
//   5. CFA = register + offset; the return address and the callee-saved registers are read
//      from the stack where the rules say; the caller's sp is the CFA.
// The first frame's row is looked up at the pc itself (the thread will execute the instruction
// there next); a caller's at its return address - 1 (the call instruction: a call may be the
// last instruction of its function, and the row after it may already describe an epilogue).
//
// Only rsp and rip are known at the start. A frame whose CFA needs a register not yet recovered
// (an rbp-based frame before any callee saved rbp) ends the walk with what was found: the pc
// alone is still worth showing. So do a CFA given by a DWARF expression (PLT stubs, glibc's
// signal trampoline), a signal frame (CIE augmentation S), a pc in no object (JIT code), and
// a caller whose sp is not above its callee's (garbage: stop rather than loop).
//
// Safety: the thread may wake up and run while we read its stack; the caller re-reads the
// thread's registers afterwards and drops the stack if they changed. Every read, of the stack
// and of the unwind tables alike (an object may be dlclosed under us), goes through
// process_vm_readv on our own pid, which fails with EFAULT instead of faulting. Reads go through
// a few 256-byte windows (aligned, so one never crosses a page), so a walk costs tens of system
// calls, not thousands. Nothing here allocates or takes a lock; it runs on the server thread.
#include "agent/stacks/cfi_unwind.h"

#include <dlfcn.h>

#include "agent/stacks/cfi_read.h"

namespace leakscope::agent {

namespace {

using cfi::Cursor;
using cfi::Memory;

// ---- finding the FDE ---------------------------------------------------------------------

struct Fde {
  uintptr_t pc_begin = 0, pc_end = 0;
  uintptr_t cie_insns = 0, cie_end = 0;  // the CIE's initial instructions
  uintptr_t insns = 0, end = 0;          // the FDE's instructions
  uint64_t code_align = 1;
  int64_t data_align = -8;
  uint64_t ra_column = 16;
  uint8_t fde_enc = 0;
  bool has_aug = false;  // 'z': FDEs carry an augmentation length
  bool signal_frame = false;
};

bool parse_cie(Memory& mem, uintptr_t at, Fde* f) {
  Cursor c{&mem, at};
  uint32_t length = c.fixed<uint32_t>();
  if (!c.ok || length == 0 || length == 0xffffffffu) return false;
  f->cie_end = c.at + length;
  if (c.fixed<uint32_t>() != 0) return false;  // a CIE's id is 0 in .eh_frame
  uint8_t version = c.fixed<uint8_t>();
  if (version != 1 && version != 3) return false;  // .eh_frame's; 4 is .debug_frame's layout
  char aug[8] = {};
  for (size_t i = 0;; ++i) {
    char ch = c.fixed<char>();
    if (!c.ok || i + 1 >= sizeof(aug)) return false;
    if (ch == '\0') break;
    aug[i] = ch;
  }
  if (aug[0] != '\0' && aug[0] != 'z') return false;  // "eh" and other ancient forms
  f->code_align = c.uleb();
  f->data_align = c.sleb();
  f->ra_column = version == 1 ? c.fixed<uint8_t>() : c.uleb();
  f->has_aug = aug[0] == 'z';
  if (f->has_aug) {
    uint64_t aug_len = c.uleb();
    uintptr_t aug_end = c.at + aug_len;
    for (const char* p = aug + 1; *p != '\0' && c.ok; ++p) {
      if (*p == 'R') {
        f->fde_enc = c.fixed<uint8_t>();
      } else if (*p == 'P') {
        c.pointer(c.fixed<uint8_t>() & 0x7f);  // the personality routine: skipped, not followed
      } else if (*p == 'L') {
        c.fixed<uint8_t>();  // the LSDA's encoding: the FDE's augmentation data is skipped
      } else if (*p == 'S') {
        f->signal_frame = true;
      } else {
        break;  // unknown: the augmentation length lets us skip the rest
      }
    }
    c.at = aug_end;
  }
  f->cie_insns = c.at;
  return c.ok && f->cie_insns <= f->cie_end;
}

bool parse_fde(Memory& mem, uintptr_t at, Fde* f) {
  Cursor c{&mem, at};
  uint32_t length = c.fixed<uint32_t>();
  if (!c.ok || length == 0 || length == 0xffffffffu) return false;
  f->end = c.at + length;
  uintptr_t id_field = c.at;
  uint32_t cie_offset = c.fixed<uint32_t>();
  if (!c.ok || cie_offset == 0 || !parse_cie(mem, id_field - cie_offset, f)) return false;
  f->pc_begin = c.pointer(f->fde_enc);
  f->pc_end = f->pc_begin + c.pointer(f->fde_enc & 0x0f);  // the range: a value, not an address
  if (f->has_aug) c.at += c.uleb();  // the LSDA pointer, when 'L': not needed for a walk
  if (!c.ok) return false;
  f->insns = c.at;
  return f->insns <= f->end;
}

// .eh_frame_hdr: version 1, then the encodings of eh_frame_ptr, fde_count and the table; the
// table is (initial location, FDE address) pairs of sdata4 relative to the header, sorted.
bool find_fde(Memory& mem, uintptr_t pc, Fde* f, UnwindEnd* end) {
  dl_find_object found{};
  if (_dl_find_object(reinterpret_cast<void*>(pc), &found) != 0 || found.dlfo_eh_frame == nullptr) {
    *end = UnwindEnd::kNoModule;
    return false;
  }
  auto hdr = reinterpret_cast<uintptr_t>(found.dlfo_eh_frame);
  *end = UnwindEnd::kBadTables;
  Cursor c{&mem, hdr};
  uint8_t version = c.fixed<uint8_t>(), ptr_enc = c.fixed<uint8_t>();
  uint8_t count_enc = c.fixed<uint8_t>(), table_enc = c.fixed<uint8_t>();
  if (!c.ok || version != 1 || table_enc != 0x3b) return false;  // datarel | sdata4
  c.pointer(ptr_enc, hdr);
  uint64_t count = c.pointer(count_enc, hdr);
  if (!c.ok || count == 0) return false;
  uintptr_t table = c.at;
  auto entry = [&](uint64_t i, int32_t* loc, int32_t* fde) {
    return mem.get(table + i * 8, loc) && mem.get(table + i * 8 + 4, fde);
  };
  uint64_t lo = 0, hi = count;  // find the last entry whose location is <= pc
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    int32_t loc, fde;
    if (!entry(mid, &loc, &fde)) return false;
    (hdr + static_cast<intptr_t>(loc) <= pc ? lo : hi) = mid;
  }
  int32_t loc, fde;
  if (!entry(lo, &loc, &fde) || hdr + static_cast<intptr_t>(loc) > pc) {
    *end = UnwindEnd::kNoFde;
    return false;
  }
  if (!parse_fde(mem, hdr + static_cast<intptr_t>(fde), f)) return false;
  if (pc < f->pc_begin || pc >= f->pc_end) {
    *end = UnwindEnd::kNoFde;
    return false;
  }
  return true;
}

// ---- the CFA program ---------------------------------------------------------------------

constexpr int kRegs = 17;  // x86-64 DWARF: 0-15 the integer registers (7 = rsp), 16 = rip
constexpr int kRsp = 7;

// DW_CFA_*: the first three carry an operand in their low six bits.
enum : uint8_t {
  kCfaNop = 0x00,
  kCfaSetLoc = 0x01,
  kCfaAdvanceLoc1 = 0x02,
  kCfaAdvanceLoc2 = 0x03,
  kCfaAdvanceLoc4 = 0x04,
  kCfaOffsetExtended = 0x05,
  kCfaRestoreExtended = 0x06,
  kCfaUndefined = 0x07,
  kCfaSameValue = 0x08,
  kCfaRegister = 0x09,
  kCfaRememberState = 0x0a,
  kCfaRestoreState = 0x0b,
  kCfaDefCfa = 0x0c,
  kCfaDefCfaRegister = 0x0d,
  kCfaDefCfaOffset = 0x0e,
  kCfaDefCfaExpression = 0x0f,
  kCfaExpression = 0x10,
  kCfaOffsetExtendedSf = 0x11,
  kCfaDefCfaSf = 0x12,
  kCfaDefCfaOffsetSf = 0x13,
  kCfaValOffset = 0x14,
  kCfaValOffsetSf = 0x15,
  kCfaValExpression = 0x16,
  kCfaGnuArgsSize = 0x2e,
  kCfaGnuNegativeOffsetExtended = 0x2f,
  kCfaAdvanceLoc = 0x40,
  kCfaOffset = 0x80,
  kCfaRestore = 0xc0,
};

enum class Rule : uint8_t { kSame = 0, kUndefined, kOffset, kValOffset, kRegister, kUnknown };

struct Row {
  uint64_t cfa_reg = kRsp;
  int64_t cfa_offset = 8;
  bool cfa_expression = false;
  Rule rule[kRegs] = {};
  int64_t arg[kRegs] = {};
};

struct Program {
  const Fde& fde;
  uintptr_t target;  // rows up to this address apply
  Row initial;       // after the CIE's instructions: what DW_CFA_restore returns to
  Row stack[8];      // DW_CFA_remember_state
  int depth = 0;
};

void set_rule(Row& row, uint64_t reg, Rule rule, int64_t arg) {
  if (reg >= kRegs) return;  // vector registers and the like: never needed for a walk
  row.rule[reg] = rule;
  row.arg[reg] = arg;
}

// Runs [at, end) into row, stopping at the first advance past p.target. False on bad input.
bool run(Memory& mem, Program& p, uintptr_t at, uintptr_t end, Row& row, bool is_cie) {
  Cursor c{&mem, at};
  uintptr_t loc = p.fde.pc_begin;
  const int64_t da = p.fde.data_align;
  const uint64_t ca = p.fde.code_align;
  auto advance = [&](uint64_t delta) {
    loc += delta * ca;
    return is_cie || loc <= p.target;
  };
  while (c.ok && c.at < end) {
    uint8_t op = c.fixed<uint8_t>();
    uint8_t low = op & 0x3f;
    switch (op & 0xc0) {
      case kCfaAdvanceLoc:
        if (!advance(low)) return true;
        continue;
      case kCfaOffset:
        set_rule(row, low, Rule::kOffset, static_cast<int64_t>(c.uleb()) * da);
        continue;
      case kCfaRestore:
        if (low < kRegs) set_rule(row, low, p.initial.rule[low], p.initial.arg[low]);
        continue;
    }
    uint64_t reg = 0;
    switch (op) {
      case kCfaNop:
        break;
      case kCfaSetLoc:
        loc = c.pointer(p.fde.fde_enc);
        if (!is_cie && loc > p.target) return true;
        break;
      case kCfaAdvanceLoc1:
        if (!advance(c.fixed<uint8_t>())) return true;
        break;
      case kCfaAdvanceLoc2:
        if (!advance(c.fixed<uint16_t>())) return true;
        break;
      case kCfaAdvanceLoc4:
        if (!advance(c.fixed<uint32_t>())) return true;
        break;
      case kCfaOffsetExtended:
        reg = c.uleb();
        set_rule(row, reg, Rule::kOffset, static_cast<int64_t>(c.uleb()) * da);
        break;
      case kCfaRestoreExtended:
        reg = c.uleb();
        if (reg < kRegs) set_rule(row, reg, p.initial.rule[reg], p.initial.arg[reg]);
        break;
      case kCfaUndefined:
        set_rule(row, c.uleb(), Rule::kUndefined, 0);
        break;
      case kCfaSameValue:
        set_rule(row, c.uleb(), Rule::kSame, 0);
        break;
      case kCfaRegister:
        reg = c.uleb();
        set_rule(row, reg, Rule::kRegister, static_cast<int64_t>(c.uleb()));
        break;
      case kCfaRememberState:
        if (p.depth >= 8) return false;
        p.stack[p.depth++] = row;
        break;
      case kCfaRestoreState:  // the CFA rule too: it undoes an epilogue's def_cfa_offset
        if (p.depth == 0) return false;
        row = p.stack[--p.depth];
        break;
      case kCfaDefCfa:
        row.cfa_reg = c.uleb();
        row.cfa_offset = static_cast<int64_t>(c.uleb());
        row.cfa_expression = false;
        break;
      case kCfaDefCfaRegister:
        row.cfa_reg = c.uleb();
        row.cfa_expression = false;
        break;
      case kCfaDefCfaOffset:
        row.cfa_offset = static_cast<int64_t>(c.uleb());
        break;
      case kCfaDefCfaExpression:
        c.at += c.uleb();
        row.cfa_expression = true;
        break;
      case kCfaExpression:
      case kCfaValExpression:
        reg = c.uleb();
        c.at += c.uleb();
        set_rule(row, reg, Rule::kUnknown, 0);
        break;
      case kCfaOffsetExtendedSf:
        reg = c.uleb();
        set_rule(row, reg, Rule::kOffset, c.sleb() * da);
        break;
      case kCfaDefCfaSf:
        row.cfa_reg = c.uleb();
        row.cfa_offset = c.sleb() * da;
        row.cfa_expression = false;
        break;
      case kCfaDefCfaOffsetSf:
        row.cfa_offset = c.sleb() * da;
        break;
      case kCfaValOffset:
        reg = c.uleb();
        set_rule(row, reg, Rule::kValOffset, static_cast<int64_t>(c.uleb()) * da);
        break;
      case kCfaValOffsetSf:
        reg = c.uleb();
        set_rule(row, reg, Rule::kValOffset, c.sleb() * da);
        break;
      case kCfaGnuArgsSize:
        c.uleb();
        break;
      case kCfaGnuNegativeOffsetExtended:
        reg = c.uleb();
        set_rule(row, reg, Rule::kOffset, -static_cast<int64_t>(c.uleb()) * da);
        break;
      default:
        return false;
    }
  }
  return c.ok;
}

// ---- one step ----------------------------------------------------------------------------

struct Regs {
  uint64_t val[kRegs] = {};
  bool known[kRegs] = {};
};

// From the frame at regs (pc in regs.val[16], looked up at `lookup`) to its caller's registers.
bool step(Memory& mem, uintptr_t lookup, Regs& regs, UnwindEnd* end) {
  Fde fde;
  if (!find_fde(mem, lookup, &fde, end)) return false;
  if (fde.signal_frame) {
    *end = UnwindEnd::kSignalFrame;
    return false;
  }
  Program p{fde, lookup, {}, {}, 0};
  Row row;
  if (!run(mem, p, fde.cie_insns, fde.cie_end, row, true)) {
    *end = UnwindEnd::kBadTables;
    return false;
  }
  p.initial = row;
  if (!run(mem, p, fde.insns, fde.end, row, false)) {
    *end = UnwindEnd::kBadTables;
    return false;
  }
  if (row.cfa_expression) {
    *end = UnwindEnd::kExpression;
    return false;
  }
  if (row.cfa_reg >= kRegs || !regs.known[row.cfa_reg] || fde.ra_column >= kRegs) {
    *end = UnwindEnd::kUnknownRegister;
    return false;
  }
  uint64_t cfa = regs.val[row.cfa_reg] + static_cast<uint64_t>(row.cfa_offset);
  Regs next;
  for (int r = 0; r < kRegs; ++r) {
    switch (row.rule[r]) {
      case Rule::kSame:
        next.val[r] = regs.val[r];
        next.known[r] = regs.known[r];
        break;
      case Rule::kOffset:
        next.known[r] = mem.get(cfa + static_cast<uint64_t>(row.arg[r]), &next.val[r]);
        break;
      case Rule::kValOffset:
        next.val[r] = cfa + static_cast<uint64_t>(row.arg[r]);
        next.known[r] = true;
        break;
      case Rule::kRegister:
        if (row.arg[r] >= 0 && row.arg[r] < kRegs) {
          next.val[r] = regs.val[row.arg[r]];
          next.known[r] = regs.known[row.arg[r]];
        }
        break;
      case Rule::kUndefined:
      case Rule::kUnknown:
        break;
    }
  }
  if (row.rule[fde.ra_column] == Rule::kUndefined) {
    *end = UnwindEnd::kOutermost;
    return false;
  }
  if (row.rule[fde.ra_column] != Rule::kOffset || !next.known[fde.ra_column]) {
    *end = row.rule[fde.ra_column] == Rule::kOffset ? UnwindEnd::kBadMemory
                                                    : UnwindEnd::kUnknownRegister;
    return false;
  }
  if (cfa <= regs.val[kRsp]) {
    *end = UnwindEnd::kNotAdvancing;
    return false;
  }
  next.val[kRsp] = cfa;
  next.known[kRsp] = true;
  next.val[16] = next.val[fde.ra_column];
  next.known[16] = true;
  regs = next;
  return true;
}

}  // namespace

int cfi_unwind(uintptr_t pc, uintptr_t sp, uintptr_t* pcs, int max, UnwindEnd* end) {
  *end = UnwindEnd::kOutermost;
  if (pc == 0 || max <= 0) return 0;
  Memory mem;
  Regs regs;
  regs.val[16] = pc;
  regs.val[kRsp] = sp;
  regs.known[16] = regs.known[kRsp] = true;
  int n = 0;
  pcs[n++] = pc;
  while (n < max) {
    uintptr_t lookup = n == 1 ? regs.val[16] : regs.val[16] - 1;
    if (!step(mem, lookup, regs, end)) return n;
    if (regs.val[16] == 0) {
      *end = UnwindEnd::kOutermost;
      return n;
    }
    pcs[n++] = regs.val[16];
  }
  *end = UnwindEnd::kMaxFrames;
  return n;
}

bool fault_safe_reads_work() {
  static int works = -1;  // server thread only
  if (works < 0) {
    uint64_t probe = 0x5eed, copy = 0;
    Memory mem;
    works = mem.get(reinterpret_cast<uintptr_t>(&probe), &copy) && copy == probe;
  }
  return works == 1;
}

const char* unwind_end_text(UnwindEnd end) {
  switch (end) {
    case UnwindEnd::kOutermost:
      return nullptr;
    case UnwindEnd::kNoModule:
      return "a frame in no loaded object (JIT code?)";
    case UnwindEnd::kNoFde:
      return "a frame without unwind information";
    case UnwindEnd::kUnknownRegister:
      return "a frame needs a register the walk could not recover";
    case UnwindEnd::kExpression:
      return "a frame whose unwind rule is a DWARF expression";
    case UnwindEnd::kSignalFrame:
      return "a signal handler's frame";
    case UnwindEnd::kBadMemory:
      return "unreadable stack or unwind tables";
    case UnwindEnd::kBadTables:
      return "unwind tables this unwinder does not read";
    case UnwindEnd::kNotAdvancing:
      return "a frame whose caller is not above it on the stack";
    case UnwindEnd::kMaxFrames:
      return nullptr;
  }
  return nullptr;
}

}  // namespace leakscope::agent
