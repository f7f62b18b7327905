/* test_frame.c - link, IP and UDP decoding: every link type, the declines,
 * impossible lengths, and every cut of the capture.
 *
 * Frames are decoded from a heap copy of exactly caplen bytes, so ASan turns
 * any read past caplen into a failure. Every frame that decodes is also
 * decoded again at each caplen from 0 to its full length.
 */
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame.h"

#define PAYLOAD "SIP/2.0 200 OK\r\nCall-ID: frame-test\r\n\r\n"
#define TS 1480675281123456LL

static const uint8_t V4_SRC[4] = {10, 0, 0, 1}, V4_DST[4] = {10, 0, 0, 2};
static const uint8_t V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

#define ETH "020000000002 020000000001 "

/* One frame, described as the tests think about it. */
struct frame_case {
    const char *name;
    int dlt;
    const char *link;   /* hex: everything before the IP header */
    int ipver;          /* 4 or 6: the IP header to build */
    uint8_t proto;      /* IPv4 protocol or IPv6 next header */
    const char *ext6;   /* hex: IPv6 extension headers, chained by their own next fields */
    uint16_t frag4;     /* IPv4 flags and fragment offset */
    size_t pad;         /* link padding after the IP datagram */
    enum sc_ret rc;
    enum frame_reason why;
};

/* The bytes of a built frame and where its parts start. */
struct frame {
    uint8_t b[1024];
    size_t len;         /* whole frame */
    size_t payload_at;  /* UDP payload offset */
    size_t payload_len;
    size_t ip_end;      /* link padding starts here */
};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Append hex text (spaces ignored) to f. */
static void put_hex(struct frame *f, const char *hex)
{
    for (const char *s = hex; s != NULL && *s != '\0'; s++) {
        int hi = nibble(*s);
        if (hi < 0)
            continue;
        int lo = nibble(s[1]);
        CHECK(lo >= 0);
        f->b[f->len++] = (uint8_t)(hi << 4 | lo);
        s++;
    }
}

static void put_bytes(struct frame *f, const void *p, size_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += n;
}

static void build(const struct frame_case *c, struct frame *f)
{
    memset(f, 0, sizeof(*f));
    put_hex(f, c->link);
    size_t ip_at = f->len;
    size_t udp_len = 8 + strlen(PAYLOAD);
    if (c->ipver == 4) {
        uint8_t h[20] = {0x45};
        put16(h + 2, (unsigned)(20 + udp_len));
        put16(h + 6, c->frag4);
        h[8] = 64;
        h[9] = c->proto;
        memcpy(h + 12, V4_SRC, 4);
        memcpy(h + 16, V4_DST, 4);
        put_bytes(f, h, sizeof(h));
    } else {
        uint8_t h[40] = {0x60};
        h[6] = c->proto;
        h[7] = 64;
        memcpy(h + 8, V6_SRC, 16);
        memcpy(h + 24, V6_DST, 16);
        put_bytes(f, h, sizeof(h));
        put_hex(f, c->ext6);
        put16(f->b + ip_at + 4, (unsigned)(f->len - ip_at - 40 + udp_len));
    }
    uint8_t u[8];
    put16(u, 5060);
    put16(u + 2, 5080);
    put16(u + 4, (unsigned)udp_len);
    put16(u + 6, 0);
    put_bytes(f, u, sizeof(u));
    f->payload_at = f->len;
    f->payload_len = strlen(PAYLOAD);
    put_bytes(f, PAYLOAD, f->payload_len);
    f->ip_end = f->len;
    memset(f->b + f->len, 0xee, c->pad); /* padding that must not become payload */
    f->len += c->pad;
}

/* Decode the first caplen bytes of f from a heap copy of exactly that size.
 * out->payload is rebased onto f->b so callers can compare offsets. */
static enum sc_ret decode_at(int dlt, const struct frame *f, size_t caplen, struct packet *out,
                             enum frame_reason *why)
{
    uint8_t *data = malloc(caplen);
    if (caplen > 0)
        memcpy(data, f->b, caplen);
    *why = FRAME_REASONS_MAX;
    enum sc_ret rc = frame_decode(dlt, data, caplen, f->len, TS, out, why);
    if (rc == SC_OK) {
        CHECK(out->payload >= data && out->payload + out->len <= data + caplen);
        out->payload = (uint8_t *)f->b + (out->payload - data);
    }
    free(data);
    return rc;
}

static void check_decoded(const struct frame_case *c, const struct frame *f, const struct packet *p)
{
    CHECK_EQ_INT(p->ts_us, TS);
    CHECK_EQ_INT(p->af, c->ipver);
    CHECK_EQ_INT(p->l4proto, 17);
    CHECK_EQ_INT(p->sport, 5060);
    CHECK_EQ_INT(p->dport, 5080);
    if (c->ipver == 4) {
        static const uint8_t zero[12];
        CHECK(memcmp(p->src, V4_SRC, 4) == 0 && memcmp(p->src + 4, zero, 12) == 0);
        CHECK(memcmp(p->dst, V4_DST, 4) == 0 && memcmp(p->dst + 4, zero, 12) == 0);
    } else {
        CHECK(memcmp(p->src, V6_SRC, 16) == 0);
        CHECK(memcmp(p->dst, V6_DST, 16) == 0);
    }
    CHECK(p->payload == f->b + f->payload_at);
}

/* Every cut of a good frame: headers cut -> FRAME_TRUNCATED, payload cut ->
 * SC_OK with truncated set and what was captured, padding cut -> whole. */
static void sweep_caplen(const struct frame_case *c, const struct frame *f)
{
    for (size_t cap = 0; cap <= f->len; cap++) {
        struct packet p;
        enum frame_reason why;
        enum sc_ret rc = decode_at(c->dlt, f, cap, &p, &why);
        if (cap < f->payload_at) {
            CHECK_REPORT(rc == SC_ERROR && why == FRAME_TRUNCATED, "%s caplen %zu: rc %d why %d", c->name, cap,
                         rc, why);
            continue;
        }
        CHECK_REPORT(rc == SC_OK, "%s caplen %zu: rc %d why %d", c->name, cap, rc, why);
        if (rc != SC_OK)
            continue;
        size_t want = cap < f->ip_end ? cap - f->payload_at : f->payload_len;
        CHECK_REPORT(p.len == want && p.truncated == (cap < f->ip_end), "%s caplen %zu: len %zu truncated %d",
                     c->name, cap, p.len, p.truncated);
        check_decoded(c, f, &p);
    }
}

static const struct frame_case good_cases[] = {
    {"ethernet ipv4", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"ethernet ipv4 DF", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0x4000, 0, SC_OK, FRAME_OK},
    {"ethernet padding trimmed", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0, 18, SC_OK, FRAME_OK},
    {"ethernet ipv6", DLT_EN10MB, ETH "86dd", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"ipv6 destination options", DLT_EN10MB, ETH "86dd", 6, 60, "1100 0104 00000000", 0, 0, SC_OK, FRAME_OK},
    {"ipv6 hop-by-hop, routing, atomic fragment", DLT_EN10MB, ETH "86dd", 6, 0,
     "2b00 0104 00000000  2c00 0000 00000000  1100 0000 12345678", 0, 0, SC_OK, FRAME_OK},
    {"ipv6 long destination options", DLT_EN10MB, ETH "86dd", 6, 60,
     "1101 010c 0000000000000000 00000000", 0, 0, SC_OK, FRAME_OK},
    {"vlan 802.1Q", DLT_EN10MB, ETH "8100 0064 0800", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"qinq 802.1ad", DLT_EN10MB, ETH "88a8 00c8 8100 0064 0800", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"qinq 0x9100 ipv6", DLT_EN10MB, ETH "9100 0001 9100 0002 8100 0003 86dd", 6, 17, NULL, 0, 0, SC_OK,
     FRAME_OK},
    {"pppoe ipv4", DLT_EN10MB, ETH "8864 1100 1234 0046 0021", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"vlan pppoe ipv6", DLT_EN10MB, ETH "8100 000a 8864 1100 0001 005a 0057", 6, 17, NULL, 0, 0, SC_OK,
     FRAME_OK},
    {"pppoe compressed protocol", DLT_EN10MB, ETH "8864 1100 0001 0045 21", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"pppoe padded", DLT_EN10MB, ETH "8864 1100 0001 0046 0021", 4, 17, NULL, 0, 6, SC_OK, FRAME_OK},
    {"linux sll", DLT_LINUX_SLL, "0000 0001 0006 0200000000010000 0800", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"linux sll vlan", DLT_LINUX_SLL, "0004 0001 0006 0200000000010000 8100 0064 86dd", 6, 17, NULL, 0, 0,
     SC_OK, FRAME_OK},
    {"linux sll2", DLT_LINUX_SLL2, "86dd 0000 00000001 0001 00 06 0200000000010000", 6, 17, NULL, 0, 0, SC_OK,
     FRAME_OK},
    {"linux sll2 ipv4", DLT_LINUX_SLL2, "0800 0000 00000002 0001 04 06 0200000000010000", 4, 17, NULL, 0, 0,
     SC_OK, FRAME_OK},
    {"null little-endian inet", DLT_NULL, "02000000", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"null big-endian inet", DLT_NULL, "00000002", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"null inet6 24", DLT_NULL, "18000000", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"null inet6 28", DLT_NULL, "0000001c", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"null inet6 30", DLT_NULL, "1e000000", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"loop inet", DLT_LOOP, "00000002", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"raw ipv4 (DLT_RAW)", DLT_RAW, "", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"raw ipv6 (LINKTYPE_RAW 101)", 101, "", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"raw ipv4 (101)", 101, "", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"raw ipv4 (14)", 14, "", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"DLT_IPV4", DLT_IPV4, "", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"DLT_IPV6", DLT_IPV6, "", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"mpls two labels ipv4", DLT_EN10MB, ETH "8847 00064040 000c8140", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"mpls one label ipv6", DLT_EN10MB, ETH "8847 000c8140", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"vlan mpls multicast", DLT_EN10MB, ETH "8100 0064 8848 000c8140", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK},
    {"mpls pseudowire ethernet vlan", DLT_EN10MB, ETH "8847 00064040 000c8140 00000000" ETH "8100 0005 86dd", 6, 17,
     NULL, 0, 0, SC_OK, FRAME_OK},
    {"sll mpls", DLT_LINUX_SLL, "0000 0001 0006 0200000000010000 8847 000c8140", 4, 17, NULL, 0, 6, SC_OK,
     FRAME_OK},
};

