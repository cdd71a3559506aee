// SPDX-License-Identifier: MIT
// The --ipfix* command-line flags and turning them into IpfixExporters (one per --ipfix URL),
// plus the summary line text. Parsing/resolution errors come back as one line naming the flag,
// so main can exit 1 before any capture starts.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "output/ipfix_exporter.hpp"
#include "output/numfmt.hpp"
#include "profile/profile_table.hpp"

namespace CLI {
class App;
}

namespace nfm {
class Metrics;

struct IpfixCliOptions {
  std::vector<std::string> urls;   // --ipfix (repeatable)
  bool uniflow = false;            // --ipfix-uniflow
  uint32_t pen = ipfix::kDefaultPen;
  uint32_t mtu = 1400;
  uint32_t domain = 0;
  double template_refresh_s = 60;
  uint32_t queue_flows = 8192;
  double rate = 0;                 // --ipfix-rate: messages per second per destination (0 = unpaced)
  double retry_s = 30;             // --ipfix-retry: offline, how long a destination may take nothing
  std::string elements;            // --ipfix-elements md|xml: print the element table and exit
  // Set by main before CreateIpfixExporters: an offline run holds records (never drops while
  // a destination takes them) and paces UDP by default; `stop` is the run's signal flag.
  bool offline = false;
  const std::atomic<bool>* stop = nullptr;
  bool where_node = false;         // --where-columns node: observationDomainName (300)
  bool where_iface = false;        // --where-columns iface: ingressInterface (10), interfaceName (82)
  bool where_tunnel = false;       // --where-columns tunnel: PEN elements 4001-4004
};

// Offline UDP pacing when --ipfix-rate is not given and the collector's socket cannot be seen
// (messages per second): what nfcapd and nfacctd with the kernel's default socket buffer took
// without a drop on a loaded 2-CPU host (docs/IPFIX.md "Delivery").
inline constexpr double kOfflineUdpRate = 2000;

void SetupIpfixOptions(CLI::App& app, IpfixCliOptions& o);

// One exporter per URL, counted into `metrics` (may be null). False with *error =
// "--ipfix URL: reason" on the first bad URL.
bool CreateIpfixExporters(const IpfixCliOptions& o, const FeatureSet& set, const fmt::FloatSpec& spec,
                          Metrics* metrics, std::vector<std::unique_ptr<ipfix::IpfixExporter>>* out,
                          std::string* error);

// The feature set whose elements --ipfix sends (and --ipfix-elements prints) for a profile row's
// IpfixSet: the set the engine of that run hands to its exporters (cic: CicEngine; --profile
// ntl: NtlEngine's 339; --feature-set ntl: the corrected 341; else the nfm set).
const FeatureSet& IpfixFeatureSet(FeatureSetId set);

// --ipfix-elements: the text to print ("md" or "xml"), empty for an unknown format.
std::string IpfixElementsText(const std::string& format, const FeatureSet& set, uint32_t pen);

// "ipfix udp://h:4739: 120 records sent, 0 dropped, 118 messages" (+ ", 3 lost after sending"
// + "; last error: ...").
std::string IpfixSummary(const ipfix::IpfixExporter& x);

// Offline: the destination did not get every record (dropped, lost after sending, given up)
// or was never reached. Live loss is counted, not an exit status.
bool IpfixExportIncomplete(const ipfix::IpfixExporter& x);

}  // namespace nfm
