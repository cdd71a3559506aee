// SPDX-License-Identifier: MIT
// The feature tables (engine/feature_columns.hpp, nfm_features.hpp, ntl/ntl_features.hpp, the
// cic table): the unit rule, one definition per quantity, directions, and the column ids
// FlowEngine::BuildView writes through (every column exactly once, on every branch
// the engine takes: one-packet, one-direction, bulk, idle and subflow flows, snapshots, in
// each profile of the nfm set), and the cic fill and ntl checkpoints likewise.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../tools/engine_harness.hpp"
#include "engine/cic/cic_engine.hpp"
#include "engine/column_writer.hpp"
#include "engine/nfm_features.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "engine/ntl/ntl_features.hpp"

namespace {

using namespace nfm;
using namespace nfm::enginetest;

// Every engine in this binary checks the rows it fills (release builds skip the check).
const bool kChecksOn = (SetColumnChecks(true), true);

const FeatureSet* const kSets[] = {&NfmFeatureSet(), &CicFeatureSet(), &kNtlFeatureSet, &kNtlCorrectedFeatureSet};

TEST(FeatureTables, SetIdsAndSizes) {
  EXPECT_EQ(NfmFeatureSet().id, FeatureSetId::kNfm);
  EXPECT_EQ(CicFeatureSet().id, FeatureSetId::kCic);
  EXPECT_EQ(kNtlFeatureSet.id, FeatureSetId::kNtl);
  EXPECT_EQ(kNtlCorrectedFeatureSet.id, FeatureSetId::kNtlCorrected);
  EXPECT_TRUE(kNtlFeatureSet.IsNtl() && kNtlCorrectedFeatureSet.IsNtl() && !NfmFeatureSet().IsNtl());
  EXPECT_EQ(NfmFeatureSet().columns.size(), 114u);
  EXPECT_EQ(CicFeatureSet().columns.size(), 76u);
  EXPECT_EQ(kNtlFeatureSet.columns.size(), 339u);
  EXPECT_EQ(kNtlCorrectedFeatureSet.columns.size(), 341u);
}

TEST(FeatureTables, NamesUniqueAndDescribed) {
  for (const FeatureSet* s : kSets) {
    std::set<std::string_view> seen;
    for (const FeatureInfo& c : s->columns) {
      EXPECT_TRUE(seen.insert(c.name).second) << s->name << ": " << c.name << " twice";
      EXPECT_FALSE(c.description.empty()) << s->name << ": " << c.name;
      EXPECT_TRUE(c.description[0] >= 'A' && c.description[0] <= 'Z') << s->name << ": " << c.name;
      EXPECT_NE(c.description.back(), '.') << s->name << ": " << c.name;
      EXPECT_EQ(c.ipfix == IpfixType::kFloat64, c.type == FeatureType::kFloat) << s->name << ": " << c.name;
    }
  }
}

// The unit rule of engine/feature_columns.hpp.
TEST(FeatureTables, UnitRule) {
  for (const FeatureSet* s : kSets) {
    for (const FeatureInfo& c : s->columns) {
      std::string n(c.name);
      for (char& ch : n) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      const std::string_view u = c.unit;
      if (n.find("variance") != std::string::npos) {
        EXPECT_TRUE(u == "bytes^2" || u == "seconds^2" || u == "milliseconds^2") << s->name << ": " << c.name << " " << u;
      } else {
        EXPECT_EQ(u.find('^'), std::string_view::npos) << s->name << ": " << c.name << " " << u;
      }
      const bool shape = n.find("skewness") != std::string::npos || n.starts_with("cov_") ||
                         n.find("_cov_") != std::string::npos || n.ends_with("_cov") ||
                         n.find("percentage") != std::string::npos || n.ends_with("ratio") ||
                         n.find("down_up") != std::string::npos || n == "handshake_state";
      if (shape) {
        EXPECT_EQ(u, "") << s->name << ": " << c.name;
      }
      // Counts: packet counts, flag counts, bulk state counts.
      if (n.ends_with("_count") || n.ends_with("_counts") || n.ends_with(" count") || n.starts_with("total fwd packet") ||
          n.starts_with("total bwd packet")) {
        EXPECT_TRUE(u == "packets" || u == "bulks") << s->name << ": " << c.name << " " << u;
      }
    }
  }
  auto unit = [](const FeatureSet& s, std::string_view name) {
    for (const FeatureInfo& c : s.columns)
      if (c.name == name) return c.unit;
    return std::string_view("(absent)");
  };
  EXPECT_EQ(unit(NfmFeatureSet(), "payload_bytes_variance"), "bytes^2");
  EXPECT_EQ(unit(NfmFeatureSet(), "fwd_bulk_state_count"), "bulks");
  EXPECT_EQ(unit(NfmFeatureSet(), "avg_bwd_packets_bulk_rate"), "packets");  // packets per bulk (spec §5.2)
  EXPECT_EQ(unit(CicFeatureSet(), "Packet Length Variance"), "bytes^2");
}

// A quantity both sets have is one definition: same type, unit, direction and description;
// only the ntl set's note may add to it.
TEST(FeatureTables, SharedColumnsDefinedOnce) {
  std::map<std::string_view, const FeatureInfo*> nfm;
  for (const FeatureInfo& c : NfmFeatureSet().columns) nfm[c.name] = &c;
  int shared = 0;
  for (const FeatureSet* s : {&kNtlFeatureSet, &kNtlCorrectedFeatureSet}) {
    for (const FeatureInfo& c : s->columns) {
      auto it = nfm.find(c.name);
      if (it == nfm.end()) continue;
      ++shared;
      EXPECT_EQ(c.type, it->second->type) << c.name;
      EXPECT_EQ(c.unit, it->second->unit) << c.name;
      EXPECT_EQ(c.dir, it->second->dir) << c.name;
      EXPECT_EQ(c.description, it->second->description) << c.name;
      EXPECT_EQ(c.ipfix, it->second->ipfix) << c.name;
    }
  }
  EXPECT_EQ(shared, 2 * 111);
}

TEST(FeatureTables, DirectionFollowsName) {
  for (const FeatureSet* s : kSets) {
    for (const FeatureInfo& c : s->columns) {
      std::string n = "_" + std::string(c.name) + "_";
      for (char& ch : n) ch = ch == ' ' ? '_' : static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      const bool fwd = n.find("_fwd_") != std::string::npos, bwd = n.find("_bwd_") != std::string::npos;
      const FeatureDir want = n == "_handshake_state_" ? FeatureDir::kNone
                              : fwd                    ? FeatureDir::kFwd
                              : bwd                    ? FeatureDir::kBwd
                                                       : FeatureDir::kBoth;
      EXPECT_EQ(c.dir, want) << s->name << ": " << c.name;
    }
  }
}

// NfmCol::<name> is the position of column <name>; NtlCol likewise.
#define NFM_TEST_NAME(id) #id,
TEST(FeatureTables, ColumnIdsNameTheirPosition) {
  constexpr std::string_view kNfmIds[] = {NFM_NFM_COLUMNS(NFM_TEST_NAME)};
  constexpr std::string_view kNtlIds[] = {NFM_NTL_COLUMNS(NFM_TEST_NAME)};
  ASSERT_EQ(std::size(kNfmIds), static_cast<size_t>(NfmCol::kCount));
  ASSERT_EQ(std::size(kNtlIds), static_cast<size_t>(NtlCol::kCount));
  for (size_t i = 0; i < std::size(kNfmIds); ++i) EXPECT_EQ(kNfmFeatures[i].name, kNfmIds[i]) << i;
  for (size_t i = 0; i < std::size(kNtlIds); ++i) EXPECT_EQ(kNtlFeatures[i].name, kNtlIds[i]) << i;
  static_assert(kNfmFeatures[static_cast<int>(NfmCol::payload_bytes_variance)].name == "payload_bytes_variance");
  static_assert(kNfmFeatures[static_cast<int>(NfmCol::subflow_bwd_bytes)].name == "subflow_bwd_bytes");
  static_assert(kNtlFeatures[static_cast<int>(NtlCol::cov_fwd_payload_bytes_delta_len)].name ==
                "cov_fwd_payload_bytes_delta_len");
}
#undef NFM_TEST_NAME

// A two-column stand-in for a set's column ids.
enum class TwoCol { a, b, kCount };

TEST(ColumnWriter, AcceptsEachColumnOnce) {
  FeatureValue v[2];
  ColumnWriter<TwoCol, true> w(v);
  w.Put(TwoCol::a, FeatureValue::Uint(1));
  w.Put(TwoCol::b, FeatureValue::Uint(2));
  EXPECT_TRUE(w.Complete());
  EXPECT_EQ(v[0].u, 1u);
  EXPECT_EQ(v[1].u, 2u);
}

TEST(ColumnWriter, RejectsMissingAndRepeatedColumns) {
  FeatureValue v[2];
  {
    ColumnWriter<TwoCol, true> w(v);  // b never written
    w.Put(TwoCol::a, FeatureValue::Uint(1));
    EXPECT_FALSE(w.Complete());
    EXPECT_EQ(w.FirstMissing(), 1);
  }
  {
    ColumnWriter<TwoCol, true> w(v);  // a skipped
    w.Put(TwoCol::b, FeatureValue::Uint(2));
    EXPECT_FALSE(w.Complete());
    EXPECT_EQ(w.FirstMissing(), 0);
  }
  {
    ColumnWriter<TwoCol, true> w(v);  // a twice
    w.Put(TwoCol::a, FeatureValue::Uint(1));
    w.Put(TwoCol::a, FeatureValue::Uint(1));
    w.Put(TwoCol::b, FeatureValue::Uint(2));
    EXPECT_FALSE(w.Complete());
  }
  {
    ColumnWriter<TwoCol, true> w(v);  // a twice, b never
    w.Put(TwoCol::a, FeatureValue::Uint(1));
    w.Put(TwoCol::a, FeatureValue::Uint(1));
    EXPECT_FALSE(w.Complete());
    EXPECT_EQ(w.FirstMissing(), 1);
  }
  {
    ColumnWriter<TwoCol, true> w(v);  // order does not matter: each value lands in its column
    w.Put(TwoCol::b, FeatureValue::Uint(2));
    w.Put(TwoCol::a, FeatureValue::Uint(1));
    EXPECT_TRUE(w.Complete());
    EXPECT_EQ(v[0].u, 1u);
    EXPECT_EQ(v[1].u, 2u);
  }
}

TEST(ColumnWriterDeathTest, FailureNamesSetAndColumn) {
  EXPECT_DEATH(ColumnOrderFailure(NfmFeatureSet(), 2),
               "nfm row out of step with its column table at column 2 \\(fwd_packets_count\\)");
}

// Flows that take every branch of BuildView; a row with a column missing or written twice aborts.
std::vector<PacketMeta> BranchFlows() {
  const uint64_t t = Us(1700000000, 0);
  const char* a = "10.0.0.1";
  const char* b = "10.0.0.2";
  std::vector<PacketMeta> p;
  // One packet (D6 branches), forward only.
  p.push_back(Udp(t, a, 1000, b, 53, 30, 30));
  // Forward only, several packets, bulk (>= 4 data packets within 1 s), then a gap > 5 s
  // (idle period, subflow).
  for (int i = 0; i < 6; ++i) p.push_back(Tcp(t + i * kMs, a, 2000, b, 80, PSH | ACK, 1000, 1000));
  p.push_back(Tcp(t + 7000 * kMs, a, 2000, b, 80, PSH | ACK, 10, 10));
  // Both directions: handshake, bulks both ways, gaps, FIN both ways.
  auto F = [&](uint64_t ms, uint8_t fl, uint32_t pl) { return Tcp(t + ms * kMs, a, 3000, b, 443, fl, pl, pl, 500); };
  auto B = [&](uint64_t ms, uint8_t fl, uint32_t pl) { return Tcp(t + ms * kMs, b, 443, a, 3000, fl, pl, pl, 700); };
  p.push_back(F(0, SYN, 0));
  p.push_back(B(1, SYN | ACK, 0));
  p.push_back(F(2, ACK, 0));
  for (int i = 0; i < 5; ++i) p.push_back(F(3 + i, PSH | ACK, 500 + i));
  for (int i = 0; i < 5; ++i) p.push_back(B(10 + i, PSH | ACK | URG, 1400));
  p.push_back(F(6100, ACK | ECE | CWR, 0));
  p.push_back(B(6200, PSH | ACK, 10));
  p.push_back(F(6300, FIN | ACK, 0));
  p.push_back(B(6301, FIN | ACK, 0));
  p.push_back(F(6302, ACK, 0));
  // Backward-first pair seen from one side only, zero duration (two packets, same time).
  p.push_back(Udp(t + 8000 * kMs, b, 53, a, 4000, 0, 0));
  p.push_back(Udp(t + 8000 * kMs, b, 53, a, 4000, 5, 5));
  // Worked example of spec §4.4.
  for (const PacketMeta& m : WorkedExample44()) p.push_back(m);
  std::stable_sort(p.begin(), p.end(), [](const PacketMeta& x, const PacketMeta& y) { return x.ts_ns < y.ts_ns; });
  return p;
}

TEST(FeatureTables, BuildViewWritesEveryColumnOnceOnEveryBranch) {
  ASSERT_TRUE(kChecksOn && ColumnChecks());
  void (*with_snapshots)(EngineConfig&) = [](EngineConfig& c) { c.snapshot_interval_s = 1; };
  for (Profile prof : {Profile::kCorrected, Profile::kNfm2022, Profile::kNfm2022Seed}) {
    for (auto tweak : {static_cast<void (*)(EngineConfig&)>(nullptr), with_snapshots}) {
      if (tweak && prof != Profile::kCorrected) continue;  // snapshots are a corrected-profile feature
      EngineRun run(prof, ".17g", tweak);
      for (const PacketMeta& m : BranchFlows()) run.Feed(m);
      run.Flush();
      EXPECT_GE(run.sink.summaries.size(), 4u) << static_cast<int>(prof);
      for (const ViewCopy& v : run.sink.summaries) EXPECT_EQ(v.features.size(), 114u);
    }
  }
}

// Counts the rows an engine exports (its fill aborts on a row out of step with its table).
class CountRows : public FlowExporter {
 public:
  explicit CountRows(size_t columns) : columns_(columns) {}
  void Export(const FlowView& v) override {
    ++rows;
    EXPECT_EQ(v.features.size(), columns_);
    EXPECT_EQ(v.features.size(), v.set->columns.size());
  }
  int rows = 0;

