// SPDX-License-Identifier: MIT
// FlowEngine, profile nfm2022 (NetFlowMeter 019dde4 bit for bit), float spec ".17g".
// Every expected value is computed by hand from the shared spec (FEATURES.md §2-§6); the
// derivation is in the comment next to it. Nothing here was copied from nfm-xdp output.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "../tools/engine_harness.hpp"

namespace {

using namespace nfm;
using namespace nfm::enginetest;

// ------------------------------------------------------------------------------------------
// Header (spec §6.1): the 121 NFM-2022 names, text copied from the reference CSV
// ../shared/expected/nfm2022/*.csv (a reference output, allowed as oracle).
const char* kHeader2022 =
    "flow_id,timestamp,src_ip,src_port,dst_ip,dst_port,protocol,duration,packets_count,fwd_pack"
    "ets_count,bwd_packets_count,total_payload_bytes,fwd_total_payload_bytes,bwd_total_payload_"
    "bytes,payload_bytes_max,payload_bytes_min,payload_bytes_mean,payload_bytes_std,payload_byt"
    "es_variance,fwd_payload_bytes_max,fwd_payload_bytes_min,fwd_payload_bytes_mean,fwd_payload"
    "_bytes_std,fwd_payload_bytes_variance,bwd_payload_bytes_max,bwd_payload_bytes_min,bwd_payl"
    "oad_bytes_mean,bwd_payload_bytes_std,bwd_payload_bytes_variance,total_header_bytes,max_hea"
    "der_bytes,min_header_bytes,mean_header_bytes,std_header_bytes,fwd_total_header_bytes,fwd_m"
    "ax_header_bytes,fwd_min_header_bytes,fwd_mean_header_bytes,fwd_std_header_bytes,bwd_total_"
    "header_bytes,bwd_max_header_bytes,bwd_min_header_bytes,bwd_mean_header_bytes,bwd_std_heade"
    "r_bytes,fwd_avg_segment_size,bwd_avg_segment_size,avg_segment_size,fwd_init_win_bytes,bwd_"
    "init_win_bytes,active_min,active_max,active_mean,active_std,idle_min,idle_max,idle_mean,id"
    "le_std,bytes_rate,fwd_bytes_rate,bwd_bytes_rate,packets_rate,bwd_packets_rate,fwd_packets_"
    "rate,down_up_rate,avg_fwd_bytes_per_bulk,avg_fwd_packets_per_bulk,avg_fwd_bulk_rate,avg_bw"
    "d_bytes_per_bulk,avg_bwd_packets_bulk_rate,avg_bwd_bulk_rate,fwd_bulk_state_count,fwd_bulk"
    "_total_size,fwd_bulk_per_packet,fwd_bulk_duration,bwd_bulk_state_count,bwd_bulk_total_size"
    ",bwd_bulk_per_packet,bwd_bulk_duration,fin_flag_counts,psh_flag_counts,urg_flag_counts,ece"
    "_flag_counts,syn_flag_counts,ack_flag_counts,cwr_flag_counts,rst_flag_counts,fwd_fin_flag_"
    "counts,fwd_psh_flag_counts,fwd_urg_flag_counts,fwd_ece_flag_counts,fwd_syn_flag_counts,fwd"
    "_ack_flag_counts,fwd_cwr_flag_counts,fwd_rst_flag_counts,bwd_fin_flag_counts,bwd_psh_flag_"
    "counts,bwd_urg_flag_counts,bwd_ece_flag_counts,bwd_syn_flag_counts,bwd_ack_flag_counts,bwd"
    "_cwr_flag_counts,bwd_rst_flag_counts,packets_IAT_mean,packet_IAT_std,packet_IAT_max,packet"
    "_IAT_min,packet_IAT_total,fwd_packets_IAT_mean,fwd_packets_IAT_std,fwd_packets_IAT_max,fwd"
    "_packets_IAT_min,fwd_packets_IAT_total,bwd_packets_IAT_mean,bwd_packets_IAT_std,bwd_packet"
    "s_IAT_max,bwd_packets_IAT_min,bwd_packets_IAT_total,subflow_fwd_packets,subflow_bwd_packet"
    "s,subflow_fwd_bytes,subflow_bwd_bytes";

TEST(EngineNfm2022, HeaderIs121ReferenceColumns) {
  EngineRun run(Profile::kNfm2022);
  EXPECT_EQ(run.HeaderLine(), std::string(kHeader2022) + "\r\n");
  run.Feed(Tcp(Us(1600000000, 0), "10.0.0.1", 1, "10.0.0.2", 2, SYN, 0, 0));
  run.Flush();
  ASSERT_EQ(run.sink.rows.size(), 1u);
  EXPECT_EQ(run.sink.header_calls, 1);
  std::string h = run.sink.header;
  if (h.size() >= 2 && h.compare(h.size() - 2, 2, "\r\n") == 0) h.resize(h.size() - 2);
  EXPECT_EQ(h, kHeader2022);
}

TEST(EngineNfm2022, SeedHeaderHas115ColumnsWithCollisions) {
  // Spec §6.1: the seed = the 121 list without fwd_payload_bytes_variance and without the five
  // bwd_*_header_bytes columns (115 = 121 - 6).
  EngineRun run(Profile::kNfm2022Seed);
  std::vector<std::string> want = SplitCsv(kHeader2022);
  std::vector<std::string> drop = {"fwd_payload_bytes_variance", "bwd_total_header_bytes", "bwd_max_header_bytes",
                                   "bwd_min_header_bytes", "bwd_mean_header_bytes", "bwd_std_header_bytes"};
  std::vector<std::string> seed;
  for (auto& c : want) {
    bool d = false;
    for (auto& x : drop) d = d || (c == x);
    if (!d) seed.push_back(c);
  }
  ASSERT_EQ(seed.size(), 115u);
  EXPECT_EQ(SplitCsv(run.HeaderLine()), seed);

  // D1/D2 values: F pl 100 hl 20, B pl 300 hl 32, F pl 200 hl 20 (no padding).
  const uint64_t t = Us(1600000000, 0);
  run.Feed(Tcp(t, "10.0.0.1", 1000, "10.0.0.2", 80, PSH | ACK, 100, 100, 1000, 20));
  run.Feed(Tcp(t + 10 * kMs, "10.0.0.2", 80, "10.0.0.1", 1000, PSH | ACK, 300, 300, 1000, 32));
  run.Feed(Tcp(t + 20 * kMs, "10.0.0.1", 1000, "10.0.0.2", 80, PSH | ACK, 200, 200, 1000, 20));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  // D1: payload_bytes_variance holds the FORWARD variance: pvar(100,200) = 2500 -> .17g "2500"
  // (the all-packet variance would be pvar(100,300,200) = 20000/3).
  EXPECT_EQ(rows[0]["payload_bytes_variance"], "2500");
  // D2: fwd_*_header_bytes hold BACKWARD values: B = [32] -> total 32, max 32, min 32, mean 32, std 0.
  EXPECT_EQ(rows[0]["fwd_total_header_bytes"], "32");
  EXPECT_EQ(rows[0]["fwd_max_header_bytes"], "32");
  EXPECT_EQ(rows[0]["fwd_min_header_bytes"], "32");
  EXPECT_EQ(rows[0]["fwd_mean_header_bytes"], "32");
  EXPECT_EQ(rows[0]["fwd_std_header_bytes"], "0");
}

// ------------------------------------------------------------------------------------------
// Spec §4.4 worked example: WorkedExample44() in tests/tools/engine_harness.hpp.
TEST(EngineNfm2022, WorkedExampleSection44) {
  EngineRun run(Profile::kNfm2022);
  for (const auto& m : WorkedExample44()) run.Feed(m);
  // Packet 20 arrives after two FINs (18, 19): the 19-packet flow is closed then (§3.2/§3.3),
  // before the end of input.
  EXPECT_EQ(run.sink.rows.size(), 1u) << "the 19-packet flow must be exported when packet 20 arrives";
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  const Row& f = rows[0];
  const Row& g = rows[1];

  EXPECT_EQ(f["flow_id"], "10.0.0.1_40000_10.0.0.2_80_TCP_2022-07-27 18:14:04.374890");
  EXPECT_EQ(f["timestamp"], "2022-07-27 18:14:04.374890");  // local_tz=false -> UTC
  EXPECT_EQ(f["src_ip"], "10.0.0.1");
  EXPECT_EQ(f["src_port"], "40000");
  EXPECT_EQ(f["dst_ip"], "10.0.0.2");
  EXPECT_EQ(f["dst_port"], "80");
  EXPECT_EQ(f["protocol"], "TCP");

  // Hand derivation (spec §4-§5, 2022 column of §4.4), P = packets 1..19 in arrival order:
  //  duration = 151.7001 - 0 (R).  N(P)=19, N(F)=10 (1,3,4-8,15,16,18), N(B)=9 (2,9-14,17,19).
  //  payload (2022 = frame payload): F 0+6+510+6+10+6 = 538, B 0+8400+6+6 = 8412, total 8950.
  //  payload over P: max 1400 min 0; mean 8950/19 = 471.0526..; std/var population over the 19
  //  values (exact, rounded once): var = (19*sum(x^2) - 8950^2)/19^2 with
  //  sum(x^2) = 36+ (100^2+..+104^2=52030) + 6*1960000 + 36+100+36+36+36 = 11812310 ->
  //  var = (224433890 - 80102500)/361 = 144331390/361 = 399809.9445983379.. .
  //  D3: fwd_/bwd_payload max/min/mean/std repeat the all-packet values.
  //  fwd var over F (0,6,100..104,6,10,6): mean 53.8, sum x^2 = 52030+36*3+100 = 52238,
  //  var = 52238/10 - 53.8^2 = 5223.8 - 2894.44 = 2329.36 (.17g "2329.3600000000001").
  //  bwd var over B (0,1400x6,6,6): mean 8412/9, sum x^2 = 11760072, var = 11760072/9 -
  //  (8412/9)^2 = 433072.888.. .
  //  header: 40+40+17*32 = 624, max 40 min 32, mean 624/19 = 32.8421..; F: 40+9*32 = 328,
  //  mean 32.8, std = sqrt(10*(1600+9*1024) - 328^2)/10 = sqrt(576)/10 = 2.4; B: 296, 296/9.
  //  segment sizes (R): 538/10 = 53.8, 8412/9 = 934.666.., 8950/19.  init win 64240 / 65160.
  //  active/idle (THR 100 s): only packet 16 follows a gap > 100 s (150 s after packet 15):
  //  A = [start - end] = [0 - 1.6] = [-1.600000] (D5, D kind, 6 decimals), I = [150.000000];
  //  Decimal mean -1.6 / 150 printed "-1.6" / "150"; std of one element Decimal("0.0") -> "0.0".
  //  rates (R) divide by double(151.7001): 8950/151.7001, 538/.., 8412/.., 19/.., 9/.., 10/..;
  //  down_up_rate = 9/10 = 0.9.
  //  bulk fwd: packets 3-8 (6,100..104): 4th packet (#6 at .032) -> state 1, 4 pkts, 309 B,
  //  .032-.020 = .012; #7, #8 add 1 pkt, +1 ms each -> 6 pkts, 516 B, 0.014000 (D kind).
  //  bulk bwd: packets 9-14: REF = last[fwd] = .034 (D8) but gaps stay < 1 s -> 6 pkts, 8400 B,
  //  .045-.040 = 0.005000. Later packets alternate direction and reset the candidates.
  //  avg_fwd_bulk_rate = 516/0.014 (exact decimal) = 36857.142857142855; bwd 8400/0.005 = 1680000.0.
  //  flags: FIN 18,19; SYN 1,2; PSH 4-8,16 (all F); ACK all but packet 1 (18).
  //  IAT(P): 18 gaps; min 5e-06 (16->17), max 150.0 (15->16); naive sum 151.7001;
  //  IAT(F): gaps between 1,3,4..8,15,16,18: .02,.01,.001x4,1.566,150,.1 -> max 150.0 min .001,
  //  naive sum 151.7; IAT(B): 2,9..14,17,19: .03,.001x5,151.555005,.100095 -> max 151.555005.
  //  sfcount = 2 (gaps 1.555 s after packet 14, 150 s after 15): subflow 10/2 = 5.0,
  //  9/2 = 4.5, 538/2 = 269.0, and D4 bwd bytes = fwd bytes/2 = 269.0.
  const std::vector<std::pair<std::string, std::string>> want19 = {
      {"duration", "151.7001"}, {"packets_count", "19"}, {"fwd_packets_count", "10"},
      {"bwd_packets_count", "9"}, {"total_payload_bytes", "8950"},
      {"fwd_total_payload_bytes", "538"}, {"bwd_total_payload_bytes", "8412"},
      {"payload_bytes_max", "1400"}, {"payload_bytes_min", "0"},
      {"payload_bytes_mean", "471.05263157894734"}, {"payload_bytes_std", "632.3052621940908"},
      {"payload_bytes_variance", "399809.94459833793"}, {"fwd_payload_bytes_max", "1400"},
      {"fwd_payload_bytes_min", "0"}, {"fwd_payload_bytes_mean", "471.05263157894734"},
      {"fwd_payload_bytes_std", "632.3052621940908"},
      {"fwd_payload_bytes_variance", "2329.3600000000001"}, {"bwd_payload_bytes_max", "1400"},
      {"bwd_payload_bytes_min", "0"}, {"bwd_payload_bytes_mean", "471.05263157894734"},
      {"bwd_payload_bytes_std", "632.3052621940908"},
      {"bwd_payload_bytes_variance", "433072.88888888888"}, {"total_header_bytes", "624"},
      {"max_header_bytes", "40"}, {"min_header_bytes", "32"},
      {"mean_header_bytes", "32.842105263157897"}, {"std_header_bytes", "2.4551376399348634"},
      {"fwd_total_header_bytes", "328"}, {"fwd_max_header_bytes", "40"},
      {"fwd_min_header_bytes", "32"}, {"fwd_mean_header_bytes", "32.799999999999997"},
      {"fwd_std_header_bytes", "2.3999999999999999"}, {"bwd_total_header_bytes", "296"},
      {"bwd_max_header_bytes", "40"}, {"bwd_min_header_bytes", "32"},
      {"bwd_mean_header_bytes", "32.888888888888886"},
      {"bwd_std_header_bytes", "2.5141574442188355"}, {"fwd_avg_segment_size", "53.8"},
      {"bwd_avg_segment_size", "934.6666666666666"}, {"avg_segment_size", "471.05263157894734"},
      {"fwd_init_win_bytes", "64240"}, {"bwd_init_win_bytes", "65160"}, {"active_min", "-1.600000"},
      {"active_max", "-1.600000"}, {"active_mean", "-1.6"}, {"active_std", "0.0"},
      {"idle_min", "150.000000"}, {"idle_max", "150.000000"}, {"idle_mean", "150"},
      {"idle_std", "0.0"}, {"bytes_rate", "58.997983521434726"},
      {"fwd_bytes_rate", "3.546470964752166"}, {"bwd_bytes_rate", "55.451512556682566"},
      {"packets_rate", "0.12524711585555975"}, {"bwd_packets_rate", "0.05932758119473883"},
      {"fwd_packets_rate", "0.06591953466082093"}, {"down_up_rate", "0.9"},
      {"avg_fwd_bytes_per_bulk", "516.0"}, {"avg_fwd_packets_per_bulk", "6.0"},
      {"avg_fwd_bulk_rate", "36857.142857142855"}, {"avg_bwd_bytes_per_bulk", "8400.0"},
      {"avg_bwd_packets_bulk_rate", "6.0"}, {"avg_bwd_bulk_rate", "1680000.0"},
      {"fwd_bulk_state_count", "1"}, {"fwd_bulk_total_size", "516"}, {"fwd_bulk_per_packet", "6"},
      {"fwd_bulk_duration", "0.014000"}, {"bwd_bulk_state_count", "1"},
      {"bwd_bulk_total_size", "8400"}, {"bwd_bulk_per_packet", "6"},
      {"bwd_bulk_duration", "0.005000"}, {"fin_flag_counts", "2"}, {"psh_flag_counts", "6"},
      {"urg_flag_counts", "0"}, {"ece_flag_counts", "0"}, {"syn_flag_counts", "2"},
      {"ack_flag_counts", "18"}, {"cwr_flag_counts", "0"}, {"rst_flag_counts", "0"},
      {"fwd_fin_flag_counts", "1"}, {"fwd_psh_flag_counts", "6"}, {"fwd_urg_flag_counts", "0"},
      {"fwd_ece_flag_counts", "0"}, {"fwd_syn_flag_counts", "1"}, {"fwd_ack_flag_counts", "9"},
      {"fwd_cwr_flag_counts", "0"}, {"fwd_rst_flag_counts", "0"}, {"bwd_fin_flag_counts", "1"},
      {"bwd_psh_flag_counts", "0"}, {"bwd_urg_flag_counts", "0"}, {"bwd_ece_flag_counts", "0"},
      {"bwd_syn_flag_counts", "1"}, {"bwd_ack_flag_counts", "9"}, {"bwd_cwr_flag_counts", "0"},
      {"bwd_rst_flag_counts", "0"}, {"packets_IAT_mean", "8.4277833333333341"},
      {"packet_IAT_std", "34.338132993449662"}, {"packet_IAT_max", "150.0"},
      {"packet_IAT_min", "5e-06"}, {"packet_IAT_total", "151.7001"},
      {"fwd_packets_IAT_mean", "16.855555555555554"}, {"fwd_packets_IAT_std", "47.0761499915264"},
      {"fwd_packets_IAT_max", "150.0"}, {"fwd_packets_IAT_min", "0.001"},
      {"fwd_packets_IAT_total", "151.7"}, {"bwd_packets_IAT_mean", "18.9612625"},
      {"bwd_packets_IAT_std", "50.115734380291933"}, {"bwd_packets_IAT_max", "151.555005"},
      {"bwd_packets_IAT_min", "0.001"}, {"bwd_packets_IAT_total", "151.6901"},
      {"subflow_fwd_packets", "5.0"}, {"subflow_bwd_packets", "4.5"},
      {"subflow_fwd_bytes", "269.0"}, {"subflow_bwd_bytes", "269.0"},
  };
  ASSERT_EQ(want19.size(), 114u);
  for (const auto& [col, val] : want19) EXPECT_EQ(f[col], val) << "column " << col;

  // Packet 20 (C->S, forward, padded ACK, pl 6 in 2022) becomes a 1-packet flow:
  // duration 0.0; rates 0 (guard dur == 0); IAT of a 1-packet list = its epoch timestamp
  // 1658945796.07509 (D6): max/min/total R "1658945796.07509", mean X .17g of that double =
  // "1658945796.0750899", std 0; backward IAT 0 (empty). D3: bwd payload stats repeat P (6).
  // bwd_avg_segment_size '0' (guard) but fwd_avg_segment_size 6/1 = "6.0"; down_up_rate 0/1 = "0.0".
  EXPECT_EQ(g["flow_id"], "10.0.0.1_40000_10.0.0.2_80_TCP_2022-07-27 18:16:36.075090");
  const std::vector<std::pair<std::string, std::string>> want1 = {
      {"duration", "0.0"}, {"packets_count", "1"}, {"fwd_packets_count", "1"},
      {"bwd_packets_count", "0"}, {"total_payload_bytes", "6"}, {"fwd_total_payload_bytes", "6"},
      {"bwd_total_payload_bytes", "0"}, {"payload_bytes_max", "6"}, {"payload_bytes_min", "6"},
      {"payload_bytes_mean", "6"}, {"payload_bytes_std", "0"}, {"payload_bytes_variance", "0"},
      {"fwd_payload_bytes_max", "6"}, {"fwd_payload_bytes_min", "6"},
      {"fwd_payload_bytes_mean", "6"}, {"fwd_payload_bytes_std", "0"},
      {"fwd_payload_bytes_variance", "0"}, {"bwd_payload_bytes_max", "6"},
      {"bwd_payload_bytes_min", "6"}, {"bwd_payload_bytes_mean", "6"},
      {"bwd_payload_bytes_std", "0"}, {"bwd_payload_bytes_variance", "0"},
      {"total_header_bytes", "32"}, {"max_header_bytes", "32"}, {"min_header_bytes", "32"},
      {"mean_header_bytes", "32"}, {"std_header_bytes", "0"}, {"fwd_total_header_bytes", "32"},
      {"fwd_max_header_bytes", "32"}, {"fwd_min_header_bytes", "32"},
      {"fwd_mean_header_bytes", "32"}, {"fwd_std_header_bytes", "0"},
      {"bwd_total_header_bytes", "0"}, {"bwd_max_header_bytes", "0"}, {"bwd_min_header_bytes", "0"},
      {"bwd_mean_header_bytes", "0"}, {"bwd_std_header_bytes", "0"},
      {"fwd_avg_segment_size", "6.0"}, {"bwd_avg_segment_size", "0"}, {"avg_segment_size", "6.0"},
      {"fwd_init_win_bytes", "502"}, {"bwd_init_win_bytes", "0"}, {"active_min", "0"},
      {"active_max", "0"}, {"active_mean", "0"}, {"active_std", "0"}, {"idle_min", "0"},
      {"idle_max", "0"}, {"idle_mean", "0"}, {"idle_std", "0"}, {"bytes_rate", "0"},
      {"fwd_bytes_rate", "0"}, {"bwd_bytes_rate", "0"}, {"packets_rate", "0"},
      {"bwd_packets_rate", "0"}, {"fwd_packets_rate", "0"}, {"down_up_rate", "0.0"},
      {"avg_fwd_bytes_per_bulk", "0"}, {"avg_fwd_packets_per_bulk", "0"},
      {"avg_fwd_bulk_rate", "0"}, {"avg_bwd_bytes_per_bulk", "0"},
      {"avg_bwd_packets_bulk_rate", "0"}, {"avg_bwd_bulk_rate", "0"}, {"fwd_bulk_state_count", "0"},
      {"fwd_bulk_total_size", "0"}, {"fwd_bulk_per_packet", "0"}, {"fwd_bulk_duration", "0"},
      {"bwd_bulk_state_count", "0"}, {"bwd_bulk_total_size", "0"}, {"bwd_bulk_per_packet", "0"},
      {"bwd_bulk_duration", "0"}, {"fin_flag_counts", "0"}, {"psh_flag_counts", "0"},
      {"urg_flag_counts", "0"}, {"ece_flag_counts", "0"}, {"syn_flag_counts", "0"},
      {"ack_flag_counts", "1"}, {"cwr_flag_counts", "0"}, {"rst_flag_counts", "0"},
      {"fwd_fin_flag_counts", "0"}, {"fwd_psh_flag_counts", "0"}, {"fwd_urg_flag_counts", "0"},
      {"fwd_ece_flag_counts", "0"}, {"fwd_syn_flag_counts", "0"}, {"fwd_ack_flag_counts", "1"},
      {"fwd_cwr_flag_counts", "0"}, {"fwd_rst_flag_counts", "0"}, {"bwd_fin_flag_counts", "0"},
      {"bwd_psh_flag_counts", "0"}, {"bwd_urg_flag_counts", "0"}, {"bwd_ece_flag_counts", "0"},
      {"bwd_syn_flag_counts", "0"}, {"bwd_ack_flag_counts", "0"}, {"bwd_cwr_flag_counts", "0"},
      {"bwd_rst_flag_counts", "0"}, {"packets_IAT_mean", "1658945796.0750899"},
      {"packet_IAT_std", "0"}, {"packet_IAT_max", "1658945796.07509"},
      {"packet_IAT_min", "1658945796.07509"}, {"packet_IAT_total", "1658945796.07509"},
      {"fwd_packets_IAT_mean", "1658945796.0750899"}, {"fwd_packets_IAT_std", "0"},
      {"fwd_packets_IAT_max", "1658945796.07509"}, {"fwd_packets_IAT_min", "1658945796.07509"},
      {"fwd_packets_IAT_total", "1658945796.07509"}, {"bwd_packets_IAT_mean", "0"},
      {"bwd_packets_IAT_std", "0"}, {"bwd_packets_IAT_max", "0"}, {"bwd_packets_IAT_min", "0"},
      {"bwd_packets_IAT_total", "0"}, {"subflow_fwd_packets", "0"}, {"subflow_bwd_packets", "0"},
      {"subflow_fwd_bytes", "0"}, {"subflow_bwd_bytes", "0"},
  };
  ASSERT_EQ(want1.size(), 114u);
  for (const auto& [col, val] : want1) EXPECT_EQ(g[col], val) << "column " << col << " (1-packet flow)";

  // Stats: 20 packets offered, all in flows; 2 flows; flow 1 ended by the FIN rule, flow 2 by Flush.
  EXPECT_EQ(run.engine->Stats().packets, 20u);
  EXPECT_EQ(run.engine->Stats().packets_in_flows, 20u);
  EXPECT_EQ(run.engine->Stats().flows_created, 2u);
  EXPECT_EQ(run.Exported(EndReason::kFin), 1u);
  EXPECT_EQ(run.Exported(EndReason::kShutdown), 1u);
}

// ------------------------------------------------------------------------------------------
// §2.2 / D9 verified example: old flow C:1111->S:80 ended by RST; next packet S->C (3 bytes,
// win 444) creates flow S_80_C_1111 whose first packet keeps the BACKWARD mark.
TEST(EngineNfm2022, D9FirstPacketOfFollowUpFlowIsBackward) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  const char* C = "10.0.0.1";
  const char* S = "10.0.0.2";
  run.Feed(Tcp(T, C, 1111, S, 80, SYN, 0, 0, 100));                       // p1 flow 1
  run.Feed(Tcp(T + 10 * kMs, S, 80, C, 1111, RST | ACK, 0, 0, 0));         // p2 flow 1 (RST)
  run.Feed(Tcp(T + 20 * kMs, S, 80, C, 1111, PSH | ACK, 3, 3, 444));       // p3 ends flow 1 -> flow 2, marked bwd
  run.Feed(Tcp(T + 30 * kMs, S, 80, C, 1111, ACK, 0, 0, 555));             // p4: dst C != f.src S -> fwd
  run.Feed(Tcp(T + 40 * kMs, C, 1111, S, 80, ACK, 0, 0, 666));             // p5: dst S == f.src S -> bwd
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["flow_id"], "10.0.0.1_1111_10.0.0.2_80_TCP_2020-09-13 12:26:40");  // fraction omitted (µs = 0)
  EXPECT_EQ(rows[0]["packets_count"], "2");
  const Row& f = rows[1];
  EXPECT_EQ(f["flow_id"], "10.0.0.2_80_10.0.0.1_1111_TCP_2020-09-13 12:26:40.020000");
  EXPECT_EQ(f["src_ip"], "10.0.0.2");
  EXPECT_EQ(f["src_port"], "80");
  EXPECT_EQ(f["packets_count"], "3");
  EXPECT_EQ(f["fwd_packets_count"], "1");        // p4 only
  EXPECT_EQ(f["bwd_packets_count"], "2");        // p3 (quirk) and p5
  EXPECT_EQ(f["bwd_init_win_bytes"], "444");     // win(first(B)) = p3
  EXPECT_EQ(f["fwd_init_win_bytes"], "555");     // win(first(F)) = p4
  EXPECT_EQ(f["fwd_total_payload_bytes"], "0");
  EXPECT_EQ(f["bwd_total_payload_bytes"], "3");
  EXPECT_EQ(f["fwd_packets_IAT_max"], "1600000000.03");  // D6: 1-packet F -> epoch of p4
  EXPECT_EQ(f["bwd_packets_IAT_max"], "0.02");           // p5 - p3 = 0.02
  EXPECT_EQ(f["duration"], "0.02");                      // p5 - p3
}

