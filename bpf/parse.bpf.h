/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The header parser shared by the XDP and TC programs: Ethernet, VLAN and MPLS stacks, one
 * encapsulation header (802.1ah PBB, VN-Tag, FabricPath, NSH, integrity-only MACsec),
 * IPv4 (with one AH) / IPv6 (with the extension chain), TCP/UDP/ICMP. It fills a struct nfm_pkt_event on
 * the stack and never touches maps, rings or the packet contents (read-only).
 *
 * Contract of every helper: it takes (cursor, data_end), checks `p + len > data_end`
 * before each read, advances the cursor past what it consumed and returns the next
 * protocol (>= 0) or a negative reason, -NFM_CNT_*, naming the counter slot to bump.
 */
#ifndef NFM_PARSE_BPF_H
#define NFM_PARSE_BPF_H

struct nfm_vlan {
	__be16 tci;
	__be16 proto;	/* encapsulated EtherType or the next TPID */
};

/* RFC 3032 label stack entry: label(20) | TC(3) | S(1) | TTL(8). */
struct nfm_mpls {
	__u8 b[4];	/* b[2] & 1 = bottom of stack */
};

/* Generic IPv6 extension header prefix (hop-by-hop, routing, dest opts, AH). */
struct nfm_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

/* RFC 8200 §4.5 fragment header. */
struct nfm_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset(13) | res(2) | M(1) */
	__be32 id;
};

/* L3 facts the L4 step needs; lives on the stack of the caller. */
struct nfm_l3 {
	__u32 ip_end;	/* frame offset where the IP packet ends, from its length field */
};

static __always_inline int nfm_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD) ||
	       proto == bpf_htons(ETH_P_QINQ1);
}

/* MPLS label stack (the cursor is at the first entry). After the bottom-of-stack entry
 * there is no type field; RFC 3032 leaves it to the label, we guess from the IP version
 * nibble like tcpdump and dpkt. Returns ETH_P_IP/ETH_P_IPV6 (network order) or -reason.
 */
static __always_inline int nfm_parse_mpls(void **cur, void *data_end)
{
	int i;

#pragma unroll
	for (i = 0; i < NFM_MAX_MPLS; i++) {
		struct nfm_mpls *m = *cur;
		__u8 *ver;

		if ((void *)(m + 1) > data_end)
			return -NFM_CNT_TRUNC_L2;
		*cur = m + 1;
		if (!(m->b[2] & 1))
			continue;
		ver = *cur;
		if ((void *)(ver + 1) > data_end)
			return -NFM_CNT_TRUNC_L3;
		switch (*ver >> 4) {
		case 4:
			return bpf_htons(ETH_P_IP);
		case 6:
			return bpf_htons(ETH_P_IPV6);
		default:
			return -NFM_CNT_NOT_IP;	/* pseudowire, Ethernet over MPLS, ... */
		}
	}
	return -NFM_CNT_VLAN_LIMIT;
}

/* Up to NFM_MAX_VLAN tags (any mix of 0x8100/0x88a8/0x9100) while *proto names one; leaves
 * the next EtherType in *proto. Returns 0 or -reason.
 */
static __always_inline int nfm_parse_vlans(void **cur, void *data_end, __be16 *proto)
{
	int i;

#pragma unroll
	for (i = 0; i < NFM_MAX_VLAN; i++) {
		struct nfm_vlan *vh = *cur;

		if (!nfm_is_vlan(*proto))
			return 0;
		if ((void *)(vh + 1) > data_end)
			return -NFM_CNT_TRUNC_L2;
		*proto = vh->proto;
		*cur = vh + 1;
	}
	return nfm_is_vlan(*proto) ? -NFM_CNT_VLAN_LIMIT : 0;
}

static __always_inline int nfm_is_encap(__be16 proto)
{
	return proto == bpf_htons(ETH_P_PBB) || proto == bpf_htons(ETH_P_VNTAG) ||
	       proto == bpf_htons(ETH_P_FABRICPATH) || proto == bpf_htons(ETH_P_NSH) ||
	       proto == bpf_htons(ETH_P_MACSEC);
}

/* One encapsulation header at *cur, announced by EtherType proto (layouts as Wireshark
 * dissects them; docs/FEATURES.md "Decoding"):
 *   PBB (802.1ah)  I-TAG 4 + customer DA/SA 12, then the customer EtherType
 *   VN-Tag         4 bytes, then EtherType
 *   FabricPath     FTag/TTL 2 + inner DA/SA 12, then the inner EtherType
 *   MACsec         SecTAG TCI/AN 1, SL 1, PN 4, SCI 8 if TCI.SC (0x20); then the EtherType in
 *                  clear only when TCI.E (0x08) and TCI.C (0x04) are clear (integrity only)
 *   NSH (RFC 8300) length (6 bits, 4-byte words) covers base, path and context headers;
 *                  next protocol 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS
 * Returns the next EtherType (network order) with *cur past the header, or -reason.
 */
