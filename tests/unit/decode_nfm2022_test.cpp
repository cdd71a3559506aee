// SPDX-License-Identifier: MIT
// DecodePacket on tunnels: NetFlowMeter 2022 makes one packet for "a TCP layer anywhere"
// and one for "a UDP layer anywhere", with the outer IPv4 addresses and the outer protocol
// label (spec §1.1, D20). Expected values are hand-computed from the frames built here.
#include <gtest/gtest.h>

#include <cstring>

#include "../common/packet_builder.hpp"
#include "source/decode.hpp"

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
  ASSERT_EQ(DecodePacket(1, frame.data(), frame.size(), frame.size(), &tcp, &udp, &two, DecodeMode::kScapy2022),
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
  DecodePacket(1, frame.data(), frame.size(), frame.size(), &strict, &udp, &two_strict, DecodeMode::kStrict);
  EXPECT_FALSE(two_strict);
  EXPECT_EQ(strict.dport, 4789);
}

TEST(DecodeNfm2022, TcpInsideIpInIpIsOnePacketLabelledByOuterProtocol) {
  // Eth IPv4(proto 4) 192.0.2.1 -> 192.0.2.2, inner IPv4 10.0.0.1 -> 10.0.0.2 TCP 5555 -> 443 SYN.
  std::vector<uint8_t> inner = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(5555, 443, 0x02, 2000).Bytes();
  std::vector<uint8_t> frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").SetIpProto(4).Raw(inner).Bytes();
  PacketMeta m, second;
  bool two = true;
  ASSERT_EQ(DecodePacket(1, frame.data(), frame.size(), frame.size(), &m, &second, &two, DecodeMode::kScapy2022),
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
  ASSERT_EQ(DecodePacket(1, frame.data(), frame.size(), frame.size(), &m, &second, &two, DecodeMode::kScapy2022),
            DecodeStatus::kOk);
  EXPECT_FALSE(two);
  EXPECT_EQ(m.proto, 47);
  EXPECT_TRUE(m.flags & kPktScapyTunnel);
  EXPECT_EQ(m.sport, 53);
  EXPECT_EQ(m.dport, 5353);
  EXPECT_EQ(m.l4_header_len, 8);
  EXPECT_EQ(m.payload_frame, 4u);
}

// ---- Layers scapy 2.5's default set does not bind, and PPP-based tunnels -----------------
// Expected values follow scapy 2.5's dissection rules (scapy/layers/l2.py, ppp.py, l2tp.py;
// each case was also dissected with scapy 2.5.0 itself while writing these tests).

DecodeStatus Decode2022(uint32_t link, const std::vector<uint8_t>& frame, PacketMeta* m, PacketMeta* second,
                        bool* two) {
  *two = false;
  return DecodePacket(link, frame.data(), static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size()),
                          m, second, two, DecodeMode::kScapy2022);
}

TEST(DecodeNfm2022, MplsAnd9100CarryNoIpForScapy) {
  // scapy.contrib.mpls is not loaded by `from scapy.all import *`, and no layer is bound to
  // EtherType 0x9100: both frames are Ether / Raw, so NetFlowMeter 2022 never counts them.
  // The strict decoder (corrected profile) follows both. Counted as unsupported_encap.
  const auto mpls = PacketBuilder().Eth().Mpls(100).IPv4("10.0.0.1", "10.0.0.2").Tcp(1, 2).Bytes();
  const auto q9100 = PacketBuilder().Eth().Vlan(10, 0x9100).IPv4("10.0.0.1", "10.0.0.2").Tcp(1, 2).Bytes();
  const auto q8100_9100 =
      PacketBuilder().Eth().Vlan(10).Vlan(11, 0x9100).IPv4("10.0.0.1", "10.0.0.2").Tcp(1, 2).Bytes();
  for (const auto* f : {&mpls, &q9100, &q8100_9100}) {
    PacketMeta m, second;
    bool two;
    EXPECT_EQ(Decode2022(1, *f, &m, &second, &two), DecodeStatus::kUnsupportedEncap);
    PacketMeta strict;
    EXPECT_EQ(DecodePacket(1, f->data(), static_cast<uint32_t>(f->size()), static_cast<uint32_t>(f->size()), &strict),
              DecodeStatus::kOk);
    EXPECT_EQ(strict.sport, 1);
  }
  // 802.1ad on Linux cooked captures: scapy binds it under a field name CookedLinux lacks.
  const auto sll = PacketBuilder().Sll(0, 0x88a8).Vlan(5, 0x8100).IPv4("10.0.0.1", "10.0.0.2").Tcp(1, 2).Bytes();
  PacketMeta m, second;
  bool two;
  EXPECT_EQ(Decode2022(113, sll, &m, &second, &two), DecodeStatus::kNotIp);
}

