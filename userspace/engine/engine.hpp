// SPDX-License-Identifier: MIT
// FlowEngine: turns a time-ordered stream of PacketMeta into finished flows.
// Time comes only from packet timestamps (and AdvanceTime); the engine never reads a clock.
// It does not know whether packets come from a capture file or from the kernel.
// Not thread-safe: one thread feeds it; Stats() may be copied by that thread for others.
// The calls every engine shares are the engine contract (FlowEngineLike, engine/contract.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/flow_view.hpp"
#include "engine/packet.hpp"

namespace nfm {

// Why a packet was not made part of any flow (counted, never logged per packet).
enum class SkipReason : uint8_t {
  kNotIp = 0,       // ARP, LLDP, ... (not an error)
  kUnsupported,     // protocol/family the profile ignores (e.g. IPv6 or ICMP in nfm2022)
  kTruncated,       // headers cut by the snap length
  kMalformed,       // bad lengths / ihl<5 / doff<5 / version mismatch
  kLaterFragment,   // non-first fragment (no L4 header)
  kEncrypted,       // payload is ciphertext (MACsec with E/C bits, protected 802.11 data)
  kUnsupportedEncap,  // a recognized encapsulation whose inner frame is not read (source/decode.hpp)
  kCount
};
const char* SkipReasonName(SkipReason r) noexcept;

struct EngineConfig {
  Profile profile = Profile::kCorrected;
  // Seconds. Each profile's defaults are in profile/profile_table.hpp (ApplyProfileDefaults).
  double idle_timeout_s = 120.0;        // corrected: idle timeout; nfm2022: activity_timeout (5000)
  double active_timeout_s = 1800.0;     // corrected: active timeout; nfm2022: max_flow_duration (120000)
  double activity_threshold_s = 5.0;    // active/idle split (nfm2022: hard-coded 100 s)
  double subflow_gap_s = 1.0;           // gap that starts a new subflow (spec §4.1)
  double close_grace_s = 1.0;           // corrected: FIN/RST close grace
  uint64_t max_flows = 1u << 20;        // flow table capacity (eviction when full)
  // Corrected profile only: export the NTLFlowLyzer feature set in corrected semantics
  // (kNtlCorrectedFeatureSet, docs/FEATURES.md) instead of the 114 features. Each flow then
  // also keeps a packet list of up to ntl_max_list_packets packets (16 bytes each).
  bool ntl_features = false;
  uint32_t ntl_max_list_packets = 1u << 16;
  // Corrected profile only (FlowEngine, the corrected CIC set): > 0 makes the engine export a
  // snapshot (RowKind::kSnapshot) of every open flow that had packets since its previous one,
  // each time its clock crosses a multiple of this many seconds since the Unix epoch.
  double snapshot_interval_s = 0;
  // Corrected profile (FlowEngine, CicEngine), --where-columns tunnel: keep each flow's first
  // tunnel (FlowView::tunnel) from the TunnelMeta handed to OnPacket (engine/flow_tunnels.hpp).
  bool tunnel_columns = false;
};

// Counters the engine maintains; plain integers, read by metrics and the final summary.
struct EngineStats {
  uint64_t packets = 0;            // packets offered to OnPacket
  uint64_t bytes = 0;              // sum of wire_len offered
  uint64_t packets_in_flows = 0;   // packets that became part of a flow
  uint64_t skipped[static_cast<int>(SkipReason::kCount)] = {};
  uint64_t flows_created = 0;
  uint64_t flows_exported[static_cast<int>(EndReason::kCount)] = {};
  uint64_t flows_active = 0;
  uint64_t table_capacity = 0;
  uint64_t out_of_order = 0;       // packets whose timestamp went backwards within a flow
  uint64_t list_capped_flows = 0;  // ntl feature sets: flows whose packet list reached its bound