// ------------------------------------------------------------------------------------------
// D10: loose lookup — protocol ignored, ports may be permuted, direction by IP only.
TEST(EngineNfm2022, D10PortPermutationMerges) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Udp(T, "10.0.0.1", 7000, "10.0.0.2", 8000, 10, 10));
  run.Feed(Udp(T + 100 * kMs, "10.0.0.1", 8000, "10.0.0.2", 7000, 20, 20));  // {7000,8000} both ways
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["src_port"], "7000");
  EXPECT_EQ(rows[0]["dst_port"], "8000");
  EXPECT_EQ(rows[0]["protocol"], "UDP");
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(rows[0]["fwd_packets_count"], "2");  // p2.dst (10.0.0.2) != f.src (10.0.0.1) -> forward
  EXPECT_EQ(rows[0]["total_payload_bytes"], "30");
  EXPECT_EQ(rows[0]["total_header_bytes"], "16");  // UDP hl 8 x 2
}

TEST(EngineNfm2022, D10TcpAndUdpSameTupleMergeKeepingFirstProtocol) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "10.0.0.1", 5000, "10.0.0.2", 53, SYN, 0, 0, 1000, 20));
  run.Feed(Udp(T + 100 * kMs, "10.0.0.1", 5000, "10.0.0.2", 53, 30, 30));
  run.Feed(Udp(T + 200 * kMs, "10.0.0.2", 53, "10.0.0.1", 5000, 50, 50));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["protocol"], "TCP");       // first packet's label
  EXPECT_EQ(rows[0]["packets_count"], "3");
  EXPECT_EQ(rows[0]["fwd_packets_count"], "2");
  EXPECT_EQ(rows[0]["bwd_packets_count"], "1");
  EXPECT_EQ(rows[0]["total_payload_bytes"], "80");   // 0 + 30 + 50
  EXPECT_EQ(rows[0]["total_header_bytes"], "36");    // 20 + 8 + 8
  EXPECT_EQ(rows[0]["syn_flag_counts"], "1");        // UDP packets have no flags
  EXPECT_EQ(rows[0]["fwd_init_win_bytes"], "1000");  // first forward packet (the TCP SYN)
  EXPECT_EQ(rows[0]["bwd_init_win_bytes"], "0");     // first backward packet is UDP: window 0
}

