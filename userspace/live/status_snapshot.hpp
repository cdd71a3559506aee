// SPDX-License-Identifier: MIT
// SnapshotOf: the KernelSnapshot (metrics/kernel_snapshot.hpp) of a LiveStatus, i.e. what the
// drain thread publishes for the metrics every drain tick. It does not fill the engine
// totals or the worker loads (the drain pool knows them) and does not publish.
#pragma once

#include <atomic>

#include "live/live.hpp"
#include "metrics/kernel_snapshot.hpp"

namespace nfm::live {

// Reads every member once (relaxed). Called by the thread that writes `st` (the drain
// thread), so the values are those of one tick.
inline KernelSnapshot SnapshotOf(const LiveStatus& st) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  KernelSnapshot k;
  for (int i = 0; i < NFM_CNT_MAX; ++i) k.counters[i] = st.counters[i].load(kRelaxed);
  k.ring_fill_ratio = st.ring_fill_ratio.load(kRelaxed);
  k.ring_fill_peak = st.ring_fill_peak.load(kRelaxed);
  k.ring_size_bytes = st.ring_size_bytes.load(kRelaxed);
  k.interfaces = st.interfaces.load(kRelaxed);
  k.events_bad = st.events_bad.load(kRelaxed);
  const XdpMode mode = st.xdp_mode.load(kRelaxed);
  if (mode != XdpMode::kNone) k.attach_mode = XdpModeName(mode);  // none: the label keeps the last mode
  for (const InterfaceStatus& i : st.Interfaces())
    k.interface_list.push_back(InterfaceSnapshot{i.name, i.up, IngressHookName(i.hook), XdpModeName(i.xdp_mode)});
  k.iface_events[0] = st.iface_attached.load(kRelaxed);
  k.iface_events[1] = st.iface_detached.load(kRelaxed);
  k.iface_events[2] = st.iface_refused.load(kRelaxed);
  k.iface_events[3] = st.iface_failed.load(kRelaxed);
  k.attached = st.attached.load(kRelaxed);
  k.draining = st.draining.load(kRelaxed);
  return k;
}

}  // namespace nfm::live
