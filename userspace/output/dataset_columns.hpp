// SPDX-License-Identifier: MIT
// DatasetColumns: the optional trailing CSV columns for data sets — `node`, `iface`, `ifindex`
// (where the flow was seen, with --where-columns), `row_kind` (snapshot/final, with
// --snapshot-interval), `capture_loss` (0/1, with --loss-column) and then `label` (with
// --labels, always last). It decides both values for a
// flow (LabelRules; a LossOracle) and appends them to a rendered row. Layouts that already end
// in a label column (cic `Label`, ntl `label`): --labels rewrites that last field instead of
// adding one, and capture_loss goes just before it. Without either option it is not used and
// the row is unchanged. LossOracle implementations: capture drop intervals
// (offline, pcapng ISBs) and ring-loss times (live, recorded by the drainer). Engine thread only.
#pragma once

#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/flow_view.hpp"
#include "label/labels.hpp"

namespace nfm {

// Says whether events of a flow may have been lost while it was open.
class LossOracle {
 public:
  virtual ~LossOracle() = default;
  virtual bool Lost(const FlowView& flow) = 0;
};

// Closed time intervals [from, to] (ns) in which losses happened; a flow is lossy when its
// [first_ns, end] overlaps one, where end is last_ns (offline) or the export time (live, see
// RingLossLog). Queries are O(log n + matches) on intervals sorted by start.
class LossIntervals {
 public:
  void Add(int64_t from_ns, int64_t to_ns);  // any order; Build() before Overlaps()
  void Build();
  bool Overlaps(int64_t first_ns, int64_t last_ns) const;
  size_t Size() const noexcept { return from_.size(); }

 private:
  std::vector<std::pair<int64_t, int64_t>> iv_;
  std::vector<int64_t> from_, max_to_;
};

// Offline: drops recorded by the capture (pcapng ISBs), on any interface.
class CaptureLossOracle final : public LossOracle {
 public:
  explicit CaptureLossOracle(LossIntervals iv) : iv_(std::move(iv)) {}
  bool Lost(const FlowView& flow) override { return iv_.Overlaps(flow.first_ns, flow.last_ns); }

 private:
  LossIntervals iv_;
};

// Live: the drainer's record of ring losses. Sample() is called with the wall-clock time of
// each counter sample and the cumulative numbers of events lost: per ring (nfm_ring_lost: ring
// full or empty slot) and not tied to a ring (undecodable samples). An increase means events
// were lost in (previous sample, this sample]; adjacent lossy samples of one ring merge into one
// interval. A flow is lossy when an interval of its own ring, or of no particular ring, overlaps
// [first packet, time of export]: it was open when events of its ring were lost. Its ring is
// nfm_flow_hash of its 5-tuple (include/nfm/flow_hash.h, what the BPF programs use) & (rings -
// 1), so a loss on one ring leaves the flows of the other rings at 0. An IP fragment after the
// first carries no ports and may go to another ring than its flow; the flow is judged by its
// 5-tuple's ring. Memory: one entry per separate loss period and ring, about kMaxIntervals in
// all (then each ring's last one is extended: more flows marked, never fewer).
class LossTimeline final : public LossOracle {
 public:
  struct Interval {
    int64_t from_ns, to_ns;
    uint64_t lost;
    int32_t ring;  // -1: not tied to a ring (marks the flows of every ring)
  };
  static constexpr size_t kMaxIntervals = 100000;
  // Sample (the drain thread) and Lost (the thread that exports flows: a drain worker or the
  // output thread with live --threads) may run at the same time: both take mu_.
  // ring_lost: cumulative losses of rings 0 .. n-1, n a power of two (the same n every call;
  // empty: no split by ring); other_lost: cumulative losses of no particular ring.
  void Sample(int64_t wall_ns, std::span<const uint64_t> ring_lost, uint64_t other_lost);
  // Every loss counted as not tied to a ring (one ring, or no per-ring counts).
  void Sample(int64_t wall_ns, uint64_t lost_total) { Sample(wall_ns, {}, lost_total); }
  bool Lost(const FlowView& flow) override;
  // The ring-wide intervals first, then ring 0, 1, ...; each list in time order.
  std::vector<Interval> Intervals() const;
  // Clock for the export time (tests replace it).
  int64_t (*now_ns)() = nullptr;

 private:
  struct Track {
    std::vector<Interval> iv;  // in time order, disjoint
    uint64_t last_total = 0;
    bool sampled = false;
    bool last_was_loss = false;
  };
  void Step(Track& t, int32_t ring, int64_t wall_ns, uint64_t total);
  static bool Overlaps(const Track& t, int64_t first_ns, int64_t end_ns);

