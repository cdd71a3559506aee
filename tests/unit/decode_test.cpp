// SPDX-License-Identifier: MIT
// Tests for DecodePacket: table-driven cases over every supported link type, IPv4/IPv6 x
// TCP/UDP/ICMP, tag/label stacks, options, extension chains, fragments, malformed headers,
// and a truncation sweep. Expected values are computed by hand from the frame layout.
#include "source/decode.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../common/packet_builder.hpp"

namespace nfm {
namespace {

using test::PacketBuilder;
using test::kAck;
using test::kFin;
using test::kPsh;
using test::kSyn;

struct Case {
  std::string name;
  uint32_t link;
  std::vector<uint8_t> frame;
  DecodeStatus status;
  uint8_t ip_version;
  uint8_t proto;
  uint16_t sport, dport;
  uint16_t l4_header_len;
  uint32_t payload_frame, payload_ip;
  uint8_t flags;          // PacketFlag bits
  uint8_t tcp_flags = 0;
  uint16_t window = 0;
};

std::vector<Case> Cases() {
  const uint8_t F = kPktFragment, LF = kPktLaterFragment, TR = kPktL4Truncated,
                PAD = kPktEthPadding;
  std::vector<Case> c;
  // --- Ethernet, IPv4 -----------------------------------------------------------------------
  c.push_back({"eth_v4_tcp", 1,
               PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, kSyn, 65535)
                   .Payload(100).Bytes(),
               DecodeStatus::kOk, 4, 6, 1234, 80, 20, 100, 100, 0, kSyn, 65535});
  // IPv4 options (8 B) and TCP options (12 B): hl = 32.
  c.push_back({"eth_vlan_v4opts_tcpopts", 1,
               PacketBuilder().Eth().Vlan(10).IPv4("10.0.0.1", "10.0.0.2").Ipv4Options(8)
                   .Tcp(5, 6, kPsh | kAck, 1000).TcpOptions(12).Payload(5).Bytes(),
               DecodeStatus::kOk, 4, 6, 5, 6, 32, 5, 5, 0, kPsh | kAck, 1000});
  c.push_back({"eth_qinq_v4_udp", 1,
               PacketBuilder().Eth().QinQ(1, 2).IPv4("1.1.1.1", "2.2.2.2").Udp(53, 1000)
                   .Payload(30).Bytes(),
               DecodeStatus::kOk, 4, 17, 53, 1000, 8, 30, 30, 0});
  c.push_back({"eth_3tags_v6_tcp", 1,
               PacketBuilder().Eth().Vlan(1, 0x88a8).Vlan(2, 0x8100).Vlan(3, 0x9100)
                   .IPv6("2001:db8::1", "2001:db8::2").Tcp(443, 50000, kFin | kAck, 7).Bytes(),
               DecodeStatus::kOk, 6, 6, 443, 50000, 20, 0, 0, 0, kFin | kAck, 7});
  {
    PacketBuilder b8, b9;
    b8.Eth();
    b9.Eth();
    for (int i = 0; i < 8; ++i) b8.Vlan(uint16_t(i));
    for (int i = 0; i < 9; ++i) b9.Vlan(uint16_t(i));
    c.push_back({"eth_8tags_ok", 1, b8.IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
                 DecodeStatus::kOk, 4, 17, 1, 2, 8, 0, 0, 0});
    c.push_back({"eth_9tags_malformed", 1, b9.IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
                 DecodeStatus::kMalformed, 0, 0, 0, 0, 0, 0, 0, 0});
  }
  c.push_back({"eth_v4_icmp", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Icmp(8, 0).Payload(56).Bytes(),
               DecodeStatus::kOk, 4, 1, 0, 0, 8, 56, 56, 0});
  c.push_back({"eth_v4_gre_other", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").OtherL4(47, 4).Payload(10).Bytes(),
               DecodeStatus::kOk, 4, 47, 0, 0, 0, 14, 14, 0});
  // Pure ACK padded to 60 bytes: 6 padding bytes count in payload_frame only (spec §1.4).
  c.push_back({"eth_v4_ack_padded", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kAck, 9).PadTo(60)
                   .Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 6, 0, PAD, kAck, 9});
  // Captured FCS (4 bytes) after a 10-byte payload.
  c.push_back({"eth_v4_udp_fcs", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Payload(100)
                   .Trailer(4).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 104, 100, PAD});
  // IPv4 total length 0 (TSO): the rest of the frame is the IP packet.
  c.push_back({"eth_v4_totlen0", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").SetIpTotalLen(0)
                   .Tcp(1, 2, kAck, 1).Payload(100).Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 100, 100, 0, kAck, 1});
  // Total length 30 < 20 + 20: the TCP header does not fit the IP packet -> L4 truncated
  // (scapy would not decode TCP); 30 bytes of the IP packet + 30 bytes "padding".
  c.push_back({"eth_v4_totlen_short_tcp", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").SetIpTotalLen(30)
                   .Tcp(1, 2, kSyn, 77).Payload(20).Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 0, 0, 0, TR | PAD, kSyn, 77});
  c.push_back({"eth_v4_ihl4", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").SetIhl(4).Tcp(1, 2).Bytes(),
               DecodeStatus::kMalformed, 4, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"eth_v4_doff4", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kSyn, 5).SetDoff(4)
                   .Bytes(),
               DecodeStatus::kMalformed, 4, 6, 1, 2, 0, 0, 0, 0, kSyn, 5});
  c.push_back({"eth_v4_bad_version", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").SetIpVersion(5).Udp(1, 2).Bytes(),
               DecodeStatus::kMalformed, 0, 0, 0, 0, 0, 0, 0, 0});
  // First fragment: MF set, offset 0 -> L4 parsed, payload = what follows in this fragment.
  c.push_back({"eth_v4_first_frag", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Ipv4Frag(true, 0).Udp(7, 8)
                   .Payload(64).Bytes(),
               DecodeStatus::kOk, 4, 17, 7, 8, 8, 64, 64, F});
  // Later fragment: offset 185*8 -> no L4; payload counts bytes after the IP header.
  c.push_back({"eth_v4_later_frag", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Ipv4Frag(false, 185)
                   .SetIpProto(17).Payload(100).Bytes(),
               DecodeStatus::kOk, 4, 17, 0, 0, 0, 100, 100, F | LF});
  c.push_back({"eth_arp_not_ip", 1, PacketBuilder().Eth(0x0806).Payload(28).Bytes(),
               DecodeStatus::kNotIp, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"eth_llc_not_snap", 1,
               PacketBuilder().Eth(38).Raw({0x42, 0x42, 0x03}).Payload(35).Bytes(),
               DecodeStatus::kNotIp, 0, 0, 0, 0, 0, 0, 0, 0});
  // 802.3 length + LLC/SNAP (RFC 1042) carrying IPv4.
  c.push_back({"eth_llc_snap_v4", 1,
               PacketBuilder().Eth(8 + 28).Raw({0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00})
                   .IPv4("1.1.1.1", "2.2.2.2").Udp(3, 4).Bytes(),
               DecodeStatus::kOk, 4, 17, 3, 4, 8, 0, 0, 0});
  // --- IPv6 -------------------------------------------------------------------------------
  c.push_back({"eth_v6_icmpv6", 1,
               PacketBuilder().Eth().IPv6("fe80::1", "ff02::1").Icmpv6(135).Payload(16).Bytes(),
               DecodeStatus::kOk, 6, 58, 0, 0, 8, 16, 16, 0});
  c.push_back({"eth_v6_ext_chain_udp", 1,
               PacketBuilder().Eth().IPv6("::1", "::2").HopByHop().Routing(2).DestOpts()
                   .Udp(53, 53).Payload(12).Bytes(),
               DecodeStatus::kOk, 6, 17, 53, 53, 8, 12, 12, 0});
  c.push_back({"eth_v6_ah_tcp", 1,
               PacketBuilder().Eth().IPv6("::1", "::2").Ah().Tcp(22, 2222, kAck, 3).Payload(9)
                   .Bytes(),
               DecodeStatus::kOk, 6, 6, 22, 2222, 20, 9, 9, 0, kAck, 3});
  {
    PacketBuilder b8, b9;
    b8.Eth().IPv6("::1", "::2");
    b9.Eth().IPv6("::1", "::2");
    for (int i = 0; i < 8; ++i) b8.DestOpts();
    for (int i = 0; i < 9; ++i) b9.DestOpts();
    c.push_back({"eth_v6_8ext_ok", 1, b8.Udp(1, 2).Bytes(), DecodeStatus::kOk, 6, 17, 1, 2, 8,
                 0, 0, 0});
    c.push_back({"eth_v6_9ext_malformed", 1, b9.Udp(1, 2).Bytes(), DecodeStatus::kMalformed,
                 6, 60, 0, 0, 0, 0, 0, 0});
  }
  c.push_back({"eth_v6_first_frag", 1,
               PacketBuilder().Eth().IPv6("::1", "::2").Ipv6Frag(true, 0).Udp(5, 6).Payload(40)
                   .Bytes(),
               DecodeStatus::kOk, 6, 17, 5, 6, 8, 40, 40, F});
  c.push_back({"eth_v6_later_frag", 1,
               PacketBuilder().Eth().IPv6("::1", "::2").Ipv6Frag(false, 10).Udp(5, 6)
                   .Payload(40).Bytes(),
               DecodeStatus::kOk, 6, 17, 0, 0, 0, 48, 48, F | LF});
  c.push_back({"eth_v6_no_next_header", 1,
               PacketBuilder().Eth().IPv6("::1", "::2").Bytes(),
               DecodeStatus::kOk, 6, 59, 0, 0, 0, 0, 0, 0});
  // --- MPLS / PPPoE -----------------------------------------------------------------------
  c.push_back({"eth_mpls2_v4_tcp", 1,
               PacketBuilder().Eth().Mpls(100).Mpls(200).IPv4("1.1.1.1", "2.2.2.2")
                   .Tcp(1, 2, kSyn, 4).Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 0, 0, 0, kSyn, 4});
  c.push_back({"eth_mpls_mc_v6_udp", 1,
               PacketBuilder().Eth().Mpls(16, 64, true).IPv6("::1", "::2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 6, 17, 1, 2, 8, 0, 0, 0});
  {
    PacketBuilder b;
    b.Eth();
    for (int i = 0; i < 9; ++i) b.Mpls(uint32_t(i));
    c.push_back({"eth_mpls9_malformed", 1, b.IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
                 DecodeStatus::kMalformed, 0, 0, 0, 0, 0, 0, 0, 0});
  }
  c.push_back({"eth_mpls_pw_not_ip", 1,
               PacketBuilder().Eth().Mpls(5).Raw({0x00, 0x00, 0x00, 0x00}).Payload(20).Bytes(),
               DecodeStatus::kNotIp, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"eth_pppoe_v4_udp", 1,
               PacketBuilder().Eth().Pppoe().IPv4("1.1.1.1", "2.2.2.2").Udp(9, 10).Payload(3)
                   .Bytes(),
               DecodeStatus::kOk, 4, 17, 9, 10, 8, 3, 3, 0});
  // --- Other link types -------------------------------------------------------------------
  c.push_back({"sll_v4_tcp", 113,
               PacketBuilder().Sll().IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kAck, 8).Payload(7)
                   .Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 7, 7, 0, kAck, 8});
  c.push_back({"sll_vlan_v4_udp", 113,
               PacketBuilder().Sll().Vlan(5).IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 0, 0, 0});
  c.push_back({"sll_arp_not_ip", 113, PacketBuilder().Sll(0, 0x0806).Payload(28).Bytes(),
               DecodeStatus::kNotIp, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"sll2_v6_udp", 276,
               PacketBuilder().Sll2().IPv6("::1", "::2").Udp(1, 2).Payload(11).Bytes(),
               DecodeStatus::kOk, 6, 17, 1, 2, 8, 11, 11, 0});
  c.push_back({"null_le_v4_udp", 0,
               PacketBuilder().Null().IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Payload(2).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 2, 2, 0});
  c.push_back({"null_be_v4_udp", 0,
               PacketBuilder().Null(2, true).IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 0, 0, 0});
  c.push_back({"null_le_v6_fam28", 0,
               PacketBuilder().Null(28).IPv6("::1", "::2").Tcp(1, 2, kSyn, 1).Bytes(),
               DecodeStatus::kOk, 6, 6, 1, 2, 20, 0, 0, 0, kSyn, 1});
  c.push_back({"null_le_v6_fam30", 0,
               PacketBuilder().Null(30).IPv6("::1", "::2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 6, 17, 1, 2, 8, 0, 0, 0});
  c.push_back({"loop_be_v6_fam24", 108,
               PacketBuilder().Null(24, true).IPv6("::1", "::2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 6, 17, 1, 2, 8, 0, 0, 0});
  c.push_back({"null_other_family", 0, PacketBuilder().Null(7).Payload(20).Bytes(),
               DecodeStatus::kNotIp, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"raw101_v4_tcp", 101,
               PacketBuilder().IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kAck, 2).Payload(1).Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 1, 1, 0, kAck, 2});
  c.push_back({"raw12_v6_tcp", 12,
               PacketBuilder().IPv6("::1", "::2").Tcp(1, 2, kAck, 2).Bytes(),
               DecodeStatus::kOk, 6, 6, 1, 2, 20, 0, 0, 0, kAck, 2});
  c.push_back({"raw14_v4_udp", 14,
               PacketBuilder().IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 0, 0, 0});
  c.push_back({"raw_bad_version", 101, PacketBuilder().Payload(40, 0x50).Bytes(),
               DecodeStatus::kMalformed, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"ipv4_228_udp", 228,
               PacketBuilder().IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 0, 0, 0});
  c.push_back({"ipv4_228_given_v6", 228,
               PacketBuilder().IPv6("::1", "::2").Udp(1, 2).Bytes(),
               DecodeStatus::kMalformed, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"ipv6_229_icmpv6", 229,
               PacketBuilder().IPv6("::1", "::2").Icmpv6().Bytes(),
               DecodeStatus::kOk, 6, 58, 0, 0, 8, 0, 0, 0});
  // --- IPv4 AH (RFC 4302): walked to the next header like IPv6 AH (len4 * 4 bytes) ----------
  c.push_back({"eth_v4_ah_tcp", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Ah(6).Tcp(1234, 80, kAck, 9).Payload(7)
                   .Bytes(),
               DecodeStatus::kOk, 4, 6, 1234, 80, 20, 7, 7, 0, kAck, 9});
  c.push_back({"eth_v4_ah_ah_udp", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Ah(3).Ah(4).Udp(5, 6).Bytes(),
               DecodeStatus::kOk, 4, 17, 5, 6, 8, 0, 0, 0});
  c.push_back({"eth_v4_ah_esp", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Ah(6).OtherL4(50, 16).Bytes(),
               DecodeStatus::kOk, 4, 50, 0, 0, 0, 16, 16, 0});
  // Later fragment: its bytes are not an AH header; 24 (AH) + 8 (UDP) bytes of payload.
  c.push_back({"eth_v4_ah_later_frag", 1,
               PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Ipv4Frag(false, 10).Ah(6).Udp(1, 2)
                   .Bytes(),
               DecodeStatus::kOk, 4, 51, 0, 0, 0, 32, 32, F | LF});
  {
    auto f = PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Ah(6).Tcp(1, 2).Bytes();
    f.resize(14 + 20 + 20);  // AH says 24 bytes, 20 captured
    c.push_back({"eth_v4_ah_cut", 1, f, DecodeStatus::kTruncated, 0, 0, 0, 0, 0, 0, 0, 0});
  }
  // --- Ethernet encapsulations (header sizes: tests/common/packet_builder.hpp) ------------
  c.push_back({"eth_pbb_v4_tcp", 1,
               PacketBuilder().Eth().Pbb().IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kAck, 3).Payload(5).Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 5, 5, 0, kAck, 3});
  c.push_back({"eth_btag_pbb_qinq_v6_udp", 1,
               PacketBuilder().Eth().Vlan(1, 0x88a8).Pbb().QinQ(2, 3).IPv6("::1", "::2").Udp(7, 8)
                   .Payload(2).Bytes(),
               DecodeStatus::kOk, 6, 17, 7, 8, 8, 2, 2, 0});
  c.push_back({"eth_vntag_vlan_v4_udp", 1,
               PacketBuilder().Eth().VnTag().Vlan(9).IPv4("1.1.1.1", "2.2.2.2").Udp(3, 4).Payload(1).Bytes(),
               DecodeStatus::kOk, 4, 17, 3, 4, 8, 1, 1, 0});
  c.push_back({"eth_fabricpath_v6_tcp", 1,
               PacketBuilder().Eth().FabricPath().IPv6("::1", "::2").Tcp(5, 6, kSyn, 8).Bytes(),
               DecodeStatus::kOk, 6, 6, 5, 6, 20, 0, 0, 0, kSyn, 8});
  c.push_back({"eth_nsh_v4_udp", 1,
               PacketBuilder().Eth().Nsh(2).IPv4("1.1.1.1", "2.2.2.2").Udp(9, 10).Bytes(),
               DecodeStatus::kOk, 4, 17, 9, 10, 8, 0, 0, 0});
  c.push_back({"eth_nsh_md1_eth_v4_tcp", 1,
               PacketBuilder().Eth().Nsh(6).Eth().IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kAck, 4).Payload(3)
                   .Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 3, 3, 0, kAck, 4});
  c.push_back({"eth_nsh_mpls_v4_udp", 1,
               PacketBuilder().Eth().Nsh(2).Mpls(5).IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 0, 0, 0});
  c.push_back({"eth_nsh_nsh_v6_udp", 1,
               PacketBuilder().Eth().Nsh(2).Nsh(3).IPv6("::1", "::2").Udp(1, 2).Payload(6).Bytes(),
               DecodeStatus::kOk, 6, 17, 1, 2, 8, 6, 6, 0});
  c.push_back({"eth_nsh_next_0x41", 1, PacketBuilder().Eth().Nsh(2, 0x41).Payload(20).Bytes(),
               DecodeStatus::kUnsupportedEncap, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"eth_nsh_len_1_word", 1, PacketBuilder().Eth().Nsh(1, 1).Payload(40).Bytes(),
               DecodeStatus::kMalformed, 0, 0, 0, 0, 0, 0, 0, 0});
  // MACsec integrity only: the 16-byte ICV after the IP packet is frame payload, not IP payload.
  c.push_back({"eth_macsec_v4_tcp_icv", 1,
               PacketBuilder().Eth().Macsec(0x00).IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kAck, 5).Payload(10)
                   .Trailer(16).Bytes(),
               DecodeStatus::kOk, 4, 6, 1, 2, 20, 26, 10, PAD, kAck, 5});
  c.push_back({"eth_macsec_sci_v6_udp", 1,
               PacketBuilder().Eth().Macsec(0x23).IPv6("::1", "::2").Udp(1, 2).Payload(4).Bytes(),
               DecodeStatus::kOk, 6, 17, 1, 2, 8, 4, 4, 0});
  c.push_back({"eth_macsec_encrypted", 1, PacketBuilder().Eth().Macsec(0x2c).Payload(60).Bytes(),
               DecodeStatus::kEncrypted, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"eth_macsec_c_only", 1, PacketBuilder().Eth().Macsec(0x04).Payload(60).Bytes(),
               DecodeStatus::kEncrypted, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back({"eth_pbb_macsec_v4_udp", 1,
               PacketBuilder().Eth().Pbb().Macsec(0).IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
               DecodeStatus::kOk, 4, 17, 1, 2, 8, 0, 0, 0});
  {
    PacketBuilder b8, b9;
    b8.Eth();
    b9.Eth();
    for (int i = 0; i < 8; ++i) b8.VnTag();
    for (int i = 0; i < 9; ++i) b9.VnTag();
    c.push_back({"eth_8_encaps_ok", 1, b8.IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(), DecodeStatus::kOk, 4,
                 17, 1, 2, 8, 0, 0, 0});
    c.push_back({"eth_9_encaps_malformed", 1, b9.IPv4("1.1.1.1", "2.2.2.2").Udp(1, 2).Bytes(),
                 DecodeStatus::kMalformed, 0, 0, 0, 0, 0, 0, 0, 0});
  }
  c.push_back({"unsupported_link_147", 147, PacketBuilder().Payload(40).Bytes(),
               DecodeStatus::kUnsupportedLink, 0, 0, 0, 0, 0, 0, 0, 0});
  return c;
}

class DecodeCases : public ::testing::TestWithParam<Case> {};

TEST_P(DecodeCases, Fields) {
  const Case& c = GetParam();
  // Exact-size heap copy so ASan catches any read past cap_len.
  std::vector<uint8_t> buf(c.frame.begin(), c.frame.end());
  PacketMeta m;
  std::memset(static_cast<void*>(&m), 0xee, sizeof m);  // every field must be overwritten
  const uint32_t n = uint32_t(buf.size());
  DecodeStatus st = DecodePacket(c.link, buf.data(), n, n + 7, &m);
  ASSERT_EQ(int(st), int(c.status)) << c.name;
  EXPECT_EQ(m.cap_len, n);
  EXPECT_EQ(m.wire_len, n + 7);
  EXPECT_EQ(m.ts_ns, 0u);
  for (uint8_t r : m.reserved_) EXPECT_EQ(r, 0);
  if (c.status != DecodeStatus::kOk && c.status != DecodeStatus::kMalformed) return;
  if (c.status == DecodeStatus::kMalformed && c.ip_version == 0) return;
  EXPECT_EQ(m.ip_version, c.ip_version);
  EXPECT_EQ(m.proto, c.proto);
  EXPECT_EQ(m.sport, c.sport);
  EXPECT_EQ(m.dport, c.dport);
  EXPECT_EQ(m.l4_header_len, c.l4_header_len);
  EXPECT_EQ(m.payload_frame, c.payload_frame);
  EXPECT_EQ(m.payload_ip, c.payload_ip);
  EXPECT_EQ(int(m.flags), int(c.flags));
  EXPECT_EQ(int(m.tcp_flags), int(c.tcp_flags));
  EXPECT_EQ(m.window, c.window);
}

INSTANTIATE_TEST_SUITE_P(All, DecodeCases, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// ---- Overlay tunnels (--tunnel inner) -----------------------------------------------------
// Offsets by hand: outer Ethernet 14 + IPv4 20 + UDP 8 = 42; VXLAN / Geneve base / GTP-U base 8.

// VXLAN header (RFC 7348): flags (I = 0x08), 3 reserved, VNI 24 bits, 1 reserved.
std::vector<uint8_t> VxlanHdr(uint8_t flags = 0x08, uint32_t vni = 42) {
  return {flags, 0, 0, 0, uint8_t(vni >> 16), uint8_t(vni >> 8), uint8_t(vni), 0};
}

struct TunnelResult {
  DecodeStatus st;
  PacketMeta m;
};

TunnelResult DecodeTunnel(const std::vector<uint8_t>& frame, bool inner = true, uint16_t extra_port = 0,
                          DecodeMode mode = DecodeMode::kStrict) {
  std::vector<uint8_t> buf(frame);  // exact size: ASan sees any over-read
  TunnelConfig t;
  t.inner = inner;
  if (extra_port) t.vxlan_ports[t.n_vxlan_ports++] = extra_port;
  TunnelResult r;
  const uint32_t n = uint32_t(buf.size());
  r.st = DecodePacket(1, buf.data(), n, n + 4, &r.m, mode, &t);
  return r;
}

PacketBuilder VxlanOuter(uint16_t dport = 4789) {
  PacketBuilder b;
  b.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, dport).Raw(VxlanHdr());
  return b;
}

TEST(DecodeTunnels, VxlanInnerGivesKeyAndLengths) {
  // 204 bytes: inner frame (Ethernet) starts at 50 and is 154 bytes long.
  const auto f = VxlanOuter().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, kSyn, 100).Payload(100).Bytes();
  ASSERT_EQ(f.size(), 204u);
  const TunnelResult r = DecodeTunnel(f);
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.tunnel, kTunnelVxlan);
  EXPECT_EQ(r.m.proto, 6);
  EXPECT_EQ(r.m.sport, 1234);
  EXPECT_EQ(r.m.dport, 80);
  EXPECT_EQ(r.m.saddr[15], 1);
  EXPECT_EQ(r.m.saddr[12], 10);
  EXPECT_EQ(r.m.daddr[15], 2);
  EXPECT_EQ(r.m.l4_header_len, 20);
  EXPECT_EQ(r.m.payload_ip, 100u);
  EXPECT_EQ(r.m.payload_frame, 100u);
  EXPECT_EQ(r.m.cap_len, 154u);
  EXPECT_EQ(r.m.wire_len, 158u);  // wire 208 - 50
  EXPECT_EQ(int(r.m.tcp_flags), int(kSyn));
  EXPECT_EQ(r.m.window, 100);
  // 8472 too; another port only when configured.
  EXPECT_EQ(DecodeTunnel(VxlanOuter(8472).Eth().IPv4("10.0.0.1", "10.0.0.2").Udp(1, 2).Bytes()).m.tunnel,
            kTunnelVxlan);
  const auto f9999 = VxlanOuter(9999).Eth().IPv4("10.0.0.1", "10.0.0.2").Udp(1, 2).Bytes();
  EXPECT_EQ(DecodeTunnel(f9999).m.dport, 9999);
  EXPECT_EQ(DecodeTunnel(f9999, true, 9999).m.dport, 2);
}

TEST(DecodeTunnels, OuterModeAndReferenceModesKeepTheOuterPacket) {
  const auto f = VxlanOuter().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80).Payload(100).Bytes();
  const TunnelResult r = DecodeTunnel(f, false);
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.tunnel, kTunnelNone);
  EXPECT_EQ(r.m.dport, 4789);
  EXPECT_EQ(r.m.cap_len, 204u);
  EXPECT_EQ(r.m.payload_ip, 162u);  // 8 VXLAN + 154 inner frame
  // nfm2022's decoder ignores the option (D20: its own tunnel handling, TCP anywhere).
  const TunnelResult s1 = DecodeTunnel(f, true, 0, DecodeMode::kScapy2022);
  const TunnelResult s0 = DecodeTunnel(f, false, 0, DecodeMode::kScapy2022);
  EXPECT_EQ(std::memcmp(&s1.m, &s0.m, sizeof s0.m), 0);
  EXPECT_EQ(s1.m.tunnel, kTunnelNone);
}

TEST(DecodeTunnels, HeadersThatAreNotOpened) {
  // VXLAN without the I flag: not a VXLAN packet the kernel would accept; outer flow.
  PacketBuilder b;
  b.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, 4789).Raw(VxlanHdr(0x00)).Eth()
      .IPv4("10.0.0.1", "10.0.0.2").Udp(1, 2);
  TunnelResult r = DecodeTunnel(b.Bytes());
  EXPECT_EQ(r.m.tunnel, kTunnelNone);
  EXPECT_EQ(r.m.dport, 4789);
  // Geneve version 1.
  PacketBuilder g;
  g.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, 6081).Raw({0x40, 0, 0x65, 0x58, 0, 0, 1, 0}).Eth()
      .IPv4("10.0.0.1", "10.0.0.2").Udp(1, 2);
  r = DecodeTunnel(g.Bytes());
  EXPECT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.dport, 6081);
  // GTP-U Echo Request (message type 1): signalling.
  PacketBuilder e;
  e.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(2152, 2152).Raw({0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0});
  r = DecodeTunnel(e.Bytes());
  EXPECT_EQ(r.m.dport, 2152);
  EXPECT_EQ(r.m.tunnel, kTunnelNone);
  // GRE with the routing bit (RFC 1701) and enhanced GRE (version 1, PPTP).
  for (const std::vector<uint8_t>& gre : {std::vector<uint8_t>{0x40, 0, 0x08, 0, 0, 0, 0, 0},
                                         std::vector<uint8_t>{0x30, 0x81, 0x88, 0x0b, 0, 8, 0, 1, 0, 0, 0, 1}}) {
    PacketBuilder x;
    x.Eth().IPv4("192.168.0.1", "192.168.0.2").SetIpProto(47).Raw(gre).IPv4("10.0.0.1", "10.0.0.2").Udp(1, 2);
    r = DecodeTunnel(x.Bytes());
    EXPECT_EQ(int(r.st), int(DecodeStatus::kOk));
    EXPECT_EQ(r.m.proto, 47);
    EXPECT_EQ(r.m.tunnel, kTunnelNone);
  }
  // An outer IP fragment is not opened (the inner packet is not whole).
  PacketBuilder fr;
  fr.Eth().IPv4("192.168.0.1", "192.168.0.2").Ipv4Frag(true, 0).Udp(40000, 4789).Raw(VxlanHdr()).Eth()
      .IPv4("10.0.0.1", "10.0.0.2").Udp(1, 2);
  r = DecodeTunnel(fr.Bytes());
  EXPECT_EQ(r.m.dport, 4789);
  EXPECT_EQ(int(r.m.flags & kPktFragment), int(kPktFragment));
}

