#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes the two benchmark captures of docs/PERFORMANCE.md "Dataset-sized captures" with
# gen_pcap's timed mix (fixed seed: the same bytes every time) and checks them:
#   bench.pcap    5,500 TCP + 3,000 UDP flows over 300 s, 275,000 packets, 655 B frames (~184 MB)
#   dataset.pcap  44,000 TCP + 24,000 UDP flows over 2,400 s, 2,190,000 packets, 655 B (~1.47 GB:
#                 "1.5 GB" rounded; 2.19 M records of 16 + 655 B are 1.47 GB)
# Checks (each within 2 %, flows exactly): packets, file size, average frame and span by
# `capinfos` (package wireshark-common; skipped with a note when absent), and the TCP and UDP
# rows of a one-thread replay by BUILD's nfm-xdp (default timeouts: one row per flow).
# The captures are large: write them outside the repository (default /tmp/nfm-bench), never commit.
#   bench/replay/make_captures.sh BUILD_DIR [OUT_DIR=/tmp/nfm-bench]
set -euo pipefail
BUILD=${1:?usage: make_captures.sh BUILD_DIR [OUT_DIR]}
OUT=${2:-/tmp/nfm-bench}
mkdir -p "$OUT"
cmake --build "$BUILD" --target nfm-xdp gen_pcap -- --no-print-directory -s >/dev/null
GEN="$BUILD/bench/replay/gen_pcap"
NFM="$BUILD/nfm-xdp"
fail=0
within() {  # what got want: |got/want - 1| <= 2 %
  awk -v w="$1" -v g="$2" -v e="$3" 'BEGIN { d = g / e - 1; ok = (d <= 0.02 && d >= -0.02);
    printf "  %-14s %s (stated %s, %+.2f %%) %s\n", w, g, e, 100 * d, ok ? "ok" : "OFF"; exit !ok }' || fail=1
}
make_one() {  # name tcp udp seconds packets avg_frame
  local name=$1 tcp=$2 udp=$3 sec=$4 pkts=$5 avg=$6 f="$OUT/$1"
  local bytes=$((24 + pkts * (16 + avg)))  # pcap header + records: 184.5 MB and 1.47 GB
  "$GEN" "$f" mix "$tcp" "$udp" "$sec" "$pkts" "$avg"
  echo "$name:"
  if command -v capinfos >/dev/null; then
    # -T -M: tab-separated, exact numbers. Fields: packets, size, duration, average packet size.
    read -r c s u z < <(capinfos -T -M -r -c -s -u -z "$f" | awk -F'\t' '{ print $2, $3, $4, $5 }')
    within packets "$c" "$pkts"
    within "file bytes" "$s" "$bytes"
    within "span s" "$u" "$sec"
    within "avg frame B" "$z" "$avg"
  else
    echo "  capinfos not found (apt-get install wireshark-common): sizes not checked"
  fi
  local csv="$OUT/$name.csv"
  "$NFM" --pcap "$f" --csv "$csv" -q --no-manifest --threads 1
  python3 - "$csv" "$tcp" "$udp" <<'PY' || fail=1
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
col = next(c for c in ("protocol", "proto", "Protocol") if c in rows[0])
tcp = sum(1 for r in rows if r[col] in ("6", "TCP", "tcp"))
udp = sum(1 for r in rows if r[col] in ("17", "UDP", "udp"))
want = (int(sys.argv[2]), int(sys.argv[3]))
ok = (tcp, udp) == want and len(rows) == sum(want)
print(f"  flows (rows)   {tcp} TCP + {udp} UDP = {len(rows)} (stated {want[0]} + {want[1]}) {'ok' if ok else 'OFF'}")
sys.exit(0 if ok else 1)
PY
  rm -f "$csv"
}
make_one bench.pcap 5500 3000 300 275000 655
make_one dataset.pcap 44000 24000 2400 2190000 655
exit $fail
