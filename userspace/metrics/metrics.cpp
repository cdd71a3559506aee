// SPDX-License-Identifier: MIT
// Metrics: prometheus-cpp families created once, refreshed from the engine's totals by the
// engine thread (offline) or from the latest published KernelSnapshot at each scrape (live),
// served by prometheus-cpp's Exposer (embedded civetweb). /healthz and /livez
// are answered by a civetweb begin_request callback on the same listener, because Exposer
// 1.0.1 only serves registered collectables (always 200, Prometheus text format).
#include "metrics/metrics.hpp"

#include "engine/exact.hpp"
#include "nfm/counter_table.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <CivetServer.h>  // CivetCallbacks (derives from mg_callbacks)
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace nfm {
namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

constexpr int kSkipCount = static_cast<int>(SkipReason::kCount);
constexpr int kEndCount = static_cast<int>(EndReason::kCount);

// Help of the counter families that kernel slots (nfm/counter_table.hpp) feed. A family the
// table names that is missing here gets the help of its first slot.
struct FamilyHelp {
  std::string_view name, help;
};
constexpr FamilyHelp kFamilyHelp[] = {
    {"nfm_hook_packets_total", "Packets seen, by hook and direction"},
    {"nfm_hook_bytes_total", "Bytes seen, by hook and direction"},
    {"nfm_kernel_events_total", "Events the BPF programs submitted to the ring buffers"},
    {"nfm_events_lost_total", "Packets seen that produced no flow data because of loss or a parse error, by reason"},
    {"nfm_packets_ignored_total", "Packets seen that are deliberately not part of any flow (not an error), by reason"},
    {"nfm_kernel_events_flagged_total",
     "Events emitted with a caveat, by flag (l4_truncated: L4 header cut; fragment: IP fragment; "
     "gso_split: GSO/GRO super-packet reported per segment)"},
};

// "k=v,k=v" -> labels.
prometheus::Labels ParseLabels(std::string_view text) {
  prometheus::Labels out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view kv = text.substr(0, comma);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) out[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// Histogram buckets (upper bounds). Few buckets: 3 histograms x ~10 series per agent.
const Histogram::BucketBoundaries kDurationBuckets = {0.001, 0.01, 0.1, 1, 10, 60, 300, 1800, 7200};
const Histogram::BucketBoundaries kPacketBuckets = {1, 2, 4, 10, 100, 1000, 10000, 100000};
const Histogram::BucketBoundaries kByteBuckets = {0, 64, 512, 4096, 65536, 1048576, 16777216, 268435456};

// A counter fed with absolute values (kernel sums, engine totals): increments by the delta.
// If the source goes backwards (re-attach resets kernel maps) it rebases without decreasing.
struct AbsCounter {
  Counter* c = nullptr;
  uint64_t last = 0;
  void Set(uint64_t now) {
    if (c != nullptr && now > last) c->Increment(static_cast<double>(now - last));
    last = now;
  }
};

std::string KernelRelease() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return u.release;
}

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  std::string s = std::strerror(err);
  if (name != nullptr) s += std::string(" (") + name + ")";
  return s;
}

struct ListenAddr {
  std::string host;  // numeric, without brackets
  int port = 0;
  bool v6 = false;
  std::string civet;  // civetweb listening_ports syntax
};

ListenAddr ParseAddr(const std::string& addr) {
  const std::string bad = "metrics: invalid --metrics-addr '" + addr +
                          "': expected HOST:PORT with a numeric host, e.g. 127.0.0.1:9477 or [::1]:9477";
  ListenAddr out;
  std::string port;
  if (!addr.empty() && addr[0] == '[') {
    const auto close = addr.find("]:");
    if (close == std::string::npos) throw std::runtime_error(bad);
    out.host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
    out.v6 = true;
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos || addr.find(':') != colon) throw std::runtime_error(bad);
    out.host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
  }
  if (out.host == "localhost") out.host = "127.0.0.1";
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(out.v6 ? AF_INET6 : AF_INET, out.host.c_str(), buf) != 1) throw std::runtime_error(bad);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw std::runtime_error(bad);
  out.port = std::stoi(port);
  if (out.port > 65535) throw std::runtime_error(bad);
  out.civet = out.v6 ? "[" + out.host + "]:" + std::to_string(out.port) : out.host + ":" + std::to_string(out.port);
  return out;
}

