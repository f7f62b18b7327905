/* test_frame_hep.c - HEP decoding: v3 over IPv4 and IPv6, UDP and TCP, with
 * chunks to skip; v1 and v2; compressed payloads and inflate bombs; the
 * declines; every truncation and impossible length; and a real capture.
 *
 * Packets are decoded from a heap copy of exactly their length, so ASan turns
 * any read past len into a failure.
 */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "frame_hep.h"

#define SIP_MSG "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: hep-test-1\r\nContent-Length: 0\r\n\r\n"
#define TS_SEC 1700000000u
#define TS_USEC 123456u

static const uint8_t V4_SRC[4] = {10, 0, 0, 1}, V4_DST[4] = {10, 0, 0, 2};
static const uint8_t V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* One chunk as the tests think about it: value bytes given as they go on the wire. */
struct chunk {
    uint16_t vendor, type;
    const void *v;
    size_t n;
};

static const uint8_t FAM4[] = {2}, FAM6[] = {10}, UDP[] = {17}, TCP[] = {6}, SCTP[] = {132};
static const uint8_t SPORT[] = {0x13, 0xc4} /* 5060 */, DPORT[] = {0x13, 0xc5} /* 5061 */;
static const uint8_t TSEC[] = {0x65, 0x53, 0xf1, 0x00} /* 1700000000 */;
static const uint8_t TUSEC[] = {0x00, 0x01, 0xe2, 0x40} /* 123456 */;
static const uint8_t PT_SIP[] = {1}, PT_RTCP[] = {5}, PT_LOG[] = {100};
static const uint8_t CAPID[] = {0x00, 0x00, 0x07, 0xd1} /* 2001 */;
static const uint8_t KEEPALIVE[] = {0x00, 0x1e};
static const uint8_t VENDOR_BLOB[] = {0xde, 0xad, 0xbe, 0xef, 0x00};

#define CH(t, arr) {0, (t), (arr), sizeof(arr)}
#define CH_STR(t, s) {0, (t), (s), sizeof(s) - 1}

/* The standard packet: IPv4, UDP, everything kamailio sends, plus a vendor
 * chunk, an unknown generic chunk, a keep-alive chunk, auth key and
 * correlation id, with the payload in the middle. */
static const struct chunk STD_V4[] = {
    CH(0x0001, FAM4),
    CH(0x0002, UDP),
    CH(0x0003, V4_SRC),
    CH(0x0004, V4_DST),
    {0x0bad, 0x0001, VENDOR_BLOB, sizeof(VENDOR_BLOB)}, /* vendor chunk reusing a generic type */
    CH(0x0007, SPORT),
    CH(0x0008, DPORT),
    CH(0x0009, TSEC),
    CH(0x000a, TUSEC),
    CH(0x000b, PT_SIP),
    CH(0x000c, CAPID),
    CH_STR(0x000e, "myHep"),
    CH_STR(0x000f, SIP_MSG),
    CH(0x000d, KEEPALIVE),
    CH_STR(0x0011, "corr-42@host"),
    CH_STR(0x0099, "unknown generic chunk"),
    CH_STR(0x0013, "group"),
};

static const struct chunk STD_V6_TCP[] = {
    CH(0x0001, FAM6),    CH(0x0002, TCP),    CH(0x0005, V6_SRC), CH(0x0006, V6_DST),
    CH(0x0007, SPORT),   CH(0x0008, DPORT),  CH(0x0009, TSEC),   CH(0x000a, TUSEC),
    CH(0x000b, PT_SIP),  CH(0x000c, CAPID),  CH_STR(0x000f, SIP_MSG),
};

struct pkt {
    uint8_t b[2048];
    size_t len;
};

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Build a HEPv3 packet from cs[0..n), leaving out chunks whose generic type
 * bit is set in omit (vendor chunks are never left out). */
static void build_v3(struct pkt *k, const struct chunk *cs, size_t n, uint32_t omit)
{
    memcpy(k->b, "HEP3", 4);
    k->len = 6;
    for (size_t i = 0; i < n; i++) {
        if (cs[i].vendor == 0 && cs[i].type < 32 && (omit >> cs[i].type & 1u))
            continue;
        uint8_t *c = k->b + k->len;
        put16(c, cs[i].vendor);
        put16(c + 2, cs[i].type);
        put16(c + 4, cs[i].n + 6);
        memcpy(c + 6, cs[i].v, cs[i].n);
        k->len += 6 + cs[i].n;
    }
    put16(k->b + 4, k->len);
}

/* Append one raw chunk header + value (length field as given) and fix the total. */
static void append_raw(struct pkt *k, uint16_t vendor, uint16_t type, size_t len_field, const void *v,
                       size_t n)
{
    put16(k->b + k->len, vendor);
    put16(k->b + k->len + 2, type);
    put16(k->b + k->len + 4, len_field);
    memcpy(k->b + k->len + 6, v, n);
    k->len += 6 + n;
    put16(k->b + 4, k->len);
}

/* Decode a heap copy of exactly len bytes. The copy is kept in *heap for
 * payload checks; the caller frees it. */
