/* frame_tcp.c - TCP reassembly and RFC 3261 §18.3 framing (see frame_tcp.h).
 *
 * Per direction (a "half"), two layers:
 *  - ordering: next_seq is the first byte not yet consumed. In-order bytes go
 *    straight to the framing, in place, from the segment; bytes ahead of a
 *    gap are held in a sorted list of non-overlapping nodes; bytes before
 *    next_seq are old (retransmission or overlap) and dropped, so the first
 *    copy of a byte always wins.
 *  - framing: SKIP_CRLF -> HEADERS -> BODY -> SKIP_CRLF, or RESYNC when we do
 *    not know where a message starts.
 *
 * Sequence numbers are compared as differences from next_seq (mod 2^32).
 * Held nodes are kept within REL_MAX of next_seq, so a difference of 2^31 or
 * more unambiguously means "before next_seq".
 *
 * Wiping: consume() wipes each stretch of bytes it consumed before moving on,
 * so body bytes are zero before any later callback; feed wipes the whole
 * payload at the end. Held buffers are wiped before free, and a growing
 * header buffer is copied and wiped by hand: realloc() could free the old
 * block with the bytes still in it.
 */
#include "frame_tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "privacy.h"
#include "sv.h"

#define TCP_PROTO 6
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

/* Held data never starts further than this ahead of next_seq: beyond any
 * real TCP window (2^30 with window scaling), and far from the 2^31 sign
 * boundary of sequence differences. A segment further ahead means we lost
 * track; the gap is given up at once. */
#define REL_MAX ((uint32_t)1 << 30)

/* privacy_is_sip_start() reads at most this much of a first line. A line
 * that long without a line end is not a start line, so stop holding it. */
#define START_LINE_MAX 4096

#define HDR_MIN_CAP 128

/* Content-Length values up to 2^62 are skipped by count; larger is nonsense
 * and makes the framing untrustworthy (resync). */
#define CONTENT_LENGTH_MAX ((unsigned long long)1 << 62)

enum half_state { HALF_UNSEEN = 0, HALF_ACTIVE, HALF_DONE };
enum framing { FR_SKIP_CRLF = 0, FR_HEADERS, FR_BODY, FR_RESYNC, FR_WS, FR_WS_LOST };

/* WebSocket (RFC 6455 §5.2). A frame header is at most 2 + 8 (length) + 4
 * (masking key) bytes. */
#define WS_HDR_MAX 14
#define WS_FIN 0x80
#define WS_RSV 0x70
#define WS_MASK 0x80
#define WS_OP_CONT 0x0
#define WS_OP_TEXT 0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CONTROL 0x8 /* close 0x8, ping 0x9, pong 0xA; 0xB-0xF reserved */
#define WS_CONTROL_MAX 125

/* Where a WebSocket half is in the current message (one SIP message each,
 * RFC 7118 §5.2). */
enum ws_msg { WS_IDLE = 0, WS_HEADERS, WS_SKIP };

/* Bytes that arrived ahead of a gap. The first nbody of [seq, seq+len) were
 * known to be body when stored or later: they are not kept, only counted. */
struct ooo {
    struct ooo *next;
    uint32_t seq;
    uint32_t len;
    uint32_t nbody;
    size_t alloc;   /* bytes counted in held */
    uint8_t data[]; /* len - nbody bytes: [seq + nbody, seq + len) */
};

struct half {
    uint8_t state;    /* enum half_state */
    uint8_t framing;  /* enum framing */
    uint8_t syn_seen;
    uint8_t fin_seen;
    uint8_t lost;     /* a truncated segment lost bytes: the next gap is never filled */
    uint8_t at_bol;   /* RESYNC: the next byte may start a line */
    uint8_t eoh;      /* HEADERS: 0 inside a line, 1 after LF, 2 after LF CR */
    uint8_t start_ok; /* HEADERS: the start line was checked */
    uint8_t http;     /* HEADERS: the section is an HTTP upgrade request or response, not SIP */
    uint8_t any_msg;  /* a SIP header section was delivered: no HTTP upgrade any more */
    uint8_t ws_hlen;  /* WS: frame header bytes in ws_hdr; WS_HDR_MAX + 1 once parsed */
    uint8_t ws_hdr[WS_HDR_MAX];
    uint8_t ws_key[4];
    uint8_t ws_op;    /* WS: opcode of the current frame */
    uint8_t ws_fin;
    uint8_t ws_skip;  /* WS: the current frame's payload is skipped by count (control, body, dropped) */
    uint8_t ws_msg;   /* enum ws_msg */
    uint64_t ws_left; /* WS: payload bytes of the current frame not yet consumed */
    uint64_t ws_pos;  /* WS: payload bytes of the current frame consumed: the masking key index */
    uint32_t isn;
    uint32_t next_seq;
    uint32_t fin_seq;
    uint64_t body_left;
    uint8_t *hdr; /* partial header section; NULL when none */
    size_t hdr_len, hdr_cap;
    struct ooo *ooo; /* sorted by seq, non-overlapping, all after next_seq */
    size_t held;     /* hdr_cap + ooo allocs */
};

struct tcp_stream {
    struct hnode hn;
    struct dlist lru;
    int64_t last_us;
    uint8_t af;
    uint8_t ep[2][18]; /* endpoint(): [0] is the source of the first segment seen */
    uint8_t ws_client; /* 1 + the direction that asked for a WebSocket upgrade; 0 none */
    struct half half[2]; /* [0]: ep[0] -> ep[1] */
};

/* What one feed (or expiry) works on, so helpers take one argument. */
struct fc {
    struct tcpreasm *t;
    struct tcp_stream *s;
    struct half *h;
    const struct packet *seg;
    tcp_message_fn cb;
    void *ctx;
};

/* ---- accounting and stream lifetime ---------------------------------- */

static void held_add(struct tcpreasm *t, struct half *h, size_t n)
{
    h->held += n;
    t->stats.bytes_held += n;
    if (t->stats.bytes_held > t->stats.bytes_held_peak)
        t->stats.bytes_held_peak = t->stats.bytes_held;
}

static void held_sub(struct tcpreasm *t, struct half *h, size_t n)
{
    h->held -= n;
    t->stats.bytes_held -= n;
}

static void hdr_release(struct tcpreasm *t, struct half *h)
{
    if (h->hdr != NULL) {
        /* Bytes past hdr_len were never written: hdr_len only grows until release. */
        privacy_wipe(h->hdr, h->hdr_len);
        free(h->hdr);
        held_sub(t, h, h->hdr_cap);
    }
    h->hdr = NULL;
    h->hdr_len = h->hdr_cap = 0;
}