TEST(DecodeTunnels, BrokenTunnelsAreCountedNotFlows) {
  const auto f = VxlanOuter().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80).Payload(10).Bytes();
  // Cut inside the VXLAN header, inside the inner Ethernet header, inside the inner IPv4 header.
  for (size_t cut : {46u, 60u, 70u}) {
    const std::vector<uint8_t> c(f.begin(), f.begin() + long(cut));
    EXPECT_EQ(int(DecodeTunnel(c).st), int(DecodeStatus::kTruncated)) << cut;
  }
  // Inner ARP: not IP.
  PacketBuilder a;
  a.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, 4789).Raw(VxlanHdr()).Eth(0x0806).Payload(28);
  EXPECT_EQ(int(DecodeTunnel(a.Bytes()).st), int(DecodeStatus::kNotIp));
  // Geneve payload type LLDP (0x88cc): a tunnel we open but a payload we do not follow.
  PacketBuilder l;
  l.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, 6081).Raw({0, 0, 0x88, 0xcc, 0, 0, 1, 0}).Payload(20);
  EXPECT_EQ(int(DecodeTunnel(l.Bytes()).st), int(DecodeStatus::kUnsupportedEncap));
  // Geneve options longer than the packet.
  PacketBuilder o;
  o.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, 6081).Raw({0x3f, 0, 0x65, 0x58, 0, 0, 1, 0}).Payload(20);
  EXPECT_EQ(int(DecodeTunnel(o.Bytes()).st), int(DecodeStatus::kTruncated));
  // GTP-U extension header of length 0.
  PacketBuilder z;
  z.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(2152, 2152)
      .Raw({0x34, 0xff, 0, 40, 0, 0, 0, 1, 0, 0, 0, 0x85, 0, 0, 0, 0}).IPv4("10.0.0.1", "10.0.0.2").Udp(1, 2);
  EXPECT_EQ(int(DecodeTunnel(z.Bytes()).st), int(DecodeStatus::kMalformed));
}