static enum sc_ret decode_copy(const uint8_t *b, size_t len, uint8_t **heap, struct packet *out,
                               struct hep_info *info, uint8_t *ibuf, size_t icap, enum hep_error *why)
{
    *heap = malloc(len ? len : 1);
    if (len)
        memcpy(*heap, b, len);
    return hep_decode(*heap, len, out, info, ibuf, icap, why);
}

static enum sc_ret decode_k(const struct pkt *k, struct packet *out, struct hep_info *info,
                            enum hep_error *why)
{
    uint8_t *heap;
    enum sc_ret rc = decode_copy(k->b, k->len, &heap, out, info, NULL, 0, why);
    free(heap);
    return rc;
}

static int payload_is(const struct packet *p, const char *s)
{
    return p->payload != NULL && p->len == strlen(s) && memcmp(p->payload, s, p->len) == 0;
}

static void test_v3_ipv4_udp(void)
{
    struct pkt k;
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    struct packet p;
    struct hep_info info;
    enum hep_error why = HEP_ERRORS_MAX;
    uint8_t *heap;
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, NULL, 0, &why), SC_OK);
    CHECK_EQ_INT(why, HEP_OK);
    CHECK_EQ_INT(p.af, 4);
    CHECK_EQ_INT(p.l4proto, 17);
    CHECK(memcmp(p.src, V4_SRC, 4) == 0);
    CHECK(memcmp(p.dst, V4_DST, 4) == 0);
    CHECK_EQ_INT(p.sport, 5060);
    CHECK_EQ_INT(p.dport, 5061);
    CHECK_EQ_INT(p.ts_us, (int64_t)TS_SEC * 1000000 + TS_USEC);
    CHECK(payload_is(&p, SIP_MSG));
    CHECK(p.payload > heap && p.payload + p.len <= heap + k.len); /* in place */
    CHECK_EQ_INT(p.truncated, 0);
    CHECK_EQ_INT(p.tunnel_depth, 0);
    CHECK_EQ_INT(info.version, 3);
    CHECK_EQ_INT(info.proto_type, 1);
    CHECK_EQ_INT(info.has_ts, 1);
    CHECK_EQ_INT(info.has_capture_id, 1);
    CHECK_EQ_INT(info.capture_id, 2001);
    CHECK_EQ_INT(info.auth_key_present, 1);
    CHECK_EQ_SV(info.auth_key, "myHep");
    CHECK_EQ_SV(info.correlation_id, "corr-42@host");
    CHECK_EQ_INT(info.compressed, 0);
    CHECK_EQ_INT(info.frame_len, k.len);
    /* The payload is writable in place: the privacy cut relies on it. */
    p.payload[0] = 'X';
    CHECK_EQ_INT(heap[p.payload - heap], 'X');
    free(heap);
}

static void test_v3_ipv6_tcp(void)
{
    struct pkt k;
    build_v3(&k, STD_V6_TCP, SC_ARRAY_LEN(STD_V6_TCP), 0);
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    uint8_t *heap;
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, NULL, 0, &why), SC_OK);
    CHECK_EQ_INT(p.af, 6);
    CHECK_EQ_INT(p.l4proto, 6);
    CHECK(memcmp(p.src, V6_SRC, 16) == 0);
    CHECK(memcmp(p.dst, V6_DST, 16) == 0);
    CHECK_EQ_INT(p.sport, 5060);
    CHECK_EQ_INT(p.dport, 5061);
    CHECK(payload_is(&p, SIP_MSG));
    CHECK_EQ_INT(info.auth_key_present, 0);
    CHECK_EQ_INT(info.auth_key.len, 0);
    CHECK_EQ_INT(info.correlation_id.len, 0);
    char a[64];
    CHECK_EQ_STR(packet_addr_str(&p, 1, a, sizeof(a)), "2001:db8::1");
    free(heap);
}

/* No timestamp chunks: ts_us 0 and has_ts 0, so the caller uses arrival time.
 * Seconds alone still count as a time. */
static void test_v3_timestamps(void)
{
    struct pkt k;
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 1u << 0x9 | 1u << 0xa | 1u << 0xc);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_OK);
    CHECK_EQ_INT(info.has_ts, 0);
    CHECK_EQ_INT(p.ts_us, 0);
    CHECK_EQ_INT(info.has_capture_id, 0);
    CHECK_EQ_INT(info.capture_id, 0);
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 1u << 0xa);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_OK);
    CHECK_EQ_INT(info.has_ts, 1);
    CHECK_EQ_INT(p.ts_us, (int64_t)TS_SEC * 1000000);
}

/* Over TCP packets follow each other: hep_frame_length() splits the stream,
 * and hep_decode() of a buffer holding more reads only the first packet. */