static void ooo_free(struct tcpreasm *t, struct half *h, struct ooo *o)
{
    privacy_wipe(o->data, o->len - o->nbody);
    held_sub(t, h, o->alloc);
    free(o);
}

static void half_clear(struct tcpreasm *t, struct half *h)
{
    /* A WebSocket frame header and key are packet bytes too; memset()
     * below may be elided when the stream is freed next. */
    privacy_wipe(h->ws_hdr, sizeof(h->ws_hdr));
    privacy_wipe(h->ws_key, sizeof(h->ws_key));
    hdr_release(t, h);
    while (h->ooo != NULL) {
        struct ooo *o = h->ooo;
        h->ooo = o->next;
        ooo_free(t, h, o);
    }
    memset(h, 0, sizeof(*h));
}

static void stream_destroy(struct tcpreasm *t, struct tcp_stream *s)
{
    half_clear(t, &s->half[0]);
    half_clear(t, &s->half[1]);
    htab_remove(&t->streams, &s->hn);
    dlist_remove(&s->lru);
    t->stats.streams_live--;
    free(s);
}

static struct tcp_stream *lru_head(struct tcpreasm *t)
{
    if (dlist_empty(&t->lru))
        return NULL;
    return container_of(t->lru.next, struct tcp_stream, lru);
}

/* Make room for n more held bytes in c->h: within max_stream_bytes, and
 * within max_total_bytes by evicting other streams, least recently active
 * first. The current stream is never evicted (it is the most recently
 * active, or the head being expired). Returns 0 when n bytes may be added. */
static int reserve(struct fc *c, size_t n)
{
    struct tcpreasm *t = c->t;
    if (c->h->held + n > t->lim.max_stream_bytes)
        return -1;
    while (t->stats.bytes_held + n > t->lim.max_total_bytes) {
        struct tcp_stream *victim = lru_head(t);
        if (victim == NULL || victim == c->s)
            return -1;
        stream_destroy(t, victim);
        t->stats.streams_evicted++;
    }
    return 0;
}

/* ---- framing ----------------------------------------------------------- */

static void half_resync(struct tcpreasm *t, struct half *h, int at_bol)
{
    hdr_release(t, h);
    h->framing = FR_RESYNC;
    h->at_bol = (uint8_t)at_bol;
    h->http = 0;
    t->stats.resyncs++;
}

static void enter_resync(struct fc *c, int at_bol) { half_resync(c->t, c->h, at_bol); }

/* Bytes from next_seq on that the framing already knows it will skip
 * unread: the rest of a body, or of a WebSocket frame that is body, control
 * or dropped. Out-of-order bytes inside them are held as a range only. */
static uint64_t known_body(const struct half *h)
{
    if (h->framing == FR_BODY)
        return h->body_left;
    if (h->framing == FR_WS && h->ws_hlen > WS_HDR_MAX && h->ws_skip)
        return h->ws_left;
    return 0;
}

static void enter_headers(struct half *h)
{
    h->framing = FR_HEADERS;
    h->eoh = 0;
    h->start_ok = 0;
    h->http = 0;
}

/* Append to the partial header, growing by doubling up to max_header_bytes.
 * Returns -1 when it would not fit (the caller counts and resyncs). */
static int hdr_append(struct fc *c, const uint8_t *p, size_t n)
{
    struct tcpreasm *t = c->t;
    struct half *h = c->h;
    if (n == 0)
        return 0;
    if (n > t->lim.max_header_bytes - h->hdr_len)
        return -1;
    size_t need = h->hdr_len + n;
    if (need > h->hdr_cap) {
        size_t cap = h->hdr_cap != 0 ? h->hdr_cap : HDR_MIN_CAP;
        while (cap < need)
            cap *= 2;
        if (cap > t->lim.max_header_bytes)
            cap = t->lim.max_header_bytes;
        if (reserve(c, cap - h->hdr_cap) != 0)
            return -1;
        uint8_t *nb = malloc(cap);
        if (nb == NULL) {
            t->stats.nomem++;
            return -1;
        }
        if (h->hdr != NULL) {
            memcpy(nb, h->hdr, h->hdr_len);
            privacy_wipe(h->hdr, h->hdr_len);
            free(h->hdr);
        }
        held_add(t, h, cap - h->hdr_cap);
        h->hdr = nb;
        h->hdr_cap = cap;
    }
    memcpy(h->hdr + h->hdr_len, p, n);
    h->hdr_len = need;
    return 0;
}

/* Content-Length (or compact "l") of a complete header section, at line
 * starts only, names case-insensitive. Absent means 0 on a stream (RFC 3261
 * §18.3). Returns -1 when a value is not a number or two values disagree:
 * then nobody knows where the body ends. */
static int content_length(const uint8_t *hdr, size_t len, uint64_t *out)
{
    const uint8_t *nl = memchr(hdr, '\n', len);
    size_t i = nl != NULL ? (size_t)(nl - hdr) + 1 : len; /* skip the start line */
    unsigned long long val = 0;
    int seen = 0;

    while (i < len) {
        nl = memchr(hdr + i, '\n', len - i);
        size_t eol = nl != NULL ? (size_t)(nl - hdr) : len;
        struct sv line = sv_make((const char *)hdr + i, eol - i);
        i = eol + 1;
        if (line.len > 0 && line.p[line.len - 1] == '\r')
            line.len--;
        if (line.len == 0)
            break; /* the blank line */
        if (line.p[0] == ' ' || line.p[0] == '\t')
            continue; /* folded continuation, not a line start */
        const char *colon = memchr(line.p, ':', line.len);
        if (colon == NULL)
            continue;
        struct sv name = sv_trim(sv_make(line.p, (size_t)(colon - line.p)));
        if (!sv_eq_nocase_cstr(name, "content-length") && !sv_eq_nocase_cstr(name, "l"))
            continue;
        size_t vstart = (size_t)(colon - line.p) + 1;
        struct sv value = sv_trim(sv_make(line.p + vstart, line.len - vstart));
        unsigned long long v;
        if (!sv_to_u64(value, CONTENT_LENGTH_MAX, &v))
            return -1;
        if (seen && v != val)
            return -1;
        seen = 1;
        val = v;
    }
    *out = seen ? val : 0;
    return 0;
}

