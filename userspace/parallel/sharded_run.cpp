// SPDX-License-Identifier: MIT
// RunOfflineSharded: reader -> broadcast ring of input batches -> N shard workers -> per-worker
// flow queues -> FlowMerger -> exporters. Who reads and who runs the merger: ChooseReadMode
// (cooperative: the workers themselves; pipelined: a reader thread, the caller's, and an
// output thread; replicated: every worker reads the whole input itself). The caller's thread
// is worker 0 in cooperative and replicated mode.
#include "parallel/sharded_run.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <concepts>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "engine/cic/cic_engine.hpp"
#include "engine/contract.hpp"
#include "engine/nfm_features.hpp"
#include "engine/flow_table.hpp"
#include "engine/ntl/ntl_engine.hpp"
#include "parallel/flow_merge.hpp"
#include "source/read_ahead.hpp"
#include "parallel/flow_queue.hpp"
#include "parallel/signal.hpp"
#include "source/capture_set.hpp"
#include "source/decode.hpp"
#include "source/offline_common.hpp"
#include "source/progress.hpp"

namespace nfm {

namespace {

constexpr uint32_t kBatch = 512;  // entries per input batch
constexpr uint32_t kRing = 32;    // input batches in flight
// Wake-ups are batched: the reader wakes sleeping workers, and a worker wakes the reader and
// the output thread, once per kNotifyEvery batches, and always before it sleeps itself (so no
// thread sleeps on work another sleeping thread holds back). Fewer futex calls and context
// switches, which cost most when threads outnumber CPUs.
constexpr uint32_t kNotifyEvery = 4;
static_assert(kNotifyEvery < kRing);
// Finished flows a worker may hold before the merge takes them: they leave in input order, so a
// worker up to kRing batches ahead of the other keeps its flows meanwhile (~3 % of entries end a
// flow on the dataset-sized capture: ~500 in 32 batches); with half as many a worker often waited
// for queue room. Slots are sized when first used.
constexpr uint32_t kOutQueue = 1024;
// Cooperative mode: a worker with fewer unprocessed batches than this reads more (up to
// kCoopReadBurst at a time, while the ring has room). Short turns at the reader, started well
// before the worker runs dry: the other worker rarely waits for input (docs/PERFORMANCE-HISTORY.md
// "Dataset-sized captures, the evening of 2026-12-07" has the variants measured).
constexpr uint64_t kCoopReadAhead = 12;
constexpr int kCoopReadBurst = 2;

// One input batch, written by the reader, then read (never written) by every worker.
// Entry j: the packet (or the skipped record), the shard that owns it and the watermark: the
// latest packet time among the entries up to j that advance the engine's clock.
struct InBatch {
  uint64_t first = 0;  // input index of entry 0 (the merge tag of flows ended at entry j is first + j)
  uint32_t n = 0;
  uint32_t n_skipped = 0;  // entries with skip != 0
  uint64_t wm[kBatch];
  uint8_t shard[kBatch];
  uint8_t skip[kBatch];  // 0: a decoded packet (OnPacket); else SkipReason + 1 (OnSkipped)
  PacketMeta pkt[kBatch];
  TunnelMeta tun[kBatch];  // --where-columns tunnel: entries whose pkt.tunnel != kTunnelNone
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

// Copies a decoded packet into its batch slot with non-temporal stores (x86-64): the slot's
// cache lines were last read by a worker on another core, so ordinary stores would first
// fetch each line back from that core and stall the reader (a pipelined reader spent 0.42 CPU s
// on 2 M packets that way, 0.25 s with these stores). The worker that processes the entry
// (the reader itself too, in cooperative mode) finds the line in memory instead, which its
// prefetch ahead (Worker::Process) hides. StoreFence: makes these stores visible before the
// batch is published (a release store does not order them).
inline void StreamStore(PacketMeta* dst, const PacketMeta& src) noexcept {
#if defined(__x86_64__)
  static_assert(sizeof(PacketMeta) % 8 == 0 && alignof(PacketMeta) >= 8);
  long long w[sizeof(PacketMeta) / 8];
  std::memcpy(w, &src, sizeof(w));
  long long* d = reinterpret_cast<long long*>(dst);
  for (size_t i = 0; i < sizeof(w) / 8; ++i) __builtin_ia32_movnti64(d + i, w[i]);
#else
  *dst = src;
#endif
}
inline void StoreFence() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_sfence();
#endif
}

// Maps the key hash to a worker (a multiplicative remix, so the table's index bits and the
// shard choice are independent).
double ThreadCpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Which threads read and write (see sharded_run.hpp). Cooperative (the default with 2
// or more workers): only the N workers; whichever runs dry reads the next batches and
// whichever gets to it writes the flows that can leave (a lock each, taken only by try_lock).
// Pipelined
// (NFM_SHARD_READ=pipelined): a reader thread, the workers and an output thread. Replicated
// (NFM_SHARD_READ=replicated, files only: stdin can be read once): every worker reads the
// whole input. The last two are for comparison (docs/PERFORMANCE.md "Threads"); all three
// give byte-identical output.
enum class ReadMode { kPipelined, kCooperative, kReplicated };

ReadMode ChooseReadMode(const OfflineOptions& opts, unsigned n_workers) {
  const char* env = std::getenv("NFM_SHARD_READ");
  const std::string_view want = env ? env : "";
  if (want == "replicated" && n_workers >= 2) {
    bool files = true;
    for (const std::string& p : OfflineInputs(opts)) files = files && p != "-";
    if (files) return ReadMode::kReplicated;
  }
  // One worker (a profile that cannot shard): reader, worker and writer threads are the only
  // way it uses more than one CPU.
  if (want == "pipelined" || n_workers == 1) return ReadMode::kPipelined;
  return ReadMode::kCooperative;
}

inline uint32_t ShardOf(uint64_t key_hash, uint32_t n) noexcept {
  const uint64_t x = (key_hash ^ (key_hash >> 29)) * 0xbf58476d1ce4e5b9ULL;
  return static_cast<uint32_t>(((x >> 32) * n) >> 32);
}

// Hash of the packet's canonical key (engine/flow_key.hpp): the same for both directions.
// CicEngine and NtlEngine key flows by the 5-tuple in either direction, so this keeps every
// packet of one of their flows in one shard.
uint64_t SymmetricKeyHash(const PacketMeta& p) noexcept { return CanonicalKeyHash(p); }

// Engines whose key hash the reader can compute (FlowEngine::KeyHash), so workers skip it.
template <class Engine>
constexpr bool kReaderHashes = requires(Profile profile, const PacketMeta& p) {
  { Engine::KeyHash(profile, p) } -> std::convertible_to<uint64_t>;
};

// Reads, decodes and shards input entries into batches: the reader thread's job in the
// pipelined mode, every worker's own job in the replicated mode (each reads the whole input
// and keeps its shard). Entry numbering, shards and watermarks depend only on the input, so
// both modes hand the workers the same entries.
template <class Engine>
struct BatchSource {
  BatchSource(CaptureSet& s, DecodeMode m, const TunnelConfig& t, Profile p, bool c, unsigned n)
      : set(s), mode(m), tunnels(t), profile(p), clocked(c), n_workers(n) {}
  CaptureSet& set;
  const DecodeMode mode;
  const TunnelConfig tunnels;
  const Profile profile;
  const bool clocked;
  const unsigned n_workers;
  LinkCensus links;
  RawPacket raw;
  PacketMeta m, second;  // stream_stores: decoded here, then streamed into the batch
  TunnelMeta tun;        // keep_tunnels: the tunnel of m, copied into the batch
  bool keep_tunnels = false;  // --where-columns tunnel (KeepsTunnels of the workers' engines)
  // Store packets into batches past the cache (StreamStore): for a reader thread that never
  // processes them. A reading worker keeps ordinary stores: it processes its own shard of the
  // batch next, and the other worker then takes the rest from this core's cache.
  bool stream_stores = false;
  uint64_t index = 0;    // input entries so far
  uint64_t wm = 0;       // watermark
  uint64_t records = 0;  // capture records read
  bool eof = false;

  // Fills b with the next entries (b.n may be 0 at the end). Sets eof at the end of input or
  // when `stop` is seen.
  void Fill(InBatch& b, const std::atomic<bool>& stop) {
    b.first = index;
    uint32_t n = 0, skipped = 0;
    while (n + 2 <= kBatch) {  // room for a frame's two packets (D20)
      if (set.Next(&raw) != 1) {
        eof = true;
        break;
      }
      ++records;
      bool has_second = false;
      // A reading worker decodes into the batch itself; a reader thread streams copies there.
      PacketMeta* const out0 = stream_stores ? &m : &b.pkt[n];
      PacketMeta* const out1 = stream_stores ? &second : &b.pkt[n + 1];
      const DecodeStatus st =
          DecodePacket(raw.link_type, raw.data, raw.cap_len, raw.wire_len, out0, out1, &has_second, mode, &tunnels,
                       keep_tunnels ? &tun : nullptr);
      for (int part = 0; part < (has_second ? 2 : 1); ++part) {
        PacketMeta& p = part == 1 ? *out1 : *out0;
        if (st == DecodeStatus::kOk || part == 1) {
          p.ts_ns = raw.ts_ns;
          p.ts_exp = raw.ts_exp;
          b.skip[n] = 0;
          if (stream_stores) b.shard[n] = Shard(p);  // else below, once the batch is decoded
          // Only packets the corrected engine puts into flows move its clock (OnPacket).
          if (clocked && !(p.flags & (kPktLaterFragment | kPktPortsMissing)) && p.ts_ns > wm) wm = p.ts_ns;
        } else {
          if (st == DecodeStatus::kUnsupportedLink) links.Count(raw.link_type, set);
          b.skip[n] = static_cast<uint8_t>(static_cast<int>(ToSkip(st)) + 1);
          ++skipped;
          b.shard[n] = static_cast<uint8_t>((index + n) % n_workers);
        }
        b.wm[n] = wm;
        if (keep_tunnels && p.tunnel != kTunnelNone) b.tun[n] = tun;
        if (stream_stores) StreamStore(&b.pkt[n], p);
        ++n;
      }
      if ((records & 0xfff) == 0 && stop.load(std::memory_order_relaxed)) {
        eof = true;
        break;
      }
    }
    // The key hashes of a whole batch in a loop of their own: each is a chain of dependent
    // multiplies, and here the core overlaps those of consecutive packets (between two
    // decodes it could not: half the time a packet). Ordinary stores only: the batch is still in
    // this core's cache.
    if (!stream_stores)
      for (uint32_t j = 0; j < n; ++j)
        if (b.skip[j] == 0) b.shard[j] = Shard(b.pkt[j]);
    b.n = n;
    b.n_skipped = skipped;
    index += n;
    StoreFence();
  }

  // The shard of a decoded packet; FlowEngine: also keeps the hash in it for the worker.
  uint8_t Shard(PacketMeta& p) const noexcept {
    uint64_t h;
    if constexpr (kReaderHashes<Engine>) {
      h = p.key_hash = Engine::KeyHash(profile, p);
      p.flags |= kPktKeyHashed;
    } else {
      h = SymmetricKeyHash(p);  // the engine hashes its own key (in the worker)
    }
    return static_cast<uint8_t>(ShardOf(h, n_workers));
  }
};

template <class Engine>
struct Worker {
  using Config = typename ShardConfig<Engine>::type;
  static constexpr bool kClock = ShardClockedEngine<Engine>;
  Worker(unsigned i, const Config& cfg, bool clocked_in, Shared& s, FlowMerger& m, WorkerOutput& o,
         ShardGauges* g)
      : id(i), engine(cfg), clocked(clocked_in), sh(s), merger(m), out(o), qx(o.queue, m.wake), gauges(g) {
    engine.AddExporter(qx);
    keep_tunnels = KeepsTunnels(engine);
  }
  unsigned id;
  Engine engine;
  const bool clocked;  // the engine expires flows by the clock (AdvanceTime does something)
  bool keep_tunnels = false;  // --where-columns tunnel: batches carry TunnelMeta (FeedPacket)
  Shared& sh;
  FlowMerger& merger;
  WorkerOutput& out;
  QueueExporter qx;
  ShardGauges* gauges;
  uint64_t end_tag = 0;  // set by the reader before `done`
  uint64_t clock_ = 0;   // the global clock (watermark) as far as this worker has read
  std::atomic<uint64_t> open_flows{0};  // for the progress line
  uint64_t input_waits = 0;

  // Feeds this worker's entries of b to its engine and replays the global clock between them.
  // Only this shard's entries are visited, plus the watermarks where a sweep is due: the
  // watermark never decreases (BatchSource::Fill), so the entry where the single engine would
  // have swept (the clock moved past this engine's QuietUntil) is the first whose watermark
  // exceeds both the clock so far and QuietUntil; it is looked for only when the watermark at
  // the next own entry (or at the batch's end) does.
  void Process(const InBatch& b) {
    // This worker's packets (for the prefetch a few ahead); its skipped records only count.
    uint16_t own[kBatch];
    uint32_t n_own = 0;
    for (uint32_t j = 0; j < b.n; ++j) {  // no branch on the shard: it is a coin toss
      own[n_own] = static_cast<uint16_t>(j);
      n_own += static_cast<uint32_t>(b.shard[j] == id) & static_cast<uint32_t>(b.skip[j] == 0);
    }
    if (b.n_skipped)
      for (uint32_t j = 0; j < b.n; ++j)
        if (b.shard[j] == id && b.skip[j]) engine.OnSkipped(static_cast<SkipReason>(b.skip[j] - 1), b.pkt[j].wire_len);
    uint64_t quiet = 0;
    if constexpr (kClock) quiet = engine.QuietUntil();
    uint32_t pos = 0;  // the entries before it moved the clock already
    // The global clock through entry `last` (inclusive): sweeps where the single engine would.
    auto clock_through = [&](uint32_t last) {
      if constexpr (kClock) {
        if (!clocked) return;
        while (b.wm[last] > std::max(clock_, quiet)) {
          uint32_t j = pos;
          while (b.wm[j] <= std::max(clock_, quiet)) ++j;  // stops at `last` at the latest
          clock_ = b.wm[j];
          qx.tag = b.first + j;
          engine.AdvanceTime(clock_);
          quiet = engine.QuietUntil();
          pos = j + 1;
        }
        clock_ = std::max(clock_, b.wm[last]);
      }
      pos = last + 1;
    };
    for (uint32_t k = 0; k < n_own; ++k) {
      const uint32_t j = own[k];
      clock_through(j);
      qx.tag = b.first + j;
      // FlowEngine: the reader hashed every packet (kPktKeyHashed), so these calls only read
      // the batch. NtlEngine's PrefetchIndex stores its key hash in this worker's own entry.
      if (k + 16 < n_own) {  // the entry itself
        const char* e = reinterpret_cast<const char*>(&b.pkt[own[k + 16]]);
        __builtin_prefetch(e);
        __builtin_prefetch(e + sizeof(PacketMeta) - 1);
      }
      if (k + 8 < n_own) engine.PrefetchIndex(const_cast<PacketMeta&>(b.pkt[own[k + 8]]));
      if (k + 4 < n_own) engine.PrefetchFlow(b.pkt[own[k + 4]]);
      if constexpr (kClock) {
        engine.SyncTime(clock_);  // OnPacket then sweeps only where the single engine would
        FeedPacket(engine, b.pkt[j], b.tun[j], keep_tunnels);
        quiet = engine.QuietUntil();
      } else {
        FeedPacket(engine, b.pkt[j], b.tun[j], keep_tunnels);
      }
    }
    if (b.n) clock_through(b.n - 1);
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

  // Cooperative mode (see ChooseReadMode): process what is there; when about to run dry, read
  // (c.TryRead); after each batch, write what can leave (c.TryWrite); sleep on merger.wake
  // (every state change below notifies it) only when none of the three could be done.
  template <class Coop>
  void RunCooperative(Coop& c) {
    uint64_t next = 0;
    for (;;) {
      const uint32_t e = merger.wake.Epoch();
      // The reading is serial (one worker at a time): copy the next input chunks in for it
      // first, off its path (ReadAhead's cooperative mode; nothing when there is none).
      bool worked = ReadAhead::TryFillAny();
      if (next < sh.produced.v.load(std::memory_order_acquire)) {
        const auto t0 = std::chrono::steady_clock::now();
        const InBatch& b = sh.ring[next % kRing];
        Process(b);
        ++next;
        sh.consumed[id].v.store(next, std::memory_order_release);
        out.progress.v.store(b.first + b.n, std::memory_order_release);
        qx.Flush();
        merger.wake.Notify();  // ring space, progress (the flows: Flush)
        PublishBatchGauges(t0);
        worked = true;
      }
      if (sh.produced.v.load(std::memory_order_acquire) - next < kCoopReadAhead) worked |= c.TryRead();
      worked |= c.TryWrite();
      if (sh.done.v.load(std::memory_order_acquire) && next == sh.produced.v.load(std::memory_order_acquire)) break;
      if (!worked) {
        ++input_waits;
        merger.wake.Wait(e);
      }
    }
    Finish();
    // Help write until every worker is done and every flow has left.
    for (;;) {
      const uint32_t e = merger.wake.Epoch();
      const FlowMerger::StepResult r = c.Write();
      if (r == FlowMerger::StepResult::kDone) break;
      if (r == FlowMerger::StepResult::kIdle) merger.wake.Wait(e);
    }
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
      ++input_waits;
      sh.input.Wait(e);
    }
    Finish();
  }

  // End of input: flush the engine (flows tagged after the last entry), report done.
  void Finish() {
    qx.tag = end_tag;
    qx.final_flush = true;
    engine.Flush(EndReason::kShutdown);
    qx.Flush();
    out.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    merger.wake.Notify();
    if (gauges) {
      gauges->open_flows[id].store(0, std::memory_order_relaxed);
      gauges->cpu_worker_s[id] = ThreadCpuSeconds();  // read after join
      gauges->worker_input_waits[id] = input_waits;
      gauges->worker_output_waits[id] = qx.waits;
    }
  }
};

// The shared state of cooperative mode: the reader's side (src, the ring's producing end, the
// progress line) under read_mu, the merger and the exporters under write_mu. Both are taken
// with try_lock only: a worker never waits for a lock, it does other work or sleeps on
// merger.wake, which every change that could give it work notifies.
template <class Engine>
struct Cooperative {
  Shared& sh;
  FlowMerger& merger;
  BatchSource<Engine>& src;
  std::vector<std::unique_ptr<Worker<Engine>>>& workers;
  const std::atomic<bool>& stop;
  ProgressLine& progress;
  const std::function<uint64_t()>& open_flows_total;
  ShardGauges* gauges;
  std::mutex read_mu{}, write_mu{};
  // Set by a worker that found the lock taken: the holder notifies merger.wake after it
  // releases the lock (only then, or a worker's own notification would end its wait at once).
  std::atomic<bool> read_wanted{false}, write_wanted{false};
  uint64_t produced = 0;  // under read_mu

  // Releases `lk` and wakes whoever found it taken meanwhile.
  void Release(std::unique_lock<std::mutex>& lk, std::atomic<bool>& wanted) {
    lk.unlock();
    if (wanted.exchange(false, std::memory_order_seq_cst)) merger.wake.Notify();
  }
  // try_lock that records a failure (see read_wanted).
  static bool Take(std::unique_lock<std::mutex>& lk, std::atomic<bool>& wanted) {
    if (lk.try_lock()) return true;
    wanted.store(true, std::memory_order_seq_cst);
    return false;
  }

  // Reads up to kCoopReadBurst batches while the ring has room. Whether anything changed.
  bool TryRead() {
    std::unique_lock<std::mutex> lk(read_mu, std::defer_lock);
    if (!Take(lk, read_wanted)) return false;
    if (sh.done.v.load(std::memory_order_relaxed)) {
      Release(lk, read_wanted);
      return false;
    }
    bool any = false;
    for (int i = 0; i < kCoopReadBurst && !src.eof; ++i) {
      uint64_t min_consumed = UINT64_MAX;
      for (unsigned w = 0; w < sh.workers; ++w)
        min_consumed = std::min(min_consumed, sh.consumed[w].v.load(std::memory_order_acquire));
      if (gauges) gauges->in_queue_depth.store(produced - min_consumed, std::memory_order_relaxed);
      if (produced - min_consumed >= kRing) break;
      InBatch& b = sh.ring[produced % kRing];
      src.Fill(b, stop);
      if (b.n) {
        sh.produced.v.store(++produced, std::memory_order_release);
        merger.wake.Notify();
        any = true;
      }
      if (progress.On()) progress.Update(src.set.BytesDone(), src.records, open_flows_total(), src.eof);
    }
    if (src.eof) {
      for (auto& w : workers) w->end_tag = src.index;  // read by each worker after `done`
      sh.done.v.store(true, std::memory_order_release);
      merger.wake.Notify();
      any = true;
    }
    Release(lk, read_wanted);
    return any;
  }
  // Hands every flow that can leave now to the exporters (unless another worker is at it).
  bool TryWrite() {
    std::unique_lock<std::mutex> lk(write_mu, std::defer_lock);
    if (!Take(lk, write_wanted)) return false;
    bool any = false;
    while (merger.Step() == FlowMerger::StepResult::kEmitted) any = true;
    Release(lk, write_wanted);
    WakeFullQueues();
    return any;
  }
  // After the write lock is released: a worker whose queue was full may have found the lock
  // taken (QueueExporter::Export's drain) and gone to sleep on its queue's `space`, which only
  // a Pop of its own queue would signal. If this holder popped nothing of it and then blocked
  // on its own full queue, both slept for good (seen once in 1,000s of runs). Every release
  // therefore wakes the queues' producers; a Notify without a sleeper is one atomic add.
  void WakeFullQueues() noexcept {
    for (auto& w : workers) w->out.queue.space.Notify();
  }
  // TryWrite for a worker that has finished: kDone when every worker has and no flow is left.
  FlowMerger::StepResult Write() {
    std::unique_lock<std::mutex> lk(write_mu, std::defer_lock);
    if (!Take(lk, write_wanted)) return FlowMerger::StepResult::kIdle;  // the holder notifies
    FlowMerger::StepResult r;
    while ((r = merger.Step()) == FlowMerger::StepResult::kEmitted) {
    }
    Release(lk, write_wanted);
    WakeFullQueues();
    if (r == FlowMerger::StepResult::kDone) merger.wake.Notify();  // the other finished workers
    return r;
  }
  // A worker whose flow queue is full empties queues itself (QueueExporter::SetDrain).
  static bool Drain(void* self) { return static_cast<Cooperative*>(self)->TryWrite(); }
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
  OfflineResult res;
  // opts.inputs is written by this (reader) thread; the caller reads it after the run (manifest).
  auto set = OpenInputs(opts, true, res);
  if (!set) return res;
  n_workers = std::clamp(n_workers, 1u, 64u);
  typename ShardConfig<Engine>::type cfg = cfg_in;
  EngineConfig& base = BaseConfig(cfg);
  base.max_flows = std::max<uint64_t>(1, base.max_flows / n_workers);
  // Engines whose clock expires flows (AdvanceTime): the reader's watermark matters to them.
  // FlowEngine corrected: packets it puts into flows move its clock. The profiles that end
  // flows lazily say so (opts.shared_clock false); the corrected CIC set runs one worker, whose
  // own packets drive its sweeps.
  const bool clocked = ShardClockedEngine<Engine> && opts.shared_clock;
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
  const DecodeMode mode = opts.decode;
  BatchSource<Engine> src(*set, mode, opts.tunnels, base.profile, clocked, n_workers);
  src.keep_tunnels = workers[0]->keep_tunnels;
  // Replicated reading: every worker reads the input itself (files only: stdin is read once).
  std::vector<std::unique_ptr<CaptureSet>> sets;
  std::vector<std::unique_ptr<BatchSource<Engine>>> srcs;
  const ReadMode read_mode = ChooseReadMode(opts, n_workers);
  const bool replicated = read_mode == ReadMode::kReplicated;
  const bool cooperative = read_mode == ReadMode::kCooperative;
  src.stream_stores = read_mode == ReadMode::kPipelined;
  if (replicated) {
    for (unsigned i = 1; i < n_workers; ++i) {
      sets.push_back(OpenInputs(opts, false, res));
      if (!sets.back()) return res;  // opened once already: a file vanished meanwhile
      srcs.push_back(std::make_unique<BatchSource<Engine>>(*sets.back(), mode, opts.tunnels, base.profile, clocked, n_workers));
      srcs.back()->keep_tunnels = workers[0]->keep_tunnels;
    }
  }
  // Spinning before a sleep helps only when every thread has a CPU.
  const unsigned n_threads = n_workers + (read_mode == ReadMode::kPipelined ? 2 : replicated ? 1 : 0);
  Signal::SetSpin(AvailableCpus() >= n_threads ? 128 : 0);

  std::vector<std::thread> threads;
  std::function<uint64_t()> open_flows_total = [&] {
    uint64_t open = 0;
    for (auto& w : workers) open += w->open_flows.load(std::memory_order_relaxed);
    return open;
  };
  const auto start = std::chrono::steady_clock::now();
  ProgressLine progress(opts.progress, opts.progress_force, set->BytesTotal());
  Cooperative<Engine> coop{sh, merger, src, workers, stop, progress, open_flows_total, gauges};
  if (cooperative)
    for (auto& w : workers) w->qx.SetDrain(&Cooperative<Engine>::Drain, &coop);
  try {
    if (!cooperative) {
      threads.emplace_back([&] {
        merger.Run();
        if (gauges) {
          gauges->cpu_output_s = ThreadCpuSeconds();
          gauges->output_waits = merger.sleeps;
        }
      });
    }
    if (replicated) {  // worker 0 is this thread (below)
      for (unsigned i = 1; i < n_workers; ++i)
        threads.emplace_back([wp = workers[i].get(), sp = srcs[i - 1].get(), &stop, &open_flows_total] {
          wp->RunReading(*sp, stop, nullptr, open_flows_total);
        });
    } else if (cooperative) {  // worker 0 is this thread (below)
      for (unsigned i = 1; i < n_workers; ++i)
        threads.emplace_back([wp = workers[i].get(), &coop] { wp->RunCooperative(coop); });
    } else {
      for (auto& w : workers) threads.emplace_back([wp = w.get()] { wp->Run(); });
    }
  } catch (const std::system_error& e) {
    // Cannot start every thread. Started pipelined workers see `done` and end (nothing was
    // read); started cooperative workers may have read and processed a few batches (their
    // flows are written) and then see `done`; the others are marked done for the merger.
    // Started replicated workers read to the end (`stop` is not ours to set) and are joined.
    // The run fails (exit 1) either way.
    if (cooperative) {
      std::lock_guard<std::mutex> lk(coop.read_mu);
      for (auto& w : workers) w->end_tag = 0;
      sh.done.v.store(true, std::memory_order_release);  // before any worker can read
    }
    const size_t started_workers = threads.size() - (!cooperative && !threads.empty() ? 1 : 0);
    for (size_t i = started_workers + (replicated || cooperative ? 1 : 0); i < outs.size(); ++i)
      outs[i]->progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    if (replicated || cooperative) outs[0]->progress.v.store(WorkerOutput::kDone, std::memory_order_release);
    sh.done.v.store(true, std::memory_order_release);
    sh.input.Notify();
    merger.wake.Notify();
    for (auto& t : threads) t.join();
    res.exit_code = 1;
    res.error = std::string("start worker threads: ") + e.what() + "; try --threads 1";
    return res;
  }

  if (replicated) {
    // This thread is worker 0: with the manifest's input bookkeeping and the progress line.
    workers[0]->RunReading(src, stop, &progress, open_flows_total);
    for (auto& t : threads) t.join();
  } else if (cooperative) {
    workers[0]->RunCooperative(coop);
    for (auto& t : threads) t.join();
  } else {
    uint64_t produced = 0;
    uint64_t reader_waits = 0;
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
        ++reader_waits;
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
    if (gauges) {
      gauges->cpu_reader_s = ThreadCpuSeconds();
      gauges->reader_waits = reader_waits;
    }
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
