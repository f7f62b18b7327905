/* dialog.c - call state and the one place call records are written.
 *
 * Lifecycle as named events, one small function each: invite, provisional,
 * answer, failure, cancel, bye; then finalize(). A call moves between three
 * lists of the session table: SETUP (no answer yet), TALKING (answered) and
 * ENDED (BYE seen, or a final failure: kept for linger_us so retransmissions,
 * the other proxy leg, or a new INVITE after a 401/407 challenge still find it).
 */
#include "dialog.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sip_uri.h"

enum { L_SETUP = 0, L_TALKING = 1, L_ENDED = 2, L_COUNT = 3 };

struct call {
    struct sess s;
    char *call_id; /* owned, NUL-terminated */
    size_t call_id_len;
    char *from_tag; /* owned; "" when the INVITE had none */
    char *to_tag;   /* owned; the answering side's tag, NULL until answered */
    uint32_t invite_cseq; /* highest INVITE CSeq of the setup phase */
    uint32_t final_cseq;
    int final_code;
    int answer_code;
    bool cancelled;
    enum call_hangup_by hangup;
    int64_t invite_us, ring_us, answer_us, cancel_us, final_us, bye_us;
    struct record rec; /* strings filled at the INVITE; times at finalize */
};

int dialog_init(struct dialog_table *d, const struct dialog_limits *lim, struct record_sink sink)
{
    memset(&d->stats, 0, sizeof(d->stats));
    d->lim = *lim;
    d->sink = sink;
    int64_t timeouts[L_COUNT] = {lim->setup_timeout_us, lim->max_idle_us, lim->linger_us};
    return sesstab_init(&d->tab, lim->max_calls, L_COUNT, timeouts);
}

static void call_free(struct call *c)
{
    free(c->call_id);
    free(c->from_tag);
    free(c->to_tag);
    free(c);
}

void dialog_free(struct dialog_table *d)
{
    unsigned all[L_COUNT] = {L_SETUP, L_TALKING, L_ENDED};
    struct sess *s;
    while ((s = sesstab_oldest(&d->tab, all, L_COUNT)) != NULL) {
        sesstab_remove(&d->tab, s);
        call_free(container_of(s, struct call, s));
    }
    sesstab_free(&d->tab);
}

static char *dup_sv(struct sv v)
{
    char *p = malloc(v.len + 1);
    if (p != NULL) {
        if (v.len)
            memcpy(p, v.p, v.len);
        p[v.len] = '\0';
    }
    return p;
}

static bool tag_eq(const char *tag, struct sv v)
{
    /* v may be an absent tag (NULL, 0): it equals only the empty tag. */
    return tag != NULL && strlen(tag) == v.len && (v.len == 0 || memcmp(tag, v.p, v.len) == 0);
}

static struct call *find(struct dialog_table *d, const struct sip_msg *m, uint64_t h)
{
    for (struct hnode *n = htab_first(&d->tab.ht, h); n != NULL; n = htab_next(n, h)) {
        struct call *c = container_of(n, struct call, s.hnode);
        if (c->call_id_len != m->call_id.len || memcmp(c->call_id, m->call_id.p, m->call_id.len) != 0)
            continue;
        if (tag_eq(c->from_tag, m->from_tag) || (m->to_tag.p != NULL && tag_eq(c->from_tag, m->to_tag)))
            return c;
    }
    return NULL;
}

static enum call_disposition disposition_of(const struct call *c)
{
    if (c->answer_us != REC_TIME_NONE)
        return DISP_ANSWERED;
    int s = c->final_code;
    if (s == 0)
        return c->cancelled ? DISP_CANCELLED : DISP_UNKNOWN;
    if (s == 486 || s == 600)
        return DISP_BUSY;
    if (s == 487 && c->cancelled)
        return DISP_CANCELLED;
    if (s == 408 || s == 480)
        return DISP_NO_ANSWER;
    if (s == 403 || s == 603)
        return DISP_REJECTED;
    if (s >= 300 && s < 400)
        return DISP_REDIRECTED;
    return DISP_FAILED;
}

/* The one place a call becomes a record. why: the reason used when the
 * messages themselves did not end the call (end of input, expiry, eviction). */
