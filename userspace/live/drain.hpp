// SPDX-License-Identifier: MIT
// Drainer: one ring_buffer over all shards; decodes each sample and hands it to the engine
// (any engine with OnPacket/OnSkipped: FlowEngine, CicEngine, NtlEngine), through PacketTarget.
// Also measures how full each ring is (read-only mapping of its position pages).
// Not thread-safe: one thread (the engine's) calls Poll/DrainAll.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "live/profile_view.hpp"

struct ring_buffer;

namespace nfm {
class FlowMerger;
class FlowIfaces;  // output/dataset_columns.hpp
}

namespace nfm::live {

// Where decoded packets go: an engine's OnPacket behind one function pointer (one indirect
// call per event; the drain loop stays one non-template class).
// A reference view (profile_view.hpp) rewrites the packet first, or hands it to OnSkipped.
struct PacketTarget {
  void* engine = nullptr;
  void (*on_packet)(void* engine, const PacketMeta& meta) = nullptr;
  FlowIfaces* ifaces = nullptr;  // --where-columns iface: each event's interface is noted here
  // --where-columns tunnel (an engine that keeps tunnels, native view): a record with the tunnel
  // trailer goes here; null: such a record's event goes to on_packet without its tunnel.
  void (*on_tunnel_packet)(void* engine, const PacketMeta& meta, const TunnelMeta& tun) = nullptr;
  template <class Engine>
  static PacketTarget Of(Engine& e, LiveView view = LiveView::kNative) {
    switch (view) {
      case LiveView::kCic:
        return {&e, &Viewed<Engine, CicView>};
      case LiveView::kNtl:
        return {&e, &Viewed<Engine, NtlView>};
      case LiveView::kNative:
        break;
    }
    PacketTarget t{&e, [](void* p, const PacketMeta& m) { static_cast<Engine*>(p)->OnPacket(m); }};
    if constexpr (requires(Engine& x, const PacketMeta& m, const TunnelMeta& tu) { x.OnPacket(m, tu); }) {
      if (e.Config().tunnel_columns)
        t.on_tunnel_packet = [](void* p, const PacketMeta& m, const TunnelMeta& tu) {
          static_cast<Engine*>(p)->OnPacket(m, tu);
        };
    }
    return t;
  }

 private:
  template <class Engine, bool (*View)(PacketMeta*, SkipReason*) noexcept>
  static void Viewed(void* p, const PacketMeta& m) {
    PacketMeta v = m;
    SkipReason why = SkipReason::kNotIp;
    if (View(&v, &why)) {
      static_cast<Engine*>(p)->OnPacket(v);
    } else {
      static_cast<Engine*>(p)->OnSkipped(why, m.wire_len);
    }
  }
};

class Drainer {
 public:
  // Throws BpfError. `ring_size` is the size of every ring in bytes.
  Drainer(const std::vector<int>& ring_fds, uint32_t ring_size, PacketTarget target);
  ~Drainer();
  Drainer(const Drainer&) = delete;
  Drainer& operator=(const Drainer&) = delete;

  // Kernel CLOCK_MONOTONIC + offset = wall clock. Set before polling; may be refreshed.
  void SetClockOffset(int64_t mono_to_wall_ns) noexcept { offset_ns_ = mono_to_wall_ns; }
  // Waits up to timeout_ms for data and consumes it. Returns events consumed or -errno
  // (-EINTR is a normal wake-up).
  int Poll(int timeout_ms) noexcept;
  // Consumes until every ring is empty. Returns events consumed.
  uint64_t DrainAll() noexcept;
  // Fullest ring: pending bytes / ring size (0..1).
  double FillRatio() const noexcept;

  uint64_t Decoded() const noexcept { return decoded_; }
  uint64_t Bad() const noexcept { return bad_; }

 private:
  static int OnSample(void* ctx, void* data, size_t size) noexcept;

