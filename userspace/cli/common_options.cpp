// SPDX-License-Identifier: MIT
// The nfm-xdp options (CLI11) and the checks that turn them into a Plan.
#include "cli/common_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "output/numfmt.hpp"
#include "profile/profile_table.hpp"

namespace nfm {

const char* const kCliDescription =
    "nfm-xdp: per-flow NetFlowMeter features (114) at line rate.\n"
    "  live:    sudo nfm-xdp --iface eth0 --csv out.csv\n"
    "  offline: nfm-xdp --pcap in.pcap --csv out.csv";

bool CommonOptions::Where(const char* column) const {
  return std::find(where_columns.begin(), where_columns.end(), column) != where_columns.end();
}

void SetupCommandLine(CLI::App& app, CommonOptions& o, IpfixCliOptions& ipfix, CliHandles* h,
                      const std::function<void(CLI::App&, CLI::Option* pcap)>& add_source_options) {
  // What works with which feature set (docs/DATASETS.md "Feature sets"; keep both in step).
  app.footer(
      "Feature sets: nfm (default), cic (--profile cic | --feature-set cic), ntl (--profile ntl | --feature-set ntl).\n"
      "  --labels, --default-label, --loss-column, manifests and compressed output: every set (cic, ntl:\n"
      "  --labels fills the set's own Label/label column; capture_loss goes before it).\n"
      "  Live: every set (--profile corrected, cic or ntl). --ipfix: every set (docs/IPFIX.md).\n"
      "  See docs/DATASETS.md.");
  app.get_formatter()->column_width(34);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("nfm-xdp: ") + e.what() + " (see --help)\n";
  });
  // Validators with short messages (CLI11's range text prints DBL_MAX in full).
  const CLI::Validator positive(
      [](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0') return "'" + s + "' is not a number";
        if (!(v > 0) || v > 1e9) return "'" + s + "' must be a number of seconds > 0";
        return {};
      },
      "SECONDS");
  const CLI::Validator non_negative(
      [](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0') return "'" + s + "' is not a number";
        if (!(v >= 0) || v > 1e12) return "'" + s + "' must be a number >= 0";
        return {};
      },
      "NUMBER");

  auto* pcap = app.add_option("--pcap", o.pcap,
          "Replay pcap/pcapng captures, plain or gzip/zstd/xz/bzip2-compressed (told by their "
          "first bytes): files and/or directories (every regular file inside), repeatable; read as "
          "one capture merged by timestamp ('-' = stdin)")
      ->group("Source");
  app.add_option("--threads", o.threads,
                 "Flow engine workers (default: the CPUs this process may use; live, at most one per ring; "
                 "offline, 1 for inputs under 256 MiB in all; " + SingleWorkerHelp() + ": 1 worker, "
                 "pipelined with reader and writer when > 1). Offline rows of N > 1 come in another order "
                 "than with 1 (the same for the same N; sort to compare). Offline, a capture file of 8 MiB and "
                 "more is read ahead on a helper thread when the workers leave a CPU free, except with "
                 "--threads 1, which keeps the replay on one core (for many captures side by side; the "
                 "manifest's input hash still has its own thread)")
      ->check(CLI::Range(1u, 64u))
      ->group("Source");
  auto* prog_on = app.add_flag("--progress", o.progress_on,
                               "Offline: show a progress line on stderr even when it is not a terminal")
                      ->group("Source");
  app.add_flag("--no-progress", o.progress_off, "Offline: no progress line (default: shown when stderr is a terminal)")
      ->excludes(prog_on)
      ->group("Source");
  if (add_source_options) add_source_options(app, pcap);
  h->csv = app.add_option("--csv", o.csv, "Write flows as CSV to FILE ('-' = stdout; default unless --ipfix is given)")
      ->capture_default_str()
      ->group("Output");
  h->json = app.add_option("--json", o.json,
          "Write rows as JSON Lines to FILE ('-' = stdout): one object per row, the CSV's "
          "columns as typed values (NaN/empty: null); alone or beside --csv; .gz/.zst "
          "compress; live: each row is flushed as it is made")
      ->group("Output");
  app.add_option("--json-rotate-mb", o.json_rotate_mb, "Start a new JSON Lines file after this many MiB (0 = never)")
      ->check(non_negative)
      ->group("Output");
  SetupIpfixOptions(app, ipfix);
  app.add_option("--csv-rotate-mb", o.csv_rotate_mb, "Start a new CSV file after this many MiB (0 = never)")
      ->check(non_negative)
      ->group("Output");
  app.add_option("--profile", o.profile,
                 "Feature semantics: corrected (defects fixed) | nfm2022 (NetFlowMeter bit for bit) | "
                 "nfm2022-seed (its 115-column seed layout) | cic (CICFlowMeter master, 84 columns byte for byte) | "
                 "ntl (NTLFlowLyzer e2def39 bit for bit: 339 features + label, Ethernet IPv4 TCP)")
      ->check(CLI::IsMember(ProfileNames()))
      ->capture_default_str()
      ->group("Features");
  h->feature_set = app.add_option("--feature-set", o.feature_set,
          "Columns of the corrected profile: nfm (114 features) | cic (CICFlowMeter's columns, defects fixed) | "
          "ntl (NTLFlowLyzer's 341 features + label, defects fixed)")
      ->check(CLI::IsMember(FeatureSetNames()))
      ->capture_default_str()
      ->group("Features");
  h->label = app.add_option("--label", o.label,
          "ntl feature sets: text of the constant label column (not with "
          "--labels, which fills that column from its rules)")
      ->capture_default_str()
      ->group("Features");
  h->ntl_max_packets = app.add_option("--ntl-max-packets", o.ntl_max_packets,
          "ntl feature sets: packets kept per flow for list statistics (16 B each); past it those statistics "
          "cover the first N packets")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1} << 26))
      ->capture_default_str()
      ->group("Features");
  app.add_option("--float-format", o.float_format,
                 "Python-style float format: .Nf or .Ng (default by profile: " + FloatDefaultsHelp() + ")")
      ->group("Features");
  app.add_option("--tz", o.tz, "Time zone of flow_id/timestamp text: utc | local")
      ->check(CLI::IsMember({"utc", "local"}))
      ->capture_default_str()
      ->group("Features");
  h->idle_timeout = app.add_option("--idle-timeout", o.idle_timeout,
          "Seconds without packets that end a flow (" + KnobDefaultsHelp(&RunProfile::idle_timeout) + ")")
      ->check(positive)
      ->group("Flows");
  h->active_timeout = app.add_option("--active-timeout", o.active_timeout,
          "Seconds after which a flow is exported and continues as a new flow (" +
              KnobDefaultsHelp(&RunProfile::active_timeout) + ")")
      ->check(positive)
      ->group("Flows");
  h->activity_threshold = app.add_option("--activity-threshold", o.activity_threshold,
          "Gap (s) that separates active periods (" + KnobDefaultsHelp(&RunProfile::activity_threshold) + ")")
      ->check(positive)
      ->group("Flows");
  h->subflow_gap = app.add_option("--subflow-gap", o.subflow_gap, "Gap (s) that starts a new subflow")
      ->check(positive)
      ->capture_default_str()
      ->group("Flows");
  h->snapshot_interval = app.add_option("--snapshot-interval", o.snapshot_interval,
          "Every SECONDS of packet time, export each open flow that had packets since its "
          "last snapshot with its features so far (row_kind snapshot; the flow continues "
          "and ends with its usual final row). --profile corrected only")
      ->check(positive)
      ->group("Flows");
  h->max_flows = app.add_option("--max-flows", o.max_flows,
          "Flow table capacity; when full the least recently active flow is exported (reason "
          "eviction)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 31))
      ->capture_default_str()
      ->group("Flows");
  app.add_option("--tunnel", o.tunnel,
                 "Overlay tunnels (VXLAN, Geneve, GTP-U, GRE, IP in IP): outer = a tunnel is one flow of its outer "
                 "headers; inner = the packet inside the tunnel gives the flow and the features (corrected profile; "
                 "docs/FEATURES.md \"Overlay tunnels\")")
      ->check(CLI::IsMember({"outer", "inner"}))
      ->capture_default_str()
      ->group("Flows");
  h->vxlan_port = app.add_option("--vxlan-port", o.vxlan_ports,
          "With --tunnel inner: another UDP destination port that carries VXLAN (4789 and "
          "8472 always do); repeatable, up to 6")
      ->check(CLI::Range(1, 65535))
      ->group("Flows");
  h->metrics_addr = app.add_option("--metrics-addr", o.metrics_addr,
          "Serve Prometheus metrics on HOST:PORT ('' disables; default 127.0.0.1:9477 live, "
          "off offline)")
      ->group("Metrics");
  app.add_option("--metrics-linger", o.metrics_linger,
                 "Keep serving the final metrics this many seconds after the run ends")
      ->check(non_negative)
      ->group("Metrics");
  app.add_option("--labels", o.labels,
                 "Label flows from a rule file (CSV: label,start,end,src,dst,sport,dport,proto; see "
                 "docs/DATASETS.md); adds a last column 'label' (cic, ntl sets: fills their own last column "
                 "Label / label instead)")
      ->group("Data sets");
  app.add_option("--default-label", o.default_label, "Label of flows no rule matches")
      ->capture_default_str()
      ->group("Data sets");
  app.add_flag("--loss-column", o.loss_column,
               "Add a column capture_loss before the label column (if any): 1 when events of the flow may have "
               "been lost (live: ring losses while it was open; offline: pcapng drop counts in its span); every "
               "feature set")
      ->group("Data sets");
  app.add_option("--where-columns", o.where_columns,
                 "Add columns saying where a flow was seen: node (--node-name), iface (adds iface and ifindex: "
                 "the interface that reported the flow live; empty offline), tunnel (adds tunnel_type, "
                 "tunnel_src, tunnel_dst, tunnel_id: the tunnel of the flow's first decapsulated packet; needs "
                 "--tunnel inner); comma-separated, before capture_loss and label")
      ->delimiter(',')
      ->check(CLI::IsMember({"node", "iface", "tunnel"}))
      ->type_name("LIST")
      ->group("Data sets");
  app.add_option("--node-name", o.node_name,
                 "Value of the node column (default: $NODE_NAME, e.g. from the Kubernetes downward API, else "
                 "the host name)")
      ->type_name("NAME")
      ->group("Data sets");
  app.add_flag("--no-manifest", o.no_manifest,
               "Do not write <file>.manifest.json next to each closed CSV file (and do not hash the input)")
      ->group("Data sets");
  app.add_option("--digest-cache", o.digest_cache,
                 "Where the manifest's input SHA-256 of files of 1 MiB and more is remembered between runs, "
                 "keyed by device, inode, size, mtime and ctime, so an unchanged capture is not hashed again "
                 "(\"off\": hash every time; default $NFM_DIGEST_CACHE, else "
                 "$XDG_CACHE_HOME/nfm-xdp/sha256.cache or ~/.cache/nfm-xdp/sha256.cache)")
      ->type_name("FILE|off")
      ->group("Data sets");
  app.add_flag("-q,--quiet", o.quiet, "No summary line on stderr (live: unless events were lost)");
  app.add_flag("-v,--verbose", o.verbose, "Live: show libbpf's log (verifier output) on stderr");
}

