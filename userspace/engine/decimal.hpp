// SPDX-License-Identifier: MIT
// Decimal: an exact decimal value as Python's decimal.Decimal holds it. The engine produces
// them (2022 exact arithmetic); output/numfmt renders them.
#pragma once

namespace nfm {

// (-1)^neg * coeff * 10^exp (the exponent is significant: Decimal("1.50") != Decimal("1.5")
// in text).
struct Decimal {
  bool neg = false;
  unsigned __int128 coeff = 0;
  int exp = 0;
};

}  // namespace nfm