static __always_inline int nfm_parse_encap(void **cur, void *data_end, __be16 proto)
{
	__u8 *b = *cur;
	__u32 len;

	if (proto == bpf_htons(ETH_P_PBB)) {
		len = 16;
	} else if (proto == bpf_htons(ETH_P_VNTAG)) {
		len = 4;
	} else if (proto == bpf_htons(ETH_P_FABRICPATH)) {
		len = 14;
	} else if (proto == bpf_htons(ETH_P_MACSEC)) {
		if ((void *)(b + 6) > data_end)
			return -NFM_CNT_TRUNC_L2;
		if (b[0] & 0x0c)
			return -NFM_CNT_ENCRYPTED;
		len = (b[0] & 0x20) ? 14 : 6;
	} else {	/* NSH */
		__u8 next;

		if ((void *)(b + 8) > data_end)
			return -NFM_CNT_TRUNC_L2;
		len = (b[1] & 0x3f) * 4;
		next = b[3];
		if ((b[0] >> 6) != 0 || len < 8)	/* version 0; base + path header at least */
			return -NFM_CNT_UNSUPPORTED_ENCAP;
		if ((void *)b + len > data_end)
			return -NFM_CNT_TRUNC_L2;
		*cur = (void *)b + len;
		switch (next) {
		case NFM_NSH_IPV4:
			return bpf_htons(ETH_P_IP);
		case NFM_NSH_IPV6:
			return bpf_htons(ETH_P_IPV6);
		case NFM_NSH_MPLS:
			return bpf_htons(ETH_P_MPLS_UC);
		case NFM_NSH_ETH:
			b = *cur;
			len = 12;
			break;
		default:
			return -NFM_CNT_UNSUPPORTED_ENCAP;
		}
	}
	if ((void *)b + len + 2 > data_end)
		return -NFM_CNT_TRUNC_L2;
	proto = *(__be16 *)((void *)b + len);
	*cur = (void *)b + len + 2;
	return proto;
}

/* Ethernet, then up to NFM_MAX_VLAN tags, then at most one encapsulation header followed by
 * up to NFM_MAX_VLAN more tags (PBB: B-TAG outside, S/C tags inside), then an optional MPLS
 * stack. A second encapsulation header is not followed (NFM_CNT_UNSUPPORTED_ENCAP).
 * Returns the L3 EtherType in network order, or -reason.
 */
static __always_inline int nfm_parse_l2(void **cur, void *data_end)
{
	struct ethhdr *eth = *cur;
	__be16 proto;
	int ret;

	if ((void *)(eth + 1) > data_end)
		return -NFM_CNT_TRUNC_L2;
	proto = eth->h_proto;
	*cur = eth + 1;

	ret = nfm_parse_vlans(cur, data_end, &proto);
	if (ret < 0)
		return ret;
	if (nfm_is_encap(proto)) {
		ret = nfm_parse_encap(cur, data_end, proto);
		if (ret < 0)
			return ret;
		proto = ret;
		ret = nfm_parse_vlans(cur, data_end, &proto);
		if (ret < 0)
			return ret;
		if (nfm_is_encap(proto))
			return -NFM_CNT_UNSUPPORTED_ENCAP;
	}
	if (proto == bpf_htons(ETH_P_MPLS_UC) || proto == bpf_htons(ETH_P_MPLS_MC))
		return nfm_parse_mpls(cur, data_end);
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return -NFM_CNT_NOT_IP;
	return proto;
}

/* IPv4 (RFC 791). Header length is ihl*4 (options skipped, not parsed); ihl < 5 is
 * malformed. Fragments (RFC 791 §3.1):
 *
 *   frag_off:  0 |DF|MF| fragment offset (13 bits, 8-byte units)
 *
 * MF or offset != 0 marks a fragment; only offset 0 carries the L4 header.
 * Returns the IP protocol or -reason; fills addresses and info.
 */
static __always_inline int nfm_parse_ipv4(void **cur, void *data, void *data_end,
					  __u32 frame_len, struct nfm_l3 *l3,
					  struct nfm_pkt_event *ev)
{
	struct iphdr *iph = *cur;
	__u32 hlen, tot, ip_off;
	__u16 frag;
	__u8 proto;

