/* pcap_writer.c - pcap and pcapng files written by hand for tests.
 *
 * Formats: the classic libpcap file (tcpdump.org "pcap" / draft-ietf-opsawg-
 * pcap) and pcapng (draft-ietf-opsawg-pcapng) with one SHB, one IDB and
 * Enhanced Packet Blocks. Everything is written in host byte order; readers
 * learn the order from the magic numbers.
 *
 * A frame is built in one buffer: IP and UDP from FRAME_IP_AT on, the link
 * header just in front of it, so each link type only writes its own header.
 */
#include "pcap_writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LINKTYPE_RAW 101
#define SNAPLEN 262144u

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_BYTE_ORDER 0x1a2b3c4du
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_OPT_TSRESOL 9

/* AF_INET6 in DLT_NULL headers as the BSDs write it; Linux's value (10) is
 * not a DLT_NULL value at all. 30 is macOS, where lo0 captures come from. */
#define NULL_AF_INET 2
#define NULL_AF_INET6 30

#define IPV4_HDR 20
#define IPV6_HDR 40
#define UDP_HDR 8
#define FRAME_IP_AT 32 /* room for the longest link header built here (SLL2: 20) */
#define FRAME_MAX (FRAME_IP_AT + IPV6_HDR + 65535)

struct pcapw {
    FILE *f;
    uint32_t linktype; /* the value written in the file */
    int pcapng;
    int failed;        /* a write failed: pcapw_close() says so */
    uint16_t ip_id;
    uint8_t buf[FRAME_MAX];
};

