#!/usr/bin/env bash
# Controller-mode figures of docs/performance.md: scripts/perf-failover.sh p1|time [runs]
# Release build first: cargo build --release --bin mqbench --bin broker --bin namesrv
#   p1 [runs]    mqbench P1 (sync sends, 64 in flight, 1 KiB) alternating between an ASYNC_MASTER
#                alone and the master of a three-replica set in controller mode with
#                allAckInSyncStateSet=true (three name servers hosting the controllers); medians.
#   time [runs]  failover time with the default timers (and with the tests' timers when
#                FAST=1: heartbeat timeout 3 s, heartbeats every 300 ms, scans every 500 ms): SIGKILL the master (then SIGSTOP it, in the next run), time until the
#                name servers' route names another broker as master; the killed broker is
#                restarted and the set waits until all three are in sync again.
# Every process runs on free ports with a temporary store (logLevel=warn).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
MODE=${1:?p1|time}
RUNS=${2:-5}
SECS=${SECS:-5}
WARM=${WARM:-10}
BIN=${BIN:-target/release}
for b in broker namesrv mqbench; do
  [ -x "$BIN/$b" ] || { echo "$BIN/$b is missing: build it (see the top of this script)" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-failover.XXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  { wait; } 2>/dev/null || true # no "Killed" line per process
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; echo "logs kept in $WORK"' EXIT
TEST_TIMERS=(--set controllerHeartBeatTimeoutMills=3000 --set brokerHeartbeatInterval=300
  --set syncBrokerMetadataPeriod=1000 --set checkSyncStateSetPeriod=1000)

# Nine free ports: three name servers, their three Raft ports, three brokers.
read -r -a P <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(12)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
NSL="127.0.0.1:${P[0]};127.0.0.1:${P[1]};127.0.0.1:${P[2]}"
PEERS="n0-127.0.0.1:${P[3]};n1-127.0.0.1:${P[4]};n2-127.0.0.1:${P[5]}"
declare -A BPID

namesrv() { # namesrv I
  local sets=()
  [ "${FAST:-}" = 1 ] && sets=(--set scanNotActiveBrokerInterval=500)
  "$BIN/namesrv" "${sets[@]}" --set listenAddr=127.0.0.1 --set "listenPort=${P[$1]}" --set kvConfigPath= \
    --set enableControllerInNamesrv=true --set controllerDLegerGroup=perf \
    --set "controllerDLegerPeers=$PEERS" --set "controllerDLegerSelfId=n$1" \
    --set "controllerStorePath=$WORK/ctl$1" --set logLevel=warn >"$WORK/ns$1.out" 2>"$WORK/ns$1.err" &
  PIDS+=($!)
}
replica() { # replica I: a controller-mode broker of broker-a
  local sets=()
  [ "${FAST:-}" = 1 ] && sets=("${TEST_TIMERS[@]}")
  "$BIN/broker" --set listenAddr=127.0.0.1 --set "listenPort=${P[$((6 + $1))]}" \
    --set "haListenPort=${P[$((9 + $1))]}" --set "storePathRootDir=$WORK/b$1" \
    --set brokerName=broker-a --set enableControllerMode=true --set allAckInSyncStateSet=true \
    --set "controllerAddr=$NSL" --set "namesrvAddr=$NSL" --set "logLevel=${LOG:-warn}" "${sets[@]}" \
    >>"$WORK/b$1.out" 2>>"$WORK/b$1.err" &
  PIDS+=($!)
  BPID[$1]=$!
}
# ask CODE K=V...: send one request (ext fields K=V) to each name server in turn and print the
# body of the first SUCCESS answer ("" if none).
ask() {
  python3 - "$NSL" "$@" <<'PY'
import json, socket, struct, sys
code, ext = int(sys.argv[2]), dict(a.split("=", 1) for a in sys.argv[3:])
for ns in sys.argv[1].split(";"):
    try:
        host, port = ns.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=1)
        h = json.dumps({"code": code, "language": "JAVA", "version": 409, "opaque": 1, "flag": 0,
                        "serializeTypeCurrentRPC": "JSON", "extFields": ext}).encode()
        s.sendall(struct.pack(">ii", 4 + len(h), len(h)) + h)
        b = b""
        while len(b) < 4 or len(b) < 4 + struct.unpack(">i", b[:4])[0]:
            c = s.recv(65536)
            if not c: raise OSError("closed")
            b += c
        hl = struct.unpack(">i", b[4:8])[0] & 0xFFFFFF
        if json.loads(b[8:8 + hl]).get("code") == 0:
            print(b[8 + hl:].decode()); sys.exit(0)
    except OSError:
        pass
PY
}
# The master of broker-a in the route of TBW102 ("" if none).
route_master() {
  ask 105 topic=TBW102 acceptStandardJsonOnly=true | python3 -c '
import json, sys
t = sys.stdin.read().strip()
for bd in (json.loads(t).get("brokerDatas", []) if t else []):
    if bd["brokerName"] == "broker-a" and "0" in bd["brokerAddrs"]: print(bd["brokerAddrs"]["0"])'
}
# wait_in_sync: wait (at most 120 s) until the SyncStateSet of broker-a has all three replicas (an
# election picks only from it).
wait_in_sync() {
  for _ in $(seq 1 1200); do
    n=$(ask 1004 brokerName=broker-a | python3 -c '
import json, sys
t = sys.stdin.read().strip()
print(len(json.loads(t).get("syncStateSet", [])) if t else 0)')
    [ "$n" = 3 ] && return
    sleep 0.1
  done
  echo "the SyncStateSet never reached 3" >&2; exit 1
}
wait_master() { # wait_master [NOT]: the master's address (at most 120 s), other than NOT
  for _ in $(seq 1 2400); do
    m=$(route_master)
    [ -n "$m" ] && [ "$m" != "${1:-}" ] && { echo "$m"; return; }
    sleep 0.05
  done
  echo "no master within 120 s" >&2; tail -5 "$WORK"/*.err >&2; exit 1
}
index_of() { for i in 0 1 2; do if [ "127.0.0.1:${P[$((6 + i))]}" = "$1" ]; then echo "$i"; fi; done; }
bench() { "$BIN/mqbench" "$@" --json 2>/dev/null | tail -1; }

for i in 0 1 2; do namesrv "$i"; done
for i in 0 1 2; do replica "$i"; done
M=$(wait_master)
wait_in_sync
echo "controller-mode master: $M"

case $MODE in
p1)
  "$BIN/broker" --set listenAddr=127.0.0.1 --set listenPort=0 --set standalone=true \
    --set namesrvListenPort=0 --set "storePathRootDir=$WORK/alone" --set logLevel=warn \
    >"$WORK/alone.out" 2>"$WORK/alone.err" &
  PIDS+=($!)
  wait_ready "$WORK/alone.out" "$WORK/alone.err"
  ALONE=$ADDR
  for b in $ALONE $M; do
    bench producer --broker "$b" --duration "$WARM" --timeout-ms 30000 -t P1 -w 64 --mode sync >/dev/null
  done
  for i in $(seq 1 "$RUNS"); do
    for x in alone:$ALONE set3:$M; do
      r=$(bench producer --broker "${x#*:}" --duration "$SECS" -t P1 -w 64 --mode sync)
      echo "$r" >>"$WORK/${x%%:*}.jsonl"
      echo "run $i ${x%%:*} $(run_line "$r")"
    done
  done
  print_medians "$WORK" alone set3
  ;;
time)
  for i in $(seq 1 "$RUNS"); do
    M=$(wait_master)
    k=$(index_of "$M")
    sig=KILL
    [ $((i % 2)) = 0 ] && sig=STOP
    t0=$(date +%s.%N)
    kill -$sig "${BPID[$k]}"
    N=$(wait_master "$M")
    t1=$(date +%s.%N)
    echo "run $i SIG$sig master $M -> $N in $(python3 -c "print(round($t1 - $t0, 2))") s"
    kill -9 "${BPID[$k]}" 2>/dev/null || true
    { wait "${BPID[$k]}"; } 2>/dev/null || true
    sleep 0.5
    replica "$k"
    wait_in_sync # the restarted broker rejoins and catches up before the next kill
  done
  ;;
esac
