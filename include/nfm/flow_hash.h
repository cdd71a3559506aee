/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The ring a flow's events go to, shared by the BPF programs (which pick the ring) and user
 * space (which attributes per-ring losses to flows, --loss-column). One definition: the
 * two sides must agree bit for bit (tests/bpf checks the programs' choice against it).
 *
 * Symmetric flow hash. Each endpoint (16-byte address as in struct nfm_pkt_event, network
 * order; port as stored, network order) is folded to 64 bits with XOR; the two folds are
 * combined with + and with ^ (rotated), both of which commute, so (a -> b) and (b -> a) give
 * the same hash. One multiply-xorshift-multiply round (murmur3 fmix64 constants) spreads the
 * bits; the result is the top 32 bits. The ring is hash & (rings - 1), rings a power of two.
 * The fold reads the address as two native-order 64-bit words (memcpy), on both sides.
 */
#ifndef NFM_FLOW_HASH_H
#define NFM_FLOW_HASH_H

#ifdef __bpf__
#define NFM_HASH_INLINE static __always_inline
#else
#include <linux/types.h>
#include <string.h>
#ifdef __cplusplus
#define NFM_HASH_INLINE inline
#else
#define NFM_HASH_INLINE static inline
#endif
#endif

NFM_HASH_INLINE __u64 nfm_ep_fold(const __u8 *addr, __be16 port)
{
	/* In the BPF programs addr is saddr/daddr of the event on the stack: offsets 8 and 24 of
	 * an 8-byte aligned struct, so clang makes this two aligned 8-byte loads. */
	__u64 w[2];

	__builtin_memcpy(w, addr, sizeof(w));
	return w[0] ^ w[1] ^ ((__u64)port << 48);
}

/* All 64 bits (the dedup table of the BPF side uses the low bits as index, the high ones as tag). */
NFM_HASH_INLINE __u64 nfm_flow_hash64(const __u8 *saddr, __be16 sport, const __u8 *daddr,
				      __be16 dport, __u8 proto)
{
	__u64 a = nfm_ep_fold(saddr, sport), b = nfm_ep_fold(daddr, dport);
	__u64 x = a ^ b;
	__u64 h = (a + b) ^ (x >> 32 | x << 32) ^ proto;

	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h;
}

NFM_HASH_INLINE __u32 nfm_flow_hash(const __u8 *saddr, __be16 sport, const __u8 *daddr,
				    __be16 dport, __u8 proto)
{
	return nfm_flow_hash64(saddr, sport, daddr, dport, proto) >> 32;
}

#undef NFM_HASH_INLINE
#endif /* NFM_FLOW_HASH_H */
