/* pipeline.c - stage order and counters (see pipeline.h). */
#include "pipeline.h"

#include <stdio.h>
#include <string.h>

#include "frame_hep.h"
#include "privacy.h"
#include "sip_uri.h"

static struct record *queue_slot(void *ctx, enum record_kind kind)
{
    struct pipeline *p = ctx;
    struct record *r = rq_push_slot(&p->queue, kind);
    if (r == NULL)
        p->st.records_lost++;
    return r;
}

int pipeline_init(struct pipeline *p, const struct config *cfg, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->cfg = cfg;
    if (sip_uri_init() != 0) {
        snprintf(err, errlen, "osip2 parser initialisation failed");
        return -1;
    }
    if (rq_init(&p->queue, cfg->queue_size) != 0) {
        snprintf(err, errlen, "cannot allocate a record queue of %zu records", cfg->queue_size);
        return -1;
    }
    struct record_sink sink = {queue_slot, p};
    struct dialog_limits dl = {cfg->max_calls, cfg->setup_timeout_us, cfg->max_idle_us, cfg->call_linger_us};
    if (dialog_init(&p->dialogs, &dl, sink) != 0) {
        rq_free(&p->queue);
        snprintf(err, errlen, "cannot allocate the call table (max_calls %zu)", cfg->max_calls);
        return -1;
    }
    struct sms_limits sl = {cfg->max_sms, cfg->sms_pending_us, cfg->sms_linger_us};
    if (sms_init(&p->sms, &sl, sink) != 0) {
        dialog_free(&p->dialogs);
        rq_free(&p->queue);
        snprintf(err, errlen, "cannot allocate the SMS table (max_sms %zu)", cfg->max_sms);
        return -1;
    }
    /* Defaults of the framing modules (see their headers) until the capture
     * keys reach the config file. */
    if (ipdefrag_init(&p->defrag, NULL, ipdefrag_keep_sip_headers, NULL) != 0 ||
        tcpreasm_init(&p->tcp, NULL) != 0) {
        sms_free(&p->sms);
        dialog_free(&p->dialogs);
        rq_free(&p->queue);
        snprintf(err, errlen, "cannot allocate the reassembly tables");
        return -1;
    }
    return 0;
}

void pipeline_free(struct pipeline *p)
{
    tcpreasm_free(&p->tcp);
    ipdefrag_free(&p->defrag);
    sms_free(&p->sms);
    dialog_free(&p->dialogs);
    rq_free(&p->queue);
}

static void count_message(struct pipeline *p, const struct sip_msg *m)
{
    if (m->is_request)
        p->st.requests[m->method]++;
    else
        p->st.responses[m->status / 100]++;
}

/* A complete SIP header section (the privacy cut has run): scan and route. */
static void on_sip_headers(struct pipeline *p, const char *hdr, size_t len, const struct packet *pkt)
{
    struct sip_msg m;
    enum sip_scan_error serr;
    p->st.sip_messages++;
    if (sip_scan(hdr, len, &m, &serr) != SC_OK) {
        p->st.sip_errors[serr]++;
        return;
    }
    count_message(p, &m);
    /* Route by the transaction's method: a response carries it in CSeq. */
    enum sip_method tm = m.is_request ? m.method : m.cseq_method;
    switch (tm) {
    case SIP_MESSAGE: sms_on_message(&p->sms, &m, pkt); break;
    case SIP_REGISTER: /* devices: recorded from a later release on */
    case SIP_OPTIONS:
    case SIP_SUBSCRIBE:
    case SIP_NOTIFY:
    case SIP_PUBLISH: p->st.not_call++; break;
    default: dialog_on_message(&p->dialogs, &m, pkt); break;
    }
}

/* One datagram that should hold one SIP message. */
static void on_sip_datagram(struct pipeline *p, struct packet *pkt)
{
    /* The privacy cut is the first code to read the payload. */
    struct privacy_result cut;
    if (privacy_cut_datagram(pkt->payload, pkt->len, &cut) != SC_OK) {
        p->st.not_sip++;
        return;
    }
    p->st.body_bytes_wiped += cut.wiped;
    if (pkt->truncated)
        p->st.udp_truncated++;
    on_sip_headers(p, (const char *)pkt->payload, cut.header_len, pkt);
}

/* HEP: v3 is recognised by its magic on any port; v1/v2 have no magic and
 * are only tried on the configured HEP port. */
static bool is_hep(const struct pipeline *p, const struct packet *pkt)
{
    if (pkt->len >= 4 && memcmp(pkt->payload, "HEP3", 4) == 0)
        return true;
    return (pkt->dport == p->cfg->hep_port || pkt->sport == p->cfg->hep_port) &&
           hep_looks_like(pkt->payload, pkt->len);
}

