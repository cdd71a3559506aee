// SPDX-License-Identifier: MIT
// InputHasher: inline, a ring of fed spans drained in order by the helper thread, or a helper
// thread reading the file on its own.
#include "source/input_hasher.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace nfm {

InputHasher::InputHasher(bool threaded) {
  if (!threaded) return;
  try {
    thread_ = std::thread([this] { RunFed(); });
    threaded_ = true;
  } catch (const std::system_error&) {
    threaded_ = false;  // no thread: hash on the caller's
  }
}

std::unique_ptr<InputHasher> InputHasher::ReadingFile(int fd) {
  std::unique_ptr<InputHasher> h(new InputHasher());
  h->file_fd_ = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (h->file_fd_ < 0) return nullptr;
  try {
    h->thread_ = std::thread([p = h.get()] { p->RunFile(); });
  } catch (const std::system_error&) {
    return nullptr;  // the destructor closes the descriptor
  }
  return h;
}

std::unique_ptr<InputHasher> InputHasher::Known(std::string hex, uint64_t bytes) {
  std::unique_ptr<InputHasher> h(new InputHasher());
  h->known_ = true;
  h->known_hex_ = std::move(hex);
  h->known_bytes_ = bytes;
  h->hashed_.store(bytes, std::memory_order_relaxed);
  h->file_done_ = true;
  return h;
}

void InputHasher::RememberIn(DigestCache* cache, int fd, const FileStamp& st, int64_t started_ns) {
  if (cache == nullptr || known_ || cache_fd_ >= 0) return;
  cache_fd_ = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (cache_fd_ < 0) return;
  cache_ = cache;
  cache_stamp_ = st;
  cache_started_ns_ = started_ns;
}

InputHasher::~InputHasher() {
  if (cache_fd_ >= 0) close(cache_fd_);
  if (file_fd_ >= 0) {
    stop_file_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
    close(file_fd_);
    return;
  }
  if (!threaded_) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

uint64_t InputHasher::Add(const uint8_t* p, size_t n) {
  if (n == 0) return fed_;
  fed_ += n;
  if (!threaded_) {
    sha_.Update(p, n);
    hashed_.store(fed_, std::memory_order_relaxed);
    return fed_;
  }
  {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return tail_ - head_ < kSlots; });
    ring_[tail_ % kSlots] = {p, n};
    ++tail_;
  }
  work_cv_.notify_one();
  return fed_;
}

void InputHasher::WaitFor(uint64_t ticket) {
  if (hashed_.load(std::memory_order_acquire) >= ticket) return;
  std::unique_lock<std::mutex> lk(mu_);
  // A file reader that ended (end of file, a stop, a read error) hashes nothing more.
  done_cv_.wait(lk, [&] { return hashed_.load(std::memory_order_acquire) >= ticket || file_done_; });
}

std::string InputHasher::Finish(bool to_end, uint64_t* bytes) {
  if (known_) {
    *bytes = known_bytes_;
    return known_hex_;
  }
  if (file_fd_ >= 0) {
    if (!to_end) stop_file_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  } else {
    WaitFor(fed_);
  }
  *bytes = sha_.Bytes();
  std::string hex = sha_.HexFinal();
  FileStamp now;
  if (to_end && cache_ && *bytes == cache_stamp_.size && StampOf(cache_fd_, &now))
    cache_->Store(cache_stamp_, now, cache_started_ns_, hex);
  return hex;
}

void InputHasher::RunFed() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [this] { return stop_ || head_ != tail_; });
    if (head_ == tail_) return;  // stop_ and nothing left
    const Span s = ring_[head_ % kSlots];
    lk.unlock();
    sha_.Update(s.p, s.n);
    lk.lock();
    ++head_;
    hashed_.store(hashed_.load(std::memory_order_relaxed) + s.n, std::memory_order_release);
    done_cv_.notify_all();
  }
}

void InputHasher::RunFile() {
  // The reader's buffer size: the chunk stays in this core's L2 cache between read and hash.
  std::vector<uint8_t> buf(256 * 1024);
  uint64_t off = 0;
  while (!stop_file_.load(std::memory_order_relaxed)) {
    const ssize_t n = pread(file_fd_, buf.data(), buf.size(), off_t(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file (or an error the reader reports itself)
    sha_.Update(buf.data(), size_t(n));
    off += uint64_t(n);
    {
      std::lock_guard<std::mutex> lk(mu_);
      hashed_.store(off, std::memory_order_release);
    }
    done_cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    file_done_ = true;
  }
  done_cv_.notify_all();
}

void PendingDigest::Get(std::string* hex, uint64_t* bytes) {
  std::lock_guard<std::mutex> lk(mu_);
  if (hasher_) {
    hex_ = hasher_->Finish(true, &bytes_);
    hasher_.reset();
  }
  *hex = hex_;
  *bytes = bytes_;
}

}  // namespace nfm
