// SPDX-License-Identifier: MIT
// FlowTable: fixed-capacity open-addressing index (key -> record slot) over a preallocated
// slab of records, plus three intrusive lists used for expiry and ordering: by creation
// (flush order, active timeout), by last activity (idle timeout, eviction) and by closing
// deadline. All memory is reserved at construction and never reallocated; no allocation per
// packet. The index starts small and doubles in place (a rehash) while the flows in it exceed a
// quarter of its slots, up to 2 slots per flow of capacity: a run with few flows touches (and
// zeroes) little memory and its probes stay in cache. The record type is a template parameter
// (it must start with a `FlowKey key` member) so the table knows nothing about features. Not
// thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>
#include <type_traits>

#include "engine/flow_key.hpp"

namespace nfm {

// Links every record carries (indices into the slab; kNil = none). A record is in list l
// when prev[l] != kNil or it is the head of l.
struct FlowLinks {
  static constexpr uint32_t kNil = 0xffffffffu;
  uint32_t prev[3] = {kNil, kNil, kNil};
  uint32_t next[3] = {kNil, kNil, kNil};
};
static_assert(sizeof(FlowLinks) == 24);

// Anonymous zero pages: untouched memory stays virtual, so a large --max-flows costs memory
// only as flows arrive. Transparent huge pages (where enabled with madvise) cut the TLB
// misses of random probes into a large index.
template <class T>
T* ZeroedArray(uint64_t n, size_t* bytes) {
  *bytes = static_cast<size_t>(n) * sizeof(T);
  void* p = mmap(nullptr, *bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, *bytes, MADV_HUGEPAGE);
  return static_cast<T*>(p);
}

// Fixed-capacity pool of plain-data slots (FlowCold): O(1) Alloc/Free through a free list,
// never-used slots from a high-water mark (start-up touches no memory), no allocation after
// construction. Slot ids are 1-based so 0 can mean "none". With one slot per flow at most,
// a pool as large as the flow table never runs out.
template <class T>
class SlotPool {
 public:
  explicit SlotPool(uint32_t capacity) : capacity_(capacity) { slots_ = ZeroedArray<T>(capacity, &bytes_); }
  ~SlotPool() { munmap(slots_, bytes_); }
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;

  // A zeroed slot. Precondition: fewer than capacity slots in use.
  uint32_t Alloc() noexcept {
    uint32_t id;
    if (free_head_ != 0) {
      id = free_head_;
      std::memcpy(&free_head_, &slots_[id - 1], sizeof(free_head_));
    } else {
      id = ++unused_;
    }
    std::memset(static_cast<void*>(&slots_[id - 1]), 0, sizeof(T));
    ++used_;
    return id;
  }
  void Free(uint32_t id) noexcept {
    std::memcpy(static_cast<void*>(&slots_[id - 1]), &free_head_, sizeof(free_head_));
    free_head_ = id;
    --used_;
  }
  T& At(uint32_t id) noexcept { return slots_[id - 1]; }
  const T& At(uint32_t id) const noexcept { return slots_[id - 1]; }
  uint32_t Used() const noexcept { return used_; }
  uint32_t Capacity() const noexcept { return capacity_; }

 private:
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) >= sizeof(uint32_t));
  T* slots_ = nullptr;
  size_t bytes_ = 0;
  uint32_t capacity_ = 0;
  uint32_t free_head_ = 0;
  uint32_t unused_ = 0;
  uint32_t used_ = 0;
};

enum FlowList : int { kListCreated = 0, kListActivity = 1, kListClosing = 2 };

template <class Record>
class FlowTable {
 public:
  static constexpr uint32_t kNil = FlowLinks::kNil;

