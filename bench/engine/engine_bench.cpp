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

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/capture_reader.hpp"
#include "output/csv_exporter.hpp"
#include "output/csv_writer.hpp"
#include "source/decode.hpp"
#include "engine/contract.hpp"
#include "engine/engine.hpp"
#include "profile/profile_table.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "engine/flow_record.hpp"
#include "engine/flow_table.hpp"
#include "traffic_model.hpp"

namespace {

constexpr size_t kBatch = 1 << 16;
constexpr uint64_t kWarmup = 4000000;  // 4 s of traffic: table size and exports reach steady state

// Renders every flow (as the CSV exporter does) and counts the bytes: the export cost
// without the file writes.
class CountingSink : public nfm::FlowExporter {
 public:
  explicit CountingSink(const nfm::fmt::FloatSpec& spec) : spec_(spec) {}
  void Begin(nfm::Profile profile, const nfm::FeatureSet&) override {
    renderer_.emplace(profile, false, spec_);
    bytes += renderer_->HeaderLine().size();
  }
  void Export(const nfm::FlowView& v) override {
    bytes += renderer_->Render(v).size();
    ++rows;
  }
  uint64_t bytes = 0, rows = 0;

 private:
  nfm::fmt::FloatSpec spec_;
  std::optional<nfm::CsvRowRenderer> renderer_;
};

// The flows' destination: the CSV exporter writing to /dev/null, or the counting exporter.
struct Rows {
  explicit Rows(bool nfm2022, const char* float_spec = nullptr)
      : spec(*nfm::fmt::FloatSpec::Parse(float_spec ? float_spec : nfm2022 ? ".64f" : "")), counting(spec) {}
  // The CLI's float defaults: shortest round-trip (corrected), .64f (nfm2022).
  nfm::fmt::FloatSpec spec;
  std::unique_ptr<nfm::CsvFileSink> csv;
  std::unique_ptr<nfm::CsvExporter> csv_exporter;
  CountingSink counting;
  uint64_t Count() const { return csv ? csv->RowsWritten() : counting.rows; }
  // Opens /dev/null when !counting; false (with *err) on failure.
  template <nfm::FlowEngineLike Engine>
  bool Attach(Engine& engine, bool use_counting, std::string* err) {
    if (use_counting) {
      engine.AddExporter(counting);
      return true;
    }
    csv = nfm::CsvFileSink::Open("/dev/null", 0, err);
    if (!csv) return false;
    csv_exporter = std::make_unique<nfm::CsvExporter>(*csv, false, spec);
    engine.AddExporter(*csv_exporter);
    return true;
  }
};

template <bool kPrefetch, nfm::FlowEngineLike Engine>
void Feed(Engine& engine, std::vector<nfm::PacketMeta>& ev) {
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
  Rows rows(nfm2022);
  nfm::FlowEngine engine(cfg);
  if (std::string err; !rows.Attach(engine, counting, &err)) {
    state.SkipWithError(err.c_str());
    return;
  }

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

// ---- Real traffic: decoded packets of real captures -----------------------------------------
// Every capture of a directory (NFM_BENCH_CAPTURES, default ../shared/pcaps beside the
// source tree, else tests/data) is decoded once (strict mode, as the corrected profile's
// offline path does) and the streams are merged as if all captures had started at the same
// instant, so their flows overlap in time. Each pass over the merged stream is shifted by its
// span + 200 s, so every pass makes new flows and the previous pass's flows end (by idle
// timeout, FIN or RST) and are rendered: exports are part of the measured work.
struct RealTraffic {
  std::vector<nfm::PacketMeta> events;
  int64_t span_ns = 0;
  std::string source;
  size_t captures = 0;
};

const RealTraffic& LoadRealTraffic() {
  static RealTraffic rt = [] {
    namespace fs = std::filesystem;
    RealTraffic r;
    std::vector<fs::path> dirs;
    if (const char* env = std::getenv("NFM_BENCH_CAPTURES")) dirs.emplace_back(env);
    dirs.emplace_back(fs::path(NFM_SOURCE_DIR) / ".." / "shared" / "pcaps");
    dirs.emplace_back(fs::path(NFM_SOURCE_DIR) / "tests" / "data");
    for (const auto& dir : dirs) {
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        const auto ext = e.path().extension().string();
        if (ext == ".pcap" || ext == ".pcapng" || ext == ".cap") files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        std::string err;
        auto reader = nfm::CaptureReader::Open(f.string(), &err);
        if (!reader) continue;
        std::vector<nfm::PacketMeta> one;
        nfm::RawPacket raw;
        while (reader->Next(&raw) == 1) {
          nfm::PacketMeta m{};
          if (nfm::DecodePacket(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &m) != nfm::DecodeStatus::kOk)
            continue;
          m.ts_ns = raw.ts_ns;
          m.ts_exp = raw.ts_exp;
          one.push_back(m);
        }
        if (one.empty()) continue;
        std::stable_sort(one.begin(), one.end(),
                         [](const nfm::PacketMeta& a, const nfm::PacketMeta& b) { return a.ts_ns < b.ts_ns; });
        const uint64_t t0 = one.front().ts_ns;
        for (auto& m : one) m.ts_ns -= t0;  // every capture starts at 0
        r.span_ns = std::max<int64_t>(r.span_ns, static_cast<int64_t>(one.back().ts_ns));
        r.events.insert(r.events.end(), one.begin(), one.end());
        ++r.captures;
      }
      if (!r.events.empty()) {
        r.source = dir.string();
        break;
      }
    }
    std::stable_sort(r.events.begin(), r.events.end(),
                     [](const nfm::PacketMeta& a, const nfm::PacketMeta& b) { return a.ts_ns < b.ts_ns; });
    return r;
  }();
  return rt;
}

// Args: profile, copies. Each iteration feeds one pass of the merged real stream (every
// capture starts at the same instant, so their flows overlap); reports events/s like
// BM_Engine (per CPU second, CSV to /dev/null). copies > 1 replays that many copies of the
// stream at once, copy c with every address's byte 12 XORed with c (the first IPv4 octet;
// the same bijection on both addresses keeps each flow's two directions together) and
// c * 997 ns later: the same real flows, many more of them open at once.
template <nfm::FlowEngineLike Engine>
void RunRealPasses(benchmark::State& state, const RealTraffic& rt, Engine& engine, Rows& rows, int copies);

void BM_EngineRealCaptures(benchmark::State& state) {
  const RealTraffic& rt = LoadRealTraffic();
  if (rt.events.empty()) {
    state.SkipWithError("no readable capture in NFM_BENCH_CAPTURES, ../shared/pcaps or tests/data");
    return;
  }
  // profile: 0 corrected, 1 nfm2022, 2 ntl (NtlEngine, .17g), 3 corrected + ntl feature set.
  const int profile = static_cast<int>(state.range(0));
  const bool nfm2022 = profile == 1;
  const int copies = static_cast<int>(state.range(1));
  nfm::EngineConfig cfg;
  cfg.profile = nfm2022 ? nfm::Profile::kNfm2022 : profile == 2 ? nfm::Profile::kNtl : nfm::Profile::kCorrected;
  nfm::ApplyProfileDefaults(cfg, false, false, false);
  cfg.max_flows = 1u << 20;
  cfg.ntl_features = profile == 3;
  if (profile == 2) {
    Rows rows(false, ".17g");
    nfm::NtlConfig ncfg;
    ncfg.base = cfg;
    ncfg.base.idle_timeout_s = 100;  // below the 200 s between passes: every pass makes new flows
    nfm::NtlEngine engine(ncfg);
    if (std::string err; !rows.Attach(engine, false, &err)) {
      state.SkipWithError(err.c_str());
      return;
    }
    RunRealPasses(state, rt, engine, rows, copies);
    return;
  }
  Rows rows(nfm2022);
  nfm::FlowEngine engine(cfg);
  if (std::string err; !rows.Attach(engine, false, &err)) {
    state.SkipWithError(err.c_str());
    return;
  }
  RunRealPasses(state, rt, engine, rows, copies);
}

template <nfm::FlowEngineLike Engine>
void RunRealPasses(benchmark::State& state, const RealTraffic& rt, Engine& engine, Rows& rows, int copies) {
  const int64_t step = rt.span_ns + 200 * int64_t{1000000000};
  std::vector<nfm::PacketMeta> pass;
  pass.reserve(rt.events.size() * static_cast<size_t>(copies));
  for (int c = 0; c < copies; ++c) {
    for (nfm::PacketMeta m : rt.events) {
      m.saddr[12] ^= static_cast<uint8_t>(c);
      m.daddr[12] ^= static_cast<uint8_t>(c);
      m.ts_ns += static_cast<uint64_t>(c) * 997;
      pass.push_back(m);
    }
  }
  std::stable_sort(pass.begin(), pass.end(),
                   [](const nfm::PacketMeta& a, const nfm::PacketMeta& b) { return a.ts_ns < b.ts_ns; });
  const uint64_t base = 1700000000ull * 1000000000ull;
  for (auto& m : pass) m.ts_ns += base;
  auto next_pass = [&] {
    for (auto& m : pass) m.ts_ns += static_cast<uint64_t>(step);
  };
  Feed<true>(engine, pass);  // warm-up pass
  const uint64_t rows0 = rows.csv->RowsWritten();
  uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    next_pass();
    state.ResumeTiming();
    Feed<true>(engine, pass);
    events += pass.size();
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["flows/s"] =
      benchmark::Counter(static_cast<double>(rows.csv->RowsWritten() - rows0), benchmark::Counter::kIsRate);
  state.counters["events/pass"] = static_cast<double>(pass.size());
  state.counters["captures"] = static_cast<double>(rt.captures);
  state.counters["copies"] = copies;
  state.counters["open_flows"] = static_cast<double>(engine.Stats().flows_active);
  state.counters["ns/event"] = benchmark::Counter(static_cast<double>(events),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(rt.source);
  state.SetItemsProcessed(static_cast<int64_t>(events));
  rows.csv->Finish();
}

BENCHMARK(BM_EngineRealCaptures)
    ->ArgNames({"profile", "copies"})
    // corrected only: nfm2022's 120000 s idle timeout would join the passes' flows
    ->Args({0, 1})
    ->Args({0, 16})  // 16 copies at once: ~550k events per pass
    ->Args({2, 1})   // ntl (NtlEngine; activity timeout 100 s so passes do not join)
    ->Args({3, 1})   // corrected + ntl feature set
    ->Args({3, 16})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(40);

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
    ->Args({0, 0, 1, 1000, 1})     // corrected, no flow ends, cache-resident: compute cost per packet
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
