#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The agent image builds and runs: deploy/image/build-image.sh with podman on vfs storage in a
# private store under CACHE_DIR (no registry: bases come from debootstrap), then
# `nfm-xdp --version` inside the image (podman run; chroot into the mounted image if this host
# cannot run containers). Exit 77 only when podman/debootstrap are missing or the Debian
# archive cannot be reached on a cold cache.
set -euo pipefail
cache=${1:?usage: image_test.sh CACHE_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
for t in podman debootstrap; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed (scripts/install-deps.sh installs it)" >&2; exit 77; }
done
[[ $(id -u) -eq 0 ]] || { echo "SKIP: image build test needs root (debootstrap, podman storage)" >&2; exit 77; }

export PODMAN="podman --root $cache/storage --runroot $cache/runroot --storage-driver vfs"
tag=localhost/nfm-xdp:test
t0=$SECONDS
if ! "$src/deploy/image/build-image.sh" "$cache" "$tag" >"$cache/build.log" 2>&1; then
  if grep -q "debootstrap .* failed" "$cache/build.log" && grep -qiE "Failed getting release file|Could not resolve|Temporary failure" \
      "$cache"/debootstrap-*.log 2>/dev/null; then
    echo "SKIP: the Debian archive is not reachable and no cached base exists:" >&2
    tail -n 5 "$cache/build.log" >&2
    exit 77
  fi
  echo "FAIL: image build failed; last lines of $cache/build.log:" >&2
  tail -n 40 "$cache/build.log" >&2
  exit 1
fi
grep -E "^make-base:|^build-image:" "$cache/build.log" || true
echo "image built in $((SECONDS - t0)) s"

want=$(sed -n 's/^project(nfm-xdp VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
if out=$($PODMAN run --rm --network=none --pull=never "$tag" --version 2>"$cache/run.err"); then
  how="podman run"
else
  echo "podman run failed ($(tail -n 1 "$cache/run.err")); running inside the mounted image with chroot"
  mnt=$($PODMAN image mount "$tag")
  out=$(chroot "$mnt" /usr/local/bin/nfm-xdp --version)
  $PODMAN image unmount "$tag" >/dev/null || true
  how="chroot"
fi
echo "$how: nfm-xdp --version -> $out"
[[ $out == *"$want"* ]] || { echo "FAIL: expected version $want in: $out" >&2; exit 1; }

# The final stage is a runtime image: no compiler inside.
mnt=$($PODMAN image mount "$tag")
trap '$PODMAN image unmount "$tag" >/dev/null 2>&1 || true' EXIT
if [[ -e $mnt/usr/bin/cmake || -e $mnt/usr/bin/clang ]]; then
  echo "FAIL: the runtime image contains build tools" >&2
  exit 1
fi
[[ -x $mnt/usr/local/bin/nfm-xdp ]] || { echo "FAIL: /usr/local/bin/nfm-xdp missing" >&2; exit 1; }
echo "image: PASS ($((SECONDS - t0)) s)"
