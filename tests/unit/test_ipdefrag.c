/* test_ipdefrag.c - IPv4/IPv6 reassembly: orders, duplicates, overlaps,
 * limits, timeouts, and the privacy rule that body bytes are not held.
 *
 * Fragments are real frames: a datagram is cut into raw IP fragments, each
 * decoded by frame_decode_ex() from a heap copy of exactly its size (ASan
 * sees any stray read), fed, and the output decoded again by
 * frame_decode_ip(). Every module is freed at the end of its test, so the
 * leak checker sees anything left behind.
 */
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame.h"
#include "frame_ipdefrag.h"
#include "privacy.h"

#define T0 1480675281000000LL
#define SEC 1000000LL

static const uint8_t V4_SRC[4] = {10, 0, 0, 1}, V4_DST[4] = {10, 0, 0, 2};
static const uint8_t V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* One datagram to fragment: its UDP datagram (header + payload) is the
 * fragmentable part. */
struct dgram {
    int af;
    uint32_t id;
    uint8_t l4[8192];
    size_t l4_len;
    int hbh; /* v6: a hop-by-hop header in the unfragmentable part */
};

static void dgram_init(struct dgram *g, int af, uint32_t id, const void *payload, size_t len)
{
    memset(g, 0, sizeof(*g));
    g->af = af;
    g->id = id;
    g->l4_len = 8 + len;
    put16(g->l4, 5060);
    put16(g->l4 + 2, 5080);
    put16(g->l4 + 4, (unsigned)g->l4_len);
    memcpy(g->l4 + 8, payload, len);
}

/* A payload of n bytes that differ from their neighbours, so a misplaced
 * range cannot go unnoticed. */
static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('A' + (i * 7 + seed) % 26);
}

/* A raw IP frame holding l4[off, off + len). */
struct frag_frame {
    uint8_t b[9000];
    size_t len;
};

static void make_frag(const struct dgram *g, size_t off, size_t len, int more, struct frag_frame *f)
{
    memset(f, 0, sizeof(*f));
    if (g->af == 4) {
        uint8_t *h = f->b;
        h[0] = 0x45;
        put16(h + 2, (unsigned)(20 + len));
        put16(h + 4, g->id & 0xffff);
        put16(h + 6, (unsigned)((more ? 0x2000 : 0) | off / 8));
        h[8] = 64;
        h[9] = 17;
        memcpy(h + 12, V4_SRC, 4);
        memcpy(h + 16, V4_DST, 4);
        f->len = 20;
    } else {
        uint8_t *h = f->b;
        h[0] = 0x60;
        h[7] = 64;
        memcpy(h + 8, V6_SRC, 16);
        memcpy(h + 24, V6_DST, 16);
        size_t at = 40;
        if (g->hbh) {
            h[6] = 0;
            h[at] = 44; /* hop-by-hop, next: fragment */
            h[at + 2] = 1;
            h[at + 3] = 4; /* PadN */
            at += 8;
        } else {
            h[6] = 44;
        }
        h[at] = 17;
        put16(h + at + 2, (unsigned)(off | (more ? 1 : 0)));
        put32(h + at + 4, g->id);
        at += 8;
        put16(h + 4, (unsigned)(at - 40 + len));
        f->len = at;
    }
    memcpy(f->b + f->len, g->l4 + off, len);
    f->len += len;
}

/* Fragments of g cut at cuts[0] = 0 < cuts[1] < ... < cuts[n] = l4_len. */
struct fragset {
    struct frag_frame *f;
    int n;
};

static void fragset_make(const struct dgram *g, const size_t *cuts, int n, struct fragset *fs)
{
    fs->f = calloc((size_t)n, sizeof(*fs->f));
    fs->n = n;
    for (int i = 0; i < n; i++)
        make_frag(g, cuts[i], cuts[i + 1] - cuts[i], i + 1 < n, &fs->f[i]);
}

static void fragset_free(struct fragset *fs) { free(fs->f); }

/* Decode a heap copy of frame f and feed the fragment. The copy's fragment
 * bytes must be zero afterwards; *wiped says so. */
