// SPDX-License-Identifier: MIT
// LabelRules: ground-truth labels for finished flows from a CSV rule file
// (label,start,end,src,dst,sport,dport,proto; see docs/DATASETS.md). A flow matches a rule when
// its [first, last] packet times overlap the rule's [start, end] (both edges inclusive) and its
// endpoints match in either orientation; the first matching rule in file order wins.
// Rules are indexed by host address and by start time. Immutable after Load: Match is const
// and thread-compatible. Does not know about CSV rows or flows' features.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nfm {

struct LabelRule {
  std::string label;
  int64_t start_ns = INT64_MIN;  // inclusive; "*" = unbounded
  int64_t end_ns = INT64_MAX;    // inclusive
  uint8_t src[16] = {}, dst[16] = {};  // network order; IPv4 as ::ffff:a.b.c.d
  uint8_t src_len = 0, dst_len = 0;    // prefix length over the 128 bits; 0 = any
  bool src_v6 = false, dst_v6 = false; // an IPv6 CIDR: never matches an IPv4 address
  uint16_t sport_lo = 0, sport_hi = 65535;
  uint16_t dport_lo = 0, dport_hi = 65535;
  int16_t proto = -1;  // -1 = any
  uint32_t line = 0;   // line in the rule file (1 = header)
};

// The endpoints and time span of a flow, as FlowView has them.
struct LabelQuery {
  const uint8_t* src;  // 16 bytes
  const uint8_t* dst;
  uint16_t sport, dport;
  uint8_t proto;
  int64_t first_ns, last_ns;
};

class LabelRules {
 public:
  // Reads and validates the rule file. On error returns nullptr and sets *error to
  // "<path>:<line>: <reason>".
  static std::unique_ptr<LabelRules> Load(const std::string& path, std::string* error);
  // Same for text already in memory; `name` is used in error messages.
  static std::unique_ptr<LabelRules> Parse(std::string_view text, const std::string& name, std::string* error);

  // Index of the first matching rule in file order, or -1.
  int64_t MatchIndex(const LabelQuery& q) const;
  // The matching rule's label, or `fallback`.
  std::string_view Match(const LabelQuery& q, std::string_view fallback) const {
    const int64_t i = MatchIndex(q);
    return i < 0 ? fallback : std::string_view(rules_[static_cast<size_t>(i)].label);
  }
  const std::vector<LabelRule>& Rules() const noexcept { return rules_; }
  size_t Size() const noexcept { return rules_.size(); }

  // Checks a label (also --default-label): non-empty, no comma, quote, CR or LF.
  static bool ValidLabel(std::string_view s, std::string* why);

 private:
  // Rules (indices into rules_) sorted by start; max_end[i] = max end_ns of entries 0..i.
  struct Bucket {
    std::vector<uint32_t> idx;
    std::vector<int64_t> max_end;
  };
  using Addr = std::array<uint8_t, 16>;
  struct AddrHash {
    size_t operator()(const Addr& a) const noexcept {
      uint64_t x, y;
      std::memcpy(&x, a.data(), 8);
      std::memcpy(&y, a.data() + 8, 8);
      // splitmix64 finaliser over both halves: every input bit reaches every output bit.
      uint64_t h = x * 0x9e3779b97f4a7c15ull ^ (y << 32 | y >> 32);
      h ^= h >> 30;
      h *= 0xbf58476d1ce4e5b9ull;
      h ^= h >> 27;
      h *= 0x94d049bb133111ebull;
      return static_cast<size_t>(h ^ (h >> 31));
    }
  };
  void BuildIndex();
  static void FinishBucket(Bucket& b, const std::vector<LabelRule>& rules);
  void Scan(const Bucket& b, const LabelQuery& q, int64_t* best) const;

  std::vector<LabelRule> rules_;
  // Rules with a host src (/128) are indexed by it, else rules with a host dst by that; else
  // rules with a src (then dst) network of at least /24 (IPv6 /64) by the address masked to
  // /24 (/64), else of at least /16 (IPv6 /32) by it masked to /16 (/32); the rest are in
  // `general_`. A flow looks up both of its addresses at each level.
  std::unordered_map<Addr, Bucket, AddrHash> by_host_;
  std::unordered_map<Addr, Bucket, AddrHash> by_net_[2];  // [0] /24 (/64), [1] /16 (/32)
  Bucket general_;
};

// Parses a rule time: "*", Unix seconds with an optional fraction ("1499435700.25"), or ISO
// 8601 with a zone ("2017-07-07T13:55:00Z", "...T13:55:00.5+02:00", space instead of T).
// Exact to the nanosecond (no floating point). False with *why on error.
bool ParseRuleTime(std::string_view s, int64_t* ns, std::string* why);

}  // namespace nfm
