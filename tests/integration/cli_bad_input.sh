#!/usr/bin/env bash
# Bad input to the offline verbs: a missing file, a directory, an empty file, text, a legacy
# text profile, truncated and corrupt gzip, truncated protobuf, random bytes, a profile that
# breaks pprof's rules. Each must give exit 1 and exactly one line on stderr,
# "leakscope: error: <file>: <what>", nothing on stdout, and never a crash, for `top` and for
# either side of `diff`. Then every 97th prefix of a real profile, raw and gzip'd: no crash
# (exit 0 or 1; 1 with one line).
set -euo pipefail
leakscope="$LEAKSCOPE_BUILD/leakscope"
good="$LEAKSCOPE_SOURCE/tests/data/cli/go_heap_1.pb.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# One invocation: expect exit 1, one stderr line that names $name, empty stdout.
expect_error() {
  local name=$1
  shift
  local rc=0
  "$leakscope" "$@" >out 2>err || rc=$?
  local lines
  lines=$(wc -l <err)
  if [[ $rc -ne 1 || $lines -ne 1 || -s out ]] || ! grep -q "^leakscope: error: .*$name" err; then
    echo "FAIL: leakscope $*: exit $rc, $lines stderr lines, stdout $(wc -c <out) bytes:"
    cat err
    exit 1
  fi
  echo "ok: $* -> $(cat err)"
}

# The cases.
mkdir a_directory
: >empty.pb.gz
printf 'hello, this is not a profile\n' >text.txt
printf 'heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1 0x2\n' >legacy_heap.txt
head -c 600 "$good" >truncated.pb.gz
zcat "$good" >raw.pb
head -c 1000 raw.pb >truncated.pb
python3 - <<'PY'
import gzip, random
good = open("raw.pb", "rb").read()
gz = bytearray(gzip.compress(good))
gz[len(gz) // 2] ^= 0xFF                     # corrupt deflate data / CRC
open("corrupt.pb.gz", "wb").write(bytes(gz))
rng = random.Random(7)
open("random.bin", "wb").write(bytes(rng.randrange(256) for _ in range(4096)))
open("gzip_of_junk.pb.gz", "wb").write(gzip.compress(b"\xff" * 64))
# Valid protobuf that breaks pprof's rules: a sample naming location 9, which does not exist.
def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out
def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload
vt = field(1, varint(1 << 3) + varint(1) + varint(2 << 3) + varint(2))  # sample_type {1, 2}
sample = field(2, varint(1 << 3) + varint(9) + varint(2 << 3) + varint(5))
strings = field(6, b"") + field(6, b"objects") + field(6, b"count")
open("dangling.pb", "wb").write(vt + sample + strings)
PY

for f in missing.pb.gz a_directory empty.pb.gz text.txt legacy_heap.txt truncated.pb.gz \
  truncated.pb corrupt.pb.gz random.bin gzip_of_junk.pb.gz dangling.pb; do
  expect_error "$f" top "$f"
  expect_error "$f" top --json "$f"
  expect_error "$f" diff "$f" "$good"
  expect_error "$f" diff --json "$good" "$f"
done
# A sample type the profile does not have: the error lists those it has.
expect_error "go_heap_1.pb.gz.*the profile has: alloc_objects" top --sample-type nope "$good"

# Prefixes: never a crash.
zcat "$good" | gzip -c >regz.pb.gz
for src in raw.pb regz.pb.gz; do
  size=$(stat -c %s "$src")
  for ((n = 0; n < size; n += 97)); do
    head -c "$n" "$src" >prefix
    rc=0
    "$leakscope" top prefix >/dev/null 2>err || rc=$?
    if [[ $rc -gt 1 || ($rc -eq 1 && $(wc -l <err) -ne 1) ]]; then
      echo "FAIL: $src prefix of $n bytes: exit $rc"
      cat err
      exit 1
    fi
  done
  echo "ok: every 97th prefix of $src ($size bytes)"
done
echo "PASS"