static enum sc_ret feed_frame(struct ipdefrag *d, const struct frag_frame *f, size_t caplen, int64_t now,
                              uint8_t **out, size_t *out_len)
{
    uint8_t *copy = malloc(caplen);
    memcpy(copy, f->b, caplen);
    struct packet p;
    enum frame_reason why;
    struct frame_fragment fr;
    enum sc_ret rc = frame_decode_ex(DLT_RAW, copy, caplen, caplen, now, &p, &why, &fr);
    CHECK_REPORT(rc == SC_DECLINED && why == FRAME_IP_FRAGMENT, "not a fragment: rc %d why %s", rc,
                 frame_reason_name(why));
    if (rc != SC_DECLINED) {
        free(copy);
        return SC_ERROR;
    }
    rc = ipdefrag_feed(d, &fr, now, out, out_len);
    int zero = 1;
    for (size_t i = 0; i < fr.len; i++)
        zero &= fr.data[i] == 0;
    CHECK_REPORT(zero, "fragment bytes at offset %u not wiped after feeding", fr.offset);
    free(copy);
    return rc;
}

static enum sc_ret feed(struct ipdefrag *d, const struct fragset *fs, int i, int64_t now, uint8_t **out,
                        size_t *out_len)
{
    return feed_frame(d, &fs->f[i], fs->f[i].len, now, out, out_len);
}

/* The output decodes as the original UDP datagram, with a clean IP header. */
static void check_output(const struct dgram *g, uint8_t *out, size_t out_len)
{
    CHECK(out != NULL);
    if (out == NULL)
        return;
    struct packet p;
    enum frame_reason why;
    size_t hdr = g->af == 4 ? 20 : (g->hbh ? 48 : 40);
    CHECK_EQ_INT(out_len, hdr + g->l4_len);
    if (g->af == 4) {
        CHECK_EQ_INT(out[6] | out[7], 0);
        uint32_t sum = 0;
        for (size_t i = 0; i < 20; i += 2)
            sum += (uint32_t)out[i] << 8 | out[i + 1];
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        CHECK_EQ_INT(sum, 0xffff);
    } else {
        CHECK_EQ_INT(out[g->hbh ? 40 : 6], 17);
    }
    enum sc_ret rc = frame_decode_ip(out, out_len, T0, &p, &why);
    CHECK_REPORT(rc == SC_OK, "frame_decode_ip: rc %d why %s", rc, frame_reason_name(why));
    if (rc != SC_OK)
        return;
    CHECK_EQ_INT(p.af, g->af);
    CHECK_EQ_INT(p.l4proto, 17);
    CHECK_EQ_INT(p.sport, 5060);
    CHECK_EQ_INT(p.truncated, 0);
    CHECK(memcmp(p.src, g->af == 4 ? V4_SRC : V6_SRC, g->af == 4 ? 4 : 16) == 0);
    CHECK_EQ_INT(p.len, g->l4_len - 8);
    CHECK(memcmp(p.payload, g->l4 + 8, p.len) == 0);
}

static struct ipdefrag d;
static struct dgram g1;

static void init(const struct ipdefrag_limits *lim)
{
    CHECK_EQ_INT(ipdefrag_init(&d, lim, NULL, NULL), 0);
}

static void check_empty(void)
{
    CHECK_EQ_INT(d.stats.bytes_held, 0);
    CHECK_EQ_INT(d.stats.datagrams_held, 0);
}

static const size_t CUTS3[] = {0, 400, 800, 1000};

static void in_order(void)
{
    init(NULL);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 1);
    dgram_init(&g1, 4, 0x1234, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g1, CUTS3, 3, &fs);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK(out == NULL);
    CHECK_EQ_INT(d.stats.datagrams_held, 1);
    CHECK(d.stats.bytes_held >= 400 + 20);
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_OK);
    check_output(&g1, out, len);
    CHECK_EQ_INT(d.stats.fragments, 3);
    CHECK_EQ_INT(d.stats.reassembled, 1);
    check_empty();
    /* the output lives until the next call, which wipes it */
    CHECK_EQ_INT(ipdefrag_held_contains(&d, pay, 16), 1);
    CHECK_EQ_INT(ipdefrag_expire(&d, T0), 0);
    CHECK_EQ_INT(ipdefrag_held_contains(&d, pay, 16), 0);
    CHECK(d.out == NULL);
    fragset_free(&fs);
    ipdefrag_free(&d);
}

static void reverse_order(void)
{
    init(NULL);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 2);
    dgram_init(&g1, 4, 7, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g1, CUTS3, 3, &fs);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 1, T0 + 1, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 0, T0 + 2, &out, &len), SC_OK);
    check_output(&g1, out, len);
    check_empty();
    fragset_free(&fs);
    ipdefrag_free(&d);
}

