#!/usr/bin/env bash
# Issue 12 figures of docs/performance.md: scripts/perf-tx.sh [runs]
# Release build first: cargo build --release --bin mqbench --bin broker (or BIN=<dir> of both)
# One fresh standalone release broker (free ports, temporary store, logLevel=warn,
# --set traceTopicEnable=true), warmed with a discarded WARM-second P1 run; then RUNS rounds
# (default 5) of SECS-second runs (default 5), alternating:
#   p1     mqbench producer -t P1 -w 64 --mode sync
#   tx     mqbench producer -t PT -w 64 --mode sync --transaction   (TPS/RT of the half sends)
#   trace  mqbench producer -t P1 -w 64 --mode sync --trace         (Pub records via the namesrv)
# Prints every run and the medians (TPS and p99), and trace cost = 1 - trace/p1 of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
RUNS=${1:-5}
SECS=${SECS:-5}
WARM=${WARM:-10}
BIN=${BIN:-target/release}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-tx.XXXX")
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN/broker" --set standalone=true --set listenAddr=127.0.0.1 --set listenPort=0 \
  --set namesrvListenPort=0 --set haListenPort=0 --set "storePathRootDir=$WORK/store" \
  --set logLevel=warn --set traceTopicEnable=true >"$WORK/broker.out" 2>"$WORK/broker.err" &
PID=$!
wait_ready "$WORK/broker.out" "$WORK/broker.err"
echo "broker pid $PID, namesrv $NS"

bench() { "$BIN/mqbench" producer -n "$NS" -w 64 --mode sync "$@" --json 2>"$WORK/last.err" | tail -1; }

bench -t P1 --duration "$WARM" --timeout-ms 30000 >/dev/null
for i in $(seq 1 "$RUNS"); do
  for x in "p1:-t P1" "tx:-t PT --transaction" "trace:-t P1 --trace"; do
    name=${x%%:*}
    # shellcheck disable=SC2086
    r=$(bench ${x#*:} --duration "$SECS")
    echo "$r" >>"$WORK/$name.jsonl"
    extra=$(grep -hE "^(transaction|trace):" "$WORK/last.err" || true)
    echo "run $i $name $(run_line "$r") $extra"
  done
done
print_medians "$WORK" p1 tx trace
python3 - "$WORK" <<'PY'
import json, statistics as s, sys
m = {n: s.median(json.loads(l)["tps"] for l in open(f"{sys.argv[1]}/{n}.jsonl")) for n in ("p1", "tx", "trace")}
print(f"trace cost {100 * (1 - m['trace'] / m['p1']):.1f} % of P1 (goal <= 15 %); tx/p1 {100 * m['tx'] / m['p1']:.1f} %")
PY