TEST(DecodeTunnels, GeneveGtpGreIpInIp) {
  // Geneve, 8 bytes of options (opt len 2), payload IPv4: inner IP at 42 + 8 + 8 = 58.
  PacketBuilder g;
  g.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(40000, 6081)
      .Raw({0x02, 0, 0x08, 0x00, 0x12, 0x34, 0x56, 0, 0x01, 0x02, 0x80, 0x01, 9, 9, 9, 9})
      .IPv4("10.0.0.1", "10.0.0.2").Udp(7, 8).Payload(5);
  TunnelResult r = DecodeTunnel(g.Bytes());
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.tunnel, kTunnelGeneve);
  EXPECT_EQ(r.m.dport, 8);
  EXPECT_EQ(r.m.cap_len, 20u + 8 + 5);
  EXPECT_EQ(r.m.payload_ip, 5u);
  // GTP-U with E: 4 optional bytes (next type 0x85), a 4-byte PDU session container: IP at 58.
  PacketBuilder t;
  t.Eth().IPv4("192.168.0.1", "192.168.0.2").Udp(2152, 2152)
      .Raw({0x34, 0xff, 0, 36, 0, 0, 0x10, 0x01, 0, 0, 0, 0x85, 0x01, 0x10, 0x09, 0x00})
      .IPv6("2001:db8::1", "2001:db8::2").Tcp(5, 6).Payload(3);
  r = DecodeTunnel(t.Bytes());
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.tunnel, kTunnelGtpU);
  EXPECT_EQ(r.m.ip_version, 6);
  EXPECT_EQ(r.m.sport, 5);
  EXPECT_EQ(r.m.cap_len, 40u + 20 + 3);
  // GRE with key and sequence number, 0x6558: inner Ethernet at 14 + 20 + 12 = 46.
  PacketBuilder e;
  e.Eth().IPv4("192.168.0.1", "192.168.0.2").SetIpProto(47).Raw({0x30, 0, 0x65, 0x58, 0, 0, 4, 0xd2, 0, 0, 0, 1})
      .Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(11, 12).Payload(7);
  r = DecodeTunnel(e.Bytes());
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.tunnel, kTunnelGre);
  EXPECT_EQ(r.m.dport, 12);
  EXPECT_EQ(r.m.cap_len, 14u + 20 + 20 + 7);
  // GRE with checksum, payload IPv6.
  PacketBuilder c;
  c.Eth().IPv4("192.168.0.1", "192.168.0.2").SetIpProto(47).Raw({0x80, 0, 0x86, 0xdd, 0, 0, 0, 0})
      .IPv6("2001:db8::1", "2001:db8::2").Udp(1, 2);
  r = DecodeTunnel(c.Bytes());
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.ip_version, 6);
  EXPECT_EQ(r.m.dport, 2);
  // 6in4 and 4in6.
  r = DecodeTunnel(PacketBuilder().Eth().IPv4("192.168.0.1", "192.168.0.2").IPv6("2001:db8::1", "2001:db8::2")
                       .Udp(3, 4).Bytes());
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.tunnel, kTunnelIpIp);
  EXPECT_EQ(r.m.ip_version, 6);
  EXPECT_EQ(r.m.cap_len, 48u);
  r = DecodeTunnel(PacketBuilder().Eth().IPv6("2001:db8::1", "2001:db8::2").IPv4("10.0.0.1", "10.0.0.2")
                       .Tcp(3, 4).Bytes());
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.ip_version, 4);
  EXPECT_EQ(r.m.sport, 3);
  EXPECT_EQ(r.m.cap_len, 40u);
}

