/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Each packet once across several capture interfaces: a flow (symmetric 5-tuple) belongs to the
 * first attached interface that sees one of its packets, and the copies other interfaces see
 * of its packets (pod A's veth and pod B's veth on one node, a veth and the bridge or the
 * overlay device) are counted in NFM_CNT_DEDUP and dropped before delivery. The
 * rule and its costs: docs/LIVE.md "Each packet once". Not used unless user space sets
 * nfm_dedup_on (--dedup). This file only decides; it emits nothing.
 */
#ifndef NFM_DEDUP_BPF_H
#define NFM_DEDUP_BPF_H

/* Buckets of the owner table: 2 ways each, so 2 * NFM_DEDUP_BUCKETS flows at a time. */
#define NFM_DEDUP_BUCKETS (1u << 16)
/* Interfaces user space may register as attached (>= the --max-ifaces limit). */
#define NFM_DEDUP_MAX_IFS 4096

const volatile __u8 nfm_dedup_on = 0;		/* 1: drop copies seen by non-owner interfaces */
const volatile __u32 nfm_dedup_hold_s = 60;	/* an owner idle this long can be replaced */

/* Coarse clock in seconds (any origin), written by user space about every 100 ms. A global
 * read instead of bpf_ktime_get_*(): a helper call costs more than the rest of the lookup. */
volatile __u32 nfm_now_s = 0;

/* One owner: id = (flow tag << 32) | ifindex in one 8-byte word, so a concurrent claim by
 * another CPU is never torn between the two halves; 0 = empty. */
struct nfm_dedup_way {
	__u64 id;
	__u32 seen_s;	/* nfm_now_s when the owner last saw the flow */
	__u32 _pad;
};

struct nfm_dedup_bucket {
	struct nfm_dedup_way w[2];
};

/* nfm_dedup_tbl: key = low 16 bits of the 64-bit symmetric flow hash, value = 2 owner ways tagged
 * with its high 32 bits (48 bits tell flows apart). Writer and reader: every hook (plain
 * stores; a lost race only changes which interface owns a new flow). 32 B x 65536 = 2 MiB. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NFM_DEDUP_BUCKETS);
	__type(key, __u32);
	__type(value, struct nfm_dedup_bucket);
} nfm_dedup_tbl SEC(".maps");

/* nfm_dedup_ifs: key ifindex -> 1 while our hooks are attached there. Writer: user space
 * (attach / detach); reader: nfm_dedup, on the copy path only. An owner that is not attached
 * any more (the pod's veth is gone) loses its flows at once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NFM_DEDUP_MAX_IFS);
	__type(key, __u32);
	__type(value, __u8);
} nfm_dedup_ifs SEC(".maps");

/* Returns 1 when `ev` (flow hash `h`, nfm_flow_hash64) is a copy to drop, else 0 (also when
 * the bucket is full: NFM_CNT_DEDUP_FULL, the packet is kept). The caller counts the drop.
 * Inlined into nfm_deliver, the global function the verifier checks once (docs/BPF.md
 * "Verifier budget"): called from the per-packet path of nfm_handle instead, the extra exit
 * was verified again for every parser state (+40k to +100k instructions). */
static __always_inline int nfm_dedup_copy(const struct nfm_pkt_event *ev, __u64 h)
{
	struct nfm_dedup_bucket *b;
	struct nfm_dedup_way *w, *free = 0;
	__u64 tag, id;
	__u32 idx, now, me, i;

	idx = h & (NFM_DEDUP_BUCKETS - 1);
	b = bpf_map_lookup_elem(&nfm_dedup_tbl, &idx);
	if (!b)
		return 0;
	me = ev->ifindex;
	tag = h >> 32;
	id = tag << 32 | me;
	now = nfm_now_s;
	for (i = 0; i < 2; i++) {
		w = &b->w[i];
		if (w->id == 0 || (w->id >> 32) != tag) {
			if (w->id == 0 || now - w->seen_s >= nfm_dedup_hold_s)
				free = w;
			continue;
		}
		if ((__u32)w->id == me) {
			if (w->seen_s != now)	/* one store per second: the line stays shared */
				w->seen_s = now;
			return 0;
		}
		if (now - w->seen_s < nfm_dedup_hold_s) {
			__u32 owner = (__u32)w->id;

			if (bpf_map_lookup_elem(&nfm_dedup_ifs, &owner))
				return 1;
		}
		/* The owner is gone or has not seen the flow for nfm_dedup_hold_s: take over. */
		w->seen_s = now;
		w->id = id;
		return 0;
	}
	if (!free) {
		nfm_count(NFM_CNT_DEDUP_FULL, 1);
		return 0;
	}
	free->seen_s = now;
	free->id = id;
	return 0;
}

#endif /* NFM_DEDUP_BPF_H */
