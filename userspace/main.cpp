// SPDX-License-Identifier: MIT
// nfm-xdp command line: picks the source (--pcap replay or --iface live capture), builds the
// engine and the CSV sink, wires metrics, handles signals and exit codes. No packet logic here.
#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <thread>
#include <utility>
#include <vector>

#include "engine/cic/cic_engine.hpp"
#include "output/cic_row.hpp"
#include "output/csv_writer.hpp"
#include "engine/engine.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "metrics/metrics.hpp"
#include "label/labels.hpp"
#include "nfm/counter_table.hpp"
#include "output/csv_exporter.hpp"
#include "output/json_exporter.hpp"
#include "cli/ipfix_options.hpp"
#include "engine/nfm_features.hpp"
#include "output/dataset_columns.hpp"
#include "output/manifest.hpp"
#include "output/numfmt.hpp"
#include "parallel/sharded_run.hpp"
#include "source/sha256.hpp"
#include "source/offline.hpp"
#include "version.hpp"
#ifdef NFM_HAVE_LIVE
#include "live/live.hpp"
#endif

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

// Exit statuses (README "Exit status"). When several apply, the most severe wins, in this order:
// 1 (an output or input failed outright), 3 (a destination lacks records), 4 (the input was
// not read to its end), 2 (a capture is damaged; everything readable was processed).
constexpr int kExitFatal = 1;
constexpr int kExitExportIncomplete = 3;
constexpr int kExitInterrupted = 4;

int WorseStatus(int a, int b) {
  const auto rank = [](int rc) { return rc == 0 ? 0 : rc == 2 ? 1 : rc == kExitInterrupted ? 2 : rc == 3 ? 3 : 4; };
  return rank(b) > rank(a) ? b : a;
}

struct CommonOptions {
  std::vector<std::string> pcap;
  unsigned threads = 0;  // 0: the CPUs this process may run on
  bool progress_on = false, progress_off = false;
  std::string csv = "-";
  std::string profile = "corrected";
  std::string feature_set = "nfm";  // nfm (114 features) | cic (CICFlowMeter columns) | ntl (NTLFlowLyzer's)
  std::string label = "Unknown";      // ntl feature sets: the label column
  uint32_t ntl_max_packets = 1u << 16;  // ntl feature sets: packets listed per flow
  std::string float_format;  // empty: profile default
  std::string tz = "utc";
  double idle_timeout = 0, active_timeout = 0, activity_threshold = 0, subflow_gap = 1.0;
  uint64_t max_flows = 1u << 20;
  std::string metrics_addr;  // see --metrics-addr
  bool metrics_addr_given = false;
  double metrics_linger = 0;
  double csv_rotate_mb = 0;
  std::string json;             // --json FILE|- (empty: no JSON Lines output)
  double json_rotate_mb = 0;
  double snapshot_interval = 0;  // --snapshot-interval (0: off)
  bool quiet = false;
  std::string labels;                    // --labels rule file
  std::string default_label = "BENIGN";  // --default-label
  bool loss_column = false;              // --loss-column
  std::vector<std::string> where_columns;  // --where-columns: node, iface
  std::string node_name;                 // --node-name (empty: $NODE_NAME, else the host name)
  bool no_manifest = false;              // --no-manifest
  std::string tunnel = "outer";          // --tunnel outer|inner
  std::vector<uint16_t> vxlan_ports;     // --vxlan-port (added to 4789 and 8472)
};

// --tunnel / --vxlan-port as the decoders take them.
nfm::TunnelConfig TunnelConfigOf(const CommonOptions& o) {
  nfm::TunnelConfig t;
  t.inner = o.tunnel == "inner";
  for (uint16_t p : o.vxlan_ports)
    if (!t.IsVxlanPort(p)) t.vxlan_ports[t.n_vxlan_ports++] = p;
  return t;
}

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
  nfm::Sha256 h;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) h.Update(buf, n);
  std::fclose(f);
  return h.HexFinal();
}

#ifdef NFM_HAVE_LIVE
// Manifest names of the kernel counters, from the one counter table (include/nfm/counter_table.hpp):
// the summary name in snake case, with _packets / _bytes for the per-hook counts.
std::string LiveCounterName(int i) {
  const nfm::CounterInfo* c = nfm::FindCounter(i);
  if (!c) return "slot_" + std::to_string(i);
  std::string n(c->summary);
  for (char& ch : n)
    if (ch == ' ') ch = '_';
  if (c->kind == nfm::CounterKind::kSeenPackets) n += "_packets";
  if (c->kind == nfm::CounterKind::kSeenBytes) n += "_bytes";
  return n;
}
#endif

std::string Num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}


bool ParseProfile(const std::string& s, nfm::Profile* p) {
  if (s == "corrected") *p = nfm::Profile::kCorrected;
  else if (s == "nfm2022") *p = nfm::Profile::kNfm2022;
  else if (s == "nfm2022-seed") *p = nfm::Profile::kNfm2022Seed;
  else if (s == "cic") *p = nfm::Profile::kCic;
  else if (s == "ntl") *p = nfm::Profile::kNtl;
  else return false;
  return true;
}

