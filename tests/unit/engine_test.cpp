// SPDX-License-Identifier: MIT
// FlowEngine, profile corrected (the default): one test per fixed defect of spec §7 and per
// termination rule of docs/FEATURES.md, plus IPv6/ICMP flows and EngineStats.
// Float spec ".17g" so every number parses back exactly. Expected values are computed by hand
// from the spec / docs/FEATURES.md; the derivation is in the comment next to each.
// (The nfm2022 profile is covered in engine_nfm2022_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../tools/engine_harness.hpp"
#include "engine/nfm_features.hpp"

namespace {

using namespace nfm;
using namespace nfm::enginetest;

const uint64_t T = Us(1700000000, 0);  // 2023-11-14 22:13:20 UTC
const char* C = "10.0.0.1";
const char* S = "10.0.0.2";

PacketMeta CtoS(uint64_t t, uint8_t fl, uint32_t pl, uint16_t win = 1000) {
  return Tcp(t, C, 40000, S, 80, fl, pl, pl, win, 20);
}
PacketMeta StoC(uint64_t t, uint8_t fl, uint32_t pl, uint16_t win = 1000) {
  return Tcp(t, S, 80, C, 40000, fl, pl, pl, win, 20);
}
PacketMeta U(uint64_t t, bool fwd, uint32_t pl) {
  return fwd ? Udp(t, C, 5000, S, 53, pl, pl) : Udp(t, S, 53, C, 5000, pl, pl);
}

const char* kIatCols[] = {"packets_IAT_mean", "packet_IAT_std", "packet_IAT_max", "packet_IAT_min",
                          "packet_IAT_total", "fwd_packets_IAT_mean", "fwd_packets_IAT_std",
                          "fwd_packets_IAT_max", "fwd_packets_IAT_min", "fwd_packets_IAT_total",
                          "bwd_packets_IAT_mean", "bwd_packets_IAT_std", "bwd_packets_IAT_max",
                          "bwd_packets_IAT_min", "bwd_packets_IAT_total"};

// ------------------------------------------------------------------------------------------
// The FlowView every exporter receives: counters, IP bytes, OR of flags and the value kinds,
// hand-computed for a 3-packet TCP exchange (corrected) and the same packets in nfm2022.
TEST(EngineFlowView, CountersFlagsAndKinds) {
  for (Profile prof : {Profile::kCorrected, Profile::kNfm2022}) {
    EngineRun run(prof);
    // hl 20 everywhere; payloads (IP-bounded) 0, 0, 100; frame payloads 0, 6 (padding), 100.
    run.Feed(Tcp(Us(100, 0), "10.0.0.1", 40000, "10.0.0.2", 80, SYN, 0, 0));
    run.Feed(Tcp(Us(100, 1000), "10.0.0.2", 80, "10.0.0.1", 40000, SYN | ACK, 6, 0));
    run.Feed(Tcp(Us(100, 2500), "10.0.0.1", 40000, "10.0.0.2", 80, ACK | PSH, 100, 100));
    run.Flush();
    ASSERT_EQ(run.sink.summaries.size(), 1u);
    const ViewCopy& v = run.sink.summaries[0];
    EXPECT_EQ(v.reason, EndReason::kShutdown);
    EXPECT_EQ(v.dir_packets[0], 2u);
    EXPECT_EQ(v.dir_packets[1], 1u);
    EXPECT_EQ(v.tcp_flags[0], SYN | ACK | PSH);
    EXPECT_EQ(v.tcp_flags[1], SYN | ACK);
    // IP bytes: 20 (IPv4 header) + 20 (TCP) + payload of the profile's definition.
    const uint64_t bwd_pl = prof == Profile::kCorrected ? 0 : 6;
    EXPECT_EQ(v.ip_bytes[0], 40u + 40u + 100u);
    EXPECT_EQ(v.ip_bytes[1], 40u + bwd_pl);
    ASSERT_EQ(v.features.size(), 114u);
    // duration (feature 0): 2.5 ms from integer ns; corrected prints it in the float format,
    // 2022 as repr.
    EXPECT_EQ(v.features[0].kind,
              prof == Profile::kCorrected ? FeatureValue::Kind::kSecondsF : FeatureValue::Kind::kSecondsR);
    EXPECT_EQ(v.features[0].ns, 2500000);
    // packets_count (feature 1) is an unsigned column.
    EXPECT_EQ(v.features[1].kind, FeatureValue::Kind::kUint);
    EXPECT_EQ(v.features[1].u, 3u);
    EXPECT_EQ(NfmFeatureSet().columns[1].type, FeatureType::kUnsigned);
    EXPECT_EQ(NfmFeatureSet().columns[0].type, FeatureType::kFloat);
  }
}

// Every column's declared type matches the kind the engine gives it (unsigned columns only
// ever hold kUint), on a flow that exercises every feature family.
TEST(EngineFlowView, ValueKindsMatchColumnTypes) {
  for (Profile prof : {Profile::kCorrected, Profile::kNfm2022}) {
    EngineRun run(prof);
    for (const PacketMeta& m : WorkedExample44()) run.Feed(m);
    run.Flush();
    ASSERT_FALSE(run.sink.summaries.empty());
    for (const ViewCopy& v : run.sink.summaries) {
      for (size_t i = 0; i < v.features.size(); ++i) {
        if (NfmFeatureSet().columns[i].type == FeatureType::kUnsigned) {
          EXPECT_EQ(v.features[i].kind, FeatureValue::Kind::kUint) << NfmFeatureSet().columns[i].name;
        }
      }
    }
  }
}

TEST(EngineCorrected, HeaderIsTheSame121Columns) {
  EngineRun corrected(Profile::kCorrected);
  EngineRun ref(Profile::kNfm2022);
  auto names = SplitCsv(corrected.HeaderLine());
  ASSERT_EQ(names.size(), 121u);  // 7 identity + 114 features (docs/FEATURES.md)
  EXPECT_EQ(corrected.HeaderLine(), ref.HeaderLine());
  const std::vector<std::string> ident = {"flow_id", "timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "protocol"};
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 7), ident);
}

TEST(EngineCorrected, DefaultsFromProfile) {
  EngineRun run(Profile::kCorrected);
  EXPECT_DOUBLE_EQ(run.cfg.idle_timeout_s, 120.0);       // D17: 120 s idle
  EXPECT_DOUBLE_EQ(run.cfg.active_timeout_s, 1800.0);    // 1800 s active
  EXPECT_DOUBLE_EQ(run.cfg.activity_threshold_s, 5.0);   // 5 s
}

