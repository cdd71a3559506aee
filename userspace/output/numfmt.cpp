// SPDX-License-Identifier: MIT
// Python-compatible number text (spec §6.3): repr(float), format(float, ".Nf"/".Ng"),
// str(Decimal), format(Decimal, ".Nf"/".Ng"), datetime text and integers. It only renders
// values; the arithmetic producing them lives in exact.cpp. Locale independent (built on
// std::to_chars), no heap use except appending to the caller's string.
#include "output/numfmt.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

#include "engine/exact.hpp"

namespace nfm::fmt {
namespace {

using u128 = unsigned __int128;

// "nan" (Python never prints "-nan"), "inf" or "-inf" at p, returning the end; nullptr when
// x is finite.
char* WriteNonFinite(char* p, double x) noexcept {
  if (std::isnan(x)) return std::copy_n("nan", 3, p);
  if (std::isinf(x)) return x < 0 ? std::copy_n("-inf", 4, p) : std::copy_n("inf", 3, p);
  return nullptr;
}

// Coefficient digits of a Decimal: d[0..len) followed by `zeros` virtual '0' digits (so a
// rescale to 64 places never materialises the padding).
struct Digits {
  char d[48];
  int len = 0;
  long zeros = 0;
  long size() const { return len + zeros; }
  char at(long i) const { return i < len ? d[i] : '0'; }
};

// Appends digits [from, to) of `g`, clamped to the digit string.
void AppendRange(std::string& out, const Digits& g, long from, long to) {
  if (from < 0) from = 0;
  if (to > g.size()) to = g.size();
  for (long i = from; i < to && i < g.len; ++i) out += g.d[i];
  long z0 = from > g.len ? from : g.len;
  if (to > z0) out.append(static_cast<size_t>(to - z0), '0');
}

Digits ToDigits(u128 v) {
  Digits g;
  char tmp[48];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  for (int i = 0; i < n; ++i) g.d[i] = tmp[n - 1 - i];
  g.len = n;
  return g;
}

// Working form of a Decimal during formatting: sign, digit string, exponent.
struct Work {
  bool neg;
  Digits g;
  long exp;
  bool IsZero() const { return g.len == 1 && g.d[0] == '0' && g.zeros == 0; }
  long Adjusted() const { return exp + g.size() - 1; }
};

// Decimal._rescale(new_exp, ROUND_HALF_EVEN).
Work Rescale(const Work& w, long new_exp) {
  Work r = w;
  if (w.IsZero()) {
    r.exp = new_exp;
    return r;
  }
  if (w.exp >= new_exp) {  // pad with zeros
    r.g.zeros += w.exp - new_exp;
    r.exp = new_exp;
    return r;
  }
  // Too many digits: keep `keep` leading digits, round half even. Padding is never
  // present here (a padded value has w.exp <= new_exp of any later rescale we do).
  Digits src = w.g;
  long keep = src.size() + w.exp - new_exp;
  if (keep < 0) {  // entirely below the last kept place: behaves like 10^(new_exp-1)
    src = Digits();
    src.d[0] = '1';
    src.len = 1;
    keep = 0;
  }
  // Rounding decision from digit src[keep] and the digits after it.
  char first = src.at(keep);
  bool rest_zero = true;
  for (long i = keep + 1; i < src.len; ++i) {
    if (src.d[i] != '0') {
      rest_zero = false;
      break;
    }
  }
  bool up;
  if (first == '5' && rest_zero) {
    up = keep > 0 && ((src.at(keep - 1) - '0') & 1);  // exact half: to even
  } else {
    up = first >= '5';
  }
  Digits out;
  if (keep == 0) {
    out.d[0] = up ? '1' : '0';
    out.len = 1;
  } else {
    out.len = static_cast<int>(keep);
    for (int i = 0; i < out.len; ++i) out.d[i] = src.d[i];
    if (up) {
      int i = out.len - 1;
      while (i >= 0 && out.d[i] == '9') out.d[i--] = '0';
      if (i >= 0) {
        ++out.d[i];
      } else {  // 999 -> 1000
        for (int j = out.len; j > 0; --j) out.d[j] = out.d[j - 1];
        out.d[0] = '1';
        ++out.len;
      }
    }
  }
  r.g = out;
  r.exp = new_exp;
  return r;
}

// Decimal._round(places): round to `places` significant digits.
Work RoundSignificant(const Work& w, int places) {
  if (w.IsZero()) return w;
  Work r = Rescale(w, w.Adjusted() + 1 - places);
  if (r.Adjusted() != w.Adjusted()) r = Rescale(r, r.Adjusted() + 1 - places);
  return r;
}

Work FromDecimal(const Decimal& d) { return Work{d.neg, ToDigits(d.coeff), d.exp}; }

// Layout shared by str() and format(): intpart . fracpart [e exp].
void AppendLayout(std::string& out, const Work& w, long dotplace, char echar) {
  long size = w.g.size();
  long leftdigits = w.exp + size;
  if (w.neg) out += '-';
  if (dotplace <= 0) {
    out += '0';
    out += '.';
    out.append(static_cast<size_t>(-dotplace), '0');
    AppendRange(out, w.g, 0, size);
  } else if (dotplace >= size) {
    AppendRange(out, w.g, 0, size);
    out.append(static_cast<size_t>(dotplace - size), '0');
  } else {
    AppendRange(out, w.g, 0, dotplace);
    out += '.';
    AppendRange(out, w.g, dotplace, size);
  }
  if (leftdigits != dotplace) {
    out += echar;
    long e = leftdigits - dotplace;
    out += e < 0 ? '-' : '+';
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), e < 0 ? -e : e);
    out.append(buf, res.ptr);
  }
}

}  // namespace

