// SPDX-License-Identifier: MIT
// InputHasher: a ring of fed spans, drained in order by the helper thread.
#include "source/input_hasher.hpp"

#include <system_error>

namespace nfm {

InputHasher::InputHasher(bool threaded) {
  if (!threaded) return;
  try {
    thread_ = std::thread([this] { Run(); });
    threaded_ = true;
  } catch (const std::system_error&) {
    threaded_ = false;  // no thread: hash on the caller's
  }
}

InputHasher::~InputHasher() {
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
  done_cv_.wait(lk, [&] { return hashed_.load(std::memory_order_acquire) >= ticket; });
}

std::string InputHasher::Finish(uint64_t* bytes) {
  WaitFor(fed_);
  *bytes = sha_.Bytes();
  return sha_.HexFinal();
}

void InputHasher::Run() {
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

}  // namespace nfm
