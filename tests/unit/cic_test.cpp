// SPDX-License-Identifier: MIT
// Profile cic (CICFlowMeter master, CIC.md) and the corrected CIC set: Java Double.toString,
// the Timestamp text, CicEngine's life cycle and feature edges, and DecodeCic. Expected values
// are worked out by hand from the spec (its verified examples where it has them).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../common/packet_builder.hpp"
#include "../tools/engine_harness.hpp"
#include "engine/cic/cic_engine.hpp"
#include "engine/cic/cic_flow.hpp"
#include "output/cic_row.hpp"
#include "output/java_double.hpp"
#include "profile/profile_table.hpp"
#include "source/decode.hpp"
#include "source/decode_cic.hpp"

namespace nfm {
namespace {

using enginetest::ACK;
using enginetest::FIN;
using enginetest::PSH;
using enginetest::RST;
using enginetest::SYN;
using enginetest::URG;
using enginetest::Row;
using enginetest::SplitCsv;

std::string J(double x) {
  std::string s;
  fmt::AppendJavaDouble(s, x);
  return s;
}

// ---------------- Java Double.toString (CIC.md §6.2) ----------------
TEST(JavaDouble, SpecialValues) {
  EXPECT_EQ(J(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(J(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(J(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(J(0.0), "0.0");
  EXPECT_EQ(J(-0.0), "-0.0");
}

TEST(JavaDouble, PlainRange) {
  EXPECT_EQ(J(150.0), "150.0");
  EXPECT_EQ(J(0.001), "0.001");
  EXPECT_EQ(J(40.0 / 3.0), "13.333333333333334");
  EXPECT_EQ(J(9999999.0), "9999999.0");
  EXPECT_EQ(J(0.5), "0.5");
  EXPECT_EQ(J(-12.0), "-12.0");
  EXPECT_EQ(J(1234567.25), "1234567.25");
  EXPECT_EQ(J(0.0123), "0.0123");
  EXPECT_EQ(J(460262.0), "460262.0");
}

TEST(JavaDouble, ScientificRange) {
  EXPECT_EQ(J(1e7), "1.0E7");
  EXPECT_EQ(J(20971500.0), "2.09715E7");
  EXPECT_EQ(J(1.4999922005126668e15), "1.4999922005126668E15");
  EXPECT_EQ(J(1.25e-4), "1.25E-4");
  EXPECT_EQ(J(9.99e-4), "9.99E-4");
  EXPECT_EQ(J(89853796.0), "8.9853796E7");  // a reference row of tcpdump_afs
  EXPECT_EQ(J(-1.5e10), "-1.5E10");
  EXPECT_EQ(J(1e100), "1.0E100");
}

// ---------------- SummaryStatistics (§4.7) ----------------
TEST(CicStat, WelfordMeanAndSampleVariance) {
  CicStat s{};
  for (double x : {30.0, 30.0, 40.0, 50.0}) s.Add(x);
  EXPECT_EQ(s.Mean(), 37.5);
  EXPECT_EQ(J(s.Variance()), "91.66666666666664");  // m2/(n-1) through Welford, not 91.666...67
  EXPECT_EQ(s.Min(), 30.0);
  EXPECT_EQ(s.Max(), 50.0);
  EXPECT_EQ(s.sum, 150.0);
}

TEST(CicStat, EmptyAndSingle) {
  CicStat s{};
  EXPECT_TRUE(std::isnan(s.Mean()));
  EXPECT_TRUE(std::isnan(s.Std()));
  EXPECT_TRUE(std::isnan(s.Min()));
  s.Add(7.0);
  EXPECT_EQ(s.Std(), 0.0);
  EXPECT_EQ(s.Variance(), 0.0);
  EXPECT_EQ(s.Mean(), 7.0);
}

// ---------------- Timestamp (§6.3) ----------------
TEST(CicTimestamp, TwelveHourClock) {
  auto ts = [](int64_t sec, int64_t us) {
    std::string s;
    AppendCicTimestamp(s, sec * 1000000000 + us * 1000, false);
    return s;
  };
  EXPECT_EQ(ts(1499992200, 500000), "14/07/2017 12:30:00 AM");  // the spec's verified value
  EXPECT_EQ(ts(1499992200 + 12 * 3600, 0), "14/07/2017 12:30:00 PM");
  EXPECT_EQ(ts(1499992200 + 12 * 3600 + 35 * 60 + 9, 999999), "14/07/2017 01:05:09 PM");
  EXPECT_EQ(ts(1499992200 - 30 * 60 - 1, 0), "13/07/2017 11:59:59 PM");
  EXPECT_EQ(ts(0, 0), "01/01/1970 12:00:00 AM");
}

// ---------------- Engine ----------------
// Collects the CIC rows of an engine as text (header at Begin, as CicCsvExporter does).
class CicCapture : public FlowExporter {
 public:
  void Begin(Profile, const FeatureSet&) override {
    ++header_calls;
    header = CicHeaderLine();
  }
  void Export(const FlowView& v) override {
    std::string r;
    AppendCicRow(r, v, false);
    rows.push_back(r);
  }
  int header_calls = 0;
  std::string header;
  std::vector<std::string> rows;
};

struct CicRun {
  explicit CicRun(Profile p) {
    cfg.profile = p;
    ApplyProfileDefaults(cfg, false, false, false);
    cfg.max_flows = 1024;
    engine = std::make_unique<CicEngine>(cfg);
    engine->AddExporter(sink);
  }
  void Feed(const PacketMeta& m) { engine->OnPacket(m); }
  std::vector<Row> Rows() {
    engine->Flush(EndReason::kShutdown);
    std::string h = sink.header;
    EXPECT_EQ(h.back(), '\n');
    h.pop_back();
    auto names = SplitCsv(h);
    EXPECT_EQ(names.size(), 84u);
    std::vector<Row> out;
    for (std::string r : sink.rows) {
      EXPECT_EQ(r.back(), '\n');
      r.pop_back();
      auto v = SplitCsv(r);
      EXPECT_EQ(v.size(), 84u) << r;
      out.emplace_back(names, v);
    }
    return out;
  }
  EngineConfig cfg;
  CicCapture sink;
  std::unique_ptr<CicEngine> engine;
};

constexpr uint64_t kT0 = 1499992200500000000ull;  // 14/07/2017 00:30:00.5 UTC
constexpr uint64_t kMs = 1000000ull;
constexpr uint64_t kS = 1000000000ull;
const char* C = "10.0.0.1";
const char* S = "10.0.0.2";

PacketMeta Tcp(uint64_t t, bool c2s, uint8_t flags, uint32_t pl, uint16_t win = 1000, uint16_t hl = 20) {
  return c2s ? enginetest::Tcp(t, C, 40000, S, 80, flags, pl, pl, win, hl)
             : enginetest::Tcp(t, S, 80, C, 40000, flags, pl, pl, win, hl);
}
PacketMeta Udp(uint64_t t, bool c2s, uint32_t pl) {
  return c2s ? enginetest::Udp(t, C, 5000, S, 53, pl, pl) : enginetest::Udp(t, S, 53, C, 5000, pl, pl);
}

TEST(CicEngine, HeaderIsWrittenWithoutFlows) {
  CicRun r(Profile::kCic);
  EXPECT_TRUE(r.Rows().empty());
  EXPECT_EQ(r.sink.header_calls, 1);
  EXPECT_EQ(r.sink.header.substr(0, 24), "Flow ID,Src IP,Src Port,");
  EXPECT_EQ(r.sink.header.substr(r.sink.header.size() - 24), "Idle Max,Idle Min,Label\n");
}

// §4.4 verified example: packets at 0, 0.5, 2.0, 9.0, 9.1 s -> Active [2e6], Idle [7e6].
TEST(CicEngine, ActiveIdleSubflowOneDirection) {
  CicRun r(Profile::kCic);
  for (uint64_t ms : {0, 500, 2000, 9000, 9100}) r.Feed(Udp(kT0 + ms * kMs, true, 10));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& x = rows[0];
  EXPECT_EQ(x["Flow ID"], "10.0.0.1-10.0.0.2-5000-53-17");
  EXPECT_EQ(x["Timestamp"], "14/07/2017 12:30:00 AM");
  EXPECT_EQ(x["Flow Duration"], "9100000");
  EXPECT_EQ(x["Total Fwd Packet"], "5");
  EXPECT_EQ(x["Total Bwd packets"], "0");
  EXPECT_EQ(x["Total Length of Fwd Packet"], "50.0");
  EXPECT_EQ(x["Total Length of Bwd Packet"], "0.0");
  // Empty backward direction: the literal "0" guards.
  for (const char* c : {"Bwd Packet Length Max", "Bwd Packet Length Min", "Bwd Packet Length Mean",
                        "Bwd Packet Length Std", "Bwd IAT Total", "Bwd IAT Mean", "Bwd IAT Std", "Bwd IAT Max",
                        "Bwd IAT Min"})
    EXPECT_EQ(x[c], "0") << c;
  EXPECT_EQ(x["Bwd Segment Size Avg"], "0.0");
  EXPECT_EQ(x["Down/Up Ratio"], "0.0");
  EXPECT_EQ(x["Fwd IAT Total"], "9100000.0");
  EXPECT_EQ(x["Fwd IAT Mean"], "2275000.0");
  EXPECT_EQ(x["Fwd IAT Max"], "7000000.0");
  EXPECT_EQ(x["Fwd IAT Min"], "100000.0");
  EXPECT_EQ(x["Flow IAT Max"], "7000000.0");
  EXPECT_EQ(x["Active Mean"], "2000000.0");
  EXPECT_EQ(x["Active Std"], "0.0");
  EXPECT_EQ(x["Active Max"], "2000000.0");
  EXPECT_EQ(x["Idle Mean"], "7000000.0");
  EXPECT_EQ(x["Idle Min"], "7000000.0");
  // Two gaps > 1 s: sf_count 2 (C13): 5/2 packets, 50/2 bytes.
  EXPECT_EQ(x["Subflow Fwd Packets"], "2");
  EXPECT_EQ(x["Subflow Fwd Bytes"], "25");
  EXPECT_EQ(x["Subflow Bwd Packets"], "0");
  // C9: the first packet is not counted; C10: header length 8.
  EXPECT_EQ(x["Fwd Act Data Pkts"], "4");
  EXPECT_EQ(x["Fwd Seg Size Min"], "8");
  // C1: LEN holds six 10s, Average Packet Size = 60 / 5.
  EXPECT_EQ(x["Packet Length Mean"], "10.0");
  EXPECT_EQ(x["Average Packet Size"], "12.0");
  EXPECT_EQ(x["Fwd Header Length"], "40");
  EXPECT_EQ(x["Flow Bytes/s"], "5.4945054945054945");   // 50 / 9.1
  EXPECT_EQ(x["Flow Packets/s"], "0.5494505494505495");  // 5 / 9.1
  EXPECT_EQ(x["Fwd Packets/s"], "0.5494505494505495");
  EXPECT_EQ(x["Bwd Packets/s"], "0.0");
  EXPECT_EQ(x["FWD Init Win Bytes"], "0");
  EXPECT_EQ(x["Label"], "NeedManualLabel");
}

TEST(CicEngine, ActiveIdleCorrectedRecordsLastPeriodAndSubflowCount) {
  CicRun r(Profile::kCorrected);
  for (uint64_t ms : {0, 500, 2000, 9000, 9100}) r.Feed(Udp(kT0 + ms * kMs, true, 10));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  // C11: the last active period (9.0 -> 9.1 s) is recorded: [2e6, 1e5].
  EXPECT_EQ(rows[0]["Active Mean"], "1050000.0");
  EXPECT_EQ(rows[0]["Active Min"], "100000.0");
  // C13: 3 subflows, real division; C9: 5 data packets; C10: min payload; C1: 50 / 5.
  EXPECT_EQ(rows[0]["Subflow Fwd Packets"], J(5.0 / 3.0));
  EXPECT_EQ(rows[0]["Fwd Act Data Pkts"], "5");
  EXPECT_EQ(rows[0]["Fwd Seg Size Min"], "10");
  EXPECT_EQ(rows[0]["Average Packet Size"], "10.0");
  EXPECT_EQ(rows[0]["Timestamp"], "2017-07-14T00:30:00.500000Z");  // C21
}

// §4.5 verified example: payloads 100 (C), 300, 1000, 1000, 1000 (S), 50 (C) within 21 ms.
TEST(CicEngine, BulkAllPacketsOneMachine) {
  CicRun r(Profile::kCic);
  r.Feed(Tcp(kT0, true, ACK, 100, 700));
  r.Feed(Tcp(kT0 + 1 * kMs, false, ACK, 300, 501));
  r.Feed(Tcp(kT0 + 2 * kMs, false, ACK, 1000, 502));
  r.Feed(Tcp(kT0 + 3 * kMs, false, ACK, 1000, 503));
  r.Feed(Tcp(kT0 + 4 * kMs, false, ACK, 1000, 504));
  r.Feed(Tcp(kT0 + 21 * kMs, true, ACK, 50, 705));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& x = rows[0];
  EXPECT_EQ(x["Bwd Bytes/Bulk Avg"], "3450");
  EXPECT_EQ(x["Bwd Packet/Bulk Avg"], "6");
  EXPECT_EQ(x["Bwd Bulk Rate Avg"], "164285");  // (long)(3450 / 0.021)
  EXPECT_EQ(x["Fwd Bytes/Bulk Avg"], "0");
  EXPECT_EQ(x["Fwd Packet/Bulk Avg"], "0");
  EXPECT_EQ(x["Fwd Bulk Rate Avg"], "0");
  // C1: LEN = 100,100,300,1000,1000,1000,50.
  EXPECT_EQ(x["Packet Length Min"], "50.0");
  EXPECT_EQ(x["Packet Length Max"], "1000.0");
  EXPECT_EQ(x["Packet Length Mean"], "507.14285714285717");
  EXPECT_EQ(x["Packet Length Variance"], "218690.47619047618");
  EXPECT_EQ(x["Average Packet Size"], "591.6666666666666");  // 3550 / 6
  EXPECT_EQ(x["Bwd Packet Length Mean"], "825.0");
  EXPECT_EQ(x["Bwd Packet Length Std"], "350.0");
  // C8: the last backward window; forward: the first packet's.
  EXPECT_EQ(x["Bwd Init Win Bytes"], "504");
  EXPECT_EQ(x["FWD Init Win Bytes"], "700");
  EXPECT_EQ(x["Down/Up Ratio"], "2.0");
  EXPECT_EQ(x["Fwd Act Data Pkts"], "1");
}

TEST(CicEngine, BulkCorrectedPerDirection) {
  CicRun r(Profile::kCorrected);
  r.Feed(Tcp(kT0, true, ACK, 100, 700));
  r.Feed(Tcp(kT0 + 1 * kMs, false, ACK, 300, 501));
  r.Feed(Tcp(kT0 + 2 * kMs, false, ACK, 1000, 502));
  r.Feed(Tcp(kT0 + 3 * kMs, false, ACK, 1000, 503));
  r.Feed(Tcp(kT0 + 4 * kMs, false, ACK, 1000, 504));
  r.Feed(Tcp(kT0 + 21 * kMs, true, ACK, 50, 705));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& x = rows[0];
  // C3: the backward bulk is S's four packets 300+3000 over 3 ms; no forward bulk.
  EXPECT_EQ(x["Bwd Bytes/Bulk Avg"], "3300");
  EXPECT_EQ(x["Bwd Packet/Bulk Avg"], "4");
  EXPECT_EQ(x["Bwd Bulk Rate Avg"], "1100000");  // 3300 / 0.003
  EXPECT_EQ(x["Fwd Bytes/Bulk Avg"], "0");
  EXPECT_EQ(x["Bwd Init Win Bytes"], "501");  // C8: first backward window
  EXPECT_EQ(x["Packet Length Mean"], "575.0");  // C1: 3450 / 6
  EXPECT_EQ(x["Fwd Act Data Pkts"], "2");       // C9
}

// §3.2: the flow ends at the responder's first FIN; the initiator's repeated FIN is dropped;
// the last ACK starts a 1-packet flow that is never written.
TEST(CicEngine, FinRuleAndDroppedRepeatedFin) {
  CicRun r(Profile::kCic);
  r.Feed(Tcp(kT0, true, SYN, 0, 100));
  r.Feed(Tcp(kT0 + 1 * kMs, false, SYN | ACK, 0, 200));
  r.Feed(Tcp(kT0 + 2 * kMs, true, ACK, 0));
  r.Feed(Tcp(kT0 + 3 * kMs, true, FIN | ACK, 0));
  r.Feed(Tcp(kT0 + 4 * kMs, true, FIN | ACK, 0));  // retransmitted: dropped (C5)
  r.Feed(Tcp(kT0 + 5 * kMs, false, FIN | ACK, 0, 300));
  r.Feed(Tcp(kT0 + 6 * kMs, true, ACK, 0));  // appendix, one packet (C4, C12)
  EXPECT_EQ(r.sink.rows.size(), 1u);          // written when the FIN arrived
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& x = rows[0];
  EXPECT_EQ(x["Total Fwd Packet"], "3");
  EXPECT_EQ(x["Total Bwd packets"], "2");
  EXPECT_EQ(x["FIN Flag Count"], "2");
  EXPECT_EQ(x["SYN Flag Count"], "2");
  EXPECT_EQ(x["ACK Flag Count"], "4");
  EXPECT_EQ(x["Flow Duration"], "5000");
  EXPECT_EQ(x["Bwd Init Win Bytes"], "300");
  EXPECT_EQ(x["Fwd Header Length"], "60");
  EXPECT_EQ(r.engine->Stats().flows_exported[static_cast<int>(EndReason::kFin)], 1u);
}

TEST(CicEngine, FinCorrectedClosesAfterBothFinsAndFinalAck) {
  CicRun r(Profile::kCorrected);
  r.Feed(Tcp(kT0, true, SYN, 0, 100));
  r.Feed(Tcp(kT0 + 1 * kMs, false, SYN | ACK, 0, 200));
  r.Feed(Tcp(kT0 + 2 * kMs, true, ACK, 0));
  r.Feed(Tcp(kT0 + 3 * kMs, true, FIN | ACK, 0));
  r.Feed(Tcp(kT0 + 4 * kMs, true, FIN | ACK, 0));
  r.Feed(Tcp(kT0 + 5 * kMs, false, FIN | ACK, 0, 300));
  r.Feed(Tcp(kT0 + 6 * kMs, true, ACK, 0));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Total Fwd Packet"], "5");
  EXPECT_EQ(rows[0]["Total Bwd packets"], "2");
  EXPECT_EQ(rows[0]["FIN Flag Count"], "3");  // C5
  EXPECT_EQ(rows[0]["Bwd Init Win Bytes"], "200");
  EXPECT_EQ(r.engine->Stats().flows_exported[static_cast<int>(EndReason::kFin)], 1u);
}

TEST(CicEngine, RstClosesIncludingTheRst) {
  CicRun r(Profile::kCic);
  r.Feed(Tcp(kT0, true, SYN, 0));
  r.Feed(Tcp(kT0 + 1 * kMs, false, RST | ACK, 0));
  r.Feed(Tcp(kT0 + 2 * kMs, true, SYN, 0));
  r.Feed(Tcp(kT0 + 3 * kMs, false, RST, 0));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["RST Flag Count"], "1");
  EXPECT_EQ(rows[0]["Total Bwd packets"], "1");
  EXPECT_EQ(rows[1]["Flow Duration"], "1000");
}

// §3.3 verified example: old flow C->S; S->C @130 s, S->C @131 s, C->S @132 s.
TEST(CicEngine, TimeoutRecreationKeepsIdentity) {
  CicRun r(Profile::kCic);
  r.Feed(Tcp(kT0, true, ACK, 0, 10));
  r.Feed(Tcp(kT0 + 1 * kS, false, ACK, 0, 11));
  r.Feed(Tcp(kT0 + 130 * kS, false, PSH | ACK, 5, 77));
  r.Feed(Tcp(kT0 + 131 * kS, false, ACK, 0, 78));
  r.Feed(Tcp(kT0 + 132 * kS, true, ACK, 0, 79));
  EXPECT_EQ(r.sink.rows.size(), 1u);
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 2u);
  const Row& x = rows[1];
  EXPECT_EQ(x["Src IP"], "10.0.0.1");  // C7: kept from the old flow
  EXPECT_EQ(x["Flow ID"], "10.0.0.1-10.0.0.2-40000-80-6");
  EXPECT_EQ(x["Total Fwd Packet"], "2");
  EXPECT_EQ(x["Total Bwd packets"], "1");
  EXPECT_EQ(x["FWD Init Win Bytes"], "77");
  EXPECT_EQ(x["Fwd PSH Flags"], "1");
  EXPECT_EQ(x["Bwd Init Win Bytes"], "78");
}

TEST(CicEngine, TimeoutCorrectedOrientsNewFlowByItsFirstPacket) {
  CicRun r(Profile::kCorrected);
  r.cfg.idle_timeout_s = 1000;
  r.engine = std::make_unique<CicEngine>(r.cfg);
  r.engine->AddExporter(r.sink);
  r.Feed(Tcp(kT0, true, ACK, 0, 10));
  r.Feed(Tcp(kT0 + 100 * kS, false, ACK, 0, 11));
  r.Feed(Tcp(kT0 + 130 * kS, false, PSH | ACK, 5, 77));
  r.Feed(Tcp(kT0 + 131 * kS, true, ACK, 0, 79));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["Src IP"], "10.0.0.2");
  EXPECT_EQ(rows[1]["Total Fwd Packet"], "1");
  EXPECT_EQ(rows[1]["Total Bwd packets"], "1");
}

TEST(CicEngine, OnePacketFlowsDroppedInCicWrittenCorrected) {
  CicRun a(Profile::kCic), b(Profile::kCorrected);
  a.Feed(Udp(kT0, true, 10));
  b.Feed(Udp(kT0, true, 10));
  EXPECT_TRUE(a.Rows().empty());  // C12
  auto rows = b.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Flow Duration"], "0");
  EXPECT_EQ(rows[0]["Flow Bytes/s"], "0.0");
  EXPECT_EQ(rows[0]["Flow IAT Mean"], "0");
  EXPECT_EQ(rows[0]["Packet Length Std"], "0.0");
  EXPECT_EQ(rows[0]["Fwd Packet Length Std"], "0.0");
}

TEST(CicEngine, ZeroDurationDivisions) {
  CicRun r(Profile::kCic);
  r.Feed(Udp(kT0, true, 6));
  r.Feed(Udp(kT0, false, 6));
  r.Feed(enginetest::Udp(kT0, C, 7000, S, 7000, 0, 0));
  r.Feed(enginetest::Udp(kT0, C, 7000, S, 7000, 0, 0));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["Flow Bytes/s"], "Infinity");  // C15
  EXPECT_EQ(rows[0]["Flow Packets/s"], "Infinity");
  EXPECT_EQ(rows[0]["Fwd Packets/s"], "0.0");
  EXPECT_EQ(rows[0]["Flow IAT Mean"], "0.0");
  EXPECT_EQ(rows[0]["Down/Up Ratio"], "1.0");
  EXPECT_EQ(rows[1]["Flow Bytes/s"], "NaN");
  EXPECT_EQ(rows[1]["Flow Packets/s"], "Infinity");
  CicRun c(Profile::kCorrected);
  c.Feed(Udp(kT0, true, 6));
  c.Feed(Udp(kT0, false, 6));
  auto rc = c.Rows();
  ASSERT_EQ(rc.size(), 1u);
  EXPECT_EQ(rc[0]["Flow Bytes/s"], "0.0");
  EXPECT_EQ(rc[0]["Flow Packets/s"], "0.0");
}

TEST(CicEngine, NegativeDurationInFileOrder) {
  CicRun r(Profile::kCic);
  r.Feed(Udp(kT0 + 1 * kS, true, 6));
  r.Feed(Udp(kT0, true, 6));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Flow Duration"], "-1000000");  // C16
  EXPECT_EQ(rows[0]["Flow Bytes/s"], "-12.0");
  EXPECT_EQ(rows[0]["Flow Packets/s"], "-2.0");
  EXPECT_EQ(rows[0]["Fwd Packets/s"], "0.0");
  EXPECT_EQ(rows[0]["Flow IAT Min"], "-1000000.0");
  CicRun c(Profile::kCorrected);
  c.Feed(Udp(kT0 + 1 * kS, true, 6));
  c.Feed(Udp(kT0, true, 6));
  auto rc = c.Rows();
  ASSERT_EQ(rc.size(), 1u);
  EXPECT_EQ(rc[0]["Flow Duration"], "0");
  EXPECT_EQ(rc[0]["Flow IAT Min"], "0.0");
}

TEST(CicEngine, DirectionByIpOnly) {
  CicRun r(Profile::kCic);
  r.Feed(enginetest::Tcp(kT0, C, 1000, C, 2000, ACK, 0, 0));
  r.Feed(enginetest::Tcp(kT0 + kMs, C, 2000, C, 1000, FIN | ACK, 0, 0));  // "forward": no close
  EXPECT_TRUE(r.sink.rows.empty());
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Total Fwd Packet"], "2");  // C6
  EXPECT_EQ(rows[0]["Total Bwd packets"], "0");
  CicRun c(Profile::kCorrected);
  c.Feed(enginetest::Tcp(kT0, C, 1000, C, 2000, ACK, 0, 0));
  c.Feed(enginetest::Tcp(kT0 + kMs, C, 2000, C, 1000, ACK, 0, 0));
  auto rc = c.Rows();
  ASSERT_EQ(rc.size(), 1u);
  EXPECT_EQ(rc[0]["Total Bwd packets"], "1");
}

TEST(CicEngine, PshUrgDownUpInitWin) {
  for (Profile p : {Profile::kCic, Profile::kCorrected}) {
    CicRun r(p);
    r.Feed(Tcp(kT0, true, ACK, 0, 10));  // first packet: no PSH
    for (int i = 1; i < 5; ++i) r.Feed(Tcp(kT0 + i * kMs, true, PSH | ACK, 10, 10));
    for (int i = 0; i < 6; ++i) r.Feed(Tcp(kT0 + (10 + i) * kMs, false, PSH | URG | ACK, 10, 100 + i));
    auto rows = r.Rows();
    ASSERT_EQ(rows.size(), 1u);
    const Row& x = rows[0];
    const bool cic = p == Profile::kCic;
    EXPECT_EQ(x["Fwd PSH Flags"], cic ? "0" : "4");  // C2
    EXPECT_EQ(x["Bwd PSH Flags"], cic ? "0" : "6");
    EXPECT_EQ(x["Bwd URG Flags"], cic ? "0" : "6");
    EXPECT_EQ(x["PSH Flag Count"], "10");
    EXPECT_EQ(x["URG Flag Count"], "6");
    EXPECT_EQ(x["Down/Up Ratio"], cic ? "1.0" : "1.2");  // C14: 6 / 5
    EXPECT_EQ(x["Bwd Init Win Bytes"], cic ? "105" : "100");  // C8
  }
}

// Strict comparisons (§3.1, §4.4, §4.5, §4.6): exactly at a threshold nothing happens.
TEST(CicEngine, FlowTimeoutIsStrict) {
  CicRun r(Profile::kCic);
  r.Feed(Udp(kT0, true, 1));
  r.Feed(Udp(kT0 + 120 * kS, true, 1));         // t - start = 120 s: same flow
  r.Feed(Udp(kT0 + 120 * kS + 1000, true, 1));  // 120 s + 1 µs: flow 1 written, a 1-packet flow begins
  EXPECT_EQ(r.sink.rows.size(), 1u);
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);  // the 1-packet flow vanishes at the end (C12)
  EXPECT_EQ(rows[0]["Flow Duration"], "120000000");
  EXPECT_EQ(rows[0]["Total Fwd Packet"], "2");
  EXPECT_EQ(rows[0]["Idle Mean"], "1.2E8");  // one 120 s idle period; no active period (length 0)
  EXPECT_EQ(rows[0]["Active Mean"], "0");
  EXPECT_EQ(r.engine->Stats().flows_exported[static_cast<int>(EndReason::kActiveTimeout)], 1u);
}

TEST(CicEngine, ActivityThresholdIsStrict) {
  CicRun r(Profile::kCic);
  r.Feed(Udp(kT0, true, 0));
  r.Feed(Udp(kT0 + 5 * kS, true, 0));          // gap 5 s: still active
  r.Feed(Udp(kT0 + 10 * kS + 1000, true, 0));  // gap 5 s + 1 µs: idle
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Active Mean"], "5000000.0");
  EXPECT_EQ(rows[0]["Idle Mean"], "5000001.0");
  EXPECT_EQ(rows[0]["Idle Std"], "0.0");
  // Two gaps > 1 s: sf_count 2, 3 packets / 2.
  EXPECT_EQ(rows[0]["Subflow Fwd Packets"], "1");
}

TEST(CicEngine, BulkAndSubflowGapsAreStrict) {
  CicRun r(Profile::kCic);
  for (int i = 0; i < 4; ++i) r.Feed(Udp(kT0 + i * kS, true, 100));  // gaps of exactly 1 s
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Bwd Bytes/Bulk Avg"], "400");  // 4th packet completes a bulk
  EXPECT_EQ(rows[0]["Bwd Packet/Bulk Avg"], "4");
  EXPECT_EQ(rows[0]["Bwd Bulk Rate Avg"], "133");  // (long)(400 / 3.0)
  EXPECT_EQ(rows[0]["Subflow Fwd Packets"], "0");   // no gap > 1 s: sf_count 0 -> the "0" guard
  CicRun three(Profile::kCic);
  for (int i = 0; i < 3; ++i) three.Feed(Udp(kT0 + i * kMs, true, 100));
  three.Feed(Udp(kT0 + 3 * kMs + 1 * kS + 1000, true, 100));  // gap > 1 s: the candidate restarts
  auto t = three.Rows();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["Bwd Bytes/Bulk Avg"], "0");
  EXPECT_EQ(t[0]["Bwd Bulk Rate Avg"], "0");
  EXPECT_EQ(t[0]["Subflow Fwd Packets"], "4");  // one gap: 4 / 1
  EXPECT_EQ(t[0]["Subflow Fwd Bytes"], "400");
}

// C18, C20: the corrected set makes per-protocol and IPv6 flows; the reference sees IPv4 only.
TEST(CicEngine, CorrectedIpv6AndIcmpFlows) {
  CicRun c(Profile::kCorrected), r(Profile::kCic);
  for (CicRun* x : {&c, &r}) {
    x->Feed(enginetest::Udp(kT0, "2001:db8::1", 5000, "2001:db8::2", 53, 20, 20));
    x->Feed(enginetest::Udp(kT0 + kMs, "2001:db8::2", 53, "2001:db8::1", 5000, 40, 40));
    x->Feed(enginetest::Other(kT0, C, S, 1, 56));
    x->Feed(enginetest::Other(kT0 + kMs, S, C, 1, 56));
  }
  auto rows = c.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["Flow ID"], "2001:db8::1-2001:db8::2-5000-53-17");
  EXPECT_EQ(rows[0]["Total Bwd packets"], "1");
  EXPECT_EQ(rows[0]["Total Length of Bwd Packet"], "40.0");
  EXPECT_EQ(rows[1]["Flow ID"], "10.0.0.1-10.0.0.2-0-0-1");
  EXPECT_EQ(rows[1]["Protocol"], "1");
  EXPECT_EQ(rows[1]["Fwd Header Length"], "8");
  // The reference: IPv6 skipped and counted; the ICMP packets (already protocol 0 from its
  // decoder in real use) make one flow.
  auto ref = r.Rows();
  ASSERT_EQ(ref.size(), 1u);
  EXPECT_EQ(r.engine->Stats().skipped[static_cast<int>(SkipReason::kUnsupported)], 2u);
}

TEST(CicEngine, FullTableEvictsAndCounts) {
  CicRun r(Profile::kCic);
  r.cfg.max_flows = 2;
  r.engine = std::make_unique<CicEngine>(r.cfg);
  r.engine->AddExporter(r.sink);
  r.Feed(enginetest::Udp(kT0, C, 1, S, 53, 5, 5));
  r.Feed(enginetest::Udp(kT0 + kMs, C, 1, S, 53, 5, 5));
  r.Feed(enginetest::Udp(kT0 + 2 * kMs, C, 2, S, 53, 5, 5));
  r.Feed(enginetest::Udp(kT0 + 3 * kMs, C, 2, S, 53, 5, 5));
  r.Feed(enginetest::Udp(kT0 + 4 * kMs, C, 3, S, 53, 5, 5));  // table full: flow 1 ends
  EXPECT_EQ(r.sink.rows.size(), 1u);
  EXPECT_EQ(r.engine->Stats().flows_exported[static_cast<int>(EndReason::kEviction)], 1u);
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 2u);  // flow 2 at the end; flow 3 has one packet
  EXPECT_EQ(rows[0]["Src Port"], "1");
  EXPECT_EQ(rows[1]["Src Port"], "2");
}

