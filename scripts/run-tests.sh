#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test tier (what `make test` and CI do): the main build's unit, cli, differential,
# bpf, integration, metrics and image tests, the unit/offline tiers again under ASan+UBSan,
# the threaded tests under ThreadSanitizer, then a short libFuzzer run (crash inputs land in tests/regress/).
# Tests that need root or a kernel feature skip with a loud message naming what is missing.
#
# Three lanes run side by side once the main build's offline tiers passed:
#   live lane (foreground): integration and metrics tiers (network namespaces, serial), then the
#     image tier. These wait on traffic, timers, the disk and the Debian archive more than on the CPU.
#   two sanitizer lanes (background, nice 19): ASan+UBSan build and tests; TSan, then the fuzz
#     run. CPU only, each in its own build directory, no namespace, port or file shared with the
#     live lane; niced so live tests keep their CPU.
# Each lane's log is printed when it ends. NFM_TEST_SERIAL=1 runs the sanitizer lanes first, in turn.
# Usage: scripts/run-tests.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
JOBS=$(nproc)
T0=$SECONDS
stamp() { printf '[%02d:%02d]' $(((SECONDS - T0) / 60)) $(((SECONDS - T0) % 60)); }

if [[ ! -d ../shared ]]; then
  echo "############################################################################"
  echo "# NOTE: ../shared not found: differential tests against the reference"
  echo "# NetFlowMeter outputs will be SKIPPED; only self-made captures are used."
  echo "############################################################################"
fi
[[ $(id -u) -eq 0 ]] || echo "NOTE: not root: bpf/integration/metrics-live tests will skip (they need CAP_BPF/CAP_NET_ADMIN)"

# The sanitizer lanes: ASan+UBSan (build and tests), and TSan then the fuzz run. Each returns
# its exit status.
asan_lane() {
  local st=0 ASAN="$BUILD-asan"
  echo "== $(stamp) sanitizer build (ASan+UBSan): unit, cli and differential tiers"
  cmake -S . -B "$ASAN" -DCMAKE_BUILD_TYPE=Debug -DNFM_SANITIZE=ON -DNFM_WITH_BPF=OFF >/dev/null || return 1
  cmake --build "$ASAN" -j "$JOBS" -- --no-print-directory -s || return 1
  # NFM_SANITIZER_SUBSET: the capture-matrix drivers (JSON Lines roundtrip, compressed
  # captures, threads equivalence) check every 3rd capture here; the main build checks all.
  (cd "$ASAN" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 NFM_SANITIZER_SUBSET=3 \
     ctest -j "$JOBS" -L 'unit|cli|differential|regress' --output-on-failure) || st=1
  echo "== $(stamp) ASan lane done (status $st)"
  return $st
}
tsan_fuzz_lane() {
  local st=0
  echo "== $(stamp) ThreadSanitizer build: threaded unit tests and threaded CLI runs"
  ./scripts/run-tsan.sh "$BUILD-tsan" || st=1
  echo "== $(stamp) short fuzz run (libFuzzer, clang): decoder and capture reader + engine"
  FUZZ_SECONDS=${FUZZ_SECONDS:-45} ./tests/fuzz/run-short.sh "$BUILD-fuzz" || st=1
  echo "== $(stamp) TSan and fuzz lane done (status $st)"
  return $st
}

status=0
echo "== $(stamp) main build: all tiers"
if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null; then exit 1; fi
cmake --build "$BUILD" -j "$JOBS" -- --no-print-directory -s || exit 1
(cd "$BUILD" && ctest -j "$JOBS" -LE 'integration|image|metrics' --output-on-failure) || status=1
echo "== $(stamp) offline tiers done"

lanes=(asan_lane tsan_fuzz_lane)
lane_pids=()
if [[ ${NFM_TEST_SERIAL:-0} == 1 ]]; then
  for lane in "${lanes[@]}"; do "$lane" || status=1; done
else
  for lane in "${lanes[@]}"; do
    echo "== $(stamp) $lane started in the background (nice 19; log: $BUILD/$lane.log, printed when it ends)"
    (renice -n 19 -p $BASHPID >/dev/null; "$lane") >"$BUILD/$lane.log" 2>&1 &
    lane_pids+=($!)
  done
  trap 'trap - INT TERM; kill 0' INT TERM  # the lanes die with the script
fi

# Live tiers attach to network namespaces and run serially (they share veth/netns tooling).
# A live test that fails is run once more and must pass then (--repeat until-pass:2); the
# first failure stays in the log.
echo "== $(stamp) live tiers: integration and metrics"
(cd "$BUILD" && ctest -L 'integration|metrics' -LE image --output-on-failure --repeat until-pass:2) || status=1
echo "== $(stamp) image tier"
(cd "$BUILD" && ctest -L 'image' --output-on-failure) || status=1
echo "== $(stamp) live lane done"

for i in "${!lane_pids[@]}"; do
  wait "${lane_pids[$i]}" || status=1
  echo "== ${lanes[$i]} log ($BUILD/${lanes[$i]}.log):"
  cat "$BUILD/${lanes[$i]}.log"
done

echo "== $(stamp) total"
if [[ $status -ne 0 ]]; then
  echo "run-tests: SOME TESTS FAILED (see above)"
else
  echo "run-tests: all tiers passed"
fi
exit $status
