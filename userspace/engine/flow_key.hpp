// SPDX-License-Identifier: MIT
// FlowKey: the 40-byte lookup key of every engine's flow table, and the three ways a packet
// becomes one: canonical (both directions give one key: FlowEngine corrected, NtlEngine, and the
// shard a packet goes to), nfm2022's unordered pairs, and CIC's key as sent. Plain values; no
// table, no hashing policy beyond FlowKey::Hash.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/packet.hpp"

namespace nfm {

// Addresses are 16 bytes in network order (IPv4 as ::ffff:a.b.c.d); ports host order. The
// bytes after `proto` are always zero, so equality and the hash read the whole key.
struct FlowKey {
  uint8_t a[16];
  uint8_t b[16];
  uint16_t pa;
  uint16_t pb;
  uint8_t proto;
  uint8_t pad_[3];

  bool operator==(const FlowKey& o) const noexcept { return std::memcmp(this, &o, sizeof(*this)) == 0; }
  uint64_t Hash() const noexcept {
    uint64_t w[5];
    std::memcpy(w, this, sizeof(w));
    return HashWords(w);
  }
  // The hash of the key whose five 8-byte words (native order) are w: Hash() and
  // CanonicalKeyHash both end here.
  static uint64_t HashWords(const uint64_t (&w)[5]) noexcept {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (uint64_t x : w) {
      h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
      h *= 0xff51afd7ed558ccdULL;
      h ^= h >> 33;
    }
    return h;
  }
};
static_assert(sizeof(FlowKey) == 40);
static_assert(std::has_unique_object_representations_v<FlowKey>);

// The order of two 16-byte addresses: byte-wise, as memcmp (so IPv4-mapped addresses sort by
// their dotted quads), computed as two big-endian 64-bit words. Returns <0, 0 or >0.
inline int AddrCompare(const uint8_t* x, const uint8_t* y) noexcept {
  uint64_t a[2], b[2];
  std::memcpy(a, x, 16);
  std::memcpy(b, y, 16);
  for (int i = 0; i < 2; ++i) {
    const uint64_t u = __builtin_bswap64(a[i]), v = __builtin_bswap64(b[i]);
    if (u != v) return u < v ? -1 : 1;
  }
  return 0;
}

// The canonical key: the packet's two (address, port) endpoints in ascending order — by
// address (AddrCompare), equal addresses by port — then the protocol. A packet and its reply
// give the same key, so one entry (and one shard) holds both directions of a flow; which
// endpoint sent first is the flow record's business, not the key's.
// Whether the canonical key puts the packet's destination endpoint first.
inline bool CanonicalSwap(const PacketMeta& p) noexcept {
  const int c = AddrCompare(p.saddr, p.daddr);
  return c > 0 || (c == 0 && p.sport > p.dport);
}

inline FlowKey CanonicalKey(const PacketMeta& p) noexcept {
  FlowKey k{};
  const bool swap = CanonicalSwap(p);
  std::memcpy(k.a, swap ? p.daddr : p.saddr, 16);
  std::memcpy(k.b, swap ? p.saddr : p.daddr, 16);
  k.pa = swap ? p.dport : p.sport;
  k.pb = swap ? p.sport : p.dport;
  k.proto = p.proto;
  return k;
}

// CanonicalKey(p).Hash() without building the key in memory (a sharding reader hashes every
// packet: the key's narrow stores read back as wide words cost a store-forwarding stall each).
// Little-endian layout of the last word: pa, pb, proto, then the zero padding.
inline uint64_t CanonicalKeyHash(const PacketMeta& p) noexcept {
  uint64_t s[2], d[2];
  std::memcpy(s, p.saddr, 16);
  std::memcpy(d, p.daddr, 16);
  const bool swap = CanonicalSwap(p);
  const uint16_t pa = swap ? p.dport : p.sport, pb = swap ? p.sport : p.dport;
  const uint64_t w[5] = {swap ? d[0] : s[0], swap ? d[1] : s[1], swap ? s[0] : d[0], swap ? s[1] : d[1],
                         uint64_t{pa} | uint64_t{pb} << 16 | uint64_t{p.proto} << 32};
  return FlowKey::HashWords(w);
}
static_assert(std::endian::native == std::endian::little, "CanonicalKeyHash packs the last key word little-endian");

// nfm2022's key (spec §2.1): the address pair ascending and, independently, the port pair
// ascending; protocol 0, because the 2022 lookup compares neither the protocol nor which port
// goes with which address.
inline FlowKey Nfm2022Key(const uint8_t* x, const uint8_t* y, uint16_t u, uint16_t v) noexcept {
  FlowKey k{};
  const bool swap = AddrCompare(x, y) > 0;
  std::memcpy(k.a, swap ? y : x, 16);
  std::memcpy(k.b, swap ? x : y, 16);
  k.pa = std::min(u, v);
  k.pb = std::max(u, v);
  return k;
}

// The 5-tuple as sent, not canonical: CICFlowMeter looks a packet up under this key and then
// under the reversed one (CIC.md §3.1).
inline FlowKey DirectedKey(const uint8_t* s, const uint8_t* d, uint16_t sp, uint16_t dp, uint8_t proto) noexcept {
  FlowKey k{};
  std::memcpy(k.a, s, 16);
  std::memcpy(k.b, d, 16);
  k.pa = sp;
  k.pb = dp;
  k.proto = proto;
  return k;
}

}  // namespace nfm
