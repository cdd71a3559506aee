// SPDX-License-Identifier: MIT
// RunOfflineSharded: reader (caller's thread) -> broadcast ring of input batches -> N shard
// workers -> per-worker flow queues -> FlowMerger thread -> exporters. Replicated mode
// (NFM_SHARD_READ=replicated): no reader thread; every worker reads and decodes the whole input
// with its own CaptureSet and keeps its shard's entries (the caller's thread is worker 0).
#include "parallel/sharded_offline.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "engine/cic_engine.hpp"
#include "engine/feature_sets.hpp"
#include "engine/flow_table.hpp"
#include "engine/ntl_engine.hpp"
#include "parallel/flow_merge.hpp"
#include "parallel/flow_queue.hpp"
#include "parallel/signal.hpp"
#include "source/capture_set.hpp"
#include "source/decode.hpp"
#include "source/decode_ntl.hpp"
#include "source/offline_common.hpp"
#include "source/progress.hpp"

namespace nfm {

namespace {

constexpr uint32_t kBatch = 512;  // entries per input batch
constexpr uint32_t kRing = 16;    // input batches in flight
// Wake-ups are batched: the reader wakes sleeping workers, and a worker wakes the reader and
// the output thread, once per kNotifyEvery batches, and always before it sleeps itself (so no
// thread sleeps on work another sleeping thread holds back). Fewer futex calls and context
// switches, which cost most when threads outnumber CPUs.
constexpr uint32_t kNotifyEvery = 4;
static_assert(kNotifyEvery < kRing);
constexpr uint32_t kOutQueue = 512;

// One input batch, written by the reader, then read (never written) by every worker.
// Entry j: the packet (or the skipped record), the shard that owns it and the watermark: the
// latest packet time among the entries up to j that advance the engine's clock.
struct InBatch {
  uint64_t first = 0;  // input index of entry 0 (the merge tag of flows ended at entry j is first + j)
  uint32_t n = 0;
  uint64_t wm[kBatch];
  uint8_t shard[kBatch];
  uint8_t skip[kBatch];  // 0: a decoded packet (OnPacket); else SkipReason + 1 (OnSkipped)
  PacketMeta pkt[kBatch];
};

struct Shared {
  explicit Shared(unsigned n) : workers(n), ring(std::make_unique<InBatch[]>(kRing)) {}
  unsigned workers;
  std::unique_ptr<InBatch[]> ring;
  Padded<uint64_t> produced;  // batches published
  Padded<bool> done;          // no batch after `produced`
  Padded<uint64_t> consumed[64];
  Signal input;       // reader -> workers: a batch was published (or done)
  Signal ring_space;  // workers -> reader: a batch was consumed
};

// Maps the key hash to a worker (a multiplicative remix, so the table's index bits and the
// shard choice are independent).
double ThreadCpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Whether every worker reads the input itself (see sharded_offline.hpp): only when the
// environment asks for it (NFM_SHARD_READ=replicated; docs/PERFORMANCE.md "Threads") and every
// input is a file (stdin can be read once).
bool ReplicatedReading(const OfflineOptions& opts, unsigned n_workers) {
  const char* env = std::getenv("NFM_SHARD_READ");
  if (n_workers < 2 || env == nullptr || std::strcmp(env, "replicated") != 0) return false;
  for (const std::string& p : OfflineInputs(opts))
    if (p == "-") return false;
  return true;
}

inline uint32_t ShardOf(uint64_t key_hash, uint32_t n) noexcept {
  const uint64_t x = (key_hash ^ (key_hash >> 29)) * 0xbf58476d1ce4e5b9ULL;
  return static_cast<uint32_t>(((x >> 32) * n) >> 32);
}

// Hash of the packet's unordered (address, port) pair and protocol: the same for both
// directions. CicEngine and NtlEngine key flows by the 5-tuple in either direction, so this
// keeps every packet of one of their flows in one shard.
uint64_t SymmetricKeyHash(const PacketMeta& p) noexcept {
  FlowKey k{};
  const int c = std::memcmp(p.saddr, p.daddr, 16);
  const bool swap = c > 0 || (c == 0 && p.sport > p.dport);
  std::memcpy(k.a, swap ? p.daddr : p.saddr, 16);
  std::memcpy(k.b, swap ? p.saddr : p.daddr, 16);
  k.pa = swap ? p.dport : p.sport;
  k.pb = swap ? p.sport : p.dport;
  k.proto = p.proto;
  return k.Hash();
}

// Reads, decodes and shards input entries into batches: the reader thread's job in the
// pipelined mode, every worker's own job in the replicated mode (each reads the whole input
// and keeps its shard). Entry numbering, shards and watermarks depend only on the input, so
// both modes hand the workers the same entries.
template <class Engine>
struct BatchSource {
  static constexpr bool kFlowEngine = std::is_same_v<Engine, FlowEngine>;
  static constexpr bool kNtl = std::is_same_v<Engine, NtlEngine>;
  BatchSource(CaptureSet& s, DecodeMode m, Profile p, bool c, unsigned n)
      : set(s), mode(m), profile(p), clocked(c), n_workers(n) {}
  CaptureSet& set;
  const DecodeMode mode;
  const Profile profile;
  const bool clocked;
  const unsigned n_workers;
  LinkCensus links;
  RawPacket raw;
  PacketMeta second;
  uint64_t index = 0;    // input entries so far
  uint64_t wm = 0;       // watermark
  uint64_t records = 0;  // capture records read
  bool eof = false;

