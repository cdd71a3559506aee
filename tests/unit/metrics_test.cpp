// SPDX-License-Identifier: MIT
// Metrics: fixed names and labels, offline vs live sources, counters fed from absolute values,
// histograms, the live route (a KernelSnapshot published on the board, read at scrape time),
// and the HTTP side (/metrics, /healthz, /livez, bind errors) on loopback.
#include "metrics/metrics.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace nfm {
namespace {

// Value of the series `name{labels}` (labels exactly as rendered, "" for none), or -1.
double Value(const std::string& text, const std::string& series) {
  const std::string needle = series + " ";
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::stod(text.substr(pos + needle.size()));
    pos += needle.size();
  }
  return -1;
}

struct HttpReply {
  int status = 0;
  std::string body;
};

HttpReply Get(int port, const std::string& path) {
  HttpReply r;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return r;
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
  close(fd);
  if (all.rfind("HTTP/1.", 0) == 0) r.status = std::stoi(all.substr(9, 3));
  const auto hdr_end = all.find("\r\n\r\n");
  if (hdr_end != std::string::npos) r.body = all.substr(hdr_end + 4);
  return r;
}

// What the live source does every drain tick: the engine totals go with the kernel values.
void Publish(Metrics& m, const EngineStats& s, KernelSnapshot k) {
  k.engine = s;
  m.KernelBoard().Publish(std::move(k));
}

EngineStats SampleStats() {
  EngineStats s;
  s.packets = 100;
  s.bytes = 64000;
  s.packets_in_flows = 90;
  s.skipped[static_cast<int>(SkipReason::kNotIp)] = 4;
  s.skipped[static_cast<int>(SkipReason::kUnsupported)] = 1;
  s.skipped[static_cast<int>(SkipReason::kTruncated)] = 2;
  s.skipped[static_cast<int>(SkipReason::kMalformed)] = 2;
  s.skipped[static_cast<int>(SkipReason::kLaterFragment)] = 1;
  s.flows_created = 7;
  s.flows_exported[static_cast<int>(EndReason::kIdle)] = 3;
  s.flows_exported[static_cast<int>(EndReason::kFin)] = 2;
  s.flows_exported[static_cast<int>(EndReason::kShutdown)] = 1;
  s.flows_active = 1;
  s.table_capacity = 4;
  s.list_capped_flows = 3;
  return s;
}

TEST(Metrics, OfflineExportsEngineTotalsUnderFixedNames) {
  BuildInfo info{"9.9.9", "6.1.0-test", "offline", "none"};
  Metrics m("", info);
  m.Update(SampleStats());
  const std::string t = m.Render();
  EXPECT_EQ(Value(t, "nfm_packets_total"), 100);
  EXPECT_EQ(Value(t, "nfm_bytes_total"), 64000);
  EXPECT_EQ(Value(t, "nfm_engine_packets_total"), 100);
  EXPECT_EQ(Value(t, "nfm_packets_in_flows_total"), 90);
  EXPECT_EQ(Value(t, "nfm_hook_packets_total{direction=\"unknown\",hook=\"pcap\"}"), 100);
  EXPECT_EQ(Value(t, "nfm_hook_bytes_total{direction=\"unknown\",hook=\"pcap\"}"), 64000);
  EXPECT_EQ(t.find("hook=\"xdp\""), std::string::npos);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"decode_truncated\"}"), 2);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"decode_malformed\"}"), 2);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"ring_full\"}"), 0);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"sampled\"}"), 0);
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"not_ip\"}"), 4);
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"unsupported\"}"), 1);
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"later_fragment\"}"), 1);
  // Offline identity documented in METRICS.md: every packet read is in a flow, lost or ignored.
  EXPECT_EQ(90 + 2 + 2 + 4 + 1 + 1, 100);
  EXPECT_EQ(Value(t, "nfm_flows_active"), 1);
  EXPECT_EQ(Value(t, "nfm_flows_created_total"), 7);
  EXPECT_EQ(Value(t, "nfm_flow_table_capacity"), 4);
  EXPECT_EQ(Value(t, "nfm_flow_table_fill_ratio"), 0.25);
  for (const char* r : {"idle", "active_timeout", "fin", "rst", "eviction", "shutdown"})
    EXPECT_GE(Value(t, std::string("nfm_flows_exported_total{reason=\"") + r + "\"}"), 0) << r;
  EXPECT_EQ(Value(t, "nfm_flows_exported_total{reason=\"idle\"}"), 3);
  EXPECT_EQ(Value(t, "nfm_flows_exported_total{reason=\"fin\"}"), 2);
  EXPECT_EQ(Value(t, "nfm_flows_exported_total{reason=\"shutdown\"}"), 1);
  EXPECT_EQ(Value(t, "nfm_build_info{attach_mode=\"none\",kernel=\"6.1.0-test\",mode=\"offline\",version=\"9.9.9\"}"), 1);
  EXPECT_EQ(Value(t, "nfm_ring_fill_ratio"), 0);
  EXPECT_EQ(Value(t, "nfm_flows_list_capped_total"), 3);
}

