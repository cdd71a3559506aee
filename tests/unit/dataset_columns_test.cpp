// SPDX-License-Identifier: MIT
// The data-set pieces without I/O: loss intervals (overlap edges), the live loss timeline
// (merging, the export-time end of a flow's open span), the extra CSV columns, rotated part
// names and JSON quoting. Expected values are worked out by hand in the comments.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "output/byte_sink.hpp"
#include "output/dataset_columns.hpp"
#include "output/manifest.hpp"
#include "nfm/flow_hash.h"

namespace nfm {
namespace {

TEST(LossIntervals, ClosedIntervalOverlap) {
  LossIntervals iv;
  iv.Add(300, 400);
  iv.Add(100, 200);
  iv.Build();
  EXPECT_TRUE(iv.Overlaps(50, 100));    // touches the start
  EXPECT_FALSE(iv.Overlaps(50, 99));
  EXPECT_TRUE(iv.Overlaps(200, 250));   // touches the end
  EXPECT_FALSE(iv.Overlaps(201, 299));  // between the two
  EXPECT_TRUE(iv.Overlaps(0, 1000));
  EXPECT_TRUE(iv.Overlaps(350, 350));
  EXPECT_FALSE(iv.Overlaps(401, 500));
  LossIntervals none;
  none.Build();
  EXPECT_FALSE(none.Overlaps(0, 1000));
}

int64_t g_now = 0;
int64_t FakeNow() { return g_now; }

FlowView Flow(int64_t first, int64_t last) {
  FlowView v;
  v.first_ns = first;
  v.last_ns = last;
  return v;
}

TEST(LossTimeline, SamplesBecomeMergedIntervals) {
  LossTimeline t;
  t.now_ns = FakeNow;
  t.Sample(1000, 0);
  t.Sample(1100, 0);
  t.Sample(1200, 5);   // lost in (1100, 1200]
  t.Sample(1300, 9);   // still losing: merged -> (1100, 1300], 9
  t.Sample(1400, 9);
  t.Sample(1500, 10);  // new period (1400, 1500], 1
  ASSERT_EQ(t.Intervals().size(), 2u);
  EXPECT_EQ(t.Intervals()[0].from_ns, 1100);
  EXPECT_EQ(t.Intervals()[0].to_ns, 1300);
  EXPECT_EQ(t.Intervals()[0].lost, 9u);
  EXPECT_EQ(t.Intervals()[1].from_ns, 1400);
  EXPECT_EQ(t.Intervals()[1].lost, 1u);
  // A flow exported at 1050 (before any loss) with packets 900..1000: not lossy.
  g_now = 1050;
  EXPECT_FALSE(t.Lost(Flow(900, 1000)));
  // Packets 900..1000 but exported at 1150: it was open during (1100, 1300] -> lossy.
  g_now = 1150;
  EXPECT_TRUE(t.Lost(Flow(900, 1000)));
  // Started after the first period ended, exported before the second: not lossy.
  g_now = 1390;
  EXPECT_FALSE(t.Lost(Flow(1310, 1380)));
  g_now = 1600;
  EXPECT_TRUE(t.Lost(Flow(1310, 1380)));
  EXPECT_FALSE(t.Lost(Flow(1501, 1590)));
}

TEST(LossTimeline, LossBeforeTheFirstSampleCoversTheStart) {
  LossTimeline t;
  t.now_ns = FakeNow;
  t.Sample(1000, 3);
  g_now = 2000;
  EXPECT_TRUE(t.Lost(Flow(10, 20)));
  EXPECT_FALSE(t.Lost(Flow(1001, 1002)));
}

// Per-ring losses mark only the flows of that ring; losses of no particular ring mark all.
TEST(LossTimeline, LossesOfOneRingMarkOnlyItsFlows) {
  // Two UDP flows 10.0.0.1:P -> 10.0.0.2:53, P picked so that one is on each of 2 rings.
  static uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  static uint8_t b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  FlowView on[2];
  bool have[2] = {false, false};
  for (uint16_t p = 1000; p < 1100 && !(have[0] && have[1]); ++p) {
    const uint32_t r = nfm_flow_hash(a, htons(p), b, htons(53), 17) & 1u;
    if (have[r]) continue;
    have[r] = true;
    on[r] = Flow(900, 1000);
    on[r].src = a;
    on[r].dst = b;
    on[r].sport = p;
    on[r].dport = 53;
    on[r].proto = 17;
  }
  ASSERT_TRUE(have[0] && have[1]);
  // The reverse orientation is the same flow (the hash is symmetric).
  FlowView rev = on[1];
  std::swap(rev.src, rev.dst);
  std::swap(rev.sport, rev.dport);

  LossTimeline t;
  t.now_ns = FakeNow;
  const uint64_t s1[2] = {0, 0}, s2[2] = {0, 7}, s3[2] = {0, 7}, s4[2] = {2, 7};
  t.Sample(1000, s1, 0);
  t.Sample(1100, s2, 0);  // ring 1 lost 7 in (1000, 1100]
  t.Sample(1200, s3, 0);
  g_now = 1150;
  EXPECT_FALSE(t.Lost(on[0]));  // open during ring 1's loss, but on ring 0
  EXPECT_TRUE(t.Lost(on[1]));
  EXPECT_TRUE(t.Lost(rev));
  FlowView unknown = Flow(900, 1000);  // no identity: any ring's loss counts
  EXPECT_TRUE(t.Lost(unknown));
  t.Sample(1300, s4, 0);  // ring 0 lost 2 in (1200, 1300]
  t.Sample(1400, s4, 5);  // 5 undecodable events in (1300, 1400]: every ring
  FlowView mid1 = on[1];  // ring 1, open 1210 .. 1250 while ring 0 loses
  mid1.first_ns = 1210;
  mid1.last_ns = 1220;
  g_now = 1250;
  EXPECT_FALSE(t.Lost(mid1));
  EXPECT_TRUE(t.Lost(Flow(1210, 1220)));  // no identity: ring 0's loss counts
  g_now = 1450;
  FlowView late0 = on[0], late1 = on[1];
  late0.first_ns = late1.first_ns = 1310;
  late0.last_ns = late1.last_ns = 1320;
  EXPECT_TRUE(t.Lost(late1));  // ring 1 had no loss then; the ring-wide one counts
  EXPECT_TRUE(t.Lost(late0));
  const auto iv = t.Intervals();  // ring-wide first, then ring 0, ring 1
  ASSERT_EQ(iv.size(), 3u);
  EXPECT_EQ(iv[0].ring, -1);
  EXPECT_EQ(iv[0].from_ns, 1300);
  EXPECT_EQ(iv[0].lost, 5u);
  EXPECT_EQ(iv[1].ring, 0);
  EXPECT_EQ(iv[1].from_ns, 1200);
  EXPECT_EQ(iv[1].to_ns, 1300);
  EXPECT_EQ(iv[1].lost, 2u);
  EXPECT_EQ(iv[2].ring, 1);
  EXPECT_EQ(iv[2].from_ns, 1000);
  EXPECT_EQ(iv[2].to_ns, 1100);
  EXPECT_EQ(iv[2].lost, 7u);
}

TEST(DatasetColumns, AppendsLossThenLabelBeforeTheLineEnd) {
  auto rules_text = std::string("label,start,end,src,dst,sport,dport,proto\nX,*,*,10.0.0.1,*,*,*,*\n");
  std::string err;
  auto rules = LabelRules::Parse(rules_text, "r.csv", &err);
  ASSERT_NE(rules, nullptr) << err;
  LossIntervals iv;
  iv.Add(0, 10);
  iv.Build();
  CaptureLossOracle loss(iv);
  DatasetColumns both(rules.get(), "BENIGN", &loss);
  EXPECT_EQ(both.Header("a,b\r\n"), "a,b,capture_loss,label\r\n");
  uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  FlowView v = Flow(5, 20);
  v.src = src;
  v.dst = dst;
  EXPECT_EQ(both.Extend("1,2\r\n", v), "1,2,1,X\r\n");
  v.src = dst;  // 10.0.0.2 <-> 10.0.0.2: no rule
  v.first_ns = 11;
  EXPECT_EQ(both.Extend("1,2\r\n", v), "1,2,0,BENIGN\r\n");
  DatasetColumns labels_only(rules.get(), "B", nullptr);
  EXPECT_EQ(labels_only.Header("a,b\r\n"), "a,b,label\r\n");
  DatasetColumns none(nullptr, "B", nullptr);
  EXPECT_FALSE(none.Enabled());
}

// cic / ntl layouts end in their own label column: it stays last (its name kept), --labels
// replaces its value, capture_loss goes just before it. Rows ending in "\n" (CIC) or "\r\n".
TEST(DatasetColumns, OwnLabelColumnIsReplacedAndStaysLast) {
  auto rules_text = std::string("label,start,end,src,dst,sport,dport,proto\nX,*,*,10.0.0.1,*,*,*,*\n");
  std::string err;
  auto rules = LabelRules::Parse(rules_text, "r.csv", &err);
  ASSERT_NE(rules, nullptr) << err;
  LossIntervals iv;
  iv.Add(0, 10);
  iv.Build();
  CaptureLossOracle loss(iv);
  uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  FlowView v = Flow(5, 20);  // overlaps [0, 10]: lossy
  v.src = src;
  v.dst = dst;

  DatasetColumns both(rules.get(), "BENIGN", &loss);
  both.SetOwnLabelColumn(true);
  EXPECT_EQ(both.Header("Flow ID,Idle Min,Label\n"), "Flow ID,Idle Min,capture_loss,Label\n");
  EXPECT_EQ(both.Extend("f,0,NeedManualLabel\n", v), "f,0,1,X\n");
  EXPECT_EQ(both.LastLabel(), "X");
  v.src = dst;  // no rule matches
  v.first_ns = 11;
  EXPECT_EQ(both.Extend("f,0,NeedManualLabel\n", v), "f,0,0,BENIGN\n");

  DatasetColumns labels_only(rules.get(), "B", nullptr);
  labels_only.SetOwnLabelColumn(true);
  EXPECT_EQ(labels_only.Header("a,b,label\r\n"), "a,b,label\r\n");
  EXPECT_EQ(labels_only.Extend("1,2,Unknown\r\n", v), "1,2,B\r\n");

  DatasetColumns loss_only(nullptr, "B", &loss);  // the set's own constant label is kept
  loss_only.SetOwnLabelColumn(true);
  EXPECT_EQ(loss_only.Header("a,b,label\r\n"), "a,b,capture_loss,label\r\n");
  v.first_ns = 5;
  EXPECT_EQ(loss_only.Extend("1,2,Unknown\r\n", v), "1,2,1,Unknown\r\n");
}

// --where-columns: node, iface, ifindex go before capture_loss and label (and before a set's own
// label column); the interface is the one the drain noted for the flow's 5-tuple, in either
// direction, by name as it was attached; a name with a comma is quoted (RFC 4180).
TEST(DatasetColumns, WhereColumnsComeBeforeLossAndLabel) {
  uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 244, 1, 2};
  uint8_t b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 244, 2, 3};
  FlowIfaces ifaces(16);
  ifaces.Note(b, 8080, a, 40000, 6, 7);  // a backward packet: the key is symmetric
  ifaces.SetName(7, "calib");
  FlowView v = Flow(5, 20);
  v.src = a;
  v.dst = b;
  v.sport = 40000;
  v.dport = 8080;
  v.proto = 6;
  EXPECT_EQ(ifaces.Ifindex(v), 7u);
  LossIntervals iv;
  iv.Add(0, 10);
  iv.Build();
  CaptureLossOracle loss(iv);
  DatasetColumns cols(nullptr, "B", &loss);
  cols.SetWhere(true, true, "node-1", &ifaces);
  EXPECT_TRUE(cols.Enabled());
  EXPECT_EQ(cols.Header("a,b\r\n"), "a,b,node,iface,ifindex,capture_loss\r\n");
  EXPECT_EQ(cols.Extend("1,2\r\n", v), "1,2,node-1,calib,7,1\r\n");
  ifaces.SetName(7, "we,ird\"");
  EXPECT_EQ(cols.Extend("1,2\r\n", v), "1,2,node-1,\"we,ird\"\"\",7,1\r\n");
  v.dport = 8081;  // another flow: nothing noted, both fields empty
  EXPECT_EQ(ifaces.Ifindex(v), 0u);
  EXPECT_EQ(cols.Extend("1,2\r\n", v), "1,2,node-1,,,1\r\n");

