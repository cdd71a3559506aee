// SPDX-License-Identifier: MIT
// The TCP handshake walk (engine/ntl/handshake.hpp): SYN, SYN-ACK, ACK in order complete it;
// the first packet that is no step is recorded once; a packet after completion ends the walk.
// Defect N4 is the template parameter: an acknowledgement number of 0 acknowledges
// 2^32 - 1 modulo 2^32 (kModular) but nothing for the reference (kNoWrap).
#include "engine/ntl/handshake.hpp"

#include <gtest/gtest.h>

namespace nfm {
namespace {

constexpr uint8_t kSynAck = kTcpSyn | kTcpAck;

template <HandshakeSeq kSeq>
TcpHandshake Walk(uint32_t client_isn, uint32_t server_isn) {
  TcpHandshake h{};
  HandshakeStep<kSeq>(h, kTcpSyn, client_isn, 0, 10);
  HandshakeStep<kSeq>(h, kSynAck, server_isn, client_isn + 1, 20);
  HandshakeStep<kSeq>(h, kTcpAck, client_isn + 1, server_isn + 1, 30);
  return h;
}

TEST(Handshake, ThreeStepsComplete) {
  for (const TcpHandshake& h : {Walk<HandshakeSeq::kModular>(1000, 5000), Walk<HandshakeSeq::kNoWrap>(1000, 5000)}) {
    EXPECT_EQ(h.state, 3);
    EXPECT_EQ(h.first_ns, 10);
    EXPECT_EQ(h.last_ns, 30);
    EXPECT_EQ(h.other, 0);
    EXPECT_EQ(h.done, 0);
  }
}

TEST(Handshake, PacketAfterCompletionEndsTheWalk) {
  TcpHandshake h = Walk<HandshakeSeq::kModular>(1000, 5000);
  HandshakeStep<HandshakeSeq::kModular>(h, kTcpAck, 1001, 5001, 40);
  EXPECT_EQ(h.done, 1);
  EXPECT_EQ(h.other, 1);
  EXPECT_EQ(h.other_ns, 40);
  HandshakeStep<HandshakeSeq::kModular>(h, kTcpSyn, 7, 0, 50);  // ignored
  EXPECT_EQ(h.state, 3);
  EXPECT_EQ(h.other_ns, 40);
}

TEST(Handshake, FirstNonStepPacketIsRecordedOnce) {
  TcpHandshake h{};
  HandshakeStep<HandshakeSeq::kNoWrap>(h, kTcpSyn, 1000, 0, 10);
  HandshakeStep<HandshakeSeq::kNoWrap>(h, kSynAck, 5000, 77, 15);  // acknowledges the wrong number
  HandshakeStep<HandshakeSeq::kNoWrap>(h, kTcpAck, 1001, 5001, 16);
  EXPECT_EQ(h.state, 1);
  EXPECT_EQ(h.other, 1);
  EXPECT_EQ(h.other_ns, 15);
  EXPECT_EQ(h.done, 0);
}

TEST(Handshake, N4SequenceWrapOnlyWhenModular) {
  // The client's ISN is 2^32 - 1: the SYN-ACK acknowledges 0, the server's ISN + 1 likewise.
  const TcpHandshake fixed = Walk<HandshakeSeq::kModular>(0xffffffffu, 0xffffffffu);
  EXPECT_EQ(fixed.state, 3);
  const TcpHandshake ref = Walk<HandshakeSeq::kNoWrap>(0xffffffffu, 0xffffffffu);
  EXPECT_EQ(ref.state, 1);  // the SYN-ACK's ack - 1 = -1 matches no sequence number
  EXPECT_EQ(ref.other, 1);
  EXPECT_EQ(ref.other_ns, 20);
}

}  // namespace
}  // namespace nfm
