// SPDX-License-Identifier: MIT
// FlowTable: the index that starts small and doubles in place (Grow) must behave exactly like
// one allocated at full size: every lookup finds what a reference multimap holds, and records
// sharing a key (nfm2022's loose lookup allows duplicates) come out of ForEach in insertion
// order, across every doubling, with erases (backward-shift deletion) in between.
#include "engine/flow_table.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <vector>

namespace nfm {
namespace {

struct Rec {
  FlowKey key;
  uint64_t serial;  // insertion number
};

FlowKey KeyOf(uint32_t k) {
  FlowKey key{};
  std::memcpy(key.a, &k, sizeof(k));
  key.pa = static_cast<uint16_t>(k);
  key.proto = 6;
  return key;
}

TEST(FlowTable, IndexStartsSmallAndDoublesUpToTwoSlotsPerFlow) {
  FlowTable<Rec> t(1u << 20);
  EXPECT_EQ(t.IndexSlots(), FlowTable<Rec>::kInitialSlots);
  // A quarter full before the first doubling, then each doubling at a quarter again.
  for (uint32_t i = 0; i < FlowTable<Rec>::kInitialSlots / 4; ++i) t.Insert(KeyOf(i), KeyOf(i).Hash());
  EXPECT_EQ(t.IndexSlots(), FlowTable<Rec>::kInitialSlots);
  t.Insert(KeyOf(1u << 30), KeyOf(1u << 30).Hash());
  EXPECT_EQ(t.IndexSlots(), 2 * FlowTable<Rec>::kInitialSlots);
  // Full capacity: never more than the pre-growth design's 2 slots per flow.
  for (uint32_t i = FlowTable<Rec>::kInitialSlots / 4; t.Size() < t.Capacity(); ++i)
    t.Insert(KeyOf(i), KeyOf(i).Hash());
  EXPECT_EQ(t.IndexSlots(), uint64_t{2} << 20);
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_NE(t.FindAny(KeyOf(i), KeyOf(i).Hash()), FlowTable<Rec>::kNil);
  // A small table never grows past its own size.
  FlowTable<Rec> small(100);
  EXPECT_EQ(small.IndexSlots(), 256u);
}

TEST(FlowTable, GrowthKeepsEveryRecordAndTheOrderOfDuplicates) {
  FlowTable<Rec> t(400000);  // 1 Mi slots at most: four doublings from 64 Ki
  std::multimap<uint32_t, uint64_t> ref;  // key -> serial, in insertion order per key
  std::map<uint64_t, uint32_t> id_of;     // serial -> record id
  std::mt19937_64 rng(12345);
  uint64_t serial = 0;
  uint64_t last_slots = t.IndexSlots();
  int doublings = 0;
  for (int step = 0; step < 700000; ++step) {
    const bool erase = !ref.empty() && (rng() % 8 == 0 || t.Full());
    if (erase) {
      // Erase a random live record (by serial order, which is as good as random here).
      auto it = id_of.lower_bound(rng() % (serial + 1));
      if (it == id_of.end()) it = id_of.begin();
      const uint32_t id = it->second;
      uint32_t k;
      std::memcpy(&k, t.At(id).key.a, sizeof(k));
      auto range = ref.equal_range(k);
      for (auto r = range.first; r != range.second; ++r)
        if (r->second == it->first) {
          ref.erase(r);
          break;
        }
      t.Erase(id);
      id_of.erase(it);
      continue;
    }
    // Keys from a small space, so many records share a key.
    const uint32_t k = static_cast<uint32_t>(rng() % 150000);
    const FlowKey key = KeyOf(k);
    const uint32_t id = t.Insert(key, key.Hash());
    t.At(id).serial = serial;
    ref.emplace(k, serial);
    id_of[serial] = id;
    ++serial;
    if (t.IndexSlots() != last_slots) {
      ++doublings;
      last_slots = t.IndexSlots();
      // Right after a doubling: every key's records, in insertion order.
      for (uint32_t probe = 0; probe < 150000; probe += 97) {
        std::vector<uint64_t> want, got;
        auto range = ref.equal_range(probe);
        for (auto r = range.first; r != range.second; ++r) want.push_back(r->second);
        t.ForEach(KeyOf(probe), KeyOf(probe).Hash(), [&](uint32_t i) { got.push_back(t.At(i).serial); });
        ASSERT_EQ(got, want) << "key " << probe << " after doubling to " << last_slots;
      }
    }
  }
  EXPECT_EQ(doublings, 4);
  EXPECT_EQ(t.Size(), ref.size());
  for (uint32_t probe = 0; probe < 150000; ++probe) {
    std::vector<uint64_t> want, got;
    auto range = ref.equal_range(probe);
    for (auto r = range.first; r != range.second; ++r) want.push_back(r->second);
    t.ForEach(KeyOf(probe), KeyOf(probe).Hash(), [&](uint32_t i) { got.push_back(t.At(i).serial); });
    ASSERT_EQ(got, want) << "key " << probe;
  }
}

// Probe clusters that wrap around the end of the index: Grow must re-insert them starting
// after an empty slot, or records of one key on both sides of the wrap change order.
TEST(FlowTable, GrowthKeepsOrderInClustersThatWrap) {
  FlowTable<Rec> t(1u << 20);
  const uint64_t mask = FlowTable<Rec>::kInitialSlots - 1;
  std::vector<uint32_t> tail_keys, other_keys;
  for (uint32_t k = 0; tail_keys.size() < 24 || other_keys.size() < 20000; ++k) {
    const uint64_t home = KeyOf(k).Hash() & mask;
    if (home >= mask - 8 && tail_keys.size() < 24) tail_keys.push_back(k);
    else if (home > 4096 && home < mask - 4096 && other_keys.size() < 20000) other_keys.push_back(k);
  }
  uint64_t serial = 0;
  std::map<uint32_t, std::vector<uint64_t>> want;
  for (int round = 0; round < 4; ++round)  // 96 records homed in the last 9 slots: they wrap
    for (uint32_t k : tail_keys) {
      const uint32_t id = t.Insert(KeyOf(k), KeyOf(k).Hash());
      t.At(id).serial = serial;
      want[k].push_back(serial++);
    }
  for (uint32_t k : other_keys) t.Insert(KeyOf(k), KeyOf(k).Hash());
  ASSERT_GT(t.IndexSlots(), FlowTable<Rec>::kInitialSlots);  // it doubled
  for (uint32_t k : tail_keys) {
    std::vector<uint64_t> got;
    t.ForEach(KeyOf(k), KeyOf(k).Hash(), [&](uint32_t i) { got.push_back(t.At(i).serial); });
    EXPECT_EQ(got, want[k]) << "key " << k;
  }
}

}  // namespace
}  // namespace nfm
