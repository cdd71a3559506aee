#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs every Debian 12 package nfm-xdp needs to build, run and test. Idempotent; run as root.
# Usage: scripts/install-deps.sh [--runtime-only]
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
            libcli11-dev prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
            libclang-rt-14-dev libzstd-dev liblzma-dev libbz2-dev libfixbuf-dev)
RUN_PKGS=(iproute2 ethtool)
TEST_PKGS=(prometheus tcpdump iperf3 curl tshark python3 python3-yaml netsniff-ng podman debootstrap
           iputils-ping procps nfdump pmacct libfixbuf-tools zstd xz-utils bzip2 python3-scapy wireshark-common
           openjdk-17-jdk-headless  # JDK 17: oracle of Java Double.toString (profile cic)
           python3-pandas python3-sklearn  # examples/live_detector and its test; pandas.read_json check
           containernetworking-plugins  # /usr/lib/cni/bridge + host-local: the k8s lab (tests/integration/k8s_lab.py)
           runc)  # the DaemonSet's pod under a real OCI runtime (tests/metrics/runc_test.py)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
[[ "${1:-}" == "--runtime-only" ]] || want+=("${TEST_PKGS[@]}")

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: needs root to install packages (apt-get); run it as root" >&2
  exit 1
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
