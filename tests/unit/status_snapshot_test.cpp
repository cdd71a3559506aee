// SPDX-License-Identifier: MIT
// SnapshotOf (live/status_snapshot.hpp): a LiveStatus becomes the KernelSnapshot the metrics
// read, value for value, and the metrics show it under their fixed names.
#include "live/status_snapshot.hpp"

#include <string>

#include <gtest/gtest.h>

#include "metrics/metrics.hpp"

namespace nfm::live {
namespace {

TEST(StatusSnapshot, CarriesEveryValueTheMetricsShow) {
  LiveStatus st;
  st.counters[NFM_CNT_XDP_PACKETS] = 7;
  st.counters[NFM_CNT_RING_FULL] = 2;
  st.events_bad = 1;
  st.ring_fill_ratio = 0.25;
  st.ring_fill_peak = 0.75;
  st.ring_size_bytes = 1 << 20;
  st.interfaces = 1;
  st.xdp_mode = XdpMode::kNative;
  st.attached = true;
  st.draining = true;
  st.iface_attached = 3;
  st.iface_detached = 2;
  st.iface_refused = 1;
  st.iface_failed = 4;
  st.SetInterfaces({{"va", 5, true, IngressHook::kXdp, XdpMode::kNative}, {"vb", 0, false, IngressHook::kNone, XdpMode::kNone}});
  const KernelSnapshot k = SnapshotOf(st);
  EXPECT_EQ(k.counters[NFM_CNT_XDP_PACKETS], 7u);
  EXPECT_EQ(k.counters[NFM_CNT_RING_FULL], 2u);
  EXPECT_EQ(k.events_bad, 1u);
  EXPECT_EQ(k.ring_fill_ratio, 0.25);
  EXPECT_EQ(k.ring_fill_peak, 0.75);
  EXPECT_EQ(k.ring_size_bytes, 1u << 20);
  EXPECT_EQ(k.interfaces, 1u);
  EXPECT_EQ(k.attach_mode, "native");
  EXPECT_TRUE(k.attached);
  EXPECT_TRUE(k.draining);
  EXPECT_EQ(k.iface_events[0], 3u);
  EXPECT_EQ(k.iface_events[1], 2u);
  EXPECT_EQ(k.iface_events[2], 1u);
  EXPECT_EQ(k.iface_events[3], 4u);
  ASSERT_EQ(k.interface_list.size(), 2u);
  EXPECT_EQ(k.interface_list[0].name, "va");
  EXPECT_TRUE(k.interface_list[0].up);
  EXPECT_EQ(k.interface_list[0].hook, "xdp");
  EXPECT_EQ(k.interface_list[0].xdp_mode, "native");
  EXPECT_FALSE(k.interface_list[1].up);
  EXPECT_EQ(k.interface_list[1].hook, "none");

  st.xdp_mode = XdpMode::kNone;  // no XDP attached now: the metrics keep the last mode
  EXPECT_TRUE(SnapshotOf(st).attach_mode.empty());
}

TEST(StatusSnapshot, MetricsShowThePublishedStatus) {
  Metrics m("", BuildInfo{"1", "k", "live", "auto"});
  LiveStatus st;
  st.counters[NFM_CNT_XDP_PACKETS] = 7;
  st.counters[NFM_CNT_TC_PACKETS] = 5;
  st.xdp_mode = XdpMode::kSkb;
  st.attached = true;
  st.draining = true;
  st.SetInterfaces({{"va", 5, true, IngressHook::kTcx, XdpMode::kNone}});
  m.KernelBoard().Publish(SnapshotOf(st));
  const std::string t = m.Render();
  EXPECT_NE(t.find("nfm_packets_total 12\n"), std::string::npos) << t;
  EXPECT_NE(t.find("nfm_capture_attached 1\n"), std::string::npos);
  EXPECT_NE(t.find("attach_mode=\"skb\""), std::string::npos);
  EXPECT_NE(t.find("nfm_attach_info{hook=\"tcx_ingress\",iface=\"va\",xdp_mode=\"none\"} 1\n"), std::string::npos);
  int status = 0;
  m.HealthBody(&status);
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace nfm::live
