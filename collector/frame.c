/* frame.c - one captured frame -> one UDP or TCP payload view: link, tunnels,
 * IP, transport.
 *
 * Parsing walks a cursor with two bounds: cap, the bytes really captured, and
 * decl, the bytes the enclosing header says exist. A header that does not fit
 * decl is impossible (FRAME_MALFORMED); one that fits decl but not cap was cut
 * by the snap length or a torn file (FRAME_TRUNCATED). Every read is preceded
 * by a need(), so no input can move a read past caplen.
 *
 * Tunnels are unwrapped by a loop, not by recursion: each turn of
 * ip_decode() consumes an IP header, and every tunnel header bumps
 * tunnel_depth, which is capped, so the loop ends whatever the input.
 */
#include "frame.h"

#include <pcap/dlt.h>
#include <stdint.h>
#include <string.h>

/* The pcap file value of raw IP. libpcap maps it to DLT_RAW, but capture
 * libraries without that mapping hand it over as is. */
#define LINKTYPE_RAW 101

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define PPPOE_HDR_LEN 6
#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define NULL_HDR_LEN 4
#define MPLS_LABEL_LEN 4
#define MPLS_CW_LEN 4
#define IPV4_MIN_LEN 20
#define IPV6_HDR_LEN 40
#define IPV6_FRAG_LEN 8
#define UDP_HDR_LEN 8
#define TCP_MIN_LEN 20
#define GRE_MIN_LEN 4
#define ERSPAN2_HDR_LEN 8
#define ERSPAN3_HDR_LEN 12
#define ERSPAN3_PLATFORM_LEN 8
#define VXLAN_HDR_LEN 8
#define TZSP_HDR_LEN 4
#define SCTP_HDR_LEN 12
#define SCTP_CHUNK_HDR_LEN 4
#define SCTP_DATA_HDR_LEN 16 /* chunk header, TSN, stream id, stream sequence, PPID */

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_PPPOE_SESSION 0x8864
#define ETHERTYPE_MPLS_UC 0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_TEB 0x6558        /* transparent Ethernet bridging */
#define ETHERTYPE_ERSPAN_1_2 0x88be /* ERSPAN type I (GRE without S) and II */
#define ETHERTYPE_ERSPAN_3 0x22eb
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define IPPROTO_NUM_HOPOPTS 0
#define IPPROTO_NUM_IPIP 4
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_IPV6 41
#define IPPROTO_NUM_ROUTING 43
#define IPPROTO_NUM_FRAGMENT 44
#define IPPROTO_NUM_GRE 47
#define IPPROTO_NUM_DSTOPTS 60
#define IPPROTO_NUM_SCTP 132

#define SCTP_CHUNK_DATA 0
#define SCTP_DATA_B 0x02 /* first fragment of a user message */
#define SCTP_DATA_E 0x01 /* last fragment */

/* GRE flags and version (RFC 2784, RFC 2890 for K and S). R, s, Recur, A
 * and the flag bits belong to RFC 1701 and PPTP; RFC 2784 says a receiver
 * discards packets that set them. */
#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_RESERVED 0x4ff8
#define GRE_VERSION 0x0007

#define UDP_PORT_VXLAN 4789
#define UDP_PORT_TZSP 37008
#define VXLAN_FLAG_I 0x08
#define TZSP_VERSION 1
#define TZSP_TYPE_RX 0     /* received packet */
#define TZSP_TYPE_TX 1     /* packet for transmit */
#define TZSP_ENCAP_ETHERNET 1
#define TZSP_TAG_PADDING 0 /* one byte, no length */
#define TZSP_TAG_END 1     /* one byte, ends the tag list */

/* Bytes left to read: cap captured, decl declared by the enclosing header
 * (SIZE_MAX while nothing has declared a length yet). cap <= decl. */
struct cursor {
    uint8_t *p;
    size_t cap;
    size_t decl;
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((unsigned)p[0] << 8 | p[1]); }

static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) << 16 | rd16(p + 2); }

static enum sc_ret fail(enum frame_reason *why, enum frame_reason r)
{
    *why = r;
    return r == FRAME_TRUNCATED || r == FRAME_MALFORMED ? SC_ERROR : SC_DECLINED;
}