  mutable std::mutex mu_;
  Track other_;
  std::vector<Track> rings_;
  int64_t last_sample_ns_ = 0;
  size_t intervals_ = 0;  // over all tracks
};

// Live: which interface reported each flow's packets (--where-columns iface). A direct-mapped
// table of 2^k words, indexed by the low bits of the flow's symmetric 64-bit hash
// (nfm_flow_hash64, as the BPF side) and holding (high 32 hash bits << 32) | ifindex; the drain
// threads store the ifindex of every event (one relaxed store, no allocation), the exporting
// thread reads it back when the flow ends. Two live flows in one slot: the later one wins and
// the other reads 0 (unknown), never a wrong interface unless 48 hash bits collide. With
// --dedup all events of a flow come from its owner interface. Also keeps the names of the last
// kNames attached interfaces by ifindex (ifindexes are not reused while a namespace lives), so
// a flow exported after its pod's veth went away still gets the name. Thread-safe.
class FlowIfaces {
 public:
  static constexpr size_t kNames = 8192;
  explicit FlowIfaces(uint64_t min_slots);  // rounded up to a power of two
  // Drain threads, per event. Addresses as in the event (16 bytes), ports host order.
  void Note(const uint8_t* saddr, uint16_t sport, const uint8_t* daddr, uint16_t dport, uint8_t proto,
            uint32_t ifindex) noexcept;
  // The ifindex recorded for the flow's 5-tuple, 0 when unknown.
  uint32_t Ifindex(const FlowView& flow) const noexcept;
  void SetName(uint32_t ifindex, const std::string& name);  // at attach
  std::string Name(uint32_t ifindex) const;                 // "" when unknown

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  uint64_t mask_ = 0;
  mutable std::mutex mu_;
  std::vector<std::pair<uint32_t, std::string>> names_;  // ring of kNames
  size_t next_name_ = 0;
};

// ",tunnel_type,tunnel_src,tunnel_dst,tunnel_id" values of a flow's tunnel (null: four empty
// fields): type word (TunnelTypeName), outer addresses (dotted quad for IPv4), id in decimal
// (empty when the tunnel has none: GRE without K, IP in IP).
void AppendTunnelFields(std::string& out, const TunnelMeta* t);

class DatasetColumns {
 public:
  // labels may be null (no label column); loss may be null (no capture_loss column).
  DatasetColumns(const LabelRules* labels, std::string default_label, LossOracle* loss)
      : labels_(labels), default_label_(std::move(default_label)), loss_(loss) {}

  // The rendered layout already ends in a label column (cic, ntl): it is kept last and, with
  // labels, its value is replaced; capture_loss is inserted before it. Set before Header().
  void SetOwnLabelColumn(bool own) noexcept { own_label_ = own; }
  // Adds the row_kind column (snapshots are on); it goes before capture_loss. Set before Header().
  void SetRowKind(bool on) noexcept { row_kind_ = on; }

  // --where-columns: `node` (node_name) and/or `iface`, `ifindex` (from ifaces; null offline:
  // both fields empty) and/or `tunnel_type`, `tunnel_src`, `tunnel_dst`, `tunnel_id` (from
  // FlowView::tunnel; all four empty for a flow that came through no tunnel). Set before Header().
  void SetWhere(bool node, bool iface, std::string node_name, const FlowIfaces* ifaces, bool tunnel = false) {
    where_node_ = node;
    where_iface_ = iface;
    where_tunnel_ = tunnel;
    node_name_ = std::move(node_name);
    ifaces_ = ifaces;
  }

  bool Enabled() const noexcept { return labels_ != nullptr || loss_ != nullptr || row_kind_ || where_node_ || where_iface_ || where_tunnel_; }
  // Header line with the extra column names inserted before the line end.
  std::string Header(std::string_view header) const;
  // Decides the values for `flow` (available through LastLabel/LastLoss) and returns `row`
  // with them inserted before its "\r\n"; valid until the next call.
  std::string_view Extend(std::string_view row, const FlowView& flow);
  std::string_view LastLabel() const noexcept { return label_; }
  bool LastLoss() const noexcept { return lost_; }

 private:
  const LabelRules* labels_;
  std::string default_label_;
  LossOracle* loss_;
  bool own_label_ = false;
  bool row_kind_ = false;
  bool where_node_ = false, where_iface_ = false, where_tunnel_ = false;
  std::string node_name_;
  const FlowIfaces* ifaces_ = nullptr;
  std::string row_;
  std::string_view label_;
  bool lost_ = false;
  void AppendWhere(std::string& out, const FlowView& flow) const;  // ",node,iface,ifindex" parts
};

}  // namespace nfm
