/* record_codec.c - binary form of records (see record_codec.h). */
#include "record_codec.h"

#include <string.h>

struct wcur {
    uint8_t *p;
    size_t len, cap;
    int ok;
};

struct rcur {
    const uint8_t *p;
    size_t len, off;
    int ok;
};

static void put_bytes(struct wcur *w, const void *b, size_t n)
{
    if (!w->ok || w->cap - w->len < n) {
        w->ok = 0;
        return;
    }
    memcpy(w->p + w->len, b, n);
    w->len += n;
}

static void put_u64(struct wcur *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 8);
}

static void put_str(struct wcur *w, const char *s)
{
    size_t n = strlen(s);
    uint8_t b[2] = {(uint8_t)n, (uint8_t)(n >> 8)};
    put_bytes(w, b, 2);
    put_bytes(w, s, n);
}

static const uint8_t *get_bytes(struct rcur *r, size_t n)
{
    if (!r->ok || r->len - r->off < n) {
        r->ok = 0;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

static uint64_t get_u64(struct rcur *r)
{
    const uint8_t *b = get_bytes(r, 8);
    uint64_t v = 0;
    if (b != NULL)
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | b[i];
    return v;
}

/* A string must fit its column with its NUL and hold no NUL itself. */
static void get_str(struct rcur *r, char *dst, size_t cap)
{
    const uint8_t *b = get_bytes(r, 2);
    size_t n = b ? (size_t)b[0] | ((size_t)b[1] << 8) : 0;
    const uint8_t *s = get_bytes(r, n);
    if (s == NULL || n >= cap || memchr(s, 0, n) != NULL) {
        r->ok = 0;
        dst[0] = '\0';
        return;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

size_t record_encode(const struct record *rec, uint8_t *buf, size_t cap)
{
    struct wcur w = {buf, 0, cap, 1};
    uint8_t head[2] = {RECORD_CODEC_VERSION, (uint8_t)rec->kind};
    put_bytes(&w, head, 2);
    if (rec->kind == RECORD_CALL) {
        const struct call_record *c = &rec->u.call;
        put_str(&w, c->call_id);
        put_str(&w, c->caller);
        put_str(&w, c->callee);
        put_str(&w, c->redirects);
        put_str(&w, c->caller_ip);
        put_str(&w, c->user_agent);
        put_u64(&w, (uint64_t)c->invite_us);
        put_u64(&w, (uint64_t)c->ring_us);
        put_u64(&w, (uint64_t)c->answer_us);
        put_u64(&w, (uint64_t)c->end_us);
        put_u64(&w, (uint64_t)c->duration_ms);
        put_u64(&w, (uint64_t)(int64_t)c->status);
        uint8_t e[3] = {(uint8_t)c->disposition, (uint8_t)c->hangup_by, (uint8_t)c->end_reason};
        put_bytes(&w, e, 3);
    } else {
        const struct sms_record *s = &rec->u.sms;
        put_str(&w, s->call_id);
        put_str(&w, s->sender);
        put_str(&w, s->destination);
        put_u64(&w, (uint64_t)s->time_us);
        put_u64(&w, (uint64_t)(int64_t)s->status);
        uint8_t k = (uint8_t)s->kind;
        put_bytes(&w, &k, 1);
    }
    return w.ok ? w.len : 0;
}

size_t record_decode(const uint8_t *buf, size_t len, struct record *rec)
{
    struct rcur r = {buf, len, 0, 1};
    const uint8_t *head = get_bytes(&r, 2);
    if (head == NULL || head[0] != RECORD_CODEC_VERSION || (head[1] != RECORD_CALL && head[1] != RECORD_SMS))
        return 0;
    record_init(rec, (enum record_kind)head[1]);
    if (rec->kind == RECORD_CALL) {
        struct call_record *c = &rec->u.call;
        get_str(&r, c->call_id, sizeof(c->call_id));
        get_str(&r, c->caller, sizeof(c->caller));
        get_str(&r, c->callee, sizeof(c->callee));
        get_str(&r, c->redirects, sizeof(c->redirects));
        get_str(&r, c->caller_ip, sizeof(c->caller_ip));
        get_str(&r, c->user_agent, sizeof(c->user_agent));
        c->invite_us = (int64_t)get_u64(&r);
        c->ring_us = (int64_t)get_u64(&r);
        c->answer_us = (int64_t)get_u64(&r);
        c->end_us = (int64_t)get_u64(&r);
        c->duration_ms = (int64_t)get_u64(&r);
        int64_t st = (int64_t)get_u64(&r);
        const uint8_t *e = get_bytes(&r, 3);
        if (e == NULL || st < 0 || st > 999 || e[0] > DISP_FAILED || e[1] > HANGUP_CALLEE || e[2] > END_EVICTED)
            return 0;
        c->status = (int)st;
        c->disposition = (enum call_disposition)e[0];
        c->hangup_by = (enum call_hangup_by)e[1];
        c->end_reason = (enum call_end_reason)e[2];
    } else {
        struct sms_record *s = &rec->u.sms;
        get_str(&r, s->call_id, sizeof(s->call_id));
        get_str(&r, s->sender, sizeof(s->sender));
        get_str(&r, s->destination, sizeof(s->destination));
        s->time_us = (int64_t)get_u64(&r);
        int64_t st = (int64_t)get_u64(&r);
        const uint8_t *k = get_bytes(&r, 1);
        if (k == NULL || st < 0 || st > 999 || (k[0] != SMS_TEXT && k[0] != SMS_3GPP))
            return 0;
        s->status = (int)st;
        s->kind = (enum sms_kind)k[0];
    }
    return r.ok ? r.off : 0;
}
