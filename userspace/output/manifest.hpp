// SPDX-License-Identifier: MIT
// Manifest: the provenance record written next to every closed output file as
// <file>.manifest.json (temporary name + rename, so a reader never sees half a manifest):
// producer version and git commit, options (given and effective), columns with units and kinds,
// inputs with size / SHA-256 / first and last packet time, packet and flow counts, label and
// loss summaries, and for live runs the kernel, interfaces, rings and loss counters over the
// file's lifetime. Schema: docs/DATASETS.md. It gathers facts through the providers below at
// close time; it does not read captures or touch the engine. Not thread-safe (engine thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/flow_view.hpp"

namespace nfm {

struct ManifestColumn {
  std::string name;
  std::string kind;  // "text", "address", "unsigned", "float", "seconds"; IPFIX files: the element's data type
  std::string unit;  // "", "packets", "bytes", "seconds", ...
};

struct ManifestInput {
  std::string path;
  std::string format;          // "pcap", "pcap-ns", "pcapng"
  std::string compression = "none";  // as stored: "none", "gzip", "zstd", "xz", "bzip2"
  uint64_t size = 0;           // bytes as stored (0: unknown, e.g. stdin before the end)
  std::string sha256;          // empty: not known yet (input still being read)
  uint64_t sha256_bytes = 0;   // bytes the digest covers
  bool sha256_complete = false;  // the digest covers the whole input
  uint64_t records = 0;
  bool have_times = false;
  int64_t first_ns = 0, last_ns = 0;  // earliest / latest record time
  uint64_t drop_intervals = 0, drops = 0;  // pcapng ISB drop reports
};

// Ordered name -> value lists (kept in insertion order in the JSON).
using ManifestCounts = std::vector<std::pair<std::string, uint64_t>>;

struct ManifestLive {
  std::string kernel_release;
  std::vector<std::string> interfaces;
  std::string xdp_mode;
  uint64_t rings = 0, ring_size_bytes = 0;
  ManifestCounts counters;  // cumulative kernel/drainer counters now (deltas are computed here)
  struct LossInterval {
    int64_t from_ns, to_ns;
    uint64_t lost;
    int32_t ring;  // -1: not tied to a ring
  };
  std::vector<LossInterval> loss_intervals;  // --loss-column: the drainer's loss timeline
};

class Manifest {
 public:
  // Run-wide facts, fixed before the first file closes.
  std::string mode = "offline";               // "offline" | "live"
  std::string format = "csv";                 // the file's format: "csv" | "jsonl" | "ipfix" (RFC 5655 file)
  std::vector<std::string> command_line;
  std::vector<std::pair<std::string, std::string>> options;    // every option: name -> value text
  std::vector<std::pair<std::string, std::string>> effective;  // resolved settings (profile defaults applied)
  std::vector<ManifestColumn> columns;
  std::string labels_path, labels_sha256, default_label;
  uint64_t label_rules = 0;
  bool loss_column = false;
  std::string loss_source;  // "ring_losses" (live) | "pcapng_isb" (offline)
  double snapshot_interval_s = 0;  // > 0: rows include snapshots (flows_in_file.rows_by_kind)

  // Providers called when a file closes (each may be empty).
  std::function<void(std::vector<ManifestInput>*)> inputs;
  std::function<void(ManifestCounts* packets, ManifestCounts* flows_ended)> engine_counts;  // run totals
  std::function<bool(ManifestLive*)> live;  // false: not a live run
  std::function<bool()> interrupted;        // a stop signal arrived
  // Format-specific totals of the closed file, written as members of "file" (IPFIX: records,
  // messages); set before WriteFor.
  ManifestCounts file_counts;

  // The column list from the CSV header line: identity and data-set columns by name, the
  // features with the FeatureSet's type and unit.
  void SetColumns(std::string_view header_line, const FeatureSet& set);
  // Starts the run clock and the first file's live counter baseline.
  void Start();
  // One row went into the current file (a snapshot row counts as a row, not as a flow ended).
  void OnRow(const FlowView& flow, std::string_view label, bool loss);
  // Writes <closed_path>.manifest.json for the file that just closed, then starts counting the
  // next file. `uncompressed_bytes` is the CSV text size; `final_part` says it is the run's last.
  bool WriteFor(const std::string& closed_path, const std::string& compression, uint64_t uncompressed_bytes,
                bool final_part, std::string* error);

 private:
  uint32_t part_ = 0;
  uint64_t rows_ = 0;
  uint64_t snapshot_rows_ = 0;  // rows_ that are snapshots of open flows
  uint64_t flows_by_reason_[static_cast<int>(EndReason::kCount)] = {};
  uint64_t packets_in_rows_ = 0;
  int64_t first_flow_ns_ = 0, last_flow_ns_ = 0;
  uint64_t loss_rows_ = 0;
  std::map<std::string, uint64_t, std::less<>> rows_by_label_;
  ManifestCounts live_base_;  // live counters when the current file opened
  std::string run_started_utc_, file_opened_utc_;
};

// Counts the flows an output without its own row hook receives (an IPFIX file: added to the
// engine's exporters right after that file's exporter, so it sees the same flows). The CSV
// exporters call Manifest::OnRow themselves, with the row's label and loss values.
class ManifestRows final : public FlowExporter {
 public:
  explicit ManifestRows(Manifest& m) : m_(m) {}
  void Export(const FlowView& flow) override { m_.OnRow(flow, {}, false); }

 private:
  Manifest& m_;
};

// "2026-12-03T16:52:01.123456789Z" from ns since the epoch.
std::string UtcText(int64_t ns);
// JSON string literal (quotes and escapes).
std::string JsonQuote(std::string_view s);

}  // namespace nfm