// Frames the decoders skip under a named reason (encrypted MACsec / 802.11, encapsulations
// not followed) reach nfm_packets_ignored_total, from the engine offline and from the kernel
// counters of the same name live (one series per reason, like not_ip).
TEST(Metrics, EncryptedAndUnsupportedEncapAreNamedIgnoreReasons) {
  EngineStats s = SampleStats();
  s.skipped[static_cast<int>(SkipReason::kEncrypted)] = 3;
  s.skipped[static_cast<int>(SkipReason::kUnsupportedEncap)] = 5;
  Metrics off("", BuildInfo{"1", "k", "offline", "none"});
  off.Update(s);
  std::string t = off.Render();
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"encrypted\"}"), 3);
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"unsupported_encap\"}"), 5);
  Metrics live("", BuildInfo{"1", "k", "live", "native"});
  KernelSnapshot k;
  k.counters[NFM_CNT_ENCRYPTED] = 7;
  k.counters[NFM_CNT_UNSUPPORTED_ENCAP] = 11;
  Publish(live, s, k);
  t = live.Render();
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"encrypted\"}"), 10);
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"unsupported_encap\"}"), 16);
  EXPECT_STREQ(SkipReasonName(SkipReason::kEncrypted), "encrypted");
  EXPECT_STREQ(SkipReasonName(SkipReason::kUnsupportedEncap), "unsupported_encap");
}

TEST(Metrics, CountersFollowAbsoluteValuesAndNeverDecrease) {
  Metrics m("", BuildInfo{"1", "k", "offline", "none"});
  EngineStats s = SampleStats();
  m.Update(s);
  s.packets = 150;
  m.Update(s);
  EXPECT_EQ(Value(m.Render(), "nfm_packets_total"), 150);
  s.packets = 10;  // source reset (e.g. re-attach): the counter rebases instead of going down
  m.Update(s);
  EXPECT_EQ(Value(m.Render(), "nfm_packets_total"), 150);
  s.packets = 15;
  m.Update(s);
  EXPECT_EQ(Value(m.Render(), "nfm_packets_total"), 155);
}

