// SPDX-License-Identifier: MIT
// IPFIX encoder unit tests: template and message layout against hand-written bytes, MTU
// split, RFC 7011 sequence numbers, template refresh (fake clock), queue overflow
// accounting, TCP template resend on reconnect, URL parsing; the cic/ntl value kinds
// (signed64, NaN encodings) and element numbering against hand-computed bytes and ids; offline
// delivery (waiting for a slow local UDP collector's socket, giving up an absent collector).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "engine/cic/cic_engine.hpp"
#include "engine/nfm_features.hpp"
#include "engine/ntl/ntl_features.hpp"
#include "output/ipfix_exporter.hpp"
#include "output/ipfix_message.hpp"
#include "output/ipfix_template.hpp"
#include "output/ipfix_transport.hpp"

namespace nfm::ipfix {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Vec(std::span<const uint8_t> s) { return Bytes(s.begin(), s.end()); }

TEST(IpfixTemplate, RecordBytes) {
  Template t;
  t.id = 256;
  t.fields = {{8, 4, 0}, {1, 8, 32473}};
  Bytes out;
  t.AppendTo(out);
  const Bytes want = {0x01, 0x00, 0x00, 0x02,                          // id 256, 2 fields
                      0x00, 0x08, 0x00, 0x04,                          // sourceIPv4Address, 4
                      0x80, 0x01, 0x00, 0x08, 0x00, 0x00, 0x7e, 0xd9}; // E|1, 8, PEN 32473
  EXPECT_EQ(out, want);
  EXPECT_EQ(t.WireLength(), 16u);
  EXPECT_EQ(t.RecordLength(), 12u);
}

TEST(IpfixMessage, LayoutSetsAndLimit) {
  MessageBuilder mb(34, 7);
  mb.Begin(0x5F5E1000, 3);
  const uint8_t r1[] = {0xaa, 0xbb, 0xcc, 0xdd}, r2[] = {0xee, 0xff, 0x00, 0x11}, r3[] = {0x01, 0x02};
  ASSERT_TRUE(mb.AddRecord(256, r1));
  ASSERT_TRUE(mb.AddRecord(256, r2));  // same template: same set
  ASSERT_TRUE(mb.AddRecord(257, r3));  // new set
  EXPECT_FALSE(mb.AddRecord(257, r3)); // 36 > 34
  EXPECT_FALSE(mb.AddRecord(256, r1));
  EXPECT_EQ(mb.Records(), 3u);
  const Bytes want = {0x00, 0x0a, 0x00, 0x22,  // version 10, length 34
                      0x5f, 0x5e, 0x10, 0x00,  // export time
                      0x00, 0x00, 0x00, 0x03,  // sequence
                      0x00, 0x00, 0x00, 0x07,  // domain
                      0x01, 0x00, 0x00, 0x0c, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11,
                      0x01, 0x01, 0x00, 0x06, 0x01, 0x02};
  EXPECT_EQ(Vec(mb.Finish()), want);
  // A template set closes the open data set and carries set id 2.
  mb.Begin(1, 0);
  const uint8_t tr[] = {0x01, 0x00, 0x00, 0x00};
  ASSERT_TRUE(mb.AddRecord(256, r3));
  ASSERT_TRUE(mb.AddTemplateSet(tr));
  const Bytes want2 = {0x00, 0x0a, 0x00, 0x1e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7,
                       0x01, 0x00, 0x00, 0x06, 0x01, 0x02, 0x00, 0x02, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(Vec(mb.Finish()), want2);
}

// A two-feature set: one unsigned, one float.
const FeatureInfo kTwo[] = {{"a", FeatureType::kUnsigned, ""}, {"b", FeatureType::kFloat, "seconds"}};
const FeatureSet kTwoSet{"two", std::span<const FeatureInfo>(kTwo)};

struct TestFlow {
  std::array<uint8_t, 16> src{}, dst{};
  FeatureValue feats[2];
  FlowView v;
  TestFlow(uint8_t last_octet_src = 1, bool v6 = false) {
    if (v6) {
      src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last_octet_src};
      dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    } else {
      src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, last_octet_src};
      dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
    }
    feats[0] = FeatureValue::Uint(42);
    feats[1] = FeatureValue::Float(0.5);
    v.src = src.data();
    v.dst = dst.data();
    v.sport = 1234;
    v.dport = 80;
    v.proto = 6;
    v.ip_version = v6 ? 6 : 4;
    v.reason = EndReason::kFin;
    v.first_ns = 1'700'000'000'123'456'789;
    v.last_ns = v.first_ns + 2'500'000'000;
    v.packets[0] = 3;
    v.packets[1] = 2;
    v.ip_bytes[0] = 180;
    v.ip_bytes[1] = 120;
    v.tcp_flags[0] = 0x1b;
    v.tcp_flags[1] = 0x12;
    v.set = &kTwoSet;
    v.features = feats;
  }
};