static void test_v3_stream(void)
{
    struct pkt a, b;
    build_v3(&a, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    build_v3(&b, STD_V6_TCP, SC_ARRAY_LEN(STD_V6_TCP), 0);
    uint8_t stream[4096];
    memcpy(stream, a.b, a.len);
    memcpy(stream + a.len, b.b, b.len);
    size_t total = a.len + b.len;

    CHECK_EQ_INT(hep_frame_length(stream, total), a.len);
    CHECK_EQ_INT(hep_frame_length(stream, 6), a.len); /* header alone is enough, more may follow */
    CHECK_EQ_INT(hep_frame_length(stream, 5), 0);
    CHECK_EQ_INT(hep_frame_length(stream + a.len, total - a.len), b.len);

    struct packet p;
    struct hep_info info;
    enum hep_error why;
    uint8_t *heap;
    CHECK_EQ_INT(decode_copy(stream, total, &heap, &p, &info, NULL, 0, &why), SC_OK);
    CHECK_EQ_INT(info.frame_len, a.len);
    CHECK_EQ_INT(p.af, 4);
    CHECK(p.payload + p.len <= heap + a.len);
    struct packet p2;
    CHECK_EQ_INT(hep_decode(heap + info.frame_len, total - info.frame_len, &p2, &info, NULL, 0, &why), SC_OK);
    CHECK_EQ_INT(p2.af, 6);
    CHECK(payload_is(&p2, SIP_MSG));
    free(heap);

    /* Not HEPv3: 0 however many bytes. */
    CHECK_EQ_INT(hep_frame_length((const uint8_t *)"INVITE sip:x SIP/2.0", 20), 0);
    uint8_t bad[6] = {'H', 'E', 'P', '3', 0, 5}; /* total < 6 */
    CHECK_EQ_INT(hep_frame_length(bad, sizeof(bad)), 0);
}

/* HEPv1/v2 builders: header, addresses, (v2) 12-byte LE time header, payload. */
static void build_v12(struct pkt *k, int version, int v6, uint8_t proto)
{
    size_t alen = v6 ? 16 : 4;
    k->b[0] = (uint8_t)version;
    k->b[1] = (uint8_t)(8 + 2 * alen);
    k->b[2] = v6 ? 10 : 2;
    k->b[3] = proto;
    put16(k->b + 4, 5060);
    put16(k->b + 6, 5061);
    memcpy(k->b + 8, v6 ? V6_SRC : V4_SRC, alen);
    memcpy(k->b + 8 + alen, v6 ? V6_DST : V4_DST, alen);
    k->len = 8 + 2 * alen;
    if (version == 2) {
        uint8_t *t = k->b + k->len;
        uint32_t s = TS_SEC, u = TS_USEC;
        for (int i = 0; i < 4; i++) {
            t[i] = (uint8_t)(s >> (8 * i));
            t[4 + i] = (uint8_t)(u >> (8 * i));
        }
        t[8] = 0xd1; /* 2001 little-endian */
        t[9] = 0x07;
        t[10] = t[11] = 0xee; /* struct padding: whatever the sender's stack held */
        k->len += 12;
    }
    memcpy(k->b + k->len, SIP_MSG, strlen(SIP_MSG));
    k->len += strlen(SIP_MSG);
}

static void test_v2(void)
{
    struct pkt k;
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    build_v12(&k, 2, 0, 17);
    CHECK(hep_looks_like(k.b, k.len));
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_OK);
    CHECK_EQ_INT(info.version, 2);
    CHECK_EQ_INT(info.proto_type, 1);
    CHECK_EQ_INT(p.af, 4);
    CHECK_EQ_INT(p.l4proto, 17);
    CHECK(memcmp(p.src, V4_SRC, 4) == 0 && memcmp(p.dst, V4_DST, 4) == 0);
    CHECK_EQ_INT(p.sport, 5060);
    CHECK_EQ_INT(p.dport, 5061);
    CHECK_EQ_INT(p.ts_us, (int64_t)TS_SEC * 1000000 + TS_USEC);
    CHECK_EQ_INT(info.has_ts, 1);
    CHECK_EQ_INT(info.capture_id, 2001);
    CHECK_EQ_INT(info.frame_len, k.len);

    uint8_t *heap;
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, NULL, 0, &why), SC_OK);
    CHECK(payload_is(&p, SIP_MSG));
    free(heap);

    build_v12(&k, 2, 1, 6);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, NULL, 0, &why), SC_OK);
    CHECK_EQ_INT(p.af, 6);
    CHECK_EQ_INT(p.l4proto, 6);
    CHECK(memcmp(p.src, V6_SRC, 16) == 0 && memcmp(p.dst, V6_DST, 16) == 0);
    CHECK(payload_is(&p, SIP_MSG));
    free(heap);

    build_v12(&k, 2, 0, 132);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_DECLINED);
    CHECK_EQ_INT(why, HEP_NOT_UDP_TCP);
    CHECK(!hep_looks_like(k.b, k.len));
}

static void test_v1(void)
{
    struct pkt k;
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    uint8_t *heap;
    build_v12(&k, 1, 0, 17);
    CHECK(hep_looks_like(k.b, k.len));
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, NULL, 0, &why), SC_OK);
    CHECK_EQ_INT(info.version, 1);
    CHECK_EQ_INT(info.has_ts, 0);
    CHECK_EQ_INT(p.ts_us, 0);
    CHECK_EQ_INT(info.has_capture_id, 0);
    CHECK(payload_is(&p, SIP_MSG));
    free(heap);

    /* Header length that does not match the family: not HEP. */
    k.b[1] = 40;
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_DECLINED);
    CHECK_EQ_INT(why, HEP_NOT_HEP);
    CHECK(!hep_looks_like(k.b, k.len));
}