GivenOptions GivenOf(const CommonOptions& o, const CliHandles& h, bool live) {
  const auto given = [](const CLI::Option* opt) { return opt != nullptr && opt->count() > 0; };
  GivenOptions g;
  g.feature_set = given(h.feature_set);
  if (given(h.idle_timeout)) g.idle_timeout = o.idle_timeout;
  if (given(h.active_timeout)) g.active_timeout = o.active_timeout;
  if (given(h.activity_threshold)) g.activity_threshold = o.activity_threshold;
  if (given(h.subflow_gap)) g.subflow_gap = o.subflow_gap;
  if (given(h.snapshot_interval)) g.snapshot_interval = o.snapshot_interval;
  g.tunnel_inner = o.tunnel == "inner";
  g.where_tunnel = o.Where("tunnel");
  if (given(h.ntl_max_packets)) g.ntl_max_packets = o.ntl_max_packets;
  if (given(h.max_flows)) g.max_flows = o.max_flows;
  g.live = live;
  return g;
}

bool ResolveProfile(const CommonOptions& o, const CliHandles& h, bool live, Plan* plan, std::string* error) {
  plan->given = GivenOf(o, h, live);
  const Resolved r = Resolve(o.profile, o.feature_set, plan->given);
  if (!r.row) {
    *error = r.error;
    return false;
  }
  plan->row = r.row;
  plan->live = live;
  plan->cfg = EngineConfigFor(*r.row, plan->given);
  return true;
}