// Offline replay through any engine with FlowEngine's packet interface, then the summary line.
// threads > 1: the sharded replay (engine's config and exporters; the engine itself sees no
// packet); FlowEngine's nfm2022 profiles and the corrected CIC set get one worker (pipelined).
template <class Engine>
int RunOfflineAndReport(const CommonOptions& o, Engine& engine, nfm::Metrics* metrics, bool cic_decode,
                        bool scapy_decode, unsigned threads, bool dpkt_decode = false,
                        std::vector<nfm::InputProgress>* inputs = nullptr, bool hash_input = false,
                        nfm::EngineStats* sharded_stats = nullptr) {
  nfm::OfflineOptions off;
  off.paths = o.pcap;
  off.inputs = inputs;
  off.hash_input = hash_input;
  off.progress = !o.quiet && !o.progress_off;
  off.progress_force = o.progress_on;
  off.scapy_decode = scapy_decode;
  off.cic_decode = cic_decode;
  off.dpkt_decode = dpkt_decode;
  off.tunnels = TunnelConfigOf(o);
  if (metrics) metrics->SetHealth(true, true);
  nfm::OfflineResult res;
  nfm::EngineStats st;
  bool sharded = false;
  nfm::NtlStats sharded_ntl;
  {
    if (threads > 1) {
      sharded = true;
      nfm::ShardGauges gauges;
      unsigned workers = threads;
      if constexpr (std::is_same_v<Engine, nfm::FlowEngine>)
        workers = nfm::ShardWorkersFor(engine.Config().profile, threads);
      else if constexpr (std::is_same_v<Engine, nfm::CicEngine>)
        workers = nfm::CicShardWorkersFor(engine.Config().profile, threads);
      res = nfm::RunOfflineSharded<Engine>(off, engine.Config(), workers, engine.Exporters(), g_stop, &st, &gauges,
                                           &sharded_ntl);
      if (sharded_stats) *sharded_stats = st;
      if (std::getenv("NFM_THREAD_CPU")) {  // benchmarks: CPU seconds per thread
        std::fprintf(stderr, "nfm-xdp: thread cpu s: reader %.3f, output %.3f, workers", gauges.cpu_reader_s,
                     gauges.cpu_output_s);
        for (unsigned i = 0; i < gauges.workers; ++i) std::fprintf(stderr, " %.3f", gauges.cpu_worker_s[i]);
        std::fprintf(stderr, "; waits: reader %" PRIu64 ", output %" PRIu64 ", workers (input/output)",
                     gauges.reader_waits, gauges.output_waits);
        for (unsigned i = 0; i < gauges.workers; ++i)
          std::fprintf(stderr, " %" PRIu64 "/%" PRIu64, gauges.worker_input_waits[i], gauges.worker_output_waits[i]);
        std::fprintf(stderr, "\n");
      }
      if (metrics) {
        std::vector<nfm::Metrics::WorkerLoad> loads(gauges.workers);
        for (unsigned i = 0; i < gauges.workers; ++i)
          loads[i] = {0.0, static_cast<double>(gauges.busy_ns[i].load()) / 1e9};
        metrics->UpdateWorkers(loads);
      }
    }
  }
  if (!sharded) {
    res = nfm::RunOffline(off, engine, g_stop);
    st = engine.Stats();
  }
  if (!res.warning.empty()) std::fprintf(stderr, "nfm-xdp: warning: %s\n", res.warning.c_str());
  // One line per failed file.
  for (size_t pos = 0; !res.error.empty() && pos <= res.error.size();) {
    const size_t nl = std::min(res.error.find('\n', pos), res.error.size());
    std::fprintf(stderr, "nfm-xdp: %s\n", res.error.substr(pos, nl - pos).c_str());
    pos = nl + 1;
  }
  const int rc = res.exit_code;
  if (rc != 1 && !o.quiet) {
    // Skipped packets by reason (the nonzero ones), e.g. "3 skipped: not_ip 2, encrypted 1".
    uint64_t skipped = 0;
    std::string reasons;
    for (int i = 0; i < static_cast<int>(nfm::SkipReason::kCount); ++i) {
      if (st.skipped[i] == 0) continue;
      skipped += st.skipped[i];
      reasons += (reasons.empty() ? ": " : ", ") + std::string(nfm::SkipReasonName(static_cast<nfm::SkipReason>(i))) +
                 " " + std::to_string(st.skipped[i]);
    }
    uint64_t exported = 0;
    for (uint64_t e : st.flows_exported) exported += e;
    std::fprintf(stderr,
                 "nfm-xdp: %llu packets (%llu in flows, %llu skipped%s) -> %llu flows in %.3f s (%.2f Mpkt/s)\n",
                 static_cast<unsigned long long>(res.records), static_cast<unsigned long long>(st.packets_in_flows),
                 static_cast<unsigned long long>(skipped), reasons.c_str(), static_cast<unsigned long long>(exported),
                 res.seconds,
                 res.seconds > 0 ? static_cast<double>(res.records) / res.seconds / 1e6 : 0.0);
    if constexpr (std::is_same_v<Engine, nfm::NtlEngine>) {
      const nfm::NtlStats& ns = sharded ? sharded_ntl : engine.Ntl();
      std::fprintf(stderr, "nfm-xdp: ntl packet lists: peak %.1f MiB; %llu flows reached --ntl-max-packets\n",
                   static_cast<double>(ns.list_bytes_peak) / 1048576.0, static_cast<unsigned long long>(ns.capped_flows));
    } else if (st.list_capped_flows) {
      std::fprintf(stderr, "nfm-xdp: %llu flows reached --ntl-max-packets (their list statistics cover the first %u "
                   "packets)\n", static_cast<unsigned long long>(st.list_capped_flows), o.ntl_max_packets);
    }
  }
  if (metrics) {
    metrics->Update(st);
    metrics->SetHealth(false, false);
  }
  return rc;
}

// IPFIX: sends what is queued (bounded wait), closes, one summary line per destination.
// Ends every IPFIX destination; a file: destination with a manifest (manifests[i], may be null)
// gets <file>.manifest.json once the file is complete. The exit code.
// Offline, a destination that did not get every record makes the status 3 (live: counted only).
int FinishIpfix(const CommonOptions& o, std::vector<std::unique_ptr<nfm::ipfix::IpfixExporter>>& ipfix, int rc,
                const std::vector<std::unique_ptr<nfm::Manifest>>& manifests, bool offline) {
  for (size_t i = 0; i < ipfix.size(); ++i) {
    nfm::ipfix::IpfixExporter& x = *ipfix[i];
    const bool ok = x.Finish();
    const bool incomplete = offline && nfm::IpfixExportIncomplete(x);
    if (!o.quiet || !ok || incomplete || x.Stats().records_dropped || x.Stats().records_lost)
      std::fprintf(stderr, "nfm-xdp: %s%s\n", nfm::IpfixSummary(x).c_str(),
                   incomplete ? " (exit status 3: the export is incomplete)" : "");
    if (!ok) rc = WorseStatus(rc, kExitFatal);
    if (incomplete) rc = WorseStatus(rc, kExitExportIncomplete);
    if (ok && i < manifests.size() && manifests[i]) {
      const nfm::ipfix::ExporterStats st = x.Stats();
      nfm::Manifest& m = *manifests[i];
      m.file_counts = {{"ipfix_records", st.records_sent}, {"ipfix_messages", st.messages}};
      struct stat fst {};
      const std::string& path = x.Dest().path;
      const uint64_t bytes = ::stat(path.c_str(), &fst) == 0 ? static_cast<uint64_t>(fst.st_size) : 0;
      std::string e;
      if (!m.WriteFor(path, "none", bytes, true, &e)) {
        std::fprintf(stderr, "nfm-xdp: %s\n", e.c_str());
        rc = WorseStatus(rc, kExitFatal);
      }
    }
  }
  return rc;
}

// Closes the JSON Lines output (if any); the exit code.
// Closes a file sink (CSV or JSON Lines): a failed flush, any row that could not be written or
// a manifest that could not be written makes the run fail (data was lost).
int CloseSink(nfm::CsvFileSink* sink, int rc, const std::string* manifest_error) {
  if (!sink) return rc;
  if (!sink->Finish() || sink->RowsLost()) {
    std::fprintf(stderr, "nfm-xdp: %s; %llu flow rows could not be written\n", sink->Error().c_str(),
                 static_cast<unsigned long long>(sink->RowsLost()));
    return WorseStatus(rc, kExitFatal);
  }
  // Set by the sink's on_close (the last manifest is written inside Finish above).
  if (manifest_error && !manifest_error->empty()) {
    std::fprintf(stderr, "nfm-xdp: %s\n", manifest_error->c_str());
    return WorseStatus(rc, kExitFatal);
  }
  return rc;
}

