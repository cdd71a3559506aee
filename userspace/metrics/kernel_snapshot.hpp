// SPDX-License-Identifier: MIT
// KernelSnapshot: everything the metrics show about a live capture (BPF counters, rings,
// attach state per interface, health, the drain workers' engine totals and loads), as one
// plain value, and KernelSnapshotBoard, the one place a live source publishes it and metrics
// read it. Neither type knows the live source or Prometheus. The snapshot types are plain
// values (copy freely); between threads they travel only through the board.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.hpp"
#include "nfm/event.h"

namespace nfm {

// One capture interface: nfm_interface_up{iface} and nfm_attach_info{iface,hook,xdp_mode}.
struct InterfaceSnapshot {
  std::string name;
  bool up = false;
  std::string hook = "none";      // "xdp" | "tcx_ingress" while up
  std::string xdp_mode = "none";  // "native" | "skb" with hook "xdp"
};

// One drain/shard worker (--threads > 1): nfm_worker_queue_depth / nfm_worker_busy_seconds.
struct WorkerLoad {
  double queue_depth = 0;   // finished flows queued for output, not yet exported
  double busy_seconds = 0;  // time spent processing packets since start
};

// What the live source reports, summed over CPUs and rings. Counters are absolute values
// since attach (metrics turn them into counter increments).
struct KernelSnapshot {
  uint64_t counters[NFM_CNT_MAX] = {};  // index: enum nfm_counter (nfm/counter_table.hpp), summed over CPUs
  double ring_fill_ratio = 0.0;         // fullest ring at the last drain tick: bytes pending / ring size, 0..1
  double ring_fill_peak = 0.0;          // highest ring_fill_ratio seen so far
  uint64_t ring_size_bytes = 0;         // size of one ring buffer
  uint32_t interfaces = 0;              // interfaces the hooks are attached to now
  uint64_t events_bad = 0;              // ring samples with wrong size/version (not fed)
  std::string attach_mode;              // weakest XDP mode attached ("native", "skb"); empty: keep the last one
  // Every named interface captured on so far (also those gone now: up = false) and every
  // pattern-matched interface present now; the series of a name missing here are removed.
  std::vector<InterfaceSnapshot> interface_list;
  // nfm_interface_events_total{event="attached","detached","refused_limit","attach_failed"}.
  uint64_t iface_events[4] = {};
  bool attached = false;  // hooks attached on at least one interface
  bool draining = false;  // drain loop running
  EngineStats engine{};   // the flow engine's totals, summed over drain workers
  std::vector<WorkerLoad> workers;  // empty with one drain thread

  // Stamped by KernelSnapshotBoard::Publish.
  uint64_t sequence = 0;         // 1, 2, ... in publication order
  int64_t published_wall_ns = 0;  // system clock (nfm_last_update_timestamp_seconds)
  int64_t published_mono_ns = 0;  // steady clock (/healthz staleness)
};

// The latest published KernelSnapshot.
// Threading rule: one writer, the live source's drain thread, publishes a complete snapshot
// once per drain tick (about every 100 ms) and once after the final flush; it never blocks
// on a reader for longer than a pointer swap. Any number of readers (scrape threads,
// /healthz, the engine thread) take Latest() at any time and get an immutable snapshot
// that stays valid as long as they hold it: every value in it is from the same tick.
// Before the first Publish, Latest() is null (no live source, or it has not started yet).
class KernelSnapshotBoard {
 public:
  void Publish(KernelSnapshot snapshot) {
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    const auto mono = std::chrono::steady_clock::now().time_since_epoch();
    snapshot.published_wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count();
    snapshot.published_mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(mono).count();
    snapshot.sequence = ++published_;  // single writer: no race on the count
    auto next = std::make_shared<const KernelSnapshot>(std::move(snapshot));
    std::lock_guard<std::mutex> lock(mu_);
    latest_.swap(next);  // the old snapshot is freed outside the lock, when `next` goes
  }
  std::shared_ptr<const KernelSnapshot> Latest() const {
    std::lock_guard<std::mutex> lock(mu_);
    return latest_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const KernelSnapshot> latest_;
  uint64_t published_ = 0;  // writer only
};

}  // namespace nfm