// After civetweb failed to start: bind the same address ourselves to learn the errno.
std::string ProbeListenError(const ListenAddr& a) {
  const int fd = socket(a.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoText(errno);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // civetweb sets it too
  int rc;
  if (a.v6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<uint16_t>(a.port));
    inet_pton(AF_INET6, a.host.c_str(), &sa.sin6_addr);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(a.port));
    inet_pton(AF_INET, a.host.c_str(), &sa.sin_addr);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  }
  if (rc == 0) rc = listen(fd, 1);
  const int err = rc == 0 ? 0 : errno;
  close(fd);
  return err == 0 ? std::string() : ErrnoText(err);
}

// Health as seen by the HTTP threads; shared between Metrics and the request callback.
// Live, the latest published KernelSnapshot is the health; until one is published (and
// offline) the values SetHealth and Update store here are.
struct HealthState {
  std::string mode;
  std::shared_ptr<const KernelSnapshotBoard> board;
  std::atomic<bool> attached{false}, draining{false};
  std::atomic<int64_t> last_update_ns{0};  // steady clock; 0 = never updated
  std::atomic<double> stale_after_s{30.0};

  struct Now {
    bool attached = false, draining = false;
    double age_s = -1.0;  // since the last update; -1: never updated
  };
  static int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  Now Read() const {
    const std::shared_ptr<const KernelSnapshot> k = board ? board->Latest() : nullptr;
    const int64_t last = k ? k->published_mono_ns : last_update_ns.load();
    const double age = last == 0 ? -1.0 : static_cast<double>(NowNs() - last) / 1e9;
    return k ? Now{k->attached, k->draining, age} : Now{attached.load(), draining.load(), age};
  }
  // Stalled = the engine (or drain) thread stopped refreshing. Never updated yet = still starting.
  bool Fresh(const Now& n) const {
    const double limit = stale_after_s.load();
    return limit <= 0 || n.age_s < 0 || n.age_s <= limit;
  }
  bool Ready(const Now& n) const { return n.attached && n.draining && Fresh(n); }
  std::string Json(const Now& n) const {
    char age[32];
    std::snprintf(age, sizeof(age), "%.3f", n.age_s);
    return std::string("{\"status\":\"") + (Ready(n) ? "ok" : "not ready") + "\",\"mode\":\"" + mode +
           "\",\"attached\":" + (n.attached ? "true" : "false") + ",\"draining\":" + (n.draining ? "true" : "false") +
           ",\"fresh\":" + (Fresh(n) ? "true" : "false") + ",\"last_update_age_seconds\":" + age + "}\n";
  }
};

// begin_request runs on civetweb threads; it finds the health state by the listening port.
std::mutex g_servers_mu;
std::map<int, std::shared_ptr<HealthState>> g_servers;

int BeginRequest(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  if (ri == nullptr || ri->local_uri == nullptr) return 0;
  const std::string_view uri = ri->local_uri;
  const bool ready = uri == "/healthz" || uri == "/readyz" || uri == "/-/healthy";
  const bool live = uri == "/livez";
  if (!ready && !live) return 0;  // let the Exposer handle /metrics (and 404 the rest)
  std::shared_ptr<HealthState> h;
  {
    std::lock_guard<std::mutex> lock(g_servers_mu);
    auto it = g_servers.find(ri->server_port);
    if (it == g_servers.end() && g_servers.size() == 1) it = g_servers.begin();
    if (it != g_servers.end()) h = it->second;
  }
  int status = 503;
  std::string body = "{\"status\":\"starting\"}\n";
  if (h && live) {
    status = h->Fresh(h->Read()) ? 200 : 503;
    body = status == 200 ? "{\"status\":\"alive\"}\n" : "{\"status\":\"stalled\"}\n";
  } else if (h) {
    const HealthState::Now n = h->Read();
    status = h->Ready(n) ? 200 : 503;
    body = h->Json(n);
  }
  const bool head = ri->request_method != nullptr && std::strcmp(ri->request_method, "HEAD") == 0;
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, status == 200 ? "OK" : "Service Unavailable", body.size());
  if (!head) mg_write(conn, body.data(), body.size());
  return status;  // 1..999: handled; the value is the status code for civetweb's access log
}