// §3.4: open flows at the end in Java HashMap<String, Flow> iteration order. Expected order from
// a real JDK 17 HashMap with the same puts (20 keys "10.0.0.1-10.0.0.2-<port>-53-17", then
// remove + put of port 1021, as a timeout re-creation does).
TEST(CicEngine, EndOfInputRowsInJavaHashMapOrder) {
  CicRun r(Profile::kCic);
  for (int i = 0; i < 20; ++i) {
    const uint16_t port = static_cast<uint16_t>(1000 + i * 7);
    r.Feed(enginetest::Udp(kT0 + i * kMs, C, port, S, 53, 1, 1));
    r.Feed(enginetest::Udp(kT0 + i * kMs + 1000, C, port, S, 53, 1, 1));
  }
  r.Feed(enginetest::Udp(kT0 + 130 * kS, C, 1021, S, 53, 1, 1));  // timeout: row, then a new put
  r.Feed(enginetest::Udp(kT0 + 130 * kS + kMs, C, 1021, S, 53, 1, 1));
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 21u);
  EXPECT_EQ(rows[0]["Src Port"], "1021");
  std::string order;
  for (size_t i = 1; i < rows.size(); ++i) order += rows[i]["Src Port"] + ",";
  EXPECT_EQ(order,
            "1000,1098,1105,1084,1056,1021,1049,1091,1119,1035,1042,1070,1028,1014,1133,1126,1007,1063,1077,1112,");
}