	if ((void *)(iph + 1) > data_end)
		return -NFM_CNT_TRUNC_L3;
	if (iph->version != 4)
		return -NFM_CNT_BAD_VERSION;
	if (iph->ihl < 5)
		return -NFM_CNT_BAD_IHL;
	hlen = iph->ihl * 4;
	if ((void *)iph + hlen > data_end)
		return -NFM_CNT_TRUNC_L3;
	tot = bpf_ntohs(iph->tot_len);
	if (tot && tot < hlen)
		return -NFM_CNT_BAD_IHL;
	ip_off = (void *)iph - data;
	/* tot_len 0: TSO/GSO super-packet seen before segmentation; the frame is the bound. */
	l3->ip_end = tot ? ip_off + tot : frame_len;

	/* ::ffff:a.b.c.d (RFC 4291 §2.5.5.2); the caller zeroed the event. */
	ev->saddr[10] = 0xff;
	ev->saddr[11] = 0xff;
	ev->daddr[10] = 0xff;
	ev->daddr[11] = 0xff;
	__builtin_memcpy(&ev->saddr[12], &iph->saddr, 4);
	__builtin_memcpy(&ev->daddr[12], &iph->daddr, 4);

	frag = bpf_ntohs(iph->frag_off);
	if (frag & (IP_MF | IP_OFFSET))
		ev->info |= NFM_INFO_FRAG;
	if (frag & IP_OFFSET)
		ev->info |= NFM_INFO_LATER_FRAG;
	*cur = (void *)iph + hlen;
	proto = iph->protocol;
	/* AH (RFC 4302 §2), transport mode: (hdrlen + 2) * 4 bytes, then the protected packet's
	 * transport header, which labels the event as in IPv6. One AH is followed. */
	if (proto == NFM_NEXTHDR_AUTH && !(frag & IP_OFFSET)) {
		struct nfm_ip6_ext *x = *cur;
		__u32 len;

		if ((void *)(x + 1) > data_end)
			return -NFM_CNT_TRUNC_L3;
		len = ((__u32)x->hdrlen + 2) * 4;
		if (*cur + len > data_end)
			return -NFM_CNT_TRUNC_L3;
		proto = x->nexthdr;
		*cur += len;
	}
	return proto;
}

/* IPv6 (RFC 8200) and up to NFM_MAX_IPV6_EXT extension headers. Lengths:
 * hop-by-hop/routing/dest opts (hdrlen + 1) * 8, AH (RFC 4302) (hdrlen + 2) * 4,
 * fragment 8. A fragment header with offset != 0 ends the walk (no L4 header follows).
 * ESP, "no next header" and unknown values end it too (reported as the protocol).
 * Returns the upper-layer protocol or -reason.
 */
static __always_inline int nfm_parse_ipv6(void **cur, void *data, void *data_end,
					  __u32 frame_len, struct nfm_l3 *l3,
					  struct nfm_pkt_event *ev)
{
	struct ipv6hdr *ip6 = *cur;
	__u32 plen, ip_off;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return -NFM_CNT_TRUNC_L3;
	if (ip6->version != 6)
		return -NFM_CNT_BAD_VERSION;
	plen = bpf_ntohs(ip6->payload_len);
	ip_off = (void *)ip6 - data;
	/* payload_len 0: jumbogram (RFC 2675) or GSO super-packet; the frame is the bound. */
	l3->ip_end = plen ? ip_off + sizeof(*ip6) + plen : frame_len;
	__builtin_memcpy(ev->saddr, &ip6->saddr, 16);
	__builtin_memcpy(ev->daddr, &ip6->daddr, 16);
	ev->info |= NFM_INFO_IPV6;
	nh = ip6->nexthdr;
	*cur = ip6 + 1;

#pragma unroll
	for (i = 0; i < NFM_MAX_IPV6_EXT; i++) {
		struct nfm_ip6_ext *x = *cur;
		struct nfm_ip6_frag *f = *cur;
		__u32 len;
		__u16 fo;

		switch (nh) {
		case NFM_NEXTHDR_HOP:
		case NFM_NEXTHDR_ROUTING:
		case NFM_NEXTHDR_DEST:
			if ((void *)(x + 1) > data_end)
				return -NFM_CNT_TRUNC_L3;
			len = ((__u32)x->hdrlen + 1) * 8;
			break;
		case NFM_NEXTHDR_AUTH:
			if ((void *)(x + 1) > data_end)
				return -NFM_CNT_TRUNC_L3;
			len = ((__u32)x->hdrlen + 2) * 4;
			break;
		case NFM_NEXTHDR_FRAGMENT:
			if ((void *)(f + 1) > data_end)
				return -NFM_CNT_TRUNC_L3;
			fo = bpf_ntohs(f->frag_off);
			if (fo & (NFM_IP6_OFFSET | NFM_IP6_MF))
				ev->info |= NFM_INFO_FRAG;
			*cur = f + 1;
			if (fo & NFM_IP6_OFFSET) {
				ev->info |= NFM_INFO_LATER_FRAG;
				return f->nexthdr;
			}
			nh = f->nexthdr;
			continue;
		default:
			return nh;
		}
		/* The whole extension header must be present: its end is where L4 starts. */
		if (*cur + len > data_end)
			return -NFM_CNT_TRUNC_L3;
		nh = x->nexthdr;
		*cur += len;
	}
	switch (nh) {
	case NFM_NEXTHDR_HOP:
	case NFM_NEXTHDR_ROUTING:
	case NFM_NEXTHDR_DEST:
	case NFM_NEXTHDR_AUTH:
	case NFM_NEXTHDR_FRAGMENT:
		return -NFM_CNT_IPV6_EXT_LIMIT;
	}
	return nh;
}