int QuietLog(const mg_connection*, const char*) { return 1; }  // we report errors ourselves

}  // namespace

struct Metrics::Impl {
  BuildInfo info;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  CivetCallbacks callbacks;  // its constructor zeroes every mg_callbacks member
  int port = 0;

  std::shared_ptr<HealthState> health = std::make_shared<HealthState>();
  std::shared_ptr<KernelSnapshotBoard> board = std::make_shared<KernelSnapshotBoard>();

  // What the exposer collects: the registry, after the latest live snapshot was applied.
  struct Scrape : prometheus::Collectable {
    Impl* m = nullptr;
    std::vector<prometheus::MetricFamily> Collect() const override {
      m->Refresh();
      return m->registry->Collect();
    }
  };
  std::shared_ptr<Scrape> scrape = std::make_shared<Scrape>();

  // Serialises every writer of the series below: the engine thread (Update, UpdateWorkers)
  // and scrape threads applying a snapshot (Refresh).
  std::mutex update_mu;
  uint64_t applied_sequence = 0;  // KernelSnapshot::sequence last applied

  // Families (owned by the registry) and the series created at startup.
  prometheus::Family<Gauge>* build_info_family = nullptr;
  Gauge* build_info = nullptr;
  std::string attach_mode;

  AbsCounter packets, bytes, engine_packets, packets_in_flows, flows_created, out_of_order, list_capped;
  AbsCounter pcap_packets, pcap_bytes;  // offline: nfm_hook_*_total{hook="pcap"}
  AbsCounter kernel[NFM_CNT_MAX];       // live: one per slot, series from kCounterTable
  std::map<std::string, prometheus::Family<Counter>*, std::less<>> families;
  AbsCounter decode_truncated, decode_malformed;
  AbsCounter ignored_not_ip_engine;  // same series as the kernel's not_ip slot
  AbsCounter ignored_unsupported, ignored_later_fragment;
  // encrypted / unsupported_encap: the engine's skip reasons feed the same series as the
  // kernel counters of the same name (like not_ip).
  AbsCounter ignored_encrypted_engine, ignored_encap_engine;
  AbsCounter exported[kEndCount];
  prometheus::Family<Gauge>* iface_up_family = nullptr;
  prometheus::Family<Gauge>* attach_info_family = nullptr;
  struct IfaceSeries {
    Gauge* up = nullptr;
    Gauge* info = nullptr;
    std::string hook, xdp_mode;  // labels of `info`
  };
  std::map<std::string, IfaceSeries> iface_series;
  AbsCounter iface_events[4];  // nfm_interface_events_total, KernelSnapshot::iface_events order
  Gauge *flows_active = nullptr, *table_capacity = nullptr, *table_fill = nullptr;
  Gauge *ring_fill = nullptr, *ring_peak = nullptr, *ring_size = nullptr, *interfaces = nullptr;
  AbsCounter bad_events;
  Gauge *attached_g = nullptr, *draining_g = nullptr, *last_update_ts = nullptr;
  Counter *csv_rows = nullptr, *csv_bytes = nullptr, *csv_errors = nullptr, *csv_rotations = nullptr;
  Counter *ipfix_sent = nullptr, *ipfix_dropped = nullptr, *ipfix_lost = nullptr, *ipfix_messages = nullptr;
  Gauge* ipfix_connected = nullptr;
  Histogram *duration = nullptr, *flow_packets = nullptr, *flow_bytes = nullptr;
  // Shard workers: labels worker="0".."N-1", added on first use.
  prometheus::Family<Gauge>*worker_queue = nullptr, *worker_busy = nullptr;
  std::vector<Gauge*> worker_queue_g, worker_busy_g;

