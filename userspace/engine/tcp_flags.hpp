// SPDX-License-Identifier: MIT
// The bits of the TCP flag byte (RFC 9293 §3.1, with ECE/CWR of RFC 3168), as PacketMeta::
// tcp_flags carries it. Constants only; what a flag means to a flow is each engine's rule.
//
//    7     6     5     4     3     2     1     0
//  +-----+-----+-----+-----+-----+-----+-----+-----+
//  | CWR | ECE | URG | ACK | PSH | RST | SYN | FIN |
//  +-----+-----+-----+-----+-----+-----+-----+-----+
#pragma once

#include <cstdint>

namespace nfm {

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;
inline constexpr uint8_t kTcpEce = 0x40;
inline constexpr uint8_t kTcpCwr = 0x80;

}  // namespace nfm
