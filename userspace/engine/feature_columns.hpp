// SPDX-License-Identifier: MIT
// The feature columns both the nfm set (engine/nfm_features.hpp) and NTLFlowLyzer's set
// (engine/ntl/ntl_features.hpp) export, each defined once as nfm::col::<name>: CSV name, value
// type, unit, direction, description. The set headers list columns in their order and define
// the columns only their set has; no computation here. A column defined twice does not compile.
//
// Unit rule, the same in every set (CSV manifest, IPFIX information model):
//   - a count has the unit of what it counts: "packets", "bulks";
//   - sizes are "bytes"; times "seconds", "milliseconds" or "microseconds" as the set prints
//     them; rates are "<unit>/second"; per-bulk and per-subflow averages have the unit of
//     what they average;
//   - a variance has the square of its quantity's unit: "bytes^2", "seconds^2", "milliseconds^2";
//   - a ratio, a fraction, a skewness, a coefficient of variation or a state code has none ("").
#pragma once

#include "engine/flow_view.hpp"

// Defines nfm::col::<id>, the column whose CSV name is "<id>" (used inside namespace nfm::col).
#define NFM_COLUMN(id, type, unit, dir, description) \
  inline constexpr ::nfm::FeatureInfo id{#id, ::nfm::FeatureType::type, unit, ::nfm::FeatureDir::dir, description};
// Expands to the column definition nfm::col::<id> (in a set's table) and to the enumerator
// <id> (in its column enum).
#define NFM_COLUMN_REF(id) ::nfm::col::id,
#define NFM_COLUMN_ENUM(id) id,

// The run of columns both sets list in the same order (rates, bulk statistics, flag counts),
// for their column lists (NFM_NFM_COLUMNS, NFM_NTL_COLUMNS).
#define NFM_RATE_BULK_FLAG_COLUMNS(X) \
  X(bytes_rate) \
  X(fwd_bytes_rate) \
  X(bwd_bytes_rate) \
  X(packets_rate) \
  X(bwd_packets_rate) \
  X(fwd_packets_rate) \
  X(down_up_rate) \
  X(avg_fwd_bytes_per_bulk) \
  X(avg_fwd_packets_per_bulk) \
  X(avg_fwd_bulk_rate) \
  X(avg_bwd_bytes_per_bulk) \
  X(avg_bwd_packets_bulk_rate) \
  X(avg_bwd_bulk_rate) \
  X(fwd_bulk_state_count) \
  X(fwd_bulk_total_size) \
  X(fwd_bulk_per_packet) \
  X(fwd_bulk_duration) \
  X(bwd_bulk_state_count) \
  X(bwd_bulk_total_size) \
  X(bwd_bulk_per_packet) \
  X(bwd_bulk_duration) \
  X(fin_flag_counts) \
  X(psh_flag_counts) \
  X(urg_flag_counts) \
  X(ece_flag_counts) \
  X(syn_flag_counts) \
  X(ack_flag_counts) \
  X(cwr_flag_counts) \
  X(rst_flag_counts) \
  X(fwd_fin_flag_counts) \
  X(fwd_psh_flag_counts) \
  X(fwd_urg_flag_counts) \
  X(fwd_ece_flag_counts) \
  X(fwd_syn_flag_counts) \
  X(fwd_ack_flag_counts) \
  X(fwd_cwr_flag_counts) \
  X(fwd_rst_flag_counts) \
  X(bwd_fin_flag_counts) \
  X(bwd_psh_flag_counts) \
  X(bwd_urg_flag_counts) \
  X(bwd_ece_flag_counts) \
  X(bwd_syn_flag_counts) \
  X(bwd_ack_flag_counts) \
  X(bwd_cwr_flag_counts) \
  X(bwd_rst_flag_counts)


namespace nfm::col {

NFM_COLUMN(duration, kFloat, "seconds", kBoth,
           "Flow duration: last minus first packet time")
NFM_COLUMN(packets_count, kUnsigned, "packets", kBoth,
           "Number of packets")
NFM_COLUMN(fwd_packets_count, kUnsigned, "packets", kFwd,
           "Number of packets, forward packets")
NFM_COLUMN(bwd_packets_count, kUnsigned, "packets", kBwd,
           "Number of packets, backward packets")
NFM_COLUMN(total_payload_bytes, kUnsigned, "bytes", kBoth,
           "Sum of payload bytes")
NFM_COLUMN(fwd_total_payload_bytes, kUnsigned, "bytes", kFwd,
           "Sum of payload bytes, forward packets")
NFM_COLUMN(bwd_total_payload_bytes, kUnsigned, "bytes", kBwd,
           "Sum of payload bytes, backward packets")
NFM_COLUMN(payload_bytes_max, kUnsigned, "bytes", kBoth,
           "Maximum of payload bytes per packet")
NFM_COLUMN(payload_bytes_min, kUnsigned, "bytes", kBoth,
           "Minimum of payload bytes per packet")
NFM_COLUMN(payload_bytes_mean, kFloat, "bytes", kBoth,
           "Mean of payload bytes per packet")
NFM_COLUMN(payload_bytes_std, kFloat, "bytes", kBoth,
           "Standard deviation (population) of payload bytes per packet")
NFM_COLUMN(payload_bytes_variance, kFloat, "bytes^2", kBoth,
           "Variance (population) of payload bytes per packet")
NFM_COLUMN(fwd_payload_bytes_max, kUnsigned, "bytes", kFwd,
           "Maximum of payload bytes per packet, forward packets")
NFM_COLUMN(fwd_payload_bytes_min, kUnsigned, "bytes", kFwd,
           "Minimum of payload bytes per packet, forward packets")
NFM_COLUMN(fwd_payload_bytes_mean, kFloat, "bytes", kFwd,
           "Mean of payload bytes per packet, forward packets")
NFM_COLUMN(fwd_payload_bytes_std, kFloat, "bytes", kFwd,
           "Standard deviation (population) of payload bytes per packet, forward packets")
NFM_COLUMN(fwd_payload_bytes_variance, kFloat, "bytes^2", kFwd,
           "Variance (population) of payload bytes per packet, forward packets")
NFM_COLUMN(bwd_payload_bytes_max, kUnsigned, "bytes", kBwd,
           "Maximum of payload bytes per packet, backward packets")
NFM_COLUMN(bwd_payload_bytes_min, kUnsigned, "bytes", kBwd,
           "Minimum of payload bytes per packet, backward packets")
NFM_COLUMN(bwd_payload_bytes_mean, kFloat, "bytes", kBwd,
           "Mean of payload bytes per packet, backward packets")
NFM_COLUMN(bwd_payload_bytes_std, kFloat, "bytes", kBwd,
           "Standard deviation (population) of payload bytes per packet, backward packets")
NFM_COLUMN(bwd_payload_bytes_variance, kFloat, "bytes^2", kBwd,
           "Variance (population) of payload bytes per packet, backward packets")
NFM_COLUMN(total_header_bytes, kUnsigned, "bytes", kBoth,
           "Sum of transport-header bytes")
NFM_COLUMN(max_header_bytes, kUnsigned, "bytes", kBoth,
           "Maximum of transport-header bytes per packet")
NFM_COLUMN(min_header_bytes, kUnsigned, "bytes", kBoth,
           "Minimum of transport-header bytes per packet")
NFM_COLUMN(mean_header_bytes, kFloat, "bytes", kBoth,
           "Mean of transport-header bytes per packet")
NFM_COLUMN(std_header_bytes, kFloat, "bytes", kBoth,
           "Standard deviation (population) of transport-header bytes per packet")
NFM_COLUMN(fwd_total_header_bytes, kUnsigned, "bytes", kFwd,
           "Sum of transport-header bytes, forward packets")
NFM_COLUMN(fwd_max_header_bytes, kUnsigned, "bytes", kFwd,
           "Maximum of transport-header bytes per packet, forward packets")
NFM_COLUMN(fwd_min_header_bytes, kUnsigned, "bytes", kFwd,
           "Minimum of transport-header bytes per packet, forward packets")
NFM_COLUMN(fwd_mean_header_bytes, kFloat, "bytes", kFwd,
           "Mean of transport-header bytes per packet, forward packets")
NFM_COLUMN(fwd_std_header_bytes, kFloat, "bytes", kFwd,
           "Standard deviation (population) of transport-header bytes per packet, forward packets")
NFM_COLUMN(bwd_total_header_bytes, kUnsigned, "bytes", kBwd,
           "Sum of transport-header bytes, backward packets")
NFM_COLUMN(bwd_max_header_bytes, kUnsigned, "bytes", kBwd,
           "Maximum of transport-header bytes per packet, backward packets")
NFM_COLUMN(bwd_min_header_bytes, kUnsigned, "bytes", kBwd,
           "Minimum of transport-header bytes per packet, backward packets")
NFM_COLUMN(bwd_mean_header_bytes, kFloat, "bytes", kBwd,
           "Mean of transport-header bytes per packet, backward packets")
NFM_COLUMN(bwd_std_header_bytes, kFloat, "bytes", kBwd,
           "Standard deviation (population) of transport-header bytes per packet, backward packets")
NFM_COLUMN(fwd_init_win_bytes, kUnsigned, "bytes", kFwd,
           "TCP window field of the first packet, forward packets")
NFM_COLUMN(bwd_init_win_bytes, kUnsigned, "bytes", kBwd,
           "TCP window field of the first packet, backward packets")
NFM_COLUMN(active_min, kFloat, "seconds", kBoth,
           "Minimum of active period lengths")
NFM_COLUMN(active_max, kFloat, "seconds", kBoth,
           "Maximum of active period lengths")
NFM_COLUMN(active_mean, kFloat, "seconds", kBoth,
           "Mean of active period lengths")
NFM_COLUMN(active_std, kFloat, "seconds", kBoth,
           "Standard deviation (population) of active period lengths")
NFM_COLUMN(idle_min, kFloat, "seconds", kBoth,
           "Minimum of idle period lengths")
NFM_COLUMN(idle_max, kFloat, "seconds", kBoth,
           "Maximum of idle period lengths")
NFM_COLUMN(idle_mean, kFloat, "seconds", kBoth,
           "Mean of idle period lengths")
NFM_COLUMN(idle_std, kFloat, "seconds", kBoth,
           "Standard deviation (population) of idle period lengths")
NFM_COLUMN(bytes_rate, kFloat, "bytes/second", kBoth,
           "Payload bytes per second of flow duration")
NFM_COLUMN(fwd_bytes_rate, kFloat, "bytes/second", kFwd,
           "Payload bytes per second of flow duration, forward packets")
NFM_COLUMN(bwd_bytes_rate, kFloat, "bytes/second", kBwd,
           "Payload bytes per second of flow duration, backward packets")
NFM_COLUMN(packets_rate, kFloat, "packets/second", kBoth,
           "Packets per second of flow duration")
NFM_COLUMN(bwd_packets_rate, kFloat, "packets/second", kBwd,
           "Packets per second of flow duration, backward packets")
NFM_COLUMN(fwd_packets_rate, kFloat, "packets/second", kFwd,
           "Packets per second of flow duration, forward packets")
NFM_COLUMN(down_up_rate, kFloat, "", kBoth,
           "Backward packets / forward packets")
NFM_COLUMN(avg_fwd_bytes_per_bulk, kFloat, "bytes", kFwd,
           "Bulk transfer average: fwd_bytes_per_bulk")
NFM_COLUMN(avg_fwd_packets_per_bulk, kFloat, "packets", kFwd,
           "Bulk transfer average: fwd_packets_per_bulk")
NFM_COLUMN(avg_fwd_bulk_rate, kFloat, "bytes/second", kFwd,
           "Bulk transfer average: fwd_bulk_rate")
NFM_COLUMN(avg_bwd_bytes_per_bulk, kFloat, "bytes", kBwd,
           "Bulk transfer average: bwd_bytes_per_bulk")
NFM_COLUMN(avg_bwd_packets_bulk_rate, kFloat, "packets", kBwd,
           "Bulk transfer average: bwd_packets_bulk_rate")
NFM_COLUMN(avg_bwd_bulk_rate, kFloat, "bytes/second", kBwd,
           "Bulk transfer average: bwd_bulk_rate")
NFM_COLUMN(fwd_bulk_state_count, kUnsigned, "bulks", kFwd,
           "Bulk transfers: state_count, forward packets")
NFM_COLUMN(fwd_bulk_total_size, kUnsigned, "bytes", kFwd,
           "Bulk transfers: total_size, forward packets")
NFM_COLUMN(fwd_bulk_per_packet, kUnsigned, "packets", kFwd,
           "Bulk transfers: per_packet, forward packets")
NFM_COLUMN(fwd_bulk_duration, kFloat, "seconds", kFwd,
           "Bulk transfers: duration, forward packets")
NFM_COLUMN(bwd_bulk_state_count, kUnsigned, "bulks", kBwd,
           "Bulk transfers: state_count, backward packets")
NFM_COLUMN(bwd_bulk_total_size, kUnsigned, "bytes", kBwd,
           "Bulk transfers: total_size, backward packets")
NFM_COLUMN(bwd_bulk_per_packet, kUnsigned, "packets", kBwd,
           "Bulk transfers: per_packet, backward packets")
NFM_COLUMN(bwd_bulk_duration, kFloat, "seconds", kBwd,
           "Bulk transfers: duration, backward packets")
NFM_COLUMN(fin_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the FIN flag set")
NFM_COLUMN(psh_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the PSH flag set")
NFM_COLUMN(urg_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the URG flag set")
NFM_COLUMN(ece_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the ECE flag set")
NFM_COLUMN(syn_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the SYN flag set")
NFM_COLUMN(ack_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the ACK flag set")
NFM_COLUMN(cwr_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the CWR flag set")
NFM_COLUMN(rst_flag_counts, kUnsigned, "packets", kBoth,
           "Packets with the RST flag set")
NFM_COLUMN(fwd_fin_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the FIN flag set, forward packets")
NFM_COLUMN(fwd_psh_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the PSH flag set, forward packets")
NFM_COLUMN(fwd_urg_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the URG flag set, forward packets")
NFM_COLUMN(fwd_ece_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the ECE flag set, forward packets")
NFM_COLUMN(fwd_syn_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the SYN flag set, forward packets")
NFM_COLUMN(fwd_ack_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the ACK flag set, forward packets")
NFM_COLUMN(fwd_cwr_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the CWR flag set, forward packets")
NFM_COLUMN(fwd_rst_flag_counts, kUnsigned, "packets", kFwd,
           "Packets with the RST flag set, forward packets")
NFM_COLUMN(bwd_fin_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the FIN flag set, backward packets")
NFM_COLUMN(bwd_psh_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the PSH flag set, backward packets")
NFM_COLUMN(bwd_urg_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the URG flag set, backward packets")
NFM_COLUMN(bwd_ece_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the ECE flag set, backward packets")
NFM_COLUMN(bwd_syn_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the SYN flag set, backward packets")
NFM_COLUMN(bwd_ack_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the ACK flag set, backward packets")
NFM_COLUMN(bwd_cwr_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the CWR flag set, backward packets")
NFM_COLUMN(bwd_rst_flag_counts, kUnsigned, "packets", kBwd,
           "Packets with the RST flag set, backward packets")
NFM_COLUMN(packets_IAT_mean, kFloat, "seconds", kBoth,
           "Mean of packet inter-arrival times")
NFM_COLUMN(packet_IAT_std, kFloat, "seconds", kBoth,
           "Standard deviation (population) of packet inter-arrival times")
NFM_COLUMN(packet_IAT_max, kFloat, "seconds", kBoth,
           "Maximum of packet inter-arrival times")
NFM_COLUMN(packet_IAT_min, kFloat, "seconds", kBoth,
           "Minimum of packet inter-arrival times")
NFM_COLUMN(packet_IAT_total, kFloat, "seconds", kBoth,
           "Sum of packet inter-arrival times")
NFM_COLUMN(fwd_packets_IAT_mean, kFloat, "seconds", kFwd,
           "Mean of packet inter-arrival times, forward packets")
NFM_COLUMN(fwd_packets_IAT_std, kFloat, "seconds", kFwd,
           "Standard deviation (population) of packet inter-arrival times, forward packets")
NFM_COLUMN(fwd_packets_IAT_max, kFloat, "seconds", kFwd,
           "Maximum of packet inter-arrival times, forward packets")
NFM_COLUMN(fwd_packets_IAT_min, kFloat, "seconds", kFwd,
           "Minimum of packet inter-arrival times, forward packets")
NFM_COLUMN(fwd_packets_IAT_total, kFloat, "seconds", kFwd,
           "Sum of packet inter-arrival times, forward packets")
NFM_COLUMN(bwd_packets_IAT_mean, kFloat, "seconds", kBwd,
           "Mean of packet inter-arrival times, backward packets")
NFM_COLUMN(bwd_packets_IAT_std, kFloat, "seconds", kBwd,
           "Standard deviation (population) of packet inter-arrival times, backward packets")
NFM_COLUMN(bwd_packets_IAT_max, kFloat, "seconds", kBwd,
           "Maximum of packet inter-arrival times, backward packets")
NFM_COLUMN(bwd_packets_IAT_min, kFloat, "seconds", kBwd,
           "Minimum of packet inter-arrival times, backward packets")
NFM_COLUMN(bwd_packets_IAT_total, kFloat, "seconds", kBwd,
           "Sum of packet inter-arrival times, backward packets")
NFM_COLUMN(subflow_fwd_packets, kFloat, "packets", kFwd,
           "Average packets per subflow, forward packets")
NFM_COLUMN(subflow_bwd_packets, kFloat, "packets", kBwd,
           "Average packets per subflow, backward packets")
NFM_COLUMN(subflow_fwd_bytes, kFloat, "bytes", kFwd,
           "Average payload bytes per subflow, forward packets")
NFM_COLUMN(subflow_bwd_bytes, kFloat, "bytes", kBwd,
           "Average payload bytes per subflow, backward packets")

}  // namespace nfm::col
