#!/usr/bin/env bash
# The long fault loop of issue 15: tests/failover.rs's SIGKILL test with 20 cycles (CI runs 3),
# printing each cycle's failover time; exits with the test's status.
# scripts/failover-loop.sh [cycles]
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=$(mktemp "${TMPDIR:-/tmp}/failover-loop.XXXX")
FAILOVER_CYCLES=${1:-20} cargo test --test failover master_killed_under_load -- --nocapture >"$LOG" 2>&1
status=$?
grep -E '^(cycle |[0-9]+ cycles|test result)' "$LOG"
[ $status = 0 ] || { tail -40 "$LOG"; echo "failed: full log $LOG"; }
exit $status
