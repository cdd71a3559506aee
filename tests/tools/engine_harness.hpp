// SPDX-License-Identifier: MIT
// Test harness for FlowEngine unit tests: a capturing exporter (the CSV rows as the CSV
// exporter renders them, plus each FlowView's numbers), a CSV row parser keyed by header name,
// and PacketMeta constructors. Header-only; used by tests/unit/engine*_test.cpp.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "profile/profile_table.hpp"
#include "engine/packet.hpp"
#include "output/csv_row.hpp"

namespace nfm::enginetest {

inline constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20,
                         ECE = 0x40, CWR = 0x80;

// ns since the epoch from seconds + microseconds.
constexpr uint64_t Us(uint64_t sec, uint64_t usec) { return sec * 1000000000ull + usec * 1000ull; }
constexpr uint64_t kSec = 1000000000ull;
constexpr uint64_t kMs = 1000000ull;

// What a test keeps of one FlowView (the view itself is valid only during Export).
struct ViewCopy {
  EndReason reason;
  double duration_s;
  uint64_t packets;  // both directions
  uint64_t bytes;    // payload bytes, both directions
  uint64_t dir_packets[2];
  uint64_t ip_bytes[2];
  uint8_t tcp_flags[2];
  std::vector<FeatureValue> features;
};

class CapturingSink : public FlowExporter {
 public:
  explicit CapturingSink(bool local_tz = false, const std::string& float_spec = ".17g")
      : local_tz_(local_tz), spec_(*fmt::FloatSpec::Parse(float_spec)) {}
  void Begin(Profile profile, const FeatureSet&) override { renderer.emplace(profile, local_tz_, spec_); }
  void Export(const FlowView& v) override {
    if (rows.empty()) {
      ++header_calls;
      header = renderer->HeaderLine();
    }
    rows.emplace_back(renderer->Render(v));
    ViewCopy c;
    c.reason = v.reason;
    c.duration_s = static_cast<double>(v.last_ns - v.first_ns) / 1e9;
    c.packets = v.packets[0] + v.packets[1];
    c.bytes = v.payload_bytes[0] + v.payload_bytes[1];
    for (int d = 0; d < 2; ++d) {
      c.dir_packets[d] = v.packets[d];
      c.ip_bytes[d] = v.ip_bytes[d];
      c.tcp_flags[d] = v.tcp_flags[d];
    }
    c.features.assign(v.features.begin(), v.features.end());
    summaries.push_back(std::move(c));
  }
  int header_calls = 0;
  std::string header;
  std::vector<std::string> rows;
  std::vector<ViewCopy> summaries;
  std::optional<CsvRowRenderer> renderer;

 private:
  bool local_tz_;
  fmt::FloatSpec spec_;
};

inline std::vector<std::string> SplitCsv(std::string line) {
  if (line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0) line.resize(line.size() - 2);
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t c = line.find(',', start);
    out.push_back(line.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

// One exported row, columns by name. Missing column -> test failure and "<missing>".
class Row {
 public:
  Row() = default;
  Row(const std::vector<std::string>& names, const std::vector<std::string>& values) {
    for (size_t i = 0; i < names.size() && i < values.size(); ++i) cols_[names[i]] = values[i];
  }
  std::string operator[](const std::string& name) const {
    auto it = cols_.find(name);
    if (it == cols_.end()) {
      ADD_FAILURE() << "no column '" << name << "'";
      return "<missing>";
    }
    return it->second;
  }
  // The column parsed as a double (strtod; exact for .17g text).
  double Num(const std::string& name) const {
    std::string s = (*this)[name];
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') ADD_FAILURE() << "column '" << name << "' = '" << s << "' is not a number";
    return v;
  }
  long long Int(const std::string& name) const {
    std::string s = (*this)[name];
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') ADD_FAILURE() << "column '" << name << "' = '" << s << "' is not an integer";
    return v;
  }
  const std::map<std::string, std::string>& All() const { return cols_; }

 private:
  std::map<std::string, std::string> cols_;
};

// Engine + sink bundle.
struct EngineRun {
  explicit EngineRun(Profile p, const std::string& float_spec = ".17g", void (*tweak)(EngineConfig&) = nullptr)
      : sink(false, float_spec) {
    cfg.profile = p;
    ApplyProfileDefaults(cfg, false, false, false);
    if (tweak) tweak(cfg);
    engine = std::make_unique<FlowEngine>(cfg);
    engine->AddExporter(sink);
  }
  // The CSV header of the profile (also before any flow ended).
  std::string HeaderLine() const { return sink.renderer->HeaderLine(); }
  void Feed(const PacketMeta& m) { engine->OnPacket(m); }
  void Flush() { engine->Flush(EndReason::kShutdown); }
  std::vector<std::string> HeaderNames() const { return SplitCsv(sink.header); }
  // Parse every row so far; checks the CRLF ending and the field count.
  std::vector<Row> Rows() const {
    std::vector<Row> out;
    if (!sink.rows.empty()) {
      EXPECT_EQ(sink.header_calls, 1) << "Header() must be called exactly once";
    }
    auto names = HeaderNames();
    for (const auto& r : sink.rows) {
      EXPECT_TRUE(r.size() >= 2 && r.compare(r.size() - 2, 2, "\r\n") == 0) << "row without CRLF: " << r;
      auto v = SplitCsv(r);
      EXPECT_EQ(v.size(), names.size()) << "field count != header in row: " << r;
      out.emplace_back(names, v);
    }
    return out;
  }
  uint64_t Exported(EndReason r) const { return engine->Stats().flows_exported[static_cast<int>(r)]; }
  uint64_t ExportedTotal() const {
    uint64_t n = 0;
    for (int i = 0; i < static_cast<int>(EndReason::kCount); ++i) n += engine->Stats().flows_exported[i];
    return n;
  }

  EngineConfig cfg;
  CapturingSink sink;
  std::unique_ptr<FlowEngine> engine;
};

// Address text -> v4-mapped (a.b.c.d) or IPv6; returns the IP version.
inline int SetAddr(uint8_t out[16], const char* text) {
  std::string s(text);
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, text, out) != 1) ADD_FAILURE() << "bad IPv6 " << text;
    return 6;
  }
  for (int i = 0; i < 10; ++i) out[i] = 0;
  out[10] = out[11] = 0xff;
  if (inet_pton(AF_INET, text, out + 12) != 1) ADD_FAILURE() << "bad IPv4 " << text;
  return 4;
}

