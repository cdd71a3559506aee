// SPDX-License-Identifier: MIT
// CsvRowRenderer: identity text and the feature values of a FlowView as one CSV row, with the
// fast paths of the former in-engine renderer (raw stores into a fixed buffer, integral and
// zero floats inline, seconds written from integer nanoseconds). Spec §6.
#include "output/csv_row.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <iterator>
#include <cassert>
#include <charconv>
#include <cstring>

#include "engine/exact.hpp"
#include "output/java_double.hpp"
#include "engine/nfm_features.hpp"

namespace nfm {

std::array<SeedColumn, kNumSeedColumns> SeedLayout() {
  std::array<SeedColumn, kNumSeedColumns> out{};
  int k = 0;
  for (int i = 0; i < kNumColumns; ++i) {
    std::string_view name = kColumnNames[i];
    if (name == "fwd_payload_bytes_variance" || (name.starts_with("bwd_") && name.ends_with("_header_bytes")))
      continue;
    int source = i;
    if (name == "payload_bytes_variance") source = ColumnIndex("fwd_payload_bytes_variance");
    if (name.starts_with("fwd_") && name.ends_with("_header_bytes")) {
      std::string bwd = "bwd_" + std::string(name.substr(4));
      source = ColumnIndex(bwd);
    }
    out[k++] = SeedColumn{name, source};
  }
  return out;
}

namespace {

Decimal DecimalOfNs(int64_t ns, int exp) noexcept {
  Decimal d;
  d.neg = ns < 0;
  unsigned __int128 mag = ns < 0 ? static_cast<unsigned __int128>(-static_cast<__int128>(ns))
                                 : static_cast<unsigned __int128>(ns);
  if (exp < -9) exp = -9;
  int div = 9 + exp;
  for (int i = 0; i < div; ++i) mag /= 10;
  d.coeff = mag;
  d.exp = exp;
  return d;
}

bool IsV4Mapped(const uint8_t* a) noexcept {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, 12) == 0;
}

// Writes the address text at p (room: INET6_ADDRSTRLEN); returns its end.
char* WriteAddr(char* p, const uint8_t* a, uint8_t ip_version) noexcept {
  if (ip_version == 4 || (ip_version != 6 && IsV4Mapped(a))) {
    // Dotted quad by hand: glibc's inet_ntop formats IPv4 through sprintf.
    for (int i = 12; i < 16; ++i) {
      unsigned v = a[i];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
      if (i < 15) *p++ = '.';
    }
    return p;
  }
  inet_ntop(AF_INET6, a, p, INET6_ADDRSTRLEN);
  return p + std::strlen(p);
}

const char* ProtoName(uint8_t proto, Profile profile) noexcept {
  if (profile != Profile::kCorrected) return proto == 6 ? "TCP" : "UDP";
  switch (proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    case 58: return "ICMPv6";
    default: return nullptr;
  }
}

}  // namespace

CsvRowRenderer::CsvRowRenderer(Profile profile, bool local_tz, const fmt::FloatSpec& spec, const FeatureSet* set,
                               std::string label)
    : profile_(profile), local_tz_(local_tz), set_(set), label_(std::move(label)), spec_(spec) {
  ntl_set_ = set && set->IsNtl();
  spec_is_repr_ = spec_.kind == fmt::FloatSpec::Kind::kRepr;
  zero_len_ = static_cast<size_t>(fmt::WriteFloat(zero_text_, 0.0, spec_) - zero_text_);
  if (label_.size() > kMaxFieldChars - 4) label_.resize(kMaxFieldChars - 4);
  const size_t columns = 7 + (set ? set->columns.size() : kNumNfmFeatures) + 1;
  rowbuf_.reset(new char[std::max(kRowBufBytes, (columns + 1) * kMaxFieldChars)]);
  row_.reserve(4096);
  if (profile_ == Profile::kNfm2022Seed) seed_ = SeedLayout();
}

std::string CsvRowRenderer::HeaderLine() const {
  std::string h;
  if (ntl_set_) {
    h = "flow_id,timestamp,src_ip,src_port,dst_ip,dst_port,protocol";
    for (const FeatureInfo& c : set_->columns) {
      h += ',';
      h += c.name;
    }
    h += ",label";
  } else if (profile_ == Profile::kNfm2022Seed) {
    for (const SeedColumn& s : SeedLayout()) {
      if (!h.empty()) h += ',';
      h += s.name;
    }
  } else {
    for (std::string_view n : kColumnNames) {
      if (!h.empty()) h += ',';
      h += n;
    }
  }
  h += "\r\n";
  return h;
}