/* A body just started: out-of-order bytes that lie inside it are body, so
 * drop them now instead of holding them until the gap fills. A node wholly
 * inside becomes a bare range; a node straddling the end keeps its tail. */
static void ooo_forget_body(struct fc *c)
{
    struct tcpreasm *t = c->t;
    struct half *h = c->h;
    for (struct ooo **pp = &h->ooo; *pp != NULL;) {
        struct ooo *o = *pp;
        uint64_t rel = (uint32_t)(o->seq - h->next_seq);
        uint64_t body = known_body(h);
        if (rel >= body)
            break; /* sorted: every later node is past the body too */
        uint64_t in_body = body - rel;
        uint32_t nb = in_body >= o->len ? o->len : (uint32_t)in_body;
        if (nb <= o->nbody) {
            pp = &o->next;
            continue;
        }
        if (nb == o->len) {
            struct ooo *bare = malloc(sizeof(*bare));
            if (bare != NULL) {
                bare->next = o->next;
                bare->seq = o->seq;
                bare->len = o->len;
                bare->nbody = o->len;
                bare->alloc = sizeof(*bare);
                held_add(t, h, bare->alloc);
                ooo_free(t, h, o);
                *pp = bare;
                pp = &bare->next;
                continue;
            }
            /* No memory for the smaller node: wipe in place, keep the block. */
        }
        uint32_t drop = nb - o->nbody;
        uint32_t keep = o->len - nb;
        memmove(o->data, o->data + drop, keep);
        privacy_wipe(o->data + keep, drop);
        o->nbody = nb;
        pp = &o->next;
    }
}

static int is_upper(uint8_t ch) { return ch >= 'A' && ch <= 'Z'; }
static int is_digit(uint8_t ch) { return ch >= '0' && ch <= '9'; }

/* The methods of RFC 3261 and its extensions (3262, 3265, 3311, 3428, 3515,
 * 3903, 6086). */
static int known_method(const uint8_t *p, size_t len)
{
    static const char *const methods[] = {
        "INVITE", "ACK", "BYE",  "CANCEL", "REGISTER", "OPTIONS", "MESSAGE",
        "INFO",   "PRACK", "UPDATE", "NOTIFY", "REFER", "PUBLISH", "SUBSCRIBE",
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i]) == len && memcmp(p, methods[i], len) == 0)
            return 1;
    return 0;
}

/* A start line we accept where a message should begin. Beyond
 * privacy_is_sip_start(), the shape a real one has: "SIP/2.0 NNN", or a known
 * method then a Request-URI that starts "scheme:". Why: a body with no final
 * line end glued to the next request line ("hello" + "MESSAGE sip:a
 * SIP/2.0") passes privacy_is_sip_start() with the body as part of the
 * method token. That line can stand where a message should start after a
 * resync, or after a Content-Length that was too short, and must not be
 * taken for headers. The known-method list also rejects a resync landing
 * inside a torn start line ("...E sip:a SIP/2.0"). Cost accepted: messages
 * with extension methods are not framed over TCP (they resync, counted). */