// A TCP packet. pl_frame = payload as 2022 sees it (padding included), pl_ip = bounded by IP.
inline PacketMeta Tcp(uint64_t ts_ns, const char* src, uint16_t sport, const char* dst, uint16_t dport,
                      uint8_t flags, uint32_t pl_frame, uint32_t pl_ip, uint16_t win = 1000, uint16_t hl = 20,
                      int8_t ts_exp = -6) {
  PacketMeta m;
  m.ts_ns = ts_ns;
  m.ip_version = static_cast<uint8_t>(SetAddr(m.saddr, src));
  SetAddr(m.daddr, dst);
  m.sport = sport;
  m.dport = dport;
  m.proto = 6;
  m.tcp_flags = flags;
  m.window = win;
  m.l4_header_len = hl;
  m.payload_frame = pl_frame;
  m.payload_ip = pl_ip;
  const uint32_t l3 = m.ip_version == 4 ? 20 : 40;
  m.cap_len = m.wire_len = 14 + l3 + hl + pl_frame;
  m.ts_exp = ts_exp;
  return m;
}

inline PacketMeta Udp(uint64_t ts_ns, const char* src, uint16_t sport, const char* dst, uint16_t dport,
                      uint32_t pl_frame, uint32_t pl_ip, int8_t ts_exp = -6) {
  PacketMeta m = Tcp(ts_ns, src, sport, dst, dport, 0, pl_frame, pl_ip, 0, 8, ts_exp);
  m.proto = 17;
  return m;
}

// ICMP (proto 1) / ICMPv6 (58) / any other protocol: ports 0, 8-byte header for ICMP.
inline PacketMeta Other(uint64_t ts_ns, const char* src, const char* dst, uint8_t proto, uint32_t payload,
                        uint16_t hl = 8) {
  PacketMeta m = Tcp(ts_ns, src, 0, dst, 0, 0, payload, payload, 0, hl);
  m.proto = proto;
  return m;
}

// Spec §4.4 worked example. C = 10.0.0.1:40000, S = 10.0.0.2:80, t0 = 1658945644.374890
// (chosen so that packet 20 is at 1658945796.07509, the epoch value quoted in §4.4).
// Header bytes: SYN and SYN-ACK 40 (options), all others 32. Windows: C->S 64240 on the SYN
// then 502; S->C 65160 on the SYN-ACK then 501.
inline std::vector<PacketMeta> WorkedExample44() {
  const uint64_t t0 = Us(1658945644, 374890);
  const char* C = "10.0.0.1";
  const char* S = "10.0.0.2";
  auto F = [&](uint64_t us, uint8_t fl, uint32_t pf, uint32_t pi, uint16_t win, uint16_t hl) {
    return Tcp(t0 + us * 1000, C, 40000, S, 80, fl, pf, pi, win, hl);
  };
  auto B = [&](uint64_t us, uint8_t fl, uint32_t pf, uint32_t pi, uint16_t win, uint16_t hl) {
    return Tcp(t0 + us * 1000, S, 80, C, 40000, fl, pf, pi, win, hl);
  };
  std::vector<PacketMeta> p;
  p.push_back(F(0, SYN, 0, 0, 64240, 40));                 // 1
  p.push_back(B(10000, SYN | ACK, 0, 0, 65160, 40));       // 2
  p.push_back(F(20000, ACK, 6, 0, 502, 32));               // 3 padded ACK: 2022 pl 6
  for (int i = 0; i < 5; ++i)                              // 4-8 at .030 .. .034, pl 100..104
    p.push_back(F(30000 + 1000 * i, PSH | ACK, 100 + i, 100 + i, 502, 32));
  for (int i = 0; i < 6; ++i)                              // 9-14 at .040 .. .045, 1400 each
    p.push_back(B(40000 + 1000 * i, ACK, 1400, 1400, 501, 32));
  p.push_back(F(1600000, ACK, 6, 0, 502, 32));             // 15 padded
  p.push_back(F(151600000, PSH | ACK, 10, 10, 502, 32));   // 16
  p.push_back(B(151600005, ACK, 6, 0, 501, 32));           // 17 padded
  p.push_back(F(151700000, FIN | ACK, 6, 0, 502, 32));     // 18 padded
  p.push_back(B(151700100, FIN | ACK, 6, 0, 501, 32));     // 19 padded
  p.push_back(F(151700200, ACK, 6, 0, 502, 32));           // 20 padded
  return p;
}

}  // namespace nfm::enginetest
