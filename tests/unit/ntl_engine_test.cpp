// SPDX-License-Identifier: MIT
// NtlEngine (--profile ntl): handshake states and the incomplete-handshake text, the
// delta-time microsecond remainder (N2), the backward delta-time min/max under the all-packet
// names (N1), the idle statistics gated on the active list (N3), the unwrapped sequence check
// (N4), delta-len tie order, nanosecond captures, and the 347-column layout. Expected values
// are worked out by hand from spec §8 in each test.
#include "engine/ntl/ntl_engine.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "engine/ntl/ntl_features.hpp"
#include "output/csv_row.hpp"
#include "profile/profile_table.hpp"
#include "../tools/engine_harness.hpp"

namespace nfm {
namespace {

using enginetest::ACK;
using enginetest::FIN;
using enginetest::PSH;
using enginetest::Row;
using enginetest::SplitCsv;
using enginetest::SYN;

class NtlCapture : public FlowExporter {
 public:
  void Begin(Profile profile, const FeatureSet& set) override {
    renderer.emplace(profile, false, *fmt::FloatSpec::Parse(".17g"), &set, "Benign");
    header = renderer->HeaderLine();
  }
  void Export(const FlowView& v) override { rows.emplace_back(renderer->Render(v)); }
  std::optional<CsvRowRenderer> renderer;
  std::string header;
  std::vector<std::string> rows;
};

struct NtlRun {
  NtlRun() {
    NtlConfig cfg;
    cfg.base.profile = Profile::kNtl;
    ApplyProfileDefaults(cfg.base, false, false, false);
    engine = std::make_unique<NtlEngine>(cfg);
    engine->AddExporter(out);
  }
  // A TCP packet of sizes (header 20 + payload pl), frame = 54 + pl, seq/ack given.
  void Tcp(double t, const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t flags,
           uint32_t pl = 0, uint32_t seq = 0, uint32_t ack = 0, int8_t ts_exp = -6) {
    PacketMeta m = enginetest::Tcp(static_cast<uint64_t>(std::llround(t * 1e6)) * 1000, src, sport, dst, dport, flags,
                                   pl, pl, 1000, 20, ts_exp);
    m.tcp_seq = seq;
    m.tcp_ack = ack;
    engine->OnPacket(m);
  }
  std::vector<Row> Rows() {
    engine->Flush();
    auto names = SplitCsv(out.header);
    std::vector<Row> r;
    for (const auto& line : out.rows) {
      auto v = SplitCsv(line);
      EXPECT_EQ(v.size(), names.size());
      r.emplace_back(names, v);
    }
    return r;
  }
  NtlCapture out;
  std::unique_ptr<NtlEngine> engine;
};

constexpr const char* C = "10.0.0.1";
constexpr const char* S = "10.0.0.2";

TEST(NtlEngine, HeaderIs347ColumnsEndingWithLabel) {
  NtlRun run;
  auto names = SplitCsv(run.out.header);
  ASSERT_EQ(names.size(), 347u);
  EXPECT_EQ(names[0], "flow_id");
  EXPECT_EQ(names[7], "duration");
  EXPECT_EQ(names[345], "cov_fwd_payload_bytes_delta_len");
  EXPECT_EQ(names[346], "label");
  run.Tcp(1000.0, C, 1234, S, 80, SYN);
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["label"], "Benign");
  EXPECT_EQ(rows[0]["flow_id"], "10.0.0.1_1234_10.0.0.2_80_TCP_1970-01-01 00:16:40");
}

TEST(NtlEngine, CompleteHandshakeThenData) {
  NtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, SYN, 0, 100, 0);
  run.Tcp(1000.125, S, 80, C, 1234, SYN | ACK, 0, 500, 101);
  run.Tcp(1000.25, C, 1234, S, 80, ACK, 0, 101, 501);
  run.Tcp(1000.5, C, 1234, S, 80, PSH | ACK, 10, 101, 501);
  auto r = run.Rows();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["handshake_state"], "3");
  EXPECT_EQ(r[0]["delta_start"], "0.25");         // data at .5 - last handshake packet at .25
  EXPECT_EQ(r[0]["handshake_duration"], "0.25");  // .25 - SYN at .0
}

