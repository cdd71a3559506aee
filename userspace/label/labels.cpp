// SPDX-License-Identifier: MIT
// LabelRules implementation: a strict line parser (errors name file:line) and a two-level
// index (host address -> rules sorted by start time, with a running maximum of end times to
// stop the backward scan early).
#include "label/labels.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace nfm {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitComma(std::string_view s) {
  std::vector<std::string_view> out;
  size_t p = 0;
  for (;;) {
    const size_t c = s.find(',', p);
    out.push_back(Trim(s.substr(p, c == std::string_view::npos ? std::string_view::npos : c - p)));
    if (c == std::string_view::npos) break;
    p = c + 1;
  }
  return out;
}

bool ParseUint(std::string_view s, uint64_t max, uint64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    x = x * 10 + uint64_t(c - '0');
    if (x > max) return false;
  }
  *v = x;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Fraction digits after '.', to ns (at most 9 digits are significant; more must be zeros).
bool ParseFraction(std::string_view s, int64_t* ns) {
  if (s.empty()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (i < 9) v = v * 10 + (s[i] - '0');
    else if (s[i] != '0') return false;  // below a nanosecond
  }
  for (size_t i = s.size(); i < 9; ++i) v *= 10;
  *ns = v;
  return true;
}

bool ParseCidr(std::string_view s, uint8_t addr[16], uint8_t* len, bool* v6, std::string* why, const char* what) {
  std::memset(addr, 0, 16);
  *v6 = false;
  if (s == "*") {
    *len = 0;
    return true;
  }
  std::string a(s);
  int bits = -1;
  if (const size_t slash = a.find('/'); slash != std::string::npos) {
    uint64_t b;
    if (!ParseUint(std::string_view(a).substr(slash + 1), 128, &b)) {
      *why = std::string(what) + " '" + a + "': bad prefix length";
      return false;
    }
    bits = static_cast<int>(b);
    a.resize(slash);
  }
  in_addr v4{};
  in6_addr v6addr{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1) {
    if (bits > 32) {
      *why = std::string(what) + " '" + std::string(s) + "': IPv4 prefix length above 32";
      return false;
    }
    addr[10] = addr[11] = 0xff;
    std::memcpy(addr + 12, &v4, 4);
    *len = static_cast<uint8_t>(96 + (bits < 0 ? 32 : bits));
  } else if (inet_pton(AF_INET6, a.c_str(), &v6addr) == 1) {
    std::memcpy(addr, &v6addr, 16);
    *len = static_cast<uint8_t>(bits < 0 ? 128 : bits);
    *v6 = true;
  } else {
    *why = std::string(what) + " '" + std::string(s) + "': not an IPv4/IPv6 address, CIDR or '*'";
    return false;
  }
  // Clear host bits so matching compares whole bytes.
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(*len - i * 8, 0, 8);
    addr[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  return true;
}

bool ParsePorts(std::string_view s, uint16_t* lo, uint16_t* hi, std::string* why, const char* what) {
  if (s == "*") {
    *lo = 0;
    *hi = 65535;
    return true;
  }
  uint64_t a, b;
  const size_t dash = s.find('-');
  if (dash == std::string_view::npos) {
    if (!ParseUint(s, 65535, &a)) {
      *why = std::string(what) + " '" + std::string(s) + "': not a port 0-65535, range A-B or '*'";
      return false;
    }
    *lo = *hi = static_cast<uint16_t>(a);
    return true;
  }
  if (!ParseUint(s.substr(0, dash), 65535, &a) || !ParseUint(s.substr(dash + 1), 65535, &b) || a > b) {
    *why = std::string(what) + " '" + std::string(s) + "': not a port range A-B with A <= B <= 65535";
    return false;
  }
  *lo = static_cast<uint16_t>(a);
  *hi = static_cast<uint16_t>(b);
  return true;
}

bool ParseProto(std::string_view s, int16_t* p, std::string* why) {
  if (s == "*") {
    *p = -1;
    return true;
  }
  std::string l(s);
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr struct {
    const char* name;
    int16_t num;
  } kNames[] = {{"icmp", 1},  {"igmp", 2}, {"tcp", 6},  {"udp", 17},     {"gre", 47},   {"esp", 50},
                {"ah", 51},   {"icmpv6", 58}, {"ipv6-icmp", 58}, {"sctp", 132}, {"udplite", 136}};
  for (const auto& n : kNames) {
    if (l == n.name) {
      *p = n.num;
      return true;
    }
  }
  uint64_t v;
  if (!ParseUint(s, 255, &v)) {
    *why = "proto '" + std::string(s) + "': not a protocol name (tcp, udp, icmp, icmpv6, ...), number 0-255 or '*'";
    return false;
  }
  *p = static_cast<int16_t>(v);
  return true;
}

std::array<uint8_t, 16> ToAddr(const uint8_t* p) {
  std::array<uint8_t, 16> a;
  std::memcpy(a.data(), p, 16);
  return a;
}

// The coarse network of an address: IPv4 (::ffff:a.b.c.d) masked to /16, IPv6 to /32; and the
// prefix length (over 128 bits) a rule needs to be indexed by it.
bool IsV4Mapped(const uint8_t* a);
// Index levels: 0 = IPv4 /24 or IPv6 /64, 1 = IPv4 /16 or IPv6 /32 (bits over 128).
int NetBits(const uint8_t* a, int level) {
  return IsV4Mapped(a) ? (level == 0 ? 96 + 24 : 96 + 16) : (level == 0 ? 64 : 32);
}
std::array<uint8_t, 16> NetKey(const uint8_t* a, int level) {
  std::array<uint8_t, 16> k{};
  std::memcpy(k.data(), a, static_cast<size_t>(NetBits(a, level) / 8));
  return k;
}

bool PrefixMatch(const uint8_t* a, const uint8_t* net, uint8_t len) {
  int i = 0;
  for (; len >= 8; len -= 8, ++i)
    if (a[i] != net[i]) return false;
  if (len == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> len);
  return (a[i] & mask) == net[i];
}

// ::ffff:a.b.c.d, how flows carry IPv4 addresses.
bool IsV4Mapped(const uint8_t* a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, 12) == 0;
}

