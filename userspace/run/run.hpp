// SPDX-License-Identifier: MIT
// Run: the plan's outputs are opened (CSV, JSON Lines, metrics server, IPFIX destinations; an
// unusable one fails before any input is read), signals are caught, and the row's engine runs
// through RunEngine. Returns the process exit status.
#pragma once

#include "cli/common_options.hpp"
#include "cli/ipfix_options.hpp"
#include "run/plan.hpp"
#include "run/run_engine.hpp"

namespace CLI {
class App;
}

namespace nfm {

int Run(const Plan& plan, const CommonOptions& o, IpfixCliOptions& ipfix_opts, const CliHandles& h,
        const CLI::App& app, int argc, char** argv, const LiveSource& live);

}  // namespace nfm