TEST(NtlEngine, HandshakeCompletedByTheLastPacketIsIncomplete) {
  NtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, SYN, 0, 100, 0);
  run.Tcp(1000.125, S, 80, C, 1234, SYN | ACK, 0, 500, 101);
  run.Tcp(1000.25, C, 1234, S, 80, ACK, 0, 101, 501);
  auto r = run.Rows();
  EXPECT_EQ(r[0]["handshake_state"], "3");
  EXPECT_EQ(r[0]["delta_start"], "not a complete handshake");
  EXPECT_EQ(r[0]["handshake_duration"], "not a complete handshake");
}

TEST(NtlEngine, StrayPacketBeforeTheHandshakeGivesNegativeDeltaStart) {
  NtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, ACK, 0, 7, 7);  // not a SYN: the first non-handshake time
  run.Tcp(1000.5, C, 1234, S, 80, SYN, 0, 100, 0);
  run.Tcp(1000.625, S, 80, C, 1234, SYN | ACK, 0, 500, 101);
  run.Tcp(1000.75, C, 1234, S, 80, ACK, 0, 101, 501);
  run.Tcp(1001.0, C, 1234, S, 80, ACK, 0, 101, 501);
  auto r = run.Rows();
  EXPECT_EQ(r[0]["delta_start"], "-0.75");  // 1000.0 - 1000.75
  EXPECT_EQ(r[0]["handshake_duration"], "0.25");
}

TEST(NtlEngine, N4SequenceWrapIsNotHandled) {
  NtlRun run;
  // SYN seq 2^32-1: the SYN-ACK acknowledges 0 (mod 2^32), but the reference compares
  // seq == ack - 1 = -1 and stays in state 1.
  run.Tcp(1000.0, C, 1234, S, 80, SYN, 0, 0xffffffffu, 0);
  run.Tcp(1000.125, S, 80, C, 1234, SYN | ACK, 0, 500, 0);
  run.Tcp(1000.25, C, 1234, S, 80, ACK, 0, 0, 501);
  run.Tcp(1000.5, C, 1234, S, 80, ACK, 0, 0, 501);
  auto r = run.Rows();
  EXPECT_EQ(r[0]["handshake_state"], "1");
  EXPECT_EQ(r[0]["delta_start"], "not a complete handshake");
}

TEST(NtlEngine, N2DeltaTimeKeepsTheMicrosecondRemainder) {
  NtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, ACK);
  run.Tcp(1151.555005, C, 1234, S, 80, ACK);  // gap 151.555005 s = 151555005 us
  auto r = run.Rows();
  EXPECT_EQ(r[0]["min_fwd_packets_delta_time"], "555.005");  // (151555005 mod 10^6) / 1000
  EXPECT_EQ(r[0]["mean_packets_delta_time"], "555.005");
}

TEST(NtlEngine, N1DeltaTimeMinMaxHoldTheBackwardValues) {
  NtlRun run;
  run.Tcp(1000.000, C, 1234, S, 80, ACK);
  run.Tcp(1000.001, S, 80, C, 1234, ACK);  // all-packet gaps: 1 ms, 4 ms, 5 ms
  run.Tcp(1000.005, C, 1234, S, 80, ACK);
  run.Tcp(1000.010, S, 80, C, 1234, ACK);  // backward gap: 9 ms
  auto r = run.Rows();
  EXPECT_EQ(r[0]["min_bwd_packets_delta_time"], "9");  // backward, not the all-packet 1
  EXPECT_EQ(r[0]["max_bwd_packets_delta_time"], "9");
  EXPECT_EQ(r[0]["median_packets_delta_time"], "4");  // the all-packet list 1, 4, 5
  EXPECT_EQ(r[0]["min_fwd_packets_delta_time"], "5");
}

