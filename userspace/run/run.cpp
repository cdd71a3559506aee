// SPDX-License-Identifier: MIT
// Run: outputs, signals and the row's engine (see run.hpp).
#include "run/run.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "metrics/metrics.hpp"
#include "output/csv_writer.hpp"
#include "parallel/sharded_run.hpp"
#include "source/read_ahead.hpp"
#include "version.hpp"

namespace nfm {

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

}  // namespace

int Run(const Plan& plan, const CommonOptions& o, IpfixCliOptions& ipfix_opts, const CliHandles& h,
        const CLI::App& app, int argc, char** argv, const LiveSource& live) {
  // Output first: an unwritable path fails before any input is read.
  std::string err;
  // IPFIX URLs are checked (parsed, names resolved) before anything is created.
  for (const std::string& url : ipfix_opts.urls) {
    ipfix::Destination d;
    if (!ipfix::ParseDestination(url, &d, &err)) {
      std::fprintf(stderr, "nfm-xdp: --ipfix %s: %s\n", url.c_str(), err.c_str());
      return 1;
    }
  }
  // --ipfix or --json without --csv: no CSV at all.
  const bool want_json = h.json->count() > 0;
  const bool want_csv = (ipfix_opts.urls.empty() && !want_json) || h.csv->count() > 0;
  if (want_json && want_csv && o.json == "-" && o.csv == "-") {
    std::fprintf(stderr, "nfm-xdp: --json - and --csv - would both write to stdout; give one of them a file\n");
    return 1;
  }
  std::unique_ptr<CsvFileSink> sink;
  if (want_csv) {
    sink = CsvFileSink::Open(o.csv, static_cast<uint64_t>(o.csv_rotate_mb * 1024 * 1024), &err);
    if (!sink) {
      std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
      return 1;
    }
  }

  std::unique_ptr<CsvFileSink> json_sink;
  if (want_json) {
    json_sink = CsvFileSink::Open(o.json, static_cast<uint64_t>(o.json_rotate_mb * 1024 * 1024), &err, "JSON",
                                  "--json");
    if (!json_sink) {
      std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
      return 1;
    }
    json_sink->SetLineFlush(plan.live);  // a consumer of the live stream sees each row when it is made
  }

  std::unique_ptr<Metrics> metrics;
  if (!o.metrics_addr.empty()) {
    BuildInfo info;
    info.version = NFM_VERSION;
    info.mode = plan.live ? "live" : "offline";
    metrics = Metrics::Create(o.metrics_addr, info, &err);
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
  std::vector<std::unique_ptr<ipfix::IpfixExporter>> ipfix;
  ipfix_opts.offline = !plan.live;
  ipfix_opts.stop = &g_stop;
  ipfix_opts.where_node = o.Where("node");
  ipfix_opts.where_iface = o.Where("iface");
  ipfix_opts.where_tunnel = o.Where("tunnel");
  const FeatureSet& ipfix_set = IpfixFeatureSet(plan.row->ipfix_set);
  if (!CreateIpfixExporters(ipfix_opts, ipfix_set, plan.float_spec, metrics.get(), &ipfix, &err)) {
    std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
    return 1;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<FlowMetricsObserver> flow_metrics;
  if (metrics) flow_metrics = std::make_unique<FlowMetricsObserver>(*metrics);
  // Default workers: live, one per CPU (capped by the rings); offline, one per CPU too, except
  // for small inputs (DefaultOfflineThreads).
  const unsigned cpus = AvailableCpus();
  const unsigned threads = o.threads ? o.threads : plan.live ? cpus : DefaultOfflineThreads(o.pcap, cpus);
  // Offline reading ahead of large files (source/read_ahead.hpp): on a thread of its own when
  // the workers leave a CPU free; when they take every CPU, by the sharded workers themselves
  // before each batch (cooperative: a third thread queued behind two workers on 2 CPUs was 10 %
  // slower than none, the workers' own read-ahead ~3 % faster, 2026-12-07); not at all when
  // told to use one core (--threads 1) or on one CPU. NFM_READ_AHEAD=0|1 (benchmarks, tests:
  // off, or on for every file) and NFM_READ_AHEAD_COOP=1 decide instead.
  if (const char* e = std::getenv("NFM_READ_AHEAD"); !(e && *e)) {
    ReadAhead::SetBudget(o.threads == 1 || cpus < 2 ? 0 : ReadAhead::kMaxActive);
    ReadAhead::SetCooperative(threads >= cpus);
  } else if (const char* c = std::getenv("NFM_READ_AHEAD_COOP"); c && *c == '1') {
    ReadAhead::SetCooperative(true);
  }
  // Outlives the run: the manifest (written when the CSV closes, after the run) reads it.
  live::LiveStatus status;
  RunContext ctx;
  ctx.o = &o;
  ctx.plan = &plan;
  ctx.app = &app;
  ctx.argc = argc;
  ctx.argv = argv;
  ctx.stop = &g_stop;
  ctx.threads = threads;
  ctx.sink = sink.get();
  ctx.json_sink = json_sink.get();
  ctx.metrics = metrics.get();
  ctx.ipfix = &ipfix;
  ctx.ipfix_set = &ipfix_set;
  ctx.ipfix_pen = ipfix_opts.pen;
  ctx.ipfix_uniflow = ipfix_opts.uniflow;
  ctx.flow_metrics = flow_metrics.get();
  ctx.live = live;
  ctx.status = &status;
  switch (plan.row->engine) {
    case EngineKind::kCic: {  // CICFlowMeter's life cycle: engine/cic/cic_engine.hpp
      CicEngine engine(plan.cfg);
      return RunEngine(ctx, engine);
    }
    case EngineKind::kNtl: {  // NTLFlowLyzer's life cycle: engine/ntl/ntl_engine.hpp
      NtlConfig ncfg;
      ncfg.base = plan.cfg;
      ncfg.max_list_packets = plan.cfg.ntl_max_list_packets;
      NtlEngine engine(ncfg);
      return RunEngine(ctx, engine);
    }
    case EngineKind::kFlow:
      break;
  }
  FlowEngine engine(plan.cfg);
  return RunEngine(ctx, engine);
}

}  // namespace nfm
