// SPDX-License-Identifier: MIT
// The one table of where each kernel counter slot (enum nfm_counter, nfm/event.h) goes: the
// Prometheus series it feeds and its role in the live summary line. Read by userspace/metrics
// (series) and userspace/live (summary). Data only; tests/unit/counter_table_test.cpp fails
// when a slot has no entry (or no documented exemption) or an entry's series is not exported.
#pragma once

#include <cstdint>
#include <string_view>

#include "nfm/event.h"

namespace nfm {

// How a slot is accounted for. Per packet a hook sees, exactly one of kEvents, kLoss,
// kSampled, kNoEvent, kDuplicate grows (a GSO/GRO skb counts as its segments); kFlag rides on kEvents.
enum class CounterKind : uint8_t {
  kSeenPackets,  // packets one hook saw: nfm_packets_total and the summary's "hooks saw"
  kSeenBytes,    // their bytes: nfm_bytes_total
  kEvents,       // events submitted to a ring
  kLoss,         // event lost after parsing (ring): the summary's "LOST"
  kSampled,      // skipped on purpose by 1-in-N sampling
  kNoEvent,      // not IP or malformed: no event, not a loss ("without event")
  kFlag,         // an emitted event carries a caveat (also counted under kEvents)
  kDuplicate,    // a copy of a packet another captured interface reports (--dedup): no event
};

struct CounterInfo {
  nfm_counter slot;
  CounterKind kind;
  std::string_view metric;   // Prometheus counter family; empty only with `exempt`
  std::string_view labels;   // the series in that family: "k=v[,k=v]" ("" = no labels)
  std::string_view summary;  // name in the live summary line ("xdp", "ring_full", ...)
  std::string_view help;     // what the slot counts (docs/METRICS.md says the same)
  std::string_view exempt = {};  // why the slot has no metric (none today)
};

// In slot order. Families of the kSeen* kinds exist in live mode only (offline has its own
// hook="pcap" series); every other series exists from the start in both modes.
inline constexpr CounterInfo kCounterTable[] = {
    {NFM_CNT_XDP_PACKETS, CounterKind::kSeenPackets, "nfm_hook_packets_total", "hook=xdp,direction=ingress",
     "xdp", "frames the XDP program saw"},
    {NFM_CNT_XDP_BYTES, CounterKind::kSeenBytes, "nfm_hook_bytes_total", "hook=xdp,direction=ingress", "xdp",
     "bytes of those frames"},
    {NFM_CNT_TC_PACKETS, CounterKind::kSeenPackets, "nfm_hook_packets_total", "hook=tc,direction=egress",
     "tc egress", "packets the tcx egress program saw (a GSO skb counts as its segments)"},
    {NFM_CNT_TC_BYTES, CounterKind::kSeenBytes, "nfm_hook_bytes_total", "hook=tc,direction=egress", "tc egress",
     "bytes of the skbs the tcx egress program saw"},
    {NFM_CNT_EVENTS, CounterKind::kEvents, "nfm_kernel_events_total", "", "events",
     "events submitted to the ring buffers"},
    {NFM_CNT_RING_FULL, CounterKind::kLoss, "nfm_events_lost_total", "reason=ring_full", "ring_full",
     "ring buffer reserve failed (consumer behind): event lost"},
    {NFM_CNT_SAMPLED_OUT, CounterKind::kSampled, "nfm_events_lost_total", "reason=sampled", "sampled",
     "skipped by 1-in-N sampling (--sample)"},
    {NFM_CNT_NOT_IP, CounterKind::kNoEvent, "nfm_packets_ignored_total", "reason=not_ip", "not_ip",
     "not IPv4/IPv6 (ARP, LLDP, ...): not an error"},
    {NFM_CNT_TRUNC_L2, CounterKind::kNoEvent, "nfm_events_lost_total", "reason=trunc_l2", "trunc_l2",
     "frame ends inside the Ethernet/VLAN/MPLS headers"},
    {NFM_CNT_TRUNC_L3, CounterKind::kNoEvent, "nfm_events_lost_total", "reason=trunc_l3", "trunc_l3",
     "frame ends inside the IPv4/IPv6 header or extension chain"},
    {NFM_CNT_BAD_IHL, CounterKind::kNoEvent, "nfm_events_lost_total", "reason=bad_ihl", "bad_ihl",
     "IPv4 ihl < 5 or total length below the header"},
    {NFM_CNT_BAD_DOFF, CounterKind::kNoEvent, "nfm_events_lost_total", "reason=bad_doff", "bad_doff",
     "TCP data offset < 5"},
    {NFM_CNT_VLAN_LIMIT, CounterKind::kNoEvent, "nfm_events_lost_total", "reason=vlan_limit", "vlan_limit",
     "more VLAN/MPLS tags than the parser follows"},
    {NFM_CNT_IPV6_EXT_LIMIT, CounterKind::kNoEvent, "nfm_events_lost_total", "reason=ipv6_ext_limit",
     "ipv6_ext_limit", "longer IPv6 extension chain than the parser follows"},
    {NFM_CNT_L4_TRUNC, CounterKind::kFlag, "nfm_kernel_events_flagged_total", "flag=l4_truncated", "l4_truncated",
     "event emitted, but the L4 header was cut"},
    {NFM_CNT_FRAGMENT, CounterKind::kFlag, "nfm_kernel_events_flagged_total", "flag=fragment", "fragment",
     "event emitted for an IP fragment"},
    {NFM_CNT_NO_RING, CounterKind::kLoss, "nfm_events_lost_total", "reason=no_ring", "no_ring",
     "ring slot empty (a loader bug): event lost"},
    {NFM_CNT_BAD_VERSION, CounterKind::kNoEvent, "nfm_events_lost_total", "reason=bad_version", "bad_version",
     "IP version nibble does not match the EtherType"},
    {NFM_CNT_GSO_SPLIT, CounterKind::kFlag, "nfm_kernel_events_flagged_total", "flag=gso_split", "gso_split",
     "GSO/GRO super-packet reported as one event per segment"},
    {NFM_CNT_ENCRYPTED, CounterKind::kNoEvent, "nfm_packets_ignored_total", "reason=encrypted", "encrypted",
     "MACsec frame with the E or C bit set: ciphertext, no event"},
    {NFM_CNT_UNSUPPORTED_ENCAP, CounterKind::kNoEvent, "nfm_packets_ignored_total", "reason=unsupported_encap",
     "unsupported_encap", "encapsulation the parser does not follow: no event"},
    {NFM_CNT_TC_IN_PACKETS, CounterKind::kSeenPackets, "nfm_hook_packets_total", "hook=tc,direction=ingress",
     "tc ingress", "packets the tcx ingress program saw (--ingress tc, or auto next to another XDP program)"},
    {NFM_CNT_TC_IN_BYTES, CounterKind::kSeenBytes, "nfm_hook_bytes_total", "hook=tc,direction=ingress",
     "tc ingress", "bytes of the skbs the tcx ingress program saw"},
    {NFM_CNT_DECAP, CounterKind::kFlag, "nfm_kernel_events_flagged_total", "flag=decapsulated", "decapsulated",
     "--tunnel inner: the packet inside a VXLAN/Geneve/GTP-U/GRE/IP-in-IP tunnel made the event"},
    {NFM_CNT_TUNNEL_KEPT, CounterKind::kFlag, "nfm_kernel_events_flagged_total", "flag=tunnel_not_opened",
     "tunnel_not_opened",
     "--tunnel inner: on a tunnel port/protocol but not a header we open (VXLAN without I, GTP-U "
     "signalling, GRE with routing or version 1): the outer packet made the event"},
    {NFM_CNT_DEDUP, CounterKind::kDuplicate, "nfm_packets_ignored_total", "reason=duplicate", "duplicate",
     "copy of a packet whose flow another captured interface owns (--dedup): counted once, there"},
    {NFM_CNT_DEDUP_FULL, CounterKind::kFlag, "nfm_kernel_events_flagged_total", "flag=dedup_table_full",
     "dedup_table_full", "dedup owner table bucket full: packet kept without deduplication"},
};

// The entry of `slot`, or nullptr when the table lacks it.
constexpr const CounterInfo* FindCounter(int slot) noexcept {
  for (const CounterInfo& c : kCounterTable)
    if (static_cast<int>(c.slot) == slot) return &c;
  return nullptr;
}

// Sum of the slots of one kind (counters indexed by enum nfm_counter).
constexpr uint64_t SumKind(const uint64_t counters[NFM_CNT_MAX], CounterKind kind) noexcept {
  uint64_t s = 0;
  for (const CounterInfo& c : kCounterTable)
    if (c.kind == kind && c.slot < NFM_CNT_MAX) s += counters[c.slot];
  return s;
}

}  // namespace nfm
