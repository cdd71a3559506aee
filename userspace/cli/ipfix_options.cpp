// SPDX-License-Identifier: MIT
// --ipfix* flags (CLI11) and exporter construction; see ipfix_options.hpp.
#include "cli/ipfix_options.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "engine/cic/cic_engine.hpp"
#include "engine/nfm_features.hpp"
#include "engine/ntl/ntl_features.hpp"
#include "metrics/metrics.hpp"
#include "output/ipfix_template.hpp"

namespace nfm {

void SetupIpfixOptions(CLI::App& app, IpfixCliOptions& o) {
  const char* g = "IPFIX";
  app.add_option("--ipfix", o.urls,
                 "Export flows over IPFIX to udp://HOST[:PORT] | tcp://HOST[:PORT] (port 4739) | file:PATH "
                 "(repeatable; without --csv no CSV is written)")
      ->type_name("URL")
      ->allow_extra_args(false)
      ->group(g);
  app.add_flag("--ipfix-uniflow", o.uniflow,
               "Two unidirectional records per flow instead of one RFC 5103 biflow record")
      ->group(g);
  app.add_option("--ipfix-pen", o.pen,
                 "Private enterprise number of the feature elements (32473 is RFC 5612's documentation "
                 "number: use your own)")
      ->check(CLI::Range(uint32_t{1}, uint32_t{0xffffffff}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--ipfix-mtu", o.mtu, "Largest UDP message in bytes")
      ->check(CLI::Range(uint32_t{576}, uint32_t{65535}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--ipfix-domain", o.domain, "Observation domain id")->capture_default_str()->group(g);
  app.add_option("--ipfix-template-refresh", o.template_refresh_s,
                 "UDP: resend templates every this many seconds (TCP: on every connect)")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str()
      ->group(g);
  app.add_option("--ipfix-queue", o.queue_flows,
                 "Flows waiting per destination; when full, records are dropped and counted")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1} << 22))
      ->capture_default_str()
      ->group(g);
  app.add_option("--ipfix-rate", o.rate,
                 "Send at most this many messages per second per destination (0 = unpaced; offline UDP: paced "
                 "by a local collector's free buffer, else 2000/s; docs/IPFIX.md); the queue absorbs bursts")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str()
      ->group(g);
  app.add_option("--ipfix-retry", o.retry_s,
                 "Offline: seconds a network destination may take no message (unreachable, refusing, not "
                 "reading) while records wait; then the rest are dropped and the exit status is 3")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str()
      ->group(g);
  app.add_option("--ipfix-elements", o.elements,
                 "Print the IPFIX element table (md) or the information model (xml) and exit")
      ->check(CLI::IsMember({"md", "xml"}))
      ->group(g);
}

bool CreateIpfixExporters(const IpfixCliOptions& o, const FeatureSet& set, const fmt::FloatSpec& spec,
                          Metrics* metrics, std::vector<std::unique_ptr<ipfix::IpfixExporter>>* out,
                          std::string* error) {
  for (const std::string& url : o.urls) {
    ipfix::ExporterOptions eo;
    eo.url = url;
    eo.codec.uniflow = o.uniflow;
    eo.codec.where_node = o.where_node;
    eo.codec.where_iface = o.where_iface;
    eo.codec.where_tunnel = o.where_tunnel;
    eo.codec.pen = o.pen;
    eo.codec.float_spec = spec;
    eo.mtu = o.mtu;
    eo.domain = o.domain;
    eo.template_refresh_s = o.template_refresh_s;
    eo.queue_flows = o.queue_flows;
    eo.max_messages_per_s = o.rate;
    eo.hold = o.offline;
    eo.retry_s = o.retry_s;
    eo.stop = o.stop;
    if (o.offline) eo.blind_messages_per_s = kOfflineUdpRate;
    ipfix::ExporterHooks hooks;
    if (metrics) {
      hooks.on_sent = [metrics](uint64_t n) { metrics->OnIpfixRecords(true, n); };
      hooks.on_dropped = [metrics](uint64_t n) { metrics->OnIpfixRecords(false, n); };
      hooks.on_message = [metrics] { metrics->OnIpfixMessage(); };
      hooks.on_connected = [metrics](bool up) { metrics->OnIpfixConnected(up); };
      hooks.on_lost = [metrics](uint64_t n) { metrics->OnIpfixLost(n); };
    }
    hooks.on_notice = [](const std::string& line) { std::fprintf(stderr, "nfm-xdp: %s\n", line.c_str()); };
    std::string err;
    auto x = ipfix::IpfixExporter::Create(eo, set, &err, std::move(hooks));
    if (!x) {
      *error = "--ipfix " + url + ": " + err;
      return false;
    }
    out->push_back(std::move(x));
  }
  return true;
}

const FeatureSet& IpfixFeatureSet(FeatureSetId set) {
  switch (set) {
    case FeatureSetId::kCic: return CicFeatureSet();
    case FeatureSetId::kNtl: return kNtlFeatureSet;
    case FeatureSetId::kNtlCorrected: return kNtlCorrectedFeatureSet;
    case FeatureSetId::kNfm:
    case FeatureSetId::kOther:
      break;
  }
  return NfmFeatureSet();
}

std::string IpfixElementsText(const std::string& format, const FeatureSet& set, uint32_t pen) {
  if (format == "md") return ipfix::ElementTableMarkdown(set, pen);
  if (format == "xml") return ipfix::InfoModelXml(set, pen);
  return {};
}

std::string IpfixSummary(const ipfix::IpfixExporter& x) {
  const ipfix::ExporterStats s = x.Stats();
  std::string line = "ipfix " + x.Url() + ": " + std::to_string(s.records_sent) + " records sent, " +
                     std::to_string(s.records_dropped) + " dropped, " + std::to_string(s.messages) + " messages";
  if (s.records_lost) {
    line += ", " + std::to_string(s.records_lost) + " of the sent records lost";
    if (s.receiver_drops)
      line += " (the collector's socket dropped " + std::to_string(s.receiver_drops) + " datagrams)";
  }
  if (!s.reached && x.Dest().kind != ipfix::Destination::Kind::kFile) line += "; the collector was never reached";
  const std::string err = x.Error();
  if (s.gave_up) line += "; given up (see above)";
  else if (!err.empty() && (s.records_dropped || s.records_lost || s.send_errors)) line += "; last error: " + err;
  return line;
}

bool IpfixExportIncomplete(const ipfix::IpfixExporter& x) {
  const ipfix::ExporterStats s = x.Stats();
  return s.records_dropped || s.records_lost || s.gave_up ||
         (!s.reached && x.Dest().kind != ipfix::Destination::Kind::kFile);
}

}  // namespace nfm
