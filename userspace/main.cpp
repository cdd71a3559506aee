// SPDX-License-Identifier: MIT
// nfm-xdp: command line (cli/) -> plan (profile/profile_table.hpp) -> run (run/). The only file
// that knows whether this build has live capture. No packet logic here.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <string>

#include "cli/common_options.hpp"
#include "cli/ipfix_options.hpp"
#include "run/plan.hpp"
#include "run/run.hpp"
#include "version.hpp"
#ifdef NFM_HAVE_LIVE
#include "live/live.hpp"
#endif

int main(int argc, char** argv) {
  CLI::App app{nfm::kCliDescription, "nfm-xdp"};
  app.set_version_flag("--version", std::string("nfm-xdp ") + NFM_VERSION);
  nfm::CommonOptions o;
  nfm::IpfixCliOptions ipfix_opts;
  nfm::CliHandles handles;
  nfm::LiveSource live_source;
#ifdef NFM_HAVE_LIVE
  nfm::live::LiveOptions live;
  live_source.options = &live;
  live_source.run = {&nfm::live::RunLive<nfm::FlowEngine>, &nfm::live::RunLive<nfm::CicEngine>,
                     &nfm::live::RunLive<nfm::NtlEngine>};
  const auto add_live = [&live](CLI::App& a, CLI::Option* pcap) {
    nfm::live::SetupLiveOptions(a, live);
    CLI::Option* iface = a.get_option("--iface");
    pcap->excludes(iface);
    iface->excludes(pcap);
  };
#else
  const std::function<void(CLI::App&, CLI::Option*)> add_live;
#endif
  nfm::SetupCommandLine(app, o, ipfix_opts, &handles, add_live);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help/--version exit 0; every usage error exits 1 (CLI11's own codes are not stable).
    return app.exit(e) == 0 ? 0 : 1;
  }

  const bool live_mode = live_source.options != nullptr && !live_source.options->ifaces.empty();
  nfm::Plan plan;
  std::string err;
  if (!nfm::ResolveProfile(o, handles, live_mode, &plan, &err)) {
    std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
    return 1;
  }
  if (!ipfix_opts.elements.empty()) {  // --ipfix-elements md|xml: print and exit
    const nfm::FeatureSet& set = nfm::IpfixFeatureSet(plan.row->ipfix_set);
    std::fputs(nfm::IpfixElementsText(ipfix_opts.elements, set, ipfix_opts.pen).c_str(), stdout);
    return 0;
  }
  if (!nfm::CheckOptions(o, handles, &plan, &err)) {
    std::fprintf(stderr, "nfm-xdp: %s\n", err.c_str());
    return 1;
  }
  return nfm::Run(plan, o, ipfix_opts, handles, app, argc, argv, live_source);
}
