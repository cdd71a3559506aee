// SPDX-License-Identifier: MIT
// FlowMerger: the one output thread of a sharded engine. It takes finished flows from every
// worker's FlowQueue and calls the real exporters (CSV, IPFIX, metrics, ...), so exporters stay
// single-threaded and workers never wait on I/O (only on a full queue).
// Ordered mode (offline): flows leave in (tag, worker) order, where tag is the input entry
// whose processing ended the flow: the output is the same on every run with the same input
// and worker count. It needs each worker's `progress` (all its future tags are >= it).
// Unordered mode (live): whichever queue has flows, round robin.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/flow_view.hpp"
#include "parallel/flow_queue.hpp"
#include "parallel/signal.hpp"

namespace nfm {

struct WorkerOutput {
  static constexpr uint64_t kDone = UINT64_MAX;
  explicit WorkerOutput(uint32_t capacity) : queue(capacity) {}
  FlowQueue queue;
  Padded<uint64_t> progress;  // ordered mode: every later tag is >= this; kDone: finished
};

class FlowMerger {
 public:
  FlowMerger(std::vector<WorkerOutput*> outs, std::vector<FlowExporter*> exporters, bool ordered)
      : outs_(std::move(outs)), exporters_(std::move(exporters)), ordered_(ordered) {}
  // Adds a worker's output (before Run).
  void AddOutput(WorkerOutput* o) { outs_.push_back(o); }
  // The exporter whose rows the workers render (before Run; one of the exporters): it gets
  // ExportRendered with a copy's rendered bytes instead of Export.
  void SetPreRendered(RenderingExporter* x) noexcept { pre_ = x; }
  // Calls every exporter's Begin once (before any flow).
  void Begin(Profile profile, const FeatureSet& set) {
    for (FlowExporter* x : exporters_) x->Begin(profile, set);
  }
  // Runs until every worker's progress is kDone and its queue is empty.
  void Run();
  Signal wake;  // workers notify after pushing flows or moving progress
  uint64_t Flows() const noexcept { return flows_.v.load(std::memory_order_relaxed); }

 private:
  void Emit(WorkerOutput& o);
  std::vector<WorkerOutput*> outs_;
  std::vector<FlowExporter*> exporters_;
  bool ordered_;
  RenderingExporter* pre_ = nullptr;
  Padded<uint64_t> flows_;
};

}  // namespace nfm
