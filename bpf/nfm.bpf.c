// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* nfm-xdp capture programs: nfm_xdp (XDP, ingress), nfm_tc_ingress (tcx ingress, used
 * instead of XDP when another XDP program owns the interface) and nfm_tc_egress (tcx egress)
 * turn every packet into one 72-byte struct nfm_pkt_event (include/nfm/event.h) for the
 * user-space flow engine (a decapsulated packet with rodata nfm_tunnel_trailer: a 112-byte struct
 * nfm_pkt_event_tun, the event plus its tunnel's outer addresses and VNI/TEID/key). They observe only: they never modify, drop or redirect traffic.
 *
 * Per packet, on every hook:
 *  1. Count the packet and its bytes (XDP: data_end - data; TC: skb->len, which at tc
 *     ingress includes the Ethernet header like XDP's frame).
 *  2. TC only: make up to NFM_TC_PULL_LEN header bytes linear (bpf_skb_pull_data) and
 *     re-read data/data_end, since the skb may be non-linear.
 *  3. Parse Ethernet, VLAN/MPLS, IPv4/IPv6 (+ extension chain) and TCP/UDP/ICMP into an
 *     event on the stack (parse.bpf.h). Non-IP or malformed: count the reason, stop.
 *  4. Sample 1-in-nfm_sample_n using this CPU's packet counter (flow-independent).
 *  4b. --tunnel inner (rodata nfm_tunnel_inner): a VXLAN, Geneve, GTP-U, GRE or IP-in-IP packet
 *     is parsed again from its inner frame and the inner packet's event replaces the outer one
 *     (tunnel.bpf.h: global functions nfm_decap_xdp / nfm_decap_tc, which then call
 *     nfm_deliver).
 *  5. (nfm_deliver, a separately verified global function, for steps 5-6.) Symmetric flow
 *     hash. With nfm_dedup_on: drop the copy of a packet whose flow another attached
 *     interface owns (dedup.bpf.h: the first interface that saw the flow owns it). Pick
 *     ring = hash & nfm_ring_mask, so both directions of a flow share one ring and the
 *     consumer sees each flow's events in order.
 *  6. Reserve, copy, timestamp, submit. Wake the consumer only when this event makes the
 *     unread data in the ring reach nfm_wakeup_bytes (the consumer also polls with a
 *     short timeout). Reserve failure counts NFM_CNT_RING_FULL, an empty ring slot
 *     NFM_CNT_NO_RING; both also count the event in nfm_ring_lost[ring].
 *  7. Return XDP_PASS / TC_ACT_UNSPEC (== TCX_NEXT) on every path: on a tcx hook the
 *     next program in the chain (someone else's, if any) still runs and decides.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "nfm/event.h"
#include "nfm/flow_hash.h"
#include "consts.bpf.h"
#include "counters.bpf.h"
#include "parse.bpf.h"
#include "dedup.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by user space between open and load. */
const volatile __u32 nfm_ring_mask = 0;		/* rings in use - 1; rings are a power of two */
const volatile __u32 nfm_sample_n = 1;		/* keep 1 packet in N per CPU; 0 and 1 keep all */
const volatile __u32 nfm_wakeup_bytes = NFM_WAKEUP_BYTES_DEFAULT; /* 0: kernel decides */
const volatile __u8 nfm_enable_tc = 1;		/* 0: nfm_tc_egress returns at once, uncounted */

/* Template only: user space creates the real rings (any power-of-two size, see
 * bpf_map_meta_equal(): max_entries of a ring is not part of the inner-map type). */
struct nfm_ring_tmpl {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
};

/* nfm_rings: key ring index (hash & nfm_ring_mask), value a BPF_MAP_TYPE_RINGBUF of
 * struct nfm_pkt_event records. Writer of the slots: the user-space loader, before attach.
 * Producers: both programs. Consumer: one user-space drain per ring. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, NFM_MAX_RINGS);
	__type(key, __u32);
	__array(values, struct nfm_ring_tmpl);
} nfm_rings SEC(".maps");

/* The ring is nfm_flow_hash (include/nfm/flow_hash.h, shared with user space, which
 * attributes per-ring losses to flows) & nfm_ring_mask. That hash replaced 9 rounds of the
 * 32-bit murmur3 finaliser (18 dependent multiplies): ~10 ns/packet less in bench/xdp_cost,
 * same spread (8 and 64 rings, random and sequential addresses/ports within +-10 % of
 * uniform). */
static __always_inline __u32 nfm_event_ring(__u64 hash64)
{
	return (__u32)(hash64 >> 32) & nfm_ring_mask;
}

/* Emits one event for `tmpl` (a copy), timestamped now; with `tun` (a decapsulated packet with
 * rodata nfm_tunnel_trailer) as a 112-byte struct nfm_pkt_event_tun record, else the bare
 * 72-byte event. Returns 0, or the counter slot of the loss. */
static __always_inline int nfm_emit(void *ring, struct nfm_pkt_event *tmpl,
				    const struct nfm_tunnel_trailer *tun)
{
	struct nfm_pkt_event *e;
	__u64 flags = 0;

	if (tun) {
		struct nfm_pkt_event_tun *r = bpf_ringbuf_reserve(ring, sizeof(*r), 0);

		if (!r)
			return NFM_CNT_RING_FULL;
		tmpl->ts_ns = bpf_ktime_get_ns();
		asm volatile("" : : "r"(tmpl) : "memory");
		r->ev = *tmpl;
		r->tun = *tun;
		e = &r->ev;
	} else {
		e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
		if (!e)
			return NFM_CNT_RING_FULL;
		tmpl->ts_ns = bpf_ktime_get_ns();
		/* Compiler barrier, not a verifier workaround: without it clang 14 keeps the
		 * event's fields in registers/spill slots (SROA) and writes the record with 15
		 * stores of 1, 2, 4 and 8 bytes; with ev pinned in memory the copy is 9 aligned
		 * 8-byte loads/stores into the (cache-cold) ring record. ~3-10 ns/packet in
		 * bench/xdp_cost. */
		asm volatile("" : : "r"(tmpl) : "memory");
		*e = *tmpl;
	}
	if (nfm_wakeup_bytes) {
		/* Wake only the submit that carries the unread data across the threshold,
		 * not every submit above it: each forced wake-up queues irq_work, a self-IPI
		 * (a VM exit under KVM); waking per event above the threshold cost 6.7 us per
		 * packet in bench/xdp_cost --mode nodrain (kernel 6.18). A crossing missed by
		 * racing CPUs is covered by the consumer's poll timeout (which then reads every
		 * ring), and a wake-up while the consumer is busy is kept by epoll. */
		__u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
		__u64 rec = tun ? NFM_RB_TUN_RECORD_SZ : NFM_RB_RECORD_SZ;	/* this record */

		flags = avail >= nfm_wakeup_bytes && avail < nfm_wakeup_bytes + rec ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
	return 0;
}

/* nfm_emit of one GSO segment, its outcome counted (a loss also in nfm_ring_lost[idx]). */
static __always_inline void nfm_emit_counted(void *ring, __u32 idx, struct nfm_pkt_event *seg,
					     const struct nfm_tunnel_trailer *tun)
{
	int ret = nfm_emit(ring, seg, tun);

	if (ret) {
		nfm_count(ret, 1);
		nfm_count_ring_lost(idx, 1);
		return;
	}
	nfm_count(NFM_CNT_EVENTS, 1);
}

/* Segment i of segs of GSO super-packet ev (payload total, headers hdrs) into *seg. Segment i
 * carries gso_size payload bytes, the last one the rest; TCP segmentation (tcp_gso_segment)
 * keeps FIN and PSH on the last segment only and CWR on the first, and advances seq by the
 * payload before each segment. */
static __always_inline void nfm_gso_segment(const struct nfm_pkt_event *ev, struct nfm_pkt_event *seg,
					    __u32 i, __u32 segs, __u32 gso_size, __u32 total, __u32 hdrs)
{
	__u32 pl;

	*seg = *ev;
	pl = i + 1 < segs ? gso_size : total - gso_size * (segs - 1);
	if (pl > total)
		pl = 0;
	seg->payload_len = pl;
	seg->frame_len = hdrs + pl;
	if (ev->proto == 6) {
		seg->tcp_seq = ev->tcp_seq + i * gso_size;
		if (i + 1 < segs)
			seg->tcp_flags &= ~(0x01 | 0x08);
		if (i > 0)
			seg->tcp_flags &= ~0x80;
	}
}

/* Step 5-6 for one parsed event: pick its ring, emit it (a GSO super-packet: one event per wire
 * segment) and count the outcome. tun: the tunnel trailer of a decapsulated packet
 * (nfm_decap_finish, rodata nfm_tunnel_trailer), NULL otherwise (every other caller passes NULL,
 * so the bare 72-byte records stay as they were). pkt_slot, gso_segs, gso_size: see nfm_handle.
 *
 * A global (not static, not inlined) function: the verifier checks it once, on its own, with
 * `ev` as a possibly-NULL pointer to sizeof(struct nfm_pkt_event) bytes, instead of once for
 * every distinct state the parser leaves behind. Inlined, this part was re-verified for each
 * parser exit path and took the tcx programs to 98.7 % of the verifier's 1M-instruction limit
 * with sampling on and one ring (tests/bpf NfmBpfVerifier; docs/BPF.md "Verifier budget").
 * Cost: one BPF-to-BPF call per delivered packet. */
__noinline int nfm_deliver(struct nfm_pkt_event *ev, const struct nfm_tunnel_trailer *tun,
			   __u32 pkt_slot, __u32 gso_segs, __u32 gso_size)
{
	struct nfm_pkt_event seg;
	__u32 idx, segs = 1, hdrs, total, i;
	__u64 hash;
	void *ring;
	int ret;

	if (!ev)
		return 0;
	hash = nfm_flow_hash64(ev->saddr, ev->sport, ev->daddr, ev->dport, ev->proto);
	if (nfm_dedup_on && nfm_dedup_copy(ev, hash)) {
		/* A copy: counted once per wire packet, like the events it would have given. */
		if (gso_segs > 1 && gso_size && (ev->proto == 6 || ev->proto == 17) &&
		    ev->payload_len > gso_size) {
			segs = gso_segs < NFM_MAX_GSO_SEGS ? gso_segs : NFM_MAX_GSO_SEGS;
			nfm_count(pkt_slot, segs - 1);
		}
		nfm_count(NFM_CNT_DEDUP, segs);
		return 0;
	}
	idx = nfm_event_ring(hash);
	ring = bpf_map_lookup_elem(&nfm_rings, &idx);
	if (!ring) {
		nfm_count(NFM_CNT_NO_RING, 1);
		nfm_count_ring_lost(idx, 1);
		return 0;
	}
	if (gso_segs > 1 && gso_size && (ev->proto == 6 || ev->proto == 17) &&
	    ev->payload_len > gso_size) {
		segs = gso_segs < NFM_MAX_GSO_SEGS ? gso_segs : NFM_MAX_GSO_SEGS;
		nfm_count(pkt_slot, segs - 1);
	}
	if (segs == 1) {
		ret = nfm_emit(ring, ev, tun);
		if (ret) {
			nfm_count(ret, 1);
			nfm_count_ring_lost(idx, 1);
			return 0;
		}
		nfm_count(NFM_CNT_EVENTS, 1);
		if (ev->info & NFM_INFO_FRAG)
			nfm_count(NFM_CNT_FRAGMENT, 1);
		if (ev->info & NFM_INFO_L4_TRUNC)
			nfm_count(NFM_CNT_L4_TRUNC, 1);
		return 0;
	}
	/* Segment i carries gso_size payload bytes, the last one the rest; TCP segmentation
	 * (tcp_gso_segment) keeps FIN and PSH on the last segment only and CWR on the first. */
	hdrs = ev->l4_off + ev->l4_hdr_len;
	total = ev->payload_len;
	/* Segment 0 outside the loop: only it carries the tunnel trailer (the flow keeps its first
	 * tunnelled packet's tunnel). A trailer branch inside the loop was walked by the verifier
	 * in all 64 iterations, also with i ? NULL : tun (clang hoists it): +70k processed
	 * instructions on every configuration (kernel 6.18, clang 14). */
	nfm_gso_segment(ev, &seg, 0, segs, gso_size, total, hdrs);
	nfm_emit_counted(ring, idx, &seg, tun);
	for (i = 1; i < NFM_MAX_GSO_SEGS; i++) {
		if (i >= segs)
			break;
		nfm_gso_segment(ev, &seg, i, segs, gso_size, total, hdrs);
		nfm_emit_counted(ring, idx, &seg, NULL);
	}
	nfm_count(NFM_CNT_GSO_SPLIT, 1);
	return 0;
}

#include "tunnel.bpf.h"

/* Steps 1-4, then nfm_deliver. pkt_slot is the hook's packet counter (its per-CPU value drives
 * sampling). gso_segs/gso_size (TC only, else 0): a GSO super-packet that the stack will cut
 * into gso_segs wire packets after this hook (TCP builds them even with GSO/TSO off on the
 * device; software segmentation runs at transmit). One event per wire packet keeps egress
 * counts equal to what a capture of the interface shows. */
static __always_inline void nfm_handle(void *ctx, int xdp, void *data, void *data_end,
				       __u32 frame_len, __u32 ifindex, __u8 info, __u32 pkt_slot,
				       __u32 gso_segs, __u32 gso_size)
{
	struct nfm_pkt_event ev = {};
	__u64 seen;
	int ret;

	seen = nfm_count(pkt_slot, 1);
	ev.frame_len = frame_len;
	ev.ifindex = ifindex;
	ev.info = info | (NFM_EVENT_VERSION << NFM_INFO_VERSION_SHIFT);

	ret = nfm_parse(data, data_end, frame_len, &ev);
	if (ret < 0) {
		nfm_count(-ret, 1);
		return;
	}
	if (nfm_sample_n > 1 && seen % nfm_sample_n) {
		nfm_count(NFM_CNT_SAMPLED_OUT, 1);
		return;
	}
	/* --tunnel inner: the global decap function delivers the event itself, so nothing after
	 * the parser branches on its outcome (each such branch is verified again for every state
	 * the parser leaves; a kind test here took nfm_xdp past 1M instructions). */
	if (nfm_tunnel_inner) {
		if (xdp)
			nfm_decap_xdp(ctx, &ev, pkt_slot, gso_segs, gso_size);
		else
			nfm_decap_tc(ctx, &ev, pkt_slot, gso_segs, gso_size);
		return;
	}
	nfm_deliver(&ev, NULL, pkt_slot, gso_segs, gso_size);
}

SEC("xdp")
int nfm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;

	nfm_count(NFM_CNT_XDP_BYTES, len);
	nfm_handle(ctx, 1, data, data_end, len, ctx->ingress_ifindex, 0, NFM_CNT_XDP_PACKETS, 0, 0);
	return XDP_PASS;
}

/* Both tcx programs: TC_PACKETS/TC_BYTES slots and the info bits differ. At tc ingress
 * skb->data points at the Ethernet header (sch_handle_ingress pushed it back), and skb->len
 * counts it, so the frame is the one XDP would have seen; a GRO-merged skb (GRO on) is
 * reported per segment like an egress GSO skb. */
static __always_inline int nfm_tc(struct __sk_buff *skb, __u8 info, __u32 pkt_slot,
				  __u32 bytes_slot)
{
	__u32 len = skb->len, want = len < NFM_TC_PULL_LEN ? len : NFM_TC_PULL_LEN;
	void *data, *data_end;

	if (!nfm_enable_tc)
		return TC_ACT_UNSPEC;
	nfm_count(bytes_slot, len);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + want > data_end) {
		/* Failure (e.g. -ENOMEM) is not fatal: we parse what is linear and count
		 * whatever ends up cut. */
		bpf_skb_pull_data(skb, want);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	nfm_handle(skb, 0, data, data_end, len, skb->ifindex, info, pkt_slot, skb->gso_segs,
		   skb->gso_size);
	return TC_ACT_UNSPEC;
}

/* SEC("tc") because libbpf 1.1 does not know "tcx/egress" / "tcx/ingress"; the loader sets
 * the expected attach types BPF_TCX_EGRESS / BPF_TCX_INGRESS before load and attaches with
 * bpf_link_create(). */
SEC("tc")
int nfm_tc_egress(struct __sk_buff *skb)
{
	return nfm_tc(skb, NFM_INFO_EGRESS, NFM_CNT_TC_PACKETS, NFM_CNT_TC_BYTES);
}

SEC("tc")
int nfm_tc_ingress(struct __sk_buff *skb)
{
	return nfm_tc(skb, 0, NFM_CNT_TC_IN_PACKETS, NFM_CNT_TC_IN_BYTES);
}
