// SPDX-License-Identifier: MIT
// DigestCache: the SHA-256 of regular input files remembered between runs, keyed by what the
// file system changes whenever a file's bytes change: device, inode, size, modification and
// status-change time (ns). The status-change time (ctime) cannot be set by a user: any write,
// truncate, rename over it or `touch -d` moves it to "now". So a key that still matches names
// the same bytes, as git's index and rsync's quick check rely on. An entry is stored only when
// the file's stamp was the same before and after it was hashed whole and its ctime lay at
// least kSettleNs before the hash began (a file still being written is never remembered, and
// file systems with coarse timestamps cannot hide a write in the same tick).
//
// The cache is one text file (default $XDG_CACHE_HOME/nfm-xdp/sha256.cache, else
// ~/.cache/nfm-xdp/sha256.cache), one line per entry, appended under flock(2) and compacted
// to its newest half past kMaxBytes. It is used only when it is a regular file owned by this
// user and writable by nobody else. It only ever saves work: a missing, unreadable or
// malformed cache means the input is hashed as without it; failures to write it are counted
// (StoreFailures) and reported once at the end of the run, never fatal.
// Thread-safe (each call opens the file; the lock serialises writers across processes).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace nfm {

// What identifies a regular file's bytes to the file system.
struct FileStamp {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
// false when fd is not a regular file or fstat fails.
bool StampOf(int fd, FileStamp* out) noexcept;

class DigestCache {
 public:
  static constexpr int64_t kSettleNs = 2'000'000'000;  // ctime at least this old when hashed
  static constexpr uint64_t kMaxBytes = 1u << 20;      // ~8,000 entries, then compacted
  // Files smaller than this are hashed every time (cheap; keeps small files out of the cache).
  static constexpr uint64_t kMinFileBytes = 1u << 20;

  // path: the cache file (its directory is created on the first store, mode 0700).
  explicit DigestCache(std::string path) : path_(std::move(path)) {}
  // The cache file a run uses: `option` ("off": none; empty: the default), else
  // $NFM_DIGEST_CACHE (same values), else $XDG_CACHE_HOME/nfm-xdp/sha256.cache, else
  // $HOME/.cache/nfm-xdp/sha256.cache; "" when there is none (no home: no cache).
  static std::string ResolvePath(const std::string& option);

  const std::string& path() const noexcept { return path_; }
  // The lowercase hex SHA-256 remembered for exactly this stamp.
  bool Lookup(const FileStamp& st, std::string* hex) const;
  // Remembers hex for `st`, when `before` == `after` (the file did not change while hashed),
  // after.ctime_ns + kSettleNs <= started_ns (CLOCK_REALTIME when the hash began) and the file
  // is at least kMinFileBytes. Returns whether an entry was written.
  bool Store(const FileStamp& before, const FileStamp& after, int64_t started_ns, const std::string& hex);

  uint64_t Hits() const noexcept { return hits_.load(std::memory_order_relaxed); }
  uint64_t StoreFailures() const noexcept { return store_failures_.load(std::memory_order_relaxed); }
  std::string LastError() const;  // why the last store failed, one line ("" when none did)

 private:
  std::string path_;
  mutable std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> store_failures_{0};
  mutable std::mutex mu_;
  std::string last_error_;  // guarded by mu_
  bool Fail(const std::string& why);
};

}  // namespace nfm
