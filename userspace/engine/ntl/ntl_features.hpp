// SPDX-License-Identifier: MIT
// The NTLFlowLyzer e2def39 feature set: 339 columns in its CSV order and names (spec §8.3),
// listed by NFM_NTL_COLUMNS. The 111 columns the nfm set also has are defined once in
// engine/feature_columns.hpp; the ones only this set has are defined here. Used by --profile
// ntl and --feature-set ntl; the exporters print 7 identity columns, these, and `label`.
// Names only: no computation here.
#pragma once

#include <array>
#include <cstdint>

#include "engine/feature_columns.hpp"

namespace nfm::col {

NFM_COLUMN(payload_bytes_median, kFloat, "bytes", kBoth,
           "Payload bytes median")
NFM_COLUMN(payload_bytes_skewness, kFloat, "", kBoth,
           "Payload bytes skewness")
NFM_COLUMN(payload_bytes_cov, kFloat, "", kBoth,
           "Payload bytes cov")
NFM_COLUMN(payload_bytes_mode, kFloat, "bytes", kBoth,
           "Payload bytes mode")
NFM_COLUMN(fwd_payload_bytes_median, kFloat, "bytes", kFwd,
           "Fwd payload bytes median")
NFM_COLUMN(fwd_payload_bytes_skewness, kFloat, "", kFwd,
           "Fwd payload bytes skewness")
NFM_COLUMN(fwd_payload_bytes_cov, kFloat, "", kFwd,
           "Fwd payload bytes cov")
NFM_COLUMN(fwd_payload_bytes_mode, kFloat, "bytes", kFwd,
           "Fwd payload bytes mode")
NFM_COLUMN(bwd_payload_bytes_median, kFloat, "bytes", kBwd,
           "Bwd payload bytes median")
NFM_COLUMN(bwd_payload_bytes_skewness, kFloat, "", kBwd,
           "Bwd payload bytes skewness")
NFM_COLUMN(bwd_payload_bytes_cov, kFloat, "", kBwd,
           "Bwd payload bytes cov")
NFM_COLUMN(bwd_payload_bytes_mode, kFloat, "bytes", kBwd,
           "Bwd payload bytes mode")
NFM_COLUMN(median_header_bytes, kFloat, "bytes", kBoth,
           "Median of header bytes")
NFM_COLUMN(skewness_header_bytes, kFloat, "", kBoth,
           "Skewness of header bytes")
NFM_COLUMN(cov_header_bytes, kFloat, "", kBoth,
           "Coefficient of variation of header bytes")
NFM_COLUMN(mode_header_bytes, kFloat, "bytes", kBoth,
           "Mode (smallest on ties) of header bytes")
NFM_COLUMN(variance_header_bytes, kFloat, "bytes^2", kBoth,
           "Variance of header bytes")
NFM_COLUMN(fwd_median_header_bytes, kFloat, "bytes", kFwd,
           "Fwd median header bytes")
NFM_COLUMN(fwd_skewness_header_bytes, kFloat, "", kFwd,
           "Fwd skewness header bytes")
NFM_COLUMN(fwd_cov_header_bytes, kFloat, "", kFwd,
           "Fwd cov header bytes")
NFM_COLUMN(fwd_mode_header_bytes, kFloat, "bytes", kFwd,
           "Fwd mode header bytes")
NFM_COLUMN(fwd_variance_header_bytes, kFloat, "bytes^2", kFwd,
           "Fwd variance header bytes")
NFM_COLUMN(bwd_median_header_bytes, kFloat, "bytes", kBwd,
           "Bwd median header bytes")
NFM_COLUMN(bwd_skewness_header_bytes, kFloat, "", kBwd,
           "Bwd skewness header bytes")
NFM_COLUMN(bwd_cov_header_bytes, kFloat, "", kBwd,
           "Bwd cov header bytes")
NFM_COLUMN(bwd_mode_header_bytes, kFloat, "bytes", kBwd,
           "Bwd mode header bytes")
NFM_COLUMN(bwd_variance_header_bytes, kFloat, "bytes^2", kBwd,
           "Bwd variance header bytes")
NFM_COLUMN(fwd_segment_size_mean, kFloat, "bytes", kFwd,
           "Fwd segment size mean")
NFM_COLUMN(fwd_segment_size_max, kUnsigned, "bytes", kFwd,
           "Fwd segment size max")
NFM_COLUMN(fwd_segment_size_min, kUnsigned, "bytes", kFwd,
           "Fwd segment size min")
NFM_COLUMN(fwd_segment_size_std, kFloat, "bytes", kFwd,
           "Fwd segment size std")
NFM_COLUMN(fwd_segment_size_variance, kFloat, "bytes^2", kFwd,
           "Fwd segment size variance")
NFM_COLUMN(fwd_segment_size_median, kFloat, "bytes", kFwd,
           "Fwd segment size median")
NFM_COLUMN(fwd_segment_size_skewness, kFloat, "", kFwd,
           "Fwd segment size skewness")
NFM_COLUMN(fwd_segment_size_cov, kFloat, "", kFwd,
           "Fwd segment size cov")
NFM_COLUMN(fwd_segment_size_mode, kFloat, "bytes", kFwd,
           "Fwd segment size mode")
NFM_COLUMN(bwd_segment_size_mean, kFloat, "bytes", kBwd,
           "Bwd segment size mean")
NFM_COLUMN(bwd_segment_size_max, kUnsigned, "bytes", kBwd,
           "Bwd segment size max")
NFM_COLUMN(bwd_segment_size_min, kUnsigned, "bytes", kBwd,
           "Bwd segment size min")
NFM_COLUMN(bwd_segment_size_std, kFloat, "bytes", kBwd,
           "Bwd segment size std")
NFM_COLUMN(bwd_segment_size_variance, kFloat, "bytes^2", kBwd,
           "Bwd segment size variance")
NFM_COLUMN(bwd_segment_size_median, kFloat, "bytes", kBwd,
           "Bwd segment size median")
NFM_COLUMN(bwd_segment_size_skewness, kFloat, "", kBwd,
           "Bwd segment size skewness")
NFM_COLUMN(bwd_segment_size_cov, kFloat, "", kBwd,
           "Bwd segment size cov")
NFM_COLUMN(bwd_segment_size_mode, kFloat, "bytes", kBwd,
           "Bwd segment size mode")
NFM_COLUMN(segment_size_mean, kFloat, "bytes", kBoth,
           "Segment size mean")
NFM_COLUMN(segment_size_max, kUnsigned, "bytes", kBoth,
           "Segment size max")
NFM_COLUMN(segment_size_min, kUnsigned, "bytes", kBoth,
           "Segment size min")
NFM_COLUMN(segment_size_std, kFloat, "bytes", kBoth,
           "Segment size std")
NFM_COLUMN(segment_size_variance, kFloat, "bytes^2", kBoth,
           "Segment size variance")
NFM_COLUMN(segment_size_median, kFloat, "bytes", kBoth,
           "Segment size median")
NFM_COLUMN(segment_size_skewness, kFloat, "", kBoth,
           "Segment size skewness")
NFM_COLUMN(segment_size_cov, kFloat, "", kBoth,
           "Segment size cov")
NFM_COLUMN(segment_size_mode, kFloat, "bytes", kBoth,
           "Segment size mode")
NFM_COLUMN(active_median, kFloat, "seconds", kBoth,
           "Active median")
NFM_COLUMN(active_skewness, kFloat, "", kBoth,
           "Active skewness")
NFM_COLUMN(active_cov, kFloat, "", kBoth,
           "Active cov")
NFM_COLUMN(active_mode, kFloat, "seconds", kBoth,
           "Active mode")
NFM_COLUMN(active_variance, kFloat, "seconds^2", kBoth,
           "Active variance")
NFM_COLUMN(idle_median, kFloat, "seconds", kBoth,
           "Idle median")
NFM_COLUMN(idle_skewness, kFloat, "", kBoth,
           "Idle skewness")
NFM_COLUMN(idle_cov, kFloat, "", kBoth,
           "Idle cov")
NFM_COLUMN(idle_mode, kFloat, "seconds", kBoth,
           "Idle mode")
NFM_COLUMN(idle_variance, kFloat, "seconds^2", kBoth,
           "Idle variance")
NFM_COLUMN(fin_flag_percentage_in_total, kFloat, "", kBoth,
           "Fin flag percentage in total")
NFM_COLUMN(psh_flag_percentage_in_total, kFloat, "", kBoth,
           "Psh flag percentage in total")
NFM_COLUMN(urg_flag_percentage_in_total, kFloat, "", kBoth,
           "Urg flag percentage in total")
NFM_COLUMN(ece_flag_percentage_in_total, kFloat, "", kBoth,
           "Ece flag percentage in total")
NFM_COLUMN(syn_flag_percentage_in_total, kFloat, "", kBoth,
           "Syn flag percentage in total")
NFM_COLUMN(ack_flag_percentage_in_total, kFloat, "", kBoth,
           "Ack flag percentage in total")
NFM_COLUMN(cwr_flag_percentage_in_total, kFloat, "", kBoth,
           "Cwr flag percentage in total")
NFM_COLUMN(rst_flag_percentage_in_total, kFloat, "", kBoth,
           "Rst flag percentage in total")
NFM_COLUMN(fwd_fin_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd fin flag percentage in total")
NFM_COLUMN(fwd_psh_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd psh flag percentage in total")
NFM_COLUMN(fwd_urg_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd urg flag percentage in total")
NFM_COLUMN(fwd_ece_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd ece flag percentage in total")
NFM_COLUMN(fwd_syn_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd syn flag percentage in total")
NFM_COLUMN(fwd_ack_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd ack flag percentage in total")
NFM_COLUMN(fwd_cwr_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd cwr flag percentage in total")
NFM_COLUMN(fwd_rst_flag_percentage_in_total, kFloat, "", kFwd,
           "Fwd rst flag percentage in total")
NFM_COLUMN(bwd_fin_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd fin flag percentage in total")
NFM_COLUMN(bwd_psh_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd psh flag percentage in total")
NFM_COLUMN(bwd_urg_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd urg flag percentage in total")
NFM_COLUMN(bwd_ece_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd ece flag percentage in total")
NFM_COLUMN(bwd_syn_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd syn flag percentage in total")
NFM_COLUMN(bwd_ack_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd ack flag percentage in total")
NFM_COLUMN(bwd_cwr_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd cwr flag percentage in total")
NFM_COLUMN(bwd_rst_flag_percentage_in_total, kFloat, "", kBwd,
           "Bwd rst flag percentage in total")
NFM_COLUMN(fwd_fin_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd fin flag percentage in fwd packets")
NFM_COLUMN(fwd_psh_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd psh flag percentage in fwd packets")
NFM_COLUMN(fwd_urg_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd urg flag percentage in fwd packets")
NFM_COLUMN(fwd_ece_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd ece flag percentage in fwd packets")
NFM_COLUMN(fwd_syn_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd syn flag percentage in fwd packets")
NFM_COLUMN(fwd_ack_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd ack flag percentage in fwd packets")
NFM_COLUMN(fwd_cwr_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd cwr flag percentage in fwd packets")
NFM_COLUMN(fwd_rst_flag_percentage_in_fwd_packets, kFloat, "", kFwd,
           "Fwd rst flag percentage in fwd packets")
NFM_COLUMN(bwd_fin_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd fin flag percentage in bwd packets")
NFM_COLUMN(bwd_psh_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd psh flag percentage in bwd packets")
NFM_COLUMN(bwd_urg_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd urg flag percentage in bwd packets")
NFM_COLUMN(bwd_ece_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd ece flag percentage in bwd packets")
NFM_COLUMN(bwd_syn_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd syn flag percentage in bwd packets")
NFM_COLUMN(bwd_ack_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd ack flag percentage in bwd packets")
NFM_COLUMN(bwd_cwr_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd cwr flag percentage in bwd packets")
NFM_COLUMN(bwd_rst_flag_percentage_in_bwd_packets, kFloat, "", kBwd,
           "Bwd rst flag percentage in bwd packets")
NFM_COLUMN(packets_IAT_median, kFloat, "seconds", kBoth,
           "Packets IAT median")
NFM_COLUMN(packets_IAT_skewness, kFloat, "", kBoth,
           "Packets IAT skewness")
NFM_COLUMN(packets_IAT_cov, kFloat, "", kBoth,
           "Packets IAT cov")
NFM_COLUMN(packets_IAT_mode, kFloat, "seconds", kBoth,
           "Packets IAT mode")
NFM_COLUMN(packets_IAT_variance, kFloat, "seconds^2", kBoth,
           "Packets IAT variance")
NFM_COLUMN(fwd_packets_IAT_median, kFloat, "seconds", kFwd,
           "Fwd packets IAT median")
NFM_COLUMN(fwd_packets_IAT_skewness, kFloat, "", kFwd,
           "Fwd packets IAT skewness")
NFM_COLUMN(fwd_packets_IAT_cov, kFloat, "", kFwd,
           "Fwd packets IAT cov")
NFM_COLUMN(fwd_packets_IAT_mode, kFloat, "seconds", kFwd,
           "Fwd packets IAT mode")
NFM_COLUMN(fwd_packets_IAT_variance, kFloat, "seconds^2", kFwd,
           "Fwd packets IAT variance")
NFM_COLUMN(bwd_packets_IAT_median, kFloat, "seconds", kBwd,
           "Bwd packets IAT median")
NFM_COLUMN(bwd_packets_IAT_skewness, kFloat, "", kBwd,
           "Bwd packets IAT skewness")
NFM_COLUMN(bwd_packets_IAT_cov, kFloat, "", kBwd,
           "Bwd packets IAT cov")
NFM_COLUMN(bwd_packets_IAT_mode, kFloat, "seconds", kBwd,
           "Bwd packets IAT mode")
NFM_COLUMN(bwd_packets_IAT_variance, kFloat, "seconds^2", kBwd,
           "Bwd packets IAT variance")
NFM_COLUMN(delta_start, kFloat, "seconds", kBoth,
           "Delta start (--profile ntl: NaN payload 1 = \"not a complete handshake\"; corrected: NaN)")
NFM_COLUMN(handshake_duration, kFloat, "seconds", kBoth,
           "Handshake duration (--profile ntl: NaN payload 1 = \"not a complete handshake\"; corrected: NaN)")
NFM_COLUMN(handshake_state, kUnsigned, "", kNone,
           "Handshake state")
NFM_COLUMN(min_bwd_packets_delta_time, kFloat, "milliseconds", kBwd,
           "Minimum of bwd packets delta time")
NFM_COLUMN(max_bwd_packets_delta_time, kFloat, "milliseconds", kBwd,
           "Maximum of bwd packets delta time")
NFM_COLUMN(mean_packets_delta_time, kFloat, "milliseconds", kBoth,
           "Mean of packets delta time")
NFM_COLUMN(mode_packets_delta_time, kFloat, "milliseconds", kBoth,
           "Mode (smallest on ties) of packets delta time")
NFM_COLUMN(variance_packets_delta_time, kFloat, "milliseconds^2", kBoth,
           "Variance of packets delta time")
NFM_COLUMN(std_packets_delta_time, kFloat, "milliseconds", kBoth,
           "Standard deviation of packets delta time")
NFM_COLUMN(median_packets_delta_time, kFloat, "milliseconds", kBoth,
           "Median of packets delta time")
NFM_COLUMN(skewness_packets_delta_time, kFloat, "", kBoth,
           "Skewness of packets delta time")
NFM_COLUMN(cov_packets_delta_time, kFloat, "", kBoth,
           "Coefficient of variation of packets delta time")
NFM_COLUMN(mean_bwd_packets_delta_time, kFloat, "milliseconds", kBwd,
           "Mean of bwd packets delta time")
NFM_COLUMN(mode_bwd_packets_delta_time, kFloat, "milliseconds", kBwd,
           "Mode (smallest on ties) of bwd packets delta time")
NFM_COLUMN(variance_bwd_packets_delta_time, kFloat, "milliseconds^2", kBwd,
           "Variance of bwd packets delta time")
NFM_COLUMN(std_bwd_packets_delta_time, kFloat, "milliseconds", kBwd,
           "Standard deviation of bwd packets delta time")
NFM_COLUMN(median_bwd_packets_delta_time, kFloat, "milliseconds", kBwd,
           "Median of bwd packets delta time")
NFM_COLUMN(skewness_bwd_packets_delta_time, kFloat, "", kBwd,
           "Skewness of bwd packets delta time")
NFM_COLUMN(cov_bwd_packets_delta_time, kFloat, "", kBwd,
           "Coefficient of variation of bwd packets delta time")
NFM_COLUMN(min_fwd_packets_delta_time, kFloat, "milliseconds", kFwd,
           "Minimum of fwd packets delta time")
NFM_COLUMN(max_fwd_packets_delta_time, kFloat, "milliseconds", kFwd,
           "Maximum of fwd packets delta time")
NFM_COLUMN(mean_fwd_packets_delta_time, kFloat, "milliseconds", kFwd,
           "Mean of fwd packets delta time")
NFM_COLUMN(mode_fwd_packets_delta_time, kFloat, "milliseconds", kFwd,
           "Mode (smallest on ties) of fwd packets delta time")
NFM_COLUMN(variance_fwd_packets_delta_time, kFloat, "milliseconds^2", kFwd,
           "Variance of fwd packets delta time")
NFM_COLUMN(std_fwd_packets_delta_time, kFloat, "milliseconds", kFwd,
           "Standard deviation of fwd packets delta time")
NFM_COLUMN(median_fwd_packets_delta_time, kFloat, "milliseconds", kFwd,
           "Median of fwd packets delta time")
NFM_COLUMN(skewness_fwd_packets_delta_time, kFloat, "", kFwd,
           "Skewness of fwd packets delta time")
NFM_COLUMN(cov_fwd_packets_delta_time, kFloat, "", kFwd,
           "Coefficient of variation of fwd packets delta time")
NFM_COLUMN(min_packets_delta_len, kFloat, "bytes", kBoth,
           "Minimum of packets delta len")
NFM_COLUMN(max_packets_delta_len, kFloat, "bytes", kBoth,
           "Maximum of packets delta len")
NFM_COLUMN(mean_packets_delta_len, kFloat, "bytes", kBoth,
           "Mean of packets delta len")
NFM_COLUMN(mode_packets_delta_len, kFloat, "bytes", kBoth,
           "Mode (smallest on ties) of packets delta len")
NFM_COLUMN(variance_packets_delta_len, kFloat, "bytes^2", kBoth,
           "Variance of packets delta len")
NFM_COLUMN(std_packets_delta_len, kFloat, "bytes", kBoth,
           "Standard deviation of packets delta len")
NFM_COLUMN(median_packets_delta_len, kFloat, "bytes", kBoth,
           "Median of packets delta len")
NFM_COLUMN(skewness_packets_delta_len, kFloat, "", kBoth,
           "Skewness of packets delta len")
NFM_COLUMN(cov_packets_delta_len, kFloat, "", kBoth,
           "Coefficient of variation of packets delta len")
NFM_COLUMN(min_bwd_packets_delta_len, kFloat, "bytes", kBwd,
           "Minimum of bwd packets delta len")
NFM_COLUMN(max_bwd_packets_delta_len, kFloat, "bytes", kBwd,
           "Maximum of bwd packets delta len")
NFM_COLUMN(mean_bwd_packets_delta_len, kFloat, "bytes", kBwd,
           "Mean of bwd packets delta len")
NFM_COLUMN(mode_bwd_packets_delta_len, kFloat, "bytes", kBwd,
           "Mode (smallest on ties) of bwd packets delta len")
NFM_COLUMN(variance_bwd_packets_delta_len, kFloat, "bytes^2", kBwd,
           "Variance of bwd packets delta len")
NFM_COLUMN(std_bwd_packets_delta_len, kFloat, "bytes", kBwd,
           "Standard deviation of bwd packets delta len")
NFM_COLUMN(median_bwd_packets_delta_len, kFloat, "bytes", kBwd,
           "Median of bwd packets delta len")
NFM_COLUMN(skewness_bwd_packets_delta_len, kFloat, "", kBwd,
           "Skewness of bwd packets delta len")
NFM_COLUMN(cov_bwd_packets_delta_len, kFloat, "", kBwd,
           "Coefficient of variation of bwd packets delta len")
NFM_COLUMN(min_fwd_packets_delta_len, kFloat, "bytes", kFwd,
           "Minimum of fwd packets delta len")
NFM_COLUMN(max_fwd_packets_delta_len, kFloat, "bytes", kFwd,
           "Maximum of fwd packets delta len")
NFM_COLUMN(mean_fwd_packets_delta_len, kFloat, "bytes", kFwd,
           "Mean of fwd packets delta len")
NFM_COLUMN(mode_fwd_packets_delta_len, kFloat, "bytes", kFwd,
           "Mode (smallest on ties) of fwd packets delta len")
NFM_COLUMN(variance_fwd_packets_delta_len, kFloat, "bytes^2", kFwd,
           "Variance of fwd packets delta len")
NFM_COLUMN(std_fwd_packets_delta_len, kFloat, "bytes", kFwd,
           "Standard deviation of fwd packets delta len")
NFM_COLUMN(median_fwd_packets_delta_len, kFloat, "bytes", kFwd,
           "Median of fwd packets delta len")
NFM_COLUMN(skewness_fwd_packets_delta_len, kFloat, "", kFwd,
           "Skewness of fwd packets delta len")
NFM_COLUMN(cov_fwd_packets_delta_len, kFloat, "", kFwd,
           "Coefficient of variation of fwd packets delta len")
NFM_COLUMN(min_header_bytes_delta_len, kFloat, "bytes", kBoth,
           "Minimum of header bytes delta len")
NFM_COLUMN(max_header_bytes_delta_len, kFloat, "bytes", kBoth,
           "Maximum of header bytes delta len")
NFM_COLUMN(mean_header_bytes_delta_len, kFloat, "bytes", kBoth,
           "Mean of header bytes delta len")
NFM_COLUMN(mode_header_bytes_delta_len, kFloat, "bytes", kBoth,
           "Mode (smallest on ties) of header bytes delta len")
NFM_COLUMN(variance_header_bytes_delta_len, kFloat, "bytes^2", kBoth,
           "Variance of header bytes delta len")
NFM_COLUMN(std_header_bytes_delta_len, kFloat, "bytes", kBoth,
           "Standard deviation of header bytes delta len")
NFM_COLUMN(median_header_bytes_delta_len, kFloat, "bytes", kBoth,
           "Median of header bytes delta len")
NFM_COLUMN(skewness_header_bytes_delta_len, kFloat, "", kBoth,
           "Skewness of header bytes delta len")
NFM_COLUMN(cov_header_bytes_delta_len, kFloat, "", kBoth,
           "Coefficient of variation of header bytes delta len")
NFM_COLUMN(min_bwd_header_bytes_delta_len, kFloat, "bytes", kBwd,
           "Minimum of bwd header bytes delta len")
NFM_COLUMN(max_bwd_header_bytes_delta_len, kFloat, "bytes", kBwd,
           "Maximum of bwd header bytes delta len")
NFM_COLUMN(mean_bwd_header_bytes_delta_len, kFloat, "bytes", kBwd,
           "Mean of bwd header bytes delta len")
NFM_COLUMN(mode_bwd_header_bytes_delta_len, kFloat, "bytes", kBwd,
           "Mode (smallest on ties) of bwd header bytes delta len")
NFM_COLUMN(variance_bwd_header_bytes_delta_len, kFloat, "bytes^2", kBwd,
           "Variance of bwd header bytes delta len")
NFM_COLUMN(std_bwd_header_bytes_delta_len, kFloat, "bytes", kBwd,
           "Standard deviation of bwd header bytes delta len")
NFM_COLUMN(median_bwd_header_bytes_delta_len, kFloat, "bytes", kBwd,
           "Median of bwd header bytes delta len")
NFM_COLUMN(skewness_bwd_header_bytes_delta_len, kFloat, "", kBwd,
           "Skewness of bwd header bytes delta len")
NFM_COLUMN(cov_bwd_header_bytes_delta_len, kFloat, "", kBwd,
           "Coefficient of variation of bwd header bytes delta len")
NFM_COLUMN(min_fwd_header_bytes_delta_len, kFloat, "bytes", kFwd,
           "Minimum of fwd header bytes delta len")
NFM_COLUMN(max_fwd_header_bytes_delta_len, kFloat, "bytes", kFwd,
           "Maximum of fwd header bytes delta len")
NFM_COLUMN(mean_fwd_header_bytes_delta_len, kFloat, "bytes", kFwd,
           "Mean of fwd header bytes delta len")
NFM_COLUMN(mode_fwd_header_bytes_delta_len, kFloat, "bytes", kFwd,
           "Mode (smallest on ties) of fwd header bytes delta len")
NFM_COLUMN(variance_fwd_header_bytes_delta_len, kFloat, "bytes^2", kFwd,
           "Variance of fwd header bytes delta len")
NFM_COLUMN(std_fwd_header_bytes_delta_len, kFloat, "bytes", kFwd,
           "Standard deviation of fwd header bytes delta len")
NFM_COLUMN(median_fwd_header_bytes_delta_len, kFloat, "bytes", kFwd,
           "Median of fwd header bytes delta len")
NFM_COLUMN(skewness_fwd_header_bytes_delta_len, kFloat, "", kFwd,
           "Skewness of fwd header bytes delta len")
NFM_COLUMN(cov_fwd_header_bytes_delta_len, kFloat, "", kFwd,
           "Coefficient of variation of fwd header bytes delta len")
NFM_COLUMN(min_payload_bytes_delta_len, kFloat, "bytes", kBoth,
           "Minimum of payload bytes delta len")
NFM_COLUMN(max_payload_bytes_delta_len, kFloat, "bytes", kBoth,
           "Maximum of payload bytes delta len")
NFM_COLUMN(mean_payload_bytes_delta_len, kFloat, "bytes", kBoth,
           "Mean of payload bytes delta len")
NFM_COLUMN(mode_payload_bytes_delta_len, kFloat, "bytes", kBoth,
           "Mode (smallest on ties) of payload bytes delta len")
NFM_COLUMN(variance_payload_bytes_delta_len, kFloat, "bytes^2", kBoth,
           "Variance of payload bytes delta len")
NFM_COLUMN(std_payload_bytes_delta_len, kFloat, "bytes", kBoth,
           "Standard deviation of payload bytes delta len")
NFM_COLUMN(median_payload_bytes_delta_len, kFloat, "bytes", kBoth,
           "Median of payload bytes delta len")
NFM_COLUMN(skewness_payload_bytes_delta_len, kFloat, "", kBoth,
           "Skewness of payload bytes delta len")
NFM_COLUMN(cov_payload_bytes_delta_len, kFloat, "", kBoth,
           "Coefficient of variation of payload bytes delta len")
NFM_COLUMN(min_bwd_payload_bytes_delta_len, kFloat, "bytes", kBwd,
           "Minimum of bwd payload bytes delta len")
NFM_COLUMN(max_bwd_payload_bytes_delta_len, kFloat, "bytes", kBwd,
           "Maximum of bwd payload bytes delta len")
NFM_COLUMN(mean_bwd_payload_bytes_delta_len, kFloat, "bytes", kBwd,
           "Mean of bwd payload bytes delta len")
NFM_COLUMN(mode_bwd_payload_bytes_delta_len, kFloat, "bytes", kBwd,
           "Mode (smallest on ties) of bwd payload bytes delta len")
NFM_COLUMN(variance_bwd_payload_bytes_delta_len, kFloat, "bytes^2", kBwd,
           "Variance of bwd payload bytes delta len")
NFM_COLUMN(std_bwd_payload_bytes_delta_len, kFloat, "bytes", kBwd,
           "Standard deviation of bwd payload bytes delta len")
NFM_COLUMN(median_bwd_payload_bytes_delta_len, kFloat, "bytes", kBwd,
           "Median of bwd payload bytes delta len")
NFM_COLUMN(skewness_bwd_payload_bytes_delta_len, kFloat, "", kBwd,
           "Skewness of bwd payload bytes delta len")
NFM_COLUMN(cov_bwd_payload_bytes_delta_len, kFloat, "", kBwd,
           "Coefficient of variation of bwd payload bytes delta len")
NFM_COLUMN(min_fwd_payload_bytes_delta_len, kFloat, "bytes", kFwd,
           "Minimum of fwd payload bytes delta len")
NFM_COLUMN(max_fwd_payload_bytes_delta_len, kFloat, "bytes", kFwd,
           "Maximum of fwd payload bytes delta len")
NFM_COLUMN(mean_fwd_payload_bytes_delta_len, kFloat, "bytes", kFwd,
           "Mean of fwd payload bytes delta len")
NFM_COLUMN(mode_fwd_payload_bytes_delta_len, kFloat, "bytes", kFwd,
           "Mode (smallest on ties) of fwd payload bytes delta len")
NFM_COLUMN(variance_fwd_payload_bytes_delta_len, kFloat, "bytes^2", kFwd,
           "Variance of fwd payload bytes delta len")
NFM_COLUMN(std_fwd_payload_bytes_delta_len, kFloat, "bytes", kFwd,
           "Standard deviation of fwd payload bytes delta len")
NFM_COLUMN(median_fwd_payload_bytes_delta_len, kFloat, "bytes", kFwd,
           "Median of fwd payload bytes delta len")
NFM_COLUMN(skewness_fwd_payload_bytes_delta_len, kFloat, "", kFwd,
           "Skewness of fwd payload bytes delta len")
NFM_COLUMN(cov_fwd_payload_bytes_delta_len, kFloat, "", kFwd,
           "Coefficient of variation of fwd payload bytes delta len")
NFM_COLUMN(min_packets_delta_time, kFloat, "milliseconds", kBoth,
           "Minimum of packets delta time")
NFM_COLUMN(max_packets_delta_time, kFloat, "milliseconds", kBoth,
           "Maximum of packets delta time")

}  // namespace nfm::col

// clang-format off
#define NFM_NTL_COLUMNS(X) \
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
  X(payload_bytes_median) \
  X(payload_bytes_skewness) \
  X(payload_bytes_cov) \
  X(payload_bytes_mode) \
  X(fwd_payload_bytes_max) \
  X(fwd_payload_bytes_min) \
  X(fwd_payload_bytes_mean) \
  X(fwd_payload_bytes_std) \
  X(fwd_payload_bytes_variance) \
  X(fwd_payload_bytes_median) \
  X(fwd_payload_bytes_skewness) \
  X(fwd_payload_bytes_cov) \
  X(fwd_payload_bytes_mode) \
  X(bwd_payload_bytes_max) \
  X(bwd_payload_bytes_min) \
  X(bwd_payload_bytes_mean) \
  X(bwd_payload_bytes_std) \
  X(bwd_payload_bytes_variance) \
  X(bwd_payload_bytes_median) \
  X(bwd_payload_bytes_skewness) \
  X(bwd_payload_bytes_cov) \
  X(bwd_payload_bytes_mode) \
  X(total_header_bytes) \
  X(max_header_bytes) \
  X(min_header_bytes) \
  X(mean_header_bytes) \
  X(std_header_bytes) \
  X(median_header_bytes) \
  X(skewness_header_bytes) \
  X(cov_header_bytes) \
  X(mode_header_bytes) \
  X(variance_header_bytes) \
  X(fwd_total_header_bytes) \
  X(fwd_max_header_bytes) \
  X(fwd_min_header_bytes) \
  X(fwd_mean_header_bytes) \
  X(fwd_std_header_bytes) \
  X(fwd_median_header_bytes) \
  X(fwd_skewness_header_bytes) \
  X(fwd_cov_header_bytes) \
  X(fwd_mode_header_bytes) \
  X(fwd_variance_header_bytes) \
  X(bwd_total_header_bytes) \
  X(bwd_max_header_bytes) \
  X(bwd_min_header_bytes) \
  X(bwd_mean_header_bytes) \
  X(bwd_std_header_bytes) \
  X(bwd_median_header_bytes) \
  X(bwd_skewness_header_bytes) \
  X(bwd_cov_header_bytes) \
  X(bwd_mode_header_bytes) \
  X(bwd_variance_header_bytes) \
  X(fwd_segment_size_mean) \
  X(fwd_segment_size_max) \
  X(fwd_segment_size_min) \
  X(fwd_segment_size_std) \
  X(fwd_segment_size_variance) \
  X(fwd_segment_size_median) \
  X(fwd_segment_size_skewness) \
  X(fwd_segment_size_cov) \
  X(fwd_segment_size_mode) \
  X(bwd_segment_size_mean) \
  X(bwd_segment_size_max) \
  X(bwd_segment_size_min) \
  X(bwd_segment_size_std) \
  X(bwd_segment_size_variance) \
  X(bwd_segment_size_median) \
  X(bwd_segment_size_skewness) \
  X(bwd_segment_size_cov) \
  X(bwd_segment_size_mode) \
  X(segment_size_mean) \
  X(segment_size_max) \
  X(segment_size_min) \
  X(segment_size_std) \
  X(segment_size_variance) \
  X(segment_size_median) \
  X(segment_size_skewness) \
  X(segment_size_cov) \
  X(segment_size_mode) \
  X(fwd_init_win_bytes) \
  X(bwd_init_win_bytes) \
  X(active_min) \
  X(active_max) \
  X(active_mean) \
  X(active_std) \
  X(active_median) \
  X(active_skewness) \
  X(active_cov) \
  X(active_mode) \
  X(active_variance) \
  X(idle_min) \
  X(idle_max) \
  X(idle_mean) \
  X(idle_std) \
  X(idle_median) \
  X(idle_skewness) \
  X(idle_cov) \
  X(idle_mode) \
  X(idle_variance) \
  NFM_RATE_BULK_FLAG_COLUMNS(X) \
  X(fin_flag_percentage_in_total) \
  X(psh_flag_percentage_in_total) \
  X(urg_flag_percentage_in_total) \
  X(ece_flag_percentage_in_total) \
  X(syn_flag_percentage_in_total) \
  X(ack_flag_percentage_in_total) \
  X(cwr_flag_percentage_in_total) \
  X(rst_flag_percentage_in_total) \
  X(fwd_fin_flag_percentage_in_total) \
  X(fwd_psh_flag_percentage_in_total) \
  X(fwd_urg_flag_percentage_in_total) \
  X(fwd_ece_flag_percentage_in_total) \
  X(fwd_syn_flag_percentage_in_total) \
  X(fwd_ack_flag_percentage_in_total) \
  X(fwd_cwr_flag_percentage_in_total) \
  X(fwd_rst_flag_percentage_in_total) \
  X(bwd_fin_flag_percentage_in_total) \
  X(bwd_psh_flag_percentage_in_total) \
  X(bwd_urg_flag_percentage_in_total) \
  X(bwd_ece_flag_percentage_in_total) \
  X(bwd_syn_flag_percentage_in_total) \
  X(bwd_ack_flag_percentage_in_total) \
  X(bwd_cwr_flag_percentage_in_total) \
  X(bwd_rst_flag_percentage_in_total) \
  X(fwd_fin_flag_percentage_in_fwd_packets) \
  X(fwd_psh_flag_percentage_in_fwd_packets) \
  X(fwd_urg_flag_percentage_in_fwd_packets) \
  X(fwd_ece_flag_percentage_in_fwd_packets) \
  X(fwd_syn_flag_percentage_in_fwd_packets) \
  X(fwd_ack_flag_percentage_in_fwd_packets) \
  X(fwd_cwr_flag_percentage_in_fwd_packets) \
  X(fwd_rst_flag_percentage_in_fwd_packets) \
  X(bwd_fin_flag_percentage_in_bwd_packets) \
  X(bwd_psh_flag_percentage_in_bwd_packets) \
  X(bwd_urg_flag_percentage_in_bwd_packets) \
  X(bwd_ece_flag_percentage_in_bwd_packets) \
  X(bwd_syn_flag_percentage_in_bwd_packets) \
  X(bwd_ack_flag_percentage_in_bwd_packets) \
  X(bwd_cwr_flag_percentage_in_bwd_packets) \
  X(bwd_rst_flag_percentage_in_bwd_packets) \
  X(packets_IAT_mean) \
  X(packet_IAT_std) \
  X(packet_IAT_max) \
  X(packet_IAT_min) \
  X(packet_IAT_total) \
  X(packets_IAT_median) \
  X(packets_IAT_skewness) \
  X(packets_IAT_cov) \
  X(packets_IAT_mode) \
  X(packets_IAT_variance) \
  X(fwd_packets_IAT_mean) \
  X(fwd_packets_IAT_std) \
  X(fwd_packets_IAT_max) \
  X(fwd_packets_IAT_min) \
  X(fwd_packets_IAT_total) \
  X(fwd_packets_IAT_median) \
  X(fwd_packets_IAT_skewness) \
  X(fwd_packets_IAT_cov) \
  X(fwd_packets_IAT_mode) \
  X(fwd_packets_IAT_variance) \
  X(bwd_packets_IAT_mean) \
  X(bwd_packets_IAT_std) \
  X(bwd_packets_IAT_max) \
  X(bwd_packets_IAT_min) \
  X(bwd_packets_IAT_total) \
  X(bwd_packets_IAT_median) \
  X(bwd_packets_IAT_skewness) \
  X(bwd_packets_IAT_cov) \
  X(bwd_packets_IAT_mode) \
  X(bwd_packets_IAT_variance) \
  X(subflow_fwd_packets) \
  X(subflow_bwd_packets) \
  X(subflow_fwd_bytes) \
  X(subflow_bwd_bytes) \
  X(delta_start) \
  X(handshake_duration) \
  X(handshake_state) \
  X(min_bwd_packets_delta_time) \
  X(max_bwd_packets_delta_time) \
  X(mean_packets_delta_time) \
  X(mode_packets_delta_time) \
  X(variance_packets_delta_time) \
  X(std_packets_delta_time) \
  X(median_packets_delta_time) \
  X(skewness_packets_delta_time) \
  X(cov_packets_delta_time) \
  X(mean_bwd_packets_delta_time) \
  X(mode_bwd_packets_delta_time) \
  X(variance_bwd_packets_delta_time) \
  X(std_bwd_packets_delta_time) \
  X(median_bwd_packets_delta_time) \
  X(skewness_bwd_packets_delta_time) \
  X(cov_bwd_packets_delta_time) \
  X(min_fwd_packets_delta_time) \
  X(max_fwd_packets_delta_time) \
  X(mean_fwd_packets_delta_time) \
  X(mode_fwd_packets_delta_time) \
  X(variance_fwd_packets_delta_time) \
  X(std_fwd_packets_delta_time) \
  X(median_fwd_packets_delta_time) \
  X(skewness_fwd_packets_delta_time) \
  X(cov_fwd_packets_delta_time) \
  X(min_packets_delta_len) \
  X(max_packets_delta_len) \
  X(mean_packets_delta_len) \
  X(mode_packets_delta_len) \
  X(variance_packets_delta_len) \
  X(std_packets_delta_len) \
  X(median_packets_delta_len) \
  X(skewness_packets_delta_len) \
  X(cov_packets_delta_len) \
  X(min_bwd_packets_delta_len) \
  X(max_bwd_packets_delta_len) \
  X(mean_bwd_packets_delta_len) \
  X(mode_bwd_packets_delta_len) \
  X(variance_bwd_packets_delta_len) \
  X(std_bwd_packets_delta_len) \
  X(median_bwd_packets_delta_len) \
  X(skewness_bwd_packets_delta_len) \
  X(cov_bwd_packets_delta_len) \
  X(min_fwd_packets_delta_len) \
  X(max_fwd_packets_delta_len) \
  X(mean_fwd_packets_delta_len) \
  X(mode_fwd_packets_delta_len) \
  X(variance_fwd_packets_delta_len) \
  X(std_fwd_packets_delta_len) \
  X(median_fwd_packets_delta_len) \
  X(skewness_fwd_packets_delta_len) \
  X(cov_fwd_packets_delta_len) \
  X(min_header_bytes_delta_len) \
  X(max_header_bytes_delta_len) \
  X(mean_header_bytes_delta_len) \
  X(mode_header_bytes_delta_len) \
  X(variance_header_bytes_delta_len) \
  X(std_header_bytes_delta_len) \
  X(median_header_bytes_delta_len) \
  X(skewness_header_bytes_delta_len) \
  X(cov_header_bytes_delta_len) \
  X(min_bwd_header_bytes_delta_len) \
  X(max_bwd_header_bytes_delta_len) \
  X(mean_bwd_header_bytes_delta_len) \
  X(mode_bwd_header_bytes_delta_len) \
  X(variance_bwd_header_bytes_delta_len) \
  X(std_bwd_header_bytes_delta_len) \
  X(median_bwd_header_bytes_delta_len) \
  X(skewness_bwd_header_bytes_delta_len) \
  X(cov_bwd_header_bytes_delta_len) \
  X(min_fwd_header_bytes_delta_len) \
  X(max_fwd_header_bytes_delta_len) \
  X(mean_fwd_header_bytes_delta_len) \
  X(mode_fwd_header_bytes_delta_len) \
  X(variance_fwd_header_bytes_delta_len) \
  X(std_fwd_header_bytes_delta_len) \
  X(median_fwd_header_bytes_delta_len) \
  X(skewness_fwd_header_bytes_delta_len) \
  X(cov_fwd_header_bytes_delta_len) \
  X(min_payload_bytes_delta_len) \
  X(max_payload_bytes_delta_len) \
  X(mean_payload_bytes_delta_len) \
  X(mode_payload_bytes_delta_len) \
  X(variance_payload_bytes_delta_len) \
  X(std_payload_bytes_delta_len) \
  X(median_payload_bytes_delta_len) \
  X(skewness_payload_bytes_delta_len) \
  X(cov_payload_bytes_delta_len) \
  X(min_bwd_payload_bytes_delta_len) \
  X(max_bwd_payload_bytes_delta_len) \
  X(mean_bwd_payload_bytes_delta_len) \
  X(mode_bwd_payload_bytes_delta_len) \
  X(variance_bwd_payload_bytes_delta_len) \
  X(std_bwd_payload_bytes_delta_len) \
  X(median_bwd_payload_bytes_delta_len) \
  X(skewness_bwd_payload_bytes_delta_len) \
  X(cov_bwd_payload_bytes_delta_len) \
  X(min_fwd_payload_bytes_delta_len) \
  X(max_fwd_payload_bytes_delta_len) \
  X(mean_fwd_payload_bytes_delta_len) \
  X(mode_fwd_payload_bytes_delta_len) \
  X(variance_fwd_payload_bytes_delta_len) \
  X(std_fwd_payload_bytes_delta_len) \
  X(median_fwd_payload_bytes_delta_len) \
  X(skewness_fwd_payload_bytes_delta_len) \
  X(cov_fwd_payload_bytes_delta_len)
// clang-format on

namespace nfm {

// Column ids of the reference set: NtlCol::<name> is the position of column <name>.
enum class NtlCol : uint16_t { NFM_NTL_COLUMNS(NFM_COLUMN_ENUM) kCount };

inline constexpr int kNtlNumFeatures = static_cast<int>(NtlCol::kCount);
static_assert(kNtlNumFeatures == 339);

// What --profile ntl does where the nfm set has a number: the reference's duration raises on
// the Decimal timestamps of a nanosecond capture, and so do the rates over it.
inline constexpr std::string_view kNtlEmptyOnNsNote =
    " (--profile ntl: NaN on a nanosecond capture, where the reference prints an empty field)";

inline constexpr std::array<FeatureInfo, kNtlNumFeatures> kNtlFeatures = [] {
  std::array<FeatureInfo, kNtlNumFeatures> t = {{NFM_NTL_COLUMNS(NFM_COLUMN_REF)}};
  for (NtlCol c : {NtlCol::duration, NtlCol::bytes_rate, NtlCol::fwd_bytes_rate, NtlCol::bwd_bytes_rate,
                   NtlCol::packets_rate, NtlCol::bwd_packets_rate, NtlCol::fwd_packets_rate})
    t[static_cast<int>(c)].note = kNtlEmptyOnNsNote;
  return t;
}();

inline constexpr FeatureSet kNtlFeatureSet{"ntl", std::span<const FeatureInfo>(kNtlFeatures.data(), kNtlFeatures.size()),
                                            FeatureSetId::kNtl};

// The same features with corrected semantics (--feature-set ntl with the corrected profile,
// docs/FEATURES.md): N1 fixed, so the all-packet delta-time min/max have their own names and
// the backward ones their own columns (341 features).
inline constexpr int kNtlCorrectedNumFeatures = 341;

// Derived from kNtlFeatures: the two columns the reference names min/max_bwd_packets_delta_time
// hold the all-packet values (N1), so they are renamed, and the backward min/max follow the
// all-packet delta-time block as columns of their own.
inline constexpr std::array<FeatureInfo, kNtlCorrectedNumFeatures> kNtlCorrectedFeatures = [] {
  std::array<FeatureInfo, kNtlCorrectedNumFeatures> out{};
  int k = 0;
  for (FeatureInfo f : kNtlFeatures) {
    if (f.name == col::min_bwd_packets_delta_time.name) f = col::min_packets_delta_time;
    if (f.name == col::max_bwd_packets_delta_time.name) f = col::max_packets_delta_time;
    out[k++] = f;
    if (f.name == col::cov_packets_delta_time.name) {
      out[k++] = col::min_bwd_packets_delta_time;
      out[k++] = col::max_bwd_packets_delta_time;
    }
  }
  if (k != kNtlCorrectedNumFeatures) throw "kNtlCorrectedFeatures: wrong column count";  // compile-time error
  return out;
}();

inline constexpr FeatureSet kNtlCorrectedFeatureSet{
    "ntl-corrected", std::span<const FeatureInfo>(kNtlCorrectedFeatures.data(), kNtlCorrectedFeatures.size()),
    FeatureSetId::kNtlCorrected};

}  // namespace nfm
