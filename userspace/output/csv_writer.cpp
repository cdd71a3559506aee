// SPDX-License-Identifier: MIT
// CsvFileSink implementation: stdio with a 1 MiB buffer, errno-named errors, rotation.
#include "output/csv_writer.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include <unistd.h>

namespace nfm {

namespace {
std::string ErrnoText(int err) {
  const char* name = strerrordesc_np(err);
  const char* abbrev = strerrorname_np(err);
  std::string s = name ? name : "unknown error";
  if (abbrev) s += std::string(" (") + abbrev + ")";
  return s;
}
constexpr size_t kBufferBytes = 1 << 20;
}  // namespace

std::unique_ptr<CsvFileSink> CsvFileSink::Open(const std::string& path, uint64_t rotate_bytes, std::string* error) {
  std::unique_ptr<CsvFileSink> s(new CsvFileSink());
  s->path_ = path;
  s->rotate_bytes_ = rotate_bytes;
  if (path == "-") {
    s->file_ = stdout;
    s->is_stdout_ = true;
  } else {
    s->file_ = std::fopen(path.c_str(), "wb");
    if (!s->file_) {
      const int err = errno;
      *error = "open CSV output " + path + ": " + ErrnoText(err) +
               "; choose a writable path with --csv (or '-' for stdout)";
      return nullptr;
    }
  }
  std::setvbuf(s->file_, nullptr, _IOFBF, kBufferBytes);
  return s;
}

CsvFileSink::~CsvFileSink() {
  if (file_ && !is_stdout_) std::fclose(file_);
  else if (file_) std::fflush(file_);
}

bool CsvFileSink::Write(const char* data, size_t n) {
  if (failed_) return false;
  // One thread writes a sink (the engine's): no stdio locking per row.
  if (fwrite_unlocked(data, 1, n, file_) != n) {
    const int err = errno;
    failed_ = true;
    ++write_errors_;
    error_ = "write CSV output " + path_ + ": " + ErrnoText(err);
    return false;
  }
  file_bytes_ += n;
  return true;
}

bool CsvFileSink::Rotate() {
  if (is_stdout_) return true;
  if (std::fclose(file_) != 0) {
    const int err = errno;
    file_ = nullptr;
    failed_ = true;
    ++write_errors_;
    error_ = "close CSV output " + path_ + ": " + ErrnoText(err);
    return false;
  }
  ++rotations_;
  // Closed files are named <path>.<UTC time of rotation>.<n>, so a restarted agent never
  // overwrites an earlier run's files.
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  const std::string rotated = path_ + "." + stamp + "." + std::to_string(rotations_);
  std::rename(path_.c_str(), rotated.c_str());
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) {
    const int err = errno;
    failed_ = true;
    ++write_errors_;
    error_ = "reopen CSV output " + path_ + ": " + ErrnoText(err);
    return false;
  }
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
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
  if (Write(row.data(), row.size())) {
    ++rows_;
  } else {
    ++lost_;
  }
  if (on_row) on_row(row.size());
}

bool CsvFileSink::Finish() {
  if (!file_ || finished_) return !failed_;
  finished_ = true;
  if (std::fflush(file_) != 0 && !failed_) {
    const int err = errno;
    failed_ = true;
    ++write_errors_;
    error_ = "write CSV output " + path_ + ": " + ErrnoText(err);
  }
  if (!is_stdout_ && !failed_ && ::fsync(fileno(file_)) != 0 && errno != EINVAL) {
    // fsync failure on a real file means data may be lost (e.g. EIO, ENOSPC on NFS).
    const int err = errno;
    failed_ = true;
    ++write_errors_;
    error_ = "sync CSV output " + path_ + ": " + ErrnoText(err);
  }
  return !failed_;
}

}  // namespace nfm
