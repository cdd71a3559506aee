// SPDX-License-Identifier: MIT
// Signal: a sleep/wake-up point between threads (an event count over one 32-bit atomic).
// A waiter reads Epoch(), re-checks its condition, then Wait(epoch); a producer makes its data
// visible (release stores) and calls Notify(). No lock; Notify costs no system call when no
// thread waits (libstdc++ counts waiters). Spins briefly before sleeping.
#pragma once

#include <atomic>
#include <cstdint>

namespace nfm {

class Signal {
 public:
  uint32_t Epoch() const noexcept { return seq_.load(std::memory_order_acquire); }
  void Notify() noexcept {
    seq_.fetch_add(1, std::memory_order_acq_rel);
    seq_.notify_all();
  }
  // Returns when Notify() was called since `epoch` was read (maybe at once).
  void Wait(uint32_t epoch) const noexcept {
    for (int i = 0; i < 128; ++i) {
      if (seq_.load(std::memory_order_acquire) != epoch) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    seq_.wait(epoch, std::memory_order_acquire);
  }

 private:
  // alignas(64) on the member makes the class 64 bytes long: no neighbour shares the line.
  alignas(64) std::atomic<uint32_t> seq_{0};
};

// A value written by one thread and read by others, alone on its cache line.
template <class T>
struct alignas(64) Padded {
  std::atomic<T> v{};
};

}  // namespace nfm
