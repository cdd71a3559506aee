// SPDX-License-Identifier: MIT
// The nfm-xdp command line: the options every source shares (CommonOptions), their CLI11
// setup, and MakePlan, which checks them and resolves the profile row (profile/profile_table.hpp)
// into the run's plan. It opens no file and reads no packet; run/run.hpp does that.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/ipfix_options.hpp"
#include "run/plan.hpp"
#include "source/decode.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace nfm {

// Every member has a default: CLI11 leaves a variable untouched when its flag is absent.
struct CommonOptions {
  std::vector<std::string> pcap;
  unsigned threads = 0;  // 0: the CPUs this process may run on
  bool progress_on = false, progress_off = false;
  std::string csv = "-";
  std::string profile = "corrected";
  std::string feature_set = "nfm";  // nfm (114 features) | cic (CICFlowMeter columns) | ntl (NTLFlowLyzer's)
  std::string label = "Unknown";      // ntl feature sets: the label column
  uint32_t ntl_max_packets = 1u << 16;  // ntl feature sets: packets listed per flow
  std::string float_format;  // empty: profile default
  std::string tz = "utc";
  double idle_timeout = 0, active_timeout = 0, activity_threshold = 0, subflow_gap = 1.0;
  uint64_t max_flows = 1u << 20;
  std::string metrics_addr;  // see --metrics-addr
  bool metrics_addr_given = false;
  double metrics_linger = 0;
  double csv_rotate_mb = 0;
  std::string json;             // --json FILE|- (empty: no JSON Lines output)
  double json_rotate_mb = 0;
  double snapshot_interval = 0;  // --snapshot-interval (0: off)
  bool quiet = false;
  bool verbose = false;                  // -v: libbpf's log (live)
  std::string labels;                    // --labels rule file
  std::string default_label = "BENIGN";  // --default-label
  bool loss_column = false;              // --loss-column
  std::vector<std::string> where_columns;  // --where-columns: node, iface, tunnel
  std::string node_name;                 // --node-name (empty: $NODE_NAME, else the host name)
  bool no_manifest = false;              // --no-manifest
  std::string digest_cache;              // --digest-cache FILE|off ("": the default)
  std::string tunnel = "outer";          // --tunnel outer|inner
  std::vector<uint16_t> vxlan_ports;     // --vxlan-port (added to 4789 and 8472)

  bool Where(const char* column) const;  // --where-columns lists `column`
};

// The options whose presence (not only value) matters after parsing. Owned by the CLI::App.
struct CliHandles {
  CLI::Option *csv = nullptr, *json = nullptr, *feature_set = nullptr, *label = nullptr;
  CLI::Option *ntl_max_packets = nullptr, *idle_timeout = nullptr, *active_timeout = nullptr;
  CLI::Option *activity_threshold = nullptr, *subflow_gap = nullptr, *snapshot_interval = nullptr;
  CLI::Option *max_flows = nullptr, *vxlan_port = nullptr, *metrics_addr = nullptr;
};

// Title of --help.
extern const char* const kCliDescription;

// Adds every option of CommonOptions and IPFIX to `app` (help footer and error format too).
// add_source_options(app, pcap) adds the live-capture options after the offline ones (null:
// this build has none).
void SetupCommandLine(CLI::App& app, CommonOptions& o, IpfixCliOptions& ipfix, CliHandles* h,
                      const std::function<void(CLI::App&, CLI::Option* pcap)>& add_source_options);

// What the command line gave for the options some profile rows ignore.
GivenOptions GivenOf(const CommonOptions& o, const CliHandles& h, bool live);

// Step 1 after parsing: the profile row. False with *error (one line, no "nfm-xdp: ") when the
// profile, feature set and options do not go together.
bool ResolveProfile(const CommonOptions& o, const CliHandles& h, bool live, Plan* plan, std::string* error);
// Step 2: every other check that needs no output or input opened yet (float format, tunnel
// ports, a source, labels, loss column), completing the plan.
bool CheckOptions(CommonOptions& o, const CliHandles& h, Plan* plan, std::string* error);

// --tunnel / --vxlan-port as the decoders take them.
TunnelConfig TunnelConfigOf(const CommonOptions& o);

}  // namespace nfm
