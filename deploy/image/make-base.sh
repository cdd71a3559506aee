#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the two Debian bookworm base images the Containerfile starts FROM, without any
# container registry: debootstrap (from the Debian archive apt already uses) -> tar ->
# `podman import`. Results are cached: a base is rebuilt only when its package list changes.
#   localhost/nfm-xdp-base-build:bookworm    compilers + -dev packages (build stage)
#   localhost/nfm-xdp-base-runtime:bookworm  shared libraries the agent links (final stage)
#   localhost/nfm-xdp-base-collector:bookworm  nfdump (nfcapd), only with the argument "collector"
# Usage: make-base.sh CACHE_DIR [collector]
#   env NFM_DEBIAN_MIRROR (default: the host's apt source), PODMAN (default: podman; the test
#   uses an isolated store: "podman --root DIR --runroot DIR --storage-driver vfs").
set -euo pipefail

cache=${1:?usage: make-base.sh CACHE_DIR}
mirror=${NFM_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit} /^deb /{print $2; exit}' \
  /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
podman=${PODMAN:-podman}
mkdir -p "$cache/debs"

build_pkgs=(build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
            libcli11-dev prometheus-cpp-dev libcivetweb-dev libgtest-dev libgmock-dev
            libbenchmark-dev libzstd-dev liblzma-dev libbz2-dev python3)
runtime_pkgs=(libbpf1 libelf1 zlib1g libzstd1 liblzma5 libbz2-1.0 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libcivetweb1
              iproute2)
collector_pkgs=(nfdump)  # the optional IPFIX collector example (deploy/k8s/collector/)

# Reuse .debs apt already downloaded on this host (same archive, same versions).
if compgen -G "/var/cache/apt/archives/*.deb" >/dev/null; then
  cp -n /var/cache/apt/archives/*.deb "$cache/debs/" 2>/dev/null || true
fi

make_base() {  # name packages...
  local name=$1; shift
  local tag="localhost/nfm-xdp-base-$name:bookworm"
  local stamp="$cache/$name.pkgs"
  local want; want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] && $podman image exists "$tag"; then
    echo "make-base: $tag is up to date"
    return
  fi
  local tar="$cache/base-$name.tar"
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" && -f $tar ]]; then
    echo "make-base: importing cached $tar as $tag"
    $podman import --change 'CMD ["/bin/bash"]' "$tar" "$tag" >/dev/null
    return
  fi
  local root="$cache/rootfs-$name"
  rm -rf "$root"
  echo "make-base: debootstrap bookworm ($name: $*) from $mirror"
  local t0=$SECONDS
  if ! debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$(IFS=,; echo "$*")" \
      bookworm "$root" "$mirror" >"$cache/debootstrap-$name.log" 2>&1; then
    echo "make-base: debootstrap $name failed; last lines of $cache/debootstrap-$name.log:" >&2
    tail -n 20 "$cache/debootstrap-$name.log" >&2
    return 1
  fi
  # Keep the image small and reproducible: no package lists or caches inside.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc \
         "$root"/usr/share/man "$root"/usr/share/locale
  tar -C "$root" --numeric-owner -cf "$tar" .
  rm -rf "$root"
  echo "$want" >"$stamp"
  $podman rmi -f "$tag" >/dev/null 2>&1 || true
  $podman import --change 'CMD ["/bin/bash"]' "$tar" "$tag" >/dev/null
  echo "make-base: $tag built in $((SECONDS - t0)) s"
}

if [[ ${2:-} == collector ]]; then
  make_base collector "${collector_pkgs[@]}"
  exit 0
fi
make_base build "${build_pkgs[@]}"
make_base runtime "${runtime_pkgs[@]}"