// D3: fwd/bwd payload stats over the direction's own packets.
// F: 100, 300; B: 50.  fwd max 300 min 100 mean 200 pvar ((100-200)^2+(300-200)^2)/2 = 10000,
// std 100; bwd 50/50/50, std 0, var 0; all: mean 450/3 = 150,
// var ((-50)^2+(-100)^2+150^2)/3 = 35000/3, std sqrt(35000/3).
TEST(EngineCorrected, D3PayloadStatsPerDirection) {
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, PSH | ACK, 100));
  run.Feed(StoC(T + 100 * kMs, PSH | ACK, 50));
  run.Feed(CtoS(T + 200 * kMs, PSH | ACK, 300));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r["fwd_payload_bytes_max"], "300");
  EXPECT_EQ(r["fwd_payload_bytes_min"], "100");
  EXPECT_EQ(r.Num("fwd_payload_bytes_mean"), 200.0);
  EXPECT_EQ(r.Num("fwd_payload_bytes_std"), 100.0);
  EXPECT_EQ(r.Num("fwd_payload_bytes_variance"), 10000.0);
  EXPECT_EQ(r["bwd_payload_bytes_max"], "50");
  EXPECT_EQ(r["bwd_payload_bytes_min"], "50");
  EXPECT_EQ(r.Num("bwd_payload_bytes_mean"), 50.0);
  EXPECT_EQ(r.Num("bwd_payload_bytes_std"), 0.0);
  EXPECT_EQ(r.Num("bwd_payload_bytes_variance"), 0.0);
  EXPECT_EQ(r["payload_bytes_max"], "300");
  EXPECT_EQ(r["payload_bytes_min"], "50");
  EXPECT_EQ(r.Num("payload_bytes_mean"), 150.0);
  EXPECT_EQ(r.Num("payload_bytes_variance"), 35000.0 / 3.0);  // exact rational rounded once
  EXPECT_DOUBLE_EQ(r.Num("payload_bytes_std"), std::sqrt(35000.0 / 3.0));
  EXPECT_EQ(r["total_payload_bytes"], "450");
  EXPECT_EQ(r["fwd_total_payload_bytes"], "400");
  EXPECT_EQ(r["bwd_total_payload_bytes"], "50");
  // D2: separate fwd/bwd header columns: F 2 x 20, B 1 x 20.
  EXPECT_EQ(r["fwd_total_header_bytes"], "40");
  EXPECT_EQ(r["bwd_total_header_bytes"], "20");
}

// D4 + D13: subflows = gaps(> 1 s) + 1; subflow_bwd_bytes uses backward payload.
TEST(EngineCorrected, D4D13SubflowsWithOneGap) {
  // F 100 at T, B 50 at T+0.5, F 300 at T+2.0: one gap of 1.5 s > 1 -> 2 subflows.
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, PSH | ACK, 100));
  run.Feed(StoC(T + 500 * kMs, PSH | ACK, 50));
  run.Feed(CtoS(T + 2000 * kMs, PSH | ACK, 300));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Num("subflow_fwd_packets"), 1.0);   // 2 / 2
  EXPECT_EQ(rows[0].Num("subflow_bwd_packets"), 0.5);   // 1 / 2
  EXPECT_EQ(rows[0].Num("subflow_fwd_bytes"), 200.0);   // 400 / 2
  EXPECT_EQ(rows[0].Num("subflow_bwd_bytes"), 25.0);    // 50 / 2 (reference D4 would give 200)
}

TEST(EngineCorrected, D13NoGapIsOneSubflow) {
  // Same packets, last at T+0.9: no gap > 1 s -> 1 subflow (reference: all four are 0).
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, PSH | ACK, 100));
  run.Feed(StoC(T + 500 * kMs, PSH | ACK, 50));
  run.Feed(CtoS(T + 900 * kMs, PSH | ACK, 300));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Num("subflow_fwd_packets"), 2.0);
  EXPECT_EQ(rows[0].Num("subflow_bwd_packets"), 1.0);
  EXPECT_EQ(rows[0].Num("subflow_fwd_bytes"), 400.0);
  EXPECT_EQ(rows[0].Num("subflow_bwd_bytes"), 50.0);
}

// D5 + D19: active periods end - start (positive), last period recorded at flow end.
// Packets at T+0, 1, 2, 10, 11 s (threshold 5 s): gap 8 s > 5 -> active [0,2] = 2, idle 8;
// last period [10,11] = 1 recorded at the end (D19).  A = [2, 1], I = [8].
TEST(EngineCorrected, D5D19ActiveIdlePositiveAndLastPeriodRecorded) {
  EngineRun run(Profile::kCorrected);
  for (uint64_t s : {0, 1, 2, 10, 11}) run.Feed(U(T + s * kSec, true, 10));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r.Num("active_min"), 1.0);
  EXPECT_EQ(r.Num("active_max"), 2.0);
  EXPECT_EQ(r.Num("active_mean"), 1.5);   // (2 + 1) / 2
  EXPECT_EQ(r.Num("active_std"), 0.5);    // population std of {1, 2}
  EXPECT_EQ(r.Num("idle_min"), 8.0);
  EXPECT_EQ(r.Num("idle_max"), 8.0);
  EXPECT_EQ(r.Num("idle_mean"), 8.0);
  EXPECT_EQ(r.Num("idle_std"), 0.0);
  EXPECT_EQ(r.Num("duration"), 11.0);
}

TEST(EngineCorrected, D19SinglePeriodFlowHasActiveValue) {
  // T and T+0.5: no idle gap; the only active period 0.5 s is recorded at flow end.
  EngineRun run(Profile::kCorrected);
  run.Feed(U(T, true, 10));
  run.Feed(U(T + 500 * kMs, false, 10));
  // 1-packet flow on another tuple: active period 0 -> not recorded (must be > 0).
  run.Feed(Udp(T, C, 6000, S, 53, 10, 10));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].Num("active_min"), 0.5);
  EXPECT_EQ(rows[0].Num("active_max"), 0.5);
  EXPECT_EQ(rows[0].Num("active_mean"), 0.5);
  EXPECT_EQ(rows[0].Num("active_std"), 0.0);
  EXPECT_EQ(rows[0].Num("idle_max"), 0.0);
  EXPECT_EQ(rows[1].Num("active_max"), 0.0);
  EXPECT_EQ(rows[1].Num("active_mean"), 0.0);
}