/* Every order of four fragments, one datagram id per order. */
static void shuffled(void)
{
    init(NULL);
    static const size_t cuts[] = {0, 296, 592, 1184, 1300};
    uint8_t pay[1292];
    fill_pattern(pay, sizeof(pay), 3);
    int ok = 0;
    for (int perm = 0; perm < 24; perm++) {
        int order[4] = {0, 1, 2, 3};
        int k = perm;
        for (int i = 3; i > 0; i--) { /* the perm-th permutation, factorial base */
            int j = k % (i + 1);
            k /= i + 1;
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        dgram_init(&g1, 4, (uint32_t)(100 + perm), pay, sizeof(pay));
        struct fragset fs;
        fragset_make(&g1, cuts, 4, &fs);
        uint8_t *out = NULL;
        size_t len = 0;
        for (int i = 0; i < 4; i++) {
            enum sc_ret rc = feed(&d, &fs, order[i], T0, &out, &len);
            CHECK_REPORT(rc == (i == 3 ? SC_OK : SC_AGAIN), "order %d%d%d%d step %d: rc %d", order[0], order[1],
                         order[2], order[3], i, rc);
        }
        if (out != NULL) {
            check_output(&g1, out, len);
            ok++;
        }
        fragset_free(&fs);
    }
    CHECK_EQ_INT(ok, 24);
    CHECK_EQ_INT(d.stats.reassembled, 24);
    check_empty();
    ipdefrag_free(&d);
}

static void duplicates_ignored(void)
{
    init(NULL);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 4);
    dgram_init(&g1, 4, 9, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g1, CUTS3, 3, &fs);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
    uint64_t held = d.stats.bytes_held;
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.stats.duplicates, 1);
    CHECK_EQ_INT(d.stats.bytes_held, held);
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.stats.duplicates, 2);
    /* a fragment cut elsewhere that agrees with the bytes held is fine */
    static const size_t other[] = {0, 200, 1000};
    struct fragset fo;
    fragset_make(&g1, other, 2, &fo);
    CHECK_EQ_INT(feed(&d, &fo, 1, T0, &out, &len), SC_OK); /* [200, 1000): overlaps, then completes */
    check_output(&g1, out, len);
    CHECK_EQ_INT(d.stats.overlaps_dropped, 0);
    check_empty();
    /* a duplicate of a finished datagram starts a new one */
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.stats.datagrams_held, 1);
    fragset_free(&fs);
    fragset_free(&fo);
    ipdefrag_free(&d);
}

static void overlap_with_other_bytes_drops_datagram(void)
{
    init(NULL);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 5);
    dgram_init(&g1, 4, 11, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g1, CUTS3, 3, &fs);
    static const size_t other[] = {0, 392, 1000};
    struct dgram g2 = g1;
    g2.l4[395] ^= 0x20; /* differs inside [392, 400), the overlap */
    struct fragset fo;
    fragset_make(&g2, other, 2, &fo);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fo, 1, T0, &out, &len), SC_ERROR);
    CHECK(out == NULL);
    CHECK_EQ_INT(d.stats.overlaps_dropped, 1);
    check_empty();
    CHECK_EQ_INT(ipdefrag_held_contains(&d, g1.l4 + 8, 32), 0);
    /* what comes later starts over and cannot complete without offset 0 */
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    /* a byte that differs outside any overlap is no overlap */
    struct dgram g3 = g1;
    g3.id = 12;
    struct fragset f3;
    fragset_make(&g3, CUTS3, 3, &f3);
    CHECK_EQ_INT(feed(&d, &f3, 2, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &f3, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &f3, 1, T0, &out, &len), SC_OK);
    check_output(&g3, out, len);
    CHECK_EQ_INT(d.stats.overlaps_dropped, 1);
    fragset_free(&fs);
    fragset_free(&fo);
    fragset_free(&f3);
    ipdefrag_free(&d);
}

static void never_completes_times_out(void)
{
    struct ipdefrag_limits lim = {.timeout_us = 30 * SEC};
    init(&lim);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 6);
    dgram_init(&g1, 4, 13, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g1, CUTS3, 3, &fs);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 2, T0 + 5 * SEC, &out, &len), SC_AGAIN);
    CHECK(d.stats.bytes_held > 600);
    CHECK_EQ_INT(ipdefrag_expire(&d, T0 + 30 * SEC - 1), 0);
    CHECK_EQ_INT(d.stats.datagrams_held, 1);
    CHECK_EQ_INT(ipdefrag_expire(&d, T0 + 30 * SEC), 1);
    CHECK_EQ_INT(d.stats.timeouts, 1);
    check_empty();
    CHECK_EQ_INT(ipdefrag_held_contains(&d, pay, 16), 0);
    /* a fragment that comes after the timeout, before any expire call,
     * does not join the stale datagram */
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 1, T0 + 31 * SEC, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.stats.timeouts, 2);
    CHECK_EQ_INT(d.stats.datagrams_held, 1);
    /* time running backwards does not expire anything */
    CHECK_EQ_INT(ipdefrag_expire(&d, T0), 0);
    fragset_free(&fs);
    ipdefrag_free(&d);
}

