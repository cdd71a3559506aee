// SPDX-License-Identifier: MIT
// DecodePacketNtl: frames as dpkt 1.9.8 decodes them for NTLFlowLyzer (spec §1, §8.1). Every
// frame is built byte by byte here; the expected sizes follow dpkt's unpack code by hand:
// header = len(tcp) - len(tcp.data) = 20 + captured options, payload = bytes after the data
// offset up to the IPv4 total length.
#include "source/decode_ntl.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace nfm {
namespace {

// Ethernet header with `tags` 802.1Q tags (TPID `tpid` for the first) and the final type.
std::vector<uint8_t> Eth(uint16_t type, int tags = 0, uint16_t tpid = 0x8100) {
  std::vector<uint8_t> f = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  for (int i = 0; i < tags; ++i) {
    const uint16_t t = i == 0 ? tpid : 0x8100;
    f.push_back(static_cast<uint8_t>(t >> 8));
    f.push_back(static_cast<uint8_t>(t));
    f.push_back(0);
    f.push_back(static_cast<uint8_t>(10 + i));
  }
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  return f;
}

// IPv4 (IHL words, total length) + TCP (doff words) + payload bytes; `first` = first byte.
void AppendIpTcp(std::vector<uint8_t>& f, uint16_t total, int doff, int payload, uint8_t first = 0x45,
                 uint16_t frag = 0) {
  const int ihl = (first & 0x0f) * 4;
  std::vector<uint8_t> ip(static_cast<size_t>(ihl < 20 ? 20 : ihl), 0);
  ip[0] = first;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[6] = static_cast<uint8_t>(frag >> 8);
  ip[7] = static_cast<uint8_t>(frag);
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = src[i];
    ip[16 + i] = dst[i];
  }
  f.insert(f.end(), ip.begin(), ip.end());
  std::vector<uint8_t> tcp(static_cast<size_t>(doff * 4), 0);
  tcp[0] = 0x04;  // sport 1234
  tcp[1] = 0xd2;
  tcp[3] = 80;
  tcp[4] = 0x00, tcp[5] = 0x00, tcp[6] = 0x01, tcp[7] = 0x00;  // seq 256
  tcp[11] = 7;                                                  // ack 7
  tcp[12] = static_cast<uint8_t>(doff << 4);
  tcp[13] = 0x18;  // PSH ACK
  tcp[14] = 0x01;  // window 300
  tcp[15] = 0x2c;
  f.insert(f.end(), tcp.begin(), tcp.end());
  f.insert(f.end(), static_cast<size_t>(payload), 0xab);
}

DecodeStatus Decode(const std::vector<uint8_t>& f, PacketMeta* m, uint32_t link = 1) {
  return DecodePacketNtl(link, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), m);
}

TEST(DecodeNtl, PlainTcpSizesAndFields) {
  auto f = Eth(0x0800);
  AppendIpTcp(f, 20 + 32 + 100, 8, 100);
  f.insert(f.end(), 6, 0);  // Ethernet padding after the IP packet: not payload
  PacketMeta m;
  ASSERT_EQ(Decode(f, &m), DecodeStatus::kOk);
  EXPECT_EQ(m.proto, 6);
  EXPECT_EQ(m.sport, 1234);
  EXPECT_EQ(m.dport, 80);
  EXPECT_EQ(m.l4_header_len, 32);
  EXPECT_EQ(m.payload_ip, 100u);
  EXPECT_EQ(m.cap_len, 14u + 20 + 32 + 100 + 6);  // frame length = len(buf)
  EXPECT_EQ(m.tcp_seq, 256u);
  EXPECT_EQ(m.tcp_ack, 7u);
  EXPECT_EQ(m.tcp_flags, 0x18);
  EXPECT_EQ(m.window, 300);
  EXPECT_EQ(m.flags & kPktL4Truncated, 0);
}

TEST(DecodeNtl, OptionsCutByTheSnapLengthCountOnlyWhatWasCaptured) {
  auto f = Eth(0x0800);
  AppendIpTcp(f, 20 + 40, 10, 0);  // doff 10: 20 bytes of options
  f.resize(f.size() - 12);         // 8 option bytes captured
  PacketMeta m;
  ASSERT_EQ(Decode(f, &m), DecodeStatus::kOk);
  EXPECT_EQ(m.l4_header_len, 28);  // 20 + len(opts)
  EXPECT_EQ(m.payload_ip, 0u);
}