// D6: a list of 0 or 1 packets has no interval: all five IAT statistics are 0.
TEST(EngineCorrected, D6NoIntervalGivesZeroIat) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Udp(T, C, 6000, S, 53, 10, 10));   // 1-packet flow
  run.Feed(U(T + 1 * kSec, true, 10));         // 2-packet flow: F at T+1, B at T+1.25
  run.Feed(U(T + 1250 * kMs, false, 10));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  for (const char* c : kIatCols) EXPECT_EQ(rows[0].Num(c), 0.0) << c << " (1-packet flow)";
  const Row& r = rows[1];
  EXPECT_EQ(r.Num("packets_IAT_mean"), 0.25);
  EXPECT_EQ(r.Num("packet_IAT_std"), 0.0);
  EXPECT_EQ(r.Num("packet_IAT_max"), 0.25);
  EXPECT_EQ(r.Num("packet_IAT_min"), 0.25);
  EXPECT_EQ(r.Num("packet_IAT_total"), 0.25);
  for (int i = 5; i < 15; ++i) EXPECT_EQ(r.Num(kIatCols[i]), 0.0) << kIatCols[i] << " (1 packet per direction)";
}

// D7: out-of-order timestamps use t' = max(t, latest seen): never negative.
// p1 F T, p2 B T+5ms, p3 F T+2ms (late -> t' = T+5ms), p4 F T+10ms.
// P IATs [5ms, 0, 5ms]: min 0, max 0.005, total 0.01, mean 0.01/3;
// F (t' 0, 5, 10 ms) IATs [0.005, 0.005]; B one packet -> 0.  duration 0.01.
TEST(EngineCorrected, D7OutOfOrderNeverNegative) {
  EngineRun run(Profile::kCorrected);
  run.Feed(U(T, true, 10));
  run.Feed(U(T + 5 * kMs, false, 10));
  run.Feed(U(T + 2 * kMs, true, 10));
  run.Feed(U(T + 10 * kMs, true, 10));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r.Num("duration"), 0.01);
  EXPECT_EQ(r.Num("packet_IAT_min"), 0.0);
  EXPECT_EQ(r.Num("packet_IAT_max"), 0.005);
  EXPECT_DOUBLE_EQ(r.Num("packet_IAT_total"), 0.01);
  EXPECT_DOUBLE_EQ(r.Num("packets_IAT_mean"), 0.01 / 3.0);
  EXPECT_DOUBLE_EQ(r.Num("packet_IAT_std"), std::sqrt(1.0 / 180000.0));  // devs 1/600, -2/600, 1/600 s
  EXPECT_EQ(r.Num("fwd_packets_IAT_min"), 0.005);
  EXPECT_EQ(r.Num("fwd_packets_IAT_max"), 0.005);
  EXPECT_EQ(r.Num("fwd_packets_IAT_mean"), 0.005);
  EXPECT_EQ(r.Num("bwd_packets_IAT_max"), 0.0);
  EXPECT_EQ(run.engine->Stats().out_of_order, 1u);
}

TEST(EngineCorrected, D7LateLastPacketDoesNotShortenDuration) {
  // p1 T, p2 T+0.5, p3 T+0.2 (late): duration = 0.5 (not 0.2, not negative); rates over 0.5 s.
  EngineRun run(Profile::kCorrected);
  run.Feed(U(T, true, 100));
  run.Feed(U(T + 500 * kMs, false, 100));
  run.Feed(U(T + 200 * kMs, true, 100));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r.Num("duration"), 0.5);
  EXPECT_EQ(r.Num("bytes_rate"), 600.0);      // 300 B / 0.5 s
  EXPECT_EQ(r.Num("packets_rate"), 6.0);      // 3 / 0.5
  EXPECT_EQ(r.Num("packet_IAT_min"), 0.0);
  EXPECT_EQ(r.Num("fwd_packets_IAT_min"), 0.5);  // F t' = T, T+0.5
  for (const char* c : kIatCols) EXPECT_GE(r.Num(c), 0.0) << c;
}

// D8: backward bulk uses its own last-bulk time. F pl 100 at T, then B 1000 B x4 at
// T+2.0, 2.1, 2.2, 2.3: gaps to last[bwd] 0.1 s -> bulk of 4 packets, 4000 B, 0.3 s.
// (nfm2022 gives 0 bulks here: see EngineNfm2022.D8BackwardBulkUsesForwardLastTime.)
TEST(EngineCorrected, D8BackwardBulkUsesOwnLastTime) {
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, PSH | ACK, 100));
  for (int i = 0; i < 4; ++i) run.Feed(StoC(T + 2000 * kMs + i * 100 * kMs, PSH | ACK, 1000));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r["bwd_bulk_state_count"], "1");
  EXPECT_EQ(r["bwd_bulk_per_packet"], "4");
  EXPECT_EQ(r["bwd_bulk_total_size"], "4000");
  EXPECT_EQ(r.Num("bwd_bulk_duration"), 0.3);
  EXPECT_EQ(r.Num("avg_bwd_bytes_per_bulk"), 4000.0);
  EXPECT_EQ(r.Num("avg_bwd_packets_bulk_rate"), 4.0);
  EXPECT_DOUBLE_EQ(r.Num("avg_bwd_bulk_rate"), 4000.0 / 0.3);
  EXPECT_EQ(r["fwd_bulk_state_count"], "0");
}

