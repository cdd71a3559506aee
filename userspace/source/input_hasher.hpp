// SPDX-License-Identifier: MIT
// InputHasher: the SHA-256 of an input's stored bytes, computed off the parser's path where it
// can be. Three ways: inline (each buffer the reader reads is hashed when fed), fed to a
// helper thread (the reader's buffers, in order; the helper hashes one while the parser reads
// the next), or, for a regular file, a helper thread that reads the file itself with pread(2)
// into a buffer of its own and hashes it, alongside the reader (no buffer shared between
// cores; the page cache serves the second read). PendingDigest holds a hasher that is still
// working so the digest is waited for only when a manifest needs it.
// A digest remembered between runs (DigestCache) stands in for all three: Known() reads nothing.
// One feeding thread; the helper thread is private.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "source/digest_cache.hpp"
#include "source/sha256.hpp"

namespace nfm {

class InputHasher {
 public:
  // Fed hasher. threaded: hash on a helper thread (falls back to the caller's thread if it
  // cannot start).
  explicit InputHasher(bool threaded);
  // Reads and hashes the regular file open at `fd` (duplicated; the caller keeps its own) from
  // offset 0 to its end, on a helper thread. Null when the thread cannot start.
  static std::unique_ptr<InputHasher> ReadingFile(int fd);
  // A digest already known for the whole input (a DigestCache hit): nothing is read or fed;
  // Finish returns hex and `bytes`, also when the run stops early (it covers the whole file).
  static std::unique_ptr<InputHasher> Known(std::string hex, uint64_t bytes);
  // When Finish(true) has hashed the whole file open at fd (duplicated here), whose stamp was
  // `st` when hashing began at started_ns (CLOCK_REALTIME), the digest is offered to cache.
  void RememberIn(DigestCache* cache, int fd, const FileStamp& st, int64_t started_ns);
  ~InputHasher();
  InputHasher(const InputHasher&) = delete;
  InputHasher& operator=(const InputHasher&) = delete;

  bool known() const noexcept { return known_; }  // Known(): no work left, no thread
  // Nothing to feed: it reads the file itself, or knows the digest already.
  bool reads_file() const noexcept { return file_fd_ >= 0 || known_; }
  // Fed hashers only: queues n bytes at p, which must stay unchanged until WaitFor(returned
  // ticket) returns. Returns the ticket: the number of bytes fed so far.
  uint64_t Add(const uint8_t* p, size_t n);
  // Waits until the first `ticket` bytes fed are hashed (their buffers may then be reused);
  // for a file reader, until it hashed the file's first `ticket` bytes or ended.
  void WaitFor(uint64_t ticket);
  uint64_t Fed() const noexcept { return fed_; }
  // The hex digest and, in *bytes, how many bytes it covers: every byte fed, or for a file
  // reader the whole file (to_end) or the prefix hashed so far (!to_end: it stops). Once.
  std::string Finish(bool to_end, uint64_t* bytes);

 private:
  InputHasher() = default;
  void RunFed();
  void RunFile();
  struct Span {
    const uint8_t* p;
    size_t n;
  };
  static constexpr size_t kSlots = 16;
  Sha256 sha_;
  uint64_t fed_ = 0;
  bool threaded_ = false;
  int file_fd_ = -1;
  std::atomic<bool> stop_file_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::array<Span, kSlots> ring_{};
  size_t head_ = 0, tail_ = 0;  // ring_[head_..tail_) queued, guarded by mu_
  bool stop_ = false;           // guarded by mu_
  bool file_done_ = false;      // the file reader ended; guarded by mu_
  std::atomic<uint64_t> hashed_{0};
  bool known_ = false;  // Known(): the digest below, nothing read
  std::string known_hex_;
  uint64_t known_bytes_ = 0;
  DigestCache* cache_ = nullptr;  // RememberIn
  int cache_fd_ = -1;
  FileStamp cache_stamp_;
  int64_t cache_started_ns_ = 0;
};

// A digest still being computed (an InputHasher reading its file): Get waits for it the first
// time and keeps the result. Thread-safe.
class PendingDigest {
 public:
  explicit PendingDigest(std::unique_ptr<InputHasher> h) : hasher_(std::move(h)) {}
  void Get(std::string* hex, uint64_t* bytes);

 private:
  std::mutex mu_;
  std::unique_ptr<InputHasher> hasher_;
  std::string hex_;
  uint64_t bytes_ = 0;
};

}  // namespace nfm
