#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the example collector image (nfcapd) the same way as the agent image: a debootstrap
# base via make-base.sh (cached in CACHE_DIR), then podman build --pull=never.
# Usage: build-collector-image.sh [CACHE_DIR] [TAG]  (defaults: build/image-cache, localhost/nfm-collector:<version>)
#   env PODMAN, NFM_BUILD_ISOLATION: as for build-image.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${1:-$src/build/image-cache}
version=$(sed -n 's/^project(nfm-xdp VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
tag=${2:-localhost/nfm-collector:${version:-dev}}
podman=${PODMAN:-podman}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

"$here/make-base.sh" "$cache" collector

iso=${NFM_BUILD_ISOLATION:-chroot}
net=none
[[ $iso == chroot ]] && net=host
t0=$SECONDS
$podman build --pull=never --network="$net" --isolation="$iso" -f "$src/deploy/collector/Containerfile" \
  -t "$tag" "$src/deploy/collector"
echo "build-collector-image: $tag built in $((SECONDS - t0)) s"
