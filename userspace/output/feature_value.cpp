// SPDX-License-Identifier: MIT
// FeatureAsDouble / FeatureAsUint: see feature_value.hpp.
#include "output/feature_value.hpp"

#include <cstdlib>
#include <limits>
#include <string>

#include "engine/exact.hpp"

namespace nfm {

double FeatureAsDouble(const FeatureValue& v, std::span<const Decimal> decimals, const fmt::FloatSpec& spec) {
  using K = FeatureValue::Kind;
  switch (v.kind) {
    case K::kUint: return static_cast<double>(v.u);
    case K::kFloat:
    case K::kRepr:
    case K::kJava: return v.f;
    case K::kInt: return static_cast<double>(v.ns);
    case K::kSecondsF:
    case K::kSecondsR: return exact::NsToSeconds(v.ns);
    case K::kDecimal:
    case K::kDecimalFloat: {
      // Rare (nfm2022 only): the text the CSV prints, parsed back.
      std::string text;
      if (v.kind == K::kDecimalFloat) {
        if (v.aux >= decimals.size()) return 0.0;
        fmt::AppendDecimalFormatted(text, decimals[v.aux], spec);
      } else {
        Decimal d;
        d.neg = v.ns < 0;
        unsigned __int128 mag = v.ns < 0 ? static_cast<unsigned __int128>(-static_cast<__int128>(v.ns))
                                         : static_cast<unsigned __int128>(v.ns);
        for (int i = 0; i < 9 + v.exp; ++i) mag /= 10;
        d.coeff = mag;
        d.exp = v.exp;
        fmt::AppendDecimalStr(text, d);
      }
      return std::strtod(text.c_str(), nullptr);
    }
    case K::kText:   // ntl "not a complete handshake": no number
    case K::kEmpty:  // ntl: the reference's feature raised
      return std::numeric_limits<double>::quiet_NaN();
  }
  return 0.0;
}

uint64_t FeatureAsUint(const FeatureValue& v) {
  if (v.kind == FeatureValue::Kind::kUint) return v.u;
  const double d = FeatureAsDouble(v, {}, fmt::FloatSpec{});
  return d > 0 && d < 1.8e19 ? static_cast<uint64_t>(d) : 0;
}

}  // namespace nfm
