// SPDX-License-Identifier: MIT
// RunEngine: exporters and manifests around one engine, the live or offline run, and the end of
// every output with the run's exit status. What differs by profile comes from the plan's row.
#include "run/run_engine.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <thread>

#include "output/cic_row.hpp"
#include "output/csv_exporter.hpp"
#include "output/dataset_columns.hpp"
#include "output/json_exporter.hpp"
#include "output/manifest.hpp"
#include "parallel/sharded_run.hpp"
#include "run/exit_status.hpp"
#include "run/manifest_facts.hpp"
#include "run/summary.hpp"
#include "source/digest_cache.hpp"
#include "source/offline.hpp"

namespace nfm {

namespace {

// Engines that keep packet-list statistics of their own (NtlEngine).
template <class Engine>
constexpr bool kHasNtlStats = requires(const Engine& e) {
  { e.Ntl() } -> std::convertible_to<const NtlStats&>;
};

// Offline replay through any engine with FlowEngine's packet interface, then the summary line.
// threads > 1: the sharded replay (engine's config and exporters; the engine itself sees no
// packet), with at most the row's worker limit.
template <class Engine>
int RunOfflineAndReport(const RunContext& c, Engine& engine, unsigned threads, std::vector<InputProgress>* inputs,
                        bool hash_input, DigestCache* digest_cache, EngineStats* sharded_stats) {
  const CommonOptions& o = *c.o;
  const RunProfile& row = c.Row();
  Metrics* metrics = c.metrics;
  OfflineOptions off;
  off.paths = o.pcap;
  off.inputs = inputs;
  off.hash_input = hash_input;
  off.digest_cache = digest_cache;
  off.progress = !o.quiet && !o.progress_off;
  off.progress_force = o.progress_on;
  off.decode = row.decode;
  off.shared_clock = row.shared_clock;
  off.tunnels = TunnelConfigOf(o);
  if (metrics) metrics->SetHealth(true, true);
  OfflineResult res;
  EngineStats st;
  bool sharded = false;
  NtlStats sharded_ntl;
  if (threads > 1) {
    sharded = true;
    ShardGauges gauges;
    const unsigned workers = std::min(threads, row.offline_workers);
    res = RunOfflineSharded<Engine>(off, engine.Config(), workers, engine.Exporters(), *c.stop, &st, &gauges,
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
      std::vector<WorkerSample> samples(gauges.workers);
      for (unsigned i = 0; i < gauges.workers; ++i) samples[i].busy_ns = gauges.busy_ns[i].load();
      metrics->UpdateWorkers(WorkerLoads(samples));
    }
  }
  if (!sharded) {
    res = RunOffline(off, engine, *c.stop);
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
    std::fprintf(stderr, "nfm-xdp: %s\n", OfflineSummary(res.records, st, res.seconds).c_str());
    if constexpr (kHasNtlStats<Engine>) {
      std::fprintf(stderr, "nfm-xdp: %s\n", NtlListsSummary(sharded ? sharded_ntl : engine.Ntl()).c_str());
    } else if (const std::string capped = CappedListsSummary(st, o.ntl_max_packets); !capped.empty()) {
      std::fprintf(stderr, "nfm-xdp: %s\n", capped.c_str());
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
int FinishIpfix(const CommonOptions& o, std::vector<std::unique_ptr<ipfix::IpfixExporter>>& ipfix, int rc,
                const std::vector<std::unique_ptr<Manifest>>& manifests, bool offline) {
  for (size_t i = 0; i < ipfix.size(); ++i) {
    ipfix::IpfixExporter& x = *ipfix[i];
    const bool ok = x.Finish();
    const bool incomplete = offline && IpfixExportIncomplete(x);
    if (!o.quiet || !ok || incomplete || x.Stats().records_dropped || x.Stats().records_lost)
      std::fprintf(stderr, "nfm-xdp: %s%s\n", IpfixSummary(x).c_str(),
                   incomplete ? " (exit status 3: the export is incomplete)" : "");
    if (!ok) rc = WorseStatus(rc, kExitFatal);
    if (incomplete) rc = WorseStatus(rc, kExitExportIncomplete);
    if (ok && i < manifests.size() && manifests[i]) {
      const ipfix::ExporterStats st = x.Stats();
      Manifest& m = *manifests[i];
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

// Closes a file sink (CSV or JSON Lines): a failed flush, any row that could not be written or
// a manifest that could not be written makes the run fail (data was lost).
int CloseSink(CsvFileSink* sink, int rc, const std::string* manifest_error) {
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
int FinishOutput(const CommonOptions& o, CsvFileSink* sink, Metrics* metrics, int rc, const std::atomic<bool>& stop,
                 const std::string* manifest_error = nullptr) {
  // --metrics-linger: keep serving the final values (the CSV is complete by then) so a
  // scraper sees them; a signal ends the wait.
  if (metrics && o.metrics_linger > 0) {
    if (sink && !sink->Finish()) metrics->OnCsvError();
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.metrics_linger);
    while (!stop.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return CloseSink(sink, rc, manifest_error);  // no sink: --ipfix or --json without --csv
}

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
std::unique_ptr<LossOracle> MakeLossOracle(const RunContext& c, LossTimeline** timeline) {
  *timeline = nullptr;
  if (!c.o->loss_column) return nullptr;
  if (c.Live()) {
    auto t = std::make_unique<LossTimeline>();
    *timeline = t.get();
    return t;
  }
  std::vector<CaptureDrop> drops;
  std::string scan_err;
  LossIntervals iv;
  std::vector<std::string> files;  // every input file: drop intervals are times, merged over files
  if (CaptureSet::ExpandInputs(c.o->pcap, &files, &scan_err)) {  // bad inputs fail below
    for (const std::string& f : files) {
      if (ScanCaptureDrops(f, &drops, &scan_err)) {  // an unreadable capture fails below
        for (const auto& d : drops) iv.Add(static_cast<int64_t>(d.from_ns), static_cast<int64_t>(d.to_ns));
      }
    }
  }
  iv.Build();
  return std::make_unique<CaptureLossOracle>(std::move(iv));
}

// The CSV exporter of the row's layout: CIC rows, else CsvRowRenderer rows (nfm and ntl
// layouts, from the feature set the engine hands over).
std::unique_ptr<RenderingExporter> MakeCsvExporter(const RunContext& c, DatasetColumns* extras, Manifest* manifest) {
  const bool local = c.o->tz == "local";
  if (c.Row().csv == CsvLayout::kCic) {
    auto x = std::make_unique<CicCsvExporter>(*c.sink, local);
    x->SetDataset(extras, manifest);
    return x;
  }
  auto x = std::make_unique<CsvExporter>(*c.sink, local, c.plan->float_spec, c.o->label);
  x->SetDataset(extras, manifest);
  return x;
}

}  // namespace

template <class Engine>
int RunEngine(RunContext& c, Engine& engine) {
  const CommonOptions& o = *c.o;
  LossTimeline* loss_timeline = nullptr;
  const std::unique_ptr<LossOracle> loss = MakeLossOracle(c, &loss_timeline);
  // --where-columns: live, the drain threads record each flow's interface (FlowIfaces).
  std::unique_ptr<FlowIfaces> flow_ifaces;
  if (o.Where("iface") && c.Live()) {
    flow_ifaces = std::make_unique<FlowIfaces>(2 * o.max_flows);
    c.live.options->flow_ifaces = flow_ifaces.get();
  }
  // The data-set columns of one output (the CSV and the JSON Lines output have one each: each
  // decides the label and loss of the rows it writes): row_kind, where, loss, label.
  const auto dataset_columns = [&](DatasetColumns& d) {
    d.SetRowKind(c.plan->cfg.snapshot_interval_s > 0);
    d.SetWhere(o.Where("node"), o.Where("iface"), NodeName(o), flow_ifaces.get(), o.Where("tunnel"));
  };
  DatasetColumns extras(c.plan->labels.get(), o.default_label, loss.get());
  dataset_columns(extras);
  for (auto& x : *c.ipfix) x->SetWhere(NodeName(o), flow_ifaces.get());

  // Manifest next to every closed output file (not for stdout).
  // Only regular files get one: never /dev/null.manifest.json, a FIFO's neighbour, ...
  struct stat csv_stat {};
  const bool want_manifest = c.sink && !o.no_manifest && o.csv != "-" && ::stat(o.csv.c_str(), &csv_stat) == 0 &&
                             S_ISREG(csv_stat.st_mode);
  Manifest manifest;
  bool sharded_run = false;
  EngineStats sharded_stats{};  // offline --threads > 1: the workers' totals (the engine sees no packet)
  // Offline: input digests remembered between runs (--digest-cache); outlives `inputs`, whose
  // pending digests store into it when a manifest waits for them.
  DigestCache digest_cache(c.Live() ? std::string() : DigestCache::ResolvePath(o.digest_cache));
  std::vector<InputProgress> inputs;  // offline: one per input file (CaptureSet merge order)
  std::string manifest_error;
  // Live: the totals the drain loop publishes (summed over drain workers; final after the
  // flush), readable from the thread that closes a CSV file at rotation.
  const std::function<EngineStats()> run_stats = [&engine, &sharded_stats, &sharded_run, &c] {
    if (c.Live()) return c.status->GetEngineStats();
    return sharded_run ? sharded_stats : engine.Stats();
  };
  const std::vector<std::unique_ptr<Manifest>> ipfix_manifests = MakeIpfixManifests(c, inputs, run_stats);
  // Offline: hash the inputs while reading them when any manifest will list them.
  const bool hash_inputs = want_manifest || std::any_of(ipfix_manifests.begin(), ipfix_manifests.end(),
                                                        [](const auto& m) { return m != nullptr; });
  std::vector<std::unique_ptr<ManifestRows>> ipfix_rows;
  // JSON Lines: its own data-set columns (it decides label and loss of its rows) and manifest.
  DatasetColumns json_extras(c.plan->labels.get(), o.default_label, loss.get());
  dataset_columns(json_extras);
  struct stat json_stat {};
  const bool want_json_manifest = c.json_sink && !o.no_manifest && o.json != "-" &&
                                  ::stat(o.json.c_str(), &json_stat) == 0 && S_ISREG(json_stat.st_mode);
  Manifest json_manifest;
  std::string json_manifest_error;
  if (want_json_manifest) {
    SetupManifest(c, json_manifest, inputs, run_stats);
    json_manifest.format = "jsonl";
    c.json_sink->on_close = [&json_manifest, &json_manifest_error](const std::string& path, uint64_t text_bytes,
                                                                   bool final_part) {
      std::string e;
      if (!json_manifest.WriteFor(path, CodecName(CodecForPath(path)), text_bytes, final_part, &e) &&
          json_manifest_error.empty())
        json_manifest_error = e;
    };
  }
  if (want_manifest) {
    SetupManifest(c, manifest, inputs, run_stats);
    c.sink->on_close = [&manifest, &manifest_error](const std::string& path, uint64_t text_bytes, bool final_part) {
      std::string e;
      if (!manifest.WriteFor(path, CodecName(CodecForPath(path)), text_bytes, final_part, &e) &&
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
  if (c.threads > 1 && !c.Live() &&
      ((want_manifest && o.csv_rotate_mb > 0) || (want_json_manifest && o.json_rotate_mb > 0))) {
    if (o.threads > 1)
      std::fprintf(stderr, "nfm-xdp: note: --threads %u ignored: an offline manifest with --csv-rotate-mb or "
                   "--json-rotate-mb needs one thread; use --no-manifest for threads\n", o.threads);
    flow_threads = 1;
  }
  if (want_manifest) manifest.effective.emplace_back("threads", std::to_string(flow_threads));
  if (want_json_manifest) json_manifest.effective.emplace_back("threads", std::to_string(flow_threads));

  // Exporters, in the order they see each flow: CSV, JSON Lines, IPFIX, then the metrics observer.
  std::unique_ptr<RenderingExporter> csv;
  if (c.sink) {
    csv = MakeCsvExporter(c, &extras, want_manifest ? &manifest : nullptr);
    engine.AddExporter(*csv);
  }
  std::unique_ptr<JsonLinesExporter> json;
  if (c.json_sink) {
    json = std::make_unique<JsonLinesExporter>(*c.json_sink, c.Row().csv == CsvLayout::kCic, o.tz == "local",
                                               c.plan->float_spec, o.label);
    json->SetDataset(&json_extras, want_json_manifest ? &json_manifest : nullptr);
    engine.AddExporter(*json);
  }
  for (auto& x : *c.ipfix) engine.AddExporter(*x);
  for (const auto& m : ipfix_manifests) {
    if (!m) continue;
    ipfix_rows.push_back(std::make_unique<ManifestRows>(*m));
    engine.AddExporter(*ipfix_rows.back());
  }
  if (c.flow_metrics) engine.AddExporter(*c.flow_metrics);

  int rc = 0;
  bool interrupted = false;  // offline: a signal stopped the replay before its input ended
  if (c.Live()) {
    live::LiveOptions& live = *c.live.options;
    live::LiveStatus& status = *c.status;
    live.quiet = o.quiet;
    live.tunnel_inner = o.tunnel == "inner";
    live.tunnel_trailer = c.plan->cfg.tunnel_columns;
    live.vxlan_ports = o.vxlan_ports;
    live.threads = flow_threads;
    live.verbose = o.verbose;
    live.view = c.Row().live_view;  // the reference profiles see packets as their tools did
    if (loss_timeline) {
      // Ring full / empty slot per ring (nfm_ring_lost); undecodable samples mark every ring.
      live.on_sample = [loss_timeline](const live::LiveStatus& s) {
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
    rc = std::get<LiveRunFn<Engine>>(c.live.run)(live, engine, *c.stop, &status,
                                                  c.metrics ? &c.metrics->KernelBoard() : nullptr);
    if constexpr (kHasNtlStats<Engine>) {
      if (!o.quiet) std::fprintf(stderr, "nfm-xdp: %s\n", NtlListsSummary(engine.Ntl()).c_str());
    }
  } else {
    if (want_manifest) manifest.Start();
    if (want_json_manifest) json_manifest.Start();
    for (const auto& m : ipfix_manifests)
      if (m) m->Start();
    sharded_run = flow_threads > 1;  // every engine; RunOfflineAndReport picks the workers the row can use
    rc = RunOfflineAndReport(c, engine, flow_threads, &inputs, hash_inputs, &digest_cache, &sharded_stats);
    interrupted = c.stop->load();
  }

  rc = FinishIpfix(o, *c.ipfix, rc, ipfix_manifests, !c.Live());
  rc = CloseSink(c.json_sink, rc, &json_manifest_error);
  if (c.json_sink) c.json_sink->on_close = nullptr;  // its manifest ends with this frame
  rc = FinishOutput(o, c.sink, c.metrics, rc, *c.stop, &manifest_error);
  if (c.sink) c.sink->on_close = nullptr;  // the manifest ends with this frame
  if (const uint64_t n = digest_cache.StoreFailures(); n > 0 && !o.quiet)
    std::fprintf(stderr, "nfm-xdp: warning: %s; %" PRIu64 " input digest(s) not remembered (the manifests are complete)\n",
                 digest_cache.LastError().c_str(), n);
  // Live, a signal is the normal end of a run; offline it cut the input short.
  if (interrupted) {
    rc = WorseStatus(rc, kExitInterrupted);
    std::fprintf(stderr, "nfm-xdp: interrupted by a signal before the end of the input: the output holds the flows "
                         "of the packets read so far (exit status %d)\n", rc);
  }
  return rc;
}


template int RunEngine<FlowEngine>(RunContext&, FlowEngine&);
template int RunEngine<CicEngine>(RunContext&, CicEngine&);
template int RunEngine<NtlEngine>(RunContext&, NtlEngine&);

// Offline default for --threads: the CPUs, or 1 when every input is a regular file (or a
// directory of them) and they total less than kSmallInput bytes. Up to there one worker (with
// a read-ahead thread) is about as fast as two, and faster when a hash thread also runs, so the
// row order of small inputs stays what it was (docs/PERFORMANCE.md "Dataset-sized captures").
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


}  // namespace nfm
