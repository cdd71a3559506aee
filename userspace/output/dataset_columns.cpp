// SPDX-License-Identifier: MIT
// DatasetColumns and LossIntervals implementation.
#include "output/dataset_columns.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "nfm/flow_hash.h"

namespace nfm {

void LossIntervals::Add(int64_t from_ns, int64_t to_ns) {
  if (to_ns < from_ns) std::swap(from_ns, to_ns);
  iv_.emplace_back(from_ns, to_ns);
}

void LossIntervals::Build() {
  std::sort(iv_.begin(), iv_.end());
  from_.resize(iv_.size());
  max_to_.resize(iv_.size());
  int64_t m = INT64_MIN;
  for (size_t i = 0; i < iv_.size(); ++i) {
    from_[i] = iv_[i].first;
    m = std::max(m, iv_[i].second);
    max_to_[i] = m;
  }
}

// Intervals starting at or before last_ns form a prefix; one of them overlaps iff the
// largest end among them reaches first_ns.
bool LossIntervals::Overlaps(int64_t first_ns, int64_t last_ns) const {
  const size_t n = static_cast<size_t>(std::upper_bound(from_.begin(), from_.end(), last_ns) - from_.begin());
  return n > 0 && max_to_[n - 1] >= first_ns;
}

void LossTimeline::Step(Track& t, int32_t ring, int64_t wall_ns, uint64_t total) {
  if (!t.sampled) {
    // Losses before the first sample happened since the start of capture.
    t.sampled = true;
    if (total > 0) {
      t.iv.push_back({INT64_MIN, wall_ns, total, ring});
      ++intervals_;
      t.last_was_loss = true;
    }
  } else if (total > t.last_total) {
    const uint64_t lost = total - t.last_total;
    if ((t.last_was_loss || intervals_ >= kMaxIntervals) && !t.iv.empty()) {
      t.iv.back().to_ns = wall_ns;
      t.iv.back().lost += lost;
    } else {
      t.iv.push_back({last_sample_ns_, wall_ns, lost, ring});
      ++intervals_;
    }
    t.last_was_loss = true;
  } else {
    t.last_was_loss = false;
  }
  t.last_total = total;
}

void LossTimeline::Sample(int64_t wall_ns, std::span<const uint64_t> ring_lost, uint64_t other_lost) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rings_.size() != ring_lost.size()) rings_.resize(ring_lost.size());
  Step(other_, -1, wall_ns, other_lost);
  for (size_t r = 0; r < ring_lost.size(); ++r) Step(rings_[r], static_cast<int32_t>(r), wall_ns, ring_lost[r]);
  last_sample_ns_ = wall_ns;
}

// Intervals are disjoint and in order: the first one ending at or after first_ns decides.
bool LossTimeline::Overlaps(const Track& t, int64_t first_ns, int64_t end_ns) {
  auto it = std::lower_bound(t.iv.begin(), t.iv.end(), first_ns,
                             [](const Interval& v, int64_t x) { return v.to_ns < x; });
  return it != t.iv.end() && it->from_ns <= end_ns;
}

bool LossTimeline::Lost(const FlowView& flow) {
  const int64_t now = now_ns ? now_ns()
                             : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  const int64_t end = std::max(now, flow.last_ns);
  std::lock_guard<std::mutex> lock(mu_);
  if (intervals_ == 0) return false;
  if (Overlaps(other_, flow.first_ns, end)) return true;
  if (rings_.empty()) return false;
  if (!flow.src || !flow.dst) {  // no identity: any ring's loss counts (never fewer marks)
    for (const Track& t : rings_)
      if (Overlaps(t, flow.first_ns, end)) return true;
    return false;
  }
  const uint32_t h = nfm_flow_hash(flow.src, htons(flow.sport), flow.dst, htons(flow.dport), flow.proto);
  return Overlaps(rings_[h & (rings_.size() - 1)], flow.first_ns, end);
}

std::vector<LossTimeline::Interval> LossTimeline::Intervals() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Interval> out = other_.iv;
  for (const Track& t : rings_) out.insert(out.end(), t.iv.begin(), t.iv.end());
  return out;
}

namespace {

// Splits a line into body and terminator ("\r\n", "\n" or none).
size_t BodyEnd(std::string_view line) noexcept {
  size_t cut = line.size();
  if (cut >= 2 && line.substr(cut - 2) == "\r\n") return cut - 2;
  if (cut >= 1 && line[cut - 1] == '\n') return cut - 1;
  return cut;
}

// Where the last field of a line body starts (after its last comma; 0 without one).
size_t LastFieldStart(std::string_view body) noexcept {
  const size_t c = body.rfind(',');
  return c == std::string_view::npos ? 0 : c + 1;
}

}  // namespace

FlowIfaces::FlowIfaces(uint64_t min_slots) : names_(kNames) {
  uint64_t n = 1024;
  while (n < min_slots && n < (1ull << 26)) n <<= 1;
  slots_ = std::make_unique<std::atomic<uint64_t>[]>(n);
  for (uint64_t i = 0; i < n; ++i) slots_[i].store(0, std::memory_order_relaxed);
  mask_ = n - 1;
}

