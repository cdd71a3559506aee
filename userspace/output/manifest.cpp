// SPDX-License-Identifier: MIT
// Manifest implementation: a small JSON emitter (two-space indent, keys in a fixed order) and
// the atomic write (write <file>.manifest.json.tmp, fsync, rename).
#include "output/manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "version.hpp"

#ifndef NFM_GIT_COMMIT
#define NFM_GIT_COMMIT "unknown"
#endif
#ifndef NFM_GIT_DIRTY
#define NFM_GIT_DIRTY 0
#endif

namespace nfm {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Minimal JSON writer: objects and arrays nest; commas and indentation are handled here.
class Json {
 public:
  std::string out;
  void Open(char c) {
    out += c;
    first_.push_back(true);
  }
  void Close(char c) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) Newline();
    out += c;
  }
  // Starts an element (array) or a member (object, when key is non-null).
  void Item(const char* key = nullptr) {
    if (!first_.back()) out += ',';
    first_.back() = false;
    Newline();
    if (key) {
      out += JsonQuote(key);
      out += ": ";
    }
  }
  void Str(const char* key, std::string_view v) {
    Item(key);
    out += JsonQuote(v);
  }
  void StrOrNull(const char* key, std::string_view v) {
    Item(key);
    out += v.empty() ? std::string("null") : JsonQuote(v);
  }
  void U(const char* key, uint64_t v) {
    Item(key);
    out += std::to_string(v);
  }
  void I(const char* key, int64_t v) {
    Item(key);
    out += std::to_string(v);
  }
  void B(const char* key, bool v) {
    Item(key);
    out += v ? "true" : "false";
  }
  void Obj(const char* key) {
    Item(key);
    Open('{');
  }
  void Arr(const char* key) {
    Item(key);
    Open('[');
  }
  void Counts(const char* key, const ManifestCounts& c) {
    Obj(key);
    for (const auto& [k, v] : c) U(k.c_str(), v);
    Close('}');
  }

 private:
  void Newline() {
    out += '\n';
    out.append(2 * first_.size(), ' ');
  }
  std::vector<bool> first_;
};

void Time(Json& j, const char* key_ns, const char* key_utc, bool have, int64_t ns) {
  if (!have) {
    j.Item(key_ns);
    j.out += "null";
    j.Item(key_utc);
    j.out += "null";
    return;
  }
  j.I(key_ns, ns);
  j.Str(key_utc, UtcText(ns));
}

std::string KernelRelease() {
  FILE* f = std::fopen("/proc/sys/kernel/osrelease", "r");
  if (!f) return {};
  char buf[256] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  std::string s = ok ? buf : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += static_cast<char>(c);  // UTF-8 passes through
        }
    }
  }
  return o + "\"";
}

std::string UtcText(int64_t ns) {
  int64_t secs = ns / 1000000000;
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[64];
  const size_t n = std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(b + n, sizeof b - n, ".%09lldZ", static_cast<long long>(frac));
  return b;
}

void Manifest::SetColumns(std::string_view header_line, const FeatureSet& set) {
  static constexpr struct {
    const char* name;
    const char* kind;
    const char* unit;
  } kFixed[] = {{"flow_id", "text", ""},       {"timestamp", "text", "time of the first packet"},
                {"src_ip", "address", ""},     {"src_port", "unsigned", ""},
                {"dst_ip", "address", ""},     {"dst_port", "unsigned", ""},
                {"protocol", "unsigned", "IP protocol number"},
                {"capture_loss", "unsigned", "0/1"}, {"label", "text", ""},
                // --where-columns (node name; live interface name and index, empty when unknown).
                {"node", "text", ""},          {"iface", "text", ""},
                {"ifindex", "unsigned", "interface index"},
                {"row_kind", "text", "snapshot | final"},
                // --where-columns tunnel (empty for a flow that came through no tunnel).
                {"tunnel_type", "text", "vxlan | geneve | gtpu | gre | ipip"},
                {"tunnel_src", "address", "outer source"}, {"tunnel_dst", "address", "outer destination"},
                {"tunnel_id", "unsigned", "VNI | TEID | GRE key"},
                // The cic set's identity and label columns (CIC.md §5).
                {"Flow ID", "text", ""},       {"Src IP", "address", ""},
                {"Src Port", "unsigned", ""},  {"Dst IP", "address", ""},
                {"Dst Port", "unsigned", ""},  {"Protocol", "unsigned", "IP protocol number"},
                {"Timestamp", "text", "time of the first packet"}, {"Label", "text", ""}};
  columns.clear();
  while (!header_line.empty() && (header_line.back() == '\n' || header_line.back() == '\r')) header_line.remove_suffix(1);
  size_t p = 0;
  while (p <= header_line.size()) {
    size_t c = header_line.find(',', p);
    if (c == std::string_view::npos) c = header_line.size();
    const std::string_view name = header_line.substr(p, c - p);
    ManifestColumn col{std::string(name), "unknown", ""};
    bool found = false;
    for (const auto& f : kFixed) {
      if (name == f.name) {
        col.kind = f.kind;
        col.unit = f.unit;
        found = true;
        break;
      }
    }
    for (size_t i = 0; !found && i < set.columns.size(); ++i) {
      if (set.columns[i].name == name) {
        col.kind = set.columns[i].type == FeatureType::kUnsigned ? "unsigned" : "float";
        col.unit = std::string(set.columns[i].unit);
        found = true;
      }
    }
    columns.push_back(std::move(col));
    p = c + 1;
  }
}

