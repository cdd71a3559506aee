// SPDX-License-Identifier: MIT
// Snapshots (--snapshot-interval) in FlowEngine (nfm and corrected ntl sets) and CicEngine
// (corrected cic set), and the JSON Lines typing of feature values. Expected packet counts are
// worked out by hand from the packet times in each test; "final rows unchanged" compares the
// rendered rows of the same packets with and without snapshots.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "../tools/engine_harness.hpp"
#include "engine/cic/cic_engine.hpp"
#include "engine/nfm_features.hpp"
#include "output/cic_row.hpp"
#include "output/csv_writer.hpp"
#include "output/json_exporter.hpp"
#include "profile/profile_table.hpp"

namespace {

using namespace nfm;
using namespace nfm::enginetest;

const char* C = "10.0.0.1";
const char* S = "10.0.0.2";

// Records every row: its kind, packet count, end reason and rendered text.
class KindSink : public FlowExporter {
 public:
  void Begin(Profile profile, const FeatureSet& set) override {
    cic_ = &set == &CicFeatureSet();
    if (!cic_) renderer.emplace(profile, false, *fmt::FloatSpec::Parse(".17g"), &set);
  }
  void Export(const FlowView& v) override {
    kinds.push_back(v.row_kind);
    packets.push_back(v.packets[0] + v.packets[1]);
    reasons.push_back(v.reason);
    std::string row;
    if (cic_) {
      AppendCicRow(row, v, false);
    } else {
      row = std::string(renderer->Render(v));
    }
    (v.row_kind == RowKind::kSnapshot ? snapshot_rows : final_rows).push_back(row);
  }
  std::vector<RowKind> kinds;
  std::vector<uint64_t> packets;
  std::vector<EndReason> reasons;
  std::vector<std::string> snapshot_rows, final_rows;
  std::optional<CsvRowRenderer> renderer;