TEST(DecodeTunnels, OneLevelOnly) {
  // VXLAN in VXLAN: the first tunnel is opened; its inner packet (the second tunnel's outer
  // UDP packet between 172.16.0.1 and 172.16.0.2) is the flow.
  PacketBuilder b = VxlanOuter();
  b.Eth().IPv4("172.16.0.1", "172.16.0.2").Udp(50000, 4789).Raw(VxlanHdr()).Eth().IPv4("10.0.0.1", "10.0.0.2")
      .Tcp(1, 2);
  const TunnelResult r = DecodeTunnel(b.Bytes());
  ASSERT_EQ(int(r.st), int(DecodeStatus::kOk));
  EXPECT_EQ(r.m.tunnel, kTunnelVxlan);
  EXPECT_EQ(r.m.proto, 17);
  EXPECT_EQ(r.m.dport, 4789);
  EXPECT_EQ(r.m.saddr[12], 172);
}

TEST(DecodeTunnels, GarbageAfterTunnelPortsNeverCrashes) {
  // Every cut of tunnelled frames, and random bytes after the tunnel headers (ASan run).
  std::vector<std::vector<uint8_t>> frames = {
      VxlanOuter().Eth().Vlan(5).IPv6("2001:db8::1", "2001:db8::2").HopByHop().Tcp(1, 2).Payload(3).Bytes()};
  uint32_t x = 12345;
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> junk(64);
    for (auto& v : junk) v = uint8_t((x = x * 1103515245 + 12345) >> 16);
    for (uint16_t port : {4789, 6081, 2152}) frames.push_back(PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2")
                                                                  .Udp(1, port).Raw(junk).Bytes());
    frames.push_back(PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").SetIpProto(47).Raw(junk).Bytes());
  }
  for (const auto& f : frames)
    for (size_t n = 14; n <= f.size(); ++n) (void)DecodeTunnel(std::vector<uint8_t>(f.begin(), f.begin() + long(n)));
}

