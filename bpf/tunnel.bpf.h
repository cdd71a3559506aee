/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Overlay tunnels (--tunnel inner): after the outer packet parsed, a VXLAN, Geneve, GTP-U, GRE
 * or IP-in-IP packet is parsed once more from its inner frame, and the inner packet's event
 * replaces the outer one. One level: whatever the inner packet carries is not opened again.
 * Switched by rodata (nfm_tunnel_inner), never by #ifdef. It runs in global functions, each
 * verified once on its own (nfm_decap_* : tunnel header, count, deliver; nfm_inner_* : the inner
 * parse): an inlined second copy of the parser after the first one would be verified again for
 * every state the first leaves behind (docs/BPF.md "Verifier budget").
 */
#ifndef NFM_TUNNEL_BPF_H
#define NFM_TUNNEL_BPF_H

/* Set by user space between open and load. */
const volatile __u8 nfm_tunnel_inner = 0;	/* 1: decapsulate (--tunnel inner) */
/* 1: a decapsulated packet's record carries a struct nfm_tunnel_trailer (--where-columns tunnel) */
const volatile __u8 nfm_tunnel_trailer = 0;
/* UDP destination ports that carry VXLAN, host order; 0 = unused slot (--vxlan-port). */
const volatile __u16 nfm_vxlan_ports[NFM_MAX_VXLAN_PORTS] = { 4789, 8472 };

#define NFM_GENEVE_PORT	6081	/* RFC 8926 */
#define NFM_GTPU_PORT	2152	/* 3GPP TS 29.281 */
#define NFM_MAX_GTP_EXT	2	/* GTP-U extension headers followed (more: unsupported_encap) */
/* Bound on the tunnel header's and the inner frame's offsets, for the verifier's packet-pointer
 * arithmetic (a long IPv6 extension chain or Geneve options past it: tunnel_not_opened or
 * trunc_l2). At tc only the first NFM_TC_PULL_LEN bytes are linear anyway. */
#define NFM_MAX_INNER_OFF	512

/* Tunnel kinds: NFM_TUNNEL_* (include/nfm/event.h), also the trailer's type. */

/* The tunnel the outer packet announces, NFM_TUNNEL_NONE if none (run on every packet). */
static __always_inline __u8 nfm_tunnel_of(const struct nfm_pkt_event *ev)
{
	__u16 port;
	int i;

	if (ev->info & (NFM_INFO_FRAG | NFM_INFO_L4_TRUNC))
		return NFM_TUNNEL_NONE;	/* an outer fragment is not opened */
	if (ev->proto == NFM_IPPROTO_GRE)
		return NFM_TUNNEL_GRE;
	if (ev->proto == NFM_IPPROTO_IPIP || ev->proto == NFM_IPPROTO_IPV6)
		return NFM_TUNNEL_IPIP;
	if (ev->proto != IPPROTO_UDP)
		return NFM_TUNNEL_NONE;
	port = bpf_ntohs(ev->dport);
	if (port == NFM_GENEVE_PORT)
		return NFM_TUNNEL_GENEVE;
	if (port == NFM_GTPU_PORT)
		return NFM_TUNNEL_GTPU;
#pragma unroll
	for (i = 0; i < NFM_MAX_VXLAN_PORTS; i++)
		if (nfm_vxlan_ports[i] && port == nfm_vxlan_ports[i])
			return NFM_TUNNEL_VXLAN;
	return NFM_TUNNEL_NONE;
}

/* Inner Ethernet frame: up to NFM_MAX_VLAN tags, then IPv4/IPv6. The outer parser's MPLS and
 * encapsulation walk is not repeated (pod, VM and mirrored frames do not carry them; every path
 * added here adds to the verifier's walk); such a frame counts unsupported_encap. Returns the
 * EtherType or -reason. */
static __always_inline int nfm_parse_inner_l2(void **cur, void *data_end)
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
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return nfm_is_encap(proto) || proto == bpf_htons(ETH_P_MPLS_UC) ||
		       proto == bpf_htons(ETH_P_MPLS_MC) ? -NFM_CNT_UNSUPPORTED_ENCAP : -NFM_CNT_NOT_IP;
	return proto;
}