void Manifest::Start() {
  run_started_utc_ = UtcText(NowNs());
  file_opened_utc_ = run_started_utc_;
  ManifestLive l;
  if (live && live(&l)) live_base_ = l.counters;
}

void Manifest::OnRow(const FlowView& flow, std::string_view label, bool loss) {
  if (rows_ == 0 || flow.first_ns < first_flow_ns_) first_flow_ns_ = flow.first_ns;
  if (rows_ == 0 || flow.last_ns > last_flow_ns_) last_flow_ns_ = flow.last_ns;
  ++rows_;
  if (flow.row_kind == RowKind::kSnapshot) {
    ++snapshot_rows_;  // a flow still open: its packets are counted by its final row
  } else {
    ++flows_by_reason_[static_cast<int>(flow.reason)];
    packets_in_rows_ += flow.packets[0] + flow.packets[1];
  }
  if (loss) ++loss_rows_;
  if (!labels_path.empty()) {
    auto it = rows_by_label_.find(label);
    if (it == rows_by_label_.end()) it = rows_by_label_.emplace(std::string(label), 0).first;
    ++it->second;
  }
}

bool Manifest::WriteFor(const std::string& closed_path, const std::string& compression,
                        uint64_t uncompressed_bytes, bool final_part, std::string* error) {
  ++part_;
  Json j;
  j.Open('{');
  j.U("manifest_version", 1);
  j.Obj("file");
  {
    std::string name = closed_path;
    if (const size_t s = name.rfind('/'); s != std::string::npos) name = name.substr(s + 1);
    j.Str("name", name);
    j.Str("path", closed_path);
    j.Str("format", format);
    j.Str("compression", compression);
    struct stat st {};
    j.U("bytes", ::stat(closed_path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0);
    j.U("bytes_uncompressed", uncompressed_bytes);
    j.U("part", part_);
    j.B("final_part", final_part);
    j.U("rows", rows_);
    for (const auto& [k, v] : file_counts) j.U(k.c_str(), v);
    j.Str("opened_utc", file_opened_utc_);
    j.Str("closed_utc", UtcText(NowNs()));
    Time(j, "first_flow_start_ns", "first_flow_start_utc", rows_ > 0, first_flow_ns_);
    Time(j, "last_flow_end_ns", "last_flow_end_utc", rows_ > 0, last_flow_ns_);
  }
  j.Close('}');
  j.Obj("producer");
  j.Str("name", "nfm-xdp");
  j.Str("version", NFM_VERSION);
  j.Str("git_commit", NFM_GIT_COMMIT);
  j.B("git_dirty", NFM_GIT_DIRTY != 0);
  j.Close('}');
  j.Obj("run");
  j.Str("mode", mode);
  j.Str("started_utc", run_started_utc_);
  j.B("interrupted", interrupted && interrupted());
  j.Arr("command_line");
  for (const auto& a : command_line) {
    j.Item();
    j.out += JsonQuote(a);
  }
  j.Close(']');
  j.Close('}');
  j.Obj("options");
  for (const auto& [k, v] : options) j.Str(k.c_str(), v);
  j.Close('}');
  j.Obj("effective");
  for (const auto& [k, v] : effective) j.Str(k.c_str(), v);
  j.Close('}');
  j.Arr("columns");
  for (const auto& c : columns) {
    j.Item();
    j.Open('{');
    j.Str("name", c.name);
    j.Str("kind", c.kind);
    j.Str("unit", c.unit);
    j.Close('}');
  }
  j.Close(']');
  std::vector<ManifestInput> ins;
  if (inputs) inputs(&ins);
  j.Arr("inputs");
  for (const auto& in : ins) {
    j.Item();
    j.Open('{');
    j.Str("path", in.path);
    j.Str("format", in.format);
    j.Str("compression", in.compression);
    j.U("size", in.size);
    j.StrOrNull("sha256", in.sha256);
    j.U("sha256_bytes", in.sha256_bytes);
    j.B("sha256_complete", in.sha256_complete);
    j.U("records", in.records);
    Time(j, "first_packet_ns", "first_packet_utc", in.have_times, in.first_ns);
    Time(j, "last_packet_ns", "last_packet_utc", in.have_times, in.last_ns);
    j.U("drop_intervals", in.drop_intervals);
    j.U("drops_reported", in.drops);
    j.Close('}');
  }
  j.Close(']');
  ManifestCounts packets, ended;
  if (engine_counts) engine_counts(&packets, &ended);
  j.Counts("packets_run_total", packets);
  j.Counts("flows_run_total", ended);
  j.Obj("flows_in_file");
  j.U("rows", rows_);
  j.U("packets", packets_in_rows_);
  if (snapshot_interval_s > 0) {
    j.Obj("rows_by_kind");
    j.U("snapshot", snapshot_rows_);
    j.U("final", rows_ - snapshot_rows_);
    j.Close('}');
  }
  j.Obj("by_end_reason");
  for (int r = 0; r < static_cast<int>(EndReason::kCount); ++r)
    j.U(EndReasonName(static_cast<EndReason>(r)), flows_by_reason_[r]);
  j.Close('}');
  j.Close('}');
  j.Obj("labels");
  j.B("enabled", !labels_path.empty());
  if (!labels_path.empty()) {
    j.Str("rules_file", labels_path);
    j.Str("rules_sha256", labels_sha256);
    j.U("rules", label_rules);
    j.Str("default_label", default_label);
    j.Obj("rows_by_label");
    for (const auto& [k, v] : rows_by_label_) j.U(k.c_str(), v);
    j.Close('}');
  }
  j.Close('}');
  j.Obj("capture_loss");
  j.B("column", loss_column);
  if (loss_column) {
    j.Str("source", loss_source);
    j.U("rows_with_loss", loss_rows_);
  }
  j.Close('}');
  ManifestLive l;
  if (live && live(&l)) {
    j.Obj("live");
    j.Str("kernel_release", l.kernel_release.empty() ? KernelRelease() : l.kernel_release);
    j.Arr("interfaces");
    for (const auto& i : l.interfaces) {
      j.Item();
      j.out += JsonQuote(i);
    }
    j.Close(']');
    j.Str("xdp_mode", l.xdp_mode);
    j.U("rings", l.rings);
    j.U("ring_size_bytes", l.ring_size_bytes);
    // Counters over this file's lifetime: now minus the value when the file was opened.
    ManifestCounts delta;
    for (const auto& [k, v] : l.counters) {
      uint64_t base = 0;
      for (const auto& [bk, bv] : live_base_)
        if (bk == k) base = bv;
      delta.emplace_back(k, v >= base ? v - base : 0);
    }
    j.Counts("counters_in_file", delta);
    j.Counts("counters_run_total", l.counters);
    if (loss_column) {
      // The whole run's timeline so far (ns; from = -1: before the first sample).
      j.Arr("loss_intervals");
      for (const auto& v : l.loss_intervals) {
        j.Item();
        j.Open('{');
        j.I("from_ns", v.from_ns == INT64_MIN ? -1 : v.from_ns);
        j.I("to_ns", v.to_ns);
        j.U("lost", v.lost);
        j.I("ring", v.ring);
        j.Close('}');
      }
      j.Close(']');
    }
    j.Close('}');
    live_base_ = l.counters;
  }
  j.Close('}');
  j.out += '\n';

  // Reset the per-file counts whatever happens below: the next file starts now.
  rows_ = 0;
  snapshot_rows_ = 0;
  packets_in_rows_ = 0;
  loss_rows_ = 0;
  for (auto& v : flows_by_reason_) v = 0;
  rows_by_label_.clear();
  file_opened_utc_ = UtcText(NowNs());

  const std::string final_name = closed_path + ".manifest.json";
  const std::string tmp = final_name + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto fail = [&](const char* action) {
    *error = std::string(action) + " manifest " + tmp + ": " + std::strerror(errno);
    return false;
  };
  if (fd < 0) return fail("open");
  size_t off = 0;
  while (off < j.out.size()) {
    const ssize_t n = ::write(fd, j.out.data() + off, j.out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      errno = e;
      return fail("write");
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return fail("sync");
  }
  if (::close(fd) != 0) return fail("close");
  if (std::rename(tmp.c_str(), final_name.c_str()) != 0) {
    *error = "rename manifest " + tmp + " to " + final_name + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace nfm
