// SPDX-License-Identifier: MIT
// CicEngine: CICFlowMeter's flow life cycle and 76 feature columns (CIC.md §2-§5), as its own
// engine because the life cycle differs from NetFlowMeter's (flows cut at FIN, 120 s flow
// timeout from the start, 5 s activity threshold, IP-only direction). Profile kCic reproduces
// master 98a5eba defects included; any other profile gives the corrected CIC set (C1-C22 fixed,
// docs/FEATURES.md). Satisfies the engine contract (FlowEngineLike, engine/contract.hpp), so the
// offline replay drives it like FlowEngine.
// Finished flows go to FlowExporters as FlowViews (set CicFeatureSet()); no text here.
// Fixed-capacity flow table, no allocation per packet. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/engine.hpp"
#include "engine/flow_view.hpp"
#include "engine/packet.hpp"

namespace nfm {

// The 76 feature columns between `Timestamp` and `Label` (CIC.md §5, cols 8-83).
const FeatureSet& CicFeatureSet() noexcept;
inline constexpr int kCicFeatures = 76;

class CicEngine {
 public:
  // cfg.profile == kCic: the reference. Otherwise the corrected set: idle expiry after
  // cfg.idle_timeout_s, FIN/RST closing after cfg.close_grace_s, cfg.activity_threshold_s.
  explicit CicEngine(const EngineConfig& cfg);
  ~CicEngine();
  CicEngine(const CicEngine&) = delete;
  CicEngine& operator=(const CicEngine&) = delete;

  void AddExporter(FlowExporter& e);
  // The exporters added so far (a sharded runner hands them to its output thread).
  const std::vector<FlowExporter*>& Exporters() const noexcept;

  void OnPacket(const PacketMeta& pkt);
  // As OnPacket, for a packet that came out of tunnel `tun`: with cfg.tunnel_columns (corrected
  // set) its flow keeps the first such tunnel (FlowView::tunnel), else the same as OnPacket(pkt).
  void OnPacket(const PacketMeta& pkt, const TunnelMeta& tun);
  void PrefetchIndex(PacketMeta& pkt) const noexcept { (void)pkt; }
  void PrefetchFlow(const PacketMeta& pkt) const noexcept { (void)pkt; }
  void OnSkipped(SkipReason reason, uint32_t wire_len);
  // Corrected set: ends flows idle or past the flow timeout at `now_ns`. The reference has no
  // clock-driven expiry, so in profile kCic this does nothing.
  void AdvanceTime(uint64_t now_ns);
  // End of input. kCic: flows with >= 2 packets are written (1-packet flows vanish, C12), in
  // the reference's Java HashMap iteration order (CIC §3.4); corrected: every flow, oldest first.
  void Flush(EndReason reason = EndReason::kShutdown);

  const EngineStats& Stats() const noexcept { return stats_; }
  const EngineConfig& Config() const noexcept { return cfg_; }

 private:
  struct Impl;
  EngineConfig cfg_;
  EngineStats stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nfm