bool EndpointsMatch(const LabelRule& r, const uint8_t* s, const uint8_t* d, uint16_t sp, uint16_t dp) {
  if ((r.src_v6 && IsV4Mapped(s)) || (r.dst_v6 && IsV4Mapped(d))) return false;
  return PrefixMatch(s, r.src, r.src_len) && PrefixMatch(d, r.dst, r.dst_len) && sp >= r.sport_lo &&
         sp <= r.sport_hi && dp >= r.dport_lo && dp <= r.dport_hi;
}

}  // namespace

bool ParseRuleTime(std::string_view s, int64_t* ns, std::string* why) {
  if (s == "*") return true;  // caller's default stands
  if (s.empty()) {
    *why = "empty time; use ISO 8601 with a zone, Unix seconds or '*'";
    return false;
  }
  // Unix seconds: digits with an optional fraction (and an optional leading '-').
  {
    std::string_view t = s;
    const bool neg = !t.empty() && t.front() == '-';
    if (neg) t.remove_prefix(1);
    const size_t dot = t.find('.');
    uint64_t secs;
    if (ParseUint(t.substr(0, dot), 9000000000ull, &secs)) {
      int64_t frac = 0;
      if (dot != std::string_view::npos && !ParseFraction(t.substr(dot + 1), &frac)) {
        *why = "time '" + std::string(s) + "': bad fraction of a second (at most 9 significant digits)";
        return false;
      }
      const int64_t v = static_cast<int64_t>(secs) * 1000000000 + frac;
      *ns = neg ? -v : v;
      return true;
    }
  }
  // ISO 8601: YYYY-MM-DD[T ]hh:mm[:ss[.f]](Z|+hh:mm|-hh:mm|+hhmm|-hhmm)
  auto bad = [&](const char* what) {
    *why = "time '" + std::string(s) + "': " + what +
           "; use ISO 8601 with a zone (2017-07-07T13:55:00Z, ...+02:00) or Unix seconds";
    return false;
  };
  auto num = [&](size_t pos, size_t n, uint64_t max, uint64_t* v) {
    return pos + n <= s.size() && ParseUint(s.substr(pos, n), max, v);
  };
  uint64_t Y, M, D, h, m, sec = 0;
  if (!num(0, 4, 9999, &Y) || s.size() < 16 || s[4] != '-' || !num(5, 2, 12, &M) || s[7] != '-' ||
      !num(8, 2, 31, &D) || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') || !num(11, 2, 23, &h) || s[13] != ':' ||
      !num(14, 2, 59, &m))
    return bad("not a date and time");
  if (M == 0 || D == 0) return bad("month/day out of range");
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (D > static_cast<uint64_t>(kDays[M - 1]) || (M == 2 && D == 29 && !leap)) return bad("no such day");
  size_t p = 16;
  int64_t frac = 0;
  if (p < s.size() && s[p] == ':') {
    if (!num(p + 1, 2, 60, &sec)) return bad("bad seconds");
    if (sec == 60) sec = 59;  // leap second: clamp (POSIX time has none)
    p += 3;
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
      size_t q = p + 1;
      while (q < s.size() && s[q] >= '0' && s[q] <= '9') ++q;
      if (!ParseFraction(s.substr(p + 1, q - p - 1), &frac)) return bad("bad fraction of a second");
      p = q;
    }
  }
  int64_t offset_s = 0;
  if (p >= s.size()) return bad("no time zone (add Z or +hh:mm)");
  if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == s.size()) {
    offset_s = 0;
  } else if (s[p] == '+' || s[p] == '-') {
    uint64_t zh, zm = 0;
    const std::string_view z = s.substr(p + 1);
    if (z.size() == 5 && z[2] == ':' && num(p + 1, 2, 23, &zh) && num(p + 4, 2, 59, &zm)) {
    } else if (z.size() == 4 && num(p + 1, 2, 23, &zh) && num(p + 3, 2, 59, &zm)) {
    } else if (z.size() == 2 && num(p + 1, 2, 23, &zh)) {
    } else {
      return bad("bad time zone offset");
    }
    offset_s = static_cast<int64_t>(zh * 3600 + zm * 60) * (s[p] == '-' ? -1 : 1);
  } else {
    return bad("unexpected text after the time");
  }
  const int64_t days = DaysFromCivil(static_cast<int64_t>(Y), static_cast<unsigned>(M), static_cast<unsigned>(D));
  const int64_t secs = days * 86400 + static_cast<int64_t>(h * 3600 + m * 60 + sec) - offset_s;
  *ns = secs * 1000000000 + frac;
  return true;
}

