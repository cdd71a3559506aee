// SPDX-License-Identifier: MIT
// FlowMerger::Run: the k-way merge of the workers' flow queues (see flow_merge.hpp).
#include "parallel/flow_merge.hpp"

namespace nfm {

void FlowMerger::Emit(WorkerOutput& o) {
  FlowCopy& c = o.queue.Front();
  const FlowView& v = c.View();
  for (FlowExporter* x : exporters_) {
    if (x == pre_ && c.has_rendered) {
      pre_->ExportRendered(v, c.rendered);
    } else {
      x->Export(v);
    }
  }
  o.queue.Pop();
  flows_.v.store(flows_.v.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void FlowMerger::Run() {
  for (;;) {
    const uint32_t epoch = wake.Epoch();
    const StepResult r = Step();
    if (r == StepResult::kDone) return;
    if (r == StepResult::kEmitted) continue;
    ++sleeps;
    wake.Wait(epoch);
  }
}

FlowMerger::StepResult FlowMerger::Step() {
  const size_t n = outs_.size();
  if (ordered_) {
    // The smallest (key, key2, worker) over: each queue's head (tag, tag2), or, for an empty
    // queue, (progress, 0) (a bound on its future keys). Progress is read BEFORE the queue: a
    // flow pushed before that progress was published is then visible.
    uint64_t best_key = UINT64_MAX, best_key2 = 0;
    size_t best = n;
    bool best_is_flow = false, all_done = true;
    for (size_t w = 0; w < n; ++w) {
      WorkerOutput& o = *outs_[w];
      const uint64_t p = o.progress.v.load(std::memory_order_acquire);
      const bool has = !o.queue.Empty();
      if (p != WorkerOutput::kDone || has) all_done = false;
      const uint64_t key = has ? o.queue.Front().tag : p;
      const uint64_t key2 = has ? o.queue.Front().tag2 : 0;
      // Ties: the lower worker (scanned first) wins.
      if (best == n || key < best_key || (key == best_key && key2 < best_key2)) {
        best_key = key;
        best_key2 = key2;
        best = w;
        best_is_flow = has;
      }
    }
    if (all_done) return StepResult::kDone;
    if (best_is_flow) {
      Emit(*outs_[best]);
      return StepResult::kEmitted;
    }
  } else {
    bool any = false, all_done = true;
    size_t& rr = rr_;
    for (size_t i = 0; i < n; ++i) {
      WorkerOutput& o = *outs_[(rr + i) % n];
      const uint64_t p = o.progress.v.load(std::memory_order_acquire);
      // Up to 64 flows from one queue, then the next.
      for (int k = 0; k < 64 && !o.queue.Empty(); ++k) {
        Emit(o);
        any = true;
      }
      if (p != WorkerOutput::kDone || !o.queue.Empty()) all_done = false;
    }
    rr = (rr + 1) % n;
    if (any) return StepResult::kEmitted;
    if (all_done) return StepResult::kDone;
  }
  return StepResult::kIdle;
}

}  // namespace nfm