// ---------------- Decoder (§1) ----------------
using test::PacketBuilder;

PacketMeta Dec(const std::vector<uint8_t>& f, DecodeStatus want = DecodeStatus::kOk, uint32_t cap = 0) {
  PacketMeta m;
  const uint32_t c = cap ? cap : static_cast<uint32_t>(f.size());
  EXPECT_EQ(DecodeCic(f.data(), c, static_cast<uint32_t>(f.size()), &m), want);
  return m;
}
std::string Ip4(const uint8_t* a) {
  return std::to_string(a[12]) + "." + std::to_string(a[13]) + "." + std::to_string(a[14]) + "." +
         std::to_string(a[15]);
}

TEST(DecodeCic, UntaggedPaddingIsNotPayloadTaggedPaddingIs) {
  auto m = Dec(PacketBuilder().Eth().IPv4("1.2.3.4", "5.6.7.8").Tcp(1, 2, test::kAck).PadTo(60).Bytes());
  EXPECT_EQ(m.proto, 6);
  EXPECT_EQ(m.payload_ip, 0u);
  EXPECT_EQ(m.l4_header_len, 20);
  auto v = Dec(PacketBuilder().Eth().Vlan(5).IPv4("1.2.3.4", "5.6.7.8").Tcp(1, 2, test::kAck).PadTo(60).Bytes());
  EXPECT_EQ(v.payload_ip, 2u);  // C17: 58 -> 60 bytes
  auto q = Dec(PacketBuilder().Eth().Vlan(5).Vlan(6).IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Payload(3).Bytes());
  EXPECT_EQ(q.proto, 17);
  EXPECT_EQ(q.payload_ip, 3u);
}

