// SPDX-License-Identifier: MIT
// The engine contract: what every flow engine (FlowEngine, CicEngine, NtlEngine) offers the code
// that drives it (offline replay, sharded workers, live drain), stated as the C++20 concept
// FlowEngineLike. Each engine static_asserts it next to its definition; a caller written
// against the concept works with any of them. No engine code here.
//
// Lifetime.
//   An engine is built from its configuration (EngineConfigOf<E>, returned by Config()),
//   allocates its flow table once there, and is neither copied nor grown afterwards. Exporters
//   are attached with AddExporter, normally before the first packet (an exporter sees the flows
//   that end after it was added); each gets Begin at once and is not owned: it must outlive the
//   engine's last call. Flush(reason) exports every open flow and leaves the table empty.
//   Destroying an engine exports nothing: call Flush first to keep the open flows. A FlowView
//   is valid only during the Export call that receives it.
//
// Threading.
//   An engine is not thread-safe. One thread at a time makes every call (OnPacket, OnSkipped,
//   AdvanceTime, Flush, the Prefetch hints, AddExporter); handing the engine to another thread
//   needs a happens-before edge (a queue, a join). Exporters run on that thread, inside the call
//   that ends the flow, and must not block for long. Stats() and Config() are plain reads for
//   that same thread; other threads get copies made by it (metrics, the final summary).
//
// Time.
//   Time is an input: ns since the Unix epoch (UTC), from packet timestamps (PacketMeta::ts_ns)
//   and AdvanceTime(now_ns). An engine never reads a clock, so a replay is deterministic. An
//   engine's clock is the latest time it was given and never goes back; a packet older than
//   that is still accepted (each engine documents what it makes of it). A live caller turns
//   kernel timestamps into wall time before the engine sees them. AdvanceTime lets flows end
//   without traffic; an engine whose reference ends flows only on their own packets (nfm2022,
//   cic, ntl) ignores it.
//
// Packets.
//   OnPacket takes a decoded packet; OnSkipped counts one the source could not decode. Both
//   count it in Stats().packets/bytes; what the engine itself leaves out of its flows it counts
//   by SkipReason (EngineStats::CountSkipped), never logging per packet.
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/engine.hpp"
#include "engine/flow_view.hpp"
#include "engine/packet.hpp"

namespace nfm {

// The configuration type of engine E: what Config() returns and the constructor takes
// (EngineConfig for FlowEngine and CicEngine, NtlConfig for NtlEngine).
template <class E>
using EngineConfigOf = std::remove_cvref_t<decltype(std::declval<const E&>().Config())>;

template <class E>
concept FlowEngineLike =
    !std::is_copy_constructible_v<E> && !std::is_copy_assignable_v<E> &&
    requires(E& e, const E& ce, const PacketMeta& pkt, PacketMeta& ahead, SkipReason why, uint32_t wire_len,
             uint64_t now_ns, EndReason reason, FlowExporter& exporter) {
      // Configuration: fixed at construction, readable for the engine's life.
      { ce.Config() } noexcept;
      requires std::is_lvalue_reference_v<decltype(ce.Config())>;
      requires std::constructible_from<E, const EngineConfigOf<E>&>;
      // Exporters: normally attached before the first packet; called on the feeding thread.
      { e.AddExporter(exporter) } -> std::same_as<void>;
      { ce.Exporters() } noexcept -> std::same_as<const std::vector<FlowExporter*>&>;
      // Packet input, in time order; a late packet (its time went backwards) is still accepted.
      { e.OnPacket(pkt) } -> std::same_as<void>;
      { e.OnSkipped(why, wire_len) } -> std::same_as<void>;
      // Cache hints for a packet OnPacket will see a few packets later (~8 and ~4 ahead); they
      // change no flow. PrefetchIndex may cache the key hash in the packet (kPktKeyHashed).
      { ce.PrefetchIndex(ahead) } noexcept -> std::same_as<void>;
      { ce.PrefetchFlow(pkt) } noexcept -> std::same_as<void>;
      // Time without packets: end the flows whose time is up at now_ns (may do nothing).
      { e.AdvanceTime(now_ns) } -> std::same_as<void>;
      // End of input: export every open flow with `reason` (default kShutdown).
      { e.Flush(reason) } -> std::same_as<void>;
      { e.Flush() } -> std::same_as<void>;
      // Counters, for the feeding thread (copy them for others).
      { ce.Stats() } noexcept -> std::same_as<const EngineStats&>;
    };

// An engine whose clock a sharded runner can move without a sweep (FlowEngine): AdvanceTime(t)
// changes nothing while t <= QuietUntil(), and SyncTime(t) moves the clock to t without
// exporting anything, so a shard worker sweeps exactly where a single engine would.
template <class E>
concept ShardClockedEngine = FlowEngineLike<E> && requires(E& e, const E& ce, uint64_t now_ns) {
  { ce.QuietUntil() } noexcept -> std::same_as<uint64_t>;
  { e.SyncTime(now_ns) } noexcept -> std::same_as<void>;
};

// An engine that can keep each flow's tunnel (FlowEngine, CicEngine: --where-columns tunnel):
// OnPacket(pkt, tun) for a packet that came out of a tunnel, FlowView::tunnel on export.
template <class E>
concept TunnelKeepingEngine = FlowEngineLike<E> && requires(E& e, const PacketMeta& pkt, const TunnelMeta& tun) {
  { e.OnPacket(pkt, tun) } -> std::same_as<void>;
};

// Whether `e` keeps tunnels (its configuration has tunnel_columns); a source then decodes each
// decapsulated packet's TunnelMeta and feeds it with FeedPacket. Other engines: false.
template <class E>
bool KeepsTunnels(const E& e) noexcept {
  if constexpr (TunnelKeepingEngine<E>) return e.Config().tunnel_columns;
  return false;
}

// OnPacket, handing the packet's tunnel along when `keep` (KeepsTunnels) and it came out of one.
template <class E>
inline void FeedPacket(E& e, const PacketMeta& pkt, const TunnelMeta& tun, bool keep) {
  if constexpr (TunnelKeepingEngine<E>) {
    if (keep && pkt.tunnel != kTunnelNone) return e.OnPacket(pkt, tun);
  }
  e.OnPacket(pkt);
}

}  // namespace nfm
