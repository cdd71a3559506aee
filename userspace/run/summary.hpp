// SPDX-License-Identifier: MIT
// The run's summary lines on stderr and the worker gauges of the metrics, made once for the
// offline replay (run/run_engine.cpp) and the live capture (live/live.cpp). Text only: the
// callers decide whether to print (--quiet).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "metrics/kernel_snapshot.hpp"

namespace nfm {

// "12 packets (10 in flows, 2 skipped: not_ip 2) -> 3 flows in 0.010 s (0.00 Mpkt/s)".
std::string OfflineSummary(uint64_t records, const EngineStats& st, double seconds);
// NtlEngine's packet lists: "ntl packet lists: peak 1.5 MiB; 3 flows reached --ntl-max-packets".
std::string NtlListsSummary(const NtlStats& ns);
// FlowEngine's corrected ntl set: "3 flows reached --ntl-max-packets (their list statistics
// cover the first N packets)"; empty when none did.
std::string CappedListsSummary(const EngineStats& st, uint32_t max_packets);

// One worker's gauges as the metrics take them (Metrics::UpdateWorkers, KernelSnapshot::workers).
struct WorkerSample {
  uint64_t out_queue = 0;  // finished flows waiting for the output thread
  uint64_t busy_ns = 0;    // time spent on packets
};
std::vector<WorkerLoad> WorkerLoads(const std::vector<WorkerSample>& workers);

}  // namespace nfm
