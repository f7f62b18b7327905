/* frame_ipdefrag.c - IPv4/IPv6 fragment reassembly (see frame_ipdefrag.h).
 *
 * A pending datagram keeps its fragments as a list of disjoint byte ranges
 * sorted by offset. Each range holds a prefix of its bytes (all of them,
 * unless the privacy rule said to keep less). A fragment is cut into the
 * gaps it fills, and neighbouring ranges are merged, so a datagram that
 * arrives in order is one range growing in one buffer, and the contiguous
 * prefix that keep_prefix reads is always a single buffer.
 *
 * Ranges are searched from the tail: fragments usually come in order, so
 * finding where one goes is O(1) then; in reverse order it is O(ranges),
 * bounded by 8192 per datagram (the offset field counts 8-byte units).
 *
 * Buffers grow by moving, never by realloc(): realloc() may free the old
 * block with its packet bytes still in it.
 */
#include "frame_ipdefrag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "privacy.h"

#define IPV4_MIN_HDR 20
#define IPV4_MAX_HDR 60
#define IPV6_HDR 40
#define IPV4_MAX_DATAGRAM 65535
#define IPV6_MAX_DATAGRAM (IPV6_HDR + 65535)
#define UDP_HDR_LEN 8
#define PROTO_UDP 17
#define TOTAL_UNKNOWN UINT32_MAX

/* keep_prefix is asked again once the prefix grew by this much (or doubled,
 * while it is shorter): fragments of any real MTU grow it by more, and a
 * train of 8-byte fragments cannot make the answer cost O(n^2) scanning. */
#define ASK_STEP 1024

/* The privacy module accepts start lines up to this long (privacy.c). */
#define SIP_START_LINE_MAX 4096

struct dg_key {
    uint8_t af;
    uint8_t proto;
    uint8_t pad[2]; /* zero: the key is hashed and compared as bytes */
    uint32_t id;
    uint8_t src[16];
    uint8_t dst[16];
};
_Static_assert(sizeof(struct dg_key) == 40, "dg_key must have no hidden padding");

struct ipdefrag_chunk {
    struct dlist link; /* in the datagram's range list, by offset */
    uint32_t start;    /* [start, end) of the fragmentable part */
    uint32_t end;
    uint32_t stored;   /* leading bytes of the range held at data */
    uint32_t cap;      /* bytes allocated at data */
    uint8_t *data;
};

struct ipdefrag_dgram {
    struct hnode hn;
    struct dlist age;
    struct dg_key key;
    int64_t first_us;   /* packet time of the first fragment seen */
    uint8_t *hdr;       /* from the fragment at offset 0; NULL until then */
    size_t hdr_len;
    size_t nh_off;
    uint32_t total;     /* fragmentable length once the last fragment came, else TOTAL_UNKNOWN */
    size_t keep;        /* bytes of the fragmentable part to store; IPDEFRAG_KEEP_UNKNOWN until told */
    size_t asked;       /* prefix length last shown to keep_prefix */
    struct dlist chunks;
};

enum grow_fail { GROW_OK = 0, GROW_FULL, GROW_NOMEM };

static struct ipdefrag_chunk *chunk_of(struct dlist *l) { return container_of(l, struct ipdefrag_chunk, link); }

static struct ipdefrag_dgram *dgram_of_age(struct dlist *l) { return container_of(l, struct ipdefrag_dgram, age); }

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void held_add(struct ipdefrag *d, size_t n)
{
    d->stats.bytes_held += n;
    if (d->stats.bytes_held > d->stats.bytes_held_peak)
        d->stats.bytes_held_peak = d->stats.bytes_held;
}

static void held_sub(struct ipdefrag *d, size_t n) { d->stats.bytes_held -= n; }

static void release_out(struct ipdefrag *d)
{
    if (d->out == NULL)
        return;
    privacy_wipe(d->out, d->out_len);
    free(d->out);
    d->out = NULL;
    d->out_len = 0;
}

static void chunk_free(struct ipdefrag *d, struct ipdefrag_chunk *c)
{
    dlist_remove(&c->link);
    if (c->data != NULL) {
        privacy_wipe(c->data, c->cap);
        free(c->data);
    }
    held_sub(d, sizeof(*c) + c->cap);
    free(c);
}

/* Forget a pending datagram: every byte wiped, every counter adjusted. The
 * caller counts why. */
