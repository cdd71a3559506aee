// SPDX-License-Identifier: MIT
// DecodePacket2022 on tunnels: NetFlowMeter 2022 makes one packet for "a TCP layer anywhere"
// and one for "a UDP layer anywhere", with the outer IPv4 addresses and the outer protocol
// label (spec §1.1, D20). Expected values are hand-computed from the frames built here.
#include <gtest/gtest.h>

#include <cstring>

#include "../common/packet_builder.hpp"
#include "decode.hpp"

namespace nfm {
namespace {

using test::PacketBuilder;

constexpr uint8_t kOuterSrc[4] = {192, 0, 2, 1};

bool AddrIs(const uint8_t* a16, const uint8_t (&v4)[4]) {
  return a16[10] == 0xff && a16[11] == 0xff && std::memcmp(a16 + 12, v4, 4) == 0;
}

TEST(DecodeNfm2022, TcpInsideVxlanYieldsTwoPackets) {
  // Outer: Eth(14) IPv4(20) UDP(8) 192.0.2.1:40000 -> 192.0.2.2:4789, VXLAN(8);
  // inner: Eth(14) IPv4(20) TCP(20) 10.0.0.1:1234 -> 10.0.0.2:80 PSH|ACK win 1000, 10 B payload.
  std::vector<uint8_t> inner = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, 0x18, 1000).Payload(10).Bytes();
  std::vector<uint8_t> vxlan = {0x08, 0, 0, 0, 0, 0, 0x2a, 0};
  vxlan.insert(vxlan.end(), inner.begin(), inner.end());
  std::vector<uint8_t> frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").Udp(40000, 4789).Raw(vxlan).Bytes();
  ASSERT_EQ(frame.size(), 14u + 20 + 8 + 8 + 14 + 20 + 20 + 10);
  PacketMeta tcp, udp;
  bool two = false;
  ASSERT_EQ(DecodePacket2022(1, frame.data(), frame.size(), frame.size(), &tcp, &udp, &two, DecodeMode::kScapy2022),
            DecodeStatus::kOk);
  ASSERT_TRUE(two);
  // First: the inner TCP layer with the outer addresses and the outer protocol (17 -> "UDP").
  EXPECT_TRUE(AddrIs(tcp.saddr, kOuterSrc));
  EXPECT_EQ(tcp.proto, 17);
  EXPECT_TRUE(tcp.flags & kPktScapyTunnel);
  EXPECT_EQ(tcp.sport, 1234);
  EXPECT_EQ(tcp.dport, 80);
  EXPECT_EQ(tcp.tcp_flags, 0x18);
  EXPECT_EQ(tcp.window, 1000);
  EXPECT_EQ(tcp.l4_header_len, 20);
  EXPECT_EQ(tcp.payload_frame, 10u);
  // Second: the plain outer UDP packet; its payload is everything after the UDP header.
  EXPECT_EQ(udp.proto, 17);
  EXPECT_FALSE(udp.flags & kPktScapyTunnel);
  EXPECT_EQ(udp.sport, 40000);
  EXPECT_EQ(udp.dport, 4789);
  EXPECT_EQ(udp.l4_header_len, 8);
  EXPECT_EQ(udp.payload_frame, 8u + 14 + 20 + 20 + 10);
  // The strict decoder sees only the outer UDP packet.
  PacketMeta strict;
  bool two_strict = true;
  DecodePacket2022(1, frame.data(), frame.size(), frame.size(), &strict, &udp, &two_strict, DecodeMode::kStrict);
  EXPECT_FALSE(two_strict);
  EXPECT_EQ(strict.dport, 4789);
}

TEST(DecodeNfm2022, TcpInsideIpInIpIsOnePacketLabelledByOuterProtocol) {
  // Eth IPv4(proto 4) 192.0.2.1 -> 192.0.2.2, inner IPv4 10.0.0.1 -> 10.0.0.2 TCP 5555 -> 443 SYN.
  std::vector<uint8_t> inner = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(5555, 443, 0x02, 2000).Bytes();
  std::vector<uint8_t> frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").SetIpProto(4).Raw(inner).Bytes();
  PacketMeta m, second;
  bool two = true;
  ASSERT_EQ(DecodePacket2022(1, frame.data(), frame.size(), frame.size(), &m, &second, &two, DecodeMode::kScapy2022),
            DecodeStatus::kOk);
  EXPECT_FALSE(two);
  EXPECT_TRUE(AddrIs(m.saddr, kOuterSrc));
  EXPECT_EQ(m.proto, 4);  // the flow's label becomes "UDP" (outer protocol field != 6)
  EXPECT_TRUE(m.flags & kPktScapyTunnel);
  EXPECT_EQ(m.sport, 5555);
  EXPECT_EQ(m.dport, 443);
  EXPECT_EQ(m.tcp_flags, 0x02);
  EXPECT_EQ(m.payload_frame, 0u);
}

TEST(DecodeNfm2022, UdpInsideGre) {
  // GRE with key (flags 0x20, 8 bytes), proto 0x0800, inner IPv4 UDP 53 -> 5353 with 4 B payload.
  std::vector<uint8_t> gre = {0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7};
  std::vector<uint8_t> inner = PacketBuilder().IPv4("10.1.0.1", "10.1.0.2").Udp(53, 5353).Payload(4).Bytes();
  gre.insert(gre.end(), inner.begin(), inner.end());
  std::vector<uint8_t> frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").SetIpProto(47).Raw(gre).Bytes();
  PacketMeta m, second;
  bool two = true;
  ASSERT_EQ(DecodePacket2022(1, frame.data(), frame.size(), frame.size(), &m, &second, &two, DecodeMode::kScapy2022),
            DecodeStatus::kOk);
  EXPECT_FALSE(two);
  EXPECT_EQ(m.proto, 47);
  EXPECT_TRUE(m.flags & kPktScapyTunnel);
  EXPECT_EQ(m.sport, 53);
  EXPECT_EQ(m.dport, 5353);
  EXPECT_EQ(m.l4_header_len, 8);
  EXPECT_EQ(m.payload_frame, 4u);
}

}  // namespace
}  // namespace nfm
