// SPDX-License-Identifier: MIT
// Golden-bytes tests for the live decoder (userspace/live/event_decode.hpp): hand-written
// 72-byte ring samples, annotated per field, must decode into the expected PacketMeta.
// Host-order fields are written little-endian (x86-64, arm64).
#include "live/event_decode.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

namespace nfm::live {
namespace {

using Sample = std::array<uint8_t, 72>;

// IPv4 TCP 10.0.0.1:443 -> 10.0.0.2:51000, PSH|ACK, seen on egress, 1514-byte frame.
constexpr Sample kTcpV4 = {
    0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00,  //  0 ts_ns = 0x0102030405 (LE)
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        //  8 saddr ::ffff:
    10, 0, 0, 1,                                     //    10.0.0.1
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        // 24 daddr ::ffff:
    10, 0, 0, 2,                                     //    10.0.0.2
    0xea, 0x05, 0x00, 0x00,                          // 40 frame_len = 1514 (LE)
    0xa8, 0x05, 0x00, 0x00,                          // 44 payload_len = 1448 (LE)
    0x03, 0x00, 0x00, 0x00,                          // 48 ifindex = 3 (LE)
    0x01, 0xbb,                                      // 52 sport = 443 (network order)
    0xc7, 0x38,                                      // 54 dport = 51000 (network order)
    0xf6, 0x01,                                      // 56 window = 502 (LE)
    0x22, 0x00,                                      // 58 l4_off = 34 (LE)
    32,                                              // 60 l4_hdr_len = 32 (doff 8)
    6,                                               // 61 proto = TCP
    0x18,                                            // 62 tcp_flags = PSH|ACK
    0x42,                                            // 63 info = version 2 << 5 | EGRESS
    0x78, 0x56, 0x34, 0x12,                          // 64 tcp_seq = 0x12345678 (LE)
    0x01, 0x00, 0x00, 0xf0,                          // 68 tcp_ack = 0xf0000001 (LE)
};

PacketMeta MustDecode(const Sample& s, int64_t offset = 0) {
  PacketMeta m;
  EXPECT_EQ(DecodeEvent(s.data(), s.size(), offset, &m), EventStatus::kOk);
  return m;
}

TEST(EventDecode, GoldenTcpV4) {
  const PacketMeta m = MustDecode(kTcpV4, 1000);
  EXPECT_EQ(m.ts_ns, 0x0102030405ull + 1000);
  EXPECT_EQ(m.ts_exp, -9);
  const uint8_t s[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  const uint8_t d[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  EXPECT_EQ(std::memcmp(m.saddr, s, 16), 0);
  EXPECT_EQ(std::memcmp(m.daddr, d, 16), 0);
  EXPECT_EQ(m.wire_len, 1514u);
  EXPECT_EQ(m.cap_len, 1514u);
  EXPECT_EQ(m.payload_ip, 1448u);
  EXPECT_EQ(m.payload_frame, 1514u - 34 - 32);
  EXPECT_EQ(m.sport, 443);
  EXPECT_EQ(m.dport, 51000);
  EXPECT_EQ(m.window, 502);
  EXPECT_EQ(m.l4_header_len, 32);
  EXPECT_EQ(m.ip_version, 4);
  EXPECT_EQ(m.proto, 6);
  EXPECT_EQ(m.tcp_flags, 0x18);
  EXPECT_EQ(m.tcp_seq, 0x12345678u);
  EXPECT_EQ(m.tcp_ack, 0xf0000001u);
  EXPECT_EQ(m.flags, 0);
}

TEST(EventDecode, NegativeWallTimeClampsToZero) {
  EXPECT_EQ(MustDecode(kTcpV4, -0x0102030406ll).ts_ns, 0u);
}

TEST(EventDecode, Ipv6FlagSetsVersion) {
  Sample s = kTcpV4;
  s[63] = 0x40 | 0x01;  // version 2, IPV6, ingress
  EXPECT_EQ(MustDecode(s).ip_version, 6);
}

TEST(EventDecode, PaddedAckCountsPaddingInPayloadFrameOnly) {
  Sample s = kTcpV4;
  s[40] = 60; s[41] = 0;       // frame_len = 60 (minimum Ethernet frame)
  s[44] = 0; s[45] = 0;        // payload_len = 0
  s[60] = 20;                  // l4_hdr_len = 20
  s[62] = 0x10;                // ACK
  const PacketMeta m = MustDecode(s);
  EXPECT_EQ(m.payload_ip, 0u);
  EXPECT_EQ(m.payload_frame, 6u);  // 60 - 34 - 20
  EXPECT_EQ(m.flags, kPktEthPadding);
}

TEST(EventDecode, L4TruncatedHasNoHeaderOrPayload) {
  Sample s = kTcpV4;
  s[63] = 0x40 | 0x10;  // version 2, L4_TRUNC
  const PacketMeta m = MustDecode(s);
  EXPECT_EQ(m.flags, kPktL4Truncated);
  EXPECT_EQ(m.tcp_seq, 0u);  // no TCP header read: seq/ack not taken even if nonzero
  EXPECT_EQ(m.tcp_ack, 0u);
  EXPECT_EQ(m.l4_header_len, 0);
  EXPECT_EQ(m.payload_ip, 0u);
  EXPECT_EQ(m.payload_frame, 0u);
}

TEST(EventDecode, LaterFragment) {
  Sample s = kTcpV4;
  s[52] = s[53] = s[54] = s[55] = 0;  // no ports
  s[60] = 0;                          // no L4 header
  s[44] = 0xc8; s[45] = 0x05;         // payload_len = 1480 (bytes after the IP header)
  s[63] = 0x40 | 0x04 | 0x08;         // version 2, FRAG | LATER_FRAG
  const PacketMeta m = MustDecode(s);
  EXPECT_EQ(m.flags, kPktFragment | kPktLaterFragment);
  EXPECT_EQ(m.sport, 0);
  EXPECT_EQ(m.payload_frame, 1480u);  // 1514 - 34
  EXPECT_EQ(m.payload_ip, 1480u);
}

TEST(EventDecode, L4OffsetBeyondFrameClampsPayloadFrame) {
  Sample s = kTcpV4;
  s[40] = 40; s[41] = 0;  // frame_len 40 < l4_off + hl = 66
  EXPECT_EQ(MustDecode(s).payload_frame, 0u);
}

TEST(EventDecode, RejectsWrongSize) {
  PacketMeta m;
  m.sport = 7;
  EXPECT_EQ(DecodeEvent(kTcpV4.data(), 64, 0, &m), EventStatus::kBadSize);  // a version-1 event
  EXPECT_EQ(DecodeEvent(kTcpV4.data(), 71, 0, &m), EventStatus::kBadSize);
  EXPECT_EQ(m.sport, 7);  // untouched
}

TEST(EventDecode, RejectsWrongVersion) {
  Sample s = kTcpV4;
  PacketMeta m;
  s[63] = 0x02;  // version 0
  EXPECT_EQ(DecodeEvent(s.data(), s.size(), 0, &m), EventStatus::kBadVersion);
  s[63] = 0x20 | 0x02;  // version 1
  EXPECT_EQ(DecodeEvent(s.data(), s.size(), 0, &m), EventStatus::kBadVersion);
  s[63] = 0x60 | 0x02;  // version 3
  EXPECT_EQ(DecodeEvent(s.data(), s.size(), 0, &m), EventStatus::kBadVersion);
}

}  // namespace
}  // namespace nfm::live
