// SPDX-License-Identifier: MIT
// Resolve: command-line names -> the table row, with every refusal in one place.
#include "profile/profile_table.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace nfm {

namespace {

std::string Num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

// The row to suggest for an option `row` does not use: the corrected row of its feature set,
// else another row of its profile, else any corrected row that uses it; null when none does.
template <class Pred>
const RunProfile* Alternative(const RunProfile& row, Pred uses) {
  for (const RunProfile& r : kProfileTable)
    if (r.profile == Profile::kCorrected && r.feature_set == row.feature_set && uses(r)) return &r;
  for (const RunProfile& r : kProfileTable)
    if (r.profile == row.profile && uses(r)) return &r;
  for (const RunProfile& r : kProfileTable)
    if (r.profile == Profile::kCorrected && uses(r)) return &r;
  return nullptr;
}

template <class Pred>
std::string Refusal(const char* option, const RunProfile& row, const char* fixed, Pred uses) {
  std::string s = std::string(option) + ": " + RowLabel(row) + " " + fixed + "; drop the option";
  if (const RunProfile* alt = Alternative(row, uses); alt != nullptr && alt != &row) s += " or use " + RowLabel(*alt);
  return s;
}

// "corrected, cic or ntl": the profiles with a row that satisfies `pred`, in table order.
template <class Pred>
std::string ProfileList(Pred pred) {
  std::vector<std::string_view> names;
  for (const RunProfile& r : kProfileTable) {
    if (!pred(r)) continue;
    bool seen = false;
    for (std::string_view n : names) seen = seen || n == r.profile_name;
    if (!seen) names.push_back(r.profile_name);
  }
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += std::string(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string(names[i]);
  return s;
}

}  // namespace

std::string_view ProfileName(Profile p) noexcept {
  for (const RunProfile& r : kProfileTable)
    if (r.profile == p) return r.profile_name;
  return "?";
}

std::vector<std::string> ProfileNames() {
  std::vector<std::string> out;
  for (const RunProfile& r : kProfileTable)
    if (std::find(out.begin(), out.end(), r.profile_name) == out.end()) out.emplace_back(r.profile_name);
  return out;
}

std::vector<std::string> FeatureSetNames() {
  std::vector<std::string> out;
  for (const RunProfile& r : kProfileTable)
    if (std::find(out.begin(), out.end(), r.feature_set_name) == out.end()) out.emplace_back(r.feature_set_name);
  return out;
}

std::string_view FeatureSetName(FeatureSetOption s) noexcept {
  for (const RunProfile& r : kProfileTable)
    if (r.feature_set == s) return r.feature_set_name;
  return "?";
}

std::string RowLabel(const RunProfile& row) {
  std::string s = "--profile " + std::string(row.profile_name);
  if (!row.profile_default) s += " --feature-set " + std::string(row.feature_set_name);
  return s;
}

Resolved Resolve(std::string_view profile, std::string_view feature_set, const GivenOptions& given) {
  Resolved out;
  bool known_profile = false, known_set = false;
  for (const RunProfile& r : kProfileTable) {
    known_profile = known_profile || r.profile_name == profile;
    known_set = known_set || r.feature_set_name == feature_set;
  }
  if (!known_profile) {
    out.error = "--profile " + std::string(profile) + ": unknown profile";
    return out;
  }
  if (!known_set) {
    out.error = "--feature-set " + std::string(feature_set) + ": unknown feature set";
    return out;
  }
  // The profile's own row when --feature-set names its set, or is the default "nfm" not given.
  const RunProfile* own = nullptr;
  const RunProfile* named = nullptr;
  for (const RunProfile& r : kProfileTable) {
    if (r.profile_name != profile) continue;
    if (r.profile_default) own = &r;
    if (r.feature_set_name == feature_set) named = &r;
  }
  const RunProfile* row = named;
  if (!row && feature_set == "nfm" && !given.feature_set) row = own;
  if (!row) {
    if (feature_set == "nfm") {
      out.error = "--feature-set nfm: --profile " + std::string(profile) + " writes its reference's own columns (" +
                  std::string(own->feature_set_name) + "); drop --feature-set or use --profile corrected";
    } else {
      out.error = "--feature-set " + std::string(feature_set) + " works with --profile " +
                  ProfileList([&](const RunProfile& r) { return r.feature_set_name == feature_set; });
    }
    return out;
  }
  const RunProfile& r = *row;
  const auto knob = [&](const char* option, Knob RunProfile::*k, const std::optional<double>& v) {
    if (!out.error.empty() || !v || (r.*k).option) return;
    out.error = Refusal(option, r, (r.*k).fixed, [k](const RunProfile& x) { return (x.*k).option; });
  };
  const auto use = [&](const char* option, Use RunProfile::*u, bool given_here) {
    if (!out.error.empty() || !given_here || (r.*u).option) return;
    out.error = Refusal(option, r, (r.*u).fixed, [u](const RunProfile& x) { return (x.*u).option; });
  };
  knob("--idle-timeout", &RunProfile::idle_timeout, given.idle_timeout);
  knob("--active-timeout", &RunProfile::active_timeout, given.active_timeout);
  knob("--activity-threshold", &RunProfile::activity_threshold, given.activity_threshold);
  knob("--subflow-gap", &RunProfile::subflow_gap, given.subflow_gap);
  use("--snapshot-interval", &RunProfile::snapshot_interval, given.snapshot_interval.has_value());
  use("--tunnel inner", &RunProfile::tunnel_inner, given.tunnel_inner);
  // The tunnel columns describe the tunnel --tunnel inner opened: the rows that refuse it refuse them.
  use("--where-columns tunnel", &RunProfile::tunnel_inner, given.where_tunnel);
  if (out.error.empty() && given.where_tunnel && !given.tunnel_inner)
    out.error = "--where-columns tunnel: the tunnel columns describe the tunnels --tunnel inner opens; add --tunnel inner";
  use("--ntl-max-packets", &RunProfile::ntl_max_packets, given.ntl_max_packets.has_value());
  use("--max-flows", &RunProfile::max_flows, given.max_flows.has_value());
  if (out.error.empty() && given.live && !r.live) {
    out.error = "live capture works with --profile " + ProfileList([](const RunProfile& x) { return x.live; }) +
                "; --profile " + std::string(profile) + " works with --pcap only";
  }
  if (out.error.empty()) out.row = row;
  return out;
}

EngineConfig EngineConfigFor(const RunProfile& row, const GivenOptions& given) {
  EngineConfig cfg;
  cfg.profile = row.profile;
  // A knob the row has no value for keeps EngineConfig's default: its engine does not read it.
  const auto set = [](double& to, const Knob& k, const std::optional<double>& v) {
    if (const double e = Effective(k, v); e == e) to = e;
  };
  set(cfg.idle_timeout_s, row.idle_timeout, given.idle_timeout);
  set(cfg.active_timeout_s, row.active_timeout, given.active_timeout);
  set(cfg.activity_threshold_s, row.activity_threshold, given.activity_threshold);
  set(cfg.subflow_gap_s, row.subflow_gap, given.subflow_gap);
  if (row.max_flows.option && given.max_flows) cfg.max_flows = *given.max_flows;
  if (row.snapshot_interval.option && given.snapshot_interval) cfg.snapshot_interval_s = *given.snapshot_interval;
  cfg.tunnel_columns = row.tunnel_inner.option && given.tunnel_inner && given.where_tunnel;
  // FlowEngine's corrected ntl set (NtlEngine takes the bound in its own NtlConfig).
  cfg.ntl_features = row.engine == EngineKind::kFlow && row.feature_set == FeatureSetOption::kNtl;
  cfg.ntl_max_list_packets =
      row.ntl_max_packets.option && given.ntl_max_packets ? *given.ntl_max_packets : row.ntl_max_packets_default;
  return cfg;
}

void ApplyProfileDefaults(EngineConfig& cfg, bool idle_given, bool active_given, bool threshold_given) {
  for (const RunProfile& r : kProfileTable) {
    if (r.profile != cfg.profile || !r.profile_default) continue;
    if (!idle_given && r.idle_timeout.value == r.idle_timeout.value) cfg.idle_timeout_s = r.idle_timeout.value;
    if (!active_given && r.active_timeout.value == r.active_timeout.value)
      cfg.active_timeout_s = r.active_timeout.value;
    if (!threshold_given && r.activity_threshold.value == r.activity_threshold.value)
      cfg.activity_threshold_s = r.activity_threshold.value;
    return;
  }
}

std::string FloatDefaultsHelp() {
  // "corrected: shortest round-trip (--feature-set cic: Java Double.toString); nfm2022,
  // nfm2022-seed: .64f; ...": each profile's own row, its other rows where they differ, and
  // profiles with the same text grouped.
  std::vector<std::pair<std::string, std::string>> groups;  // text, profile names
  for (Profile p : kAllProfiles) {
    std::string text, extra;
    for (const RunProfile& r : kProfileTable)
      if (r.profile == p && r.profile_default) text = std::string(r.float_text);
    for (const RunProfile& r : kProfileTable)
      if (r.profile == p && !r.profile_default && r.float_text != text)
        extra += (extra.empty() ? " (" : ", ") + std::string("--feature-set ") + std::string(r.feature_set_name) +
                 ": " + std::string(r.float_text);
    if (!extra.empty()) text += extra + ")";
    if (!groups.empty() && groups.back().first == text) {
      groups.back().second += ", " + std::string(ProfileName(p));
    } else {
      groups.emplace_back(text, std::string(ProfileName(p)));
    }
  }
  std::string s;
  for (const auto& [text, names] : groups) s += (s.empty() ? "" : "; ") + names + ": " + text;
  return s;
}

std::string SingleWorkerHelp() {
  std::string s;
  for (const RunProfile& r : kProfileTable) {
    if (r.offline_workers != 1) continue;
    s += s.empty() ? "" : ", ";
    s += r.profile_default ? std::string(r.profile_name) : RowLabel(r);
  }
  return s;
}

std::string KnobDefaultsHelp(Knob RunProfile::*knob) {
  // "default 120; nfm2022, nfm2022-seed, ntl: 5000": the corrected default first, then the
  // other profiles' own rows grouped by value (only rows that read the option).
  std::string first;
  std::vector<std::pair<std::string, std::string>> groups;  // value, profile names
  for (const RunProfile& r : kProfileTable) {
    const Knob& k = r.*knob;
    if (!r.profile_default || !k.option) continue;
    if (r.profile == Profile::kCorrected) {
      first = "default " + Num(k.value);
      continue;
    }
    bool added = false;
    for (auto& [v, names] : groups)
      if (v == Num(k.value)) {
        names += ", " + std::string(r.profile_name);
        added = true;
      }
    if (!added) groups.emplace_back(Num(k.value), std::string(r.profile_name));
  }
  for (const auto& [v, names] : groups) first += "; " + names + ": " + v;
  return first;
}

}  // namespace nfm