// Lingers for the metrics scraper if asked, closes the CSV (if any); the exit code.
int FinishOutput(const CommonOptions& o, nfm::CsvFileSink* sink, nfm::Metrics* metrics, int rc,
                 const std::string* manifest_error = nullptr) {
  // --metrics-linger: keep serving the final values (the CSV is complete by then) so a
  // scraper sees them; a signal ends the wait.
  if (metrics && o.metrics_linger > 0) {
    if (sink && !sink->Finish()) metrics->OnCsvError();
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.metrics_linger);
    while (!g_stop.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return CloseSink(sink, rc, manifest_error);  // no sink: --ipfix or --json without --csv
}

// What every engine's run shares, made once in main() after the options were checked and the
// outputs opened (CSV sink, metrics server, IPFIX destinations). Not owned.
struct RunContext {
  const CommonOptions* o = nullptr;
  const CLI::App* app = nullptr;
  int argc = 0;
  char** argv = nullptr;
  nfm::EngineConfig cfg;
  std::string feature_set;  // effective set: nfm | cic | ntl
  nfm::fmt::FloatSpec float_spec;
  bool live_mode = false;
  bool verbose = false;
  unsigned threads = 1;  // resolved --threads
  const nfm::LabelRules* labels = nullptr;
  const nfm::FeatureSet* ipfix_set = nullptr;  // the elements of the IPFIX records (manifest columns)
  uint32_t ipfix_pen = 0;
  bool ipfix_uniflow = false;
  nfm::CsvFileSink* sink = nullptr;  // null: --ipfix without --csv
  nfm::CsvFileSink* json_sink = nullptr;  // null: no --json
  nfm::Metrics* metrics = nullptr;
  std::vector<std::unique_ptr<nfm::ipfix::IpfixExporter>>* ipfix = nullptr;
  nfm::FlowMetricsObserver* flow_metrics = nullptr;
#ifdef NFM_HAVE_LIVE
  nfm::live::LiveOptions* live = nullptr;
  nfm::live::LiveStatus* status = nullptr;  // outlives the run: the manifest reads it
#endif
};

// The node column's value: --node-name, else $NODE_NAME (the DaemonSet sets it from the
// downward API), else the host name.
std::string NodeName(const CommonOptions& o) {
  if (!o.node_name.empty()) return o.node_name;
  if (const char* env = std::getenv("NODE_NAME"); env != nullptr && *env != '\0') return env;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return {};
  return host;
}

// --loss-column: offline, the capture's own drop records (read first, framing only); live, the
// drainer's loss timeline (fed through live.on_sample; *timeline points to it).
std::unique_ptr<nfm::LossOracle> MakeLossOracle(const RunContext& c, nfm::LossTimeline** timeline) {
  *timeline = nullptr;
  if (!c.o->loss_column) return nullptr;
  if (c.live_mode) {
    auto t = std::make_unique<nfm::LossTimeline>();
    *timeline = t.get();
    return t;
  }
  std::vector<nfm::CaptureDrop> drops;
  std::string scan_err;
  nfm::LossIntervals iv;
  std::vector<std::string> files;  // every input file: drop intervals are times, merged over files
  if (nfm::CaptureSet::ExpandInputs(c.o->pcap, &files, &scan_err)) {  // bad inputs fail below
    for (const std::string& f : files) {
      if (nfm::ScanCaptureDrops(f, &drops, &scan_err)) {  // an unreadable capture fails below
        for (const auto& d : drops) iv.Add(static_cast<int64_t>(d.from_ns), static_cast<int64_t>(d.to_ns));
      }
    }
  }
  iv.Build();
  return std::make_unique<nfm::CaptureLossOracle>(std::move(iv));
}

// Offline default for --threads: the CPUs, or 1 when every input is a regular file (or a
// directory of them) and they total less than kSmallInput bytes. Starting workers costs a
// fixed ~50 ms here (two engines, the batch ring and the flow queues are fresh memory, which is
// dear on the 2-vCPU VM), so a 183 MB capture of 275k packets replayed 0.079 s with one thread
// and 0.095 s with two, while 775 MB (2 M packets) took 1.55 s and 0.76 s
// (docs/PERFORMANCE.md "Threads").
constexpr uint64_t kSmallInput = 256ull << 20;
unsigned DefaultOfflineThreads(const std::vector<std::string>& paths, unsigned cpus) {
  if (cpus < 2) return 1;
  uint64_t total = 0;
  for (const std::string& p : paths) {
    struct stat st {};
    if (p == "-" || stat(p.c_str(), &st) != 0) return cpus;  // a stream, or an error reported later
    if (S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(p, ec))
        if (e.is_regular_file(ec)) total += e.file_size(ec);
    } else {
      return cpus;  // a pipe or device
    }
    if (total >= kSmallInput) return cpus;
  }
  return 1;
}

