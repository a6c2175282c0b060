// Fault-safe reads of this process's memory for cfi_unwind.cc, and the DWARF encodings read
// from it (LEB128, DW_EH_PE_* pointers).
//
// The memory read is another thread's stack, which may change or be unmapped while we read
// (the thread woke up), and unwind tables of objects that another thread may dlclose. So every
// read goes through process_vm_readv on our own pid, which fails with EFAULT instead of
// faulting. Reads are served from a few 256-byte windows (aligned, so one never crosses a page:
// it is whole or absent), so a walk costs tens of system calls, not one per byte. No allocation,
// no lock; one Memory per walk, on the caller's stack (about 1 KiB).
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace leakscope::agent::cfi {

// DW_EH_PE_*: the low nibble is the format, 0x70 the base, 0x80 "indirect".
enum : uint8_t {
  kPeAbsptr = 0x00,
  kPeUleb128 = 0x01,
  kPeUdata2 = 0x02,
  kPeUdata4 = 0x03,
  kPeUdata8 = 0x04,
  kPeSleb128 = 0x09,
  kPeSdata2 = 0x0a,
  kPeSdata4 = 0x0b,
  kPeSdata8 = 0x0c,
  kPePcrel = 0x10,
  kPeDatarel = 0x30,
  kPeIndirect = 0x80,
  kPeOmit = 0xff,
};

constexpr uintptr_t kWindow = 256;
constexpr int kWindows = 4;

class Memory {
 public:
  bool read(uintptr_t addr, void* out, size_t n) {
    auto* dst = static_cast<uint8_t*>(out);
    while (n > 0) {
      const uint8_t* w = window(addr);
      if (w == nullptr) return false;
      size_t in = kWindow - (addr % kWindow);
      size_t take = n < in ? n : in;
      std::memcpy(dst, w + (addr % kWindow), take);
      dst += take;
      addr += take;
      n -= take;
    }
    return true;
  }

  template <typename T>
  bool get(uintptr_t addr, T* out) {
    return read(addr, out, sizeof(T));
  }

 private:
  const uint8_t* window(uintptr_t addr) {
    uintptr_t base = addr - addr % kWindow;
    for (int i = 0; i < kWindows; ++i) {
      if (valid_[i] && base_[i] == base) return data_[i];
    }
    int i = next_;
    next_ = (next_ + 1) % kWindows;
    iovec local{data_[i], kWindow};
    iovec remote{reinterpret_cast<void*>(base), kWindow};
    valid_[i] = process_vm_readv(pid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(kWindow);
    base_[i] = base;
    return valid_[i] ? data_[i] : nullptr;
  }

  pid_t pid_ = getpid();
  uint8_t data_[kWindows][kWindow];
  uintptr_t base_[kWindows] = {};
  bool valid_[kWindows] = {};
  int next_ = 0;
};

// A cursor over target memory: reads advance it; a failed read sets ok = false for good.
struct Cursor {
  Memory* mem;
  uintptr_t at;
  bool ok = true;

  template <typename T>
  T fixed() {
    T v{};
    if (ok && !mem->get(at, &v)) ok = false;
    at += sizeof(T);
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (int shift = 0; ok && shift < 64; shift += 7) {
      uint8_t b = fixed<uint8_t>();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  int64_t sleb() {
    uint64_t v = 0;
    int shift = 0;
    for (; ok && shift < 64;) {
      uint8_t b = fixed<uint8_t>();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) {
        if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
        return static_cast<int64_t>(v);
      }
    }
    ok = false;
    return 0;
  }
  // A pointer in a DW_EH_PE_* encoding; datarel is relative to `data_base` (.eh_frame_hdr).
  uintptr_t pointer(uint8_t enc, uintptr_t data_base = 0) {
    if (enc == kPeOmit) return 0;
    uintptr_t field = at;
    uint64_t v = 0;
    switch (enc & 0x0f) {
      case kPeAbsptr:
      case kPeUdata8:
      case kPeSdata8:
        v = fixed<uint64_t>();
        break;
      case kPeUleb128:
        v = uleb();
        break;
      case kPeUdata2:
        v = fixed<uint16_t>();
        break;
      case kPeUdata4:
        v = fixed<uint32_t>();
        break;
      case kPeSleb128:
        v = static_cast<uint64_t>(sleb());
        break;
      case kPeSdata2:
        v = static_cast<uint64_t>(fixed<int16_t>());
        break;
      case kPeSdata4:
        v = static_cast<uint64_t>(fixed<int32_t>());
        break;
      default:
        ok = false;
        return 0;
    }
    switch (enc & 0x70) {
      case kPeAbsptr:
        break;
      case kPePcrel:
        v += field;
        break;
      case kPeDatarel:
        v += data_base;
        break;
      default:
        ok = false;
        return 0;  // textrel, funcrel, aligned: not on x86-64 Linux
    }
    if (enc & kPeIndirect) {
      uint64_t target = 0;
      if (!mem->get(v, &target)) ok = false;
      v = target;
    }
    return v;
  }
};

}  // namespace leakscope::agent::cfi