  // Fills b with the next entries (b.n may be 0 at the end). Sets eof at the end of input or
  // when `stop` is seen.
  void Fill(InBatch& b, const std::atomic<bool>& stop) {
    b.first = index;
    uint32_t n = 0;
    while (n + 2 <= kBatch) {  // room for a frame's two packets (D20)
      if (set.Next(&raw) != 1) {
        eof = true;
        break;
      }
      ++records;
      bool has_second = false;
      PacketMeta& m = b.pkt[n];
      const DecodeStatus st =
          kNtl ? DecodePacketNtl(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &m)
               : DecodePacket2022(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &m, &second, &has_second,
                                  mode);
      for (int part = 0; part < (has_second ? 2 : 1); ++part) {
        PacketMeta& p = b.pkt[n];
        if (part == 1) p = second;
        if (st == DecodeStatus::kOk || part == 1) {
          p.ts_ns = raw.ts_ns;
          p.ts_exp = raw.ts_exp;
          uint64_t h;
          if constexpr (kFlowEngine) {
            h = p.key_hash = FlowEngine::KeyHash(profile, p);
            p.flags |= kPktKeyHashed;
          } else {
            h = SymmetricKeyHash(p);  // the engine hashes its own key (in the worker)
          }
          b.skip[n] = 0;
          b.shard[n] = static_cast<uint8_t>(ShardOf(h, n_workers));
          // Only packets the corrected engine puts into flows move its clock (OnPacket).
          if (clocked && !(p.flags & (kPktLaterFragment | kPktPortsMissing)) && p.ts_ns > wm) wm = p.ts_ns;
        } else {
          if (st == DecodeStatus::kUnsupportedLink) links.Count(raw.link_type, set);
          b.skip[n] = static_cast<uint8_t>(static_cast<int>(ToSkip(st)) + 1);
          b.shard[n] = static_cast<uint8_t>((index + n) % n_workers);
        }
        b.wm[n] = wm;
        ++n;
      }
      if ((records & 0xfff) == 0 && stop.load(std::memory_order_relaxed)) {
        eof = true;
        break;
      }
    }
    b.n = n;
    index += n;
  }
};

template <class Engine>
struct Worker {
  using Config = typename ShardConfig<Engine>::type;
  static constexpr bool kFlowEngine = std::is_same_v<Engine, FlowEngine>;
  Worker(unsigned i, const Config& cfg, bool clocked_in, Shared& s, FlowMerger& m, WorkerOutput& o,
         ShardGauges* g)
      : id(i), engine(cfg), clocked(clocked_in), sh(s), merger(m), out(o), qx(o.queue, m.wake), gauges(g) {
    engine.AddExporter(qx);
  }
  unsigned id;
  Engine engine;
  const bool clocked;  // the engine expires flows by the clock (AdvanceTime does something)
  Shared& sh;
  FlowMerger& merger;
  WorkerOutput& out;
  QueueExporter qx;
  ShardGauges* gauges;
  uint64_t end_tag = 0;  // set by the reader before `done`
  uint64_t clock_ = 0;   // the global clock (watermark) as far as this worker has read
  std::atomic<uint64_t> open_flows{0};  // for the progress line

