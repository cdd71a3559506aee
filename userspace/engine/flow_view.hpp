// SPDX-License-Identifier: MIT
// FlowView: what the engine hands to every exporter when a flow ends (or, with snapshots, while
// it is still open) — identity, end reason, direction counters and every feature as a typed
// value, computed once. Exporters (CSV, IPFIX,
// metrics, labels, manifest) read it; none of them reaches into the engine's flow state.
// A FlowView is valid only during FlowExporter::Export; copy what you keep.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "engine/decimal.hpp"
#include "engine/packet.hpp"

namespace nfm {

enum class Profile : uint8_t {
  kCorrected,   // default: every defect of spec §7 fixed, time-driven termination
  kNfm2022,     // NetFlowMeter 019dde4, bit for bit (121 columns)
  kNfm2022Seed, // same arithmetic, the seed's 115-column layout with its name collisions
  kCic,         // CICFlowMeter master 98a5eba, byte for byte (84 columns, CIC.md)
  kNtl,         // NTLFlowLyzer e2def39, bit for bit (339 features + label; engine/ntl/ntl_engine)
  kCount        // the number of profiles (profile/profile_table.hpp has one row per profile)
};

// Why a flow was exported. Order and names are used as metric label values.
enum class EndReason : uint8_t {
  kIdle = 0,       // no packet for idle_timeout
  kActiveTimeout,  // flow lasted active_timeout; it continues as a new flow
  kFin,            // FIN seen in both directions (+ grace)
  kRst,            // RST seen (+ grace)
  kEviction,       // flow table full
  kShutdown,       // end of input / agent stopping
  kCount
};
const char* EndReasonName(EndReason r) noexcept;  // "idle", "active_timeout", "fin", "rst", "eviction", "shutdown"

// What a row is: the flow's one final row (it ended), or a snapshot of a flow that is still
// open (--snapshot-interval: the features so far; the flow continues and ends with a final
// row equal to the one it would have without snapshots).
enum class RowKind : uint8_t { kFinal = 0, kSnapshot };
inline const char* RowKindName(RowKind k) noexcept { return k == RowKind::kSnapshot ? "snapshot" : "final"; }

// One feature value. `kind` says how the reference prints it (spec §6.3); the column's
// IPFIX/storage type (unsigned or float) is fixed per column by the FeatureSet, and every
// kind converts to it (output/feature_value.hpp: FeatureAsDouble / FeatureAsUint).
struct FeatureValue {
  enum class Kind : uint8_t {
    kUint,          // u: an integer ("0" is also the 2022 "no data" text of float columns)
    kFloat,         // f: a double in the float format (kind X; corrected R)
    kRepr,          // f: a double always as repr (2022 kind R)
    kSecondsF,      // ns: RN(ns / 1e9) seconds; float format (corrected)
    kSecondsR,      // ns: RN(ns / 1e9) seconds; repr (2022)
    kDecimal,       // ns, exp: the exact decimal ns * 1e-9 held with exponent exp (2022 kind D)
    kDecimalFloat,  // aux: index into FlowView::decimals, printed with the float format (2022
                    // active/idle mean/std)
    kInt,           // ns: a signed integer (CIC type L: durations, rates cast to long)
    kJava,          // f: a double as Java's Double.toString prints it (CIC type D)
    kText,          // aux: index into kFeatureTexts (ntl: "not a complete handshake")
    kEmpty,         // an empty field: the reference's feature raised (ntl: duration and rates of
                    // a nanosecond capture, whose Decimal timestamps do not mix with floats)
  };
  Kind kind = Kind::kUint;
  int8_t exp = 0;    // kDecimal: decimal exponent (>= -9)
  uint16_t aux = 0;  // kDecimalFloat: index into FlowView::decimals
  union {
    uint64_t u = 0;
    int64_t ns;
    double f;
  };
  static FeatureValue Uint(uint64_t v) noexcept { FeatureValue x; x.u = v; return x; }
  static FeatureValue Float(double v) noexcept { FeatureValue x; x.kind = Kind::kFloat; x.f = v; return x; }
  static FeatureValue Repr(double v) noexcept { FeatureValue x; x.kind = Kind::kRepr; x.f = v; return x; }
  static FeatureValue Int(int64_t v) noexcept { FeatureValue x; x.kind = Kind::kInt; x.ns = v; return x; }
  static FeatureValue Java(double v) noexcept { FeatureValue x; x.kind = Kind::kJava; x.f = v; return x; }
  static FeatureValue Seconds(int64_t v, bool repr) noexcept {
    FeatureValue x;
    x.kind = repr ? Kind::kSecondsR : Kind::kSecondsF;
    x.ns = v;
    return x;
  }
  static FeatureValue DecimalNs(int64_t v, int exp) noexcept {
    FeatureValue x;
    x.kind = Kind::kDecimal;
    x.ns = v;
    x.exp = static_cast<int8_t>(exp < -9 ? -9 : exp);
    return x;
  }
};
static_assert(sizeof(FeatureValue) == 16);

// Texts of FeatureValue::Kind::kText values.
inline constexpr std::string_view kFeatureTexts[] = {"not a complete handshake"};

// Value type of a feature column, fixed per column: what the CSV prints is an integer or a float.
enum class FeatureType : uint8_t { kUnsigned, kFloat };

// The packets a column is computed over: one direction, both, or none (a state code).
enum class FeatureDir : uint8_t { kNone, kFwd, kBwd, kBoth };

// IPFIX abstract data type of a feature column's element (RFC 7012 §3.1).
enum class IpfixType : uint8_t { kUnsigned64, kSigned64, kFloat64 };

// One feature column. The tables (engine/feature_columns.hpp, engine/nfm_features.hpp,
// engine/ntl/ntl_features.hpp, engine/cic/cic_engine.cpp) give every field; the CSV header,
// the manifest, JSON and the IPFIX templates and information model read them.
struct FeatureInfo {
  std::string_view name;         // CSV column name
  FeatureType type = FeatureType::kUnsigned;
  std::string_view unit;         // unit rule: engine/feature_columns.hpp
  FeatureDir dir = FeatureDir::kBoth;
  std::string_view description;  // one sentence, starts with a capital, no final period
  IpfixType ipfix = IpfixType::kUnsigned64;
  std::string_view note;         // what this set adds to the description ("" if nothing)

