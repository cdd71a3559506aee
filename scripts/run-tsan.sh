#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ThreadSanitizer tier (make tsan; part of scripts/run-tests.sh): builds nfm-xdp and the
# threaded unit tests with -fsanitize=thread and runs them plus a few threaded CLI cases.
# Kept short: the full equivalence sweep runs in the main build.
# Usage: scripts/run-tsan.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-tsan}
JOBS=$(nproc)
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNFM_TSAN=ON -DNFM_WITH_BPF=OFF >/dev/null || exit 1
cmake --build "$B" -j "$JOBS" --target nfm-xdp sharded_test capture_reader_test -- --no-print-directory -s || exit 1
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
# The threaded CLI cases read every capture through a cooperative read-ahead (any size), so the
# idle workers' TryFillAny races with the reading worker under the sanitizer.
export NFM_READ_AHEAD=1 NFM_READ_AHEAD_COOP=1
cd "$B" && ctest --output-on-failure -j "$JOBS" \
  -R '^(Sharded|FlowMerger|CaptureSet)\.|^CaptureReader\.ReadAhead|^threads\.(idle_shard|active_shard|corrupt_in_set|progress)$'