// D9: after RST + grace, the next packet S->C opens a new flow and is FORWARD.
TEST(EngineCorrected, D9FirstPacketAlwaysForward) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Tcp(T, C, 1111, S, 80, SYN, 0, 0, 100));
  run.Feed(Tcp(T + 10 * kMs, S, 80, C, 1111, RST | ACK, 0, 0, 0));
  run.Feed(Tcp(T + 3000 * kMs, S, 80, C, 1111, PSH | ACK, 3, 3, 444));   // 2.99 s after RST > 1 s grace
  run.Feed(Tcp(T + 3010 * kMs, S, 80, C, 1111, ACK, 0, 0, 555));         // same direction as first: fwd
  run.Feed(Tcp(T + 3020 * kMs, C, 1111, S, 80, ACK, 0, 0, 666));         // bwd
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "2");
  const Row& f = rows[1];
  EXPECT_EQ(f["flow_id"], "10.0.0.2_80_10.0.0.1_1111_TCP_2023-11-14 22:13:23");
  EXPECT_EQ(f["src_ip"], "10.0.0.2");
  EXPECT_EQ(f["src_port"], "80");
  EXPECT_EQ(f["fwd_packets_count"], "2");    // p3, p4
  EXPECT_EQ(f["bwd_packets_count"], "1");    // p5
  EXPECT_EQ(f["fwd_init_win_bytes"], "444");
  EXPECT_EQ(f["bwd_init_win_bytes"], "666");
  EXPECT_EQ(f["fwd_total_payload_bytes"], "3");
  EXPECT_EQ(run.Exported(EndReason::kRst), 1u);
}

// D10: exact 5-tuple; direction by (IP, port).
TEST(EngineCorrected, D10PortPermutationIsAnotherFlow) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Udp(T, C, 7000, S, 8000, 10, 10));
  run.Feed(Udp(T + 100 * kMs, C, 8000, S, 7000, 20, 20));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["src_port"], "7000");
  EXPECT_EQ(rows[0]["packets_count"], "1");
  EXPECT_EQ(rows[1]["src_port"], "8000");
  EXPECT_EQ(rows[1]["packets_count"], "1");
}

TEST(EngineCorrected, D10TcpAndUdpSameTupleAreSeparateFlows) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Tcp(T, C, 5000, S, 53, SYN, 0, 0));
  run.Feed(Udp(T + 100 * kMs, C, 5000, S, 53, 30, 30));
  run.Feed(Udp(T + 200 * kMs, S, 53, C, 5000, 50, 50));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["protocol"], "TCP");
  EXPECT_EQ(rows[0]["packets_count"], "1");
  EXPECT_EQ(rows[1]["protocol"], "UDP");
  EXPECT_EQ(rows[1]["packets_count"], "2");
  EXPECT_EQ(rows[1]["fwd_packets_count"], "1");
  EXPECT_EQ(rows[1]["bwd_packets_count"], "1");
}

TEST(EngineCorrected, D10SameAddressDirectionByPort) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Udp(T, "127.0.0.1", 5000, "127.0.0.1", 6000, 10, 10));
  run.Feed(Udp(T + 1 * kMs, "127.0.0.1", 5000, "127.0.0.1", 6000, 10, 10));  // same endpoint -> fwd
  run.Feed(Udp(T + 2 * kMs, "127.0.0.1", 6000, "127.0.0.1", 5000, 10, 10));  // reverse -> bwd
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["fwd_packets_count"], "2");
  EXPECT_EQ(rows[0]["bwd_packets_count"], "1");
}

// D11: two FINs in the same direction do not close the flow; FIN in both directions does
// (after the grace period).
TEST(EngineCorrected, D11RetransmittedFinDoesNotEndFlow) {
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, FIN | ACK, 0));
  run.Feed(CtoS(T + 200 * kMs, FIN | ACK, 0));  // retransmission
  run.Feed(CtoS(T + 300 * kMs, ACK, 0));
  run.Feed(StoC(T + 400 * kMs, FIN | ACK, 0));  // now both directions
  run.Feed(CtoS(T + 500 * kMs, ACK, 0));        // closing ACK inside the 1 s grace
  EXPECT_EQ(run.sink.rows.size(), 0u);
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["packets_count"], "5");
  EXPECT_EQ(rows[0]["fin_flag_counts"], "3");
  EXPECT_EQ(rows[0]["fwd_fin_flag_counts"], "2");
  EXPECT_EQ(rows[0]["bwd_fin_flag_counts"], "1");
}

// D12: the closing ACK stays in the flow; FIN+FIN+grace ends it by time.
TEST(EngineCorrected, D12ClosingAckStaysAndGraceEndsFlow) {
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, FIN | ACK, 0));
  run.Feed(StoC(T + 10 * kMs, FIN | ACK, 0));
  run.Feed(CtoS(T + 20 * kMs, ACK, 0));  // within grace
  EXPECT_EQ(run.sink.rows.size(), 0u);
  run.engine->AdvanceTime(T + 10 * kSec);  // far beyond the 1 s grace (and < 120 s idle)
  ASSERT_EQ(run.sink.rows.size(), 1u) << "FIN+FIN flow must end after the grace period by time";
  auto rows = run.Rows();
  EXPECT_EQ(rows[0]["packets_count"], "3");
  EXPECT_EQ(rows[0].Num("duration"), 0.02);
  EXPECT_EQ(run.Exported(EndReason::kFin), 1u);
  EXPECT_EQ(run.sink.summaries[0].reason, EndReason::kFin);
  EXPECT_EQ(run.sink.summaries[0].packets, 3u);
}

TEST(EngineCorrected, D12PacketAfterGraceStartsNewFlow) {
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, FIN | ACK, 0));
  run.Feed(StoC(T + 10 * kMs, FIN | ACK, 0));
  run.Feed(CtoS(T + 20 * kMs, ACK, 0));
  run.Feed(CtoS(T + 2500 * kMs, ACK, 0));  // 2.49 s after the second FIN: grace over
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "3");
  EXPECT_EQ(rows[1]["packets_count"], "1");
  EXPECT_EQ(rows[1]["flow_id"], "10.0.0.1_40000_10.0.0.2_80_TCP_2023-11-14 22:13:22.500000");
  EXPECT_EQ(run.Exported(EndReason::kFin), 1u);
}

TEST(EngineCorrected, D12FreshSynOnClosingFlowStartsNewFlow) {
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, FIN | ACK, 0));
  run.Feed(StoC(T + 10 * kMs, FIN | ACK, 0));
  run.Feed(CtoS(T + 100 * kMs, SYN, 0, 777));  // inside the grace, but a new connection
  EXPECT_EQ(run.sink.rows.size(), 1u) << "the SYN must end the closing flow at once";
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(rows[0]["syn_flag_counts"], "0");
  EXPECT_EQ(rows[1]["packets_count"], "1");
  EXPECT_EQ(rows[1]["syn_flag_counts"], "1");
  EXPECT_EQ(rows[1]["fwd_init_win_bytes"], "777");
  EXPECT_EQ(run.Exported(EndReason::kFin), 1u);
}