TEST(EngineNfm2022, D10SameAddressFlowAllLaterPacketsBackward) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Udp(T, "127.0.0.1", 5000, "127.0.0.1", 6000, 10, 10));
  run.Feed(Udp(T + 1 * kMs, "127.0.0.1", 5000, "127.0.0.1", 6000, 10, 10));  // dst == f.src (IP) -> bwd
  run.Feed(Udp(T + 2 * kMs, "127.0.0.1", 6000, "127.0.0.1", 5000, 10, 10));  // bwd as well
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["fwd_packets_count"], "1");
  EXPECT_EQ(rows[0]["bwd_packets_count"], "2");
}

// D10 with equal ports (spec §2.1: addresses and ports compared as sets): flow
// 10.0.0.1:53 -> 10.0.0.2:53 matches a packet 10.0.0.1:53 -> 10.0.0.2:1234 (53 is in {53, 1234}
// for both of the flow's ports), but not 10.0.0.1:99 -> 10.0.0.2:1234; and an equal-address
// flow 10.0.0.3:7000 -> 10.0.0.3:8000 swallows 10.0.0.3:7000 -> 10.0.0.4:8000 (both of the
// flow's addresses are 10.0.0.3, which is in {10.0.0.3, 10.0.0.4}).
TEST(EngineNfm2022, D10DegenerateFlowsMatchAsSets) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Udp(T, "10.0.0.1", 53, "10.0.0.2", 53, 10, 10));
  run.Feed(Udp(T + 1 * kMs, "10.0.0.1", 53, "10.0.0.2", 1234, 20, 20));  // joins the 53<->53 flow
  run.Feed(Udp(T + 2 * kMs, "10.0.0.1", 99, "10.0.0.2", 1234, 30, 30));  // new flow
  run.Feed(Udp(T + 3 * kMs, "10.0.0.3", 7000, "10.0.0.3", 8000, 40, 40));
  run.Feed(Udp(T + 4 * kMs, "10.0.0.3", 7000, "10.0.0.4", 8000, 50, 50));  // joins it
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["src_port"], "53");
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(rows[0]["total_payload_bytes"], "30");  // 10 + 20
  EXPECT_EQ(rows[1]["src_port"], "99");
  EXPECT_EQ(rows[1]["packets_count"], "1");
  EXPECT_EQ(rows[2]["dst_ip"], "10.0.0.3");
  EXPECT_EQ(rows[2]["packets_count"], "2");
  // dst 10.0.0.4 != flow src 10.0.0.3: forward by the 2022 IP-only direction rule.
  EXPECT_EQ(rows[2]["fwd_packets_count"], "2");
}

