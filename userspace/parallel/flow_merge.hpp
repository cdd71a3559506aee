// SPDX-License-Identifier: MIT
// FlowMerger: the one output thread of a sharded engine. It takes finished flows from every
// worker's FlowQueue and calls the real exporters (CSV, IPFIX, metrics, ...), so exporters stay
// single-threaded and workers never wait on I/O (only on a full queue).
// Ordered mode (offline): flows leave in (tag, tag2, worker) order, where tag is the input
// entry whose processing ended the flow and tag2 is 0, or the flow's start for the flows
// flushed when the input ends (FlowCopy): the output is the same on every run with the same
// input and worker count. It needs each worker's `progress` (all its future tags are >= it).
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
  // One step of Run without waiting: emits one flow (kEmitted), or finds nothing to emit yet
  // (kIdle: read wake.Epoch() before the call to wait for more), or finds every worker done
  // (kDone). For a thread that has other work too (the sharded replay's reader).
  enum class StepResult { kEmitted, kIdle, kDone };
  StepResult Step();
  Signal wake;  // workers notify after pushing flows or moving progress
  uint64_t Flows() const noexcept { return flows_.v.load(std::memory_order_relaxed); }
  uint64_t sleeps = 0;  // times Run waited for a worker (read after Run returns)

 private:
  void Emit(WorkerOutput& o);
  std::vector<WorkerOutput*> outs_;
  std::vector<FlowExporter*> exporters_;
  bool ordered_;
  RenderingExporter* pre_ = nullptr;
  size_t rr_ = 0;  // unordered mode: the queue to start from
  Padded<uint64_t> flows_;
};

}  // namespace nfm