static void dgram_drop(struct ipdefrag *d, struct ipdefrag_dgram *g)
{
    while (!dlist_empty(&g->chunks))
        chunk_free(d, chunk_of(g->chunks.next));
    if (g->hdr != NULL) {
        privacy_wipe(g->hdr, g->hdr_len);
        free(g->hdr);
        held_sub(d, g->hdr_len);
    }
    htab_remove(&d->table, &g->hn);
    dlist_remove(&g->age);
    held_sub(d, sizeof(*g));
    d->stats.datagrams_held--;
    free(g);
}

/* Make room for n more bytes within max_bytes by evicting the oldest pending
 * datagrams other than cur. Returns 0, or -1 when even that is not enough. */
static int reserve(struct ipdefrag *d, const struct ipdefrag_dgram *cur, size_t n)
{
    if (n > d->lim.max_bytes)
        return -1;
    while (d->stats.bytes_held + n > d->lim.max_bytes) {
        struct dlist *it = d->age.next;
        if (it != &d->age && dgram_of_age(it) == cur)
            it = it->next;
        if (it == &d->age)
            return -1;
        dgram_drop(d, dgram_of_age(it));
        d->stats.evicted_full++;
    }
    return 0;
}

/* Move c's stored bytes into a buffer of new_cap bytes (NULL for 0); bytes
 * beyond new_cap are dropped. The old buffer is wiped before it is freed. */
static enum grow_fail chunk_move(struct ipdefrag *d, struct ipdefrag_dgram *g, struct ipdefrag_chunk *c,
                                 size_t new_cap)
{
    if (new_cap > c->cap && reserve(d, g, new_cap - c->cap) != 0)
        return GROW_FULL;
    uint8_t *nd = NULL;
    if (new_cap > 0) {
        nd = malloc(new_cap);
        if (nd == NULL)
            return GROW_NOMEM;
    }
    size_t keep = c->stored < new_cap ? c->stored : new_cap;
    if (keep > 0)
        memcpy(nd, c->data, keep);
    if (c->data != NULL) {
        privacy_wipe(c->data, c->cap);
        free(c->data);
    }
    held_sub(d, c->cap); /* the copy in flight is not counted: bytes_held stays <= max_bytes */
    held_add(d, new_cap);
    c->data = nd;
    c->cap = (uint32_t)new_cap;
    c->stored = (uint32_t)keep;
    return GROW_OK;
}

/* The privacy answer arrived: wipe and release every byte at or past keep. */
static void apply_keep(struct ipdefrag *d, struct ipdefrag_dgram *g)
{
    for (struct dlist *it = g->chunks.next; it != &g->chunks; it = it->next) {
        struct ipdefrag_chunk *c = chunk_of(it);
        if (c->stored == 0 || (size_t)c->start + c->stored <= g->keep)
            continue;
        size_t stay = c->start >= g->keep ? 0 : g->keep - c->start;
        privacy_wipe(c->data + stay, c->cap - stay);
        c->stored = (uint32_t)stay;
        /* Shrinking cannot hit the budget; if malloc fails the wiped tail
         * just stays allocated (and counted) until the datagram goes. */
        (void)chunk_move(d, g, c, stay);
    }
}

static int wants_keep(const struct ipdefrag *d, const struct ipdefrag_dgram *g)
{
    return d->keep_prefix != NULL && g->key.proto == PROTO_UDP && g->keep == IPDEFRAG_KEEP_UNKNOWN;
}

static void ask(struct ipdefrag *d, struct ipdefrag_dgram *g, const uint8_t *p, size_t len)
{
    g->asked = len;
    size_t k = d->keep_prefix(d->keep_ctx, p, len);
    if (k == IPDEFRAG_KEEP_UNKNOWN)
        return;
    g->keep = k;
    apply_keep(d, g);
}

/* Ask again about the stored prefix when it has grown enough. */
static void maybe_ask(struct ipdefrag *d, struct ipdefrag_dgram *g)
{
    if (!wants_keep(d, g) || dlist_empty(&g->chunks))
        return;
    struct ipdefrag_chunk *head = chunk_of(g->chunks.next);
    if (head->start != 0)
        return;
    size_t len = head->stored; /* all of the range: nothing is cut before the answer */
    size_t step = g->asked < ASK_STEP ? g->asked : ASK_STEP;
    if (len > g->asked && len - g->asked >= step)
        ask(d, g, head->data, len);
}

/* The first range with end > s: every range that may overlap [s, e) starts
 * here. Searched from the tail (ranges are disjoint, so ends are sorted too). */
