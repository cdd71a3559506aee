// SPDX-License-Identifier: MIT
// The CSV column sets (spec §6.1): the 121 NFM-2022 names used by every profile except
// nfm2022-seed, and the seed's 115-column layout with its name collisions.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace nfm {

inline constexpr int kNumColumns = 121;
inline constexpr int kNumSeedColumns = 115;

inline constexpr std::array<std::string_view, kNumColumns> kColumnNames = {
    "flow_id", "timestamp", "src_ip", "src_port", "dst_ip", "dst_port", "protocol",
    "duration", "packets_count", "fwd_packets_count", "bwd_packets_count",
    "total_payload_bytes", "fwd_total_payload_bytes", "bwd_total_payload_bytes",
    "payload_bytes_max", "payload_bytes_min", "payload_bytes_mean", "payload_bytes_std",
    "payload_bytes_variance", "fwd_payload_bytes_max", "fwd_payload_bytes_min",
    "fwd_payload_bytes_mean", "fwd_payload_bytes_std", "fwd_payload_bytes_variance",
    "bwd_payload_bytes_max", "bwd_payload_bytes_min", "bwd_payload_bytes_mean",
    "bwd_payload_bytes_std", "bwd_payload_bytes_variance", "total_header_bytes",
    "max_header_bytes", "min_header_bytes", "mean_header_bytes", "std_header_bytes",
    "fwd_total_header_bytes", "fwd_max_header_bytes", "fwd_min_header_bytes",
    "fwd_mean_header_bytes", "fwd_std_header_bytes", "bwd_total_header_bytes",
    "bwd_max_header_bytes", "bwd_min_header_bytes", "bwd_mean_header_bytes",
    "bwd_std_header_bytes", "fwd_avg_segment_size", "bwd_avg_segment_size",
    "avg_segment_size", "fwd_init_win_bytes", "bwd_init_win_bytes", "active_min",
    "active_max", "active_mean", "active_std", "idle_min", "idle_max", "idle_mean", "idle_std",
    "bytes_rate", "fwd_bytes_rate", "bwd_bytes_rate", "packets_rate", "bwd_packets_rate",
    "fwd_packets_rate", "down_up_rate", "avg_fwd_bytes_per_bulk", "avg_fwd_packets_per_bulk",
    "avg_fwd_bulk_rate", "avg_bwd_bytes_per_bulk", "avg_bwd_packets_bulk_rate",
    "avg_bwd_bulk_rate", "fwd_bulk_state_count", "fwd_bulk_total_size", "fwd_bulk_per_packet",
    "fwd_bulk_duration", "bwd_bulk_state_count", "bwd_bulk_total_size", "bwd_bulk_per_packet",
    "bwd_bulk_duration", "fin_flag_counts", "psh_flag_counts", "urg_flag_counts",
    "ece_flag_counts", "syn_flag_counts", "ack_flag_counts", "cwr_flag_counts",
    "rst_flag_counts", "fwd_fin_flag_counts", "fwd_psh_flag_counts", "fwd_urg_flag_counts",
    "fwd_ece_flag_counts", "fwd_syn_flag_counts", "fwd_ack_flag_counts", "fwd_cwr_flag_counts",
    "fwd_rst_flag_counts", "bwd_fin_flag_counts", "bwd_psh_flag_counts", "bwd_urg_flag_counts",
    "bwd_ece_flag_counts", "bwd_syn_flag_counts", "bwd_ack_flag_counts", "bwd_cwr_flag_counts",
    "bwd_rst_flag_counts", "packets_IAT_mean", "packet_IAT_std", "packet_IAT_max",
    "packet_IAT_min", "packet_IAT_total", "fwd_packets_IAT_mean", "fwd_packets_IAT_std",
    "fwd_packets_IAT_max", "fwd_packets_IAT_min", "fwd_packets_IAT_total",
    "bwd_packets_IAT_mean", "bwd_packets_IAT_std", "bwd_packets_IAT_max", "bwd_packets_IAT_min",
    "bwd_packets_IAT_total", "subflow_fwd_packets", "subflow_bwd_packets", "subflow_fwd_bytes",
    "subflow_bwd_bytes"};

// Index of a column name in kColumnNames at compile time.
constexpr int ColumnIndex(std::string_view name) {
  for (int i = 0; i < kNumColumns; ++i)
    if (kColumnNames[i] == name) return i;
  return -1;
}

// The seed layout (spec §6.1): for each of its 115 positions, which of the 121 computed values
// it shows. Feature #17 (fwd payload variance) was named payload_bytes_variance and overwrote
// #12 in place; #33-37 (bwd header stats) were named fwd_*_header_bytes and overwrote those.
struct SeedColumn {
  std::string_view name;
  int source;  // index into the 121 computed values
};
std::array<SeedColumn, kNumSeedColumns> SeedLayout();

}  // namespace nfm
