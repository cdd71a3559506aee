// SPDX-License-Identifier: MIT
// Ring drain: libbpf ring_buffer with one callback for every shard. The callback is
// noexcept, copies the sample (size and version checked) and calls engine.OnPacket.
#include "drain.hpp"

#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "bpf_util.hpp"
#include "event_decode.hpp"

namespace nfm::live {

Drainer::Drainer(const std::vector<int>& ring_fds, uint32_t ring_size, PacketTarget target)
    : target_(target), ring_size_(ring_size), page_size_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
  for (size_t i = 0; i < ring_fds.size(); ++i) {
    if (i == 0) {
      rb_ = ring_buffer__new(ring_fds[0], &Drainer::OnSample, this, nullptr);
      if (!rb_) {
        const int err = errno;
        throw BpfError("open", "ring buffer 0", err);
      }
    } else {
      const int err = ring_buffer__add(rb_, ring_fds[i], &Drainer::OnSample, this);
      if (err) {
        ring_buffer__free(rb_);
        throw BpfError("open", "ring buffer " + std::to_string(i), -err);
      }
    }
    // Consumer position (page 0) and producer position (page 1); read-only is allowed for
    // both. Only used for the fill ratio, so a failure just leaves that ring unmeasured.
    void* p = mmap(nullptr, 2 * page_size_, PROT_READ, MAP_SHARED, ring_fds[i], 0);
    pos_pages_.push_back(p == MAP_FAILED ? nullptr : p);
  }
}

Drainer::~Drainer() {
  for (void* p : pos_pages_)
    if (p) munmap(p, 2 * page_size_);
  ring_buffer__free(rb_);
}

int Drainer::OnSample(void* ctx, void* data, size_t size) noexcept {
  auto* self = static_cast<Drainer*>(ctx);
  PacketMeta meta;
  if (DecodeEvent(data, size, self->offset_ns_, &meta) != EventStatus::kOk) {
    ++self->bad_;
    return 0;  // keep going: one bad sample must not stop the drain
  }
  ++self->decoded_;
  try {
    self->target_.on_packet(self->target_.engine, meta);
  } catch (...) {
    // The engine does not throw by contract (it allocates nothing per packet); if it ever
    // does, stop polling instead of unwinding through libbpf.
    return -ECANCELED;
  }
  return 0;
}

// ring_buffer__poll reads only the rings epoll reported; the BPF side suppresses wake-ups
// below a fill threshold, so on a timeout every ring is read too, or events below the
// threshold would wait (and a missed wake-up could leave a ring to fill up).
int Drainer::Poll(int timeout_ms) noexcept {
  const int n = ring_buffer__poll(rb_, timeout_ms);
  if (n != 0) return n;
  return ring_buffer__consume(rb_);
}

uint64_t Drainer::DrainAll() noexcept {
  uint64_t total = 0;
  for (;;) {
    const int n = ring_buffer__consume(rb_);
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
  }
  return total;
}

double Drainer::FillRatio() const noexcept {
  double worst = 0.0;
  for (void* p : pos_pages_) {
    if (!p) continue;
    const auto* cons = static_cast<const unsigned long*>(p);
    const auto* prod = reinterpret_cast<const unsigned long*>(static_cast<const char*>(p) + page_size_);
    const unsigned long c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
    const unsigned long q = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
    const double r = q > c ? static_cast<double>(q - c) / ring_size_ : 0.0;
    if (r > worst) worst = r;
  }
  return worst > 1.0 ? 1.0 : worst;
}

}  // namespace nfm::live
