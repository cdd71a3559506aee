// SPDX-License-Identifier: MIT
// The engine contract (engine/contract.hpp): every engine satisfies FlowEngineLike, a type that
// lacks a part of it does not, skip accounting is the same in every engine (EngineStats::
// CountSkipped), and NFM_INVARIANT stops the process with one message when it fails, in every
// build type.
#include "engine/contract.hpp"

#include <gtest/gtest.h>

#include "engine/cic/cic_engine.hpp"
#include "engine/engine.hpp"
#include "engine/invariant.hpp"
#include "engine/ntl/ntl_engine.hpp"

namespace nfm {
namespace {

static_assert(FlowEngineLike<FlowEngine>);
static_assert(FlowEngineLike<CicEngine>);
static_assert(FlowEngineLike<NtlEngine>);
static_assert(ShardClockedEngine<FlowEngine>);
static_assert(!ShardClockedEngine<CicEngine>);
static_assert(!ShardClockedEngine<NtlEngine>);
static_assert(std::is_same_v<EngineConfigOf<FlowEngine>, EngineConfig>);
static_assert(std::is_same_v<EngineConfigOf<CicEngine>, EngineConfig>);
static_assert(std::is_same_v<EngineConfigOf<NtlEngine>, NtlConfig>);
static_assert(TunnelKeepingEngine<FlowEngine>);
static_assert(TunnelKeepingEngine<CicEngine>);
static_assert(!TunnelKeepingEngine<NtlEngine>);

// Everything but end of input.
struct NoFlush {
  explicit NoFlush(const EngineConfig& c) : cfg(c) {}
  NoFlush(const NoFlush&) = delete;
  NoFlush& operator=(const NoFlush&) = delete;
  void OnPacket(const PacketMeta&) {}
  void OnSkipped(SkipReason, uint32_t) {}
  void PrefetchIndex(PacketMeta&) const noexcept {}
  void PrefetchFlow(const PacketMeta&) const noexcept {}
  void AdvanceTime(uint64_t) {}
  void AddExporter(FlowExporter&) {}
  const std::vector<FlowExporter*>& Exporters() const noexcept { return exporters; }
  const EngineStats& Stats() const noexcept { return stats; }
  const EngineConfig& Config() const noexcept { return cfg; }
  EngineConfig cfg;
  EngineStats stats;
  std::vector<FlowExporter*> exporters;
};
static_assert(!FlowEngineLike<NoFlush>);

template <FlowEngineLike Engine>
EngineStats SkipTwo() {
  EngineConfigOf<Engine> cfg{};
  if constexpr (std::is_same_v<EngineConfigOf<Engine>, EngineConfig>) cfg.max_flows = 16;
  else cfg.base.max_flows = 16;
  Engine e(cfg);
  e.OnSkipped(SkipReason::kNotIp, 60);
  PacketMeta later{};
  later.ip_version = 4;
  later.proto = 6;
  later.wire_len = 100;
  later.flags = kPktLaterFragment;
  e.OnPacket(later);
  return e.Stats();
}

TEST(EngineContract, EveryEngineCountsSkippedPacketsAlike) {
  for (const EngineStats& s : {SkipTwo<FlowEngine>(), SkipTwo<NtlEngine>()}) {
    EXPECT_EQ(s.packets, 2u);
    EXPECT_EQ(s.bytes, 160u);
    EXPECT_EQ(s.packets_in_flows, 0u);
    EXPECT_EQ(s.skipped[static_cast<int>(SkipReason::kNotIp)], 1u);
    EXPECT_EQ(s.skipped[static_cast<int>(SkipReason::kLaterFragment)], 1u);
  }
  EngineConfig cfg;
  cfg.profile = Profile::kCic;
  cfg.max_flows = 16;
  CicEngine cic(cfg);
  cic.OnSkipped(SkipReason::kTruncated, 60);
  PacketMeta v6{};
  v6.ip_version = 6;
  v6.wire_len = 100;
  cic.OnPacket(v6);  // the CIC reference reads no IPv6
  EXPECT_EQ(cic.Stats().packets, 2u);
  EXPECT_EQ(cic.Stats().bytes, 160u);
  EXPECT_EQ(cic.Stats().skipped[static_cast<int>(SkipReason::kTruncated)], 1u);
  EXPECT_EQ(cic.Stats().skipped[static_cast<int>(SkipReason::kUnsupported)], 1u);
}

TEST(EngineContractDeathTest, InvariantAbortsWithOneMessage) {
  volatile int features = 3;
  EXPECT_DEATH(NFM_INVARIANT(features == 4), "internal error: .*invariant features == 4 does not hold");
  NFM_INVARIANT(features == 3);  // holds: nothing happens
}

// --where-columns tunnel: each flow keeps its first tunnelled packet's tunnel, outer addresses
// oriented like the flow (swapped when that packet went backward); flows without one, and
// engines without tunnel_columns, have none.
struct TunnelCollect : FlowExporter {
  struct Row {
    uint16_t sport;
    bool has;
    TunnelMeta t;
  };
  std::vector<Row> rows;
  void Export(const FlowView& f) override { rows.push_back({f.sport, f.tunnel != nullptr, f.tunnel ? *f.tunnel : TunnelMeta{}}); }
};

PacketMeta UdpPkt(uint8_t a, uint16_t sa, uint8_t b, uint16_t sb, uint64_t t_ns) {
  PacketMeta p{};
  p.ip_version = 4;
  p.proto = 17;
  p.saddr[10] = p.saddr[11] = p.daddr[10] = p.daddr[11] = 0xff;
  p.saddr[15] = a;
  p.daddr[15] = b;
  p.sport = sa;
  p.dport = sb;
  p.wire_len = p.cap_len = 60;
  p.l4_header_len = 8;
  p.ts_ns = t_ns;
  return p;
}

TunnelMeta Outer(uint8_t src, uint8_t dst, uint32_t id) {
  TunnelMeta t;
  t.src[10] = t.src[11] = t.dst[10] = t.dst[11] = 0xff;
  t.src[15] = src;
  t.dst[15] = dst;
  t.id = id;
  t.has_id = 1;
  t.type = kTunnelGtpU;
  return t;
}

template <class Engine>
std::vector<TunnelCollect::Row> RunTunnels(bool columns) {
  EngineConfig cfg;
  cfg.max_flows = 16;
  if constexpr (std::is_same_v<Engine, CicEngine>) cfg.profile = Profile::kCorrected;
  cfg.tunnel_columns = columns;
  Engine e(cfg);
  TunnelCollect c;
  e.AddExporter(c);
  const uint64_t t0 = 1'700'000'000'000'000'000ull;
  // Flow 1000: forward packet untunnelled, then backward ones through GTP-U (TEID 7, then 8).
  PacketMeta p = UdpPkt(1, 1000, 2, 53, t0);
  e.OnPacket(p);
  p = UdpPkt(2, 53, 1, 1000, t0 + 1000);
  p.tunnel = kTunnelGtpU;
  e.OnPacket(p, Outer(21, 11, 7));
  e.OnPacket(p, Outer(21, 11, 8));
  // Flow 2000: first packet tunnelled forward, a later one through another tunnel.
  p = UdpPkt(1, 2000, 2, 53, t0 + 2000);
  p.tunnel = kTunnelGtpU;
  e.OnPacket(p, Outer(11, 21, 9));
  e.OnPacket(p, Outer(12, 22, 10));
  // Flow 3000: never tunnelled.
  e.OnPacket(UdpPkt(1, 3000, 2, 53, t0 + 3000));
  e.Flush();
  return c.rows;
}

template <class Engine>
void CheckTunnels() {
  const auto rows = RunTunnels<Engine>(true);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) {
    if (r.sport == 1000) {
      ASSERT_TRUE(r.has);
      EXPECT_EQ(r.t.src[15], 11);  // swapped: the packet went dst -> src
      EXPECT_EQ(r.t.dst[15], 21);
      EXPECT_EQ(r.t.id, 7u);
      EXPECT_EQ(r.t.type, kTunnelGtpU);
    } else if (r.sport == 2000) {
      ASSERT_TRUE(r.has);
      EXPECT_EQ(r.t.src[15], 11);
      EXPECT_EQ(r.t.dst[15], 21);
      EXPECT_EQ(r.t.id, 9u);
    } else {
      EXPECT_FALSE(r.has) << r.sport;
    }
  }
  for (const auto& r : RunTunnels<Engine>(false)) EXPECT_FALSE(r.has) << "tunnel_columns off";
}

TEST(EngineContract, FlowEngineKeepsFirstTunnelPerFlow) { CheckTunnels<FlowEngine>(); }
TEST(EngineContract, CicEngineKeepsFirstTunnelPerFlow) { CheckTunnels<CicEngine>(); }

}  // namespace
}  // namespace nfm