// scapy 2.5 follows 802.1Q and 802.1ad tags until Python's recursion limit: a bare
// Ether(frame) call (/usr/bin/python3, scapy 2.5.0) still finds IP under 196 tags and gives
// Raw under 197. The strict decoder stops after 8 (decode.hpp).
TEST(DecodeNfm2022, TagDepthIsScapysRecursionLimit) {
  auto stack = [](int n, uint16_t tpid) {
    PacketBuilder b;
    b.Eth();
    for (int i = 0; i < n; ++i) b.Vlan(uint16_t(i & 0xfff), (i % 2) ? 0x8100 : tpid);
    return b.IPv4("10.0.0.1", "10.0.0.2").Tcp(1, 2).Bytes();
  };
  for (int n : {3, 4, 8, 9, 20, 196}) {
    PacketMeta m, second;
    bool two;
    const auto f = stack(n, 0x88a8);
    EXPECT_EQ(Decode2022(1, f, &m, &second, &two), DecodeStatus::kOk) << n << " tags";
    EXPECT_EQ(m.sport, 1) << n << " tags";
    PacketMeta strict;
    EXPECT_EQ(DecodePacket(1, f.data(), uint32_t(f.size()), uint32_t(f.size()), &strict),
              n <= 8 ? DecodeStatus::kOk : DecodeStatus::kMalformed)
        << n << " tags";
  }
  PacketMeta m, second;
  bool two;
  EXPECT_EQ(Decode2022(1, stack(197, 0x8100), &m, &second, &two), DecodeStatus::kMalformed);
}

