// SPDX-License-Identifier: MIT
// The byte layer under the capture parser: StoredInput reads an input as stored (a file, stdin
// or a pipe, with read(2)) and shows every byte it reads to an optional InputHasher; a
// Decompressor turns the stored bytes of a gzip, zstd, xz or bzip2 capture (recognised by its
// magic bytes, not its name) into the capture's bytes. Neither parses the capture.
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "source/input_hasher.hpp"

namespace nfm {

enum class Compression : uint8_t { kNone, kGzip, kZstd, kXz, kBzip2 };

// "none", "gzip", "zstd", "xz", "bzip2" (the manifest's `compression` values).
const char* CompressionName(Compression c) noexcept;
// The compression whose magic bytes start p[0..n) (kNone when none does; n >= 6 to tell them all).
Compression SniffCompression(const uint8_t* p, size_t n) noexcept;

// Owns the descriptor (except stdin's). A file truncated while read just ends early.
class StoredInput {
 public:
  StoredInput() = default;
  ~StoredInput();
  StoredInput(const StoredInput&) = delete;
  StoredInput& operator=(const StoredInput&) = delete;

  // "-" = stdin. false: *error = strerror text and a hint.
  bool Open(const std::string& path, std::string* error);
  // Up to n bytes into buf (fewer at the end or when a pipe has fewer); 0 at the end; -1 on a
  // read error (errno kept in Errno()). Bytes read are fed to the hasher, if any: buf must
  // stay unchanged until hasher()->WaitFor(hasher()->Fed()) returns.
  ssize_t Read(uint8_t* buf, size_t n);
  // A fed hasher gets every stored byte read from now on (set it before the first Read for
  // the whole input); one that reads the file itself is only kept here.
  void SetHasher(std::unique_ptr<InputHasher> h) { hasher_ = std::move(h); }
  InputHasher* hasher() const noexcept { return hasher_.get(); }
  std::unique_ptr<InputHasher> TakeHasher() noexcept { return std::move(hasher_); }
  // A fed hasher: reads and hashes the bytes not read yet, to the end (for a complete digest).
  void HashRest();
  int fd() const noexcept { return fd_; }
  uint64_t file_size() const noexcept { return file_size_; }  // 0: not a regular file
  uint64_t stored_offset() const noexcept { return offset_; }  // stored bytes read so far
  bool at_end() const noexcept { return eof_; }
  int Errno() const noexcept { return errno_; }

 private:
  int fd_ = -1;
  bool own_fd_ = false;
  bool eof_ = false;
  int errno_ = 0;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  std::unique_ptr<InputHasher> hasher_;
};

// Decompresses one stored input. Concatenated gzip members, zstd frames, xz streams and bzip2
// streams are read as one stream, as the command-line tools do.
class Decompressor {
 public:
  // c != kNone. `first`: stored bytes already read from `in` (they are copied).
  static std::unique_ptr<Decompressor> Make(Compression c, StoredInput& in, const uint8_t* first, size_t n);
  virtual ~Decompressor() = default;
  // Up to n decompressed bytes into out (fewer is fine); 0 at the clean end of the stream;
  // -1 when it is corrupt, truncated or unreadable: Error() says what, in one line with a hint.
  virtual ssize_t Read(uint8_t* out, size_t n) = 0;
  const std::string& Error() const noexcept { return error_; }
  virtual Compression Kind() const noexcept = 0;

 protected:
  Decompressor(StoredInput& in, const uint8_t* first, size_t n);
  // Makes stored bytes available at in_next_/in_avail_ (when both are consumed). false at the
  // end of the stored input (in_eof_ set) or on a read error (error_ set).
  bool Refill();
  // Records the error (the first one) and returns the `produced` bytes decoded before it, or -1
  // when none were: the next Read returns -1.
  ssize_t Fail(const std::string& what, size_t produced = 0);
  ssize_t Truncated(const char* format);
  StoredInput& in_;
  const uint8_t* in_next_ = nullptr;
  size_t in_avail_ = 0;
  bool in_eof_ = false;
  std::string error_;

 private:
  // Two halves, alternately refilled, so the hasher can work on one while the other is read.
  static constexpr size_t kInChunk = 128u * 1024;
  std::unique_ptr<uint8_t[]> in_buf_;
  int half_ = 1;
  uint64_t ticket_[2] = {0, 0};
  size_t first_n_ = 0;
};

}  // namespace nfm
