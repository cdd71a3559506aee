/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The kernel/user contract: one per-packet event pushed by the XDP or tcx ingress and the
 * tcx egress programs into the ring buffers, and the per-CPU counter slots. Included by the
 * BPF C code and by the C++ decoder; it is the only definition of this layout. Which metric
 * each counter slot reaches: include/nfm/counter_table.hpp (one entry per slot, tested).
 */
#ifndef NFM_EVENT_H
#define NFM_EVENT_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* 2: tcp_seq/tcp_ack appended, 72 bytes (1: 64 bytes). */
#define NFM_EVENT_VERSION 2

/* Rings: "nfm_rings" is an ARRAY_OF_MAPS of up to NFM_MAX_RINGS ring buffers. The BPF side
 * picks ring (symmetric flow hash & nfm_ring_mask), so both directions of a flow share one
 * ring and its events stay in order. User space creates the inner rings. */
#define NFM_MAX_RINGS 64
/* At most this many events for one GSO super-packet seen at TC egress (64 KiB / 1 KiB MSS). */
#define NFM_MAX_GSO_SEGS 64
/* rodata nfm_vxlan_ports[]: UDP ports that carry VXLAN with --tunnel inner (4789, 8472, and up
 * to 6 more from --vxlan-port). */
#define NFM_MAX_VXLAN_PORTS 8
/* Default rodata nfm_wakeup_bytes: force a consumer wake-up only once this much unread data
 * sits in a ring (0 = let the kernel decide, i.e. submit with flags 0). */
#define NFM_WAKEUP_BYTES_DEFAULT (64u * 1024u)

/* nfm_pkt_event.info bits */
#define NFM_INFO_IPV6 (1u << 0)       /* addresses are IPv6 (else IPv4-mapped) */
#define NFM_INFO_EGRESS (1u << 1)     /* seen by the TC egress program (else XDP/tcx ingress) */
#define NFM_INFO_FRAG (1u << 2)       /* IP fragment (MF set or offset != 0) */
#define NFM_INFO_LATER_FRAG (1u << 3) /* offset != 0: no L4 header, ports 0 */
#define NFM_INFO_L4_TRUNC (1u << 4)   /* fixed L4 header not present in the frame */
#define NFM_INFO_VERSION_SHIFT 5      /* bits 5..7: NFM_EVENT_VERSION */

struct nfm_pkt_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, host order */
	__u8 saddr[16];    /* network order; IPv4 as ::ffff:a.b.c.d */
	__u8 daddr[16];    /* network order; IPv4 as ::ffff:a.b.c.d */
	__u32 frame_len;   /* host order: bytes of the frame (XDP: data_end - data; TC: skb->len);
			    * decapsulated (--tunnel inner): from the inner frame's first byte
			    * (inner Ethernet header, else inner IP header) to the frame end */
	__u32 payload_len; /* host order: min(IP end, frame end) - (l4_off + l4_hdr_len), >= 0.
			    * IP end from IPv4 total length / IPv6 payload length; 0 there
			    * (TSO, jumbogram) means the frame end. Later fragment: the
			    * fragment's data. L4_TRUNC: 0. */
	__u32 ifindex;     /* host order: interface the hook is attached to */
	__be16 sport;      /* network order; 0 when no L4 ports (ICMP, later fragment, other) */
	__be16 dport;      /* network order */
	__u16 window;      /* host order: raw TCP window field, 0 if not TCP */
	__u16 l4_off;      /* host order: offset of the L4 header from the frame start (the inner
			    * frame's start when decapsulated) */
	__u8 l4_hdr_len;   /* TCP doff*4, UDP/ICMP/ICMPv6 8, else 0 */
	__u8 proto;        /* IP protocol number (IPv6: after the extension chain) */
	__u8 tcp_flags;    /* full TCP flag byte (FIN 0x01 ... CWR 0x80) */
	__u8 info;         /* NFM_INFO_* bits, version in bits 5..7 */
	__u32 tcp_seq;     /* host order: TCP sequence number, 0 if no TCP header was read
			    * (not TCP, later fragment, L4_TRUNC). GSO segment i at TC:
			    * the skb's number + i * gso_size (what the wire shows). */
	__u32 tcp_ack;     /* host order: TCP acknowledgement number (raw, also without
			    * ACK set), 0 if no TCP header was read */
};