/* Can n more bytes be read? SC_ERROR with the reason when not. */
static enum sc_ret need(const struct cursor *c, size_t n, enum frame_reason *why)
{
    if (n > c->decl)
        return fail(why, FRAME_MALFORMED);
    if (n > c->cap)
        return fail(why, FRAME_TRUNCATED);
    return SC_OK;
}

static void skip(struct cursor *c, size_t n)
{
    c->p += n;
    c->cap -= n;
    if (c->decl != SIZE_MAX)
        c->decl -= n;
}

/* Narrow the cursor to a length a header declared. Whether the capture holds
 * all of it (cap < decl afterwards) is asked by the last layer only: an outer
 * layer cut short says nothing about an inner one that ends earlier. */
static void bound(struct cursor *c, size_t decl)
{
    c->decl = decl;
    if (c->cap > decl)
        c->cap = decl; /* link padding past the datagram must not become payload */
}

/* Step into one more encapsulation layer. The inner packet is a copy that
 * the mirroring device may have cut, so from here on only the capture and
 * the inner headers bound it (see frame.h). */
static enum sc_ret tunnel_enter(struct cursor *c, struct packet *out, enum frame_reason *why)
{
    if (out->tunnel_depth >= FRAME_MAX_TUNNEL_DEPTH)
        return fail(why, FRAME_MALFORMED);
    out->tunnel_depth++;
    c->decl = SIZE_MAX;
    return SC_OK;
}

/* PPP over a PPPoE session (RFC 2516). The PPP protocol field may be
 * compressed to one byte (RFC 1661 PFC): an odd first byte says so, and the
 * compressed values equal the full ones. */
static enum sc_ret pppoe_decode(struct cursor *c, int *af, enum frame_reason *why)
{
    if (need(c, PPPOE_HDR_LEN + 1, why) != SC_OK)
        return SC_ERROR;
    if (c->p[0] != 0x11 || c->p[1] != 0x00) /* version 1, type 1; code 0 = session data */
        return fail(why, FRAME_MALFORMED);
    skip(c, PPPOE_HDR_LEN);
    unsigned proto = c->p[0];
    if ((proto & 1) == 0) {
        if (need(c, 2, why) != SC_OK)
            return SC_ERROR;
        proto = rd16(c->p);
        skip(c, 2);
    } else {
        skip(c, 1);
    }
    if (proto == PPP_IPV4) {
        *af = 4;
        return SC_OK;
    }
    if (proto == PPP_IPV6) {
        *af = 6;
        return SC_OK;
    }
    return fail(why, FRAME_NOT_IP); /* LCP, IPCP, ... */
}

/* An MPLS label stack (RFC 3032). Nothing in it names the payload, so after
 * the bottom label the first nibble is the usual guess (as routers doing ECMP
 * make it): 4 and 6 are IP; 0 is a pseudowire control word (RFC 4385), here
 * taken to precede an Ethernet frame (RFC 4448), whose EtherType goes back to
 * *type with *af 0. Each label consumes 4 bytes: the loop ends with the capture. */
static enum sc_ret mpls_decode(struct cursor *c, struct packet *out, int *af, uint16_t *type,
                               enum frame_reason *why)
{
    int bottom = 0;
    while (!bottom) {
        if (need(c, MPLS_LABEL_LEN, why) != SC_OK)
            return SC_ERROR;
        bottom = c->p[2] & 1;
        skip(c, MPLS_LABEL_LEN);
    }
    if (need(c, 1, why) != SC_OK)
        return SC_ERROR;
    switch (c->p[0] >> 4) {
    case 4:
        *af = 4;
        return SC_OK;
    case 6:
        *af = 6;
        return SC_OK;
    case 0:
        if (need(c, MPLS_CW_LEN + ETH_HDR_LEN, why) != SC_OK)
            return SC_ERROR;
        if (tunnel_enter(c, out, why) != SC_OK)
            return SC_ERROR;
        *type = rd16(c->p + MPLS_CW_LEN + 12);
        skip(c, MPLS_CW_LEN + ETH_HDR_LEN);
        *af = 0;
        return SC_OK;
    default: /* 1: associated channel (OAM), or a payload we cannot tell */
        return fail(why, FRAME_NOT_IP);
    }
}

