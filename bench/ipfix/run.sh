#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/ipfix/run.sh BUILD_DIR: offline replay rate with IPFIX export vs CSV only, side by side.
# For each input, runs NFM_BENCH_RUNS rounds; each round runs every mode once (interleaved, so
# load changes hit all modes alike) and reports medians of wall and CPU (user+sys, all threads):
#   csv          --csv /dev/null                      (the baseline)
#   ipfix-file   --ipfix file:/dev/null               (no CSV)
#   ipfix-udp    --ipfix udp://127.0.0.1:PORT         (no CSV; a local socket that never reads)
#   csv+ipfix    --csv /dev/null --ipfix file:/dev/null
# Inputs: the synthetic capture of bench/run.sh (gen_pcap, NFM_BENCH_PACKETS packets, 100k
# concurrent flows) and ../shared/pcaps/ppp_example.pcap looped NFM_BENCH_LOOPS times.
set -euo pipefail
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PACKETS=${NFM_BENCH_PACKETS:-2000000}
RUNS=${NFM_BENCH_RUNS:-7}
LOOPS=${NFM_BENCH_LOOPS:-400}
REAL=${NFM_BENCH_REAL:-$SRC/../shared/pcaps/ppp_example.pcap}
cmake --build "$BUILD" -j2 --target nfm-xdp gen_pcap -- --no-print-directory -s >/dev/null
NFM=$BUILD/nfm-xdp
TMP=$(mktemp -d "${NFM_BENCH_TMP:-${TMPDIR:-/tmp}}/nfm-ipfix-bench.XXXXXX")
SINK_PID=
trap 'rm -rf "$TMP"; [[ -n $SINK_PID ]] && kill $SINK_PID 2>/dev/null' EXIT
# A UDP socket that is bound but never read: sends succeed, the kernel drops what overflows.
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c "import socket,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1',$PORT)); time.sleep(3600)" &
SINK_PID=$!
echo "== $(nproc) cores, $(uname -r); build $BUILD ($(grep -m1 '^CMAKE_BUILD_TYPE:' "$BUILD/CMakeCache.txt" | cut -d= -f2)); $(uptime | sed 's/.*load average/load average/')"

declare -A ARGS=(
  [csv]="--csv /dev/null"
  [ipfix-file]="--ipfix file:/dev/null"
  [ipfix-udp]="--ipfix udp://127.0.0.1:$PORT"
  [csv+ipfix]="--csv /dev/null --ipfix file:/dev/null"
)
MODES=(csv ipfix-file ipfix-udp csv+ipfix)

bench() {  # name packets file
  local name=$1 packets=$2 f=$3
  for m in "${MODES[@]}"; do : >"$TMP/$m.times"; done
  for ((i = 0; i < RUNS; i++)); do
    for m in "${MODES[@]}"; do
      # shellcheck disable=SC2086
      /usr/bin/time -f '%e %U %S' -o "$TMP/t1" "$NFM" --pcap "$f" ${ARGS[$m]} -q 2>"$TMP/err" \
        || { echo "nfm-xdp failed ($m): $(cat "$TMP/err")" >&2; exit 1; }
      tail -1 "$TMP/t1" >>"$TMP/$m.times"
    done
  done
  local base=
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' Input Mode "wall median (min-max)" "CPU median" "Mpkt/s wall" "Mpkt/s CPU" "rate vs csv (wall)"
  printf '| --- | --- | --- | --- | --- | --- | --- |\n'
  for m in "${MODES[@]}"; do
    read -r wm wlo whi <<<"$(cut -d' ' -f1 "$TMP/$m.times" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f", a[int((NR+1)/2)], a[1], a[NR]}')"
    cm=$(awk '{print $2+$3}' "$TMP/$m.times" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}')
    [[ -z $base ]] && base=$wm
    awk -v n="$name" -v m="$m" -v p="$packets" -v w="$wm" -v lo="$wlo" -v hi="$whi" -v c="$cm" -v b="$base" \
      'BEGIN {printf "| %s | %s | %.2f s (%.2f-%.2f) | %.2f s | %.2f | %.2f | %.0f %% |\n", n, m, w, lo, hi, c, p/w/1e6, p/c/1e6, 100*b/w}'
  done
}

"$BUILD/bench/replay/gen_pcap" "$TMP/syn.pcap" "$PACKETS" 100000 2>/dev/null
flows=$("$NFM" --pcap "$TMP/syn.pcap" --csv /dev/null 2>&1 | sed -n 's/.*-> \([0-9]*\) flows.*/\1/p')
bench "synthetic ($flows flows)" "$PACKETS" "$TMP/syn.pcap"
if [[ -f $REAL ]]; then
  python3 "$SRC/bench/replay/loop_pcap.py" "$REAL" "$TMP/real.pcap" "$LOOPS" 2>/dev/null
  pk=$("$NFM" --pcap "$TMP/real.pcap" --csv /dev/null 2>&1 | sed -n 's/.*: \([0-9]*\) packets (.*/\1/p')
  flows=$("$NFM" --pcap "$TMP/real.pcap" --csv /dev/null 2>&1 | sed -n 's/.*-> \([0-9]*\) flows.*/\1/p')
  bench "$(basename "$REAL") x$LOOPS ($flows flows)" "$pk" "$TMP/real.pcap"
else
  echo "NOTE: $REAL absent; real-capture rows skipped" >&2
fi
