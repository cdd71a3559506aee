#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/fuzz/run-short.sh [BUILD_DIR]: builds the libFuzzer targets with clang in their own
# build directory (default build-fuzz) and runs each for FUZZ_SECONDS (default 60) from a
# seed corpus (tests/data/*, tests/regress/* and crafted frames, see make_seeds.py; the
# corpus grows in BUILD_DIR/corpus across runs, it is never committed).
# Any crash/timeout/OOM input is copied into tests/regress/ (kept forever; the regress CTest
# replays it) as fuzz-<target>-<kind>-<sha1>.pcap[ng] and the script exits 1.
# Environment: FUZZ_SECONDS (60), FUZZ_JOBS (1 process per target), JOBS (build, 2),
# FUZZ_EXTRA_SEEDS (more capture files for the seed corpus; default: the small captures in
# ../shared/pcaps beside the checkout when present).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-2}
REGRESS=$SRC/tests/regress

if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S "$SRC" -B "$BUILD" -DNFM_FUZZ=ON -DNFM_WITH_BPF=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target fuzz_decode fuzz_capture -- --no-print-directory -s >/dev/null
BIN=$BUILD/tests/regress/fuzz

CORPUS=$BUILD/corpus
ART=$(mktemp -d)
trap 'rm -rf "$ART"' EXIT
shopt -s nullglob
extra=(${FUZZ_EXTRA_SEEDS:-$SRC/../shared/pcaps/*.pcap $SRC/../shared/pcaps/*.pcapng})
regress_inputs=()
for f in "$REGRESS"/*; do
  case $(basename "$f") in README.md | CMakeLists.txt | *.py) ;; *) regress_inputs+=("$f") ;; esac
done
python3 "$SRC/tests/fuzz/make_seeds.py" "$CORPUS/decode" "$CORPUS/capture" \
  "$SRC"/tests/data/* "${regress_inputs[@]}" "${extra[@]}"

run() {  # run TARGET CORPUS_DIR MAX_LEN
  local t=$1 dir=$2 maxlen=$3
  mkdir -p "$ART/$t"
  echo "== $t: ${SECONDS_EACH}s, corpus $(ls "$dir" | wc -l) files"
  # -rss_limit_mb: the engine maps its (small) tables per input; 2 GB catches real leaks.
  "$BIN/$t" "$dir" -max_total_time="$SECONDS_EACH" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$ART/$t/" -print_final_stats=1 -detect_leaks=1 2>"$ART/$t.log" || true
  grep -E '^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)|^#[0-9]+ *DONE|ERROR: |runtime error' \
    "$ART/$t.log" | sed 's/^/   /' || true
}
run fuzz_decode "$CORPUS/decode" 4096
run fuzz_capture "$CORPUS/capture" 65536

found=0
for a in "$ART"/fuzz_decode/* "$ART"/fuzz_capture/*; do
  t=$(basename "$(dirname "$a")")
  kind=${a##*/}
  kind=${kind%%-*}
  sha=$(sha1sum "$a" | cut -c1-12)
  if [[ $t == fuzz_decode ]]; then
    out=$REGRESS/fuzz-decode-$kind-$sha.pcap
    python3 "$SRC/tests/fuzz/make_seeds.py" --to-pcap "$a" "$out"
    cp "$a" "$REGRESS/fuzz-decode-$kind-$sha.input"
  else
    ext=pcap
    [[ $(head -c4 "$a" | od -An -tx1 | tr -d ' ') == 0a0d0d0a ]] && ext=pcapng
    out=$REGRESS/fuzz-capture-$kind-$sha.$ext
    cp "$a" "$out"
  fi
  echo "!! $t: $kind input saved as $out"
  grep -m3 -E 'ERROR|SUMMARY|runtime error' "$ART/$t.log" | sed 's/^/   /' || true
  found=1
done
if [[ $found == 1 ]]; then
  echo "fuzz: crashes found; inputs saved in tests/regress/ (commit them; the regress test replays them)"
  exit 1
fi
echo "fuzz: no crash"