TEST(DecodeCic, SnapLengthAndFragments) {
  auto f = PacketBuilder().Eth().IPv4("1.2.3.4", "5.6.7.8").Tcp(1, 2, test::kAck).Payload(1000).Bytes();
  auto m = Dec(f, DecodeStatus::kOk, 100);
  EXPECT_EQ(m.payload_ip, 46u);  // 100 - 14 - 20 - 20
  auto first = Dec(PacketBuilder().Eth().IPv4("1.2.3.4", "5.6.7.8").Ipv4Frag(true, 0).Udp(7, 8).Payload(32).Bytes());
  EXPECT_EQ(first.proto, 17);
  EXPECT_EQ(first.payload_ip, 32u);
  auto later = Dec(PacketBuilder().Eth().IPv4("1.2.3.4", "5.6.7.8").Ipv4Frag(false, 5).Udp(7, 8).Payload(32).Bytes());
  EXPECT_EQ(later.proto, 0);  // C18
  EXPECT_EQ(later.sport, 0);
  EXPECT_EQ(later.payload_ip, 0u);
  EXPECT_EQ(later.l4_header_len, 0);
  auto icmp = Dec(PacketBuilder().Eth().IPv4("1.2.3.4", "5.6.7.8").Icmp(8).Payload(20).Bytes());
  EXPECT_EQ(icmp.proto, 0);
  EXPECT_EQ(icmp.l4_header_len, 0);
}

