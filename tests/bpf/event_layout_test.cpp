// SPDX-License-Identifier: MIT
// Golden-bytes test of the kernel/user contract struct nfm_pkt_event (include/nfm/event.h):
// offsets, no hidden padding, and a hand-written 64-byte record decoding to known fields.
// Needs no BPF privileges.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "nfm/event.h"

namespace {

static_assert(std::is_trivially_copyable_v<nfm_pkt_event>);
static_assert(std::is_standard_layout_v<nfm_pkt_event>);
static_assert(std::has_unique_object_representations_v<nfm_pkt_event>, "hidden padding");
// Field offsets and the 64-byte size: asserted in include/nfm/event.h, compiled here too.
// Counter slots need no pin here: tests/unit/counter_table_test.cpp fails for a slot without a metric.

// An IPv4 TCP SYN/ACK 10.0.0.1:1234 -> 10.0.0.2:80 seen by TC egress on ifindex 3, as the
// little-endian (x86) BPF program writes it.
constexpr unsigned char kGolden[64] = {
    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  //  0 ts_ns = 0x1122334455667788 (host)
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        //  8 saddr ::ffff:
    10, 0, 0, 1,                                     // 20   10.0.0.1
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        // 24 daddr ::ffff:
    10, 0, 0, 2,                                     // 36   10.0.0.2
    0x9a, 0x00, 0x00, 0x00,                          // 40 frame_len = 154 (host)
    0x64, 0x00, 0x00, 0x00,                          // 44 payload_len = 100 (host)
    0x03, 0x00, 0x00, 0x00,                          // 48 ifindex = 3 (host)
    0x04, 0xd2,                                      // 52 sport = 1234 (network)
    0x00, 0x50,                                      // 54 dport = 80 (network)
    0x00, 0x02,                                      // 56 window = 512 (host)
    0x22, 0x00,                                      // 58 l4_off = 34 (host)
    20,                                              // 60 l4_hdr_len
    6,                                               // 61 proto TCP
    0x12,                                            // 62 tcp_flags SYN|ACK
    0x22,                                            // 63 info: EGRESS (0x02) | version 1 << 5
};

TEST(EventLayout, GoldenBytesDecode) {
  nfm_pkt_event e;
  std::memcpy(&e, kGolden, sizeof(e));
  EXPECT_EQ(e.ts_ns, 0x1122334455667788ull);
  const unsigned char s[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  const unsigned char d[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  EXPECT_EQ(std::memcmp(e.saddr, s, 16), 0);
  EXPECT_EQ(std::memcmp(e.daddr, d, 16), 0);
  EXPECT_EQ(e.frame_len, 154u);
  EXPECT_EQ(e.payload_len, 100u);
  EXPECT_EQ(e.ifindex, 3u);
  EXPECT_EQ(ntohs(e.sport), 1234);
  EXPECT_EQ(ntohs(e.dport), 80);
  EXPECT_EQ(e.window, 512);
  EXPECT_EQ(e.l4_off, 34);
  EXPECT_EQ(e.l4_hdr_len, 20);
  EXPECT_EQ(e.proto, 6);
  EXPECT_EQ(e.tcp_flags, 0x12);
  EXPECT_EQ(e.info & NFM_INFO_EGRESS, NFM_INFO_EGRESS);
  EXPECT_EQ(e.info & (NFM_INFO_IPV6 | NFM_INFO_FRAG | NFM_INFO_LATER_FRAG | NFM_INFO_L4_TRUNC), 0);
  EXPECT_EQ(e.info >> NFM_INFO_VERSION_SHIFT, NFM_EVENT_VERSION);
}

TEST(EventLayout, RoundTripsEveryByte) {
  unsigned char in[64], out[64];
  for (int i = 0; i < 64; ++i) in[i] = static_cast<unsigned char>(i * 7 + 1);
  nfm_pkt_event e;
  std::memcpy(&e, in, 64);
  std::memcpy(out, &e, 64);
  EXPECT_EQ(std::memcmp(in, out, 64), 0);
}

}  // namespace
