// SPDX-License-Identifier: MIT
// IpfixExporter: bounded SPSC queue (engine thread -> sender thread), message packing,
// template (re)sending, reconnect with backoff, and the sent/dropped accounting.
#include "output/ipfix_exporter.hpp"

#include "output/dataset_columns.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <optional>

namespace nfm::ipfix {

namespace {
double SystemNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

IpfixExporter::IpfixExporter(const ExporterOptions& opt, const FeatureSet& set, ExporterHooks hooks)
    : opt_(opt), set_(set), hooks_(std::move(hooks)), codec_(set, opt.codec) {}

std::unique_ptr<IpfixExporter> IpfixExporter::Create(const ExporterOptions& opt, const FeatureSet& set,
                                                     std::string* error, ExporterHooks hooks) {
  std::unique_ptr<IpfixExporter> x(new IpfixExporter(opt, set, std::move(hooks)));
  if (!ParseDestination(opt.url, &x->dest_, error)) return nullptr;
  x->retry_ = opt.hold && x->dest_.kind != Destination::Kind::kFile;
  // Offline, a collector that reads slowly is back-pressure, not a failure: TCP sends may wait
  // as long as the destination may take nothing.
  x->transport_ = MakeTransport(x->dest_, x->retry_ ? opt.retry_s : opt.send_timeout_s);
  const size_t max_len = x->transport_->Datagram() ? std::min(opt.mtu, kMaxMessageLen) : kMaxMessageLen;
  const size_t need = x->codec_.MaxRecordLength() + kMessageHeaderLen + kSetHeaderLen;
  size_t tmpl_need = 0;
  for (const Template& t : x->codec_.Templates()) {
    std::vector<uint8_t> rec;
    t.AppendTo(rec);
    tmpl_need = std::max(tmpl_need, rec.size() + kMessageHeaderLen + kSetHeaderLen);
    x->template_records_.push_back(std::move(rec));
  }
  if (max_len < need || max_len < tmpl_need) {
    *error = "MTU " + std::to_string(opt.mtu) + " is too small: a message with one record needs " +
             std::to_string(std::max(need, tmpl_need)) + " bytes; raise --ipfix-mtu";
    return nullptr;
  }
  // file: created now, so an unwritable path fails before capture starts. UDP: the socket
  // (connect() on UDP sends nothing). TCP connects on the sender thread.
  if (x->dest_.kind != Destination::Kind::kTcp && !x->transport_->Open(error)) return nullptr;
  x->capacity_ = std::max<size_t>(opt.queue_flows, 1);
  x->slot_bytes_ = x->codec_.MaxRecordLength() * (opt.codec.uniflow ? 2 : 1);
  // Wake the sender every 256 flows at most (or at half a smaller queue): the records it
  // copies are still in cache, and a flow costs 1/256 of a futex wake-up at worst.
  x->wait_when_full_ = opt.hold || x->dest_.kind == Destination::Kind::kFile;
  x->wake_at_ = std::clamp<size_t>(x->capacity_ / 2, 1, 256);
  x->slots_.resize(x->capacity_);
  // Not zeroed: pages are touched only when the queue really fills that far.
  x->data_.reset(new uint8_t[x->capacity_ * x->slot_bytes_]);
  x->thread_ = std::thread([p = x.get()] { p->Run(); });
  return x;
}

IpfixExporter::~IpfixExporter() { Finish(); }

double IpfixExporter::Now() const { return opt_.clock ? opt_.clock() : SystemNow(); }

void IpfixExporter::SetError(const std::string& e) {
  std::lock_guard<std::mutex> l(err_mu_);
  error_ = e;
}

std::string IpfixExporter::Error() const {
  std::lock_guard<std::mutex> l(err_mu_);
  return error_;
}

void IpfixExporter::Drop(uint64_t records) {
  if (records == 0) return;
  dropped_.fetch_add(records, std::memory_order_relaxed);
  if (hooks_.on_dropped) hooks_.on_dropped(records);
}

void IpfixExporter::Lose(uint64_t records) {
  if (records == 0) return;
  lost_.fetch_add(records, std::memory_order_relaxed);
  if (hooks_.on_lost) hooks_.on_lost(records);
}

void IpfixExporter::Notice(const std::string& line) {
  if (hooks_.on_notice) hooks_.on_notice(line);
}

void IpfixExporter::Remember(size_t bytes, size_t records) {
  recent_[recent_count_ % kRecent] = {static_cast<uint32_t>(bytes), static_cast<uint32_t>(records)};
  ++recent_count_;
}

uint64_t IpfixExporter::RecordsInLastBytes(uint64_t bytes) const {
  uint64_t records = 0;
  // A message of which any byte is unacknowledged is lost as a whole (a collector drops a
  // message cut by the end of the connection). Past the ring: a lower bound.
  for (size_t i = 0; i < std::min(recent_count_, kRecent) && bytes > 0; ++i) {
    const Sent& m = recent_[(recent_count_ - 1 - i) % kRecent];
    records += m.records;
    bytes -= std::min<uint64_t>(bytes, m.bytes);
  }
  return records;
}

ExporterStats IpfixExporter::Stats() const {
  ExporterStats s;
  s.flows = flows_.load();
  s.records_sent = sent_.load();
  s.records_dropped = dropped_.load();
  s.messages = messages_.load();
  s.send_errors = send_errors_.load();
  s.connects = connects_.load();
  s.records_lost = lost_.load();
  s.receiver_drops = receiver_drops_.load();
  s.connected = connected_.load();
  s.reached = reached_.load();
  s.gave_up = abandoned_.load();
  return s;
}

void IpfixExporter::Begin(Profile, const FeatureSet& set) {
  // The templates were built from the set given at Create; another set cannot be sent.
  set_mismatch_ = set.columns.data() != set_.columns.data() || set.columns.size() != set_.columns.size();
  if (set_mismatch_) SetError("the engine's feature set '" + std::string(set.name) + "' differs from the templates' '" +
                              std::string(set_.name) + "'; records are dropped");
}

void IpfixExporter::Export(const FlowView& f) {
  flows_.fetch_add(1, std::memory_order_relaxed);
  const uint8_t n = (opt_.codec.uniflow && f.packets[1] > 0) ? 2 : 1;
  const uint64_t t = tail_.load(std::memory_order_relaxed);
  if (set_mismatch_ || finished_ || abandoned_.load(std::memory_order_acquire)) {
    Drop(n);
    return;
  }
  if (t - head_.load(std::memory_order_acquire) >= capacity_) {
    // Offline (and for a file) the destination is output like the CSV: the engine waits (the
    // sender thread is alive until Finish, and gives up a destination that takes nothing).
    // Live, the engine never waits for the network: drop and count.
    if (!wait_when_full_) {
      Drop(n);
      return;
    }
    while (t - head_.load(std::memory_order_acquire) >= capacity_) {
      if (abandoned_.load(std::memory_order_acquire)) {
        Drop(n);
        return;
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        cv_.notify_one();
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  const size_t i = static_cast<size_t>(t % capacity_);
  Slot& s = slots_[i];
  uint8_t* p = data_.get() + i * slot_bytes_;
  WhereValues where;
  std::string ifname;
  if (opt_.codec.where_node) where.node = node_;
  if (opt_.codec.where_iface && ifaces_ != nullptr) {
    where.ifindex = ifaces_->Ifindex(f);
    if (where.ifindex) ifname = ifaces_->Name(where.ifindex);
    where.ifname = ifname;
  }
  s.len[0] = static_cast<uint16_t>(codec_.EncodeForward(f, p, &s.tid[0], &where));
  if (n == 2) s.len[1] = static_cast<uint16_t>(codec_.EncodeBackward(f, p + s.len[0], &s.tid[1], &where));
  s.n = n;
  tail_.store(t + 1, std::memory_order_seq_cst);
  // The sender polls every kPollMs; it is woken early only when wake_at_ records wait, so a
  // flow costs no system call here.
  if (t + 1 - head_.load(std::memory_order_relaxed) >= wake_at_ && waiting_.load(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> l(mu_);
    cv_.notify_one();
  }
}

namespace {
// What a datagram of `len` bytes costs in a receiver's buffer (skb truesize: the data rounded
// up to a power of two with headers and skb_shared_info, plus the sk_buff). Measured on
// loopback: 1000-1500 bytes cost 2304, 3000 cost 4352; this errs on the high side.
int64_t DatagramCost(size_t len) { return static_cast<int64_t>(std::bit_ceil(len + 512)) + 512; }

std::string Seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%g s", s);
  return b;
}
}  // namespace

void IpfixExporter::Run() {
  using Clock = std::chrono::steady_clock;
  const auto secs = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const bool datagram = transport_->Datagram();
  const bool retry = retry_;
  MessageBuilder mb(datagram ? std::min(opt_.mtu, kMaxMessageLen) : kMaxMessageLen, opt_.domain);
  uint64_t seq = 0;  // data records sent in this domain (RFC 7011: sequence number mod 2^32)
  bool need_templates = true;
  double last_templates = 0;
  double backoff = 0.1;
  const double max_backoff = retry ? 1.0 : 5.0;  // offline: find a restarted collector soon
  auto next_try = Clock::now();
  Clock::time_point drain_deadline = Clock::time_point::max();
  Clock::time_point stop_deadline = Clock::time_point::max();
  bool draining = false;
  size_t sub = 0;  // next record within the head slot
  // hold: a message that could not be sent waits here (no record is moved meanwhile).
  std::vector<uint8_t> pending;
  pending.reserve(kMaxMessageLen);
  size_t pending_records = 0;
  bool have_pending = false;
  std::optional<Clock::time_point> down_since;  // the current outage began
  size_t last_records = 0;                       // records of the last message sent
  // A UDP collector on this host: its socket's free buffer as last seen, and its drop count.
  bool watch = datagram && transport_->LocalReceiver();
  int64_t room = 0;
  bool have_drops = false;
  uint32_t drops_seen = 0;

  // Pacing (--ipfix-rate): the sender thread waits, records queue up behind it.
  const double rate = opt_.max_messages_per_s > 0 ? opt_.max_messages_per_s
                      : datagram && !watch        ? opt_.blind_messages_per_s
                                                  : 0.0;
  const auto gap = secs(rate > 0 ? 1.0 / rate : 0.0);
  auto next_send = Clock::now();
  auto begin = [&] { mb.Begin(static_cast<uint32_t>(Now()), static_cast<uint32_t>(seq)); };
  auto give_up = [&](const std::string& why) {
    if (abandoned_.exchange(true)) return;
    SetError(why);
    Notice("ipfix " + opt_.url + ": " + why);
  };
  // A send or connect failed: count it, back off; hold: give up after retry_s of failures.
  auto failed = [&](const std::string& err) {
    const auto now = Clock::now();
    send_errors_.fetch_add(1, std::memory_order_relaxed);
    SetError(err);
    if (!down_since) {
      down_since = now;
      if (retry)
        Notice("ipfix " + opt_.url + ": " + err + "; records wait, retrying for " + Seconds(opt_.retry_s) +
               " (is the collector running? --ipfix-retry sets the time)");
    }
    next_try = now + secs(backoff);
    backoff = std::min(backoff * 2, max_backoff);
    if (retry && now - *down_since >= secs(opt_.retry_s))
      give_up("no message delivered for " + Seconds(opt_.retry_s) + " (" + err +
              "); the remaining records are dropped; start the collector before the run or raise --ipfix-retry");
  };
  // Local UDP collector: waits until its socket has room for `len` bytes. False (with *err)
  // when no socket is bound there any more or it read nothing for the allowed time.
  auto wait_room = [&](size_t len, std::string* err) -> bool {
    if (!watch) return true;
    const int64_t cost = DatagramCost(len);
    if (room >= cost) {
      room -= cost;
      return true;
    }
    const auto t0 = Clock::now();
    auto nap = std::chrono::microseconds(50);
    for (;;) {
      ReceiverInfo r;
      if (!transport_->ProbeReceiver(&r)) {  // the kernel cannot tell (any more): send blind
        watch = false;
        return true;
      }
      if (!r.found) {
        *err = "send to " + opt_.url + ": no socket receives there (the collector is not running)";
        return false;
      }
      if (have_drops && r.drops > drops_seen) {
        receiver_drops_.fetch_add(r.drops - drops_seen, std::memory_order_relaxed);
        Lose(static_cast<uint64_t>(r.drops - drops_seen) * std::max<size_t>(last_records, 1));
      }
      drops_seen = r.drops;
      have_drops = true;
      room = static_cast<int64_t>(r.rcvbuf) - static_cast<int64_t>(r.queued);
      if (room >= cost) {
        room -= cost;
        return true;
      }
      const auto now = Clock::now();
      if (now - t0 >= secs(retry ? opt_.retry_s : opt_.send_timeout_s) || now >= stop_deadline ||
          abandoned_.load()) {
        *err = "send to " + opt_.url + ": the collector's socket stays full (it does not read)";
        return false;
      }
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds(2000));
    }
  };
  // One finished message to the transport (pacing, local receiver room). True if sent.
  auto transmit = [&](std::span<const uint8_t> msg, size_t records, std::string* err) -> bool {
    if (gap.count() > 0) {
      const auto t = Clock::now();
      if (t < next_send) std::this_thread::sleep_until(next_send);
      next_send = std::max(t, next_send) + gap;
    }
    if (datagram && !wait_room(msg.size(), err)) return false;
    if (!transport_->Send(msg, err)) {
      // ICMP port unreachable answers an earlier datagram: on loopback, the one just before.
      if (transport_->Refused()) Lose(last_records);
      return false;
    }
    messages_.fetch_add(1, std::memory_order_relaxed);
    sent_.fetch_add(records, std::memory_order_relaxed);
    reached_.store(true, std::memory_order_relaxed);
    if (hooks_.on_message) hooks_.on_message();
    if (records && hooks_.on_sent) hooks_.on_sent(records);
    if (!datagram) Remember(msg.size(), records);
    if (records) last_records = records;
    down_since.reset();
    backoff = 0.1;
    return true;
  };
  // The connection is gone: what it had not acknowledged is lost; templates come again.
  auto connection_lost = [&] {
    Lose(RecordsInLastBytes(transport_->Unacknowledged()));
    recent_count_ = 0;
    if (connected_.exchange(false) && hooks_.on_connected) hooks_.on_connected(false);
    need_templates = true;
  };
  auto flush = [&]() -> bool {  // sends the open message; false if the send failed
    if (mb.Empty()) return true;
    const size_t records = mb.Records();
    mb.SetExportTime(static_cast<uint32_t>(Now()));
    const std::span<const uint8_t> msg = mb.Finish();
    std::string err;
    const bool ok = transmit(msg, records, &err);
    if (ok || (retry && records > 0)) seq += records;
    if (!ok) {
      if (retry && records > 0) {  // kept, sent again when the destination takes it
        pending.assign(msg.begin(), msg.end());
        pending_records = records;
        have_pending = true;
      } else if (retry) {
        need_templates = true;  // a template message: built again
      } else {
        Drop(records);
      }
      failed(err);
      if (!transport_->IsOpen()) connection_lost();
    }
    begin();
    return ok;
  };
  auto nap_until = [&](Clock::time_point t) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::min<Clock::duration>(t - Clock::now(), std::chrono::milliseconds(50)));
  };
  begin();

  for (;;) {
    const auto now = Clock::now();
    if (!draining && stop_.load()) {
      draining = true;
      // Offline the drain runs until everything is sent or the destination is given up.
      if (!retry) drain_deadline = now + secs(opt_.drain_timeout_s);
    }
    if (retry && opt_.stop && stop_deadline == Clock::time_point::max() && opt_.stop->load())
      stop_deadline = now + secs(opt_.drain_timeout_s);
    if (now >= stop_deadline)
      give_up("interrupted, and " + Seconds(opt_.drain_timeout_s) +
              " were not enough to deliver the flushed flows; the rest are dropped");
    if (abandoned_.load()) break;
    const bool empty = head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    // Done when everything is sent; a run without flows still writes the templates where the
    // destination is open (a file then holds templates and no data). Offline, it first tries
    // once to reach a network destination (a run without flows must not report "never
    // reached" for a collector that is there) and stops at the first failure.
    const bool templates_settled =
        !need_templates || (retry ? down_since.has_value() : !transport_->IsOpen());
    if (draining && ((empty && mb.Empty() && !have_pending && templates_settled) || now >= drain_deadline)) break;

    if (!transport_->IsOpen() || transport_->PeerClosed()) {
      if (transport_->IsOpen() == false && connected_.load()) connection_lost();
      if (!mb.Empty()) {  // records taken for a connection that is gone
        if (retry && !have_pending) {
          mb.SetExportTime(static_cast<uint32_t>(Now()));
          const std::span<const uint8_t> msg = mb.Finish();
          pending.assign(msg.begin(), msg.end());
          pending_records = mb.Records();
          have_pending = pending_records > 0;
          seq += pending_records;
        } else {
          Drop(mb.Records());
        }
        begin();
      }
      if (now < next_try) {
        nap_until(next_try);
        continue;
      }
      std::string err;
      if (!transport_->Open(&err)) {
        failed(err);
        continue;
      }
      recent_count_ = 0;
      need_templates = true;
    }
    if (!connected_.exchange(true)) {
      connects_.fetch_add(1, std::memory_order_relaxed);
      if (hooks_.on_connected) hooks_.on_connected(true);
    }

    if (datagram && Now() - last_templates >= opt_.template_refresh_s) need_templates = true;
    if (need_templates && (!have_pending || now >= next_try)) {
      need_templates = false;
      last_templates = Now();
      for (const auto& t : template_records_) {
        if (!mb.AddTemplateSet(t)) {
          flush();
          mb.AddTemplateSet(t);
        }
      }
      if (have_pending) flush();  // the templates before the kept message
      if (!transport_->IsOpen() || need_templates) continue;
    }
    if (have_pending) {
      if (now < next_try) {
        nap_until(next_try);
        continue;
      }
      std::string err;
      if (!transmit(pending, pending_records, &err)) {
        failed(err);
        if (!transport_->IsOpen()) connection_lost();
        continue;
      }
      have_pending = false;
    }

    // Move queued records into messages.
    bool stalled = false;
    for (int budget = 0; budget < 4096; ++budget) {
      const uint64_t h = head_.load(std::memory_order_relaxed);
      if (h == tail_.load(std::memory_order_acquire)) break;
      const size_t i = static_cast<size_t>(h % capacity_);
      const Slot& s = slots_[i];
      const uint8_t* p = data_.get() + i * slot_bytes_ + (sub ? s.len[0] : 0);
      if (!mb.AddRecord(s.tid[sub], {p, s.len[sub]})) {
        if (!flush() && (have_pending || !transport_->IsOpen())) {
          stalled = true;
          break;
        }
        continue;
      }
      if (++sub == s.n) {
        sub = 0;
        head_.store(h + 1, std::memory_order_release);
      }
    }
    if (stalled || !transport_->IsOpen()) continue;
    const bool now_empty = head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    if (now_empty) {
      flush();
      if (draining || have_pending) continue;
      std::unique_lock<std::mutex> l(mu_);
      waiting_.store(true, std::memory_order_seq_cst);
      if (head_.load(std::memory_order_seq_cst) == tail_.load(std::memory_order_seq_cst) && !stop_.load())
        cv_.wait_for(l, std::chrono::milliseconds(kPollMs));
      waiting_.store(false, std::memory_order_relaxed);
    }
  }
  // A local collector's socket drops at enqueue time: one last look covers our last datagrams.
  if (watch && have_drops) {
    ReceiverInfo r;
    if (transport_->ProbeReceiver(&r) && r.found && r.drops > drops_seen) {
      receiver_drops_.fetch_add(r.drops - drops_seen, std::memory_order_relaxed);
      Lose(static_cast<uint64_t>(r.drops - drops_seen) * std::max<size_t>(last_records, 1));
    }
  }
  // Leftovers (drain deadline passed, the destination is gone or given up): counted as dropped.
  if (!mb.Empty()) Drop(mb.Records());
  if (have_pending) Drop(pending_records);
  uint64_t left = 0;
  for (uint64_t h = head_.load(), t = tail_.load(); h != t; ++h) left += slots_[h % capacity_].n;
  left -= sub;
  Drop(left);
  head_.store(tail_.load());
}

bool IpfixExporter::Finish() {
  if (finished_) return finish_ok_;
  finished_ = true;
  stop_.store(true);
  {
    std::lock_guard<std::mutex> l(mu_);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  // Flows offered while the sender was giving up (after it counted its queue).
  uint64_t left = 0;
  for (uint64_t h = head_.load(), t = tail_.load(); h != t; ++h) left += slots_[h % capacity_].n;
  Drop(left);
  head_.store(tail_.load());
  bool ok = true;
  if (transport_) {
    std::string err;
    if (!transport_->Close(&err)) {
      SetError(err);
      ok = false;
    }
    // TCP: what the collector's host had not acknowledged when the connection closed.
    Lose(RecordsInLastBytes(transport_->Unacknowledged()));
  }
  if (connected_.exchange(false) && hooks_.on_connected) hooks_.on_connected(false);
  // A file must hold every record; network loss is counted and reported, not an error.
  if (dest_.kind == Destination::Kind::kFile && dropped_.load() != 0) ok = false;
  finish_ok_ = ok && !set_mismatch_;
  return finish_ok_;
}

}  // namespace nfm::ipfix
