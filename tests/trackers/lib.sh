# The tracker scripts' name for the agent tests' shared library (tests/agent/lib.sh): one set of
# helpers and one way of stopping children for every script that runs a program under the agent.
# shellcheck source=../agent/lib.sh
source "${LEAKSCOPE_SOURCE:?set by ctest}/tests/agent/lib.sh"
