// SPDX-License-Identifier: MIT
// nfm_live_harness: a stand-in for nfm-xdp used by the integration tests while (or in case)
// the real CLI lacks a path. Same flags as the real tool for live (--iface ...) and offline
// (--pcap) runs, corrected profile only, CSV to --csv. Not installed.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "output/csv_exporter.hpp"
#include "output/csv_writer.hpp"
#include "engine/engine.hpp"
#include "profile/profile_table.hpp"
#include "live.hpp"
#include "source/offline.hpp"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nfm-xdp integration-test harness"};
  nfm::live::LiveOptions live;
  std::string pcap, csv = "-", metrics_addr;
  bool verbose = false, extra_thread = false;
  nfm::live::SetupLiveOptions(app, live);
  app.add_option("--pcap", pcap, "Replay a capture file instead of live capture");
  app.add_option("--csv", csv, "Output CSV");
  app.add_option("--metrics-addr", metrics_addr, "ignored");
  app.add_flag("-v,--verbose", verbose);
  // Starts an idle thread before RunLive, like a metrics server, to test that capabilities
  // are dropped in threads that already exist.
  app.add_flag("--extra-thread", extra_thread);
  CLI11_PARSE(app, argc, argv);
  live.verbose = verbose;
  if (pcap.empty() == live.ifaces.empty()) {
    std::fprintf(stderr, "harness: exactly one of --iface / --pcap\n");
    return 2;
  }

  struct sigaction sa = {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: the poll wakes with EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::string err;
  auto sink = nfm::CsvFileSink::Open(csv, 0, &err);
  if (!sink) {
    std::fprintf(stderr, "harness: %s\n", err.c_str());
    return 1;
  }
  nfm::EngineConfig cfg;
  nfm::ApplyProfileDefaults(cfg, false, false, false);
  nfm::FlowEngine engine(cfg);
  nfm::CsvExporter exporter(*sink, false, nfm::fmt::FloatSpec{});
  engine.AddExporter(exporter);
  int rc = 0;
  if (!pcap.empty()) {
    nfm::OfflineOptions oo;
    oo.path = pcap;
    const auto res = nfm::RunOffline(oo, engine, g_stop);
    if (!res.error.empty()) std::fprintf(stderr, "harness: %s\n", res.error.c_str());
    rc = res.exit_code;
  } else {
    nfm::live::LiveStatus status;
    std::thread idle;
    if (extra_thread) {
      idle = std::thread([] {
        while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      });
    }
    rc = nfm::live::RunLive(live, engine, g_stop, &status);
    if (idle.joinable()) idle.join();
  }
  if (!sink->Finish()) {
    std::fprintf(stderr, "harness: %s\n", sink->Error().c_str());
    if (rc == 0) rc = 1;
  }
  return rc;
}
