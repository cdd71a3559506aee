// SPDX-License-Identifier: MIT
// RunOffline: capture reader -> decoder -> engine, with a throttled progress line.
#include "source/offline.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "engine/ntl_engine.hpp"
#include "source/capture_reader.hpp"
#include "engine/cic_engine.hpp"
#include "source/decode.hpp"
#include "source/decode_ntl.hpp"

namespace nfm {

namespace {
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
}  // namespace

template <class Engine>
OfflineResult RunOffline(const OfflineOptions& opts, Engine& engine, const std::atomic<bool>& stop) {
  OfflineResult res;
  std::string err;
  auto reader = CaptureReader::Open(opts.path, &err);
  if (!reader) {
    res.exit_code = 1;
    res.error = err;
    return res;
  }
  // scapy and dpkt both return the bytes of a record cut by the end of the file.
  reader->SetDeliverPartialRecord(opts.scapy_decode || opts.dpkt_decode);
  InputProgress* info = opts.info;
  if (info) {
    info->path = opts.path;
    info->format = reader->Format();
    info->size = reader->FileSize();
  }
  if (opts.hash_input) reader->EnableSha256();
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  const bool progress = opts.progress && isatty(STDERR_FILENO);
  const uint64_t size = reader->FileSize();
  const DecodeMode mode = opts.cic_decode     ? DecodeMode::kCic
                         : opts.scapy_decode ? DecodeMode::kScapy2022
                                             : DecodeMode::kStrict;
  uint64_t unsupported_link = 0;
  uint32_t first_bad_link = 0;
  // Decode runs kAhead packets ahead of the engine so the engine's memory (index slot, then
  // flow record) can be prefetched: with many flows, cache misses dominate otherwise.
  constexpr uint32_t kAhead = 8;
  struct Pending {
    PacketMeta meta;
    DecodeStatus status;
  };
  // +1: a frame can yield two packets in nfm2022 mode (TCP inside a UDP tunnel, D20).
  Pending ring[kAhead + 1];
  uint32_t head = 0, count = 0;
  RawPacket raw;
  PacketMeta second;
  int rc = 1;
  for (;;) {
    while (count < kAhead && rc == 1) {
      rc = reader->Next(&raw);
      if (rc != 1) break;
      ++res.records;
      if (info) {
        if (!info->have_times || raw.ts_ns < info->first_ns) info->first_ns = raw.ts_ns;
        if (!info->have_times || raw.ts_ns > info->last_ns) info->last_ns = raw.ts_ns;
        info->have_times = true;
        info->records = res.records;
      }
      Pending& slot = ring[(head + count) % (kAhead + 1)];
      bool has_second = false;
      slot.status = opts.dpkt_decode
                        ? DecodePacketNtl(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &slot.meta)
                        : DecodePacket2022(raw.link_type, raw.data, raw.cap_len, raw.wire_len, &slot.meta, &second,
                                           &has_second, mode);
      if (slot.status == DecodeStatus::kOk) {
        slot.meta.ts_ns = raw.ts_ns;
        slot.meta.ts_exp = raw.ts_exp;
        engine.PrefetchIndex(slot.meta);
      } else if (slot.status == DecodeStatus::kUnsupportedLink && unsupported_link++ == 0) {
        first_bad_link = raw.link_type;
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
      engine.OnPacket(cur.meta);
    } else {
      engine.OnSkipped(ToSkip(cur.status), cur.meta.wire_len);
    }
    head = (head + 1) % (kAhead + 1);
    --count;
    if ((res.records & 0xffff) == 0) {
      if (stop.load(std::memory_order_relaxed)) break;
      if (progress) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_progress > std::chrono::milliseconds(500)) {
          last_progress = now;
          const double secs = std::chrono::duration<double>(now - start).count();
          std::string pct;
          if (size) {
            char b[32];
            std::snprintf(b, sizeof(b), "%5.1f%%  ",
                          100.0 * static_cast<double>(reader->Offset()) / static_cast<double>(size));
            pct = b;
          }
          std::fprintf(stderr, "\r%s: %s%llu packets  %llu flows  %.2f Mpkt/s ", opts.path.c_str(), pct.c_str(),
                       static_cast<unsigned long long>(res.records),
                       static_cast<unsigned long long>(engine.Stats().flows_created),
                       static_cast<double>(res.records) / secs / 1e6);
        }
      }
    }
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  if (info) {
    // Before the flush: the last output file closes after it and its manifest needs these.
    info->drops = reader->Drops();
    if (opts.hash_input) {
      info->sha256_complete = rc <= 0;  // end of input or corrupt record: hash the rest too
      info->sha256 = reader->FinishSha256(info->sha256_complete, &info->sha256_bytes);
      if (info->sha256_complete && info->size == 0) info->size = info->sha256_bytes;
    }
  }
  engine.Flush(EndReason::kShutdown);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rc < 0) {
    res.exit_code = 2;
    res.error = reader->Error();
  }
  if (unsupported_link) {
    res.warning = "capture " + opts.path + ": " + std::to_string(unsupported_link) +
                  " records have an unsupported link type, " + LinkTypeText(first_bad_link) +
                  ", and were skipped";
  }
  const CaptureStats& cs = reader->Stats();
  if (cs.ts_clamped) {
    if (!res.warning.empty()) res.warning += "\n";
    res.warning += "capture " + opts.path + ": " + std::to_string(cs.ts_clamped) +
                   " timestamps were out of range (after year 2262) and were clamped";
  }
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
