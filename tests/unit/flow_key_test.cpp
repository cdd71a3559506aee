// SPDX-License-Identifier: MIT
// Flow keys (engine/flow_key.hpp): the canonical key is the same for both directions of a flow
// and orders endpoints by address bytes, then port; nfm2022's key sorts addresses and ports
// independently with protocol 0; the directed key is the packet as sent. The engines and the
// shard choice all use these, so FlowEngine::KeyHash must agree with them.
#include "engine/flow_key.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "engine/engine.hpp"

namespace nfm {
namespace {

void SetV4(uint8_t* a, uint8_t x, uint8_t y, uint8_t z, uint8_t w) {
  std::memset(a, 0, 16);
  a[10] = a[11] = 0xff;
  a[12] = x;
  a[13] = y;
  a[14] = z;
  a[15] = w;
}

PacketMeta Tcp(uint8_t s_last, uint16_t sport, uint8_t d_last, uint16_t dport) {
  PacketMeta p{};
  SetV4(p.saddr, 10, 0, 0, s_last);
  SetV4(p.daddr, 10, 0, 0, d_last);
  p.sport = sport;
  p.dport = dport;
  p.proto = 6;
  p.ip_version = 4;
  return p;
}

PacketMeta Reversed(const PacketMeta& p) {
  PacketMeta r = p;
  std::memcpy(r.saddr, p.daddr, 16);
  std::memcpy(r.daddr, p.saddr, 16);
  r.sport = p.dport;
  r.dport = p.sport;
  return r;
}

TEST(FlowKey, AddrCompareIsMemcmpOrder) {
  std::mt19937_64 rng(7);
  uint8_t x[16], y[16];
  for (int i = 0; i < 10000; ++i) {
    for (int b = 0; b < 16; ++b) {
      x[b] = static_cast<uint8_t>(rng() & 3);  // few values: many equal prefixes
      y[b] = static_cast<uint8_t>(rng() & 3);
    }
    const int want = std::memcmp(x, y, 16);
    const int got = AddrCompare(x, y);
    EXPECT_EQ(want < 0, got < 0);
    EXPECT_EQ(want == 0, got == 0);
  }
}

TEST(FlowKey, CanonicalKeyIsTheSameForBothDirections) {
  const PacketMeta p = Tcp(9, 40000, 2, 443);
  const FlowKey k = CanonicalKey(p);
  EXPECT_EQ(k, CanonicalKey(Reversed(p)));
  // Lower address first, its port with it.
  EXPECT_EQ(k.a[15], 2);
  EXPECT_EQ(k.pa, 443);
  EXPECT_EQ(k.b[15], 9);
  EXPECT_EQ(k.pb, 40000);
  EXPECT_EQ(k.proto, 6);
}

TEST(FlowKey, CanonicalKeyOrdersEqualAddressesByPort) {
  const PacketMeta p = Tcp(5, 8080, 5, 53);
  const FlowKey k = CanonicalKey(p);
  EXPECT_EQ(k.pa, 53);
  EXPECT_EQ(k.pb, 8080);
  EXPECT_EQ(k, CanonicalKey(Reversed(p)));
}

TEST(FlowKey, CanonicalKeyKeepsProtocolApart) {
  PacketMeta udp = Tcp(1, 53, 2, 53);
  udp.proto = 17;
  EXPECT_FALSE(CanonicalKey(udp) == CanonicalKey(Tcp(1, 53, 2, 53)));
}

TEST(FlowKey, Nfm2022KeySortsAddressesAndPortsApart) {
  // 10.0.0.9:1000 -> 10.0.0.2:2000 and 10.0.0.2:1000 -> 10.0.0.9:2000 are one nfm2022 flow.
  const PacketMeta p = Tcp(9, 1000, 2, 2000);
  const PacketMeta q = Tcp(2, 1000, 9, 2000);
  const FlowKey k = Nfm2022Key(p.saddr, p.daddr, p.sport, p.dport);
  EXPECT_EQ(k, Nfm2022Key(q.saddr, q.daddr, q.sport, q.dport));
  EXPECT_EQ(k.a[15], 2);
  EXPECT_EQ(k.pa, 1000);
  EXPECT_EQ(k.pb, 2000);
  EXPECT_EQ(k.proto, 0);
}

TEST(FlowKey, DirectedKeyIsThePacketAsSent) {
  const PacketMeta p = Tcp(9, 40000, 2, 443);
  const FlowKey k = DirectedKey(p.saddr, p.daddr, p.sport, p.dport, p.proto);
  EXPECT_EQ(k.a[15], 9);
  EXPECT_EQ(k.pa, 40000);
  EXPECT_FALSE(k == DirectedKey(p.daddr, p.saddr, p.dport, p.sport, p.proto));
  EXPECT_EQ(k.pad_[0] | k.pad_[1] | k.pad_[2], 0);
}

TEST(FlowKey, FlowEngineKeyHashIsTheKeysHash) {
  const PacketMeta p = Tcp(9, 40000, 2, 443);
  EXPECT_EQ(FlowEngine::KeyHash(Profile::kCorrected, p), CanonicalKey(p).Hash());
  EXPECT_EQ(FlowEngine::KeyHash(Profile::kCorrected, Reversed(p)), CanonicalKey(p).Hash());
  EXPECT_EQ(FlowEngine::KeyHash(Profile::kNfm2022, p), Nfm2022Key(p.saddr, p.daddr, p.sport, p.dport).Hash());
}

// CanonicalKeyHash builds the key's words in registers; it must give CanonicalKey(p).Hash()
// bit for bit (the shard a packet goes to and the flow table's slot both come from it).
// Random packets whose addresses share prefixes, are equal, or differ only in the last word,
// with equal and unequal ports, IPv4-mapped and IPv6.
TEST(FlowKey, CanonicalKeyHashIsTheCanonicalKeysHash) {
  std::mt19937_64 rng(26);
  int swapped = 0, same_addr = 0;
  for (int i = 0; i < 20000; ++i) {
    PacketMeta p{};
    const int shape = i % 5;
    for (int b = 0; b < 16; ++b) p.saddr[b] = static_cast<uint8_t>(rng());
    std::memcpy(p.daddr, p.saddr, 16);
    if (shape == 0) for (int b = 0; b < 16; ++b) p.daddr[b] = static_cast<uint8_t>(rng());
    if (shape == 1) p.daddr[15] = static_cast<uint8_t>(rng());  // the low word differs at most
    if (shape == 2) p.daddr[3] = static_cast<uint8_t>(rng());   // the high word differs
    if (shape == 3) SetV4(p.daddr, 10, 0, 0, static_cast<uint8_t>(rng())), SetV4(p.saddr, 10, 0, 0, static_cast<uint8_t>(rng()));
    // shape 4: equal addresses
    p.sport = static_cast<uint16_t>(rng() % 4 == 0 ? 80 : rng());
    p.dport = static_cast<uint16_t>(rng() % 4 == 0 ? 80 : rng());
    p.proto = static_cast<uint8_t>(rng());
    const FlowKey k = CanonicalKey(p);
    swapped += k.pa != p.sport || std::memcmp(k.a, p.saddr, 16) != 0;
    same_addr += std::memcmp(p.saddr, p.daddr, 16) == 0;
    ASSERT_EQ(CanonicalKeyHash(p), k.Hash()) << "packet " << i;
    ASSERT_EQ(CanonicalKeyHash(Reversed(p)), k.Hash()) << "packet " << i << " reversed";
  }
  EXPECT_GT(swapped, 1000);  // both orders were exercised
  EXPECT_GT(same_addr, 1000);
}

}  // namespace
}  // namespace nfm
