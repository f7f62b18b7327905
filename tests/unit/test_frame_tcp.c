/* test_frame_tcp.c - SIP over TCP: reassembly, RFC 3261 §18.3 framing, and
 * the product promise that body bytes are never held.
 *
 * Segments are built by hand (no pcap): each payload is a heap copy of
 * exactly its length, so ASan catches any read past it, and after every feed
 * the copy must be all zeros (the module wipes what it was given). Bodies
 * carry a canary that must never appear in a delivered header section, and,
 * whenever the framing already knows they are body, never in held memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "check.h"
#include "frame_tcp.h"
#include "sc.h"

#define CANARY "CANARY-TCP-BODY"
#define ISN_C 1000u                /* client initial sequence number */
#define ISN_S 0x7ffffff0u          /* server */
#define ISN_WRAP 0xfffffff0u       /* data crosses 2^32 after 15 bytes */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10
#define SEC 1000000LL

#define MAX_KEPT 8

/* What the callback saw. Every message is counted; the first MAX_KEPT are kept. */
struct sink {
    int n;
    int canary_seen;
    uint64_t digest; /* FNV-1a over every delivered section, in order */
    char msg[MAX_KEPT][2048];
    struct packet seg[MAX_KEPT];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static void on_msg(void *ctx, const struct packet *seg, uint8_t *hdr, size_t len)
{
    struct sink *k = ctx;
    if (memmem(hdr, len, CANARY, strlen(CANARY)) != NULL)
        k->canary_seen++;
    /* Delivered in place: every body byte before this header in the same
     * segment must already be wiped. */
    if (seg->payload != NULL && hdr >= seg->payload && hdr < seg->payload + seg->len &&
        memmem(seg->payload, (size_t)(hdr - seg->payload), CANARY, strlen(CANARY)) != NULL)
        k->canary_seen++;
    k->digest = fnv(k->digest, hdr, len);
    if (k->n < MAX_KEPT) {
        size_t m = len < sizeof(k->msg[0]) - 1 ? len : sizeof(k->msg[0]) - 1;
        memcpy(k->msg[k->n], hdr, m);
        k->msg[k->n][m] = '\0';
        k->seg[k->n] = *seg;
    }
    k->n++;
}

static int payload_nonzero; /* segments whose payload was not wiped on return */

/* One segment of connection number conn (client 10.x.y.z:port -> server
 * 10.0.0.2:5060 for dir 0, the reverse for dir 1). */
static void seg_conn(struct tcpreasm *t, struct sink *k, uint32_t conn, int dir, uint32_t seq, uint8_t flags,
                     const void *data, size_t len, int64_t ts)
{
    uint8_t cli[4] = {10, (uint8_t)(1 + (conn >> 16)), (uint8_t)(conn >> 8), (uint8_t)conn};
    uint8_t srv[4] = {10, 0, 0, 2};
    uint8_t *buf = malloc(len > 0 ? len : 1);
    if (len > 0)
        memcpy(buf, data, len);
    struct packet p = {0};
    p.ts_us = ts;
    p.af = 4;
    p.l4proto = 6;
    memcpy(p.src, dir == 0 ? cli : srv, 4);
    memcpy(p.dst, dir == 0 ? srv : cli, 4);
    p.sport = dir == 0 ? (uint16_t)(40000 + (conn & 0x3ff)) : 5060;
    p.dport = dir == 0 ? 5060 : (uint16_t)(40000 + (conn & 0x3ff));
    p.tcp_flags = flags;
    p.tcp_seq = seq;
    p.payload = buf;
    p.len = len;
    tcpreasm_feed(t, &p, on_msg, k);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != 0) {
            payload_nonzero++;
            break;
        }
    }
    free(buf);
}

static void seg(struct tcpreasm *t, struct sink *k, int dir, uint32_t seq, uint8_t flags, const void *data,
                size_t len)
{
    seg_conn(t, k, 0, dir, seq, flags, data, len, 100 * SEC);
}

static void seg_str(struct tcpreasm *t, struct sink *k, int dir, uint32_t seq, const char *s)
{
    seg(t, k, dir, seq, F_ACK, s, strlen(s));
}

static void setup(struct tcpreasm *t, struct sink *k, const struct tcp_limits *lim)
{
    memset(k, 0, sizeof(*k));
    CHECK_EQ_INT(tcpreasm_init(t, lim), 0);
}

static void syn(struct tcpreasm *t, struct sink *k, uint32_t isn)
{
    seg(t, k, 0, isn, F_SYN, NULL, 0);
}

/* Nothing left held once a test is over, and nothing ever leaked into a header. */
static void teardown(struct tcpreasm *t, struct sink *k)
{
    CHECK_EQ_INT(k->canary_seen, 0);
    CHECK_EQ_INT(tcpreasm_held_contains(t, CANARY, strlen(CANARY)), 0);
    CHECK_EQ_INT(payload_nonzero, 0);
    tcpreasm_free(t);
}

#define INV "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n"
#define HDR0 INV "Content-Length: 0\r\n\r\n"
#define MSG_HDR "MESSAGE sip:+15550001@ims SIP/2.0\r\nCall-ID: m1\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n\r\n"
#define MSG MSG_HDR CANARY
#define OK_HDR "SIP/2.0 200 OK\r\nCall-ID: m1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"

static void single_message(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    seg_str(&t, &k, 0, ISN_C + 1, HDR0);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], HDR0);
    CHECK_EQ_INT(k.seg[0].sport, 40000);
    CHECK_EQ_INT(t.stats.messages, 1);
    CHECK_EQ_INT(t.stats.streams_opened, 1);
    CHECK_EQ_INT(t.stats.resyncs, 0);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    /* The answer comes the other way on the same stream object. */
    seg(&t, &k, 1, ISN_S, F_SYN | F_ACK, NULL, 0);
    seg_str(&t, &k, 1, ISN_S + 1, OK_HDR);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[1], OK_HDR);
    CHECK_EQ_INT(k.seg[1].sport, 5060);
    CHECK_EQ_INT(t.stats.streams_opened, 1);
    CHECK_EQ_INT(t.stats.streams_live, 1);
    teardown(&t, &k);
}

/* MESSAGE with a canary body, then a 200 OK, split into two segments at
 * every byte; in order, and with the second half arriving first. Sequence
 * numbers wrap through 2^32 inside the first message. */
