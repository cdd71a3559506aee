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

}  // namespace
}  // namespace nfm
