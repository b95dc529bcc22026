#!/usr/bin/env bash
# Reproduce the figures of docs/performance.md: scripts/perf-scenarios.sh P1|P2|P3|P4|P5|P6|P7 [runs]
# Release build first: cargo build --release --bin mqbench --bin broker (BIN=target/debug for a
# quick check of the script itself; SECS = seconds per run, default 5).
# Each scenario starts its own standalone broker (port 0, temp store dir), warms it up with a
# discarded 2 s run, then runs the measurement `runs` times (default 5) and prints one JSON
# summary line per run to results/<scenario>.jsonl plus a median.
#
# P1, P2 and P5 also start a null broker (`mqbench null-broker`: answers sends and pulls without
# storing anything, see docs/performance.md) and run the same load against it, interleaved: for
# each run, one against the broker, then one against the null broker (summaries in
# results/<scenario>-null.jsonl). After the median line they print, per figure (P1 and P5: tps;
# P2: mib_per_sec and tps):
#   median broker FIELD M [values]   the broker's median and its runs
#   median null FIELD M [values]     the null broker's, measured in the same invocation
#   ratio FIELD R                    broker median / null median: the machine-independent figure
# Extra options for the null broker: NULL_ARGS="--threads 2".
# P3 (SYNC_FLUSH) takes W= the sends in flight (default 64; issue 16 measures W=256).
# P5 takes N= the backlog (default 1 M) and Q= its queues (default 1; issue 16's 4-queue
# catch-up: Q=4 N=2000000).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
SCEN=${1:?scenario P1..P7}
RUNS=${2:-5}
SECS=${SECS:-5}
BIN=${BIN:-target/release}
NULL_ARGS=${NULL_ARGS:-}
OUT=${OUT:-results}
BROKER_SETS=${BROKER_SETS:-}
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mqbench.XXXX")
BROKER_PID=
NULL_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null || true
  [ -n "$NULL_PID" ] && kill -9 "$NULL_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_broker [--set k=v ...]: sets NS, BROKER, BROKER_PID, reusing $WORK/store.
# Extra broker settings for any scenario: BROKER_SETS="--set warmMappedFileEnable=false".
start_broker() {
  # shellcheck disable=SC2086
  "$BIN/broker" --set standalone=true --set listenAddr=127.0.0.1 --set listenPort=0 \
    --set namesrvListenPort=0 --set "storePathRootDir=$WORK/store" --set logLevel=warn $BROKER_SETS "$@" \
    >"$WORK/broker.out" 2>"$WORK/broker.err" &
  BROKER_PID=$!
  wait_ready "$WORK/broker.out" "$WORK/broker.err"
  BROKER=$ADDR
}
# start_null: start `mqbench null-broker` on a free port; sets NULL (its address) and NULL_PID.
start_null() {
  # shellcheck disable=SC2086
  "$BIN/mqbench" null-broker --listen 127.0.0.1:0 $NULL_ARGS >"$WORK/null.out" 2>"$WORK/null.err" &
  NULL_PID=$!
  wait_ready "$WORK/null.out" "$WORK/null.err"
  NULL=$ADDR
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }
bench() { "$BIN/mqbench" "$@" --json 2>/dev/null; }
field() { python3 -c "import sys,json; d=json.loads(sys.stdin.readline()); print(eval('d'+sys.argv[1]))" "$1"; }

run_producer() { # name jsonfield mqbench-producer-args...
  local name=$1 f=$2; shift 2
  # Warm-up, discarded. The long timeout rides out the first send on a fresh store, which waits
  # for the first CommitLog file to be created and warmed (seconds, see docs/performance.md).
  bench producer --broker "$BROKER" --duration 2 --timeout-ms 30000 "$@" >/dev/null
  : >"$OUT/$name.jsonl"
  for _ in $(seq 1 "$RUNS"); do
    bench producer --broker "$BROKER" --duration "$SECS" "$@" >>"$OUT/$name.jsonl"
    tail -1 "$OUT/$name.jsonl" | field "$f"
  done | median
}

# ratio_lines NAME FIELD...: for each top-level FIELD of the summaries in $OUT/NAME.jsonl (broker)
# and $OUT/NAME-null.jsonl (null broker): both medians and their ratio (see the header).
ratio_lines() {
  local name=$1 f b n
  shift
  for f in "$@"; do
    b=$(python3 -c 'import sys,json; print(" ".join(str(json.loads(l)[sys.argv[2]]) for l in open(sys.argv[1])))' "$OUT/$name.jsonl" "$f" | median)
    n=$(python3 -c 'import sys,json; print(" ".join(str(json.loads(l)[sys.argv[2]]) for l in open(sys.argv[1])))' "$OUT/$name-null.jsonl" "$f" | median)
    echo "median broker $f $b"
    echo "median null $f $n"
    echo "ratio $f $(python3 -c 'import sys; b, n = float(sys.argv[1]), float(sys.argv[2]); print(round(b / n, 3) if n else "inf")' "${b%% *}" "${n%% *}")"
  done
}