// The run-wide facts of the manifest (options, effective settings, labels, loss) and its input
// and engine-count providers. `stats` gives the run's engine totals when a file closes.
void SetupManifest(const RunContext& c, nfm::Manifest& manifest, std::vector<nfm::InputProgress>& inputs,
                   std::function<nfm::EngineStats()> stats) {
  const CommonOptions& o = *c.o;
  const nfm::EngineConfig& cfg = c.cfg;
  manifest.mode = c.live_mode ? "live" : "offline";
  for (int i = 0; i < c.argc; ++i) manifest.command_line.emplace_back(c.argv[i]);
  manifest.options = OptionValues(*c.app);
  const bool cic = c.feature_set == "cic";
  manifest.effective = {{"profile", o.profile},
                        {"feature_set", c.feature_set},
                        {"idle_timeout_s", Num(cfg.idle_timeout_s)},
                        {"active_timeout_s", Num(cfg.active_timeout_s)},
                        {"activity_threshold_s", Num(cfg.activity_threshold_s)},
                        {"subflow_gap_s", Num(cfg.subflow_gap_s)},
                        {"close_grace_s", Num(cfg.close_grace_s)},
                        {"max_flows", std::to_string(cfg.max_flows)},
                        {"float_format", cic                      ? "Java Double.toString"
                                         : o.float_format.empty() ? "shortest round-trip"
                                                                  : o.float_format},
                        {"tz", o.tz}};
  if (c.feature_set == "ntl") manifest.effective.emplace_back("ntl_max_packets", std::to_string(o.ntl_max_packets));
  if (c.labels) {
    manifest.labels_path = o.labels;
    manifest.labels_sha256 = FileSha256(o.labels);
    manifest.label_rules = c.labels->Size();
    manifest.default_label = o.default_label;
  }
  manifest.loss_column = o.loss_column;
  manifest.loss_source = c.live_mode ? "ring_losses" : "pcapng_isb";
  if (cfg.snapshot_interval_s > 0) {
    manifest.snapshot_interval_s = cfg.snapshot_interval_s;
    manifest.effective.emplace_back("snapshot_interval_s", Num(cfg.snapshot_interval_s));
  }
  if (!c.live_mode) {
    manifest.inputs = [&inputs](std::vector<nfm::ManifestInput>* v) {
      for (const nfm::InputProgress& input : inputs) {
        nfm::ManifestInput m;
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
  manifest.engine_counts = [stats = std::move(stats)](nfm::ManifestCounts* packets, nfm::ManifestCounts* flows) {
    const nfm::EngineStats st = stats();
    uint64_t skipped = 0;
    for (uint64_t s : st.skipped) skipped += s;
    packets->emplace_back("offered", st.packets);
    packets->emplace_back("in_flows", st.packets_in_flows);
    packets->emplace_back("skipped", skipped);
    for (int r = 0; r < static_cast<int>(nfm::SkipReason::kCount); ++r)
      packets->emplace_back(std::string("skipped_") + nfm::SkipReasonName(static_cast<nfm::SkipReason>(r)),
                            st.skipped[r]);
    packets->emplace_back("out_of_order", st.out_of_order);
    uint64_t exported = 0;
    for (uint64_t e : st.flows_exported) exported += e;
    flows->emplace_back("created", st.flows_created);
    flows->emplace_back("exported", exported);
    for (int r = 0; r < static_cast<int>(nfm::EndReason::kCount); ++r)
      flows->emplace_back(nfm::EndReasonName(static_cast<nfm::EndReason>(r)), st.flows_exported[r]);
    flows->emplace_back("open", st.flows_active);
  };
  manifest.interrupted = [] { return g_stop.load(); };
}

#ifdef NFM_HAVE_LIVE
// The live part of a manifest: interfaces, XDP mode, rings and every loss counter (and the
// drainer's loss timeline with --loss-column), read from the LiveStatus the drain loop publishes.
std::function<bool(nfm::ManifestLive*)> LiveManifestFacts(const RunContext& c, nfm::LossTimeline* loss_timeline) {
  const nfm::live::LiveOptions* live = c.live;
  const nfm::live::LiveStatus* status = c.status;
  return [live, status, loss_timeline](nfm::ManifestLive* l) {
    l->interfaces = live->ifaces;
    l->xdp_mode = nfm::live::XdpModeName(status->xdp_mode.load());
    l->rings = status->rings.load();
    l->ring_size_bytes = status->ring_size_bytes.load();
    for (int i = 0; i < NFM_CNT_MAX; ++i) l->counters.emplace_back(LiveCounterName(i), status->counters[i].load());
    l->counters.emplace_back("events_decoded", status->events_decoded.load());
    l->counters.emplace_back("events_bad", status->events_bad.load());
    if (loss_timeline) {
      for (const auto& v : loss_timeline->Intervals()) l->loss_intervals.push_back({v.from_ns, v.to_ns, v.lost, v.ring});
    }
    return true;
  };
}
#endif

// Manifests of the IPFIX file: destinations that are regular files (index-aligned with
// *c.ipfix; null for the others): the run facts of the CSV's manifest, the record's elements as
// columns, no label or loss column (the records carry neither). Each one's ManifestRows counts
// the flows; it is added to the engine right after the IPFIX exporters.
std::vector<std::unique_ptr<nfm::Manifest>> MakeIpfixManifests(const RunContext& c, std::vector<nfm::InputProgress>& inputs,
                                                               const std::function<nfm::EngineStats()>& stats) {
  std::vector<std::unique_ptr<nfm::Manifest>> out;
  for (const auto& x : *c.ipfix) {
    struct stat st {};
    const nfm::ipfix::Destination& d = x->Dest();
    if (c.o->no_manifest || d.kind != nfm::ipfix::Destination::Kind::kFile || ::stat(d.path.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      out.emplace_back();
      continue;
    }
    auto m = std::make_unique<nfm::Manifest>();
    SetupManifest(c, *m, inputs, stats);
    m->format = "ipfix";
    m->labels_path.clear();
    m->loss_column = false;
    for (const nfm::ipfix::ElementDoc& e : nfm::ipfix::ElementTable(*c.ipfix_set, c.ipfix_pen)) {
      if (e.in == (c.ipfix_uniflow ? "biflow" : "uniflow")) continue;  // not in this mode's templates
      m->columns.push_back({e.name, e.type, e.unit});
    }
    out.push_back(std::move(m));
  }
  return out;
}

// The CSV exporter of an engine's feature set: CIC rows for CicEngine, CsvRowRenderer rows
// (nfm and ntl layouts) for FlowEngine and NtlEngine.
template <class Engine>
auto MakeCsvExporter(const RunContext& c) {
  if constexpr (std::is_same_v<Engine, nfm::CicEngine>) {
    return std::make_unique<nfm::CicCsvExporter>(*c.sink, c.o->tz == "local");
  } else {
    return std::make_unique<nfm::CsvExporter>(*c.sink, c.o->tz == "local", c.float_spec, c.o->label);
  }
}

// The one wiring path of every engine (FlowEngine, CicEngine, NtlEngine): CSV exporter with the
// data-set columns and the manifest, IPFIX, the metrics observer, then the live or offline run,
// and the end of the outputs. Returns the exit code.
template <class Engine>
int RunEngine(RunContext& c, Engine& engine) {
  const CommonOptions& o = *c.o;
  constexpr bool kFlowEngine = std::is_same_v<Engine, nfm::FlowEngine>;
  nfm::LossTimeline* loss_timeline = nullptr;
  const std::unique_ptr<nfm::LossOracle> loss = MakeLossOracle(c, &loss_timeline);
  // --where-columns: live, the drain threads record each flow's interface (FlowIfaces).
  const auto where = [&o](const char* w) {
    return std::find(o.where_columns.begin(), o.where_columns.end(), w) != o.where_columns.end();
  };
  std::unique_ptr<nfm::FlowIfaces> flow_ifaces;
#ifdef NFM_HAVE_LIVE
  if (where("iface") && c.live_mode) {
    flow_ifaces = std::make_unique<nfm::FlowIfaces>(2 * o.max_flows);
    c.live->flow_ifaces = flow_ifaces.get();
  }
#endif
  // The data-set columns of one output (the CSV and the JSON Lines output have one each: each
  // decides the label and loss of the rows it writes): row_kind, where, loss, label.
  const auto dataset_columns = [&](nfm::DatasetColumns& d) {
    d.SetRowKind(c.cfg.snapshot_interval_s > 0);
    d.SetWhere(where("node"), where("iface"), NodeName(o), flow_ifaces.get());
  };
  nfm::DatasetColumns extras(c.labels, o.default_label, loss.get());
  dataset_columns(extras);
  for (auto& x : *c.ipfix) x->SetWhere(NodeName(o), flow_ifaces.get());

  // Manifest next to every closed output file (not for stdout).
  // Only regular files get one: never /dev/null.manifest.json, a FIFO's neighbour, ...
  struct stat csv_stat {};
  const bool want_manifest = c.sink && !o.no_manifest && o.csv != "-" && ::stat(o.csv.c_str(), &csv_stat) == 0 &&
                             S_ISREG(csv_stat.st_mode);
  nfm::Manifest manifest;
  bool sharded_run = false;
  nfm::EngineStats sharded_stats{};  // offline --threads > 1: the workers' totals (the engine sees no packet)
  std::vector<nfm::InputProgress> inputs;  // offline: one per input file (CaptureSet merge order)
  std::string manifest_error;
  // Live: the totals the drain loop publishes (summed over drain workers; final after the
  // flush), readable from the thread that closes a CSV file at rotation.
  const std::function<nfm::EngineStats()> run_stats = [&engine, &sharded_stats, &sharded_run, &c] {
#ifdef NFM_HAVE_LIVE
    if (c.live_mode) return c.status->GetEngineStats();
#else
    (void)c;
#endif
    return sharded_run ? sharded_stats : engine.Stats();
  };
  const std::vector<std::unique_ptr<nfm::Manifest>> ipfix_manifests = MakeIpfixManifests(c, inputs, run_stats);
  // Offline: hash the inputs while reading them when any manifest will list them.
  const bool hash_inputs = want_manifest || std::any_of(ipfix_manifests.begin(), ipfix_manifests.end(),
                                                        [](const auto& m) { return m != nullptr; });
  std::vector<std::unique_ptr<nfm::ManifestRows>> ipfix_rows;
  // JSON Lines: its own data-set columns (it decides label and loss of its rows) and manifest.
  nfm::DatasetColumns json_extras(c.labels, o.default_label, loss.get());
  dataset_columns(json_extras);
  struct stat json_stat {};
  const bool want_json_manifest = c.json_sink && !o.no_manifest && o.json != "-" &&
                                  ::stat(o.json.c_str(), &json_stat) == 0 && S_ISREG(json_stat.st_mode);
  nfm::Manifest json_manifest;
  std::string json_manifest_error;
  if (want_json_manifest) {
    SetupManifest(c, json_manifest, inputs, run_stats);
    json_manifest.format = "jsonl";
    c.json_sink->on_close = [&json_manifest, &json_manifest_error](const std::string& path, uint64_t text_bytes,
                                                                   bool final_part) {
      std::string e;
      if (!json_manifest.WriteFor(path, nfm::CodecName(nfm::CodecForPath(path)), text_bytes, final_part, &e) &&
          json_manifest_error.empty())
        json_manifest_error = e;
    };
  }
  if (want_manifest) {
    SetupManifest(c, manifest, inputs, run_stats);
    c.sink->on_close = [&manifest, &manifest_error](const std::string& path, uint64_t text_bytes, bool final_part) {
      std::string e;
      if (!manifest.WriteFor(path, nfm::CodecName(nfm::CodecForPath(path)), text_bytes, final_part, &e) &&
          manifest_error.empty())
        manifest_error = e;
    };
  }
  // Offline --threads > 1: the manifest's engine counts come from the sharded run's totals
  // (sharded_stats, known at the end) and its input info is written by the reader thread, so a
  // manifest written mid-run (--csv-rotate-mb) would race: with rotation, offline --threads falls
  // back to 1. Live is not limited: its manifest reads the published totals (LiveStatus) and the
  // loss timeline locks.
  unsigned flow_threads = c.threads;
  if (c.threads > 1 && !c.live_mode &&
      ((want_manifest && o.csv_rotate_mb > 0) || (want_json_manifest && o.json_rotate_mb > 0))) {
    if (o.threads > 1)
      std::fprintf(stderr, "nfm-xdp: note: --threads %u ignored: an offline manifest with --csv-rotate-mb or "
                   "--json-rotate-mb needs one thread; use --no-manifest for threads\n", o.threads);
    flow_threads = 1;
  }
  if (want_manifest) manifest.effective.emplace_back("threads", std::to_string(flow_threads));
  if (want_json_manifest) json_manifest.effective.emplace_back("threads", std::to_string(flow_threads));

  // Exporters, in the order they see each flow: CSV, JSON Lines, IPFIX, then the metrics observer.
  decltype(MakeCsvExporter<Engine>(c)) csv;
  if (c.sink) {
    csv = MakeCsvExporter<Engine>(c);
    csv->SetDataset(&extras, want_manifest ? &manifest : nullptr);
    engine.AddExporter(*csv);
  }
  std::unique_ptr<nfm::JsonLinesExporter> json;
  if (c.json_sink) {
    json = std::make_unique<nfm::JsonLinesExporter>(*c.json_sink, std::is_same_v<Engine, nfm::CicEngine>,
                                                    o.tz == "local", c.float_spec, o.label);
    json->SetDataset(&json_extras, want_json_manifest ? &json_manifest : nullptr);
    engine.AddExporter(*json);
  }
  for (auto& x : *c.ipfix) engine.AddExporter(*x);
  for (const auto& m : ipfix_manifests) {
    if (!m) continue;
    ipfix_rows.push_back(std::make_unique<nfm::ManifestRows>(*m));
    engine.AddExporter(*ipfix_rows.back());
  }
  if (c.flow_metrics) engine.AddExporter(*c.flow_metrics);

  int rc = 0;
  bool interrupted = false;  // offline: a signal stopped the replay before its input ended
  if (c.live_mode) {
#ifdef NFM_HAVE_LIVE
    {  // the cic and ntl profiles get their reference's packet view inside RunLive (live/profile_view.hpp)
      nfm::live::LiveOptions& live = *c.live;
      nfm::live::LiveStatus& status = *c.status;
      live.quiet = o.quiet;
      live.tunnel_inner = o.tunnel == "inner";
      live.vxlan_ports = o.vxlan_ports;
      live.threads = flow_threads;
      live.verbose = c.verbose;
      if (loss_timeline) {
        // Ring full / empty slot per ring (nfm_ring_lost); undecodable samples mark every ring.
        live.on_sample = [loss_timeline](const nfm::live::LiveStatus& s) {
          uint64_t per_ring[NFM_MAX_RINGS];
          const uint32_t rings = std::min<uint32_t>(s.rings.load(std::memory_order_relaxed), NFM_MAX_RINGS);
          for (uint32_t r = 0; r < rings; ++r) per_ring[r] = s.ring_lost[r].load(std::memory_order_relaxed);
          loss_timeline->Sample(static_cast<int64_t>(s.last_drain_ns.load(std::memory_order_relaxed)),
                                std::span<const uint64_t>(per_ring, rings), s.events_bad.load(std::memory_order_relaxed));
        };
      }
      if (want_manifest) {
        manifest.live = LiveManifestFacts(c, loss_timeline);
        manifest.Start();
      }
      if (want_json_manifest) {
        json_manifest.live = LiveManifestFacts(c, loss_timeline);
        json_manifest.Start();
      }
      for (const auto& m : ipfix_manifests) {
        if (!m) continue;
        m->live = LiveManifestFacts(c, nullptr);  // no loss column in IPFIX records
        m->Start();
      }
      rc = nfm::live::RunLive(live, engine, g_stop, &status, c.metrics ? &c.metrics->KernelBoard() : nullptr);
      if constexpr (std::is_same_v<Engine, nfm::NtlEngine>) {
        if (!o.quiet) {
          std::fprintf(stderr, "nfm-xdp: ntl packet lists: peak %.1f MiB; %llu flows reached --ntl-max-packets\n",
                       static_cast<double>(engine.Ntl().list_bytes_peak) / 1048576.0,
                       static_cast<unsigned long long>(engine.Ntl().capped_flows));
        }
      }
    }
#endif
  } else {
    if (want_manifest) manifest.Start();
    if (want_json_manifest) json_manifest.Start();
    for (const auto& m : ipfix_manifests)
      if (m) m->Start();
    sharded_run = flow_threads > 1;  // every engine; RunOfflineAndReport picks the workers each profile can use
    const nfm::Profile profile = c.cfg.profile;
    const bool cic_decode = std::is_same_v<Engine, nfm::CicEngine> && profile == nfm::Profile::kCic;
    const bool scapy_decode = kFlowEngine && profile != nfm::Profile::kCorrected;
    const bool dpkt_decode = std::is_same_v<Engine, nfm::NtlEngine>;
    rc = RunOfflineAndReport(o, engine, c.metrics, cic_decode, scapy_decode, flow_threads, dpkt_decode, &inputs,
                             hash_inputs, &sharded_stats);
    interrupted = g_stop.load();
  }

  rc = FinishIpfix(o, *c.ipfix, rc, ipfix_manifests, !c.live_mode);
  rc = CloseSink(c.json_sink, rc, &json_manifest_error);
  if (c.json_sink) c.json_sink->on_close = nullptr;  // its manifest ends with this frame
  rc = FinishOutput(o, c.sink, c.metrics, rc, &manifest_error);
  if (c.sink) c.sink->on_close = nullptr;  // the manifest ends with this frame
  // Live, a signal is the normal end of a run; offline it cut the input short.
  if (interrupted) {
    rc = WorseStatus(rc, kExitInterrupted);
    std::fprintf(stderr, "nfm-xdp: interrupted by a signal before the end of the input: the output holds the flows "
                         "of the packets read so far (exit status %d)\n", rc);
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "nfm-xdp: per-flow NetFlowMeter features (114) at line rate.\n"
      "  live:    sudo nfm-xdp --iface eth0 --csv out.csv\n"
      "  offline: nfm-xdp --pcap in.pcap --csv out.csv",
      "nfm-xdp"};
  app.set_version_flag("--version", std::string("nfm-xdp ") + NFM_VERSION);
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
  CommonOptions o;
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

  [[maybe_unused]] auto* pcap =
      app.add_option("--pcap", o.pcap,
                     "Replay pcap/pcapng captures, plain or gzip/zstd/xz/bzip2-compressed (told by their "
                     "first bytes): files and/or directories (every regular file inside), repeatable; read as "
                     "one capture merged by timestamp ('-' = stdin)")
          ->group("Source");
  app.add_option("--threads", o.threads,
                 "Flow engine workers (default: the CPUs this process may use; live, at most one per ring; "
                 "offline, 1 for inputs under 256 MiB in all; nfm2022 profiles and --feature-set cic: 1 "
                 "worker, pipelined with reader and writer when > 1). Offline rows of N > 1 come in another "
                 "order than with 1 (the same for the same N; sort to compare)")
      ->check(CLI::Range(1u, 64u))
      ->group("Source");
  auto* prog_on = app.add_flag("--progress", o.progress_on,
                               "Offline: show a progress line on stderr even when it is not a terminal")
                      ->group("Source");
  app.add_flag("--no-progress", o.progress_off, "Offline: no progress line (default: shown when stderr is a terminal)")
      ->excludes(prog_on)
      ->group("Source");
#ifdef NFM_HAVE_LIVE
  nfm::live::LiveOptions live;
  nfm::live::SetupLiveOptions(app, live);
  CLI::Option* iface = app.get_option("--iface");
  pcap->excludes(iface);
  iface->excludes(pcap);
#endif
  auto* csv_opt = app.add_option("--csv", o.csv, "Write flows as CSV to FILE ('-' = stdout; default unless --ipfix is given)")
                      ->capture_default_str()
                      ->group("Output");
  auto* json_opt = app.add_option("--json", o.json,
                                  "Write rows as JSON Lines to FILE ('-' = stdout): one object per row, the CSV's "
                                  "columns as typed values (NaN/empty: null); alone or beside --csv; .gz/.zst "
                                  "compress; live: each row is flushed as it is made")
                       ->group("Output");
  app.add_option("--json-rotate-mb", o.json_rotate_mb, "Start a new JSON Lines file after this many MiB (0 = never)")
      ->check(non_negative)
      ->group("Output");
  nfm::IpfixCliOptions ipfix_opts;
  nfm::SetupIpfixOptions(app, ipfix_opts);
  app.add_option("--csv-rotate-mb", o.csv_rotate_mb, "Start a new CSV file after this many MiB (0 = never)")
      ->check(non_negative)
      ->group("Output");
  app.add_option("--profile", o.profile,
                 "Feature semantics: corrected (defects fixed) | nfm2022 (NetFlowMeter bit for bit) | "
                 "nfm2022-seed (its 115-column seed layout) | cic (CICFlowMeter master, 84 columns byte for byte) | "
                 "ntl (NTLFlowLyzer e2def39 bit for bit: 339 features + label, Ethernet IPv4 TCP)")
      ->check(CLI::IsMember({"corrected", "nfm2022", "nfm2022-seed", "cic", "ntl"}))
      ->capture_default_str()
      ->group("Features");
  app.add_option("--feature-set", o.feature_set,
                 "Columns of the corrected profile: nfm (114 features) | cic (CICFlowMeter's columns, defects fixed) | "
                 "ntl (NTLFlowLyzer's 341 features + label, defects fixed)")
      ->check(CLI::IsMember({"nfm", "cic", "ntl"}))
      ->capture_default_str()
      ->group("Features");
  auto* label_opt = app.add_option("--label", o.label, "ntl feature sets: text of the constant label column (not with "
                                                       "--labels, which fills that column from its rules)")
      ->capture_default_str()
      ->group("Features");
  app.add_option("--ntl-max-packets", o.ntl_max_packets,
                 "ntl feature sets: packets kept per flow for list statistics (16 B each); past it those statistics "
                 "cover the first N packets")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1} << 26))
      ->capture_default_str()
      ->group("Features");
  app.add_option("--float-format", o.float_format,
                 "Python-style float format: .Nf or .Ng (default: shortest round-trip; nfm2022: .64f)")
      ->group("Features");
  app.add_option("--tz", o.tz, "Time zone of flow_id/timestamp text: utc | local")
      ->check(CLI::IsMember({"utc", "local"}))
      ->capture_default_str()
      ->group("Features");
  auto* idle = app.add_option("--idle-timeout", o.idle_timeout,
                              "Seconds without packets that end a flow (default 120; nfm2022: 5000)")
                   ->check(positive)
                   ->group("Flows");
  auto* active = app.add_option("--active-timeout", o.active_timeout,
                                "Seconds after which a flow is exported and continues as a new flow "
                                "(default 1800; nfm2022: 120000)")
                     ->check(positive)
                     ->group("Flows");
  auto* thr = app.add_option("--activity-threshold", o.activity_threshold,
                             "Gap (s) that separates active periods (default 5; nfm2022: 100)")
                  ->check(positive)
                  ->group("Flows");
  app.add_option("--subflow-gap", o.subflow_gap, "Gap (s) that starts a new subflow")
      ->check(positive)
      ->capture_default_str()
      ->group("Flows");
  auto* snap_opt = app.add_option("--snapshot-interval", o.snapshot_interval,
                                  "Every SECONDS of packet time, export each open flow that had packets since its "
                                  "last snapshot with its features so far (row_kind snapshot; the flow continues "
                                  "and ends with its usual final row). --profile corrected only")
                       ->check(positive)
                       ->group("Flows");
  app.add_option("--max-flows", o.max_flows, "Flow table capacity; when full the least recently active flow is "
                                              "exported (reason eviction)")
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
  auto* vxlan_port = app.add_option("--vxlan-port", o.vxlan_ports,
                                    "With --tunnel inner: another UDP destination port that carries VXLAN (4789 and "
                                    "8472 always do); repeatable, up to 6")
                         ->check(CLI::Range(1, 65535))
                         ->group("Flows");
  auto* maddr = app.add_option("--metrics-addr", o.metrics_addr,
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
                 "the interface that reported the flow live; empty offline); comma-separated, before "
                 "capture_loss and label")
      ->delimiter(',')
      ->check(CLI::IsMember({"node", "iface"}))
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
  app.add_flag("-q,--quiet", o.quiet, "No summary line on stderr (live: unless events were lost)");
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Live: show libbpf's log (verifier output) on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help/--version exit 0; every usage error exits 1 (CLI11's own codes are not stable).
    return app.exit(e) == 0 ? 0 : 1;
  }

  nfm::EngineConfig cfg;
  ParseProfile(o.profile, &cfg.profile);
  cfg.idle_timeout_s = o.idle_timeout;
  cfg.active_timeout_s = o.active_timeout;
  cfg.activity_threshold_s = o.activity_threshold;
  cfg.subflow_gap_s = o.subflow_gap;
  cfg.max_flows = o.max_flows;
  cfg.snapshot_interval_s = o.snapshot_interval;
  nfm::ApplyProfileDefaults(cfg, idle->count() > 0, active->count() > 0, thr->count() > 0);

  const bool cic = cfg.profile == nfm::Profile::kCic || o.feature_set == "cic";
  if (o.feature_set == "cic" && cfg.profile != nfm::Profile::kCorrected && cfg.profile != nfm::Profile::kCic) {
    std::fprintf(stderr, "nfm-xdp: --feature-set cic works with --profile corrected or cic\n");
    return 1;
  }
  if (o.feature_set == "ntl" && cfg.profile != nfm::Profile::kCorrected && cfg.profile != nfm::Profile::kNtl) {
    std::fprintf(stderr, "nfm-xdp: --feature-set ntl works with --profile corrected (or --profile ntl)\n");
    return 1;
  }
  // Snapshots are interim rows no reference tool writes: the reference profiles reproduce
  // their tool's rows byte for byte (and end flows lazily, at a later packet of the flow).
  if (snap_opt->count() > 0 && cfg.profile != nfm::Profile::kCorrected) {
    std::fprintf(stderr, "nfm-xdp: --snapshot-interval works with --profile corrected (feature sets nfm, cic, ntl); "
                         "--profile %s reproduces its reference tool's rows, which has no snapshots\n",
                 o.profile.c_str());
    return 1;
  }
  cfg.ntl_features = o.feature_set == "ntl" && cfg.profile == nfm::Profile::kCorrected;
  cfg.ntl_max_list_packets = o.ntl_max_packets;
  const bool ntl = o.feature_set == "ntl" || cfg.profile == nfm::Profile::kNtl;
  // The IPFIX elements of the run's feature set (docs/IPFIX.md: one id range per set).
  const nfm::FeatureSet& ipfix_set = nfm::IpfixFeatureSet(cfg.profile, o.feature_set);
  if (!ipfix_opts.elements.empty()) {  // --ipfix-elements md|xml: print and exit
    std::fputs(nfm::IpfixElementsText(ipfix_opts.elements, ipfix_set, ipfix_opts.pen).c_str(), stdout);
    return 0;
  }
  // The float format is parsed once here; the nfm2022 default (.64f) and the ntl default (.4f,
  // spec §9.2) are profile defaults.
  if (o.float_format.empty() && cfg.profile == nfm::Profile::kNtl) o.float_format = ".4f";
  if (o.float_format.empty() && cfg.profile != nfm::Profile::kCorrected) o.float_format = ".64f";
  const std::optional<nfm::fmt::FloatSpec> float_spec = nfm::fmt::FloatSpec::Parse(o.float_format);
  if (!float_spec) {
    std::fprintf(stderr, "nfm-xdp: --float-format '%s' is not supported; use .Nf or .Ng (e.g. .17g)\n",
                 o.float_format.c_str());
    return 1;
  }

  bool live_mode = false;
