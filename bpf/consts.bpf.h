/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Constants that vmlinux.h lacks (they are #defines in the UAPI headers, which BTF does not
 * carry), plus the parser's loop bounds. Nothing here allocates or runs code.
 */
#ifndef NFM_CONSTS_BPF_H
#define NFM_CONSTS_BPF_H

/* EtherTypes (include/uapi/linux/if_ether.h), host order: compare with bpf_htons(). */
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100	/* 802.1Q C-tag */
#define ETH_P_8021AD	0x88A8	/* 802.1ad S-tag */
#define ETH_P_QINQ1	0x9100	/* pre-standard QinQ */
#define ETH_P_MPLS_UC	0x8847
#define ETH_P_MPLS_MC	0x8848
#define ETH_P_PBB	0x88E7	/* 802.1ah I-TAG */
#define ETH_P_VNTAG	0x8926	/* Cisco VN-Tag */
#define ETH_P_FABRICPATH 0x8903	/* Cisco FabricPath */
#define ETH_P_NSH	0x894F	/* Network Service Header, RFC 8300 */
#define ETH_P_MACSEC	0x88E5	/* IEEE 802.1AE */
#define NFM_ETH_P_TEB	0x6558	/* transparent Ethernet bridging (Geneve, GRE payload type) */

/* IP protocols that carry a tunnel (include/uapi/linux/in.h). */
#define NFM_IPPROTO_IPIP	4	/* IPv4 in IP */
#define NFM_IPPROTO_IPV6	41	/* IPv6 in IP */
#define NFM_IPPROTO_GRE		47

/* NSH next protocol values (RFC 8300 §11.2.5). */
#define NFM_NSH_IPV4	1
#define NFM_NSH_IPV6	2
#define NFM_NSH_ETH	3
#define NFM_NSH_MPLS	5

/* tc verdict (include/uapi/linux/pkt_cls.h). tcx: TCX_NEXT == -1 == TC_ACT_UNSPEC. */
#define TC_ACT_UNSPEC	(-1)

/* IPv4 frag_off bits (include/net/ip.h), host order after bpf_ntohs(). */
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF

/* IPv6 next-header values (include/net/ipv6.h) the extension walk understands. */
#define NFM_NEXTHDR_HOP		0
#define NFM_NEXTHDR_ROUTING	43
#define NFM_NEXTHDR_FRAGMENT	44
#define NFM_NEXTHDR_AUTH	51
#define NFM_NEXTHDR_DEST	60
#define NFM_IPPROTO_ICMPV6	58

/* IPv6 fragment header frag_off (RFC 8200 §4.5), host order: offset in bits 15..3, M in bit 0. */
#define NFM_IP6_OFFSET	0xFFF8
#define NFM_IP6_MF	0x0001

/* Parser bounds: constant trip counts keep the verifier's walk finite. */
#define NFM_MAX_VLAN		3	/* 802.1Q / 802.1ad / 0x9100 tags */
#define NFM_MAX_MPLS		6	/* MPLS label stack entries */
#define NFM_MAX_IPV6_EXT	6	/* IPv6 extension headers */

/* Bytes one event occupies in a ring: BPF_RINGBUF_HDR_SZ (8) + the 72-byte event; with the
 * tunnel trailer (struct nfm_pkt_event_tun) 8 + 112. */
#define NFM_RB_RECORD_SZ	(8 + sizeof(struct nfm_pkt_event))
#define NFM_RB_TUN_RECORD_SZ	(8 + sizeof(struct nfm_pkt_event_tun))

/* TC: bytes made linear with bpf_skb_pull_data() before parsing (all headers we read). */
#define NFM_TC_PULL_LEN		256

#endif /* NFM_CONSTS_BPF_H */