static const struct frame_case bad_cases[] = {
    {"unsupported link (DLT_PPP)", DLT_PPP, "ff03 0021", 4, 17, NULL, 0, 0, SC_DECLINED, FRAME_UNSUPPORTED_LINK},
    {"unsupported link (802.11)", DLT_IEEE802_11, "", 4, 17, NULL, 0, 0, SC_DECLINED, FRAME_UNSUPPORTED_LINK},
    {"arp", DLT_EN10MB, ETH "0806", 4, 17, NULL, 0, 0, SC_DECLINED, FRAME_NOT_IP},
    {"802.3 llc/snap (not decoded)", DLT_EN10MB, ETH "0040 aaaa03 000000 0800", 4, 17, NULL, 0, 0, SC_DECLINED,
     FRAME_NOT_IP},
    {"vlan arp", DLT_EN10MB, ETH "8100 0064 0806", 4, 17, NULL, 0, 0, SC_DECLINED, FRAME_NOT_IP},
    {"pppoe discovery", DLT_EN10MB, ETH "8863 1109 0000 0000", 4, 17, NULL, 0, 0, SC_DECLINED, FRAME_NOT_IP},
    {"pppoe lcp", DLT_EN10MB, ETH "8864 1100 0001 0010 c021", 4, 17, NULL, 0, 0, SC_DECLINED, FRAME_NOT_IP},
    {"pppoe bad version", DLT_EN10MB, ETH "8864 2100 0001 0046 0021", 4, 17, NULL, 0, 0, SC_ERROR,
     FRAME_MALFORMED},
    {"sll arp", DLT_LINUX_SLL, "0000 0001 0006 0200000000010000 0806", 4, 17, NULL, 0, 0, SC_DECLINED,
     FRAME_NOT_IP},
    {"null unknown family", DLT_NULL, "07000000", 4, 17, NULL, 0, 0, SC_DECLINED, FRAME_NOT_IP},
    {"null linux inet6 value", DLT_NULL, "0a000000", 6, 17, NULL, 0, 0, SC_DECLINED, FRAME_NOT_IP},
    /* build() puts a UDP header after the IP header: read as TCP, its data
     * offset is the '2' of "SIP/2.0" >> 4 = 3 words, below the minimum. */
    {"ipv4 tcp, data offset 3", DLT_EN10MB, ETH "0800", 4, 6, NULL, 0, 0, SC_ERROR, FRAME_MALFORMED},
    {"ipv4 dccp", DLT_EN10MB, ETH "0800", 4, 33, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv4 ipip carrying a udp header", DLT_EN10MB, ETH "0800", 4, 4, NULL, 0, 0, SC_ERROR, FRAME_MALFORMED},
    {"ipv4 icmp", DLT_EN10MB, ETH "0800", 4, 1, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv4 first fragment", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0x2000, 0, SC_DECLINED, FRAME_IP_FRAGMENT},
    {"ipv4 last fragment", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0x00b9, 0, SC_DECLINED, FRAME_IP_FRAGMENT},
    {"ipv4 middle fragment DF", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0x6001, 0, SC_DECLINED, FRAME_IP_FRAGMENT},
    {"ipv6 tcp, data offset 3", DLT_EN10MB, ETH "86dd", 6, 6, NULL, 0, 0, SC_ERROR, FRAME_MALFORMED},
    {"ipv6 icmpv6", DLT_EN10MB, ETH "86dd", 6, 58, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv6 esp", DLT_EN10MB, ETH "86dd", 6, 50, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv6 no next header", DLT_EN10MB, ETH "86dd", 6, 59, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv6 options then no next header", DLT_EN10MB, ETH "86dd", 6, 60, "3b00 0104 00000000", 0, 0, SC_DECLINED,
     FRAME_NOT_UDP},
    {"ipv6 hop-by-hop then esp", DLT_EN10MB, ETH "86dd", 6, 0, "3200 0104 00000000", 0, 0, SC_DECLINED,
     FRAME_NOT_UDP},
    {"ipv6 gre, version field 4 (not ours)", DLT_EN10MB, ETH "86dd", 6, 47, NULL, 0, 0, SC_DECLINED, FRAME_NOT_IP},
    {"mpls associated channel", DLT_EN10MB, ETH "8847 000c8140 10000000", 4, 17, NULL, 0, 0, SC_DECLINED,
     FRAME_NOT_IP},
    {"mpls pseudowire carrying arp", DLT_EN10MB, ETH "8847 000c8140 00000000" ETH "0806", 4, 17, NULL, 0, 0,
     SC_DECLINED, FRAME_NOT_IP},
    {"ipv6 first fragment", DLT_EN10MB, ETH "86dd", 6, 44, "1100 0001 12345678", 0, 0, SC_DECLINED,
     FRAME_IP_FRAGMENT},
    {"ipv6 last fragment", DLT_EN10MB, ETH "86dd", 6, 44, "1100 05a8 12345678", 0, 0, SC_DECLINED,
     FRAME_IP_FRAGMENT},
    {"ipv6 fragment after options", DLT_EN10MB, ETH "86dd", 6, 60, "2c00 0104 00000000 1100 0009 12345678", 0, 0,
     SC_DECLINED, FRAME_IP_FRAGMENT},
    {"ethertype ipv4 carrying ipv6", DLT_EN10MB, ETH "0800", 6, 17, NULL, 0, 0, SC_ERROR, FRAME_MALFORMED},
    {"ethertype ipv6 carrying ipv4", DLT_EN10MB, ETH "86dd", 4, 17, NULL, 0, 0, SC_ERROR, FRAME_MALFORMED},
    {"null inet carrying ipv6", DLT_NULL, "02000000", 6, 17, NULL, 0, 0, SC_ERROR, FRAME_MALFORMED},
    {"DLT_IPV6 carrying ipv4", DLT_IPV6, "", 4, 17, NULL, 0, 0, SC_ERROR, FRAME_MALFORMED},
};

static void good_frames(void)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(good_cases); i++) {
        const struct frame_case *c = &good_cases[i];
        struct frame f;
        build(c, &f);
        struct packet p;
        enum frame_reason why;
        enum sc_ret rc = decode_at(c->dlt, &f, f.len, &p, &why);
        CHECK_REPORT(rc == SC_OK && why == FRAME_OK, "%s: rc %d why %d", c->name, rc, why);
        if (rc != SC_OK)
            continue;
        check_decoded(c, &f, &p);
        CHECK_REPORT(p.len == strlen(PAYLOAD) && memcmp(p.payload, PAYLOAD, p.len) == 0 && !p.truncated,
                     "%s: payload len %zu truncated %d", c->name, p.len, p.truncated);
    }
}

static void truncated_at_every_length(void)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(good_cases); i++) {
        struct frame f;
        build(&good_cases[i], &f);
        sweep_caplen(&good_cases[i], &f);
    }
}

static void declined_and_malformed(void)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(bad_cases); i++) {
        const struct frame_case *c = &bad_cases[i];
        struct frame f;
        build(c, &f);
        struct packet p;
        enum frame_reason why;
        enum sc_ret rc = decode_at(c->dlt, &f, f.len, &p, &why);
        CHECK_REPORT(rc == c->rc && why == c->why, "%s: rc %d why %s, want rc %d why %s", c->name, rc,
                     frame_reason_name(why), c->rc, frame_reason_name(c->why));
        /* A cut frame never does better than the whole one, never reads past
         * the cut, and says why. */
        for (size_t cap = 0; cap < f.len; cap++) {
            rc = decode_at(c->dlt, &f, cap, &p, &why);
            CHECK_REPORT(rc != SC_OK && why != FRAME_OK && why < FRAME_REASONS_MAX, "%s caplen %zu: rc %d",
                         c->name, cap, rc);
        }
    }
}