static void table_full_evicts_oldest(void)
{
    struct ipdefrag_limits lim = {.max_datagrams = 2};
    init(&lim);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 7);
    struct dgram ga, gb, gc;
    dgram_init(&ga, 4, 1, pay, sizeof(pay));
    dgram_init(&gb, 4, 2, pay, sizeof(pay));
    dgram_init(&gc, 4, 3, pay, sizeof(pay));
    struct fragset fa, fb, fc;
    fragset_make(&ga, CUTS3, 3, &fa);
    fragset_make(&gb, CUTS3, 3, &fb);
    fragset_make(&gc, CUTS3, 3, &fc);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fa, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fb, 0, T0 + 1, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fc, 0, T0 + 2, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.stats.evicted_full, 1);
    CHECK_EQ_INT(d.stats.datagrams_held, 2);
    CHECK_EQ_INT(feed(&d, &fc, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fc, 2, T0, &out, &len), SC_OK);
    CHECK_EQ_INT(feed(&d, &fb, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fb, 2, T0, &out, &len), SC_OK);
    check_output(&gb, out, len);
    /* a was evicted: its rest starts a new datagram that lacks offset 0 */
    CHECK_EQ_INT(feed(&d, &fa, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fa, 2, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.stats.reassembled, 2);
    CHECK_EQ_INT(d.stats.evicted_full, 1);
    fragset_free(&fa);
    fragset_free(&fb);
    fragset_free(&fc);
    ipdefrag_free(&d);
}

static void max_bytes_bounds_memory(void)
{
    struct ipdefrag_limits lim = {.max_bytes = 3000};
    init(&lim);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 8);
    uint8_t *out;
    size_t len;
    for (uint32_t id = 0; id < 20; id++) {
        struct dgram g;
        dgram_init(&g, 4, id, pay, sizeof(pay));
        struct fragset fs;
        fragset_make(&g, CUTS3, 3, &fs);
        CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
        CHECK(d.stats.bytes_held <= lim.max_bytes);
        CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
        CHECK(d.stats.bytes_held <= lim.max_bytes);
        fragset_free(&fs);
    }
    CHECK(d.stats.evicted_full >= 15);
    CHECK(d.stats.bytes_held_peak <= lim.max_bytes);
    /* the newest datagram survived and completes */
    struct dgram g;
    dgram_init(&g, 4, 19, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g, CUTS3, 3, &fs);
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_OK);
    check_output(&g, out, len);
    fragset_free(&fs);
    /* a datagram that cannot fit alone is dropped, counted, and leaves nothing */
    uint8_t big[4000];
    fill_pattern(big, sizeof(big), 9);
    dgram_init(&g, 4, 99, big, sizeof(big));
    static const size_t cuts[] = {0, 1480, 2960, 4008};
    fragset_make(&g, cuts, 3, &fs);
    uint64_t evicted = d.stats.evicted_full;
    enum sc_ret rc = SC_AGAIN;
    for (int i = 0; i < 3 && rc == SC_AGAIN; i++)
        rc = feed(&d, &fs, i, T0, &out, &len);
    CHECK_EQ_INT(rc, SC_ERROR);
    CHECK(d.stats.evicted_full > evicted);
    CHECK(d.stats.bytes_held <= lim.max_bytes);
    CHECK_EQ_INT(ipdefrag_held_contains(&d, big + 2000, 32), 0);
    fragset_free(&fs);
    ipdefrag_free(&d);
}

