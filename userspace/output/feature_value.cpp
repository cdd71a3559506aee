// SPDX-License-Identifier: MIT
// STAND-IN (h-ipfix) until the seam lands: renders the CSV text and parses it back (slow, exact).
#include "output/feature_value.hpp"

#include <cstdlib>
#include <string>

namespace nfm {

double FeatureAsDouble(const FeatureValue& v, std::span<const Decimal> decimals, const fmt::FloatSpec& spec) {
  std::string s;
  switch (v.kind) {
    case FeatureValue::Kind::kUint: return static_cast<double>(v.u);
    case FeatureValue::Kind::kFloat: fmt::AppendFloat(s, v.f, spec); break;
    case FeatureValue::Kind::kRepr: fmt::AppendRepr(s, v.f); break;
    case FeatureValue::Kind::kSecondsF:
    case FeatureValue::Kind::kSecondsR: {
      const double x = std::strtod((std::to_string(v.ns) + "e-9").c_str(), nullptr);
      if (v.kind == FeatureValue::Kind::kSecondsR) return x;
      fmt::AppendFloat(s, x, spec);
      break;
    }
    case FeatureValue::Kind::kDecimal: {
      Decimal d;
      d.neg = v.ns < 0;
      d.coeff = static_cast<unsigned __int128>(v.ns < 0 ? -v.ns : v.ns);
      d.exp = -9;
      while (d.exp < v.exp && d.coeff % 10 == 0) {
        d.coeff /= 10;
        ++d.exp;
      }
      fmt::AppendDecimalStr(s, d);
      break;
    }
    case FeatureValue::Kind::kDecimalFloat:
      if (v.aux >= decimals.size()) return 0;
      fmt::AppendDecimalFormatted(s, decimals[v.aux], spec);
      break;
  }
  return std::strtod(s.c_str(), nullptr);
}

uint64_t FeatureAsUint(const FeatureValue& v) {
  if (v.kind == FeatureValue::Kind::kUint) return v.u;
  const double d = FeatureAsDouble(v, {}, fmt::FloatSpec{});
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

}  // namespace nfm
