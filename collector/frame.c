/* frame.c - one captured frame -> one UDP payload view: link, IP, UDP.
 *
 * Parsing walks a cursor with two bounds: cap, the bytes really captured, and
 * decl, the bytes the enclosing header says exist. A header that does not fit
 * decl is impossible (FRAME_MALFORMED); one that fits decl but not cap was cut
 * by the snap length or a torn file (FRAME_TRUNCATED). Every read is preceded
 * by a need(), so no input can move a read past caplen.
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
#define IPV4_MIN_LEN 20
#define IPV6_HDR_LEN 40
#define IPV6_FRAG_LEN 8
#define UDP_HDR_LEN 8

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_PPPOE_SESSION 0x8864
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define IPPROTO_NUM_HOPOPTS 0
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_ROUTING 43
#define IPPROTO_NUM_FRAGMENT 44
#define IPPROTO_NUM_DSTOPTS 60

/* Bytes left to read: cap captured, decl declared by the enclosing header
 * (SIZE_MAX while nothing has declared a length yet). cap <= decl. */
struct cursor {
    uint8_t *p;
    size_t cap;
    size_t decl;
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((unsigned)p[0] << 8 | p[1]); }

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

/* Narrow the cursor to a length a header declared; returns 1 if the capture
 * holds fewer bytes than that. */