// D11: any two FINs (same direction) end the flow; the next packet opens a new flow.
TEST(EngineNfm2022, D11TwoFinsSameDirectionEndFlowAtNextPacket) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "10.0.0.1", 1234, "10.0.0.2", 80, FIN | ACK, 0, 0));
  run.Feed(Tcp(T + 200 * kMs, "10.0.0.1", 1234, "10.0.0.2", 80, FIN | ACK, 0, 0));  // retransmitted FIN
  EXPECT_EQ(run.sink.rows.size(), 0u) << "a FIN never ends a flow by itself (§3.3)";
  run.Feed(Tcp(T + 300 * kMs, "10.0.0.1", 1234, "10.0.0.2", 80, ACK, 0, 0));
  EXPECT_EQ(run.sink.rows.size(), 1u);
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(rows[0]["fin_flag_counts"], "2");
  EXPECT_EQ(rows[0]["fwd_fin_flag_counts"], "2");
  EXPECT_EQ(rows[0]["duration"], "0.2");
  EXPECT_EQ(rows[1]["packets_count"], "1");
  EXPECT_EQ(rows[1]["flow_id"], "10.0.0.1_1234_10.0.0.2_80_TCP_2020-09-13 12:26:40.300000");
}

TEST(EngineNfm2022, OneFinDoesNotEndFlow) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "10.0.0.1", 1234, "10.0.0.2", 80, FIN | ACK, 0, 0));
  run.Feed(Tcp(T + 1 * kMs, "10.0.0.2", 80, "10.0.0.1", 1234, ACK, 0, 0));
  run.Feed(Tcp(T + 2 * kMs, "10.0.0.2", 80, "10.0.0.1", 1234, ACK, 0, 0));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["packets_count"], "3");
}

