// SPDX-License-Identifier: MIT
// A FeatureValue as a number of its column's type (IPFIX, labels, tests): exactly the value
// the CSV prints, so a float column read back from a CSV written with a round-tripping format
// (.17g, repr) equals FeatureAsDouble bit for bit.
#pragma once

#include <cstdint>
#include <span>

#include "engine/flow_view.hpp"
#include "output/numfmt.hpp"

namespace nfm {

// The value as a double. kDecimal / kDecimalFloat (nfm2022 exact decimals) are rendered in
// `spec` (the CSV's float format; kDecimal ignores it, as the CSV does) and parsed back.
double FeatureAsDouble(const FeatureValue& v, std::span<const Decimal> decimals, const fmt::FloatSpec& spec);
// The value of an unsigned column (kUint); other kinds are truncated toward zero.
uint64_t FeatureAsUint(const FeatureValue& v);

}  // namespace nfm
