// SPDX-License-Identifier: MIT
// CsvFileSink: writes CSV rows (or JSON lines: any line-oriented text with an optional header
// line) to a file or stdout through a large buffer.
// Opening checks writability up front (so a bad path fails before any input is read). A
// write error is remembered with its errno; later rows are counted as lost, never dropped
// silently. Optional size-based rotation (file.csv -> file.csv.<UTC time>.<n>; compressed
// out.csv.gz -> out.<UTC time>.<n>.csv.gz). The bytes go through a ByteSink chosen by the file
// name (.gz, .zst, else plain). Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "output/byte_sink.hpp"

namespace nfm {

class CsvFileSink {
 public:
  // path "-" = stdout. rotate_bytes 0 = never rotate. what/option: the output's name in error
  // texts ("CSV", "--csv"; "JSON", "--json").
  static std::unique_ptr<CsvFileSink> Open(const std::string& path, uint64_t rotate_bytes, std::string* error,
                                           std::string_view what = "CSV", std::string_view option = "--csv");
  ~CsvFileSink();

  // The header line, written first in every file (also after rotation).
  void Header(const std::string& header_line);
  // One row, written verbatim (rows end with "\r\n"); `row` is read during the call only.
  void Row(std::string_view row);
  // Flushes buffers; returns false (and sets Error()) if anything failed.
  bool Finish();
  // Hand every row to the file as it is written (live JSON Lines: a reader sees each row when
  // it is made; compressed files get a flush point per row). Off by default.
  void SetLineFlush(bool on) noexcept { line_flush_ = on; }

  // Called for every row after it is handed to the buffer, with its size (metrics).
  std::function<void(size_t)> on_row;
  // Called after a size-based rotation opened a new file.
  std::function<void()> on_rotate;
  // Called after an output file was completely written and closed, with its final name (a
  // rotated part, or Path() at Finish), its uncompressed size and whether it is the last part.
  // Not called for stdout or after a failure of that file.
  std::function<void(const std::string& closed_path, uint64_t text_bytes, bool final_part)> on_close;

  uint64_t RowsWritten() const noexcept { return rows_; }
  uint64_t RowsLost() const noexcept { return lost_; }
  uint64_t WriteErrors() const noexcept { return write_errors_; }
  const std::string& Error() const noexcept { return error_; }
  const std::string& Path() const noexcept { return path_; }

 private:
  CsvFileSink() = default;
  bool Write(const char* data, size_t n);
  bool FlushRow();
  bool Rotate();

  std::unique_ptr<ByteSink> out_;
  bool is_stdout_ = false;
  std::string path_;
  std::string what_, option_;
  std::string header_;
  uint64_t rotate_bytes_ = 0;
  uint64_t file_bytes_ = 0;
  uint32_t rotations_ = 0;
  uint64_t rows_ = 0;
  uint64_t lost_ = 0;
  uint64_t write_errors_ = 0;
  bool failed_ = false;
  bool finished_ = false;
  bool line_flush_ = false;
  std::string error_;
};

}  // namespace nfm
