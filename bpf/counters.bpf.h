/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The per-CPU loss/outcome counters (enum nfm_counter in include/nfm/event.h). Every exit
 * of both programs bumps exactly one outcome slot; this header only defines the map and
 * the increment helper, not which slot a path uses.
 */
#ifndef NFM_COUNTERS_BPF_H
#define NFM_COUNTERS_BPF_H

/* nfm_counters: key enum nfm_counter, value __u64 per CPU. Writer: nfm_xdp and
 * nfm_tc_egress (both run with BH disabled, so a plain add per CPU is race-free).
 * Reader: user space, summing the CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFM_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nfm_counters SEC(".maps");

/* Adds delta to slot on this CPU and returns the new per-CPU value (0 if the lookup failed,
 * which cannot happen for slot < NFM_CNT_MAX). */
static __always_inline __u64 nfm_count(__u32 slot, __u64 delta)
{
	__u64 *v = bpf_map_lookup_elem(&nfm_counters, &slot);

	if (!v)
		return 0;
	*v += delta;
	return *v;
}

/* nfm_ring_lost: key ring index (0 .. NFM_MAX_RINGS-1), value __u64 per CPU: events lost
 * (ring full or empty ring slot) that would have gone to that ring. The same losses as
 * NFM_CNT_RING_FULL + NFM_CNT_NO_RING, split by ring, so user space can mark only the flows
 * of the ring that lost (--loss-column). Writer: every hook; reader: user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFM_MAX_RINGS);
	__type(key, __u32);
	__type(value, __u64);
} nfm_ring_lost SEC(".maps");

static __always_inline void nfm_count_ring_lost(__u32 ring, __u64 delta)
{
	__u64 *v = bpf_map_lookup_elem(&nfm_ring_lost, &ring);

	if (v)
		*v += delta;
}

#endif /* NFM_COUNTERS_BPF_H */