static void too_big_and_invalid(void)
{
    struct ipdefrag_limits lim = {.max_datagram = 20 + 900};
    init(&lim);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 10);
    dgram_init(&g1, 4, 21, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g1, CUTS3, 3, &fs);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_ERROR); /* ends at 20 + 1000 */
    CHECK_EQ_INT(d.stats.too_big, 1);
    check_empty(); /* the pending datagram went with it */
    ipdefrag_free(&d);

    init(NULL);
    /* past 65535 by the IPv4 offset field's own reach */
    struct frag_frame ff;
    struct dgram gbig;
    dgram_init(&gbig, 4, 22, pay, sizeof(pay));
    make_frag(&gbig, 0, 16, 0, &ff);
    put16(ff.b + 6, 65528 / 8);
    CHECK_EQ_INT(feed_frame(&d, &ff, ff.len, T0, &out, &len), SC_ERROR);
    CHECK_EQ_INT(d.stats.too_big, 1);
    /* cut by the snap length: unusable */
    CHECK_EQ_INT(feed_frame(&d, &fs.f[0], fs.f[0].len - 1, T0, &out, &len), SC_ERROR);
    CHECK_EQ_INT(d.stats.invalid, 1);
    /* a non-last fragment whose length is not a multiple of 8 */
    make_frag(&g1, 0, 403, 1, &ff);
    CHECK_EQ_INT(feed_frame(&d, &ff, ff.len, T0, &out, &len), SC_ERROR);
    CHECK_EQ_INT(d.stats.invalid, 2);
    /* two different ends: the datagram is dropped */
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    make_frag(&g1, 800, 100, 0, &ff);
    CHECK_EQ_INT(feed_frame(&d, &ff, ff.len, T0, &out, &len), SC_ERROR);
    CHECK_EQ_INT(d.stats.invalid, 3);
    check_empty();
    /* a middle fragment past the known end */
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    make_frag(&g1, 960, 48, 1, &ff);
    CHECK_EQ_INT(feed_frame(&d, &ff, ff.len, T0, &out, &len), SC_ERROR);
    CHECK_EQ_INT(d.stats.invalid, 4);
    /* a last fragment ending before bytes already held */
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
    make_frag(&g1, 104, 96, 0, &ff); /* ends at 200, before [400, 800) */
    CHECK_EQ_INT(feed_frame(&d, &ff, ff.len, T0, &out, &len), SC_ERROR);
    CHECK_EQ_INT(d.stats.invalid, 5);
    check_empty();
    /* a hand-made fragment with a bad header never gets in */
    struct frame_fragment bad = {.af = 5};
    CHECK_EQ_INT(ipdefrag_feed(&d, &bad, T0, &out, &len), SC_ERROR);
    CHECK_EQ_INT(d.stats.invalid, 6);
    fragset_free(&fs);
    ipdefrag_free(&d);
}

static void ipv6_fragments(void)
{
    init(NULL);
    uint8_t pay[2992];
    fill_pattern(pay, sizeof(pay), 11);
    static const size_t cuts[] = {0, 1232, 2464, 3000};
    for (int hbh = 0; hbh < 2; hbh++) {
        dgram_init(&g1, 6, 0x80000001u + (uint32_t)hbh, pay, sizeof(pay));
        g1.hbh = hbh;
        struct fragset fs;
        fragset_make(&g1, cuts, 3, &fs);
        uint8_t *out;
        size_t len;
        CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
        CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
        CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
        CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_OK);
        check_output(&g1, out, len);
        if (out != NULL)
            CHECK_EQ_INT(out[4] << 8 | out[5], len - 40);
        fragset_free(&fs);
    }
    CHECK_EQ_INT(d.stats.duplicates, 2);
    /* the same id from IPv4 is another datagram */
    dgram_init(&g1, 6, 5, pay, 100);
    struct dgram g4;
    dgram_init(&g4, 4, 5, pay, 100);
    static const size_t c2[] = {0, 56, 108};
    struct fragset f6, f4;
    fragset_make(&g1, c2, 2, &f6);
    fragset_make(&g4, c2, 2, &f4);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &f6, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &f4, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &f6, 1, T0, &out, &len), SC_OK);
    check_output(&g1, out, len);
    CHECK_EQ_INT(feed(&d, &f4, 0, T0, &out, &len), SC_OK);
    check_output(&g4, out, len);
    check_empty();
    fragset_free(&f6);
    fragset_free(&f4);
    ipdefrag_free(&d);
}

/* ---- privacy: body bytes are not held ---- */

#define CANARY0 "CANARY-ZERO-first-fragment-body"
#define CANARY1 "CANARY-ONE-sms-text-middle-fragment"
#define CANARY2 "CANARY-TWO-last-fragment-tail"

static const char SIP_HEADERS[] = "MESSAGE sip:+4915112345678@ims.example.net SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-frag-1\r\n"
                                  "From: <sip:+4917012345678@ims.example.net>;tag=a1\r\n"
                                  "To: <sip:+4915112345678@ims.example.net>\r\n"
                                  "Call-ID: frag-privacy-1\r\n"
                                  "CSeq: 1 MESSAGE\r\n"
                                  "Content-Type: text/plain\r\n"
                                  "Content-Length: 1392\r\n"
                                  "\r\n";

