// SPDX-License-Identifier: MIT
// Threaded parts: the sharded offline replay gives the same flows as the single
// engine (rows rendered by CsvRowRenderer, compared as sorted lists) and is deterministic;
// FlowMerger's ordered merge; CaptureSet's timestamp merge of files. These also run under
// ThreadSanitizer (scripts/run-tests.sh, make tsan).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "engine/nfm_features.hpp"
#include "output/csv_row.hpp"
#include "parallel/flow_merge.hpp"
#include "parallel/sharded_run.hpp"
#include "source/capture_set.hpp"
#include "source/offline.hpp"

namespace nfm {
namespace {

class RowCollector : public FlowExporter {
 public:
  void Begin(Profile profile, const FeatureSet&) override {
    renderer_ = std::make_unique<CsvRowRenderer>(profile, false, *fmt::FloatSpec::Parse(""));
  }
  void Export(const FlowView& v) override { rows.emplace_back(renderer_->Render(v)); }
  std::vector<std::string> rows;

 private:
  std::unique_ptr<CsvRowRenderer> renderer_;
};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> Captures() {
  std::vector<std::string> out;
  const std::string data = std::string(NFM_SOURCE_DIR) + "/tests/data/";
  for (const char* f : {"pcap_us_le.pcap", "pcap_ns_be.pcap", "pcapng_multi.pcapng"}) out.push_back(data + f);
  const std::string shared = std::string(NFM_SOURCE_DIR) + "/../shared/pcaps/";
  for (const char* f : {"ppp_example.pcap", "ndpi_whatsapp.pcap", "tcpdump_babel_update_oobr.pcap"}) {
    if (std::filesystem::exists(shared + f)) out.push_back(shared + f);
    else std::fprintf(stderr, "NOTE: %s%s missing (no ../shared): only self-made captures\n", shared.c_str(), f);
  }
  return out;
}

std::vector<std::string> Single(const std::string& path, const EngineConfig& cfg) {
  RowCollector rows;
  FlowEngine engine(cfg);
  engine.AddExporter(rows);
  OfflineOptions o;
  o.path = path;
  std::atomic<bool> stop{false};
  RunOffline(o, engine, stop);
  return rows.rows;
}

std::vector<std::string> Sharded(const std::string& path, const EngineConfig& cfg, unsigned workers,
                                 EngineStats* st = nullptr) {
  RowCollector rows;
  rows.Begin(cfg.profile, NfmFeatureSet());
  OfflineOptions o;
  o.path = path;
  std::atomic<bool> stop{false};
  EngineStats s;
  RunOfflineSharded(o, cfg, workers, {&rows}, stop, &s);
  if (st) *st = s;
  return rows.rows;
}

TEST(Sharded, SameRowsAsOneEngine) {
  for (const std::string& cap : Captures()) {
    for (double idle : {120.0, 0.05}) {
      EngineConfig cfg;
      cfg.idle_timeout_s = idle;
      cfg.active_timeout_s = idle * 4;
      const auto one = Single(cap, cfg);
      for (unsigned n : {1u, 2u, 3u}) {
        EngineStats st;
        const auto many = Sharded(cap, cfg, n, &st);
        EXPECT_EQ(Sorted(one), Sorted(many)) << cap << " workers " << n << " idle " << idle;
        if (n == 1) {
          EXPECT_EQ(one, many) << cap << ": one worker keeps the single engine's order";
        }
        uint64_t exported = 0;
        for (uint64_t e : st.flows_exported) exported += e;
        EXPECT_EQ(exported, many.size());
        EXPECT_EQ(st.flows_active, 0u);
      }
    }
  }
}

TEST(Sharded, DeterministicOrder) {
  EngineConfig cfg;
  cfg.idle_timeout_s = 0.05;
  for (const std::string& cap : Captures()) EXPECT_EQ(Sharded(cap, cfg, 3), Sharded(cap, cfg, 3)) << cap;
}

// Two producer threads push tagged flows; the merger must emit them in (tag, worker) order.
class TagCollector : public FlowExporter {
 public:
  void Export(const FlowView& v) override { got.push_back(v.first_ns); }
  std::vector<int64_t> got;
};

TEST(FlowMerger, OrderedAcrossWorkers) {
  constexpr int kPerWorker = 5000;
  WorkerOutput a(8), b(8);  // small queues: producers block often
  TagCollector sink;
  FlowMerger m({&a, &b}, {&sink}, /*ordered=*/true);
  std::thread out([&] { m.Run(); });
  auto produce = [&](WorkerOutput& o, int w) {
    QueueExporter qx(o.queue, m.wake);
    uint8_t addr[16] = {};
    FlowView v;
    v.src = v.dst = addr;
    for (int i = 0; i < kPerWorker; ++i) {
      qx.tag = static_cast<uint64_t>(i / (2 + w));  // nondecreasing per worker, ties across workers
      v.first_ns = static_cast<int64_t>(qx.tag) * 4 + w;
      qx.Export(v);
      if (i % 7 == 0) {
        o.progress.v.store(qx.tag, std::memory_order_release);
        qx.Flush();
        m.wake.Notify();
      }
    }
    qx.Flush();
    o.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    m.wake.Notify();
  };
  std::thread p0([&] { produce(a, 0); }), p1([&] { produce(b, 1); });
  p0.join();
  p1.join();
  out.join();
  ASSERT_EQ(sink.got.size(), 2u * kPerWorker);
  EXPECT_TRUE(std::is_sorted(sink.got.begin(), sink.got.end()));
}

// The flows every worker flushes when the input ends share one tag; they are merged by start
// (tag2), so both workers' flushes interleave instead of the second waiting for the first.
TEST(FlowMerger, FinalFlushMergedByStart) {
  WorkerOutput a(8), b(8);
  TagCollector sink;
  FlowMerger m({&a, &b}, {&sink}, /*ordered=*/true);
  std::thread out([&] { m.Run(); });
  auto produce = [&](WorkerOutput& o, int w) {
    QueueExporter qx(o.queue, m.wake);
    uint8_t addr[16] = {};
    FlowView v;
    v.src = v.dst = addr;
    qx.tag = 10;
    for (int i = 0; i < 100; ++i) {  // flows ended at entry 10: worker order
      v.first_ns = w;
      qx.Export(v);
    }
    o.progress.v.store(1000, std::memory_order_release);
    qx.final_flush = true;
    qx.tag = 1000;
    for (int i = 0; i < 3000; ++i) {  // the final flush, start times interleaved across workers
      v.first_ns = -1000000 + 2 * i + w;  // negative times keep their order too
      qx.Export(v);
    }
    qx.Flush();
    o.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    m.wake.Notify();
  };
  std::thread p0([&] { produce(a, 0); }), p1([&] { produce(b, 1); });
  p0.join();
  p1.join();
  out.join();
  ASSERT_EQ(sink.got.size(), 6200u);
  for (size_t i = 0; i < 200; ++i) EXPECT_EQ(sink.got[i], i < 100 ? 0 : 1);
  for (size_t i = 200; i < sink.got.size(); ++i) ASSERT_EQ(sink.got[i], -1000000 + int64_t(i - 200)) << i;
}

// Cooperative mode's shape: no consumer thread; each producer empties the queues itself (under
// a try_lock) when its own is full and after it is done, until every flow has left in order.
TEST(FlowMerger, ProducersThatDrainThemselves) {
  constexpr int kPerWorker = 20000;
  WorkerOutput a(8), b(8);
  TagCollector sink;
  FlowMerger m({&a, &b}, {&sink}, /*ordered=*/true);
  std::mutex mu;
  struct Ctx {
    FlowMerger* m;
    std::mutex* mu;
    WorkerOutput* outs[2];
  } ctx{&m, &mu, {&a, &b}};
  // As the sharded replay's Cooperative::TryWrite: after releasing the lock, wake the producers
  // that may sleep on a full queue (one that found the lock taken would otherwise wait for a
  // Pop of its own queue that may never come: both producers asleep, both queues full).
  auto drain = [](void* p) {
    auto* c = static_cast<Ctx*>(p);
    std::unique_lock<std::mutex> lk(*c->mu, std::try_to_lock);
    if (!lk) return false;
    bool any = false;
    while (c->m->Step() == FlowMerger::StepResult::kEmitted) any = true;
    lk.unlock();
    for (WorkerOutput* o : c->outs) o->queue.space.Notify();
    return any;
  };
  auto produce = [&](WorkerOutput& o, int w) {
    QueueExporter qx(o.queue, m.wake);
    qx.SetDrain(drain, &ctx);
    uint8_t addr[16] = {};
    FlowView v;
    v.src = v.dst = addr;
    for (int i = 0; i < kPerWorker; ++i) {
      qx.tag = static_cast<uint64_t>(i / (2 + w));
      v.first_ns = static_cast<int64_t>(qx.tag) * 4 + w;
      qx.Export(v);
      if (i % 5 == 0) {
        o.progress.v.store(qx.tag, std::memory_order_release);
        m.wake.Notify();
      }
    }
    o.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    m.wake.Notify();
    for (;;) {  // help until every flow has left
      const uint32_t e = m.wake.Epoch();
      FlowMerger::StepResult r = FlowMerger::StepResult::kIdle;
      {
        std::unique_lock<std::mutex> lk(mu, std::try_to_lock);
        if (lk) {
          while ((r = m.Step()) == FlowMerger::StepResult::kEmitted) {
          }
          lk.unlock();
          a.queue.space.Notify();
          b.queue.space.Notify();
        }
      }
      if (r == FlowMerger::StepResult::kDone) {
        m.wake.Notify();  // the other producer may wait for the lock
        break;
      }
      if (r == FlowMerger::StepResult::kIdle) m.wake.Wait(e);
    }
  };
  std::thread p0([&] { produce(a, 0); }), p1([&] { produce(b, 1); });
  p0.join();
  p1.join();
  ASSERT_EQ(sink.got.size(), 2u * kPerWorker);
  EXPECT_TRUE(std::is_sorted(sink.got.begin(), sink.got.end()));
}

// A 341-column feature set (the ntl set's size, more than the old fixed 192-feature copy):
// every flow crosses the queue with all its values, none is dropped, and each slot is sized
// once, from the set Begin announced, when its first flow arrives (never again after that).
class FeatureCollector : public FlowExporter {
 public:
  void Export(const FlowView& v) override {
    ++flows;
    bool ok = v.features.size() == 341;
    for (size_t i = 0; ok && i < v.features.size(); ++i)
      ok = v.features[i].u == static_cast<uint64_t>(v.first_ns) * 1000 + i;
    if (!ok) ++bad;
  }
  uint64_t flows = 0, bad = 0;
};

TEST(FlowQueue, WideFeatureSetNeverDropped) {
  static const std::vector<FeatureInfo> cols(341, FeatureInfo{"x", FeatureType::kUnsigned, ""});
  const FeatureSet wide{"wide", std::span<const FeatureInfo>(cols)};
  constexpr int kFlows = 3000;
  WorkerOutput o(16);  // small: the producer waits for room often
  FeatureCollector sink;
  FlowMerger m({&o}, {&sink}, /*ordered=*/true);
  QueueExporter qx(o.queue, m.wake);
  qx.Begin(Profile::kCorrected, wide);
  EXPECT_EQ(o.queue.Allocations(), 0u);  // slots are sized when first used
  std::thread out([&] { m.Run(); });
  std::vector<FeatureValue> vals(341);
  uint8_t addr[16] = {};
  FlowView v;
  v.src = v.dst = addr;
  v.set = &wide;
  for (int f = 0; f < kFlows; ++f) {
    v.first_ns = f;
    for (size_t i = 0; i < vals.size(); ++i) vals[i] = FeatureValue::Uint(static_cast<uint64_t>(f) * 1000 + i);
    v.features = vals;
    qx.tag = static_cast<uint64_t>(f);
    qx.Export(v);
    if (f % 5 == 0) {
      o.progress.v.store(qx.tag, std::memory_order_release);
      qx.Flush();
    }
  }
  qx.Flush();
  o.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
  m.wake.Notify();
  out.join();
  EXPECT_EQ(sink.flows, static_cast<uint64_t>(kFlows));
  EXPECT_EQ(sink.bad, 0u);
  // Each of the 16 slots allocated its feature and decimal arrays once (set-sized), never again.
  EXPECT_EQ(o.queue.Allocations(), 2u * 16);
  EXPECT_EQ(o.queue.Front().cap_features, 341u);
}

// A flow wider than the queue was sized for (an exporter attached without Begin) still
// crosses whole: the slot grows once.
TEST(FlowQueue, UnreservedWideFlowGrowsSlot) {
  WorkerOutput o(4);
  FeatureCollector sink;
  FlowMerger m({&o}, {&sink}, /*ordered=*/true);
  QueueExporter qx(o.queue, m.wake);  // no Begin
  std::vector<FeatureValue> vals(341);
  for (size_t i = 0; i < vals.size(); ++i) vals[i] = FeatureValue::Uint(7000 + i);
  uint8_t addr[16] = {};
  FlowView v;
  v.src = v.dst = addr;
  v.first_ns = 7;
  v.features = vals;
  qx.Export(v);
  o.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
  m.Run();  // everything is queued: runs to the end on this thread
  EXPECT_EQ(sink.flows, 1u);
  EXPECT_EQ(sink.bad, 0u);
}

// CaptureSet: two files whose packets interleave in time are read in timestamp order.
std::string WritePcap(const std::string& name, const std::vector<std::pair<uint32_t, uint32_t>>& ts) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream f(path, std::ios::binary);
  const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
  f.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
  for (auto [s, us] : ts) {
    const uint32_t rec[4] = {s, us, 14, 14};
    f.write(reinterpret_cast<const char*>(rec), sizeof rec);
    const char eth[14] = {};
    f.write(eth, sizeof eth);
  }
  return path;
}

TEST(CaptureSet, MergesByTimestamp) {
  const std::string a = WritePcap("set_a.pcap", {{10, 0}, {12, 0}, {14, 0}});
  const std::string b = WritePcap("set_b.pcap", {{11, 0}, {12, 0}, {13, 0}});
  const std::string c = WritePcap("set_c.pcap", {{1, 0}});
  std::string err;
  auto set = CaptureSet::Open({b, a, c}, false, &err);
  ASSERT_TRUE(set) << err;
  std::vector<std::pair<uint64_t, std::string>> got;
  RawPacket raw;
  while (set->Next(&raw) == 1) got.emplace_back(raw.ts_ns / 1000000000, set->CurrentPath());
  const std::vector<std::pair<uint64_t, std::string>> want = {{1, c},  {10, a}, {11, b}, {12, a},
                                                              {12, b}, {13, b}, {14, a}};
  EXPECT_EQ(got, want);  // equal times: the file with the earlier first packet first
  EXPECT_EQ(set->BytesDone(), set->BytesTotal());
  EXPECT_TRUE(set->Errors().empty());
}

}  // namespace
}  // namespace nfm