// RST: one RST in the flow ends it at the next packet, which opens a new flow.
TEST(EngineNfm2022, RstEndsFlowAtNextPacket) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "10.0.0.1", 1234, "10.0.0.2", 80, SYN, 0, 0));
  run.Feed(Tcp(T + 10 * kMs, "10.0.0.2", 80, "10.0.0.1", 1234, RST | ACK, 0, 0));
  run.Feed(Tcp(T + 1000 * kMs, "10.0.0.1", 1234, "10.0.0.2", 80, SYN, 0, 0));   // new flow
  run.Feed(Tcp(T + 1100 * kMs, "10.0.0.1", 1234, "10.0.0.2", 80, ACK, 0, 0));   // joins it
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(rows[0]["rst_flag_counts"], "1");
  EXPECT_EQ(rows[0]["bwd_rst_flag_counts"], "1");
  EXPECT_EQ(rows[1]["packets_count"], "2");
  EXPECT_EQ(rows[1]["duration"], "0.1");
  EXPECT_EQ(rows[1]["flow_id"], "10.0.0.1_1234_10.0.0.2_80_TCP_2020-09-13 12:26:41");
  EXPECT_EQ(run.Exported(EndReason::kRst), 1u);
}

// Timeouts, nfm2022 defaults activity_timeout 5000 s / max_flow_duration 120000 s, strict '>'
// at microsecond resolution (§3.2).
TEST(EngineNfm2022, ActivityTimeoutStrictAtMicroseconds) {
  EngineRun run(Profile::kNfm2022);
  EXPECT_DOUBLE_EQ(run.cfg.idle_timeout_s, 5000.0);
  EXPECT_DOUBLE_EQ(run.cfg.active_timeout_s, 120000.0);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Udp(T, "10.0.0.1", 1, "10.0.0.2", 2, 10, 10));
  run.Feed(Udp(T + 5000 * kSec, "10.0.0.1", 1, "10.0.0.2", 2, 10, 10));          // gap = 5000 s: not > 5000
  run.Feed(Udp(T + 10000 * kSec + 1000, "10.0.0.1", 1, "10.0.0.2", 2, 10, 10));  // gap 5000.000001 s > 5000
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "2");
  EXPECT_EQ(rows[0]["duration"], "5000.0");
  // gap 5000 > THR 100: end_act - start_act = 0 -> no active entry; I = [5000.000000]
  EXPECT_EQ(rows[0]["idle_max"], "5000.000000");
  EXPECT_EQ(rows[0]["active_max"], "0");
  EXPECT_EQ(rows[1]["packets_count"], "1");
  EXPECT_EQ(rows[1]["flow_id"], "10.0.0.1_1_10.0.0.2_2_UDP_2020-09-13 15:13:20.000001");
}