TEST(Decode, AddressesV4MappedAndV6) {
  auto f = PacketBuilder().Eth().IPv4("10.1.2.3", "192.168.255.254").Udp(1, 2).Bytes();
  PacketMeta m;
  ASSERT_EQ(DecodePacket(1, f.data(), uint32_t(f.size()), uint32_t(f.size()), &m),
            DecodeStatus::kOk);
  const uint8_t s4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
  const uint8_t d4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 255, 254};
  EXPECT_EQ(std::memcmp(m.saddr, s4, 16), 0);
  EXPECT_EQ(std::memcmp(m.daddr, d4, 16), 0);

  f = PacketBuilder().Eth().IPv6("2001:db8::a:1", "fe80::1:2:3:4").Udp(1, 2).Bytes();
  ASSERT_EQ(DecodePacket(1, f.data(), uint32_t(f.size()), uint32_t(f.size()), &m),
            DecodeStatus::kOk);
  const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 1};
  const uint8_t d6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4};
  EXPECT_EQ(std::memcmp(m.saddr, s6, 16), 0);
  EXPECT_EQ(std::memcmp(m.daddr, d6, 16), 0);
}

TEST(Decode, TcpOptionsCutBySnaplenIsNotL4Truncated) {
  // 14 + 20 + 32 (doff 8) + 10; captured 14 + 20 + 24: fixed header whole, options cut.
  auto f = PacketBuilder().Eth().IPv4("1.1.1.1", "2.2.2.2").Tcp(1, 2, kAck, 3).TcpOptions(12)
               .Payload(10).Bytes();
  std::vector<uint8_t> cut(f.begin(), f.begin() + 58);
  PacketMeta m;
  ASSERT_EQ(DecodePacket(1, cut.data(), 58, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.flags & kPktL4Truncated, 0);
  EXPECT_EQ(m.l4_header_len, 32);
  EXPECT_EQ(m.payload_frame, 0u);
  EXPECT_EQ(m.payload_ip, 0u);
  EXPECT_EQ(m.window, 3);
}

TEST(Decode, NullDataPointerIsTruncated) {
  PacketMeta m;
  EXPECT_EQ(DecodePacket(1, nullptr, 0, 0, &m), DecodeStatus::kTruncated);
}

// PPP-family link types (LINKTYPE_PPP 9, PPP_HDLC 50, PPP_ETHER 51, C_HDLC 104, PPP_WITH_DIR
// 204): RFC 1661 protocol field (1 byte when odd), RFC 1662 ff 03 framing, RFC 2516 PPPoE,
// Cisco HDLC address 0x0f/0x8f + EtherType. Hand-built frames, expected ports from the builder.
TEST(Decode, PppFamilyLinkTypes) {
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, kAck, 300).Payload(4).Bytes();
  const auto ip6 = PacketBuilder().IPv6("2001:db8::1", "2001:db8::2").Udp(53, 5353).Payload(2).Bytes();
  auto with = [](std::vector<uint8_t> head, const std::vector<uint8_t>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  struct Case {
    uint32_t link;
    std::vector<uint8_t> frame;
    DecodeStatus want;
    uint16_t sport;
  };
  const Case cases[] = {
      {9, with({0x00, 0x21}, ip), DecodeStatus::kOk, 1234},                    // 2-byte protocol
      {9, with({0x21}, ip), DecodeStatus::kOk, 1234},                          // compressed protocol
      {9, with({0xff, 0x03, 0x00, 0x21}, ip), DecodeStatus::kOk, 1234},        // HDLC-like framing
      {9, with({0xff, 0x03, 0x00, 0x57}, ip6), DecodeStatus::kOk, 53},         // IPv6
      {9, with({0xc0, 0x21}, ip), DecodeStatus::kNotIp, 0},                    // LCP
      {204, with({0x01, 0xff, 0x03, 0x00, 0x21}, ip), DecodeStatus::kOk, 1234},  // direction byte
      {51, with({0x11, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x21}, ip), DecodeStatus::kOk, 1234},
      {51, with({0x11, 0x09, 0x00, 0x07, 0x00, 0x00, 0x00, 0x21}, ip), DecodeStatus::kNotIp, 0},  // PADI, not data
      {50, with({0xff, 0x03, 0x00, 0x21}, ip), DecodeStatus::kOk, 1234},
      {50, with({0x0f, 0x00, 0x08, 0x00}, ip), DecodeStatus::kOk, 1234},       // Cisco HDLC
      {104, with({0x8f, 0x00, 0x86, 0xdd}, ip6), DecodeStatus::kOk, 53},
      {9, {0x00}, DecodeStatus::kTruncated, 0},
      // MPLS over PPP (RFC 3032 §5): label 100, bottom of stack, TTL 64, then IPv4 / IPv6.
      {9, with({0x02, 0x81, 0x00, 0x06, 0x41, 0x40}, ip), DecodeStatus::kOk, 1234},
      {9, with({0xff, 0x03, 0x02, 0x83, 0x00, 0x06, 0x40, 0x40, 0x00, 0x06, 0x41, 0x40}, ip6),
       DecodeStatus::kOk, 53},                                                          // 2 labels, multicast
      {50, with({0xff, 0x03, 0x02, 0x81, 0x00, 0x06, 0x41, 0x40}, ip), DecodeStatus::kOk, 1234},
      {51, with({0x11, 0x00, 0x00, 0x07, 0x00, 0x00, 0x02, 0x81, 0x00, 0x06, 0x41, 0x40}, ip),
       DecodeStatus::kOk, 1234},                                                        // PPPoE
      {9, with({0x02, 0x81, 0x00, 0x06, 0x41, 0x40}, {0x00, 0x00, 0x00, 0x00}), DecodeStatus::kNotIp, 0},
      {9, {0x02, 0x81, 0x00, 0x06, 0x41}, DecodeStatus::kTruncated, 0},
  };
  for (const Case& c : cases) {
    PacketMeta m;
    EXPECT_EQ(DecodePacket(c.link, c.frame.data(), static_cast<uint32_t>(c.frame.size()),
                           static_cast<uint32_t>(c.frame.size()), &m),
              c.want)
        << "link " << c.link << " first byte " << int(c.frame[0]);
    if (c.want == DecodeStatus::kOk) {
      EXPECT_EQ(m.sport, c.sport) << "link " << c.link;
    }
  }
  // scapy (nfm2022) reads LINKTYPE 50 as HDLC + PPP and has no layer for Cisco HDLC.
  PacketMeta m;
  const auto chdlc = with({0x0f, 0x00, 0x08, 0x00}, ip);
  EXPECT_EQ(DecodePacket(50, chdlc.data(), static_cast<uint32_t>(chdlc.size()), static_cast<uint32_t>(chdlc.size()), &m,
                         DecodeMode::kScapy2022),
            DecodeStatus::kNotIp);
  EXPECT_EQ(DecodePacket(104, chdlc.data(), static_cast<uint32_t>(chdlc.size()), static_cast<uint32_t>(chdlc.size()), &m,
                         DecodeMode::kScapy2022),
            DecodeStatus::kNotIp);
}

// IEEE 802.11 link types (LINKTYPE_IEEE802_11 105, _RADIOTAP 127, _PRISM 119, PPI 192),
// strict view. Header layouts from IEEE 802.11-2020 §9.2-9.3 and radiotap.org; expected
// values computed by hand: the IPv4/TCP packet is 20 + 20 + 10 bytes (payload 10).
namespace wifi {
std::vector<uint8_t> Cat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
// 802.11 MAC header: frame control (2), duration (2), addr1-3 (18), sequence control (2).
std::vector<uint8_t> MacHeader(uint8_t fc0, uint8_t fc1) {
  std::vector<uint8_t> h = {fc0, fc1, 0, 0};
  for (int i = 0; i < 18; ++i) h.push_back(uint8_t(0x10 + i));
  h.push_back(0x30);  // SC: sequence 3, fragment 0
  h.push_back(0x00);
  return h;
}
const std::vector<uint8_t> kSnapIpv4 = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00};
}  // namespace wifi