/* Build the plain Ethernet IPv4 frame for the edits below. */
static const struct frame_case eth4 = {"eth4", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK};
static const struct frame_case eth6 = {"eth6", DLT_EN10MB, ETH "86dd", 6, 17, NULL, 0, 0, SC_OK, FRAME_OK};
#define IP_AT 14
#define UDP4_AT (IP_AT + 20)
#define UDP6_AT (IP_AT + 40)

static void expect(const struct frame *f, enum sc_ret want_rc, enum frame_reason want_why)
{
    struct packet p;
    enum frame_reason why;
    enum sc_ret rc = decode_at(DLT_EN10MB, f, f->len, &p, &why);
    CHECK_EQ_INT(rc, want_rc);
    CHECK_EQ_STR(frame_reason_name(why), frame_reason_name(want_why));
}

static void udp_length_below_header_is_malformed(void)
{
    struct frame f;
    for (unsigned ulen = 0; ulen < 8; ulen++) {
        build(&eth4, &f);
        put16(f.b + UDP4_AT + 4, ulen);
        expect(&f, SC_ERROR, FRAME_MALFORMED);
        build(&eth6, &f);
        put16(f.b + UDP6_AT + 4, ulen);
        expect(&f, SC_ERROR, FRAME_MALFORMED);
    }
}

static void udp_length_past_ip_datagram_is_malformed(void)
{
    struct frame f;
    build(&eth4, &f);
    put16(f.b + UDP4_AT + 4, (unsigned)(8 + f.payload_len + 1));
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&eth6, &f);
    put16(f.b + UDP6_AT + 4, 0xffff);
    expect(&f, SC_ERROR, FRAME_MALFORMED);
}

static void udp_length_bounds_payload(void)
{
    struct frame f;
    build(&eth4, &f);
    put16(f.b + UDP4_AT + 4, 8 + 7); /* the IP datagram holds more than the UDP one */
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.len, 7);
    CHECK_EQ_INT(p.truncated, 0);
    build(&eth4, &f);
    put16(f.b + UDP4_AT + 4, 8); /* an empty datagram is a datagram */
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.len, 0);
}

static void ipv4_impossible_headers(void)
{
    struct frame f;
    build(&eth4, &f);
    f.b[IP_AT] = 0x44; /* IHL 4 */
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&eth4, &f);
    f.b[IP_AT] = 0x55; /* version 5 */
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&eth4, &f);
    put16(f.b + IP_AT + 2, 19); /* total length below the header */
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&eth4, &f);
    put16(f.b + IP_AT + 2, 20 + 4); /* room for half a UDP header */
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&eth4, &f);
    f.b[IP_AT] = 0x4f; /* 60-byte header inside a 20 + 8 + payload datagram: options eat UDP */
    put16(f.b + IP_AT + 2, 40);
    expect(&f, SC_ERROR, FRAME_MALFORMED);
}

static void ipv4_options_skipped(void)
{
    /* Rebuild with a 24-byte header: router alert option 94 04 00 00. */
    struct frame f;
    build(&eth4, &f);
    memmove(f.b + UDP4_AT + 4, f.b + UDP4_AT, f.len - UDP4_AT);
    static const uint8_t ra[4] = {0x94, 0x04, 0, 0};
    memcpy(f.b + UDP4_AT, ra, 4);
    f.b[IP_AT] = 0x46;
    put16(f.b + IP_AT + 2, (unsigned)(24 + 8 + f.payload_len));
    f.len += 4;
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.sport, 5060);
    CHECK_EQ_INT(p.len, f.payload_len);
    CHECK(memcmp(p.payload, PAYLOAD, p.len) == 0);
    /* options cut by the snap length */
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, UDP4_AT + 2, &p, &why), SC_ERROR);
    CHECK_EQ_INT(why, FRAME_TRUNCATED);
}

static void ipv6_impossible_headers(void)
{
    struct frame f;
    build(&eth6, &f);
    f.b[IP_AT] = 0x40; /* version 4 under an IPv6 EtherType */
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&eth6, &f);
    put16(f.b + IP_AT + 4, 4); /* payload length below the UDP header */
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    /* payload length ends inside an extension header */
    const struct frame_case opts = {"opts", DLT_EN10MB, ETH "86dd", 6, 60, "1100 0104 00000000", 0, 0, SC_OK,
                                    FRAME_OK};
    build(&opts, &f);
    put16(f.b + IP_AT + 4, 6);
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&opts, &f);
    put16(f.b + IP_AT + 4, 1);
    expect(&f, SC_ERROR, FRAME_MALFORMED);
    build(&opts, &f);
    f.b[UDP6_AT + 1] = 200; /* hdr ext len past the datagram */
    expect(&f, SC_ERROR, FRAME_MALFORMED);
}

static void raw_bad_version(void)
{
    static const int dlts[] = {DLT_RAW, 101, 14, DLT_IPV4};
    for (size_t i = 0; i < SC_ARRAY_LEN(dlts); i++) {
        struct frame_case c = {"raw", dlts[i], "", 4, 17, NULL, 0, 0, SC_OK, FRAME_OK};
        struct frame f;
        build(&c, &f);
        f.b[0] = 0x55;
        struct packet p;
        enum frame_reason why;
        CHECK_EQ_INT(decode_at(dlts[i], &f, f.len, &p, &why), SC_ERROR);
        CHECK_EQ_INT(why, FRAME_MALFORMED);
    }
}

static void snaplen_cut_payload_sets_truncated(void)
{
    struct frame f;
    build(&eth4, &f);
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, f.len - 5, &p, &why), SC_OK);
    CHECK_EQ_INT(p.truncated, 1);
    CHECK_EQ_INT(p.len, f.payload_len - 5);
    CHECK(memcmp(p.payload, PAYLOAD, p.len) == 0);
    /* exactly the headers: an empty, truncated payload */
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, f.payload_at, &p, &why), SC_OK);
    CHECK_EQ_INT(p.truncated, 1);
    CHECK_EQ_INT(p.len, 0);
}

static void payload_points_into_writable_data(void)
{
    struct frame f;
    build(&eth4, &f);
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(frame_decode(DLT_EN10MB, f.b, f.len, f.len, 7, &p, &why), SC_OK);
    CHECK(p.payload == f.b + f.payload_at);
    p.payload[0] = 'X'; /* the privacy cut wipes in place */
    CHECK_EQ_INT(f.b[f.payload_at], 'X');
    CHECK_EQ_INT(p.ts_us, 7);
}

static void reason_names(void)
{
    CHECK_EQ_STR(frame_reason_name(FRAME_OK), "ok");
    CHECK_EQ_STR(frame_reason_name(FRAME_UNSUPPORTED_LINK), "unsupported_link");
    CHECK_EQ_STR(frame_reason_name(FRAME_NOT_IP), "not_ip");
    CHECK_EQ_STR(frame_reason_name(FRAME_NOT_UDP), "not_udp");
    CHECK_EQ_STR(frame_reason_name(FRAME_IP_FRAGMENT), "ip_fragment");
    CHECK_EQ_STR(frame_reason_name(FRAME_TRUNCATED), "truncated");
    CHECK_EQ_STR(frame_reason_name(FRAME_MALFORMED), "malformed");
    CHECK_EQ_STR(frame_reason_name(FRAME_REASONS_MAX), "unknown");
    CHECK_EQ_STR(frame_reason_name((enum frame_reason)-1), "unknown");
}

static void addr_strings(void)
{
    struct frame f;
    struct packet p;
    enum frame_reason why;
    char buf[48];
    build(&eth4, &f);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, f.len, &p, &why), SC_OK);
    CHECK_EQ_STR(packet_addr_str(&p, 1, buf, sizeof(buf)), "10.0.0.1");
    CHECK_EQ_STR(packet_addr_str(&p, 0, buf, sizeof(buf)), "10.0.0.2");
    char tiny[4];
    CHECK_EQ_STR(packet_addr_str(&p, 1, tiny, sizeof(tiny)), "");
    build(&eth6, &f);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &f, f.len, &p, &why), SC_OK);
    CHECK_EQ_STR(packet_addr_str(&p, 1, buf, sizeof(buf)), "2001:db8::1");
    CHECK_EQ_STR(packet_addr_str(&p, 0, buf, sizeof(buf)), "2001:db8::2");
    struct packet empty = {0};
    CHECK_EQ_STR(packet_addr_str(&empty, 1, buf, sizeof(buf)), "");
}

/* ---- Tunnels, MPLS pseudowires, TCP, fragments ----
 *
 * Frames are built outside in: each IP or UDP header records where its
 * length field is, and tb_finish() fills them once the payload is placed,
 * since every layer here runs to the end of the frame. */

