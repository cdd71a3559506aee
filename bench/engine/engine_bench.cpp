// SPDX-License-Identifier: MIT
// engine_bench: the flow engine alone (no capture reading, no decoding) on pre-decoded
// PacketMeta events from bench/engine/traffic_model.hpp: ~100k concurrent TCP/UDP flows,
// Zipf-like sizes, handshakes and FINs, payloads 0..1460, +1 us per event.
//
// Steady state (idle timeout 2 s, see below): the engine lives across iterations. Each iteration first generates a batch of
// kBatch events (timer paused), then feeds them to OnPacket (timed) with the same
// prefetch pipeline RunOffline uses (PrefetchIndex 8 ahead, PrefetchFlow 4 ahead). Before
// timing starts, kWarmup events fill the table to ~`concurrent` open flows and make flows
// end (FIN grace / idle) and export, so exports are part of the measured work.
//
// CSV writing is included: finished flows are rendered and written through the real
// CsvFileSink opened on /dev/null (sink=csv), or handed to a sink that only counts bytes
// (sink=count, shows what the file write costs).
//
// Counters: events/s (the issue-6 number), flows/s (exported flows per second), both per
// CPU second.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "csv_writer.hpp"
#include "engine.hpp"
#include "flow_record.hpp"
#include "flow_table.hpp"
#include "traffic_model.hpp"

namespace {

constexpr size_t kBatch = 1 << 16;
constexpr uint64_t kWarmup = 4000000;  // 4 s of traffic: table size and exports reach steady state

class CountingSink : public nfm::FlowSink {
 public:
  void Header(const std::string& h) override { bytes += h.size(); }
  void Row(const std::string& r, const nfm::FlowSummary&) override {
    bytes += r.size();
    ++rows;
  }
  uint64_t bytes = 0, rows = 0;
};

struct Rows {
  nfm::FlowSink* sink;
  std::unique_ptr<nfm::CsvFileSink> csv;
  CountingSink counting;
  uint64_t Count() const { return csv ? csv->RowsWritten() : counting.rows; }
};

template <bool kPrefetch>
void Feed(nfm::FlowEngine& engine, const std::vector<nfm::PacketMeta>& ev) {
  const size_t n = ev.size();
  for (size_t i = 0; i < n; ++i) {
    if (kPrefetch) {
      if (i + 8 < n) engine.PrefetchIndex(ev[i + 8]);
      if (i + 4 < n) engine.PrefetchFlow(ev[i + 4]);
    }
    engine.OnPacket(ev[i]);
  }
}

// Args: profile (0 corrected, 1 nfm2022), sink (0 csv -> /dev/null, 1 counting), prefetch,
// concurrent flows, endless (1: TCP flows that never end, so no exports: the per-packet
// cost alone).
void BM_Engine(benchmark::State& state) {
  const bool nfm2022 = state.range(0) == 1;
  const bool counting = state.range(1) == 1;
  const bool prefetch = state.range(2) == 1;
  const auto concurrent = static_cast<uint32_t>(state.range(3));
  const bool endless = state.range(4) == 1;

  nfm::EngineConfig cfg;
  cfg.profile = nfm2022 ? nfm::Profile::kNfm2022 : nfm::Profile::kCorrected;
  nfm::ApplyProfileDefaults(cfg, false, false, false);
  cfg.max_flows = 1u << 20;  // the CLI default
  // UDP flows only end by idle timeout. With the default 120 s the table would keep growing
  // for 120 s of packet time (120 M events) before reaching steady state; 2 s gets there
  // within the warm-up. Every flow is still exported exactly once, so the export work per
  // event is the same as with 120 s; only the number of resident flows is smaller.
  cfg.idle_timeout_s = 2.0;
  Rows rows;
  if (counting) {
    rows.sink = &rows.counting;
  } else {
    std::string err;
    rows.csv = nfm::CsvFileSink::Open("/dev/null", 0, &err);
    if (!rows.csv) {
      state.SkipWithError(err.c_str());
      return;
    }
    rows.sink = rows.csv.get();
  }
  // The CLI's float defaults: shortest round-trip (corrected), .64f (nfm2022).
  nfm::FlowEngine engine(cfg, *rows.sink, false, nfm2022 ? ".64f" : "");

  nfm::bench::TrafficModel::Options mo;
  mo.concurrent = concurrent;
  mo.endless = endless;
  nfm::bench::TrafficModel model(mo);
  std::vector<nfm::PacketMeta> batch(kBatch);
  auto fill = [&] {
    for (auto& m : batch) model.Next(&m);
  };
  for (uint64_t done = 0; done < kWarmup; done += kBatch) {
    fill();
    Feed<true>(engine, batch);
  }

  const uint64_t rows0 = rows.Count();
  uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fill();
    state.ResumeTiming();
    if (prefetch) Feed<true>(engine, batch); else Feed<false>(engine, batch);
    events += kBatch;
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["flows/s"] =
      benchmark::Counter(static_cast<double>(rows.Count() - rows0), benchmark::Counter::kIsRate);
  state.counters["open_flows"] = static_cast<double>(engine.Stats().flows_active);
  state.counters["ns/event"] = benchmark::Counter(static_cast<double>(events),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<int64_t>(events));
  if (rows.csv) rows.csv->Finish();
}

// Name args: profile, sink, prefetch, concurrent.
BENCHMARK(BM_Engine)
    ->ArgNames({"nfm2022", "countsink", "prefetch", "flows", "endless"})
    ->Args({0, 0, 1, 100000, 0})   // corrected, CsvFileSink(/dev/null), prefetch  <- headline
    ->Args({1, 0, 1, 100000, 0})   // nfm2022,   CsvFileSink(/dev/null), prefetch
    ->Args({0, 1, 1, 100000, 0})   // corrected, counting sink
    ->Args({0, 0, 0, 100000, 0})   // corrected, no prefetch
    ->Args({0, 0, 1, 1000, 0})     // corrected, cache-resident table
    ->Args({0, 0, 1, 1000000, 0})  // corrected, 1M concurrent flows (table full: evictions)
    ->Args({0, 0, 1, 100000, 1})   // corrected, no flow ever ends: per-packet cost only
    ->Args({1, 0, 1, 100000, 1})   // nfm2022,   no flow ever ends
    ->Unit(benchmark::kMillisecond)
    // Fixed iteration count: every run pays the warm-up once, so let Google Benchmark not
    // probe iteration counts (each probe would warm up again). 32 x 64Ki = 2.1 M events.
    ->Iterations(32);
// Rates (events/s, flows/s) are per CPU second of the benchmark thread (Google Benchmark's
// default without UseRealTime): on a shared machine that is "on one core" without the time
// spent waiting for a core. The Time column shows wall time too.

}  // namespace

