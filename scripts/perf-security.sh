#!/usr/bin/env bash
# Issue 14's cost of ACL and TLS (docs/performance.md): scripts/perf-security.sh [runs]
# Release build first: cargo build --release --bin mqbench --bin broker (or BIN=<dir> of both)
# Three fresh standalone release brokers on free ports with temporary stores: plain, ACL on
# (aclEnable=true, every request signed by mqbench with --access-key/--secret-key and checked by
# the broker), and TLS enforcing (a CA and a server certificate made here with openssl; mqbench
# --tls-ca). Each is warmed with a discarded WARM-second P1 run, then RUNS rounds (default 5)
# alternate SECS-second P1 runs (mqbench producer -t P1 -w 64 --mode sync --broker ADDR) between
# them. Prints every run, the medians, and the costs 1 - acl/plain and 1 - tls/plain; also each
# broker's own CPU time per message (utime + stime from /proc over the run), which shows the
# broker's share of the cost apart from mqbench's signing on the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
RUNS=${1:-5}
SECS=${SECS:-5}
WARM=${WARM:-10}
BIN=${BIN:-target/release}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-security.XXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

AK=benchAdmin1 SK=benchSecret1
cat >"$WORK/acl.yml" <<YML
accounts:
  - accessKey: $AK
    secretKey: $SK
    admin: true
YML
T=$WORK/tls
mkdir -p "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 -copy_extensions copy -out "$T/server.pem" 2>/dev/null

declare -A BPID
TCK=$(getconf CLK_TCK)
# CPU ticks (user + system) of process $1 so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# start NAME SETTINGS...: a standalone broker with extra --set SETTINGS; sets ADDR.
start() {
  local name=$1 sets=()
  shift
  for s in "$@"; do sets+=(--set "$s"); done
  "$BIN/broker" --set standalone=true --set listenAddr=127.0.0.1 --set listenPort=0 \
    --set namesrvListenPort=0 --set haListenPort=0 --set "storePathRootDir=$WORK/$name" \
    --set logLevel=warn "${sets[@]}" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  BPID[$name]=$!
  wait_ready "$WORK/$name.out" "$WORK/$name.err"
}
start plain; PLAIN=$ADDR
start acl aclEnable=true "plainAclFile=$WORK/acl.yml" "accessKey=$AK" "secretKey=$SK"; ACL=$ADDR
start tls tlsMode=enforcing "tlsServerCertPath=$T/server.pem" "tlsServerKeyPath=$T/server.key" \
  tlsEnable=true "tlsClientTrustCertPath=$T/ca.pem"; TLS=$ADDR

# bench NAME ARGS...: one P1 run against broker NAME, with the options its security needs.
bench() {
  local name=$1 addr opts=()
  shift
  case $name in
    plain) addr=$PLAIN ;;
    acl) addr=$ACL opts=(--access-key "$AK" --secret-key "$SK") ;;
    tls) addr=$TLS opts=(--tls-ca "$T/ca.pem") ;;
  esac
  "$BIN/mqbench" producer --broker "$addr" -t P1 -w 64 --mode sync --json "${opts[@]}" "$@" 2>"$WORK/last.err" | tail -1
}

for n in plain acl tls; do bench $n --duration "$WARM" --timeout-ms 30000 >/dev/null; done
for i in $(seq 1 "$RUNS"); do
  for n in plain acl tls; do
    t0=$(ticks "${BPID[$n]}")
    r=$(bench $n --duration "$SECS")
    t1=$(ticks "${BPID[$n]}")
    echo "$r" >>"$WORK/$n.jsonl"
    cpu=$(echo "$r" | python3 -c "import sys,json; print(round(($t1 - $t0) * 1e6 / $TCK / json.load(sys.stdin)['sent'], 2))")
    echo "$cpu" >>"$WORK/$n.cpu"
    echo "run $i $n $(run_line "$r") broker_cpu_us_per_msg $cpu"
  done
done
print_medians "$WORK" plain acl tls
python3 - "$WORK" <<'PY'
import json, statistics as s, sys
m = {n: s.median(json.loads(l)["tps"] for l in open(f"{sys.argv[1]}/{n}.jsonl")) for n in ("plain", "acl", "tls")}
print(f"ACL cost {100 * (1 - m['acl'] / m['plain']):.1f} % of P1 (goal <= 10 %); TLS cost {100 * (1 - m['tls'] / m['plain']):.1f} %")
c = {n: s.median(float(l) for l in open(f"{sys.argv[1]}/{n}.cpu")) for n in ("plain", "acl", "tls")}
print(f"broker CPU per message: plain {c['plain']} us, ACL {c['acl']} us (+{100 * (c['acl'] / c['plain'] - 1):.1f} %), TLS {c['tls']} us (+{100 * (c['tls'] / c['plain'] - 1):.1f} %)")
PY