  void Build();
  void Refresh();  // applies the latest published KernelSnapshot, if it is new
  void ApplyEngine(const EngineStats& s);
  void ApplyKernel(const KernelSnapshot& k);
  void ApplyWorkers(const std::vector<WorkerLoad>& workers);
  void SetAttachMode(const std::string& mode);
  prometheus::Family<Counter>& CounterFamily(std::string_view name, std::string_view fallback_help);
  void SetInterfaces(const std::vector<InterfaceSnapshot>& list);
};

prometheus::Family<Counter>& Metrics::Impl::CounterFamily(std::string_view name, std::string_view fallback_help) {
  auto it = families.find(name);
  if (it != families.end()) return *it->second;
  std::string_view help = fallback_help;
  for (const FamilyHelp& f : kFamilyHelp)
    if (f.name == name) help = f.help;
  auto& fam = prometheus::BuildCounter().Name(std::string(name)).Help(std::string(help)).Register(*registry);
  families.emplace(std::string(name), &fam);
  return fam;
}

void Metrics::Impl::SetInterfaces(const std::vector<InterfaceSnapshot>& list) {
  // Pattern-matched interfaces (pods) leave the list when they go: drop their series, so the
  // cardinality follows the node's pods instead of growing with every pod ever seen.
  for (auto it = iface_series.begin(); it != iface_series.end();) {
    const bool listed = std::any_of(list.begin(), list.end(), [&](const InterfaceSnapshot& i) { return i.name == it->first; });
    if (listed) {
      ++it;
      continue;
    }
    if (it->second.info != nullptr) attach_info_family->Remove(it->second.info);
    if (it->second.up != nullptr) iface_up_family->Remove(it->second.up);
    it = iface_series.erase(it);
  }
  for (const InterfaceSnapshot& i : list) {
    IfaceSeries& s = iface_series[i.name];
    if (s.up == nullptr) s.up = &iface_up_family->Add({{"iface", i.name}});
    s.up->Set(i.up ? 1 : 0);
    // nfm_attach_info: one series per interface while it is up, labelled with its hooks.
    const bool same = s.info != nullptr && i.up && s.hook == i.hook && s.xdp_mode == i.xdp_mode;
    if (same) continue;
    if (s.info != nullptr) attach_info_family->Remove(s.info);
    s.info = nullptr;
    if (!i.up) continue;
    s.hook = i.hook;
    s.xdp_mode = i.xdp_mode;
    s.info = &attach_info_family->Add({{"iface", i.name}, {"hook", i.hook}, {"xdp_mode", i.xdp_mode}});
    s.info->Set(1);
  }
}

void Metrics::Impl::SetAttachMode(const std::string& mode) {
  if (build_info != nullptr && mode == attach_mode) return;
  if (build_info != nullptr) build_info_family->Remove(build_info);
  attach_mode = mode;
  build_info = &build_info_family->Add({{"version", info.version},
                                        {"kernel", info.kernel},
                                        {"mode", info.mode},
                                        {"attach_mode", attach_mode}});
  build_info->Set(1);
}