/* The tunnel header after the outer transport header at ev->l4_off (layouts as the offline
 * decoder reads them: userspace/source/decode.cpp, Decap; docs/FEATURES.md):
 *   VXLAN   8 bytes after UDP, flags I (0x08) set; then Ethernet
 *   Geneve  8 bytes + opt_len * 4 after UDP, version 0; protocol 0x6558 Ethernet, 0x0800 IPv4,
 *           0x86dd IPv6
 *   GTP-U   8 bytes after UDP, version 1, PT 1, message 0xff (G-PDU); + 4 if E, S or PN; with E
 *           up to NFM_MAX_GTP_EXT extension headers; then IPv4/IPv6 by version nibble
 *   GRE     4 bytes (+4 each for C, K, S), no R, version 0; 0x6558 / 0x0800 / 0x86dd
 *   IP in IP the inner IP header right after the outer one (protocol 4: IPv4, 41: IPv6)
 * Returns 0 with *inner_off (frame offset of the inner frame) and *inner_proto (its type, see
 * nfm_parse_inner), 1 when the header is not one we open (the outer event stays), 2 when the
 * packet announces no tunnel, or -reason (no event). On 0, *tt gets the tunnel's kind, its
 * outer addresses (ev's, still the outer packet) and the VNI / TEID / GRE key if it has one. */
static __always_inline int nfm_tunnel_header(void *data, void *data_end,
					     const struct nfm_pkt_event *ev, __u32 *inner_off,
					     __u32 *inner_proto, struct nfm_tunnel_trailer *tt)
{
	__u32 id = 0;
	__u8 has_id = 0;
	__u32 off, len;
	__be16 proto = 0;	/* 0: an IP packet, family by version nibble */
	__u8 kind, *t;
	void *cur;

	if (!ev)
		return 2;
	kind = nfm_tunnel_of(ev);
	if (kind == NFM_TUNNEL_NONE)
		return 2;
	off = ev->l4_off;
	if (off > NFM_MAX_INNER_OFF)
		return 1;
	t = data + off;
	switch (kind) {
	case NFM_TUNNEL_VXLAN:
		t += 8;
		if ((void *)(t + 8) > data_end)
			return -NFM_CNT_TRUNC_L2;
		if (!(t[0] & 0x08))
			return 1;
		id = (__u32)t[4] << 16 | (__u32)t[5] << 8 | t[6];
		has_id = 1;
		cur = t + 8;
		proto = bpf_htons(NFM_ETH_P_TEB);
		break;
	case NFM_TUNNEL_GENEVE:
		t += 8;
		if ((void *)(t + 8) > data_end)
			return -NFM_CNT_TRUNC_L2;
		if (t[0] >> 6)
			return 1;
		id = (__u32)t[4] << 16 | (__u32)t[5] << 8 | t[6];
		has_id = 1;
		proto = *(__be16 *)(t + 2);
		cur = t + 8 + (t[0] & 0x3f) * 4;
		break;
	case NFM_TUNNEL_GTPU: {
		__u8 next = 0;
		int i;

		t += 8;
		if ((void *)(t + 8) > data_end)
			return -NFM_CNT_TRUNC_L2;
		if ((t[0] >> 5) != 1 || !(t[0] & 0x10) || t[1] != 0xff)
			return 1;
		id = bpf_ntohl(*(__be32 *)(t + 4));
		has_id = 1;
		cur = t + 8;
		if (t[0] & 0x07) {
			__u8 *o = cur;

			if ((void *)(o + 4) > data_end)
				return -NFM_CNT_TRUNC_L2;
			next = (t[0] & 0x04) ? o[3] : 0;
			cur = o + 4;
		}
#pragma unroll
		for (i = 0; i < NFM_MAX_GTP_EXT; i++) {
			__u8 *x = cur;

			if (!next)
				break;
			if ((void *)(x + 1) > data_end)
				return -NFM_CNT_TRUNC_L2;
			len = (__u32)x[0] * 4;
			if (!len)
				return -NFM_CNT_UNSUPPORTED_ENCAP;
			if ((void *)x + len > data_end)
				return -NFM_CNT_TRUNC_L2;
			next = *((__u8 *)x + len - 1);
			cur = (void *)x + len;
		}
		if (next)
			return -NFM_CNT_UNSUPPORTED_ENCAP;
		break;
	}
	case NFM_TUNNEL_GRE:
		if ((void *)(t + 4) > data_end)
			return -NFM_CNT_TRUNC_L2;
		if ((t[0] & 0x40) || (t[1] & 0x07))
			return 1;
		proto = *(__be16 *)(t + 2);
		if (t[0] & 0x20) {	/* K: the key follows the checksum word (C) */
			__u8 *k = t + 4 + ((t[0] & 0x80) ? 4 : 0);

			if ((void *)(k + 4) > data_end)
				return -NFM_CNT_TRUNC_L2;
			id = bpf_ntohl(*(__be32 *)k);
			has_id = 1;
		}
		cur = t + 4 + ((t[0] & 0x80) ? 4 : 0) + ((t[0] & 0x20) ? 4 : 0) + ((t[0] & 0x10) ? 4 : 0);
		break;
	case NFM_TUNNEL_IPIP:
		cur = t;
		proto = ev->proto == NFM_IPPROTO_IPIP ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
		break;
	default:
		return 2;
	}
	if (proto && proto != bpf_htons(NFM_ETH_P_TEB) && proto != bpf_htons(ETH_P_IP) &&
	    proto != bpf_htons(ETH_P_IPV6))
		return -NFM_CNT_UNSUPPORTED_ENCAP;
	*inner_off = cur - data;
	*inner_proto = proto;
	if (tt) {
		__builtin_memcpy(tt->outer_saddr, ev->saddr, 16);
		__builtin_memcpy(tt->outer_daddr, ev->daddr, 16);
		tt->id = id;
		tt->type = kind;
		tt->has_id = has_id;
	}
	return 0;
}

