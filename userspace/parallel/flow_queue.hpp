// SPDX-License-Identifier: MIT
// Carrying finished flows from shard workers to the one output thread: FlowCopy (a FlowView
// with everything it points to copied into one fixed-size record), FlowQueue (a bounded
// single-producer/single-consumer ring of them) and QueueExporter (the FlowExporter a worker's
// engine gets: it copies each flow into the worker's queue, tagged for the deterministic merge).
// Each slot allocates once, when its first flow arrives (sized from the feature set's column
// count), never again; a full queue makes the worker wait (never drops a flow).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "engine/flow_view.hpp"
#include "output/rendering_exporter.hpp"
#include "parallel/signal.hpp"

namespace nfm {

// A finished flow copied out of the engine: the FlowView plus what it points to. The feature
// and decimal storage is sized once (Reserve, from the feature set's column count, by the
// queue when the slot is first used), so filling a slot never allocates after that; a flow
// larger than reserved (an exporter attached without Begin) grows that one slot once. A flow
// is never dropped.
struct FlowCopy {
  uint64_t tag = 0;   // merge key: the input entry whose processing ended the flow
  uint64_t tag2 = 0;  // second merge key: 0, or for the final flush the flow's start (FinalFlush)
  FlowView view;     // pointers are fixed up by View()
  uint8_t src[16], dst[16];
  TunnelMeta tunnel;  // *view.tunnel's copy (when not null)
  uint32_t n_features = 0, n_decimals = 0;
  uint32_t cap_features = 0, cap_decimals = 0;
  std::unique_ptr<FeatureValue[]> features;
  std::unique_ptr<Decimal[]> decimals;
  // The row a worker rendered (QueueExporter with a renderer); the capacity is reserved with the
  // features (32 bytes a column), so it grows only for a row longer than any before in this slot.
  bool has_rendered = false;
  std::string rendered;
  uint32_t allocations = 0;  // feature and decimal arrays allocated (tests)

  // render_cols: the columns a rendered row may have (0: no rendering).
  void Reserve(size_t n_feat, size_t n_dec, size_t render_cols = 0) {
    if (render_cols && rendered.capacity() < 32 * render_cols + 256) rendered.reserve(32 * render_cols + 256);
    if (n_feat > cap_features) {
      features = std::make_unique<FeatureValue[]>(n_feat);
      cap_features = static_cast<uint32_t>(n_feat);
      ++allocations;
    }
    if (n_dec > cap_decimals) {
      decimals = std::make_unique<Decimal[]>(n_dec);
      cap_decimals = static_cast<uint32_t>(n_dec);
      ++allocations;
    }
  }
  // with_features false: only the identity, counters and times (the features stay empty).
  void Fill(const FlowView& v, uint64_t t, bool with_features = true) {
    tag = t;
    view = v;
    std::memcpy(src, v.src, 16);
    std::memcpy(dst, v.dst, 16);
    if (v.tunnel) tunnel = *v.tunnel;
    n_features = with_features ? static_cast<uint32_t>(v.features.size()) : 0;
    n_decimals = with_features ? static_cast<uint32_t>(v.decimals.size()) : 0;
    Reserve(n_features, n_decimals);  // no-op once reserved
    if (n_features) std::memcpy(features.get(), v.features.data(), n_features * sizeof(FeatureValue));
    for (uint32_t i = 0; i < n_decimals; ++i) decimals[i] = v.decimals[i];
  }
  const FlowView& View() noexcept {
    view.src = src;
    view.dst = dst;
    if (view.tunnel) view.tunnel = &tunnel;
    view.features = std::span<const FeatureValue>(features.get(), n_features);
    view.decimals = std::span<const Decimal>(decimals.get(), n_decimals);
    return view;
  }
};

// Decimal operands a flow can carry (the nfm2022 active/idle mean/std: 4; room to spare).
inline constexpr size_t kReservedDecimals = 8;

// Bounded SPSC ring of FlowCopy. The producer (a worker) fills Back() and Push()es; the
// consumer (the output thread) reads Front() and Pop()s. `space` wakes a producer that waits
// for room; the consumer's wake-up signal belongs to the caller (one for all queues).
class FlowQueue {
 public:
  explicit FlowQueue(uint32_t capacity_pow2)
      : cap_(capacity_pow2), slots_(std::make_unique<FlowCopy[]>(capacity_pow2)) {}
  uint32_t Capacity() const noexcept { return cap_; }
  // The size of a slot's storage: flows of up to n_features features and n_decimals decimals.
  // Only before the queue is used (the worker's engine attaches its exporter before threads
  // start). Each slot is sized when it is first used (SizeSlot): 512 slots sized up front cost
  // 2-3 MB of fresh memory a worker, a sixth of a 275k-packet replay on the 2-vCPU VM.
  void Reserve(size_t n_features, size_t n_decimals) {
    n_features_ = n_features;
    n_decimals_ = n_decimals;
  }
  // Sizes slot c (Back()) unless it is already: the features only if they are copied, the
  // rendered row only if there is one.
  void SizeSlot(FlowCopy& c, bool features, bool rendered) {
    c.Reserve(features ? n_features_ : 0, n_decimals_, rendered ? n_features_ : 0);
  }
  uint64_t Allocations() const noexcept {
    uint64_t n = 0;
    for (uint32_t i = 0; i < cap_; ++i) n += slots_[i].allocations;
    return n;
  }
  // Producer side.
  bool Full() const noexcept { return head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_acquire) == cap_; }
  FlowCopy& Back() noexcept { return slots_[head_.load(std::memory_order_relaxed) & (cap_ - 1)]; }
  void Push() noexcept { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  // Consumer side.
  bool Empty() const noexcept { return tail_.load(std::memory_order_relaxed) == head_.load(std::memory_order_acquire); }
  FlowCopy& Front() noexcept { return slots_[tail_.load(std::memory_order_relaxed) & (cap_ - 1)]; }
  void Pop() noexcept {
    tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    space.Notify();
  }
  // Either side (a gauge).
  uint64_t Depth() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }
  Signal space;

