// SPDX-License-Identifier: MIT
// Manifest facts of a run, from the plan (profile/profile_table.hpp) and the options.
#include "run/manifest_facts.hpp"

#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <cstdio>
#include <optional>
#include <string>

#include "nfm/counter_table.hpp"
#include "output/dataset_columns.hpp"
#include "source/sha256.hpp"

namespace nfm {

namespace {

// Every option as "name -> value text" for the manifest (given values, else the default).
std::vector<std::pair<std::string, std::string>> OptionValues(const CLI::App& app) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const CLI::Option* opt : app.get_options()) {
    const auto& l = opt->get_lnames();
    const std::string name = l.empty() ? opt->get_name() : "--" + l.front();
    if (name == "--help" || name == "--version") continue;
    const bool flag = opt->get_expected_max() == 0;
    std::string v;
    if (opt->count() > 0) {
      if (flag) {
        v = "true";
      } else {
        for (const auto& r : opt->results()) v += (v.empty() ? "" : ",") + r;
      }
    } else {
      v = flag ? "false" : opt->get_default_str();
    }
    out.emplace_back(name, v);
  }
  return out;
}

std::string FileSha256(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  Sha256 h;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) h.Update(buf, n);
  std::fclose(f);
  return h.HexFinal();
}

// Manifest names of the kernel counters, from the one counter table (include/nfm/counter_table.hpp):
// the summary name in snake case, with _packets / _bytes for the per-hook counts.
std::string LiveCounterName(int i) {
  const CounterInfo* c = FindCounter(i);
  if (!c) return "slot_" + std::to_string(i);
  std::string n(c->summary);
  for (char& ch : n)
    if (ch == ' ') ch = '_';
  if (c->kind == CounterKind::kSeenPackets) n += "_packets";
  if (c->kind == CounterKind::kSeenBytes) n += "_bytes";
  return n;
}

std::string Num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}


}  // namespace

std::vector<std::pair<std::string, std::string>> EffectiveSettings(const CommonOptions& o, const Plan& plan) {
  const RunProfile& row = *plan.row;
  const GivenOptions& g = plan.given;
  std::vector<std::pair<std::string, std::string>> out = {{"profile", std::string(row.profile_name)},
                                                          {"feature_set", std::string(row.feature_set_name)}};
  // Only the settings the row has, with the values its engine uses (fixed ones included).
  const auto knob = [&out](const char* name, const Knob& k, const std::optional<double>& given) {
    if (k.Applies()) out.emplace_back(name, Num(Effective(k, given)));
  };
  knob("idle_timeout_s", row.idle_timeout, g.idle_timeout);
  knob("active_timeout_s", row.active_timeout, g.active_timeout);
  knob("activity_threshold_s", row.activity_threshold, g.activity_threshold);
  knob("subflow_gap_s", row.subflow_gap, g.subflow_gap);
  knob("close_grace_s", row.close_grace, std::nullopt);
  out.emplace_back("max_flows", std::to_string(plan.cfg.max_flows));
  out.emplace_back("float_format", plan.float_text);
  out.emplace_back("tz", o.tz);
  if (row.ntl_max_packets.option) out.emplace_back("ntl_max_packets", std::to_string(plan.cfg.ntl_max_list_packets));
  return out;
}