TEST(EngineCorrected, RstGraceKeepsLateAckThenEnds) {
  EngineRun run(Profile::kCorrected);
  run.Feed(CtoS(T, SYN, 0));
  run.Feed(StoC(T + 10 * kMs, RST | ACK, 0));
  run.Feed(CtoS(T + 500 * kMs, ACK, 0));  // within 1 s grace after the RST
  EXPECT_EQ(run.sink.rows.size(), 0u);
  run.engine->AdvanceTime(T + 5 * kSec);
  ASSERT_EQ(run.sink.rows.size(), 1u) << "RST flow must end after the grace period by time";
  auto rows = run.Rows();
  EXPECT_EQ(rows[0]["packets_count"], "3");
  EXPECT_EQ(rows[0]["rst_flag_counts"], "1");
  EXPECT_EQ(run.Exported(EndReason::kRst), 1u);
  EXPECT_EQ(run.sink.summaries[0].reason, EndReason::kRst);
}

// D14: payload bounded by the IP length (payload_ip), padding never counts.
TEST(EngineCorrected, D14PayloadFromIpLength) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Tcp(T, C, 40000, S, 80, ACK, /*frame*/ 6, /*ip*/ 0));           // padded pure ACK
  run.Feed(Tcp(T + kMs, C, 40000, S, 80, PSH | ACK, /*frame*/ 104, /*ip*/ 100));  // FCS captured
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["total_payload_bytes"], "100");  // 0 + 100
  EXPECT_EQ(rows[0]["payload_bytes_min"], "0");
  EXPECT_EQ(rows[0]["payload_bytes_max"], "100");
  EXPECT_EQ(rows[0].Num("payload_bytes_mean"), 50.0);
}

// D16: flow_id and timestamp in one zone (UTC with local_tz=false), µs fraction shown.
TEST(EngineCorrected, D16FlowIdAndTimestampUtc) {
  EngineRun run(Profile::kCorrected);
  run.Feed(U(T + 500 * kMs, true, 10));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["flow_id"], "10.0.0.1_5000_10.0.0.2_53_UDP_2023-11-14 22:13:20.500000");
  EXPECT_EQ(rows[0]["timestamp"], "2023-11-14 22:13:20.500000");
}

// The spec §4.4 worked example through the corrected profile (hand-computed from
// docs/FEATURES.md). The 150 s gap (packet 15 at 1.6 s -> 16 at 151.6 s) exceeds the 120 s idle
// timeout, so packets 1-15 form flow A (reason idle) and 16-20 flow B; packet 20 (closing ACK
// 0.1 ms after the second FIN) stays in B (D12 grace), B ends by FIN + grace.
// Payload is payload_ip (D14): the padded ACKs count 0.
TEST(EngineCorrected, WorkedExampleSection44) {
  EngineRun run(Profile::kCorrected);
  for (const auto& m : WorkedExample44()) run.Feed(m);
  ASSERT_EQ(run.sink.rows.size(), 1u) << "flow A must end by idle timeout when packet 16 arrives";
  run.engine->AdvanceTime(Us(1658945644, 374890) + 200 * kSec);  // B: grace over, idle 48 s < 120
  ASSERT_EQ(run.sink.rows.size(), 2u);
  EXPECT_EQ(run.sink.summaries[0].reason, EndReason::kIdle);
  EXPECT_EQ(run.sink.summaries[1].reason, EndReason::kFin);
  auto rows = run.Rows();
  const Row& a = rows[0];
  // Flow A: F = 1,3,4-8,15 (8 packets, 0+0+510+0), B = 2,9-14 (7 packets, 8400).
  EXPECT_EQ(a["flow_id"], "10.0.0.1_40000_10.0.0.2_80_TCP_2022-07-27 18:14:04.374890");
  EXPECT_EQ(a.Num("duration"), 1.6);
  EXPECT_EQ(a["packets_count"], "15");
  EXPECT_EQ(a["fwd_packets_count"], "8");
  EXPECT_EQ(a["bwd_packets_count"], "7");
  EXPECT_EQ(a["total_payload_bytes"], "8910");
  EXPECT_EQ(a["fwd_total_payload_bytes"], "510");
  EXPECT_EQ(a["bwd_total_payload_bytes"], "8400");
  EXPECT_EQ(a["fwd_payload_bytes_max"], "104");  // D3: over F
  EXPECT_EQ(a.Num("fwd_payload_bytes_mean"), 510.0 / 8.0);
  EXPECT_EQ(a.Num("bwd_payload_bytes_mean"), 1200.0);  // 8400 / 7
  EXPECT_EQ(a["total_header_bytes"], "496");     // 40 + 40 + 13 x 32
  EXPECT_EQ(a["fwd_total_header_bytes"], "264");  // 40 + 7 x 32
  EXPECT_EQ(a["bwd_total_header_bytes"], "232");  // 40 + 6 x 32
  EXPECT_EQ(a["fwd_init_win_bytes"], "64240");
  EXPECT_EQ(a["bwd_init_win_bytes"], "65160");
  // Bulk: fwd packets 4-8 (padded ACK 3 has payload 0): 1 bulk, 5 pkts, 510 B, .034-.030 s;
  // bwd 9-14: 1 bulk, 6 pkts, 8400 B, .045-.040 s.
  EXPECT_EQ(a["fwd_bulk_state_count"], "1");
  EXPECT_EQ(a["fwd_bulk_per_packet"], "5");
  EXPECT_EQ(a["fwd_bulk_total_size"], "510");
  EXPECT_EQ(a.Num("fwd_bulk_duration"), 0.004);
  EXPECT_DOUBLE_EQ(a.Num("avg_fwd_bulk_rate"), 127500.0);  // 510 / 0.004
  EXPECT_EQ(a["bwd_bulk_state_count"], "1");
  EXPECT_EQ(a["bwd_bulk_per_packet"], "6");
  EXPECT_EQ(a["bwd_bulk_total_size"], "8400");
  EXPECT_EQ(a.Num("bwd_bulk_duration"), 0.005);
  // Subflows: one gap > 1 s (1.555 s) -> 2 subflows.
  EXPECT_EQ(a.Num("subflow_fwd_packets"), 4.0);
  EXPECT_EQ(a.Num("subflow_bwd_packets"), 3.5);
  EXPECT_EQ(a.Num("subflow_fwd_bytes"), 255.0);
  EXPECT_EQ(a.Num("subflow_bwd_bytes"), 4200.0);
  // Active/idle (5 s): no gap > 5 s -> one active period 0 .. 1.6 recorded at the end (D19).
  EXPECT_EQ(a.Num("active_min"), 1.6);
  EXPECT_EQ(a.Num("active_max"), 1.6);
  EXPECT_EQ(a.Num("active_mean"), 1.6);
  EXPECT_EQ(a.Num("active_std"), 0.0);
  EXPECT_EQ(a.Num("idle_max"), 0.0);
  // IATs: P min 0.001, max 1.555 (14 -> 15); F max 1.566 (8 -> 15); B max 0.03 (2 -> 9).
  EXPECT_EQ(a.Num("packet_IAT_min"), 0.001);
  EXPECT_EQ(a.Num("packet_IAT_max"), 1.555);
  EXPECT_EQ(a.Num("fwd_packets_IAT_max"), 1.566);
  EXPECT_EQ(a.Num("bwd_packets_IAT_max"), 0.03);
  EXPECT_EQ(a.Num("bwd_packets_IAT_min"), 0.001);
  EXPECT_EQ(a["syn_flag_counts"], "2");
  EXPECT_EQ(a["ack_flag_counts"], "14");
  EXPECT_EQ(a["psh_flag_counts"], "5");
  EXPECT_EQ(a["fin_flag_counts"], "0");

  const Row& b = rows[1];
  // Flow B: 16 F (pl 10), 17 B, 18 F FIN, 19 B FIN, 20 F ACK; starts at t0 + 151.6 s.
  EXPECT_EQ(b["flow_id"], "10.0.0.1_40000_10.0.0.2_80_TCP_2022-07-27 18:16:35.974890");
  EXPECT_EQ(b.Num("duration"), 0.1002);
  EXPECT_EQ(b["packets_count"], "5");
  EXPECT_EQ(b["fwd_packets_count"], "3");
  EXPECT_EQ(b["bwd_packets_count"], "2");
  EXPECT_EQ(b["total_payload_bytes"], "10");
  EXPECT_EQ(b["fwd_init_win_bytes"], "502");
  EXPECT_EQ(b["bwd_init_win_bytes"], "501");
  EXPECT_EQ(b["fin_flag_counts"], "2");
  EXPECT_EQ(b["ack_flag_counts"], "5");
  EXPECT_EQ(b["fwd_bulk_state_count"], "0");
  EXPECT_EQ(b.Num("subflow_fwd_packets"), 3.0);  // no gap -> 1 subflow
  EXPECT_EQ(b.Num("subflow_bwd_bytes"), 0.0);
  EXPECT_EQ(b.Num("active_max"), 0.1002);        // D19: the only period 151.6 .. 151.7002
  EXPECT_EQ(b.Num("packet_IAT_min"), 5e-06);     // 16 -> 17
  EXPECT_EQ(b.Num("packet_IAT_max"), 0.099995);  // 17 -> 18
  EXPECT_EQ(b.Num("fwd_packets_IAT_min"), 0.0002);  // 18 -> 20
  EXPECT_EQ(b.Num("fwd_packets_IAT_max"), 0.1);     // 16 -> 18
  EXPECT_EQ(b.Num("bwd_packets_IAT_max"), 0.100095);  // 17 -> 19: 151.7001 - 151.600005
  EXPECT_EQ(b.Num("bwd_packets_IAT_mean"), 0.100095);
  EXPECT_DOUBLE_EQ(b.Num("bytes_rate"), 10.0 / 0.1002);
  EXPECT_EQ(b.Num("down_up_rate"), 2.0 / 3.0);
  EXPECT_EQ(run.Exported(EndReason::kIdle), 1u);
  EXPECT_EQ(run.Exported(EndReason::kFin), 1u);
}

