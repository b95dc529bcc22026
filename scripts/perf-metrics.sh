#!/usr/bin/env bash
# Issue 13's metrics cost (docs/performance.md): scripts/perf-metrics.sh [runs]
# Release build first: cargo build --release --bin mqbench --bin broker
# Two fresh standalone release brokers on free ports with temporary stores: one with
# metricsExporterType=DISABLE, one with PROM (its /metrics scraped every second during its runs,
# far more often than Prometheus would). Each is warmed with a discarded WARM-second P1 run, then
# RUNS rounds (default 5) alternate SECS-second P1 runs (mqbench producer -t P1 -w 64 --mode sync)
# between them. Prints every run, the medians and the cost = 1 - prom/off of the medians.
# BASE_BIN=path/to/broker: the "off" broker is that build instead, started without the metrics
# keys (a build from before the metrics existed: the cost of the counting as well).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
RUNS=${1:-5}
SECS=${SECS:-5}
WARM=${WARM:-10}
BIN=${BIN:-target/release}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-metrics.XXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# start NAME TYPE: a standalone broker with metricsExporterType=TYPE; sets ADDR (and METRICS).
start() {
  local bin=$BIN/broker metrics=(--set "metricsExporterType=$2" --set metricsPromExporterHost=127.0.0.1 --set metricsPromExporterPort=0)
  if [ "$2" = DISABLE ] && [ -n "${BASE_BIN:-}" ]; then bin=$BASE_BIN metrics=(); fi
  "$bin" --set standalone=true --set listenAddr=127.0.0.1 --set listenPort=0 \
    --set namesrvListenPort=0 --set "storePathRootDir=$WORK/$1" --set logLevel=warn \
    "${metrics[@]}" >"$WORK/$1.out" 2>"$WORK/$1.err" &
  PIDS+=($!)
  wait_ready "$WORK/$1.out" "$WORK/$1.err"
  METRICS=$(awk '/^metrics listening on/ {print $4}' "$WORK/$1.out")
}
start off DISABLE; OFF=$ADDR
start prom PROM; PROM=$ADDR
[ -n "$METRICS" ] || { echo "the PROM broker printed no metrics line" >&2; exit 1; }
bench() { "$BIN/mqbench" producer --broker "$1" -t P1 -w 64 --mode sync --json "${@:2}" 2>/dev/null | tail -1; }
# scrape_loop: GET /metrics once a second until killed; counts the scrapes that answered.
scrape_loop() {
  while true; do
    curl -sf "http://$METRICS/metrics" -o /dev/null && echo ok >>"$WORK/scrapes"
    sleep 1
  done
}

for b in $OFF $PROM; do bench "$b" --duration "$WARM" --timeout-ms 30000 >/dev/null; done
for i in $(seq 1 "$RUNS"); do
  for x in off:$OFF prom:$PROM; do
    name=${x%%:*}
    SCRAPER=
    if [ "$name" = prom ]; then scrape_loop & SCRAPER=$!; fi
    r=$(bench "${x#*:}" --duration "$SECS")
    [ -n "$SCRAPER" ] && kill "$SCRAPER" 2>/dev/null && wait "$SCRAPER" 2>/dev/null || true
    echo "$r" >>"$WORK/$name.jsonl"
    echo "run $i $name $(run_line "$r")"
  done
done
echo "scrapes answered: $(wc -l <"$WORK/scrapes" 2>/dev/null || echo 0)"
print_medians "$WORK" off prom
python3 - "$WORK" <<'PY'
import json, statistics as s, sys
m = {n: s.median(json.loads(l)["tps"] for l in open(f"{sys.argv[1]}/{n}.jsonl")) for n in ("off", "prom")}
print(f"metrics cost {100 * (1 - m['prom'] / m['off']):.1f} % of P1 (goal <= 3 %)")
PY
