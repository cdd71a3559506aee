// SPDX-License-Identifier: MIT
// Golden-bytes test of the kernel/user contract struct nfm_pkt_event (include/nfm/event.h):
// offsets, no hidden padding, a hand-written 72-byte record decoding to known fields, and
// every byte of it belonging to exactly the field the contract says.
// Needs no BPF privileges.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "nfm/event.h"

namespace {

static_assert(std::is_trivially_copyable_v<nfm_pkt_event>);
static_assert(std::is_standard_layout_v<nfm_pkt_event>);
static_assert(std::has_unique_object_representations_v<nfm_pkt_event>, "hidden padding");
// Field offsets and the 72-byte size: asserted in include/nfm/event.h, compiled here too.
// Counter slots need no pin here: tests/unit/counter_table_test.cpp fails for a slot without a metric.

// An IPv4 TCP SYN/ACK 10.0.0.1:1234 -> 10.0.0.2:80 seen by TC egress on ifindex 3, as the
// little-endian (x86) BPF program writes it.
constexpr unsigned char kGolden[72] = {
    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  //  0 ts_ns = 0x1122334455667788 (host)
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        //  8 saddr ::ffff:
    10, 0, 0, 1,                                     // 20   10.0.0.1
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        // 24 daddr ::ffff:
    10, 0, 0, 2,                                     // 36   10.0.0.2
    0x9a, 0x00, 0x00, 0x00,                          // 40 frame_len = 154 (host)
    0x64, 0x00, 0x00, 0x00,                          // 44 payload_len = 100 (host)
    0x03, 0x00, 0x00, 0x00,                          // 48 ifindex = 3 (host)
    0x04, 0xd2,                                      // 52 sport = 1234 (network)
    0x00, 0x50,                                      // 54 dport = 80 (network)
    0x00, 0x02,                                      // 56 window = 512 (host)
    0x22, 0x00,                                      // 58 l4_off = 34 (host)
    20,                                              // 60 l4_hdr_len
    6,                                               // 61 proto TCP
    0x12,                                            // 62 tcp_flags SYN|ACK
    0x42,                                            // 63 info: EGRESS (0x02) | version 2 << 5
    0x01, 0x02, 0x03, 0x04,                          // 64 tcp_seq = 0x04030201 (host)
    0xf1, 0xf2, 0xf3, 0x04,                          // 68 tcp_ack = 0x04f3f2f1 (host)
};

TEST(EventLayout, GoldenBytesDecode) {
  nfm_pkt_event e;
  std::memcpy(&e, kGolden, sizeof(e));
  EXPECT_EQ(e.ts_ns, 0x1122334455667788ull);
  const unsigned char s[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  const unsigned char d[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  EXPECT_EQ(std::memcmp(e.saddr, s, 16), 0);
  EXPECT_EQ(std::memcmp(e.daddr, d, 16), 0);
  EXPECT_EQ(e.frame_len, 154u);
  EXPECT_EQ(e.payload_len, 100u);
  EXPECT_EQ(e.ifindex, 3u);
  EXPECT_EQ(ntohs(e.sport), 1234);
  EXPECT_EQ(ntohs(e.dport), 80);
  EXPECT_EQ(e.window, 512);
  EXPECT_EQ(e.l4_off, 34);
  EXPECT_EQ(e.l4_hdr_len, 20);
  EXPECT_EQ(e.proto, 6);
  EXPECT_EQ(e.tcp_flags, 0x12);
  EXPECT_EQ(e.tcp_seq, 0x04030201u);
  EXPECT_EQ(e.tcp_ack, 0x04f3f2f1u);
  EXPECT_EQ(e.info & NFM_INFO_EGRESS, NFM_INFO_EGRESS);
  EXPECT_EQ(e.info & (NFM_INFO_IPV6 | NFM_INFO_FRAG | NFM_INFO_LATER_FRAG | NFM_INFO_L4_TRUNC), 0);
  EXPECT_EQ(e.info >> NFM_INFO_VERSION_SHIFT, NFM_EVENT_VERSION);
}

// Every field of the event read through the struct (what user space does), one entry per
// field, each as a plain integer (addresses: 16 separate bytes folded into two halves).
struct FieldValues {
  uint64_t v[17];
};
constexpr const char* kFieldNames[17] = {"ts_ns",  "saddr_hi", "saddr_lo", "daddr_hi", "daddr_lo",
                                         "frame_len", "payload_len", "ifindex", "sport", "dport",
                                         "window", "l4_off", "l4_hdr_len", "proto", "tcp_flags",
                                         "tcp_seq", "tcp_ack"};
// The field each byte offset belongs to, written by hand from the contract in event.h's
// comments (ts 8, saddr 16, daddr 16, frame_len 4, payload_len 4, ifindex 4, sport 2,
// dport 2, window 2, l4_off 2, then four single bytes, tcp_seq 4, tcp_ack 4); info (byte 63)
// is checked apart.
constexpr int kOwner(int byte) {
  return byte < 8 ? 0 : byte < 16 ? 1 : byte < 24 ? 2 : byte < 32 ? 3 : byte < 40 ? 4
       : byte < 44 ? 5 : byte < 48 ? 6 : byte < 52 ? 7 : byte < 54 ? 8 : byte < 56 ? 9
       : byte < 58 ? 10 : byte < 60 ? 11 : byte < 64 ? byte - 60 + 12 : byte < 68 ? 15 : 16;
}

uint64_t Fold(const unsigned char* p) {
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = x << 8 | p[i];
  return x;
}

FieldValues Read(const unsigned char* bytes) {
  nfm_pkt_event e;
  std::memcpy(&e, bytes, sizeof e);
  return {{e.ts_ns, Fold(e.saddr), Fold(e.saddr + 8), Fold(e.daddr), Fold(e.daddr + 8), e.frame_len,
           e.payload_len, e.ifindex, ntohs(e.sport), ntohs(e.dport), e.window, e.l4_off, e.l4_hdr_len,
           e.proto, e.tcp_flags, e.tcp_seq, e.tcp_ack}};
}

// Flipping any single byte of the golden record changes exactly one decoded field, the one
// the contract assigns that byte to, and changes it by that byte's place value (so a field
// read with the wrong width, offset or byte order fails here, not only in a static_assert).
TEST(EventLayout, EveryByteChangesExactlyItsField) {
  const FieldValues base = Read(kGolden);
  // Byte position inside its field -> expected XOR of the decoded value after flipping it.
  const int starts[17] = {0, 8, 16, 24, 32, 40, 44, 48, 52, 54, 56, 58, 60, 61, 62, 64, 68};
  const bool big_endian_field[17] = {false, true, true, true, true, false, false, false,
                                     true,  true, false, false, false, false, false, false, false};
  const int sizes[17] = {8, 8, 8, 8, 8, 4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 4, 4};
  for (int byte = 0; byte < 72; ++byte) {
    if (byte == 63) continue;  // info: below
    SCOPED_TRACE("byte " + std::to_string(byte));
    unsigned char flipped[72];
    std::memcpy(flipped, kGolden, 72);
    flipped[byte] ^= 0xa5;
    const FieldValues got = Read(flipped);
    const int owner = kOwner(byte);
    for (int f = 0; f < 17; ++f) {
      if (f != owner) {
        EXPECT_EQ(got.v[f], base.v[f]) << kFieldNames[f] << " changed";
        continue;
      }
      const int pos = byte - starts[f];
      ASSERT_GE(pos, 0);
      ASSERT_LT(pos, sizes[f]);
      // Host-order fields are little-endian on the x86/arm64 hosts we build for.
      const int shift = big_endian_field[f] ? 8 * (sizes[f] - 1 - pos) : 8 * pos;
      EXPECT_EQ(got.v[f] ^ base.v[f], uint64_t{0xa5} << shift) << kFieldNames[f];
    }
    nfm_pkt_event e;
    std::memcpy(&e, flipped, sizeof e);
    EXPECT_EQ(e.info, kGolden[63]) << "info changed";
  }
  // The info byte: flags in bits 0..4, version in bits 5..7, nothing else moves.
  unsigned char flipped[72];
  std::memcpy(flipped, kGolden, 72);
  flipped[63] = 0x1f | (3 << NFM_INFO_VERSION_SHIFT);
  const FieldValues got = Read(flipped);
  for (int f = 0; f < 17; ++f) EXPECT_EQ(got.v[f], base.v[f]) << kFieldNames[f];
  nfm_pkt_event e;
  std::memcpy(&e, flipped, sizeof e);
  EXPECT_EQ(e.info & 0x1f, NFM_INFO_IPV6 | NFM_INFO_EGRESS | NFM_INFO_FRAG | NFM_INFO_LATER_FRAG | NFM_INFO_L4_TRUNC);
  EXPECT_EQ(e.info >> NFM_INFO_VERSION_SHIFT, 3);
}

// The tunnel trailer (--where-columns tunnel): a 112-byte record, the event then 40 bytes.
static_assert(std::is_trivially_copyable_v<nfm_pkt_event_tun>);
static_assert(std::is_standard_layout_v<nfm_pkt_event_tun>);
static_assert(std::has_unique_object_representations_v<nfm_pkt_event_tun>, "hidden padding");
static_assert(offsetof(nfm_pkt_event_tun, tun) == sizeof(nfm_pkt_event), "the trailer follows the event");
static_assert(offsetof(nfm_tunnel_trailer, outer_saddr) == 0 && offsetof(nfm_tunnel_trailer, outer_daddr) == 16 &&
              offsetof(nfm_tunnel_trailer, id) == 32 && offsetof(nfm_tunnel_trailer, type) == 36 &&
              offsetof(nfm_tunnel_trailer, has_id) == 37 && offsetof(nfm_tunnel_trailer, _pad) == 38);

// A VXLAN trailer, as the little-endian BPF program writes it after the golden event.
constexpr unsigned char kGoldenTrailer[40] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        // 72 outer_saddr ::ffff:
    192, 168, 56, 11,                                // 84   192.168.56.11
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,        // 88 outer_daddr ::ffff:
    192, 168, 56, 12,                                // 100  192.168.56.12
    0x2a, 0x00, 0x00, 0x00,                          // 104 id = 42 (host)
    NFM_TUNNEL_VXLAN,                                // 108 type
    1,                                               // 109 has_id
    0, 0,                                            // 110 _pad
};

TEST(EventLayout, GoldenTrailerDecode) {
  unsigned char rec[112];
  std::memcpy(rec, kGolden, 72);
  std::memcpy(rec + 72, kGoldenTrailer, 40);
  nfm_pkt_event_tun r;
  std::memcpy(&r, rec, sizeof r);
  EXPECT_EQ(std::memcmp(&r.ev, kGolden, 72), 0);
  const unsigned char s[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 56, 11};
  const unsigned char d[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 56, 12};
  EXPECT_EQ(std::memcmp(r.tun.outer_saddr, s, 16), 0);
  EXPECT_EQ(std::memcmp(r.tun.outer_daddr, d, 16), 0);
  EXPECT_EQ(r.tun.id, 42u);
  EXPECT_EQ(r.tun.type, NFM_TUNNEL_VXLAN);
  EXPECT_EQ(r.tun.has_id, 1);
  EXPECT_EQ(r.tun._pad, 0);
  // Every trailer byte belongs to the field the contract says: flipping it changes that field only.
  const int starts[] = {72, 88, 104, 108, 109, 110};
  for (int byte = 72; byte < 112; ++byte) {
    unsigned char f[112];
    std::memcpy(f, rec, 112);
    f[byte] ^= 0xa5;
    nfm_pkt_event_tun x;
    std::memcpy(&x, f, sizeof x);
    int owner = 0;
    while (owner + 1 < 6 && byte >= starts[owner + 1]) ++owner;
    EXPECT_EQ(std::memcmp(x.tun.outer_saddr, r.tun.outer_saddr, 16) != 0, owner == 0) << byte;
    EXPECT_EQ(std::memcmp(x.tun.outer_daddr, r.tun.outer_daddr, 16) != 0, owner == 1) << byte;
    EXPECT_EQ(x.tun.id != r.tun.id, owner == 2) << byte;
    EXPECT_EQ(x.tun.type != r.tun.type, owner == 3) << byte;
    EXPECT_EQ(x.tun.has_id != r.tun.has_id, owner == 4) << byte;
    EXPECT_EQ(x.tun._pad != r.tun._pad, owner == 5) << byte;
  }
}

}  // namespace