// ------------------------------------------------------------------------------------------
// Termination rules (docs/FEATURES.md table).
TEST(EngineCorrected, IdleTimeoutByClockStrictAtNanoseconds) {
  EngineRun run(Profile::kCorrected);
  run.Feed(U(T, true, 10));
  run.Feed(U(T + 100 * kSec, false, 10));  // idle is measured from the last packet
  run.engine->AdvanceTime(T + 200 * kSec);
  EXPECT_EQ(run.sink.rows.size(), 0u);     // 100 s idle
  run.engine->AdvanceTime(T + 220 * kSec);
  EXPECT_EQ(run.sink.rows.size(), 0u) << "idle == 120 s is not > 120 s";
  run.engine->AdvanceTime(T + 220 * kSec + 1);
  ASSERT_EQ(run.sink.rows.size(), 1u) << "idle 120 s + 1 ns > 120 s";
  auto rows = run.Rows();
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(run.Exported(EndReason::kIdle), 1u);
  EXPECT_EQ(run.sink.summaries[0].reason, EndReason::kIdle);
  EXPECT_EQ(run.engine->Stats().flows_active, 0u);
}

TEST(EngineCorrected, IdleTimeoutByNextPacket) {
  EngineRun run(Profile::kCorrected);
  run.Feed(U(T, true, 10));
  run.Feed(U(T + 121 * kSec, false, 10));  // 121 s > 120 s: new flow, first packet forward
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "1");
  EXPECT_EQ(rows[1]["packets_count"], "1");
  EXPECT_EQ(rows[1]["src_ip"], "10.0.0.2");  // D9: the new flow's source is its first packet's
  EXPECT_EQ(run.Exported(EndReason::kIdle), 1u);
  EXPECT_EQ(run.Exported(EndReason::kShutdown), 1u);
}

TEST(EngineCorrected, ActiveTimeoutExportsAndFlowContinues) {
  EngineRun run(Profile::kCorrected);
  for (uint64_t k = 0; k <= 180; ++k) run.Feed(U(T + k * 10 * kSec, k % 2 == 0, 10));  // age 1800 s: not >
  EXPECT_EQ(run.sink.rows.size(), 0u);
  run.Feed(U(T + 1810 * kSec, true, 10));  // age 1810 s > 1800 s
  ASSERT_EQ(run.sink.rows.size(), 1u);
  EXPECT_EQ(run.Exported(EndReason::kActiveTimeout), 1u);
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "181");
  EXPECT_EQ(rows[0].Num("duration"), 1800.0);
  EXPECT_EQ(rows[1]["packets_count"], "1");
  EXPECT_EQ(rows[1]["flow_id"], "10.0.0.1_5000_10.0.0.2_53_UDP_2023-11-14 22:43:30");
}

