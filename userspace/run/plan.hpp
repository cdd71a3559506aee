// SPDX-License-Identifier: MIT
// Plan: what the command line resolved to (cli/common_options.hpp MakePlan), read by the run.
// Every profile decision of the run comes from `row` (profile/profile_table.hpp).
#pragma once

#include <memory>
#include <string>

#include "engine/engine.hpp"
#include "label/labels.hpp"
#include "output/numfmt.hpp"
#include "profile/profile_table.hpp"

namespace nfm {

struct Plan {
  const RunProfile* row = nullptr;
  GivenOptions given;
  EngineConfig cfg;               // the engine's configuration (row defaults, given options)
  fmt::FloatSpec float_spec;      // --float-format, else the row's default
  std::string float_text;         // how the CSV writes floats (manifest)
  bool live = false;              // --iface (else --pcap)
  std::unique_ptr<LabelRules> labels;  // --labels, loaded (null: none)
};

}  // namespace nfm
