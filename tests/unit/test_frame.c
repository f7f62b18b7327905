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
    uint8_t b[512];
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
    {"ipv4 tcp", DLT_EN10MB, ETH "0800", 4, 6, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv4 icmp", DLT_EN10MB, ETH "0800", 4, 1, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv4 first fragment", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0x2000, 0, SC_DECLINED, FRAME_IP_FRAGMENT},
    {"ipv4 last fragment", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0x00b9, 0, SC_DECLINED, FRAME_IP_FRAGMENT},
    {"ipv4 middle fragment DF", DLT_EN10MB, ETH "0800", 4, 17, NULL, 0x6001, 0, SC_DECLINED, FRAME_IP_FRAGMENT},
    {"ipv6 tcp", DLT_EN10MB, ETH "86dd", 6, 6, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv6 icmpv6", DLT_EN10MB, ETH "86dd", 6, 58, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv6 esp", DLT_EN10MB, ETH "86dd", 6, 50, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv6 no next header", DLT_EN10MB, ETH "86dd", 6, 59, NULL, 0, 0, SC_DECLINED, FRAME_NOT_UDP},
    {"ipv6 options then no next header", DLT_EN10MB, ETH "86dd", 6, 60, "3b00 0104 00000000", 0, 0, SC_DECLINED,
     FRAME_NOT_UDP},
    {"ipv6 hop-by-hop then tcp", DLT_EN10MB, ETH "86dd", 6, 0, "0600 0104 00000000", 0, 0, SC_DECLINED,
     FRAME_NOT_UDP},
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
    return check_summary();
}