TEST(EngineCorrected, ActiveTimeoutByClock) {
  EngineRun run(Profile::kCorrected);
  for (uint64_t k = 0; k <= 18; ++k) run.Feed(U(T + k * 100 * kSec, true, 10));  // up to T+1800
  run.engine->AdvanceTime(T + 1800 * kSec);
  EXPECT_EQ(run.sink.rows.size(), 0u) << "age == 1800 s is not > 1800 s";
  run.engine->AdvanceTime(T + 1800 * kSec + 1);
  ASSERT_EQ(run.sink.rows.size(), 1u);
  EXPECT_EQ(run.Exported(EndReason::kActiveTimeout), 1u);
  EXPECT_EQ(run.Rows()[0]["packets_count"], "19");
}

TEST(EngineCorrected, EvictionOfLeastRecentlyActiveWhenTableFull) {
  EngineRun run(Profile::kCorrected, ".17g", [](EngineConfig& c) { c.max_flows = 2; });
  EXPECT_EQ(run.engine->Stats().table_capacity, 2u);
  run.Feed(Udp(T, C, 1, S, 53, 10, 10));               // A
  run.Feed(Udp(T + 1 * kSec, C, 2, S, 53, 10, 10));    // B
  run.Feed(Udp(T + 2 * kSec, C, 1, S, 53, 10, 10));    // A again: B is now least recently active
  run.Feed(Udp(T + 3 * kSec, C, 3, S, 53, 10, 10));    // C: table full -> evict B
  ASSERT_EQ(run.sink.rows.size(), 1u);
  EXPECT_EQ(run.Rows()[0]["src_port"], "2");
  EXPECT_EQ(run.sink.summaries[0].reason, EndReason::kEviction);
  EXPECT_EQ(run.Exported(EndReason::kEviction), 1u);
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1]["src_port"], "1");
  EXPECT_EQ(rows[1]["packets_count"], "2");
  EXPECT_EQ(rows[2]["src_port"], "3");
}

TEST(EngineCorrected, ShutdownFlushesOldestFirst) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Udp(T, C, 1, S, 53, 10, 10));             // X created first
  run.Feed(Udp(T + 1 * kSec, C, 2, S, 53, 10, 10));  // Y
  run.Feed(Udp(T + 2 * kSec, C, 3, S, 53, 10, 10));  // Z
  run.Feed(Udp(T + 3 * kSec, S, 53, C, 1, 10, 10));  // X most recently active, still oldest
  EXPECT_EQ(run.engine->Stats().flows_active, 3u);
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["src_port"], "1");
  EXPECT_EQ(rows[1]["src_port"], "2");
  EXPECT_EQ(rows[2]["src_port"], "3");
  for (const auto& s : run.sink.summaries) EXPECT_EQ(s.reason, EndReason::kShutdown);
  EXPECT_EQ(run.Exported(EndReason::kShutdown), 3u);
  EXPECT_EQ(run.engine->Stats().flows_active, 0u);
}

// ------------------------------------------------------------------------------------------
TEST(EngineCorrected, Ipv6Flow) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Tcp(T, "2001:db8::1", 50000, "2001:db8::2", 443, SYN, 0, 0, 64800, 40));
  run.Feed(Tcp(T + 20 * kMs, "2001:db8::2", 443, "2001:db8::1", 50000, SYN | ACK, 0, 0, 65000, 40));
  run.Feed(Tcp(T + 40 * kMs, "2001:db8::1", 50000, "2001:db8::2", 443, PSH | ACK, 517, 517, 500, 32));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r["flow_id"], "2001:db8::1_50000_2001:db8::2_443_TCP_2023-11-14 22:13:20");
  EXPECT_EQ(r["src_ip"], "2001:db8::1");
  EXPECT_EQ(r["dst_ip"], "2001:db8::2");
  EXPECT_EQ(r["packets_count"], "3");
  EXPECT_EQ(r["fwd_packets_count"], "2");
  EXPECT_EQ(r["total_payload_bytes"], "517");
  EXPECT_EQ(r["total_header_bytes"], "112");  // 40 + 40 + 32
  EXPECT_EQ(r["fwd_init_win_bytes"], "64800");
  EXPECT_EQ(r["bwd_init_win_bytes"], "65000");
  EXPECT_EQ(r.Num("duration"), 0.04);
}

TEST(EngineCorrected, IcmpIcmpv6AndOtherProtocols) {
  EngineRun run(Profile::kCorrected);
  run.Feed(Other(T, "10.0.0.1", "10.0.0.2", 1, 56));                // echo request
  run.Feed(Other(T + 1 * kMs, "10.0.0.2", "10.0.0.1", 1, 56));      // echo reply: same flow
  run.Feed(Other(T + 2 * kMs, "fe80::1", "fe80::2", 58, 24));       // ICMPv6
  run.Feed(Other(T + 3 * kMs, "10.0.0.1", "10.0.0.2", 47, 100, 0)); // GRE: number
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["protocol"], "ICMP");
  EXPECT_EQ(rows[0]["src_port"], "0");
  EXPECT_EQ(rows[0]["dst_port"], "0");
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(rows[0]["fwd_packets_count"], "1");
  EXPECT_EQ(rows[0]["bwd_packets_count"], "1");
  EXPECT_EQ(rows[0]["total_payload_bytes"], "112");
  EXPECT_EQ(rows[0]["total_header_bytes"], "16");  // ICMP header 8 x 2
  EXPECT_EQ(rows[0]["flow_id"], "10.0.0.1_0_10.0.0.2_0_ICMP_2023-11-14 22:13:20");
  EXPECT_EQ(rows[1]["protocol"], "ICMPv6");
  EXPECT_EQ(rows[1]["src_ip"], "fe80::1");
  EXPECT_EQ(rows[2]["protocol"], "47");
  EXPECT_EQ(rows[2]["src_port"], "0");
  EXPECT_EQ(rows[2]["total_header_bytes"], "0");
}