 private:
  const uint32_t cap_;
  std::unique_ptr<FlowCopy[]> slots_;
  size_t n_features_ = 0, n_decimals_ = 0;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

// The exporter a shard worker's engine feeds. The worker sets `tag` before each engine call.
// Begin (called by the engine's AddExporter) sizes the queue's slots from the feature set.
class QueueExporter : public FlowExporter {
 public:
  QueueExporter(FlowQueue& q, Signal& consumer) : q_(q), consumer_(consumer) {}
  void Begin(Profile profile, const FeatureSet& set) override {
    (void)profile;
    q_.Reserve(set.columns.size(), kReservedDecimals);
  }
  // Optional (before any flow): renders every flow on this (the worker's) thread into its copy.
  // copy_features false: the rendering exporter is the only one, and ExportRendered reads no
  // feature, so the copy skips them (a 114-feature flow: 1.8 KB less to copy).
  void SetRenderer(FlowRenderer* r, bool copy_features = true) noexcept {
    renderer_ = r;
    copy_features_ = copy_features || r == nullptr;
  }
  // Optional: a worker that is its own output thread at times (the sharded replay's
  // cooperative mode) empties queues itself while its queue is full. Returns whether it could.
  void SetDrain(bool (*drain)(void*), void* arg) noexcept {
    drain_ = drain;
    drain_arg_ = arg;
  }
  void Export(const FlowView& flow) override {
    while (q_.Full()) {
      const uint32_t e = q_.space.Epoch();
      consumer_.Notify();  // it may be sleeping with our items unseen
      if (!q_.Full() || (drain_ && drain_(drain_arg_))) continue;
      ++waits;
      q_.space.Wait(e);
    }
    FlowCopy& c = q_.Back();
    q_.SizeSlot(c, copy_features_, renderer_ != nullptr);
    c.Fill(flow, tag, copy_features_);
    // The signed start time mapped onto the unsigned range in order.
    c.tag2 = final_flush ? static_cast<uint64_t>(flow.first_ns) ^ (1ull << 63) : 0;
    c.has_rendered = renderer_ != nullptr;
    if (renderer_) c.rendered.assign(renderer_->Render(flow));
    q_.Push();
    ++pushed_since_notify_;
  }
  // Wake the consumer if anything was pushed since the last call (once per input batch).
  void Flush() noexcept {
    if (pushed_since_notify_) {
      pushed_since_notify_ = 0;
      consumer_.Notify();
    }
  }
  uint64_t tag = 0;
  // Set before the engine's final flush: its flows (all with the same tag) are merged across
  // workers by start time, so every worker renders its share at once instead of waiting for
  // the lower workers' flows to leave (0.23 s of 0.47 s idle per worker with 100k open flows).
  bool final_flush = false;
  uint64_t waits = 0;  // times the queue was full

 private:
  FlowQueue& q_;
  Signal& consumer_;
  FlowRenderer* renderer_ = nullptr;
  bool (*drain_)(void*) = nullptr;
  void* drain_arg_ = nullptr;
  bool copy_features_ = true;
  uint32_t pushed_since_notify_ = 0;
};

}  // namespace nfm