// Hand-computed: 1700000000123 ms = 0x18bcfe5687b; NTP seconds 1700000000 + 2208988800 =
// 0xe8fe6f80, fraction of 123456 us = floor(123456 * 2^32 / 1e6) = 0x1f9acffa; end +2.5 s.
const Bytes kIdentityV4 = {
    10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0x00, 0x50, 6, 4,
    0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b,              // flowStartMilliseconds
    0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x72, 0x3f,              // flowEndMilliseconds
    0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xcf, 0xfa,        // flowStartMicroseconds
    0xe8, 0xfe, 0x6f, 0x82, 0x9f, 0x9a, 0xcf, 0xfa,        // flowEndMicroseconds
    0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 180,    // packets, octets
    0x00, 0x1b, 3};                                        // tcpControlBits, flowEndReason FIN

TEST(IpfixCodec, BiflowRecordV4) {
  RecordCodec codec(kTwoSet, CodecOptions{});
  TestFlow f;
  uint8_t buf[512];
  uint16_t tid = 0;
  const size_t n = codec.EncodeForward(f.v, buf, &tid);
  Bytes want = kIdentityV4;
  const Bytes tail = {0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 120, 0x00, 0x12,  // reverse (RFC 5103)
                      0, 0, 0, 0, 0, 0, 0, 42,                                       // a: unsigned64
                      0x3f, 0xe0, 0, 0, 0, 0, 0, 0};                                 // b: float64 0.5
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ(tid, kTemplateV4);
  EXPECT_EQ(Bytes(buf, buf + n), want);
  EXPECT_EQ(n, codec.Templates()[0].RecordLength());
  EXPECT_EQ(codec.Templates().size(), 2u);
  EXPECT_EQ(codec.Templates()[1].id, kTemplateV6);
  // The template: 14 standard + 3 reverse + 2 feature fields.
  EXPECT_EQ(codec.Templates()[0].fields.size(), 19u);
  EXPECT_EQ(codec.Templates()[0].fields[17].id, 1);
  EXPECT_EQ(codec.Templates()[0].fields[17].pen, 32473u);
  EXPECT_EQ(codec.Templates()[0].fields[14].pen, kReversePen);
}

TEST(IpfixCodec, UniflowRecordsAndV6) {
  CodecOptions o;
  o.uniflow = true;
  o.pen = 6871;
  RecordCodec codec(kTwoSet, o);
  ASSERT_EQ(codec.Templates().size(), 4u);
  TestFlow f;
  uint8_t buf[512];
  uint16_t tid = 0;
  size_t n = codec.EncodeForward(f.v, buf, &tid);
  Bytes want = kIdentityV4;
  want.push_back(1);  // biflowDirection initiator
  const Bytes feats = {0, 0, 0, 0, 0, 0, 0, 42, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0};
  want.insert(want.end(), feats.begin(), feats.end());
  EXPECT_EQ(Bytes(buf, buf + n), want);
  n = codec.EncodeBackward(f.v, buf, &tid);
  EXPECT_EQ(tid, kTemplateBackV4);
  Bytes back = kIdentityV4;
  // swapped addresses and ports, backward counters and flags, biflowDirection 2
  for (int i = 0; i < 4; ++i) std::swap(back[i], back[4 + i]);
  std::swap(back[8], back[10]);
  std::swap(back[9], back[11]);
  back[14 + 32 + 7] = 2;
  back[14 + 32 + 15] = 120;
  back[14 + 32 + 17] = 0x12;
  back.push_back(2);
  EXPECT_EQ(Bytes(buf, buf + n), back);
  TestFlow g(1, true);
  n = codec.EncodeForward(g.v, buf, &tid);
  EXPECT_EQ(tid, kTemplateV6);
  EXPECT_EQ(n, codec.Templates()[1].RecordLength());
  EXPECT_EQ(Bytes(buf, buf + 16), Bytes(g.src.begin(), g.src.end()));
  EXPECT_EQ(buf[32 + 5], 6);  // ipVersion
}

