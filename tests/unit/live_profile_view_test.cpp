// SPDX-License-Identifier: MIT
// Tests of the live reference views (userspace/live/profile_view.hpp). Each case is a frame
// built with PacketBuilder, the PacketMeta the kernel event of that frame decodes to (written
// by hand from the event contract: what bpf/parse.bpf.h reports), and the offline reference
// decoder (DecodeCic / DecodePacketNtl, checked against the real tools' CSVs) as the oracle:
// after the view, every field the engine reads must equal the offline decode.
#include "live/profile_view.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "../common/packet_builder.hpp"
#include "source/decode_cic.hpp"
#include "source/decode_ntl.hpp"

namespace nfm::live {
namespace {

using test::kAck;
using test::kSyn;
using test::PacketBuilder;

// What DecodeEvent gives for a kernel event (event_decode.hpp), from the fields the BPF
// parser reports: frame length, l4 offset/header length, IP-bounded payload, flags.
PacketMeta LiveMeta(const std::vector<uint8_t>& frame, int ip_version, const char* s, const char* d, uint8_t proto,
                    uint16_t sport, uint16_t dport, uint32_t l4_off, uint16_t hl, uint32_t payload_ip,
                    uint16_t window = 0, uint8_t tcp_flags = 0, uint8_t flags = 0, uint32_t seq = 0,
                    uint32_t ack = 0) {
  PacketMeta m;
  m.ts_ns = 1'700'000'000'123'456'789ull;
  m.ts_exp = -9;
  m.ip_version = static_cast<uint8_t>(ip_version);
  if (ip_version == 4) {
    const auto a = test::ParseIpv4(s), b = test::ParseIpv4(d);
    m.saddr[10] = m.saddr[11] = m.daddr[10] = m.daddr[11] = 0xff;
    std::memcpy(m.saddr + 12, a.data(), 4);
    std::memcpy(m.daddr + 12, b.data(), 4);
  } else {
    const auto a = test::ParseIpv6(s), b = test::ParseIpv6(d);
    std::memcpy(m.saddr, a.data(), 16);
    std::memcpy(m.daddr, b.data(), 16);
  }
  m.wire_len = m.cap_len = static_cast<uint32_t>(frame.size());
  m.proto = proto;
  m.sport = sport;
  m.dport = dport;
  m.window = window;
  m.tcp_flags = tcp_flags;
  m.flags = flags;
  if (!(flags & kPktL4Truncated)) {
    m.l4_header_len = hl;
    m.payload_ip = payload_ip;
    const uint32_t end = l4_off + hl;
    m.payload_frame = frame.size() > end ? static_cast<uint32_t>(frame.size() - end) : 0;
    if (m.payload_frame > m.payload_ip) m.flags |= kPktEthPadding;
    m.tcp_seq = seq;
    m.tcp_ack = ack;
  }
  return m;
}

// The fields CicEngine (profile kCic) reads, compared one by one.
void ExpectCicFields(const PacketMeta& got, const PacketMeta& want, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(std::memcmp(got.saddr, want.saddr, 16), 0);
  EXPECT_EQ(std::memcmp(got.daddr, want.daddr, 16), 0);
  EXPECT_EQ(got.ip_version, want.ip_version);
  EXPECT_EQ(got.proto, want.proto);
  EXPECT_EQ(got.sport, want.sport);
  EXPECT_EQ(got.dport, want.dport);
  EXPECT_EQ(got.tcp_flags, want.tcp_flags);
  EXPECT_EQ(got.window, want.window);
  EXPECT_EQ(got.l4_header_len, want.l4_header_len);
  EXPECT_EQ(got.payload_ip, want.payload_ip);
  EXPECT_EQ(got.wire_len, want.wire_len);
  EXPECT_EQ(got.flags & (kPktLaterFragment | kPktFragment), want.flags & (kPktLaterFragment | kPktFragment));
}

PacketMeta Cic(const std::vector<uint8_t>& f) {
  PacketMeta m;
  EXPECT_EQ(DecodeCic(f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), &m),
            DecodeStatus::kOk);
  return m;
}

TEST(LiveCicView, Ipv6IsOutOfScope) {
  const auto f = PacketBuilder().Eth().IPv6("2001:db8::1", "2001:db8::2").Tcp(1, 2).Bytes();
  PacketMeta m = LiveMeta(f, 6, "2001:db8::1", "2001:db8::2", 6, 1, 2, 54, 20, 0, 65535, kAck, 0, 1, 0);
  SkipReason why = SkipReason::kCount;
  EXPECT_FALSE(CicView(&m, &why));
  EXPECT_EQ(why, SkipReason::kNotIp);
  PacketMeta off;  // the offline reference decoder drops it too
  EXPECT_EQ(DecodeCic(f.data(), uint32_t(f.size()), uint32_t(f.size()), &off), DecodeStatus::kNotIp);
}

TEST(LiveCicView, TcpWithEthernetPaddingMatchesOffline) {
  const auto f = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, kAck, 512).PadTo(60).Bytes();
  PacketMeta m = LiveMeta(f, 4, "10.0.0.1", "10.0.0.2", 6, 1234, 80, 34, 20, 0, 512, kAck, 0, 1, 0);
  EXPECT_EQ(m.payload_frame, 6u);  // padding, before the view
  SkipReason why;
  ASSERT_TRUE(CicView(&m, &why));
  EXPECT_EQ(m.payload_frame, 0u);  // untagged trailer cut (CIC.md §1.5)
  ExpectCicFields(m, Cic(f), "tcp padded");
}

