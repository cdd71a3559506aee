// SPDX-License-Identifier: MIT
// LabelRules: time parsing (constants from GNU date), overlap edges (inclusive), either
// orientation, CIDR/port/protocol wildcards, first match in file order (also across index
// buckets), default label, malformed files (file:line), and the index against a linear scan.
#include "label/labels.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace nfm {
namespace {

struct Addr {
  uint8_t b[16] = {};
};
Addr A(const char* s) {
  Addr a;
  in_addr v4;
  if (inet_pton(AF_INET, s, &v4) == 1) {
    a.b[10] = a.b[11] = 0xff;
    std::memcpy(a.b + 12, &v4, 4);
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, s, a.b), 1) << s;
  }
  return a;
}

constexpr int64_t kS = 1000000000;

std::unique_ptr<LabelRules> MustParse(const std::string& text) {
  std::string err;
  auto r = LabelRules::Parse(text, "rules.csv", &err);
  EXPECT_NE(r, nullptr) << err;
  return r;
}

std::string Err(const std::string& text) {
  std::string err;
  auto r = LabelRules::Parse(text, "rules.csv", &err);
  EXPECT_EQ(r, nullptr);
  return err;
}

std::string L(const LabelRules& r, const char* src, const char* dst, uint16_t sp, uint16_t dp, uint8_t proto,
              int64_t first, int64_t last) {
  const Addr s = A(src), d = A(dst);
  LabelQuery q{s.b, d.b, sp, dp, proto, first, last};
  return std::string(r.Match(q, "BENIGN"));
}

const std::string kHeader = "label,start,end,src,dst,sport,dport,proto\n";

TEST(RuleTime, FormatsAgainstGnuDate) {
  int64_t ns = 0;
  std::string why;
  ASSERT_TRUE(ParseRuleTime("2017-07-07T13:55:00Z", &ns, &why)) << why;
  EXPECT_EQ(ns, 1499435700 * kS);
  ASSERT_TRUE(ParseRuleTime("2017-07-07 13:55:00.5+02:00", &ns, &why)) << why;
  EXPECT_EQ(ns, 1499428500 * kS + 500000000);
  ASSERT_TRUE(ParseRuleTime("2000-02-29T00:00:00-0130", &ns, &why)) << why;
  EXPECT_EQ(ns, 951787800 * kS);
  ASSERT_TRUE(ParseRuleTime("1969-12-31T23:59:59Z", &ns, &why)) << why;
  EXPECT_EQ(ns, -1 * kS);
  ASSERT_TRUE(ParseRuleTime("1499435700", &ns, &why));
  EXPECT_EQ(ns, 1499435700 * kS);
  ASSERT_TRUE(ParseRuleTime("1499435700.000000001", &ns, &why));
  EXPECT_EQ(ns, 1499435700 * kS + 1);
  ASSERT_TRUE(ParseRuleTime("1499435700.25", &ns, &why));
  EXPECT_EQ(ns, 1499435700 * kS + 250000000);
  for (const char* bad : {"2017-07-07T13:55:00", "2017-02-29T00:00:00Z", "2017-13-01T00:00Z", "yesterday",
                          "1499435700.0000000001", "2017-07-07T13:55:00+2", "2017-07-07T25:00:00Z", ""}) {
    EXPECT_FALSE(ParseRuleTime(bad, &ns, &why)) << bad;
  }
}

// Rule window [100 s, 200 s]; flows touching the edges match, flows just outside do not.
TEST(LabelRules, OverlapEdgesAreInclusive) {
  auto r = MustParse(kHeader + "ATTACK,100,200,10.0.0.1,*,*,*,*\n");
  const char* a = "10.0.0.1";
  const char* b = "10.0.0.2";
  EXPECT_EQ(L(*r, a, b, 1, 2, 6, 50 * kS, 100 * kS), "ATTACK");          // ends at start
  EXPECT_EQ(L(*r, a, b, 1, 2, 6, 50 * kS, 100 * kS - 1), "BENIGN");      // ends 1 ns before
  EXPECT_EQ(L(*r, a, b, 1, 2, 6, 200 * kS, 300 * kS), "ATTACK");         // starts at end
  EXPECT_EQ(L(*r, a, b, 1, 2, 6, 200 * kS + 1, 300 * kS), "BENIGN");     // starts 1 ns after
  EXPECT_EQ(L(*r, a, b, 1, 2, 6, 50 * kS, 300 * kS), "ATTACK");          // covers the window
  EXPECT_EQ(L(*r, a, b, 1, 2, 6, 150 * kS, 150 * kS), "ATTACK");         // inside
}

