// SPDX-License-Identifier: MIT
// CIC row text (CIC.md §5-§6). Values come typed from the engine: kInt / kUint as decimal
// integers (kUint 0 is the reference's literal "0" guard), kJava as Double.toString.
#include "output/cic_row.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <ctime>

#include "engine/cic/cic_engine.hpp"
#include "output/java_double.hpp"

namespace nfm {
namespace {

bool IsV4Mapped(const uint8_t* a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, 12) == 0;
}

void AppendAddr(std::string& out, const uint8_t* a, uint8_t ip_version) {
  char buf[INET6_ADDRSTRLEN];
  if (ip_version == 4 || (ip_version != 6 && IsV4Mapped(a))) {
    char* p = buf;
    for (int i = 12; i < 16; ++i) {
      p = std::to_chars(p, buf + sizeof(buf), a[i]).ptr;
      if (i < 15) *p++ = '.';
    }
    out.append(buf, p);
    return;
  }
  if (inet_ntop(AF_INET6, a, buf, sizeof(buf))) out.append(buf);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

void Two(std::string& out, int v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

bool BrokenDown(int64_t first_ns, bool local, struct tm* tm) {
  int64_t s = first_ns / 1000000000;
  if (first_ns < 0 && s * 1000000000 != first_ns) --s;
  const time_t tt = static_cast<time_t>(s);
  return (local ? localtime_r(&tt, tm) : gmtime_r(&tt, tm)) != nullptr;
}

// C21 fixed: 2010-07-01T22:49:10.123456Z (UTC) or with the local offset (+hh:mm).
void AppendIsoTimestamp(std::string& out, int64_t first_ns, bool local) {
  struct tm tm {};
  if (!BrokenDown(first_ns, local, &tm)) return;
  char buf[64];
  int64_t us = (first_ns / 1000) % 1000000;
  if (us < 0) us += 1000000;
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us));
  out.append(buf, static_cast<size_t>(n));
  if (!local || tm.tm_gmtoff == 0) {
    out.push_back('Z');
  } else {
    const long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
    n = std::snprintf(buf, sizeof(buf), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600, off / 60 % 60);
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string MakeHeader() {
  std::string h = "Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp";
  for (const FeatureInfo& c : CicFeatureSet().columns) {
    h.push_back(',');
    h.append(c.name);
  }
  h.append(",Label\n");
  return h;
}

}  // namespace

const std::string& CicHeaderLine() {
  static const std::string h = MakeHeader();
  return h;
}

void AppendCicTimestamp(std::string& out, int64_t first_ns, bool local) {
  struct tm tm {};
  if (!BrokenDown(first_ns, local, &tm)) return;
  Two(out, tm.tm_mday);
  out.push_back('/');
  Two(out, tm.tm_mon + 1);
  out.push_back('/');
  AppendInt(out, tm.tm_year + 1900);
  out.push_back(' ');
  const int h12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
  Two(out, h12);
  out.push_back(':');
  Two(out, tm.tm_min);
  out.push_back(':');
  Two(out, tm.tm_sec);
  out.append(tm.tm_hour < 12 ? " AM" : " PM");
}

void AppendCicRow(std::string& out, const FlowView& v, bool local, std::string_view label) {
  AppendAddr(out, v.src, v.ip_version);
  out.push_back('-');
  AppendAddr(out, v.dst, v.ip_version);
  out.push_back('-');
  AppendInt(out, v.sport);
  out.push_back('-');
  AppendInt(out, v.dport);
  out.push_back('-');
  AppendInt(out, v.proto);
  out.push_back(',');
  AppendAddr(out, v.src, v.ip_version);
  out.push_back(',');
  AppendInt(out, v.sport);
  out.push_back(',');
  AppendAddr(out, v.dst, v.ip_version);
  out.push_back(',');
  AppendInt(out, v.dport);
  out.push_back(',');
  AppendInt(out, v.proto);
  out.push_back(',');
  if (v.profile == Profile::kCic) {
    AppendCicTimestamp(out, v.first_ns, local);
  } else {
    AppendIsoTimestamp(out, v.first_ns, local);
  }
  char buf[fmt::kMaxJavaDoubleChars];
  for (const FeatureValue& f : v.features) {
    out.push_back(',');
    switch (f.kind) {
      case FeatureValue::Kind::kInt:
        AppendInt(out, f.ns);
        break;
      case FeatureValue::Kind::kJava:
      case FeatureValue::Kind::kFloat:
      case FeatureValue::Kind::kRepr:
        out.append(buf, fmt::WriteJavaDouble(buf, f.f));
        break;
      default:
        out.append(buf, std::to_chars(buf, buf + sizeof(buf), f.u).ptr);
        break;
    }
  }
  out.push_back(',');
  out.append(label);
  out.push_back('\n');
}

void CicCsvExporter::Begin(Profile profile, const FeatureSet& set) {
  (void)profile;
  const std::string header = extras_ ? extras_->Header(CicHeaderLine()) : CicHeaderLine();
  if (manifest_) manifest_->SetColumns(header, set);
  sink_.Header(header);
}

void CicCsvExporter::Export(const FlowView& flow) {
  row_.clear();
  AppendCicRow(row_, flow, local_);
  ExportRendered(flow, row_);
}

void CicCsvExporter::ExportRendered(const FlowView& flow, std::string_view row) {
  if (extras_) row = extras_->Extend(row, flow);
  sink_.Row(row);
  // After the row is in the file: a rotation inside Row closed the previous file first.
  if (manifest_) manifest_->OnRow(flow, extras_ ? extras_->LastLabel() : std::string_view(), extras_ && extras_->LastLoss());
}

std::unique_ptr<FlowRenderer> CicCsvExporter::MakeRenderer() const {
  struct Renderer : FlowRenderer {
    explicit Renderer(bool l) : local(l) {}
    std::string_view Render(const FlowView& flow) override {
      row.clear();
      AppendCicRow(row, flow, local);
      return row;
    }
    bool local;
    std::string row;
  };
  return std::make_unique<Renderer>(local_);
}

}  // namespace nfm