TEST(DecodeNtl, TotalLengthZeroUsesTheRestOfTheFrame) {
  auto f = Eth(0x0800);
  AppendIpTcp(f, 0, 5, 30);  // TSO capture
  PacketMeta m;
  ASSERT_EQ(Decode(f, &m), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_ip, 30u);
}

TEST(DecodeNtl, ShortTcpHeaderIsNotTcp) {
  auto f = Eth(0x0800);
  AppendIpTcp(f, 20 + 20, 5, 0);
  f.resize(14 + 20 + 19);  // 19 TCP bytes: NeedData, ip.data stays bytes
  PacketMeta m;
  ASSERT_EQ(Decode(f, &m), DecodeStatus::kOk);
  EXPECT_NE(m.flags & kPktL4Truncated, 0);
}

TEST(DecodeNtl, VersionNibbleIsNotChecked) {
  auto f = Eth(0x0800);
  AppendIpTcp(f, 40, 5, 0, 0x65);  // version 6, IHL 5, under EtherType IPv4: dpkt's IP class
  PacketMeta m;
  ASSERT_EQ(Decode(f, &m), DecodeStatus::kOk);
  EXPECT_EQ(m.ip_version, 4);
  EXPECT_EQ(m.dport, 80);
}

// Ethernet header whose tag stack has exactly these TPIDs, outermost first, then `type`.
std::vector<uint8_t> Tagged(std::initializer_list<uint16_t> tpids, uint16_t type) {
  std::vector<uint8_t> f = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  uint16_t next = type;
  std::vector<uint16_t> t(tpids);
  for (size_t i = 0; i < t.size(); ++i) {
    f.push_back(static_cast<uint8_t>(t[i] >> 8));
    f.push_back(static_cast<uint8_t>(t[i]));
    f.push_back(0);  // TCI
    f.push_back(static_cast<uint8_t>(10 + i));
  }
  f.push_back(static_cast<uint8_t>(next >> 8));
  f.push_back(static_cast<uint8_t>(next));
  return f;
}

// dpkt 1.9.8 unpacks at most two tags per Ethernet._unpack_data call (the second only after
// 0x8100); a type with no class leaves eth.data as bytes, and Ethernet.__init__ then runs
// _unpack_data once more on them. Every expectation below was checked against
// /usr/bin/python3 dpkt 1.9.8 (dpkt.ethernet.Ethernet(frame).data is an IP object or not).
TEST(DecodeNtl, TagDepthFollowsDpktsTwoPasses) {
  struct Case {
    const char* name;
    std::initializer_list<uint16_t> tpids;
    bool ip;
  } cases[] = {
      {"untagged", {}, true},
      {"one", {0x8100}, true},
      {"two 802.1ad + 802.1Q", {0x88a8, 0x8100}, true},
      {"three 802.1Q", {0x8100, 0x8100, 0x8100}, true},
      {"four 802.1Q", {0x8100, 0x8100, 0x8100, 0x8100}, true},
      {"five 802.1Q", {0x8100, 0x8100, 0x8100, 0x8100, 0x8100}, false},
      {"six 802.1Q", {0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100}, false},
      {"802.1ad + three 802.1Q", {0x88a8, 0x8100, 0x8100, 0x8100}, true},
      {"0x9200 + three 802.1Q", {0x9200, 0x8100, 0x8100, 0x8100}, true},
      {"0x9100 + 802.1Q", {0x9100, 0x8100}, true},
      {"0x9100 twice", {0x9100, 0x9100}, true},
      {"0x9100 three times", {0x9100, 0x9100, 0x9100}, false},  // one tag per pass
      {"802.1ad three times", {0x88a8, 0x88a8, 0x88a8}, false},
      {"802.1Q, 802.1ad, 802.1Q", {0x8100, 0x88a8, 0x8100}, true},
      {"802.1Q, 802.1ad, two 802.1Q", {0x8100, 0x88a8, 0x8100, 0x8100}, false},
  };
  for (const auto& c : cases) {
    auto f = Tagged(c.tpids, 0x0800);
    AppendIpTcp(f, 40, 5, 0);
    PacketMeta m;
    const DecodeStatus st = Decode(f, &m);
    if (c.ip) {
      EXPECT_EQ(st, DecodeStatus::kOk) << c.name;
      EXPECT_EQ(m.dport, 80) << c.name;
    } else {
      EXPECT_EQ(st, DecodeStatus::kNotIp) << c.name;
    }
  }
}

