// SPDX-License-Identifier: MIT
// Number rendering that reproduces Python's text forms bit for bit (spec §6.3):
// repr(float) (kind R), format(float, ".Nf"/".Ng") (kind X), str(Decimal) (kind D) and
// format(Decimal, ".Nf"/".Ng") (2022 active/idle mean/std). Locale-independent, no heap
// allocation beyond appending to the caller's string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nfm::fmt {

// A parsed Python-style float format spec: "" / "r" (= repr), ".Nf", ".Ng" (0 <= N <= 99).
struct FloatSpec {
  enum class Kind : uint8_t { kRepr, kFixed, kGeneral };
  Kind kind = Kind::kRepr;
  int precision = 0;
  static std::optional<FloatSpec> Parse(std::string_view spec);
};

// repr(x): shortest round-trip digits; fixed notation when -4 <= exp10 < 16, else
// d.ddde+XX; "nan", "inf", "-inf"; "-0.0".
void AppendRepr(std::string& out, double x);

// format(x, spec): .Nf exact (ties-to-even from the exact binary value, like glibc %.Nf);
// .Ng like C %.Ng (Python rules: "nan" never "-nan", "inf"); Repr -> AppendRepr.
void AppendFloat(std::string& out, double x, const FloatSpec& spec);

// An exact decimal value  (-1)^neg * coeff * 10^exp, as Python's decimal.Decimal holds it
// (the exponent is significant: Decimal("1.50") != Decimal("1.5") in text).
struct Decimal {
  bool neg = false;
  unsigned __int128 coeff = 0;
  int exp = 0;
};

// str(Decimal): plain notation when exp <= 0 and adjusted exponent >= -6, otherwise
// scientific "d.dddE+n" (e.g. "0E-9", "5.00E-7").
void AppendDecimalStr(std::string& out, const Decimal& d);

// format(Decimal, spec) with Python's decimal rules (ROUND_HALF_EVEN), e.g. .17g of
// Decimal("150") -> "150", of Decimal("-1.6") -> "-1.6", of Decimal("0.0") -> "0.0";
// .64f pads/rounds to exactly 64 decimals. Repr spec -> AppendDecimalStr.
void AppendDecimalFormatted(std::string& out, const Decimal& d, const FloatSpec& spec);

// Python datetime text "YYYY-MM-DD HH:MM:SS[.ffffff]" (fraction omitted when the
// microsecond field is 0) for `ts_ns` since the epoch, as datetime.fromtimestamp does it:
// t = double(ts) (correctly rounded ts_ns / 1e9), then the fraction modf(t) * 1e6 (a double
// product) is rounded to an integer, ties to even. If `local` is true use the process's
// local time zone (TZ, via localtime_r), else UTC. Thread-safe; reads TZ as tzset() left it.
void AppendDateTime(std::string& out, int64_t ts_ns, bool local);

// Same for a timestamp already held as a double in seconds (Python's float argument):
// frac = modf(ts); us = round_half_even(frac * 1e6) with the product done in double, as
// CPython's _PyTime_DoubleToDenominator does. Covers years 1..9999 (int64 ns stops at 2262).
// Where Python would raise: years >= 10000 print with 5+ digits, |ts| > 1e15 and NaN/inf
// print as repr(ts).
void AppendDateTimeSeconds(std::string& out, double ts, bool local);

// Integers.
void AppendUint(std::string& out, uint64_t v);
void AppendInt(std::string& out, int64_t v);

// The same renderings written at `p` (the row renderer's fast path: no std::string
// bookkeeping per character). Each returns the end of what it wrote. The caller provides
// room: kMaxFloatChars for a float (any spec), kMaxDateTimeChars for a date, 20 for an integer.
inline constexpr int kMaxFloatChars = 448;
inline constexpr int kMaxDateTimeChars = 64;
char* WriteUint(char* p, uint64_t v) noexcept;
char* WriteRepr(char* p, double x) noexcept;
char* WriteFloat(char* p, double x, const FloatSpec& spec) noexcept;
char* WriteDateTime(char* p, int64_t ts_ns, bool local) noexcept;

}  // namespace nfm::fmt