// Encapsulations scapy 2.5's default layers do not dissect (Ether(type=...) / Raw, checked
// with /usr/bin/python3 scapy 2.5.0: 0x88e7, 0x8926, 0x8903, 0x894f, 0x88e5; PPP 0x0281 is
// "PPP / Raw"; IP / AH keeps the TCP header inside AH's Raw payload): NetFlowMeter 2022 never
// counts these frames, the strict decoder (corrected profile) does.
TEST(DecodeNfm2022, EncapsulationsScapyDoesNotDissect) {
  const char* a = "10.0.0.1";
  const char* b = "10.0.0.2";
  struct Case {
    const char* name;
    uint32_t link;
    std::vector<uint8_t> frame;
    DecodeStatus scapy;
  };
  std::vector<uint8_t> ppp_mpls = {0xff, 0x03, 0x02, 0x81, 0x00, 0x06, 0x41, 0x40};
  const auto ip = PacketBuilder().IPv4(a, b).Tcp(1, 2).Bytes();
  ppp_mpls.insert(ppp_mpls.end(), ip.begin(), ip.end());
  const Case cases[] = {
      {"pbb", 1, PacketBuilder().Eth().Pbb().IPv4(a, b).Tcp(1, 2).Bytes(), DecodeStatus::kUnsupportedEncap},
      {"vntag", 1, PacketBuilder().Eth().VnTag().IPv4(a, b).Tcp(1, 2).Bytes(), DecodeStatus::kUnsupportedEncap},
      {"fabricpath", 1, PacketBuilder().Eth().FabricPath().IPv4(a, b).Tcp(1, 2).Bytes(),
       DecodeStatus::kUnsupportedEncap},
      {"nsh", 1, PacketBuilder().Eth().Nsh(2).IPv4(a, b).Tcp(1, 2).Bytes(), DecodeStatus::kUnsupportedEncap},
      {"macsec", 1, PacketBuilder().Eth().Macsec(0).IPv4(a, b).Tcp(1, 2).Trailer(16).Bytes(),
       DecodeStatus::kUnsupportedEncap},
      {"ppp_mpls", 9, ppp_mpls, DecodeStatus::kUnsupportedEncap},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PacketMeta m, second;
    bool two;
    EXPECT_EQ(Decode2022(c.link, c.frame, &m, &second, &two), c.scapy);
    EXPECT_FALSE(two);
    PacketMeta strict;
    ASSERT_EQ(DecodePacket(c.link, c.frame.data(), static_cast<uint32_t>(c.frame.size()),
                           static_cast<uint32_t>(c.frame.size()), &strict),
              DecodeStatus::kOk);
    EXPECT_EQ(strict.proto, 6);
    EXPECT_EQ(strict.sport, 1);
  }
  // Encrypted MACsec is counted as encrypted in both views.
  const auto enc = PacketBuilder().Eth().Macsec(0x2c).Payload(60).Bytes();
  PacketMeta m, second;
  bool two;
  EXPECT_EQ(Decode2022(1, enc, &m, &second, &two), DecodeStatus::kEncrypted);
  // IPv4 AH: scapy stops at AH, so the packet stays protocol 51 without ports (the engine
  // then skips it in nfm2022 as a protocol NetFlowMeter ignores); strict walks to TCP.
  const auto ah = PacketBuilder().Eth().IPv4(a, b).Ah(6).Tcp(1234, 80).Payload(4).Bytes();
  ASSERT_EQ(Decode2022(1, ah, &m, &second, &two), DecodeStatus::kOk);
  EXPECT_EQ(m.proto, 51);
  EXPECT_EQ(m.sport, 0);
  EXPECT_FALSE(two);
  ASSERT_EQ(DecodePacket(1, ah.data(), static_cast<uint32_t>(ah.size()), static_cast<uint32_t>(ah.size()), &m),
            DecodeStatus::kOk);
  EXPECT_EQ(m.proto, 6);
  EXPECT_EQ(m.sport, 1234);
}

TEST(DecodeNfm2022, PppoeProtocolFieldCompressionAndCode) {
  // PPPoE session header with a 1-byte PPP protocol 0x21 (RFC 1661 PFC; scapy's PPP writes and
  // reads it so): IPv4 follows after 6 + 1 bytes.
  std::vector<uint8_t> ppp = {0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x21};
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, 0x10, 500).Payload(3).Bytes();
  ppp.insert(ppp.end(), ip.begin(), ip.end());
  ppp[5] = static_cast<uint8_t>(ppp.size() - 6);
  auto frame = PacketBuilder().Eth(0x8864).Raw(ppp).Bytes();
  for (DecodeMode mode : {DecodeMode::kScapy2022, DecodeMode::kStrict}) {
    PacketMeta m;
    ASSERT_EQ(DecodePacket(1, frame.data(), static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size()), &m,
                           mode),
              DecodeStatus::kOk);
    EXPECT_EQ(m.sport, 1234);
    EXPECT_EQ(m.window, 500);
    EXPECT_EQ(m.payload_frame, 3u);
  }
  // A PPPoE code other than 0 (session data) is not PPP for scapy (bind_layers(PPPoE, PPP, code=0)).
  frame[14 + 1] = 0x07;
  PacketMeta m, second;
  bool two;
  EXPECT_EQ(Decode2022(1, frame, &m, &second, &two), DecodeStatus::kNotIp);
}