static void on_hep(struct pipeline *p, struct packet *outer)
{
    struct packet inner;
    struct hep_info info;
    enum hep_error why;
    enum sc_ret rc = hep_decode(outer->payload, outer->len, &inner, &info, p->inflate_buf,
                                sizeof(p->inflate_buf), &why);
    if (rc != SC_OK) {
        p->st.hep_skips[why < HEP_ERRORS_MAX ? why : HEP_NOT_HEP]++;
        return;
    }
    p->st.hep_packets++;
    if (!info.has_ts)
        inner.ts_us = outer->ts_us;
    inner.tunnel_depth = outer->tunnel_depth;
    /* HEP carries whole SIP messages, also for TCP legs: a datagram each. */
    on_sip_datagram(p, &inner);
    if (info.compressed)
        privacy_wipe(p->inflate_buf, sizeof(p->inflate_buf));
}

/* A header section cut out of a TCP stream: the reassembler has already
 * skipped (and wiped) the body by its Content-Length. */
static void on_tcp_message(void *ctx, const struct packet *seg, uint8_t *hdr, size_t hdr_len)
{
    on_sip_headers(ctx, (const char *)hdr, hdr_len, seg);
}

/* SCTP: each DATA chunk holds one SIP message (RFC 4168), several may
 * share a packet; each is a datagram to the privacy cut. */
static void on_sctp(struct pipeline *p, struct packet *pkt)
{
    size_t off = 0;
    struct packet msg;
    while (frame_sctp_next_data(pkt, &off, &msg, &p->st.sctp) == SC_OK)
        on_sip_datagram(p, &msg);
}

static void on_transport(struct pipeline *p, struct packet *pkt)
{
    if (pkt->l4proto == 6)
        tcpreasm_feed(&p->tcp, pkt, on_tcp_message, p);
    else if (pkt->l4proto == 132)
        on_sctp(p, pkt);
    else if (is_hep(p, pkt))
        on_hep(p, pkt);
    else
        on_sip_datagram(p, pkt);
}

static void on_fragment(struct pipeline *p, const struct frame_fragment *frag, int64_t ts_us)
{
    uint8_t *dgram;
    size_t len;
    if (ipdefrag_feed(&p->defrag, frag, ts_us, &dgram, &len) != SC_OK)
        return; /* held, or dropped and counted by the module */
    p->st.reassembled++;
    struct packet pkt;
    enum frame_reason why;
    if (frame_decode_ip(dgram, len, ts_us, &pkt, &why) != SC_OK) {
        p->st.frame_skips[why < FRAME_REASONS_MAX ? why : FRAME_MALFORMED]++;
        return;
    }
    pkt.tunnel_depth = (uint8_t)(pkt.tunnel_depth + frag->tunnel_depth);
    on_transport(p, &pkt);
}

void pipeline_on_frame(struct pipeline *p, int dlt, int64_t ts_us, uint8_t *data, size_t caplen, size_t wirelen)
{
    p->st.packets++;
    if (ts_us > p->now_us)
        p->now_us = ts_us;

    struct packet pkt;
    struct frame_fragment frag;
    enum frame_reason why;
    if (frame_decode_ex(dlt, data, caplen, wirelen, ts_us, &pkt, &why, &frag) != SC_OK) {
        if (why == FRAME_IP_FRAGMENT)
            on_fragment(p, &frag, ts_us);
        else
            p->st.frame_skips[why < FRAME_REASONS_MAX ? why : FRAME_MALFORMED]++;
        return;
    }
    on_transport(p, &pkt);
}

size_t pipeline_expire(struct pipeline *p, size_t max)
{
    ipdefrag_expire(&p->defrag, p->now_us);
    /* A stream that times out delivers what it held: each message may end
     * one call, so it shares the record budget. */
    size_t before = rq_count(&p->queue);
    tcpreasm_expire(&p->tcp, p->now_us, max / 2, on_tcp_message, p);
    size_t used = rq_count(&p->queue) - before;
    max = max > used ? max - used : 0;
    size_t n = dialog_expire(&p->dialogs, p->now_us, max);
    return n + sms_expire(&p->sms, p->now_us, max - n);
}

size_t pipeline_flush(struct pipeline *p, size_t max)
{
    /* End of input: streams hand over what they still hold first. */
    if (p->tcp.stats.streams_live > 0)
        tcpreasm_expire(&p->tcp, INT64_MAX, max / 2, on_tcp_message, p);
    size_t before = rq_count(&p->queue);
    size_t live = dialog_flush(&p->dialogs, max);
    size_t used = rq_count(&p->queue) - before;
    return live + sms_flush(&p->sms, max > used ? max - used : 0);
}

#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (o < cap) {                                                                             \
            int n_ = snprintf(buf + o, cap - o, __VA_ARGS__);                                      \
            if (n_ > 0)                                                                            \
                o += (size_t)n_;                                                                   \
        }                                                                                          \
    } while (0)