static struct dlist *first_after(struct ipdefrag_dgram *g, uint32_t s)
{
    struct dlist *it = g->chunks.prev;
    while (it != &g->chunks && chunk_of(it)->end > s)
        it = it->prev;
    return it->next;
}

/* Compare [s, e) with the held bytes it overlaps. Returns -1 when some held
 * byte differs, else 1 when ranges already cover all of [s, e), else 0. */
static int check_overlap(struct ipdefrag_dgram *g, const uint8_t *data, uint32_t s, uint32_t e)
{
    size_t covered = 0;
    for (struct dlist *it = first_after(g, s); it != &g->chunks; it = it->next) {
        struct ipdefrag_chunk *c = chunk_of(it);
        if (c->start >= e)
            break;
        uint32_t a = c->start > s ? c->start : s;
        uint32_t b = c->end < e ? c->end : e;
        covered += b - a;
        uint32_t held_end = c->start + c->stored;
        uint32_t cb = b < held_end ? b : held_end;
        if (a < cb && memcmp(c->data + (a - c->start), data + (a - s), cb - a) != 0)
            return -1;
    }
    return covered == (size_t)(e - s) ? 1 : 0;
}

/* A new range [s, e) placed before `before`, holding the bytes under keep. */
static enum grow_fail add_range(struct ipdefrag *d, struct ipdefrag_dgram *g, struct dlist *before,
                                const uint8_t *src, uint32_t s, uint32_t e)
{
    size_t n = 0;
    if (g->keep > s)
        n = (g->keep < e ? g->keep : e) - s;
    if (reserve(d, g, sizeof(struct ipdefrag_chunk) + n) != 0)
        return GROW_FULL;
    struct ipdefrag_chunk *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return GROW_NOMEM;
    if (n > 0) {
        c->data = malloc(n);
        if (c->data == NULL) {
            free(c);
            return GROW_NOMEM;
        }
        memcpy(c->data, src, n);
    }
    c->start = s;
    c->end = e;
    c->stored = (uint32_t)n;
    c->cap = (uint32_t)n;
    dlist_push_tail(before, &c->link); /* pushing at the tail of a node's list = inserting before it */
    held_add(d, sizeof(*c) + n);
    return GROW_OK;
}

/* Merge b into a (adjacent: a->end == b->start). Only done when the result
 * still holds a prefix of its bytes: a is whole, or b holds nothing. */
static enum grow_fail merge(struct ipdefrag *d, struct ipdefrag_dgram *g, struct ipdefrag_chunk *a,
                            struct ipdefrag_chunk *b)
{
    if (b->stored > 0) {
        size_t need = (size_t)a->stored + b->stored;
        if (need > a->cap) {
            /* Doubling keeps a train of small in-order fragments O(n); the
             * range never needs more than the datagram's payload. */
            size_t limit = IPV6_MAX_DATAGRAM - a->start;
            if (g->keep < (size_t)IPV6_MAX_DATAGRAM && g->keep - a->start < limit)
                limit = g->keep - a->start;
            size_t want = (size_t)a->cap * 2;
            if (want > limit)
                want = limit;
            if (want < need)
                want = need;
            enum grow_fail rc = chunk_move(d, g, a, want);
            if (rc != GROW_OK && want > need)
                rc = chunk_move(d, g, a, need);
            if (rc != GROW_OK)
                return rc;
        }
        memcpy(a->data + a->stored, b->data, b->stored);
        a->stored += b->stored;
    }
    a->end = b->end;
    chunk_free(d, b);
    return GROW_OK;
}

/* Fill the gaps of [s, e) with new ranges, then merge neighbours from the
 * range before s to the range after e. */
static enum grow_fail insert(struct ipdefrag *d, struct ipdefrag_dgram *g, const uint8_t *data, uint32_t s,
                             uint32_t e)
{
    struct dlist *first = first_after(g, s);
    struct dlist *from = first->prev; /* a range ending at or before s, or the list head */
    uint32_t pos = s;
    struct dlist *it = first;
    for (; it != &g->chunks && pos < e; it = it->next) {
        struct ipdefrag_chunk *c = chunk_of(it);
        if (c->start >= e)
            break;
        if (c->start > pos) {
            enum grow_fail rc = add_range(d, g, it, data + (pos - s), pos, c->start);
            if (rc != GROW_OK)
                return rc;
        }
        if (c->end > pos)
            pos = c->end;
    }
    if (pos < e) {
        enum grow_fail rc = add_range(d, g, it, data + (pos - s), pos, e);
        if (rc != GROW_OK)
            return rc;
    }
    it = from == &g->chunks ? g->chunks.next : from;
    while (it != &g->chunks && it->next != &g->chunks) {
        struct ipdefrag_chunk *a = chunk_of(it), *b = chunk_of(it->next);
        if (a->start > e)
            break;
        if (a->end == b->start && (a->stored == a->end - a->start || b->stored == 0)) {
            enum grow_fail rc = merge(d, g, a, b);
            if (rc != GROW_OK)
                return rc;
            continue; /* a may now touch the next range too */
        }
        it = it->next;
    }
    return GROW_OK;
}