/* An EtherType and what follows it: any stack of VLAN tags and MPLS labels,
 * pseudowires, then PPPoE or IP. Every turn consumes bytes, so the loop ends
 * with the capture. */
static enum sc_ret ethertype_decode(struct cursor *c, uint16_t type, struct packet *out, int *af,
                                    enum frame_reason *why)
{
    for (;;) {
        switch (type) {
        case ETHERTYPE_8021Q:
        case ETHERTYPE_8021AD:
        case ETHERTYPE_QINQ_OLD:
            if (need(c, VLAN_TAG_LEN, why) != SC_OK)
                return SC_ERROR;
            type = rd16(c->p + 2);
            skip(c, VLAN_TAG_LEN);
            break;
        case ETHERTYPE_IPV4:
            *af = 4;
            return SC_OK;
        case ETHERTYPE_IPV6:
            *af = 6;
            return SC_OK;
        case ETHERTYPE_PPPOE_SESSION:
            return pppoe_decode(c, af, why);
        case ETHERTYPE_MPLS_UC:
        case ETHERTYPE_MPLS_MC: {
            enum sc_ret rc = mpls_decode(c, out, af, &type, why);
            if (rc != SC_OK)
                return rc;
            if (*af != 0)
                return SC_OK;
            break; /* pseudowire: type is the inner frame's */
        }
        default:
            return fail(why, FRAME_NOT_IP);
        }
    }
}