void FlowIfaces::Note(const uint8_t* saddr, uint16_t sport, const uint8_t* daddr, uint16_t dport, uint8_t proto,
                      uint32_t ifindex) noexcept {
  const uint64_t h = nfm_flow_hash64(saddr, htons(sport), daddr, htons(dport), proto);
  const uint64_t v = (h >> 32) << 32 | ifindex;
  std::atomic<uint64_t>& slot = slots_[h & mask_];
  if (slot.load(std::memory_order_relaxed) != v) slot.store(v, std::memory_order_relaxed);
}

uint32_t FlowIfaces::Ifindex(const FlowView& f) const noexcept {
  if (f.src == nullptr || f.dst == nullptr) return 0;
  const uint64_t h = nfm_flow_hash64(f.src, htons(f.sport), f.dst, htons(f.dport), f.proto);
  const uint64_t v = slots_[h & mask_].load(std::memory_order_relaxed);
  return (v >> 32) == (h >> 32) ? static_cast<uint32_t>(v) : 0;
}

void FlowIfaces::SetName(uint32_t ifindex, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& e : names_) {
    if (e.first == ifindex) {
      e.second = name;
      return;
    }
  }
  names_[next_name_] = {ifindex, name};
  next_name_ = (next_name_ + 1) % kNames;
}

std::string FlowIfaces::Name(uint32_t ifindex) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : names_)
    if (e.first == ifindex && ifindex != 0) return e.second;
  return {};
}

namespace {

// RFC 4180: quoted when it holds a comma, a quote or a line break (interface names may).
void AppendCsvField(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char ch : v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

// An outer tunnel address: dotted quad for v4-mapped, else IPv6 text.
void AppendTunnelAddr(std::string& out, const uint8_t* a) {
  static constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(a, kV4Mapped, 12) == 0) {
    inet_ntop(AF_INET, a + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, a, buf, sizeof buf);
  }
  out += buf;
}

}  // namespace

void AppendTunnelFields(std::string& out, const TunnelMeta* t) {
  if (t == nullptr) {
    out += ",,,,";
    return;
  }
  out += ',';
  out += TunnelTypeName(t->type);
  out += ',';
  AppendTunnelAddr(out, t->src);
  out += ',';
  AppendTunnelAddr(out, t->dst);
  out += ',';
  if (t->has_id) out += std::to_string(t->id);
}

void DatasetColumns::AppendWhere(std::string& out, const FlowView& flow) const {
  if (where_node_) {
    out += ',';
    AppendCsvField(out, node_name_);
  }
  if (where_iface_) {
    const uint32_t idx = ifaces_ ? ifaces_->Ifindex(flow) : 0;
    out += ',';
    if (idx) AppendCsvField(out, ifaces_->Name(idx));
    out += ',';
    if (idx) out += std::to_string(idx);
  }
  if (where_tunnel_) AppendTunnelFields(out, flow.tunnel);
}

std::string DatasetColumns::Header(std::string_view header) const {
  const size_t cut = BodyEnd(header);
  const std::string_view body = header.substr(0, cut);
  std::string where;
  if (where_node_) where += ",node";
  if (where_iface_) where += ",iface,ifindex";
  if (where_tunnel_) where += ",tunnel_type,tunnel_src,tunnel_dst,tunnel_id";
  std::string h;
  if (own_label_) {
    // ..., <label column> -> ..., capture_loss, <label column>: the set's own name stays.
    const size_t last = LastFieldStart(body);
    h.assign(body.substr(0, last));
    if (!where.empty()) h.append(where, 1).append(",");
    if (row_kind_) h += "row_kind,";
    if (loss_) h += "capture_loss,";
    h += body.substr(last);
  } else {
    h.assign(body);
    h += where;
    if (row_kind_) h += ",row_kind";
    if (loss_) h += ",capture_loss";
    if (labels_) h += ",label";
  }
  h += header.substr(cut);
  return h;
}

std::string_view DatasetColumns::Extend(std::string_view row, const FlowView& flow) {
  lost_ = loss_ != nullptr && loss_->Lost(flow);
  label_ = {};
  if (labels_) {
    const LabelQuery q{flow.src, flow.dst, flow.sport, flow.dport, flow.proto, flow.first_ns, flow.last_ns};
    label_ = labels_->Match(q, default_label_);
  }
  const size_t cut = BodyEnd(row);
  if (own_label_) {
    const size_t last = LastFieldStart(row.substr(0, cut));
    row_.assign(row.data(), last);
    if (where_node_ || where_iface_ || where_tunnel_) {  // the row ends in ',' here: the where fields take their own
      row_.pop_back();
      AppendWhere(row_, flow);
      row_ += ',';
    }
    if (row_kind_) {
      row_ += RowKindName(flow.row_kind);
      row_ += ',';
    }
    if (loss_) row_ += lost_ ? "1," : "0,";
    if (labels_) {
      row_ += label_;
    } else {
      row_.append(row.data() + last, cut - last);
    }
  } else {
    row_.assign(row.data(), cut);
    AppendWhere(row_, flow);
    if (row_kind_) {
      row_ += ',';
      row_ += RowKindName(flow.row_kind);
    }
    if (loss_) row_ += lost_ ? ",1" : ",0";
    if (labels_) {
      row_ += ',';
      row_ += label_;
    }
  }
  row_.append(row.data() + cut, row.size() - cut);
  return row_;
}

}  // namespace nfm
