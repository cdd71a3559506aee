// SPDX-License-Identifier: MIT
// The kernel counter table (include/nfm/counter_table.hpp): every enum nfm_counter slot has
// exactly one entry with a metric (or a documented exemption), and the live metrics really
// export each slot's value under that entry's series, one series per slot. Adding a slot to
// event.h without a table entry fails here.
#include "nfm/counter_table.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/metrics.hpp"

namespace nfm {
namespace {

// "b=2,a=1" -> "a=1,b=2".
std::string Canonical(const std::string& labels) {
  std::vector<std::string> parts;
  std::stringstream ss(labels);
  std::string p;
  while (std::getline(ss, p, ','))
    if (!p.empty()) parts.push_back(p);
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& x : parts) out += (out.empty() ? "" : ",") + x;
  return out;
}

// Text exposition -> {"name|a=1,b=2" -> value}. Label values here never contain '"' or ','.
std::map<std::string, double> Parse(const std::string& text) {
  std::map<std::string, double> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    std::string series = line.substr(0, sp), name = series, labels;
    const size_t brace = series.find('{');
    if (brace != std::string::npos) {
      name = series.substr(0, brace);
      std::string inner = series.substr(brace + 1, series.size() - brace - 2);
      inner.erase(std::remove(inner.begin(), inner.end(), '"'), inner.end());
      labels = Canonical(inner);
    }
    out[name + "|" + labels] = std::stod(line.substr(sp + 1));
  }
  return out;
}

TEST(CounterTable, EverySlotHasExactlyOneEntryWithAMetricOrAnExemption) {
  for (int slot = 0; slot < NFM_CNT_MAX; ++slot) {
    int n = 0;
    for (const CounterInfo& c : kCounterTable) n += static_cast<int>(c.slot) == slot ? 1 : 0;
    EXPECT_EQ(n, 1) << "enum nfm_counter slot " << slot
                    << " needs exactly one entry in kCounterTable (include/nfm/counter_table.hpp)";
    const CounterInfo* c = FindCounter(slot);
    if (c == nullptr) continue;
    EXPECT_TRUE(!c->metric.empty() || !c->exempt.empty())
        << "slot " << slot << " has neither a metric nor a documented exemption";
    EXPECT_TRUE(c->metric.empty() || c->exempt.empty()) << "slot " << slot << ": metric and exemption both set";
    EXPECT_FALSE(c->help.empty()) << "slot " << slot;
    EXPECT_FALSE(c->summary.empty()) << "slot " << slot;
  }
  for (const CounterInfo& c : kCounterTable) EXPECT_LT(static_cast<int>(c.slot), NFM_CNT_MAX);
}

TEST(CounterTable, TableIsInSlotOrder) {
  int prev = -1;
  for (const CounterInfo& c : kCounterTable) {
    EXPECT_GT(static_cast<int>(c.slot), prev) << c.summary;
    prev = static_cast<int>(c.slot);
  }
}

TEST(CounterTable, EverySlotReachesItsOwnSeriesInTheLiveMetrics) {
  Metrics m("", BuildInfo{"1", "k", "live", "native"});
  KernelSnapshot k;
  for (int i = 0; i < NFM_CNT_MAX; ++i) k.counters[i] = 1000 + 17 * static_cast<uint64_t>(i);
  m.KernelBoard().Publish(k);  // engine totals 0: the shared not_ip series holds the kernel value only
  const auto series = Parse(m.Render());
  std::set<std::string> used;
  for (int slot = 0; slot < NFM_CNT_MAX; ++slot) {
    const CounterInfo* c = FindCounter(slot);
    if (c == nullptr || c->metric.empty()) continue;
    const std::string key = std::string(c->metric) + "|" + Canonical(std::string(c->labels));
    EXPECT_TRUE(used.insert(key).second) << "two slots feed " << key;
    auto it = series.find(key);
    ASSERT_NE(it, series.end()) << "slot " << slot << " (" << c->summary << "): series " << key
                                << " missing from /metrics";
    EXPECT_EQ(it->second, static_cast<double>(k.counters[slot])) << key;
  }
  // The sums come from the same table.
  uint64_t pk = 0, by = 0;
  for (const CounterInfo& c : kCounterTable) {
    if (c.kind == CounterKind::kSeenPackets) pk += k.counters[c.slot];
    if (c.kind == CounterKind::kSeenBytes) by += k.counters[c.slot];
  }
  EXPECT_EQ(series.at("nfm_packets_total|"), static_cast<double>(pk));
  EXPECT_EQ(series.at("nfm_bytes_total|"), static_cast<double>(by));
}

TEST(CounterTable, EveryPacketKindIsAccountedOnce) {
  // Each hook has a packet and a byte slot; losses are ring_full and no_ring today, and every
  // kind the live summary adds up exists.
  int seen = 0, bytes = 0, loss = 0, events = 0, no_event = 0, duplicate = 0;
  for (const CounterInfo& c : kCounterTable) {
    seen += c.kind == CounterKind::kSeenPackets;
    bytes += c.kind == CounterKind::kSeenBytes;
    loss += c.kind == CounterKind::kLoss;
    events += c.kind == CounterKind::kEvents;
    no_event += c.kind == CounterKind::kNoEvent;
    duplicate += c.kind == CounterKind::kDuplicate;
  }
  EXPECT_EQ(seen, 3);  // xdp, tc egress, tc ingress
  EXPECT_EQ(bytes, seen);
  EXPECT_EQ(events, 1);
  EXPECT_EQ(loss, 2);
  EXPECT_GE(no_event, 1);
  EXPECT_EQ(duplicate, 1);  // --dedup's dropped copies
  uint64_t c[NFM_CNT_MAX] = {};
  c[NFM_CNT_RING_FULL] = 3;
  c[NFM_CNT_NO_RING] = 4;
  c[NFM_CNT_BAD_VERSION] = 5;
  c[NFM_CNT_NOT_IP] = 6;
  EXPECT_EQ(SumKind(c, CounterKind::kLoss), 7u);
  EXPECT_EQ(SumKind(c, CounterKind::kNoEvent), 11u);
}

}  // namespace
}  // namespace nfm
