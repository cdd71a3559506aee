// SPDX-License-Identifier: MIT
// FlowTunnels: per flow, the tunnel its first decapsulated packet came through (--where-columns
// tunnel, EngineConfig::tunnel_columns). An array parallel to an engine's flow table (index =
// flow id, one 40-byte TunnelMeta per slot), mapped only when the columns are on (untouched
// pages cost nothing); without them no memory and no per-packet work. Exact: every flow keeps
// its own entry until it ends (no hashing, no loss). Owned by one engine; its thread only.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>

#include "engine/flow_table.hpp"
#include "engine/packet.hpp"

namespace nfm {

class FlowTunnels {
 public:
  FlowTunnels() = default;
  FlowTunnels(const FlowTunnels&) = delete;
  FlowTunnels& operator=(const FlowTunnels&) = delete;
  ~FlowTunnels() {
    if (a_) munmap(a_, bytes_);
  }
  void Init(uint64_t capacity) { a_ = ZeroedArray<TunnelMeta>(capacity, &bytes_); }
  bool On() const noexcept { return a_ != nullptr; }
  // A new flow in slot id (a freed slot keeps its previous flow's entry until now).
  void Clear(uint32_t id) noexcept { a_[id].type = kTunnelNone; }
  // A packet of flow id that came out of tunnel t; backward: it went from the flow's
  // destination to its source. Only the flow's first tunnelled packet is kept.
  void Note(uint32_t id, bool backward, const TunnelMeta& t) noexcept {
    TunnelMeta& x = a_[id];
    if (x.type != kTunnelNone || t.type == kTunnelNone) return;
    x = t;
    if (backward) std::swap(x.src, x.dst);
  }
  // The flow's tunnel, null if it saw none (or the columns are off).
  const TunnelMeta* Of(uint32_t id) const noexcept { return a_ && a_[id].type != kTunnelNone ? &a_[id] : nullptr; }

 private:
  TunnelMeta* a_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace nfm