TEST(Metrics, LiveTakesPacketsFromKernelCounters) {
  Metrics m("", BuildInfo{"1", "k", "live", "native"});
  KernelSnapshot k;
  k.counters[NFM_CNT_XDP_PACKETS] = 1000;
  k.counters[NFM_CNT_XDP_BYTES] = 100000;
  k.counters[NFM_CNT_TC_PACKETS] = 500;
  k.counters[NFM_CNT_TC_BYTES] = 40000;
  k.counters[NFM_CNT_EVENTS] = 1400;
  k.counters[NFM_CNT_RING_FULL] = 30;
  k.counters[NFM_CNT_SAMPLED_OUT] = 20;
  k.counters[NFM_CNT_NOT_IP] = 40;
  k.counters[NFM_CNT_TRUNC_L3] = 5;
  k.counters[NFM_CNT_BAD_DOFF] = 5;
  k.counters[NFM_CNT_FRAGMENT] = 3;
  k.ring_fill_ratio = 0.5;
  k.ring_size_bytes = 1 << 24;
  k.interfaces = 2;
  k.attach_mode = "skb";
  EngineStats s = SampleStats();
  Publish(m, s, k);
  const std::string t = m.Render();
  EXPECT_EQ(Value(t, "nfm_packets_total"), 1500);
  EXPECT_EQ(Value(t, "nfm_bytes_total"), 140000);
  EXPECT_EQ(Value(t, "nfm_engine_packets_total"), 100);
  EXPECT_EQ(Value(t, "nfm_hook_packets_total{direction=\"ingress\",hook=\"xdp\"}"), 1000);
  EXPECT_EQ(Value(t, "nfm_hook_packets_total{direction=\"egress\",hook=\"tc\"}"), 500);
  EXPECT_EQ(Value(t, "nfm_hook_bytes_total{direction=\"egress\",hook=\"tc\"}"), 40000);
  EXPECT_EQ(t.find("hook=\"pcap\""), std::string::npos);
  EXPECT_EQ(Value(t, "nfm_kernel_events_total"), 1400);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"ring_full\"}"), 30);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"sampled\"}"), 20);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"trunc_l3\"}"), 5);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"bad_doff\"}"), 5);
  EXPECT_EQ(Value(t, "nfm_packets_ignored_total{reason=\"not_ip\"}"), 44);  // kernel 40 + engine 4
  EXPECT_EQ(Value(t, "nfm_kernel_events_flagged_total{flag=\"fragment\"}"), 3);
  EXPECT_EQ(Value(t, "nfm_ring_fill_ratio"), 0.5);
  EXPECT_EQ(Value(t, "nfm_ring_size_bytes"), 1 << 24);
  EXPECT_EQ(Value(t, "nfm_interfaces_attached"), 2);
  // The attach mode reported by the kernel side replaces the configured one (one series only).
  EXPECT_EQ(t.find("attach_mode=\"native\""), std::string::npos);
  EXPECT_NE(t.find("attach_mode=\"skb\""), std::string::npos);
}

// Live values are read from the latest snapshot when the registry is collected: nothing is
// pushed into the metrics, a scrape after a newer snapshot sees the newer values, and the
// snapshot's attached/draining and publication time are the health.
TEST(Metrics, ScrapeReadsTheLatestPublishedSnapshot) {
  Metrics m("127.0.0.1:0", BuildInfo{"1", "k", "live", "auto"});
  ASSERT_GT(m.Port(), 0);
  EXPECT_EQ(Value(Get(m.Port(), "/metrics").body, "nfm_packets_total"), 0);  // nothing published yet
  KernelSnapshot k;
  k.counters[NFM_CNT_XDP_PACKETS] = 7;
  k.counters[NFM_CNT_TC_PACKETS] = 5;
  k.counters[NFM_CNT_RING_FULL] = 2;
  k.events_bad = 1;
  k.ring_fill_peak = 0.75;
  k.attach_mode = "native";
  k.attached = true;
  k.draining = true;
  k.workers = {{3, 1.5}, {0, 2.0}};
  Publish(m, SampleStats(), k);
  std::string t = Get(m.Port(), "/metrics").body;
  EXPECT_EQ(Value(t, "nfm_packets_total"), 12);
  EXPECT_EQ(Value(t, "nfm_engine_packets_total"), 100);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"ring_full\"}"), 2);
  EXPECT_EQ(Value(t, "nfm_events_lost_total{reason=\"bad_event\"}"), 1);
  EXPECT_EQ(Value(t, "nfm_ring_fill_peak_ratio"), 0.75);
  EXPECT_EQ(Value(t, "nfm_capture_attached"), 1);
  EXPECT_EQ(Value(t, "nfm_worker_queue_depth{worker=\"0\"}"), 3);
  EXPECT_EQ(Value(t, "nfm_worker_busy_seconds{worker=\"1\"}"), 2);
  EXPECT_GT(Value(t, "nfm_last_update_timestamp_seconds"), 1.6e9);
  EXPECT_NE(t.find("attach_mode=\"native\""), std::string::npos);
  EXPECT_EQ(Get(m.Port(), "/healthz").status, 200);
  k.counters[NFM_CNT_XDP_PACKETS] = 17;
  k.attach_mode.clear();  // no XDP attached now: the label keeps the last mode
  k.draining = false;
  Publish(m, SampleStats(), k);
  t = m.Render();
  EXPECT_EQ(Value(t, "nfm_packets_total"), 22);
  EXPECT_EQ(Value(t, "nfm_capture_draining"), 0);
  EXPECT_NE(t.find("attach_mode=\"native\""), std::string::npos);
  int status = 0;
  m.HealthBody(&status);
  EXPECT_EQ(status, 503);
  EXPECT_EQ(Get(m.Port(), "/healthz").status, 503);
}

