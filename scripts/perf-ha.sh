#!/usr/bin/env bash
# Replication figures of docs/performance.md: scripts/perf-ha.sh p1|catchup|lag [runs|MiB]
# Release build first: cargo build --release --bin mqbench --bin broker
#   p1 [runs]      mqbench P1 (sync sends, 64 in flight, 1 KiB) alternating between an
#                  ASYNC_MASTER alone and a SYNC_MASTER with one slave; median TPS and p99 each.
#   catchup [MiB]  fill an ASYNC_MASTER with MiB (default 1024) of 1 KiB messages, start an
#                  empty slave, time it until its CommitLog end equals the master's.
#   lag [runs]     P1 load on an ASYNC_MASTER while mqbench consumes from its slave: the
#                  consumer's born->consume p99 bounds the replication lag.
# Every broker runs on free ports with a temporary store (logLevel=warn).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:?p1|catchup|lag}
ARG=${2:-}
SECS=${SECS:-5}
BIN=target/release
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-ha.XXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# start NAME [--set k=v ...]: start a broker; sets $ADDR (and $NS, $HA when printed).
start() {
  local name=$1; shift
  "$BIN/broker" --set listenAddr=127.0.0.1 --set listenPort=0 --set haListenPort=0 \
    --set "storePathRootDir=$WORK/$name" --set logLevel=warn "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 1 1200); do
    grep -q "^broker .* listening on" "$WORK/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  ADDR=$(awk '/^broker .* listening on/ {print $5}' "$WORK/$name.out")
  NS=$(awk '/^namesrv listening on/ {print $4}' "$WORK/$name.out")
  for _ in $(seq 1 100); do grep -q "^ha listening on" "$WORK/$name.out" && break; sleep 0.05; done
  HA=$(awk '/^ha listening on/ {print $4}' "$WORK/$name.out")
  [ -n "$ADDR" ] || { cat "$WORK/$name.err"; exit 1; }
}
master() { start "$1" --set standalone=true --set namesrvListenPort=0 --set "brokerRole=$2"; }
slave() { start "$1" --set "namesrvAddr=$NS" --set brokerRole=SLAVE --set brokerId=1 --set "haMasterAddress=$HA"; }
bench() { "$BIN/mqbench" "$@" --json 2>/dev/null | tail -1; }
median() { python3 -c "import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print(s.median(v), v)"; }
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
  master alone ASYNC_MASTER; ALONE=$ADDR
  master sync SYNC_MASTER; SYNC=$ADDR
  slave sync-slave
  for b in $ALONE $SYNC; do
    bench producer --broker "$b" --duration 2 --timeout-ms 30000 -t P1 -w 64 --mode sync >/dev/null
  done
  for i in $(seq 1 "$RUNS"); do
    for x in alone:$ALONE sync:$SYNC; do
      r=$(bench producer --broker "${x#*:}" --duration "$SECS" -t P1 -w 64 --mode sync)
      echo "$r" >>"$WORK/${x%%:*}.jsonl"
      echo "run $i ${x%%:*} $(echo "$r" | python3 -c 'import sys,json; d=json.load(sys.stdin); print("tps", round(d["tps"]), "p99_us", d["rt_us"]["p99"], "failed", d["failed"])')"
    done
  done
  for n in alone sync; do
    echo "$n median tps $(python3 -c 'import sys,json; print(" ".join(str(json.loads(l)["tps"]) for l in open(sys.argv[1])))' "$WORK/$n.jsonl" | median)"
    echo "$n median p99_us $(python3 -c 'import sys,json; print(" ".join(str(json.loads(l)["rt_us"]["p99"]) for l in open(sys.argv[1])))' "$WORK/$n.jsonl" | median)"
  done
  ;;
catchup)
  MIB=${ARG:-1024}
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
  python3 -c "import sys; b=int(sys.argv[1]); t=float(sys.argv[3])-float(sys.argv[2]); print(f'catch-up: {b} bytes in {t:.2f} s (from slave start) = {b/t/1e6:.0f} MB/s')" "$END" "$T0" "$T1"
  ;;
lag)
  RUNS=${ARG:-3}
  master m ASYNC_MASTER; M=$ADDR
  slave s; S=$ADDR
  bench producer --broker "$M" --duration 2 --timeout-ms 30000 -t LAG -q 8 -w 64 --mode sync >/dev/null
  for i in $(seq 1 "$RUNS"); do
    "$BIN/mqbench" consumer --broker "$S" -t LAG -g "lag$i" --from last --duration $((SECS + 2)) --json \
      2>/dev/null | tail -1 >"$WORK/c$i.json" &
    C=$!
    sleep 1
    p=$(bench producer --broker "$M" --duration "$SECS" -t LAG -q 8 -w 64 --mode sync --no-create-topic)
    wait $C
    echo "run $i producer tps $(echo "$p" | python3 -c 'import sys,json; print(round(json.load(sys.stdin)["tps"]))')" \
      "slave consumer $(python3 -c 'import sys,json; d=json.load(open(sys.argv[1])); print("consumed", d["consumed"], "born_to_consume_us", d["born_to_consume_us"])' "$WORK/c$i.json")"
  done
  ;;
*) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