// --where-columns node,iface: observationDomainName (300, 64 bytes), ingressInterface (10) and
// interfaceName (82, 16 bytes) after the standard elements of every template, NUL-padded;
// without values (offline) zeros.
TEST(IpfixCodec, WhereElementsFollowTheStandardOnes) {
  CodecOptions o;
  o.uniflow = true;
  o.where_node = true;
  o.where_iface = true;
  RecordCodec codec(kTwoSet, o);
  const auto& fields = codec.Templates()[0].fields;  // 14 standard + biflowDirection + 3 + 2 features
  ASSERT_EQ(fields.size(), 20u);
  EXPECT_EQ(fields[15].id, 300);
  EXPECT_EQ(fields[15].length, 64);
  EXPECT_EQ(fields[16].id, 10);
  EXPECT_EQ(fields[16].length, 4);
  EXPECT_EQ(fields[17].id, 82);
  EXPECT_EQ(fields[17].length, 16);
  for (size_t i = 15; i < 18; ++i) EXPECT_EQ(fields[i].pen, 0u);
  EXPECT_EQ(codec.Templates()[2].fields.size(), 18u);  // backward: no features
  TestFlow f;
  uint8_t buf[512];
  uint16_t tid = 0;
  const WhereValues w{"node-1", 7, "calib"};
  size_t n = codec.EncodeForward(f.v, buf, &tid, &w);
  Bytes want = kIdentityV4;
  want.push_back(1);
  Bytes node(64, 0);
  std::memcpy(node.data(), "node-1", 6);
  want.insert(want.end(), node.begin(), node.end());
  const Bytes idx = {0, 0, 0, 7};
  want.insert(want.end(), idx.begin(), idx.end());
  Bytes name(16, 0);
  std::memcpy(name.data(), "calib", 5);
  want.insert(want.end(), name.begin(), name.end());
  const Bytes feats = {0, 0, 0, 0, 0, 0, 0, 42, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0};
  want.insert(want.end(), feats.begin(), feats.end());
  EXPECT_EQ(Bytes(buf, buf + n), want);
  EXPECT_EQ(n, codec.Templates()[0].RecordLength());
  n = codec.EncodeBackward(f.v, buf, &tid);  // no values: zeros
  EXPECT_EQ(n, codec.Templates()[2].RecordLength());
  EXPECT_EQ(Bytes(buf + n - 84, buf + n), Bytes(84, 0));
  const std::string long_node(70, 'n');
  const WhereValues longname{long_node, 1, "0123456789abcdefXYZ"};  // cut at 64 / 16
  n = codec.EncodeForward(f.v, buf, &tid, &longname);
  EXPECT_EQ(n, codec.Templates()[0].RecordLength());
  EXPECT_EQ(buf[kIdentityV4.size() + 1 + 63], 'n');
  EXPECT_EQ(buf[kIdentityV4.size() + 1 + 64 + 4 + 15], 'f');
}

// --where-columns tunnel: PEN elements 4001-4004 after the standard ones; the backward record
// swaps the outer addresses with the identity; a flow without a tunnel sends zeros.
TEST(IpfixCodec, TunnelElementsFollowTheStandardOnes) {
  CodecOptions o;
  o.uniflow = true;
  o.where_tunnel = true;
  RecordCodec codec(kTwoSet, o);
  const auto& fields = codec.Templates()[0].fields;  // 14 standard + biflowDirection + 4 + 2 features
  ASSERT_EQ(fields.size(), 21u);
  const uint16_t ids[] = {4001, 4002, 4003, 4004}, lens[] = {1, 16, 16, 4};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(fields[15 + i].id, ids[i]);
    EXPECT_EQ(fields[15 + i].length, lens[i]);
    EXPECT_EQ(fields[15 + i].pen, o.pen);
  }
  TestFlow f;
  TunnelMeta t;
  t.type = kTunnelVxlan;
  t.src[10] = t.src[11] = t.dst[10] = t.dst[11] = 0xff;
  t.src[15] = 11;
  t.dst[15] = 12;
  t.id = 0x123456;
  t.has_id = 1;
  f.v.tunnel = &t;
  uint8_t buf[512];
  uint16_t tid = 0;
  size_t n = codec.EncodeForward(f.v, buf, &tid);
  EXPECT_EQ(n, codec.Templates()[0].RecordLength());
  const size_t at = kIdentityV4.size() + 1;
  EXPECT_EQ(buf[at], kTunnelVxlan);
  EXPECT_EQ(Bytes(buf + at + 1, buf + at + 17), Bytes(t.src, t.src + 16));
  EXPECT_EQ(Bytes(buf + at + 17, buf + at + 33), Bytes(t.dst, t.dst + 16));
  EXPECT_EQ(Bytes(buf + at + 33, buf + at + 37), (Bytes{0, 0x12, 0x34, 0x56}));
  n = codec.EncodeBackward(f.v, buf, &tid);
  EXPECT_EQ(n, codec.Templates()[2].RecordLength());
  EXPECT_EQ(Bytes(buf + n - 36, buf + n - 20), Bytes(t.dst, t.dst + 16));  // swapped
  EXPECT_EQ(Bytes(buf + n - 20, buf + n - 4), Bytes(t.src, t.src + 16));
  f.v.tunnel = nullptr;
  n = codec.EncodeBackward(f.v, buf, &tid);
  EXPECT_EQ(Bytes(buf + n - 37, buf + n), Bytes(37, 0));
  // Without the option the templates do not change.
  CodecOptions po;
  po.uniflow = true;
  RecordCodec plain(kTwoSet, po);
  EXPECT_EQ(plain.Templates()[0].fields.size(), 17u);
}