/* Tunnel trailer (--tunnel inner with --where-columns tunnel, rodata nfm_tunnel_trailer): the
 * record of a decapsulated packet is then a struct nfm_pkt_event_tun (112 bytes: the event, then
 * this trailer); every other record stays a bare 72-byte nfm_pkt_event, and without the option
 * no record carries one. The record length tells them apart (no info bit is free: bits 5..7
 * hold the version); a consumer takes 72 and 112 and counts any other length as undecodable.
 * tunnel values: the nfm::TunnelType codes (engine/packet.hpp, asserted in live/event_decode.hpp). */
#define NFM_TUNNEL_NONE		0
#define NFM_TUNNEL_VXLAN	1
#define NFM_TUNNEL_GENEVE	2
#define NFM_TUNNEL_GTPU		3
#define NFM_TUNNEL_GRE		4
#define NFM_TUNNEL_IPIP		5

struct nfm_tunnel_trailer {
	__u8 outer_saddr[16]; /* network order; IPv4 as ::ffff:a.b.c.d: the outer (tunnel) packet's */
	__u8 outer_daddr[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
	__u32 id;             /* host order: VXLAN/Geneve VNI (24 bits), GTP-U TEID, GRE key; 0 if none */
	__u8 type;            /* NFM_TUNNEL_VXLAN .. NFM_TUNNEL_IPIP (never NONE in a record) */
	__u8 has_id;          /* 1: id is the header's (GRE without K and IP in IP: 0) */
	__u16 _pad;           /* 0 */
};

struct nfm_pkt_event_tun {
	struct nfm_pkt_event ev;
	struct nfm_tunnel_trailer tun;
};

/* Per-CPU counter slots (BPF_MAP_TYPE_PERCPU_ARRAY "nfm_counters", key = enum value,
 * value = __u64). User space sums the CPUs and exports them as metrics. A new slot needs an
 * entry in kCounterTable (include/nfm/counter_table.hpp); tests/unit/counter_table_test
 * fails until it has one. Append only: the values are map keys. */
enum nfm_counter {
	NFM_CNT_XDP_PACKETS = 0, /* every frame the XDP program saw */
	NFM_CNT_XDP_BYTES,
	NFM_CNT_TC_PACKETS,      /* every skb the TC egress program saw (GSO: its segments) */
	NFM_CNT_TC_BYTES,
	NFM_CNT_EVENTS,          /* events submitted to a ring */
	NFM_CNT_RING_FULL,       /* bpf_ringbuf_reserve failed: event lost */
	NFM_CNT_SAMPLED_OUT,     /* skipped by 1-in-N sampling */
	NFM_CNT_NOT_IP,          /* ARP, LLDP, ...: not an error, no event */
	NFM_CNT_TRUNC_L2,        /* frame ends inside Ethernet/VLAN/MPLS headers */
	NFM_CNT_TRUNC_L3,        /* frame ends inside the IPv4/IPv6 header or ext chain */
	NFM_CNT_BAD_IHL,         /* IPv4 ihl < 5 or total length (if != 0) < ihl*4 (no event) */
	NFM_CNT_BAD_DOFF,        /* TCP data offset < 5 (no event) */
	NFM_CNT_VLAN_LIMIT,      /* more VLAN/MPLS tags than the parser follows */
	NFM_CNT_IPV6_EXT_LIMIT,  /* longer IPv6 extension chain than the parser follows */
	NFM_CNT_L4_TRUNC,        /* event emitted, but the L4 header was cut */
	NFM_CNT_FRAGMENT,        /* event emitted for an IP fragment */
	NFM_CNT_NO_RING,         /* nfm_rings slot (hash & nfm_ring_mask) empty: event lost */
	NFM_CNT_BAD_VERSION,     /* IP version nibble does not match the EtherType (no event) */
	NFM_CNT_GSO_SPLIT,       /* TC GSO/GRO super-packet reported as one event per segment */
	NFM_CNT_ENCRYPTED,       /* MACsec frame with E or C set: ciphertext, no event */
	NFM_CNT_UNSUPPORTED_ENCAP, /* encapsulation the parser does not follow (NSH next protocol
				    * not IP/Ethernet, nested encapsulation headers): no event */
	NFM_CNT_TC_IN_PACKETS,   /* every skb the tcx ingress program saw (used instead of XDP) */
	NFM_CNT_TC_IN_BYTES,
	NFM_CNT_DECAP,           /* --tunnel inner: the event describes the packet inside a tunnel */
	NFM_CNT_TUNNEL_KEPT,     /* --tunnel inner: on a tunnel's port/protocol, but not a header we
				  * open (VXLAN without I, GTP-U signalling, ...): outer event */
	NFM_CNT_DEDUP,           /* copy of a packet whose flow another attached interface owns
				  * (--dedup): dropped, no event */
	NFM_CNT_DEDUP_FULL,      /* dedup table bucket full: packet kept without deduplication */
	NFM_CNT_MAX
};

#ifdef __cplusplus
#define NFM_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define NFM_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#define NFM_ASSERT_OFF(field, off) \
	NFM_STATIC_ASSERT(__builtin_offsetof(struct nfm_pkt_event, field) == (off), \
			  "nfm_pkt_event." #field " moved")

NFM_STATIC_ASSERT(sizeof(struct nfm_pkt_event) == 72, "nfm_pkt_event must be 72 bytes");
NFM_ASSERT_OFF(ts_ns, 0);
NFM_ASSERT_OFF(saddr, 8);
NFM_ASSERT_OFF(daddr, 24);
NFM_ASSERT_OFF(frame_len, 40);
NFM_ASSERT_OFF(payload_len, 44);
NFM_ASSERT_OFF(ifindex, 48);
NFM_ASSERT_OFF(sport, 52);
NFM_ASSERT_OFF(dport, 54);
NFM_ASSERT_OFF(window, 56);
NFM_ASSERT_OFF(l4_off, 58);
NFM_ASSERT_OFF(l4_hdr_len, 60);
NFM_ASSERT_OFF(proto, 61);
NFM_ASSERT_OFF(tcp_flags, 62);
NFM_ASSERT_OFF(info, 63);
NFM_ASSERT_OFF(tcp_seq, 64);
NFM_ASSERT_OFF(tcp_ack, 68);
NFM_STATIC_ASSERT((NFM_MAX_RINGS & (NFM_MAX_RINGS - 1)) == 0, "rings: power of two");
#define NFM_ASSERT_TRAILER_OFF(field, off) \
	NFM_STATIC_ASSERT(__builtin_offsetof(struct nfm_pkt_event_tun, field) == (off), \
			  "nfm_pkt_event_tun." #field " moved")
NFM_STATIC_ASSERT(sizeof(struct nfm_tunnel_trailer) == 40, "nfm_tunnel_trailer must be 40 bytes");
NFM_STATIC_ASSERT(sizeof(struct nfm_pkt_event_tun) == 112, "nfm_pkt_event_tun must be 112 bytes");
NFM_ASSERT_TRAILER_OFF(ev, 0);
NFM_ASSERT_TRAILER_OFF(tun.outer_saddr, 72);
NFM_ASSERT_TRAILER_OFF(tun.outer_daddr, 88);
NFM_ASSERT_TRAILER_OFF(tun.id, 104);
NFM_ASSERT_TRAILER_OFF(tun.type, 108);
NFM_ASSERT_TRAILER_OFF(tun.has_id, 109);
NFM_ASSERT_TRAILER_OFF(tun._pad, 110);

#endif /* NFM_EVENT_H */