  struct ring_buffer* rb_ = nullptr;
  PacketTarget target_;
  int64_t offset_ns_ = 0;
  uint64_t decoded_ = 0;
  uint64_t bad_ = 0;
  uint32_t ring_size_;
  size_t page_size_;
  std::vector<void*> pos_pages_;  // per ring: consumer page + producer page, read-only
};

// DrainPool: the drain loop's view of "the engine(s)". With one worker it is one Drainer
// feeding the caller's engine on the caller's thread (as before). With N > 1 workers
// (FlowEngine only; live --threads), worker i drains the rings r with r mod N == i into its
// own FlowEngine (the caller engine's config, max_flows / N) on its own thread, and one output
// thread hands the finished flows to the caller engine's exporters (FlowMerger, unordered);
// the caller's engine itself then sees no packet.
class DrainPool {
 public:
  // `view`: the reference view the packets pass through first (kNative for FlowEngine).
  template <class Engine>
  static std::unique_ptr<DrainPool> Create(const std::vector<int>& ring_fds, uint32_t ring_size, unsigned workers,
                                           Engine& engine, LiveView view = LiveView::kNative,
                                           FlowIfaces* ifaces = nullptr) {
    Hooks h{&engine, [](void* e, uint64_t t) { static_cast<Engine*>(e)->AdvanceTime(t); },
            [](void* e) { static_cast<Engine*>(e)->Flush(EndReason::kShutdown); },
            [](const void* e) { return static_cast<const Engine*>(e)->Stats(); }};
    if (workers > 1 && ring_fds.size() > 1 && view == LiveView::kNative)
      if (auto pool = Sharded(ring_fds, ring_size, workers, engine, ifaces)) return pool;
    PacketTarget t = PacketTarget::Of(engine, view);
    t.ifaces = ifaces;
    return std::unique_ptr<DrainPool>(new DrainPool(ring_fds, ring_size, t, h));
  }
  ~DrainPool();
  unsigned Workers() const noexcept { return static_cast<unsigned>(workers_.size()); }

  void SetClockOffset(int64_t mono_to_wall_ns) noexcept;
  // One worker: Drainer::Poll. Several: the workers poll; this sleeps timeout_ms and returns 0
  // (or -EIO when a worker's poll failed).
  int Poll(int timeout_ms) noexcept;
  // Every worker empties its rings (the caller waits). Returns events consumed.
  uint64_t DrainAll() noexcept;
  // Each engine expires flows up to now_ns, on its own thread (asynchronous with workers).
  void AdvanceTime(uint64_t now_ns) noexcept;
  // Flush every engine (end of run); with workers, waits until the exporters saw every flow.
  void Flush() noexcept;
  // Summed over workers (snapshots refreshed about every 100 ms by each worker and at the end).
  EngineStats Stats() const;
  double FillRatio() const noexcept;
  uint64_t Decoded() const noexcept;
  uint64_t Bad() const noexcept;
  // Per worker: events decoded, flows waiting for the output thread, busy ns (gauges).
  struct WorkerGauge {
    uint64_t decoded = 0, out_queue = 0, busy_ns = 0;
  };
  std::vector<WorkerGauge> Gauges() const;

 private:
  struct Hooks {
    void* engine;
    void (*advance)(void*, uint64_t);
    void (*flush)(void*);
    EngineStats (*stats)(const void*);
  };
  struct Worker;
  // Several workers, each with its own engine of the caller's config: FlowEngine only (the
  // other engines run one drain worker).
  static std::unique_ptr<DrainPool> Sharded(const std::vector<int>& ring_fds, uint32_t ring_size, unsigned workers,
                                            FlowEngine& engine, FlowIfaces* ifaces) {
    return std::unique_ptr<DrainPool>(new DrainPool(ring_fds, ring_size, workers, engine, ifaces));
  }
  template <class Engine>
  static std::unique_ptr<DrainPool> Sharded(const std::vector<int>&, uint32_t, unsigned, Engine&, FlowIfaces*) {
    return nullptr;
  }
  DrainPool(const std::vector<int>& ring_fds, uint32_t ring_size, PacketTarget target, Hooks hooks);
  DrainPool(const std::vector<int>& ring_fds, uint32_t ring_size, unsigned workers, FlowEngine& engine,
            FlowIfaces* ifaces);
  void RunWorker(Worker& w) noexcept;
  Hooks hooks_{};
  std::unique_ptr<Drainer> single_drainer_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<nfm::FlowMerger> merger_;
  std::thread merger_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  bool flushed_ = false;
};

}  // namespace nfm::live