  void Process(const InBatch& b) {
    // This worker's entries, for prefetching a few packets ahead.
    uint16_t own[kBatch];
    uint32_t n_own = 0;
    for (uint32_t j = 0; j < b.n; ++j)
      if (b.shard[j] == id && b.skip[j] == 0) own[n_own++] = static_cast<uint16_t>(j);
    uint32_t k = 0;
    uint64_t quiet = 0;
    if constexpr (kFlowEngine) quiet = engine.QuietUntil();
    for (uint32_t j = 0; j < b.n; ++j) {
      const uint64_t wm = b.wm[j];
      qx.tag = b.first + j;
      // The single engine sweeps exactly when its clock moves forward, before the packet that
      // moves it: do the same where the global clock moves and this shard has something due.
      if constexpr (kFlowEngine) {
        if (clocked && wm > clock_) {
          clock_ = wm;
          if (wm > quiet) {
            engine.AdvanceTime(wm);
            quiet = engine.QuietUntil();
          }
        }
      }
      if (b.shard[j] != id) continue;
      if (b.skip[j]) {
        engine.OnSkipped(static_cast<SkipReason>(b.skip[j] - 1), b.pkt[j].wire_len);
        continue;
      }
      // FlowEngine: the reader hashed every packet (kPktKeyHashed), so these calls only read
      // the batch. NtlEngine's PrefetchIndex stores its key hash in this worker's own entry.
      if (k + 8 < n_own) engine.PrefetchIndex(const_cast<PacketMeta&>(b.pkt[own[k + 8]]));
      if (k + 4 < n_own) engine.PrefetchFlow(b.pkt[own[k + 4]]);
      ++k;
      if constexpr (kFlowEngine) {
        engine.SyncTime(clock_);  // OnPacket then sweeps only where the single engine would
        engine.OnPacket(b.pkt[j]);
        quiet = engine.QuietUntil();
      } else {
        engine.OnPacket(b.pkt[j]);
      }
    }
  }

  // After each batch: open flows (progress line) and the metrics gauges (t0: batch start).
  void PublishBatchGauges(std::chrono::steady_clock::time_point t0) noexcept {
    open_flows.store(engine.Stats().flows_active, std::memory_order_relaxed);
    if (!gauges) return;
    gauges->open_flows[id].store(engine.Stats().flows_active, std::memory_order_relaxed);
    gauges->out_queue_depth[id].store(out.queue.Depth(), std::memory_order_relaxed);
    gauges->busy_ns[id].fetch_add(
        static_cast<uint64_t>(std::chrono::nanoseconds(std::chrono::steady_clock::now() - t0).count()),
        std::memory_order_relaxed);
  }

  // Replicated mode: this worker reads the whole input itself (src) and processes its shard.
  // `progress` (worker 0 only) is refreshed once per batch.
  void RunReading(BatchSource<Engine>& src, const std::atomic<bool>& stop, ProgressLine* progress,
                  const std::function<uint64_t()>& open_flows_total) {
    auto b = std::make_unique<InBatch>();
    uint32_t unnotified = 0;
    while (!src.eof) {
      const auto t0 = std::chrono::steady_clock::now();
      src.Fill(*b, stop);
      Process(*b);
      out.progress.v.store(b->first + b->n, std::memory_order_release);
      if (++unnotified == kNotifyEvery) {
        unnotified = 0;
        qx.Flush();
        merger.wake.Notify();
      }
      PublishBatchGauges(t0);
      if (progress && progress->On())
        progress->Update(src.set.BytesDone(), src.records, open_flows_total(), src.eof);
    }
    end_tag = src.index;
    Finish();
  }