TEST(EngineNfm2022, MaxFlowDurationStrictAtMicroseconds) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  for (uint64_t k = 0; k <= 30; ++k)  // 31 packets, 4000 s apart (< 5000), last at +120000 s: not > 120000
    run.Feed(Udp(T + k * 4000 * kSec, "10.0.0.1", 1, "10.0.0.2", 2, 10, 10));
  EXPECT_EQ(run.sink.rows.size(), 0u);
  run.Feed(Udp(T + 120000 * kSec + 1000, "10.0.0.1", 1, "10.0.0.2", 2, 10, 10));  // 120000.000001 s > max
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["packets_count"], "31");
  EXPECT_EQ(rows[0]["duration"], "120000.0");
  EXPECT_EQ(rows[1]["packets_count"], "1");
}

// D8 (2022): the backward bulk compares with the FORWARD last-bulk time and never updates
// last[bwd] on restart. F pl 100 at T (last[fwd] = T), then 4 backward packets of 1000 B at
// T+2.0, 2.1, 2.2, 2.3: each has t - last[fwd] > 1 -> restart -> no backward bulk.
TEST(EngineNfm2022, D8BackwardBulkUsesForwardLastTime) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "10.0.0.1", 1234, "10.0.0.2", 80, PSH | ACK, 100, 100));
  for (int i = 0; i < 4; ++i)
    run.Feed(Tcp(T + 2000 * kMs + i * 100 * kMs, "10.0.0.2", 80, "10.0.0.1", 1234, PSH | ACK, 1000, 1000));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["bwd_bulk_state_count"], "0");
  EXPECT_EQ(rows[0]["bwd_bulk_per_packet"], "0");
  EXPECT_EQ(rows[0]["bwd_bulk_duration"], "0");   // never updated -> '0'
  EXPECT_EQ(rows[0]["avg_bwd_bulk_rate"], "0");
}

