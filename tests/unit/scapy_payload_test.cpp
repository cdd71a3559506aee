// SPDX-License-Identifier: MIT
// ScapyRebuiltLength / ScapyAppFor: scapy 2.5's re-encoded BER lengths (nfm2022). Expected
// sizes are hand-computed from the BER rules (minimal length fields, minimal integers as
// scapy's BERcodec_INTEGER writes them); tests/differential/scapy_payload_test.py checks the
// same module against scapy itself. Also: bounded work on deep or huge input, and the hook
// in DecodePacket (padding after the IP packet is kept as is).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "../common/packet_builder.hpp"
#include "source/decode.hpp"
#include "source/scapy_payload.hpp"

namespace nfm {
namespace {

using test::PacketBuilder;

uint32_t Rebuilt(ScapyApp app, const std::vector<uint8_t>& b) {
  return ScapyRebuiltLength(app, b.data(), static_cast<uint32_t>(b.size()));
}

// LDAP unbindRequest, messageID 5, every length in the 5-byte form Active Directory uses.
const std::vector<uint8_t> kUnbindAd = {0x30, 0x84, 0, 0, 0, 0x0d,        // LDAPMessage
                                        0x02, 0x84, 0, 0, 0, 1, 0x05,     // messageID 5
                                        0x42, 0x84, 0, 0, 0, 0};          // unbindRequest NULL

TEST(ScapyPayload, BindingsFollowScapysPayloadGuessOrder) {
  EXPECT_EQ(ScapyAppFor(6, 40000, 389), ScapyApp::kLdap);
  EXPECT_EQ(ScapyAppFor(6, 3268, 40000), ScapyApp::kLdap);
  EXPECT_EQ(ScapyAppFor(17, 40000, 389), ScapyApp::kCldap);
  EXPECT_EQ(ScapyAppFor(17, 161, 40000), ScapyApp::kSnmp);
  EXPECT_EQ(ScapyAppFor(17, 40000, 162), ScapyApp::kSnmp);
  EXPECT_EQ(ScapyAppFor(17, 40000, 88), ScapyApp::kKerberos);
  EXPECT_EQ(ScapyAppFor(6, 88, 40000), ScapyApp::kKerberosTcp);
  // Earlier bindings win: DNS before SNMP, KerberosTCPHeader before LDAP, L2TP before SNMP.
  EXPECT_EQ(ScapyAppFor(17, 53, 161), ScapyApp::kOther);
  EXPECT_EQ(ScapyAppFor(6, 88, 389), ScapyApp::kKerberosTcp);
  EXPECT_EQ(ScapyAppFor(17, 1701, 161), ScapyApp::kL2tp);
  // The tunnels the nfm2022 decoder follows, with the same precedence (spec §1.1, D20).
  EXPECT_EQ(ScapyAppFor(17, 40000, 4789), ScapyApp::kVxlan);
  EXPECT_EQ(ScapyAppFor(17, 8472, 40000), ScapyApp::kVxlan);
  EXPECT_EQ(ScapyAppFor(17, 40000, 48879), ScapyApp::kVxlan);
  EXPECT_EQ(ScapyAppFor(17, 48879, 40000), ScapyApp::kOther);  // no sport binding for 48879
  EXPECT_EQ(ScapyAppFor(17, 161, 4789), ScapyApp::kSnmp);
  EXPECT_EQ(ScapyAppFor(17, 53, 4789), ScapyApp::kOther);
  EXPECT_EQ(ScapyAppFor(17, 4789, 1701), ScapyApp::kL2tp);
  EXPECT_EQ(ScapyAppFor(17, 53, 1701), ScapyApp::kOther);
  // Not bound at all: SNMP over TCP, LDAP port over SCTP-like protocols.
  EXPECT_EQ(ScapyAppFor(6, 40000, 161), ScapyApp::kOther);
  EXPECT_EQ(ScapyAppFor(132, 40000, 389), ScapyApp::kOther);
  EXPECT_EQ(ScapyAppFor(6, 40000, 80), ScapyApp::kOther);
}

TEST(ScapyPayload, LongFormLengthsBecomeMinimal) {
  // 30 05 | 02 01 05 | 42 00: 7 bytes instead of 19.
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, kUnbindAd), 7u);
  EXPECT_EQ(Rebuilt(ScapyApp::kOther, kUnbindAd), 19u);
}