static void split_at_every_byte(void)
{
    const char *stream = MSG OK_HDR;
    size_t len = strlen(stream);
    int bad = 0, held_body = 0;
    for (int reversed = 0; reversed < 2; reversed++) {
        for (size_t cut = 1; cut < len; cut++) {
            struct tcpreasm t;
            struct sink k;
            setup(&t, &k, NULL);
            syn(&t, &k, ISN_WRAP);
            uint32_t s0 = ISN_WRAP + 1;
            if (!reversed) {
                seg(&t, &k, 0, s0, F_ACK, stream, cut);
                held_body += tcpreasm_held_contains(&t, CANARY, strlen(CANARY));
                seg(&t, &k, 0, s0 + (uint32_t)cut, F_ACK, stream + cut, len - cut);
            } else {
                seg(&t, &k, 0, s0 + (uint32_t)cut, F_ACK, stream + cut, len - cut);
                seg(&t, &k, 0, s0, F_ACK, stream, cut);
            }
            held_body += tcpreasm_held_contains(&t, CANARY, strlen(CANARY));
            if (k.n != 2 || strcmp(k.msg[0], MSG_HDR) != 0 || strcmp(k.msg[1], OK_HDR) != 0 ||
                t.stats.body_bytes_skipped != 15 || t.stats.bytes_held != 0 || t.stats.resyncs != 0) {
                if (bad++ < 3)
                    fprintf(stderr, "split %zu reversed %d: n=%d skipped=%llu held=%llu\n", cut, reversed, k.n,
                            (unsigned long long)t.stats.body_bytes_skipped,
                            (unsigned long long)t.stats.bytes_held);
            }
            teardown(&t, &k);
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(held_body, 0);
}

/* The same stream one byte per segment: the header buffer grows and the
 * body is skipped a byte at a time. */
static void one_byte_segments(void)
{
    const char *stream = MSG OK_HDR MSG;
    size_t len = strlen(stream);
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_WRAP);
    int held_body = 0;
    for (size_t i = 0; i < len; i++) {
        seg(&t, &k, 0, ISN_WRAP + 1 + (uint32_t)i, F_ACK, stream + i, 1);
        held_body += tcpreasm_held_contains(&t, CANARY, strlen(CANARY));
    }
    CHECK_EQ_INT(held_body, 0);
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_STR(k.msg[0], MSG_HDR);
    CHECK_EQ_STR(k.msg[1], OK_HDR);
    CHECK_EQ_STR(k.msg[2], MSG_HDR);
    CHECK_EQ_INT(t.stats.body_bytes_skipped, 30);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    CHECK(t.stats.bytes_held_peak <= 256);
    teardown(&t, &k);
}

static void pipelined_three(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    seg_str(&t, &k, 0, ISN_C + 1, MSG HDR0 MSG);
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_STR(k.msg[0], MSG_HDR);
    CHECK_EQ_STR(k.msg[1], HDR0);
    CHECK_EQ_STR(k.msg[2], MSG_HDR);
    CHECK_EQ_INT(t.stats.body_bytes_skipped, 30);
    teardown(&t, &k);
}

/* Five segments in reverse order. Until the header arrives nobody knows
 * which held bytes are body; once the gap fills, nothing is left held. */
static void out_of_order_reverse(void)
{
    const char *stream = MSG OK_HDR MSG;
    size_t len = strlen(stream), part = len / 5 + 1;
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    for (int i = 4; i >= 0; i--) {
        size_t off = (size_t)i * part, n = off + part <= len ? part : len - off;
        seg(&t, &k, 0, ISN_C + 1 + (uint32_t)off, F_ACK, stream + off, n);
        if (i > 0)
            CHECK_EQ_INT(k.n, 0);
    }
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_STR(k.msg[0], MSG_HDR);
    CHECK_EQ_STR(k.msg[1], OK_HDR);
    CHECK_EQ_STR(k.msg[2], MSG_HDR);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    CHECK_EQ_INT(t.stats.gaps, 0);
    CHECK_EQ_INT(t.stats.resyncs, 0);
    teardown(&t, &k);
}

/* Once the header is in, body bytes that arrive ahead of a gap are known to
 * be body: held as a range, not as bytes. */
static void out_of_order_body_not_held(void)
{
    const char *body = "0123456789" CANARY "abcdefghij"; /* 35 bytes */
    char hdr[256];
    int hl = snprintf(hdr, sizeof(hdr), "MESSAGE sip:a@b SIP/2.0\r\nl: %zu\r\n\r\n", strlen(body));
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    uint32_t s = ISN_C + 1;
    seg(&t, &k, 0, s, F_ACK, hdr, (size_t)hl);
    CHECK_EQ_INT(k.n, 1);
    /* Bytes 10.. of the body, then the next message, arrive before bytes 0..9. */
    char rest[512];
    int rl = snprintf(rest, sizeof(rest), "%s%s", body + 10, OK_HDR);
    seg(&t, &k, 0, s + (uint32_t)hl + 10, F_ACK, rest, (size_t)rl);
    CHECK_EQ_INT(tcpreasm_held_contains(&t, CANARY, strlen(CANARY)), 0);
    CHECK_EQ_INT(tcpreasm_held_contains(&t, "SIP/2.0 200 OK", 14), 1); /* headers may be held */
    CHECK_EQ_INT(k.n, 1);
    seg(&t, &k, 0, s + (uint32_t)hl, F_ACK, body, 10);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[1], OK_HDR);
    CHECK_EQ_INT(t.stats.body_bytes_skipped, 35);
    CHECK_EQ_INT(t.stats.bytes_held, 0);

    /* The other order: the body tail arrives before its header, so it is
     * held as bytes; once the header completes, the held tail is known to be
     * body and is wiped and dropped before the gap fills. */
    uint32_t s2 = s + (uint32_t)hl + (uint32_t)strlen(body) + (uint32_t)strlen(OK_HDR);
    char m2[512];
    int ml = snprintf(m2, sizeof(m2), "%s%s", hdr, body);
    seg(&t, &k, 0, s2 + (uint32_t)hl + 10, F_ACK, m2 + hl + 10, (size_t)ml - (size_t)hl - 10); /* body tail */
    CHECK_EQ_INT(tcpreasm_held_contains(&t, CANARY, strlen(CANARY)), 1); /* framing cannot know yet */
    seg(&t, &k, 0, s2, F_ACK, m2, (size_t)hl);                                    /* header */
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_INT(tcpreasm_held_contains(&t, CANARY, strlen(CANARY)), 0); /* now it does */
    CHECK(t.stats.bytes_held > 0 && t.stats.bytes_held < 64);           /* a bare range */
    seg(&t, &k, 0, s2 + (uint32_t)hl, F_ACK, m2 + hl, 10);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    CHECK_EQ_INT(t.stats.body_bytes_skipped, 70);
    teardown(&t, &k);
}

static void retransmission_and_overlap(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    uint32_t s = ISN_C + 1;
    seg_str(&t, &k, 0, s, MSG);
    seg_str(&t, &k, 0, s, MSG); /* whole segment again */
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_INT(t.stats.retransmissions, 1);
    CHECK_EQ_INT(t.stats.overlaps, 0);

    /* The next message arrives as [0,20) then [10,len): 10 bytes overlap. */
    s += (uint32_t)strlen(MSG);
    const char *m = OK_HDR;
    size_t ml = strlen(m);
    seg(&t, &k, 0, s, F_ACK, m, 20);
    seg(&t, &k, 0, s + 10, F_ACK, m + 10, ml - 10);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[1], OK_HDR);
    CHECK_EQ_INT(t.stats.overlaps, 1);

    /* First copy wins: [20,len) held out of order, then [0,len) arrives with
     * different bytes in [20,len). The held bytes are the ones delivered. */
    s += (uint32_t)ml;
    char bad[256];
    memcpy(bad, m, ml);
    memset(bad + 20, 'X', ml - 24); /* keep the final blank line so framing is the same */
    seg(&t, &k, 0, s + 20, F_ACK, m + 20, ml - 20);
    seg(&t, &k, 0, s, F_ACK, bad, ml);
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_STR(k.msg[2], OK_HDR);
    CHECK_EQ_INT(t.stats.overlaps, 2);

    /* A duplicate of held out-of-order data is a retransmission too. */
    s += (uint32_t)ml;
    seg(&t, &k, 0, s + 5, F_ACK, m + 5, ml - 5);
    seg(&t, &k, 0, s + 5, F_ACK, m + 5, ml - 5);
    CHECK_EQ_INT(t.stats.retransmissions, 2);
    seg(&t, &k, 0, s, F_ACK, m, 5);
    CHECK_EQ_INT(k.n, 4);
    CHECK_EQ_STR(k.msg[3], OK_HDR);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    teardown(&t, &k);
}

