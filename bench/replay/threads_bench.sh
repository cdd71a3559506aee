#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Offline replay at 1 and 2 (or NFM_BENCH_THREADS) workers, runs interleaved so both see the
# same machine load; prints the median wall time and packets/s of each. CSV goes to /dev/null.
#   bench/replay/threads_bench.sh BUILD_DIR [REPS=5]
# Captures: synthetic bench/replay/gen_pcap (NFM_BENCH_PACKETS=2000000, 100k concurrent flows:
# the engine is the bottleneck) and ../shared/pcaps/ppp_example.pcap x400 (bench/replay/
# loop_pcap.py: ~276k packets, ~8.5k flows, ~650 B average).
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
  declare -A times
  for ((r = 0; r < REPS; r++)); do
    for t in $THREADS; do
      local s e
      s=$(date +%s.%N)
      "$BUILD/nfm-xdp" --pcap "$file" --csv /dev/null -q --threads "$t" "$@"
      e=$(date +%s.%N)
      times[$t]+="$(echo "$e - $s" | bc) "
    done
  done
  for t in $THREADS; do
    local med
    med=$(echo ${times[$t]} | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf "%-28s %-10s threads %-2s median %6.3f s  %6.2f M pkt/s  (runs: %s)\n" "$name" "${*:-corrected}" "$t" "$med" \
      "$(echo "$n / $med / 1000000" | bc -l)" "${times[$t]}"
  done
}

"$BUILD/bench/replay/gen_pcap" "$TMP/big.pcap" "$PACKETS" 100000 2>/dev/null
bench "synthetic ${PACKETS} pkt" "$TMP/big.pcap" "$PACKETS"
rm -f "$TMP/big.pcap"
REAL="$SRC/../shared/pcaps/ppp_example.pcap"
if [[ -f "$REAL" ]]; then
  python3 "$SRC/bench/replay/loop_pcap.py" "$REAL" "$TMP/real.pcap" 400 2>"$TMP/loop.log"
  n=$(grep -o '[0-9]* packets' "$TMP/loop.log" | cut -d' ' -f1)
  bench "ppp_example x400 ($n pkt)" "$TMP/real.pcap" "$n"
  bench "ppp_example x400 ($n pkt)" "$TMP/real.pcap" "$n" --profile nfm2022
else
  echo "$REAL not present: real-capture replay skipped"
fi