std::optional<FloatSpec> FloatSpec::Parse(std::string_view spec) {
  if (spec.empty() || spec == "r") return FloatSpec{};
  if (spec.size() < 3 || spec.size() > 4 || spec[0] != '.') return std::nullopt;
  char type = spec.back();
  std::string_view num = spec.substr(1, spec.size() - 2);
  int p = 0;
  for (char c : num) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + (c - '0');
  }
  FloatSpec fs;
  fs.precision = p;
  if (type == 'f') {
    fs.kind = Kind::kFixed;
  } else if (type == 'g') {
    fs.kind = Kind::kGeneral;
  } else {
    return std::nullopt;
  }
  return fs;
}

char* WriteRepr(char* p, double x) noexcept {
  // Integral values below 1e16 (counts, rates of whole numbers, 0.0): repr is the integer
  // and ".0" (Python switches to exponent notation at 1e16). Many columns take this path.
  if (x == std::trunc(x) && std::fabs(x) < 1e16) {
    if (std::signbit(x)) *p++ = '-';
    p = WriteUint(p, static_cast<uint64_t>(std::fabs(x)));
    *p++ = '.';
    *p++ = '0';
    return p;
  }
  if (char* e = WriteNonFinite(p, x)) return e;
  // repr's fixed range, non-integral here: std::to_chars' shortest fixed form is the same
  // shortest round-trip digits in positional notation, and always has a '.' (the digits of
  // any double >= 1e-4 have a decimal exponent >= -4, of any double < 1e16 one <= 15).
  const double ax = std::fabs(x);
  if (ax >= 1e-4 && ax < 1e16) return std::to_chars(p, p + kMaxFloatChars, x, std::chars_format::fixed).ptr;
  // Shortest round-trip digits and exponent: "d.ddde+XX" / "de-XX".
  char buf[40];
  auto res = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  const char* q = buf;
  if (*q == '-') {
    *p++ = '-';
    ++q;
  }
  char digits[24];
  int nd = 0;
  for (; q < res.ptr && *q != 'e'; ++q) {
    if (*q != '.') digits[nd++] = *q;
  }
  int exp10 = 0;
  std::from_chars(q + 1 + (q[1] == '+' ? 1 : 0), res.ptr, exp10);
  if (exp10 >= -4 && exp10 < 16) {
    if (exp10 < 0) {
      *p++ = '0';
      *p++ = '.';
      p = std::fill_n(p, -exp10 - 1, '0');
      p = std::copy_n(digits, nd, p);
    } else if (nd <= exp10 + 1) {
      p = std::copy_n(digits, nd, p);
      p = std::fill_n(p, exp10 + 1 - nd, '0');
      *p++ = '.';
      *p++ = '0';
    } else {
      p = std::copy_n(digits, exp10 + 1, p);
      *p++ = '.';
      p = std::copy_n(digits + exp10 + 1, nd - exp10 - 1, p);
    }
  } else {
    *p++ = digits[0];
    if (nd > 1) {
      *p++ = '.';
      p = std::copy_n(digits + 1, nd - 1, p);
    }
    *p++ = 'e';
    *p++ = exp10 < 0 ? '-' : '+';
    const unsigned v = exp10 < 0 ? -static_cast<unsigned>(exp10) : static_cast<unsigned>(exp10);
    if (v < 10) *p++ = '0';
    p = WriteUint(p, v);
  }
  return p;
}

