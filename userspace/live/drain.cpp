// SPDX-License-Identifier: MIT
// Ring drain: libbpf ring_buffer with one callback for every shard. The callback is
// noexcept: DispatchSample (live/sample_dispatch.hpp) checks and decodes the record and calls
// the engine.
#include "drain.hpp"

#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include <chrono>

#include <cstddef>
#include <cstring>

#include "bpf_util.hpp"
#include "output/dataset_columns.hpp"
#include "engine/nfm_features.hpp"
#include "event_decode.hpp"
#include "live/sample_dispatch.hpp"
#include "parallel/flow_merge.hpp"
#include "parallel/flow_queue.hpp"
#include "parallel/sharded_run.hpp"  // AddStats

namespace nfm::live {

Drainer::Drainer(const std::vector<int>& ring_fds, uint32_t ring_size, PacketTarget target)
    : target_(target), ring_size_(ring_size), page_size_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
  for (size_t i = 0; i < ring_fds.size(); ++i) {
    if (i == 0) {
      rb_ = ring_buffer__new(ring_fds[0], &Drainer::OnSample, this, nullptr);
      if (!rb_) {
        const int err = errno;
        throw BpfError("open", "ring buffer 0", err);
      }
    } else {
      const int err = ring_buffer__add(rb_, ring_fds[i], &Drainer::OnSample, this);
      if (err) {
        ring_buffer__free(rb_);
        throw BpfError("open", "ring buffer " + std::to_string(i), -err);
      }
    }
    // Consumer position (page 0) and producer position (page 1); read-only is allowed for
    // both. Only used for the fill ratio, so a failure just leaves that ring unmeasured.
    void* p = mmap(nullptr, 2 * page_size_, PROT_READ, MAP_SHARED, ring_fds[i], 0);
    pos_pages_.push_back(p == MAP_FAILED ? nullptr : p);
  }
}

Drainer::~Drainer() {
  for (void* p : pos_pages_)
    if (p) munmap(p, 2 * page_size_);
  ring_buffer__free(rb_);
}

int Drainer::OnSample(void* ctx, void* data, size_t size) noexcept {
  auto* self = static_cast<Drainer*>(ctx);
  return DispatchSample(data, size, self->offset_ns_, self->target_, &self->decoded_, &self->bad_);
}

// ring_buffer__poll reads only the rings epoll reported; the BPF side suppresses wake-ups
// below a fill threshold, so on a timeout every ring is read too, or events below the
// threshold would wait (and a missed wake-up could leave a ring to fill up).
int Drainer::Poll(int timeout_ms) noexcept {
  const int n = ring_buffer__poll(rb_, timeout_ms);
  if (n != 0) return n;
  return ring_buffer__consume(rb_);
}

uint64_t Drainer::DrainAll() noexcept {
  uint64_t total = 0;
  for (;;) {
    const int n = ring_buffer__consume(rb_);
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
  }
  return total;
}

double Drainer::FillRatio() const noexcept {
  double worst = 0.0;
  for (void* p : pos_pages_) {
    if (!p) continue;
    const auto* cons = static_cast<const unsigned long*>(p);
    const auto* prod = reinterpret_cast<const unsigned long*>(static_cast<const char*>(p) + page_size_);
    const unsigned long c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
    const unsigned long q = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
    const double r = q > c ? static_cast<double>(q - c) / ring_size_ : 0.0;
    if (r > worst) worst = r;
  }
  return worst > 1.0 ? 1.0 : worst;
}



// ---- DrainPool ----------------------------------------------------------------------------

struct DrainPool::Worker {
  Worker(const std::vector<int>& fds, uint32_t ring_size, const EngineConfig& cfg, FlowMerger& merger,
         FlowIfaces* ifaces)
      : engine(cfg), out(1024), qx(out.queue, merger.wake), drainer(fds, ring_size, Target(engine, ifaces)) {
    engine.AddExporter(qx);
  }
  static PacketTarget Target(FlowEngine& e, FlowIfaces* ifaces) {
    PacketTarget t = PacketTarget::Of(e);
    t.ifaces = ifaces;
    return t;
  }
  FlowEngine engine;
  WorkerOutput out;
  QueueExporter qx;
  Drainer drainer;
  std::thread thread;
  std::atomic<int64_t> clock_offset{0};
  std::atomic<uint64_t> advance_to{0};
  std::atomic<uint64_t> drain_req{0}, drain_ack{0};
  std::atomic<uint64_t> drained{0};  // events of the last DrainAll
  // Snapshots for other threads.
  mutable std::mutex mu;
  EngineStats stats;
  std::atomic<uint64_t> decoded{0}, bad{0}, busy_ns{0};
};

DrainPool::DrainPool(const std::vector<int>& ring_fds, uint32_t ring_size, PacketTarget target, Hooks hooks)
    : hooks_(hooks), single_drainer_(std::make_unique<Drainer>(ring_fds, ring_size, target)) {}

DrainPool::DrainPool(const std::vector<int>& ring_fds, uint32_t ring_size, unsigned workers, FlowEngine& engine,
                     FlowIfaces* ifaces) {
  if (workers > ring_fds.size()) workers = static_cast<unsigned>(ring_fds.size());
  const EngineConfig& cfg = engine.Config();
  EngineConfig wcfg = cfg;
  wcfg.max_flows = cfg.max_flows / workers ? cfg.max_flows / workers : 1;
  // The caller's exporters had Begin from its engine's AddExporter.
  merger_ = std::make_unique<FlowMerger>(std::vector<WorkerOutput*>{}, engine.Exporters(), /*ordered=*/false);
  for (unsigned i = 0; i < workers; ++i) {
    std::vector<int> mine;  // worker i: rings i, i + workers, ...
    for (size_t r = i; r < ring_fds.size(); r += workers) mine.push_back(ring_fds[r]);
    workers_.push_back(std::make_unique<Worker>(mine, ring_size, wcfg, *merger_, ifaces));
    merger_->AddOutput(&workers_.back()->out);
  }
  merger_thread_ = std::thread([this] { merger_->Run(); });
  for (auto& w : workers_) w->thread = std::thread([this, wp = w.get()] { RunWorker(*wp); });
}