// A drain thread that stops publishing makes /livez fail: the age is the snapshot's.
TEST(Metrics, StaleSnapshotFailsLiveness) {
  Metrics m("127.0.0.1:0", BuildInfo{"1", "k", "live", "native"});
  KernelSnapshot k;
  k.attached = k.draining = true;
  Publish(m, SampleStats(), k);
  EXPECT_EQ(Get(m.Port(), "/healthz").status, 200);
  m.SetStaleAfter(0.05);
  usleep(120000);
  EXPECT_EQ(Get(m.Port(), "/livez").status, 503);
  EXPECT_EQ(Get(m.Port(), "/metrics").status, 200);  // a scrape does not make it fresh
  EXPECT_EQ(Get(m.Port(), "/livez").status, 503);
  Publish(m, SampleStats(), k);
  EXPECT_EQ(Get(m.Port(), "/livez").status, 200);
}

// One publisher, concurrent scrapes (run under ASan/UBSan with the unit tier): every scrape
// sees one whole snapshot and the counter never goes down.
TEST(Metrics, ConcurrentScrapesWhilePublishing) {
  Metrics m("", BuildInfo{"1", "k", "live", "native"});
  std::atomic<bool> done{false};
  std::thread publisher([&] {
    KernelSnapshot k;
    for (uint64_t i = 1; i <= 2000; ++i) {
      k.counters[NFM_CNT_XDP_PACKETS] = i;
      k.interface_list = {{"eth" + std::to_string(i % 3), true, "xdp", "native"}};
      Publish(m, SampleStats(), k);
    }
    done = true;
  });
  auto scrape = [&] {
    double last = 0;
    while (!done) {
      const double v = Value(m.Render(), "nfm_packets_total");
      EXPECT_GE(v, last);
      last = v;
    }
  };
  std::thread a(scrape), b(scrape);
  publisher.join();
  a.join();
  b.join();
  EXPECT_EQ(Value(m.Render(), "nfm_packets_total"), 2000);
}

TEST(Metrics, InterfaceUpAndAttachInfoFollowTheInterfaces) {
  Metrics m("", BuildInfo{"1", "k", "live", "none"});
  KernelSnapshot k;
  k.interface_list = {{"va", true, "xdp", "native"}, {"vb", true, "tcx_ingress", "none"}};
  Publish(m, SampleStats(), k);
  std::string t = m.Render();
  EXPECT_EQ(Value(t, R"(nfm_interface_up{iface="va"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_interface_up{iface="vb"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_attach_info{hook="xdp",iface="va",xdp_mode="native"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_attach_info{hook="tcx_ingress",iface="vb",xdp_mode="none"})"), 1);
  // va disappears: up 0, its attach_info series goes; vb unchanged.
  k.interface_list[0] = {"va", false, "none", "none"};
  Publish(m, SampleStats(), k);
  t = m.Render();
  EXPECT_EQ(Value(t, R"(nfm_interface_up{iface="va"})"), 0);
  EXPECT_EQ(t.find(R"(iface="va",xdp_mode)"), std::string::npos) << t;
  EXPECT_EQ(Value(t, R"(nfm_attach_info{hook="tcx_ingress",iface="vb",xdp_mode="none"})"), 1);
  // va comes back, now with tcx (someone else took XDP meanwhile).
  k.interface_list[0] = {"va", true, "tcx_ingress", "none"};
  Publish(m, SampleStats(), k);
  t = m.Render();
  EXPECT_EQ(Value(t, R"(nfm_interface_up{iface="va"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_attach_info{hook="tcx_ingress",iface="va",xdp_mode="none"})"), 1);
  EXPECT_EQ(t.find(R"(nfm_attach_info{hook="xdp",iface="va")"), std::string::npos) << t;
}