  DatasetColumns own(nullptr, "B", nullptr);  // cic/ntl: before the set's own label column
  own.SetOwnLabelColumn(true);
  own.SetWhere(false, true, "", nullptr);  // offline: no interface known
  EXPECT_EQ(own.Header("x,Label\n"), "x,iface,ifindex,Label\n");
  EXPECT_EQ(own.Extend("1,NeedManualLabel\n", v), "1,,,NeedManualLabel\n");
}

TEST(RotatedName, ExtensionStaysLastForCompressedFiles) {
  EXPECT_EQ(RotatedName("out.csv", "20260101T000000Z", 3), "out.csv.20260101T000000Z.3");
  EXPECT_EQ(RotatedName("d/out.csv.gz", "T", 1), "d/out.T.1.csv.gz");
  EXPECT_EQ(RotatedName("out.csv.zst", "T", 2), "out.T.2.csv.zst");
  EXPECT_EQ(RotatedName("flows.zst", "T", 2), "flows.T.2.zst");
  EXPECT_EQ(CodecForPath("-"), Codec::kPlain);
  EXPECT_EQ(CodecForPath("x.csv.gz"), Codec::kGzip);
  EXPECT_EQ(CodecForPath("x.zst"), Codec::kZstd);
  EXPECT_EQ(CodecForPath("x.csv"), Codec::kPlain);
}

TEST(Manifest, JsonQuotingAndUtcText) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(UtcText(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(UtcText(1499435700123456789), "2017-07-07T13:55:00.123456789Z");
  EXPECT_EQ(UtcText(-1), "1969-12-31T23:59:59.999999999Z");
}

}  // namespace
}  // namespace nfm
