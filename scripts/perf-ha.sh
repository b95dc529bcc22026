#!/usr/bin/env bash
# Replication figures of docs/performance.md: scripts/perf-ha.sh p1|catchup|lag [runs|MiB]
# Release build first: cargo build --release --bin mqbench --bin broker
#   p1 [runs]      mqbench P1 (sync sends, 64 in flight, 1 KiB) alternating between an
#                  ASYNC_MASTER alone, an ASYNC_MASTER with SLAVES slaves (default 1; nothing
#                  waits for them: the ceiling a SYNC_MASTER can reach when its slaves share the
#                  machine) and a SYNC_MASTER with SLAVES slaves; median TPS and p99 each, and
#                  both ratios to alone (W=<n> sends in flight instead of 64). The brokers
#                  of the setups not being measured are stopped (SIGSTOP) meanwhile, so each
#                  run has the machine to itself; their HA housekeeping is 10 minutes, so a
#                  stopped pair's connection outlives the pause.
#   catchup [MiB]  fill an ASYNC_MASTER with MiB (default 700) of 1 KiB messages, start an
#                  empty slave, time it until its CommitLog end equals the master's.
#   lag [runs]     P1 load on an ASYNC_MASTER with a slave; both CommitLog ends sampled every
#                  ~5 ms: how long ago the master's end was where the slave's end is (p50/p99).
# Every broker runs on free ports with a temporary store (logLevel=warn).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
MODE=${1:?p1|catchup|lag}
ARG=${2:-}
SECS=${SECS:-5}
WARM=${WARM:-10} # seconds of discarded load first: each fresh store warms its next CommitLog file early on
BIN=${BIN:-target/release} # BIN=dir with broker and mqbench, to compare two builds
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-ha.XXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  { wait; } 2>/dev/null || true # no "Killed" line per process
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME ha|- [--set k=v ...]: start a broker (`ha`: a master, wait for its HA line too); sets
# $ADDR (and $NS, $HA when printed).
start() {
  local name=$1 ha=$2; shift 2
  "$BIN/broker" --set listenAddr=127.0.0.1 --set listenPort=0 --set haListenPort=0 \
    --set "storePathRootDir=$WORK/$name" --set logLevel=warn "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  wait_ready "$WORK/$name.out" "$WORK/$name.err" "${ha#-}"
}
master() { start "$1" ha --set standalone=true --set namesrvListenPort=0 --set "brokerRole=$2" "${@:3}"; }
# slave NAME [ID]: a slave (brokerId ID, default 1) of the master started last.
slave() { start "$1" - --set logLevel=${SLAVE_LOG:-warn} ${SLAVE_SETS:-} --set "namesrvAddr=$NS" --set brokerRole=SLAVE --set "brokerId=${2:-1}" --set "haMasterAddress=$HA"; }
# slaves NAME: SLAVES slaves (default 1) of the master started last.
slaves() {
  local i ns=$NS ha=$HA
  for i in $(seq 1 "${SLAVES:-1}"); do NS=$ns HA=$ha slave "$1-$i" "$i"; done
}
bench() { "$BIN/mqbench" "$@" --json 2>/dev/null | tail -1; }
# commitLogMaxOffset from GET_BROKER_RUNTIME_INFO (28), over a plain remoting frame.
maxoff() {
  python3 - "$1" <<'PY'
import json, socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
h = json.dumps({"code": 28, "language": "JAVA", "version": 409, "opaque": 1, "flag": 0,
                "serializeTypeCurrentRPC": "JSON", "extFields": {}}).encode()
s.sendall(struct.pack(">ii", 4 + len(h), len(h)) + h)
def read(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("closed")
        b += c
    return b
total, hl = struct.unpack(">ii", read(8))
rest = read(total - 4)
body = json.loads(rest[hl & 0xFFFFFF:])
print(body["table"]["commitLogMaxOffset"])
PY
}

case $MODE in
p1)
  RUNS=${ARG:-5}
  SLAVE_SETS="${SLAVE_SETS:-} --set haHousekeepingInterval=600000"
  # The processes of each setup, to stop and continue together.
  declare -A SETUP
  n=${#PIDS[@]}; master alone ASYNC_MASTER --set haHousekeepingInterval=600000; ALONE=$ADDR
  SETUP[alone]="${PIDS[*]:n}"
  n=${#PIDS[@]}; master async ASYNC_MASTER --set haHousekeepingInterval=600000; ASYNC=$ADDR
  slaves async-slave
  SETUP[async]="${PIDS[*]:n}"
  n=${#PIDS[@]}; master sync SYNC_MASTER --set haHousekeepingInterval=600000; SYNC=$ADDR
  slaves sync-slave
  SETUP[sync]="${PIDS[*]:n}"
  # only NAME: continue NAME's processes, stop every other setup's.
  only() {
    local k
    for k in "${!SETUP[@]}"; do [ "$k" = "$1" ] || kill -STOP ${SETUP[$k]}; done
    kill -CONT ${SETUP[$1]}
  }
  for x in alone:$ALONE async:$ASYNC sync:$SYNC; do
    only "${x%%:*}"
    bench producer --broker "${x#*:}" --duration "$WARM" --timeout-ms 30000 -t P1 -w 64 --mode sync >/dev/null
  done
  for i in $(seq 1 "$RUNS"); do
    for x in alone:$ALONE async:$ASYNC sync:$SYNC; do
      only "${x%%:*}"
      r=$(bench producer --broker "${x#*:}" --duration "$SECS" -t P1 -w "${W:-64}" --mode sync)
      echo "$r" >>"$WORK/${x%%:*}.jsonl"
      echo "run $i ${x%%:*} $(echo "$r" | python3 -c 'import sys,json; d=json.load(sys.stdin); print("tps", round(d["tps"]), "p99_us", d["rt_us"]["p99_us"], "failed", d["failed"])')"
    done
  done
  print_medians "$WORK" alone async sync
  python3 - "$WORK" <<'PY'
import json, statistics, sys
m = {n: statistics.median(json.loads(l)["tps"] for l in open(f"{sys.argv[1]}/{n}.jsonl"))
     for n in ("alone", "async", "sync")}
print(f"async / alone {m['async'] / m['alone']:.3f}  sync / alone {m['sync'] / m['alone']:.3f}")
PY
  ;;
catchup)
  MIB=${ARG:-700} # ~850 MB of records: all in the first 1 GiB CommitLog file, so the empty slave replicates all
  master m ASYNC_MASTER
  bench producer --broker "$ADDR" -t CU -q 8 --mode batch -b 32 -w 8 --duration 0 \
    --count $((MIB * 1024)) --timeout-ms 30000 >/dev/null
  END=$(maxoff "$ADDR")
  T0=$(date +%s.%N)
  slave s
  for _ in $(seq 1 6000); do # the slave's end, every 50 ms, at most 5 minutes
    [ "$(maxoff "$ADDR")" = "$END" ] && break
    sleep 0.05
  done
  T1=$(date +%s.%N)
  # CPU seconds (user+system) the slave and the master spent: a figure that holds on a busy machine.
  cpu() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$1/stat"; }
  echo "cpu seconds: slave $(cpu "${PIDS[1]}"), master $(cpu "${PIDS[0]}") (master includes the fill)"
  # An empty slave starts at the master's last CommitLog file (1 GiB files).
  python3 -c "import sys; e=int(sys.argv[1]); b=e-e%(1<<30); t=float(sys.argv[3])-float(sys.argv[2]); print(f'catch-up: {e-b} bytes in {t:.2f} s (from slave start) = {(e-b)/t/1e6:.0f} MB/s')" "$END" "$T0" "$T1"
  ;;
lag)
  RUNS=${ARG:-3}
  master m ASYNC_MASTER; M=$ADDR
  slave s; S=$ADDR
  bench producer --broker "$M" --duration "$WARM" --timeout-ms 30000 -t LAG -q 8 -w 64 --mode sync >/dev/null
  for i in $(seq 1 "$RUNS"); do
    bench producer --broker "$M" --duration "$SECS" -t LAG -q 8 -w 64 --mode sync >"$WORK/p$i.json" &
    P=$!
    sleep 1
    # Sample both CommitLog ends every ~5 ms for SECS-2 seconds. The lag of a slave sample is
    # how long ago the master's end was where the slave's is now (interpolated).
    python3 - "$M" "$S" "$((SECS - 2))" <<'PY'
import bisect, json, socket, struct, sys, time
def conn(a):
    h, p = a.rsplit(":", 1); return socket.create_connection((h, int(p)), timeout=5)
def end(s):
    h = json.dumps({"code": 28, "language": "JAVA", "version": 409, "opaque": 1, "flag": 0,
                    "serializeTypeCurrentRPC": "JSON", "extFields": {}}).encode()
    s.sendall(struct.pack(">ii", 4 + len(h), len(h)) + h)
    b = b""
    while len(b) < 8: b += s.recv(8 - len(b))
    total, hl = struct.unpack(">ii", b)
    r = b""
    while len(r) < total - 4: r += s.recv(total - 4 - len(r))
    return int(json.loads(r[hl & 0xFFFFFF:])["table"]["commitLogMaxOffset"])
m, s = conn(sys.argv[1]), conn(sys.argv[2])
stop = time.monotonic() + float(sys.argv[3])
ms, ss = [], []
while time.monotonic() < stop:
    ms.append((end(m), time.monotonic())); ss.append((time.monotonic(), end(s)))
    time.sleep(0.005)
offs = [o for o, _ in ms]
lags = []
for t, o in ss:
    k = bisect.bisect_left(offs, o)          # first master sample at or past the slave's end
    lags.append(0.0 if k == 0 else max(0.0, t - ms[k][1]) * 1000 if k < len(ms) else 0.0)
lags.sort()
q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
print(f"lag samples {len(lags)}: p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {lags[-1]:.1f} ms")
PY
    wait $P
    echo "run $i producer tps $(python3 -c 'import sys,json; print(round(json.load(open(sys.argv[1]))["tps"]))' "$WORK/p$i.json")"
  done
  ;;
*) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