TEST(DecodeNfm2022, TcpInsideL2tpYieldsTwoPackets) {
  // UDP 1701 -> 1701, L2TPv2 data header with L and S set (0x4802): len(2) tunnel(2) session(2)
  // Ns(2) Nr(2) = 12 bytes, then PPP with HDLC ff 03 and protocol 0x0021, then IPv4/TCP
  // 10.0.0.1:1234 -> 10.0.0.2:80 ACK win 700 with 5 B payload.
  std::vector<uint8_t> l2tp = {0x48, 0x02, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0x21};
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, 0x10, 700).Payload(5).Bytes();
  l2tp.insert(l2tp.end(), ip.begin(), ip.end());
  const auto frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").Udp(1701, 1701).Raw(l2tp).Bytes();
  PacketMeta tcp, udp;
  bool two;
  ASSERT_EQ(Decode2022(1, frame, &tcp, &udp, &two), DecodeStatus::kOk);
  ASSERT_TRUE(two);
  EXPECT_TRUE(AddrIs(tcp.saddr, kOuterSrc));
  EXPECT_EQ(tcp.proto, 17);
  EXPECT_EQ(tcp.sport, 1234);
  EXPECT_EQ(tcp.dport, 80);
  EXPECT_EQ(tcp.window, 700);
  EXPECT_EQ(tcp.payload_frame, 5u);
  EXPECT_EQ(udp.sport, 1701);
  EXPECT_EQ(udp.payload_frame, l2tp.size());
  // O set without T: a 2-byte offset field padded to 4 bytes, then 1-byte PPP protocol.
  std::vector<uint8_t> l2tp_o = {0x02, 0x02, 0, 1, 0, 2, 0, 0, 0, 0, 0x21};
  l2tp_o.insert(l2tp_o.end(), ip.begin(), ip.end());
  const auto frame_o = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").Udp(1701, 40000).Raw(l2tp_o).Bytes();
  ASSERT_EQ(Decode2022(1, frame_o, &tcp, &udp, &two), DecodeStatus::kOk);
  EXPECT_TRUE(two);
  EXPECT_EQ(tcp.sport, 1234);
  // The strict decoder does not open tunnels.
  PacketMeta strict;
  ASSERT_EQ(DecodePacket(1, frame.data(), static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size()), &strict),
            DecodeStatus::kOk);
  EXPECT_EQ(strict.sport, 1701);
}

TEST(DecodeNfm2022, TcpInsidePptpGre) {
  // GRE_PPTP (proto 0x880b): K, S and A set (0x30 0x81): payload_len(2) call_id(2) seq(4)
  // ack(4) = 16 bytes, PPP with 2-byte protocol 0x0021, IPv4/TCP SYN 4000 -> 22.
  std::vector<uint8_t> gre = {0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0x00, 0x21};
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(4000, 22, 0x02, 1000).Bytes();
  gre.insert(gre.end(), ip.begin(), ip.end());
  const auto frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").SetIpProto(47).Raw(gre).Bytes();
  PacketMeta m, second;
  bool two;
  ASSERT_EQ(Decode2022(1, frame, &m, &second, &two), DecodeStatus::kOk);
  EXPECT_FALSE(two);
  EXPECT_EQ(m.proto, 47);
  EXPECT_TRUE(m.flags & kPktScapyTunnel);
  EXPECT_EQ(m.sport, 4000);
  EXPECT_EQ(m.dport, 22);
  EXPECT_EQ(m.tcp_flags, 0x02);
}

TEST(DecodeNfm2022, GreRoutingHidesThePayloadAndGreVlanIsFollowed) {
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(4000, 22, 0x02, 1000).Bytes();
  // R set: scapy dissects GRErouting after the header, never IP.
  std::vector<uint8_t> gre_r = {0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0};
  gre_r.insert(gre_r.end(), ip.begin(), ip.end());
  const auto frame_r = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").SetIpProto(47).Raw(gre_r).Bytes();
  PacketMeta m, second;
  bool two;
  ASSERT_EQ(Decode2022(1, frame_r, &m, &second, &two), DecodeStatus::kOk);
  EXPECT_FALSE(m.flags & kPktScapyTunnel);
  EXPECT_EQ(m.sport, 0);
  // proto 0x8100: Dot1Q, then IPv4/TCP.
  std::vector<uint8_t> gre_q = {0x00, 0x00, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00};
  gre_q.insert(gre_q.end(), ip.begin(), ip.end());
  const auto frame_q = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").SetIpProto(47).Raw(gre_q).Bytes();
  ASSERT_EQ(Decode2022(1, frame_q, &m, &second, &two), DecodeStatus::kOk);
  EXPECT_TRUE(m.flags & kPktScapyTunnel);
  EXPECT_EQ(m.sport, 4000);
}

