// SPDX-License-Identifier: MIT
// Carrying finished flows from shard workers to the one output thread: FlowCopy (a FlowView
// with everything it points to copied into one fixed-size record), FlowQueue (a bounded
// single-producer/single-consumer ring of them) and QueueExporter (the FlowExporter a worker's
// engine gets: it copies each flow into the worker's queue, tagged for the deterministic merge).
// No allocation after construction; a full queue makes the worker wait (never drops a flow).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "engine/flow_view.hpp"
#include "parallel/signal.hpp"

namespace nfm {

// The largest feature set a FlowCopy holds (the nfm set has 114; room for larger sets).
inline constexpr int kMaxCopyFeatures = 192;
inline constexpr int kMaxCopyDecimals = 8;

struct FlowCopy {
  uint64_t tag = 0;  // merge key: the input entry whose processing ended the flow
  FlowView view;     // pointers are fixed up by View()
  uint8_t src[16], dst[16];
  uint16_t n_features = 0, n_decimals = 0;
  FeatureValue features[kMaxCopyFeatures];
  Decimal decimals[kMaxCopyDecimals];

  // false when the flow has more features/decimals than a FlowCopy holds.
  bool Fill(const FlowView& v, uint64_t t) noexcept {
    if (v.features.size() > kMaxCopyFeatures || v.decimals.size() > kMaxCopyDecimals) return false;
    tag = t;
    view = v;
    std::memcpy(src, v.src, 16);
    std::memcpy(dst, v.dst, 16);
    n_features = static_cast<uint16_t>(v.features.size());
    n_decimals = static_cast<uint16_t>(v.decimals.size());
    if (n_features) std::memcpy(features, v.features.data(), n_features * sizeof(FeatureValue));
    for (int i = 0; i < n_decimals; ++i) decimals[i] = v.decimals[i];
    return true;
  }
  const FlowView& View() noexcept {
    view.src = src;
    view.dst = dst;
    view.features = std::span<const FeatureValue>(features, n_features);
    view.decimals = std::span<const Decimal>(decimals, n_decimals);
    return view;
  }
};

// Bounded SPSC ring of FlowCopy. The producer (a worker) fills Back() and Push()es; the
// consumer (the output thread) reads Front() and Pop()s. `space` wakes a producer that waits
// for room; the consumer's wake-up signal belongs to the caller (one for all queues).
class FlowQueue {
 public:
  explicit FlowQueue(uint32_t capacity_pow2)
      : cap_(capacity_pow2), slots_(std::make_unique<FlowCopy[]>(capacity_pow2)) {}
  uint32_t Capacity() const noexcept { return cap_; }
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
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

// The exporter a shard worker's engine feeds. The worker sets `tag` before each engine call.
class QueueExporter : public FlowExporter {
 public:
  QueueExporter(FlowQueue& q, Signal& consumer) : q_(q), consumer_(consumer) {}
  void Export(const FlowView& flow) override {
    while (q_.Full()) {
      const uint32_t e = q_.space.Epoch();
      consumer_.Notify();  // it may be sleeping with our items unseen
      if (!q_.Full()) break;
      ++waits;
      q_.space.Wait(e);
    }
    if (!q_.Back().Fill(flow, tag)) {
      ++dropped;
      return;
    }
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
  uint64_t waits = 0;    // times the queue was full
  uint64_t dropped = 0;  // flows with more features than a FlowCopy holds (never with the nfm set)

 private:
  FlowQueue& q_;
  Signal& consumer_;
  uint32_t pushed_since_notify_ = 0;
};

}  // namespace nfm
