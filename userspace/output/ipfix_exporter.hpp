// SPDX-License-Identifier: MIT
// IpfixExporter: the FlowExporter that sends finished flows to one IPFIX destination.
// Export() encodes the flow's record(s) into a bounded single-producer/single-consumer queue
// and returns; a sender thread packs records into messages (sequence numbers, export time,
// templates at start, on every TCP (re)connect and every template_refresh_s on UDP) and
// sends them. Live, the engine never waits for the network: when the queue is full the flow's
// records are dropped and counted; TCP reconnects with backoff while records wait in the
// queue. Offline (`hold`) every destination is output like the CSV: the engine waits for room,
// a message that could not be sent is kept and sent again, and only a destination that takes
// nothing for retry_s seconds is given up (the rest counted as dropped). A file: destination
// always makes the engine wait. UDP to a collector on this host waits for room in the
// collector's socket buffer (sock_diag) instead of overflowing it.
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
  // UDP whose receiving socket cannot be seen (another host, no sock_diag): the pacing when
  // max_messages_per_s is 0. A collector on this host is paced by its socket's free room.
  double blind_messages_per_s = 0;
  // Offline replay: wait instead of dropping (see the file comment). A network destination
  // that takes no message for retry_s seconds (unreachable, refusing, not reading) is given
  // up; TCP sends and local UDP receivers may block that long.
  bool hold = false;
  double retry_s = 30;
  // Offline: a stop signal (may be null). Once it is set, the export has drain_timeout_s to
  // deliver what the engine flushes; then the rest is dropped and counted.
  const std::atomic<bool>* stop = nullptr;
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
  // Records the transport took that the kernel says did not arrive: TCP bytes never
  // acknowledged when a connection broke or closed, the message before a UDP "port
  // unreachable", datagrams a local collector's socket dropped (at the last message's size).
  uint64_t records_lost = 0;
  uint64_t receiver_drops = 0;   // datagrams a local UDP collector's socket dropped during the run
  bool connected = false;
  bool reached = false;          // a message reached the destination (TCP: a connection; local UDP: a socket)
  bool gave_up = false;          // hold: the destination took nothing for retry_s (or the stop drain ended)
};

// Callbacks for metrics, called on the sender thread (may be empty).
struct ExporterHooks {
  std::function<void(uint64_t)> on_sent;     // records
  std::function<void(uint64_t)> on_dropped;  // records
  std::function<void()> on_message;
  std::function<void(bool)> on_connected;
  std::function<void(uint64_t)> on_lost;                // records (see ExporterStats::records_lost)
  std::function<void(const std::string&)> on_notice;  // one line: an outage began, the destination was given up
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
  // Sends what is queued (live: at most drain_timeout_s; hold: until sent or given up), stops
  // the sender, closes the transport. False if the destination failed for good (file: a write
  // error or a dropped record); network loss is counted in Stats(), not a failure (the caller
  // decides: offline runs exit with their own status). Error() says the last error.
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
  void Drop(uint64_t records);
  void Lose(uint64_t records);
  void Notice(const std::string& line);
  // Records of the last messages on this connection that hold the last `bytes` sent.
  uint64_t RecordsInLastBytes(uint64_t bytes) const;
  void Remember(size_t bytes, size_t records);
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
  bool wait_when_full_ = false;            // hold or file: Export waits for room instead of dropping
  bool retry_ = false;                     // hold and a network destination: keep, resend, give up
  size_t wake_at_ = 1;                    // queue depth at which Export wakes the sender
  static constexpr int kPollMs = 10;      // the sender's poll interval when idle
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::atomic<bool> waiting_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> abandoned_{false};     // given up: Export drops at once
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool finished_ = false;
  bool finish_ok_ = true;
  bool set_mismatch_ = false;

  std::atomic<uint64_t> flows_{0}, sent_{0}, dropped_{0}, messages_{0}, send_errors_{0}, connects_{0}, lost_{0},
      receiver_drops_{0};
  std::atomic<bool> connected_{false}, reached_{false};
  // The last messages sent on the current TCP connection: (bytes, records), a ring.
  static constexpr size_t kRecent = 512;
  struct Sent {
    uint32_t bytes, records;
  };
  std::vector<Sent> recent_ = std::vector<Sent>(kRecent);
  size_t recent_count_ = 0;  // written since the connection opened (index = count % kRecent)
  mutable std::mutex err_mu_;
  std::string error_;
};

}  // namespace nfm::ipfix
