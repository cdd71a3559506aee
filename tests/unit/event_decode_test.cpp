// SPDX-License-Identifier: MIT
// Golden-bytes tests for the live decoder (userspace/live/event_decode.hpp): hand-written
// 72-byte ring samples, annotated per field, must decode into the expected PacketMeta.
// Host-order fields are written little-endian (x86-64, arm64).
#include "live/event_decode.hpp"
#include "live/sample_dispatch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>
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

// kTcpV4 followed by a GRE trailer: outer 192.168.56.11 -> 192.168.56.12, key 0x01020304.
std::array<uint8_t, 112> TunnelSample() {
  std::array<uint8_t, 112> r{};
  std::memcpy(r.data(), kTcpV4.data(), 72);
  const uint8_t trailer[40] = {
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 56, 11,  // 72 outer_saddr
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 56, 12,  // 88 outer_daddr
      0x04, 0x03, 0x02, 0x01,                                      // 104 id (LE)
      NFM_TUNNEL_GRE, 1, 0, 0,                                     // 108 type, has_id, _pad
  };
  std::memcpy(r.data() + 72, trailer, 40);
  return r;
}

TEST(EventDecode, TunnelTrailer) {
  const auto r = TunnelSample();
  PacketMeta m;
  TunnelMeta t;
  ASSERT_EQ(DecodeTunnelEvent(r.data(), r.size(), 0, &m, &t), EventStatus::kOk);
  EXPECT_EQ(m.sport, 443);  // the event part as DecodeEvent reads it
  EXPECT_EQ(m.tunnel, kTunnelGre);
  EXPECT_EQ(t.type, kTunnelGre);
  EXPECT_EQ(t.has_id, 1);
  EXPECT_EQ(t.id, 0x01020304u);
  EXPECT_EQ(t.src[12], 192);
  EXPECT_EQ(t.src[15], 11);
  EXPECT_EQ(t.dst[15], 12);
  auto bad = r;
  bad[108] = 0;  // type none: not a trailer a program writes
  EXPECT_EQ(DecodeTunnelEvent(bad.data(), bad.size(), 0, &m, &t), EventStatus::kBadTrailer);
  bad[108] = 6;
  EXPECT_EQ(DecodeTunnelEvent(bad.data(), bad.size(), 0, &m, &t), EventStatus::kBadTrailer);
  EXPECT_EQ(DecodeTunnelEvent(r.data(), 72, 0, &m, &t), EventStatus::kBadSize);
  EXPECT_EQ(DecodeTunnelEvent(r.data(), 111, 0, &m, &t), EventStatus::kBadSize);
}

// The drain callback's body: bare events and trailer records reach the engine, every other
// length (short, between, long) and a bad trailer only count as bad; nothing is read past size.
struct FakeEngine {
  std::vector<PacketMeta> plain;
  std::vector<std::pair<PacketMeta, TunnelMeta>> tunnelled;
  bool throw_next = false;
};

PacketTarget FakeTarget(FakeEngine& e, bool keep_tunnels) {
  PacketTarget t;
  t.engine = &e;
  t.on_packet = [](void* p, const PacketMeta& m) {
    auto* f = static_cast<FakeEngine*>(p);
    if (f->throw_next) throw std::runtime_error("engine threw");
    f->plain.push_back(m);
  };
  if (keep_tunnels)
    t.on_tunnel_packet = [](void* p, const PacketMeta& m, const TunnelMeta& tu) {
      static_cast<FakeEngine*>(p)->tunnelled.emplace_back(m, tu);
    };
  return t;
}

TEST(SampleDispatch, RecordLengths) {
  FakeEngine e;
  const PacketTarget target = FakeTarget(e, true);
  uint64_t decoded = 0, bad = 0;
  const auto tun = TunnelSample();
  // Each record in a buffer of exactly its length, so a read past it is caught by ASan.
  for (size_t len : {size_t{0}, size_t{1}, size_t{8}, size_t{64}, size_t{71}, size_t{73}, size_t{80}, size_t{111},
                     size_t{113}, size_t{120}, size_t{4096}}) {
    std::vector<uint8_t> rec(len, 0xab);
    if (len > 0) std::memcpy(rec.data(), tun.data(), std::min(len, tun.size()));  // data() may be null
    EXPECT_EQ(DispatchSample(rec.data(), rec.size(), 0, target, &decoded, &bad), 0) << len;
  }
  EXPECT_EQ(bad, 11u);
  EXPECT_EQ(decoded, 0u);
  EXPECT_TRUE(e.plain.empty() && e.tunnelled.empty());
  std::vector<uint8_t> plain(kTcpV4.begin(), kTcpV4.end());
  EXPECT_EQ(DispatchSample(plain.data(), plain.size(), 0, target, &decoded, &bad), 0);
  std::vector<uint8_t> with(tun.begin(), tun.end());
  EXPECT_EQ(DispatchSample(with.data(), with.size(), 0, target, &decoded, &bad), 0);
  EXPECT_EQ(decoded, 2u);
  ASSERT_EQ(e.plain.size(), 1u);
  EXPECT_EQ(e.plain[0].tunnel, kTunnelNone);
  ASSERT_EQ(e.tunnelled.size(), 1u);
  EXPECT_EQ(e.tunnelled[0].second.id, 0x01020304u);
  // A trailer record whose engine keeps no tunnels: its event still counts, without the tunnel.
  FakeEngine e2;
  const PacketTarget no_tunnels = FakeTarget(e2, false);
  EXPECT_EQ(DispatchSample(with.data(), with.size(), 0, no_tunnels, &decoded, &bad), 0);
  ASSERT_EQ(e2.plain.size(), 1u);
  EXPECT_EQ(e2.plain[0].tunnel, kTunnelGre);
  // A bad version inside a trailer record, and a throwing engine (stops the poll).
  auto v0 = with;
  v0[63] = 0x02;
  EXPECT_EQ(DispatchSample(v0.data(), v0.size(), 0, target, &decoded, &bad), 0);
  EXPECT_EQ(bad, 12u);
  e.throw_next = true;
  EXPECT_EQ(DispatchSample(plain.data(), plain.size(), 0, target, &decoded, &bad), -ECANCELED);
}

}  // namespace
}  // namespace nfm::live