static void crlf_keepalives(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    uint32_t s = ISN_C + 1;
    const char *parts[] = {"\r\n\r\n", HDR0, "\r\n", "\r\n\r\n" MSG "\r\n\r\n", "\r", "\n", OK_HDR};
    for (size_t i = 0; i < SC_ARRAY_LEN(parts); i++) {
        seg_str(&t, &k, 0, s, parts[i]);
        s += (uint32_t)strlen(parts[i]);
    }
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_STR(k.msg[0], HDR0);
    CHECK_EQ_STR(k.msg[1], MSG_HDR);
    CHECK_EQ_STR(k.msg[2], OK_HDR);
    CHECK_EQ_INT(t.stats.resyncs, 0);
    /* Pongs answer pings the other way. */
    seg(&t, &k, 1, ISN_S, F_SYN | F_ACK, NULL, 0);
    seg_str(&t, &k, 1, ISN_S + 1, "\r\n");
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    teardown(&t, &k);
}

/* Content-Length in its spellings; only at line starts, only exact names. */
static void content_length_forms(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *s1 = "MESSAGE sip:a@b SIP/2.0\r\nX-Content-Length: 99\r\nl: 15\r\n\r\n" CANARY;
    const char *s2 = "MESSAGE sip:a@b SIP/2.0\r\nLocation: 7\r\ncontent-LENGTH :  15 \r\n\r\n" CANARY;
    const char *s3 = "MESSAGE sip:a@b SIP/2.0\r\nL:15\r\nSubject: x\r\n Content-Length: 99\r\n\r\n" CANARY;
    const char *s4 = "MESSAGE sip:a@b SIP/2.0\nCall-ID: lf\nContent-Length: 15\n\n" CANARY; /* bare LF */
    char all[1024];
    int n = snprintf(all, sizeof(all), "%s%s%s%s%s", s1, s2, s3, s4, HDR0);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, all, (size_t)n);
    CHECK_EQ_INT(k.n, 5);
    CHECK_EQ_STR(k.msg[4], HDR0);
    CHECK_EQ_INT(t.stats.body_bytes_skipped, 60);
    CHECK_EQ_INT(t.stats.resyncs, 0);
    teardown(&t, &k);
}

static void missing_content_length_is_zero(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *a = INV "\r\n";
    const char *b = "BYE sip:bob@example.com SIP/2.0\r\nCall-ID: c1\r\n\r\n";
    char all[512];
    int n = snprintf(all, sizeof(all), "%s%s", a, b);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, all, (size_t)n);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[0], a);
    CHECK_EQ_STR(k.msg[1], b);
    teardown(&t, &k);
}

/* A body that is itself a SIP message is skipped by length, never framed. */
static void body_looking_like_sip(void)
{
    const char *inner = "INVITE sip:x SIP/2.0\r\nCall-ID: inner\r\nContent-Length: 0\r\n\r\n" CANARY;
    char hdr[256];
    int hl = snprintf(hdr, sizeof(hdr), "MESSAGE sip:a@b SIP/2.0\r\nContent-Type: message/sip\r\nContent-Length: %zu\r\n\r\n",
                      strlen(inner));
    char all[1024];
    int n = snprintf(all, sizeof(all), "%s%s%s", hdr, inner, OK_HDR);
    for (int split = 0; split < 2; split++) {
        struct tcpreasm t;
        struct sink k;
        setup(&t, &k, NULL);
        syn(&t, &k, ISN_C);
        if (!split) {
            seg(&t, &k, 0, ISN_C + 1, F_ACK, all, (size_t)n);
        } else { /* the inner message starts a segment of its own */
            seg(&t, &k, 0, ISN_C + 1, F_ACK, all, (size_t)hl);
            seg(&t, &k, 0, ISN_C + 1 + (uint32_t)hl, F_ACK, all + hl, (size_t)(n - hl));
        }
        CHECK_EQ_INT(k.n, 2);
        CHECK_EQ_STR(k.msg[0], hdr);
        CHECK_EQ_STR(k.msg[1], OK_HDR);
        for (int i = 0; i < 2; i++)
            CHECK(strstr(k.msg[i], "inner") == NULL);
        teardown(&t, &k);
    }
}

/* Capture starts mid-connection: no SYN, the first bytes are a body tail. */
static void mid_stream_resync(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    uint32_t s = 777777;
    const char *tail = "more " CANARY " text\r\nINVITE is a word here, not SIP/2.0 x\r\nbye\r\n";
    char all[1024];
    int n = snprintf(all, sizeof(all), "%s%s", tail, MSG);
    seg(&t, &k, 0, s, F_ACK, all, (size_t)n);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], MSG_HDR);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    s += (uint32_t)n;
    /* In sync from here: split messages work again. */
    seg(&t, &k, 0, s, F_ACK, OK_HDR, 7);
    seg(&t, &k, 0, s + 7, F_ACK, &OK_HDR[7], strlen(OK_HDR) - 7);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[1], OK_HDR);

    /* Other direction: body tail without a final line end, request in the
     * next segment: the segment start is the candidate. */
    seg(&t, &k, 1, 5000, F_ACK, "tail of an SMS " CANARY, 15 + strlen(CANARY));
    seg_conn(&t, &k, 0, 1, 5000 + 15 + (uint32_t)strlen(CANARY), F_ACK, OK_HDR, strlen(OK_HDR), 100 * SEC);
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_STR(k.msg[2], OK_HDR);
    CHECK_EQ_INT(t.stats.resyncs, 2);
    teardown(&t, &k);
}

/* 2 GB of declared body: skipped by count, nothing allocated for it, and
 * nothing inside it is framed. */
static void huge_content_length(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *h = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2000000000\r\n\r\n";
    uint32_t s = ISN_C + 1;
    seg_str(&t, &k, 0, s, h);
    s += (uint32_t)strlen(h);
    char chunk[1400];
    memset(chunk, 'b', sizeof(chunk));
    memcpy(chunk, "\r\n" MSG, strlen(MSG) + 2);
    memcpy(chunk + 700, OK_HDR, strlen(OK_HDR));
    for (int i = 0; i < 10; i++) {
        seg(&t, &k, 0, s, F_ACK, chunk, sizeof(chunk));
        s += sizeof(chunk);
        CHECK_EQ_INT(t.stats.bytes_held, 0);
    }
    /* Far ahead, still inside the body: a range, not bytes. */
    seg(&t, &k, 0, s + 1000000, F_ACK, chunk, sizeof(chunk));
    CHECK(t.stats.bytes_held > 0 && t.stats.bytes_held < 64);
    CHECK_EQ_INT(tcpreasm_held_contains(&t, CANARY, strlen(CANARY)), 0);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_INT(t.stats.body_bytes_skipped, 14000);
    CHECK(t.stats.bytes_held_peak < 512);
    teardown(&t, &k);
}

/* Headers that never end: dropped at max_header_bytes, memory released,
 * and the next message that starts a segment is found again. */