void Metrics::Impl::Build() {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& r = *registry;
  auto counter = [&](const char* name, const char* help) -> Counter& {
    return BuildCounter().Name(name).Help(help).Register(r).Add({});
  };
  auto gauge = [&](const char* name, const char* help) -> Gauge& {
    return BuildGauge().Name(name).Help(help).Register(r).Add({});
  };

  build_info_family = &BuildGauge()
                           .Name("nfm_build_info")
                           .Help("Always 1; labels: agent version, kernel release, mode (live/offline), XDP attach mode")
                           .Register(r);
  SetAttachMode(info.attach_mode);
  BuildGauge()
      .Name("nfm_start_time_seconds")
      .Help("Unix time the agent started")
      .Register(r)
      .Add({})
      .Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());

  packets.c = &counter("nfm_packets_total",
                       "Packets seen: live, every packet the XDP and TC hooks saw; offline, every packet read");
  bytes.c = &counter("nfm_bytes_total", "Bytes (frame length) of the packets counted by nfm_packets_total");
  // Kernel slots: every entry of kCounterTable becomes one series (hook series live only).
  for (const CounterInfo& ci : kCounterTable) {
    const bool seen = ci.kind == CounterKind::kSeenPackets || ci.kind == CounterKind::kSeenBytes;
    if (ci.metric.empty() || ci.slot >= NFM_CNT_MAX || (seen && info.mode != "live")) continue;
    kernel[ci.slot].c = &CounterFamily(ci.metric, ci.help).Add(ParseLabels(ci.labels));
  }
  if (info.mode != "live") {
    pcap_packets.c = &CounterFamily("nfm_hook_packets_total", "").Add({{"hook", "pcap"}, {"direction", "unknown"}});
    pcap_bytes.c = &CounterFamily("nfm_hook_bytes_total", "").Add({{"hook", "pcap"}, {"direction", "unknown"}});
  }
  engine_packets.c = &counter("nfm_engine_packets_total",
                              "Packets (events) handed to the flow engine, decoded or not");
  packets_in_flows.c = &counter("nfm_packets_in_flows_total", "Packets that became part of a flow");

  auto& lost = CounterFamily("nfm_events_lost_total", "");
  decode_truncated.c = &lost.Add({{"reason", "decode_truncated"}});
  decode_malformed.c = &lost.Add({{"reason", "decode_malformed"}});
  bad_events.c = &lost.Add({{"reason", "bad_event"}});

  auto& ign = CounterFamily("nfm_packets_ignored_total", "");
  ignored_not_ip_engine.c = &ign.Add({{"reason", "not_ip"}});  // Add returns the kernel slot's series
  ignored_unsupported.c = &ign.Add({{"reason", "unsupported"}});
  ignored_later_fragment.c = &ign.Add({{"reason", "later_fragment"}});
  ignored_encrypted_engine.c = &ign.Add({{"reason", "encrypted"}});
  ignored_encap_engine.c = &ign.Add({{"reason", "unsupported_encap"}});

  iface_up_family = &BuildGauge()
                         .Name("nfm_interface_up")
                         .Help("Live: 1 while the hooks on this capture interface are attached, 0 while it is gone "
                               "(deleted, or no longer a default-route interface with --iface auto)")
                         .Register(r);
  attach_info_family = &BuildGauge()
                            .Name("nfm_attach_info")
                            .Help("Live: 1 per attached interface; hook = xdp or tcx_ingress (the ingress hook), "
                                  "xdp_mode = native, skb or none")
                            .Register(r);

  auto& ifev = BuildCounter()
                   .Name("nfm_interface_events_total")
                   .Help("Live: capture interfaces attached (start, pattern match, re-attach), detached (gone, "
                         "replaced, no longer matching), refused_limit (--max-ifaces reached), attach_failed")
                   .Register(r);
  const char* ifev_names[4] = {"attached", "detached", "refused_limit", "attach_failed"};
  for (int i = 0; i < 4; ++i) iface_events[i].c = &ifev.Add({{"event", ifev_names[i]}});

  flows_created.c = &counter("nfm_flows_created_total", "Flows created in the flow table");
  auto& exp = BuildCounter().Name("nfm_flows_exported_total").Help("Flows exported (CSV rows produced), by end reason").Register(r);
  for (int i = 0; i < kEndCount; ++i) exported[i].c = &exp.Add({{"reason", EndReasonName(static_cast<EndReason>(i))}});
  out_of_order.c = &counter("nfm_out_of_order_packets_total", "Packets whose timestamp went backwards within their flow");
  list_capped.c = &counter("nfm_flows_list_capped_total",
                           "Flows (ntl feature sets) whose per-flow packet list reached --ntl-max-packets");
  flows_active = &gauge("nfm_flows_active", "Flows currently in the flow table");
  table_capacity = &gauge("nfm_flow_table_capacity", "Flow table capacity (flows), fixed at start");
  table_fill = &gauge("nfm_flow_table_fill_ratio", "nfm_flows_active / nfm_flow_table_capacity (0..1)");
  ring_fill = &gauge("nfm_ring_fill_ratio", "Fill level of the fullest ring buffer at the last drain (0..1; offline 0)");
  ring_peak = &gauge("nfm_ring_fill_peak_ratio", "Highest nfm_ring_fill_ratio seen since start (0..1; offline 0)");
  ring_size = &gauge("nfm_ring_size_bytes", "Size of one BPF ring buffer (offline 0)");
  interfaces = &gauge("nfm_interfaces_attached", "Interfaces the XDP/TC hooks are attached to");
  attached_g = &gauge("nfm_capture_attached", "1 when the capture source is attached (live) or open (offline)");
  draining_g = &gauge("nfm_capture_draining", "1 when the ring buffers (or the capture file) are being drained");
  last_update_ts = &gauge("nfm_last_update_timestamp_seconds", "Unix time of the last refresh of these metrics by the engine thread");

  csv_rows = &counter("nfm_csv_rows_total", "CSV rows (flows) written successfully");
  csv_bytes = &counter("nfm_csv_bytes_total", "Bytes of CSV rows written successfully");
  csv_errors = &counter("nfm_csv_write_errors_total", "Failed CSV writes (row lost or file not opened)");
  csv_rotations = &counter("nfm_csv_rotations_total", "CSV files opened by size-based rotation");
  worker_queue = &BuildGauge()
                      .Name("nfm_worker_queue_depth")
                      .Help("Finished flows a shard worker has queued for output, not yet exported (--threads > 1)")
                      .Register(r);
  worker_busy = &BuildGauge()
                     .Name("nfm_worker_busy_seconds")
                     .Help("Seconds a shard worker spent processing packets since start (--threads > 1)")
                     .Register(r);

  auto& ipfix_records = BuildCounter()
                            .Name("nfm_ipfix_records_total")
                            .Help("IPFIX data records: sent (accepted by the transport), dropped (never sent: queue "
                                  "full live, send failed, destination given up, not drained at exit) or lost "
                                  "(sent, then reported lost by the kernel)")
                            .Register(r);
  ipfix_sent = &ipfix_records.Add({{"result", "sent"}});
  ipfix_dropped = &ipfix_records.Add({{"result", "dropped"}});
  ipfix_lost = &ipfix_records.Add({{"result", "lost"}});
  ipfix_messages = &counter("nfm_ipfix_messages_total", "IPFIX messages sent");
  ipfix_connected = &gauge("nfm_ipfix_connected", "IPFIX destinations currently connected/open");

  duration = &BuildHistogram().Name("nfm_flow_duration_seconds").Help("Duration of exported flows").Register(r).Add({}, kDurationBuckets);
  flow_packets = &BuildHistogram().Name("nfm_flow_packets").Help("Packets per exported flow").Register(r).Add({}, kPacketBuckets);
  flow_bytes = &BuildHistogram()
                    .Name("nfm_flow_payload_bytes")
                    .Help("Payload bytes per exported flow (both directions)")
                    .Register(r)
                    .Add({}, kByteBuckets);
}