  explicit FlowTable(uint64_t capacity) {
    if (capacity < 1) capacity = 1;
    if (capacity > (1ull << 31)) capacity = 1ull << 31;
    capacity_ = static_cast<uint32_t>(capacity);
    uint64_t slots = 1;
    while (slots < capacity * 2) slots <<= 1;
    max_slots_ = slots;
    mask_ = std::min<uint64_t>(slots, kInitialSlots) - 1;
    // Behind the largest index: room for the entries of the last doubling (Grow).
    index_ = ZeroedArray<Slot>(slots + slots / 2, &index_bytes_);
    records_ = ZeroedArray<Record>(capacity_, &records_bytes_);
    links_ = ZeroedArray<FlowLinks>(capacity_, &links_bytes_);
  }
  ~FlowTable() {
    munmap(index_, index_bytes_);
    munmap(records_, records_bytes_);
    munmap(links_, links_bytes_);
  }
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  uint32_t Capacity() const noexcept { return capacity_; }
  uint32_t Size() const noexcept { return size_; }
  bool Full() const noexcept { return size_ >= capacity_; }

  Record& At(uint32_t id) noexcept { return records_[id]; }
  const FlowKey& KeyOf(uint32_t id) const noexcept { return records_[id].key; }

  // Any record with this key (first found), or kNil.
  uint32_t FindAny(const FlowKey& k, uint64_t h) const noexcept {
    const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = index_[i];
      if (s.tag == 0) return kNil;
      if (s.tag == tag && records_[s.id].key == k) return s.id;
    }
  }
  // Calls fn(id) for every record with this key (duplicates are possible in nfm2022 mode).
  template <class Fn>
  void ForEach(const FlowKey& k, uint64_t h, Fn&& fn) const {
    const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = index_[i];
      if (s.tag == 0) return;
      if (s.tag == tag && records_[s.id].key == k) fn(s.id);
    }
  }

  // Inserts a zero-initialised record under `k`. Precondition: !Full().
  uint32_t Insert(const FlowKey& k, uint64_t h) noexcept {
    if (uint64_t(size_ + 1) * 4 > mask_ + 1 && mask_ + 1 < max_slots_) Grow();
    const uint32_t id = free_pop();
    std::memset(static_cast<void*>(&records_[id]), 0, sizeof(Record));
    records_[id].key = k;
    links_[id] = FlowLinks{};
    const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
    uint64_t i = h & mask_;
    while (index_[i].tag != 0) i = (i + 1) & mask_;
    index_[i] = Slot{tag, id};
    ++size_;
    return id;
  }

  // Removes record `id` from the index and every list and returns its slot to the free list.
  void Erase(uint32_t id) noexcept {
    for (int l = 0; l < 3; ++l) Unlink(l, id);
    const FlowKey& k = records_[id].key;
    const uint64_t h = k.Hash();
    uint64_t i = h & mask_;
    while (index_[i].id != id || index_[i].tag == 0) i = (i + 1) & mask_;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    uint64_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (index_[j].tag == 0) break;
      const uint64_t home = records_[index_[j].id].key.Hash() & mask_;
      // Move j into the hole i if its home position is not cyclically in (i, j].
      const bool in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
      if (!in_range) {
        index_[i] = index_[j];
        i = j;
      }
    }
    index_[i] = Slot{0, 0};
    --size_;
    free_push(id);
  }

  // Intrusive lists.
  void PushBack(int l, uint32_t id) noexcept {
    if (InList(l, id)) Unlink(l, id);
    FlowLinks& n = links_[id];
    n.prev[l] = tail_[l];
    n.next[l] = kNil;
    if (tail_[l] != kNil) links_[tail_[l]].next[l] = id; else head_[l] = id;
    tail_[l] = id;
  }
  void Unlink(int l, uint32_t id) noexcept {
    if (!InList(l, id)) return;
    FlowLinks& n = links_[id];
    if (n.prev[l] != kNil) links_[n.prev[l]].next[l] = n.next[l]; else head_[l] = n.next[l];
    if (n.next[l] != kNil) links_[n.next[l]].prev[l] = n.prev[l]; else tail_[l] = n.prev[l];
    n.prev[l] = n.next[l] = kNil;
  }
  // Inserts `id` after `pos` (kNil: at the front).
  void LinkAfter(int l, uint32_t pos, uint32_t id) noexcept {
    if (InList(l, id)) Unlink(l, id);
    FlowLinks& n = links_[id];
    n.prev[l] = pos;
    n.next[l] = pos == kNil ? head_[l] : links_[pos].next[l];
    if (n.next[l] != kNil) links_[n.next[l]].prev[l] = id; else tail_[l] = id;
    if (pos != kNil) links_[pos].next[l] = id; else head_[l] = id;
  }
  uint32_t Head(int l) const noexcept { return head_[l]; }
  uint32_t Tail(int l) const noexcept { return tail_[l]; }
  uint32_t Prev(int l, uint32_t id) const noexcept { return links_[id].prev[l]; }
  uint32_t Next(int l, uint32_t id) const noexcept { return links_[id].next[l]; }
  bool InList(int l, uint32_t id) const noexcept { return links_[id].prev[l] != kNil || head_[l] == id; }

  // Index slots in use now (grows by doubling up to 2 per flow of capacity).
  uint64_t IndexSlots() const noexcept { return mask_ + 1; }
  static constexpr uint64_t kInitialSlots = 1u << 16;  // 512 KiB

  // Bytes of memory per flow slot (record + key + links + 2 index slots).
  static constexpr size_t BytesPerFlow() { return sizeof(Record) + sizeof(FlowLinks) + 2 * sizeof(Slot); }

  // Cache warming for a lookup that will happen soon: the index line of hash `h`, and the
  // first lines of the record a later lookup with hash `h` will probably touch.
  void PrefetchSlot(uint64_t h) const noexcept { __builtin_prefetch(&index_[h & mask_]); }
  void PrefetchRecord(uint64_t h) const noexcept {
    const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
    const Slot& s = index_[h & mask_];
    if (s.tag != tag) return;
    // The key and the hottest fields: more prefetches in flight than the CPU's fill buffers
    // would just be dropped.
    const char* r = reinterpret_cast<const char*>(&records_[s.id]);
    __builtin_prefetch(r, 1);
    __builtin_prefetch(r + 64, 1);
  }

 private:
  struct Slot {
    uint32_t tag;  // 0 = empty; else high hash bits | 1
    uint32_t id;
  };
  // Doubles the index (precondition: below max_slots_). Entries are re-inserted cluster by
  // cluster in probe order, starting after an empty slot, so records sharing a key (nfm2022)
  // keep their order: ForEach sees them in insertion order at every size. The old entries are
  // parked behind the largest index (reserved at construction, so no allocation here; released
  // again afterwards). Amortised O(1) per insert; one pause of O(flows) per doubling.
  void Grow() noexcept {
    const uint64_t old_slots = mask_ + 1;
    Slot* park = index_ + max_slots_;
    uint64_t start = 0;
    while (index_[start].tag != 0) ++start;  // exists: at most a quarter of the slots is used
    uint64_t n = 0;
    for (uint64_t k = 1; k <= old_slots; ++k) {
      const Slot& s = index_[(start + k) & mask_];
      if (s.tag != 0) park[n++] = s;
    }
    std::memset(static_cast<void*>(index_), 0, old_slots * sizeof(Slot));  // the upper half is unused (zero)
    mask_ = old_slots * 2 - 1;
    for (uint64_t e = 0; e < n; ++e) {
      uint64_t i = records_[park[e].id].key.Hash() & mask_;
      while (index_[i].tag != 0) i = (i + 1) & mask_;
      index_[i] = park[e];
    }
    madvise(park, n * sizeof(Slot), MADV_DONTNEED);  // back to untouched zero pages
  }
  void free_push(uint32_t id) noexcept {
    links_[id].next[0] = free_head_;
    free_head_ = id;
  }
  // Slots never used yet come from a high-water mark, so start-up touches no slab memory.
  uint32_t free_pop() noexcept {
    if (free_head_ == kNil) return unused_++;
    const uint32_t id = free_head_;
    free_head_ = links_[id].next[0];
    return id;
  }

  uint32_t capacity_ = 0;
  uint32_t size_ = 0;
  uint64_t mask_ = 0;       // index slots in use - 1
  uint64_t max_slots_ = 0;  // the index's final size
  Slot* index_ = nullptr;
  Record* records_ = nullptr;
  FlowLinks* links_ = nullptr;
  size_t index_bytes_ = 0, records_bytes_ = 0, links_bytes_ = 0;
  uint32_t free_head_ = kNil;
  uint32_t unused_ = 0;
  uint32_t head_[3] = {kNil, kNil, kNil};
  uint32_t tail_[3] = {kNil, kNil, kNil};
};

}  // namespace nfm