/* Every cut of a v1/v2 packet: a cut inside the fixed header is an error, a
 * cut in the payload is a shorter payload (no length field says otherwise). */
static void test_v12_truncations(void)
{
    for (int v = 1; v <= 2; v++) {
        for (int v6 = 0; v6 <= 1; v6++) {
            struct pkt k;
            build_v12(&k, v, v6, 17);
            size_t fixed = k.len - strlen(SIP_MSG);
            for (size_t cut = 0; cut < k.len; cut++) {
                struct packet p;
                struct hep_info info;
                enum hep_error why;
                uint8_t *heap;
                enum sc_ret rc = decode_copy(k.b, cut, &heap, &p, &info, NULL, 0, &why);
                if (cut < 4)
                    CHECK_REPORT(rc == SC_DECLINED && why == HEP_NOT_HEP, "v%d cut %zu", v, cut);
                else if (cut < fixed)
                    CHECK_REPORT(rc == SC_ERROR && why == HEP_TRUNCATED, "v%d cut %zu", v, cut);
                else
                    CHECK_REPORT(rc == SC_OK && p.len == cut - fixed && p.payload == heap + fixed &&
                                     memcmp(p.payload, SIP_MSG, p.len) == 0,
                                 "v%d cut %zu", v, cut);
                free(heap);
            }
        }
    }
}

static void test_compressed(void)
{
    uLongf zlen = compressBound(strlen(SIP_MSG));
    uint8_t z[512];
    CHECK(zlen <= sizeof(z));
    CHECK_EQ_INT(compress(z, &zlen, (const Bytef *)SIP_MSG, strlen(SIP_MSG)), Z_OK);

    struct chunk cs[SC_ARRAY_LEN(STD_V4)];
    memcpy(cs, STD_V4, sizeof(cs));
    for (size_t i = 0; i < SC_ARRAY_LEN(cs); i++) {
        if (cs[i].vendor == 0 && cs[i].type == 0x000f) {
            cs[i].type = 0x0010;
            cs[i].v = z;
            cs[i].n = zlen;
        }
    }
    struct pkt k;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);

    struct packet p;
    struct hep_info info;
    enum hep_error why;
    size_t want = strlen(SIP_MSG);
    uint8_t *ibuf = malloc(want + 100);
    uint8_t *heap;

    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, ibuf, want + 100, &why), SC_OK);
    CHECK_EQ_INT(info.compressed, 1);
    CHECK(p.payload == ibuf);
    CHECK(payload_is(&p, SIP_MSG));
    CHECK_EQ_INT(p.af, 4);
    free(heap);

    /* Exactly the room it needs is enough; a byte less is too big. Both on a
     * heap buffer of exactly that size so an overrun shows. */
    uint8_t *exact = malloc(want);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, exact, want, &why), SC_OK);
    CHECK(payload_is(&p, SIP_MSG));
    free(heap);
    free(exact);
    uint8_t *small = malloc(want - 1);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, small, want - 1, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_INFLATE_TOO_BIG);
    free(heap);
    free(small);

    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, NULL, 0, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_NO_INFLATE_BUFFER);
    free(heap);

    /* A torn stream, a corrupt one, and bytes after the end. */
    uint8_t z2[600];
    struct chunk *zc = NULL;
    for (size_t i = 0; i < SC_ARRAY_LEN(cs); i++)
        if (cs[i].type == 0x0010)
            zc = &cs[i];
    zc->v = z2;

    memcpy(z2, z, zlen);
    zc->n = zlen - 5;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, ibuf, want + 100, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_ZLIB);
    free(heap);

    memcpy(z2, z, zlen);
    z2[zlen - 1] ^= 0xff; /* Adler-32 no longer matches */
    zc->n = zlen;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, ibuf, want + 100, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_ZLIB);
    free(heap);

    memcpy(z2, z, zlen);
    memcpy(z2 + zlen, "junk", 4);
    zc->n = zlen + 4;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, ibuf, want + 100, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_ZLIB);
    free(heap);

    memcpy(z2, "not zlib at all", 15);
    zc->n = 15;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, ibuf, want + 100, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_ZLIB);
    free(heap);

    /* Plain and compressed payload together: ambiguous. */
    zc->v = z;
    zc->n = zlen;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    append_raw(&k, 0, 0x000f, 6 + 3, "abc", 3);
    CHECK_EQ_INT(decode_copy(k.b, k.len, &heap, &p, &info, ibuf, want + 100, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_DUPLICATE_CHUNK);
    free(heap);
    free(ibuf);
}