static const uint8_t OUT4_SRC[4] = {192, 0, 2, 1}, OUT4_DST[4] = {192, 0, 2, 2};
static const uint8_t OUT6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xff, [15] = 1};
static const uint8_t OUT6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xff, [15] = 2};

enum fix_kind { FIX_IP4, FIX_IP6, FIX_UDP };

struct tb {
    struct frame f;
    struct {
        size_t at;
        enum fix_kind kind;
    } fix[24];
    int nfix;
};

static void tb_init(struct tb *t, const char *link)
{
    memset(t, 0, sizeof(*t));
    put_hex(&t->f, link);
}

static void tb_hex(struct tb *t, const char *hex) { put_hex(&t->f, hex); }

static void tb_ip4(struct tb *t, uint8_t proto, const uint8_t *src, const uint8_t *dst)
{
    uint8_t h[20] = {0x45};
    h[8] = 64;
    h[9] = proto;
    memcpy(h + 12, src, 4);
    memcpy(h + 16, dst, 4);
    t->fix[t->nfix].at = t->f.len;
    t->fix[t->nfix++].kind = FIX_IP4;
    put_bytes(&t->f, h, sizeof(h));
}

/* ext: extension headers, chained by their own next header fields. */
static void tb_ip6(struct tb *t, uint8_t next, const uint8_t *src, const uint8_t *dst, const char *ext)
{
    uint8_t h[40] = {0x60};
    h[6] = next;
    h[7] = 64;
    memcpy(h + 8, src, 16);
    memcpy(h + 24, dst, 16);
    t->fix[t->nfix].at = t->f.len;
    t->fix[t->nfix++].kind = FIX_IP6;
    put_bytes(&t->f, h, sizeof(h));
    put_hex(&t->f, ext);
}

static void tb_udp(struct tb *t, unsigned sport, unsigned dport)
{
    uint8_t u[8] = {0};
    put16(u, sport);
    put16(u + 2, dport);
    t->fix[t->nfix].at = t->f.len;
    t->fix[t->nfix++].kind = FIX_UDP;
    put_bytes(&t->f, u, sizeof(u));
}

/* The innermost packet every tunnel case carries: 5060 -> 5080 and PAYLOAD. */
static void tb_inner(struct tb *t, int ipver)
{
    if (ipver == 4)
        tb_ip4(t, 17, V4_SRC, V4_DST);
    else
        tb_ip6(t, 17, V6_SRC, V6_DST, NULL);
    tb_udp(t, 5060, 5080);
}

static void tb_finish(struct tb *t)
{
    t->f.payload_at = t->f.len;
    t->f.payload_len = strlen(PAYLOAD);
    put_bytes(&t->f, PAYLOAD, t->f.payload_len);
    t->f.ip_end = t->f.len;
    for (int i = 0; i < t->nfix; i++) {
        size_t at = t->fix[i].at, n = t->f.len - at;
        if (t->fix[i].kind == FIX_IP4)
            put16(t->f.b + at + 2, (unsigned)n);
        else if (t->fix[i].kind == FIX_IP6)
            put16(t->f.b + at + 4, (unsigned)(n - 40));
        else
            put16(t->f.b + at + 4, (unsigned)n);
    }
}

struct tunnel_case {
    const char *name;
    void (*build)(struct tb *t);
    int ipver; /* of the inner packet */
    int depth;
};

static void b_4in4(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 4, OUT4_SRC, OUT4_DST);
    tb_inner(t, 4);
}
static void b_6in4(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 41, OUT4_SRC, OUT4_DST);
    tb_inner(t, 6);
}
static void b_4in6(struct tb *t)
{
    tb_init(t, ETH "86dd");
    tb_ip6(t, 4, OUT6_SRC, OUT6_DST, NULL);
    tb_inner(t, 4);
}
static void b_6in6_opts(struct tb *t)
{
    tb_init(t, ETH "86dd");
    tb_ip6(t, 60, OUT6_SRC, OUT6_DST, "2900 0104 00000000"); /* destination options, then IPv6 */
    tb_inner(t, 6);
}
static void b_gre_ip4(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "0000 0800");
    tb_inner(t, 4);
}
static void b_gre_key_seq(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "3000 86dd 0000002a 00000007"); /* K and S: key 42, sequence 7 */
    tb_inner(t, 6);
}
static void b_gre_csum_key_seq(struct tb *t)
{
    tb_init(t, ETH "86dd");
    tb_ip6(t, 47, OUT6_SRC, OUT6_DST, NULL);
    tb_hex(t, "b000 0800 abcd0000 0000002a 00000007"); /* C, K, S */
    tb_inner(t, 4);
}
static void b_gre_teb(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "2000 6558 00000000" ETH "8100 0064 0800"); /* as heplify's mirror sends it */
    tb_inner(t, 4);
}
static void b_erspan1(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "0000 88be" ETH "0800");
    tb_inner(t, 4);
}
static void b_erspan2(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "1000 88be 00000001  1064 0801 00000005" ETH "0800"); /* ver 1, vlan 100, session 1 */
    tb_inner(t, 4);
}
static void b_erspan3(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "1000 22eb 00000001  2064 0001 12345678 0000 0000" ETH "86dd"); /* ver 2, FT 0, O 0 */
    tb_inner(t, 6);
}
static void b_erspan3_platform(struct tb *t)
{
    tb_init(t, ETH "86dd");
    tb_ip6(t, 47, OUT6_SRC, OUT6_DST, NULL);
    tb_hex(t, "1000 22eb 00000001  2064 0001 12345678 0000 0001  04000123 9abcdef0" ETH "0800");
    tb_inner(t, 4);
}
static void b_erspan3_ip(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "1000 22eb 00000001  2064 0001 12345678 0000 0800"); /* FT 2: an IP packet, no Ethernet */
    tb_inner(t, 6);
}
static void b_vxlan(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 17, OUT4_SRC, OUT4_DST);
    tb_udp(t, 49152, 4789);
    tb_hex(t, "08000000 00138800" ETH "0800"); /* I flag, VNI 5000 */
    tb_inner(t, 4);
}
static void b_vxlan_v6_vlan(struct tb *t)
{
    tb_init(t, ETH "86dd");
    tb_ip6(t, 17, OUT6_SRC, OUT6_DST, NULL);
    tb_udp(t, 49152, 4789);
    tb_hex(t, "08000000 00138800" ETH "8100 0064 86dd");
    tb_inner(t, 6);
}
static void b_tzsp(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 17, OUT4_SRC, OUT4_DST);
    tb_udp(t, 40000, 37008);
    tb_hex(t, "01 00 0001  00 0a 02 abcd 00 28 00 01" ETH "0800"); /* pad, tag 10, pad, empty tag 40, END */
    tb_inner(t, 4);
}
static void b_tzsp_plain(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 17, OUT4_SRC, OUT4_DST);
    tb_udp(t, 40000, 37008);
    tb_hex(t, "01 01 0001 01" ETH "86dd"); /* transmitted packet, END at once */
    tb_inner(t, 6);
}
static void b_mpls_gre_vxlan(struct tb *t)
{
    tb_init(t, ETH "8847 00064040 000c8140");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "2000 0800 00000001");
    tb_ip4(t, 17, OUT4_DST, OUT4_SRC);
    tb_udp(t, 1234, 4789);
    tb_hex(t, "08000000 00000100" ETH "86dd");
    tb_inner(t, 6);
}
static void b_mpls_pw_ipip(struct tb *t)
{
    tb_init(t, ETH "8847 000c8140 00000000" ETH "0800");
    tb_ip4(t, 4, OUT4_SRC, OUT4_DST);
    tb_inner(t, 4);
}
static void b_tcp_in_gre(struct tb *t); /* in the TCP tests below */

static const struct tunnel_case tunnel_cases[] = {
    {"ip-in-ip 4in4", b_4in4, 4, 1},
    {"ip-in-ip 6in4", b_6in4, 6, 1},
    {"ip-in-ip 4in6", b_4in6, 4, 1},
    {"ip-in-ip 6in6 after options", b_6in6_opts, 6, 1},
    {"gre ipv4", b_gre_ip4, 4, 1},
    {"gre key and sequence, ipv6", b_gre_key_seq, 6, 1},
    {"gre over ipv6, checksum, key and sequence", b_gre_csum_key_seq, 4, 1},
    {"gre transparent ethernet bridging, vlan", b_gre_teb, 4, 1},
    {"erspan type I", b_erspan1, 4, 1},
    {"erspan type II", b_erspan2, 4, 1},
    {"erspan type III", b_erspan3, 6, 1},
    {"erspan type III with platform sub-header", b_erspan3_platform, 4, 1},
    {"erspan type III carrying ip", b_erspan3_ip, 6, 1},
    {"vxlan", b_vxlan, 4, 1},
    {"vxlan over ipv6, inner vlan", b_vxlan_v6_vlan, 6, 1},
    {"tzsp with tags", b_tzsp, 4, 1},
    {"tzsp transmitted, no tags", b_tzsp_plain, 6, 1},
    {"mpls, gre, vxlan", b_mpls_gre_vxlan, 6, 2},
    {"mpls pseudowire, ip-in-ip", b_mpls_pw_ipip, 4, 2},
};

