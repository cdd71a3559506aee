// SPDX-License-Identifier: MIT
// CsvFileSink implementation: bytes through a ByteSink (plain/gzip/zstd), errno-named errors,
// rotation.
#include "output/csv_writer.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

namespace nfm {

std::unique_ptr<CsvFileSink> CsvFileSink::Open(const std::string& path, uint64_t rotate_bytes, std::string* error,
                                               std::string_view what, std::string_view option) {
  std::unique_ptr<CsvFileSink> s(new CsvFileSink());
  s->path_ = path;
  s->rotate_bytes_ = rotate_bytes;
  s->is_stdout_ = path == "-";
  s->what_ = what;
  s->option_ = option;
  s->out_ = ByteSink::Open(path, error, what, option);
  if (!s->out_) return nullptr;
  return s;
}

CsvFileSink::~CsvFileSink() = default;

bool CsvFileSink::Write(const char* data, size_t n) {
  if (failed_) return false;
  if (!out_->Write(data, n)) {
    failed_ = true;
    ++write_errors_;
    error_ = out_->Error();
    return false;
  }
  // Rotation counts uncompressed bytes (the size of the CSV text of a part).
  file_bytes_ += n;
  return true;
}

bool CsvFileSink::Rotate() {
  if (is_stdout_) return true;
  // No fsync here (as before byte sinks): a rotation runs on the engine's thread.
  if (!out_->Close(/*sync=*/false)) {
    failed_ = true;
    ++write_errors_;
    error_ = out_->Error();
    return false;
  }
  ++rotations_;
  // Closed files are named <path>.<UTC time of rotation>.<n> (compressed: the extension
  // stays last), so a restarted agent never overwrites an earlier run's files.
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  const std::string rotated = RotatedName(path_, stamp, rotations_);
  std::rename(path_.c_str(), rotated.c_str());
  if (on_close) on_close(rotated, file_bytes_, false);
  std::string err;
  out_ = ByteSink::Open(path_, &err, what_, option_);
  if (!out_) {
    failed_ = true;
    ++write_errors_;
    error_ = "re" + err;
    return false;
  }
  file_bytes_ = 0;
  if (on_rotate) on_rotate();
  return Write(header_.data(), header_.size());
}

void CsvFileSink::Header(const std::string& header_line) {
  header_ = header_line;
  Write(header_.data(), header_.size());
}

void CsvFileSink::Row(std::string_view row) {
  if (rotate_bytes_ && file_bytes_ + row.size() > rotate_bytes_ && file_bytes_ > header_.size()) Rotate();
  if (Write(row.data(), row.size()) && (!line_flush_ || FlushRow())) {
    ++rows_;
  } else {
    ++lost_;
  }
  if (on_row) on_row(row.size());
}

bool CsvFileSink::FlushRow() {
  if (out_->Flush()) return true;
  failed_ = true;
  ++write_errors_;
  error_ = out_->Error();
  return false;
}

bool CsvFileSink::Finish() {
  if (!out_ || finished_) return !failed_;
  finished_ = true;
  if (!out_->Close(/*sync=*/true) && !failed_) {
    failed_ = true;
    ++write_errors_;
    error_ = out_->Error();
  }
  if (!failed_ && !is_stdout_ && on_close) on_close(path_, file_bytes_, true);
  return !failed_;
}

}  // namespace nfm