/* 4 MiB of one byte compresses to a few KiB; inflating stops at the cap. */
static void test_inflate_bomb(void)
{
    size_t big = 4u << 20;
    uint8_t *plain = malloc(big);
    memset(plain, 'A', big);
    uLongf zlen = compressBound(big);
    uint8_t *z = malloc(zlen);
    CHECK_EQ_INT(compress2(z, &zlen, plain, big, 9), Z_OK);
    free(plain);
    CHECK(zlen < 60000); /* fits one chunk */

    struct chunk cs[SC_ARRAY_LEN(STD_V6_TCP)];
    memcpy(cs, STD_V6_TCP, sizeof(cs));
    cs[SC_ARRAY_LEN(cs) - 1] = (struct chunk){0, 0x0010, z, zlen};
    uint8_t *wire = malloc(zlen + 512);
    /* Built by hand into a larger buffer: same layout as build_v3(). */
    memcpy(wire, "HEP3", 4);
    size_t len = 6;
    for (size_t i = 0; i < SC_ARRAY_LEN(cs); i++) {
        put16(wire + len, cs[i].vendor);
        put16(wire + len + 2, cs[i].type);
        put16(wire + len + 4, cs[i].n + 6);
        memcpy(wire + len + 6, cs[i].v, cs[i].n);
        len += 6 + cs[i].n;
    }
    put16(wire + 4, len);

    size_t cap = 65536;
    uint8_t *ibuf = malloc(cap);
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    uint8_t *heap;
    CHECK_EQ_INT(decode_copy(wire, len, &heap, &p, &info, ibuf, cap, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_INFLATE_TOO_BIG);
    CHECK_EQ_STR(hep_error_name(why), "inflate_too_big");
    free(heap);
    free(ibuf);
    free(wire);
    free(z);
}

static void test_not_sip_declined(void)
{
    struct chunk cs[SC_ARRAY_LEN(STD_V4)];
    memcpy(cs, STD_V4, sizeof(cs));
    const uint8_t *types[] = {PT_RTCP, PT_LOG};
    for (size_t t = 0; t < 2; t++) {
        for (size_t i = 0; i < SC_ARRAY_LEN(cs); i++)
            if (cs[i].vendor == 0 && cs[i].type == 0x000b)
                cs[i].v = types[t];
        struct pkt k;
        build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
        struct packet p;
        struct hep_info info;
        enum hep_error why;
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_DECLINED);
        CHECK_EQ_INT(why, HEP_NOT_SIP);
        CHECK_EQ_INT(info.proto_type, types[t][0]);
        CHECK_EQ_INT(info.version, 3);
        CHECK_EQ_INT(info.capture_id, 2001);
        CHECK_EQ_INT(info.frame_len, k.len);
        /* Declined before the SIP-shaped checks: an RTCP report without
         * ports is still "not SIP", not "malformed". */
        build_v3(&k, cs, SC_ARRAY_LEN(cs), 1u << 7 | 1u << 8 | 1u << 0xf);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_DECLINED);
        CHECK_EQ_INT(why, HEP_NOT_SIP);
    }
}

