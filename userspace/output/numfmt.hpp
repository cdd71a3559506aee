// SPDX-License-Identifier: MIT
// Number rendering that reproduces Python's text forms bit for bit (spec §6.3):
// repr(float) (kind R), format(float, ".Nf"/".Ng") (kind X), str(Decimal) (kind D) and
// format(Decimal, ".Nf"/".Ng") (2022 active/idle mean/std). Locale-independent, no heap
// allocation beyond appending to the caller's string.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/decimal.hpp"

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

using nfm::Decimal;  // engine/decimal.hpp

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
char* WriteUintSlow(char* p, uint64_t v) noexcept;
// Most columns are small counts (0, 1, ...): one or two digits are stored inline.
inline char* WriteUint(char* p, uint64_t v) noexcept {
  if (v < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  if (v < 100) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
    return p + 2;
  }
  return WriteUintSlow(p, v);
}
char* WriteRepr(char* p, double x) noexcept;
// repr(RN(ns / 1e9)), the seconds of an integer nanosecond count, written from the integer:
// for 1e5 <= |ns| < 1e15 the decimal ns * 1e-9 has at most 15 significant digits, so (as
// any two such decimals round to different doubles) it is the one shortest string that
// rounds to that double, i.e. its repr; that range is also repr's fixed notation. Returns
// nullptr, writing nothing, outside that range.
char* WriteSecondsRepr(char* p, int64_t ns) noexcept;
// WriteRepr with the commonest values inline: +0.0 and positive integral values below 2^53
// ("0.0", "1.0", "1460.0", ...); everything else goes to WriteRepr.
inline char* WriteReprInline(char* p, double x) noexcept {
  if (x >= 0.0 && x < 9007199254740992.0) {  // false for NaN; true for -0.0 (filtered below)
    const uint64_t i = static_cast<uint64_t>(x);
    if (static_cast<double>(i) == x && (i != 0 || !std::signbit(x))) {
      p = WriteUint(p, i);
      p[0] = '.';
      p[1] = '0';
      return p + 2;
    }
  }
  return WriteRepr(p, x);
}
char* WriteFloat(char* p, double x, const FloatSpec& spec) noexcept;
char* WriteDateTime(char* p, int64_t ts_ns, bool local) noexcept;

}  // namespace nfm::fmt
