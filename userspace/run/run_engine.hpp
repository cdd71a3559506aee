// SPDX-License-Identifier: MIT
// The wiring of one run: RunContext (what the outputs and the plan made available), RunEngine
// (exporters, manifests, the live or offline run, the end of every output and the exit status)
// and the live source hooks. The engine type is chosen from the plan's row (run/run.cpp).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cli/common_options.hpp"
#include "engine/cic/cic_engine.hpp"
#include "engine/engine.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "live/live.hpp"
#include "metrics/kernel_snapshot.hpp"
#include "metrics/metrics.hpp"
#include "output/csv_writer.hpp"
#include "output/ipfix_exporter.hpp"
#include "run/plan.hpp"

namespace CLI {
class App;
}

namespace nfm {

// live::RunLive for one engine type (the live library provides it; this code does not link it).
template <class Engine>
using LiveRunFn = int (*)(const live::LiveOptions&, Engine&, const std::atomic<bool>&, live::LiveStatus*,
                          KernelSnapshotBoard*);

// The live source, when this build has one: its options (from the command line) and its run
// function per engine. options null: offline only.
struct LiveSource {
  live::LiveOptions* options = nullptr;
  std::tuple<LiveRunFn<FlowEngine>, LiveRunFn<CicEngine>, LiveRunFn<NtlEngine>> run{};
};

// What every engine's run shares, made once after the options were checked and the outputs
// opened (CSV sink, metrics server, IPFIX destinations). Not owned.
struct RunContext {
  const CommonOptions* o = nullptr;
  const Plan* plan = nullptr;
  const CLI::App* app = nullptr;
  int argc = 0;
  char** argv = nullptr;
  std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM
  unsigned threads = 1;  // resolved --threads
  const FeatureSet* ipfix_set = nullptr;  // the elements of the IPFIX records (manifest columns)
  uint32_t ipfix_pen = 0;
  bool ipfix_uniflow = false;
  CsvFileSink* sink = nullptr;  // null: --ipfix without --csv
  CsvFileSink* json_sink = nullptr;  // null: no --json
  Metrics* metrics = nullptr;
  std::vector<std::unique_ptr<ipfix::IpfixExporter>>* ipfix = nullptr;
  FlowMetricsObserver* flow_metrics = nullptr;
  LiveSource live;
  live::LiveStatus* status = nullptr;  // outlives the run: the manifest reads it

  const RunProfile& Row() const noexcept { return *plan->row; }
  bool Live() const noexcept { return plan->live; }
};

// The one wiring path of every engine (FlowEngine, CicEngine, NtlEngine): CSV exporter with the
// data-set columns and the manifest, JSON Lines, IPFIX, the metrics observer, then the live or
// offline run, and the end of the outputs. Returns the exit code. Instantiated for the three.
template <class Engine>
int RunEngine(RunContext& c, Engine& engine);

// Offline default for --threads (see run_engine.cpp).
unsigned DefaultOfflineThreads(const std::vector<std::string>& paths, unsigned cpus);

}  // namespace nfm