run_producer_vs_null() { # name jsonfield ratio-fields mqbench-producer-args...
  local name=$1 f=$2 fields=$3; shift 3
  # Warm-up of the broker, discarded (see run_producer); the null broker has nothing to warm.
  bench producer --broker "$BROKER" --duration 2 --timeout-ms 30000 "$@" >/dev/null
  : >"$OUT/$name.jsonl"
  : >"$OUT/$name-null.jsonl"
  for _ in $(seq 1 "$RUNS"); do
    bench producer --broker "$BROKER" --duration "$SECS" "$@" >>"$OUT/$name.jsonl"
    bench producer --broker "$NULL" --duration "$SECS" "$@" >>"$OUT/$name-null.jsonl"
    tail -1 "$OUT/$name.jsonl" | field "$f"
  done | median
  # shellcheck disable=SC2086
  ratio_lines "$name" $fields
}

case $SCEN in
P1) start_broker; start_null
    run_producer_vs_null P1 "['tps']" tps -t P1 -w 64 --mode sync ;;
P2) start_broker; start_null
    run_producer_vs_null P2 "['mib_per_sec']" "mib_per_sec tps" -t P2 -w 8 --mode batch -b 32 ;;
P3) start_broker --set flushDiskType=SYNC_FLUSH
    run_producer P3 "['tps']" -t P3 -w "${W:-64}" --mode sync
    echo "p99 us:"; for l in $(seq 1 "$RUNS"); do sed -n "${l}p" "$OUT/P3.jsonl" | field "['rt_us']['p99_us']"; done | median ;;
P4) start_broker
    bench producer --broker "$BROKER" -t P4 --duration 2 -w 8 --timeout-ms 30000 >/dev/null
    : >"$OUT/P4.jsonl"
    for _ in $(seq 1 "$RUNS"); do
      bench consumer --broker "$BROKER" -t P4 -q 4 --from last --duration $((SECS + 2)) >"$WORK/c.json" &
      CPID=$!; sleep 1
      bench producer --broker "$BROKER" -t P4 --no-create-topic -q 4 --duration "$SECS" -w 16 --rate 10000 >/dev/null
      wait $CPID; cat "$WORK/c.json" >>"$OUT/P4.jsonl"
      field "['born_to_consume_us']['p99_us']" <"$WORK/c.json"
    done | median ;;
P5) N=${N:-1000000}; start_broker; start_null
    Q=${Q:-1}
    bench producer --broker "$BROKER" -t P5 -q "$Q" --mode batch -b 32 -w 8 --duration 0 --count "$N" --timeout-ms 30000 >"$OUT/P5-fill.json"
    echo "backlog: $(field "['sent']" <"$OUT/P5-fill.json") messages, broker RSS $(rss_kb $BROKER_PID) kB, anon $(anon_kb $BROKER_PID) kB" >&2
    N=$(field "['sent']" <"$OUT/P5-fill.json")   # what was acknowledged (a few batches may fail)
    : >"$OUT/P5.jsonl"
    : >"$OUT/P5-null.jsonl"
    for _ in $(seq 1 "$RUNS"); do
      # Peak RSS and peak anonymous RSS (RSS also counts the CommitLog pages the mmap touched).
      ( peak=0; pa=0; while kill -0 $BROKER_PID 2>/dev/null; do r=$(rss_kb $BROKER_PID); a=$(anon_kb $BROKER_PID)
          [ "$r" -gt "$peak" ] && peak=$r; [ "$a" -gt "$pa" ] && pa=$a; echo "$peak kB, anon $pa kB" >"$WORK/peak"; sleep 0.2; done ) & MON=$!
      bench consumer --broker "$BROKER" -t P5 -q "$Q" --from first --duration 0 --count "$N" --idle-exit 10 >>"$OUT/P5.jsonl"
      kill $MON 2>/dev/null || true
      echo "tps $(tail -1 "$OUT/P5.jsonl" | field "['tps']") peak RSS $(cat "$WORK/peak")" >&2
      # The same catch-up read of N messages from the null broker (which never runs dry).
      bench consumer --broker "$NULL" -t P5 -q "$Q" --from first --duration 0 --count "$N" --idle-exit 10 >>"$OUT/P5-null.jsonl"
      tail -1 "$OUT/P5.jsonl" | field "['tps']"
    done | median
    ratio_lines P5 tps ;;
P6) N=${N:-1100000}; start_broker
    bench producer --broker "$BROKER" -t P6 -q 4 --mode batch -b 32 -w 8 --duration 0 --count "$N" --timeout-ms 30000 >/dev/null
    du -sh "$WORK/store/commitlog" >&2
    : >"$WORK/vals"
    for _ in $(seq 1 "$RUNS"); do   # not in a pipeline: BROKER_PID must stay visible to cleanup
      # The clock starts once the killed process is reaped (its mappings torn down).
      kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
      t0=$(date +%s.%N); start_broker; t1=$(date +%s.%N)
      bench producer --broker "$BROKER" -t P6 --no-create-topic -q 4 -w 1 --duration 0 --count 1 --timeout-ms 10000 >/dev/null
      t2=$(date +%s.%N)
      echo "listening after $(echo "$t1 - $t0" | bc) s, first send acked after $(echo "$t2 - $t0" | bc) s" >&2
      echo "$t2 - $t0" | bc >>"$WORK/vals"
    done
    median <"$WORK/vals" ;;
P7) : >"$WORK/vals"
    for _ in $(seq 1 "$RUNS"); do
      rm -rf "$WORK/store"; start_broker; sleep 5; rss_kb "$BROKER_PID" >>"$WORK/vals"
      kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true; BROKER_PID=
    done
    median <"$WORK/vals" ;;
*) echo "unknown scenario $SCEN" >&2; exit 2 ;;
esac
