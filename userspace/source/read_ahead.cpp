// SPDX-License-Identifier: MIT
// ReadAhead: the fill step, the helper thread's loop, the cooperative registry (TryFillAny) and
// the ring hand-off.
#include "source/read_ahead.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <system_error>
#include <vector>

namespace nfm {

std::atomic<int> ReadAhead::active_{0};
std::atomic<int> ReadAhead::budget_{ReadAhead::kMaxActive};
std::atomic<bool> ReadAhead::cooperative_{false};

namespace {
std::mutex g_registry_mu;  // the cooperative ReadAheads; one leaves it before it is destroyed
std::vector<ReadAhead*> g_registry;
}  // namespace

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
  if (cooperative_.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lk(g_registry_mu);
    g_registry.push_back(r.get());
    return r;
  }
  try {
    r->thread_ = std::thread([p = r.get()] { p->Run(); });
    r->threaded_ = true;
  } catch (const std::system_error&) {
    return nullptr;
  }
  return r;
}

bool ReadAhead::TryFillAny() {
  std::unique_lock<std::mutex> reg(g_registry_mu, std::try_to_lock);
  if (!reg.owns_lock()) return false;
  bool any = false;
  for (ReadAhead* r : g_registry) {
    std::unique_lock<std::mutex> fl(r->fill_mu_, std::try_to_lock);
    if (fl.owns_lock())
      for (int i = 0; i < kCoopFills && r->FillOne(); ++i) any = true;
  }
  return any;
}

bool ReadAhead::FillOne() {
  Chunk* c;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_ || ended_ || produced_ - released_ >= kSlots) return false;
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
  return true;
}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard<std::mutex> lk(g_registry_mu);
    for (size_t i = 0; i < g_registry.size(); ++i)
      if (g_registry[i] == this) {
        g_registry[i] = g_registry.back();
        g_registry.pop_back();
        break;
      }
  }
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
    {
      std::unique_lock<std::mutex> lk(mu_);
      producer_waits_ = true;
      freed_cv_.wait(lk, [this] { return stop_ || produced_ - released_ < kSlots; });
      producer_waits_ = false;
      if (stop_ || ended_) return;  // the end chunk stays in the ring until the reader goes
    }
    std::lock_guard<std::mutex> fl(fill_mu_);
    FillOne();
  }
}

const ReadAhead::Chunk& ReadAhead::Next() {
  std::unique_lock<std::mutex> lk(mu_);
  if (!threaded_ && taken_ == produced_) {  // cooperative, nothing read ahead: read it now
    lk.unlock();
    {
      std::lock_guard<std::mutex> fl(fill_mu_);
      lk.lock();
      const bool ready = taken_ < produced_;
      lk.unlock();
      if (!ready) FillOne();
    }
    lk.lock();
  }
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
