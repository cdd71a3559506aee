// SPDX-License-Identifier: MIT
// RunOffline: capture set -> decoder -> engine, with a throttled progress line.
#include "source/offline.hpp"

#include <chrono>
#include <cstdio>

#include "engine/ntl/ntl_engine.hpp"
#include "engine/cic/cic_engine.hpp"
#include "engine/contract.hpp"
#include "source/capture_set.hpp"
#include "source/decode.hpp"
#include "source/offline_common.hpp"
#include "source/progress.hpp"

namespace nfm {

std::vector<std::string> OfflineInputs(const OfflineOptions& opts) {
  return opts.paths.empty() ? std::vector<std::string>{opts.path} : opts.paths;
}

std::unique_ptr<CaptureSet> OpenInputs(const OfflineOptions& opts, bool manifest, OfflineResult& res) {
  std::string err;
  // scapy and dpkt both return the bytes of a record cut by the end of the file.
  const bool keep_cut = opts.decode == DecodeMode::kScapy2022 || opts.decode == DecodeMode::kDpkt;
  auto set = CaptureSet::Open(OfflineInputs(opts), keep_cut, &err,
                              manifest ? opts.inputs : nullptr, manifest && opts.hash_input, opts.digest_cache);
  if (!set) {
    res.exit_code = 1;
    res.error = err;
  }
  return set;
}

SkipReason ToSkip(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kNotIp: return SkipReason::kNotIp;
    case DecodeStatus::kTruncated: return SkipReason::kTruncated;
    case DecodeStatus::kUnsupportedLink: return SkipReason::kUnsupported;
    case DecodeStatus::kEncrypted: return SkipReason::kEncrypted;
    case DecodeStatus::kUnsupportedEncap: return SkipReason::kUnsupportedEncap;
    default: return SkipReason::kMalformed;
  }
}

void FinishResult(const CaptureSet& set, const LinkCensus& links, OfflineResult& res) {
  for (const std::string& e : set.Errors()) {
    if (!res.error.empty()) res.error += "\n";
    res.error += e;
  }
  if (!set.Errors().empty()) res.exit_code = 2;
  const std::string name = set.FileCount() == 1 ? set.FirstPath() : std::to_string(set.FileCount()) + " files";
  if (links.unsupported) {
    res.warning = "capture " + (set.FileCount() == 1 ? name : links.first_path) + ": " +
                  std::to_string(links.unsupported) + " records have an unsupported link type, " +
                  LinkTypeText(links.first_link) + ", and were skipped";
    if (set.FileCount() > 1) res.warning += " (over all " + name + ")";
  }
  const CaptureStats cs = set.Stats();
  if (cs.ts_clamped) {
    if (!res.warning.empty()) res.warning += "\n";
    res.warning += "capture " + name + ": " + std::to_string(cs.ts_clamped) +
                   " timestamps were out of range (after year 2262) and were clamped";
  }
}

template <class Engine>
OfflineResult RunOffline(const OfflineOptions& opts, Engine& engine, const std::atomic<bool>& stop) {
  OfflineResult res;
  auto set = OpenInputs(opts, true, res);
  if (!set) return res;
  const auto start = std::chrono::steady_clock::now();
  ProgressLine progress(opts.progress, opts.progress_force, set->BytesTotal());
  const DecodeMode mode = opts.decode;
  LinkCensus links;
  // Decode runs kAhead packets ahead of the engine so the engine's memory (index slot, then
  // flow record) can be prefetched: with many flows, cache misses dominate otherwise.
  constexpr uint32_t kAhead = 8;
  struct Pending {
    PacketMeta meta;
    DecodeStatus status;
    TunnelMeta tun;  // with keep_tunnels, when meta.tunnel != kTunnelNone
  };
  // --where-columns tunnel: the decoder also reports each opened tunnel's header facts.
  const bool keep_tunnels = KeepsTunnels(engine);
  // +1: a frame can yield two packets in nfm2022 mode (TCP inside a UDP tunnel, D20).
  Pending ring[kAhead + 1];
  uint32_t head = 0, count = 0;
  RawPacket raw;
  PacketMeta second;
  int rc = 1;
  for (;;) {
    while (count < kAhead && rc == 1) {
      rc = set->Next(&raw);
      if (rc != 1) break;
      ++res.records;
      Pending& slot = ring[(head + count) % (kAhead + 1)];
      bool has_second = false;
      slot.status = DecodePacket(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &slot.meta, &second,
                                 &has_second, mode, &opts.tunnels, keep_tunnels ? &slot.tun : nullptr);
      if (slot.status == DecodeStatus::kOk) {
        slot.meta.ts_ns = raw.ts_ns;
        slot.meta.ts_exp = raw.ts_exp;
        engine.PrefetchIndex(slot.meta);
      } else if (slot.status == DecodeStatus::kUnsupportedLink) {
        links.Count(raw.link_type, *set);
      }
      ++count;
      if (has_second) {
        Pending& extra = ring[(head + count) % (kAhead + 1)];
        extra.meta = second;
        extra.meta.ts_ns = raw.ts_ns;
        extra.meta.ts_exp = raw.ts_exp;
        extra.status = DecodeStatus::kOk;
        ++count;
      }
    }
    if (count == 0) break;
    const Pending& cur = ring[head];
    if (count > kAhead / 2) {
      const Pending& soon = ring[(head + kAhead / 2) % (kAhead + 1)];
      if (soon.status == DecodeStatus::kOk) engine.PrefetchFlow(soon.meta);
    }
    if (cur.status == DecodeStatus::kOk) {
      FeedPacket(engine, cur.meta, cur.tun, keep_tunnels);
    } else {
      engine.OnSkipped(ToSkip(cur.status), cur.meta.wire_len);
    }
    head = (head + 1) % (kAhead + 1);
    --count;
    if ((res.records & 0xfff) == 0) {
      if (stop.load(std::memory_order_relaxed)) break;
      progress.Update(set->BytesDone(), res.records, engine.Stats().flows_active);
    }
  }
  progress.Update(set->BytesDone(), res.records, engine.Stats().flows_active, /*final=*/true);
  progress.Clear();
  // Before the flush: the last output file closes after it and its manifest needs these.
  set->FinishInputs();
  engine.Flush(EndReason::kShutdown);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  FinishResult(*set, links, res);
  return res;
}

template OfflineResult RunOffline<FlowEngine>(const OfflineOptions&, FlowEngine&, const std::atomic<bool>&);
template OfflineResult RunOffline<CicEngine>(const OfflineOptions&, CicEngine&, const std::atomic<bool>&);
template OfflineResult RunOffline<NtlEngine>(const OfflineOptions&, NtlEngine&, const std::atomic<bool>&);

bool ScanCaptureDrops(const std::string& path, std::vector<CaptureDrop>* drops, std::string* error) {
  auto reader = CaptureReader::Open(path, error);
  if (!reader) return false;
  RawPacket raw;
  int rc;
  while ((rc = reader->Next(&raw)) == 1) {
  }
  *drops = reader->Drops();  // also after a corrupt record: the replay reports that error
  return true;
}

}  // namespace nfm
