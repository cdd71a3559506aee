// SPDX-License-Identifier: MIT
// Packet decoding for offline replay: link layer (Ethernet + 802.1Q/802.1ad stacks, MPLS,
// PBB/VN-Tag/FabricPath/NSH/MACsec encapsulations, PPP, Linux SLL/SLL2, raw IP, BSD
// null/loopback, 802.11) -> IPv4/IPv6 (options, AH, bounded extension-header chain,
// fragments) -> TCP/UDP/ICMP/ICMPv6/other, into a PacketMeta.
// Never reads past cap_len. Pure function, no allocation, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "engine/packet.hpp"

namespace nfm {

enum class DecodeStatus : uint8_t {
  kOk = 0,         // out is filled (may carry kPktLaterFragment / kPktL4Truncated flags)
  kNotIp,          // ARP, LLDP, IPX ... : not an error
  kTruncated,      // captured bytes end inside the link/IP header
  kMalformed,      // ihl < 5, bad version, IPv6 chain too long, TCP doff < 5, ...
  kUnsupportedLink,
  kEncrypted,         // MACsec with the E or C bit (ciphertext), protected 802.11 data frame
  kUnsupportedEncap,  // a recognized encapsulation whose inner frame is not read (NSH next
                      // protocol other than IPv4/IPv6/Ethernet/NSH/MPLS; nfm2022: the
                      // encapsulations scapy 2.5 does not dissect, MPLS and 0x9100 included)
};

// Link types (LINKTYPE_* numbers) that DecodePacket understands.
bool IsSupportedLinkType(uint32_t link_type) noexcept;
const char* LinkTypeName(uint32_t link_type) noexcept;  // "EN10MB", "LINUX_SLL", ... or "unknown"
// What a LINKTYPE_ value is ("Frame Relay", "Token Ring", ...; tcpdump.org's link-layer header
// types list), or nullptr for a value not in our table.
const char* LinkTypeDescription(uint32_t link_type) noexcept;
// "107 (FRELAY: Frame Relay)" or "5000 (not a registered link type)": for messages.
std::string LinkTypeText(uint32_t link_type);

// Resets *out to PacketMeta{} and fills it; ts_ns/ts_exp are left at their defaults (the
// caller copies them from RawPacket). Semantics beyond packet.hpp:
//  * kPktL4Truncated is set (status kOk) exactly when the fixed L4 header (TCP 20 B, UDP 8 B,
//    ICMP/ICMPv6 8 B) does not fit in the IP packet's bytes, i.e. up to min(end of capture,
//    IP start + total length) -- the bound scapy's IP.extract_padding applies, so the flag is
//    set exactly when scapy would not decode a TCP/UDP layer. IPv4 total length 0 or below
//    the header length, and IPv6 payload length 0, mean "rest of the frame". Then
//    l4_header_len = payload_frame = payload_ip = 0; ports, tcp_flags and window are filled
//    as far as captured (ports need 4 bytes, flags 14, window 16). TCP options cut by the
//    snap length are NOT truncation: l4_header_len = doff*4 and payloads are 0.
//  * Later fragments (kPktLaterFragment): proto set, ports 0, l4_header_len 0, payloads
//    count the bytes after the IP header (and IPv6 Fragment header).
//  * kMalformed: IP version nibble wrong for the link/EtherType, IPv4 ihl < 5, TCP doff < 5
//    (checked only when the 20-byte header is present), > 8 VLAN tags (kScapy2022: > 196,
//    scapy's recursion limit), > 8 MPLS labels, > 8 IPv6 extension headers. kTruncated:
//    capture ends inside link/IP/extension headers.
//    For kTruncated/kMalformed the fields decoded so far (addresses, proto) may be set.
//  * Recognized: Ethernet II and 802.3+LLC/SNAP, 802.1Q/802.1ad/0x9100 tags, MPLS
//    (0x8847/0x8848 and PPP 0x0281/0x0283, payload guessed by version nibble), PPPoE
//    session (0x8864), and (kStrict only; scapy 2.5 dissects none of them) 802.1ah PBB
//    (0x88E7), VN-Tag (0x8926), Cisco FabricPath (0x8903), NSH (0x894F, RFC 8300) and
//    integrity-only MACsec (0x88E5, 802.1AE SecTAG with E and C clear; else kEncrypted),
//    at most 8 such headers per frame (else kMalformed). IPv4 AH (RFC 4302) is walked to
//    its next header in kStrict, as IPv6 AH is; scapy 2.5 stops at an IPv4 AH.
// kStrict: the headers as the RFCs define them (corrected profile). kScapy2022: IPv4 exactly
// as NetFlowMeter 2022's scapy dissected it, malformed headers included (nfm2022 profiles):
// see DecodeIpv4Scapy in decode.cpp.
// kCic: CICFlowMeter master's view (source/decode_cic.hpp); the link type is ignored.
// kDpkt: NTLFlowLyzer's dpkt view (source/decode_ntl.hpp, DecodePacketNtl).
enum class DecodeMode : uint8_t { kStrict, kScapy2022, kCic, kDpkt };

// Overlay tunnels the strict decoder opens with --tunnel inner (kStrict only; the reference
// profiles decode as their references did). One level: the inner packet of the first tunnel
// gives the flow key and the lengths, whatever it carries (a tunnel in a tunnel is reported
// as the flow of the middle layer). Tunnel detection: UDP destination port (VXLAN: any port of
// vxlan_ports, Geneve 6081, GTP-U 2152), IP protocol 47 (GRE), 4 and 41 (IP in IP).
// Outer IP fragments are not opened. docs/FEATURES.md "Overlay tunnels".
struct TunnelConfig {
  static constexpr int kMaxVxlanPorts = 8;
  bool inner = false;
  uint16_t vxlan_ports[kMaxVxlanPorts] = {4789, 8472};
  uint8_t n_vxlan_ports = 2;
  bool IsVxlanPort(uint16_t port) const noexcept {
    for (int i = 0; i < n_vxlan_ports; ++i)
      if (vxlan_ports[i] == port) return true;
    return false;
  }
};

DecodeStatus DecodePacket(uint32_t link_type, const uint8_t* data, uint32_t cap_len,
                          uint32_t wire_len, PacketMeta* out,
                          DecodeMode mode = DecodeMode::kStrict,
                          const TunnelConfig* tunnels = nullptr) noexcept;

// As DecodePacket, and in kScapy2022 mode a frame may yield a second packet (NetFlowMeter
// 2022 makes one packet for "a TCP layer anywhere" and one for "a UDP layer anywhere", e.g.
// TCP inside VXLAN: spec §1.1, D20). *has_second tells; `second` and `has_second` may be null.
// tunnel_out (may be null): when a tunnel was opened (out->tunnel != kTunnelNone), its outer
// addresses and VNI/TEID/GRE key (--where-columns tunnel); left as it was otherwise.
DecodeStatus DecodePacket(uint32_t link_type, const uint8_t* data, uint32_t cap_len,
                              uint32_t wire_len, PacketMeta* out, PacketMeta* second,
                              bool* has_second, DecodeMode mode,
                              const TunnelConfig* tunnels = nullptr, TunnelMeta* tunnel_out = nullptr) noexcept;

}  // namespace nfm