static void endless_headers(void)
{
    struct tcp_limits lim = {.max_header_bytes = 4096};
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, &lim);
    syn(&t, &k, ISN_C);
    uint32_t s = ISN_C + 1;
    seg_str(&t, &k, 0, s, "OPTIONS sip:a@b SIP/2.0\r\n");
    s += 25;
    char line[100];
    memset(line, 'x', sizeof(line));
    memcpy(line, "X-Junk: ", 8);
    line[98] = '\r';
    line[99] = '\n';
    for (int i = 0; i < 100; i++) {
        seg(&t, &k, 0, s, F_ACK, line, sizeof(line));
        s += sizeof(line);
        CHECK(t.stats.bytes_held <= 4096);
    }
    CHECK_EQ_INT(t.stats.headers_too_long, 1);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    CHECK(t.stats.bytes_held_peak <= 4096);
    CHECK_EQ_INT(k.n, 0);
    seg_str(&t, &k, 0, s, HDR0);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], HDR0);

    /* Not SIP at all on a SYN'd connection: nothing held past the first line. */
    seg_conn(&t, &k, 9, 0, 1, F_SYN, NULL, 0, 100 * SEC);
    char bin[3000];
    memset(bin, 'A', sizeof(bin));
    seg_conn(&t, &k, 9, 0, 2, F_ACK, bin, sizeof(bin), 100 * SEC);
    seg_conn(&t, &k, 9, 0, 3002, F_ACK, bin, sizeof(bin), 100 * SEC);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    CHECK_EQ_INT(k.n, 1);
    teardown(&t, &k);
}

static void invalid_content_length_resyncs(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *a = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 1x5\r\n\r\n";
    char all[512];
    int n = snprintf(all, sizeof(all), "%s%s", a, CANARY);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, all, (size_t)n);
    seg_str(&t, &k, 0, ISN_C + 1 + (uint32_t)n, OK_HDR);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[0], a);
    CHECK_EQ_STR(k.msg[1], OK_HDR);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    teardown(&t, &k);
}

/* A Content-Length that is too short leaves body bytes where the next
 * message should start. They are not a start line, so they are resynced
 * over (wiped), never taken as headers. */
static void short_content_length(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *a = "MESSAGE sip:a@b SIP/2.0\r\nl: 5\r\n\r\n";
    char all[512];
    int n = snprintf(all, sizeof(all), "%shello%s\r\nsecond line\r\n%s", a, CANARY, OK_HDR);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, all, (size_t)n);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[0], a);
    CHECK_EQ_STR(k.msg[1], OK_HDR);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    teardown(&t, &k);
}

/* A too-short Content-Length that leaves body bytes glued to the next
 * request line: the glued line is not a start line, so nothing of the body
 * is delivered; the stream resyncs and finds the message after. */
static void short_content_length_glued(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *a = "MESSAGE sip:a@b SIP/2.0\r\nl: 5\r\n\r\n";
    char all[1024];
    int n = snprintf(all, sizeof(all), "%shello%s%s", a, CANARY, MSG);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, all, (size_t)n);
    const char *glued[] = {("hello" CANARY), "HELLO", "HELLO-X", "SIP/2.0 "};
    uint32_t s = ISN_C + 1 + (uint32_t)n;
    for (size_t i = 0; i < SC_ARRAY_LEN(glued); i++) { /* also glued to a line start in sync */
        n = snprintf(all, sizeof(all), "%s%s%s", a, "hello", glued[i]);
        n += snprintf(all + n, sizeof(all) - (size_t)n, "%s", MSG);
        seg(&t, &k, 0, s, F_ACK, all, (size_t)n);
        s += (uint32_t)n;
    }
    seg_str(&t, &k, 0, s, OK_HDR);
    CHECK_EQ_INT(k.n, 6);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_STR(k.msg[i], a);
    CHECK_EQ_STR(k.msg[5], OK_HDR);
    teardown(&t, &k);
}

/* Another protocol on a connection we saw open: no message, nothing held. */
static void not_sip_on_synced_stream(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *http = "GET / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n";
    seg_str(&t, &k, 0, ISN_C + 1, http);
    CHECK_EQ_INT(k.n, 0);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    teardown(&t, &k);
}

/* Extension methods are not framed over TCP (the price of the start-line
 * shape check); the stream resyncs past them and goes on. */
static void extension_method_resyncs(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    const char *ext = "FOOBAR sip:a@b SIP/2.0\r\nl: 15\r\n\r\n" CANARY;
    uint32_t s = ISN_C + 1;
    seg_str(&t, &k, 0, s, ext);
    s += (uint32_t)strlen(ext);
    seg_str(&t, &k, 0, s, HDR0);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], HDR0);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    teardown(&t, &k);
}

static void fin_and_rst(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    seg(&t, &k, 1, ISN_S, F_SYN | F_ACK, NULL, 0);
    seg(&t, &k, 0, ISN_C + 1, F_ACK | F_FIN, HDR0, strlen(HDR0));
    CHECK_EQ_INT(t.stats.streams_live, 1); /* the other way is still open */
    seg(&t, &k, 1, ISN_S + 1, F_ACK | F_FIN, OK_HDR, strlen(OK_HDR));
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_INT(t.stats.streams_closed, 1);
    CHECK_EQ_INT(t.stats.streams_live, 0);
    /* A late bare ACK creates nothing. */
    seg(&t, &k, 0, ISN_C + 2 + (uint32_t)strlen(HDR0), F_ACK, NULL, 0);
    CHECK_EQ_INT(t.stats.streams_live, 0);

    /* FIN ahead of a gap waits for the gap. */
    syn(&t, &k, ISN_C);
    seg(&t, &k, 0, ISN_C + 11, F_ACK | F_FIN, &HDR0[10], strlen(HDR0) - 10);
    CHECK_EQ_INT(t.stats.streams_live, 1);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, HDR0, 10);
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_INT(t.stats.streams_live, 0);
    CHECK_EQ_INT(t.stats.streams_closed, 2);

    /* RST drops a partial header at once. */
    syn(&t, &k, ISN_C);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, HDR0, 30);
    CHECK(t.stats.bytes_held > 0);
    seg(&t, &k, 1, ISN_S, F_RST, NULL, 0);
    CHECK_EQ_INT(t.stats.streams_live, 0);
    CHECK_EQ_INT(t.stats.streams_closed, 3);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    CHECK_EQ_INT(k.n, 3);
    teardown(&t, &k);
}

static void idle_expiry(void)
{
    struct tcp_limits lim = {.idle_timeout_us = 60 * SEC};
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, &lim);
    /* Stream 1: a partial header. Stream 2: a message held behind a gap. */
    seg_conn(&t, &k, 1, 0, ISN_C, F_SYN, NULL, 0, 100 * SEC);
    seg_conn(&t, &k, 1, 0, ISN_C + 1, F_ACK, HDR0, 40, 100 * SEC);
    seg_conn(&t, &k, 2, 0, ISN_C, F_SYN, NULL, 0, 110 * SEC);
    seg_conn(&t, &k, 2, 0, ISN_C + 101, F_ACK, OK_HDR, strlen(OK_HDR), 110 * SEC);
    CHECK_EQ_INT(t.stats.streams_live, 2);
    CHECK(t.stats.bytes_held > 0);
    CHECK_EQ_INT(tcpreasm_expire(&t, 159 * SEC, 100, on_msg, &k), 0);
    CHECK_EQ_INT(tcpreasm_expire(&t, 160 * SEC, 100, on_msg, &k), 1);
    CHECK_EQ_INT(t.stats.streams_live, 1);
    CHECK_EQ_INT(k.n, 0);
    CHECK_EQ_INT(tcpreasm_expire(&t, 1000 * SEC, 100, on_msg, &k), 1);
    CHECK_EQ_INT(k.n, 1); /* the gap was given up, the held message delivered */
    CHECK_EQ_STR(k.msg[0], OK_HDR);
    CHECK_EQ_INT(k.seg[0].ts_us, 1000 * SEC);
    CHECK_EQ_INT(k.seg[0].dport, 5060);
    CHECK_EQ_INT(t.stats.gaps, 1);
    CHECK_EQ_INT(t.stats.streams_timed_out, 2);
    CHECK_EQ_INT(t.stats.streams_live, 0);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    teardown(&t, &k);
}