 private:
  size_t columns_;
};

TEST(FeatureTables, CicRowWritesEveryColumnOnceOnEveryBranch) {
  for (Profile prof : {Profile::kCic, Profile::kCorrected}) {
    EngineConfig cfg;
    cfg.profile = prof;
    ApplyProfileDefaults(cfg, false, false, false);
    cfg.max_flows = 1024;
    CicEngine engine(cfg);
    CountRows sink(76);
    engine.AddExporter(sink);
    for (const PacketMeta& m : BranchFlows()) engine.OnPacket(m);
    engine.Flush(EndReason::kShutdown);
    EXPECT_GE(sink.rows, 3) << static_cast<int>(prof);
  }
}

// ComputeNtlFeatures checks its column checkpoints (NtlValues::At) and the count: reference
// semantics (NtlEngine, with timestamps as the reference holds them in either resolution) and
// the corrected set (FlowEngine, --feature-set ntl).
TEST(FeatureTables, NtlRowsReachEveryCheckpointOnEveryBranch) {
  for (int8_t ts_exp : {-6, -9}) {
    NtlConfig cfg;
    cfg.base.profile = Profile::kNtl;
    ApplyProfileDefaults(cfg.base, false, false, false);
    NtlEngine engine(cfg);
    CountRows sink(339);
    engine.AddExporter(sink);
    for (PacketMeta m : BranchFlows()) {
      m.ts_exp = ts_exp;
      engine.OnPacket(m);
    }
    engine.Flush();
    EXPECT_GE(sink.rows, 3);
  }
  EngineConfig cfg;
  cfg.profile = Profile::kCorrected;
  ApplyProfileDefaults(cfg, false, false, false);
  cfg.ntl_features = true;
  FlowEngine engine(cfg);
  CountRows sink(341);
  engine.AddExporter(sink);
  for (const PacketMeta& m : BranchFlows()) engine.OnPacket(m);
  engine.Flush(EndReason::kShutdown);
  EXPECT_GE(sink.rows, 3);
}

}  // namespace