TEST(IpfixCodec, EndReasons) {
  EXPECT_EQ(FlowEndReasonCode(EndReason::kIdle), 1);
  EXPECT_EQ(FlowEndReasonCode(EndReason::kActiveTimeout), 2);
  EXPECT_EQ(FlowEndReasonCode(EndReason::kFin), 3);
  EXPECT_EQ(FlowEndReasonCode(EndReason::kRst), 3);
  EXPECT_EQ(FlowEndReasonCode(EndReason::kShutdown), 4);
  EXPECT_EQ(FlowEndReasonCode(EndReason::kEviction), 5);
}

TEST(IpfixUrl, Parse) {
  Destination d;
  std::string err;
  ASSERT_TRUE(ParseDestination("udp://127.0.0.1", &d, &err)) << err;
  EXPECT_EQ(d.port, 4739);
  EXPECT_EQ(d.kind, Destination::Kind::kUdp);
  ASSERT_TRUE(ParseDestination("tcp://[::1]:9995", &d, &err)) << err;
  EXPECT_EQ(d.port, 9995);
  EXPECT_EQ(d.addr.ss_family, AF_INET6);
  ASSERT_TRUE(ParseDestination("file:/tmp/x.ipfix", &d, &err));
  EXPECT_EQ(d.path, "/tmp/x.ipfix");
  for (const char* bad : {"http://x", "udp://", "udp://h:0", "udp://127.0.0.1:70000", "udp://::1:4739",
                          "udp://127.0.0.1:", "tcp://[::1", "file:", "udp://no-such-host.invalid:4739"}) {
    err.clear();
    EXPECT_FALSE(ParseDestination(bad, &d, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
  ParseDestination("udp://no-such-host.invalid", &d, &err);
  EXPECT_NE(err.find("cannot resolve host 'no-such-host.invalid'"), std::string::npos) << err;
}

// ---------------------------------------------------------------- sockets

struct Parsed {
  uint32_t seq = 0;
  size_t len = 0;
  int template_sets = 0;
  std::map<uint16_t, int> records;  // by template id
  int total_records = 0;
};

// Minimal independent IPFIX reader: walks sets, learns template record lengths.
Parsed ParseMessage(const uint8_t* p, size_t n, std::map<uint16_t, size_t>& tlen) {
  Parsed m;
  EXPECT_GE(n, 16u);
  EXPECT_EQ(Get16(p), 10);
  m.len = Get16(p + 2);
  EXPECT_EQ(m.len, n);
  m.seq = Get32(p + 8);
  size_t off = 16;
  while (off + 4 <= n) {
    const uint16_t sid = Get16(p + off), slen = Get16(p + off + 2);
    EXPECT_GE(slen, 4);
    EXPECT_LE(off + slen, n);
    if (slen < 4 || off + slen > n) break;
    if (sid == 2) {
      ++m.template_sets;
      size_t q = off + 4;
      while (q + 4 <= off + slen) {
        const uint16_t tid = Get16(p + q), cnt = Get16(p + q + 2);
        q += 4;
        size_t rl = 0;
        for (int i = 0; i < cnt; ++i) {
          const uint16_t id = Get16(p + q);
          rl += Get16(p + q + 2);
          q += (id & 0x8000) ? 8 : 4;
        }
        tlen[tid] = rl;
      }
    } else {
      EXPECT_TRUE(tlen.count(sid)) << "data set before its template: " << sid;
      const size_t rl = tlen[sid];
      if (rl) {
        const int k = static_cast<int>((slen - 4) / rl);
        EXPECT_EQ((slen - 4) % rl, 0u);
        m.records[sid] += k;
        m.total_records += k;
      }
    }
    off += slen;
  }
  EXPECT_EQ(off, n);
  return m;
}

int UdpListener(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t l = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  *port = ntohs(a.sin_port);
  const int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  return fd;
}

std::vector<Bytes> Receive(int fd, int timeout_ms, size_t max_msgs = 1000) {
  std::vector<Bytes> out;
  while (out.size() < max_msgs) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    Bytes b(70000);
    const ssize_t n = recv(fd, b.data(), b.size(), 0);
    if (n <= 0) break;
    b.resize(static_cast<size_t>(n));
    out.push_back(std::move(b));
  }
  return out;
}

TEST(IpfixExporter, UdpMtuSequenceAndTemplateRefresh) {
  uint16_t port = 0;
  const int fd = UdpListener(&port);
  static std::atomic<double> fake_now{1'800'000'000.0};
  ExporterOptions o;
  o.url = "udp://127.0.0.1:" + std::to_string(port);
  o.mtu = 300;
  o.domain = 42;
  o.template_refresh_s = 60;
  o.clock = [] { return fake_now.load(); };
  std::string err;
  auto x = IpfixExporter::Create(o, kTwoSet, &err);
  ASSERT_TRUE(x) << err;
  x->Begin(Profile::kCorrected, kTwoSet);
  TestFlow f;
  for (int i = 0; i < 25; ++i) x->Export(f.v);
  TestFlow g(1, true);
  for (int i = 0; i < 5; ++i) x->Export(g.v);
  std::map<uint16_t, size_t> tlen;
  uint64_t before = 0;
  int templates = 0, records = 0;
  auto check = [&](const std::vector<Bytes>& msgs) {
    for (const Bytes& m : msgs) {
      EXPECT_LE(m.size(), 300u);
      EXPECT_EQ(Get32(m.data() + 4), static_cast<uint32_t>(fake_now.load())) << "export time";
      EXPECT_EQ(Get32(m.data() + 12), 42u) << "domain";
      const Parsed p = ParseMessage(m.data(), m.size(), tlen);
      EXPECT_EQ(p.seq, before) << "sequence = data records before this message";
      before += static_cast<uint64_t>(p.total_records);
      templates += p.template_sets;
      records += p.total_records;
    }
  };
  check(Receive(fd, 1000));
  EXPECT_EQ(records, 30);
  EXPECT_EQ(templates, 2);  // v4 and v6 at start, nothing more within the refresh interval
  EXPECT_EQ(tlen[kTemplateV4], 99u);
  // 60 s later (fake clock): the templates come again, without any new flow.
  fake_now = 1'800'000'061.0;
  templates = 0;
  check(Receive(fd, 1000));
  EXPECT_EQ(templates, 2);
  x->Export(f.v);
  check(Receive(fd, 1000));
  EXPECT_EQ(records, 31);
  EXPECT_TRUE(x->Finish());
  const ExporterStats s = x->Stats();
  EXPECT_EQ(s.records_sent, 31u);
  EXPECT_EQ(s.records_dropped, 0u);
  EXPECT_EQ(s.flows, 31u);
  close(fd);
}

TEST(IpfixExporter, QueueFullDropsAndCounts) {
  // A TCP port nobody listens on: the sender keeps reconnecting, records wait, the queue fills.
  const int hold = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(hold, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t l = sizeof(a);
  getsockname(hold, reinterpret_cast<sockaddr*>(&a), &l);
  ExporterOptions o;
  o.url = "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.queue_flows = 4;
  o.drain_timeout_s = 0.3;
  std::string err;
  std::atomic<uint64_t> hook_dropped{0};
  ExporterHooks hooks;
  hooks.on_dropped = [&](uint64_t n) { hook_dropped += n; };
  auto x = IpfixExporter::Create(o, kTwoSet, &err, hooks);
  ASSERT_TRUE(x) << err;
  TestFlow f;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) x->Export(f.v);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50)) << "Export must not block";
  EXPECT_EQ(x->Stats().records_dropped, 6u);
  EXPECT_TRUE(x->Finish());  // network loss is counted, not fatal
  const ExporterStats s = x->Stats();
  EXPECT_EQ(s.records_sent, 0u);
  EXPECT_EQ(s.records_dropped, 10u);
  EXPECT_EQ(hook_dropped.load(), 10u);
  EXPECT_GE(s.send_errors, 1u);
  EXPECT_FALSE(x->Error().empty());
  close(hold);
}

TEST(IpfixExporter, TcpTemplatesOnEveryConnect) {
  const int ls = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t l = sizeof(a);
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &l);
  ASSERT_EQ(listen(ls, 4), 0);
  ExporterOptions o;
  o.url = "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::string err;
  auto x = IpfixExporter::Create(o, kTwoSet, &err);
  ASSERT_TRUE(x) << err;
  auto read_stream = [](int c, int want_records) {
    Bytes buf;
    std::map<uint16_t, size_t> tlen;
    int templates = 0, records = 0;
    for (int tries = 0; tries < 50 && records < want_records; ++tries) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        uint8_t tmp[65536];
        const ssize_t n = recv(c, tmp, sizeof(tmp), 0);
        if (n <= 0) break;
        buf.insert(buf.end(), tmp, tmp + n);
      }
      while (buf.size() >= 16 && buf.size() >= Get16(buf.data() + 2)) {
        const size_t len = Get16(buf.data() + 2);
        const Parsed m = ParseMessage(buf.data(), len, tlen);
        templates += m.template_sets;
        records += m.total_records;
        buf.erase(buf.begin(), buf.begin() + static_cast<long>(len));
      }
    }
    return std::make_pair(templates, records);
  };
  TestFlow f;
  const int c1 = accept(ls, nullptr, nullptr);
  ASSERT_GE(c1, 0);
  for (int i = 0; i < 3; ++i) x->Export(f.v);
  auto [t1, r1] = read_stream(c1, 3);
  EXPECT_GE(t1, 1);
  EXPECT_EQ(r1, 3);
  close(c1);  // collector goes away
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int c2 = accept(ls, nullptr, nullptr);  // the exporter reconnects
  ASSERT_GE(c2, 0);
  for (int i = 0; i < 2; ++i) x->Export(f.v);
  auto [t2, r2] = read_stream(c2, 2);
  EXPECT_GE(t2, 1) << "templates resent on reconnect";
  EXPECT_EQ(r2, 2);
  EXPECT_TRUE(x->Finish());
  EXPECT_EQ(x->Stats().records_sent + x->Stats().records_dropped, 5u);
  EXPECT_GE(x->Stats().connects, 2u);
  close(c2);
  close(ls);
}