TEST(LabelRules, EitherOrientationWithPortsAndProto) {
  auto r = MustParse(kHeader + "WEB,*,*,192.168.1.0/24,10.0.0.5,*,80,tcp\n");
  // forward: client in 192.168.1.0/24 -> 10.0.0.5:80
  EXPECT_EQ(L(*r, "192.168.1.77", "10.0.0.5", 40000, 80, 6, 0, 1), "WEB");
  // reversed: the flow's first packet came from the server
  EXPECT_EQ(L(*r, "10.0.0.5", "192.168.1.77", 80, 40000, 6, 0, 1), "WEB");
  // wrong port / protocol / address / port on the wrong side
  EXPECT_EQ(L(*r, "192.168.1.77", "10.0.0.5", 40000, 443, 6, 0, 1), "BENIGN");
  EXPECT_EQ(L(*r, "192.168.1.77", "10.0.0.5", 40000, 80, 17, 0, 1), "BENIGN");
  EXPECT_EQ(L(*r, "192.168.2.77", "10.0.0.5", 40000, 80, 6, 0, 1), "BENIGN");
  EXPECT_EQ(L(*r, "10.0.0.5", "192.168.1.77", 40000, 80, 6, 0, 1), "BENIGN");
}

TEST(LabelRules, CidrEdgesV4AndV6) {
  auto r = MustParse(kHeader +
                     "NET,*,*,10.1.2.128/25,*,*,*,*\n"
                     "V6,*,*,2001:db8::/33,*,*,*,icmpv6\n"
                     "ANY6,*,*,::/0,*,*,*,58\n");
  EXPECT_EQ(L(*r, "10.1.2.128", "8.8.8.8", 1, 2, 17, 0, 1), "NET");
  EXPECT_EQ(L(*r, "10.1.2.255", "8.8.8.8", 1, 2, 17, 0, 1), "NET");
  EXPECT_EQ(L(*r, "10.1.2.127", "8.8.8.8", 1, 2, 17, 0, 1), "BENIGN");
  EXPECT_EQ(L(*r, "2001:db8:7fff::1", "2001:db9::1", 0, 0, 58, 0, 1), "V6");
  EXPECT_EQ(L(*r, "2001:db8:8000::1", "2001:db9::1", 0, 0, 58, 0, 1), "ANY6");  // outside /33
  EXPECT_EQ(L(*r, "2001:db8:8000::1", "2001:db9::1", 0, 0, 6, 0, 1), "BENIGN");
  // A /64 (indexed at the /64 level) in the reverse orientation.
  auto r64 = MustParse(kHeader + "V64,*,*,2001:db8:1:2::/64,2001:db8::1,*,*,udp\n");
  EXPECT_EQ(L(*r64, "2001:db8::1", "2001:db8:1:2::5", 53, 999, 17, 0, 1), "V64");
  EXPECT_EQ(L(*r64, "2001:db8::1", "2001:db8:1:3::5", 53, 999, 17, 0, 1), "BENIGN");
  // An IPv6 CIDR (even ::/0) never matches an IPv4 flow, although flows hold IPv4 as ::ffff:a.b.c.d.
  EXPECT_EQ(L(*r, "10.9.9.9", "8.8.8.8", 0, 0, 58, 0, 1), "BENIGN");
}

TEST(LabelRules, FirstMatchInFileOrderAcrossBuckets) {
  // Rule 1 is in the general bucket, rule 2 in 10.0.0.1's host bucket, rule 3 in 10.0.0.2's.
  auto r = MustParse(kHeader +
                     "# comment lines and blank lines are skipped\n\n"
                     "FIRST,1000,2000,10.0.0.0/8,*,*,22,tcp\n"
                     "SECOND,0,5000,10.0.0.1,*,*,*,*\n"
                     "THIRD,0,5000,10.0.0.2,*,*,*,*\n");
  EXPECT_EQ(L(*r, "10.0.0.1", "10.0.0.2", 5000, 22, 6, 1500 * kS, 1600 * kS), "FIRST");
  EXPECT_EQ(L(*r, "10.0.0.2", "10.0.0.1", 22, 5000, 6, 1500 * kS, 1600 * kS), "FIRST");
  EXPECT_EQ(L(*r, "10.0.0.1", "10.0.0.2", 5000, 23, 6, 1500 * kS, 1600 * kS), "SECOND");
  EXPECT_EQ(L(*r, "10.0.0.2", "10.0.0.1", 5000, 23, 6, 1500 * kS, 1600 * kS), "SECOND");
  EXPECT_EQ(L(*r, "10.0.0.2", "10.0.0.3", 5000, 23, 6, 1500 * kS, 1600 * kS), "THIRD");
  EXPECT_EQ(L(*r, "10.0.0.1", "10.0.0.2", 5000, 22, 6, 2500 * kS, 2600 * kS), "SECOND");
  EXPECT_EQ(L(*r, "10.0.0.3", "10.0.0.4", 5000, 22, 6, 2500 * kS, 2600 * kS), "BENIGN");
  EXPECT_EQ(r->Rules()[0].line, 4u);
}