Metrics::Metrics(const std::string& addr, const BuildInfo& info) : impl_(std::make_unique<Impl>()) {
  impl_->info = info;
  if (impl_->info.kernel.empty()) impl_->info.kernel = KernelRelease();
  if (impl_->info.version.empty()) impl_->info.version = "unknown";
  if (impl_->info.attach_mode.empty()) impl_->info.attach_mode = "none";
  impl_->health->mode = impl_->info.mode;
  impl_->health->board = impl_->board;
  impl_->scrape->m = impl_.get();
  impl_->Build();
  if (addr.empty()) return;

  const ListenAddr la = ParseAddr(addr);
  impl_->callbacks.begin_request = BeginRequest;
  impl_->callbacks.log_message = QuietLog;
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", la.civet, "num_threads", "2", "request_timeout_ms", "10000"},
        &impl_->callbacks);
  } catch (const std::exception& e) {
    std::string why = ProbeListenError(la);
    if (why.empty()) why = e.what();
    throw std::runtime_error("metrics: cannot listen on " + addr + ": " + why +
                             "; use --metrics-addr to choose another address (empty disables metrics)");
  }
  const auto ports = impl_->exposer->GetListeningPorts();
  impl_->port = ports.empty() ? la.port : ports.front();
  impl_->exposer->RegisterCollectable(impl_->scrape);
  std::lock_guard<std::mutex> lock(g_servers_mu);
  g_servers[impl_->port] = impl_->health;
}