bool CheckOptions(CommonOptions& o, const CliHandles& h, Plan* plan, std::string* error) {
  const RunProfile& row = *plan->row;
  // The float format is parsed once here; without --float-format, the row's default.
  const bool float_given = !o.float_format.empty();
  const std::string spec_text = float_given ? o.float_format : std::string(row.float_default);
  const std::optional<fmt::FloatSpec> spec = fmt::FloatSpec::Parse(spec_text);
  if (!spec) {
    *error = "--float-format '" + o.float_format + "' is not supported; use .Nf or .Ng (e.g. .17g)";
    return false;
  }
  plan->float_spec = *spec;
  // The CIC writer has its own number format (Java's); the others show the spec in use.
  plan->float_text = row.csv == CsvLayout::kCic || !float_given ? std::string(row.float_text) : o.float_format;
  if (h.vxlan_port->count() > 0 && o.tunnel != "inner") {
    *error = "--vxlan-port takes effect with --tunnel inner only; add --tunnel inner";
    return false;
  }
  if (o.vxlan_ports.size() > TunnelConfig::kMaxVxlanPorts - 2) {
    *error = "--vxlan-port: at most " + std::to_string(TunnelConfig::kMaxVxlanPorts - 2) +
             " ports besides 4789 and 8472";
    return false;
  }
  if (!plan->live && o.pcap.empty()) {
    *error = "no packet source; give --pcap FILE or --iface IF (see --help)";
    return false;
  }
  // Data-set options are checked before any output is opened or packet read.
  std::string why;
  if (!LabelRules::ValidLabel(o.default_label, &why)) {
    *error = "--default-label: " + why;
    return false;
  }
  if (h.label->count() > 0 && !LabelRules::ValidLabel(o.label, &why)) {
    *error = "--label: " + why;
    return false;
  }
  // One source for the label column: the constant --label or the rules of --labels.
  if (h.label->count() > 0 && !o.labels.empty()) {
    *error = "--label and --labels exclude each other; with --labels, --default-label names the flows no rule "
             "matches";
    return false;
  }
  if (!o.labels.empty()) {
    plan->labels = LabelRules::Load(o.labels, &why);
    if (!plan->labels) {
      *error = why;
      return false;
    }
  }
  if (o.loss_column && !plan->live && std::find(o.pcap.begin(), o.pcap.end(), "-") != o.pcap.end()) {
    *error = "--loss-column offline needs the capture's drop records before the first flow ends; give --pcap a "
             "file, not stdin";
    return false;
  }
  o.metrics_addr_given = h.metrics_addr->count() > 0;
  if (!o.metrics_addr_given) o.metrics_addr = plan->live ? "127.0.0.1:9477" : "";
  return true;
}

TunnelConfig TunnelConfigOf(const CommonOptions& o) {
  TunnelConfig t;
  t.inner = o.tunnel == "inner";
  for (uint16_t p : o.vxlan_ports)
    if (!t.IsVxlanPort(p)) t.vxlan_ports[t.n_vxlan_ports++] = p;
  return t;
}

}  // namespace nfm
