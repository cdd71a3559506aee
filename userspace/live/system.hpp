// SPDX-License-Identifier: MIT
// Host checks for the live path: privileges, capability dropping, kernel feature probes,
// interface resolution and the clock offset. Plain functions, no libbpf state kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loader.hpp"

namespace nfm::live {

// True when the effective set has CAP_NET_ADMIN and CAP_BPF (CAP_SYS_ADMIN stands in for
// CAP_BPF, as the kernel allows).
bool HasCaptureCapabilities() noexcept;

// Drops every capability from the calling thread's effective, permitted, inheritable,
// ambient and bounding sets. Threads created afterwards inherit the empty sets; threads that
// already exist keep theirs (capabilities are per thread). Throws BpfError.
void DropAllCapabilities();

// Names the first missing kernel feature the live path needs, or "" when all are present:
// ring buffer maps, map-in-map, XDP and SCHED_CLS programs, kernel BTF.
std::string MissingKernelFeature();

// Resolves names ("auto" = interfaces of the IPv4/IPv6 default routes). Throws BpfError
// ("attach to ethX: No such device (ENODEV); check `ip link`").
std::vector<Interface> ResolveInterfaces(const std::vector<std::string>& names);

// CLOCK_REALTIME - CLOCK_MONOTONIC in ns, read as tightly as possible.
int64_t MonotonicToWallOffsetNs() noexcept;
uint64_t WallNowNs() noexcept;
uint64_t MonoNowNs() noexcept;

}  // namespace nfm::live