static int bound(struct cursor *c, size_t decl)
{
    c->decl = decl;
    if (c->cap <= decl)
        return c->cap < decl;
    c->cap = decl; /* link padding past the datagram must not become payload */
    return 0;
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

/* An EtherType and what follows it: any stack of VLAN tags, then PPPoE or IP.
 * Each tag consumes 4 bytes, so the loop ends with the capture. */
static enum sc_ret ethertype_decode(struct cursor *c, uint16_t type, int *af, enum frame_reason *why)
{
    while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ_OLD) {
        if (need(c, VLAN_TAG_LEN, why) != SC_OK)
            return SC_ERROR;
        type = rd16(c->p + 2);
        skip(c, VLAN_TAG_LEN);
    }
    switch (type) {
    case ETHERTYPE_IPV4:
        *af = 4;
        return SC_OK;
    case ETHERTYPE_IPV6:
        *af = 6;
        return SC_OK;
    case ETHERTYPE_PPPOE_SESSION:
        return pppoe_decode(c, af, why);
    default:
        return fail(why, FRAME_NOT_IP);
    }
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
static enum sc_ret link_decode(int dlt, struct cursor *c, int *af, enum frame_reason *why)
{
    uint16_t type;
    *af = 0;
    switch (dlt) {
    case DLT_EN10MB:
        if (need(c, ETH_HDR_LEN, why) != SC_OK)
            return SC_ERROR;
        type = rd16(c->p + 12);
        skip(c, ETH_HDR_LEN);
        return ethertype_decode(c, type, af, why);
    case DLT_LINUX_SLL:
        if (need(c, SLL_HDR_LEN, why) != SC_OK)
            return SC_ERROR;
        type = rd16(c->p + 14);
        skip(c, SLL_HDR_LEN);
        /* libpcap re-inserts stripped VLAN tags after the cooked header */
        return ethertype_decode(c, type, af, why);
    case DLT_LINUX_SLL2:
        if (need(c, SLL2_HDR_LEN, why) != SC_OK)
            return SC_ERROR;
        type = rd16(c->p);
        skip(c, SLL2_HDR_LEN);
        return ethertype_decode(c, type, af, why);
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

/* IPv4 header -> cursor bounded to the datagram's payload. */
static enum sc_ret ipv4_decode(struct cursor *c, struct packet *out, enum frame_reason *why)
{
    if (need(c, IPV4_MIN_LEN, why) != SC_OK)
        return SC_ERROR;
    const uint8_t *h = c->p;
    size_t hlen = (size_t)(h[0] & 0x0f) * 4;
    size_t total = rd16(h + 2);
    if (h[0] >> 4 != 4 || hlen < IPV4_MIN_LEN || total < hlen)
        return fail(why, FRAME_MALFORMED);
    if ((rd16(h + 6) & 0x3fff) != 0) /* MF flag or a fragment offset */
        return fail(why, FRAME_IP_FRAGMENT);
    if (h[9] != IPPROTO_NUM_UDP)
        return fail(why, FRAME_NOT_UDP);
    if (bound(c, total))
        out->truncated = 1;
    if (need(c, hlen, why) != SC_OK) /* options cut short */
        return SC_ERROR;
    out->af = 4;
    memcpy(out->src, h + 12, 4);
    memcpy(out->dst, h + 16, 4);
    skip(c, hlen);
    return SC_OK;
}

/* IPv6 header and extension headers -> cursor bounded to the UDP datagram.
 * An atomic fragment (offset 0, M=0, RFC 6946) holds a whole datagram. */
static enum sc_ret ipv6_decode(struct cursor *c, struct packet *out, enum frame_reason *why)
{
    if (need(c, IPV6_HDR_LEN, why) != SC_OK)
        return SC_ERROR;
    const uint8_t *h = c->p;
    if (h[0] >> 4 != 6)
        return fail(why, FRAME_MALFORMED);
    unsigned next = h[6];
    out->af = 6;
    memcpy(out->src, h + 8, 16);
    memcpy(out->dst, h + 24, 16);
    skip(c, IPV6_HDR_LEN);
    if (bound(c, rd16(h + 4)))
        out->truncated = 1;
    for (;;) {
        size_t len;
        switch (next) {
        case IPPROTO_NUM_UDP:
            return SC_OK;
        case IPPROTO_NUM_HOPOPTS:
        case IPPROTO_NUM_ROUTING:
        case IPPROTO_NUM_DSTOPTS:
            if (need(c, 2, why) != SC_OK)
                return SC_ERROR;
            len = ((size_t)c->p[1] + 1) * 8;
            break;
        case IPPROTO_NUM_FRAGMENT:
            if (need(c, IPV6_FRAG_LEN, why) != SC_OK)
                return SC_ERROR;
            if ((rd16(c->p + 2) & 0xfff9) != 0) /* offset bits and M; 2 reserved bits ignored */
                return fail(why, FRAME_IP_FRAGMENT);
            len = IPV6_FRAG_LEN;
            break;
        default: /* TCP, ICMPv6, ESP, no next header (59), ... */
            return fail(why, FRAME_NOT_UDP);
        }
        if (need(c, len, why) != SC_OK)
            return SC_ERROR;
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
    if (bound(c, ulen - UDP_HDR_LEN))
        out->truncated = 1;
    out->payload = c->p;
    out->len = c->cap;
    return SC_OK;
}

enum sc_ret frame_decode(int dlt, uint8_t *data, size_t caplen, size_t wirelen, int64_t ts_us,
                         struct packet *out, enum frame_reason *why)
{
    /* caplen bounds every read; wirelen adds nothing the IP and UDP lengths
     * do not already say more precisely. */
    (void)wirelen;
    memset(out, 0, sizeof(*out));
    out->ts_us = ts_us;
    struct cursor c = {data, caplen, SIZE_MAX};
    int af;
    enum sc_ret rc = link_decode(dlt, &c, &af, why);
    if (rc != SC_OK)
        return rc;
    if (need(&c, 1, why) != SC_OK)
        return SC_ERROR;
    int version = c.p[0] >> 4;
    if (af != 0 && version != af)
        return fail(why, FRAME_MALFORMED);
    if (version == 4)
        rc = ipv4_decode(&c, out, why);
    else if (version == 6)
        rc = ipv6_decode(&c, out, why);
    else
        return fail(why, FRAME_MALFORMED);
    if (rc != SC_OK)
        return rc;
    rc = udp_decode(&c, out, why);
    if (rc != SC_OK)
        return rc;
    *why = FRAME_OK;
    return SC_OK;
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
