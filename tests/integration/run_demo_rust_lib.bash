# Shared by run_demo_rust_{leaks,fixed}.sh: the Rust demo service (examples/leaky-rust, built by
# rustc) under `leakscope run` with the agent. Sourced by them after `set -euo pipefail`; skips
# (77) unless wrk, python3 and the service are there.
source "$(dirname "${BASH_SOURCE[0]}")/../detective/lib.sh"
need wrk python3
RUST_SVC=$BUILD/examples/leaky-rust/bin/leaky-rust
[[ -x $RUST_SVC ]] || { echo "skip: $RUST_SVC not built (needs rustc)" >&2; exit 77; }

# rust_demo_run LOAD_FN: leakscope run (3 s baseline, a load, 6 s cooldown) on the service, on a
# free loopback port; the load is the command LOAD_FN prints for the service's base URL ($1).
# The run directory is $WORK/out; leakscope's exit code is left in DEMO_RC.
rust_demo_run() {
  local port
  port=$(free_port)
  DEMO_RC=0
  leakscope_rc run --baseline 3 --cooldown 6 --out "$WORK/out" \
    --load "$("$1" "http://127.0.0.1:$port")" -- "$RUST_SVC" --port "$port" || DEMO_RC=$?
}