TEST(LabelRules, BadFilesNameFileAndLine) {
  EXPECT_EQ(Err(""), "rules.csv:1: no header line (label,start,end,src,dst,sport,dport,proto)");
  EXPECT_EQ(Err("label,start,end,src,dst,sport,dport\n"),
            "rules.csv:1: header must be label,start,end,src,dst,sport,dport,proto");
  EXPECT_EQ(Err(kHeader + "A,1,2,*,*,*,*,*\nB,1,2,*,*,*,*\n"), "rules.csv:3: expected 8 fields, found 7");
  EXPECT_EQ(Err(kHeader + "A,5,2,*,*,*,*,*\n"), "rules.csv:2: end is before start");
  EXPECT_EQ(Err(kHeader + "\nA,1,2,10.0.0.300,*,*,*,*\n"),
            "rules.csv:3: src '10.0.0.300': not an IPv4/IPv6 address, CIDR or '*'");
  EXPECT_EQ(Err(kHeader + "A,1,2,10.0.0.1/33,*,*,*,*\n"),
            "rules.csv:2: src '10.0.0.1/33': IPv4 prefix length above 32");
  EXPECT_EQ(Err(kHeader + "A,1,2,*,*,70000,*,*\n"),
            "rules.csv:2: sport '70000': not a port 0-65535, range A-B or '*'");
  EXPECT_EQ(Err(kHeader + "A,1,2,*,*,*,*,tcpp\n"),
            "rules.csv:2: proto 'tcpp': not a protocol name (tcp, udp, icmp, icmpv6, ...), number 0-255 or '*'");
  EXPECT_EQ(Err(kHeader + ",1,2,*,*,*,*,*\n"), "rules.csv:2: empty label");
  EXPECT_NE(Err(kHeader + "A,2017-07-07T13:55:00,2,*,*,*,*,*\n").find("rules.csv:2: start time"), std::string::npos);
  std::string err;
  EXPECT_EQ(LabelRules::Load("/nonexistent/rules.csv", &err), nullptr);
  EXPECT_NE(err.find("open label rules /nonexistent/rules.csv: No such file"), std::string::npos) << err;
}

// The index must give exactly what a linear first-match scan gives.
TEST(LabelRules, IndexEqualsLinearScan) {
  std::mt19937_64 rng(13);
  std::string text = kHeader;
  for (int i = 0; i < 3000; ++i) {
    const int64_t start = static_cast<int64_t>(rng() % 10000);
    const int64_t len = static_cast<int64_t>(rng() % 300);
    const int kind = static_cast<int>(rng() % 4);
    // * (general list), /24 or /18 (network levels), host (host index).
    const std::string net = rng() % 2 ? "10.0." + std::to_string(rng() % 4) + ".0/24" : "10.0.0.0/18";
    std::string src = kind == 0 ? "*" : kind == 1 ? net
                                                  : "10.0." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 8);
    std::string dst = rng() % 2 ? "*" : rng() % 2 ? "10.0." + std::to_string(rng() % 4) + ".0/23"
                                                  : "10.0." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 8);
    std::string dport = rng() % 2 ? "*" : std::to_string(rng() % 4);
    text += "R" + std::to_string(i) + "," + std::to_string(start) + "," + std::to_string(start + len) + "," + src + "," +
            dst + ",*," + dport + "," + (rng() % 3 ? "*" : "tcp") + "\n";
  }
  auto r = MustParse(text);
  ASSERT_EQ(r->Size(), 3000u);
  int matched = 0;
  for (int n = 0; n < 20000; ++n) {
    const std::string s = "10.0." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 8);
    const std::string d = "10.0." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 8);
    const Addr sa = A(s.c_str()), da = A(d.c_str());
    const int64_t first = static_cast<int64_t>(rng() % 11000) * kS;
    const int64_t last = first + static_cast<int64_t>(rng() % 50) * kS;
    LabelQuery q{sa.b, da.b, static_cast<uint16_t>(rng() % 4), static_cast<uint16_t>(rng() % 4),
                 static_cast<uint8_t>(rng() % 2 ? 6 : 17), first, last};
    int64_t want = -1;
    for (size_t i = 0; i < r->Size() && want < 0; ++i) {
      // Independent linear matcher over the parsed rules.
      const LabelRule& x = r->Rules()[i];
      if (x.start_ns > last || x.end_ns < first) continue;
      if (x.proto >= 0 && x.proto != q.proto) continue;
      auto pm = [](const uint8_t* a, const uint8_t* net, int len) {
        for (int b = 0; b < len; ++b)
          if (((a[b / 8] >> (7 - b % 8)) & 1) != ((net[b / 8] >> (7 - b % 8)) & 1)) return false;
        return true;
      };
      auto side = [&](const uint8_t* s1, const uint8_t* d1, uint16_t sp, uint16_t dp) {
        return pm(s1, x.src, x.src_len) && pm(d1, x.dst, x.dst_len) && sp >= x.sport_lo && sp <= x.sport_hi &&
               dp >= x.dport_lo && dp <= x.dport_hi;
      };
      if (side(q.src, q.dst, q.sport, q.dport) || side(q.dst, q.src, q.dport, q.sport)) want = static_cast<int64_t>(i);
    }
    ASSERT_EQ(r->MatchIndex(q), want) << n;
    matched += want >= 0;
  }
  EXPECT_GT(matched, 1000);
}

}  // namespace
}  // namespace nfm
