#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test tier (what `make test` and CI do): the main build's unit, cli, differential,
# bpf, integration, metrics and image tests, the unit/offline tiers again under ASan+UBSan,
# the threaded tests under ThreadSanitizer, then a short libFuzzer run (crash inputs land in tests/regress/).
# Tests that need root or a kernel feature skip with a loud message naming what is missing.
# Usage: scripts/run-tests.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
JOBS=$(nproc)

if [[ ! -d ../shared ]]; then
  echo "############################################################################"
  echo "# NOTE: ../shared not found: differential tests against the reference"
  echo "# NetFlowMeter outputs will be SKIPPED; only self-made captures are used."
  echo "############################################################################"
fi
[[ $(id -u) -eq 0 ]] || echo "NOTE: not root: bpf/integration/metrics-live tests will skip (they need CAP_BPF/CAP_NET_ADMIN)"

status=0
echo "== main build: all tiers"
if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null; then exit 1; fi
cmake --build "$BUILD" -j "$JOBS" -- --no-print-directory -s || exit 1
# Tiers that attach to network namespaces run serially (they share veth/netns tooling).
(cd "$BUILD" && ctest -j "$JOBS" -LE 'integration|image|metrics' --output-on-failure) || status=1
# Live tests share this machine's two cores with whatever else runs: a live test that fails is
# run once more and must pass then (--repeat until-pass:2); the first failure stays in the log.
(cd "$BUILD" && ctest -L 'integration|metrics' -LE image --output-on-failure --repeat until-pass:2) || status=1
(cd "$BUILD" && ctest -L 'image' --output-on-failure) || status=1

echo "== sanitizer build (ASan+UBSan): unit, cli and differential tiers"
ASAN="$BUILD-asan"
cmake -S . -B "$ASAN" -DCMAKE_BUILD_TYPE=Debug -DNFM_SANITIZE=ON -DNFM_WITH_BPF=OFF >/dev/null || exit 1
cmake --build "$ASAN" -j "$JOBS" -- --no-print-directory -s || exit 1
(cd "$ASAN" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -j "$JOBS" -L 'unit|cli|differential|regress' --output-on-failure) || status=1

echo "== ThreadSanitizer build: threaded unit tests and threaded CLI runs"
./scripts/run-tsan.sh "$BUILD-tsan" || status=1

echo "== short fuzz run (libFuzzer, clang): decoder and capture reader + engine"
FUZZ_SECONDS=${FUZZ_SECONDS:-45} ./tests/fuzz/run-short.sh "$BUILD-fuzz" || status=1

if [[ $status -ne 0 ]]; then
  echo "run-tests: SOME TESTS FAILED (see above)"
else
  echo "run-tests: all tiers passed"
fi
exit $status