// One value and its comma. The default spec (repr) takes the inline path for 0.0 and integral
// values; a zero in another spec is the text rendered once at construction (e.g. 66
// characters of .64f).
inline char* CsvRowRenderer::WriteValue(char* p, const FeatureValue& v, std::span<const Decimal> decimals) noexcept {
  using K = FeatureValue::Kind;
  auto float_x = [&](char* p, double d) __attribute__((always_inline)) {
    if (spec_is_repr_) return fmt::WriteReprInline(p, d);
    if (std::bit_cast<uint64_t>(d) == 0) {
      std::memcpy(p, zero_text_, zero_len_);
      return p + zero_len_;
    }
    return fmt::WriteFloat(p, d, spec_);
  };
  auto put_text = [&](char* p, const std::string& t) __attribute__((always_inline)) {
    const size_t n = std::min(t.size(), kMaxFieldChars - 1);
    std::memcpy(p, t.data(), n);
    return p + n;
  };
  switch (v.kind) {
    case K::kUint:
      p = fmt::WriteUint(p, v.u);
      break;
    case K::kFloat:
      p = float_x(p, v.f);
      break;
    case K::kRepr:
      p = fmt::WriteReprInline(p, v.f);
      break;
    case K::kSecondsF:
    case K::kSecondsR: {
      // Where the decimal text of the integer ns is known to be the repr, write it directly.
      char* e = spec_is_repr_ ? fmt::WriteSecondsRepr(p, v.ns) : nullptr;
      if (e) {
        p = e;
      } else {
        const double d = exact::NsToSeconds(v.ns);
        p = v.kind == K::kSecondsF ? float_x(p, d) : fmt::WriteReprInline(p, d);
      }
      break;
    }
    case K::kDecimal:
      scratch_.clear();
      fmt::AppendDecimalStr(scratch_, DecimalOfNs(v.ns, v.exp));
      p = put_text(p, scratch_);
      break;
    case K::kDecimalFloat:
      scratch_.clear();
      fmt::AppendDecimalFormatted(scratch_, decimals[v.aux], spec_);
      p = put_text(p, scratch_);
      break;
    case K::kInt:  // CIC kinds (output/cic_row.cpp renders CIC rows; these keep any set printable)
      p = std::to_chars(p, p + 24, static_cast<long long>(v.ns)).ptr;
      break;
    case K::kJava:
      p = fmt::WriteJavaDouble(p, v.f);
      break;
    case K::kText: {
      const std::string_view t = v.aux < std::size(kFeatureTexts) ? kFeatureTexts[v.aux] : std::string_view();
      std::memcpy(p, t.data(), t.size());
      p += t.size();
      break;
    }
    case K::kEmpty:
      break;
  }
  *p = ',';
  return p + 1;
}

std::string_view CsvRowRenderer::Render(const FlowView& f) {
  char* const base = rowbuf_.get();
  char* p = base;
  const bool c = profile_ == Profile::kCorrected;
  auto copy_of = [](char* p, const char* from, const char* to) {
    const size_t n = static_cast<size_t>(to - from);
    std::memmove(p, from, n);
    return p + n;
  };
  // Identity. The columns after flow_id repeat its parts: format each once, copy the text.
  const char* pname = ProtoName(f.proto, profile_);
  auto proto_text = [&](char* p) {
    if (!pname) return fmt::WriteUint(p, f.proto);
    const size_t n = std::strlen(pname);
    std::memcpy(p, pname, n);
    return p + n;
  };
  const char* const src_at = p;
  p = WriteAddr(p, f.src, f.ip_version);
  const char* const src_end = p;
  *p++ = '_';
  p = fmt::WriteUint(p, f.sport);
  *p++ = '_';
  const char* const dst_at = p;
  p = WriteAddr(p, f.dst, f.ip_version);
  const char* const dst_end = p;
  *p++ = '_';
  p = fmt::WriteUint(p, f.dport);
  *p++ = '_';
  p = proto_text(p);
  *p++ = '_';
  const bool id_local = (c || ntl_set_) ? local_tz_ : false;  // 2022: flow_id in UTC (D16); ntl: local
  const char* const ts_at = p;
  p = fmt::WriteDateTime(p, f.first_ns, id_local);
  const char* const ts_end = p;
  *p++ = ',';
  if (id_local == local_tz_) p = copy_of(p, ts_at, ts_end); else p = fmt::WriteDateTime(p, f.first_ns, local_tz_);
  *p++ = ',';
  p = copy_of(p, src_at, src_end);
  *p++ = ',';
  p = fmt::WriteUint(p, f.sport);
  *p++ = ',';
  p = copy_of(p, dst_at, dst_end);
  *p++ = ',';
  p = fmt::WriteUint(p, f.dport);
  *p++ = ',';
  p = proto_text(p);
  *p++ = ',';

  for (const FeatureValue& v : f.features) p = WriteValue(p, v, f.decimals);
  if (ntl_set_) {
    std::memcpy(p, label_.data(), label_.size());
    p += label_.size();
    *p++ = ',';
  }

  // Replace the trailing comma by CRLF.
  p[-1] = '\r';
  *p++ = '\n';
  const std::string_view full(base, static_cast<size_t>(p - base));
  if (profile_ != Profile::kNfm2022Seed) return full;
  // No value contains a comma (numbers, addresses, dates, protocol names), so the commas
  // are the field boundaries.
  int col = 0;
  for (size_t i = 0; i < full.size() && col < kNumColumns; ++i) {
    if (full[i] == ',' || full[i] == '\r') field_end_[col++] = static_cast<uint32_t>(i);
  }
  assert(col == kNumColumns);
  row_.clear();
  for (int i = 0; i < kNumSeedColumns; ++i) {
    const int s = seed_[i].source;
    const uint32_t begin = s == 0 ? 0 : field_end_[s - 1] + 1;
    row_.append(full, begin, field_end_[s] - begin);
    row_ += i + 1 < kNumSeedColumns ? "," : "\r\n";
  }
  return row_;
}

}  // namespace nfm
