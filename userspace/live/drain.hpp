// SPDX-License-Identifier: MIT
// Drainer: one ring_buffer over all shards; decodes each sample and hands it to the engine
// (any engine with OnPacket: FlowEngine, CicEngine), through PacketTarget.
// Also measures how full each ring is (read-only mapping of its position pages).
// Not thread-safe: one thread (the engine's) calls Poll/DrainAll.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine.hpp"

struct ring_buffer;

namespace nfm::live {

// Where decoded packets go: an engine's OnPacket behind one function pointer (one indirect
// call per event; the drain loop stays one non-template class).
struct PacketTarget {
  void* engine = nullptr;
  void (*on_packet)(void* engine, const PacketMeta& meta) = nullptr;
  template <class Engine>
  static PacketTarget Of(Engine& e) {
    return {&e, [](void* p, const PacketMeta& m) { static_cast<Engine*>(p)->OnPacket(m); }};
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

}  // namespace nfm::live