TEST(DecodeCic, IcmpUnreachableQuotingUdpBecomesUdp) {
  // Outer 9.9.9.9 -> 1.2.3.4 ICMP 3/3 quoting 1.2.3.4:7003 -> 5.6.7.8:1792 UDP + 12 bytes.
  auto f = PacketBuilder().Eth().IPv4("9.9.9.9", "1.2.3.4").Icmp(3, 3).IPv4("1.2.3.4", "5.6.7.8").Udp(7003, 1792)
               .Payload(12).Bytes();
  auto m = Dec(f);
  EXPECT_EQ(Ip4(m.saddr), "9.9.9.9");
  EXPECT_EQ(m.proto, 17);
  EXPECT_EQ(m.sport, 7003);
  EXPECT_EQ(m.dport, 1792);
  EXPECT_EQ(m.payload_ip, 12u);
}

TEST(DecodeCic, NonEthernetRecordsReparsedAsIpv4) {
  // ARP broadcast: byte 0 = 0xff -> IHL 15 -> garbage 8.6.0.1 -> 8.0.6.4 (C19).
  auto arp = PacketBuilder().Eth(0x0806).Raw({0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01}).Payload(20).PadTo(60)
                 .Bytes();
  for (int i = 0; i < 6; ++i) arp[i] = 0xff;
  auto m = Dec(arp);
  EXPECT_EQ(Ip4(m.saddr), "8.6.0.1");
  EXPECT_EQ(Ip4(m.daddr), "8.0.6.4");
  EXPECT_EQ(m.proto, 0);
  // Raw IP (no link header): pass 2 decodes it.
  auto raw = Dec(PacketBuilder().IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Payload(4).Bytes());
  EXPECT_EQ(raw.proto, 17);
  EXPECT_EQ(raw.payload_ip, 4u);
  // Linux cooked v1 starts with 0x00: IHL 0, discarded.
  Dec(PacketBuilder().Sll(0, 0x0800).IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Bytes(), DecodeStatus::kNotIp);
  // IPv6 over Ethernet to 33:33:...: IHL 3, discarded (C20).
  auto v6 = PacketBuilder().Eth().IPv6("2001:db8::1", "ff02::1").Udp(1, 2).Bytes();
  v6[0] = v6[1] = 0x33;
  Dec(v6, DecodeStatus::kNotIp);
}