TEST(DecodeNfm2022, UdpLengthBoundsTheVxlanPayload) {
  // UDP length 20 leaves 12 bytes for VXLAN (8) + 4: the inner Ethernet header does not fit,
  // so only the outer UDP packet exists (scapy: VXLAN / Raw / Padding).
  const auto inner = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80).Bytes();
  std::vector<uint8_t> vxlan = {0x08, 0, 0, 0, 0, 0, 0x2a, 0};
  vxlan.insert(vxlan.end(), inner.begin(), inner.end());
  auto frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").Udp(40000, 4789).Raw(vxlan).Bytes();
  frame[14 + 20 + 4] = 0;
  frame[14 + 20 + 5] = 20;
  PacketMeta m, second;
  bool two;
  ASSERT_EQ(Decode2022(1, frame, &m, &second, &two), DecodeStatus::kOk);
  EXPECT_FALSE(two);
  EXPECT_EQ(m.sport, 40000);
}

TEST(DecodeNfm2022, IPv4InsideIPv6IsCountedWithTheInnerAddresses) {
  // 4in6: NetFlowMeter 2022 looks for pkt[IP] (the first IPv4 layer) anywhere, so the outer
  // IPv6 packet is counted with the inner IPv4 addresses, label and ports.
  const auto inner = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, 0x10, 900).Payload(7).Bytes();
  const auto frame = PacketBuilder().Eth().IPv6("2001:db8::1", "2001:db8::2").SetIpProto(4).Raw(inner).Bytes();
  PacketMeta m, second;
  bool two;
  ASSERT_EQ(Decode2022(1, frame, &m, &second, &two), DecodeStatus::kOk);
  EXPECT_FALSE(two);
  const uint8_t want[4] = {10, 0, 0, 1};
  EXPECT_TRUE(AddrIs(m.saddr, want));
  EXPECT_EQ(m.ip_version, 4);
  EXPECT_EQ(m.proto, 6);
  EXPECT_EQ(m.sport, 1234);
  EXPECT_EQ(m.payload_frame, 7u);
  // VXLAN over IPv6 carrying IPv4/TCP: two packets, both with the inner IPv4 addresses and the
  // inner protocol label (6); the second has the outer UDP ports.
  std::vector<uint8_t> vxlan = {0x08, 0, 0, 0, 0, 0, 0x2a, 0};
  const auto inner_eth = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80).Bytes();
  vxlan.insert(vxlan.end(), inner_eth.begin(), inner_eth.end());
  const auto frame6 = PacketBuilder().Eth().IPv6("2001:db8::1", "2001:db8::2").Udp(40000, 4789).Raw(vxlan).Bytes();
  ASSERT_EQ(Decode2022(1, frame6, &m, &second, &two), DecodeStatus::kOk);
  ASSERT_TRUE(two);
  EXPECT_TRUE(AddrIs(m.saddr, want));
  EXPECT_EQ(m.sport, 1234);
  EXPECT_TRUE(AddrIs(second.saddr, want));
  EXPECT_EQ(second.proto, 6);
  EXPECT_EQ(second.sport, 40000);
  EXPECT_EQ(second.dport, 4789);
  // Plain IPv6 stays IPv6 (not counted by the profile).
  const auto plain = PacketBuilder().Eth().IPv6("2001:db8::1", "2001:db8::2").Tcp(1, 2).Bytes();
  ASSERT_EQ(Decode2022(1, plain, &m, &second, &two), DecodeStatus::kOk);
  EXPECT_EQ(m.ip_version, 6);
}