static void test_not_hep(void)
{
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    uint8_t *heap;
    const char *sip = SIP_MSG;
    CHECK_EQ_INT(decode_copy((const uint8_t *)sip, strlen(sip), &heap, &p, &info, NULL, 0, &why),
                 SC_DECLINED);
    CHECK_EQ_INT(why, HEP_NOT_HEP);
    CHECK(!hep_looks_like(heap, strlen(sip)));
    free(heap);
    CHECK_EQ_INT(decode_copy(NULL, 0, &heap, &p, &info, NULL, 0, &why), SC_DECLINED);
    CHECK_EQ_INT(why, HEP_NOT_HEP);
    CHECK(!hep_looks_like(heap, 0));
    free(heap);
    const uint8_t hep2magic[] = {'H', 'E', 'P', '2', 0, 6};
    CHECK_EQ_INT(decode_copy(hep2magic, sizeof(hep2magic), &heap, &p, &info, NULL, 0, &why), SC_DECLINED);
    free(heap);
    const uint8_t rtp[] = {0x80, 0x00, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ_INT(decode_copy(rtp, sizeof(rtp), &heap, &p, &info, NULL, 0, &why), SC_DECLINED);
    CHECK(!hep_looks_like(heap, sizeof(rtp)));
    free(heap);

    struct pkt k;
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    CHECK(hep_looks_like(k.b, k.len));
    CHECK(hep_looks_like(k.b, 6));
    CHECK(!hep_looks_like(k.b, 5));
}

/* Every cut of a valid packet, on a heap buffer of exactly the cut length:
 * (a) header untouched, so the total length overshoots: never OK;
 * (b) total length rewritten to the cut, so the chunk walk meets the cut:
 *     OK only when every chunk it needs is still whole, and then exactly the
 *     original values. */
static void truncations_of(const struct chunk *cs, size_t n, int want_ok_cuts)
{
    struct pkt k;
    build_v3(&k, cs, n, 0);
    struct packet full;
    struct hep_info finfo;
    enum hep_error why;
    uint8_t *fheap;
    CHECK_EQ_INT(decode_copy(k.b, k.len, &fheap, &full, &finfo, NULL, 0, &why), SC_OK);
    size_t poff = (size_t)(full.payload - fheap);
    int ok_cuts = 0;
    for (size_t cut = 0; cut < k.len; cut++) {
        struct packet p;
        struct hep_info info;
        uint8_t *heap;
        enum sc_ret rc = decode_copy(k.b, cut, &heap, &p, &info, NULL, 0, &why);
        CHECK_REPORT(rc != SC_OK, "cut %zu of %zu decoded", cut, k.len);
        if (cut < 4)
            CHECK_REPORT(rc == SC_DECLINED && why == HEP_NOT_HEP, "cut %zu: %s", cut, hep_error_name(why));
        else if (cut < 6)
            CHECK_REPORT(rc == SC_ERROR && why == HEP_TRUNCATED, "cut %zu: %s", cut, hep_error_name(why));
        else
            CHECK_REPORT(rc == SC_ERROR && why == HEP_BAD_TOTAL_LENGTH, "cut %zu: %s", cut,
                         hep_error_name(why));
        free(heap);

        if (cut < 6)
            continue;
        struct pkt r = k;
        put16(r.b + 4, cut);
        rc = decode_copy(r.b, cut, &heap, &p, &info, NULL, 0, &why);
        if (rc == SC_OK) {
            ok_cuts++;
            CHECK_REPORT(poff + full.len <= cut && p.payload == heap + poff && p.len == full.len &&
                             memcmp(p.payload, SIP_MSG, p.len) == 0 && p.af == full.af &&
                             memcmp(p.src, full.src, 16) == 0 && memcmp(p.dst, full.dst, 16) == 0 &&
                             p.sport == full.sport && p.dport == full.dport,
                         "cut %zu OK with other values", cut);
        } else {
            CHECK_REPORT(rc == SC_ERROR, "cut %zu: rc %d %s", cut, rc, hep_error_name(why));
        }
        free(heap);
    }
    free(fheap);
    /* Cuts on a chunk boundary after the last chunk needed are whole packets. */
    CHECK_EQ_INT(ok_cuts, want_ok_cuts);
}

static void test_truncations(void)
{
    /* STD_V4 has 4 chunks after its payload, so 4 boundaries to cut at;
     * STD_V6_TCP ends with its payload. */
    truncations_of(STD_V4, SC_ARRAY_LEN(STD_V4), 4);
    truncations_of(STD_V6_TCP, SC_ARRAY_LEN(STD_V6_TCP), 0);
}

static void test_chunk_lengths(void)
{
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    /* Chunk length 0..5 is shorter than the chunk header itself, in the
     * middle of a packet and as its last chunk; a vendor chunk too. */
    for (size_t clen = 0; clen < 6; clen++) {
        struct pkt k;
        build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
        append_raw(&k, 0, 0x0099, clen, "zzzzzz", 6);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
        CHECK_EQ_INT(why, HEP_BAD_CHUNK_LENGTH);

        build_v3(&k, STD_V4, 1, 0); /* family only */
        append_raw(&k, 0x1234, 0x0001, clen, "", 0);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
        CHECK_EQ_INT(why, HEP_BAD_CHUNK_LENGTH);
    }
    /* A chunk reaching past the total length, by one byte and by a lot. */
    struct pkt k;
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    append_raw(&k, 0, 0x0099, 6 + 4 + 1, "abcd", 4);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_BAD_CHUNK_LENGTH);
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    append_raw(&k, 0, 0x000f, 0xffff, "abcd", 4);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_BAD_CHUNK_LENGTH);
    /* A torn chunk header: 1..5 bytes left inside the total length. */
    for (size_t extra = 1; extra < 6; extra++) {
        build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
        memset(k.b + k.len, 0, extra);
        k.len += extra;
        put16(k.b + 4, k.len);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
        CHECK_EQ_INT(why, HEP_BAD_CHUNK_LENGTH);
    }
    /* An empty (6-byte) unknown chunk is fine. */
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    append_raw(&k, 0, 0x0099, 6, "", 0);
    append_raw(&k, 0xffff, 0xffff, 6, "", 0);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_OK);
}

static void test_total_length(void)
{
    struct pkt k;
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    put16(k.b + 4, k.len + 1);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_BAD_TOTAL_LENGTH);
    put16(k.b + 4, 0xffff);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_BAD_TOTAL_LENGTH);
    for (size_t t = 0; t < 6; t++) {
        put16(k.b + 4, t);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
        CHECK_EQ_INT(why, HEP_BAD_TOTAL_LENGTH);
    }
    /* A bare header with no chunks: structurally fine, but no payload type. */
    put16(k.b + 4, 6);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_MISSING_PROTO_TYPE);
}

static void test_missing_chunks(void)
{
    static const struct {
        uint32_t omit;
        enum hep_error why;
    } cases[] = {
        {1u << 0x1, HEP_MISSING_FAMILY},     {1u << 0x2, HEP_MISSING_IP_PROTO},
        {1u << 0x3, HEP_MISSING_ADDRESS},    {1u << 0x4, HEP_MISSING_ADDRESS},
        {1u << 0x7, HEP_MISSING_PORT},       {1u << 0x8, HEP_MISSING_PORT},
        {1u << 0xb, HEP_MISSING_PROTO_TYPE}, {1u << 0xf, HEP_MISSING_PAYLOAD},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        struct pkt k;
        struct packet p;
        struct hep_info info;
        enum hep_error why;
        build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), cases[i].omit);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
        CHECK_REPORT(why == cases[i].why, "omit %#x: %s, want %s", (unsigned)cases[i].omit,
                     hep_error_name(why), hep_error_name(cases[i].why));
    }
    /* IPv6 family with only IPv4 addresses. */
    struct chunk cs[SC_ARRAY_LEN(STD_V4)];
    memcpy(cs, STD_V4, sizeof(cs));
    cs[0].v = FAM6;
    struct pkt k;
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_MISSING_ADDRESS);
}