// Memory per flow slot: printed on stderr at start and in the benchmark context header.
int main(int argc, char** argv) {
  using Table = nfm::FlowTable<nfm::FlowRecord>;
  benchmark::AddCustomContext("sizeof(FlowRecord)", std::to_string(sizeof(nfm::FlowRecord)));
  benchmark::AddCustomContext("sizeof(FlowLinks)", std::to_string(sizeof(nfm::FlowLinks)));
  benchmark::AddCustomContext("FlowTable::BytesPerFlow (record+links+2 index slots)",
                              std::to_string(Table::BytesPerFlow()));
  benchmark::AddCustomContext("sizeof(Nfm2022Ext) (nfm2022 profiles only)", std::to_string(sizeof(nfm::Nfm2022Ext)));
  benchmark::AddCustomContext("sizeof(PacketMeta)", std::to_string(sizeof(nfm::PacketMeta)));
  std::fprintf(stderr,
               "engine_bench: sizeof(FlowRecord)=%zu sizeof(FlowLinks)=%zu BytesPerFlow=%zu "
               "sizeof(Nfm2022Ext)=%zu sizeof(PacketMeta)=%zu\n",
               sizeof(nfm::FlowRecord), sizeof(nfm::FlowLinks), Table::BytesPerFlow(), sizeof(nfm::Nfm2022Ext),
               sizeof(nfm::PacketMeta));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
