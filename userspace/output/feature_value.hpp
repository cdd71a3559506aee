// SPDX-License-Identifier: MIT
// STAND-IN (h-ipfix) until the seam lands on main: the value the CSV prints for a feature, as a
// number. The seam's own output/feature_value.hpp replaces this file at merge.
#pragma once

#include <cstdint>
#include <span>

#include "engine/flow_view.hpp"
#include "output/numfmt.hpp"

namespace nfm {

double FeatureAsDouble(const FeatureValue& v, std::span<const Decimal> decimals, const fmt::FloatSpec& spec);
uint64_t FeatureAsUint(const FeatureValue& v);

}  // namespace nfm
