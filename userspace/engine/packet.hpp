// SPDX-License-Identifier: MIT
// PacketMeta: the one record a packet source (pcap replay or the kernel ring buffer)
// hands to the flow engine. It carries only decoded header facts; no source-specific state.
#pragma once

#include <cstdint>

namespace nfm {

// Bits of PacketMeta::flags.
enum PacketFlag : uint8_t {
  kPktFragment = 1u << 0,         // IPv4 MF/offset != 0, or an IPv6 Fragment header is present
  kPktLaterFragment = 1u << 1,    // fragment offset != 0: no L4 header, ports are 0
  kPktL4Truncated = 1u << 2,      // L4 header not (fully) captured; ports/flags may be 0
  kPktEthPadding = 1u << 3,       // informational: frame has bytes after the IP packet
  kPktPortsMissing = 1u << 4,     // TCP/UDP whose port fields were not captured (ports are 0)
  kPktScapyTunnel = 1u << 5,      // nfm2022 only: ports/sizes of a TCP/UDP layer inside a tunnel;
                                  // proto is the outer IP protocol (labels the flow, spec §1.1)
  kPktKeyHashed = 1u << 6,        // key_hash holds the engine's flow-key hash of this packet
};

// PacketMeta::tunnel: the overlay a decapsulated packet came out of. Values are the IPFIX
// tunnel column's codes too (docs/FEATURES.md "Overlay tunnels"); append only.
enum TunnelType : uint8_t {
  kTunnelNone = 0,
  kTunnelVxlan = 1,
  kTunnelGeneve = 2,
  kTunnelGtpU = 3,
  kTunnelGre = 4,
  kTunnelIpIp = 5,  // IPv4 or IPv6 directly in IPv4 or IPv6 (protocols 4, 41)
};
// The tunnel_type column's word: "vxlan", "geneve", "gtpu", "gre", "ipip"; "" for none/unknown.
inline const char* TunnelTypeName(uint8_t t) noexcept {
  constexpr const char* kNames[] = {"", "vxlan", "geneve", "gtpu", "gre", "ipip"};
  return t < sizeof(kNames) / sizeof(kNames[0]) ? kNames[t] : "";
}

// Plain value type, trivially copyable, 88 bytes. Addresses are IPv4-mapped IPv6
// (::ffff:a.b.c.d) for IPv4 so one key type serves both families. Ports host order.
struct PacketMeta {
  uint64_t ts_ns = 0;        // wall-clock time, ns since the Unix epoch (UTC)
  uint8_t saddr[16] = {};    // network byte order, v4-mapped for IPv4
  uint8_t daddr[16] = {};
  uint32_t wire_len = 0;     // original frame length (pcap orig_len / skb len)
  uint32_t cap_len = 0;      // captured frame length
  // Payload as NetFlowMeter 2022 (scapy) sees it: every captured byte after the L4 header
  // to the end of the captured frame (link padding/trailer included). Spec §1.4.
  uint32_t payload_frame = 0;
  // Payload bounded by the IP length: bytes after the L4 header up to the end of the IP
  // packet (IPv4 total length / IPv6 payload length), clamped to what was captured.
  // If the IPv4 total length is 0 (TSO), the rest of the frame. Spec §1.4 "latest".
  uint32_t payload_ip = 0;
  uint16_t sport = 0;        // host order; 0 for ICMP / other protocols / later fragments
  uint16_t dport = 0;
  uint16_t window = 0;       // raw TCP window field (no scaling); 0 if not TCP
  uint16_t l4_header_len = 0;  // hl(p): TCP doff*4, UDP 8, ICMP/ICMPv6 8 (header only), else 0
  uint8_t ip_version = 0;    // 4 or 6
  uint8_t proto = 0;         // IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...)
  uint8_t tcp_flags = 0;     // the full TCP flag byte (FIN 0x01 ... CWR 0x80); 0 if not TCP
  uint8_t flags = 0;         // PacketFlag bits
  // Decimal exponent of the capture timestamp's exact representation, as the 2022
  // reference (scapy) holds it: -6 for microsecond pcap, -9 for nanosecond pcap,
  // pcapng: the shortest exact decimal (e.g. 1.5 -> -1; never above 0). Live: -9.
  int8_t ts_exp = -6;
  // TunnelType of the tunnel this packet was taken out of (--tunnel inner), kTunnelNone if none.
  uint8_t tunnel = 0;
  uint8_t reserved_[2] = {};
  // TCP sequence / acknowledgement numbers (host order), used only by the ntl handshake
  // features (spec §8.3); 0 if not TCP or not captured. Filled by DecodeNtl and kStrict.
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  // Engine scratch: FlowEngine::PrefetchIndex stores the packet's flow-key hash here and sets
  // kPktKeyHashed, so PrefetchFlow and OnPacket do not hash the key again. A source that
  // reuses a PacketMeta must start from PacketMeta{} (the decoders do) or clear that flag.
  uint64_t key_hash = 0;
};
static_assert(sizeof(PacketMeta) == 88);

// The tunnel header facts of one decapsulated packet (--where-columns tunnel), handed to the
// engine next to its PacketMeta (which stays 88 bytes for everyone). Per flow the engine keeps
// the first one, its addresses oriented like the flow (FlowView::tunnel). 40 bytes.
struct TunnelMeta {
  uint8_t src[16] = {};  // outer IP source, network order, v4-mapped for IPv4
  uint8_t dst[16] = {};  // outer IP destination
  uint32_t id = 0;       // VXLAN/Geneve VNI (24 bits), GTP-U TEID, GRE key; valid if has_id
  uint8_t type = 0;      // TunnelType; kTunnelNone: no tunnel
  uint8_t has_id = 0;    // 1: id is set (GRE without K and IP in IP have none)
  uint8_t reserved_[2] = {};
};
static_assert(sizeof(TunnelMeta) == 40);

}  // namespace nfm
