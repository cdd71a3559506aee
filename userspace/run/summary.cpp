// SPDX-License-Identifier: MIT
// Summary text and worker gauges (see summary.hpp).
#include "run/summary.hpp"

#include <cinttypes>
#include <cstdio>

namespace nfm {

std::string OfflineSummary(uint64_t records, const EngineStats& st, double seconds) {
  // Skipped packets by reason (the nonzero ones), e.g. "3 skipped: not_ip 2, encrypted 1".
  uint64_t skipped = 0;
  std::string reasons;
  for (int i = 0; i < static_cast<int>(SkipReason::kCount); ++i) {
    if (st.skipped[i] == 0) continue;
    skipped += st.skipped[i];
    reasons += (reasons.empty() ? ": " : ", ") + std::string(SkipReasonName(static_cast<SkipReason>(i))) + " " +
               std::to_string(st.skipped[i]);
  }
  uint64_t exported = 0;
  for (uint64_t e : st.flows_exported) exported += e;
  char head[160], tail[96];
  std::snprintf(head, sizeof head, "%llu packets (%llu in flows, %llu skipped",
                static_cast<unsigned long long>(records), static_cast<unsigned long long>(st.packets_in_flows),
                static_cast<unsigned long long>(skipped));
  std::snprintf(tail, sizeof tail, ") -> %llu flows in %.3f s (%.2f Mpkt/s)", static_cast<unsigned long long>(exported),
                seconds, seconds > 0 ? static_cast<double>(records) / seconds / 1e6 : 0.0);
  return head + reasons + tail;
}

std::string NtlListsSummary(const NtlStats& ns) {
  char b[160];
  std::snprintf(b, sizeof b, "ntl packet lists: peak %.1f MiB; %llu flows reached --ntl-max-packets",
                static_cast<double>(ns.list_bytes_peak) / 1048576.0, static_cast<unsigned long long>(ns.capped_flows));
  return b;
}

std::string CappedListsSummary(const EngineStats& st, uint32_t max_packets) {
  if (!st.list_capped_flows) return {};
  char b[192];
  std::snprintf(b, sizeof b,
                "%llu flows reached --ntl-max-packets (their list statistics cover the first %u packets)",
                static_cast<unsigned long long>(st.list_capped_flows), max_packets);
  return b;
}

std::vector<WorkerLoad> WorkerLoads(const std::vector<WorkerSample>& workers) {
  std::vector<WorkerLoad> loads;
  loads.reserve(workers.size());
  for (const WorkerSample& w : workers)
    loads.push_back({static_cast<double>(w.out_queue), static_cast<double>(w.busy_ns) / 1e9});
  return loads;
}

}  // namespace nfm
