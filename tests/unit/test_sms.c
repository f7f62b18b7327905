/* test_sms.c - MESSAGE transactions -> SMS records. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sip_uri.h"
#include "sms.h"

#define S(x) ((int64_t)(x)*1000000)
#define T0 S(1480675281)

static struct record out[16];
static size_t nout;
static struct sms_table t;

static struct record *slot(void *ctx, enum record_kind kind)
{
    (void)ctx;
    if (nout == 16)
        return NULL;
    record_init(&out[nout], kind);
    return &out[nout++];
}

static void start(size_t max)
{
    nout = 0;
    struct sms_limits lim = {max, S(32), S(32)};
    struct record_sink sink = {slot, NULL};
    CHECK_EQ_INT(sms_init(&t, &lim, sink), 0);
}

static void feed(int64_t ts, const char *text)
{
    char msg[2048];
    size_t o = 0;
    for (const char *p = text; *p && o + 2 < sizeof(msg); p++) {
        if (*p == '\n')
            msg[o++] = '\r';
        msg[o++] = *p;
    }
    struct sip_msg m;
    enum sip_scan_error why;
    CHECK_EQ_INT(sip_scan(msg, o, &m, &why), SC_OK);
    struct packet pkt;
    memset(&pkt, 0, sizeof(pkt));
    pkt.ts_us = ts;
    pkt.af = 4;
    sms_on_message(&t, &m, &pkt);
}

#define MSG(cseq) \
    "MESSAGE sip:+4917012345@ims.example SIP/2.0\nFrom: <sip:+4930111@ims.example>;tag=f1\n" \
    "To: <sip:+4917012345@ims.example>\nCall-ID: sms-1\nCSeq: " cseq " MESSAGE\n"
#define RESP(code, cseq) \
    "SIP/2.0 " code "\nFrom: <sip:+4930111@ims.example>;tag=f1\nTo: <sip:+4917012345@ims.example>;tag=t9\n" \
    "Call-ID: sms-1\nCSeq: " cseq " MESSAGE\n\n"

static void text_message_with_retransmission(void)
{
    start(10);
    feed(T0, MSG("1") "Content-Type: text/plain\n\n");
    feed(T0 + 500000, MSG("1") "Content-Type: text/plain\n\n");
    feed(T0 + 600000, RESP("200 OK", "1"));
    feed(T0 + 700000, RESP("200 OK", "1"));
    CHECK_EQ_INT(nout, 0);
    CHECK_EQ_INT(sms_expire(&t, T0 + S(40), 10), 1);
    CHECK_EQ_INT(nout, 1);
    const struct sms_record *s = &out[0].u.sms;
    CHECK_EQ_STR(s->call_id, "sms-1");
    CHECK_EQ_STR(s->sender, "+4930111");
    CHECK_EQ_STR(s->destination, "+4917012345");
    CHECK_EQ_INT(s->time_us, T0);
    CHECK_EQ_INT(s->status, 200);
    CHECK_EQ_INT(s->kind, SMS_TEXT);
    sms_free(&t);
}

static void sms_3gpp_without_response(void)
{
    start(10);
    feed(T0, MSG("7") "Content-Type: application/vnd.3gpp.sms\n\n");
    feed(T0 + 1, RESP("100 Trying", "7"));
    CHECK_EQ_INT(sms_flush(&t, 10), 0);
    CHECK_EQ_INT(nout, 1);
    CHECK_EQ_INT(out[0].u.sms.status, 0);
    CHECK_EQ_INT(out[0].u.sms.kind, SMS_3GPP);
    CHECK_EQ_INT(t.stats.no_response, 1);
    sms_free(&t);
}

static void two_cseqs_two_records_and_eviction(void)
{
    start(1);
    feed(T0, MSG("1") "\n");
    feed(T0 + 1, MSG("2") "\n");
    CHECK_EQ_INT(t.stats.evicted, 1);
    feed(T0 + 2, RESP("202 Accepted", "2"));
    feed(T0 + 3, RESP("404 Not Found", "9"));
    CHECK_EQ_INT(t.stats.unmatched, 1);
    sms_flush(&t, 10);
    CHECK_EQ_INT(nout, 2);
    CHECK_EQ_INT(out[1].u.sms.status, 202);
    sms_free(&t);
}

int main(void)
{
    CHECK_EQ_INT(sip_uri_init(), 0);
    RUN(text_message_with_retransmission);
    RUN(sms_3gpp_without_response);
    RUN(two_cseqs_two_records_and_eviction);
    return check_summary();
}
