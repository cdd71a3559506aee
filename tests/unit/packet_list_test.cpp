// SPDX-License-Identifier: MIT
// PacketList (engine/ntl/packet_list.hpp): packets come back in arrival order across chunk
// boundaries, the bound refuses further packets and reports the flow as capped once, and a
// released list gives every chunk back to the pool.
#include "engine/ntl/packet_list.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nfm {
namespace {

PacketMeta Sized(uint32_t frame, uint32_t payload, uint16_t header) {
  PacketMeta p{};
  p.cap_len = frame;
  p.payload_ip = payload;
  p.l4_header_len = header;
  return p;
}

TEST(PacketList, ListedPacketPacksSizesAndDirection) {
  const ListedPacket lp = ListedPacket::Of(Sized(1514, 1460, 20), 1, 123);
  EXPECT_EQ(lp.ts_ns, 123);
  EXPECT_EQ(lp.Frame(), 1514u);
  EXPECT_EQ(lp.Payload(), 1460u);
  EXPECT_EQ(lp.Header(), 20u);
  EXPECT_EQ(lp.Dir(), 1);
  // Sizes saturate at their fields instead of spilling into the next one.
  const ListedPacket big = ListedPacket::Of(Sized(0xffffffff, 0xffffffff, 0xffff), 0, 0);
  EXPECT_EQ(big.Frame(), 0x1fffffu);
  EXPECT_EQ(big.Payload(), 0x1fffffu);
  EXPECT_EQ(big.Header(), 0xffu);
  EXPECT_EQ(big.Dir(), 0);
}

TEST(PacketList, KeepsArrivalOrderAcrossChunks) {
  ChunkPool pool;
  PacketList l{};
  const uint32_t n = 3 * kChunkPackets + 4;
  int new_chunks = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const ListAppend r = PacketListAppend(pool, l, 1000, ListedPacket::Of(Sized(i, 0, 0), i & 1, i));
    if (r == ListAppend::kListedNewChunk) ++new_chunks;
    else EXPECT_EQ(r, ListAppend::kListed);
  }
  EXPECT_EQ(new_chunks, 4);
  EXPECT_EQ(pool.UsedBytes(), 4 * sizeof(Chunk));
  std::vector<ListedPacket> out;
  PacketListCopy(pool, l, out);
  ASSERT_EQ(out.size(), n);
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(out[i].ts_ns, i);
    EXPECT_EQ(out[i].Frame(), i);
    EXPECT_EQ(out[i].Dir(), static_cast<int>(i & 1));
  }
}

TEST(PacketList, BoundRefusesAndCapsOnce) {
  ChunkPool pool;
  PacketList l{};
  for (int i = 0; i < 3; ++i) PacketListAppend(pool, l, 3, ListedPacket::Of(Sized(1, 0, 0), 0, i));
  EXPECT_EQ(PacketListAppend(pool, l, 3, ListedPacket::Of(Sized(1, 0, 0), 0, 9)), ListAppend::kCapped);
  EXPECT_EQ(PacketListAppend(pool, l, 3, ListedPacket::Of(Sized(1, 0, 0), 0, 9)), ListAppend::kRefused);
  EXPECT_EQ(l.listed, 3u);
  EXPECT_EQ(l.capped, 1);
  std::vector<ListedPacket> out;
  PacketListCopy(pool, l, out);
  EXPECT_EQ(out.size(), 3u);
}

TEST(PacketList, ReleaseReturnsEveryChunk) {
  ChunkPool pool;
  PacketList a{}, b{};
  for (uint32_t i = 0; i < 2 * kChunkPackets; ++i) {
    PacketListAppend(pool, a, 1000, ListedPacket::Of(Sized(1, 0, 0), 0, i));
    PacketListAppend(pool, b, 1000, ListedPacket::Of(Sized(2, 0, 0), 1, i));
  }
  EXPECT_EQ(pool.UsedBytes(), 4 * sizeof(Chunk));
  PacketListRelease(pool, a);
  EXPECT_EQ(pool.UsedBytes(), 2 * sizeof(Chunk));
  EXPECT_EQ(a.listed, 0u);
  EXPECT_EQ(a.head, 0u);
  // The other list is untouched; a released list is empty and can grow again.
  std::vector<ListedPacket> out;
  PacketListCopy(pool, b, out);
  EXPECT_EQ(out.size(), 2 * kChunkPackets);
  PacketListCopy(pool, a, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(PacketListAppend(pool, a, 1000, ListedPacket::Of(Sized(1, 0, 0), 0, 0)), ListAppend::kListedNewChunk);
}

}  // namespace
}  // namespace nfm