  // A packet offered to the engine that becomes part of no flow: counted once in packets and
  // bytes and once under its reason. Every engine's skip accounting (OnSkipped and its own
  // scope checks) goes through here.
  void CountSkipped(SkipReason reason, uint32_t wire_len) noexcept {
    ++packets;
    bytes += wire_len;
    ++skipped[static_cast<int>(reason)];
  }
};

}  // namespace nfm

namespace nfm {


// The flow engine. Owns the flow table (fixed capacity, allocated once at construction)
// and hands each finished flow, as it ends, to its exporters (one FlowView per flow).
class FlowEngine {
 public:
  explicit FlowEngine(const EngineConfig& cfg);
  ~FlowEngine();
  FlowEngine(const FlowEngine&) = delete;
  FlowEngine& operator=(const FlowEngine&) = delete;

  // Offer one decoded packet. Packets should arrive in timestamp order per flow; late ones
  // are accepted (corrected profile never produces negative intervals from them).
  void OnPacket(const PacketMeta& pkt);
  // As OnPacket, for a packet that came out of tunnel `tun` (pkt.tunnel != kTunnelNone); with
  // cfg.tunnel_columns its flow keeps the first such tunnel, else the same as OnPacket(pkt).
  void OnPacket(const PacketMeta& pkt, const TunnelMeta& tun);
  // Optional cache warming for a packet that OnPacket will see a few packets later:
  // PrefetchIndex ~8 packets ahead, PrefetchFlow ~4 ahead. Performance hints only: besides
  // the prefetch, PrefetchIndex caches the flow-key hash in pkt (key_hash, kPktKeyHashed)
  // for the two later calls, so pkt must not change between them.
  void PrefetchIndex(PacketMeta& pkt) const noexcept;
  void PrefetchFlow(const PacketMeta& pkt) const noexcept;
  // Count a packet that could not be decoded (it still counts in Stats().packets).
  void OnSkipped(SkipReason reason, uint32_t wire_len);
  // Expire flows idle/active-timed-out at time `now_ns` (wall-clock ns). Live mode calls this
  // periodically so flows end even without traffic; offline replay calls it from packet time.
  void AdvanceTime(uint64_t now_ns);
  // AdvanceTime(t) (and the sweep OnPacket does first) changes nothing while t <= QuietUntil():
  // no flow's idle, active or close deadline has passed. Lets a shard worker skip the time
  // ticks of other shards' packets with one comparison. Valid until the next engine call.
  uint64_t QuietUntil() const noexcept;
  // Moves the clock to now_ns (if later) WITHOUT expiring anything. For a shard worker that
  // replays the clock of a whole capture: the single engine sweeps only when its clock moves
  // (OnPacket/AdvanceTime); a worker calls AdvanceTime where the global clock moved and this
  // engine had something due, and SyncTime before its own packets, so OnPacket does not
  // sweep at a time the single engine would not have swept at.
  void SyncTime(uint64_t now_ns) noexcept;
  // The hash of pkt's flow key under `profile`, as PrefetchIndex stores it in pkt.key_hash
  // (with kPktKeyHashed). Both directions of a flow get the same value (the key is canonical),
  // so a reader thread can pick a shard from it and hand it on.
  static uint64_t KeyHash(Profile profile, const PacketMeta& pkt) noexcept;
  // Export every open flow with `reason` (end of input: kShutdown) in creation order.
  void Flush(EndReason reason = EndReason::kShutdown);

  // Exporters receive every flow that ends after they are added, in end order, on the thread
  // that feeds the engine. Not owned; must outlive the engine's last call.
  void AddExporter(FlowExporter& exporter);
  // The exporters added so far (a sharded runner hands them to its output thread).
  const std::vector<FlowExporter*>& Exporters() const noexcept;

  const EngineStats& Stats() const noexcept { return stats_; }
  const EngineConfig& Config() const noexcept { return cfg_; }

 private:
  struct Impl;
  EngineConfig cfg_;
  EngineStats stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nfm
