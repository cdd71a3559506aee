// SPDX-License-Identifier: MIT
// Host checks for the live path: privileges, capability dropping, kernel feature probes,
// interface resolution and the clock offset. Plain functions, no libbpf state kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loader.hpp"

namespace nfm::live {

// The capture capabilities the effective set lacks, comma-separated ("CAP_PERFMON",
// "CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN"); empty when capture may start. CAP_PERFMON is needed
// too: without it the verifier refuses the programs' packet pointer arithmetic. CAP_SYS_ADMIN
// stands in for CAP_BPF and CAP_PERFMON, as the kernel allows.
std::string MissingCaptureCapabilities();

// Drops every capability (effective, permitted, inheritable, ambient, bounding) of the
// calling thread, then of every other thread of the process (capabilities are per thread;
// each one is signalled with SIGRTMIN+7 and drops its own, waiting up to 200 ms). Threads
// created later inherit the empty sets. Throws BpfError if the calling thread cannot drop;
// returns how many other threads did not confirm (e.g. they block the signal).
int DropAllCapabilities();

// Names the first missing kernel feature the live path needs, or "" when all are present:
// ring buffer maps, map-in-map, XDP and SCHED_CLS programs, kernel BTF.
std::string MissingKernelFeature();

// Interface names carrying an IPv4 or IPv6 default route (what --iface auto means), in
// /proc/net/route then /proc/net/ipv6_route order, without "lo" and duplicates.
std::vector<std::string> DefaultRouteInterfaces();

// CLOCK_REALTIME - CLOCK_MONOTONIC in ns, read as tightly as possible.
int64_t MonotonicToWallOffsetNs() noexcept;
uint64_t WallNowNs() noexcept;
uint64_t MonoNowNs() noexcept;

}  // namespace nfm::live