/* An Ethernet header and its EtherType chain -> cursor at the IP header. */
static enum sc_ret eth_decode(struct cursor *c, struct packet *out, int *af, enum frame_reason *why)
{
    if (need(c, ETH_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    uint16_t type = rd16(c->p + 12);
    skip(c, ETH_HDR_LEN);
    return ethertype_decode(c, type, out, af, why);
}

/* BSD loopback: the address family in the capturing host's byte order, which
 * need not be ours; DLT_LOOP says network order. Families fit in a byte, so
 * the order that gives a small number is the right one. AF_INET6 differs
 * between the BSDs (24), FreeBSD (28) and macOS (30). */
static enum sc_ret null_decode(struct cursor *c, int *af, enum frame_reason *why)
{
    if (need(c, NULL_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    const uint8_t *b = c->p;
    uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint32_t be = (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
    uint32_t family = le <= 0xff ? le : be;
    skip(c, NULL_HDR_LEN);
    if (family == 2) {
        *af = 4;
        return SC_OK;
    }
    if (family == 24 || family == 28 || family == 30) {
        *af = 6;
        return SC_OK;
    }
    return fail(why, FRAME_NOT_IP);
}

/* Link layer -> cursor at the IP header; *af is 4, 6 or 0 (raw IP: the
 * version nibble decides). */
static enum sc_ret link_decode(int dlt, struct cursor *c, struct packet *out, int *af, enum frame_reason *why)
{
    uint16_t type;
    *af = 0;
    switch (dlt) {
    case DLT_EN10MB:
        return eth_decode(c, out, af, why);
    case DLT_LINUX_SLL:
        if (need(c, SLL_HDR_LEN, why) != SC_OK)
            return SC_ERROR;
        type = rd16(c->p + 14);
        skip(c, SLL_HDR_LEN);
        /* libpcap re-inserts stripped VLAN tags after the cooked header */
        return ethertype_decode(c, type, out, af, why);
    case DLT_LINUX_SLL2:
        if (need(c, SLL2_HDR_LEN, why) != SC_OK)
            return SC_ERROR;
        type = rd16(c->p);
        skip(c, SLL2_HDR_LEN);
        return ethertype_decode(c, type, out, af, why);
    case DLT_NULL:
    case DLT_LOOP:
        return null_decode(c, af, why);
    case DLT_RAW:
    case LINKTYPE_RAW:
#if DLT_RAW == 12 && DLT_LOOP != 14
    case 14: /* DLT_RAW of OpenBSD captures, passed through unmapped */
#endif
        return SC_OK;
    case DLT_IPV4:
        *af = 4;
        return SC_OK;
    case DLT_IPV6:
        *af = 6;
        return SC_OK;
    default:
        return fail(why, FRAME_UNSUPPORTED_LINK);
    }
}

/* IPv4 header -> cursor bounded to the datagram's payload, *proto what it
 * carries. A fragment is described in *frag (when asked) and declined. */
static enum sc_ret ipv4_decode(struct cursor *c, struct packet *out, struct frame_fragment *frag, unsigned *proto,
                               enum frame_reason *why)
{
    if (need(c, IPV4_MIN_LEN, why) != SC_OK)
        return SC_ERROR;
    const uint8_t *h = c->p;
    size_t hlen = (size_t)(h[0] & 0x0f) * 4;
    size_t total = rd16(h + 2);
    if (h[0] >> 4 != 4 || hlen < IPV4_MIN_LEN || total < hlen)
        return fail(why, FRAME_MALFORMED);
    bound(c, total);
    if (need(c, hlen, why) != SC_OK) /* options cut short */
        return SC_ERROR;
    out->af = 4;
    /* An IPv4 header inside an IPv6 tunnel must not keep the outer tail. */
    memset(out->src, 0, sizeof(out->src));
    memset(out->dst, 0, sizeof(out->dst));
    memcpy(out->src, h + 12, 4);
    memcpy(out->dst, h + 16, 4);
    unsigned fo = rd16(h + 6);
    if ((fo & 0x3fff) != 0) { /* MF flag or a fragment offset */
        if (frag != NULL) {
            memset(frag, 0, sizeof(*frag));
            frag->ts_us = out->ts_us;
            frag->af = 4;
            frag->proto = h[9];
            frag->more = (fo & 0x2000) != 0;
            frag->truncated = c->cap < c->decl;
            frag->tunnel_depth = out->tunnel_depth;
            memcpy(frag->src, out->src, sizeof(frag->src));
            memcpy(frag->dst, out->dst, sizeof(frag->dst));
            frag->id = rd16(h + 4);
            frag->offset = (uint32_t)(fo & 0x1fff) * 8;
            frag->hdr = h;
            frag->hdr_len = hlen;
            frag->nh_off = 9;
            frag->data = c->p + hlen;
            frag->len = c->cap - hlen;
        }
        return fail(why, FRAME_IP_FRAGMENT);
    }
    *proto = h[9];
    skip(c, hlen);
    return SC_OK;
}

/* IPv6 header and extension headers -> cursor bounded to the upper-layer
 * payload, *proto its next header value. An atomic fragment (offset 0, M=0,
 * RFC 6946) holds a whole datagram; any other is described and declined. */
static enum sc_ret ipv6_decode(struct cursor *c, struct packet *out, struct frame_fragment *frag, unsigned *proto,
                               enum frame_reason *why)
{
    if (need(c, IPV6_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    const uint8_t *h = c->p;
    if (h[0] >> 4 != 6)
        return fail(why, FRAME_MALFORMED);
    unsigned next = h[6];
    size_t nh_off = 6; /* where the byte naming the current header sits, from h */
    out->af = 6;
    memcpy(out->src, h + 8, 16);
    memcpy(out->dst, h + 24, 16);
    skip(c, IPV6_HDR_LEN);
    bound(c, rd16(h + 4));
    for (;;) {
        size_t len;
        switch (next) {
        case IPPROTO_NUM_HOPOPTS:
        case IPPROTO_NUM_ROUTING:
        case IPPROTO_NUM_DSTOPTS:
            if (need(c, 2, why) != SC_OK)
                return SC_ERROR;
            len = ((size_t)c->p[1] + 1) * 8;
            break;
        case IPPROTO_NUM_FRAGMENT: {
            if (need(c, IPV6_FRAG_LEN, why) != SC_OK)
                return SC_ERROR;
            unsigned fo = rd16(c->p + 2);
            if ((fo & 0xfff9) == 0) { /* offset bits and M; 2 reserved bits ignored */
                len = IPV6_FRAG_LEN;
                break;
            }
            if (frag != NULL) {
                memset(frag, 0, sizeof(*frag));
                frag->ts_us = out->ts_us;
                frag->af = 6;
                frag->proto = c->p[0];
                frag->more = fo & 1;
                frag->truncated = c->cap < c->decl;
                frag->tunnel_depth = out->tunnel_depth;
                memcpy(frag->src, out->src, sizeof(frag->src));
                memcpy(frag->dst, out->dst, sizeof(frag->dst));
                frag->id = rd32(c->p + 4);
                frag->offset = fo & 0xfff8;
                frag->hdr = h;
                frag->hdr_len = (size_t)(c->p - h);
                frag->nh_off = nh_off;
                frag->data = c->p + IPV6_FRAG_LEN;
                frag->len = c->cap - IPV6_FRAG_LEN;
            }
            return fail(why, FRAME_IP_FRAGMENT);
        }
        default: /* upper layer, or no next header (59), ESP, ... */
            *proto = next;
            return SC_OK;
        }
        if (need(c, len, why) != SC_OK)
            return SC_ERROR;
        nh_off = (size_t)(c->p - h);
        next = c->p[0];
        skip(c, len);
    }
}

/* UDP header -> out->payload, bounded by the UDP length. */
static enum sc_ret udp_decode(struct cursor *c, struct packet *out, enum frame_reason *why)
{
    if (need(c, UDP_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    const uint8_t *h = c->p;
    size_t ulen = rd16(h + 4);
    /* A UDP length past the IP datagram is as impossible as one below 8. */
    if (ulen < UDP_HDR_LEN || ulen > c->decl)
        return fail(why, FRAME_MALFORMED);
    out->sport = rd16(h);
    out->dport = rd16(h + 2);
    out->l4proto = IPPROTO_NUM_UDP;
    skip(c, UDP_HDR_LEN);
    bound(c, ulen - UDP_HDR_LEN);
    out->truncated = c->cap < c->decl;
    out->payload = c->p;
    out->len = c->cap;
    return SC_OK;
}

/* TCP header -> out->payload: the segment's data after any options, bounded
 * by the IP length. */
static enum sc_ret tcp_decode(struct cursor *c, struct packet *out, enum frame_reason *why)
{
    if (need(c, TCP_MIN_LEN, why) != SC_OK)
        return SC_ERROR;
    const uint8_t *h = c->p;
    size_t hlen = (size_t)(h[12] >> 4) * 4;
    if (hlen < TCP_MIN_LEN)
        return fail(why, FRAME_MALFORMED);
    if (need(c, hlen, why) != SC_OK) /* options past the datagram (malformed) or the capture */
        return SC_ERROR;
    out->sport = rd16(h);
    out->dport = rd16(h + 2);
    out->tcp_seq = rd32(h + 4);
    out->tcp_ack = rd32(h + 8);
    out->tcp_flags = h[13];
    out->l4proto = IPPROTO_NUM_TCP;
    skip(c, hlen);
    out->truncated = c->cap < c->decl;
    out->payload = c->p;
    out->len = c->cap;
    return SC_OK;
}

/* SCTP common header (RFC 9260 §3.1) -> out->payload: the chunk list,
 * bounded by the IP length; frame_sctp_next_data() walks it. The checksum is
 * not verified: a mirror copy may be cut, and a capture shows what was sent. */
static enum sc_ret sctp_decode(struct cursor *c, struct packet *out, enum frame_reason *why)
{
    if (need(c, SCTP_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    out->sport = rd16(c->p);
    out->dport = rd16(c->p + 2);
    out->l4proto = IPPROTO_NUM_SCTP;
    skip(c, SCTP_HDR_LEN);
    out->truncated = c->cap < c->decl;
    out->payload = c->p;
    out->len = c->cap;
    return SC_OK;
}

/* GRE (RFC 2784, RFC 2890) -> cursor at what it carries: IP (*af 4 or 6, or
 * 0 for ERSPAN III's IP frame type) or, through an Ethernet header, IP. */
static enum sc_ret gre_decode(struct cursor *c, struct packet *out, int *af, enum frame_reason *why)
{
    if (need(c, GRE_MIN_LEN, why) != SC_OK)
        return SC_ERROR;
    unsigned flags = rd16(c->p);
    unsigned proto = rd16(c->p + 2);
    if ((flags & GRE_VERSION) != 0) /* version 1 is PPTP's, carrying PPP */
        return fail(why, FRAME_NOT_IP);
    if ((flags & GRE_RESERVED) != 0)
        return fail(why, FRAME_MALFORMED);
    size_t len = GRE_MIN_LEN + ((flags & GRE_C) ? 4 : 0) + ((flags & GRE_K) ? 4 : 0) + ((flags & GRE_S) ? 4 : 0);
    if (need(c, len, why) != SC_OK)
        return SC_ERROR;
    skip(c, len);
    if (tunnel_enter(c, out, why) != SC_OK)
        return SC_ERROR;
    switch (proto) {
    case ETHERTYPE_IPV4:
        *af = 4;
        return SC_OK;
    case ETHERTYPE_IPV6:
        *af = 6;
        return SC_OK;
    case ETHERTYPE_TEB:
        return eth_decode(c, out, af, why);
    case ETHERTYPE_ERSPAN_1_2:
        /* Type I has no ERSPAN header and no GRE sequence number; type II
         * has both (the ERSPAN drafts tell them apart by the S bit). */
        if (flags & GRE_S) {
            if (need(c, ERSPAN2_HDR_LEN, why) != SC_OK)
                return SC_ERROR;
            if (c->p[0] >> 4 != 1)
                return fail(why, FRAME_MALFORMED);
            skip(c, ERSPAN2_HDR_LEN);
        }
        return eth_decode(c, out, af, why);
    case ETHERTYPE_ERSPAN_3: {
        if (need(c, ERSPAN3_HDR_LEN, why) != SC_OK)
            return SC_ERROR;
        if (c->p[0] >> 4 != 2)
            return fail(why, FRAME_MALFORMED);
        unsigned frame_type = (c->p[10] >> 2) & 0x1f;
        int platform = c->p[11] & 1; /* O bit: a platform-specific sub-header follows */
        skip(c, ERSPAN3_HDR_LEN);
        if (platform) {
            if (need(c, ERSPAN3_PLATFORM_LEN, why) != SC_OK)
                return SC_ERROR;
            skip(c, ERSPAN3_PLATFORM_LEN);
        }
        if (frame_type == 0)
            return eth_decode(c, out, af, why);
        if (frame_type == 2) {
            *af = 0;
            return SC_OK;
        }
        return fail(why, FRAME_NOT_IP);
    }
    default:
        return fail(why, FRAME_NOT_IP);
    }
}

/* After a tunnel's link header: does an IP header of the announced version
 * start here? That is what tells a tunnel from a datagram on its port. */
static enum sc_ret probe_ip(const struct cursor *c, int af, enum frame_reason *why)
{
    if (need(c, 1, why) != SC_OK)
        return SC_ERROR;
    if (c->p[0] >> 4 != af)
        return fail(why, FRAME_NOT_IP);
    return SC_OK;
}

/* VXLAN (RFC 7348): 8 bytes with the I flag, then an Ethernet frame. The
 * reserved bits are ignored on receipt, as the RFC says (VXLAN-GBP uses them). */
static enum sc_ret vxlan_probe(struct cursor *c, struct packet *out, int *af, enum frame_reason *why)
{
    if (need(c, VXLAN_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    if ((c->p[0] & VXLAN_FLAG_I) == 0)
        return fail(why, FRAME_NOT_IP);
    skip(c, VXLAN_HDR_LEN);
    if (eth_decode(c, out, af, why) != SC_OK)
        return *why == FRAME_TRUNCATED ? SC_ERROR : SC_DECLINED;
    return probe_ip(c, *af, why);
}

/* TZSP (TaZmen Sniffer Protocol, as MikroTik sends it): version 1, type
 * received or transmitted packet, encapsulation 1 (Ethernet), then tagged
 * fields up to the END tag: PADDING and END are one byte, every other tag is
 * type, length, value. Every tag consumes bytes: the loop ends with the data. */
static enum sc_ret tzsp_probe(struct cursor *c, struct packet *out, int *af, enum frame_reason *why)
{
    if (need(c, TZSP_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    if (c->p[0] != TZSP_VERSION || (c->p[1] != TZSP_TYPE_RX && c->p[1] != TZSP_TYPE_TX) ||
        rd16(c->p + 2) != TZSP_ENCAP_ETHERNET)
        return fail(why, FRAME_NOT_IP);
    skip(c, TZSP_HDR_LEN);
    for (;;) {
        if (need(c, 1, why) != SC_OK)
            return SC_ERROR;
        unsigned tag = c->p[0];
        if (tag == TZSP_TAG_END) {
            skip(c, 1);
            break;
        }
        if (tag == TZSP_TAG_PADDING) {
            skip(c, 1);
            continue;
        }
        if (need(c, 2, why) != SC_OK)
            return SC_ERROR;
        size_t len = 2 + (size_t)c->p[1];
        if (need(c, len, why) != SC_OK)
            return SC_ERROR;
        skip(c, len);
    }
    if (eth_decode(c, out, af, why) != SC_OK)
        return *why == FRAME_TRUNCATED ? SC_ERROR : SC_DECLINED;
    return probe_ip(c, *af, why);
}

/* A decoded UDP datagram to a tunnel port: SC_OK with the cursor moved to the
 * inner IP header (*af), SC_DECLINED when it is not that tunnel (the caller
 * keeps the plain datagram), SC_ERROR when the tunnel headers were cut by the
 * capture or nest too deep. The probe works on a copy of the cursor, and
 * restores tunnel_depth (a pseudowire inside may have bumped it), so a
 * decline leaves *out as udp_decode() filled it. */
static enum sc_ret udp_tunnel(struct cursor *c, struct packet *out, int *af, enum frame_reason *why)
{
    struct cursor t = *c;
    uint8_t depth = out->tunnel_depth;
    enum sc_ret rc;
    if (out->dport == UDP_PORT_VXLAN)
        rc = vxlan_probe(&t, out, af, why);
    else if (out->dport == UDP_PORT_TZSP)
        rc = tzsp_probe(&t, out, af, why);
    else
        return SC_DECLINED;
    if (rc != SC_OK) {
        out->tunnel_depth = depth;
        return rc == SC_ERROR && *why == FRAME_TRUNCATED ? SC_ERROR : SC_DECLINED;
    }
    if (tunnel_enter(&t, out, why) != SC_OK)
        return SC_ERROR;
    *c = t;
    return SC_OK;
}

/* From an IP header (af 4, 6, or 0: the version nibble decides) to the
 * transport payload, unwrapping tunnels on the way. */
static enum sc_ret ip_decode(struct cursor *c, int af, struct packet *out, struct frame_fragment *frag,
                             enum frame_reason *why)
{
    for (;;) {
        unsigned proto = 0;
        enum sc_ret rc;
        if (need(c, 1, why) != SC_OK)
            return SC_ERROR;
        int version = c->p[0] >> 4;
        if (af != 0 && version != af)
            return fail(why, FRAME_MALFORMED);
        if (version == 4)
            rc = ipv4_decode(c, out, frag, &proto, why);
        else if (version == 6)
            rc = ipv6_decode(c, out, frag, &proto, why);
        else
            return fail(why, FRAME_MALFORMED);
        if (rc != SC_OK)
            return rc;
        switch (proto) {
        case IPPROTO_NUM_UDP:
            if (udp_decode(c, out, why) != SC_OK)
                return SC_ERROR;
            rc = udp_tunnel(c, out, &af, why);
            if (rc == SC_DECLINED)
                return SC_OK;
            if (rc != SC_OK)
                return rc;
            break;
        case IPPROTO_NUM_TCP:
            return tcp_decode(c, out, why);
        case IPPROTO_NUM_SCTP:
            return sctp_decode(c, out, why);
        case IPPROTO_NUM_IPIP:
        case IPPROTO_NUM_IPV6:
            af = proto == IPPROTO_NUM_IPIP ? 4 : 6;
            if (tunnel_enter(c, out, why) != SC_OK)
                return SC_ERROR;
            break;
        case IPPROTO_NUM_GRE:
            rc = gre_decode(c, out, &af, why);
            if (rc != SC_OK)
                return rc;
            break;
        default:
            return fail(why, FRAME_NOT_UDP);
        }
    }
}

enum sc_ret frame_decode_ex(int dlt, uint8_t *data, size_t caplen, size_t wirelen, int64_t ts_us,
                            struct packet *out, enum frame_reason *why, struct frame_fragment *frag)
{
    /* caplen bounds every read; wirelen adds nothing the IP and transport
     * lengths do not already say more precisely. */
    (void)wirelen;
    memset(out, 0, sizeof(*out));
    out->ts_us = ts_us;
    *why = FRAME_OK;
    struct cursor c = {data, caplen, SIZE_MAX};
    int af;
    enum sc_ret rc = link_decode(dlt, &c, out, &af, why);
    if (rc != SC_OK)
        return rc;
    rc = ip_decode(&c, af, out, frag, why);
    if (rc != SC_OK)
        return rc;
    *why = FRAME_OK;
    return SC_OK;
}

enum sc_ret frame_decode(int dlt, uint8_t *data, size_t caplen, size_t wirelen, int64_t ts_us,
                         struct packet *out, enum frame_reason *why)
{
    return frame_decode_ex(dlt, data, caplen, wirelen, ts_us, out, why, NULL);
}

enum sc_ret frame_decode_ip(uint8_t *ip, size_t len, int64_t ts_us, struct packet *out, enum frame_reason *why)
{
    memset(out, 0, sizeof(*out));
    out->ts_us = ts_us;
    *why = FRAME_OK;
    struct cursor c = {ip, len, SIZE_MAX};
    enum sc_ret rc = ip_decode(&c, 0, out, NULL, why);
    if (rc != SC_OK)
        return rc;
    *why = FRAME_OK;
    return SC_OK;
}

enum sc_ret frame_sctp_next_data(const struct packet *sctp, size_t *off, struct packet *out,
                                 struct frame_sctp_counts *counts)
{
    const uint8_t *p = sctp->payload;
    size_t len = sctp->len;
    /* Each turn consumes at least one chunk header, so the walk ends with
     * the captured bytes whatever the lengths say. */
    while (*off < len) {
        size_t at = *off;
        if (len - at < SCTP_CHUNK_HDR_LEN) {
            if (!sctp->truncated) /* a chunk header past the datagram */
                counts->malformed++;
            *off = len;
            break;
        }
        unsigned type = p[at];
        unsigned flags = p[at + 1];
        size_t clen = rd16(p + at + 2);
        if (clen < SCTP_CHUNK_HDR_LEN) { /* cannot advance: nothing after it is framed */
            counts->malformed++;
            *off = len;
            break;
        }
        size_t padded = (clen + 3) & ~(size_t)3;
        size_t have = len - at;
        /* The last chunk's padding may be missing; anything else that runs
         * past the bytes is cut by the capture (truncated) or impossible. */
        *off = padded < have ? at + padded : len;
        counts->chunks++;
        if (type != SCTP_CHUNK_DATA)
            continue;
        if (clen < SCTP_DATA_HDR_LEN) {
            counts->malformed++;
            continue;
        }
        if (clen == SCTP_DATA_HDR_LEN) /* no user data: a protocol violation we ignore */
            continue;
        if (clen > have && !sctp->truncated) {
            counts->malformed++;
            *off = len;
            break;
        }
        if (have <= SCTP_DATA_HDR_LEN) { /* header captured, no user data byte */
            counts->truncated++;
            continue;
        }
        /* A user message split over several DATA chunks: only the first
         * piece starts with the SIP start line and usually holds the whole
         * header section, so it is used as a datagram cut short; later
         * pieces are body or header tails we cannot place, and skipped. */
        if ((flags & SCTP_DATA_B) == 0) {
            counts->fragments_skipped++;
            continue;
        }
        *out = *sctp;
        out->payload = sctp->payload + at + SCTP_DATA_HDR_LEN;
        out->len = (clen <= have ? clen : have) - SCTP_DATA_HDR_LEN;
        out->truncated = clen > have || (flags & SCTP_DATA_E) == 0;
        if (clen > have)
            counts->truncated++;
        if ((flags & SCTP_DATA_E) == 0)
            counts->first_fragments++;
        counts->messages++;
        return SC_OK;
    }
    return SC_DECLINED;
}

const char *frame_reason_name(enum frame_reason r)
{
    static const char *const names[FRAME_REASONS_MAX] = {
        [FRAME_OK] = "ok",
        [FRAME_UNSUPPORTED_LINK] = "unsupported_link",
        [FRAME_NOT_IP] = "not_ip",
        [FRAME_NOT_UDP] = "not_udp",
        [FRAME_IP_FRAGMENT] = "ip_fragment",
        [FRAME_TRUNCATED] = "truncated",
        [FRAME_MALFORMED] = "malformed",
    };
    if ((unsigned)r >= FRAME_REASONS_MAX)
        return "unknown";
    return names[r];
}