TEST(NtlEngine, N3IdleStatisticsGatedOnTheActiveList) {
  NtlRun run;
  // One gap > 100 s right after the first packet: active period 0 s is not recorded (needs
  // end - start > 0), idle gets 150 s. idle_min/max/mean/std show it; median.. variance are 0.
  run.Tcp(1000.0, C, 1234, S, 80, ACK);
  run.Tcp(1150.0, C, 1234, S, 80, ACK);
  auto r = run.Rows();
  EXPECT_EQ(r[0]["idle_min"], "150.0");
  EXPECT_EQ(r[0]["idle_mean"], "150");
  EXPECT_EQ(r[0]["idle_median"], "0");
  EXPECT_EQ(r[0]["idle_variance"], "0");
  EXPECT_EQ(r[0]["active_min"], "0");
}

TEST(NtlEngine, DeltaLenSortsEqualTimestampsInReverseArrivalOrder) {
  NtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, ACK, 6);    // frame 60
  run.Tcp(1001.0, C, 1234, S, 80, ACK, 46);   // frame 100
  run.Tcp(1001.0, C, 1234, S, 80, ACK, 246);  // frame 300, same time
  run.Tcp(1002.0, C, 1234, S, 80, ACK, 0);    // frame 54 = 14 + 20 + 20
  // Sorted: 60, 300, 100, 54 (the tie reversed): deltas 240, -200, -46.
  auto r = run.Rows();
  EXPECT_EQ(r[0]["max_packets_delta_len"], "240.0");
  EXPECT_EQ(r[0]["min_packets_delta_len"], "-200.0");
  EXPECT_EQ(r[0]["median_payload_bytes_delta_len"], "-46");  // payload deltas 240, -200, -46
}

TEST(NtlEngine, NanosecondCaptureLeavesDurationAndRatesEmpty) {
  NtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, ACK, 0, 0, 0, -9);
  run.Tcp(1000.5, C, 1234, S, 80, ACK, 0, 0, 0, -9);
  auto r = run.Rows();
  EXPECT_EQ(r[0]["duration"], "");
  EXPECT_EQ(r[0]["bytes_rate"], "");
  EXPECT_EQ(r[0]["fwd_packets_rate"], "");
  EXPECT_EQ(r[0]["packet_IAT_max"], "0.5");
}

TEST(NtlEngine, FinInBothDirectionsEndsAtTheNextPacket) {
  NtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, FIN | ACK);
  run.Tcp(1000.1, C, 1234, S, 80, FIN | ACK);  // a retransmitted FIN: not enough (D11 fixed)
  run.Tcp(1000.2, S, 80, C, 1234, FIN | ACK);
  run.Tcp(1000.3, C, 1234, S, 80, ACK);  // ends the flow and opens a 1-packet flow
  auto r = run.Rows();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["packets_count"], "3");
  EXPECT_EQ(r[1]["packets_count"], "1");
}

}  // namespace
}  // namespace nfm

// ---- the same features with corrected semantics (FlowEngine, --feature-set ntl) ----------------
namespace nfm {
namespace {

struct CorrectedNtlRun {
  CorrectedNtlRun() {
    EngineConfig cfg;
    cfg.profile = Profile::kCorrected;
    ApplyProfileDefaults(cfg, false, false, false);
    cfg.ntl_features = true;
    engine = std::make_unique<FlowEngine>(cfg);
    engine->AddExporter(out);
  }
  void Tcp(double t, const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t flags,
           uint32_t pl = 0, uint32_t seq = 0, uint32_t ack = 0) {
    PacketMeta m = enginetest::Tcp(static_cast<uint64_t>(std::llround(t * 1e6)) * 1000, src, sport, dst, dport, flags,
                                   pl, pl, 1000, 20);
    m.tcp_seq = seq;
    m.tcp_ack = ack;
    engine->OnPacket(m);
  }
  std::vector<Row> Rows() {
    engine->Flush();
    auto names = SplitCsv(out.header);
    std::vector<Row> r;
    for (const auto& line : out.rows) r.emplace_back(names, SplitCsv(line));
    return r;
  }
  NtlCapture out;
  std::unique_ptr<FlowEngine> engine;
};

TEST(NtlCorrected, HeaderHas341FeaturesAndN1Names) {
  CorrectedNtlRun run;
  auto names = SplitCsv(run.out.header);
  ASSERT_EQ(names.size(), 7u + 341u + 1u);
  int min_all = -1, min_bwd = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "min_packets_delta_time") min_all = static_cast<int>(i);
    if (names[i] == "min_bwd_packets_delta_time") min_bwd = static_cast<int>(i);
  }
  EXPECT_GT(min_all, 0);
  EXPECT_GT(min_bwd, min_all);
}