/* Wrong value sizes, duplicates, bad family, SCTP. */
static void test_bad_values(void)
{
    struct pkt k;
    struct packet p;
    struct hep_info info;
    enum hep_error why;
    static const uint16_t fixed_types[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    for (size_t i = 0; i < SC_ARRAY_LEN(fixed_types); i++) {
        /* One byte too many for the type (its duplicate check comes first,
         * so the standard chunk of that type is left out). */
        build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 1u << fixed_types[i]);
        append_raw(&k, 0, fixed_types[i], 6 + 17, "01234567890123456", 17);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
        CHECK_REPORT(why == HEP_BAD_CHUNK_SIZE, "type %u: %s", fixed_types[i], hep_error_name(why));
        build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 1u << fixed_types[i]);
        append_raw(&k, 0, fixed_types[i], 6, "", 0);
        CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
        CHECK_REPORT(why == HEP_BAD_CHUNK_SIZE, "type %u empty: %s", fixed_types[i], hep_error_name(why));
    }
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    append_raw(&k, 0, 0x0003, 10, V4_DST, 4);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_DUPLICATE_CHUNK);
    build_v3(&k, STD_V4, SC_ARRAY_LEN(STD_V4), 0);
    append_raw(&k, 0, 0x000f, 9, "abc", 3);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_DUPLICATE_CHUNK);

    struct chunk cs[SC_ARRAY_LEN(STD_V4)];
    memcpy(cs, STD_V4, sizeof(cs));
    static const uint8_t fam_bad[] = {7};
    cs[0].v = fam_bad;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_ERROR);
    CHECK_EQ_INT(why, HEP_BAD_FAMILY);

    memcpy(cs, STD_V4, sizeof(cs));
    cs[1].v = SCTP;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_DECLINED);
    CHECK_EQ_INT(why, HEP_NOT_UDP_TCP);

    /* An empty payload chunk is a valid, empty payload (later stages decline it). */
    memcpy(cs, STD_V4, sizeof(cs));
    for (size_t i = 0; i < SC_ARRAY_LEN(cs); i++)
        if (cs[i].vendor == 0 && cs[i].type == 0x000f)
            cs[i].n = 0;
    build_v3(&k, cs, SC_ARRAY_LEN(cs), 0);
    CHECK_EQ_INT(decode_k(&k, &p, &info, &why), SC_OK);
    CHECK_EQ_INT(p.len, 0);
}

static void test_error_names(void)
{
    for (int i = 0; i < HEP_ERRORS_MAX; i++) {
        CHECK_REPORT(strcmp(hep_error_name((enum hep_error)i), "unknown") != 0, "reason %d unnamed", i);
        for (int j = 0; j < i; j++)
            CHECK_REPORT(strcmp(hep_error_name((enum hep_error)i), hep_error_name((enum hep_error)j)) != 0,
                         "reasons %d and %d share a name", i, j);
    }
    CHECK_EQ_STR(hep_error_name(HEP_ERRORS_MAX), "unknown");
    CHECK_EQ_STR(hep_error_name((enum hep_error)-1), "unknown");
}

/* ---- the real capture ---------------------------------------------------- */

#define HEP_PCAP "/work/shared/corpus/pcap/hep/hep-wireshark_hep.pcap"

/* Expected values, from
 *   tshark -X lua_script:/work/shared/peers/hep3.lua -r hep-wireshark_hep.pcap -T fields \
 *     -e hep3.src_ip -e hep3.src_port -e hep3.dst_ip -e hep3.dst_port -e hep3.proto_type \
 *     -e hep3.ts_sec -e hep3.ts_usec -e sip.Request-Line -e sip.Status-Line
 * (TShark 4.0.17; all 8 frames: ip_proto 17, capture_id 2001, auth_key myHep,
 * correlation_id qgf3dm9rudi@127.0.0.1). */
static const struct {
    const char *src;
    uint16_t sport;
    const char *dst;
    uint16_t dport;
    uint8_t ptype;
    uint32_t ts_sec, ts_usec;
    const char *start_line; /* SIP only */
} HEP_PCAP_WANT[] = {
    {"192.168.1.1", 5060, "192.168.1.2", 5060, 1, 1481455196, 100, "INVITE sip:nodejs@127.0.0.1 SIP/2.0"},
    {"192.168.1.2", 5060, "192.168.1.1", 5060, 1, 1481455196, 325, "SIP/2.0 100 Trying"},
    {"192.168.1.2", 5060, "192.168.1.1", 5060, 1, 1481455197, 126,
     "SIP/2.0 407 Proxy Authentication Required"},
    {"192.168.1.1", 5060, "192.168.1.2", 5060, 1, 1481455198, 127, "OPTIONS sip:127.0.0.1 SIP/2.0"},
    {"192.168.1.1", 0, "192.168.1.2", 0, 100, 1481455199, 126, NULL},
    {"192.168.1.2", 5060, "192.168.1.1", 5060, 1, 1481455200, 326, "SIP/2.0 200 Alive"},
    {"192.168.1.1", 5060, "192.168.1.2", 5060, 1, 1481455201, 627,
     "PUBLISH sip:nodejs@127.0.0.1:5999;transport=udp SIP/2.0"},
    {"192.168.1.1", 0, "192.168.1.2", 0, 5, 1481455202, 927, NULL},
};