namespace {
// Exactly `width` decimal digits of v (zero-padded; v < 10^width), two at a time.
void WriteFixedDigits(char* p, uint32_t v, int width) noexcept {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  int i = width;
  for (; i >= 2; i -= 2, v /= 100) std::memcpy(p + i - 2, kPairs + 2 * (v % 100), 2);
  if (i == 1) p[0] = static_cast<char>('0' + v % 10);
}
}  // namespace

char* WriteSecondsRepr(char* p, int64_t ns) noexcept {
  uint64_t v = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  if (v < 100000 || v >= 1000000000000000) return nullptr;
  if (ns < 0) *p++ = '-';
  p = WriteUint(p, v / 1000000000);
  *p++ = '.';
  uint32_t frac = static_cast<uint32_t>(v % 1000000000);
  if (frac == 0) {
    *p++ = '0';
    return p;
  }
  // All nine digits, then drop the trailing zeros.
  WriteFixedDigits(p, frac, 9);
  int digits = 9;
  while (p[digits - 1] == '0') --digits;
  return p + digits;
}

void AppendRepr(std::string& out, double x) {
  char buf[kMaxFloatChars];
  out.append(buf, WriteRepr(buf, x));
}

char* WriteFloat(char* p, double x, const FloatSpec& spec) noexcept {
  if (spec.kind == FloatSpec::Kind::kRepr) return WriteRepr(p, x);
  if (char* e = WriteNonFinite(p, x)) return e;
  // to_chars with a precision is exact and behaves like printf "%.*f" / "%.*g" in the C
  // locale (ties to even on the exact binary value). Largest output: 309 integer digits +
  // 99 decimals, below kMaxFloatChars.
  std::to_chars_result res;
  if (spec.kind == FloatSpec::Kind::kFixed) {
    res = std::to_chars(p, p + kMaxFloatChars, x, std::chars_format::fixed, spec.precision);
  } else {
    res = std::to_chars(p, p + kMaxFloatChars, x, std::chars_format::general,
                        spec.precision == 0 ? 1 : spec.precision);
  }
  return res.ec == std::errc() ? res.ptr : p;
}

void AppendFloat(std::string& out, double x, const FloatSpec& spec) {
  char buf[kMaxFloatChars];
  out.append(buf, WriteFloat(buf, x, spec));
}

void AppendDecimalStr(std::string& out, const Decimal& d) {
  Work w = FromDecimal(d);
  long leftdigits = w.exp + w.g.size();
  long dotplace = (w.exp <= 0 && leftdigits > -6) ? leftdigits : 1;
  AppendLayout(out, w, dotplace, 'E');
}

void AppendDecimalFormatted(std::string& out, const Decimal& d, const FloatSpec& spec) {
  if (spec.kind == FloatSpec::Kind::kRepr) {
    AppendDecimalStr(out, d);
    return;
  }
  Work w = FromDecimal(d);
  long dotplace;
  if (spec.kind == FloatSpec::Kind::kFixed) {
    w = Rescale(w, -spec.precision);
    if (w.IsZero() && w.exp > 0) w = Rescale(w, 0);
    dotplace = w.exp + w.g.size();
  } else {
    int prec = spec.precision == 0 ? 1 : spec.precision;
    if (w.g.size() > prec) w = RoundSignificant(w, prec);
    long leftdigits = w.exp + w.g.size();
    dotplace = (w.exp <= 0 && leftdigits > -6) ? leftdigits : 1;
  }
  AppendLayout(out, w, dotplace, 'e');
}

