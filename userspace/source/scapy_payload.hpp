// SPDX-License-Identifier: MIT
// nfm2022 only: the length of the application layer as scapy 2.5 re-builds it. NetFlowMeter
// 2022 measures payload as len(pkt[TCP].payload), and scapy re-encodes the BER/ASN.1 layers
// its default bindings dissect (LDAP, CLDAP, SNMP, Kerberos) with minimal lengths and minimal
// integers. This module models that length effect only; it decodes no field values, keeps no
// state (thread-safe) and allocates nothing. What it does not model: docs/FEATURES.md,
// "nfm2022: application layers scapy re-encodes".
#pragma once

#include <cstdint>

namespace nfm {

// The application layer scapy 2.5's default bindings put on a TCP/UDP port pair, as far as
// its length can change when rebuilt, or it is a tunnel the nfm2022 decoder follows. kOther: a
// layer whose rebuild is byte-identical (DNS, DHCP, NTP, ... or Raw).
enum class ScapyApp : uint8_t {
  kOther = 0,
  kLdap,          // TCP 389 / 3268: LDAP, repeated (bind_layers(LDAP, LDAP))
  kKerberosTcp,   // TCP 88: KerberosTCPHeader (4-byte length, kept) + one Kerberos message
  kCldap,         // UDP 389: CLDAP, repeated
  kKerberos,      // UDP 88: one Kerberos message
  kSnmp,          // UDP 161 / 162: one SNMP message
  kVxlan,         // UDP 4789 / 4790 / 6633 / 8472 / 48879: a tunnel, never re-encoded
  kL2tp,          // UDP 1701: a tunnel, never re-encoded
};

// The layer scapy picks for TCP (proto 6) or UDP (17) with these ports: the first matching
// entry of TCP.payload_guess / UDP.payload_guess, so e.g. UDP 53 -> 161 is DNS, not SNMP,
// and UDP 161 -> 4789 is SNMP, not VXLAN.
ScapyApp ScapyAppFor(uint8_t proto, uint16_t sport, uint16_t dport) noexcept;

// Length of scapy's rebuilt application layer for the `len` bytes at `p` that the TCP/UDP
// layer hands to it (for UDP: already cut to the UDP length field, see ScapyUdpAppBytes).
// Returns `len` whenever scapy's rebuild is byte-identical or scapy fails to dissect the
// first message (it falls back to Raw). Messages after a rebuilt one are processed in turn;
// the first that does not dissect and everything after it count unchanged. Work is linear in
// `len`; nesting deeper than kScapyBerMaxDepth counts the message as not dissected.
uint32_t ScapyRebuiltLength(ScapyApp app, const uint8_t* p, uint32_t len) noexcept;

// How many of the `avail` bytes after an 8-byte UDP header scapy's UDP layer passes to its
// payload (UDP.extract_padding: s[:len - 8], a Python slice, so a length field below 8
// drops bytes from the end); the rest becomes a Padding layer (never re-encoded).
uint32_t ScapyUdpAppBytes(uint16_t udp_len_field, uint32_t avail) noexcept;

// Nesting bound. scapy itself stops at Python's recursion limit (1000 frames): dissected from
// an Ethernet frame, 49 nested LDAP and/or filters decode and 50 raise (the message is then
// Raw). 52 reproduces that edge for LDAP filters; for other nestings the edge is approximate.
inline constexpr int kScapyBerMaxDepth = 52;

}  // namespace nfm
