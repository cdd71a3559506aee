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
  const size_t n = outs_.size();
  size_t rr = 0;
  for (;;) {
    const uint32_t epoch = wake.Epoch();
    if (ordered_) {
      // The smallest (key, worker) over: each queue's head tag, or, for an empty queue, its
      // progress (a bound on its future tags). Progress is read BEFORE the queue: a flow pushed
      // before that progress was published is then visible.
      uint64_t best_key = UINT64_MAX;
      size_t best = n;
      bool best_is_flow = false, all_done = true;
      for (size_t w = 0; w < n; ++w) {
        WorkerOutput& o = *outs_[w];
        const uint64_t p = o.progress.v.load(std::memory_order_acquire);
        const bool has = !o.queue.Empty();
        if (p != WorkerOutput::kDone || has) all_done = false;
        const uint64_t key = has ? o.queue.Front().tag : p;
        if (best == n || key < best_key) {  // ties: the lower worker (scanned first) wins
          best_key = key;
          best = w;
          best_is_flow = has;
        }
      }
      if (all_done) return;
      if (best_is_flow) {
        Emit(*outs_[best]);
        continue;
      }
    } else {
      bool any = false, all_done = true;
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
      if (any) continue;
      if (all_done) return;
    }
    wake.Wait(epoch);
  }
}

}  // namespace nfm