static uint16_t ipv4_checksum(const uint8_t *h, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)h[i] << 8 | h[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The largest datagram accepted for af: the protocol's, or less if configured. */
static size_t max_len(const struct ipdefrag *d, uint8_t af)
{
    size_t max = af == 4 ? IPV4_MAX_DATAGRAM : IPV6_MAX_DATAGRAM;
    return d->lim.max_datagram < max ? d->lim.max_datagram : max;
}

/* Complete: build the datagram (the header of the offset-0 fragment with
 * the fragmentation undone, then the held prefix; calloc gives zeros for the
 * rest), drop the pending state and hand the datagram out. */
static enum sc_ret emit(struct ipdefrag *d, struct ipdefrag_dgram *g, uint8_t **out, size_t *out_len)
{
    size_t len = g->hdr_len + g->total;
    /* Later IPv4 fragments may carry a shorter header (options not copied,
     * RFC 791), so only now is the real length known. */
    if (len > max_len(d, g->key.af)) {
        dgram_drop(d, g);
        d->stats.too_big++;
        return SC_ERROR;
    }
    uint8_t *buf = calloc(1, len);
    if (buf == NULL) {
        d->stats.nomem++;
        dgram_drop(d, g);
        return SC_ERROR;
    }
    memcpy(buf, g->hdr, g->hdr_len);
    if (!dlist_empty(&g->chunks)) {
        struct ipdefrag_chunk *c = chunk_of(g->chunks.next);
        if (c->stored > 0)
            memcpy(buf + g->hdr_len, c->data, c->stored);
    }
    if (g->key.af == 4) {
        put16(buf + 2, (unsigned)len);
        put16(buf + 6, 0); /* flags and offset: a whole datagram */
        put16(buf + 10, 0);
        put16(buf + 10, ipv4_checksum(buf, g->hdr_len));
    } else {
        buf[g->nh_off] = g->key.proto; /* the Fragment header is gone */
        put16(buf + 4, (unsigned)(len - IPV6_HDR));
    }
    dgram_drop(d, g);
    d->stats.reassembled++;
    d->out = buf;
    d->out_len = len;
    *out = buf;
    *out_len = len;
    return SC_OK;
}

static int expired(const struct ipdefrag *d, const struct ipdefrag_dgram *g, int64_t now_us)
{
    return now_us >= g->first_us && (uint64_t)now_us - (uint64_t)g->first_us >= (uint64_t)d->lim.timeout_us;
}

static struct ipdefrag_dgram *lookup(struct ipdefrag *d, const struct dg_key *k, uint64_t h)
{
    for (struct hnode *n = htab_first(&d->table, h); n != NULL; n = htab_next(n, h)) {
        struct ipdefrag_dgram *g = container_of(n, struct ipdefrag_dgram, hn);
        if (memcmp(&g->key, k, sizeof(*k)) == 0)
            return g;
    }
    return NULL;
}

/* Is the fragment usable at all? */
static int fragment_ok(const struct frame_fragment *f)
{
    if (f->truncated || (f->len > 0 && f->data == NULL) || f->hdr == NULL)
        return 0;
    if (f->af == 4) {
        if (f->hdr_len < IPV4_MIN_HDR || f->hdr_len > IPV4_MAX_HDR)
            return 0;
    } else if (f->af == 6) {
        if (f->hdr_len < IPV6_HDR || f->nh_off >= f->hdr_len)
            return 0;
    } else {
        return 0;
    }
    /* Every fragment but the last carries a multiple of 8 bytes (RFC 8200
     * says discard otherwise; RFC 791 cannot produce anything else). */
    return !f->more || (f->len > 0 && f->len % 8 == 0);
}

static enum sc_ret feed(struct ipdefrag *d, const struct frame_fragment *f, int64_t now_us, uint8_t **out,
                        size_t *out_len)
{
    if (!fragment_ok(f)) {
        d->stats.invalid++;
        return SC_ERROR;
    }
    struct dg_key k;
    memset(&k, 0, sizeof(k));
    k.af = f->af;
    k.proto = f->proto;
    k.id = f->id;
    memcpy(k.src, f->src, sizeof(k.src));
    memcpy(k.dst, f->dst, sizeof(k.dst));
    uint64_t h = hash_siphash24(d->hash_key, &k, sizeof(k));
    struct ipdefrag_dgram *g = lookup(d, &k, h);
    if (g != NULL && expired(d, g, now_us)) {
        dgram_drop(d, g);
        d->stats.timeouts++;
        g = NULL;
    }

    uint64_t end = (uint64_t)f->offset + f->len;
    if (f->hdr_len + end > max_len(d, f->af)) {
        if (g != NULL)
            dgram_drop(d, g);
        d->stats.too_big++;
        return SC_ERROR;
    }

    if (g == NULL) {
        if (d->table.count >= d->lim.max_datagrams) {
            dgram_drop(d, dgram_of_age(d->age.next));
            d->stats.evicted_full++;
        }
        if (reserve(d, NULL, sizeof(*g)) != 0) {
            d->stats.evicted_full++;
            return SC_ERROR;
        }
        g = calloc(1, sizeof(*g));
        if (g == NULL) {
            d->stats.nomem++;
            return SC_ERROR;
        }
        g->key = k;
        g->first_us = now_us;
        g->total = TOTAL_UNKNOWN;
        g->keep = IPDEFRAG_KEEP_UNKNOWN;
        dlist_init(&g->chunks);
        htab_insert(&d->table, &g->hn, h);
        dlist_push_tail(&d->age, &g->age);
        held_add(d, sizeof(*g));
        d->stats.datagrams_held++;
    }

    /* The end of the datagram, once known, cannot move (RFC 8200 4.5). */
    int contradicts;
    if (!f->more) {
        contradicts = (g->total != TOTAL_UNKNOWN && g->total != end) ||
                      (!dlist_empty(&g->chunks) && chunk_of(g->chunks.prev)->end > end);
    } else {
        contradicts = g->total != TOTAL_UNKNOWN && end > g->total;
    }
    if (contradicts) {
        dgram_drop(d, g);
        d->stats.invalid++;
        return SC_ERROR;
    }
    uint32_t s = f->offset, e = (uint32_t)end;
    if (e > s) {
        int ov = check_overlap(g, f->data, s, e);
        if (ov < 0) {
            dgram_drop(d, g);
            d->stats.overlaps_dropped++;
            return SC_ERROR;
        }
        if (ov > 0) {
            d->stats.duplicates++;
            return SC_AGAIN;
        }
    }
    if (!f->more)
        g->total = e;

    /* The first fragment is judged before any of it is stored, and before
     * the header is: bytes held past the answer are released first. */
    if (s == 0 && wants_keep(d, g) && f->len > g->asked)
        ask(d, g, f->data, f->len);
    enum grow_fail rc = GROW_OK;
    if (s == 0 && g->hdr == NULL) {
        if (reserve(d, g, f->hdr_len) != 0) {
            rc = GROW_FULL;
        } else if ((g->hdr = malloc(f->hdr_len)) == NULL) {
            rc = GROW_NOMEM;
        } else {
            memcpy(g->hdr, f->hdr, f->hdr_len);
            g->hdr_len = f->hdr_len;
            g->nh_off = f->nh_off;
            held_add(d, f->hdr_len);
        }
    }
    if (rc == GROW_OK && e > s)
        rc = insert(d, g, f->data, s, e);
    if (rc != GROW_OK) {
        dgram_drop(d, g);
        if (rc == GROW_FULL)
            d->stats.evicted_full++;
        else
            d->stats.nomem++;
        return SC_ERROR;
    }
    maybe_ask(d, g);

    if (g->total == TOTAL_UNKNOWN || g->hdr == NULL)
        return SC_AGAIN;
    if (g->total > 0) {
        if (dlist_empty(&g->chunks) || g->chunks.next != g->chunks.prev)
            return SC_AGAIN;
        struct ipdefrag_chunk *c = chunk_of(g->chunks.next);
        if (c->start != 0 || c->end != g->total)
            return SC_AGAIN;
    }
    return emit(d, g, out, out_len);
}

enum sc_ret ipdefrag_feed(struct ipdefrag *d, const struct frame_fragment *f, int64_t now_us, uint8_t **out,
                          size_t *out_len)
{
    release_out(d);
    *out = NULL;
    *out_len = 0;
    d->stats.fragments++;
    enum sc_ret rc = feed(d, f, now_us, out, out_len);
    /* Copied where kept, deliberately dropped where not: the capture buffer
     * must not keep body bytes either. */
    if (f->data != NULL && f->len > 0)
        privacy_wipe(f->data, f->len);
    return rc;
}

size_t ipdefrag_expire(struct ipdefrag *d, int64_t now_us)
{
    release_out(d);
    size_t n = 0;
    while (!dlist_empty(&d->age)) {
        struct ipdefrag_dgram *g = dgram_of_age(d->age.next);
        if (!expired(d, g, now_us))
            break;
        dgram_drop(d, g);
        d->stats.timeouts++;
        n++;
    }
    return n;
}

int ipdefrag_init(struct ipdefrag *d, const struct ipdefrag_limits *lim, ipdefrag_keep_fn keep_prefix,
                  void *keep_ctx)
{
    memset(d, 0, sizeof(*d));
    if (lim != NULL)
        d->lim = *lim;
    if (d->lim.max_datagrams == 0)
        d->lim.max_datagrams = IPDEFRAG_DEFAULT_MAX_DATAGRAMS;
    if (d->lim.max_bytes == 0)
        d->lim.max_bytes = IPDEFRAG_DEFAULT_MAX_BYTES;
    if (d->lim.timeout_us <= 0)
        d->lim.timeout_us = IPDEFRAG_DEFAULT_TIMEOUT_US;
    if (d->lim.max_datagram == 0 || d->lim.max_datagram > IPV6_MAX_DATAGRAM)
        d->lim.max_datagram = IPV6_MAX_DATAGRAM; /* IPv4 is clamped to its own limit per fragment */
    d->keep_prefix = keep_prefix;
    d->keep_ctx = keep_ctx;
    dlist_init(&d->age);
    int rc = hash_random_key(d->hash_key);
    if (rc != 0)
        return rc;
    if (htab_init(&d->table, d->lim.max_datagrams) != 0)
        return -ENOMEM;
    return 0;
}

void ipdefrag_free(struct ipdefrag *d)
{
    release_out(d);
    while (!dlist_empty(&d->age))
        dgram_drop(d, dgram_of_age(d->age.next));
    htab_free(&d->table);
}

size_t ipdefrag_keep_sip_headers(void *ctx, const uint8_t *l4, size_t contiguous_len)
{
    (void)ctx;
    if (contiguous_len <= UDP_HDR_LEN)
        return IPDEFRAG_KEEP_UNKNOWN;
    const uint8_t *p = l4 + UDP_HDR_LEN;
    size_t n = contiguous_len - UDP_HDR_LEN;
    if (!privacy_is_sip_start(p, n)) {
        /* The start-line check settles once a line end is in view or the
         * line is longer than privacy accepts; before that, more bytes could
         * still make it SIP. */
        if (n >= SIP_START_LINE_MAX || memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL)
            return IPDEFRAG_KEEP_ALL;
        return IPDEFRAG_KEEP_UNKNOWN;
    }
    /* The blank line, by privacy.c's rule: LF LF or LF CR LF. An LF at the
     * very end of the prefix cannot be judged yet. */
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 >= n)
            return IPDEFRAG_KEEP_UNKNOWN;
        if (p[i + 1] == '\n')
            return UDP_HDR_LEN + i + 2;
        if (p[i + 1] == '\r') {
            if (i + 2 >= n)
                return IPDEFRAG_KEEP_UNKNOWN;
            if (p[i + 2] == '\n')
                return UDP_HDR_LEN + i + 3;
        }
    }
    return IPDEFRAG_KEEP_UNKNOWN;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t len)
{
    if (len == 0 || hay == NULL || n < len)
        return 0;
    for (size_t i = 0; i + len <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, len) == 0)
            return 1;
    return 0;
}

int ipdefrag_held_contains(const struct ipdefrag *d, const void *needle, size_t len)
{
    if (contains(d->out, d->out_len, needle, len))
        return 1;
    for (const struct dlist *a = d->age.next; a != &d->age; a = a->next) {
        const struct ipdefrag_dgram *g = container_of(a, const struct ipdefrag_dgram, age);
        if (contains(g->hdr, g->hdr_len, needle, len))
            return 1;
        for (const struct dlist *it = g->chunks.next; it != &g->chunks; it = it->next) {
            const struct ipdefrag_chunk *c = container_of(it, const struct ipdefrag_chunk, link);
            if (contains(c->data, c->cap, needle, len))
                return 1;
        }
    }
    return 0;
}