TEST(Decode, Ieee80211DataFrames) {
  using namespace wifi;
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, kAck, 1000).Payload(10).Bytes();
  const auto ip6 = PacketBuilder().IPv6("2001:db8::1", "2001:db8::2").Udp(53, 5353).Payload(2).Bytes();
  const auto body = Cat(kSnapIpv4, ip);
  struct Case {
    const char* name;
    std::vector<uint8_t> frame;
    DecodeStatus want;
    uint16_t sport;
  };
  std::vector<uint8_t> addr4(6, 0x77), qos = {0x00, 0x00}, htc = {1, 2, 3, 4};
  std::vector<uint8_t> cut = MacHeader(0x08, 0x01);
  cut.resize(20);
  const Case cases[] = {
      // Data, ToDS: 24-byte header, then LLC/SNAP.
      {"data", Cat(MacHeader(0x08, 0x01), body), DecodeStatus::kOk, 1234},
      // WDS (ToDS+FromDS): Addr4 makes it 30 bytes.
      {"wds", Cat(Cat(MacHeader(0x08, 0x03), addr4), body), DecodeStatus::kOk, 1234},
      // QoS Data (subtype 8): +2 QoS Control.
      {"qos", Cat(Cat(MacHeader(0x88, 0x02), qos), body), DecodeStatus::kOk, 1234},
      // QoS Data, ToDS+FromDS, +HTC/Order: 24 + 6 + 2 + 4 = 36.
      {"qos wds htc", Cat(Cat(Cat(Cat(MacHeader(0x88, 0x83), addr4), qos), htc), body), DecodeStatus::kOk, 1234},
      // Order bit on a non-QoS data frame adds no HT Control.
      {"order non-qos", Cat(MacHeader(0x08, 0x80), body), DecodeStatus::kOk, 1234},
      // 802.1H bridge-tunnel OUI 00-00-f8 and IPv6 EtherType.
      {"802.1h ipv6", Cat(Cat(MacHeader(0x08, 0x01), {0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8, 0x86, 0xdd}), ip6), DecodeStatus::kOk, 53},
      // A-MSDU (QoS Control bit 7): first subframe header DA, SA, length (14 bytes).
      {"amsdu", Cat(Cat(Cat(MacHeader(0x88, 0x01), {0x80, 0x00}), std::vector<uint8_t>(14, 0)), body), DecodeStatus::kOk, 1234},
      {"protected", Cat(MacHeader(0x08, 0x41), body), DecodeStatus::kEncrypted, 0},
      {"null data", Cat(MacHeader(0x48, 0x01), body), DecodeStatus::kNotIp, 0},
      {"qos null", Cat(Cat(MacHeader(0xc8, 0x01), qos), body), DecodeStatus::kNotIp, 0},
      {"more fragments", Cat(MacHeader(0x08, 0x05), body), DecodeStatus::kNotIp, 0},
      {"beacon", Cat(MacHeader(0x80, 0x00), body), DecodeStatus::kNotIp, 0},
      {"version 1", Cat(MacHeader(0x09, 0x01), body), DecodeStatus::kNotIp, 0},
      {"other OUI", Cat(Cat(MacHeader(0x08, 0x01), {0xaa, 0xaa, 0x03, 0x12, 0x34, 0x56, 0x08, 0x00}), ip), DecodeStatus::kNotIp, 0},
      {"cut header", cut, DecodeStatus::kTruncated, 0},
  };
  for (const Case& c : cases) {
    PacketMeta m;
    const auto n = static_cast<uint32_t>(c.frame.size());
    EXPECT_EQ(DecodePacket(105, c.frame.data(), n, n, &m), c.want) << c.name;
    if (c.want != DecodeStatus::kOk) continue;
    EXPECT_EQ(m.sport, c.sport) << c.name;
    if (c.sport == 1234) {
      EXPECT_EQ(m.ip_version, 4) << c.name;
      EXPECT_EQ(m.dport, 80) << c.name;
      EXPECT_EQ(m.l4_header_len, 20) << c.name;
      EXPECT_EQ(m.payload_frame, 10u) << c.name;
      EXPECT_EQ(m.payload_ip, 10u) << c.name;
    }
  }
}

