// SPDX-License-Identifier: MIT
// NtlEngine: NTLFlowLyzer e2def39 bit for bit (--profile ntl, spec §8): exact 5-tuple lookup
// with the reverse key first, the lazy end test on microsecond-rounded datetimes (FIN in both
// directions, RST, activity timeout, maximum duration), double timestamps sec + usec/1e6, and
// the 339 features computed when a flow ends from its bounded per-flow packet list (ntl_stats).
// Satisfies the engine contract (FlowEngineLike, engine/contract.hpp), so RunOffline drives it
// like FlowEngine; each finished flow goes to the exporters as a FlowView over kNtlFeatureSet. Not thread-safe. It does not decode packets
// (DecodePacketNtl does) nor render text (the exporters do: output/csv_row prints the label).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/flow_view.hpp"
#include "engine/packet.hpp"

namespace nfm {

struct NtlConfig {
  EngineConfig base;  // idle_timeout_s = activity_timeout, active_timeout_s = max_flow_duration
  // Packets kept per flow for the list statistics (16 bytes each). Past it the flow keeps
  // counting (counts, byte totals, flags, bulk, active/idle, subflows, handshake stay exact)
  // but the list features (payload/header/segment statistics, IATs, delta families) are
  // computed over the first max_list_packets packets; such flows are counted in
  // NtlStats::capped_flows.
  uint32_t max_list_packets = 1u << 16;
};

struct NtlStats {
  uint64_t capped_flows = 0;     // flows whose packet list reached max_list_packets
  uint64_t list_bytes_peak = 0;  // peak bytes held by packet lists (all flows)
};

class NtlEngine {
 public:
  explicit NtlEngine(const NtlConfig& cfg);
  ~NtlEngine();
  NtlEngine(const NtlEngine&) = delete;
  NtlEngine& operator=(const NtlEngine&) = delete;

  void OnPacket(const PacketMeta& pkt);
  void PrefetchIndex(PacketMeta& pkt) const noexcept;
  void PrefetchFlow(const PacketMeta& pkt) const noexcept;
  void OnSkipped(SkipReason reason, uint32_t wire_len);
  void AdvanceTime(uint64_t now_ns);  // no-op: the reference's termination is lazy
  void Flush(EndReason reason = EndReason::kShutdown);
  // As FlowEngine::AddExporter: Begin(kNtl, kNtlFeatureSet) now, then every flow that ends.
  void AddExporter(FlowExporter& exporter);
  // The exporters added so far and the configuration (for a sharded runner).
  const std::vector<FlowExporter*>& Exporters() const noexcept;
  const NtlConfig& Config() const noexcept;

  const EngineStats& Stats() const noexcept { return stats_; }
  const NtlStats& Ntl() const noexcept { return ntl_stats_; }
  static constexpr size_t kBytesPerListedPacket = 16;

 private:
  struct Impl;
  EngineStats stats_;
  NtlStats ntl_stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nfm