// An ARP request frame built byte by byte: Ethernet dst, src, 0x0806, then the ARP header
// (hw 1, proto 0x0800, 6, 4, opcode, sender MAC/IP, target MAC/IP), zero-padded or cut to `len`.
// Pass 2 reads it as IPv4: IHL = low nibble of dst[0], tot_len = dst[2..3], bytes 6-7 (MF =
// 0x20 of src[0]) from the source MAC, addresses 8.6.0.1 -> 8.0.6.4, option bytes from 20 on
// (byte 20 = 0x00, the opcode's high byte).
std::vector<uint8_t> ArpFrame(std::array<uint8_t, 6> dst, std::array<uint8_t, 6> src, size_t len) {
  std::vector<uint8_t> f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  for (uint8_t b : {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01}) f.push_back(b);
  f.insert(f.end(), src.begin(), src.end());
  for (uint8_t b : {10, 9, 0, 10, 0, 0, 0, 0, 0, 0, 10, 9, 0, 11}) f.push_back(b);
  f.resize(len, 0);
  return f;
}
DecodeStatus DecStatus(const std::vector<uint8_t>& f, uint32_t wire = 0) {
  PacketMeta m;
  const auto n = static_cast<uint32_t>(f.size());
  return DecodeCic(f.data(), n, wire ? wire : n, &m);
}
constexpr std::array<uint8_t, 6> kBcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Pass-2 IPv4 header of an ARP broadcast (IHL 15 = 60 bytes, tot_len 0xffff). jnetpcap 1.4:
// scan_ip4 sets hdr_payload = tot_len - 60, or caplen - 60 when MF (0x2000 of bytes 6-7) is set;
// adjustForTruncatedPacket cuts the 60-byte header to the record only when offset + 60 +
// hdr_payload > caplen, which the MF value never is; JPacket.getHeaderByIndex then peers 60
// bytes of a 42-byte packet and JMemory.peer throws IndexOutOfBoundsException, which
// PacketReader.getIpv4Info catches: no packet. A 60-byte frame holds the whole header.
TEST(DecodeCic, ArpBroadcastShorterThanIhlDependsOnTheMfBitOfTheSourceMac) {
  // src[0] = 0x3c: byte 6 has 0x20 (MF) -> 42 bytes: discarded; 60 bytes: 8.6.0.1 -> 8.0.6.4.
  const std::array<uint8_t, 6> mf{0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03};
  EXPECT_EQ(DecStatus(ArpFrame(kBcast, mf, 42)), DecodeStatus::kNotIp);
  EXPECT_EQ(DecStatus(ArpFrame(kBcast, mf, 59)), DecodeStatus::kNotIp);
  auto m60 = Dec(ArpFrame(kBcast, mf, 60));
  EXPECT_EQ(Ip4(m60.saddr), "8.6.0.1");
  EXPECT_EQ(Ip4(m60.daddr), "8.0.6.4");
  EXPECT_EQ(m60.proto, 0);
  // src 02:00:00:00:00:0a (shared/pcaps/edge_non_ip_frames.pcap, all lengths accepted by the
  // reference): MF clear, fragment offset 0x200. scan_ip4's offset test `frag &
  // IP4_FRAG_OFF_MASK > 0` is always false (precedence), so the header is cut to 42 bytes: kept.
  const std::array<uint8_t, 6> edge{0x02, 0, 0, 0, 0, 0x0a};
  for (size_t len : {42, 43, 46, 50, 54, 59, 60, 64}) {
    auto m = Dec(ArpFrame(kBcast, edge, len));
    EXPECT_EQ(Ip4(m.saddr), "8.6.0.1") << len;
  }
  // src 08:00:27:e6:e5:59 (shared/pcaps/ndpi_gnutella.pcap, 42-byte broadcasts accepted).
  Dec(ArpFrame(kBcast, {0x08, 0x00, 0x27, 0xe6, 0xe5, 0x59}, 42));
}