// Pattern interfaces (pods) leave the snapshot's list when they go: their series are removed,
// and come back when an interface of that name is attached again; the life-cycle counters
// count each change.
TEST(Metrics, PatternInterfacesLeaveWithTheirSeries) {
  Metrics m("", BuildInfo{"1", "k", "live", "none"});
  KernelSnapshot k;
  k.interface_list = {{"cni0", true, "xdp", "skb"}, {"calia", true, "tcx_ingress", "none"}};
  k.iface_events[0] = 2;  // attached
  Publish(m, SampleStats(), k);
  std::string t = m.Render();
  EXPECT_EQ(Value(t, R"(nfm_interface_up{iface="calia"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_interface_events_total{event="attached"})"), 2);
  k.interface_list.pop_back();  // calia is gone
  k.iface_events[1] = 1;        // detached
  Publish(m, SampleStats(), k);
  t = m.Render();
  EXPECT_EQ(t.find(R"(iface="calia")"), std::string::npos) << t;
  EXPECT_EQ(Value(t, R"(nfm_interface_up{iface="cni0"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_interface_events_total{event="detached"})"), 1);
  k.interface_list.push_back({"calia", true, "tcx_ingress", "none"});  // the pod is back
  k.iface_events[0] = 3;
  k.iface_events[2] = 4;  // refused_limit
  Publish(m, SampleStats(), k);
  t = m.Render();
  EXPECT_EQ(Value(t, R"(nfm_interface_up{iface="calia"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_attach_info{hook="tcx_ingress",iface="calia",xdp_mode="none"})"), 1);
  EXPECT_EQ(Value(t, R"(nfm_interface_events_total{event="attached"})"), 3);
  EXPECT_EQ(Value(t, R"(nfm_interface_events_total{event="refused_limit"})"), 4);
}

TEST(Metrics, CreateReportsErrorsWithoutThrowing) {
  std::string err;
  EXPECT_EQ(Metrics::Create("nonsense", BuildInfo{}, &err), nullptr);
  EXPECT_EQ(err.rfind("metrics: invalid --metrics-addr 'nonsense'", 0), 0u) << err;
  EXPECT_NE(Metrics::Create("", BuildInfo{}, &err), nullptr);
}

TEST(Metrics, HistogramsAndCsvCounters) {
  Metrics m("", BuildInfo{});
  m.ObserveFlow(FlowSummary{EndReason::kFin, 0.5, 3, 0});
  m.ObserveFlow(FlowSummary{EndReason::kIdle, 20.0, 200, 5000});
  m.OnCsvRow(100);
  m.ObserveFlow(FlowSummary{EndReason::kRst, 1e-6, 1, 10});
  m.OnCsvRow(50);
  m.OnCsvError();
  m.OnCsvRotate();
  const std::string t = m.Render();
  EXPECT_EQ(Value(t, "nfm_flow_duration_seconds_count"), 3);
  EXPECT_NEAR(Value(t, "nfm_flow_duration_seconds_sum"), 20.500001, 1e-9);
  EXPECT_EQ(Value(t, "nfm_flow_duration_seconds_bucket{le=\"1\"}"), 2);
  EXPECT_EQ(Value(t, "nfm_flow_packets_sum"), 204);
  EXPECT_EQ(Value(t, "nfm_flow_packets_bucket{le=\"4\"}"), 2);
  EXPECT_EQ(Value(t, "nfm_flow_payload_bytes_bucket{le=\"0\"}"), 1);
  EXPECT_EQ(Value(t, "nfm_flow_payload_bytes_sum"), 5010);
  EXPECT_EQ(Value(t, "nfm_csv_rows_total"), 2);
  EXPECT_EQ(Value(t, "nfm_csv_bytes_total"), 150);
  EXPECT_EQ(Value(t, "nfm_csv_write_errors_total"), 1);
  EXPECT_EQ(Value(t, "nfm_csv_rotations_total"), 1);
}

