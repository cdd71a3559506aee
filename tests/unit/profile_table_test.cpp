// SPDX-License-Identifier: MIT
// The profile table (profile/profile_table.hpp): every profile and feature set has a row, every
// other pair and every option a row ignores is refused with a message, and the defaults are
// the ones the spec gives (spec FEATURES.md §3.2, §4.1, §4.2, §9.2; CIC.md §3; the corrected
// profile's in docs/FEATURES.md), not values read back from our own output.
#include "profile/profile_table.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <utility>

namespace nfm {
namespace {

const RunProfile& RowOf(const char* profile, const char* set) {
  const Resolved r = Resolve(profile, set, {});
  EXPECT_NE(r.row, nullptr) << profile << "/" << set << ": " << r.error;
  static const RunProfile kNone{};
  return r.row ? *r.row : kNone;
}

const char* const kProfileNames[] = {"corrected", "nfm2022", "nfm2022-seed", "cic", "ntl"};
const char* const kSetNames[] = {"nfm", "cic", "ntl"};

TEST(ProfileTable, EveryProfileHasExactlyOneOwnRow) {
  EXPECT_EQ(std::size(kAllProfiles), static_cast<size_t>(Profile::kCount));
  for (size_t i = 0; i < std::size(kAllProfiles); ++i) {
    EXPECT_EQ(static_cast<size_t>(kAllProfiles[i]), i) << "kAllProfiles must list the enum in order";
    int own = 0;
    for (const RunProfile& r : kProfileTable) own += r.profile == kAllProfiles[i] && r.profile_default;
    EXPECT_EQ(own, 1) << "profile " << i;
    EXPECT_NE(ProfileName(kAllProfiles[i]), "?");
  }
}

TEST(ProfileTable, EveryFeatureSetHasARow) {
  for (int i = 0; i < static_cast<int>(FeatureSetOption::kCount); ++i) {
    const auto s = static_cast<FeatureSetOption>(i);
    bool found = false;
    for (const RunProfile& r : kProfileTable) found = found || r.feature_set == s;
    EXPECT_TRUE(found) << "feature set " << i << " has no row";
    EXPECT_NE(FeatureSetName(s), "?");
  }
}

TEST(ProfileTable, RowsAreUnique) {
  std::set<std::pair<Profile, FeatureSetOption>> seen;
  for (const RunProfile& r : kProfileTable)
    EXPECT_TRUE(seen.insert({r.profile, r.feature_set}).second) << r.profile_name << "/" << r.feature_set_name;
}

TEST(ProfileTable, ValidPairsResolveAndEveryOtherPairIsRefused) {
  const std::set<std::pair<std::string, std::string>> valid = {
      {"corrected", "nfm"}, {"corrected", "cic"}, {"corrected", "ntl"}, {"nfm2022", "nfm"},
      {"nfm2022-seed", "nfm"}, {"cic", "cic"}, {"ntl", "ntl"}};
  for (const char* p : kProfileNames) {
    for (const char* s : kSetNames) {
      GivenOptions given;
      given.feature_set = true;
      const Resolved r = Resolve(p, s, given);
      if (valid.count({p, s})) {
        ASSERT_NE(r.row, nullptr) << p << "/" << s << ": " << r.error;
        EXPECT_EQ(r.row->profile_name, p);
        EXPECT_EQ(r.row->feature_set_name, s);
      } else {
        EXPECT_EQ(r.row, nullptr) << p << "/" << s;
        EXPECT_NE(r.error.find(std::string("--feature-set ") + s), std::string::npos) << r.error;
        EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
      }
    }
  }
  // --feature-set left at its default (nfm): the reference profiles pick their own set.
  EXPECT_EQ(RowOf("cic", "nfm").feature_set, FeatureSetOption::kCic);
  EXPECT_EQ(RowOf("ntl", "nfm").feature_set, FeatureSetOption::kNtl);
  EXPECT_EQ(Resolve("bogus", "nfm", {}).row, nullptr);
  EXPECT_EQ(Resolve("corrected", "bogus", {}).row, nullptr);
}

TEST(ProfileTable, EnginesDecodersAndLayouts) {
  EXPECT_EQ(RowOf("corrected", "nfm").engine, EngineKind::kFlow);
  EXPECT_EQ(RowOf("corrected", "ntl").engine, EngineKind::kFlow);
  EXPECT_EQ(RowOf("corrected", "cic").engine, EngineKind::kCic);
  EXPECT_EQ(RowOf("nfm2022", "nfm").engine, EngineKind::kFlow);
  EXPECT_EQ(RowOf("cic", "cic").engine, EngineKind::kCic);
  EXPECT_EQ(RowOf("ntl", "ntl").engine, EngineKind::kNtl);
  for (const char* s : kSetNames) EXPECT_EQ(RowOf("corrected", s).decode, DecodeMode::kStrict) << s;
  EXPECT_EQ(RowOf("nfm2022", "nfm").decode, DecodeMode::kScapy2022);
  EXPECT_EQ(RowOf("nfm2022-seed", "nfm").decode, DecodeMode::kScapy2022);
  EXPECT_EQ(RowOf("cic", "cic").decode, DecodeMode::kCic);
  EXPECT_EQ(RowOf("ntl", "ntl").decode, DecodeMode::kDpkt);
  EXPECT_EQ(RowOf("nfm2022", "nfm").csv, CsvLayout::kNfm);
  EXPECT_EQ(RowOf("nfm2022-seed", "nfm").csv, CsvLayout::kNfmSeed);
  EXPECT_EQ(RowOf("corrected", "cic").csv, CsvLayout::kCic);
  EXPECT_EQ(RowOf("cic", "cic").csv, CsvLayout::kCic);
  EXPECT_EQ(RowOf("ntl", "ntl").ipfix_set, FeatureSetId::kNtl);
  EXPECT_EQ(RowOf("corrected", "ntl").ipfix_set, FeatureSetId::kNtlCorrected);
}

// Spec §3.2 (activity_timeout 5000 s, max_flow_duration 120000 s), §4.2 (THR 100 s), §4.1
// (subflow gap 1 s), §6.3 (.64f); §9.2 for NTLFlowLyzer (same timeouts, .4f).
TEST(ProfileTable, ReferenceDefaultsFollowTheSpec) {
  for (const char* p : {"nfm2022", "nfm2022-seed"}) {
    const RunProfile& r = RowOf(p, "nfm");
    EXPECT_TRUE(r.idle_timeout.option);
    EXPECT_EQ(r.idle_timeout.value, 5000.0) << p;
    EXPECT_EQ(r.active_timeout.value, 120000.0) << p;
    EXPECT_EQ(r.activity_threshold.value, 100.0) << p;
    EXPECT_FALSE(r.subflow_gap.option);
    EXPECT_EQ(r.subflow_gap.value, 1.0) << p;
    EXPECT_EQ(r.float_default, ".64f") << p;
  }
  const RunProfile& ntl = RowOf("ntl", "ntl");
  EXPECT_EQ(ntl.idle_timeout.value, 5000.0);
  EXPECT_EQ(ntl.active_timeout.value, 120000.0);
  EXPECT_EQ(ntl.activity_threshold.value, 100.0);
  EXPECT_EQ(ntl.subflow_gap.value, 1.0);
  EXPECT_EQ(ntl.float_default, ".4f");
  // CIC.md §3: FLOW_TIMEOUT 120 s from the flow's start, ACTIVITY_TIMEOUT 5 s, both hard-coded;
  // no idle timeout at all (C11).
  const RunProfile& cic = RowOf("cic", "cic");
  EXPECT_FALSE(cic.idle_timeout.option);
  EXPECT_TRUE(std::isnan(cic.idle_timeout.value));
  EXPECT_FALSE(cic.active_timeout.option);
  EXPECT_EQ(cic.active_timeout.value, 120.0);
  EXPECT_FALSE(cic.activity_threshold.option);
  EXPECT_EQ(cic.activity_threshold.value, 5.0);
  EXPECT_EQ(cic.float_text, "Java Double.toString");
}

// docs/FEATURES.md (corrected profile): idle 120 s, active 1800 s, activity threshold 5 s.
TEST(ProfileTable, CorrectedDefaults) {
  for (const char* s : {"nfm", "ntl"}) {
    const RunProfile& r = RowOf("corrected", s);
    EXPECT_EQ(r.idle_timeout.value, 120.0) << s;
    EXPECT_EQ(r.active_timeout.value, 1800.0) << s;
    EXPECT_EQ(r.activity_threshold.value, 5.0) << s;
    EXPECT_TRUE(r.subflow_gap.option) << s;
    EXPECT_EQ(r.subflow_gap.value, 1.0) << s;
    EXPECT_EQ(r.float_default, "") << s;  // shortest round trip
  }
  // The corrected CIC set keeps CICFlowMeter's flow timeout (120 s from the start).
  const RunProfile& cic = RowOf("corrected", "cic");
  EXPECT_TRUE(cic.idle_timeout.option);
  EXPECT_EQ(cic.idle_timeout.value, 120.0);
  EXPECT_FALSE(cic.active_timeout.option);
  EXPECT_EQ(cic.active_timeout.value, 120.0);
  EXPECT_TRUE(cic.activity_threshold.option);
  EXPECT_EQ(cic.activity_threshold.value, 5.0);
  EXPECT_TRUE(RowOf("corrected", "ntl").ntl_max_packets.option);
  EXPECT_FALSE(RowOf("corrected", "nfm").ntl_max_packets.option);
  EXPECT_EQ(RowOf("corrected", "ntl").ntl_max_packets_default, 1u << 16);
}

TEST(ProfileTable, WorkersAndLive) {
  EXPECT_EQ(RowOf("nfm2022", "nfm").offline_workers, 1u);  // loose lookup: not shardable
  EXPECT_EQ(RowOf("nfm2022-seed", "nfm").offline_workers, 1u);
  EXPECT_EQ(RowOf("corrected", "cic").offline_workers, 1u);  // sweeps at each packet's own time
  EXPECT_EQ(RowOf("corrected", "nfm").offline_workers, 64u);
  EXPECT_EQ(RowOf("corrected", "ntl").offline_workers, 64u);
  EXPECT_EQ(RowOf("cic", "cic").offline_workers, 64u);
  EXPECT_EQ(RowOf("ntl", "ntl").offline_workers, 64u);
  for (const RunProfile& r : kProfileTable)
    EXPECT_EQ(r.shared_clock, r.profile == Profile::kCorrected && r.engine == EngineKind::kFlow) << RowLabel(r);
  EXPECT_EQ(RowOf("cic", "cic").live_view, live::LiveView::kCic);
  EXPECT_EQ(RowOf("ntl", "ntl").live_view, live::LiveView::kNtl);
  EXPECT_EQ(RowOf("corrected", "cic").live_view, live::LiveView::kNative);
  GivenOptions live;
  live.live = true;
  for (const char* p : {"nfm2022", "nfm2022-seed"}) {
    const Resolved r = Resolve(p, "nfm", live);
    EXPECT_EQ(r.row, nullptr);
    EXPECT_EQ(r.error, std::string("live capture works with --profile corrected, cic or ntl; --profile ") + p +
                           " works with --pcap only");
  }
  EXPECT_NE(Resolve("cic", "nfm", live).row, nullptr);
}

// Each option a row does not read, given on the command line, is refused with a message naming
// the option, the row and what to do; one the row reads is accepted.
TEST(ProfileTable, IgnoredOptionsAreRefused) {
  struct Opt {
    const char* name;
    void (*give)(GivenOptions&);
    bool (*used)(const RunProfile&);
  };
  const Opt opts[] = {
      {"--idle-timeout", [](GivenOptions& g) { g.idle_timeout = 7; },
       [](const RunProfile& r) { return r.idle_timeout.option; }},
      {"--active-timeout", [](GivenOptions& g) { g.active_timeout = 7; },
       [](const RunProfile& r) { return r.active_timeout.option; }},
      {"--activity-threshold", [](GivenOptions& g) { g.activity_threshold = 7; },
       [](const RunProfile& r) { return r.activity_threshold.option; }},
      {"--subflow-gap", [](GivenOptions& g) { g.subflow_gap = 7; },
       [](const RunProfile& r) { return r.subflow_gap.option; }},
      {"--snapshot-interval", [](GivenOptions& g) { g.snapshot_interval = 7; },
       [](const RunProfile& r) { return r.snapshot_interval.option; }},
      {"--tunnel inner", [](GivenOptions& g) { g.tunnel_inner = true; },
       [](const RunProfile& r) { return r.tunnel_inner.option; }},
      {"--ntl-max-packets", [](GivenOptions& g) { g.ntl_max_packets = 7; },
       [](const RunProfile& r) { return r.ntl_max_packets.option; }},
      {"--max-flows", [](GivenOptions& g) { g.max_flows = 7; }, [](const RunProfile& r) { return r.max_flows.option; }},
  };
  int refused = 0;
  for (const RunProfile& row : kProfileTable) {
    for (const Opt& o : opts) {
      GivenOptions g;
      g.feature_set = !row.profile_default;
      o.give(g);
      const Resolved r = Resolve(row.profile_name, row.feature_set_name, g);
      if (o.used(row)) {
        EXPECT_EQ(r.row, &row) << RowLabel(row) << " " << o.name << ": " << r.error;
        continue;
      }
      ++refused;
      EXPECT_EQ(r.row, nullptr) << RowLabel(row) << " " << o.name;
      EXPECT_EQ(r.error.rfind(std::string(o.name) + ": " + RowLabel(row) + " ", 0), 0u) << r.error;
      EXPECT_NE(r.error.find("drop the option"), std::string::npos) << r.error;
      EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
    }
  }
  EXPECT_GT(refused, 15);
  GivenOptions g;
  g.active_timeout = 20;
  EXPECT_EQ(Resolve("cic", "nfm", g).error,
            "--active-timeout: --profile cic uses CICFlowMeter's fixed timeouts (120 s flow, 5 s activity); drop the "
            "option or use --profile corrected");
  g = {};
  g.idle_timeout = 20;
  EXPECT_EQ(Resolve("cic", "nfm", g).error,
            "--idle-timeout: --profile cic uses CICFlowMeter's fixed timeouts (120 s flow, 5 s activity); drop the "
            "option or use --profile corrected --feature-set cic");
  g = {};
  g.feature_set = true;
  g.active_timeout = 20;
  EXPECT_NE(Resolve("corrected", "cic", g).error.find("120 s"), std::string::npos);
}

TEST(ProfileTable, EngineConfigTakesGivenValuesElseDefaults) {
  GivenOptions g;
  g.idle_timeout = 3;
  g.max_flows = 100;
  const EngineConfig c = EngineConfigFor(RowOf("corrected", "nfm"), g);
  EXPECT_EQ(c.profile, Profile::kCorrected);
  EXPECT_EQ(c.idle_timeout_s, 3.0);
  EXPECT_EQ(c.active_timeout_s, 1800.0);
  EXPECT_EQ(c.max_flows, 100u);
  EXPECT_FALSE(c.ntl_features);
  EXPECT_TRUE(EngineConfigFor(RowOf("corrected", "ntl"), {}).ntl_features);
  EXPECT_FALSE(EngineConfigFor(RowOf("ntl", "ntl"), {}).ntl_features);  // NtlEngine has its own
  const EngineConfig n = EngineConfigFor(RowOf("nfm2022", "nfm"), {});
  EXPECT_EQ(n.idle_timeout_s, 5000.0);
  EXPECT_EQ(n.active_timeout_s, 120000.0);
  EXPECT_EQ(n.activity_threshold_s, 100.0);
}

TEST(ProfileTable, ApplyProfileDefaultsKeepsGivenValues) {
  EngineConfig c;
  c.profile = Profile::kNfm2022;
  c.idle_timeout_s = 9;
  ApplyProfileDefaults(c, true, false, false);
  EXPECT_EQ(c.idle_timeout_s, 9.0);
  EXPECT_EQ(c.active_timeout_s, 120000.0);
  EXPECT_EQ(c.activity_threshold_s, 100.0);
  c.profile = Profile::kCorrected;
  ApplyProfileDefaults(c, false, false, false);
  EXPECT_EQ(c.idle_timeout_s, 120.0);
  EXPECT_EQ(c.active_timeout_s, 1800.0);
}

TEST(ProfileTable, HelpTextNamesEveryProfilesFloatDefault) {
  const std::string h = FloatDefaultsHelp();
  for (const char* p : kProfileNames) EXPECT_NE(h.find(p), std::string::npos) << h;
  EXPECT_NE(h.find("ntl: .4f"), std::string::npos) << h;
  EXPECT_NE(h.find(".64f"), std::string::npos) << h;
  EXPECT_NE(h.find("Java Double.toString"), std::string::npos) << h;
  EXPECT_EQ(KnobDefaultsHelp(&RunProfile::idle_timeout), "default 120; nfm2022, nfm2022-seed, ntl: 5000");
  // One worker offline: NetFlowMeter's loose lookup and the corrected CIC set's sweeps (see
  // WorkersAndLive) cannot be sharded.
  EXPECT_EQ(SingleWorkerHelp(), "--profile corrected --feature-set cic, nfm2022, nfm2022-seed");
}

}  // namespace
}  // namespace nfm