TEST(ScapyPayload, IntegersAndNullAreRewrittenAsScapyEncodesThem) {
  // messageID 00 00 05 -> 05; unbind NULL with content 00 -> empty.
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, {0x30, 0x08, 0x02, 0x03, 0, 0, 0x05, 0x42, 0x01, 0x00}), 7u);
  // messageID -128 (80) grows to ff 80: scapy's loop stops only in [-127, 127].
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, {0x30, 0x05, 0x02, 0x01, 0x80, 0x42, 0x00}), 8u);
  // messageID with an empty content decodes as 0 and is written 02 01 00.
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, {0x30, 0x04, 0x02, 0x00, 0x42, 0x00}), 7u);
}

TEST(ScapyPayload, MessagesScapyCannotDissectStayRaw) {
  std::vector<uint8_t> b = kUnbindAd;
  b[13] = 0x66;  // modifyRequest tag: not in scapy 2.5's protocolOp CHOICE
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, b), 19u);
  b = kUnbindAd;
  b.pop_back();  // truncated: the LDAPMessage length runs past the bytes
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, b), 18u);
  // A simple bind (authentication [0] primitive, 0x80) fails in scapy 2.5: unchanged.
  const std::vector<uint8_t> simple = {0x30, 0x84, 0, 0, 0, 0x0f, 0x02, 0x01, 0x01, 0x60, 0x0a, 0x02,
                                       0x01, 0x03, 0x04, 0x01, 'x', 0x80, 0x02, 'p', 'w'};
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, simple), simple.size());
}

TEST(ScapyPayload, LaterLdapMessagesAreRebuiltUntilOneFails) {
  std::vector<uint8_t> b = kUnbindAd;
  b.insert(b.end(), kUnbindAd.begin(), kUnbindAd.end());
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, b), 14u);
  b.insert(b.end(), {0x30, 0x84, 0, 0});  // a third, cut in its length field: Raw
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, b), 18u);
  // SNMP and Kerberos are not bound to themselves: only the first message is rebuilt.
}

TEST(ScapyPayload, KerberosTcpKeepsItsRecordMarker) {
  // 4-byte length, then KRB-ERROR [APPLICATION 30] { SEQUENCE { [0] INTEGER 5 } } in long forms.
  // (The generic BER rule only: scapy's KRB_ERROR grammar would want more fields.)
  const std::vector<uint8_t> b = {0, 0, 0, 0x15, 0x7e, 0x84, 0, 0, 0, 0x0f, 0x30, 0x84, 0, 0, 0,
                                  0x09, 0xa0, 0x84, 0, 0, 0, 0x03, 0x02, 0x01, 0x05};
  // 4 + (7e 07 | 30 05 | a0 03 | 02 01 05) = 4 + 9.
  EXPECT_EQ(Rebuilt(ScapyApp::kKerberosTcp, b), 13u);
  EXPECT_EQ(Rebuilt(ScapyApp::kKerberosTcp, {0, 0, 1}), 3u);
}

TEST(ScapyPayload, UdpLengthFieldCutsLikeAPythonSlice) {
  EXPECT_EQ(ScapyUdpAppBytes(100, 50), 50u);
  EXPECT_EQ(ScapyUdpAppBytes(20, 50), 12u);
  EXPECT_EQ(ScapyUdpAppBytes(8, 50), 0u);
  EXPECT_EQ(ScapyUdpAppBytes(5, 50), 47u);  // s[:-3]
  EXPECT_EQ(ScapyUdpAppBytes(0, 50), 42u);  // s[:-8]
  EXPECT_EQ(ScapyUdpAppBytes(0, 3), 0u);
}

