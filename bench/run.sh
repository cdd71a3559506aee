#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD_DIR: end-to-end replay throughput and the engine micro-benchmark.
#   1. builds nfm-xdp, gen_pcap and engine_bench (the last two are EXCLUDE_FROM_ALL);
#   2. writes a synthetic pcap (bench/replay/gen_pcap, NFM_BENCH_PACKETS packets, ~100k
#      concurrent flows) into a temporary directory (deleted on exit, never committed);
#   3. runs `nfm-xdp --pcap big.pcap --csv /dev/null -q` NFM_BENCH_RUNS times per profile and
#      prints the median wall time and packets/s;
#   4. the same on the largest real capture (NFM_BENCH_REAL, default
#      ../shared/pcaps/ppp_example.pcap beside the checkout) looped NFM_BENCH_LOOPS times, when present;
#   5. engine_bench (FlowEngine alone), median of NFM_BENCH_REPS repetitions.
# Environment: NFM_BENCH_PACKETS (5000000), NFM_BENCH_RUNS (5), NFM_BENCH_REAL,
# NFM_BENCH_LOOPS (400), NFM_BENCH_REPS (5), NFM_BENCH_ENGINE (1; 0 skips step 5),
# NFM_BENCH_PROFILES (replay profiles; default "corrected nfm2022 cic"),
# NFM_BENCH_FILTER (engine_bench cases; default the three 100k-flow prefetch cases and the two real-captures cases, "." = all),
# NFM_BENCH_TMP (parent of the temp dir; default $TMPDIR or /tmp; needs ~4 GB free),
# JOBS (2).
# Shared machines: results are medians; check `uptime` and rerun when the load is high.
set -euo pipefail

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PACKETS=${NFM_BENCH_PACKETS:-5000000}
RUNS=${NFM_BENCH_RUNS:-5}
REAL=${NFM_BENCH_REAL:-$(cd "$(dirname "$0")/.." && pwd)/../shared/pcaps/ppp_example.pcap}
LOOPS=${NFM_BENCH_LOOPS:-400}
REPS=${NFM_BENCH_REPS:-5}
JOBS=${JOBS:-2}

if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNFM_WITH_BPF=OFF >/dev/null
fi
targets=(nfm-xdp gen_pcap)
if [[ "${NFM_BENCH_ENGINE:-1}" != 0 ]] && grep -q '^benchmark_DIR:PATH=/' "$BUILD/CMakeCache.txt"; then
  targets+=(engine_bench)
fi
cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" -- --no-print-directory -s >/dev/null

NFM=$BUILD/nfm-xdp
TMP=$(mktemp -d "${NFM_BENCH_TMP:-${TMPDIR:-/tmp}}/nfm-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "== machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== build: $BUILD ($(grep -m1 '^CMAKE_BUILD_TYPE:' "$BUILD/CMakeCache.txt" | cut -d= -f2))"
echo "== load: $(uptime | sed 's/.*load average/load average/')"

# median_time FILE PROFILE: runs nfm-xdp RUNS times; prints the medians of wall time and of
# CPU time (user+sys; on a shared machine wall time includes waiting for a core).
median_time() {
  local f=$1 profile=$2 rc
  : >"$TMP/times"
  for ((i = 0; i < RUNS; i++)); do
    rc=0
    /usr/bin/time -f '%e %U %S' -o "$TMP/t1" "$NFM" --pcap "$f" --csv /dev/null --profile "$profile" -q || rc=$?
    if [[ $rc != 0 ]]; then echo "nfm-xdp failed on $f (exit $rc)" >&2; exit 1; fi
    tail -1 "$TMP/t1" >>"$TMP/times"
  done
  local w c
  w=$(cut -d' ' -f1 "$TMP/times" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f", a[int((NR+1)/2)], a[1], a[NR]}')
  c=$(awk '{print $2+$3}' "$TMP/times" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}')
  read -r wm wlo whi <<<"$w"
  echo "$wm $c $wlo $whi"
}

report() {  # report LABEL PACKETS FILE
  local label=$1 n=$2 f=$3 profile wall cpu lo hi
  for profile in ${NFM_BENCH_PROFILES:-corrected nfm2022 cic}; do
    read -r wall cpu lo hi < <(median_time "$f" "$profile")
    printf '%-26s %-9s %9d pkts  wall median %7.3f s (min %.3f max %.3f)  cpu median %7.3f s  %5.2f Mpkt/s wall  %5.2f Mpkt/s cpu  [%d runs]\n' \
      "$label" "$profile" "$n" "$wall" "$lo" "$hi" "$cpu" "$(echo "$n / $wall / 1000000" | bc -l)" \
      "$(echo "$n / $cpu / 1000000" | bc -l)" "$RUNS"
  done
}

echo "== replay: nfm-xdp --pcap F --csv /dev/null -q --profile P (wall time incl. start-up)"
"$BUILD/bench/replay/gen_pcap" "$TMP/big.pcap" "$PACKETS" 100000 2>/dev/null
echo "synthetic: $PACKETS packets, $(du -m "$TMP/big.pcap" | cut -f1) MB (bench/replay/gen_pcap, 100k concurrent flows)"
report "synthetic (gen_pcap)" "$PACKETS" "$TMP/big.pcap"
rm -f "$TMP/big.pcap"

if [[ -f "$REAL" ]]; then
  python3 "$SRC/bench/replay/loop_pcap.py" "$REAL" "$TMP/real.pcap" "$LOOPS" 2>"$TMP/loop.log"
  n=$(grep -o '[0-9]* packets' "$TMP/loop.log" | cut -d' ' -f1)
  echo "real: $(basename "$REAL") x $LOOPS, $n packets, $(du -m "$TMP/real.pcap" | cut -f1) MB"
  report "$(basename "$REAL") x$LOOPS" "$n" "$TMP/real.pcap"
  rm -f "$TMP/real.pcap"
else
  echo "real capture $REAL not present: skipped"
fi

if [[ "${NFM_BENCH_ENGINE:-1}" == 0 ]]; then
  echo "engine_bench skipped (NFM_BENCH_ENGINE=0)"
elif [[ -x "$BUILD/bench/engine/engine_bench" ]]; then
  echo "== engine alone: engine_bench (events/s, median of $REPS repetitions)"
  "$BUILD/bench/engine/engine_bench" --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
    --benchmark_filter="${NFM_BENCH_FILTER:-countsink:./prefetch:1/flows:100000/endless:0|RealCaptures}" --benchmark_format=console 2>/dev/null |
    awk '/_median/ { name=$1; sub(/\/(min_time|iterations).*/, "", name);
                     for (i=1;i<=NF;i++) if ($i ~ /^events\/s=/) { v=$i; sub(/events\/s=/, "", v) }
                     printf "%-60s events/s %s\n", name, v }'
else
  echo "engine_bench not built (Google Benchmark missing?): skipped"
fi