static void check_inner(const char *name, int ipver, int depth, const struct frame *f, const struct packet *p)
{
    CHECK_REPORT(p->af == ipver && p->l4proto == 17 && p->sport == 5060 && p->dport == 5080 &&
                     p->tunnel_depth == depth && p->ts_us == TS,
                 "%s: af %d l4 %d ports %d %d depth %d", name, p->af, p->l4proto, p->sport, p->dport,
                 p->tunnel_depth);
    static const uint8_t zero[12];
    if (ipver == 4)
        CHECK_REPORT(memcmp(p->src, V4_SRC, 4) == 0 && memcmp(p->dst, V4_DST, 4) == 0 &&
                         memcmp(p->src + 4, zero, 12) == 0 && memcmp(p->dst + 4, zero, 12) == 0,
                     "%s: inner v4 addresses", name);
    else
        CHECK_REPORT(memcmp(p->src, V6_SRC, 16) == 0 && memcmp(p->dst, V6_DST, 16) == 0, "%s: inner v6 addresses",
                     name);
    CHECK_REPORT(p->payload == f->b + f->payload_at, "%s: payload at %td, want %zu", name, p->payload - f->b,
                 f->payload_at);
}

static void tunnels_unwrapped(void)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(tunnel_cases); i++) {
        const struct tunnel_case *c = &tunnel_cases[i];
        struct tb t;
        c->build(&t);
        tb_finish(&t);
        struct packet p;
        enum frame_reason why;
        enum sc_ret rc = decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why);
        CHECK_REPORT(rc == SC_OK && why == FRAME_OK, "%s: rc %d why %s", c->name, rc, frame_reason_name(why));
        if (rc != SC_OK)
            continue;
        check_inner(c->name, c->ipver, c->depth, &t.f, &p);
        CHECK_REPORT(p.len == strlen(PAYLOAD) && !p.truncated && memcmp(p.payload, PAYLOAD, p.len) == 0,
                     "%s: len %zu truncated %d", c->name, p.len, p.truncated);
    }
}

/* Every cut: inside any header (outer, tunnel, inner) -> FRAME_TRUNCATED;
 * inside the payload -> the inner packet, truncated. */
static void tunnels_cut_at_every_length(void)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(tunnel_cases); i++) {
        const struct tunnel_case *c = &tunnel_cases[i];
        struct tb t;
        c->build(&t);
        tb_finish(&t);
        for (size_t cap = 0; cap <= t.f.len; cap++) {
            struct packet p;
            enum frame_reason why;
            enum sc_ret rc = decode_at(DLT_EN10MB, &t.f, cap, &p, &why);
            if (cap < t.f.payload_at) {
                CHECK_REPORT(rc == SC_ERROR && why == FRAME_TRUNCATED, "%s caplen %zu: rc %d why %s", c->name,
                             cap, rc, frame_reason_name(why));
                continue;
            }
            CHECK_REPORT(rc == SC_OK, "%s caplen %zu: rc %d why %s", c->name, cap, rc, frame_reason_name(why));
            if (rc != SC_OK)
                continue;
            check_inner(c->name, c->ipver, c->depth, &t.f, &p);
            CHECK_REPORT(p.len == cap - t.f.payload_at && p.truncated == (cap < t.f.len),
                         "%s caplen %zu: len %zu truncated %d", c->name, cap, p.len, p.truncated);
        }
    }
}

/* A mirrored frame with its FCS inside the tunnel: the inner IP length ends
 * the payload, the 4 bytes after it are not SIP. */
static void tunnel_trailer_trimmed(void)
{
    struct tb t;
    b_erspan2(&t);
    tb_finish(&t);
    put_hex(&t.f, "deadbeef");
    put16(t.f.b + IP_AT + 2, (unsigned)(t.f.len - IP_AT));
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.len, strlen(PAYLOAD));
    CHECK_EQ_INT(p.truncated, 0);
}

/* The mirror cut the inner packet (ERSPAN's T bit): the inner IP length
 * says more than the tunnel carries. That is a truncation, not an error. */
static void tunnel_cut_by_the_mirror_is_truncated(void)
{
    struct tb t;
    b_gre_teb(&t);
    tb_finish(&t);
    size_t cut = 10;
    put16(t.f.b + IP_AT + 2, (unsigned)(t.f.len - cut - IP_AT));
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.len, strlen(PAYLOAD) - cut);
    CHECK_EQ_INT(p.truncated, 1);
}

/* Nest IP-in-IP n times around the inner packet. */
static void build_nested(struct tb *t, int n, int last_gre)
{
    tb_init(t, ETH "0800");
    for (int i = 0; i < n; i++)
        tb_ip4(t, 4, OUT4_SRC, OUT4_DST);
    if (last_gre) {
        tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
        tb_hex(t, "0000 0800");
    }
    tb_inner(t, 4);
    tb_finish(t);
}

static void tunnel_depth_limit(void)
{
    struct tb t;
    struct packet p;
    enum frame_reason why;
    build_nested(&t, FRAME_MAX_TUNNEL_DEPTH, 0);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.tunnel_depth, FRAME_MAX_TUNNEL_DEPTH);
    CHECK(memcmp(p.payload, PAYLOAD, p.len) == 0);
    build_nested(&t, FRAME_MAX_TUNNEL_DEPTH + 1, 0);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_ERROR);
    CHECK_EQ_STR(frame_reason_name(why), "malformed");
    build_nested(&t, FRAME_MAX_TUNNEL_DEPTH - 1, 1); /* GRE is the eighth layer */
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.tunnel_depth, FRAME_MAX_TUNNEL_DEPTH);
    build_nested(&t, FRAME_MAX_TUNNEL_DEPTH, 1); /* ... the ninth */
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_ERROR);
    CHECK_EQ_STR(frame_reason_name(why), "malformed");
    /* A VXLAN as the ninth layer is too deep as well, not plain UDP. */
    tb_init(&t, ETH "0800");
    for (int i = 0; i < FRAME_MAX_TUNNEL_DEPTH; i++)
        tb_ip4(&t, 4, OUT4_SRC, OUT4_DST);
    tb_ip4(&t, 17, OUT4_SRC, OUT4_DST);
    tb_udp(&t, 1, 4789);
    tb_hex(&t, "08000000 00000100" ETH "0800");
    tb_inner(&t, 4);
    tb_finish(&t);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_ERROR);
    CHECK_EQ_STR(frame_reason_name(why), "malformed");
}

struct gre_bad {
    const char *name;
    const char *gre; /* GRE header and what follows, before the inner IPv4 packet */
    enum sc_ret rc;
    enum frame_reason why;
};

static void gre_declines_and_errors(void)
{
    static const struct gre_bad cases[] = {
        {"gre version 1 (pptp)", "3081 880b 00100000 00000001", SC_DECLINED, FRAME_NOT_IP},
        {"gre routing bit (RFC 1701)", "4000 0800 00000000", SC_ERROR, FRAME_MALFORMED},
        {"gre recursion control", "0100 0800", SC_ERROR, FRAME_MALFORMED},
        {"gre flag bits", "0008 0800", SC_ERROR, FRAME_MALFORMED},
        {"gre carrying ppp", "0000 880b", SC_DECLINED, FRAME_NOT_IP},
        {"gre carrying mpls", "0000 8847 000c8140", SC_DECLINED, FRAME_NOT_IP},
        {"gre teb carrying arp", "0000 6558" ETH "0806", SC_DECLINED, FRAME_NOT_IP},
        {"erspan II version 2", "1000 88be 00000001 2064 0801 00000005" ETH "0800", SC_ERROR, FRAME_MALFORMED},
        {"erspan III version 1", "1000 22eb 00000001 1064 0001 12345678 0000 0000" ETH "0800", SC_ERROR,
         FRAME_MALFORMED},
        {"erspan III frame type 1", "1000 22eb 00000001 2064 0001 12345678 0000 0400", SC_DECLINED, FRAME_NOT_IP},
        {"gre ipv6 carrying ipv4", "0000 86dd", SC_ERROR, FRAME_MALFORMED},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        struct tb t;
        tb_init(&t, ETH "0800");
        tb_ip4(&t, 47, OUT4_SRC, OUT4_DST);
        tb_hex(&t, cases[i].gre);
        tb_inner(&t, 4);
        tb_finish(&t);
        struct packet p;
        enum frame_reason why;
        enum sc_ret rc = decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why);
        CHECK_REPORT(rc == cases[i].rc && why == cases[i].why, "%s: rc %d why %s", cases[i].name, rc,
                     frame_reason_name(why));
        for (size_t cap = 0; cap < t.f.len; cap++) {
            rc = decode_at(DLT_EN10MB, &t.f, cap, &p, &why);
            CHECK_REPORT(rc != SC_OK && why != FRAME_OK, "%s caplen %zu: rc %d", cases[i].name, cap, rc);
        }
    }
}

