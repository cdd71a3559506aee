#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the nfm-xdp image from this checkout without a registry:
#   1. base images via make-base.sh (cached in CACHE_DIR),
#   2. a clean build context (source tree without build dirs or .git),
#   3. podman build -f deploy/Containerfile --pull=never.
# Usage: build-image.sh [CACHE_DIR] [TAG]   (defaults: build/image-cache, localhost/nfm-xdp:<version>)
#   env PODMAN: podman command line (e.g. "podman --storage-driver vfs"); default "podman".
#   env NFM_BUILD_ISOLATION: podman build --isolation (default chroot: RUN steps need no OCI
#   runtime or cgroup setup, which nested/CI hosts often lack; "oci" for the usual runtime).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${1:-$src/build/image-cache}
version=$(sed -n 's/^project(nfm-xdp VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
tag=${2:-localhost/nfm-xdp:${version:-dev}}
podman=${PODMAN:-podman}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

"$here/make-base.sh" "$cache"

ctx="$cache/context"
rm -rf "$ctx"
mkdir -p "$ctx"
# Everything the build needs, nothing it does not (build trees, image cache, VCS data).
tar -C "$src" --exclude='./.git' --exclude='./build*' --exclude='./.cache' -cf - . | tar -C "$ctx" -xf -

t0=$SECONDS
iso=${NFM_BUILD_ISOLATION:-chroot}
net=none
[[ $iso == chroot ]] && net=host  # chroot isolation has no network namespace (the build needs no network)
$podman build --pull=never --network="$net" --isolation="$iso" -f "$ctx/deploy/Containerfile" -t "$tag" "$ctx"
echo "build-image: $tag built in $((SECONDS - t0)) s"