bool LabelRules::ValidLabel(std::string_view s, std::string* why) {
  if (s.empty()) {
    *why = "empty label";
    return false;
  }
  for (char c : s) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') {
      *why = "label '" + std::string(s) + "' contains a comma, quote or line break (not allowed in a CSV cell)";
      return false;
    }
  }
  return true;
}

std::unique_ptr<LabelRules> LabelRules::Load(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "open label rules " + path + ": " + std::strerror(errno) + "; check --labels";
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    *error = "read label rules " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return Parse(ss.str(), path, error);
}

std::unique_ptr<LabelRules> LabelRules::Parse(std::string_view text, const std::string& name, std::string* error) {
  std::unique_ptr<LabelRules> r(new LabelRules());
  static constexpr std::string_view kCols[] = {"label", "start", "end", "src", "dst", "sport", "dport", "proto"};
  uint32_t line_no = 0;
  bool header = false;
  size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // UTF-8 byte order mark
  auto fail = [&](const std::string& why) {
    *error = name + ":" + std::to_string(line_no) + ": " + why;
    return nullptr;
  };
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = Trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const auto f = SplitComma(line);
    if (!header) {
      bool ok = f.size() == 8;
      for (size_t i = 0; ok && i < 8; ++i) {
        std::string c(f[i]);
        for (auto& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        ok = c == kCols[i];
      }
      if (!ok) return fail("header must be label,start,end,src,dst,sport,dport,proto");
      header = true;
      continue;
    }
    if (f.size() != 8) return fail("expected 8 fields, found " + std::to_string(f.size()));
    LabelRule rule;
    rule.line = line_no;
    std::string why;
    if (!ValidLabel(f[0], &why)) return fail(why);
    rule.label = std::string(f[0]);
    if (!ParseRuleTime(f[1], &rule.start_ns, &why)) return fail("start " + why);
    if (!ParseRuleTime(f[2], &rule.end_ns, &why)) return fail("end " + why);
    if (rule.end_ns < rule.start_ns) return fail("end is before start");
    if (!ParseCidr(f[3], rule.src, &rule.src_len, &rule.src_v6, &why, "src")) return fail(why);
    if (!ParseCidr(f[4], rule.dst, &rule.dst_len, &rule.dst_v6, &why, "dst")) return fail(why);
    if (!ParsePorts(f[5], &rule.sport_lo, &rule.sport_hi, &why, "sport")) return fail(why);
    if (!ParsePorts(f[6], &rule.dport_lo, &rule.dport_hi, &why, "dport")) return fail(why);
    if (!ParseProto(f[7], &rule.proto, &why)) return fail(why);
    if (r->rules_.size() >= (1u << 31)) return fail("too many rules");
    r->rules_.push_back(std::move(rule));
  }
  if (!header) {
    line_no = std::max(line_no, 1u);
    return fail("no header line (label,start,end,src,dst,sport,dport,proto)");
  }
  r->BuildIndex();
  return r;
}

