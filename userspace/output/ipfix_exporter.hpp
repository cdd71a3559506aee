// SPDX-License-Identifier: MIT
// IpfixExporter: the FlowExporter that sends finished flows to one IPFIX destination.
// Export() encodes the flow's record(s) into a bounded single-producer/single-consumer queue
// and returns; a sender thread packs records into messages (sequence numbers, export time,
// templates at start, on every TCP (re)connect and every template_refresh_s on UDP) and
// sends them. The engine never waits for the network: when the queue is full the flow's
// records are dropped and counted; TCP reconnects with backoff while records wait in the
// queue. A file: destination is output like the CSV: the engine waits for room instead.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/flow_view.hpp"
#include "output/ipfix_message.hpp"
#include "output/ipfix_template.hpp"
#include "output/ipfix_transport.hpp"

namespace nfm {
class FlowIfaces;  // output/dataset_columns.hpp
}

namespace nfm::ipfix {

struct ExporterOptions {
  std::string url;                 // udp://HOST[:PORT] | tcp://HOST[:PORT] | file:PATH
  CodecOptions codec;              // uniflow, PEN, float format
  size_t mtu = 1400;               // UDP: largest message; TCP/file use 65535
  uint32_t domain = 0;             // observation domain id
  double template_refresh_s = 60;  // UDP template resend interval
  size_t queue_flows = 8192;       // bounded queue (flows; each slot holds 1-2 records)
  double drain_timeout_s = 10;     // Finish(): how long queued records may still be sent
  double send_timeout_s = 2;       // TCP: a send that cannot progress this long fails
  double max_messages_per_s = 0;   // pacing of the sender thread (0 = as fast as possible)
  // Wall-clock seconds for export times and the UDP refresh timer (tests inject a fake
  // clock); empty: the system clock.
  std::function<double()> clock;
};

// Totals (absolute, since start); safe to read from any thread.
struct ExporterStats {
  uint64_t flows = 0;            // flows offered to Export
  uint64_t records_sent = 0;     // data records in messages the transport accepted
  uint64_t records_dropped = 0;  // queue full, failed sends, or left over at Finish
  uint64_t messages = 0;         // messages sent (with data and/or templates)
  uint64_t send_errors = 0;      // failed sends / connects
  uint64_t connects = 0;         // successful (re)connects
  bool connected = false;
};

// Callbacks for metrics, called on the sender thread (may be empty).
struct ExporterHooks {
  std::function<void(uint64_t)> on_sent;     // records
  std::function<void(uint64_t)> on_dropped;  // records
  std::function<void()> on_message;
  std::function<void(bool)> on_connected;
};

class IpfixExporter : public FlowExporter {
 public:
  // Parses and resolves the URL (file: opens the file) and checks that a record fits the
  // MTU. nullptr with *error (one line, without the flag name) on failure.
  static std::unique_ptr<IpfixExporter> Create(const ExporterOptions& opt, const FeatureSet& set,
                                               std::string* error, ExporterHooks hooks = {});
  ~IpfixExporter() override;
  IpfixExporter(const IpfixExporter&) = delete;
  IpfixExporter& operator=(const IpfixExporter&) = delete;

  void Begin(Profile profile, const FeatureSet& set) override;
  void Export(const FlowView& flow) override;
  // Sends what is queued (at most drain_timeout_s), stops the sender, closes the transport.
  // False if the destination failed for good (file: a write error or a dropped record);
  // network loss is counted in Stats(), not a failure. Error() says the last error.
  bool Finish();

  ExporterStats Stats() const;
  std::string Error() const;  // last error (empty: none)
  const std::string& Url() const noexcept { return opt_.url; }
  const Destination& Dest() const noexcept { return dest_; }
  const RecordCodec& Codec() const noexcept { return codec_; }
  // --where-columns (templates from ExporterOptions::codec.where_*): the node name, and the
  // live per-flow interface table (null offline). Call before the first Export.
  void SetWhere(std::string node, const FlowIfaces* ifaces) {
    node_ = std::move(node);
    ifaces_ = ifaces;
  }

 private:
  IpfixExporter(const ExporterOptions& opt, const FeatureSet& set, ExporterHooks hooks);
  void Run();
  bool SendMessage(std::span<const uint8_t> msg, size_t records);
  void Drop(uint64_t records);
  void SetError(const std::string& e);
  double Now() const;

  struct Slot {
    uint16_t tid[2];
    uint16_t len[2];
    uint8_t n;
  };

  ExporterOptions opt_;
  std::string node_;
  const FlowIfaces* ifaces_ = nullptr;
  const FeatureSet& set_;
  ExporterHooks hooks_;
  RecordCodec codec_;
  Destination dest_;
  std::unique_ptr<Transport> transport_;
  std::vector<std::vector<uint8_t>> template_records_;  // one template record each

  // SPSC queue: the engine thread writes at tail_, the sender reads at head_.
  size_t capacity_ = 0;
  size_t slot_bytes_ = 0;
  std::vector<Slot> slots_;
  std::unique_ptr<uint8_t[]> data_;
  bool wait_when_full_ = false;            // file: Export waits for room instead of dropping
  size_t wake_at_ = 1;                    // queue depth at which Export wakes the sender
  static constexpr int kPollMs = 10;      // the sender's poll interval when idle
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::atomic<bool> waiting_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool finished_ = false;
  bool finish_ok_ = true;
  bool set_mismatch_ = false;

  std::atomic<uint64_t> flows_{0}, sent_{0}, dropped_{0}, messages_{0}, send_errors_{0}, connects_{0};
  std::atomic<bool> connected_{false};
  mutable std::mutex err_mu_;
  std::string error_;
};

}  // namespace nfm::ipfix
