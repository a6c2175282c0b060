#!/usr/bin/env bash
# libleakscope.so is self-contained: its only dynamic dependencies are libc, libpthread, libdl,
# libz, libgcc_s (and the loader); it exports only interposed functions (C names and operator
# new/delete), never libstdc++'s or the codec's symbols; and the libgcc_s it unwinds with finds
# FDEs through glibc's lock-free _dl_find_object (no dl_iterate_phdr lock inside malloc).
set -euo pipefail
LIB=${LEAKSCOPE_BUILD:?}/libleakscope.so
fail() { echo "FAIL: $*" >&2; exit 1; }

needed=$(readelf -d "$LIB" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p')
echo "NEEDED: $(echo $needed)"
for lib in $needed; do
  case $lib in
    libc.so.6 | libpthread.so.0 | libdl.so.2 | libz.so.1 | libgcc_s.so.1 | ld-linux-x86-64.so.2) ;;
    *) fail "unexpected dynamic dependency $lib" ;;
  esac
done

exported=$(nm -D --defined-only "$LIB" | awk '{print $3}')
bad=$(echo "$exported" | grep -vE '^([a-z][a-z0-9_]*|__[a-z0-9_]+|_Z(nw|na|dl|da)[A-Za-z0-9_]*|_Unwind_Find_FDE)$' || true)
[[ -z $bad ]] || fail "exports beyond the hooks: $bad"
# libgcc_s calls its own _Unwind_Find_FDE through its PLT; the agent's must be the one it gets
# (agent/stacks/unwind_hooks.cc: no unwinding while libgcc holds its object_mutex).
libgcc_so=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ && !seen++ {print $NF}')
if [[ -n $libgcc_so ]] && command -v objdump >/dev/null; then
  plt=$(objdump -d "$libgcc_so" | grep -c 'Find_FDE@plt' || true)
  ((plt > 0)) || fail "libgcc_s no longer calls _Unwind_Find_FDE through its PLT: the agent cannot see its lookups"
fi
for sym in _Unwind_Find_FDE __register_frame __register_frame_info __deregister_frame \
  malloc free calloc realloc reallocarray posix_memalign aligned_alloc memalign valloc \
  pvalloc malloc_usable_size mmap munmap mremap _Znwm _Znam _ZdlPv _ZdlPvm _ZnwmSt11align_val_t \
  _ZdlPvmSt11align_val_t _ZnwmRKSt9nothrow_t; do
  grep -qx "$sym" <<<"$exported" || fail "$sym is not interposed"
done
if grep -q '^_ZNSt' <<<"$exported"; then fail "libstdc++ symbols leak out"; fi

libgcc=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ && !seen++ {print $NF}')
# (the symbol lists go through variables: grep -q closing a pipe early fails under pipefail)
libgcc_syms=$(nm -D "$libgcc")
agent_syms=$(nm -D "$LIB")
grep -q ' U _dl_find_object' <<<"$libgcc_syms" || fail "$libgcc does not use _dl_find_object"
grep -q ' U _Unwind_Backtrace' <<<"$agent_syms" || fail "the agent does not unwind with libgcc_s"
echo PASS
