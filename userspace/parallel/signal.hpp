// SPDX-License-Identifier: MIT
// Signal: a sleep/wake-up point between threads (an event count over one 32-bit word, slept on
// with the futex system call). A waiter reads Epoch(), re-checks its condition, then
// Wait(epoch); a producer makes its data visible (release stores) and calls Notify().
// No lock. Notify costs no system call when no thread sleeps (a sleeper count, checked after
// the epoch moved: seq_cst on both sides, so a sleeper is never missed). Wait spins only as
// long as SetSpin allows: on a machine with fewer CPUs than busy threads, spinning (or
// sched_yield, as std::atomic::wait does) steals the CPU the awaited thread needs.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>

namespace nfm {

class Signal {
 public:
  uint32_t Epoch() const noexcept { return seq_.load(std::memory_order_acquire); }
  void Notify() noexcept {
    seq_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) != 0) {
      ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    }
  }
  // Returns when Notify() was called since `epoch` was read (maybe at once).
  void Wait(uint32_t epoch) noexcept {
    for (int i = SpinIterations(); i > 0; --i) {
      if (seq_.load(std::memory_order_acquire) != epoch) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (seq_.load(std::memory_order_seq_cst) == epoch) {
      ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq_), FUTEX_WAIT_PRIVATE, epoch, nullptr, nullptr, 0);
    }
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }
  // Pause iterations before sleeping, for every Signal of the process (default 128; 0 when
  // threads outnumber CPUs). Set before the threads start.
  static void SetSpin(int iterations) noexcept { SpinRef().store(iterations, std::memory_order_relaxed); }
  static int SpinIterations() noexcept { return SpinRef().load(std::memory_order_relaxed); }

 private:
  static std::atomic<int>& SpinRef() noexcept {
    static std::atomic<int> spin{128};
    return spin;
  }
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  // alignas(64) on the member makes the class 64 bytes long: no neighbour shares the line.
  alignas(64) std::atomic<uint32_t> seq_{0};
  std::atomic<uint32_t> sleepers_{0};
};

// A value written by one thread and read by others, alone on its cache line.
template <class T>
struct alignas(64) Padded {
  std::atomic<T> v{};
};

}  // namespace nfm