void SetupManifest(const RunContext& c, Manifest& manifest, std::vector<InputProgress>& inputs,
                   std::function<EngineStats()> stats) {
  const CommonOptions& o = *c.o;
  const EngineConfig& cfg = c.plan->cfg;
  const LabelRules* labels = c.plan->labels.get();
  manifest.mode = c.Live() ? "live" : "offline";
  for (int i = 0; i < c.argc; ++i) manifest.command_line.emplace_back(c.argv[i]);
  manifest.options = OptionValues(*c.app);
  manifest.effective = EffectiveSettings(o, *c.plan);
  if (labels) {
    manifest.labels_path = o.labels;
    manifest.labels_sha256 = FileSha256(o.labels);
    manifest.label_rules = labels->Size();
    manifest.default_label = o.default_label;
  }
  manifest.loss_column = o.loss_column;
  manifest.loss_source = c.Live() ? "ring_losses" : "pcapng_isb";
  if (cfg.snapshot_interval_s > 0) {
    manifest.snapshot_interval_s = cfg.snapshot_interval_s;
    manifest.effective.emplace_back("snapshot_interval_s", Num(cfg.snapshot_interval_s));
  }
  if (!c.Live()) {
    manifest.inputs = [&inputs](std::vector<ManifestInput>* v) {
      for (const InputProgress& input : inputs) {
        ManifestInput m;
        m.path = input.path;
        m.format = input.format;
        m.compression = input.compression;
        m.size = input.size;
        input.Sha256(&m.sha256, &m.sha256_bytes);
        m.sha256_complete = input.sha256_complete;
        m.records = input.records;
        m.have_times = input.have_times;
        m.first_ns = static_cast<int64_t>(input.first_ns);
        m.last_ns = static_cast<int64_t>(input.last_ns);
        m.drop_intervals = input.drops.size();
        for (const auto& d : input.drops) m.drops += d.drops;
        v->push_back(std::move(m));
      }
    };
  }
  manifest.engine_counts = [stats = std::move(stats)](ManifestCounts* packets, ManifestCounts* flows) {
    const EngineStats st = stats();
    uint64_t skipped = 0;
    for (uint64_t s : st.skipped) skipped += s;
    packets->emplace_back("offered", st.packets);
    packets->emplace_back("in_flows", st.packets_in_flows);
    packets->emplace_back("skipped", skipped);
    for (int r = 0; r < static_cast<int>(SkipReason::kCount); ++r)
      packets->emplace_back(std::string("skipped_") + SkipReasonName(static_cast<SkipReason>(r)),
                            st.skipped[r]);
    packets->emplace_back("out_of_order", st.out_of_order);
    uint64_t exported = 0;
    for (uint64_t e : st.flows_exported) exported += e;
    flows->emplace_back("created", st.flows_created);
    flows->emplace_back("exported", exported);
    for (int r = 0; r < static_cast<int>(EndReason::kCount); ++r)
      flows->emplace_back(EndReasonName(static_cast<EndReason>(r)), st.flows_exported[r]);
    flows->emplace_back("open", st.flows_active);
  };
  manifest.interrupted = [stop = c.stop] { return stop->load(); };
}

std::function<bool(ManifestLive*)> LiveManifestFacts(const RunContext& c, LossTimeline* loss_timeline) {
  const live::LiveOptions* live = c.live.options;
  const live::LiveStatus* status = c.status;
  return [live, status, loss_timeline](ManifestLive* l) {
    l->interfaces = live->ifaces;
    l->xdp_mode = live::XdpModeName(status->xdp_mode.load());
    l->rings = status->rings.load();
    l->ring_size_bytes = status->ring_size_bytes.load();
    for (int i = 0; i < NFM_CNT_MAX; ++i) l->counters.emplace_back(LiveCounterName(i), status->counters[i].load());
    l->counters.emplace_back("events_decoded", status->events_decoded.load());
    l->counters.emplace_back("events_bad", status->events_bad.load());
    if (loss_timeline) {
      for (const auto& v : loss_timeline->Intervals())
        l->loss_intervals.push_back({v.from_ns, v.to_ns, v.lost, v.ring});
    }
    return true;
  };
}

// Manifests of the IPFIX file: destinations that are regular files (index-aligned with
// *c.ipfix; null for the others): the run facts of the CSV's manifest, the record's elements as
// columns, no label or loss column (the records carry neither). Each one's ManifestRows counts
// the flows; it is added to the engine right after the IPFIX exporters.
std::vector<std::unique_ptr<Manifest>> MakeIpfixManifests(const RunContext& c, std::vector<InputProgress>& inputs,
                                                          const std::function<EngineStats()>& stats) {
  std::vector<std::unique_ptr<Manifest>> out;
  for (const auto& x : *c.ipfix) {
    struct stat st {};
    const ipfix::Destination& d = x->Dest();
    if (c.o->no_manifest || d.kind != ipfix::Destination::Kind::kFile || ::stat(d.path.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      out.emplace_back();
      continue;
    }
    auto m = std::make_unique<Manifest>();
    SetupManifest(c, *m, inputs, stats);
    m->format = "ipfix";
    m->labels_path.clear();
    m->loss_column = false;
    for (const ipfix::ElementDoc& e : ipfix::ElementTable(*c.ipfix_set, c.ipfix_pen)) {
      if (e.in == (c.ipfix_uniflow ? "biflow" : "uniflow")) continue;  // not in this mode's templates
      m->columns.push_back({e.name, e.type, e.unit});
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace nfm