 private:
  bool cic_ = false;
};

template <class Engine>
struct SnapRun {
  SnapRun(double interval, bool ntl = false, Profile profile = Profile::kCorrected) {
    cfg.profile = profile;
    ApplyProfileDefaults(cfg, false, false, false);
    cfg.snapshot_interval_s = interval;
    cfg.ntl_features = ntl;
    engine = std::make_unique<Engine>(cfg);
    engine->AddExporter(sink);
  }
  EngineConfig cfg;
  KindSink sink;
  std::unique_ptr<Engine> engine;
};

uint64_t Sec(double s) { return static_cast<uint64_t>(std::llround(s * 1e9)); }

// Flow A: TCP C:40000 -> S:80 at 100.1, 100.5, 101.2, 101.7, 103.4 s (ACK, 10 bytes each);
// flow B: UDP C:5000 -> S:53 at 100.2, 102.5 s. Interval 1 s: snapshots when the clock reaches
// 101 (A 2 packets, B 1), 102 (A 4; B no packet since), 103 (B 2; A none); nothing reaches 104.
std::vector<PacketMeta> TwoFlows() {
  std::vector<PacketMeta> p;
  auto a = [](double t) { return Tcp(Sec(t), C, 40000, S, 80, ACK, 10, 10); };
  auto b = [](double t) { return Udp(Sec(t), C, 5000, S, 53, 20, 20); };
  p = {a(100.1), b(100.2), a(100.5), a(101.2), a(101.7), b(102.5), a(103.4)};
  return p;
}

TEST(Snapshot, FlowEngineTakesTouchedFlowsAtEachMultiple) {
  SnapRun<FlowEngine> r(1.0);
  for (const auto& p : TwoFlows()) r.engine->OnPacket(p);
  r.engine->Flush();
  const std::vector<RowKind> want_kinds = {RowKind::kSnapshot, RowKind::kSnapshot, RowKind::kSnapshot,
                                           RowKind::kSnapshot, RowKind::kFinal,    RowKind::kFinal};
  EXPECT_EQ(r.sink.kinds, want_kinds);
  const std::vector<uint64_t> want_packets = {2, 1, 4, 2, 5, 2};
  EXPECT_EQ(r.sink.packets, want_packets);
  EXPECT_EQ(r.sink.reasons[0], EndReason::kActiveTimeout);  // IPFIX: flowEndReason 2
  // Snapshots are not flows ended.
  uint64_t exported = 0;
  for (uint64_t e : r.engine->Stats().flows_exported) exported += e;
  EXPECT_EQ(exported, 2u);
}

TEST(Snapshot, AdvanceTimeTakesThemWithoutPackets) {
  SnapRun<FlowEngine> r(1.0);
  r.engine->OnPacket(Udp(Sec(100.2), C, 5000, S, 53, 20, 20));
  EXPECT_LE(r.engine->QuietUntil(), Sec(101.0) - 1);  // a sharded worker wakes the engine for it
  r.engine->AdvanceTime(Sec(100.9));
  EXPECT_TRUE(r.sink.kinds.empty());
  r.engine->AdvanceTime(Sec(101.0));
  ASSERT_EQ(r.sink.kinds.size(), 1u);
  EXPECT_EQ(r.sink.kinds[0], RowKind::kSnapshot);
  r.engine->AdvanceTime(Sec(105.0));  // no packet since: no second snapshot
  EXPECT_EQ(r.sink.kinds.size(), 1u);
}

TEST(Snapshot, EndedFlowsGetNoSnapshot) {
  SnapRun<FlowEngine> r(10.0);
  // Idle timeout 120 s: a flow at 100.5 s ends at the packet at 300 s (idle) before the
  // snapshot at 110 s is taken... which is due at the same clock move: the expired flow gets
  // its final row only.
  r.engine->OnPacket(Udp(Sec(100.5), C, 5000, S, 53, 20, 20));
  r.engine->OnPacket(Udp(Sec(300.0), C, 6000, S, 53, 20, 20));
  r.engine->Flush();
  ASSERT_EQ(r.sink.kinds.size(), 2u);
  EXPECT_EQ(r.sink.kinds[0], RowKind::kFinal);
  EXPECT_EQ(r.sink.reasons[0], EndReason::kIdle);
  EXPECT_EQ(r.sink.kinds[1], RowKind::kFinal);
}

TEST(Snapshot, ClampedTimesTakeNoEndlessSnapshots) {
  SnapRun<FlowEngine> r(1.0);
  const uint64_t end = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  r.engine->OnPacket(Udp(end - 5, C, 5000, S, 53, 20, 20));
  for (int i = 0; i < 5; ++i) r.engine->OnPacket(Udp(end, C, 5000, S, 53, 20, 20));
  r.engine->Flush();
  EXPECT_LE(r.sink.snapshot_rows.size(), 1u);
  EXPECT_EQ(r.sink.final_rows.size(), 1u);
}

// A flow with activity gaps (threshold 5 s: periods closed at 7 s and 16 s gaps) and packets
// across many snapshot times; the final rows must be the rows without snapshots.
std::vector<PacketMeta> GappyFlows() {
  std::vector<PacketMeta> p;
  double t = 100.0;
  for (int i = 0; i < 40; ++i) {
    p.push_back(Tcp(Sec(t), C, 40000, S, 80, ACK | PSH, 10 + i, 10 + i));
    p.push_back(Tcp(Sec(t + 0.01), S, 80, C, 40000, ACK, 100, 100));
    if (i % 7 == 0) p.push_back(Udp(Sec(t + 0.02), C, 5000 + i, S, 53, 30, 30));
    t += (i % 10 == 9) ? 7.0 : 0.3;
  }
  return p;
}

template <class Engine>
void ExpectFinalRowsUnchanged(bool ntl) {
  SnapRun<Engine> off(0.0, ntl), on(0.5, ntl);
  for (const auto& p : GappyFlows()) {
    off.engine->OnPacket(p);
    on.engine->OnPacket(p);
  }
  off.engine->Flush();
  on.engine->Flush();
  EXPECT_GT(on.sink.snapshot_rows.size(), 10u);
  EXPECT_TRUE(off.sink.snapshot_rows.empty());
  EXPECT_EQ(on.sink.final_rows, off.sink.final_rows);
}

TEST(Snapshot, FinalRowsUnchangedNfm) { ExpectFinalRowsUnchanged<FlowEngine>(false); }
TEST(Snapshot, FinalRowsUnchangedNtlSet) { ExpectFinalRowsUnchanged<FlowEngine>(true); }
TEST(Snapshot, FinalRowsUnchangedCicSet) { ExpectFinalRowsUnchanged<CicEngine>(false); }

TEST(Snapshot, CicEngineTakesTouchedFlows) {
  SnapRun<CicEngine> r(1.0);
  for (const auto& p : TwoFlows()) r.engine->OnPacket(p);
  r.engine->Flush();
  const std::vector<uint64_t> want_packets = {2, 1, 4, 2, 5, 2};
  EXPECT_EQ(r.sink.packets, want_packets);
  EXPECT_EQ(r.sink.kinds[3], RowKind::kSnapshot);
  EXPECT_EQ(r.sink.kinds[4], RowKind::kFinal);
}

// ---- JSON Lines typing ----

TEST(JsonLines, TypesFeatureValues) {
  char path[] = "/tmp/nfm-json-unit-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::string err;
  auto sink = CsvFileSink::Open(path, 0, &err, "JSON", "--json");
  ASSERT_TRUE(sink) << err;
  JsonLinesExporter x(*sink, false, false, *fmt::FloatSpec::Parse(".3f"));
  x.Begin(Profile::kCorrected, NfmFeatureSet());
  std::vector<FeatureValue> f(kNumNfmFeatures, FeatureValue::Float(0.0));
  f[0] = FeatureValue::Seconds(2500000, false);                          // duration: 0.0025 s
  f[1] = FeatureValue::Uint(3);                                          // packets_count (unsigned)
  f[7] = FeatureValue::Float(std::numeric_limits<double>::quiet_NaN());  // a float column
  f[8] = FeatureValue::Float(1.0 / 3.0);
  f[9] = FeatureValue::Float(2.0);
  f[10].kind = FeatureValue::Kind::kEmpty;
  f[11] = FeatureValue::Float(-std::numeric_limits<double>::infinity());
  f[12].kind = FeatureValue::Kind::kText;
  uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  uint8_t b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  FlowView v;
  v.src = a;
  v.dst = b;
  v.sport = 40000;
  v.dport = 80;
  v.proto = 6;
  v.ip_version = 4;
  v.first_ns = 1700000000000000000;
  v.last_ns = v.first_ns + 2500000;
  v.set = &NfmFeatureSet();
  v.features = f;
  const std::string line(x.Render(v));
  const auto& cols = NfmFeatureSet().columns;
  auto has = [&](std::string_view name, std::string_view json) {
    const std::string want = "\"" + std::string(name) + "\":" + std::string(json);
    EXPECT_NE(line.find(want + ","), std::string::npos) << "want " << want << " in " << line;
  };
  has("src_ip", "\"10.0.0.1\"");
  has("src_port", "40000");
  has("protocol", "\"TCP\"");
  has(cols[0].name, "0.0025");  // the double, not the .3f text "0.003"
  has(cols[1].name, "3");
  has(cols[7].name, "null");
  has(cols[8].name, "0.3333333333333333");
  has(cols[9].name, "2.0");
  has(cols[10].name, "null");
  has(cols[11].name, "null");
  has(cols[12].name, "\"not a complete handshake\"");
  EXPECT_EQ(line.front(), '{');
  EXPECT_EQ(line.substr(line.size() - 2), "}\n");
  std::remove(path);
}

}  // namespace