/* A datagram to a tunnel port that is not the tunnel is plain UDP. */
struct not_tunnel {
    const char *name;
    unsigned dport;
    const char *body; /* hex; NULL: the SIP payload itself */
    int ipver;        /* inner packet after body, 0 for none */
};

static void udp_tunnel_ports_fall_back_to_plain_udp(void)
{
    static const struct not_tunnel cases[] = {
        {"sip to the vxlan port", 4789, NULL, 0},
        {"sip to the tzsp port", 37008, NULL, 0},
        /* 'I' (0x49) has VXLAN's I flag: the Ethernet type, 20 bytes in, decides */
        /* "INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n" */
        {"sip INVITE to the vxlan port", 4789,
         "494e56495445207369703a626f62406578616d706c652e636f6d20"
         "5349502f322e300d0a5669613a20780d0a",
         0},
        {"vxlan without the I flag", 4789, "00000000 00000100" ETH "0800", 4},
        {"vxlan carrying arp", 4789, "08000000 00000100" ETH "0806", 4},
        {"vxlan ethertype ipv6 over ipv4", 4789, "08000000 00000100" ETH "86dd", 4},
        {"tzsp version 2", 37008, "02 00 0001 01" ETH "0800", 4},
        {"tzsp keepalive", 37008, "01 04 0001 01" ETH "0800", 4},
        {"tzsp carrying 802.11", 37008, "01 00 0012 01" ETH "0800", 4},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        const struct not_tunnel *c = &cases[i];
        struct tb t;
        tb_init(&t, ETH "0800");
        tb_ip4(&t, 17, OUT4_SRC, OUT4_DST);
        tb_udp(&t, 5060, c->dport);
        size_t udp_payload_at = t.f.len;
        tb_hex(&t, c->body);
        if (c->ipver != 0)
            tb_inner(&t, c->ipver);
        tb_finish(&t);
        struct packet p;
        enum frame_reason why;
        enum sc_ret rc = decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why);
        CHECK_REPORT(rc == SC_OK && p.dport == c->dport && p.tunnel_depth == 0 &&
                         p.payload == t.f.b + udp_payload_at && p.len == t.f.len - udp_payload_at &&
                         memcmp(p.src, OUT4_SRC, 4) == 0,
                     "%s: rc %d dport %d depth %d len %zu", c->name, rc, p.dport, p.tunnel_depth, p.len);
    }
    /* A VXLAN header that runs past the UDP length: not a tunnel. */
    struct tb t;
    tb_init(&t, ETH "0800");
    tb_ip4(&t, 17, OUT4_SRC, OUT4_DST);
    tb_udp(&t, 5060, 4789);
    tb_hex(&t, "08000000 00000100" ETH "0800");
    tb_inner(&t, 4);
    tb_finish(&t);
    put16(t.f.b + IP_AT + 20 + 4, 8 + 5);
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.len, 5);
    CHECK_EQ_INT(p.tunnel_depth, 0);
    /* A TZSP tag list that runs past the UDP length: not a tunnel either. */
    tb_init(&t, ETH "0800");
    tb_ip4(&t, 17, OUT4_SRC, OUT4_DST);
    tb_udp(&t, 5060, 37008);
    tb_hex(&t, "01 00 0001 0a ff");
    tb_finish(&t);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.tunnel_depth, 0);
    CHECK_EQ_INT(p.len, 6 + strlen(PAYLOAD));
}

/* ---- TCP ---- */

#define TCP_SEQ 0x01020304u
#define TCP_ACK 0xa0b0c0d0u

static void tb_tcp(struct tb *t, const char *options, uint8_t flags)
{
    uint8_t h[20] = {0};
    put16(h, 5060);
    put16(h + 2, 5080);
    put16(h + 4, TCP_SEQ >> 16);
    put16(h + 6, TCP_SEQ & 0xffff);
    put16(h + 8, TCP_ACK >> 16);
    put16(h + 10, TCP_ACK & 0xffff);
    size_t at = t->f.len;
    put_bytes(&t->f, h, sizeof(h));
    put_hex(&t->f, options);
    t->f.b[at + 12] = (uint8_t)(((t->f.len - at) / 4) << 4);
    t->f.b[at + 13] = flags;
    put16(t->f.b + at + 14, 65535);
}

static void b_tcp_in_gre(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(t, "0000 86dd");
    tb_ip6(t, 6, V6_SRC, V6_DST, NULL);
    tb_tcp(t, NULL, 0x18);
}

struct tcp_case {
    const char *name;
    void (*build)(struct tb *t);
    int ipver;
    int depth;
    uint8_t flags;
};

static void b_tcp4_options(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 6, V4_SRC, V4_DST);
    tb_tcp(t, "0101080a 00000001 00000002", 0x18); /* NOP NOP timestamps: data offset 8 */
}
static void b_tcp6_hbh(struct tb *t)
{
    tb_init(t, ETH "86dd");
    tb_ip6(t, 0, V6_SRC, V6_DST, "0600 0104 00000000");
    tb_tcp(t, NULL, 0x11);
}
static void b_tcp_4in4(struct tb *t)
{
    tb_init(t, ETH "0800");
    tb_ip4(t, 4, OUT4_SRC, OUT4_DST);
    tb_ip4(t, 6, V4_SRC, V4_DST);
    tb_tcp(t, "020405b4", 0x10); /* MSS option */
}

static const struct tcp_case tcp_cases[] = {
    {"tcp over ipv4 with options", b_tcp4_options, 4, 0, 0x18},
    {"tcp over ipv6 after hop-by-hop", b_tcp6_hbh, 6, 0, 0x11},
    {"tcp in ip-in-ip", b_tcp_4in4, 4, 1, 0x10},
    {"tcp over ipv6 in gre", b_tcp_in_gre, 6, 1, 0x18},
};

static void tcp_segment_fields(void)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(tcp_cases); i++) {
        const struct tcp_case *c = &tcp_cases[i];
        struct tb t;
        c->build(&t);
        tb_finish(&t);
        for (size_t cap = 0; cap <= t.f.len; cap++) {
            struct packet p;
            enum frame_reason why;
            enum sc_ret rc = decode_at(DLT_EN10MB, &t.f, cap, &p, &why);
            if (cap < t.f.payload_at) {
                CHECK_REPORT(rc == SC_ERROR && why == FRAME_TRUNCATED, "%s caplen %zu: rc %d why %s", c->name,
                             cap, rc, frame_reason_name(why));
                continue;
            }
            CHECK_REPORT(rc == SC_OK && why == FRAME_OK, "%s caplen %zu: rc %d", c->name, cap, rc);
            if (rc != SC_OK)
                continue;
            CHECK_REPORT(p.l4proto == 6 && p.af == c->ipver && p.sport == 5060 && p.dport == 5080 &&
                             p.tcp_seq == TCP_SEQ && p.tcp_ack == TCP_ACK && p.tcp_flags == c->flags &&
                             p.tunnel_depth == c->depth,
                         "%s caplen %zu: l4 %d af %d seq %x ack %x flags %x depth %d", c->name, cap, p.l4proto,
                         p.af, p.tcp_seq, p.tcp_ack, p.tcp_flags, p.tunnel_depth);
            CHECK_REPORT(p.payload == t.f.b + t.f.payload_at && p.len == cap - t.f.payload_at &&
                             p.truncated == (cap < t.f.len),
                         "%s caplen %zu: len %zu truncated %d", c->name, cap, p.len, p.truncated);
        }
    }
}

static void tcp_bounds(void)
{
    struct tb t;
    struct packet p;
    enum frame_reason why;
    size_t tcp_at = IP_AT + 20;
    /* data offset 4: below the fixed header */
    b_tcp4_options(&t);
    tb_finish(&t);
    t.f.b[tcp_at + 12] = 0x40;
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_ERROR);
    CHECK_EQ_INT(why, FRAME_MALFORMED);
    /* options past the IP datagram */
    b_tcp4_options(&t);
    tb_finish(&t);
    put16(t.f.b + IP_AT + 2, 20 + 24);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_ERROR);
    CHECK_EQ_INT(why, FRAME_MALFORMED);
    /* the IP length ends the payload; Ethernet padding is not data */
    b_tcp4_options(&t);
    tb_finish(&t);
    put_hex(&t.f, "000000000000");
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.len, strlen(PAYLOAD));
    CHECK_EQ_INT(p.truncated, 0);
    /* a bare ACK: no payload */
    tb_init(&t, ETH "0800");
    tb_ip4(&t, 6, V4_SRC, V4_DST);
    tb_tcp(&t, NULL, 0x10);
    for (int i = 0; i < t.nfix; i++)
        put16(t.f.b + t.fix[i].at + 2, (unsigned)(t.f.len - t.fix[i].at));
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_OK);
    CHECK_EQ_INT(p.len, 0);
    CHECK_EQ_INT(p.l4proto, 6);
}

/* ---- Fragments ---- */