/* A lost segment: once held data passes max_stream_bytes the gap is given
 * up. Inside a body that costs nothing; elsewhere it costs a resync. */
static void gap_given_up(void)
{
    struct tcp_limits lim = {.max_stream_bytes = 1024};
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, &lim);
    syn(&t, &k, ISN_C);
    uint32_t s = ISN_C + 1;
    size_t ml = strlen(MSG), ol = strlen(OK_HDR);
    s += (uint32_t)ml; /* the first MESSAGE is lost */
    for (int i = 0; i < 20; i++) {
        seg_str(&t, &k, 0, s, OK_HDR);
        s += (uint32_t)ol;
        CHECK(t.stats.bytes_held <= 1024);
    }
    CHECK_EQ_INT(t.stats.gaps, 1);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    CHECK_EQ_INT(k.n, 20); /* every segment after the gap starts a message */
    CHECK_EQ_INT(t.stats.bytes_held, 0);

    /* Lost segment inside a body: framing continues, no resync. */
    const char *h = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 3000\r\n\r\n";
    seg_str(&t, &k, 0, s, h);
    s += (uint32_t)strlen(h);
    char body[1000];
    memset(body, 'b', sizeof(body));
    memcpy(body, CANARY, strlen(CANARY));
    seg(&t, &k, 0, s + 1000, F_ACK, body, sizeof(body)); /* the first 1000 are lost */
    seg(&t, &k, 0, s + 2000, F_ACK, body, sizeof(body));
    CHECK_EQ_INT(tcpreasm_held_contains(&t, CANARY, strlen(CANARY)), 0);
    s += 3000;
    for (int i = 0; i < 20; i++) {
        seg_str(&t, &k, 0, s, OK_HDR);
        s += (uint32_t)ol;
    }
    CHECK_EQ_INT(t.stats.gaps, 2);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    CHECK_EQ_INT(k.n, 41);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    teardown(&t, &k);
}

/* A truncated segment means bytes that will never come: no waiting. */
static void truncated_segment(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    uint8_t buf[64];
    memcpy(buf, MSG, 64);
    struct packet p = {0};
    p.ts_us = 100 * SEC;
    p.af = 4;
    p.l4proto = 6;
    p.src[0] = 10;
    p.src[1] = 1;
    p.dst[0] = 10;
    p.dst[3] = 2;
    p.sport = 40000;
    p.dport = 5060;
    p.tcp_flags = F_ACK;
    p.tcp_seq = ISN_C + 1;
    p.payload = buf;
    p.len = sizeof(buf);
    p.truncated = 1;
    tcpreasm_feed(&t, &p, on_msg, &k);
    seg_str(&t, &k, 0, ISN_C + 1 + (uint32_t)strlen(MSG), OK_HDR);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], OK_HDR);
    CHECK_EQ_INT(t.stats.gaps, 1);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    teardown(&t, &k);
}

/* A new connection reusing the 4-tuple (new SYN, new ISN) starts clean. */
static void syn_reuses_tuple(void)
{
    struct tcpreasm t;
    struct sink k;
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    seg(&t, &k, 0, ISN_C + 1, F_ACK, HDR0, 20);
    syn(&t, &k, ISN_C); /* retransmitted SYN: nothing changes */
    CHECK(t.stats.bytes_held > 0);
    syn(&t, &k, 5000000);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    seg_str(&t, &k, 0, 5000001, OK_HDR);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], OK_HDR);
    teardown(&t, &k);
}

/* Heap bytes in use (glibc; 0 elsewhere, and meaningless under ASan, whose
 * allocator glibc does not see). Unlike RSS this is not skewed by memory an
 * earlier run freed and malloc kept. */
/* xorshift: a fixed seed makes the random tests replay the same way. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rng(uint32_t bound)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % bound);
}

struct piece {
    size_t off, len;
};

/* A 40-message stream (bodies with canaries, keep-alives) cut at random
 * places, delivered with local reordering, duplicates and retransmissions
 * cut at other places. With nothing lost, every header section arrives
 * once, in order, with no resync and no gap. */
static void random_segmentation(void)
{
    enum { MSGS = 40, MAXP = 4096 };
    static char stream[16384];
    static const char *expect[MSGS];
    static char hdrs[MSGS][256];
    size_t len = 0;
    for (int i = 0; i < MSGS; i++) {
        int body = (int)rng(3) * 15; /* 0, 15 or 30 bytes of canary */
        int n = snprintf(hdrs[i], sizeof(hdrs[i]), "MESSAGE sip:u%d@b SIP/2.0\r\nCSeq: %d MESSAGE\r\n%s: %d\r\n\r\n", i,
                         i, rng(2) ? "l" : "Content-Length", body);
        expect[i] = hdrs[i];
        memcpy(stream + len, hdrs[i], (size_t)n);
        len += (size_t)n;
        for (int b = 0; b < body; b += 15) {
            memcpy(stream + len, CANARY, 15);
            len += 15;
        }
        if (rng(4) == 0) {
            memcpy(stream + len, "\r\n\r\n", 4);
            len += 4;
        }
    }
    uint64_t want = 0;
    for (int i = 0; i < MSGS; i++)
        want = fnv(want, expect[i], strlen(expect[i]));
    int bad = 0;
    for (int round = 0; round < 200; round++) {
        static struct piece p[MAXP];
        size_t np = 0;
        for (size_t off = 0; off < len && np < MAXP - 1;) {
            size_t n = 1 + rng(round % 2 ? 40 : 300);
            if (n > len - off)
                n = len - off;
            p[np++] = (struct piece){off, n};
            off += n;
        }
        /* Local reordering: swap neighbours within a window of 6. */
        for (size_t i = 0; i + 1 < np; i++) {
            size_t j = i + 1 + rng(5);
            if (j < np && rng(3) == 0) {
                struct piece tmp = p[i];
                p[i] = p[j];
                p[j] = tmp;
            }
        }
        struct tcpreasm t;
        struct sink k;
        setup(&t, &k, NULL);
        uint32_t isn = round % 3 == 0 ? ISN_WRAP - (uint32_t)rng(4000) : (uint32_t)rng(0xffffffffu);
        syn(&t, &k, isn);
        int held_body = 0;
        for (size_t i = 0; i < np; i++) {
            seg(&t, &k, 0, isn + 1 + (uint32_t)p[i].off, F_ACK, stream + p[i].off, p[i].len);
            if (rng(8) == 0) /* duplicate */
                seg(&t, &k, 0, isn + 1 + (uint32_t)p[i].off, F_ACK, stream + p[i].off, p[i].len);
            if (rng(8) == 0 && p[i].off > 0) { /* retransmission cut elsewhere, reaching back */
                size_t back = 1 + rng(60), off = p[i].off > back ? p[i].off - back : 0;
                size_t n = p[i].off + p[i].len - off + rng(30);
                if (off + n > len)
                    n = len - off;
                seg(&t, &k, 0, isn + 1 + (uint32_t)off, F_ACK, stream + off, n);
            }
        }
        held_body += tcpreasm_held_contains(&t, CANARY, strlen(CANARY));
        int ok = k.n == MSGS && k.digest == want && t.stats.resyncs == 0 && t.stats.gaps == 0 &&
                 t.stats.bytes_held == 0 && held_body == 0;
        if (!ok && bad++ < 3)
            fprintf(stderr, "round %d: n=%d resyncs=%llu gaps=%llu held=%llu\n", round, k.n,
                    (unsigned long long)t.stats.resyncs, (unsigned long long)t.stats.gaps,
                    (unsigned long long)t.stats.bytes_held);
        teardown(&t, &k);
    }
    CHECK_EQ_INT(bad, 0);
}

