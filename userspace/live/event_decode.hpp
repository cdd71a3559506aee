// SPDX-License-Identifier: MIT
// Decodes one ring-buffer sample (struct nfm_pkt_event, include/nfm/event.h) into the
// PacketMeta the engine takes. Header-only and free of libbpf so the unit test can use it.
// Pure function: no allocation, no clock, thread-safe.
#pragma once

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "nfm/event.h"
#include "engine/packet.hpp"

namespace nfm::live {

static_assert(std::is_trivially_copyable_v<nfm_pkt_event>);
static_assert(std::has_unique_object_representations_v<nfm_pkt_event>, "hidden padding");
static_assert(std::is_trivially_copyable_v<nfm_pkt_event_tun>);
static_assert(std::has_unique_object_representations_v<nfm_pkt_event_tun>, "hidden padding");
static_assert(NFM_TUNNEL_VXLAN == kTunnelVxlan && NFM_TUNNEL_GENEVE == kTunnelGeneve && NFM_TUNNEL_GTPU == kTunnelGtpU &&
              NFM_TUNNEL_GRE == kTunnelGre && NFM_TUNNEL_IPIP == kTunnelIpIp && NFM_TUNNEL_NONE == kTunnelNone);
// Field offsets and the 72-byte size are asserted in include/nfm/event.h (for C and C++).

enum class EventStatus : uint8_t { kOk = 0, kBadSize, kBadVersion, kBadTrailer };

// `mono_to_wall_ns` = CLOCK_REALTIME - CLOCK_MONOTONIC (ns), added to the kernel timestamp.
// On kOk *out is fully rewritten; otherwise *out is untouched.
inline EventStatus DecodeEvent(const void* data, size_t size, int64_t mono_to_wall_ns,
                               PacketMeta* out) noexcept {
  if (size != sizeof(nfm_pkt_event)) return EventStatus::kBadSize;
  nfm_pkt_event ev;
  std::memcpy(&ev, data, sizeof ev);  // ring samples are 8-byte aligned, but stay strict
  if ((ev.info >> NFM_INFO_VERSION_SHIFT) != NFM_EVENT_VERSION) return EventStatus::kBadVersion;

  PacketMeta m;
  const int64_t wall = static_cast<int64_t>(ev.ts_ns) + mono_to_wall_ns;
  m.ts_ns = wall > 0 ? static_cast<uint64_t>(wall) : 0;
  m.ts_exp = -9;
  std::memcpy(m.saddr, ev.saddr, 16);
  std::memcpy(m.daddr, ev.daddr, 16);
  m.wire_len = m.cap_len = ev.frame_len;
  m.sport = ntohs(ev.sport);
  m.dport = ntohs(ev.dport);
  m.window = ev.window;
  m.proto = ev.proto;
  m.tcp_flags = ev.tcp_flags;
  m.ip_version = (ev.info & NFM_INFO_IPV6) ? 6 : 4;
  if (ev.info & NFM_INFO_FRAG) m.flags |= kPktFragment;
  if (ev.info & NFM_INFO_LATER_FRAG) m.flags |= kPktLaterFragment;
  if (ev.info & NFM_INFO_L4_TRUNC) {
    // Same convention as the pcap decoder: no L4 header, so no header or payload bytes.
    m.flags |= kPktL4Truncated;
  } else {
    m.l4_header_len = ev.l4_hdr_len;
    m.tcp_seq = ev.tcp_seq;  // 0 unless TCP (the kernel fills them from the TCP header only)
    m.tcp_ack = ev.tcp_ack;
    const uint64_t l4_end = uint64_t{ev.l4_off} + ev.l4_hdr_len;
    m.payload_frame = ev.frame_len > l4_end ? static_cast<uint32_t>(ev.frame_len - l4_end) : 0;
    m.payload_ip = ev.payload_len;
    if (m.payload_frame > m.payload_ip) m.flags |= kPktEthPadding;
  }
  *out = m;
  return EventStatus::kOk;
}

// A record with the tunnel trailer (struct nfm_pkt_event_tun, 112 bytes): the event as above,
// out->tunnel set from the trailer and *tun filled (outer addresses as the packet had them).
// kBadSize for any other length, kBadTrailer for a tunnel type outside 1..5; out and tun are
// untouched unless kOk.
inline EventStatus DecodeTunnelEvent(const void* data, size_t size, int64_t mono_to_wall_ns, PacketMeta* out,
                                     TunnelMeta* tun) noexcept {
  if (size != sizeof(nfm_pkt_event_tun)) return EventStatus::kBadSize;
  nfm_tunnel_trailer t;
  std::memcpy(&t, static_cast<const uint8_t*>(data) + offsetof(nfm_pkt_event_tun, tun), sizeof t);
  if (t.type == NFM_TUNNEL_NONE || t.type > NFM_TUNNEL_IPIP) return EventStatus::kBadTrailer;
  PacketMeta m;
  const EventStatus st = DecodeEvent(data, sizeof(nfm_pkt_event), mono_to_wall_ns, &m);
  if (st != EventStatus::kOk) return st;
  m.tunnel = t.type;
  *out = m;
  std::memcpy(tun->src, t.outer_saddr, 16);
  std::memcpy(tun->dst, t.outer_daddr, 16);
  tun->id = t.has_id ? t.id : 0;
  tun->has_id = t.has_id ? 1 : 0;
  tun->type = t.type;
  return EventStatus::kOk;
}

}  // namespace nfm::live