TEST(Decode, RadiotapPrismPpi) {
  using namespace wifi;
  const auto ip = PacketBuilder().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80, kAck, 1000).Payload(10).Bytes();
  const auto mpdu = Cat(MacHeader(0x08, 0x01), Cat(kSnapIpv4, ip));  // 24 + 8 + 50 bytes
  const std::vector<uint8_t> fcs = {0xde, 0xad, 0xbe, 0xef};
  auto decode = [](uint32_t link, const std::vector<uint8_t>& f, uint32_t wire, PacketMeta* m) {
    return DecodePacket(link, f.data(), static_cast<uint32_t>(f.size()), wire, m);
  };
  PacketMeta m;
  // Radiotap: version, pad, length 18 (LE), present TSFT|Flags; TSFT at 8 (already 8-aligned),
  // Flags at 16 = 0x10 (FCS at end), one pad byte. The 4 FCS bytes are not payload.
  const std::vector<uint8_t> rt_fcs = {0, 0, 18, 0, 0x03, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0};
  auto f = Cat(Cat(rt_fcs, mpdu), fcs);
  ASSERT_EQ(decode(127, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  EXPECT_EQ(m.payload_frame, 10u);
  EXPECT_EQ(m.payload_ip, 10u);
  EXPECT_EQ(m.cap_len, f.size());
  // Snap length cut the FCS off: wire_len still counts it, nothing is cut from the capture.
  f = Cat(rt_fcs, mpdu);
  ASSERT_EQ(decode(127, f, uint32_t(f.size()) + 4, &m), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 10u);
  // No Flags field: no FCS; 6 trailing bytes stay in payload_frame (not in payload_ip).
  const std::vector<uint8_t> rt_plain = {0, 0, 8, 0, 0, 0, 0, 0};
  f = Cat(Cat(rt_plain, mpdu), {1, 2, 3, 4, 5, 6});
  ASSERT_EQ(decode(127, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 16u);
  EXPECT_EQ(m.payload_ip, 10u);
  // Extended present bitmap (bit 31 -> second word), Flags then at offset 12 with the
  // data-pad bit 0x20: a QoS header of 26 bytes is padded to 28.
  const std::vector<uint8_t> rt_ext_pad = {0, 0, 13, 0, 0x02, 0, 0, 0x80, 0, 0, 0, 0, 0x20};
  f = Cat(Cat(Cat(Cat(rt_ext_pad, MacHeader(0x88, 0x01)), {0, 0, 0xee, 0xee}), kSnapIpv4), ip);
  ASSERT_EQ(decode(127, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  EXPECT_EQ(m.dport, 80);
  // Length field below 8, or past the capture.
  f = Cat({0, 0, 4, 0, 0, 0, 0, 0}, mpdu);
  EXPECT_EQ(decode(127, f, uint32_t(f.size()), &m), DecodeStatus::kMalformed);
  f = {0, 0, 200, 0, 0, 0, 0, 0, 1, 2};
  EXPECT_EQ(decode(127, f, uint32_t(f.size()), &m), DecodeStatus::kTruncated);
  // Prism: 144-byte header, message code 0x44 (LE); then 802.11.
  std::vector<uint8_t> prism(144, 0);
  prism[0] = 0x44;
  prism[4] = 144;
  f = Cat(prism, mpdu);
  ASSERT_EQ(decode(119, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  EXPECT_EQ(m.payload_frame, 10u);
  // AVS header under LINKTYPE 119: magic 0x80211001, header length 64 (BE).
  std::vector<uint8_t> avs(64, 0);
  avs[0] = 0x80; avs[1] = 0x21; avs[2] = 0x10; avs[3] = 0x01; avs[7] = 64;
  f = Cat(avs, mpdu);
  ASSERT_EQ(decode(119, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  // PPI: version, flags, length 8 (LE), DLT 105 (LE); then 802.11.
  f = Cat({0, 0, 8, 0, 105, 0, 0, 0}, mpdu);
  ASSERT_EQ(decode(192, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 1234);
  // PPI with an 802.11-Common field (type 2, 20 bytes; flags at data byte 8, bit 0 = FCS):
  // header 8 + 4 + 20 = 32; the FCS is cut.
  std::vector<uint8_t> ppi = {0, 0, 32, 0, 105, 0, 0, 0, 2, 0, 20, 0};
  std::vector<uint8_t> common(20, 0);
  common[8] = 0x01;
  f = Cat(Cat(Cat(ppi, common), mpdu), fcs);
  ASSERT_EQ(decode(192, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 10u);
  // PPI carrying Ethernet (DLT 1).
  f = Cat({0, 0, 8, 0, 1, 0, 0, 0}, PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Udp(7, 9).Bytes());
  ASSERT_EQ(decode(192, f, uint32_t(f.size()), &m), DecodeStatus::kOk);
  EXPECT_EQ(m.sport, 7);
}

TEST(Decode, LinkTypeNames) {
  for (uint32_t lt : {0u, 1u, 9u, 12u, 14u, 50u, 51u, 101u, 104u, 105u, 108u, 113u, 119u, 127u, 192u, 204u, 228u, 229u, 276u}) {
    EXPECT_TRUE(IsSupportedLinkType(lt)) << lt;
    EXPECT_STRNE(LinkTypeName(lt), "unknown") << lt;
  }
  EXPECT_FALSE(IsSupportedLinkType(147));
  EXPECT_STREQ(LinkTypeName(147), "USER0");
  EXPECT_STREQ(LinkTypeName(4321), "unknown");
  EXPECT_EQ(LinkTypeDescription(4321), nullptr);
  // Unsupported types are named from tcpdump.org's LINKTYPE_ list.
  EXPECT_EQ(LinkTypeText(107), "107 (FRELAY: Frame Relay)");
  EXPECT_EQ(LinkTypeText(8), "8 (SLIP: SLIP)");
  EXPECT_EQ(LinkTypeText(10), "10 (FDDI: FDDI)");
  EXPECT_EQ(LinkTypeText(6), "6 (IEEE802_5: Token Ring)");
  EXPECT_EQ(LinkTypeText(100), "100 (ATM_RFC1483: ATM (RFC 1483 LLC/SNAP))");
  EXPECT_EQ(LinkTypeText(4321), "4321 (not a link type we know of)");
  EXPECT_STREQ(LinkTypeName(127), "IEEE802_11_RADIOTAP");
  EXPECT_STREQ(LinkTypeName(1), "EN10MB");
  EXPECT_STREQ(LinkTypeName(113), "LINUX_SLL");
  EXPECT_STREQ(LinkTypeName(276), "LINUX_SLL2");
}

// Cuts one frame at every length 0..size and checks the status and L4 fields against the
// layer offsets: header cut -> kTruncated; inside the fixed L4 header -> kOk + L4Truncated;
// after it -> payload = captured bytes after the L4 header.
struct SweepFrame {
  const char* name;
  uint32_t link;
  std::vector<uint8_t> frame;
  uint32_t l4;          // offset of the L4 header
  uint32_t fixed;       // fixed L4 header size (TCP 20, UDP/ICMP 8)
  uint32_t hl;          // full L4 header length
  uint16_t sport, dport;
};

TEST(Decode, TruncationSweep) {
  std::vector<SweepFrame> frames = {
      // 14 + 4 + 24 (IPv4 with 4 option bytes) = 42; TCP 32; payload 50.
      {"eth_vlan_v4opt_tcpopt", 1,
       PacketBuilder().Eth().Vlan(3).IPv4("1.1.1.1", "2.2.2.2").Ipv4Options(4)
           .Tcp(1111, 2222, kSyn, 5).TcpOptions(12).Payload(50).Bytes(),
       42, 20, 32, 1111, 2222},
      // 14 + 40 + 8 (HbH) + 16 (Routing 2) = 78; UDP 8; payload 30.
      {"eth_v6_ext_udp", 1,
       PacketBuilder().Eth().IPv6("::1", "::2").HopByHop().Routing(2).Udp(53, 54).Payload(30)
           .Bytes(),
       78, 8, 8, 53, 54},
      // 20 + 40 + 8 (Frag, offset 0) = 68; ICMPv6 8; payload 16.
      {"sll2_v6_frag_icmpv6", 276,
       PacketBuilder().Sll2().IPv6("::1", "::2").Ipv6Frag(true, 0).Icmpv6().Payload(16).Bytes(),
       68, 8, 8, 0, 0},
      // 4 + 20 = 24; TCP 20; payload 10.
      {"null_v4_tcp", 0,
       PacketBuilder().Null().IPv4("1.1.1.1", "2.2.2.2").Tcp(7, 8, kAck, 9).Payload(10).Bytes(),
       24, 20, 20, 7, 8},
      // 14 + PBB 18 + IPv4 20 + AH 24 = 76; TCP 20; payload 10.
      {"eth_pbb_v4_ah_tcp", 1,
       PacketBuilder().Eth().Pbb().IPv4("1.1.1.1", "2.2.2.2").Ah(6).Tcp(5, 6, kAck, 1).Payload(10).Bytes(),
       76, 20, 20, 5, 6},
      // 14 + MACsec SecTAG with SCI 16 + IPv6 40 = 70; UDP; payload 5.
      {"eth_macsec_v6_udp", 1,
       PacketBuilder().Eth().Macsec(0x20).IPv6("::1", "::2").Udp(7, 8).Payload(5).Bytes(), 70, 8, 8, 7, 8},
      // 14 + NSH 24 + Ethernet 14 + IPv4 20 = 72; UDP; payload 3.
      {"eth_nsh_eth_v4_udp", 1,
       PacketBuilder().Eth().Nsh(6).Eth().IPv4("1.1.1.1", "2.2.2.2").Udp(9, 10).Payload(3).Bytes(), 72, 8, 8,
       9, 10},
      // 14 + VN-Tag 6 + FabricPath 16 + IPv4 20 = 56; TCP 20; payload 1.
      {"eth_vntag_fabricpath_v4_tcp", 1,
       PacketBuilder().Eth().VnTag().FabricPath().IPv4("1.1.1.1", "2.2.2.2").Tcp(3, 4, kSyn, 2).Payload(1)
           .Bytes(),
       56, 20, 20, 3, 4},
      // PPP (ff 03, 0x0281) 4 + MPLS 4 + IPv4 20 = 28; TCP 20; payload 6.
      {"ppp_mpls_v4_tcp", 9,
       [] {
         std::vector<uint8_t> f = {0xff, 0x03, 0x02, 0x81, 0x00, 0x06, 0x41, 0x40};
         const auto ip = PacketBuilder().IPv4("1.1.1.1", "2.2.2.2").Tcp(11, 12, kAck, 1).Payload(6).Bytes();
         f.insert(f.end(), ip.begin(), ip.end());
         return f;
       }(),
       28, 20, 20, 11, 12},
      // 14 + 8 (2 MPLS labels) + 20 = 42; UDP; payload 4.
      {"eth_mpls_v4_udp", 1,
       PacketBuilder().Eth().Mpls(1).Mpls(2).IPv4("1.1.1.1", "2.2.2.2").Udp(3, 4).Payload(4)
           .Bytes(),
       42, 8, 8, 3, 4},
  };
  for (const SweepFrame& sf : frames) {
    for (uint32_t len = 0; len <= sf.frame.size(); ++len) {
      SCOPED_TRACE(std::string(sf.name) + " cut at " + std::to_string(len));
      std::vector<uint8_t> buf(sf.frame.begin(), sf.frame.begin() + len);
      PacketMeta m;
      DecodeStatus st = DecodePacket(sf.link, len ? buf.data() : nullptr, len,
                                     uint32_t(sf.frame.size()), &m);
      if (len < sf.l4) {
        EXPECT_EQ(st, DecodeStatus::kTruncated);
        continue;
      }
      ASSERT_EQ(st, DecodeStatus::kOk);
      EXPECT_EQ(m.cap_len, len);
      EXPECT_EQ(m.flags & kPktEthPadding, 0);
      if (len < sf.l4 + sf.fixed) {
        EXPECT_NE(m.flags & kPktL4Truncated, 0);
        EXPECT_EQ(m.l4_header_len, 0);
        EXPECT_EQ(m.payload_frame, 0u);
        EXPECT_EQ(m.payload_ip, 0u);
        EXPECT_EQ(m.sport, len >= sf.l4 + 4 ? sf.sport : 0);
        EXPECT_EQ(m.dport, len >= sf.l4 + 4 ? sf.dport : 0);
      } else {
        EXPECT_EQ(m.flags & kPktL4Truncated, 0);
        EXPECT_EQ(m.l4_header_len, sf.hl);
        const uint32_t want = len > sf.l4 + sf.hl ? len - sf.l4 - sf.hl : 0;
        EXPECT_EQ(m.payload_frame, want);
        EXPECT_EQ(m.payload_ip, want);
        EXPECT_EQ(m.sport, sf.sport);
        EXPECT_EQ(m.dport, sf.dport);
      }
    }
  }
}

// Arbitrary bytes at every length and link type: must not crash or read out of bounds
// (meaningful under ASan, -DNFM_SANITIZE=ON).
TEST(Decode, GarbageNeverCrashes) {
  uint32_t x = 12345;
  for (int iter = 0; iter < 20000; ++iter) {
    const uint32_t len = x % 200;
    std::vector<uint8_t> buf(len);
    for (auto& b : buf) {
      x = x * 1103515245 + 12345;
      b = uint8_t(x >> 16);
    }
    // Bias towards plausible headers so deeper layers get exercised.
    if (len > 14 && (iter & 1)) { buf[12] = 0x08; buf[13] = 0x00; buf[14] = 0x45; }
    if (len > 0 && (iter & 2)) buf[0] = (iter & 4) ? 0x60 : 0x45;
    if (len > 14 && (iter & 8)) {  // encapsulation EtherTypes: MACsec, NSH, PBB, VN-Tag, FabricPath
      static constexpr uint16_t kEncap[] = {0x88e5, 0x894f, 0x88e7, 0x8926, 0x8903};
      const uint16_t t = kEncap[(iter >> 4) % 5];
      buf[12] = uint8_t(t >> 8);
      buf[13] = uint8_t(t);
      if (len > 16 && (iter & 128)) buf[14] &= 0xd3;  // MACsec: E and C clear; NSH: version 0
    }
    for (uint32_t lt : {0u, 1u, 101u, 105u, 113u, 119u, 127u, 192u, 228u, 229u, 276u}) {
      PacketMeta m;
      DecodePacket(lt, buf.data(), len, len, &m);
      EXPECT_LE(m.payload_frame, len);
      EXPECT_LE(m.payload_ip, len);
    }
    x = x * 1103515245 + 12345;
  }
}

}  // namespace
}  // namespace nfm