static enum sc_ret decode_frag(const struct frame *f, struct packet *p, enum frame_reason *why,
                               struct frame_fragment *frag, uint8_t **copy)
{
    *copy = malloc(f->len);
    memcpy(*copy, f->b, f->len);
    return frame_decode_ex(DLT_EN10MB, *copy, f->len, f->len, TS, p, why, frag);
}

static void fragment_described(void)
{
    struct packet p;
    enum frame_reason why;
    struct frame_fragment fr;
    uint8_t *copy;
    /* IPv4 first fragment: MF, id 0x1234 */
    struct tb t;
    tb_init(&t, ETH "0800");
    tb_ip4(&t, 17, V4_SRC, V4_DST);
    tb_udp(&t, 5060, 5080);
    tb_finish(&t);
    put16(t.f.b + IP_AT + 4, 0x1234);
    put16(t.f.b + IP_AT + 6, 0x2000);
    CHECK_EQ_INT(decode_frag(&t.f, &p, &why, &fr, &copy), SC_DECLINED);
    CHECK_EQ_INT(why, FRAME_IP_FRAGMENT);
    CHECK_EQ_INT(fr.af, 4);
    CHECK_EQ_INT(fr.proto, 17);
    CHECK_EQ_INT(fr.id, 0x1234);
    CHECK_EQ_INT(fr.offset, 0);
    CHECK_EQ_INT(fr.more, 1);
    CHECK_EQ_INT(fr.truncated, 0);
    CHECK_EQ_INT(fr.ts_us, TS);
    CHECK_EQ_INT(fr.tunnel_depth, 0);
    CHECK(memcmp(fr.src, V4_SRC, 4) == 0 && memcmp(fr.dst, V4_DST, 4) == 0);
    CHECK(fr.hdr == copy + IP_AT && fr.hdr_len == 20 && fr.nh_off == 9);
    CHECK(fr.data == copy + IP_AT + 20 && fr.len == 8 + strlen(PAYLOAD));
    free(copy);
    /* a last fragment at offset 1480, cut by the snap length */
    put16(t.f.b + IP_AT + 6, 185);
    t.f.len -= 3;
    CHECK_EQ_INT(decode_frag(&t.f, &p, &why, &fr, &copy), SC_DECLINED);
    CHECK_EQ_INT(fr.offset, 1480);
    CHECK_EQ_INT(fr.more, 0);
    CHECK_EQ_INT(fr.truncated, 1);
    CHECK_EQ_INT(fr.len, 8 + strlen(PAYLOAD) - 3);
    free(copy);
    /* IPv6 fragment after hop-by-hop options, inside GRE */
    tb_init(&t, ETH "0800");
    tb_ip4(&t, 47, OUT4_SRC, OUT4_DST);
    tb_hex(&t, "0000 86dd");
    tb_ip6(&t, 0, V6_SRC, V6_DST, "2c00 0104 00000000  1100 05a9 deadbeef");
    tb_udp(&t, 5060, 5080);
    tb_finish(&t);
    size_t ip6_at = IP_AT + 20 + 4;
    CHECK_EQ_INT(decode_frag(&t.f, &p, &why, &fr, &copy), SC_DECLINED);
    CHECK_EQ_INT(why, FRAME_IP_FRAGMENT);
    CHECK_EQ_INT(fr.af, 6);
    CHECK_EQ_INT(fr.proto, 17);
    CHECK_EQ_INT(fr.id, 0xdeadbeef);
    CHECK_EQ_INT(fr.offset, 0x05a8);
    CHECK_EQ_INT(fr.more, 1);
    CHECK_EQ_INT(fr.tunnel_depth, 1);
    CHECK(memcmp(fr.src, V6_SRC, 16) == 0 && memcmp(fr.dst, V6_DST, 16) == 0);
    CHECK(fr.hdr == copy + ip6_at && fr.hdr_len == 48 && fr.nh_off == 40);
    CHECK(fr.data == copy + ip6_at + 56 && fr.len == 8 + strlen(PAYLOAD));
    free(copy);
    /* not a fragment: frag is left alone */
    build(&eth4, &t.f);
    memset(&fr, 0xa5, sizeof(fr));
    CHECK_EQ_INT(decode_frag(&t.f, &p, &why, &fr, &copy), SC_OK);
    CHECK_EQ_INT(fr.af, 0xa5);
    free(copy);
    /* frame_decode() still declines fragments without being asked to describe them */
    tb_init(&t, ETH "86dd");
    tb_ip6(&t, 44, V6_SRC, V6_DST, "1100 0001 00000001");
    tb_udp(&t, 5060, 5080);
    tb_finish(&t);
    CHECK_EQ_INT(decode_at(DLT_EN10MB, &t.f, t.f.len, &p, &why), SC_DECLINED);
    CHECK_EQ_INT(why, FRAME_IP_FRAGMENT);
}

static void decode_ip_datagrams(void)
{
    struct tb t;
    struct packet p;
    enum frame_reason why;
    tb_init(&t, "");
    tb_inner(&t, 4);
    tb_finish(&t);
    uint8_t *copy = malloc(t.f.len);
    memcpy(copy, t.f.b, t.f.len);
    CHECK_EQ_INT(frame_decode_ip(copy, t.f.len, 99, &p, &why), SC_OK);
    CHECK_EQ_INT(why, FRAME_OK);
    CHECK_EQ_INT(p.ts_us, 99);
    CHECK_EQ_INT(p.af, 4);
    CHECK(p.payload == copy + t.f.payload_at && p.len == strlen(PAYLOAD));
    copy[0] = 0x55;
    CHECK_EQ_INT(frame_decode_ip(copy, t.f.len, 99, &p, &why), SC_ERROR);
    CHECK_EQ_INT(why, FRAME_MALFORMED);
    CHECK_EQ_INT(frame_decode_ip(copy, 0, 99, &p, &why), SC_ERROR);
    CHECK_EQ_INT(why, FRAME_TRUNCATED);
    free(copy);
    /* a reassembled GRE datagram: the tunnel inside is unwrapped */
    tb_init(&t, "");
    tb_ip6(&t, 47, OUT6_SRC, OUT6_DST, NULL);
    tb_hex(&t, "0000 0800");
    tb_inner(&t, 4);
    tb_finish(&t);
    copy = malloc(t.f.len);
    memcpy(copy, t.f.b, t.f.len);
    CHECK_EQ_INT(frame_decode_ip(copy, t.f.len, 99, &p, &why), SC_OK);
    CHECK_EQ_INT(p.tunnel_depth, 1);
    CHECK(memcmp(p.src, V4_SRC, 4) == 0);
    CHECK(p.payload == copy + t.f.payload_at);
    free(copy);
}

/* ---- SCTP ---- */

#define PAYLOAD2 "BYE sip:b@example.com SIP/2.0\r\nCall-ID: frame-test\r\n\r\n"

/* A DATA chunk (RFC 9260 §3.3.1) carrying text, padded to 4 bytes. */
static void sctp_data(struct tb *t, uint8_t flags, uint32_t tsn, const char *text)
{
    size_t n = strlen(text);
    uint8_t h[16] = {0, flags};
    put16(h + 2, (unsigned)(16 + n));
    put16(h + 4, tsn >> 16);
    put16(h + 6, tsn & 0xffff);
    put16(h + 14, 0); /* PPID 0: unspecified, as SIP stacks send it */
    put_bytes(&t->f, h, sizeof(h));
    put_bytes(&t->f, text, n);
    while ((t->f.len - t->f.payload_at) % 4 != 0) /* chunks are padded from the chunk list start */
        t->f.b[t->f.len++] = 0;
}

/* IPv4 or IPv6, SCTP common header 5060 -> 5080; chunks follow. */
static void sctp_start(struct tb *t, int ipver)
{
    tb_init(t, ipver == 4 ? ETH "0800" : ETH "86dd");
    if (ipver == 4)
        tb_ip4(t, 132, V4_SRC, V4_DST);
    else
        tb_ip6(t, 132, V6_SRC, V6_DST, NULL);
    tb_hex(t, "13c4 13d8 01020304 00000000");
    t->f.payload_at = t->f.len; /* the chunk list */
}

static void sctp_end(struct tb *t)
{
    t->f.ip_end = t->f.len;
    size_t at = t->fix[0].at;
    if (t->fix[0].kind == FIX_IP4)
        put16(t->f.b + at + 2, (unsigned)(t->f.len - at));
    else
        put16(t->f.b + at + 4, (unsigned)(t->f.len - at - 40));
}

#define SCTP_MAX_MSGS 8

struct sctp_walk {
    enum sc_ret rc;
    enum frame_reason why;
    struct packet pkt;
    int n;
    char text[SCTP_MAX_MSGS][128];
    uint8_t truncated[SCTP_MAX_MSGS];
    struct frame_sctp_counts counts;
};

/* Decode the first caplen bytes of f from a heap copy of exactly that size
 * and take every DATA chunk out, while the copy is alive. */