/* L4 at *cur for protocol proto. TCP: data offset doff*4 (RFC 9293 §3.1), doff < 5 is
 * malformed; the flag byte is byte 13 (CWR ECE URG ACK PSH RST SYN FIN), copied whole.
 * UDP, ICMP, ICMPv6: 8-byte header. A later fragment or another protocol has no header
 * we read. A fixed header cut by the frame end still yields an event, flagged L4_TRUNC.
 * Sets l4_off, l4_hdr_len, ports, window, flags, TCP seq/ack, payload_len. Returns 0 or -reason.
 */
static __always_inline int nfm_parse_l4(void *cur, void *data, void *data_end,
					__u32 frame_len, const struct nfm_l3 *l3, __u8 proto,
					struct nfm_pkt_event *ev)
{
	__u32 l4_off = cur - data, hdr_len = 0, end, hdr_end;

	ev->proto = proto;
	ev->l4_off = l4_off;
	if (ev->info & NFM_INFO_LATER_FRAG)
		goto payload;

	switch (proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = cur;

		if ((void *)(th + 1) > data_end)
			goto l4_trunc;
		if (th->doff < 5)
			return -NFM_CNT_BAD_DOFF;
		hdr_len = th->doff * 4;
		ev->sport = th->source;
		ev->dport = th->dest;
		ev->window = bpf_ntohs(th->window);
		ev->tcp_flags = ((__u8 *)th)[13];
		ev->tcp_seq = bpf_ntohl(th->seq);
		ev->tcp_ack = bpf_ntohl(th->ack_seq);
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = cur;

		if ((void *)(uh + 1) > data_end)
			goto l4_trunc;
		hdr_len = sizeof(*uh);
		ev->sport = uh->source;
		ev->dport = uh->dest;
		break;
	}
	case IPPROTO_ICMP:
	case NFM_IPPROTO_ICMPV6:
		/* type, code, checksum, 4 bytes of rest-of-header; no ports. */
		if (cur + 8 > data_end)
			goto l4_trunc;
		hdr_len = 8;
		break;
	default:
		break;
	}

payload:
	ev->l4_hdr_len = hdr_len;
	end = l3->ip_end < frame_len ? l3->ip_end : frame_len;
	hdr_end = l4_off + hdr_len;
	ev->payload_len = end > hdr_end ? end - hdr_end : 0;
	return 0;

l4_trunc:
	ev->info |= NFM_INFO_L4_TRUNC;
	return 0;
}

/* Whole parse, data..data_end being the readable bytes and frame_len the full frame
 * length (TC: skb->len, which may exceed the linear part). Returns 0 when *ev describes
 * an IP packet worth an event, else -reason (no event). ev must be zeroed by the caller.
 */
static __always_inline int nfm_parse(void *data, void *data_end, __u32 frame_len,
				     struct nfm_pkt_event *ev)
{
	struct nfm_l3 l3 = {};
	void *cur = data;
	int ret;

	ret = nfm_parse_l2(&cur, data_end);
	if (ret < 0)
		return ret;
	if (ret == bpf_htons(ETH_P_IP))
		ret = nfm_parse_ipv4(&cur, data, data_end, frame_len, &l3, ev);
	else
		ret = nfm_parse_ipv6(&cur, data, data_end, frame_len, &l3, ev);
	if (ret < 0)
		return ret;
	return nfm_parse_l4(cur, data, data_end, frame_len, &l3, ret, ev);
}

#endif /* NFM_PARSE_BPF_H */
