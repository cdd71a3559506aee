// SPDX-License-Identifier: MIT
// The 114 NetFlowMeter features (spec §5.2) as a FeatureSet, in CSV order: NFM_NFM_COLUMNS
// lists them, the column definitions are shared (engine/feature_columns.hpp) but for the three
// only this set has. The CSV header (output/columns.hpp), the IPFIX element table and NfmCol,
// the ids FlowEngine::BuildView writes through, are generated from this one list.
#pragma once

#include <array>
#include <cstdint>

#include "engine/feature_columns.hpp"

namespace nfm::col {

NFM_COLUMN(fwd_avg_segment_size, kFloat, "bytes", kFwd,
           "Average segment size (payload bytes / packets), forward packets")
NFM_COLUMN(bwd_avg_segment_size, kFloat, "bytes", kBwd,
           "Average segment size (payload bytes / packets), backward packets")
NFM_COLUMN(avg_segment_size, kFloat, "bytes", kBoth,
           "Average segment size (payload bytes / packets)")

}  // namespace nfm::col

// clang-format off
#define NFM_NFM_COLUMNS(X) \
  X(duration) \
  X(packets_count) \
  X(fwd_packets_count) \
  X(bwd_packets_count) \
  X(total_payload_bytes) \
  X(fwd_total_payload_bytes) \
  X(bwd_total_payload_bytes) \
  X(payload_bytes_max) \
  X(payload_bytes_min) \
  X(payload_bytes_mean) \
  X(payload_bytes_std) \
  X(payload_bytes_variance) \
  X(fwd_payload_bytes_max) \
  X(fwd_payload_bytes_min) \
  X(fwd_payload_bytes_mean) \
  X(fwd_payload_bytes_std) \
  X(fwd_payload_bytes_variance) \
  X(bwd_payload_bytes_max) \
  X(bwd_payload_bytes_min) \
  X(bwd_payload_bytes_mean) \
  X(bwd_payload_bytes_std) \
  X(bwd_payload_bytes_variance) \
  X(total_header_bytes) \
  X(max_header_bytes) \
  X(min_header_bytes) \
  X(mean_header_bytes) \
  X(std_header_bytes) \
  X(fwd_total_header_bytes) \
  X(fwd_max_header_bytes) \
  X(fwd_min_header_bytes) \
  X(fwd_mean_header_bytes) \
  X(fwd_std_header_bytes) \
  X(bwd_total_header_bytes) \
  X(bwd_max_header_bytes) \
  X(bwd_min_header_bytes) \
  X(bwd_mean_header_bytes) \
  X(bwd_std_header_bytes) \
  X(fwd_avg_segment_size) \
  X(bwd_avg_segment_size) \
  X(avg_segment_size) \
  X(fwd_init_win_bytes) \
  X(bwd_init_win_bytes) \
  X(active_min) \
  X(active_max) \
  X(active_mean) \
  X(active_std) \
  X(idle_min) \
  X(idle_max) \
  X(idle_mean) \
  X(idle_std) \
  NFM_RATE_BULK_FLAG_COLUMNS(X) \
  X(packets_IAT_mean) \
  X(packet_IAT_std) \
  X(packet_IAT_max) \
  X(packet_IAT_min) \
  X(packet_IAT_total) \
  X(fwd_packets_IAT_mean) \
  X(fwd_packets_IAT_std) \
  X(fwd_packets_IAT_max) \
  X(fwd_packets_IAT_min) \
  X(fwd_packets_IAT_total) \
  X(bwd_packets_IAT_mean) \
  X(bwd_packets_IAT_std) \
  X(bwd_packets_IAT_max) \
  X(bwd_packets_IAT_min) \
  X(bwd_packets_IAT_total) \
  X(subflow_fwd_packets) \
  X(subflow_bwd_packets) \
  X(subflow_fwd_bytes) \
  X(subflow_bwd_bytes)
// clang-format on

namespace nfm {

// Column ids of the nfm set: NfmCol::<name> is the position of column <name>.
enum class NfmCol : uint8_t { NFM_NFM_COLUMNS(NFM_COLUMN_ENUM) kCount };

inline constexpr int kNumNfmFeatures = static_cast<int>(NfmCol::kCount);
static_assert(kNumNfmFeatures == 114);

inline constexpr std::array<FeatureInfo, kNumNfmFeatures> kNfmFeatures = {{NFM_NFM_COLUMNS(NFM_COLUMN_REF)}};

// The set handed out in FlowView::set by the corrected and nfm2022 profiles.
const FeatureSet& NfmFeatureSet() noexcept;

}  // namespace nfm