  // Wakes the reader (ring space) and the output thread (flows, progress) if they sleep.
  void NotifyOthers() noexcept {
    sh.ring_space.Notify();
    qx.Flush();  // wakes the output thread if flows were pushed
    merger.wake.Notify();
  }

  void Run() {
    uint64_t next = 0;
    uint32_t unnotified = 0;
    for (;;) {
      const uint32_t e = sh.input.Epoch();
      const uint64_t avail = sh.produced.v.load(std::memory_order_acquire);
      if (next < avail) {
        const auto t0 = std::chrono::steady_clock::now();
        const InBatch& b = sh.ring[next % kRing];
        Process(b);
        const uint64_t progress = b.first + b.n;
        ++next;
        sh.consumed[id].v.store(next, std::memory_order_release);
        out.progress.v.store(progress, std::memory_order_release);
        if (++unnotified == kNotifyEvery) {
          unnotified = 0;
          NotifyOthers();
        }
        PublishBatchGauges(t0);
        continue;
      }
      if (unnotified) {  // before sleeping (or ending)
        unnotified = 0;
        NotifyOthers();
      }
      if (sh.done.v.load(std::memory_order_acquire) && next == sh.produced.v.load(std::memory_order_acquire)) break;
      sh.input.Wait(e);
    }
    Finish();
  }