DrainPool::~DrainPool() {
  Flush();
}

void DrainPool::RunWorker(Worker& w) noexcept {
  uint64_t applied = 0, acked = 0;
  auto next_pub = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_acquire)) {
    w.drainer.SetClockOffset(w.clock_offset.load(std::memory_order_relaxed));
    const auto t0 = std::chrono::steady_clock::now();
    const int n = w.drainer.Poll(10);
    if (n < 0 && n != -EINTR) failed_.store(true);
    const auto t1 = std::chrono::steady_clock::now();
    if (n > 0) w.busy_ns.fetch_add(static_cast<uint64_t>((t1 - t0).count()), std::memory_order_relaxed);
    const uint64_t adv = w.advance_to.load(std::memory_order_relaxed);
    if (adv > applied) {
      applied = adv;
      w.engine.AdvanceTime(adv);
    }
    const uint64_t req = w.drain_req.load(std::memory_order_acquire);
    if (req != acked) {
      w.drained.store(w.drainer.DrainAll(), std::memory_order_relaxed);
      acked = req;
      w.drain_ack.store(req, std::memory_order_release);
    }
    w.qx.Flush();
    if (t1 >= next_pub) {
      next_pub = t1 + std::chrono::milliseconds(100);
      std::lock_guard<std::mutex> g(w.mu);
      w.stats = w.engine.Stats();
      w.decoded.store(w.drainer.Decoded(), std::memory_order_relaxed);
      w.bad.store(w.drainer.Bad(), std::memory_order_relaxed);
    }
  }
  // End of run: the caller drained (DrainAll) before asking to stop.
  w.engine.Flush(EndReason::kShutdown);
  w.qx.Flush();
  {
    std::lock_guard<std::mutex> g(w.mu);
    w.stats = w.engine.Stats();
    w.decoded.store(w.drainer.Decoded(), std::memory_order_relaxed);
    w.bad.store(w.drainer.Bad(), std::memory_order_relaxed);
  }
  w.out.progress.v.store(WorkerOutput::kDone, std::memory_order_release);
  merger_->wake.Notify();
}

void DrainPool::SetClockOffset(int64_t off) noexcept {
  if (single_drainer_) return single_drainer_->SetClockOffset(off);
  for (auto& w : workers_) w->clock_offset.store(off, std::memory_order_relaxed);
}

int DrainPool::Poll(int timeout_ms) noexcept {
  if (single_drainer_) return single_drainer_->Poll(timeout_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
  return failed_.load() ? -EIO : 0;
}

uint64_t DrainPool::DrainAll() noexcept {
  if (single_drainer_) return single_drainer_->DrainAll();
  for (auto& w : workers_) w->drain_req.fetch_add(1, std::memory_order_release);
  uint64_t total = 0;
  for (auto& w : workers_) {
    const uint64_t want = w->drain_req.load(std::memory_order_relaxed);
    while (w->drain_ack.load(std::memory_order_acquire) != want) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    total += w->drained.load(std::memory_order_relaxed);
  }
  return total;
}

void DrainPool::AdvanceTime(uint64_t now_ns) noexcept {
  if (single_drainer_) return hooks_.advance(hooks_.engine, now_ns);
  for (auto& w : workers_) w->advance_to.store(now_ns, std::memory_order_relaxed);
}

void DrainPool::Flush() noexcept {
  if (flushed_) return;
  flushed_ = true;
  if (single_drainer_) return hooks_.flush(hooks_.engine);
  stop_.store(true, std::memory_order_release);
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  if (merger_thread_.joinable()) merger_thread_.join();
}

EngineStats DrainPool::Stats() const {
  if (single_drainer_) return hooks_.stats(hooks_.engine);
  EngineStats sum;
  for (auto& w : workers_) {
    std::lock_guard<std::mutex> g(w->mu);
    AddStats(sum, w->stats);
  }
  return sum;
}

double DrainPool::FillRatio() const noexcept {
  if (single_drainer_) return single_drainer_->FillRatio();
  double worst = 0;
  for (auto& w : workers_) worst = std::max(worst, w->drainer.FillRatio());
  return worst;
}

uint64_t DrainPool::Decoded() const noexcept {
  if (single_drainer_) return single_drainer_->Decoded();
  uint64_t n = 0;
  for (auto& w : workers_) n += w->decoded.load(std::memory_order_relaxed);
  return n;
}

uint64_t DrainPool::Bad() const noexcept {
  if (single_drainer_) return single_drainer_->Bad();
  uint64_t n = 0;
  for (auto& w : workers_) n += w->bad.load(std::memory_order_relaxed);
  return n;
}

std::vector<DrainPool::WorkerGauge> DrainPool::Gauges() const {
  std::vector<WorkerGauge> g;
  for (auto& w : workers_)
    g.push_back(WorkerGauge{w->decoded.load(std::memory_order_relaxed), w->out.queue.Depth(),
                            w->busy_ns.load(std::memory_order_relaxed)});
  return g;
}

}  // namespace nfm::live
