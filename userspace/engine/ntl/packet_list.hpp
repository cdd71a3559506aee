// SPDX-License-Identifier: MIT
// The bounded per-flow packet list of the NTLFlowLyzer feature sets (NtlEngine and FlowEngine
// with --feature-set ntl): 16 bytes per packet in 256-byte chunks of a ChunkPool, appended in
// arrival order, read back once when the flow ends. No feature arithmetic here (ntl_compute).
// A ChunkPool and the lists in it belong to one engine: not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/packet.hpp"

namespace nfm {

// One listed packet: time and the three sizes NTLFlowLyzer keeps (frame length = len(buf),
// payload = len(tcp.data), header = len(tcp) - len(tcp.data)) and the direction mark.
struct ListedPacket {
  int64_t ts_ns;
  uint64_t packed;  // frame 0..20 | payload 21..41 | header 42..49 | backward 50
  // Packet p of direction d (0 forward, 1 backward) at time t; sizes saturate at their fields.
  static ListedPacket Of(const PacketMeta& p, int d, int64_t t) noexcept {
    return {t, std::min<uint64_t>(p.cap_len, 0x1fffff) | std::min<uint64_t>(p.payload_ip, 0x1fffff) << 21 |
                   static_cast<uint64_t>(std::min<uint16_t>(p.l4_header_len, 0xff)) << 42 |
                   static_cast<uint64_t>(d) << 50};
  }
  uint32_t Frame() const noexcept { return static_cast<uint32_t>(packed & 0x1fffff); }
  uint32_t Payload() const noexcept { return static_cast<uint32_t>((packed >> 21) & 0x1fffff); }
  uint32_t Header() const noexcept { return static_cast<uint32_t>((packed >> 42) & 0xff); }
  int Dir() const noexcept { return static_cast<int>((packed >> 50) & 1); }
};
static_assert(sizeof(ListedPacket) == 16);

inline constexpr uint32_t kChunkPackets = 15;
struct Chunk {
  ListedPacket p[kChunkPackets];
  uint32_t next;  // chunk index + 1; 0 = last
  uint32_t pad_[3];
};
static_assert(sizeof(Chunk) == 256);

// Chunks in blocks that never move; a free list of chunk indices. Allocation happens once
// per 15 listed packets and reuses freed chunks, so steady state does no heap allocation.
class ChunkPool {
 public:
  uint32_t Alloc() {
    if (free_.empty()) {
      blocks_.emplace_back(new Chunk[kBlock]);
      const uint32_t base = static_cast<uint32_t>((blocks_.size() - 1) * kBlock);
      for (uint32_t i = kBlock; i-- > 0;) free_.push_back(base + i + 1);
    }
    const uint32_t id = free_.back();
    free_.pop_back();
    ++used_;
    At(id).next = 0;
    return id;
  }
  void Free(uint32_t id) {
    free_.push_back(id);
    --used_;
  }
  Chunk& At(uint32_t id) { return blocks_[(id - 1) / kBlock][(id - 1) % kBlock]; }
  const Chunk& At(uint32_t id) const { return blocks_[(id - 1) / kBlock][(id - 1) % kBlock]; }
  uint64_t UsedBytes() const { return static_cast<uint64_t>(used_) * sizeof(Chunk); }

 private:
  static constexpr uint32_t kBlock = 1024;
  std::vector<std::unique_ptr<Chunk[]>> blocks_;
  std::vector<uint32_t> free_;
  uint64_t used_ = 0;
};

// A flow's list: its chunks in a ChunkPool. Plain data kept in the flow's record; all zero is
// the empty list (the flow tables hand out zeroed records).
struct PacketList {
  uint32_t head, tail;  // first / last chunk (ids as ChunkPool gives them); 0 = none
  uint32_t listed;      // packets in the list
  uint8_t capped;       // a packet was refused: the list reached its bound
  uint8_t pad_[3];
};
static_assert(sizeof(PacketList) == 16);

// What PacketListAppend did, for the caller's accounting.
enum class ListAppend : uint8_t {
  kListed,         // in the list
  kListedNewChunk, // in the list, in a chunk taken from the pool for it (pool usage grew)
  kCapped,         // refused: the list just reached its bound (the flow is now "capped")
  kRefused,        // refused: the list was capped already
};

// Appends lp to l unless l holds max_packets packets already.
inline ListAppend PacketListAppend(ChunkPool& pool, PacketList& l, uint32_t max_packets, const ListedPacket& lp) {
  if (l.listed >= max_packets) {
    if (l.capped) return ListAppend::kRefused;
    l.capped = 1;
    return ListAppend::kCapped;
  }
  ListAppend r = ListAppend::kListed;
  if (l.listed % kChunkPackets == 0) {
    const uint32_t c = pool.Alloc();
    if (l.tail) pool.At(l.tail).next = c; else l.head = c;
    l.tail = c;
    r = ListAppend::kListedNewChunk;
  }
  pool.At(l.tail).p[l.listed % kChunkPackets] = lp;
  ++l.listed;
  return r;
}

// The listed packets in arrival order, into out (cleared first; its capacity is reused).
inline void PacketListCopy(const ChunkPool& pool, const PacketList& l, std::vector<ListedPacket>& out) {
  out.clear();
  for (uint32_t c = l.head, left = l.listed; c && left; c = pool.At(c).next) {
    const uint32_t k = std::min(left, kChunkPackets);
    out.insert(out.end(), pool.At(c).p, pool.At(c).p + k);
    left -= k;
  }
}

// Gives l's chunks back to the pool; l becomes the empty list.
inline void PacketListRelease(ChunkPool& pool, PacketList& l) {
  for (uint32_t c = l.head; c;) {
    const uint32_t next = pool.At(c).next;
    pool.Free(c);
    c = next;
  }
  l = PacketList{};
}

}  // namespace nfm