Metrics::~Metrics() {
  if (impl_->exposer) {
    {
      std::lock_guard<std::mutex> lock(g_servers_mu);
      auto it = g_servers.find(impl_->port);
      if (it != g_servers.end() && it->second == impl_->health) g_servers.erase(it);
    }
    impl_->exposer.reset();  // stops and joins the server threads
  }
}

std::unique_ptr<Metrics> Metrics::Create(const std::string& addr, const BuildInfo& info, std::string* error) {
  try {
    return std::make_unique<Metrics>(addr, info);
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
    return nullptr;
  }
}

KernelSnapshotBoard& Metrics::KernelBoard() { return *impl_->board; }

void Metrics::Impl::ApplyEngine(const EngineStats& s) {
  engine_packets.Set(s.packets);
  packets_in_flows.Set(s.packets_in_flows);
  flows_created.Set(s.flows_created);
  out_of_order.Set(s.out_of_order);
  list_capped.Set(s.list_capped_flows);
  for (int i = 0; i < kEndCount; ++i) exported[i].Set(s.flows_exported[i]);
  decode_truncated.Set(s.skipped[static_cast<int>(SkipReason::kTruncated)]);
  decode_malformed.Set(s.skipped[static_cast<int>(SkipReason::kMalformed)]);
  ignored_not_ip_engine.Set(s.skipped[static_cast<int>(SkipReason::kNotIp)]);
  ignored_unsupported.Set(s.skipped[static_cast<int>(SkipReason::kUnsupported)]);
  ignored_later_fragment.Set(s.skipped[static_cast<int>(SkipReason::kLaterFragment)]);
  ignored_encrypted_engine.Set(s.skipped[static_cast<int>(SkipReason::kEncrypted)]);
  ignored_encap_engine.Set(s.skipped[static_cast<int>(SkipReason::kUnsupportedEncap)]);
  flows_active->Set(static_cast<double>(s.flows_active));
  table_capacity->Set(static_cast<double>(s.table_capacity));
  table_fill->Set(s.table_capacity ? static_cast<double>(s.flows_active) / static_cast<double>(s.table_capacity) : 0.0);
}

void Metrics::Impl::ApplyKernel(const KernelSnapshot& k) {
  const uint64_t* c = k.counters;
  packets.Set(SumKind(c, CounterKind::kSeenPackets));
  bytes.Set(SumKind(c, CounterKind::kSeenBytes));
  for (int i = 0; i < NFM_CNT_MAX; ++i) kernel[i].Set(c[i]);
  SetInterfaces(k.interface_list);
  for (int i = 0; i < 4; ++i) iface_events[i].Set(k.iface_events[i]);
  bad_events.Set(k.events_bad);
  ring_fill->Set(k.ring_fill_ratio);
  ring_peak->Set(k.ring_fill_peak);
  ring_size->Set(static_cast<double>(k.ring_size_bytes));
  interfaces->Set(k.interfaces);
  if (!k.attach_mode.empty()) SetAttachMode(k.attach_mode);
}

void Metrics::Impl::ApplyWorkers(const std::vector<WorkerLoad>& workers) {
  for (size_t i = worker_queue_g.size(); i < workers.size(); ++i) {
    const std::string w = std::to_string(i);
    worker_queue_g.push_back(&worker_queue->Add({{"worker", w}}));
    worker_busy_g.push_back(&worker_busy->Add({{"worker", w}}));
  }
  for (size_t i = 0; i < workers.size(); ++i) {
    worker_queue_g[i]->Set(workers[i].queue_depth);
    worker_busy_g[i]->Set(workers[i].busy_seconds);
  }
}