TEST(IpfixTransport, ProbesALocalUdpReceiver) {
  uint16_t port = 0;
  const int fd = UdpListener(&port);
  Destination d;
  std::string err;
  ASSERT_TRUE(ParseDestination("udp://127.0.0.1:" + std::to_string(port), &d, &err)) << err;
  auto t = MakeTransport(d);
  ASSERT_TRUE(t->Open(&err)) << err;
  ASSERT_TRUE(t->LocalReceiver()) << "127.0.0.1 is this host";
  ReceiverInfo r;
  ASSERT_TRUE(t->ProbeReceiver(&r));
  EXPECT_TRUE(r.found);
  EXPECT_EQ(r.queued, 0u);
  EXPECT_GE(r.rcvbuf, 4u << 20) << "UdpListener asked for 4 MiB";
  const Bytes msg(1000, 0x55);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t->Send(msg, &err)) << err;
  ASSERT_TRUE(t->ProbeReceiver(&r));
  EXPECT_GE(r.queued, 3u * 1000) << "three unread datagrams";
  close(fd);  // the collector goes away
  ASSERT_TRUE(t->ProbeReceiver(&r));
  EXPECT_FALSE(r.found);
}

TEST(IpfixExporter, OfflineWaitsForASlowLocalUdpCollector) {
  // A collector whose socket holds a few datagrams and that reads slowly: offline (hold) the
  // sender waits for room in its buffer, so every record arrives and the kernel drops none.
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  const int small = 8192;  // the kernel doubles it: about 7 datagrams of 1 KB
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t l = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  ExporterOptions o;
  o.url = "udp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.hold = true;
  o.queue_flows = 4;
  std::string err;
  auto x = IpfixExporter::Create(o, kTwoSet, &err);
  ASSERT_TRUE(x) << err;
  constexpr int kFlows = 120;
  std::atomic<int> records{0};
  std::thread reader([&] {
    std::map<uint16_t, size_t> tlen;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) break;
      uint8_t b[70000];
      const ssize_t n = recv(fd, b, sizeof(b), 0);
      if (n <= 0) break;
      records += ParseMessage(b, static_cast<size_t>(n), tlen).total_records;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  TestFlow f;
  for (int i = 0; i < kFlows; ++i) x->Export(f.v);
  EXPECT_TRUE(x->Finish());
  reader.join();
  const ExporterStats s = x->Stats();
  EXPECT_EQ(s.records_sent, static_cast<uint64_t>(kFlows));
  EXPECT_EQ(s.records_dropped, 0u);
  EXPECT_EQ(s.records_lost, 0u);
  EXPECT_EQ(s.receiver_drops, 0u);
  EXPECT_TRUE(s.reached);
  EXPECT_EQ(records.load(), kFlows) << "every record reached the collector";
  close(fd);
}

TEST(IpfixExporter, OfflineWaitsThenGivesUpAnAbsentCollector) {
  const int hold = socket(AF_INET, SOCK_STREAM, 0);  // bound, not listening: connect is refused
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(hold, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t l = sizeof(a);
  getsockname(hold, reinterpret_cast<sockaddr*>(&a), &l);
  ExporterOptions o;
  o.url = "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.hold = true;
  o.retry_s = 0.5;
  o.queue_flows = 4;
  std::vector<std::string> notices;
  ExporterHooks hooks;
  hooks.on_notice = [&](const std::string& line) { notices.push_back(line); };
  std::string err;
  auto x = IpfixExporter::Create(o, kTwoSet, &err, hooks);
  ASSERT_TRUE(x) << err;
  TestFlow f;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) x->Export(f.v);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(400)) << "the engine waits while the collector may come";
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_TRUE(x->Finish());  // network loss: the caller's exit status, not a failed output
  const ExporterStats s = x->Stats();
  EXPECT_EQ(s.records_sent, 0u);
  EXPECT_EQ(s.records_dropped, 10u);
  EXPECT_TRUE(s.gave_up);
  EXPECT_FALSE(s.reached);
  ASSERT_EQ(notices.size(), 2u) << "one line when the outage begins, one when given up";
  EXPECT_NE(notices[1].find(o.url), std::string::npos) << notices[1];
  EXPECT_NE(notices[1].find("--ipfix-retry"), std::string::npos) << notices[1];
  close(hold);
}