TEST(DecodeNtl, TagsThenMplsReachIpInTheSecondPass) {
  for (auto tpids : {std::initializer_list<uint16_t>{0x8100}, std::initializer_list<uint16_t>{0x8100, 0x8100}}) {
    auto f = Tagged(tpids, 0x8847);
    f.insert(f.end(), {0x00, 0x01, 0x01, 0x40});  // one label, bottom of stack
    AppendIpTcp(f, 40, 5, 0);
    PacketMeta m;
    ASSERT_EQ(Decode(f, &m), DecodeStatus::kOk);
    EXPECT_EQ(m.dport, 80);
  }
}

TEST(DecodeNtl, TagStackCutShort) {
  PacketMeta m;
  // Two tags, the second announcing a third, and nothing after: eth.data is b'', so
  // Ethernet.__init__ runs no second pass.
  EXPECT_EQ(Decode(Tagged({0x8100, 0x8100}, 0x8100), &m), DecodeStatus::kNotIp);
  // Four tags and no IPv4 header: IP NeedData, like any IPv4 header cut short.
  EXPECT_EQ(Decode(Tagged({0x8100, 0x8100, 0x8100, 0x8100}, 0x0800), &m), DecodeStatus::kTruncated);
  auto cut = Tagged({0x8100, 0x8100, 0x8100}, 0x0800);
  cut.resize(cut.size() - 2);  // the third tag has 2 of its 4 bytes: NeedData in the second pass
  EXPECT_EQ(Decode(cut, &m), DecodeStatus::kTruncated);
}

TEST(DecodeNtl, MplsNeedsTheByte0x45) {
  auto f = Eth(0x8847);
  f.insert(f.end(), {0x00, 0x01, 0x01, 0x40});  // one label, bottom of stack
  AppendIpTcp(f, 40, 5, 0);
  PacketMeta m;
  ASSERT_EQ(Decode(f, &m), DecodeStatus::kOk);
  auto opt = Eth(0x8847);
  opt.insert(opt.end(), {0x00, 0x01, 0x01, 0x40});
  AppendIpTcp(opt, 44, 5, 0, 0x46);  // IHL 6: first byte 0x46, guessed as pseudowire Ethernet
  EXPECT_EQ(Decode(opt, &m), DecodeStatus::kNotIp);
}

TEST(DecodeNtl, NotIpv4OrNotEthernet) {
  PacketMeta m;
  auto v6 = Eth(0x86dd);
  v6.resize(14 + 40, 0);
  EXPECT_EQ(Decode(v6, &m), DecodeStatus::kNotIp);
  auto llc = Eth(100);  // 802.3 length field
  llc.resize(14 + 100, 0);
  EXPECT_EQ(Decode(llc, &m), DecodeStatus::kNotIp);
  auto f = Eth(0x0800);
  AppendIpTcp(f, 40, 5, 0);
  EXPECT_EQ(Decode(f, &m, 113), DecodeStatus::kUnsupportedLink);  // Linux cooked
  auto bad_ihl = Eth(0x0800);
  AppendIpTcp(bad_ihl, 40, 5, 0, 0x44);
  EXPECT_EQ(Decode(bad_ihl, &m), DecodeStatus::kMalformed);
  auto later = Eth(0x0800);
  AppendIpTcp(later, 40, 5, 0, 0x45, 0x0010);  // fragment offset 16 * 8
  ASSERT_EQ(Decode(later, &m), DecodeStatus::kOk);
  EXPECT_NE(m.flags & kPktLaterFragment, 0);
}

}  // namespace
}  // namespace nfm
