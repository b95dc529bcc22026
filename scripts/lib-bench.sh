# Shared by the benchmark scripts (sourced, not run).

# wait_ready OUT ERR [ha]: wait (at most 60 s) for a broker's ready line in OUT (`broker NAME
# listening on ADDR`, or `null-broker listening on ADDR` from `mqbench null-broker`; with `ha`,
# also for its HA line), then set ADDR (the broker), NS (its embedded name server, if any) and HA
# (its HA listener, if printed). Prints ERR and exits when the broker never got ready.
wait_ready() {
  local out=$1 err=$2 want_ha=${3:-}
  for _ in $(seq 1 1200); do
    grep -Eq "^(broker .*|null-broker) listening on" "$out" 2>/dev/null && break
    sleep 0.05
  done
  ADDR=$(awk '/^(broker .*|null-broker) listening on/ {print $NF}' "$out")
  NS=$(awk '/^namesrv listening on/ {print $4}' "$out")
  if [ -n "$want_ha" ]; then
    for _ in $(seq 1 100); do grep -q "^ha listening on" "$out" && break; sleep 0.05; done
  fi
  HA=$(awk '/^ha listening on/ {print $4}' "$out")
  [ -n "$ADDR" ] || { cat "$err"; exit 1; }
}

# median: the median of the numbers on stdin, then the numbers.
median() { python3 -c "import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print(s.median(v), v)"; }

# run_line JSON: "tps N p50_us N p99_us N sent N failed N" of one `mqbench --json` summary.
run_line() {
  echo "$1" | python3 -c 'import sys,json; d=json.load(sys.stdin); r=d["rt_us"]; print("tps", round(d["tps"]), "p50_us", r["p50_us"], "p99_us", r["p99_us"], "sent", d["sent"], "failed", d["failed"])'
}

# print_medians DIR NAME...: the median TPS and p99 of the runs kept in DIR/NAME.jsonl (one
# `mqbench --json` summary per line), for each NAME.
print_medians() {
  local dir=$1 n
  shift
  for n in "$@"; do
    echo "$n median tps $(python3 -c 'import sys,json; print(" ".join(str(json.loads(l)["tps"]) for l in open(sys.argv[1])))' "$dir/$n.jsonl" | median)"
    echo "$n median p99_us $(python3 -c 'import sys,json; print(" ".join(str(json.loads(l)["rt_us"]["p99_us"]) for l in open(sys.argv[1])))' "$dir/$n.jsonl" | median)"
  done
}

# MEMCG=MiB (optional, root only): run this script and everything it starts in a memory cgroup
# of that size, `actormq-bench` under the current one (cgroup v1 or v2), so the page cache is
# recycled as on a broker that has run long enough to fill the machine's memory. Why: on a VM
# whose host takes freed memory back (virtio-balloon free page reporting, as on our benchmark
# machine), every page the kernel hands out fresh costs ~7x more to touch the first time (~2.7 ms
# per MiB here), so a fresh store on a machine with free memory measures the hypervisor, not
# the broker: P2 364 vs 525 MiB/s in the same minutes (docs/performance.md). Unset: no change.
enter_memcg() {
  local mib=$1 rel base dir
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then # v2
    rel=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
    dir=/sys/fs/cgroup${rel%/}/actormq-bench
    mkdir -p "$dir" && echo $((mib << 20)) >"$dir/memory.max"
  else # v1
    rel=$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup)
    base=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ {print $2; exit}' /proc/mounts)
    dir=${base:-/sys/fs/cgroup/memory}${rel%/}/actormq-bench
    mkdir -p "$dir" && echo $((mib << 20)) >"$dir/memory.limit_in_bytes"
  fi || { echo "MEMCG: cannot make a memory cgroup at $dir (root and a memory controller needed)" >&2; exit 1; }
  echo $$ >"$dir/cgroup.procs"
  echo "MEMCG: this run is limited to $mib MiB of memory ($dir)" >&2
}
if [ -n "${MEMCG:-}" ]; then enter_memcg "$MEMCG"; fi
