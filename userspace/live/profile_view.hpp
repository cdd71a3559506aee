// SPDX-License-Identifier: MIT
// Live views of the reference profiles: rewrites the PacketMeta that DecodeEvent made from a
// kernel event into what the reference tool's decoder gives for the same frame offline
// (--profile cic: source/decode_cic.cpp, CICFlowMeter's jnetpcap view; --profile ntl:
// source/decode_ntl.cpp, NTLFlowLyzer's dpkt view), or reports that the reference would not
// see the packet at all (IPv6: both read IPv4 only) and which skip counter it goes to.
// It does not decode bytes (the kernel did) and cannot restore what the event lacks; the
// remaining differences are listed in docs/LIVE.md "Reference profiles live". Pure, noexcept.
#pragma once

#include <cstdint>

#include "engine/engine.hpp"
#include "engine/packet.hpp"

namespace nfm::live {

// kNative: the event's view as is (corrected profile, every feature set).
enum class LiveView : uint8_t { kNative = 0, kCic, kNtl };

// CICFlowMeter (Cmd, readIP6 = false): IPv4 only. Its PacketReader keeps TCP and UDP headers;
// any other protocol, a later fragment or a cut L4 header becomes protocol 0 with no ports,
// flags, window, header or payload bytes (DecodeCic's FillIpv4). TCP/UDP payload is bounded by
// the IPv4 total length (the untagged trailer cut, CIC.md §1.5).
inline bool CicView(PacketMeta* m, SkipReason* why) noexcept {
  if (m->ip_version != 4) {
    *why = SkipReason::kNotIp;  // offline: DecodeCic finds no IPv4 header (kNotIp)
    return false;
  }
  const bool l4 = !(m->flags & (kPktLaterFragment | kPktL4Truncated)) && (m->proto == 6 || m->proto == 17);
  if (l4) {
    m->payload_frame = m->payload_ip;
  } else {
    if (!(m->flags & kPktLaterFragment)) m->flags |= kPktL4Truncated;
    m->proto = 0;
    m->sport = m->dport = 0;
    m->tcp_flags = 0;
    m->window = 0;
    m->l4_header_len = 0;
    m->payload_ip = m->payload_frame = 0;
    m->tcp_seq = m->tcp_ack = 0;
  }
  if (m->proto != 6) m->window = 0;
  return true;
}

// NTLFlowLyzer (dpkt): Ethernet-framed IPv4; the engine itself keeps TCP only and counts the
// rest (kUnsupported, kLaterFragment, kTruncated) exactly as offline.
inline bool NtlView(PacketMeta* m, SkipReason* why) noexcept {
  if (m->ip_version != 4) {
    *why = SkipReason::kNotIp;  // offline: DecodePacketNtl returns kNotIp for IPv6
    return false;
  }
  m->payload_frame = m->payload_ip;  // DecodePacketNtl: both bounded by the IPv4 total length
  return true;
}

}  // namespace nfm::live
