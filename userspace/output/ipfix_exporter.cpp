// SPDX-License-Identifier: MIT
// IpfixExporter: bounded SPSC queue (engine thread -> sender thread), message packing,
// template (re)sending, reconnect with backoff, and the sent/dropped accounting.
#include "output/ipfix_exporter.hpp"

#include "output/dataset_columns.hpp"

#include <algorithm>
#include <chrono>

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
  x->transport_ = MakeTransport(x->dest_, opt.send_timeout_s);
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
  x->wait_when_full_ = x->dest_.kind == Destination::Kind::kFile;
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

ExporterStats IpfixExporter::Stats() const {
  ExporterStats s;
  s.flows = flows_.load();
  s.records_sent = sent_.load();
  s.records_dropped = dropped_.load();
  s.messages = messages_.load();
  s.send_errors = send_errors_.load();
  s.connects = connects_.load();
  s.connected = connected_.load();
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
  if (set_mismatch_ || finished_) {
    Drop(n);
    return;
  }
  if (t - head_.load(std::memory_order_acquire) >= capacity_) {
    // A file is output like the CSV: the engine waits for the disk (the sender thread is
    // alive until Finish). Network destinations never make the engine wait: drop and count.
    if (!wait_when_full_) {
      Drop(n);
      return;
    }
    while (t - head_.load(std::memory_order_acquire) >= capacity_) {
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

bool IpfixExporter::SendMessage(std::span<const uint8_t> msg, size_t records) {
  std::string err;
  if (transport_->Send(msg, &err)) {
    messages_.fetch_add(1, std::memory_order_relaxed);
    sent_.fetch_add(records, std::memory_order_relaxed);
    if (hooks_.on_message) hooks_.on_message();
    if (records && hooks_.on_sent) hooks_.on_sent(records);
    return true;
  }
  send_errors_.fetch_add(1, std::memory_order_relaxed);
  SetError(err);
  Drop(records);
  return false;
}

void IpfixExporter::Run() {
  const bool datagram = transport_->Datagram();
  MessageBuilder mb(datagram ? std::min(opt_.mtu, kMaxMessageLen) : kMaxMessageLen, opt_.domain);
  uint64_t seq = 0;  // data records sent in this domain (RFC 7011: sequence number mod 2^32)
  bool need_templates = true;
  double last_templates = 0;
  double backoff = 0.1;
  auto next_connect = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point drain_deadline{};
  bool draining = false;
  size_t sub = 0;  // next record within the head slot

  // Pacing (--ipfix-rate): the sender thread waits, records queue up behind it.
  const auto gap = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(opt_.max_messages_per_s > 0 ? 1.0 / opt_.max_messages_per_s : 0.0));
  auto next_send = std::chrono::steady_clock::now();
  auto begin = [&] { mb.Begin(static_cast<uint32_t>(Now()), static_cast<uint32_t>(seq)); };
  auto flush = [&]() -> bool {  // sends the open message; false if the send failed
    if (mb.Empty()) return true;
    const size_t records = mb.Records();
    if (gap.count() > 0) {
      const auto t = std::chrono::steady_clock::now();
      if (t < next_send) std::this_thread::sleep_until(next_send);
      next_send = std::max(t, next_send) + gap;
    }
    mb.SetExportTime(static_cast<uint32_t>(Now()));
    const bool ok = SendMessage(mb.Finish(), records);
    if (ok) seq += records;
    begin();
    if (!ok && !transport_->IsOpen()) {  // TCP dropped the connection
      connected_.store(false);
      if (hooks_.on_connected) hooks_.on_connected(false);
      need_templates = true;
    }
    return ok;
  };
  begin();

  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (!draining && stop_.load()) {
      draining = true;
      drain_deadline = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(opt_.drain_timeout_s));
    }
    const bool empty = head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    // Done when everything is sent; a run without flows still writes the templates where the
    // destination is open (a file then holds templates and no data).
    if (draining && ((empty && mb.Empty() && (!need_templates || !transport_->IsOpen())) || now >= drain_deadline))
      break;

    if (!transport_->IsOpen() || transport_->PeerClosed()) {
      if (connected_.exchange(false) && hooks_.on_connected) hooks_.on_connected(false);
      if (!mb.Empty()) {  // records taken for a connection that is gone
        Drop(mb.Records());
        begin();
      }
      if (now < next_connect) {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_for(l, std::min<std::chrono::steady_clock::duration>(next_connect - now, std::chrono::milliseconds(50)));
        continue;
      }
      std::string err;
      if (!transport_->Open(&err)) {
        send_errors_.fetch_add(1, std::memory_order_relaxed);
        SetError(err);
        next_connect = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(backoff));
        backoff = std::min(backoff * 2, 5.0);
        continue;
      }
      backoff = 0.1;
      need_templates = true;
    }
    if (!connected_.exchange(true)) {
      connects_.fetch_add(1, std::memory_order_relaxed);
      if (hooks_.on_connected) hooks_.on_connected(true);
    }

    if (datagram && Now() - last_templates >= opt_.template_refresh_s) need_templates = true;
    if (need_templates) {
      need_templates = false;
      last_templates = Now();
      for (const auto& t : template_records_) {
        if (!mb.AddTemplateSet(t)) {
          flush();
          mb.AddTemplateSet(t);
        }
      }
      if (!transport_->IsOpen()) continue;
    }

    // Move queued records into messages.
    bool moved = false;
    for (int budget = 0; budget < 4096; ++budget) {
      const uint64_t h = head_.load(std::memory_order_relaxed);
      if (h == tail_.load(std::memory_order_acquire)) break;
      const size_t i = static_cast<size_t>(h % capacity_);
      const Slot& s = slots_[i];
      const uint8_t* p = data_.get() + i * slot_bytes_ + (sub ? s.len[0] : 0);
      if (!mb.AddRecord(s.tid[sub], {p, s.len[sub]})) {
        if (!flush() && !transport_->IsOpen()) break;
        continue;
      }
      moved = true;
      if (++sub == s.n) {
        sub = 0;
        head_.store(h + 1, std::memory_order_release);
      }
    }
    if (!transport_->IsOpen()) continue;
    const bool now_empty = head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    if (now_empty) {
      flush();
      if (draining) continue;
      std::unique_lock<std::mutex> l(mu_);
      waiting_.store(true, std::memory_order_seq_cst);
      if (head_.load(std::memory_order_seq_cst) == tail_.load(std::memory_order_seq_cst) && !stop_.load())
        cv_.wait_for(l, std::chrono::milliseconds(kPollMs));
      waiting_.store(false, std::memory_order_relaxed);
    }
    (void)moved;
  }
  // Leftovers (drain deadline passed or the destination is gone): counted as dropped.
  if (!mb.Empty()) Drop(mb.Records());
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
  bool ok = true;
  if (transport_) {
    std::string err;
    if (!transport_->Close(&err)) {
      SetError(err);
      ok = false;
    }
  }
  if (connected_.exchange(false) && hooks_.on_connected) hooks_.on_connected(false);
  // A file must hold every record; network loss is counted and reported, not an error.
  if (dest_.kind == Destination::Kind::kFile && dropped_.load() != 0) ok = false;
  finish_ok_ = ok && !set_mismatch_;
  return finish_ok_;
}

}  // namespace nfm::ipfix
