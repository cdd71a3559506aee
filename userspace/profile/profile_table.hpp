// SPDX-License-Identifier: MIT
// The one table of what a run does for each valid (--profile, --feature-set) pair: engine,
// decoder, float default, which flow options it reads (and their defaults or the fixed values
// it uses instead), offline worker limit, live view, IPFIX set and CSV layout. Resolve() picks
// the row from the command line or says why it cannot. Data and pure functions only: it reads
// no option and opens nothing. tests/unit/profile_table_test.cpp fails when a profile or a
// feature set has no row or a default departs from the spec.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"
#include "live/profile_view.hpp"
#include "source/decode.hpp"

namespace nfm {

// --feature-set values (not FeatureSetId, which names a set of columns). kCount: the number of
// values (tests walk every one).
enum class FeatureSetOption : uint8_t { kNfm, kCic, kNtl, kCount };
// Profile values, in enum order (tests walk every one).
inline constexpr Profile kAllProfiles[] = {Profile::kCorrected, Profile::kNfm2022, Profile::kNfm2022Seed,
                                           Profile::kCic, Profile::kNtl};

// The engine class a row runs: FlowEngine, CicEngine or NtlEngine.
enum class EngineKind : uint8_t { kFlow, kCic, kNtl };
// The columns of the CSV (and JSON Lines) rows: the nfm layouts and the ntl sets are written by
// CsvExporter from the engine's feature set, the cic set by CicCsvExporter.
enum class CsvLayout : uint8_t { kNfm, kNfmSeed, kCic, kNtl };

// A flow option with a numeric value, as one row uses it.
struct Knob {
  bool option = false;  // the row reads the command-line option
  // The default when `option`; else the fixed value the engine uses instead (NaN: the row has
  // no such setting at all, e.g. the CIC reference has no idle timeout).
  double value = std::numeric_limits<double>::quiet_NaN();
  // Without `option`: why, completing "<row> ..." (e.g. "uses CICFlowMeter's fixed timeouts").
  const char* fixed = "";
  constexpr bool Applies() const noexcept { return option || value == value; }
};
// A flow option without a numeric default (a switch or a count the row may not have).
struct Use {
  bool option = false;
  const char* fixed = "";  // as Knob::fixed
};

struct RunProfile {
  Profile profile;
  FeatureSetOption feature_set;
  std::string_view profile_name, feature_set_name;
  // --profile P alone picks this row (its own feature set; "nfm" means "not given" there).
  bool profile_default;
  EngineKind engine;
  DecodeMode decode;
  std::string_view float_default;  // --float-format when not given ("" = shortest round trip)
  std::string_view float_text;     // what the CSV's floats look like by default (--help, manifest)
  Knob idle_timeout, active_timeout, activity_threshold, subflow_gap;
  Knob close_grace;  // not an option: FIN/RST grace of the corrected rows
  Use snapshot_interval, tunnel_inner, ntl_max_packets, max_flows;
  uint32_t ntl_max_packets_default;  // when ntl_max_packets.option
  // Offline --threads: at most this many shard workers (1: one worker pipelined with reader
  // and writer; see parallel/sharded_run.hpp). shared_clock: workers follow the reader's packet
  // clock (the engine ends flows by time); false: flows end lazily, on their own packets.
  unsigned offline_workers;
  bool shared_clock;
  bool live;  // --iface works
  live::LiveView live_view;
  FeatureSetId ipfix_set;  // the set the engine hands its exporters: --ipfix elements
  CsvLayout csv;
};

// Corrected-profile timeouts (docs/FEATURES.md) and the references' code defaults (spec §3.2,
// §4.1, §4.2; CIC.md §3: FLOW_TIMEOUT 120 s, ACTIVITY_TIMEOUT 5 s).
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr const char* kCicFixed = "uses CICFlowMeter's fixed timeouts (120 s flow, 5 s activity)";

inline constexpr RunProfile kProfileTable[] = {
    {Profile::kCorrected, FeatureSetOption::kNfm, "corrected", "nfm", true, EngineKind::kFlow, DecodeMode::kStrict, "",
     "shortest round-trip",
     {true, 120.0}, {true, 1800.0}, {true, 5.0}, {true, 1.0}, {false, 1.0, ""},
     {true}, {true}, {false, "keeps no packet lists (the ntl feature sets do)"}, {true}, 1u << 16,
     64, true, true, live::LiveView::kNative, FeatureSetId::kNfm, CsvLayout::kNfm},
    {Profile::kCorrected, FeatureSetOption::kCic, "corrected", "cic", false, EngineKind::kCic, DecodeMode::kStrict, "",
     "Java Double.toString",
     {true, 120.0}, {false, 120.0, "ends flows 120 s after their first packet, as CICFlowMeter does"},
     {true, 5.0}, {false, 1.0, "counts subflows at CICFlowMeter's fixed 1 s gap"}, {false, 1.0, ""},
     {true}, {true}, {false, "keeps no packet lists (the ntl feature sets do)"}, {true}, 1u << 16,
     // It sweeps before each packet at that packet's own time, over lists in arrival order:
     // with timestamps going backwards, which flows a sweep ends depends on other shards.
     1, false, true, live::LiveView::kNative, FeatureSetId::kCic, CsvLayout::kCic},
    {Profile::kCorrected, FeatureSetOption::kNtl, "corrected", "ntl", false, EngineKind::kFlow, DecodeMode::kStrict, "",
     "shortest round-trip",
     {true, 120.0}, {true, 1800.0}, {true, 5.0}, {true, 1.0}, {false, 1.0, ""},
     {true}, {true}, {true}, {true}, 1u << 16,
     64, true, true, live::LiveView::kNative, FeatureSetId::kNtlCorrected, CsvLayout::kNtl},
    // NetFlowMeter 2022: activity_timeout 5000 s, max_flow_duration 120000 s, active/idle
    // threshold 100 s, subflow gap 1 s. Its loose flow lookup cannot be sharded.
    {Profile::kNfm2022, FeatureSetOption::kNfm, "nfm2022", "nfm", true, EngineKind::kFlow, DecodeMode::kScapy2022,
     ".64f", ".64f",
     {true, 5000.0}, {true, 120000.0}, {true, 100.0}, {false, 1.0, "counts subflows at NetFlowMeter's fixed 1 s gap"},
     {},
     {false, "reproduces NetFlowMeter's rows, which have no snapshots"},
     {false, "counts a tunnel as one flow of its outer headers, as NetFlowMeter did"},
     {false, "keeps no packet lists (the ntl feature sets do)"}, {true}, 1u << 16,
     1, false, false, live::LiveView::kNative, FeatureSetId::kNfm, CsvLayout::kNfm},
    {Profile::kNfm2022Seed, FeatureSetOption::kNfm, "nfm2022-seed", "nfm", true, EngineKind::kFlow, DecodeMode::kScapy2022,
     ".64f", ".64f",
     {true, 5000.0}, {true, 120000.0}, {true, 100.0}, {false, 1.0, "counts subflows at NetFlowMeter's fixed 1 s gap"},
     {},
     {false, "reproduces NetFlowMeter's rows, which have no snapshots"},
     {false, "counts a tunnel as one flow of its outer headers, as NetFlowMeter did"},
     {false, "keeps no packet lists (the ntl feature sets do)"}, {true}, 1u << 16,
     1, false, false, live::LiveView::kNative, FeatureSetId::kNfm, CsvLayout::kNfmSeed},
    // CICFlowMeter master: no idle timeout; flows end 120 s after their start, activity 5 s,
    // subflow gap 1 s, all hard-coded. It has no clock, so its flows shard freely. Its CSV
    // floats are Java's; the IPFIX and JSON Lines writers get .64f.
    {Profile::kCic, FeatureSetOption::kCic, "cic", "cic", true, EngineKind::kCic, DecodeMode::kCic, ".64f",
     "Java Double.toString",
     {false, kNaN, kCicFixed}, {false, 120.0, kCicFixed}, {false, 5.0, kCicFixed},
     {false, 1.0, "counts subflows at CICFlowMeter's fixed 1 s gap"}, {},
     {false, "reproduces CICFlowMeter's rows, which have no snapshots"},
     {false, "counts a tunnel as one flow of its outer headers, as CICFlowMeter did"},
     {false, "keeps no packet lists (the ntl feature sets do)"}, {true}, 1u << 16,
     64, false, true, live::LiveView::kCic, FeatureSetId::kCic, CsvLayout::kCic},
    // NTLFlowLyzer e2def39 (spec §9.2): max_flow_duration 120000 s, activity_timeout 5000 s,
    // float .4f; active/idle threshold 100 s and subflow gap 1 s as in 2022 (§4.1, §4.2).
    {Profile::kNtl, FeatureSetOption::kNtl, "ntl", "ntl", true, EngineKind::kNtl, DecodeMode::kDpkt, ".4f", ".4f",
     {true, 5000.0}, {true, 120000.0}, {true, 100.0}, {false, 1.0, "counts subflows at NTLFlowLyzer's fixed 1 s gap"},
     {},
     {false, "reproduces NTLFlowLyzer's rows, which have no snapshots"},
     {false, "counts a tunnel as one flow of its outer headers, as NTLFlowLyzer did"},
     {true}, {true}, 1u << 16,
     64, false, true, live::LiveView::kNtl, FeatureSetId::kNtl, CsvLayout::kNtl},
};

std::string_view ProfileName(Profile p) noexcept;
// The --profile and --feature-set values, in table order.
std::vector<std::string> ProfileNames();
std::vector<std::string> FeatureSetNames();
std::string_view FeatureSetName(FeatureSetOption s) noexcept;

// What the command line gave for the options some rows ignore (nullopt / false: not given).
struct GivenOptions {
  bool feature_set = false;  // --feature-set given (even as "nfm")
  std::optional<double> idle_timeout, active_timeout, activity_threshold, subflow_gap, snapshot_interval;
  bool tunnel_inner = false;  // --tunnel inner
  bool where_tunnel = false;  // --where-columns tunnel (needs tunnel_inner)
  std::optional<uint32_t> ntl_max_packets;
  std::optional<uint64_t> max_flows;
  bool live = false;  // --iface
};

struct Resolved {
  const RunProfile* row = nullptr;  // null: `error` says why (one line, without "nfm-xdp: ")
  std::string error;
};

// The row for --profile `profile` and --feature-set `feature_set` (names as typed), or why
// there is none: an unknown name, a pair no row has, an option given that the row does not use
// (naming it, the row and what to do instead), or live capture with a profile that has none.
Resolved Resolve(std::string_view profile, std::string_view feature_set, const GivenOptions& given);

// The engine configuration of `row` with the given options (else the row's defaults).
EngineConfig EngineConfigFor(const RunProfile& row, const GivenOptions& given);

// The value `row` really uses for a knob: the given option, else the default or fixed value
// (NaN when the row has no such setting).
inline double Effective(const Knob& k, const std::optional<double>& given) noexcept {
  return k.option && given ? *given : k.value;
}

// The profile defaults (timeouts, threshold) of cfg.profile's own row, for options not given.
void ApplyProfileDefaults(EngineConfig& cfg, bool idle_given, bool active_given, bool threshold_given);

// "--profile P" or "--profile P --feature-set S" (when S is not P's own set).
std::string RowLabel(const RunProfile& row);
// --help text of the float defaults by profile, from the table.
std::string FloatDefaultsHelp();
// --help text of the rows that replay offline with one worker, e.g. "nfm2022, nfm2022-seed,
// --feature-set cic".
std::string SingleWorkerHelp();
// --help text of a knob's defaults by profile, e.g. "default 120; nfm2022, nfm2022-seed, ntl: 5000".
std::string KnobDefaultsHelp(Knob RunProfile::*knob);

}  // namespace nfm