// Same path without MF: the header is cut only when tot_len (dst[2..3]) runs past the record.
// dst 0b:..: IHL 11 = 44 bytes > 42.
TEST(DecodeCic, Pass2HeaderLongerThanTheRecordNeedsTotalLengthPastTheEnd) {
  const std::array<uint8_t, 6> src{0x52, 0x54, 0x00, 0x12, 0x35, 0x02};  // no MF
  // tot_len 0x0010 <= 42: hdr_payload = 16 - 44, offset + 44 + payload = 16 <= 42, no cut,
  // 44 > 42 -> JMemory.peer throws.
  EXPECT_EQ(DecStatus(ArpFrame({0x0b, 0x00, 0x00, 0x10, 0x00, 0x00}, src, 42)), DecodeStatus::kNotIp);
  // tot_len 0xffff: cut to 42 bytes; the option walk stops at byte 20 (0x00): kept.
  auto m = Dec(ArpFrame({0x0b, 0x00, 0xff, 0xff, 0x00, 0x00}, src, 42));
  EXPECT_EQ(Ip4(m.saddr), "8.6.0.1");
  // IHL 8 = 32 bytes fits in 42 whatever tot_len (ndpi_gnutella's ARP replies to 08:00:27:..).
  Dec(ArpFrame({0x08, 0x00, 0x27, 0xe6, 0xe5, 0x59}, src, 42));
}

