/* sms.c - MESSAGE transactions -> SMS records (see sms.h). */
#include "sms.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sip_uri.h"

enum { L_PENDING = 0, L_DONE = 1, L_COUNT = 2 };

struct sms {
    struct sess s;
    char *key; /* owned: Call-ID '\0' From-tag, then the CSeq number */
    size_t key_len;
    struct record rec;
};

int sms_init(struct sms_table *t, const struct sms_limits *lim, struct record_sink sink)
{
    memset(&t->stats, 0, sizeof(t->stats));
    t->lim = *lim;
    t->sink = sink;
    int64_t timeouts[L_COUNT] = {lim->pending_us, lim->linger_us};
    return sesstab_init(&t->tab, lim->max_sms, L_COUNT, timeouts);
}

static void sms_entry_free(struct sms *e)
{
    free(e->key);
    free(e);
}

void sms_free(struct sms_table *t)
{
    static const unsigned all[L_COUNT] = {L_PENDING, L_DONE};
    struct sess *s;
    while ((s = sesstab_oldest(&t->tab, all, L_COUNT)) != NULL) {
        sesstab_remove(&t->tab, s);
        sms_entry_free(container_of(s, struct sms, s));
    }
    sesstab_free(&t->tab);
}

/* The transaction key as bytes: Call-ID, a NUL, From-tag, a NUL, CSeq (4
 * bytes). NULs cannot occur in header values the scanner accepted as text,
 * so the parts cannot run into each other. Returns the length or 0. */
static size_t make_key(const struct sip_msg *m, char *buf, size_t cap)
{
    size_t need = m->call_id.len + 1 + m->from_tag.len + 1 + 4;
    if (need > cap)
        return 0;
    size_t o = 0;
    memcpy(buf + o, m->call_id.p, m->call_id.len);
    o += m->call_id.len;
    buf[o++] = '\0';
    if (m->from_tag.len)
        memcpy(buf + o, m->from_tag.p, m->from_tag.len);
    o += m->from_tag.len;
    buf[o++] = '\0';
    memcpy(buf + o, &m->cseq, 4);
    return o + 4;
}

static struct sms *find(struct sms_table *t, const char *key, size_t len, uint64_t h)
{
    for (struct hnode *n = htab_first(&t->tab.ht, h); n != NULL; n = htab_next(n, h)) {
        struct sms *e = container_of(n, struct sms, s.hnode);
        if (e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

/* The one place an SMS becomes a record. */
static void finalize(struct sms_table *t, struct sms *e)
{
    sesstab_remove(&t->tab, &e->s);
    struct record *r = t->sink.slot(t->sink.ctx, RECORD_SMS);
    if (r == NULL) {
        t->stats.sink_full++;
    } else {
        *r = e->rec;
        t->stats.recorded++;
        if (r->u.sms.status == 0)
            t->stats.no_response++;
    }
    sms_entry_free(e);
}

static bool is_3gpp(struct sv content_type)
{
    static const char ct[] = "application/vnd.3gpp.sms";
    struct sv v = content_type;
    const char *semi = v.len ? memchr(v.p, ';', v.len) : NULL;
    if (semi != NULL)
        v.len = (size_t)(semi - v.p);
    return sv_eq_nocase_cstr(sv_trim(v), ct);
}

static void on_request(struct sms_table *t, const struct sip_msg *m, const struct packet *pkt,
                       const char *key, size_t klen, uint64_t h)
{
    struct sms *e = find(t, key, klen, h);
    if (e != NULL) {
        sesstab_touch(&t->tab, &e->s, e->s.list, pkt->ts_us);
        return;
    }
    if (sesstab_full(&t->tab)) {
        static const unsigned order[L_COUNT] = {L_DONE, L_PENDING};
        struct sess *old = sesstab_oldest(&t->tab, order, L_COUNT);
        if (old != NULL) {
            t->stats.evicted++;
            finalize(t, container_of(old, struct sms, s));
        }
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return;
    e->key = malloc(klen);
    if (e->key == NULL) {
        free(e);
        return;
    }
    memcpy(e->key, key, klen);
    e->key_len = klen;
    record_init(&e->rec, RECORD_SMS);
    struct sms_record *sr = &e->rec.u.sms;
    if (!sip_value_copy(sr->call_id, sizeof(sr->call_id), m->call_id))
        t->stats.truncated_fields++;
    if (sip_header_uri_user(m->from, sr->sender, sizeof(sr->sender)) != SC_OK)
        t->stats.uri_errors++;
    if (sip_uri_user(m->ruri, sr->destination, sizeof(sr->destination)) != SC_OK)
        t->stats.uri_errors++;
    sr->time_us = pkt->ts_us;
    sr->kind = is_3gpp(m->content_type) ? SMS_3GPP : SMS_TEXT;
    sesstab_add(&t->tab, &e->s, h, L_PENDING, pkt->ts_us);
    t->stats.created++;
}

void sms_on_message(struct sms_table *t, const struct sip_msg *m, const struct packet *pkt)
{
    char key[REC_CALLID_MAX * 2 + 64];
    size_t klen = make_key(m, key, sizeof(key));
    if (klen == 0) {
        t->stats.truncated_fields++;
        return;
    }
    uint64_t h = sesstab_hash(&t->tab, key, klen);
    if (m->is_request) {
        on_request(t, m, pkt, key, klen, h);
        return;
    }
    struct sms *e = find(t, key, klen, h);
    if (e == NULL) {
        t->stats.unmatched++;
        return;
    }
    unsigned list = e->s.list;
    if (m->status >= 200 && e->rec.u.sms.status == 0) {
        e->rec.u.sms.status = m->status;
        list = L_DONE;
    }
    sesstab_touch(&t->tab, &e->s, list, pkt->ts_us);
}

size_t sms_expire(struct sms_table *t, int64_t now_us, size_t max)
{
    size_t n = 0;
    struct sess *s;
    while (n < max && (s = sesstab_expired(&t->tab, now_us)) != NULL) {
        finalize(t, container_of(s, struct sms, s));
        n++;
    }
    return n;
}

size_t sms_flush(struct sms_table *t, size_t max)
{
    static const unsigned order[L_COUNT] = {L_DONE, L_PENDING};
    struct sess *s;
    for (size_t n = 0; n < max && (s = sesstab_oldest(&t->tab, order, L_COUNT)) != NULL; n++)
        finalize(t, container_of(s, struct sms, s));
    return t->tab.count;
}