  constexpr FeatureInfo() = default;
  // The IPFIX type defaults to the value type's: unsigned64 or float64.
  constexpr FeatureInfo(std::string_view n, FeatureType t, std::string_view u, FeatureDir d = FeatureDir::kBoth,
                        std::string_view desc = {}, std::optional<IpfixType> ip = std::nullopt) noexcept
      : name(n), type(t), unit(u), dir(d), description(desc),
        ipfix(ip ? *ip : t == FeatureType::kFloat ? IpfixType::kFloat64 : IpfixType::kUnsigned64) {}
};

// Which feature set a FeatureSet is; exporters switch on it, never on the name.
enum class FeatureSetId : uint8_t {
  kNfm,           // the 114 NetFlowMeter features (corrected, nfm2022, nfm2022-seed)
  kCic,           // CICFlowMeter's 76 features (--profile cic, --feature-set cic)
  kNtl,           // NTLFlowLyzer's 339 features (--profile ntl)
  kNtlCorrected,  // the 341 of --feature-set ntl
  kOther,         // ad-hoc sets (unit tests)
};

// An ordered feature set (the columns after the identity columns).
struct FeatureSet {
  std::string_view name;                 // "nfm", "cic", "ntl", "ntl-corrected" (text only)
  std::span<const FeatureInfo> columns;
  FeatureSetId id = FeatureSetId::kOther;
  bool IsNtl() const noexcept { return id == FeatureSetId::kNtl || id == FeatureSetId::kNtlCorrected; }
};

struct FlowView {
  // Identity. Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d (network order); ports host order.
  const uint8_t* src = nullptr;   // the flow's source (sender of the first packet)
  const uint8_t* dst = nullptr;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint8_t ip_version = 0;         // 4 or 6
  Profile profile = Profile::kCorrected;
  EndReason reason = EndReason::kShutdown;  // snapshots: kActiveTimeout (IPFIX: an interim record)
  RowKind row_kind = RowKind::kFinal;
  int64_t first_ns = 0;           // first packet time, ns since the Unix epoch (UTC)
  int64_t last_ns = 0;            // last packet time (corrected: latest effective time)
  // Per direction [0] forward (from src), [1] backward.
  uint64_t packets[2] = {};
  uint64_t payload_bytes[2] = {};  // the profile's payload definition
  uint64_t ip_bytes[2] = {};       // IP header + IP payload bytes (as the IP length fields say)
  uint8_t tcp_flags[2] = {};       // OR of the TCP flag bytes
  uint32_t source_id = 0;          // live: ring/shard that produced the flow; offline 0
  // --where-columns tunnel (EngineConfig::tunnel_columns): the tunnel of the flow's first packet
  // that came out of one, src/dst oriented like the flow (swapped if that packet went dst ->
  // src); null when the flow saw no tunnel or the columns are off.
  const TunnelMeta* tunnel = nullptr;
  // Features, in the order of `set->columns`.
  const FeatureSet* set = nullptr;
  std::span<const FeatureValue> features;
  std::span<const Decimal> decimals;  // operands of kDecimalFloat values
};

// Receives finished flows (and snapshots of open ones, row_kind kSnapshot, when the engine
// makes them). Export is called on the engine's thread, once per final row, in end
// order; it must not block for long (queue and return). Begin is called once, when the
// exporter is attached to the engine, before any flow (a CSV writes its header lazily at the
// first flow, so a run without flows leaves an empty file, as the references do).
class FlowExporter {
 public:
  virtual ~FlowExporter() = default;
  virtual void Begin(Profile profile, const FeatureSet& set) { (void)profile; (void)set; }
  virtual void Export(const FlowView& flow) = 0;
};

}  // namespace nfm
