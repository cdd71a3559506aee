// SPDX-License-Identifier: MIT
// DigestCache: lookup and store of remembered input digests (see the header for the rules).
#include "source/digest_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace nfm {

namespace {

int64_t Ns(const struct timespec& t) { return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// The cache file may be trusted: a regular file of ours that nobody else can write.
bool Trusted(const struct stat& st) {
  return S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool ReadAll(int fd, std::string* out) {
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, size_t(n));
  }
}

bool WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(size_t(n));
  }
  return true;
}

std::string Line(const FileStamp& st, const std::string& hex) {
  char b[200];
  std::snprintf(b, sizeof b, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s\n", st.dev, st.ino,
                st.size, st.mtime_ns, st.ctime_ns, hex.c_str());
  return b;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool StampOf(int fd, FileStamp* out) noexcept {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  out->dev = uint64_t(st.st_dev);
  out->ino = uint64_t(st.st_ino);
  out->size = uint64_t(st.st_size);
  out->mtime_ns = Ns(st.st_mtim);
  out->ctime_ns = Ns(st.st_ctim);
  return true;
}

std::string DigestCache::ResolvePath(const std::string& option) {
  std::string v = option;
  if (v.empty())
    if (const char* e = std::getenv("NFM_DIGEST_CACHE"); e && *e) v = e;
  if (v == "off") return "";
  if (!v.empty()) return v;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') return std::string(x) + "/nfm-xdp/sha256.cache";
  if (const char* h = std::getenv("HOME"); h && *h == '/') return std::string(h) + "/.cache/nfm-xdp/sha256.cache";
  return "";
}

bool DigestCache::Lookup(const FileStamp& st, std::string* hex) const {
  if (path_.empty() || st.size < kMinFileBytes) return false;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  struct stat cs {};
  std::string text;
  const bool ok = fstat(fd, &cs) == 0 && Trusted(cs) && uint64_t(cs.st_size) <= 2 * kMaxBytes && ReadAll(fd, &text);
  ::close(fd);
  if (!ok) return false;
  // The newest entry for the stamp wins (later lines were appended later).
  const std::string key = Line(st, "");  // "dev ino size mtime ctime \n"
  const std::string_view prefix(key.data(), key.size() - 1);
  bool found = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;  // a torn last line (a writer died mid-line): ignored
    const std::string_view line(text.data() + pos, end - pos);
    if (line.size() == prefix.size() + 64 && line.substr(0, prefix.size()) == prefix &&
        IsHex64(line.substr(prefix.size()))) {
      *hex = std::string(line.substr(prefix.size()));
      found = true;
    }
    pos = end + 1;
  }
  if (found) hits_.fetch_add(1, std::memory_order_relaxed);
  return found;
}

bool DigestCache::Fail(const std::string& why) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    last_error_ = "digest cache " + path_ + ": " + why;
  }
  store_failures_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::string DigestCache::LastError() const {
  std::lock_guard<std::mutex> lk(mu_);
  return last_error_;
}

bool DigestCache::Store(const FileStamp& before, const FileStamp& after, int64_t started_ns, const std::string& hex) {
  if (path_.empty() || !(before == after) || after.size < kMinFileBytes || !IsHex64(hex)) return false;
  if (after.ctime_ns > started_ns - kSettleNs) return false;  // changed too recently to be sure
  // The directory: created (0700) if missing, one level only (~/.cache itself may be missing:
  // then its parent is created too).
  const size_t slash = path_.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    const std::string dir = path_.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno == ENOENT) {
      const size_t up = dir.rfind('/');
      if (up != std::string::npos && up > 0) ::mkdir(dir.substr(0, up).c_str(), 0700);
      ::mkdir(dir.c_str(), 0700);
    }
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(std::string(std::strerror(errno)) + " (set --digest-cache PATH or off)");
  struct stat cs {};
  if (fstat(fd, &cs) != 0 || !Trusted(cs)) {
    ::close(fd);
    return Fail("not a regular file of this user writable by nobody else; not used");
  }
  if (flock(fd, LOCK_EX) != 0) {
    ::close(fd);
    return Fail(std::string("lock: ") + std::strerror(errno));
  }
  // Past kMaxBytes: the newest half and the new entry go to a new file renamed over this one
  // (under the lock; a writer that opened the old file before the rename appends to it and its
  // entry is lost, which only costs a later hash).
  const std::string line = Line(after, hex);
  if (fstat(fd, &cs) == 0 && uint64_t(cs.st_size) > kMaxBytes) {
    std::string text;
    const int rd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    const bool read_ok = rd >= 0 && ReadAll(rd, &text);
    if (rd >= 0) ::close(rd);
    const size_t cut = text.find('\n', text.size() / 2);
    if (read_ok && cut != std::string::npos) {
      const std::string tmp = path_ + ".tmp." + std::to_string(getpid());
      const int w = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
      bool ok = w >= 0 && WriteAll(w, std::string_view(text).substr(cut + 1)) && WriteAll(w, line);
      if (w >= 0) ok = ::close(w) == 0 && ok;
      if (ok && ::rename(tmp.c_str(), path_.c_str()) == 0) {
        ::close(fd);
        return true;
      }
      ::unlink(tmp.c_str());
    }
  }
  // One write(2) of one short line to an O_APPEND file: appended whole.
  const bool ok = WriteAll(fd, line);
  const int err = errno;
  ::close(fd);  // releases the lock
  if (!ok) return Fail(std::string("write: ") + std::strerror(err));
  return true;
}

}  // namespace nfm
