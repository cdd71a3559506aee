// SPDX-License-Identifier: MIT
// The run-wide facts of the output manifests (output/manifest.hpp): options, the effective
// settings of the plan's row (only those the row uses, with the values its engine uses),
// labels, loss, inputs and engine counts; the live part; the manifests of IPFIX files.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "output/dataset_columns.hpp"
#include "output/manifest.hpp"
#include "run/run_engine.hpp"
#include "source/capture_set.hpp"

namespace nfm {

// `stats` gives the run's engine totals when a file closes.
void SetupManifest(const RunContext& c, Manifest& manifest, std::vector<InputProgress>& inputs,
                   std::function<EngineStats()> stats);

// The effective settings of a run: "name -> value text", in manifest order.
std::vector<std::pair<std::string, std::string>> EffectiveSettings(const CommonOptions& o, const Plan& plan);

// The live part of a manifest: interfaces, XDP mode, rings and every loss counter (and the
// drainer's loss timeline with --loss-column), read from the LiveStatus the drain loop publishes.
std::function<bool(ManifestLive*)> LiveManifestFacts(const RunContext& c, LossTimeline* loss_timeline);

// Manifests of the IPFIX file: destinations that are regular files (index-aligned with
// *c.ipfix; null for the others): the run facts of the CSV's manifest, the record's elements as
// columns, no label or loss column (the records carry neither).
std::vector<std::unique_ptr<Manifest>> MakeIpfixManifests(const RunContext& c, std::vector<InputProgress>& inputs,
                                                          const std::function<EngineStats()>& stats);

}  // namespace nfm