/* A SIP MESSAGE of 1400 payload bytes: headers, then a body with CANARY0 in
 * the first fragment [0, 400), CANARY1 in [400, 800), CANARY2 after 800. */
static size_t sip_message(uint8_t *p)
{
    size_t h = strlen(SIP_HEADERS);
    memcpy(p, SIP_HEADERS, h);
    memset(p + h, '.', 1392 + 8 - h);
    memcpy(p + 340, CANARY0, strlen(CANARY0));
    memcpy(p + 500, CANARY1, strlen(CANARY1));
    memcpy(p + 1200, CANARY2, strlen(CANARY2));
    return 1392 + 8;
}

static int held(const char *s) { return ipdefrag_held_contains(&d, s, strlen(s)); }

static void keep_prefix_last_first(void)
{
    CHECK_EQ_INT(ipdefrag_init(&d, NULL, ipdefrag_keep_sip_headers, NULL), 0);
    uint8_t msg[1400];
    size_t n = sip_message(msg);
    CHECK(strlen(SIP_HEADERS) + 8 < 340); /* the headers end in the first fragment */
    dgram_init(&g1, 4, 0x5151, msg, n);
    static const size_t cuts[] = {0, 400, 800, 1408};
    struct fragset fs;
    fragset_make(&g1, cuts, 3, &fs);
    uint8_t *out;
    size_t len;

    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    /* nothing says yet where the headers end: the tail is held for now */
    CHECK_EQ_INT(held(CANARY2), 1);
    uint64_t after_last = d.stats.bytes_held;

    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(held(CANARY0), 0); /* judged before it was stored */
    CHECK_EQ_INT(held(CANARY2), 0); /* wiped once the headers ended */
    CHECK_EQ_INT(held("Call-ID: frag-privacy-1"), 1);
    uint64_t after_first = d.stats.bytes_held;
    CHECK(after_first < after_last + 400);

    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_OK);
    /* CANARY1 was never stored: its fragment added at most one range's
     * bookkeeping, never its 400 bytes, and nothing was counted twice */
    CHECK(after_first + 64 < after_last);
    CHECK_EQ_INT(d.stats.bytes_held_peak, after_last);
    CHECK_EQ_INT(held(CANARY0), 0);
    CHECK_EQ_INT(held(CANARY1), 0);
    CHECK_EQ_INT(held(CANARY2), 0);
    CHECK(out != NULL);
    if (out != NULL) {
        size_t hdr = strlen(SIP_HEADERS);
        CHECK_EQ_INT(len, 20 + 8 + n);
        CHECK(memcmp(out + 28, SIP_HEADERS, hdr) == 0);
        int zeros = 1;
        for (size_t i = 28 + hdr; i < len; i++)
            zeros &= out[i] == 0;
        CHECK(zeros);
        struct packet p;
        enum frame_reason why;
        CHECK_EQ_INT(frame_decode_ip(out, len, T0, &p, &why), SC_OK);
        CHECK_EQ_INT(p.len, n);
        struct privacy_result pr;
        CHECK_EQ_INT(privacy_cut_datagram(p.payload, p.len, &pr), SC_OK);
        CHECK_EQ_INT(pr.header_len, hdr);
    }
    check_empty();
    fragset_free(&fs);
    ipdefrag_free(&d);
}

static void keep_prefix_in_order_stores_no_body(void)
{
    CHECK_EQ_INT(ipdefrag_init(&d, NULL, ipdefrag_keep_sip_headers, NULL), 0);
    uint8_t msg[1400];
    size_t n = sip_message(msg);
    dgram_init(&g1, 4, 0x5152, msg, n);
    static const size_t cuts[] = {0, 400, 800, 1408};
    struct fragset fs;
    fragset_make(&g1, cuts, 3, &fs);
    uint8_t *out;
    size_t len;
    /* The same first fragment without the privacy rule, for the baseline. */
    struct ipdefrag whole;
    CHECK_EQ_INT(ipdefrag_init(&whole, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(feed(&whole, &fs, 0, T0, &out, &len), SC_AGAIN);
    uint64_t base = whole.stats.bytes_held;
    ipdefrag_free(&whole);

    size_t keep = 8 + strlen(SIP_HEADERS);
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    uint64_t b0 = d.stats.bytes_held;
    CHECK_EQ_INT(held(CANARY0), 0);
    CHECK_EQ_INT(base - b0, 400 - keep); /* exactly the body bytes of the first fragment were never held */
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.stats.bytes_held, b0); /* its range merged into the first: no byte, no bookkeeping */
    CHECK_EQ_INT(held(CANARY1), 0);
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_OK);
    CHECK(d.stats.bytes_held_peak <= b0 + 64); /* one range's bookkeeping in passing, never 400 bytes */
    CHECK_EQ_INT(held(CANARY2), 0);
    CHECK_EQ_INT(len, 20 + 8 + n);
    check_empty();
    fragset_free(&fs);
    ipdefrag_free(&d);
}