TEST(EngineCorrected, StatsCounters) {
  EngineRun run(Profile::kCorrected);
  run.Feed(U(T, true, 10));
  run.Feed(U(T + kMs, false, 10));
  run.Feed(Udp(T + 2 * kMs, C, 6000, S, 53, 10, 10));
  run.engine->OnSkipped(SkipReason::kNotIp, 60);
  const EngineStats& s = run.engine->Stats();
  EXPECT_EQ(s.packets, 4u);            // 3 offered + 1 skipped
  EXPECT_EQ(s.packets_in_flows, 3u);
  EXPECT_EQ(s.skipped[static_cast<int>(SkipReason::kNotIp)], 1u);
  EXPECT_EQ(s.flows_created, 2u);
  EXPECT_EQ(s.flows_active, 2u);
  run.engine->AdvanceTime(T + 200 * kSec);  // both idle > 120 s
  EXPECT_EQ(run.Exported(EndReason::kIdle), 2u);
  EXPECT_EQ(run.engine->Stats().flows_active, 0u);
  run.Flush();
  EXPECT_EQ(run.ExportedTotal(), 2u);
  EXPECT_EQ(run.sink.rows.size(), 2u);
  uint64_t pk = 0;
  for (const auto& sm : run.sink.summaries) pk += sm.packets;
  EXPECT_EQ(pk, 3u);
}

// Default float format (shortest round-trip): float columns always print as floats, integer
// columns as integers; "no data" is 0.0 in a float column and 0 in an integer column.
TEST(EngineCorrected, DefaultFloatTextFloatColumnsAlwaysFloat) {
  EngineRun run(Profile::kCorrected, "");
  run.Feed(CtoS(T, ACK, 6));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r["duration"], "0.0");
  EXPECT_EQ(r["payload_bytes_mean"], "6.0");
  EXPECT_EQ(r["bwd_payload_bytes_mean"], "0.0");    // no backward data, float column
  EXPECT_EQ(r["bwd_payload_bytes_max"], "0");       // integer column
  EXPECT_EQ(r["bwd_mean_header_bytes"], "0.0");
  EXPECT_EQ(r["packets_IAT_mean"], "0.0");
  EXPECT_EQ(r["bytes_rate"], "0.0");
  EXPECT_EQ(r["active_min"], "0.0");
  EXPECT_EQ(r["fwd_bulk_duration"], "0.0");
  EXPECT_EQ(r["bwd_avg_segment_size"], "0.0");
  EXPECT_EQ(r["fwd_avg_segment_size"], "6.0");
  EXPECT_EQ(r["subflow_fwd_packets"], "1.0");       // 1 packet / 1 subflow
  EXPECT_EQ(r["subflow_fwd_bytes"], "6.0");
  EXPECT_EQ(r["packets_count"], "1");
  EXPECT_EQ(r["fwd_bulk_state_count"], "0");
}

// Flag counters are 16-bit in the flow record and move to the cold slot when a direction
// passes 65,535 packets; an activity gap also uses the cold slot. fwd: 70,000 PSH|ACK packets
// 1 us apart, every 3rd also URG (i = 0, 3, ..., 69999: 23,334); then 6 s later (> 5 s
// threshold) 66,000 ACK packets backward 1 us apart, every 2nd also ECE (33,000).
// Active periods: 0.069999 s (first) and 0.065999 s (last, at export); idle: 6 s.
TEST(EngineCorrected, FlagCountsPast65535PacketsAndColdSlot) {
  EngineRun run(Profile::kCorrected);
  const uint64_t kUs = 1000;
  for (uint64_t i = 0; i < 70000; ++i) run.Feed(CtoS(T + i * kUs, PSH | ACK | (i % 3 == 0 ? URG : 0), 10));
  const uint64_t t1 = T + 69999 * kUs + 6 * kSec;
  for (uint64_t i = 0; i < 66000; ++i) run.Feed(StoC(t1 + i * kUs, ACK | (i % 2 == 0 ? ECE : 0), 0));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r["fwd_packets_count"], "70000");
  EXPECT_EQ(r["bwd_packets_count"], "66000");
  EXPECT_EQ(r["fwd_ack_flag_counts"], "70000");
  EXPECT_EQ(r["fwd_psh_flag_counts"], "70000");
  EXPECT_EQ(r["fwd_urg_flag_counts"], "23334");
  EXPECT_EQ(r["fwd_ece_flag_counts"], "0");
  EXPECT_EQ(r["bwd_ack_flag_counts"], "66000");
  EXPECT_EQ(r["bwd_ece_flag_counts"], "33000");
  EXPECT_EQ(r["bwd_psh_flag_counts"], "0");
  EXPECT_EQ(r["ack_flag_counts"], "136000");
  EXPECT_EQ(r["psh_flag_counts"], "70000");
  EXPECT_EQ(r["syn_flag_counts"], "0");
  EXPECT_EQ(r.Num("active_min"), 0.065999);
  EXPECT_EQ(r.Num("active_max"), 0.069999);
  EXPECT_EQ(r.Num("idle_min"), 6.0);
  EXPECT_EQ(r.Num("idle_max"), 6.0);
  EXPECT_EQ(r.Num("fwd_packets_IAT_total"), 0.069999);
  EXPECT_EQ(r.Num("bwd_packets_IAT_total"), 0.065999);
  EXPECT_EQ(r.Num("packet_IAT_total"), 6.135998);  // 0.069999 + 6 + 0.065999 s, exact ns sum
}

// A cold slot freed with its flow is handed out zeroed: the second flow's periods are its own.
TEST(EngineCorrected, ColdSlotReusedClean) {
  EngineRun run(Profile::kCorrected);
  for (uint64_t s : {0, 1, 10}) run.Feed(U(T + s * kSec, true, 10));  // idle 9, active 1 and 0
  run.Flush();
  for (uint64_t s : {100, 107, 108, 110}) run.Feed(U(T + s * kSec, true, 10));  // idle 7, active 3
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].Num("idle_max"), 9.0);
  EXPECT_EQ(rows[0].Num("active_max"), 1.0);
  EXPECT_EQ(rows[1].Num("idle_min"), 7.0);
  EXPECT_EQ(rows[1].Num("idle_max"), 7.0);
  EXPECT_EQ(rows[1].Num("active_min"), 3.0);
  EXPECT_EQ(rows[1].Num("active_max"), 3.0);
  EXPECT_EQ(rows[1].Num("active_mean"), 3.0);
}

}  // namespace