// Mirror image in the forward direction works: SYN at T, B pl 100 at T+0.01, then 4 forward
// packets of 1000 B at T+2.0..2.3: gaps to last[fwd] are 0.1 s -> one bulk of 4 packets,
// 4000 B, duration 2.3 - 2.0 = 0.300000 (D kind), rate 4000/0.3 = 13333.333333333334 (R).
TEST(EngineNfm2022, ForwardBulkFourPackets) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "10.0.0.1", 1234, "10.0.0.2", 80, SYN, 0, 0));
  run.Feed(Tcp(T + 10 * kMs, "10.0.0.2", 80, "10.0.0.1", 1234, PSH | ACK, 100, 100));
  for (int i = 0; i < 4; ++i)
    run.Feed(Tcp(T + 2000 * kMs + i * 100 * kMs, "10.0.0.1", 1234, "10.0.0.2", 80, PSH | ACK, 1000, 1000));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["fwd_bulk_state_count"], "1");
  EXPECT_EQ(rows[0]["fwd_bulk_per_packet"], "4");
  EXPECT_EQ(rows[0]["fwd_bulk_total_size"], "4000");
  EXPECT_EQ(rows[0]["fwd_bulk_duration"], "0.300000");
  EXPECT_EQ(rows[0]["avg_fwd_bytes_per_bulk"], "4000.0");
  EXPECT_EQ(rows[0]["avg_fwd_packets_per_bulk"], "4.0");
  EXPECT_EQ(rows[0]["avg_fwd_bulk_rate"], "13333.333333333334");  // 40000/3 rounded once
  EXPECT_EQ(rows[0]["bwd_bulk_state_count"], "0");
}