/* The inner frame at inner_off, whose type is proto (network order: NFM_ETH_P_TEB Ethernet,
 * ETH_P_IP, ETH_P_IPV6, or 0: IP by version nibble). Fills *ev on success (0), else -reason. */
static __always_inline int nfm_parse_inner(void *data, void *data_end, struct nfm_pkt_event *ev,
					   __u32 inner_off, __be16 proto)
{
	struct nfm_pkt_event in = {};
	struct nfm_l3 l3 = {};
	void *cur, *base;
	int ret;

	if (inner_off > NFM_MAX_INNER_OFF)
		return -NFM_CNT_TRUNC_L2;
	cur = data + inner_off;
	base = cur;
	in.frame_len = ev->frame_len > inner_off ? ev->frame_len - inner_off : 0;
	if (proto == bpf_htons(NFM_ETH_P_TEB)) {
		ret = nfm_parse_inner_l2(&cur, data_end);
		if (ret < 0)
			return ret;
		proto = ret;
	} else if (!proto) {
		__u8 *v = cur;

		if ((void *)(v + 1) > data_end)
			return -NFM_CNT_TRUNC_L3;
		if ((*v >> 4) == 4)
			proto = bpf_htons(ETH_P_IP);
		else if ((*v >> 4) == 6)
			proto = bpf_htons(ETH_P_IPV6);
		else
			return -NFM_CNT_NOT_IP;
	}
	if (proto == bpf_htons(ETH_P_IP))
		ret = nfm_parse_ipv4(&cur, base, data_end, in.frame_len, &l3, &in);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = nfm_parse_ipv6(&cur, base, data_end, in.frame_len, &l3, &in);
	else
		return -NFM_CNT_UNSUPPORTED_ENCAP;
	if (ret < 0)
		return ret;
	ret = nfm_parse_l4(cur, base, data_end, in.frame_len, &l3, ret, &in);
	if (ret < 0)
		return ret;
	in.ifindex = ev->ifindex;
	in.info |= ev->info & (NFM_INFO_EGRESS | (7u << NFM_INFO_VERSION_SHIFT));
	*ev = in;
	return 0;
}