TEST(NtlCorrected, N1N2DeltaTimeWholeGapsAndOwnMinMax) {
  CorrectedNtlRun run;
  run.Tcp(1000.000, C, 1234, S, 80, ACK);
  run.Tcp(1000.001, S, 80, C, 1234, ACK);
  run.Tcp(1000.005, C, 1234, S, 80, ACK);
  run.Tcp(1002.010, S, 80, C, 1234, ACK);  // all gaps: 1, 4, 2005 ms; bwd: 2009 ms; fwd: 5 ms
  auto r = run.Rows();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["min_packets_delta_time"], "1");
  EXPECT_EQ(r[0]["max_packets_delta_time"], "2005");  // N2: not the 5 ms remainder
  EXPECT_EQ(r[0]["min_bwd_packets_delta_time"], "2009");
  EXPECT_EQ(r[0]["min_fwd_packets_delta_time"], "5");
}

TEST(NtlCorrected, N3IdleStatisticsGatedOnIdle) {
  CorrectedNtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, ACK);
  run.Tcp(1010.0, C, 1234, S, 80, ACK);  // 10 s gap: idle 10 s; active periods: 0 (not recorded), last 0
  auto r = run.Rows();
  EXPECT_EQ(r[0]["idle_min"], "10");
  EXPECT_EQ(r[0]["idle_median"], "10");  // reference: 0 (gated on the empty active list)
  EXPECT_EQ(r[0]["idle_variance"], "0");
}

TEST(NtlCorrected, N4SequenceWrapAndCompletionOnTheLastPacket) {
  CorrectedNtlRun run;
  run.Tcp(1000.0, C, 1234, S, 80, SYN, 0, 0xffffffffu, 0);
  run.Tcp(1000.125, S, 80, C, 1234, SYN | ACK, 0, 500, 0);  // ack 0 = seq + 1 mod 2^32
  run.Tcp(1000.25, C, 1234, S, 80, ACK, 0, 0, 501);
  auto r = run.Rows();
  EXPECT_EQ(r[0]["handshake_state"], "3");
  EXPECT_EQ(r[0]["handshake_duration"], "0.25");
  EXPECT_EQ(r[0]["delta_start"], "nan");  // no packet after the handshake: NaN, not a text
}

TEST(NtlCorrected, WorksForUdpAndIpv6) {
  CorrectedNtlRun run;
  PacketMeta m = enginetest::Tcp(1000ull * 1000000000ull, "2001:db8::1", 5353, "2001:db8::2", 53, 0, 30, 30, 0, 8);
  m.proto = 17;
  run.engine->OnPacket(m);
  m.ts_ns += 500000000;
  run.engine->OnPacket(m);
  auto r = run.Rows();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["protocol"], "UDP");
  EXPECT_EQ(r[0]["packets_count"], "2");
  EXPECT_EQ(r[0]["segment_size_mean"], "38");  // 8 + 30
  EXPECT_EQ(r[0]["handshake_state"], "0");
  EXPECT_EQ(r[0]["mean_fwd_packets_delta_time"], "500");
}

}  // namespace
}  // namespace nfm