// Ip4.decodeHeader walks the options from byte 20 up to IHL*4 with getUByte's bounds check on
// the peered header; a 20-byte record holds no byte 20. Frames byte by byte: 20 bytes from
// byte 0, 0x4X/0xfX first byte (IHL), tot_len 0xffff (header cut to the record).
TEST(DecodeCic, Pass2OptionWalkPastTheRecordDiscards) {
  auto rec = [](uint8_t b0, std::initializer_list<uint8_t> tail) {
    std::vector<uint8_t> f{b0, 0x00, 0xff, 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    f.insert(f.end(), tail);
    return f;
  };
  // 20-byte LLC-like record to ff:ff:..: IHL 15, reads byte 20 -> BufferUnderflowException.
  EXPECT_EQ(DecStatus(rec(0xff, {})), DecodeStatus::kNotIp);
  EXPECT_EQ(DecStatus(rec(0x46, {})), DecodeStatus::kNotIp);  // IHL 6: same
  // IHL 5: no option walk, kept (protocol 17 but no room for UDP -> protocol 0).
  auto five = Dec(rec(0x45, {}));
  EXPECT_EQ(Ip4(five.saddr), "1.2.3.4");
  EXPECT_EQ(five.proto, 0);
  // 21 bytes, IHL 15: byte 20 = 0 (end of list): kept; 0x1f (id 31, no OptionCode): walk stops,
  // kept; 0x01 (NOP) then byte 21 missing: discarded; 0x07 (record route) needs its length byte
  // 21: discarded.
  Dec(rec(0xff, {0x00}));
  Dec(rec(0xff, {0x1f}));
  EXPECT_EQ(DecStatus(rec(0xff, {0x01})), DecodeStatus::kNotIp);
  EXPECT_EQ(DecStatus(rec(0xff, {0x07})), DecodeStatus::kNotIp);
  // 22 bytes: 0x07 with length 0 steps 1 to byte 21 (0x00): kept.
  Dec(rec(0xff, {0x07, 0x00}));
}

// Pass 1 uses the same Ip4 header; when it throws, getIpv4Info returns null and nextPacket
// tries pass 2 (here dst 02:..: IHL 2, nothing). Router Alert (94 04 00 00) steps 4 + 1 to
// byte 25, past IHL*4 = 24: fine. NOP NOP NOP then 0x07 at byte 23 reads its length at 24,
// past the 24-byte header: BufferUnderflowException.
TEST(DecodeCic, Pass1Ipv4OptionWalkFailureFallsToPass2) {
  auto opt = [](std::initializer_list<uint8_t> o) {
    std::vector<uint8_t> f{0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,
                           0x46, 0x00, 0x00, 36, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    f.insert(f.end(), o);
    for (uint8_t b : {0x00, 0x35, 0x00, 0x35, 0x00, 12, 0, 0, 1, 2, 3, 4}) f.push_back(b);  // UDP + 4
    return f;
  };
  auto ra = Dec(opt({0x94, 0x04, 0x00, 0x00}));
  EXPECT_EQ(ra.proto, 17);
  EXPECT_EQ(ra.payload_ip, 4u);
  EXPECT_EQ(DecStatus(opt({0x01, 0x01, 0x01, 0x07})), DecodeStatus::kNotIp);
}

// JScanner.scan throws IllegalArgumentException when the record's wire length is below its
// captured length; nextPacket catches it around the first scan: the record is discarded.
TEST(DecodeCic, WireLengthBelowCaptureLengthDiscards) {
  auto f = PacketBuilder().Eth().IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Payload(4).Bytes();
  const auto n = static_cast<uint32_t>(f.size());
  EXPECT_EQ(DecStatus(f, n), DecodeStatus::kOk);
  EXPECT_EQ(DecStatus(f, n + 100), DecodeStatus::kOk);
  EXPECT_EQ(DecStatus(f, n - 1), DecodeStatus::kNotIp);
}

// jnetpcap's scan_vlan follows the next tag whatever the depth (its scan loop has no limit):
// 8, 9 and 60 stacked tags of the three TPIDs all reach the IPv4 header (untagged trailer
// cut not applied: the frame is tagged).
TEST(DecodeCic, TagStacksOfAnyDepth) {
  for (int n : {3, 8, 9, 60}) {
    PacketBuilder b;
    b.Eth();
    for (int i = 0; i < n; ++i) b.Vlan(uint16_t(i), i % 3 == 0 ? 0x88a8 : (i % 3 == 1 ? 0x9100 : 0x8100));
    auto m = Dec(b.IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Payload(3).Bytes());
    EXPECT_EQ(m.proto, 17) << n;
    EXPECT_EQ(m.dport, 2) << n;
    EXPECT_EQ(m.payload_ip, 3u) << n;
  }
  // A stack cut inside its last tag carries no IPv4 header; pass 2 reads byte 0 (a MAC
  // address, 0x02: IHL 2) and rejects it.
  PacketBuilder b;
  b.Eth();
  for (int i = 0; i < 10; ++i) b.Vlan(uint16_t(i));
  auto f = b.Bytes();
  f.resize(f.size() - 1);
  Dec(f, DecodeStatus::kNotIp);
}

// jnetpcap's header chain (packet_protocol.cpp): 802.1ad and old QinQ tags, LLC/SNAP, IPv4 in
// IPv4, L2TP over UDP/1701 with PPP; PacketReader takes the first TCP header anywhere, else the
// first UDP header; addresses always from the first IPv4 header.
TEST(DecodeCic, TunnelsAndTags) {
  auto ad = Dec(PacketBuilder().Eth().Vlan(5, 0x88a8).Vlan(6).IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Payload(3).Bytes());
  EXPECT_EQ(ad.proto, 17);
  auto snap = Dec(PacketBuilder().Eth(0x0040).Raw({0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00})
                      .IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Payload(3).Bytes());
  EXPECT_EQ(snap.proto, 17);
  EXPECT_EQ(snap.payload_ip, 3u);
  auto ipip = Dec(PacketBuilder().Eth().IPv4("9.9.9.9", "8.8.8.8").IPv4("1.2.3.4", "5.6.7.8")
                      .Tcp(1000, 80, test::kSyn).Payload(5).Bytes());
  EXPECT_EQ(Ip4(ipip.saddr), "9.9.9.9");
  EXPECT_EQ(ipip.proto, 6);
  EXPECT_EQ(ipip.sport, 1000);
  EXPECT_EQ(ipip.payload_ip, 5u);
  // L2TP data message (flags 0x0002 = version 2), PPP 0x0021, IPv4, TCP: the inner TCP wins.
  auto l2tp_tcp = Dec(PacketBuilder().Eth().IPv4("9.9.9.9", "8.8.8.8").Udp(1701, 1701)
                          .Raw({0x00, 0x02, 0, 1, 0, 1, 0xff, 0x03, 0x00, 0x21})
                          .IPv4("1.2.3.4", "5.6.7.8").Tcp(1000, 80, test::kAck).Payload(7).Bytes());
  EXPECT_EQ(l2tp_tcp.proto, 6);
  EXPECT_EQ(l2tp_tcp.dport, 80);
  EXPECT_EQ(l2tp_tcp.payload_ip, 7u);
  EXPECT_EQ(Ip4(l2tp_tcp.daddr), "8.8.8.8");
  // ... with an inner UDP header the first UDP header (the outer one) is used.
  auto l2tp_udp = Dec(PacketBuilder().Eth().IPv4("9.9.9.9", "8.8.8.8").Udp(1701, 1701)
                          .Raw({0x00, 0x02, 0, 1, 0, 1, 0xff, 0x03, 0x00, 0x21})
                          .IPv4("1.2.3.4", "5.6.7.8").Udp(53, 53).Payload(7).Bytes());
  EXPECT_EQ(l2tp_udp.proto, 17);
  EXPECT_EQ(l2tp_udp.sport, 1701);
  EXPECT_EQ(l2tp_udp.payload_ip, 10u + 20u + 8u + 7u);
}

TEST(DecodeCic, DispatchedThroughDecodePacket) {
  auto f = PacketBuilder().IPv4("1.2.3.4", "5.6.7.8").Udp(1, 2).Payload(4).Bytes();
  PacketMeta m;
  // The link type is ignored: Ethernet is assumed first.
  EXPECT_EQ(DecodePacket(1, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), &m,
                         DecodeMode::kCic),
            DecodeStatus::kOk);
  EXPECT_EQ(m.proto, 17);
}

}  // namespace
}  // namespace nfm
