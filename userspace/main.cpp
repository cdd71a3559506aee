// SPDX-License-Identifier: MIT
// nfm-xdp command line: picks the source (--pcap replay or --iface live capture), builds the
// engine and the CSV sink, wires metrics, handles signals and exit codes. No packet logic here.
#include <CLI/CLI.hpp>
#include <sched.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <thread>
#include <vector>

#include "engine/cic_engine.hpp"
#include "output/cic_row.hpp"
#include "output/csv_writer.hpp"
#include "engine/engine.hpp"
#include "metrics/metrics.hpp"
#include "output/csv_exporter.hpp"
#include "output/numfmt.hpp"
#include "parallel/sharded_offline.hpp"
#include "source/offline.hpp"
#include "version.hpp"
#ifdef NFM_HAVE_LIVE
#include "live/live.hpp"
#endif

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

struct CommonOptions {
  std::vector<std::string> pcap;
  unsigned threads = 0;  // 0: the CPUs this process may run on
  bool progress_on = false, progress_off = false;
  std::string csv = "-";
  std::string profile = "corrected";
  std::string feature_set = "nfm";  // nfm (114 features) | cic (CICFlowMeter columns)
  std::string float_format;  // empty: profile default
  std::string tz = "utc";
  double idle_timeout = 0, active_timeout = 0, activity_threshold = 0, subflow_gap = 1.0;
  uint64_t max_flows = 1u << 20;
  std::string metrics_addr;  // see --metrics-addr
  bool metrics_addr_given = false;
  double metrics_linger = 0;
  double csv_rotate_mb = 0;
  bool quiet = false;
};

bool ParseProfile(const std::string& s, nfm::Profile* p) {
  if (s == "corrected") *p = nfm::Profile::kCorrected;
  else if (s == "nfm2022") *p = nfm::Profile::kNfm2022;
  else if (s == "nfm2022-seed") *p = nfm::Profile::kNfm2022Seed;
  else if (s == "cic") *p = nfm::Profile::kCic;
  else return false;
  return true;
}

// CPUs in this process's affinity mask (taskset, cgroup cpusets), at least 1.
unsigned AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