// Wraps `inner` in a TLV with a 5-byte (0x84) length.
std::vector<uint8_t> Wrap(uint8_t tag, const std::vector<uint8_t>& inner) {
  const uint32_t n = static_cast<uint32_t>(inner.size());
  std::vector<uint8_t> out = {tag, 0x84, uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
  out.insert(out.end(), inner.begin(), inner.end());
  return out;
}

// An LDAP searchRequest whose filter is `levels` nested and-filters around (cn=*).
std::vector<uint8_t> NestedSearch(int levels) {
  std::vector<uint8_t> filter = {0x87, 0x02, 'c', 'n'};
  for (int i = 0; i < levels; ++i) filter = Wrap(0xa0, filter);
  std::vector<uint8_t> op = {0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02, 0x01, 0x00,
                             0x02, 0x01, 0x00, 0x01, 0x01, 0x00};
  op.insert(op.end(), filter.begin(), filter.end());
  op.insert(op.end(), {0x30, 0x00});
  std::vector<uint8_t> msg = {0x02, 0x01, 0x01};
  const std::vector<uint8_t> wrapped = Wrap(0x63, op);
  msg.insert(msg.end(), wrapped.begin(), wrapped.end());
  return Wrap(0x30, msg);
}

TEST(ScapyPayload, NestingIsBoundedWhereScapysRecursionLimitIs) {
  // 49 nested filters: scapy re-builds (each 0x84 length shrinks); 50 and 20,000: RecursionError
  // in scapy, the message stays Raw. (tests/differential checks the 49/50 edge against scapy.)
  const std::vector<uint8_t> ok = NestedSearch(49), too_deep = NestedSearch(50), huge = NestedSearch(20000);
  EXPECT_LT(Rebuilt(ScapyApp::kLdap, ok), ok.size());
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, too_deep), too_deep.size());
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, huge), huge.size());
  // Kerberos (generic BER): 20,000 nested [0] inside an AS-REQ tag.
  std::vector<uint8_t> krb = {0x02, 0x01, 0x05};
  for (int i = 0; i < 20000; ++i) krb = Wrap(0xa0, krb);
  krb = Wrap(0x6a, krb);
  EXPECT_EQ(Rebuilt(ScapyApp::kKerberos, krb), krb.size());
}

TEST(ScapyPayload, WorkIsLinearInTheBytes) {
  // 64 KiB of empty LDAP messages (30 00): 32768 messages, each rebuilt as 30 00.
  std::vector<uint8_t> many;
  for (int i = 0; i < 32768; ++i) many.insert(many.end(), {0x30, 0x00});
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Rebuilt(ScapyApp::kLdap, many), many.size());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
}

TEST(ScapyPayload, DecodeFollowsVxlanOnlyWhereScapyWould) {
  // VXLAN (8 bytes) + Eth/IPv4/TCP 10 B inside UDP. From 40000 scapy dissects VXLAN (two
  // packets, D20); from 161 its SNMP binding comes first, so there is no TCP layer at all.
  std::vector<uint8_t> inner = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(1234, 80).Payload(10).Bytes();
  std::vector<uint8_t> vxlan = {0x08, 0, 0, 0, 0, 0, 0x2a, 0};
  vxlan.insert(vxlan.end(), inner.begin(), inner.end());
  for (uint16_t sport : {40000, 161, 53}) {
    std::vector<uint8_t> frame = PacketBuilder().Eth().IPv4("192.0.2.1", "192.0.2.2").Udp(sport, 4789).Raw(vxlan).Bytes();
    PacketMeta m, second;
    bool two = false;
    ASSERT_EQ(DecodePacket(1, frame.data(), frame.size(), frame.size(), &m, &second, &two,
                               DecodeMode::kScapy2022), DecodeStatus::kOk);
    EXPECT_EQ(two, sport == 40000) << sport;
    EXPECT_EQ(m.sport, sport == 40000 ? 1234 : sport) << sport;
  }
}

TEST(ScapyPayload, DecodeKeepsEthernetPaddingAfterTheRebuiltLayer) {
  // Eth(14) IPv4(20) TCP(20) 40000 -> 389, the 19-byte AD unbind, then 7 bytes of trailer.
  std::vector<uint8_t> frame = PacketBuilder().Eth().IPv4("10.0.0.1", "10.0.0.2").Tcp(40000, 389)
                                   .Raw(kUnbindAd).Trailer(7).Bytes();
  PacketMeta m, second;
  bool two = false;
  ASSERT_EQ(DecodePacket(1, frame.data(), frame.size(), frame.size(), &m, &second, &two,
                             DecodeMode::kScapy2022), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 7u + 7u);  // rebuilt LDAP + Padding
  EXPECT_EQ(m.payload_ip, 19u);         // wire bytes, unchanged
  // The strict decoder (corrected profile) never re-encodes.
  ASSERT_EQ(DecodePacket(1, frame.data(), frame.size(), frame.size(), &m, &second, &two,
                             DecodeMode::kStrict), DecodeStatus::kOk);
  EXPECT_EQ(m.payload_frame, 19u + 7u);
  EXPECT_EQ(m.payload_ip, 19u);
}

}  // namespace
}  // namespace nfm