void LabelRules::FinishBucket(Bucket& b, const std::vector<LabelRule>& rules) {
  std::stable_sort(b.idx.begin(), b.idx.end(),
                   [&](uint32_t x, uint32_t y) { return rules[x].start_ns < rules[y].start_ns; });
  b.max_end.resize(b.idx.size());
  int64_t m = INT64_MIN;
  for (size_t i = 0; i < b.idx.size(); ++i) {
    m = std::max(m, rules[b.idx[i]].end_ns);
    b.max_end[i] = m;
  }
}

void LabelRules::BuildIndex() {
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    const LabelRule& r = rules_[i];
    if (r.src_len == 128) {
      by_host_[ToAddr(r.src)].idx.push_back(i);
    } else if (r.dst_len == 128) {
      by_host_[ToAddr(r.dst)].idx.push_back(i);
    } else {
      bool indexed = false;
      for (int level = 0; level < 2 && !indexed; ++level) {
        if (r.src_len > 0 && r.src_len >= NetBits(r.src, level)) {
          by_net_[level][NetKey(r.src, level)].idx.push_back(i);
          indexed = true;
        } else if (r.dst_len > 0 && r.dst_len >= NetBits(r.dst, level)) {
          by_net_[level][NetKey(r.dst, level)].idx.push_back(i);
          indexed = true;
        }
      }
      if (!indexed) general_.idx.push_back(i);
    }
  }
  for (auto& [k, b] : by_host_) FinishBucket(b, rules_);
  for (auto& level : by_net_)
    for (auto& [k, b] : level) FinishBucket(b, rules_);
  FinishBucket(general_, rules_);
}

// Candidates are the entries with start <= last (a prefix in start order); walking it
// backwards, once the running maximum of end times is below `first` no earlier entry can
// overlap. Among matches the lowest file index wins.
void LabelRules::Scan(const Bucket& b, const LabelQuery& q, int64_t* best) const {
  auto it = std::upper_bound(b.idx.begin(), b.idx.end(), q.last_ns,
                             [&](int64_t t, uint32_t i) { return t < rules_[i].start_ns; });
  for (size_t k = static_cast<size_t>(it - b.idx.begin()); k-- > 0;) {
    if (b.max_end[k] < q.first_ns) break;
    const uint32_t i = b.idx[k];
    if (*best >= 0 && i >= static_cast<uint64_t>(*best)) continue;
    const LabelRule& r = rules_[i];
    if (r.end_ns < q.first_ns) continue;
    if (r.proto >= 0 && r.proto != q.proto) continue;
    if (EndpointsMatch(r, q.src, q.dst, q.sport, q.dport) || EndpointsMatch(r, q.dst, q.src, q.dport, q.sport))
      *best = i;
  }
}

int64_t LabelRules::MatchIndex(const LabelQuery& q) const {
  int64_t best = -1;
  if (!by_host_.empty()) {
    if (auto it = by_host_.find(ToAddr(q.src)); it != by_host_.end()) Scan(it->second, q, &best);
    if (std::memcmp(q.src, q.dst, 16) != 0)
      if (auto it = by_host_.find(ToAddr(q.dst)); it != by_host_.end()) Scan(it->second, q, &best);
  }
  for (int level = 0; level < 2; ++level) {
    const auto& m = by_net_[level];
    if (m.empty()) continue;
    const auto ks = NetKey(q.src, level), kd = NetKey(q.dst, level);
    if (auto it = m.find(ks); it != m.end()) Scan(it->second, q, &best);
    if (kd != ks)
      if (auto it = m.find(kd); it != m.end()) Scan(it->second, q, &best);
  }
  Scan(general_, q, &best);
  return best;
}

}  // namespace nfm