static int start_line_ok(const uint8_t *p, size_t len)
{
    if (!privacy_is_sip_start(p, len))
        return 0;
    if (len >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
        return len >= 11 && is_digit(p[8]) && is_digit(p[9]) && is_digit(p[10]);
    size_t m = 0;
    while (m < len && is_upper(p[m]))
        m++;
    if (m == 0 || m >= len || p[m] != ' ')
        return 0;
    if (!known_method(p, m))
        return 0;
    size_t u = m + 1; /* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    if (u >= len || !(is_upper(p[u] & 0xdf)))
        return 0;
    while (u < len && (is_upper(p[u] & 0xdf) || is_digit(p[u]) || p[u] == '+' || p[u] == '-' || p[u] == '.'))
        u++;
    return u < len && p[u] == ':';
}

static int is_token_char(uint8_t ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch != 0 && strchr("-.!%*_+`'~", ch) != NULL;
}

/* ---- WebSocket (RFC 6455, SIP over it: RFC 7118) ------------------------ */

/* The line at p (complete within len) as an HTTP upgrade start line this
 * half may send now: 1 a request "GET ... HTTP/1.1" before any SIP message
 * on a stream not upgraded yet, 2 a status line "HTTP/1.1 NNN" from the peer
 * of a half that asked for an upgrade. 0 otherwise. */
static int http_line(const struct fc *c, const uint8_t *p, size_t len)
{
    const uint8_t *nl = memchr(p, '\n', len);
    if (nl == NULL || c->h->any_msg)
        return 0;
    size_t n = (size_t)(nl - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    int dir = c->h == &c->s->half[1];
    if (c->s->ws_client == 0 && n >= 4 + 9 && memcmp(p, "GET ", 4) == 0 && memcmp(p + n - 9, " HTTP/1.1", 9) == 0)
        return 1;
    if (c->s->ws_client == (uint8_t)(2 - dir) && n >= 12 && memcmp(p, "HTTP/1.1 ", 9) == 0 && is_digit(p[9]) &&
        is_digit(p[10]) && is_digit(p[11]))
        return 2;
    return 0;
}

/* Does some token of a header value equal "websocket", case-insensitive? */
static int has_websocket_token(struct sv value)
{
    size_t i = 0;
    while (i < value.len) {
        size_t j = i;
        while (j < value.len && value.p[j] != ',')
            j++;
        if (sv_eq_nocase_cstr(sv_trim(sv_make(value.p + i, j - i)), "websocket"))
            return 1;
        i = j + 1;
    }
    return 0;
}

/* An HTTP header section asks for "Upgrade: websocket" (RFC 6455 §4.1). */
static int wants_websocket(const uint8_t *hdr, size_t len)
{
    const uint8_t *nl = memchr(hdr, '\n', len);
    size_t i = nl != NULL ? (size_t)(nl - hdr) + 1 : len;
    while (i < len) {
        nl = memchr(hdr + i, '\n', len - i);
        size_t eol = nl != NULL ? (size_t)(nl - hdr) : len;
        struct sv line = sv_make((const char *)hdr + i, eol - i);
        i = eol + 1;
        if (line.len > 0 && line.p[line.len - 1] == '\r')
            line.len--;
        const char *colon = memchr(line.p, ':', line.len);
        if (colon == NULL)
            continue;
        size_t vstart = (size_t)(colon - line.p) + 1;
        if (sv_eq_nocase_cstr(sv_trim(sv_make(line.p, (size_t)(colon - line.p))), "upgrade") &&
            has_websocket_token(sv_make(line.p + vstart, line.len - vstart)))
            return 1;
    }
    return 0;
}

static void ws_start(struct half *h)
{
    h->framing = FR_WS;
    h->ws_hlen = 0;
    h->ws_msg = WS_IDLE;
    h->eoh = 0;
    h->start_ok = 0;
}

/* An HTTP upgrade request or response is complete. The request switches
 * its half to WebSocket framing at once (the client sends frames right
 * after it, maybe before the capture shows the answer); "101" switches the
 * answering half; any other answer means no upgrade, and both halves look
 * for SIP start lines again. */
static void http_done(struct fc *c, const uint8_t *hdr, size_t len)
{
    struct tcp_stream *s = c->s;
    int dir = c->h == &s->half[1];
    c->h->http = 0;
    hdr_release(c->t, c->h);
    if (len >= 4 && memcmp(hdr, "GET ", 4) == 0) {
        if (wants_websocket(hdr, len)) {
            s->ws_client = (uint8_t)(dir + 1);
            ws_start(c->h);
        } else {
            enter_resync(c, 1);
        }
        return;
    }
    if (len >= 12 && memcmp(hdr + 9, "101", 3) == 0) {
        ws_start(c->h);
        return;
    }
    s->ws_client = 0;
    enter_resync(c, 1);
    struct half *peer = &s->half[!dir];
    if (peer->framing == FR_WS)
        half_resync(c->t, peer, 1);
}

/* The framing is lost for good on this half: discard until it ends. */
static void ws_lose(struct fc *c)
{
    hdr_release(c->t, c->h);
    c->h->framing = FR_WS_LOST;
    c->h->ws_msg = WS_IDLE;
    c->t->stats.ws_errors++;
}

/* The current message is given up: its remaining frames are skipped. */
static void ws_drop_message(struct fc *c)
{
    hdr_release(c->t, c->h);
    c->h->ws_msg = WS_SKIP;
    c->h->ws_skip = 1;
}

/* The current frame's payload is consumed. A final data frame ends the
 * message; one still inside its header section lacked the blank line. */
static void ws_frame_end(struct fc *c)
{
    struct half *h = c->h;
    h->ws_hlen = 0;
    privacy_wipe(h->ws_key, sizeof(h->ws_key));
    if ((h->ws_op & WS_OP_CONTROL) != 0 || !h->ws_fin)
        return;
    if (h->ws_msg == WS_HEADERS) {
        c->t->stats.ws_errors++;
        hdr_release(c->t, h);
    }
    h->ws_msg = WS_IDLE;
}

/* Skip k payload bytes of the current frame, which is being skipped. */
static void ws_skip_bytes(struct fc *c, uint64_t k)
{
    struct half *h = c->h;
    h->ws_left -= k;
    h->ws_pos += k;
    if ((h->ws_op & WS_OP_CONTROL) == 0)
        c->t->stats.body_bytes_skipped += k;
    if (h->ws_left == 0)
        ws_frame_end(c);
}

/* A frame header is complete in ws_hdr: decide what its payload is. */
static void ws_frame_start(struct fc *c)
{
    struct tcpreasm *t = c->t;
    struct half *h = c->h;
    const uint8_t *b = h->ws_hdr;
    size_t at = 2;
    uint64_t len = b[1] & 0x7f;
    if (len == 126) {
        len = (uint64_t)b[2] << 8 | b[3];
        at = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | b[2 + i];
        at = 10;
    }
    if ((b[1] & WS_MASK) != 0)
        memcpy(h->ws_key, b + at, 4);
    else
        memset(h->ws_key, 0, 4);
    int rsv = (b[0] & WS_RSV) != 0;
    h->ws_op = b[0] & 0x0f;
    h->ws_fin = (b[0] & WS_FIN) != 0;
    h->ws_left = len;
    h->ws_pos = 0;
    h->ws_hlen = WS_HDR_MAX + 1;
    privacy_wipe(h->ws_hdr, sizeof(h->ws_hdr)); /* the key unmasks packet bytes */
    t->stats.ws_frames++;
    if (len >> 63) { /* RFC 6455: the most significant bit must be 0 */
        ws_lose(c);
        return;
    }
    h->ws_skip = 1;
    if ((h->ws_op & WS_OP_CONTROL) != 0) {
        if (!h->ws_fin || len > WS_CONTROL_MAX)
            t->stats.ws_errors++; /* still framed: the length says where it ends */
    } else if (h->ws_op > WS_OP_BINARY) {
        t->stats.ws_errors++; /* reserved data opcode: skipped, and so is its message */
        ws_drop_message(c);
        h->ws_msg = h->ws_fin ? WS_IDLE : WS_SKIP;
    } else if (h->ws_op == WS_OP_CONT) {
        if (h->ws_msg == WS_IDLE) {
            t->stats.ws_errors++; /* a continuation of nothing */
            ws_drop_message(c);
        }
        h->ws_skip = h->ws_msg != WS_HEADERS;
    } else {
        if (h->ws_msg != WS_IDLE) {
            t->stats.ws_errors++; /* the previous message never ended */
            hdr_release(t, h);
        }
        h->ws_msg = WS_HEADERS;
        h->eoh = 0;
        h->start_ok = 0;
        h->ws_skip = 0;
    }
    /* Compressed payloads (permessage-deflate's RSV1) cannot be read
     * without inflating whole bodies: the message is skipped, counted. */
    if (rsv && h->ws_msg == WS_HEADERS) {
        t->stats.ws_errors++;
        ws_drop_message(c);
    }
    if (len == 0)
        ws_frame_end(c);
}

/* A header section found within a WebSocket message: deliver it. hdr is the
 * whole section (in place or the held buffer). */
static void ws_deliver(struct fc *c, uint8_t *hdr, size_t len)
{
    struct tcpreasm *t = c->t;
    /* The message length is given by the framing, so any method is fine;
     * only the start line's shape is checked. */
    if (privacy_is_sip_start(hdr, len)) {
        t->stats.messages++;
        t->stats.ws_messages++;
        c->h->any_msg = 1;
        if (c->cb != NULL)
            c->cb(c->ctx, c->seg, hdr, len);
    } else {
        t->stats.ws_errors++;
    }
    ws_drop_message(c); /* the rest of the message is body: skipped by count */
    c->h->ws_msg = WS_SKIP;
}

/* Bytes of the frame header being collected: 2 until they are in, then
 * what they announce (at most WS_HDR_MAX). */
static size_t ws_hdr_need(const struct half *h)
{
    if (h->ws_hlen < 2)
        return 2;
    unsigned l7 = h->ws_hdr[1] & 0x7f;
    return 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((h->ws_hdr[1] & WS_MASK) ? 4 : 0);
}

/* FR_WS over p[i..n). Returns the index after the bytes consumed; returns
 * at every step that leaves bytes worth wiping (a frame header, a delivered
 * header section) so consume() wipes them before the next callback. */
static size_t ws_consume(struct fc *c, uint8_t *p, size_t i, size_t n)
{
    struct half *h = c->h;
    if (h->ws_hlen <= WS_HDR_MAX) {
        /* Collect the frame header: its first 2 bytes tell how long it is. */
        while (i < n && h->ws_hlen < ws_hdr_need(h))
            h->ws_hdr[h->ws_hlen++] = p[i++];
        if (h->ws_hlen == ws_hdr_need(h))
            ws_frame_start(c);
        return i;
    }
    uint64_t avail = n - i;
    size_t k = (size_t)(avail < h->ws_left ? avail : h->ws_left);
    if (h->ws_skip) {
        ws_skip_bytes(c, k);
        return i + k;
    }
    /* Header bytes of the message: unmask one at a time while looking for
     * the blank line, so body bytes after it stay masked until wiped. */
    size_t start = i, end = i + k, j = i;
    int found = 0, first_line = 0;
    while (j < end) {
        uint8_t ch = p[j] ^ h->ws_key[h->ws_pos & 3];
        p[j++] = ch;
        h->ws_pos++;
        if (ch == '\n') {
            if (!h->start_ok) {
                first_line = 1;
                break;
            }
            if (h->eoh != 0) {
                found = 1;
                break;
            }
            h->eoh = 1;
        } else {
            h->eoh = (h->eoh == 1 && ch == '\r') ? 2 : 0;
        }
    }
    h->ws_left -= j - start;
    if (first_line) {
        /* Check the start line before holding more: a message that is not
         * SIP is not kept up to a blank line it may never have. */
        if (hdr_append(c, p + start, j - start) != 0) {
            c->t->stats.headers_too_long++;
            ws_drop_message(c);
        } else if (!privacy_is_sip_start(h->hdr, h->hdr_len)) {
            c->t->stats.ws_errors++;
            ws_drop_message(c);
        } else {
            h->start_ok = 1;
            h->eoh = 1;
        }
        if (h->ws_left == 0)
            ws_frame_end(c);
        return j;
    }
    uint8_t *hdr = p + start;
    size_t len = j - start;
    if (h->hdr_len > 0 || !found) {
        if (hdr_append(c, p + start, j - start) != 0) {
            c->t->stats.headers_too_long++;
            ws_drop_message(c);
            if (h->ws_left == 0)
                ws_frame_end(c);
            return j;
        }
        hdr = h->hdr;
        len = h->hdr_len;
    }
    if (found)
        ws_deliver(c, hdr, len);
    if (h->ws_left == 0)
        ws_frame_end(c);
    return j;
}

/* The header section is complete: hdr is the partial buffer plus p[start..end),
 * or p[start..end) alone when nothing was buffered (delivered in place). */
static void header_done(struct fc *c, uint8_t *p, size_t start, size_t end)
{
    struct tcpreasm *t = c->t;
    struct half *h = c->h;
    uint8_t *hdr = p + start;
    size_t len = end - start;

    if (h->hdr_len > 0 || len > t->lim.max_header_bytes) {
        if (hdr_append(c, p + start, len) != 0) {
            t->stats.headers_too_long++;
            enter_resync(c, 1); /* at a message start, but without its length */
            return;
        }
        hdr = h->hdr;
        len = h->hdr_len;
    }
    if (h->http) {
        http_done(c, hdr, len);
        return;
    }
    uint64_t cl = 0;
    int cl_ok = content_length(hdr, len, &cl) == 0;
    t->stats.messages++;
    h->any_msg = 1;
    if (c->cb != NULL)
        c->cb(c->ctx, c->seg, hdr, len);
    hdr_release(t, h); /* the in-place case is wiped by consume() */
    if (!cl_ok) {
        enter_resync(c, 1);
    } else if (cl > 0) {
        h->framing = FR_BODY;
        h->body_left = cl;
    } else {
        h->framing = FR_SKIP_CRLF;
    }
}

/* HEADERS over p[i..n). Returns the index after the bytes consumed: after
 * the blank line, or n, or where the framing changed. */
static size_t headers(struct fc *c, uint8_t *p, size_t i, size_t n)
{
    struct tcpreasm *t = c->t;
    struct half *h = c->h;
    size_t start = i;

    /* A start line begins with a token or "SIP/2.0": stop at the first
     * byte, rather than holding a whole line of something else. */
    if (h->hdr_len == 0 && !is_token_char(p[i])) {
        enter_resync(c, 1);
        return i;
    }
    while (i < n) {
        if (h->eoh == 0) {
            const uint8_t *nl = memchr(p + i, '\n', n - i);
            if (nl == NULL) {
                i = n;
                break;
            }
            i = (size_t)(nl - p) + 1;
            h->eoh = 1;
            if (h->start_ok)
                continue;
            /* First line end: check the start line before holding more. */
            int ok;
            const uint8_t *line = p + start;
            size_t line_len = i - start;
            if (h->hdr_len > 0) {
                if (hdr_append(c, p + start, i - start) != 0) {
                    t->stats.headers_too_long++;
                    enter_resync(c, 1);
                    return i;
                }
                start = i;
                line = h->hdr;
                line_len = h->hdr_len;
            }
            ok = start_line_ok(line, line_len);
            if (!ok && http_line(c, line, line_len) != 0) {
                h->http = 1; /* a WebSocket upgrade: read, never delivered */
                ok = 1;
            }
            if (!ok) {
                enter_resync(c, 1);
                return i;
            }
            h->start_ok = 1;
            continue;
        }
        uint8_t ch = p[i++];
        if (ch == '\n') {
            header_done(c, p, start, i);
            return i;
        }
        h->eoh = (h->eoh == 1 && ch == '\r') ? 2 : 0;
    }
    /* The chunk ended inside the header section: hold what we have. */
    if (!h->start_ok && h->hdr_len + (n - start) > START_LINE_MAX) {
        enter_resync(c, 0);
        return n;
    }
    if (hdr_append(c, p + start, n - start) != 0) {
        t->stats.headers_too_long++;
        enter_resync(c, 0);
    }
    return n;
}

/* RESYNC over p[i..n): discard up to a line start that begins a SIP start
 * line complete within these bytes. */
static size_t resync(struct fc *c, const uint8_t *p, size_t i, size_t n)
{
    struct half *h = c->h;
    while (i < n) {
        if (h->at_bol && (start_line_ok(p + i, n - i) || http_line(c, p + i, n - i) != 0)) {
            enter_headers(h);
            return i;
        }
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        if (nl == NULL) {
            h->at_bol = 0;
            return n;
        }
        i = (size_t)(nl - p) + 1;
        h->at_bol = 1;
    }
    return i;
}


/* Consume p[0..n), the next in-order bytes of the half, advancing next_seq.
 * Every byte is wiped before this returns; each stretch before the next
 * framing step runs, so a callback never finds body bytes in the buffer. */
static void consume(struct fc *c, uint8_t *p, size_t n)
{
    struct half *h = c->h;
    size_t i = 0;
    while (i < n) {
        size_t from = i;
        switch (h->framing) {
        case FR_SKIP_CRLF:
            /* RFC 5626 keep-alives: CRLFCRLF pings, CRLF pongs. */
            while (i < n && (p[i] == '\r' || p[i] == '\n'))
                i++;
            if (i < n)
                enter_headers(h);
            break;
        case FR_BODY: {
            size_t k = n - i;
            if (k > h->body_left)
                k = (size_t)h->body_left;
            i += k;
            h->body_left -= k;
            c->t->stats.body_bytes_skipped += k;
            if (h->body_left == 0)
                h->framing = FR_SKIP_CRLF;
            break;
        }
        case FR_RESYNC:
            i = resync(c, p, i, n);
            break;
        case FR_WS:
            i = ws_consume(c, p, i, n);
            break;
        case FR_WS_LOST:
            i = n; /* WebSocket framing lost: nothing tells where a frame starts */
            break;
        default:
            i = headers(c, p, i, n);
            break;
        }
        privacy_wipe(p + from, i - from);
        h->next_seq += (uint32_t)(i - from);
        if (h->ooo != NULL && known_body(h) > 0)
            ooo_forget_body(c);
    }
}

/* Skip k bytes whose content we did not keep because they were body. */
static void skip_known_body(struct fc *c, uint32_t k)
{
    struct half *h = c->h;
    if (h->framing == FR_BODY && h->body_left >= k) {
        h->body_left -= k;
        c->t->stats.body_bytes_skipped += k;
        if (h->body_left == 0)
            h->framing = FR_SKIP_CRLF;
    } else if (h->framing == FR_WS && known_body(h) >= k) {
        ws_skip_bytes(c, k);
    } else {
        /* Cannot happen by construction; if it did, the bytes are gone. */
        c->t->stats.gaps++;
        enter_resync(c, 1);
    }
    h->next_seq += k;
}

/* Consume held nodes that became contiguous with next_seq. */
static void drain(struct fc *c)
{
    struct half *h = c->h;
    while (h->ooo != NULL && h->state == HALF_ACTIVE) {
        struct ooo *o = h->ooo;
        uint32_t rel = o->seq - h->next_seq;
        if (rel != 0 && rel < 0x80000000u)
            break;
        h->ooo = o->next;
        if (rel != 0) {
            /* Starts before next_seq: not produced by the insert logic, but
             * stay safe: consume only the part that is new. */
            uint32_t back = (uint32_t)(h->next_seq - o->seq);
            if (back < o->len && o->nbody == 0)
                consume(c, o->data + back, o->len - back);
            ooo_free(c->t, h, o);
            continue;
        }
        if (o->nbody > 0)
            skip_known_body(c, o->nbody);
        if (o->len > o->nbody)
            consume(c, o->data, o->len - o->nbody);
        ooo_free(c->t, h, o);
    }
}

/* Stop waiting for the bytes before target (or before the first held node,
 * if earlier). Missing bytes inside a known body cost nothing; otherwise
 * the framing is lost and we resync. */
static void give_up_gap(struct fc *c, uint32_t target)
{
    struct half *h = c->h;
    if (h->ooo != NULL && (uint32_t)(h->ooo->seq - h->next_seq) < (uint32_t)(target - h->next_seq))
        target = h->ooo->seq;
    uint32_t gap = target - h->next_seq;
    c->t->stats.gaps++;
    if (h->framing == FR_BODY && gap <= h->body_left) {
        h->body_left -= gap;
        if (h->body_left == 0)
            h->framing = FR_SKIP_CRLF;
    } else if (h->framing == FR_WS && gap <= known_body(h)) {
        ws_skip_bytes(c, gap);
    } else if (h->framing == FR_WS || h->framing == FR_WS_LOST) {
        /* A resync looks for SIP start lines, which masked frames hide and
         * frame headers would corrupt: the rest of this half is lost. */
        ws_lose(c);
    } else if (h->framing == FR_RESYNC) {
        h->at_bol = 1; /* already resyncing: only the line start is new */
    } else {
        enter_resync(c, 1);
    }
    h->next_seq = target;
    h->lost = 0;
    drain(c);
}

/* Hold [seq, seq+n) (ahead of next_seq), trimmed against held nodes (first
 * copy wins). Bytes inside a known body are held as a range only. Returns
 * -1, holding nothing, when the budget does not allow it. *fresh and
 * *dropped get the bytes newly held and those trimmed. */
static int hold(struct fc *c, uint32_t seq, const uint8_t *p, size_t n, size_t *fresh, size_t *dropped)
{
    struct tcpreasm *t = c->t;
    struct half *h = c->h;
    uint32_t rel0 = seq - h->next_seq;

    /* Two passes over the same pieces: first size them, then build. */
    for (int pass = 0; pass < 2; pass++) {
        size_t need = 0, got = 0, dup = 0;
        struct ooo **pp = &h->ooo;
        uint32_t cur = 0; /* offset into the segment */
        while (cur < n) {
            uint32_t piece_end = (uint32_t)n;
            struct ooo *o = *pp;
            if (o != NULL) {
                uint32_t orel = o->seq - h->next_seq;
                if (orel + o->len <= rel0 + cur) { /* node wholly before: skip it */
                    pp = &o->next;
                    continue;
                }
                if (orel <= rel0 + cur) { /* cur is inside the node: trimmed */
                    uint32_t skip = orel + o->len - (rel0 + cur);
                    if (skip > n - cur)
                        skip = (uint32_t)(n - cur);
                    dup += skip;
                    cur += skip;
                    pp = &o->next;
                    continue;
                }
                if (orel - rel0 < piece_end)
                    piece_end = orel - rel0;
            }
            uint32_t plen = piece_end - cur;
            uint64_t prel = (uint64_t)rel0 + cur;
            uint32_t nbody = 0;
            uint64_t body = known_body(h);
            if (prel < body) {
                uint64_t in_body = body - prel;
                nbody = in_body >= plen ? plen : (uint32_t)in_body;
            }
            size_t alloc = sizeof(struct ooo) + (plen - nbody);
            if (pass == 0) {
                need += alloc;
            } else {
                struct ooo *nn = malloc(alloc);
                if (nn == NULL) {
                    t->stats.nomem++;
                    return -1; /* pieces already held stay; the rest is a future gap */
                }
                nn->next = *pp;
                nn->seq = seq + cur;
                nn->len = plen;
                nn->nbody = nbody;
                nn->alloc = alloc;
                memcpy(nn->data, p + cur + nbody, plen - nbody);
                *pp = nn;
                pp = &nn->next;
                held_add(t, h, alloc);
            }
            got += plen;
            cur = piece_end;
        }
        if (pass == 0 && need > 0 && reserve(c, need) != 0)
            return -1;
        if (pass == 1) {
            *fresh += got;
            *dropped += dup;
        }
    }
    return 0;
}

/* Payload bytes of one segment starting at seq. */
static void on_data(struct fc *c, uint32_t seq, uint8_t *p, size_t n)
{
    struct half *h = c->h;
    size_t fresh = 0, dropped = 0;
    const uint8_t *seg_start = p;

    while (n > 0 && h->state == HALF_ACTIVE) {
        uint32_t rel = seq - h->next_seq;
        if (rel >= 0x80000000u) { /* starts before next_seq */
            uint32_t back = h->next_seq - seq;
            size_t k = back < n ? back : n;
            privacy_wipe(p, k); /* old copies may be body: gone before any callback */
            dropped += k;
            p += k;
            n -= k;
            seq += (uint32_t)k;
            continue;
        }
        if (rel == 0) {
            size_t k = n;
            if (h->ooo != NULL && (uint32_t)(h->ooo->seq - h->next_seq) < k)
                k = (uint32_t)(h->ooo->seq - h->next_seq);
            /* Stacks write one message per send: while resyncing, a segment
             * start is as good a candidate as a line start. */
            if (p == seg_start && h->framing == FR_RESYNC)
                h->at_bol = 1;
            consume(c, p, k);
            fresh += k;
            p += k;
            n -= k;
            seq += (uint32_t)k;
            drain(c);
            continue;
        }
        if (h->lost || rel >= REL_MAX || n >= REL_MAX) {
            give_up_gap(c, seq);
            continue;
        }
        if (hold(c, seq, p, n, &fresh, &dropped) == 0) {
            privacy_wipe(p, n); /* the held copy is the only one now */
            break;
        }
        /* Over budget: the gap is not going to be waited for any longer. */
        give_up_gap(c, seq);
    }
    if (fresh == 0 && dropped > 0)
        c->t->stats.retransmissions++;
    else if (dropped > 0)
        c->t->stats.overlaps++;
}

/* ---- streams -------------------------------------------------------------- */

/* An endpoint as stream key bytes: address (IPv4 uses 4 bytes, the rest is
 * zero whatever the packet held there) then the port, big-endian. */
static void endpoint(uint8_t af, const uint8_t addr[16], uint16_t port, uint8_t out[18])
{
    memset(out, 0, 18);
    memcpy(out, addr, af == 6 ? 16 : 4);
    out[16] = (uint8_t)(port >> 8);
    out[17] = (uint8_t)port;
}

static uint64_t tuple_hash(const struct tcpreasm *t, const uint8_t ea[18], const uint8_t eb[18], uint8_t af)
{
    /* Order the endpoints so both directions hash alike. */
    uint8_t key[1 + 2 * 18];
    int swap = memcmp(ea, eb, 18) > 0;
    key[0] = af;
    memcpy(key + 1, swap ? eb : ea, 18);
    memcpy(key + 19, swap ? ea : eb, 18);
    return hash_siphash24(t->hash_key, key, sizeof(key));
}

static struct tcp_stream *lookup(struct tcpreasm *t, uint8_t af, const uint8_t ea[18], const uint8_t eb[18],
                                 uint64_t hash, int *dir)
{
    for (struct hnode *n = htab_first(&t->streams, hash); n != NULL; n = htab_next(n, hash)) {
        struct tcp_stream *s = container_of(n, struct tcp_stream, hn);
        if (s->af != af)
            continue;
        for (int d = 0; d < 2; d++) {
            if (memcmp(s->ep[d], ea, 18) == 0 && memcmp(s->ep[!d], eb, 18) == 0) {
                *dir = d;
                return s;
            }
        }
    }
    return NULL;
}

static struct tcp_stream *stream_new(struct tcpreasm *t, const struct packet *seg, const uint8_t ea[18],
                                     const uint8_t eb[18], uint64_t hash)
{
    if (t->stats.streams_live >= t->lim.max_streams) {
        struct tcp_stream *victim = lru_head(t);
        if (victim != NULL) {
            stream_destroy(t, victim);
            t->stats.streams_evicted++;
        }
    }
    struct tcp_stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        t->stats.nomem++;
        return NULL;
    }
    s->af = seg->af;
    memcpy(s->ep[0], ea, 18);
    memcpy(s->ep[1], eb, 18);
    s->last_us = seg->ts_us;
    dlist_init(&s->lru);
    dlist_push_tail(&t->lru, &s->lru);
    htab_insert(&t->streams, &s->hn, hash);
    t->stats.streams_opened++;
    t->stats.streams_live++;
    return s;
}

/* A stream ends when every direction we have seen has finished. */
static int stream_finished(const struct tcp_stream *s)
{
    int done = 0;
    for (int d = 0; d < 2; d++) {
        if (s->half[d].state == HALF_ACTIVE)
            return 0;
        done |= s->half[d].state == HALF_DONE;
    }
    return done;
}

int tcpreasm_init(struct tcpreasm *t, const struct tcp_limits *lim)
{
    memset(t, 0, sizeof(*t));
    if (lim != NULL)
        t->lim = *lim;
    if (t->lim.max_streams == 0)
        t->lim.max_streams = TCP_DEFAULT_MAX_STREAMS;
    if (t->lim.max_stream_bytes == 0)
        t->lim.max_stream_bytes = TCP_DEFAULT_MAX_STREAM_BYTES;
    if (t->lim.max_total_bytes == 0)
        t->lim.max_total_bytes = TCP_DEFAULT_MAX_TOTAL_BYTES;
    if (t->lim.idle_timeout_us <= 0)
        t->lim.idle_timeout_us = TCP_DEFAULT_IDLE_TIMEOUT_US;
    if (t->lim.max_header_bytes == 0)
        t->lim.max_header_bytes = TCP_DEFAULT_MAX_HEADER_BYTES;
    dlist_init(&t->lru);
    int rc = hash_random_key(t->hash_key);
    if (rc != 0)
        return rc;
    if (htab_init(&t->streams, t->lim.max_streams) != 0)
        return -ENOMEM;
    return 0;
}

void tcpreasm_free(struct tcpreasm *t)
{
    while (!dlist_empty(&t->lru))
        stream_destroy(t, lru_head(t));
    htab_free(&t->streams);
}

void tcpreasm_feed(struct tcpreasm *t, const struct packet *seg, tcp_message_fn cb, void *ctx)
{
    t->stats.segments++;
    if (seg->l4proto != TCP_PROTO)
        return;

    uint8_t fl = seg->tcp_flags;
    uint8_t ea[18], eb[18];
    endpoint(seg->af, seg->src, seg->sport, ea);
    endpoint(seg->af, seg->dst, seg->dport, eb);
    uint64_t hash = tuple_hash(t, ea, eb, seg->af);
    int dir = 0;
    struct tcp_stream *s = lookup(t, seg->af, ea, eb, hash, &dir);
    if (s == NULL) {
        /* Bare ACKs and RSTs of connections we do not track create nothing. */
        if ((fl & TCP_RST) != 0 || ((fl & TCP_SYN) == 0 && seg->len == 0))
            goto out;
        s = stream_new(t, seg, ea, eb, hash);
        if (s == NULL)
            goto out;
        dir = 0;
    }
    if (seg->ts_us > s->last_us)
        s->last_us = seg->ts_us;
    dlist_move_tail(&t->lru, &s->lru);
    if ((fl & TCP_RST) != 0) {
        stream_destroy(t, s);
        t->stats.streams_closed++;
        goto out;
    }

    struct half *h = &s->half[dir];
    struct fc c = {t, s, h, seg, cb, ctx};
    uint32_t seq = seg->tcp_seq;
    if ((fl & TCP_SYN) != 0) {
        if (!(h->syn_seen && h->isn == seq)) {
            /* First SYN, or a new connection reusing the 4-tuple. */
            if (h->state != HALF_UNSEEN)
                half_clear(t, h);
            h->state = HALF_ACTIVE;
            h->syn_seen = 1;
            h->isn = seq;
            h->next_seq = seq + 1;
            h->framing = FR_SKIP_CRLF;
        }
        seq++; /* the SYN occupies one sequence number */
    } else if (h->state == HALF_UNSEEN) {
        /* Capture started mid-connection: the first bytes may be anything. */
        h->state = HALF_ACTIVE;
        h->next_seq = seq;
        enter_resync(&c, 1);
    }
    if (h->state == HALF_ACTIVE && seg->len > 0) {
        if (seg->len >= REL_MAX) {
            h->lost = 1; /* not a segment any stack sends; do not hold it */
        } else {
            on_data(&c, seq, seg->payload, seg->len);
        }
    }
    if (h->state == HALF_ACTIVE && seg->truncated)
        h->lost = 1;
    if (h->state == HALF_ACTIVE && (fl & TCP_FIN) != 0) {
        h->fin_seen = 1;
        h->fin_seq = seq + (uint32_t)seg->len;
    }
    if (h->state == HALF_ACTIVE && h->fin_seen && (h->next_seq == h->fin_seq || h->lost)) {
        half_clear(t, h);
        h->state = HALF_DONE;
    }
    if (stream_finished(s)) {
        stream_destroy(t, s);
        t->stats.streams_closed++;
    }
out:
    if (seg->len > 0)
        privacy_wipe(seg->payload, seg->len);
}

size_t tcpreasm_expire(struct tcpreasm *t, int64_t now_us, size_t max, tcp_message_fn cb, void *ctx)
{
    size_t closed = 0;
    /* The LRU list is in order of last activity, so stop at the first
     * stream that is still fresh. Packet time may step back a little
     * between merged captures; such a stream just waits for the next call. */
    while (closed < max && !dlist_empty(&t->lru)) {
        struct tcp_stream *s = lru_head(t);
        if (now_us - s->last_us < t->lim.idle_timeout_us)
            break;
        for (int d = 0; d < 2 && cb != NULL; d++) {
            struct half *h = &s->half[d];
            struct packet pk = {0};
            pk.ts_us = now_us;
            pk.af = s->af;
            pk.l4proto = TCP_PROTO;
            memcpy(pk.src, s->ep[d], 16);
            memcpy(pk.dst, s->ep[!d], 16);
            pk.sport = (uint16_t)(s->ep[d][16] << 8 | s->ep[d][17]);
            pk.dport = (uint16_t)(s->ep[!d][16] << 8 | s->ep[!d][17]);
            struct fc c = {t, s, h, &pk, cb, ctx};
            /* s stays the LRU head meanwhile, so reserve() evicts nothing. */
            while (h->state == HALF_ACTIVE && h->ooo != NULL)
                give_up_gap(&c, h->ooo->seq);
        }
        stream_destroy(t, s);
        t->stats.streams_timed_out++;
        closed++;
    }
    return closed;
}

int tcpreasm_held_contains(const struct tcpreasm *t, const void *needle, size_t len)
{
    for (const struct dlist *n = t->lru.next; n != &t->lru; n = n->next) {
        const struct tcp_stream *s = container_of(n, struct tcp_stream, lru);
        for (int d = 0; d < 2; d++) {
            const struct half *h = &s->half[d];
            if (h->hdr != NULL && memmem(h->hdr, h->hdr_len, needle, len) != NULL)
                return 1;
            for (const struct ooo *o = h->ooo; o != NULL; o = o->next)
                if (memmem(o->data, o->len - o->nbody, needle, len) != NULL)
                    return 1;
        }
    }
    return 0;
}