void Metrics::Impl::Refresh() {
  const std::shared_ptr<const KernelSnapshot> k = board->Latest();
  if (!k) return;
  std::lock_guard<std::mutex> lock(update_mu);
  if (k->sequence <= applied_sequence) return;  // applied already (or older than what was)
  applied_sequence = k->sequence;
  attached_g->Set(k->attached ? 1 : 0);
  draining_g->Set(k->draining ? 1 : 0);
  ApplyEngine(k->engine);
  ApplyKernel(*k);
  ApplyWorkers(k->workers);
  last_update_ts->Set(static_cast<double>(k->published_wall_ns) / 1e9);
}

void Metrics::Update(const EngineStats& s) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.update_mu);
  m.ApplyEngine(s);
  // Offline: the engine saw every packet read.
  m.packets.Set(s.packets);
  m.bytes.Set(s.bytes);
  m.pcap_packets.Set(s.packets);
  m.pcap_bytes.Set(s.bytes);
  m.last_update_ts->Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  m.health->last_update_ns.store(HealthState::NowNs());
}

void Metrics::ObserveFlow(const FlowSummary& f) {
  impl_->duration->Observe(f.duration_s);
  impl_->flow_packets->Observe(static_cast<double>(f.packets));
  impl_->flow_bytes->Observe(static_cast<double>(f.bytes));
}

void FlowMetricsObserver::Export(const FlowView& f) {
  if (f.row_kind == RowKind::kSnapshot) return;  // the flow histograms describe ended flows
  FlowSummary s;
  s.reason = f.reason;
  s.duration_s = exact::NsToSeconds(f.last_ns - f.first_ns);
  s.packets = f.packets[0] + f.packets[1];
  s.bytes = f.payload_bytes[0] + f.payload_bytes[1];
  metrics_.ObserveFlow(s);
}

void Metrics::SetHealth(bool attached, bool draining) {
  impl_->health->attached.store(attached);
  impl_->health->draining.store(draining);
  impl_->attached_g->Set(attached ? 1 : 0);
  impl_->draining_g->Set(draining ? 1 : 0);
}

void Metrics::SetStaleAfter(double seconds) { impl_->health->stale_after_s.store(seconds); }

void Metrics::OnCsvRow(std::size_t bytes) {
  impl_->csv_rows->Increment();
  impl_->csv_bytes->Increment(static_cast<double>(bytes));
}
void Metrics::OnCsvError() { impl_->csv_errors->Increment(); }
void Metrics::OnCsvRotate() { impl_->csv_rotations->Increment(); }
void Metrics::OnIpfixRecords(bool sent, uint64_t n) {
  (sent ? impl_->ipfix_sent : impl_->ipfix_dropped)->Increment(static_cast<double>(n));
}
void Metrics::OnIpfixLost(uint64_t n) { impl_->ipfix_lost->Increment(static_cast<double>(n)); }
void Metrics::OnIpfixMessage() { impl_->ipfix_messages->Increment(); }
void Metrics::OnIpfixConnected(bool up) {
  if (up) impl_->ipfix_connected->Increment();
  else impl_->ipfix_connected->Decrement();
}

void Metrics::UpdateWorkers(const std::vector<WorkerLoad>& workers) {
  std::lock_guard<std::mutex> lock(impl_->update_mu);
  impl_->ApplyWorkers(workers);
}

int Metrics::Port() const { return impl_->exposer ? impl_->port : 0; }

std::string Metrics::Render() const {
  return prometheus::TextSerializer().Serialize(impl_->scrape->Collect());
}

std::string Metrics::HealthBody(int* status) const {
  const HealthState::Now n = impl_->health->Read();
  if (status != nullptr) *status = impl_->health->Ready(n) ? 200 : 503;
  return impl_->health->Json(n);
}

}  // namespace nfm
