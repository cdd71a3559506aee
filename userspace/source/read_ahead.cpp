// SPDX-License-Identifier: MIT
// ReadAhead: the helper's pread loop and the ring hand-off.
#include "source/read_ahead.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <system_error>

namespace nfm {

std::atomic<int> ReadAhead::active_{0};
std::atomic<int> ReadAhead::budget_{ReadAhead::kMaxActive};

std::unique_ptr<ReadAhead> ReadAhead::Start(int fd, uint64_t offset) {
  if (active_.fetch_add(1, std::memory_order_relaxed) >= Budget()) {
    active_.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  std::unique_ptr<ReadAhead> r(new ReadAhead());
  r->offset_ = offset;
  r->fd_ = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  r->mem_.reset(new (std::nothrow) uint8_t[kSlots * (kHeadroom + kChunk)]);
  if (r->fd_ < 0 || !r->mem_) return nullptr;  // the destructor gives the slot back
  for (size_t i = 0; i < kSlots; ++i) r->slots_[i].data = r->mem_.get() + i * (kHeadroom + kChunk) + kHeadroom;
  try {
    r->thread_ = std::thread([p = r.get()] { p->Run(); });
  } catch (const std::system_error&) {
    return nullptr;
  }
  return r;
}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  freed_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

void ReadAhead::Run() {
  for (;;) {
    Chunk* c;
    {
      std::unique_lock<std::mutex> lk(mu_);
      producer_waits_ = true;
      freed_cv_.wait(lk, [this] { return stop_ || produced_ - released_ < kSlots; });
      producer_waits_ = false;
      if (stop_) return;
      c = &slots_[produced_ % kSlots];
    }
    ssize_t n;
    do {
      n = pread(fd_, c->data, kChunk, off_t(offset_));
    } while (n < 0 && errno == EINTR);
    c->n = n > 0 ? size_t(n) : 0;
    c->err = n < 0 ? errno : 0;
    offset_ += c->n;
    bool wake;
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++produced_;
      ended_ = c->n == 0;
      wake = consumer_waits_;
    }
    if (wake) filled_cv_.notify_one();
    if (c->n == 0) return;  // the end chunk stays in the ring until the reader goes
  }
}

const ReadAhead::Chunk& ReadAhead::Next() {
  std::unique_lock<std::mutex> lk(mu_);
  consumer_waits_ = true;
  filled_cv_.wait(lk, [this] { return taken_ < produced_; });
  consumer_waits_ = false;
  const Chunk& c = slots_[taken_ % kSlots];
  if (c.n > 0) ++taken_;  // the end chunk is never taken: it is returned at every call
  return c;
}

void ReadAhead::Release() {
  bool wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (released_ < taken_) ++released_;
    wake = producer_waits_;
  }
  if (wake) freed_cv_.notify_one();
}

}  // namespace nfm