static void sctp_walk(const struct frame *f, size_t caplen, struct sctp_walk *w)
{
    memset(w, 0, sizeof(*w));
    uint8_t *data = malloc(caplen > 0 ? caplen : 1);
    memcpy(data, f->b, caplen);
    w->rc = frame_decode(DLT_EN10MB, data, caplen, f->len, TS, &w->pkt, &w->why);
    if (w->rc == SC_OK && w->pkt.l4proto == 132) {
        size_t off = 0;
        struct packet m;
        while (frame_sctp_next_data(&w->pkt, &off, &m, &w->counts) == SC_OK) {
            CHECK(m.payload >= data && m.payload + m.len <= data + caplen);
            CHECK(m.sport == 5060 && m.dport == 5080 && m.l4proto == 132 && m.ts_us == TS);
            if (w->n < SCTP_MAX_MSGS) {
                size_t k = m.len < sizeof(w->text[0]) - 1 ? m.len : sizeof(w->text[0]) - 1;
                memcpy(w->text[w->n], m.payload, k);
                w->text[w->n][k] = '\0';
                w->truncated[w->n] = m.truncated;
            }
            w->n++;
        }
        CHECK(off <= w->pkt.len);
    }
    free(data);
}

/* SACK, two whole messages, a middle piece and a first piece of split ones. */
static void b_sctp_mixed(struct tb *t, int ipver)
{
    sctp_start(t, ipver);
    tb_hex(t, "03000010 00000000 0000ffff 00000000"); /* SACK */
    sctp_data(t, 0x03, 1, PAYLOAD);
    sctp_data(t, 0x03, 2, PAYLOAD2);
    sctp_data(t, 0x00, 3, "body piece CANARY");
    sctp_data(t, 0x02, 4, "INVITE sip:a@b SIP/2.0\r\nVia: x");
    sctp_end(t);
}

static void sctp_data_chunks(void)
{
    for (int ipver = 4; ipver <= 6; ipver += 2) {
        struct tb t;
        struct sctp_walk w;
        b_sctp_mixed(&t, ipver);
        sctp_walk(&t.f, t.f.len, &w);
        CHECK_EQ_INT(w.rc, SC_OK);
        CHECK_EQ_INT(w.pkt.l4proto, 132);
        CHECK_EQ_INT(w.pkt.af, ipver);
        CHECK_EQ_INT(w.pkt.truncated, 0);
        CHECK_EQ_INT(w.n, 3);
        CHECK_EQ_STR(w.text[0], PAYLOAD);
        CHECK_EQ_INT(w.truncated[0], 0);
        CHECK_EQ_STR(w.text[1], PAYLOAD2);
        CHECK_EQ_INT(w.truncated[1], 0);
        CHECK_EQ_STR(w.text[2], "INVITE sip:a@b SIP/2.0\r\nVia: x");
        CHECK_EQ_INT(w.truncated[2], 1); /* first piece: a datagram cut short */
        CHECK_EQ_INT(w.counts.chunks, 5);
        CHECK_EQ_INT(w.counts.messages, 3);
        CHECK_EQ_INT(w.counts.first_fragments, 1);
        CHECK_EQ_INT(w.counts.fragments_skipped, 1);
        CHECK_EQ_INT(w.counts.malformed, 0);
        CHECK_EQ_INT(w.counts.truncated, 0);
    }
}

/* Every cut: the common header cut is FRAME_TRUNCATED; after it, the
 * messages whose start was captured come out (cut ones marked truncated),
 * never more than the whole frame gives, and never a byte past the cut. */
static void sctp_cut_at_every_length(void)
{
    struct tb t;
    b_sctp_mixed(&t, 4);
    for (size_t cap = 0; cap <= t.f.len; cap++) {
        struct sctp_walk w;
        sctp_walk(&t.f, cap, &w);
        if (cap < t.f.payload_at) {
            CHECK_REPORT(w.rc == SC_ERROR && w.why == FRAME_TRUNCATED, "caplen %zu: rc %d why %d", cap, w.rc,
                         w.why);
            continue;
        }
        CHECK_REPORT(w.rc == SC_OK && w.pkt.truncated == (cap < t.f.len), "caplen %zu: rc %d truncated %d", cap,
                     w.rc, w.pkt.truncated);
        CHECK_REPORT(w.n <= 3 && w.counts.malformed == 0, "caplen %zu: n %d malformed %llu", cap, w.n,
                     (unsigned long long)w.counts.malformed);
        for (int i = 0; i < w.n && i < SCTP_MAX_MSGS; i++) {
            const char *want = i == 0 ? PAYLOAD : i == 1 ? PAYLOAD2 : "INVITE sip:a@b SIP/2.0\r\nVia: x";
            CHECK_REPORT(strncmp(w.text[i], want, strlen(w.text[i])) == 0 && strlen(w.text[i]) > 0,
                         "caplen %zu: message %d \"%s\"", cap, i, w.text[i]);
            if (strlen(w.text[i]) < strlen(want))
                CHECK_REPORT(w.truncated[i], "caplen %zu: message %d cut but not truncated", cap, i);
        }
    }
}

static void sctp_impossible_chunks(void)
{
    struct tb t;
    struct sctp_walk w;
    /* chunk length below the chunk header: nothing after it is framed */
    sctp_start(&t, 4);
    tb_hex(&t, "00030002");
    sctp_data(&t, 0x03, 1, PAYLOAD);
    sctp_end(&t);
    sctp_walk(&t.f, t.f.len, &w);
    CHECK_EQ_INT(w.rc, SC_OK);
    CHECK_EQ_INT(w.n, 0);
    CHECK_EQ_INT(w.counts.malformed, 1);
    /* DATA chunk shorter than its fixed fields, then a good one */
    sctp_start(&t, 4);
    tb_hex(&t, "0003000c 00000001 00000000");
    sctp_data(&t, 0x03, 2, PAYLOAD);
    sctp_end(&t);
    sctp_walk(&t.f, t.f.len, &w);
    CHECK_EQ_INT(w.n, 1);
    CHECK_EQ_STR(w.text[0], PAYLOAD);
    CHECK_EQ_INT(w.counts.malformed, 1);
    /* DATA chunk without user data: skipped, not an error */
    sctp_start(&t, 4);
    tb_hex(&t, "00030010 00000001 00000000 00000000");
    sctp_end(&t);
    sctp_walk(&t.f, t.f.len, &w);
    CHECK_EQ_INT(w.n, 0);
    CHECK_EQ_INT(w.counts.chunks, 1);
    CHECK_EQ_INT(w.counts.malformed, 0);
    /* a DATA chunk longer than the IP datagram is impossible, not cut */
    sctp_start(&t, 4);
    sctp_data(&t, 0x03, 1, PAYLOAD);
    sctp_end(&t);
    put16(t.f.b + t.f.payload_at + 2, 16 + strlen(PAYLOAD) + 8);
    sctp_walk(&t.f, t.f.len, &w);
    CHECK_EQ_INT(w.n, 0);
    CHECK_EQ_INT(w.counts.malformed, 1);
    /* the last chunk may come without its padding */
    sctp_start(&t, 4);
    sctp_data(&t, 0x03, 1, "OPTIONS sip:a SIP/2.0\r\n\r\n"); /* 25 bytes: 3 of padding */
    t.f.len -= 3;
    sctp_end(&t);
    sctp_walk(&t.f, t.f.len, &w);
    CHECK_EQ_INT(w.n, 1);
    CHECK_EQ_INT(w.truncated[0], 0);
    CHECK_EQ_INT(w.counts.malformed, 0);
    /* an SCTP header cut by the IP length is malformed */
    sctp_start(&t, 4);
    sctp_end(&t);
    put16(t.f.b + t.fix[0].at + 2, 20 + 8);
    sctp_walk(&t.f, t.f.len, &w);
    CHECK_EQ_INT(w.rc, SC_ERROR);
    CHECK_EQ_INT(w.why, FRAME_MALFORMED);
}

int main(void)
{
    RUN(good_frames);
    RUN(truncated_at_every_length);
    RUN(declined_and_malformed);
    RUN(udp_length_below_header_is_malformed);
    RUN(udp_length_past_ip_datagram_is_malformed);
    RUN(udp_length_bounds_payload);
    RUN(ipv4_impossible_headers);
    RUN(ipv4_options_skipped);
    RUN(ipv6_impossible_headers);
    RUN(raw_bad_version);
    RUN(snaplen_cut_payload_sets_truncated);
    RUN(payload_points_into_writable_data);
    RUN(reason_names);
    RUN(addr_strings);
    RUN(tunnels_unwrapped);
    RUN(tunnels_cut_at_every_length);
    RUN(tunnel_trailer_trimmed);
    RUN(tunnel_cut_by_the_mirror_is_truncated);
    RUN(tunnel_depth_limit);
    RUN(gre_declines_and_errors);
    RUN(udp_tunnel_ports_fall_back_to_plain_udp);
    RUN(tcp_segment_fields);
    RUN(tcp_bounds);
    RUN(fragment_described);
    RUN(decode_ip_datagrams);
    RUN(sctp_data_chunks);
    RUN(sctp_cut_at_every_length);
    RUN(sctp_impossible_chunks);
    return check_summary();
}