TEST(IpfixExporter, FileAndBadMtu) {
  ExporterOptions o;
  o.url = "file:/nonexistent-dir/x.ipfix";
  std::string err;
  EXPECT_FALSE(IpfixExporter::Create(o, kTwoSet, &err));
  EXPECT_NE(err.find("/nonexistent-dir/x.ipfix"), std::string::npos) << err;
  o.url = "udp://127.0.0.1:4739";
  o.mtu = 100;
  err.clear();
  EXPECT_FALSE(IpfixExporter::Create(o, kTwoSet, &err));
  EXPECT_NE(err.find("MTU 100 is too small"), std::string::npos) << err;
}

TEST(IpfixDocs, MeaningIsTheTableDescription) {
  auto meaning = [](const FeatureSet& set, std::string_view column) {
    for (const ElementDoc& e : ElementTable(set, 32473))
      if (e.column == column) return e.meaning;
    return std::string("(absent)");
  };
  EXPECT_EQ(meaning(NfmFeatureSet(), "fwd_payload_bytes_mean"), "Mean of payload bytes per packet, forward packets");
  EXPECT_EQ(meaning(NfmFeatureSet(), "bwd_syn_flag_counts"), "Packets with the SYN flag set, backward packets");
  EXPECT_EQ(meaning(NfmFeatureSet(), "packet_IAT_std"), "Standard deviation (population) of packet inter-arrival times");
  // A column both sets have reads the same in both, but for what the ntl set adds.
  EXPECT_EQ(meaning(kNtlFeatureSet, "fwd_payload_bytes_mean"), meaning(NfmFeatureSet(), "fwd_payload_bytes_mean"));
  EXPECT_EQ(meaning(kNtlFeatureSet, "duration"), meaning(NfmFeatureSet(), "duration") + std::string(kNtlEmptyOnNsNote));
}