TEST(LiveCicView, UdpMatchesOffline) {
  const auto f = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Udp(5353, 53).Payload(30).Bytes();
  PacketMeta m = LiveMeta(f, 4, "10.0.0.1", "10.0.0.2", 17, 5353, 53, 34, 8, 30);
  SkipReason why;
  ASSERT_TRUE(CicView(&m, &why));
  EXPECT_EQ(m.proto, 17);
  EXPECT_EQ(m.payload_ip, 30u);
  ExpectCicFields(m, Cic(f), "udp");
}

TEST(LiveCicView, IcmpBecomesProtocolZeroAsOffline) {
  const auto f = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Icmp().Payload(56).Bytes();
  PacketMeta m = LiveMeta(f, 4, "10.0.0.1", "10.0.0.2", 1, 0, 0, 34, 8, 56);
  SkipReason why;
  ASSERT_TRUE(CicView(&m, &why));
  EXPECT_EQ(m.proto, 0);  // hand value: PacketReader keeps TCP/UDP only (CIC.md §1.4)
  EXPECT_EQ(m.l4_header_len, 0);
  EXPECT_EQ(m.payload_ip, 0u);
  EXPECT_TRUE(m.flags & kPktL4Truncated);
  ExpectCicFields(m, Cic(f), "icmp");
}

TEST(LiveCicView, LaterFragmentBecomesProtocolZeroAsOffline) {
  const auto f = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Ipv4Frag(false, 3).Tcp(1, 2).Payload(4).Bytes();
  // Kernel: later fragment, no L4 header, ports 0, the fragment's data as payload.
  PacketMeta m = LiveMeta(f, 4, "10.0.0.1", "10.0.0.2", 6, 0, 0, 34, 0, 24, 0, 0, kPktFragment | kPktLaterFragment);
  SkipReason why;
  ASSERT_TRUE(CicView(&m, &why));
  EXPECT_EQ(m.proto, 0);
  EXPECT_EQ(m.payload_ip, 0u);
  EXPECT_FALSE(m.flags & kPktL4Truncated);
  ExpectCicFields(m, Cic(f), "later fragment");
}

TEST(LiveCicView, CutTcpHeaderBecomesProtocolZero) {
  PacketMeta m;
  m.ip_version = 4;
  m.proto = 6;
  m.flags = kPktL4Truncated;
  m.payload_ip = 0;
  SkipReason why;
  ASSERT_TRUE(CicView(&m, &why));
  EXPECT_EQ(m.proto, 0);
  EXPECT_EQ(m.l4_header_len, 0);
}

TEST(LiveNtlView, Ipv6IsOutOfScope) {
  const auto f = PacketBuilder().Eth().IPv6("2001:db8::1", "2001:db8::2").Tcp(1, 2).Bytes();
  PacketMeta m = LiveMeta(f, 6, "2001:db8::1", "2001:db8::2", 6, 1, 2, 54, 20, 0, 65535, kAck, 0, 1, 0);
  SkipReason why = SkipReason::kCount;
  EXPECT_FALSE(NtlView(&m, &why));
  EXPECT_EQ(why, SkipReason::kNotIp);
  PacketMeta off;
  EXPECT_EQ(DecodePacketNtl(1, f.data(), uint32_t(f.size()), uint32_t(f.size()), &off), DecodeStatus::kNotIp);
}

TEST(LiveNtlView, TcpMatchesDpktDecode) {
  // SYN/ACK with seq/ack, options and Ethernet padding (so the frame is longer than the IP packet).
  const auto f = PacketBuilder()
                     .Eth()
                     .IPv4("10.0.0.2", "10.0.0.1")
                     .Tcp(80, 1234, kSyn | kAck, 64240, 0x9abcdef0, 0x12345679)
                     .TcpOptions(4)
                     .PadTo(64)
                     .Bytes();
  PacketMeta m = LiveMeta(f, 4, "10.0.0.2", "10.0.0.1", 6, 80, 1234, 34, 24, 0, 64240, kSyn | kAck, 0, 0x9abcdef0,
                          0x12345679);
  SkipReason why;
  ASSERT_TRUE(NtlView(&m, &why));
  PacketMeta off;
  ASSERT_EQ(DecodePacketNtl(1, f.data(), uint32_t(f.size()), uint32_t(f.size()), &off), DecodeStatus::kOk);
  EXPECT_EQ(std::memcmp(m.saddr, off.saddr, 16), 0);
  EXPECT_EQ(std::memcmp(m.daddr, off.daddr, 16), 0);
  EXPECT_EQ(m.ip_version, off.ip_version);
  EXPECT_EQ(m.proto, off.proto);
  EXPECT_EQ(m.sport, off.sport);
  EXPECT_EQ(m.dport, off.dport);
  EXPECT_EQ(m.tcp_flags, off.tcp_flags);
  EXPECT_EQ(m.tcp_seq, off.tcp_seq);
  EXPECT_EQ(m.tcp_ack, off.tcp_ack);
  EXPECT_EQ(m.window, off.window);
  EXPECT_EQ(m.l4_header_len, off.l4_header_len);
  EXPECT_EQ(m.payload_ip, off.payload_ip);
  EXPECT_EQ(m.payload_frame, off.payload_frame);
  EXPECT_EQ(m.cap_len, off.cap_len);
  EXPECT_EQ(m.wire_len, off.wire_len);
  EXPECT_EQ(m.flags & ~kPktEthPadding, off.flags & ~kPktEthPadding);
  // Hand values, independent of both decoders.
  EXPECT_EQ(m.tcp_seq, 0x9abcdef0u);
  EXPECT_EQ(m.l4_header_len, 24);
  EXPECT_EQ(m.payload_frame, 0u);
}

}  // namespace
}  // namespace nfm::live
