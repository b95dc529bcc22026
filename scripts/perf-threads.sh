#!/usr/bin/env bash
# Per-thread cost of P1 on a master and its slave: scripts/perf-threads.sh
# Release build first: cargo build --release --bin mqbench --bin broker
#
# Starts a master (ROLE, default SYNC_MASTER; standalone, with its own name server) and, unless
# NOSLAVE=1, one slave; discards 4 s of P1 (sync sends, 64 in flight, 1 KiB), then runs 4 s more
# and reads /proc/<pid>/task/* 0.3 s and 3.3 s into it. One line per thread that ran: its
# process (M master, S slave), name, voluntary switches (sleeps) and involuntary switches
# (preemptions) per 1,000 messages, and CPU microseconds per message (ticks of 10 ms, so
# threads that wake and sleep within a tick are under-counted). Why: a SYNC_MASTER's cost is
# in wake-ups between threads and processes, which throughput alone does not show
# (docs/performance.md).
#
# Environment: BIN (dir with broker and mqbench, default target/release), ROLE, NOSLAVE,
# MSETS / SSETS (extra `--set k=v` for the master / the slave).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
BIN=${BIN:-target/release}
ROLE=${ROLE:-SYNC_MASTER}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-threads.XXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  { wait; } 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$BIN/broker" --set listenAddr=127.0.0.1 --set listenPort=0 --set haListenPort=0 \
  --set "storePathRootDir=$WORK/m" --set logLevel=warn --set standalone=true \
  --set namesrvListenPort=0 --set "brokerRole=$ROLE" ${MSETS:-} >"$WORK/m.out" 2>"$WORK/m.err" &
PIDS+=($!)
MP=$!
wait_ready "$WORK/m.out" "$WORK/m.err" ha
M=$ADDR
SP=
if [ -z "${NOSLAVE:-}" ]; then
  # shellcheck disable=SC2086
  "$BIN/broker" --set listenAddr=127.0.0.1 --set listenPort=0 --set haListenPort=0 \
    --set "storePathRootDir=$WORK/s" --set logLevel=warn --set "namesrvAddr=$NS" \
    --set brokerRole=SLAVE --set brokerId=1 --set "haMasterAddress=$HA" ${SSETS:-} \
    >"$WORK/s.out" 2>"$WORK/s.err" &
  PIDS+=($!)
  SP=$!
  wait_ready "$WORK/s.out" "$WORK/s.err"
fi
"$BIN/mqbench" producer --broker "$M" -t P1 -w 64 --mode sync --duration 4 --quiet >/dev/null 2>&1

# snap: "pid tid name voluntary involuntary ticks" for every thread of both brokers.
snap() {
  local p t
  for p in $MP $SP; do
    for t in /proc/"$p"/task/*; do
      echo "$p ${t##*/} $(cat "$t/comm" | tr ' ' _) $(awk '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v, n}' "$t/status") $(awk '{print $14 + $15}' "$t/stat")"
    done
  done
}
"$BIN/mqbench" producer --broker "$M" -t P1 -w 64 --mode sync --duration 4 --json 2>/dev/null >"$WORK/r.json" &
BP=$!
sleep 0.3
snap >"$WORK/a"
sleep 3
snap >"$WORK/b"
wait "$BP"
python3 - "$WORK/r.json" "$WORK/a" "$WORK/b" "$MP" <<'PY'
import json, sys
tps = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["tps"]
def load(path):
    return {l.split()[1]: l.split() for l in open(path)}
a, b, master = load(sys.argv[2]), load(sys.argv[3]), sys.argv[4]
n = tps * 3  # messages between the two snapshots
print(f"tps {tps:.0f}; per 1,000 messages: sleeps, preemptions; CPU us per message")
for tid, row in sorted(b.items(), key=lambda kv: (kv[1][0] != master, int(kv[0]))):
    if tid not in a:
        continue
    v, iv, ticks = (int(row[i]) - int(a[tid][i]) for i in (3, 4, 5))
    if v or iv or ticks:
        side = "M" if row[0] == master else "S"
        print(f"{side} {tid:>8} {row[2]:<16} sleeps {v * 1000 / n:6.1f} preempted {iv * 1000 / n:5.1f} cpu {ticks * 10000 / n:5.2f}")
PY
