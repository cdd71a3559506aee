// SPDX-License-Identifier: MIT
// RenderingExporter: an exporter whose costly per-flow work is a pure function of the FlowView
// (rendering a CSV row) can let a sharded runner do that work on its worker threads: each
// worker gets its own FlowRenderer, renders every flow it finishes, and the output thread
// calls ExportRendered with the bytes, in the merged order (it only copies them). Any exporter
// still works through Export; this is an optional speed-up, not a second contract.
#pragma once

#include <memory>
#include <string_view>

#include "engine/flow_view.hpp"

namespace nfm {

// Renders flows on one thread (not thread-safe: one per thread).
class FlowRenderer {
 public:
  virtual ~FlowRenderer() = default;
  // The bytes of `flow`; valid until the next call.
  virtual std::string_view Render(const FlowView& flow) = 0;
};

class RenderingExporter : public FlowExporter {
 public:
  // A renderer for another thread (after Begin). Its Render(flow) must be exactly what
  // Export(flow) would have rendered.
  virtual std::unique_ptr<FlowRenderer> MakeRenderer() const = 0;
  // Export(flow), with `rendered` = a renderer's Render(flow). It must not read flow.features
  // or flow.decimals (a runner may leave them empty): identity, counters and times only.
  virtual void ExportRendered(const FlowView& flow, std::string_view rendered) = 0;
};

}  // namespace nfm