// Offline replay through any engine with FlowEngine's packet interface, then the summary line.
// FlowEngine with threads > 1: the sharded replay (engine's config and exporters; the engine
// itself sees no packet); nfm2022 profiles get one worker (pipelined).
template <class Engine>
int RunOfflineAndReport(const CommonOptions& o, Engine& engine, nfm::Metrics* metrics, bool cic_decode,
                        bool scapy_decode, unsigned threads) {
  nfm::OfflineOptions off;
  off.paths = o.pcap;
  off.progress = !o.quiet && !o.progress_off;
  off.progress_force = o.progress_on;
  off.scapy_decode = scapy_decode;
  off.cic_decode = cic_decode;
  if (metrics) metrics->SetHealth(true, true);
  nfm::OfflineResult res;
  nfm::EngineStats st;
  bool sharded = false;
  if constexpr (std::is_same_v<Engine, nfm::FlowEngine>) {
    if (threads > 1) {
      sharded = true;
      nfm::ShardGauges gauges;
      res = nfm::RunOfflineSharded(off, engine.Config(), nfm::ShardWorkersFor(engine.Config().profile, threads),
                                   engine.Exporters(), g_stop, &st, &gauges);
      if (std::getenv("NFM_THREAD_CPU")) {  // benchmarks: CPU seconds per thread
        std::fprintf(stderr, "nfm-xdp: thread cpu s: reader %.3f, output %.3f, workers", gauges.cpu_reader_s,
                     gauges.cpu_output_s);
        for (unsigned i = 0; i < gauges.workers; ++i) std::fprintf(stderr, " %.3f", gauges.cpu_worker_s[i]);
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
  }
  if (metrics) {
    metrics->Update(st, nullptr);
    metrics->SetHealth(false, false);
  }
  return rc;
}

// Lingers for the metrics scraper if asked, closes the CSV; the exit code.
int FinishOutput(const CommonOptions& o, nfm::CsvFileSink& sink, nfm::Metrics* metrics, int rc) {
  // --metrics-linger: keep serving the final values (the CSV is complete by then) so a
  // scraper sees them; a signal ends the wait.
  if (metrics && o.metrics_linger > 0) {
    if (!sink.Finish()) metrics->OnCsvError();
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.metrics_linger);
    while (!g_stop.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // A failed flush or any row that could not be written makes the run fail (data was lost).
  if (!sink.Finish() || sink.RowsLost()) {
    std::fprintf(stderr, "nfm-xdp: %s; %llu flow rows could not be written\n", sink.Error().c_str(),
                 static_cast<unsigned long long>(sink.RowsLost()));
    return rc ? rc : 1;
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
                     "Replay pcap/pcapng captures: files and/or directories (every regular file inside), "
                     "repeatable; read as one capture merged by timestamp ('-' = stdin)")
          ->group("Source");
  app.add_option("--threads", o.threads,
                 "Flow engine workers (default: live, the CPUs this process may use, at most one per ring; "
                 "offline, those CPUs minus 2, at least 1; nfm2022 profiles: 1 worker, pipelined with reader "
                 "and writer when > 1; cic: 1)")
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
  app.add_option("--csv", o.csv, "Write flows as CSV to FILE ('-' = stdout)")->capture_default_str()->group("Output");
  app.add_option("--csv-rotate-mb", o.csv_rotate_mb, "Start a new CSV file after this many MiB (0 = never)")
      ->check(non_negative)
      ->group("Output");
  app.add_option("--profile", o.profile,
                 "Feature semantics: corrected (defects fixed) | nfm2022 (NetFlowMeter bit for bit) | "
                 "nfm2022-seed (its 115-column seed layout) | cic (CICFlowMeter master, 84 columns byte for byte)")
      ->check(CLI::IsMember({"corrected", "nfm2022", "nfm2022-seed", "cic"}))
      ->capture_default_str()
      ->group("Features");
  app.add_option("--feature-set", o.feature_set,
                 "Columns of the corrected profile: nfm (114 features) | cic (CICFlowMeter's columns, defects fixed)")
      ->check(CLI::IsMember({"nfm", "cic"}))
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
  app.add_option("--max-flows", o.max_flows, "Flow table capacity; when full the least recently active flow is "
                                              "exported (reason eviction)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 31))
      ->capture_default_str()
      ->group("Flows");
  auto* maddr = app.add_option("--metrics-addr", o.metrics_addr,
                               "Serve Prometheus metrics on HOST:PORT ('' disables; default 127.0.0.1:9477 live, "
                               "off offline)")
                    ->group("Metrics");
  app.add_option("--metrics-linger", o.metrics_linger,
                 "Keep serving the final metrics this many seconds after the run ends")
      ->check(non_negative)
      ->group("Metrics");
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
  nfm::ApplyProfileDefaults(cfg, idle->count() > 0, active->count() > 0, thr->count() > 0);

  const bool cic = cfg.profile == nfm::Profile::kCic || o.feature_set == "cic";
  if (o.feature_set == "cic" && cfg.profile != nfm::Profile::kCorrected && cfg.profile != nfm::Profile::kCic) {
    std::fprintf(stderr, "nfm-xdp: --feature-set cic works with --profile corrected or cic\n");
    return 1;
  }
  // The float format is parsed once here; the nfm2022 default (.64f) is a profile default.
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
  if (!live_mode && o.pcap.empty()) {
    std::fprintf(stderr, "nfm-xdp: no packet source; give --pcap FILE or --iface IF (see --help)\n");
    return 1;
  }
  if (live_mode && cfg.profile != nfm::Profile::kCorrected) {
    std::fprintf(stderr, "nfm-xdp: live capture uses the corrected profile; --profile %s works with --pcap only\n",
                 o.profile.c_str());
    return 1;
  }
  o.metrics_addr_given = maddr->count() > 0;
  if (!o.metrics_addr_given) o.metrics_addr = live_mode ? "127.0.0.1:9477" : "";

  // Output first: an unwritable path fails before any input is read.
  std::string err;
  auto sink = nfm::CsvFileSink::Open(o.csv, static_cast<uint64_t>(o.csv_rotate_mb * 1024 * 1024), &err);
  if (!sink) {
    std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
    return 1;
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
    sink->on_row = [m = metrics.get()](size_t bytes) { m->OnCsvRow(bytes); };
    sink->on_rotate = [m = metrics.get()] { m->OnCsvRotate(); };
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<nfm::FlowMetricsObserver> flow_metrics;
  if (metrics) flow_metrics = std::make_unique<nfm::FlowMetricsObserver>(*metrics);
  // Default workers: live, one per CPU (capped by the rings); offline, the CPUs minus two (the
  // reader and the output thread need a core each: with 2 CPUs, 2 workers + reader + output
  // were slower than the single-threaded replay, docs/PERFORMANCE.md "Threads").
  const unsigned cpus = AffinityCpus();
  const unsigned threads = o.threads ? o.threads : live_mode ? cpus : (cpus > 3 ? cpus - 2 : 1);
  int rc = 0;
  if (cic) {  // CICFlowMeter's life cycle: its own engine (engine/cic_engine.hpp)
    nfm::CicEngine engine(cfg);
    nfm::CicCsvExporter exporter(*sink, o.tz == "local");
    engine.AddExporter(exporter);
    if (flow_metrics) engine.AddExporter(*flow_metrics);
    if (live_mode) {  // corrected CIC set only (checked above)
#ifdef NFM_HAVE_LIVE
      live.quiet = o.quiet;
    live.threads = threads;
      live.verbose = verbose;
      nfm::live::LiveStatus status;
      if (metrics) metrics->AttachLive(&status);
      rc = nfm::live::RunLive(live, engine, g_stop, &status, metrics.get());
#endif
    } else {
      rc = RunOfflineAndReport(o, engine, metrics.get(), /*cic_decode=*/cfg.profile == nfm::Profile::kCic, false, 1);
    }
    return FinishOutput(o, *sink, metrics.get(), rc);
  }
  // Exporters, in the order they see each flow: CSV, then the metrics observer.
  nfm::FlowEngine engine(cfg);
  nfm::CsvExporter csv(*sink, o.tz == "local", *float_spec);
  engine.AddExporter(csv);
  if (flow_metrics) engine.AddExporter(*flow_metrics);
  if (live_mode) {
#ifdef NFM_HAVE_LIVE
    live.quiet = o.quiet;
    live.threads = threads;
    live.verbose = verbose;
    nfm::live::LiveStatus status;
    if (metrics) metrics->AttachLive(&status);
    rc = nfm::live::RunLive(live, engine, g_stop, &status, metrics.get());
#endif
  } else {
    rc = RunOfflineAndReport(o, engine, metrics.get(), false, cfg.profile != nfm::Profile::kCorrected, threads);
  }

  return FinishOutput(o, *sink, metrics.get(), rc);
}