// IEEE 802.11 as scapy 2.5 dissects it (dot11.py, l2.py): RadioTap with the Flags FCS bit
// hands over to Dot11FCS, whose FCS field takes the last 4 bytes off the frame (so they are not
// TCP payload); Dot11QoS is 2 bytes whatever the Order bit says; null-data frames still get an
// LLC layer; SNAP's OUI is not checked and code 1 carries an Ethernet frame; RadioTap's payload
// starts at max(length field, the fields it parsed). Expected values computed by hand.
namespace wifi {
std::vector<uint8_t> Cat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
std::vector<uint8_t> MacHeader(uint8_t fc0, uint8_t fc1) {  // FC, ID, addr1-3, SC: 24 bytes
  std::vector<uint8_t> h = {fc0, fc1, 0, 0};
  for (int i = 0; i < 18; ++i) h.push_back(uint8_t(0x20 + i));
  h.push_back(0x50);
  h.push_back(0x00);
  return h;
}
const std::vector<uint8_t> kSnapIpv4 = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00};
DecodeStatus Decode(uint32_t link, const std::vector<uint8_t>& f, PacketMeta* m, DecodeMode mode) {
  return DecodePacket(link, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), m, mode);
}
}  // namespace wifi

TEST(DecodeNfm2022, RadiotapFcsIsNotPayload) {
  using namespace wifi;
  // IPv4 total length 50 (TCP 20 + 10 payload), then 6 bytes of padding, then the FCS.
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, 0x18, 1000).Payload(10).Bytes();
  const std::vector<uint8_t> rt = {0, 0, 9, 0, 0x02, 0, 0, 0, 0x10};  // Flags = FCS
  const auto f = Cat(Cat(Cat(Cat(rt, MacHeader(0x08, 0x02)), kSnapIpv4), ip), {1, 2, 3, 4, 5, 6, 0xde, 0xad, 0xbe, 0xef});
  PacketMeta m;
  ASSERT_EQ(Decode(127, f, &m, DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  EXPECT_EQ(m.dport, 80);
  EXPECT_EQ(m.l4_header_len, 20);
  EXPECT_EQ(m.payload_frame, 16u);  // 10 payload + 6 padding; the 4 FCS bytes are a Dot11FCS field
  EXPECT_TRUE(AddrIs(m.saddr, {10, 0, 0, 1}));
  // Without the FCS flag the last 4 bytes are payload too.
  auto g = f;
  g[8] = 0x00;
  ASSERT_EQ(Decode(127, g, &m, DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 20u);
  // LINKTYPE_IEEE802_11 itself: Dot11 without FCS.
  g = std::vector<uint8_t>(f.begin() + 9, f.end());
  ASSERT_EQ(Decode(105, g, &m, DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 20u);
}

TEST(DecodeNfm2022, Dot11WhereScapyAndTheStandardDiffer) {
  using namespace wifi;
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Udp(5000, 53).Payload(3).Bytes();
  PacketMeta m;
  struct Case {
    const char* name;
    std::vector<uint8_t> frame;
    DecodeStatus scapy, strict;
  };
  const Case cases[] = {
      // QoS Data with the Order bit and no HT Control: scapy reads LLC right after QoS Control.
      {"qos order", Cat(Cat(Cat(MacHeader(0x88, 0x81), {0, 0}), kSnapIpv4), ip), DecodeStatus::kOk, DecodeStatus::kNotIp},
      // Null data (subtype 4) with a body: scapy binds LLC to every data frame.
      {"null data", Cat(Cat(MacHeader(0x48, 0x01), kSnapIpv4), ip), DecodeStatus::kOk, DecodeStatus::kNotIp},
      // SNAP with an arbitrary OUI: scapy only looks at the code.
      {"oui", Cat(Cat(MacHeader(0x08, 0x01), {0xaa, 0xaa, 0x03, 0x12, 0x34, 0x56, 0x08, 0x00}), ip),
       DecodeStatus::kOk, DecodeStatus::kNotIp},
      // SNAP code 1: an Ethernet frame follows (bind_layers(SNAP, Ether, code=1)).
      {"snap ether", Cat(Cat(MacHeader(0x08, 0x01), {0xaa, 0xaa, 0x03, 0, 0, 0, 0x00, 0x01}),
                         PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Udp(5000, 53).Payload(3).Bytes()),
       DecodeStatus::kOk, DecodeStatus::kNotIp},
      // Protected frames: Dot11Encrypted, no IP in either view (counted as encrypted).
      {"protected", Cat(Cat(MacHeader(0x08, 0x41), kSnapIpv4), ip), DecodeStatus::kEncrypted,
       DecodeStatus::kEncrypted},
      // Management frames never carry LLC.
      {"beacon", Cat(Cat(MacHeader(0x80, 0x00), kSnapIpv4), ip), DecodeStatus::kNotIp, DecodeStatus::kNotIp},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Decode(105, c.frame, &m, DecodeMode::kScapy2022), c.scapy) << c.name;
    if (c.scapy == DecodeStatus::kOk) {
      EXPECT_EQ(m.sport, 5000) << c.name;
      EXPECT_EQ(m.l4_header_len, 8) << c.name;
      EXPECT_EQ(m.payload_frame, 3u) << c.name;
    }
    EXPECT_EQ(Decode(105, c.frame, &m, DecodeMode::kStrict), c.strict) << c.name;
  }
}

TEST(DecodeNfm2022, RadiotapLayoutAsScapyParsesIt) {
  using namespace wifi;
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, 0x10, 1000).Payload(2).Bytes();
  const auto mpdu = Cat(Cat(MacHeader(0x08, 0x01), kSnapIpv4), ip);
  PacketMeta m;
  // Length field 8 but TSFT|Flags present: scapy parses TSFT (8..16) and Flags (16) anyway and
  // the 802.11 frame starts at max(8, 17) = 17.
  auto f = Cat({0, 0, 8, 0, 0x03, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x00}, mpdu);
  ASSERT_EQ(Decode(127, f, &m, DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  EXPECT_EQ(m.payload_frame, 2u);
  // The data-pad flag (0x20) means nothing to scapy: with the 2 pad bytes radiotap.org
  // prescribes after a 26-byte QoS header, its LLC starts on the pad bytes (no IP), while the
  // strict decoder skips them.
  f = Cat(Cat(Cat(Cat({0, 0, 9, 0, 0x02, 0, 0, 0, 0x20}, MacHeader(0x88, 0x01)), {0, 0, 0, 0}), kSnapIpv4), ip);
  EXPECT_EQ(Decode(127, f, &m, DecodeMode::kScapy2022), DecodeStatus::kNotIp);
  ASSERT_EQ(Decode(127, f, &m, DecodeMode::kStrict), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  // TSFT forces 8-byte alignment after an extended bitmap: present words at 4 and 8, TSFT at
  // 16..24, Flags (FCS) at 24; length 25.
  f = Cat(Cat({0, 0, 25, 0, 0x03, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x10}, mpdu),
          {0xde, 0xad, 0xbe, 0xef});
  ASSERT_EQ(Decode(127, f, &m, DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 2u);
  ASSERT_EQ(Decode(127, f, &m, DecodeMode::kStrict), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 2u);
  // The TLV bit (28): scapy's TLV list swallows the rest of the frame.
  f = Cat({0, 0, 8, 0, 0, 0, 0, 0x10}, mpdu);
  EXPECT_EQ(Decode(127, f, &m, DecodeMode::kScapy2022), DecodeStatus::kNotIp);
  // Prism (144 bytes) and PPI (length 8, DLT 105) in front of the same frame.
  std::vector<uint8_t> prism(144, 0);
  prism[0] = 0x44;
  prism[4] = 144;
  ASSERT_EQ(Decode(119, Cat(prism, mpdu), &m, DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  ASSERT_EQ(Decode(192, Cat({0, 0, 8, 0, 105, 0, 0, 0}, mpdu), &m, DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
}

}  // namespace
}  // namespace nfm