/* Not SIP (HEP, RTP, ...): every byte is kept, the datagram comes out whole. */
static void keep_prefix_not_sip_keeps_all(void)
{
    CHECK_EQ_INT(ipdefrag_init(&d, NULL, ipdefrag_keep_sip_headers, NULL), 0);
    uint8_t pay[1392];
    fill_pattern(pay, sizeof(pay), 12);
    memcpy(pay, "HEP3\r\n", 6);
    dgram_init(&g1, 6, 77, pay, sizeof(pay));
    static const size_t cuts[] = {0, 400, 800, 1400};
    struct fragset fs;
    fragset_make(&g1, cuts, 3, &fs);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 1, T0, &out, &len), SC_OK);
    check_output(&g1, out, len);
    fragset_free(&fs);
    ipdefrag_free(&d);
}

static unsigned asks;

static size_t count_asks(void *ctx, const uint8_t *l4, size_t len)
{
    (void)ctx;
    (void)l4;
    (void)len;
    asks++;
    return IPDEFRAG_KEEP_UNKNOWN;
}

/* 8-byte fragments in order: keep_prefix is asked a bounded number of times,
 * and the range grows in one buffer (the datagram still comes out right). */
static void tiny_fragments_bounded_asks(void)
{
    CHECK_EQ_INT(ipdefrag_init(&d, NULL, count_asks, NULL), 0);
    uint8_t pay[7992];
    fill_pattern(pay, sizeof(pay), 13);
    dgram_init(&g1, 4, 31, pay, sizeof(pay));
    uint8_t *out = NULL;
    size_t len = 0;
    enum sc_ret rc = SC_AGAIN;
    struct frag_frame ff;
    for (size_t off = 0; off < g1.l4_len; off += 8) {
        make_frag(&g1, off, 8, off + 8 < g1.l4_len, &ff);
        rc = feed_frame(&d, &ff, ff.len, T0, &out, &len);
        if (off + 8 < g1.l4_len)
            CHECK_EQ_INT(rc, SC_AGAIN);
    }
    CHECK_EQ_INT(rc, SC_OK);
    check_output(&g1, out, len);
    CHECK(asks > 5 && asks < 30);
    printf("tiny_fragments_bounded_asks: 1000 fragments, keep_prefix asked %u times, peak bytes_held %llu\n",
           asks, (unsigned long long)d.stats.bytes_held_peak);
    ipdefrag_free(&d);
}

/* ---- 100,000 pending fragments within max_bytes ---- */