/* Losses: segments dropped at random, small per-stream budget. Whatever
 * is lost, every section delivered is one that was sent (never a body, never
 * a torn start line), memory stays within budget, and expiry frees all. */
struct loss_sink {
    int n, foreign;
    const char (*hdrs)[256];
    int nhdrs;
};

static void on_loss_msg(void *ctx, const struct packet *seg, uint8_t *hdr, size_t len)
{
    struct loss_sink *k = ctx;
    (void)seg;
    int found = 0;
    for (int i = 0; i < k->nhdrs && !found; i++)
        found = strlen(k->hdrs[i]) == len && memcmp(k->hdrs[i], hdr, len) == 0;
    if (!found && k->foreign < 3 && getenv("FT_DEBUG") != NULL)
        fprintf(stderr, "foreign: [%.*s]\n", (int)len, (const char *)hdr);
    k->foreign += !found;
    k->n++;
}

static void random_loss(void)
{
    enum { MSGS = 60 };
    static char stream[32768];
    static char hdrs[MSGS][256];
    size_t len = 0;
    for (int i = 0; i < MSGS; i++) {
        int body = (int)rng(4) * 15;
        int n = snprintf(hdrs[i], sizeof(hdrs[i]),
                         "%s sip:u%d@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK%d\r\nCSeq: %d X\r\nl: %d\r\n\r\n",
                         i % 3 ? "MESSAGE" : "INVITE", i, i, i, body);
        memcpy(stream + len, hdrs[i], (size_t)n);
        len += (size_t)n;
        for (int b = 0; b < body; b += 15) {
            memcpy(stream + len, CANARY, 15);
            len += 15;
        }
    }
    struct tcp_limits lim = {.max_stream_bytes = 1024, .max_header_bytes = 512, .idle_timeout_us = SEC};
    int delivered = 0, foreign = 0, over = 0;
    for (int round = 0; round < 300; round++) {
        struct tcpreasm t;
        CHECK_EQ_INT(tcpreasm_init(&t, &lim), 0);
        struct loss_sink k = {0, 0, (const char (*)[256])hdrs, MSGS};
        uint32_t isn = (uint32_t)rng(0xffffffffu);
        int have_syn = rng(2);
        size_t off = have_syn ? 0 : rng(400);
        struct packet p = {0};
        p.af = 4;
        p.l4proto = 6;
        p.src[0] = 10;
        p.dst[0] = 11;
        p.sport = 1234;
        p.dport = 5060;
        uint8_t buf[512];
        if (have_syn) {
            p.tcp_flags = F_SYN;
            p.tcp_seq = isn - 1;
            p.len = 0;
            tcpreasm_feed(&t, &p, on_loss_msg, &k);
        }
        while (off < len) {
            size_t n = 1 + rng(round % 2 ? 120 : 400);
            if (n > len - off)
                n = len - off;
            if (rng(12) != 0) {
                memcpy(buf, stream + off, n);
                p.tcp_flags = F_ACK;
                p.tcp_seq = isn + (uint32_t)off;
                p.payload = buf;
                p.len = n;
                p.ts_us = 0;
                tcpreasm_feed(&t, &p, on_loss_msg, &k);
                for (size_t i = 0; i < n; i++)
                    payload_nonzero += buf[i] != 0;
            }
            if (t.stats.bytes_held > 2 * 1024)
                over++;
            off += n;
        }
        /* No canary check here: data held beyond a gap that is still open
         * is of unknown nature (the framing has not reached it). */
        tcpreasm_expire(&t, 10 * SEC, 10, on_loss_msg, &k);
        CHECK_EQ_INT(t.stats.bytes_held, 0);
        CHECK_EQ_INT(t.stats.streams_live, 0);
        delivered += k.n;
        foreign += k.foreign;
        tcpreasm_free(&t);
    }
    CHECK_EQ_INT(foreign, 0);
    CHECK_EQ_INT(over, 0);
    CHECK_EQ_INT(payload_nonzero, 0);
    CHECK(delivered > 300 * MSGS / 4); /* most survive 1-in-12 loss */
    printf("  random loss: %d of %d sections delivered, none foreign\n", delivered, 300 * MSGS);
}

static long heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (long)mi.uordblks;
#else
    return 0;
#endif
}

/* 100,000 connections, each stuck in the middle of a header section. */
static void many_streams_run(size_t max_streams, size_t max_total, int expect_evictions)
{
    struct tcp_limits lim = {.max_streams = max_streams, .max_total_bytes = max_total};
    struct tcpreasm t;
    struct sink k;
    long heap0 = heap_in_use();
    setup(&t, &k, &lim);
    char part[200];
    const uint32_t N = 100000;
    size_t live_max = 0;
    for (uint32_t i = 0; i < N; i++) {
        int n = snprintf(part, sizeof(part),
                         "INVITE sip:+1555%07u@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:%u;branch=z9hG4bK%u\r\n",
                         i, 40000 + (i & 0x3ff), i);
        seg_conn(&t, &k, i, 0, ISN_C, F_SYN, NULL, 0, 100 * SEC + i);
        seg_conn(&t, &k, i, 0, ISN_C + 1, F_ACK, part, (size_t)n, 100 * SEC + i);
        if (t.stats.streams_live > live_max)
            live_max = t.stats.streams_live;
    }
    long heap1 = heap_in_use();
    CHECK_EQ_INT(k.n, 0);
    CHECK(t.stats.bytes_held_peak <= max_total);
    CHECK(live_max <= max_streams);
    CHECK_EQ_INT(t.stats.streams_opened, N);
    CHECK_EQ_INT(t.stats.streams_evicted + t.stats.streams_live, N);
    if (expect_evictions)
        CHECK(t.stats.streams_evicted > 0);
    else
        CHECK_EQ_INT(t.stats.streams_evicted, 0);
    printf("  100k streams, max_streams %zu, max_total_bytes %zu: live %llu, evicted %llu, "
           "peak bytes_held %llu (%.1f MiB), heap in use %.1f MiB\n",
           max_streams, max_total, (unsigned long long)t.stats.streams_live,
           (unsigned long long)t.stats.streams_evicted, (unsigned long long)t.stats.bytes_held_peak,
           (double)t.stats.bytes_held_peak / (1024.0 * 1024.0),
           (double)(heap1 - heap0) / (1024.0 * 1024.0));
    tcpreasm_free(&t);
    CHECK_EQ_INT(payload_nonzero, 0);
}

static void many_streams(void)
{
    many_streams_run(65536, 8u << 20, 1);          /* bytes bound first */
    many_streams_run(50000, 64u << 20, 1);         /* stream count bound */
    many_streams_run(100000, 64u << 20, 0);        /* everything fits: the full cost */
}

/* ---- SIP over WebSocket (RFC 7118) ---------------------------------------- */