void pipeline_format_stats(const struct pipeline *p, char *buf, size_t cap)
{
    const struct pipeline_stats *s = &p->st;
    size_t o = 0;
    buf[0] = '\0';
    APPEND("packets=%llu sip_messages=%llu", (unsigned long long)s->packets,
           (unsigned long long)s->sip_messages);
    for (int r = 1; r < FRAME_REASONS_MAX; r++)
        if (s->frame_skips[r])
            APPEND(" skipped_%s=%llu", frame_reason_name((enum frame_reason)r),
                   (unsigned long long)s->frame_skips[r]);
    if (s->not_sip)
        APPEND(" skipped_not_sip=%llu", (unsigned long long)s->not_sip);
    if (s->reassembled)
        APPEND(" ip_reassembled=%llu", (unsigned long long)s->reassembled);
    const struct ipdefrag_stats *f = &p->defrag.stats;
    if (f->fragments)
        APPEND(" ip_fragments=%llu fragments_timed_out=%llu fragments_evicted=%llu fragments_overlap_dropped=%llu",
               (unsigned long long)f->fragments, (unsigned long long)f->timeouts,
               (unsigned long long)f->evicted_full, (unsigned long long)f->overlaps_dropped);
    const struct tcp_stats *t = &p->tcp.stats;
    if (t->segments)
        APPEND(" tcp_segments=%llu tcp_messages=%llu tcp_streams=%llu tcp_resyncs=%llu tcp_gaps=%llu "
               "tcp_streams_evicted=%llu tcp_headers_too_long=%llu",
               (unsigned long long)t->segments, (unsigned long long)t->messages,
               (unsigned long long)t->streams_opened, (unsigned long long)t->resyncs, (unsigned long long)t->gaps,
               (unsigned long long)t->streams_evicted, (unsigned long long)t->headers_too_long);
    if (t->ws_frames)
        APPEND(" ws_frames=%llu ws_messages=%llu ws_errors=%llu", (unsigned long long)t->ws_frames,
               (unsigned long long)t->ws_messages, (unsigned long long)t->ws_errors);
    const struct frame_sctp_counts *sc = &s->sctp;
    if (sc->chunks)
        APPEND(" sctp_chunks=%llu sctp_messages=%llu sctp_first_fragments=%llu sctp_fragments_skipped=%llu "
               "sctp_truncated=%llu sctp_malformed=%llu",
               (unsigned long long)sc->chunks, (unsigned long long)sc->messages,
               (unsigned long long)sc->first_fragments, (unsigned long long)sc->fragments_skipped,
               (unsigned long long)sc->truncated, (unsigned long long)sc->malformed);
    if (s->hep_packets)
        APPEND(" hep_sip=%llu", (unsigned long long)s->hep_packets);
    for (int e = 1; e < HEP_ERRORS_MAX; e++)
        if (s->hep_skips[e])
            APPEND(" skipped_hep_%s=%llu", hep_error_name((enum hep_error)e), (unsigned long long)s->hep_skips[e]);
    for (int e = 1; e < SIP_ERR_COUNT; e++)
        if (s->sip_errors[e])
            APPEND(" skipped_sip_%s=%llu", sip_scan_error_name((enum sip_scan_error)e),
                   (unsigned long long)s->sip_errors[e]);
    if (s->not_call)
        APPEND(" sip_not_call=%llu", (unsigned long long)s->not_call);
    if (s->udp_truncated)
        APPEND(" udp_truncated=%llu", (unsigned long long)s->udp_truncated);
    APPEND(" body_bytes_wiped=%llu", (unsigned long long)s->body_bytes_wiped);
    const struct dialog_stats *d = &p->dialogs.stats;
    const struct sms_stats *m = &p->sms.stats;
    APPEND(" calls=%llu calls_expired=%llu calls_evicted=%llu unmatched=%llu", (unsigned long long)d->recorded,
           (unsigned long long)d->expired, (unsigned long long)d->evicted,
           (unsigned long long)(d->unmatched + m->unmatched));
    APPEND(" sms=%llu sms_no_response=%llu sms_evicted=%llu", (unsigned long long)m->recorded,
           (unsigned long long)m->no_response, (unsigned long long)m->evicted);
    if (d->truncated_fields + m->truncated_fields)
        APPEND(" truncated_fields=%llu", (unsigned long long)(d->truncated_fields + m->truncated_fields));
    if (d->uri_errors + m->uri_errors)
        APPEND(" uri_errors=%llu", (unsigned long long)(d->uri_errors + m->uri_errors));
    if (s->records_lost)
        APPEND(" records_lost=%llu", (unsigned long long)s->records_lost);
    APPEND(" queue_high_water=%zu", p->queue.high_water);
}