#ifdef NFM_HAVE_LIVE
  live_mode = !live.ifaces.empty();
#endif
  if (o.tunnel == "inner" && cfg.profile != nfm::Profile::kCorrected) {
    std::fprintf(stderr, "nfm-xdp: --tunnel inner works with --profile corrected only; --profile %s counts tunnels "
                         "as its reference did (drop --tunnel, or use --profile corrected)\n", o.profile.c_str());
    return 1;
  }
  if (vxlan_port->count() > 0 && o.tunnel != "inner") {
    std::fprintf(stderr, "nfm-xdp: --vxlan-port takes effect with --tunnel inner only; add --tunnel inner\n");
    return 1;
  }
  if (o.vxlan_ports.size() > nfm::TunnelConfig::kMaxVxlanPorts - 2) {
    std::fprintf(stderr, "nfm-xdp: --vxlan-port: at most %d ports besides 4789 and 8472\n",
                 nfm::TunnelConfig::kMaxVxlanPorts - 2);
    return 1;
  }
  if (!live_mode && o.pcap.empty()) {
    std::fprintf(stderr, "nfm-xdp: no packet source; give --pcap FILE or --iface IF (see --help)\n");
    return 1;
  }
  if (live_mode && cfg.profile != nfm::Profile::kCorrected && cfg.profile != nfm::Profile::kCic &&
      cfg.profile != nfm::Profile::kNtl) {
    std::fprintf(stderr, "nfm-xdp: live capture works with --profile corrected, cic or ntl; --profile %s works "
                         "with --pcap only\n", o.profile.c_str());
    return 1;
  }
  // Data-set options are checked before any output is opened or packet read.
  std::unique_ptr<nfm::LabelRules> labels;
  {
    std::string why;
    if (!nfm::LabelRules::ValidLabel(o.default_label, &why)) {
      std::fprintf(stderr, "nfm-xdp: --default-label: %s\n", why.c_str());
      return 1;
    }
    if (label_opt->count() > 0 && !nfm::LabelRules::ValidLabel(o.label, &why)) {
      std::fprintf(stderr, "nfm-xdp: --label: %s\n", why.c_str());
      return 1;
    }
    // One source for the label column: the constant --label or the rules of --labels.
    if (label_opt->count() > 0 && !o.labels.empty()) {
      std::fprintf(stderr, "nfm-xdp: --label and --labels exclude each other; with --labels, --default-label "
                           "names the flows no rule matches\n");
      return 1;
    }
    if (!o.labels.empty()) {
      labels = nfm::LabelRules::Load(o.labels, &why);
      if (!labels) {
        std::fprintf(stderr, "nfm-xdp: %s\n", why.c_str());
        return 1;
      }
    }
  }
  if (o.loss_column && !live_mode && std::find(o.pcap.begin(), o.pcap.end(), "-") != o.pcap.end()) {
    std::fprintf(stderr, "nfm-xdp: --loss-column offline needs the capture's drop records before the first flow "
                         "ends; give --pcap a file, not stdin\n");
    return 1;
  }
  o.metrics_addr_given = maddr->count() > 0;
  if (!o.metrics_addr_given) o.metrics_addr = live_mode ? "127.0.0.1:9477" : "";

  // Output first: an unwritable path fails before any input is read.
  std::string err;
  // IPFIX URLs are checked (parsed, names resolved) before anything is created.
  for (const std::string& url : ipfix_opts.urls) {
    nfm::ipfix::Destination d;
    if (!nfm::ipfix::ParseDestination(url, &d, &err)) {
      std::fprintf(stderr, "nfm-xdp: --ipfix %s: %s\n", url.c_str(), err.c_str());
      return 1;
    }
  }
  // --ipfix or --json without --csv: no CSV at all.
  const bool want_json = json_opt->count() > 0;
  const bool want_csv = (ipfix_opts.urls.empty() && !want_json) || csv_opt->count() > 0;
  if (want_json && want_csv && o.json == "-" && o.csv == "-") {
    std::fprintf(stderr, "nfm-xdp: --json - and --csv - would both write to stdout; give one of them a file\n");
    return 1;
  }
  std::unique_ptr<nfm::CsvFileSink> sink;
  if (want_csv) {
    sink = nfm::CsvFileSink::Open(o.csv, static_cast<uint64_t>(o.csv_rotate_mb * 1024 * 1024), &err);
    if (!sink) {
      std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
      return 1;
    }
  }

  std::unique_ptr<nfm::CsvFileSink> json_sink;
  if (want_json) {
    json_sink = nfm::CsvFileSink::Open(o.json, static_cast<uint64_t>(o.json_rotate_mb * 1024 * 1024), &err, "JSON",
                                       "--json");
    if (!json_sink) {
      std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
      return 1;
    }
    json_sink->SetLineFlush(live_mode);  // a consumer of the live stream sees each row when it is made
  }

  std::unique_ptr<nfm::Metrics> metrics;
  if (!o.metrics_addr.empty()) {
    nfm::BuildInfo info;
    info.version = NFM_VERSION;
    info.mode = live_mode ? "live" : "offline";
    metrics = nfm::Metrics::Create(o.metrics_addr, info, &err);
    if (!metrics) {
      std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
      return 1;
    }
    if (sink) {
      sink->on_row = [m = metrics.get()](size_t bytes) { m->OnCsvRow(bytes); };
      sink->on_rotate = [m = metrics.get()] { m->OnCsvRotate(); };
    }
  }

  // IPFIX destinations: URLs parsed and names resolved now, before any capture starts.
  std::vector<std::unique_ptr<nfm::ipfix::IpfixExporter>> ipfix;
  ipfix_opts.offline = !live_mode;
  ipfix_opts.stop = &g_stop;
  ipfix_opts.where_node = std::find(o.where_columns.begin(), o.where_columns.end(), "node") != o.where_columns.end();
  ipfix_opts.where_iface = std::find(o.where_columns.begin(), o.where_columns.end(), "iface") != o.where_columns.end();
  if (!nfm::CreateIpfixExporters(ipfix_opts, ipfix_set, *float_spec, metrics.get(), &ipfix, &err)) {
    std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
    return 1;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<nfm::FlowMetricsObserver> flow_metrics;
  if (metrics) flow_metrics = std::make_unique<nfm::FlowMetricsObserver>(*metrics);
  // Default workers: live, one per CPU (capped by the rings); offline, one per CPU too, except
  // for small inputs (DefaultOfflineThreads).
  const unsigned cpus = nfm::AvailableCpus();
  const unsigned threads = o.threads ? o.threads : live_mode ? cpus : DefaultOfflineThreads(o.pcap, cpus);
#ifdef NFM_HAVE_LIVE
  // Outlives the run: the manifest (written when the CSV closes, after the run) reads it.
  nfm::live::LiveStatus status;
#endif
  RunContext ctx;
  ctx.o = &o;
  ctx.app = &app;
  ctx.argc = argc;
  ctx.argv = argv;
  ctx.cfg = cfg;
  ctx.feature_set = cic ? "cic" : ntl ? "ntl" : o.feature_set;
  ctx.float_spec = *float_spec;
  ctx.live_mode = live_mode;
  ctx.verbose = verbose;
  ctx.threads = threads;
  ctx.labels = labels.get();
  ctx.sink = sink.get();
  ctx.json_sink = json_sink.get();
  ctx.metrics = metrics.get();
  ctx.ipfix = &ipfix;
  ctx.ipfix_set = &ipfix_set;
  ctx.ipfix_pen = ipfix_opts.pen;
  ctx.ipfix_uniflow = ipfix_opts.uniflow;
  ctx.flow_metrics = flow_metrics.get();
#ifdef NFM_HAVE_LIVE
  ctx.live = &live;
  ctx.status = &status;
#endif
  if (cic) {  // CICFlowMeter's life cycle: its own engine (engine/cic/cic_engine.hpp)
    nfm::CicEngine engine(cfg);
    return RunEngine(ctx, engine);
  }
  if (cfg.profile == nfm::Profile::kNtl) {  // NTLFlowLyzer's life cycle: engine/ntl/ntl_engine.hpp
    nfm::NtlConfig ncfg;
    ncfg.base = cfg;
    ncfg.max_list_packets = o.ntl_max_packets;
    nfm::NtlEngine engine(ncfg);
    return RunEngine(ctx, engine);
  }
  nfm::FlowEngine engine(cfg);
  return RunEngine(ctx, engine);
}