namespace {
// "YYYY-MM-DD HH:MM:SS" of a whole second (years outside 0..9999 print as they are).
struct SecondText {
  int64_t secs = 0;
  int len = 0;  // 0: empty
  char text[48];
};
void FormatSecond(SecondText& st, int64_t secs, bool local) {
  int year, mon, day, hour, min, sec;
  std::tm tm{};
  time_t tt = static_cast<time_t>(secs);
  if (local && localtime_r(&tt, &tm) != nullptr) {
    year = tm.tm_year + 1900;
    mon = tm.tm_mon + 1;
    day = tm.tm_mday;
    hour = tm.tm_hour;
    min = tm.tm_min;
    sec = tm.tm_sec;
  } else {
    // Proleptic Gregorian civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    hour = static_cast<int>(sod / 3600);
    min = static_cast<int>(sod % 3600 / 60);
    sec = static_cast<int>(sod % 60);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    mon = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(y + (mon <= 2));
  }
  char buf[64];
  char* p = buf;
  auto put = [&p](long v, int width) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof(tmp), v < 0 ? -v : v);
    if (v < 0) *p++ = '-';
    for (int n = static_cast<int>(r.ptr - tmp); n < width; ++n) *p++ = '0';
    for (char* c = tmp; c < r.ptr; ++c) *p++ = *c;
  };
  put(year, 4);
  *p++ = '-';
  put(mon, 2);
  *p++ = '-';
  put(day, 2);
  *p++ = ' ';
  put(hour, 2);
  *p++ = ':';
  put(min, 2);
  *p++ = ':';
  put(sec, 2);
  st.secs = secs;
  st.len = static_cast<int>(std::copy(buf, p, st.text) - st.text);
}

char* WriteDateTimeSeconds(char* out, double t, bool local) noexcept {
  // Python: float timestamp -> modf -> frac * 1e6 (a double product) -> round half even
  // (_PyTime_DoubleToDenominator), carrying into the seconds.
  if (!std::isfinite(t) || std::fabs(t) > 1e15) {  // ~ year 31 million: not a date
    return WriteRepr(out, t);
  }
  double intpart;
  double frac = std::modf(t, &intpart);
  double us = std::nearbyint(frac * 1e6);  // default rounding mode: ties to even
  if (us >= 1e6) {
    us -= 1e6;
    intpart += 1.0;
  } else if (us < 0) {
    us += 1e6;
    intpart -= 1.0;
  }
  const int64_t secs = static_cast<int64_t>(intpart);
  const int micro = static_cast<int>(us);
  // Rows come in time order, so the whole-second text is usually the previous one's: UTC
  // texts are cached per thread (local ones are not: TZ may change between calls).
  thread_local SecondText utc;
  SecondText local_text;
  SecondText& st = local ? local_text : utc;
  if (local || st.len == 0 || st.secs != secs) FormatSecond(st, secs, local);
  out = std::copy_n(st.text, st.len, out);
  if (micro != 0) {
    *out++ = '.';
    WriteFixedDigits(out, static_cast<uint32_t>(micro), 6);
    out += 6;
  }
  return out;
}
}  // namespace

char* WriteDateTime(char* p, int64_t ts_ns, bool local) noexcept {
  // float(ts): the correctly rounded quotient ts_ns / 1e9.
  return WriteDateTimeSeconds(p, exact::RatioToDouble(ts_ns, 1000000000u), local);
}

void AppendDateTime(std::string& out, int64_t ts_ns, bool local) {
  char buf[kMaxFloatChars];
  out.append(buf, WriteDateTime(buf, ts_ns, local));
}

void AppendDateTimeSeconds(std::string& out, double t, bool local) {
  char buf[kMaxFloatChars];
  out.append(buf, WriteDateTimeSeconds(buf, t, local));
}

char* WriteUintSlow(char* p, uint64_t v) noexcept { return std::to_chars(p, p + 20, v).ptr; }

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  out.append(buf, WriteUint(buf, v));
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

}  // namespace nfm::fmt
