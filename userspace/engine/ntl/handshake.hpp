// SPDX-License-Identifier: MIT
// The TCP three-way handshake walk of the NTLFlowLyzer feature sets (spec §8.3): SYN, then a
// SYN-ACK acknowledging it, then an ACK acknowledging that, each packet of the flow in arrival
// order (both directions). One walk for NtlEngine (the reference) and FlowEngine's corrected
// ntl set; how they compare sequence numbers (defect N4) is the template parameter. What the
// features make of the result (and of a handshake completed by the last packet, also N4) is
// ntl_compute's business.
#pragma once

#include <cstdint>

#include "engine/tcp_flags.hpp"

namespace nfm {

// How an acknowledgement number is matched against the sequence number it acknowledges.
enum class HandshakeSeq : uint8_t {
  kModular,  // modulo 2^32 (RFC 9293 §3.4): an ACK of 0 acknowledges 2^32 - 1 (N4 fixed)
  kNoWrap,   // the reference's Python integers: ack - 1 is -1 for an ACK of 0 and matches
             // no sequence number (N4)
};

// Per-flow walk state; plain data, all zero before the flow's first packet.
struct TcpHandshake {
  int64_t first_ns;  // time of the SYN (state >= 1)
  int64_t last_ns;   // time of the ACK completing it (state 3)
  int64_t other_ns;  // time of the first packet that was no step of the walk (other)
  uint32_t seq;      // sequence number of the last step (SYN, then SYN-ACK)
  uint32_t ack;      // acknowledgement number of the SYN-ACK
  uint8_t state;     // 0 no SYN yet, 1 SYN seen, 2 SYN-ACK seen, 3 complete
  uint8_t other;     // other_ns is set
  uint8_t done;      // a packet followed the completed handshake: the walk is over
  uint8_t pad_;
};
static_assert(sizeof(TcpHandshake) == 40);

// One TCP packet of the flow (flags, sequence and acknowledgement numbers, time t).
template <HandshakeSeq kSeq>
inline void HandshakeStep(TcpHandshake& h, uint8_t flags, uint32_t seq, uint32_t ack, int64_t t) noexcept {
  if (h.done) return;
  // Does `ack` acknowledge sequence number s?
  auto acks = [ack](uint32_t s) noexcept {
    if constexpr (kSeq == HandshakeSeq::kModular) {
      return static_cast<uint32_t>(ack - 1) == s;
    } else {
      return static_cast<int64_t>(s) == static_cast<int64_t>(ack) - 1;
    }
  };
  if (h.state == 3) {
    if (!h.other) {
      h.other_ns = t;
      h.other = 1;
    }
    h.done = 1;
  } else if (h.state == 0 && (flags & kTcpSyn)) {
    h.first_ns = t;
    h.seq = seq;
    h.state = 1;
  } else if (h.state == 1 && (flags & kTcpSyn) && (flags & kTcpAck) && acks(h.seq)) {
    h.seq = seq;
    h.ack = ack;
    h.state = 2;
  } else if (h.state == 2 && (flags & kTcpAck) && acks(h.seq) && h.ack == seq) {
    h.last_ns = t;
    h.state = 3;
  } else if (!h.other) {
    h.other_ns = t;
    h.other = 1;
  }
}

}  // namespace nfm