static void put16be(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32be(uint8_t *p, uint32_t v)
{
    put16be(p, v >> 16);
    put16be(p + 2, v & 0xffff);
}

static int write_all(struct pcapw *w, const void *p, size_t n)
{
    if (n > 0 && fwrite(p, 1, n, w->f) != n) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

/* Host-order fields of the file headers, written one at a time so no struct
 * padding can slip into the file. */
static int write_u16(struct pcapw *w, uint16_t v) { return write_all(w, &v, sizeof(v)); }
static int write_u32(struct pcapw *w, uint32_t v) { return write_all(w, &v, sizeof(v)); }

static int write_file_header(struct pcapw *w)
{
    int rc = 0;
    if (!w->pcapng) {
        rc |= write_u32(w, PCAP_MAGIC_US);
        rc |= write_u16(w, 2); /* version 2.4 */
        rc |= write_u16(w, 4);
        rc |= write_u32(w, 0); /* thiszone */
        rc |= write_u32(w, 0); /* sigfigs */
        rc |= write_u32(w, SNAPLEN);
        rc |= write_u32(w, w->linktype);
        return rc;
    }
    /* SHB: no options, section length unknown (-1) */
    rc |= write_u32(w, PCAPNG_SHB);
    rc |= write_u32(w, 28);
    rc |= write_u32(w, PCAPNG_BYTE_ORDER);
    rc |= write_u16(w, 1);
    rc |= write_u16(w, 0);
    rc |= write_u32(w, 0xffffffffu);
    rc |= write_u32(w, 0xffffffffu);
    rc |= write_u32(w, 28);
    /* IDB with if_tsresol = 6 spelled out: microseconds is the default, but
     * saying it keeps the file readable by tools that guess otherwise. */
    rc |= write_u32(w, PCAPNG_IDB);
    rc |= write_u32(w, 32);
    rc |= write_u16(w, (uint16_t)w->linktype);
    rc |= write_u16(w, 0);
    rc |= write_u32(w, SNAPLEN);
    static const uint8_t tsresol_pad[3];
    uint8_t tsresol = 6;
    rc |= write_u16(w, PCAPNG_OPT_TSRESOL);
    rc |= write_u16(w, 1);
    rc |= write_all(w, &tsresol, 1);
    rc |= write_all(w, tsresol_pad, 3);
    rc |= write_u32(w, 0); /* opt_endofopt */
    rc |= write_u32(w, 32);
    return rc;
}

struct pcapw *pcapw_open(const char *path, int linktype, int pcapng)
{
    if (linktype < 0 || linktype > 0xffff) {
        errno = EINVAL;
        return NULL;
    }
    struct pcapw *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->linktype = linktype == DLT_RAW ? LINKTYPE_RAW : (uint32_t)linktype;
    w->pcapng = pcapng != 0;
    w->f = fopen(path, "wb");
    if (w->f == NULL)
        goto err;
    if (write_file_header(w) != 0)
        goto err;
    return w;
err:
    if (w->f != NULL) {
        int saved = errno;
        fclose(w->f);
        errno = saved;
    }
    free(w);
    return NULL;
}

int pcapw_raw(struct pcapw *w, int64_t ts_us, const void *frame, size_t len)
{
    if (ts_us < 0 || len > SNAPLEN)
        return -1;
    uint32_t n = (uint32_t)len;
    int rc = 0;
    if (!w->pcapng) {
        /* Readers take ts_sec as signed 32 bits (libpcap does): 2038 is the end. */
        if (ts_us / 1000000 > INT32_MAX)
            return -1;
        rc |= write_u32(w, (uint32_t)(ts_us / 1000000));
        rc |= write_u32(w, (uint32_t)(ts_us % 1000000));
        rc |= write_u32(w, n);
        rc |= write_u32(w, n);
        rc |= write_all(w, frame, len);
        return rc;
    }
    static const uint8_t pad[4];
    uint32_t padded = (n + 3) & ~3u;
    uint32_t total = 32 + padded;
    rc |= write_u32(w, PCAPNG_EPB);
    rc |= write_u32(w, total);
    rc |= write_u32(w, 0); /* interface 0 */
    rc |= write_u32(w, (uint32_t)((uint64_t)ts_us >> 32));
    rc |= write_u32(w, (uint32_t)((uint64_t)ts_us & 0xffffffffu));
    rc |= write_u32(w, n);
    rc |= write_u32(w, n);
    rc |= write_all(w, frame, len);
    rc |= write_all(w, pad, padded - n);
    rc |= write_u32(w, total);
    return rc;
}

/* RFC 1071 one's complement sum, folded later. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* IP + UDP at ip; returns the bytes written, 0 if the addresses are bad or
 * the datagram too long. */
static size_t build_ip_udp(struct pcapw *w, uint8_t *ip, int *af, const char *src_ip, uint16_t sport,
                           const char *dst_ip, uint16_t dport, const void *payload, size_t len)
{
    uint8_t src[16], dst[16];
    size_t alen, hlen;
    if (inet_pton(AF_INET, src_ip, src) == 1 && inet_pton(AF_INET, dst_ip, dst) == 1) {
        *af = 4;
        alen = 4;
        hlen = IPV4_HDR;
    } else if (inet_pton(AF_INET6, src_ip, src) == 1 && inet_pton(AF_INET6, dst_ip, dst) == 1) {
        *af = 6;
        alen = 16;
        hlen = IPV6_HDR;
    } else {
        return 0;
    }
    /* IPv4 counts its header in the 16-bit total length, IPv6 does not. */
    if (len > 65535 - UDP_HDR - (*af == 4 ? IPV4_HDR : 0))
        return 0;
    size_t ulen = UDP_HDR + len;
    uint8_t *udp = ip + hlen;
    if (*af == 4) {
        memset(ip, 0, IPV4_HDR);
        ip[0] = 0x45;
        put16be(ip + 2, (unsigned)(hlen + ulen));
        put16be(ip + 4, w->ip_id++);
        ip[8] = 64; /* TTL */
        ip[9] = 17; /* UDP */
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16be(ip + 10, fold(sum_bytes(0, ip, IPV4_HDR)));
    } else {
        memset(ip, 0, IPV6_HDR);
        ip[0] = 0x60;
        put16be(ip + 4, (unsigned)ulen);
        ip[6] = 17;
        ip[7] = 64; /* hop limit */
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
    }
    put16be(udp, sport);
    put16be(udp + 2, dport);
    put16be(udp + 4, (unsigned)ulen);
    put16be(udp + 6, 0);
    if (len > 0)
        memcpy(udp + UDP_HDR, payload, len);
    /* The pseudo-header checksum is mandatory for IPv6 and cheap for IPv4, so
     * both get one; a computed 0 is sent as 0xffff (0 means "none"). */
    uint32_t sum = sum_bytes(0, src, alen);
    sum = sum_bytes(sum, dst, alen);
    sum += 17 + (uint32_t)ulen;
    uint16_t ck = fold(sum_bytes(sum, udp, ulen));
    put16be(udp + 6, ck == 0 ? 0xffff : ck);
    return hlen + ulen;
}

/* Write the link header ending at w->buf + FRAME_IP_AT; returns its length,
 * or -1 for a link type without a builder here. vlan_id < 0: no tag. */
static int build_link(struct pcapw *w, int af, int vlan_id)
{
    static const uint8_t mac_dst[6] = {0x02, 0, 0, 0, 0, 0x02};
    static const uint8_t mac_src[6] = {0x02, 0, 0, 0, 0, 0x01};
    unsigned ethertype = af == 4 ? 0x0800 : 0x86dd;
    uint8_t *end = w->buf + FRAME_IP_AT;
    uint8_t *h;
    if (vlan_id >= 0 && w->linktype != DLT_EN10MB)
        return -1;
    switch (w->linktype) {
    case DLT_EN10MB:
        if (vlan_id >= 0) {
            h = end - 18;
            put16be(h + 12, 0x8100);
            put16be(h + 14, (unsigned)vlan_id & 0x0fff);
            put16be(h + 16, ethertype);
        } else {
            h = end - 14;
            put16be(h + 12, ethertype);
        }
        memcpy(h, mac_dst, 6);
        memcpy(h + 6, mac_src, 6);
        break;
    case DLT_LINUX_SLL: /* packet type 0 (to us), ARPHRD_ETHER, 6-byte address */
        h = end - 16;
        memset(h, 0, 16);
        put16be(h + 2, 1);
        put16be(h + 4, 6);
        memcpy(h + 6, mac_src, 6);
        put16be(h + 14, ethertype);
        break;
    case DLT_LINUX_SLL2: /* protocol, reserved, ifindex 1, ARPHRD_ETHER, type 0, address */
        h = end - 20;
        memset(h, 0, 20);
        put16be(h, ethertype);
        put32be(h + 4, 1);
        put16be(h + 8, 1);
        h[11] = 6;
        memcpy(h + 12, mac_src, 6);
        break;
    case DLT_NULL: { /* the family in the writer's byte order, as BSD does */
        uint32_t fam = af == 4 ? NULL_AF_INET : NULL_AF_INET6;
        h = end - 4;
        memcpy(h, &fam, 4);
        break;
    }
    case LINKTYPE_RAW:
        h = end;
        break;
    default:
        return -1;
    }
    return (int)(end - h);
}

static int udp_frame(struct pcapw *w, int64_t ts_us, const char *src_ip, uint16_t sport, const char *dst_ip,
                     uint16_t dport, const void *payload, size_t len, int vlan_id)
{
    int af;
    size_t ip_len = build_ip_udp(w, w->buf + FRAME_IP_AT, &af, src_ip, sport, dst_ip, dport, payload, len);
    if (ip_len == 0)
        return -1;
    int link_len = build_link(w, af, vlan_id);
    if (link_len < 0)
        return -1;
    return pcapw_raw(w, ts_us, w->buf + FRAME_IP_AT - link_len, (size_t)link_len + ip_len);
}

int pcapw_udp(struct pcapw *w, int64_t ts_us, const char *src_ip, uint16_t sport, const char *dst_ip,
              uint16_t dport, const void *payload, size_t len)
{
    return udp_frame(w, ts_us, src_ip, sport, dst_ip, dport, payload, len, -1);
}

int pcapw_udp_vlan(struct pcapw *w, int64_t ts_us, const char *src_ip, uint16_t sport, const char *dst_ip,
                   uint16_t dport, const void *payload, size_t len, uint16_t vlan_id)
{
    if (vlan_id > 4095)
        return -1;
    return udp_frame(w, ts_us, src_ip, sport, dst_ip, dport, payload, len, vlan_id);
}

int pcapw_close(struct pcapw *w)
{
    if (w == NULL)
        return -1;
    int failed = w->failed;
    if (fclose(w->f) != 0)
        failed = 1;
    free(w);
    return failed ? -1 : 0;
}