static void many_pending_stay_within_max_bytes(void)
{
    struct ipdefrag_limits lim = {.max_datagrams = 1 << 17, .max_bytes = 4 * 1024 * 1024};
    init(&lim);
    uint8_t hdr[40] = {0x60};
    memcpy(hdr + 8, V6_SRC, 16);
    memcpy(hdr + 24, V6_DST, 16);
    static uint8_t data[1232];
    uint8_t *out;
    size_t len;
    int over = 0;
    /* 1: 100,000 first fragments of distinct datagrams */
    for (uint32_t i = 0; i < 100000; i++) {
        fill_pattern(data, sizeof(data), i);
        struct frame_fragment f = {.ts_us = T0, .af = 6, .proto = 17, .more = 1, .id = i, .offset = 0,
                                   .hdr = hdr, .hdr_len = 40, .nh_off = 6, .data = data, .len = sizeof(data)};
        memcpy(f.src, V6_SRC, 16);
        memcpy(f.dst, V6_DST, 16);
        if (ipdefrag_feed(&d, &f, T0, &out, &len) != SC_AGAIN)
            over++;
        if (d.stats.bytes_held > lim.max_bytes)
            over++;
    }
    CHECK_EQ_INT(over, 0);
    CHECK(d.stats.bytes_held_peak <= lim.max_bytes);
    CHECK(d.stats.evicted_full > 90000);
    printf("many_pending: 100000 first fragments of 1232 bytes: peak bytes_held %llu of max %zu, %llu held "
           "in %llu datagrams, %llu evicted\n",
           (unsigned long long)d.stats.bytes_held_peak, lim.max_bytes, (unsigned long long)d.stats.bytes_held,
           (unsigned long long)d.stats.datagrams_held, (unsigned long long)d.stats.evicted_full);
    ipdefrag_free(&d);

    /* 2: 100,000 8-byte fragments with gaps (every other slot) in 25
     * datagrams: the bookkeeping counts too */
    init(&lim);
    for (uint32_t i = 0; i < 100000; i++) {
        fill_pattern(data, 8, i);
        struct frame_fragment f = {.ts_us = T0, .af = 6, .proto = 17, .more = 1, .id = i / 4000,
                                   .offset = (i % 4000) * 16, .hdr = hdr, .hdr_len = 40, .nh_off = 6,
                                   .data = data, .len = 8};
        memcpy(f.src, V6_SRC, 16);
        memcpy(f.dst, V6_DST, 16);
        if (ipdefrag_feed(&d, &f, T0, &out, &len) != SC_AGAIN)
            over++;
        if (d.stats.bytes_held > lim.max_bytes)
            over++;
    }
    CHECK_EQ_INT(over, 0);
    CHECK(d.stats.bytes_held_peak <= lim.max_bytes);
    printf("many_pending: 100000 sparse 8-byte fragments in 25 datagrams: peak bytes_held %llu of max %zu, "
           "%llu held in %llu datagrams, %llu evicted\n",
           (unsigned long long)d.stats.bytes_held_peak, lim.max_bytes, (unsigned long long)d.stats.bytes_held,
           (unsigned long long)d.stats.datagrams_held, (unsigned long long)d.stats.evicted_full);
    ipdefrag_free(&d);

    /* 3: the same with a small ceiling: evictions keep it */
    struct ipdefrag_limits small = {.max_bytes = 64 * 1024};
    init(&small);
    for (uint32_t i = 0; i < 100000; i++) {
        fill_pattern(data, 8, i);
        struct frame_fragment f = {.ts_us = T0, .af = 4, .proto = 17, .more = 1, .id = i / 4000,
                                   .offset = (i % 4000) * 16, .hdr = hdr, .hdr_len = 20, .nh_off = 9,
                                   .data = data, .len = 8};
        hdr[0] = 0x45;
        if (ipdefrag_feed(&d, &f, T0, &out, &len) == SC_OK || d.stats.bytes_held > small.max_bytes)
            over++;
    }
    CHECK_EQ_INT(over, 0);
    CHECK(d.stats.evicted_full > 0);
    CHECK(d.stats.bytes_held_peak <= small.max_bytes);
    printf("many_pending: the same under max_bytes 65536: peak %llu, %llu evicted\n",
           (unsigned long long)d.stats.bytes_held_peak, (unsigned long long)d.stats.evicted_full);
    ipdefrag_free(&d);
}

static void free_wipes_pending(void)
{
    init(NULL);
    uint8_t pay[992];
    fill_pattern(pay, sizeof(pay), 14);
    dgram_init(&g1, 4, 41, pay, sizeof(pay));
    struct fragset fs;
    fragset_make(&g1, CUTS3, 3, &fs);
    uint8_t *out;
    size_t len;
    CHECK_EQ_INT(feed(&d, &fs, 0, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(feed(&d, &fs, 2, T0, &out, &len), SC_AGAIN);
    CHECK_EQ_INT(d.lim.max_datagrams, IPDEFRAG_DEFAULT_MAX_DATAGRAMS);
    CHECK_EQ_INT(d.lim.max_bytes, IPDEFRAG_DEFAULT_MAX_BYTES);
    CHECK_EQ_INT(d.lim.timeout_us, IPDEFRAG_DEFAULT_TIMEOUT_US);
    ipdefrag_free(&d); /* LeakSanitizer: nothing may stay behind */
    CHECK_EQ_INT(d.stats.bytes_held, 0);
    fragset_free(&fs);
}

int main(void)
{
    RUN(in_order);
    RUN(reverse_order);
    RUN(shuffled);
    RUN(duplicates_ignored);
    RUN(overlap_with_other_bytes_drops_datagram);
    RUN(never_completes_times_out);
    RUN(table_full_evicts_oldest);
    RUN(max_bytes_bounds_memory);
    RUN(too_big_and_invalid);
    RUN(ipv6_fragments);
    RUN(keep_prefix_last_first);
    RUN(keep_prefix_in_order_stores_no_body);
    RUN(keep_prefix_not_sip_keeps_all);
    RUN(tiny_fragments_bounded_asks);
    RUN(many_pending_stay_within_max_bytes);
    RUN(free_wipes_pending);
    return check_summary();
}
