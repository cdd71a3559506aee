/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The kernel/user contract: one per-packet event pushed by the XDP (ingress) and TC
 * (egress) programs into the ring buffers, and the per-CPU counter slots. Included by the
 * BPF C code and by the C++ decoder; it is the only definition of this layout.
 */
#ifndef NFM_EVENT_H
#define NFM_EVENT_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define NFM_EVENT_VERSION 1

/* nfm_pkt_event.info bits */
#define NFM_INFO_IPV6 (1u << 0)       /* addresses are IPv6 (else IPv4-mapped) */
#define NFM_INFO_EGRESS (1u << 1)     /* seen by the TC egress program (else XDP ingress) */
#define NFM_INFO_FRAG (1u << 2)       /* IP fragment (MF set or offset != 0) */
#define NFM_INFO_LATER_FRAG (1u << 3) /* offset != 0: no L4 header, ports 0 */
#define NFM_INFO_L4_TRUNC (1u << 4)   /* fixed L4 header not present in the frame */
#define NFM_INFO_VERSION_SHIFT 5      /* bits 5..7: NFM_EVENT_VERSION */

struct nfm_pkt_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, host order */
	__u8 saddr[16];    /* network order; IPv4 as ::ffff:a.b.c.d */
	__u8 daddr[16];    /* network order; IPv4 as ::ffff:a.b.c.d */
	__u32 frame_len;   /* host order: bytes of the frame (XDP: data_end - data; TC: skb->len) */
	__u32 payload_len; /* host order: L4 payload bytes bounded by the IP length and the frame */
	__u32 ifindex;     /* host order: interface the hook is attached to */
	__be16 sport;      /* network order; 0 when no L4 ports (ICMP, later fragment, other) */
	__be16 dport;      /* network order */
	__u16 window;      /* host order: raw TCP window field, 0 if not TCP */
	__u16 l4_off;      /* host order: offset of the L4 header from the frame start */
	__u8 l4_hdr_len;   /* TCP doff*4, UDP/ICMP/ICMPv6 8, else 0 */
	__u8 proto;        /* IP protocol number (IPv6: after the extension chain) */
	__u8 tcp_flags;    /* full TCP flag byte (FIN 0x01 ... CWR 0x80) */
	__u8 info;         /* NFM_INFO_* bits, version in bits 5..7 */
};

/* Per-CPU counter slots (BPF_MAP_TYPE_PERCPU_ARRAY "nfm_counters", key = enum value,
 * value = __u64). User space sums the CPUs and exports them as metrics. */
enum nfm_counter {
	NFM_CNT_XDP_PACKETS = 0, /* every frame the XDP program saw */
	NFM_CNT_XDP_BYTES,
	NFM_CNT_TC_PACKETS,      /* every skb the TC egress program saw */
	NFM_CNT_TC_BYTES,
	NFM_CNT_EVENTS,          /* events submitted to a ring */
	NFM_CNT_RING_FULL,       /* bpf_ringbuf_reserve failed: event lost */
	NFM_CNT_SAMPLED_OUT,     /* skipped by 1-in-N sampling */
	NFM_CNT_NOT_IP,          /* ARP, LLDP, ...: not an error, no event */
	NFM_CNT_TRUNC_L2,        /* frame ends inside Ethernet/VLAN/MPLS headers */
	NFM_CNT_TRUNC_L3,        /* frame ends inside the IPv4/IPv6 header or ext chain */
	NFM_CNT_BAD_IHL,         /* IPv4 ihl < 5 or bad total length */
	NFM_CNT_BAD_DOFF,        /* TCP data offset < 5 */
	NFM_CNT_VLAN_LIMIT,      /* more VLAN/MPLS tags than the parser follows */
	NFM_CNT_IPV6_EXT_LIMIT,  /* longer IPv6 extension chain than the parser follows */
	NFM_CNT_L4_TRUNC,        /* event emitted, but the L4 header was cut */
	NFM_CNT_FRAGMENT,        /* event emitted for an IP fragment */
	NFM_CNT_MAX
};

#ifdef __cplusplus
static_assert(sizeof(struct nfm_pkt_event) == 64, "nfm_pkt_event must be 64 bytes");
#else
_Static_assert(sizeof(struct nfm_pkt_event) == 64, "nfm_pkt_event must be 64 bytes");
#endif

#endif /* NFM_EVENT_H */