// §6.3 value kinds with the default-like ".64f": guarded fallbacks are the literal 0, computed
// zeros are 0.000... (64 decimals). One forward padded ACK (pl 6, hl 32) at T = 1600000000.
TEST(EngineNfm2022, ValueKindsFallbackZeroVsFloatZero64f) {
  EngineRun run(Profile::kNfm2022, ".64f");
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "10.0.0.1", 1234, "10.0.0.2", 80, ACK, 6, 0, 502, 32));
  run.Flush();
  auto rows = run.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  const std::string z64 = "0." + std::string(64, '0');
  EXPECT_EQ(r["payload_bytes_mean"], "6." + std::string(64, '0'));      // X: mean [6]
  EXPECT_EQ(r["payload_bytes_std"], z64);                               // X: pstdev [6] = 0
  EXPECT_EQ(r["fwd_payload_bytes_variance"], z64);                      // X: pvar over F = [6]
  EXPECT_EQ(r["bwd_payload_bytes_variance"], "0");                      // B empty -> fallback '0'
  EXPECT_EQ(r["fwd_mean_header_bytes"], "32." + std::string(64, '0'));  // X
  EXPECT_EQ(r["bwd_mean_header_bytes"], "0");                           // B empty -> '0'
  EXPECT_EQ(r["packet_IAT_std"], z64);                                  // pstdev [epoch] = 0
  EXPECT_EQ(r["packets_IAT_mean"], "1600000000." + std::string(64, '0'));  // D6 epoch, X
  EXPECT_EQ(r["packet_IAT_max"], "1600000000.0");                       // R
  EXPECT_EQ(r["bwd_packets_IAT_mean"], "0");                            // empty -> '0'
  EXPECT_EQ(r["duration"], "0.0");                                      // R, 1 packet
  EXPECT_EQ(r["bytes_rate"], "0");                                      // guard dur == 0
  EXPECT_EQ(r["down_up_rate"], "0.0");                                  // 0/1 computed
  EXPECT_EQ(r["fwd_avg_segment_size"], "6.0");                          // 6/1
  EXPECT_EQ(r["bwd_avg_segment_size"], "0");                            // guard N(B) = 0
  EXPECT_EQ(r["active_mean"], "0");                                     // A empty
  EXPECT_EQ(r["fwd_bulk_duration"], "0");                               // never updated
  EXPECT_EQ(r["subflow_fwd_packets"], "0");                             // sfcount 0 guard
  EXPECT_EQ(r["total_payload_bytes"], "6");                             // D14 emulated: frame payload
}

// D kind: nanosecond pcap (ts_exp -9) -> 9 fractional digits; pcapng shortest decimals
// (ts_exp -1) -> 1 digit. Packets at T, T+1.6, T+151.6 (all forward, UDP):
// A = [0 - 1.6] = [-1.6], I = [150] (§4.2).
TEST(EngineNfm2022, DecimalKindFollowsTimestampExponent) {
  {
    EngineRun run(Profile::kNfm2022);
    const uint64_t T = Us(1600000000, 0);
    for (uint64_t d : {uint64_t{0}, 1600 * kMs, 151600 * kMs}) {
      auto m = Udp(T + d, "10.0.0.1", 1, "10.0.0.2", 2, 10, 10, /*ts_exp=*/-9);
      run.Feed(m);
    }
    run.Flush();
    auto rows = run.Rows();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]["active_min"], "-1.600000000");
    EXPECT_EQ(rows[0]["active_max"], "-1.600000000");
    EXPECT_EQ(rows[0]["idle_min"], "150.000000000");
    EXPECT_EQ(rows[0]["active_mean"], "-1.6");   // Decimal mean -8/5 -> Decimal('-1.6')
    EXPECT_EQ(rows[0]["idle_mean"], "150");      // Decimal('150')
    EXPECT_EQ(rows[0]["idle_std"], "0.0");       // one element: Decimal('0.0')
    EXPECT_EQ(rows[0]["subflow_fwd_packets"], "1.5");  // gaps 1.6 and 150 > 1 -> sfcount 2; 3/2
  }
  {
    EngineRun run(Profile::kNfm2022);
    // 1600000000.5, 1600000002.1, 1600000152.1: shortest decimals have 1 fractional digit.
    for (uint64_t d : {500 * kMs, 2100 * kMs, 152100 * kMs}) {
      auto m = Udp(Us(1600000000, 0) + d, "10.0.0.1", 1, "10.0.0.2", 2, 10, 10, /*ts_exp=*/-1);
      run.Feed(m);
    }
    run.Flush();
    auto rows = run.Rows();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]["active_min"], "-1.6");
    EXPECT_EQ(rows[0]["idle_max"], "150.0");
  }
}

// nfm2022 ignores IPv6 and ICMP (spec §1.1): no flow, no row.
TEST(EngineNfm2022, IgnoresIpv6AndIcmp) {
  EngineRun run(Profile::kNfm2022);
  const uint64_t T = Us(1600000000, 0);
  run.Feed(Tcp(T, "2001:db8::1", 1234, "2001:db8::2", 80, SYN, 0, 0));
  run.Feed(Other(T + kMs, "10.0.0.1", "10.0.0.2", /*ICMP*/ 1, 56));
  run.Flush();
  EXPECT_EQ(run.sink.rows.size(), 0u);
  EXPECT_EQ(run.engine->Stats().packets_in_flows, 0u);
  EXPECT_EQ(run.engine->Stats().flows_created, 0u);
}

}  // namespace