#define WS_GET                                                                                          \
    "GET /ws HTTP/1.1\r\nHost: sip.example.com\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"      \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n"                  \
    "Sec-WebSocket-Version: 13\r\n\r\n"
#define WS_101                                                                                          \
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"               \
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
#define WS_MSG_HDR "MESSAGE sip:+15550001@ims SIP/2.0\r\nCall-ID: w1\r\nContent-Length: 15\r\n\r\n"
#define WS_OK_HDR "SIP/2.0 200 OK\r\nCall-ID: w1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"

static const uint8_t WS_KEY[4] = {0x37, 0xfa, 0x21, 0x3d};
static const uint8_t WS_KEY0[4] = {0, 0, 0, 0}; /* masked, yet the canary stays visible to memmem */

/* One WebSocket frame into out (RFC 6455 §5.2): key NULL for unmasked;
 * lenform 7, 16 or 64 picks the length encoding (7 only when len < 126).
 * Returns the frame size. */
static size_t ws_frame(uint8_t *out, int fin, int op, const uint8_t *key, const void *payload, size_t len,
                       int lenform)
{
    size_t at = 0;
    out[at++] = (uint8_t)((fin ? 0x80 : 0) | op);
    uint8_t mask = key != NULL ? 0x80 : 0;
    if (lenform == 7) {
        out[at++] = (uint8_t)(mask | len);
    } else if (lenform == 16) {
        out[at++] = mask | 126;
        out[at++] = (uint8_t)(len >> 8);
        out[at++] = (uint8_t)len;
    } else {
        out[at++] = mask | 127;
        for (int i = 7; i >= 0; i--)
            out[at++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (key != NULL) {
        memcpy(out + at, key, 4);
        at += 4;
    }
    const uint8_t *b = payload;
    for (size_t i = 0; i < len; i++)
        out[at + i] = key != NULL ? (uint8_t)(b[i] ^ key[i & 3]) : b[i];
    return at + len;
}

/* Handshake on a fresh stream; returns the next client and server seqs. */
static void ws_handshake(struct tcpreasm *t, struct sink *k, uint32_t *cseq, uint32_t *sseq)
{
    syn(t, k, ISN_C);
    seg(t, k, 1, ISN_S, F_SYN | F_ACK, NULL, 0);
    seg_str(t, k, 0, ISN_C + 1, WS_GET);
    seg_str(t, k, 1, ISN_S + 1, WS_101);
    *cseq = ISN_C + 1 + (uint32_t)strlen(WS_GET);
    *sseq = ISN_S + 1 + (uint32_t)strlen(WS_101);
}

static void ws_masked_and_unmasked(void)
{
    struct tcpreasm t;
    struct sink k;
    uint32_t cs, ss;
    uint8_t f[512];
    setup(&t, &k, NULL);
    ws_handshake(&t, &k, &cs, &ss);
    CHECK_EQ_INT(k.n, 0); /* HTTP sections are never delivered */
    CHECK_EQ_INT(t.stats.resyncs, 0);
    /* client -> server: masked, 7-bit length, body with the canary */
    size_t n = ws_frame(f, 1, 1, WS_KEY0, WS_MSG_HDR CANARY, strlen(WS_MSG_HDR CANARY), 7);
    seg(&t, &k, 0, cs, F_ACK, f, n);
    cs += (uint32_t)n;
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], WS_MSG_HDR);
    /* with a real key too */
    n = ws_frame(f, 1, 1, WS_KEY, WS_MSG_HDR CANARY, strlen(WS_MSG_HDR CANARY), 7);
    seg(&t, &k, 0, cs, F_ACK, f, n);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[1], WS_MSG_HDR);
    /* server -> client: unmasked, 16-bit length (over 125 bytes) */
    char big[300];
    snprintf(big, sizeof(big), "%s%s%0*d", WS_OK_HDR, CANARY, 150, 0);
    n = ws_frame(f, 1, 1, NULL, big, strlen(big), 16);
    seg(&t, &k, 1, ss, F_ACK, f, n);
    ss += (uint32_t)n;
    CHECK_EQ_INT(k.n, 3);
    CHECK_EQ_STR(k.msg[2], WS_OK_HDR);
    CHECK_EQ_INT(k.seg[2].sport, 5060);
    /* a 64-bit length form, binary opcode */
    n = ws_frame(f, 1, 2, NULL, WS_OK_HDR, strlen(WS_OK_HDR), 64);
    seg(&t, &k, 1, ss, F_ACK, f, n);
    CHECK_EQ_INT(k.n, 4);
    CHECK_EQ_STR(k.msg[3], WS_OK_HDR);
    CHECK_EQ_INT(t.stats.ws_frames, 4);
    CHECK_EQ_INT(t.stats.ws_messages, 4);
    CHECK_EQ_INT(t.stats.messages, 4);
    CHECK_EQ_INT(t.stats.ws_errors, 0);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    teardown(&t, &k);
}

/* The client stream as bytes: one message in three data frames with a ping
 * between them, then a close. The canary sits in the body, split over the
 * last two frames. */
static size_t ws_fragmented_stream(uint8_t *out, const uint8_t *key)
{
    static const char msg[] = WS_MSG_HDR "CANARY-TCP-BODY";
    size_t at = 0, a = 20, b = strlen(WS_MSG_HDR) + 7;
    at += ws_frame(out + at, 0, 1, key, msg, a, 7);
    at += ws_frame(out + at, 1, 9, key, "ping", 4, 7);
    at += ws_frame(out + at, 0, 0, key, msg + a, b - a, 7);
    at += ws_frame(out + at, 1, 0, key, msg + b, strlen(msg) - b, 16);
    at += ws_frame(out + at, 1, 8, key, "\x03\xe8", 2, 7);
    return at;
}

static void ws_fragmented_message(void)
{
    for (int masked = 0; masked < 3; masked++) {
        const uint8_t *key = masked == 0 ? NULL : masked == 1 ? WS_KEY0 : WS_KEY;
        uint8_t f[512];
        size_t n = ws_fragmented_stream(f, key);
        /* split into two segments at every byte, then one byte at a time */
        for (size_t cut = 0; cut <= n + 1; cut++) {
            struct tcpreasm t;
            struct sink k;
            uint32_t cs, ss;
            setup(&t, &k, NULL);
            ws_handshake(&t, &k, &cs, &ss);
            if (cut <= n) {
                seg(&t, &k, 0, cs, F_ACK, f, cut);
                CHECK_EQ_INT(tcpreasm_held_contains(&t, CANARY, strlen(CANARY)), 0);
                seg(&t, &k, 0, cs + (uint32_t)cut, F_ACK, f + cut, n - cut);
            } else {
                for (size_t i = 0; i < n; i++) {
                    seg(&t, &k, 0, cs + (uint32_t)i, F_ACK, f + i, 1);
                    CHECK_REPORT(!tcpreasm_held_contains(&t, "CANARY", 6), "masked %d byte %zu: canary held",
                                 masked, i);
                }
            }
            CHECK_REPORT(k.n == 1 && strcmp(k.msg[0], WS_MSG_HDR) == 0, "masked %d cut %zu: n %d \"%s\"", masked,
                         cut, k.n, k.n > 0 ? k.msg[0] : "");
            CHECK_EQ_INT(t.stats.ws_frames, 5);
            CHECK_EQ_INT(t.stats.ws_errors, 0);
            CHECK_EQ_INT(t.stats.bytes_held, 0);
            teardown(&t, &k);
        }
    }
}