TEST(Metrics, EveryNameHasThePrefixAndNoHighCardinalityLabel) {
  Metrics m("", BuildInfo{"1", "k", "live", "native"});
  KernelSnapshot k;
  k.interface_list = {{"eth0", true, "xdp", "native"}, {"eth1", false, "none", "none"}};
  Publish(m, SampleStats(), k);
  const std::string t = m.Render();
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? )");
  const std::regex label(R"(([a-z_]+)=")");
  size_t series = 0;
  size_t start = 0;
  while (start < t.size()) {
    size_t end = t.find('\n', start);
    if (end == std::string::npos) end = t.size();
    const std::string line = t.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    std::smatch mm;
    ASSERT_TRUE(std::regex_search(line, mm, sample)) << line;
    EXPECT_EQ(mm[1].str().rfind("nfm_", 0), 0u) << line;
    const std::string labels = mm[3].str();
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), label); it != std::sregex_iterator(); ++it) {
      const std::string l = (*it)[1].str();
      EXPECT_TRUE(l == "reason" || l == "hook" || l == "direction" || l == "flag" || l == "le" || l == "version" ||
                  l == "kernel" || l == "mode" || l == "attach_mode" || l == "iface" || l == "xdp_mode" ||
                  l == "result" || l == "event")
          << "unexpected label " << l << " in " << line;
    }
    ++series;
  }
  EXPECT_LT(series, 120u);  // the whole agent stays around a hundred series
}

TEST(Metrics, ServesMetricsAndHealthOnLoopback) {
  Metrics m("127.0.0.1:0", BuildInfo{"1", "k", "live", "native"});
  ASSERT_GT(m.Port(), 0);
  HttpReply r = Get(m.Port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("nfm_packets_total"), std::string::npos);
  r = Get(m.Port(), "/healthz");
  EXPECT_EQ(r.status, 503);  // not attached yet
  EXPECT_NE(r.body.find("\"attached\":false"), std::string::npos) << r.body;
  EXPECT_EQ(Get(m.Port(), "/livez").status, 200);  // starting is alive
  m.SetHealth(true, true);
  m.Update(SampleStats());
  r = Get(m.Port(), "/healthz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"status\":\"ok\""), std::string::npos) << r.body;
  EXPECT_EQ(Get(m.Port(), "/-/healthy").status, 200);
  m.SetHealth(true, false);
  EXPECT_EQ(Get(m.Port(), "/healthz").status, 503);
  EXPECT_EQ(Get(m.Port(), "/nope").status, 404);
  int status = 0;
  m.HealthBody(&status);
  EXPECT_EQ(status, 503);
}

TEST(Metrics, StaleEngineFailsLiveness) {
  Metrics m("127.0.0.1:0", BuildInfo{"1", "k", "live", "native"});
  m.SetHealth(true, true);
  m.Update(SampleStats());
  m.SetStaleAfter(0.05);
  usleep(120000);
  EXPECT_EQ(Get(m.Port(), "/livez").status, 503);
  EXPECT_EQ(Get(m.Port(), "/healthz").status, 503);
  m.Update(SampleStats());
  EXPECT_EQ(Get(m.Port(), "/livez").status, 200);
}

TEST(Metrics, BusyPortGivesOneLineErrorWithHint) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  const std::string addr = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  try {
    Metrics m(addr, BuildInfo{});
    ADD_FAILURE() << "bound a busy port";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("metrics: cannot listen on " + addr + ": Address already in use (EADDRINUSE); use --metrics-addr", 0), 0u)
        << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
  close(fd);
}

TEST(Metrics, RejectsMalformedAddresses) {
  for (const char* bad : {"9477", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "host.example:9477", "::1:9477",
                          "127.0.0.1:94a7"}) {
    EXPECT_THROW(Metrics(bad, BuildInfo{}), std::runtime_error) << bad;
  }
}

}  // namespace
}  // namespace nfm