/* Global functions. nfm_inner_xdp / nfm_inner_tc parse the inner frame: verified once each
 * with inner_off and proto unknown, instead of once per tunnel kind and header layout (that
 * took the decapsulation from ~100k to ~25k of the verifier's processed instructions). nfm_decap_xdp / nfm_decap_tc
 * are called instead of nfm_deliver for every sampled-in packet with --tunnel inner:
 * tunnel header, inner parse, count the outcome, deliver. `ev` is a possibly-NULL pointer to
 * the caller's event; packet pointers cannot cross a global call, so each function takes its
 * program's context and reads data/data_end itself. */
__noinline int nfm_inner_xdp(struct xdp_md *ctx, struct nfm_pkt_event *ev, __u32 inner_off,
			     __u32 proto)
{
	if (!ctx || !ev)
		return -NFM_CNT_TRUNC_L2;
	return nfm_parse_inner((void *)(long)ctx->data, (void *)(long)ctx->data_end, ev, inner_off,
			       (__be16)proto);
}

__noinline int nfm_inner_tc(struct __sk_buff *skb, struct nfm_pkt_event *ev, __u32 inner_off,
			    __u32 proto)
{
	if (!skb || !ev)
		return -NFM_CNT_TRUNC_L2;
	return nfm_parse_inner((void *)(long)skb->data, (void *)(long)skb->data_end, ev, inner_off,
			       (__be16)proto);
}

/* ret of nfm_tunnel_header or of the inner parse: count it; deliver unless -reason, a
 * decapsulated packet with the trailer tt when rodata nfm_tunnel_trailer asks for it. */
static __always_inline int nfm_decap_finish(int ret, struct nfm_pkt_event *ev,
					    const struct nfm_tunnel_trailer *tt, __u32 pkt_slot,
					    __u32 gso_segs, __u32 gso_size)
{
	if (ret < 0) {
		nfm_count(-ret, 1);
		return 0;
	}
	if (ret == 0)
		nfm_count(NFM_CNT_DECAP, 1);
	else if (ret == 1)
		nfm_count(NFM_CNT_TUNNEL_KEPT, 1);
	return nfm_deliver(ev, ret == 0 && nfm_tunnel_trailer ? tt : NULL, pkt_slot, gso_segs,
			   gso_size);
}

__noinline int nfm_decap_xdp(struct xdp_md *ctx, struct nfm_pkt_event *ev, __u32 pkt_slot,
			     __u32 gso_segs, __u32 gso_size)
{
	struct nfm_tunnel_trailer tt = {};
	__u32 inner_off = 0, proto = 0;
	int ret;

	if (!ctx || !ev)
		return 0;
	ret = nfm_tunnel_header((void *)(long)ctx->data, (void *)(long)ctx->data_end, ev,
				&inner_off, &proto, nfm_tunnel_trailer ? &tt : NULL);
	if (ret == 0)
		ret = nfm_inner_xdp(ctx, ev, inner_off, proto);
	return nfm_decap_finish(ret, ev, &tt, pkt_slot, gso_segs, gso_size);
}

__noinline int nfm_decap_tc(struct __sk_buff *skb, struct nfm_pkt_event *ev, __u32 pkt_slot,
			    __u32 gso_segs, __u32 gso_size)
{
	struct nfm_tunnel_trailer tt = {};
	__u32 inner_off = 0, proto = 0;
	int ret;

	if (!skb || !ev)
		return 0;
	ret = nfm_tunnel_header((void *)(long)skb->data, (void *)(long)skb->data_end, ev,
				&inner_off, &proto, nfm_tunnel_trailer ? &tt : NULL);
	if (ret == 0)
		ret = nfm_inner_tc(skb, ev, inner_off, proto);
	return nfm_decap_finish(ret, ev, &tt, pkt_slot, gso_segs, gso_size);
}

#endif /* NFM_TUNNEL_BPF_H */