/* Body bytes that arrive ahead of a gap, inside a frame already known to be
 * body, are held as a range only. */
static void ws_out_of_order_body_not_held(void)
{
    struct tcpreasm t;
    struct sink k;
    uint32_t cs, ss;
    uint8_t f[512];
    char body[200];
    snprintf(body, sizeof(body), "%s%0*d%s", WS_MSG_HDR, 100, 0, CANARY);
    size_t n = ws_frame(f, 1, 1, WS_KEY0, body, strlen(body), 16);
    size_t a = 4 + 4 + strlen(WS_MSG_HDR) + 10; /* headers and a little body */
    size_t b = a + 60;
    setup(&t, &k, NULL);
    ws_handshake(&t, &k, &cs, &ss);
    seg(&t, &k, 0, cs, F_ACK, f, a);
    CHECK_EQ_INT(k.n, 1);
    seg(&t, &k, 0, cs + (uint32_t)b, F_ACK, f + b, n - b); /* ahead of a gap */
    CHECK_EQ_INT(tcpreasm_held_contains(&t, CANARY, strlen(CANARY)), 0);
    seg(&t, &k, 0, cs + (uint32_t)a, F_ACK, f + a, b - a);
    n = ws_frame(f, 1, 1, WS_KEY, WS_MSG_HDR, strlen(WS_MSG_HDR), 7);
    seg(&t, &k, 0, cs + (uint32_t)(4 + 4 + strlen(body)), F_ACK, f, n);
    CHECK_EQ_INT(k.n, 2);
    CHECK_EQ_STR(k.msg[1], WS_MSG_HDR);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    CHECK_EQ_INT(t.stats.ws_errors, 0);
    teardown(&t, &k);
}

static void ws_needs_upgrade(void)
{
    struct tcpreasm t;
    struct sink k;
    uint8_t f[256];
    /* a GET without "Upgrade: websocket": not an upgrade, frames not read */
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    seg_str(&t, &k, 0, ISN_C + 1, get);
    size_t n = ws_frame(f, 1, 1, NULL, WS_OK_HDR, strlen(WS_OK_HDR), 7);
    seg(&t, &k, 0, ISN_C + 1 + (uint32_t)strlen(get), F_ACK, f, n);
    CHECK_EQ_INT(t.stats.ws_frames, 0);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    teardown(&t, &k);
    /* an upgrade the server refuses: both halves back to SIP framing */
    setup(&t, &k, NULL);
    syn(&t, &k, ISN_C);
    seg(&t, &k, 1, ISN_S, F_SYN | F_ACK, NULL, 0);
    seg_str(&t, &k, 0, ISN_C + 1, WS_GET);
    static const char no[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    seg_str(&t, &k, 1, ISN_S + 1, no);
    seg_str(&t, &k, 1, ISN_S + 1 + (uint32_t)strlen(no), OK_HDR);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], OK_HDR);
    CHECK_EQ_INT(t.stats.ws_frames, 0);
    teardown(&t, &k);
    /* a status line is no upgrade answer when nobody asked */
    setup(&t, &k, NULL);
    seg(&t, &k, 1, ISN_S, F_SYN | F_ACK, NULL, 0);
    seg_str(&t, &k, 1, ISN_S + 1, WS_101);
    CHECK_EQ_INT(t.stats.resyncs, 1);
    teardown(&t, &k);
}

static void ws_bad_messages(void)
{
    struct tcp_limits lim = {0};
    lim.max_header_bytes = 256;
    struct tcpreasm t;
    struct sink k;
    uint32_t cs, ss;
    uint8_t f[2048];
    setup(&t, &k, &lim);
    ws_handshake(&t, &k, &cs, &ss);
    size_t at = 0;
    /* not SIP */
    at += ws_frame(f + at, 1, 1, WS_KEY, "hello\r\nworld\r\n\r\n", 16, 7);
    /* headers over max_header_bytes */
    char big[600];
    snprintf(big, sizeof(big), "OPTIONS sip:a SIP/2.0\r\nX: %0*d\r\n\r\n", 500, 0);
    at += ws_frame(f + at, 1, 1, WS_KEY, big, strlen(big), 16);
    /* ends before its blank line */
    at += ws_frame(f + at, 1, 1, WS_KEY, "OPTIONS sip:a SIP/2.0\r\nX: 1\r\n", 30, 7);
    /* compressed (RSV1) */
    size_t z = ws_frame(f + at, 1, 1, WS_KEY, WS_OK_HDR, strlen(WS_OK_HDR), 7);
    f[at] |= 0x40;
    at += z;
    /* a continuation of nothing, a reserved opcode */
    at += ws_frame(f + at, 1, 0, WS_KEY, "x", 1, 7);
    at += ws_frame(f + at, 1, 3, WS_KEY, "x", 1, 7);
    /* then a good one */
    at += ws_frame(f + at, 1, 1, WS_KEY, WS_OK_HDR, strlen(WS_OK_HDR), 7);
    seg(&t, &k, 0, cs, F_ACK, f, at);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_STR(k.msg[0], WS_OK_HDR);
    CHECK_EQ_INT(t.stats.ws_errors, 5);
    CHECK_EQ_INT(t.stats.headers_too_long, 1);
    CHECK_EQ_INT(t.stats.ws_frames, 7);
    CHECK_EQ_INT(t.stats.bytes_held, 0);
    cs += (uint32_t)at;
    /* a 64-bit length with the top bit set: the half is lost for good */
    uint8_t bad[10] = {0x81, 127, 0x80};
    seg(&t, &k, 0, cs, F_ACK, bad, sizeof(bad));
    cs += sizeof(bad);
    at = ws_frame(f, 1, 1, NULL, WS_OK_HDR, strlen(WS_OK_HDR), 7);
    seg(&t, &k, 0, cs, F_ACK, f, at);
    CHECK_EQ_INT(k.n, 1);
    CHECK_EQ_INT(t.stats.ws_errors, 6);
    /* the other half still works */
    at = ws_frame(f, 1, 1, NULL, WS_OK_HDR, strlen(WS_OK_HDR), 7);
    seg(&t, &k, 1, ss, F_ACK, f, at);
    CHECK_EQ_INT(k.n, 2);
    teardown(&t, &k);
}

int main(void)
{
    RUN(single_message);
    RUN(split_at_every_byte);
    RUN(one_byte_segments);
    RUN(pipelined_three);
    RUN(out_of_order_reverse);
    RUN(out_of_order_body_not_held);
    RUN(retransmission_and_overlap);
    RUN(crlf_keepalives);
    RUN(content_length_forms);
    RUN(missing_content_length_is_zero);
    RUN(body_looking_like_sip);
    RUN(mid_stream_resync);
    RUN(huge_content_length);
    RUN(endless_headers);
    RUN(invalid_content_length_resyncs);
    RUN(short_content_length);
    RUN(short_content_length_glued);
    RUN(not_sip_on_synced_stream);
    RUN(extension_method_resyncs);
    RUN(fin_and_rst);
    RUN(idle_expiry);
    RUN(gap_given_up);
    RUN(truncated_segment);
    RUN(syn_reuses_tuple);
    RUN(random_segmentation);
    RUN(random_loss);
    RUN(many_streams);
    RUN(ws_masked_and_unmasked);
    RUN(ws_fragmented_message);
    RUN(ws_out_of_order_body_not_held);
    RUN(ws_needs_upgrade);
    RUN(ws_bad_messages);
    return check_summary();
}
