#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the manifest's input SHA-256 costs a replay: the end-to-end capture (gen_pcap mode
# "flows": 275,000 packets, 8,500 TCP flows, 650 B average frames, 183 MB) replayed with the
# default manifest and with --no-manifest, one thread, rounds alternating so both see the same
# machine load; prints the best and the median wall time and packets/s of each, the load
# (uptime) before and after, and the SHA-256 speed of this CPU (ours vs OpenSSL's EVP, via
# `openssl speed` when installed). Besides the default (a regular file's hash is read by a
# helper thread of its own), the other two ways (NFM_HASH_MODE=fed: the reader's buffers fed
# to a helper thread; inline: on the reading thread) are timed too. With NFM_BENCH_BASE=/path/to/another/nfm-xdp its default
# run is timed in the same rounds. With NFM_BENCH_COMPRESSED=1 the capture is also replayed
# compressed (gzip -6, zstd -3, xz -6, bzip2 -9: the tools' defaults).
#   bench/replay/hash_bench.sh BUILD_DIR [ROUNDS=5]
set -euo pipefail
BUILD=${1:?usage: hash_bench.sh BUILD_DIR [ROUNDS]}
ROUNDS=${2:-5}
cmake --build "$BUILD" --target nfm-xdp gen_pcap -- --no-print-directory -s >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CAP="$TMP/e2e.pcap"
"$BUILD/bench/replay/gen_pcap" "$CAP" 275000 8500 0 flows 650 2>/dev/null
PACKETS=275000

declare -A T C
run() {  # label capture [env assignments] binary args...
  local label=$1 cap=$2; shift 2
  /usr/bin/time -o "$TMP/time" -f "%e %U %S" env "$@" --pcap "$cap" --csv "$TMP/out.csv" -q --threads 1 \
    >/dev/null 2>&1 || {
    echo "$label: exit $? ($*)" >&2
    exit 1
  }
  local w u s
  read -r w u s <"$TMP/time"
  T[$label]+="$w "
  C[$label]+="$(echo "$u + $s" | bc) "
}
report() {  # label: best and median wall time, median CPU time (user + sys, every thread)
  local sorted best med cpu
  sorted=$(tr ' ' '\n' <<<"${T[$1]}" | sed '/^$/d' | sort -g)
  best=$(head -1 <<<"$sorted")
  med=$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' <<<"$sorted")
  cpu=$(tr ' ' '\n' <<<"${C[$1]}" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf "%-34s best %6.3f s (%5.2f M pkt/s)  median %6.3f s  cpu %6.3f s  (runs: %s)\n" "$1" "$best" \
    "$(echo "$PACKETS / $best / 1000000" | bc -l)" "$med" "$cpu" "${T[$1]}"
}

echo "load before: $(uptime)"
MODES=("default (manifest, hash)" "NFM_HASH_MODE=fed" "NFM_HASH_MODE=inline" "--no-manifest")
for ((r = 0; r < ROUNDS; r++)); do
  run "${MODES[0]}" "$CAP" "$BUILD/nfm-xdp"
  run "${MODES[1]}" "$CAP" NFM_HASH_MODE=fed "$BUILD/nfm-xdp"
  run "${MODES[2]}" "$CAP" NFM_HASH_MODE=inline "$BUILD/nfm-xdp"
  run "${MODES[3]}" "$CAP" "$BUILD/nfm-xdp" --no-manifest
  if [[ -n "${NFM_BENCH_BASE:-}" ]]; then run "base default (manifest, hash)" "$CAP" "$NFM_BENCH_BASE"; fi
done
echo "load after:  $(uptime)"
for m in "${MODES[@]}"; do report "$m"; done
if [[ -n "${NFM_BENCH_BASE:-}" ]]; then report "base default (manifest, hash)"; fi

if [[ -n "${NFM_BENCH_COMPRESSED:-}" ]]; then
  gzip -c "$CAP" >"$CAP.gz"
  zstd -q -c "$CAP" >"$CAP.zst"
  xz -T1 -c "$CAP" >"$CAP.xz"
  bzip2 -c "$CAP" >"$CAP.bz2"
  for ((r = 0; r < ROUNDS; r++)); do
    for z in gz zst xz bz2; do run "compressed .$z ($(stat -c %s "$CAP.$z") B)" "$CAP.$z" "$BUILD/nfm-xdp"; done
  done
  for z in gz zst xz bz2; do report "compressed .$z ($(stat -c %s "$CAP.$z") B)"; done
fi

if command -v openssl >/dev/null; then
  echo "openssl speed -evp sha256 (256 KiB blocks):"
  openssl speed -evp sha256 -bytes 262144 -seconds 2 2>/dev/null | tail -1
fi
grep -qw sha_ni /proc/cpuinfo && echo "CPU: sha_ni present" || echo "CPU: no sha_ni"
