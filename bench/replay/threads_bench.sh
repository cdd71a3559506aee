#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Offline replay at 1 and 2 (or NFM_BENCH_THREADS) workers, runs interleaved so both see the
# same machine load; prints the median wall time, packets/s and median CPU seconds (user+sys)
# of each, and the per-thread CPU seconds of the last threaded run (NFM_THREAD_CPU).
# CSV goes to /dev/null.
#   bench/replay/threads_bench.sh BUILD_DIR [REPS=5]
# Captures: synthetic bench/replay/gen_pcap (NFM_BENCH_PACKETS=2000000, 100k concurrent flows:
# engine and CSV rendering dominate), the issue-12 end-to-end capture (gen_pcap mode "flows":
# 275,000 packets, 8,500 TCP flows, 650 B average frames) and ../shared/pcaps/ppp_example.pcap
# x400 (bench/replay/loop_pcap.py: 1,852,400 packets, real traffic: the reader dominates).
set -euo pipefail
BUILD=${1:?usage: threads_bench.sh BUILD_DIR [REPS]}
REPS=${2:-5}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
THREADS=${NFM_BENCH_THREADS:-"1 2"}
PACKETS=${NFM_BENCH_PACKETS:-2000000}
cmake --build "$BUILD" --target nfm-xdp gen_pcap -- --no-print-directory -s >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

bench() {  # name file packets extra-args...
  local name=$1 file=$2 n=$3; shift 3
  declare -A times cpus threadcpu
  for ((r = 0; r < REPS; r++)); do
    for t in $THREADS; do
      local out w u s
      out=$(NFM_THREAD_CPU=1 /usr/bin/time -f "TIME %e %U %S" "$BUILD/nfm-xdp" --pcap "$file" --csv /dev/null -q \
              --threads "$t" "$@" 2>&1)
      read -r w u s < <(grep '^TIME' <<<"$out" | cut -d' ' -f2-)
      times[$t]+="$w "
      cpus[$t]+="$(echo "$u + $s" | bc) "
      threadcpu[$t]=$(grep -o 'thread cpu s: .*' <<<"$out" || true)
    done
  done
  med() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  for t in $THREADS; do
    local m c
    m=$(med "${times[$t]}")
    c=$(med "${cpus[$t]}")
    printf "%-28s %-10s threads %-2s median %6.3f s  %6.2f M pkt/s  cpu %6.3f s  (runs: %s) %s\n" "$name" \
      "${*:-corrected}" "$t" "$m" "$(echo "$n / $m / 1000000" | bc -l)" "$c" "${times[$t]}" "${threadcpu[$t]}"
  done
}

"$BUILD/bench/replay/gen_pcap" "$TMP/big.pcap" "$PACKETS" 100000 2>/dev/null
bench "synthetic ${PACKETS} pkt" "$TMP/big.pcap" "$PACKETS"
rm -f "$TMP/big.pcap"
"$BUILD/bench/replay/gen_pcap" "$TMP/e2e.pcap" 275000 8500 0 flows 650 2>/dev/null
bench "e2e 275k pkt/8.5k flows/650B" "$TMP/e2e.pcap" 275000
rm -f "$TMP/e2e.pcap"
REAL="$SRC/../shared/pcaps/ppp_example.pcap"
if [[ -f "$REAL" ]]; then
  python3 "$SRC/bench/replay/loop_pcap.py" "$REAL" "$TMP/real.pcap" 400 2>"$TMP/loop.log"
  n=$(grep -o '[0-9]* packets' "$TMP/loop.log" | cut -d' ' -f1)
  bench "ppp_example x400 ($n pkt)" "$TMP/real.pcap" "$n"
  bench "ppp_example x400 ($n pkt)" "$TMP/real.pcap" "$n" --profile nfm2022
else
  echo "$REAL not present: real-capture replay skipped"
fi