  // End of input: flush the engine (flows tagged after the last entry), report done.
  void Finish() {
    qx.tag = end_tag;
    engine.Flush(EndReason::kShutdown);
    qx.Flush();
    out.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    merger.wake.Notify();
    if (gauges) {
      gauges->open_flows[id].store(0, std::memory_order_relaxed);
      gauges->cpu_worker_s[id] = ThreadCpuSeconds();  // read after join
    }
  }
};

}  // namespace

void AddStats(EngineStats& to, const EngineStats& s) {
  to.packets += s.packets;
  to.bytes += s.bytes;
  to.packets_in_flows += s.packets_in_flows;
  for (int i = 0; i < static_cast<int>(SkipReason::kCount); ++i) to.skipped[i] += s.skipped[i];
  to.flows_created += s.flows_created;
  for (int i = 0; i < static_cast<int>(EndReason::kCount); ++i) to.flows_exported[i] += s.flows_exported[i];
  to.flows_active += s.flows_active;
  to.table_capacity += s.table_capacity;
  to.out_of_order += s.out_of_order;
  to.list_capped_flows += s.list_capped_flows;
}

unsigned AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

unsigned ShardWorkersFor(Profile profile, unsigned requested) {
  if (requested < 1) return 1;
  if (profile != Profile::kCorrected) return 1;  // loose lookup: see docs/ARCHITECTURE.md
  return std::min(requested, 64u);
}

unsigned CicShardWorkersFor(Profile profile, unsigned requested) {
  if (requested < 1) return 1;
  if (profile != Profile::kCic) return 1;  // sweeps at each packet's own time: see the header
  return std::min(requested, 64u);
}

namespace {
EngineConfig& BaseConfig(EngineConfig& c) { return c; }
EngineConfig& BaseConfig(NtlConfig& c) { return c.base; }
void AddNtlStats(const FlowEngine&, NtlStats*) {}
void AddNtlStats(const CicEngine&, NtlStats*) {}
void AddNtlStats(const NtlEngine& e, NtlStats* to) {
  if (!to) return;
  to->capped_flows += e.Ntl().capped_flows;
  to->list_bytes_peak += e.Ntl().list_bytes_peak;
}

template <class Engine>
OfflineResult RunSharded(const OfflineOptions& opts, const typename ShardConfig<Engine>::type& cfg_in,
                         unsigned n_workers, const std::vector<FlowExporter*>& exporters,
                         const std::atomic<bool>& stop, EngineStats* total, ShardGauges* gauges,
                         NtlStats* ntl_total) {
  constexpr bool kFlowEngine = std::is_same_v<Engine, FlowEngine>;
  OfflineResult res;
  // opts.inputs is written by this (reader) thread; the caller reads it after the run (manifest).
  auto set = OpenInputs(opts, true, res);
  if (!set) return res;
  n_workers = std::clamp(n_workers, 1u, 64u);
  typename ShardConfig<Engine>::type cfg = cfg_in;
  EngineConfig& base = BaseConfig(cfg);
  base.max_flows = std::max<uint64_t>(1, base.max_flows / n_workers);
  // Engines whose clock expires flows (AdvanceTime): the reader's watermark matters to them.
  // FlowEngine corrected: packets it puts into flows move its clock. The nfm2022 profiles, the
  // CIC reference and NTL end flows lazily; the corrected CIC set runs one worker
  // (CicShardWorkersFor), whose own packets drive its sweeps.
  const bool clocked = kFlowEngine && base.profile == Profile::kCorrected;
  if (gauges) gauges->workers = n_workers;

  Shared sh(n_workers);
  std::vector<std::unique_ptr<WorkerOutput>> outs;
  std::vector<WorkerOutput*> out_ptrs;
  for (unsigned i = 0; i < n_workers; ++i) {
    outs.push_back(std::make_unique<WorkerOutput>(kOutQueue));
    out_ptrs.push_back(outs.back().get());
  }
  FlowMerger merger(out_ptrs, exporters, /*ordered=*/true);
  // The first exporter that can render on other threads (CSV) renders on the workers: the
  // output thread then only copies its bytes (it was the busiest thread with many short flows).
  RenderingExporter* pre = nullptr;
  for (FlowExporter* x : exporters)
    if ((pre = dynamic_cast<RenderingExporter*>(x)) != nullptr) break;
  if (pre) merger.SetPreRendered(pre);
  std::vector<std::unique_ptr<Worker<Engine>>> workers;
  std::vector<std::unique_ptr<FlowRenderer>> renderers;
  for (unsigned i = 0; i < n_workers; ++i) {
    workers.push_back(std::make_unique<Worker<Engine>>(i, cfg, clocked, sh, merger, *outs[i], gauges));
    if (pre) {
      renderers.push_back(pre->MakeRenderer());
      workers.back()->qx.SetRenderer(renderers.back().get(), /*copy_features=*/exporters.size() > 1);
    }
  }
  const DecodeMode mode = opts.cic_decode     ? DecodeMode::kCic
                         : opts.scapy_decode ? DecodeMode::kScapy2022
                                             : DecodeMode::kStrict;
  BatchSource<Engine> src(*set, mode, base.profile, clocked, n_workers);
  // Replicated reading: every worker reads the input itself (files only: stdin is read once).
  std::vector<std::unique_ptr<CaptureSet>> sets;
  std::vector<std::unique_ptr<BatchSource<Engine>>> srcs;
  const bool replicated = ReplicatedReading(opts, n_workers);
  if (replicated) {
    for (unsigned i = 1; i < n_workers; ++i) {
      sets.push_back(OpenInputs(opts, false, res));
      if (!sets.back()) return res;  // opened once already: a file vanished meanwhile
      srcs.push_back(std::make_unique<BatchSource<Engine>>(*sets.back(), mode, base.profile, clocked, n_workers));
    }
  }
  // Spinning before a sleep helps only when every thread has a CPU: reader, workers, output.
  Signal::SetSpin(AvailableCpus() >= n_workers + (replicated ? 1 : 2) ? 128 : 0);

  std::vector<std::thread> threads;
  std::function<uint64_t()> open_flows_total = [&] {
    uint64_t open = 0;
    for (auto& w : workers) open += w->open_flows.load(std::memory_order_relaxed);
    return open;
  };
  try {
    threads.emplace_back([&] {
      merger.Run();
      if (gauges) gauges->cpu_output_s = ThreadCpuSeconds();
    });
    if (replicated) {  // worker 0 is this thread (below)
      for (unsigned i = 1; i < n_workers; ++i)
        threads.emplace_back([wp = workers[i].get(), sp = srcs[i - 1].get(), &stop, &open_flows_total] {
          wp->RunReading(*sp, stop, nullptr, open_flows_total);
        });
    } else {
      for (auto& w : workers) threads.emplace_back([wp = w.get()] { wp->Run(); });
    }
  } catch (const std::system_error& e) {
    // Cannot start every thread: nothing was read yet. Started (pipelined) workers see `done`
    // and end; the others are marked done for the merger. Started replicated workers read to
    // the end (`stop` is not ours to set) and are joined.
    const size_t started_workers = threads.empty() ? 0 : threads.size() - 1;
    for (size_t i = started_workers + (replicated ? 1 : 0); i < outs.size(); ++i)
      outs[i]->progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    if (replicated) outs[0]->progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    sh.done.v.store(true, std::memory_order_release);
    sh.input.Notify();
    merger.wake.Notify();
    for (auto& t : threads) t.join();
    res.exit_code = 1;
    res.error = std::string("start worker threads: ") + e.what() + "; try --threads 1";
    return res;
  }

  const auto start = std::chrono::steady_clock::now();
  ProgressLine progress(opts.progress, opts.progress_force, set->BytesTotal());
  if (replicated) {
    // This thread is worker 0: with the manifest's input bookkeeping and the progress line.
    workers[0]->RunReading(src, stop, &progress, open_flows_total);
    for (auto& t : threads) t.join();
  } else {
    uint64_t produced = 0;
    uint64_t notified = 0;  // batches the workers were woken for
    while (!src.eof) {
      // Wait for a free slot: every worker has consumed the batch kRing ago.
      for (;;) {
        const uint32_t e = sh.ring_space.Epoch();
        uint64_t min_consumed = UINT64_MAX;
        for (unsigned i = 0; i < n_workers; ++i)
          min_consumed = std::min(min_consumed, sh.consumed[i].v.load(std::memory_order_acquire));
        if (gauges) gauges->in_queue_depth.store(produced - min_consumed, std::memory_order_relaxed);
        if (produced - min_consumed < kRing) break;
        if (produced != notified) {  // the workers must see every batch before the reader sleeps
          notified = produced;
          sh.input.Notify();
        }
        sh.ring_space.Wait(e);
      }
      InBatch& b = sh.ring[produced % kRing];
      src.Fill(b, stop);
      if (b.n) {
        ++produced;
        sh.produced.v.store(produced, std::memory_order_release);
        if (produced - notified >= kNotifyEvery) {
          notified = produced;
          sh.input.Notify();
        }
      }
      if (progress.On()) progress.Update(set->BytesDone(), src.records, open_flows_total(), src.eof);
    }
    if (gauges) gauges->cpu_reader_s = ThreadCpuSeconds();
    for (auto& w : workers) w->end_tag = src.index;  // read by the workers after `done`
    sh.done.v.store(true, std::memory_order_release);
    sh.input.Notify();
    for (auto& t : threads) t.join();
  }
  res.records = src.records;
  progress.Clear();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EngineStats sum;
  for (auto& w : workers) {
    AddStats(sum, w->engine.Stats());
    AddNtlStats(w->engine, ntl_total);
  }
  if (total) *total = sum;
  set->FinishInputs();
  FinishResult(*set, src.links, res);
  return res;
}

}  // namespace

template <class Engine>
OfflineResult RunOfflineSharded(const OfflineOptions& opts, const typename ShardConfig<Engine>::type& cfg,
                                unsigned n_workers, const std::vector<FlowExporter*>& exporters,
                                const std::atomic<bool>& stop, EngineStats* total, ShardGauges* gauges,
                                NtlStats* ntl_total) {
  return RunSharded<Engine>(opts, cfg, n_workers, exporters, stop, total, gauges, ntl_total);
}

template OfflineResult RunOfflineSharded<FlowEngine>(const OfflineOptions&, const EngineConfig&, unsigned,
                                                     const std::vector<FlowExporter*>&, const std::atomic<bool>&,
                                                     EngineStats*, ShardGauges*, NtlStats*);
template OfflineResult RunOfflineSharded<CicEngine>(const OfflineOptions&, const EngineConfig&, unsigned,
                                                    const std::vector<FlowExporter*>&, const std::atomic<bool>&,
                                                    EngineStats*, ShardGauges*, NtlStats*);
template OfflineResult RunOfflineSharded<NtlEngine>(const OfflineOptions&, const NtlConfig&, unsigned,
                                                    const std::vector<FlowExporter*>&, const std::atomic<bool>&,
                                                    EngineStats*, ShardGauges*, NtlStats*);

}  // namespace nfm