static int contains(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(p + i, s, n) == 0)
            return 1;
    return 0;
}

/* UDP payload to port 9060 of an Ethernet/IPv4 frame, or NULL. */
static const uint8_t *udp9060(const uint8_t *f, size_t caplen, size_t *plen)
{
    if (caplen < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return NULL;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t iplen = (size_t)ip[2] << 8 | ip[3];
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17 || iplen < ihl + 8 || 14 + iplen > caplen)
        return NULL;
    const uint8_t *udp = ip + ihl;
    size_t ulen = (size_t)udp[4] << 8 | udp[5];
    if (((size_t)udp[2] << 8 | udp[3]) != 9060 || ulen < 8 || ulen > iplen - ihl)
        return NULL;
    *plen = ulen - 8;
    return udp + 8;
}

static void test_wireshark_capture(void)
{
    const char *path = getenv("SIPCDR_HEP_PCAP") ? getenv("SIPCDR_HEP_PCAP") : HEP_PCAP;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (pc == NULL) {
        printf("skip test_wireshark_capture: %s\n", err);
        return;
    }
    CHECK_EQ_INT(pcap_datalink(pc), DLT_EN10MB);
    struct pcap_pkthdr *h;
    const u_char *data;
    size_t n = 0, sip = 0, declined = 0;
    uint8_t ibuf[4096];
    while (pcap_next_ex(pc, &h, &data) == 1) {
        size_t plen;
        const uint8_t *pl = udp9060(data, h->caplen, &plen);
        if (pl == NULL)
            continue;
        if (n >= SC_ARRAY_LEN(HEP_PCAP_WANT)) {
            n++;
            continue;
        }
        struct packet p;
        struct hep_info info;
        enum hep_error why;
        uint8_t *heap;
        CHECK(hep_looks_like(pl, plen));
        CHECK_EQ_INT(hep_frame_length(pl, plen), plen);
        enum sc_ret rc = decode_copy(pl, plen, &heap, &p, &info, ibuf, sizeof(ibuf), &why);
        CHECK_EQ_INT(info.version, 3);
        CHECK_EQ_INT(info.proto_type, HEP_PCAP_WANT[n].ptype);
        CHECK_EQ_INT(info.capture_id, 2001);
        CHECK_EQ_SV(info.auth_key, "myHep");
        CHECK_EQ_SV(info.correlation_id, "qgf3dm9rudi@127.0.0.1");
        if (HEP_PCAP_WANT[n].start_line == NULL) {
            CHECK_EQ_INT(rc, SC_DECLINED);
            CHECK_EQ_INT(why, HEP_NOT_SIP);
            declined++;
        } else {
            CHECK_REPORT(rc == SC_OK, "HEP packet %zu: %s", n + 1, hep_error_name(why));
            if (rc == SC_OK) {
                char a[64];
                sip++;
                CHECK_EQ_STR(packet_addr_str(&p, 1, a, sizeof(a)), HEP_PCAP_WANT[n].src);
                CHECK_EQ_STR(packet_addr_str(&p, 0, a, sizeof(a)), HEP_PCAP_WANT[n].dst);
                CHECK_EQ_INT(p.sport, HEP_PCAP_WANT[n].sport);
                CHECK_EQ_INT(p.dport, HEP_PCAP_WANT[n].dport);
                CHECK_EQ_INT(p.l4proto, 17);
                CHECK_EQ_INT(p.ts_us, (int64_t)HEP_PCAP_WANT[n].ts_sec * 1000000 + HEP_PCAP_WANT[n].ts_usec);
                size_t sl = strlen(HEP_PCAP_WANT[n].start_line);
                /* This hepgen demo ends its lines with a bare LF. */
                CHECK_REPORT(p.len > sl + 1 && memcmp(p.payload, HEP_PCAP_WANT[n].start_line, sl) == 0 &&
                                 p.payload[sl] == '\n',
                             "HEP packet %zu: start line", n + 1);
                CHECK(contains(p.payload, p.len, "qgf3dm9rudi@127.0.0.1"));
            }
        }
        free(heap);
        n++;
    }
    pcap_close(pc);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(sip, 6);
    CHECK_EQ_INT(declined, 2);
}

int main(void)
{
    RUN(test_v3_ipv4_udp);
    RUN(test_v3_ipv6_tcp);
    RUN(test_v3_timestamps);
    RUN(test_v3_stream);
    RUN(test_v2);
    RUN(test_v1);
    RUN(test_v12_truncations);
    RUN(test_compressed);
    RUN(test_inflate_bomb);
    RUN(test_not_sip_declined);
    RUN(test_not_hep);
    RUN(test_truncations);
    RUN(test_chunk_lengths);
    RUN(test_total_length);
    RUN(test_missing_chunks);
    RUN(test_bad_values);
    RUN(test_error_names);
    RUN(test_wireshark_capture);
    return check_summary();
}