static void finalize(struct dialog_table *d, struct call *c, enum call_end_reason why)
{
    sesstab_remove(&d->tab, &c->s);
    struct record *r = d->sink.slot(d->sink.ctx, RECORD_CALL);
    if (r == NULL) {
        d->stats.sink_full++;
        call_free(c);
        return;
    }
    *r = c->rec;
    struct call_record *cr = &r->u.call;
    cr->invite_us = c->invite_us;
    cr->ring_us = c->ring_us;
    cr->answer_us = c->answer_us;
    if (c->answer_us != REC_TIME_NONE) {
        cr->status = c->answer_code;
        if (c->bye_us != REC_TIME_NONE) {
            cr->end_us = c->bye_us;
            cr->duration_ms = (c->bye_us - c->answer_us) / 1000;
            cr->hangup_by = c->hangup;
            why = END_BYE;
        }
    } else {
        cr->status = c->final_code;
        if (c->cancelled) {
            cr->end_us = c->cancel_us;
            why = END_CANCEL;
        } else if (c->final_code >= 300) {
            cr->end_us = c->final_us;
            why = END_FINAL_RESPONSE;
        }
    }
    cr->disposition = disposition_of(c);
    cr->end_reason = why;
    d->stats.recorded++;
    if (why == END_EXPIRED)
        d->stats.expired++;
    else if (why == END_EVICTED)
        d->stats.evicted++;
    call_free(c);
}

static void copy_field(struct dialog_table *d, char *dst, size_t cap, struct sv v)
{
    if (!sip_value_copy(dst, cap, v))
        d->stats.truncated_fields++;
}

static void copy_user(struct dialog_table *d, char *dst, size_t cap, struct sv v, bool is_header)
{
    if (v.len == 0)
        return;
    enum sc_ret rc = is_header ? sip_header_uri_user(v, dst, cap) : sip_uri_user(v, dst, cap);
    if (rc != SC_OK)
        d->stats.uri_errors++;
}

/* Append a forwarding number to the call's redirects, keeping order and
 * dropping duplicates. */
static void add_redirect(struct dialog_table *d, struct call *c, const char *num)
{
    char *list = c->rec.u.call.redirects;
    size_t n = strlen(num), len = strlen(list);
    if (n == 0)
        return;
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ';');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, num, n) == 0)
            return;
        p += l + (e ? 1 : 0);
    }
    size_t need = len + (len ? 1 : 0) + n;
    if (need >= sizeof(c->rec.u.call.redirects)) {
        d->stats.truncated_fields++;
        return;
    }
    if (len)
        list[len++] = ';';
    memcpy(list + len, num, n + 1);
}

static void add_redirects(struct dialog_table *d, struct call *c, const struct sv *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        char num[REC_NUMBER_MAX];
        copy_user(d, num, sizeof(num), v[i], true);
        add_redirect(d, c, num);
    }
}

static void evict_one(struct dialog_table *d)
{
    static const unsigned order[L_COUNT] = {L_ENDED, L_SETUP, L_TALKING};
    struct sess *s = sesstab_oldest(&d->tab, order, L_COUNT);
    if (s != NULL)
        finalize(d, container_of(s, struct call, s), END_EVICTED);
}

static void on_new_invite(struct dialog_table *d, const struct sip_msg *m, const struct packet *pkt, uint64_t h)
{
    if (sesstab_full(&d->tab))
        evict_one(d);
    struct call *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->call_id = dup_sv(m->call_id);
    c->from_tag = dup_sv(m->from_tag);
    if (c->call_id == NULL || c->from_tag == NULL) {
        call_free(c);
        return;
    }
    c->call_id_len = m->call_id.len;
    c->invite_cseq = m->cseq;
    c->invite_us = pkt->ts_us;
    c->ring_us = c->answer_us = c->cancel_us = c->final_us = c->bye_us = REC_TIME_NONE;
    record_init(&c->rec, RECORD_CALL);
    struct call_record *cr = &c->rec.u.call;
    copy_field(d, cr->call_id, sizeof(cr->call_id), m->call_id);
    copy_user(d, cr->caller, sizeof(cr->caller), m->from, true);
    copy_user(d, cr->callee, sizeof(cr->callee), m->ruri, false);
    copy_field(d, cr->user_agent, sizeof(cr->user_agent), m->user_agent);
    packet_addr_str(pkt, 1, cr->caller_ip, sizeof(cr->caller_ip));
    add_redirects(d, c, m->diversion, m->n_diversion);
    sesstab_add(&d->tab, &c->s, h, L_SETUP, pkt->ts_us);
    d->stats.created++;
}