// ---- cic / ntl value kinds (docs/IPFIX.md "Value encoding"), bytes computed by hand.
Bytes Feature(ElementType t, const FeatureValue& v) {
  uint8_t b[8];
  EXPECT_EQ(PutFeature(b, t, v, {}, fmt::FloatSpec{}), b + 8);
  return Bytes(b, b + 8);
}

FeatureValue Kind(FeatureValue::Kind k, uint16_t aux = 0) {
  FeatureValue v;
  v.kind = k;
  v.aux = aux;
  return v;
}

TEST(IpfixKinds, Signed64) {
  using T = ElementType;
  // -2 in two's complement; CIC's negative Flow Duration -1108000000128 = 2^64 - 0x101_f9f2_4880 = 0xfffffefe060db780.
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Int(-2)), (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}));
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Int(-1108000000128)),
            (Bytes{0xff, 0xff, 0xfe, 0xfe, 0x06, 0x0d, 0xb7, 0x80}));
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Int(132768)), (Bytes{0, 0, 0, 0, 0, 0x02, 0x06, 0xa0}));
  // CIC's "0" guard (kUint) in an integer column; an unsigned beyond int64 saturates.
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Uint(0)), (Bytes{0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Uint(~0ull)), (Bytes{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  // A double: Java's (long) cast (truncation toward zero, NaN 0, saturation).
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Java(-2.9)), (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}));
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Java(__builtin_nan(""))), (Bytes{0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Feature(T::kSigned64, FeatureValue::Java(-1e300)), (Bytes{0x80, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(IpfixKinds, Float64JavaIntEmptyText) {
  using T = ElementType;
  using K = FeatureValue::Kind;
  // 0.1 = 0x3fb999999999999a; Java's Infinity = 0x7ff0000000000000.
  EXPECT_EQ(Feature(T::kFloat64, FeatureValue::Java(0.1)), (Bytes{0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a}));
  EXPECT_EQ(Feature(T::kFloat64, FeatureValue::Java(__builtin_inf())), (Bytes{0x7f, 0xf0, 0, 0, 0, 0, 0, 0}));
  // A CIC integer (--profile cic subflows) in a float column: 5 = 0x4014000000000000; -3 = 0xc008...
  EXPECT_EQ(Feature(T::kFloat64, FeatureValue::Int(5)), (Bytes{0x40, 0x14, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Feature(T::kFloat64, FeatureValue::Int(-3)), (Bytes{0xc0, 0x08, 0, 0, 0, 0, 0, 0}));
  // ntl: an empty field is the default quiet NaN, the handshake text NaN payload 1.
  EXPECT_EQ(Feature(T::kFloat64, Kind(K::kEmpty)), (Bytes{0x7f, 0xf8, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Feature(T::kFloat64, Kind(K::kText, 0)), (Bytes{0x7f, 0xf8, 0, 0, 0, 0, 0, 1}));
  // Unsigned columns never see these kinds; if they did: 0 (no NaN in unsigned64).
  EXPECT_EQ(Feature(T::kUnsigned64, Kind(K::kEmpty)), (Bytes{0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Feature(T::kUnsigned64, FeatureValue::Uint(300)), (Bytes{0, 0, 0, 0, 0, 0, 0x01, 0x2c}));
}

TEST(IpfixNumbering, IdsTypesNames) {
  const FeatureSet& nfm = NfmFeatureSet();
  const FeatureSet& cic = CicFeatureSet();
  EXPECT_EQ(FeatureElementId(nfm, 0), 1);
  EXPECT_EQ(FeatureElementId(nfm, 113), 114);
  EXPECT_EQ(FeatureElementId(cic, 0), 1001);   // Flow Duration
  EXPECT_EQ(FeatureElementId(cic, 75), 1076);  // Idle Min
  EXPECT_EQ(FeatureElementType(cic, 0), ElementType::kSigned64);
  EXPECT_EQ(FeatureElementType(cic, 3), ElementType::kFloat64);   // Total Length of Fwd Packet
  EXPECT_EQ(FeatureElementType(nfm, 1), ElementType::kUnsigned64);  // packets_count
  EXPECT_EQ(FeatureElementName(cic, 13), "cic_Flow_Bytes_s");      // "Flow Bytes/s"
  EXPECT_EQ(FeatureElementName(cic, 50), "cic_Down_Up_Ratio");     // "Down/Up Ratio"
  EXPECT_EQ(FeatureElementName(nfm, 0), "duration");
  EXPECT_EQ(FeatureElementId(kNtlFeatureSet, 0), 2001);
  EXPECT_EQ(FeatureElementName(kNtlFeatureSet, 0), "ntl_duration");
  EXPECT_EQ(FeatureElementId(kNtlFeatureSet, 338), 2339);
  // The corrected ntl set: shared names keep their ids, its own two names are 2340/2341.
  std::map<std::string_view, uint16_t> ids;
  for (size_t i = 0; i < kNtlCorrectedFeatureSet.columns.size(); ++i)
    ids[kNtlCorrectedFeatureSet.columns[i].name] = FeatureElementId(kNtlCorrectedFeatureSet, i);
  EXPECT_EQ(ids.size(), 341u);
  EXPECT_EQ(ids["duration"], 2001);
  EXPECT_EQ(ids["handshake_duration"], 2232);
  EXPECT_EQ(ids["min_bwd_packets_delta_time"], 2234);
  EXPECT_EQ(ids["max_bwd_packets_delta_time"], 2235);
  EXPECT_EQ(ids["min_packets_delta_time"], 2340);
  EXPECT_EQ(ids["max_packets_delta_time"], 2341);
}

// A two-column stand-in for the cic set: the codec's template ids and record bytes.
constexpr FeatureInfo kCicCols[] = {
    {"Flow Duration", FeatureType::kUnsigned, "microseconds", FeatureDir::kBoth, "", IpfixType::kSigned64},
    {"Flow Bytes/s", FeatureType::kFloat, "bytes/second"}};
const FeatureSet kMiniCic{"cic", std::span<const FeatureInfo>(kCicCols), FeatureSetId::kCic};

TEST(IpfixCodec, CicRecord) {
  RecordCodec codec(kMiniCic, CodecOptions{});
  TestFlow f;
  f.feats[0] = FeatureValue::Int(-2);
  f.feats[1] = FeatureValue::Java(0.5);
  f.v.set = &kMiniCic;
  uint8_t buf[512];
  uint16_t tid = 0;
  const size_t n = codec.EncodeForward(f.v, buf, &tid);
  Bytes want = kIdentityV4;
  const Bytes tail = {0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 120, 0x00, 0x12,  // reverse
                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,                // signed64 -2
                      0x3f, 0xe0, 0, 0, 0, 0, 0, 0};                                 // float64 0.5
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ(Bytes(buf, buf + n), want);
  // Template: field 17 is enterprise element 1001 (wire id 0x83e9 with the E bit), 18 is 1002.
  EXPECT_EQ(codec.Templates()[0].fields[17].id, 1001);
  EXPECT_EQ(codec.Templates()[0].fields[18].id, 1002);
  Bytes t;
  codec.Templates()[0].AppendTo(t);
  const size_t at = 4 + 4 * 14 + 8 * 3;  // header, 14 IANA fields, 3 reverse (PEN) fields
  EXPECT_EQ(Bytes(t.begin() + at, t.begin() + at + 8), (Bytes{0x83, 0xe9, 0, 8, 0, 0, 0x7e, 0xd9}));
}

}  // namespace
}  // namespace nfm::ipfix