static void on_request(struct dialog_table *d, struct call *c, const struct sip_msg *m, const struct packet *pkt)
{
    unsigned list = c->s.list;
    switch (m->method) {
    case SIP_INVITE:
        if (c->answer_us == REC_TIME_NONE && m->to_tag.p == NULL) {
            /* A retransmission, or a new attempt after a 401/407 challenge
             * (higher CSeq, same Call-ID): the same call, back in setup. */
            if (m->cseq > c->invite_cseq) {
                c->invite_cseq = m->cseq;
                list = L_SETUP;
            }
            add_redirects(d, c, m->diversion, m->n_diversion);
        }
        break;
    case SIP_CANCEL:
        if (c->answer_us == REC_TIME_NONE && !c->cancelled) {
            c->cancelled = true;
            c->cancel_us = pkt->ts_us;
        }
        break;
    case SIP_BYE:
        if (c->answer_us != REC_TIME_NONE && c->bye_us == REC_TIME_NONE) {
            c->bye_us = pkt->ts_us;
            if (tag_eq(c->from_tag, m->from_tag))
                c->hangup = HANGUP_CALLER;
            else if (tag_eq(c->to_tag, m->from_tag))
                c->hangup = HANGUP_CALLEE;
            else
                c->hangup = HANGUP_UNKNOWN;
            list = L_ENDED;
        }
        break;
    default: break;
    }
    sesstab_touch(&d->tab, &c->s, list, pkt->ts_us);
}

static void on_invite_response(struct dialog_table *d, struct call *c, const struct sip_msg *m, const struct packet *pkt)
{
    unsigned list = c->s.list;
    /* Once answered, INVITE responses belong to re-INVITEs: they change nothing. */
    if (c->answer_us == REC_TIME_NONE) {
        int code = m->status;
        if (code >= 101 && code <= 199) {
            if (c->ring_us == REC_TIME_NONE)
                c->ring_us = pkt->ts_us;
        } else if (code >= 200 && code <= 299) {
            c->answer_us = pkt->ts_us;
            c->answer_code = code;
            free(c->to_tag);
            c->to_tag = dup_sv(m->to_tag);
            list = L_TALKING;
        } else if (code >= 300 && m->cseq >= c->final_cseq) {
            /* The last final response decides; its time is when that code
             * was first seen in the latest transaction, so retransmissions
             * and the second proxy leg do not move it. */
            if (m->cseq > c->final_cseq || code != c->final_code) {
                c->final_code = code;
                c->final_cseq = m->cseq;
                c->final_us = pkt->ts_us;
            }
            if (code >= 300 && code < 400)
                add_redirects(d, c, m->contact, m->n_contact);
            list = L_ENDED;
        }
    }
    sesstab_touch(&d->tab, &c->s, list, pkt->ts_us);
}

void dialog_on_message(struct dialog_table *d, const struct sip_msg *m, const struct packet *pkt)
{
    uint64_t h = sesstab_hash(&d->tab, m->call_id.p, m->call_id.len);
    struct call *c = find(d, m, h);
    if (c == NULL) {
        if (m->is_request && m->method == SIP_INVITE && m->to_tag.p == NULL)
            on_new_invite(d, m, pkt, h);
        else
            d->stats.unmatched++;
        return;
    }
    if (m->is_request)
        on_request(d, c, m, pkt);
    else if (m->cseq_method == SIP_INVITE)
        on_invite_response(d, c, m, pkt);
    else
        sesstab_touch(&d->tab, &c->s, c->s.list, pkt->ts_us);
}

size_t dialog_expire(struct dialog_table *d, int64_t now_us, size_t max)
{
    size_t n = 0;
    struct sess *s;
    while (n < max && (s = sesstab_expired(&d->tab, now_us)) != NULL) {
        /* An ended call's linger is over: its own messages say why it ended. */
        finalize(d, container_of(s, struct call, s), s->list == L_ENDED ? END_NONE : END_EXPIRED);
        n++;
    }
    return n;
}

size_t dialog_flush(struct dialog_table *d, size_t max)
{
    static const unsigned order[L_COUNT] = {L_ENDED, L_SETUP, L_TALKING};
    struct sess *s;
    for (size_t n = 0; n < max && (s = sesstab_oldest(&d->tab, order, L_COUNT)) != NULL; n++)
        finalize(d, container_of(s, struct call, s), END_END_OF_INPUT);
    return d->tab.count;
}
