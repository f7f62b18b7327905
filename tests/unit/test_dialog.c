/* test_dialog.c - call flows (RFC 3665 shapes) -> call records, by the rules
 * in docs/records.md. Each flow is a list of messages with packet times. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dialog.h"
#include "sip_uri.h"

#define S(x) ((int64_t)(x)*1000000)
#define MS(x) ((int64_t)(x)*1000)
#define T0 S(1480675281) /* 2016-12-02T10:41:21Z */

static struct record out[64];
static size_t nout;

static struct record *slot(void *ctx, enum record_kind kind)
{
    (void)ctx;
    if (nout == sizeof(out) / sizeof(out[0]))
        return NULL;
    record_init(&out[nout], kind);
    return &out[nout++];
}

static struct dialog_table d;

static void start(size_t max_calls)
{
    nout = 0;
    struct dialog_limits lim = {max_calls, S(300), S(3600), S(32)};
    struct record_sink sink = {slot, NULL};
    CHECK_EQ_INT(dialog_init(&d, &lim, sink), 0);
}

static void stop(void)
{
    dialog_flush(&d, 1000);
    dialog_free(&d);
}

/* Feed one message given as printf text; "\n" becomes CRLF. */
static void feed(int64_t t, const char *src, const char *fmt, ...)
{
    char raw[2048], msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    size_t o = 0;
    for (const char *p = raw; *p && o + 2 < sizeof(msg); p++) {
        if (*p == '\n')
            msg[o++] = '\r';
        msg[o++] = *p;
    }
    struct sip_msg m;
    enum sip_scan_error why;
    if (sip_scan(msg, o, &m, &why) != SC_OK) {
        CHECK_REPORT(0, "scan failed: %s", sip_scan_error_name(why));
        return;
    }
    struct packet pkt;
    memset(&pkt, 0, sizeof(pkt));
    pkt.ts_us = t;
    pkt.af = 4;
    inet_pton(AF_INET, src, pkt.src);
    dialog_on_message(&d, &m, &pkt);
}

#define HDRS(ftag, ttag, cseq, cm)                                                                 \
    "From: \"A\" <sip:alice@a.example>;tag=" ftag "\nTo: <sip:bob@b.example>" ttag                 \
    "\nCall-ID: call-1@a\nCSeq: " cseq " " cm "\n"

static const char *INVITE1 = "INVITE sip:+4930123@b.example SIP/2.0\n" HDRS("A", "", "1", "INVITE")
                             "User-Agent: Zoiper rv2.10\nContent-Length: 0\n\n";

static const struct call_record *only_call(void)
{
    CHECK_EQ_INT(nout, 1);
    CHECK_EQ_INT(out[0].kind, RECORD_CALL);
    return &out[0].u.call;
}

static void answered_caller_hangs_up(void)
{
    start(10);
    feed(T0, "10.0.0.1", "%s", INVITE1);
    feed(T0 + MS(10), "10.0.0.9", "SIP/2.0 100 Trying\n" HDRS("A", "", "1", "INVITE") "\n");
    feed(T0 + S(1), "10.0.0.9", "SIP/2.0 180 Ringing\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    feed(T0 + S(5), "10.0.0.9", "SIP/2.0 200 OK\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    feed(T0 + S(5) + 1, "10.0.0.1", "ACK sip:bob@b SIP/2.0\n" HDRS("A", ";tag=B", "1", "ACK") "\n");
    feed(T0 + S(65) + 7, "10.0.0.1", "BYE sip:bob@b SIP/2.0\n" HDRS("A", ";tag=B", "2", "BYE") "\n");
    feed(T0 + S(65) + 9, "10.0.0.9", "SIP/2.0 200 OK\n" HDRS("A", ";tag=B", "2", "BYE") "\n");
    CHECK_EQ_INT(nout, 0); /* lingers for retransmissions */
    CHECK_EQ_INT(dialog_expire(&d, T0 + S(65 + 33), 100), 1);
    const struct call_record *c = only_call();
    CHECK_EQ_STR(c->call_id, "call-1@a");
    CHECK_EQ_STR(c->caller, "alice");
    CHECK_EQ_STR(c->callee, "+4930123");
    CHECK_EQ_STR(c->caller_ip, "10.0.0.1");
    CHECK_EQ_STR(c->user_agent, "Zoiper rv2.10");
    CHECK_EQ_INT(c->invite_us, T0);
    CHECK_EQ_INT(c->ring_us, T0 + S(1));
    CHECK_EQ_INT(c->answer_us, T0 + S(5));
    CHECK_EQ_INT(c->end_us, T0 + S(65) + 7);
    CHECK_EQ_INT(c->duration_ms, 60000);
    CHECK_EQ_INT(c->status, 200);
    CHECK_EQ_INT(c->disposition, DISP_ANSWERED);
    CHECK_EQ_INT(c->hangup_by, HANGUP_CALLER);
    CHECK_EQ_INT(c->end_reason, END_BYE);
    stop();
}

static void callee_hangs_up_and_reinvite_fails(void)
{
    start(10);
    feed(T0, "10.0.0.1", "%s", INVITE1);
    feed(T0 + S(2), "10.0.0.9", "SIP/2.0 200 OK\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    /* re-INVITE inside the dialog, refused: the call goes on unchanged */
    feed(T0 + S(3), "10.0.0.1", "INVITE sip:bob@b SIP/2.0\n" HDRS("A", ";tag=B", "2", "INVITE") "\n");
    feed(T0 + S(3) + 5, "10.0.0.9", "SIP/2.0 488 Not Acceptable Here\n" HDRS("A", ";tag=B", "2", "INVITE") "\n");
    /* BYE from the callee: its own tag in From, the caller's in To */
    feed(T0 + S(10), "10.0.0.9",
         "BYE sip:alice@a SIP/2.0\nFrom: <sip:bob@b.example>;tag=B\nTo: <sip:alice@a.example>;tag=A\n"
         "Call-ID: call-1@a\nCSeq: 1 BYE\n\n");
    stop();
    const struct call_record *c = only_call();
    CHECK_EQ_INT(c->status, 200);
    CHECK_EQ_INT(c->disposition, DISP_ANSWERED);
    CHECK_EQ_INT(c->hangup_by, HANGUP_CALLEE);
    CHECK_EQ_INT(c->duration_ms, 8000);
    CHECK_EQ_INT(c->ring_us, REC_TIME_NONE);
}

static void busy_seen_on_two_legs(void)
{
    start(10);
    feed(T0, "10.0.0.1", "%s", INVITE1);
    feed(T0 + 300, "10.0.0.5", "%s", INVITE1); /* proxy's outgoing leg */
    feed(T0 + S(1), "10.0.0.9", "SIP/2.0 486 Busy Here\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    feed(T0 + S(1) + 400, "10.0.0.5", "SIP/2.0 486 Busy Here\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    feed(T0 + S(2), "10.0.0.5", "SIP/2.0 486 Busy Here\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    stop();
    const struct call_record *c = only_call();
    CHECK_EQ_STR(c->caller_ip, "10.0.0.1");
    CHECK_EQ_INT(c->status, 486);
    CHECK_EQ_INT(c->disposition, DISP_BUSY);
    CHECK_EQ_INT(c->end_us, T0 + S(1));
    CHECK_EQ_INT(c->end_reason, END_FINAL_RESPONSE);
    CHECK_EQ_INT(c->hangup_by, HANGUP_NONE);
    CHECK_EQ_INT(c->duration_ms, -1);
}

static void cancelled(void)
{
    start(10);
    feed(T0, "10.0.0.1", "%s", INVITE1);
    feed(T0 + S(1), "10.0.0.9", "SIP/2.0 180 Ringing\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    feed(T0 + S(4), "10.0.0.1", "CANCEL sip:+4930123@b.example SIP/2.0\n" HDRS("A", "", "1", "CANCEL") "\n");
    feed(T0 + S(4) + 10, "10.0.0.9", "SIP/2.0 200 OK\n" HDRS("A", "", "1", "CANCEL") "\n");
    feed(T0 + S(4) + 20, "10.0.0.9", "SIP/2.0 487 Request Terminated\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    stop();
    const struct call_record *c = only_call();
    CHECK_EQ_INT(c->status, 487);
    CHECK_EQ_INT(c->disposition, DISP_CANCELLED);
    CHECK_EQ_INT(c->end_us, T0 + S(4));
    CHECK_EQ_INT(c->end_reason, END_CANCEL);
}

static void auth_challenge_is_one_call(void)
{
    start(10);
    feed(T0, "10.0.0.1", "%s", INVITE1);
    feed(T0 + 100, "10.0.0.9", "SIP/2.0 407 Proxy Authentication Required\n" HDRS("A", ";tag=P", "1", "INVITE") "\n");
    feed(T0 + 200, "10.0.0.1", "ACK sip:+4930123@b.example SIP/2.0\n" HDRS("A", ";tag=P", "1", "ACK") "\n");
    feed(T0 + S(1), "10.0.0.1", "INVITE sip:+4930123@b.example SIP/2.0\n" HDRS("A", "", "2", "INVITE") "\n");
    feed(T0 + S(2), "10.0.0.9", "SIP/2.0 180 Ringing\n" HDRS("A", ";tag=B", "2", "INVITE") "\n");
    feed(T0 + S(3), "10.0.0.9", "SIP/2.0 603 Decline\n" HDRS("A", ";tag=B", "2", "INVITE") "\n");
    stop();
    const struct call_record *c = only_call();
    CHECK_EQ_INT(c->invite_us, T0);
    CHECK_EQ_INT(c->status, 603);
    CHECK_EQ_INT(c->disposition, DISP_REJECTED);
    CHECK_EQ_INT(c->end_us, T0 + S(3));
}

static void redirect_and_diversion(void)
{
    start(10);
    feed(T0, "10.0.0.1",
         "INVITE sip:+4930123@b.example SIP/2.0\n" HDRS("A", "", "1", "INVITE")
         "Diversion: <sip:+4930555@x;user=phone>;reason=unconditional;counter=1\n\n");
    feed(T0 + S(1), "10.0.0.9",
         "SIP/2.0 302 Moved Temporarily\n" HDRS("A", ";tag=B", "1", "INVITE")
         "Contact: <sip:+4940777@c.example>, <sip:+4930555@x>\n\n");
    stop();
    const struct call_record *c = only_call();
    CHECK_EQ_STR(c->redirects, "+4930555;+4940777");
    CHECK_EQ_INT(c->disposition, DISP_REDIRECTED);
    CHECK_EQ_INT(c->status, 302);
}

static void open_at_end_and_expiry(void)
{
    start(10);
    feed(T0, "10.0.0.1", "%s", INVITE1);
    feed(T0 + S(1), "10.0.0.9", "SIP/2.0 180 Ringing\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    CHECK_EQ_INT(dialog_expire(&d, T0 + S(200), 10), 0);
    CHECK_EQ_INT(dialog_flush(&d, 10), 0);
    const struct call_record *c = only_call();
    CHECK_EQ_INT(c->end_reason, END_END_OF_INPUT);
    CHECK_EQ_INT(c->disposition, DISP_UNKNOWN);
    CHECK_EQ_INT(c->status, 0);
    CHECK_EQ_INT(c->end_us, REC_TIME_NONE);
    dialog_free(&d);

    start(10);
    feed(T0, "10.0.0.1", "%s", INVITE1);
    CHECK_EQ_INT(dialog_expire(&d, T0 + S(299), 10), 0);
    CHECK_EQ_INT(dialog_expire(&d, T0 + S(300), 10), 1);
    CHECK_EQ_INT(only_call()->end_reason, END_EXPIRED);
    CHECK_EQ_INT(d.stats.expired, 1);
    stop();
}

static void full_table_evicts_oldest(void)
{
    start(2);
    for (int i = 0; i < 3; i++)
        feed(T0 + i, "10.0.0.1",
             "INVITE sip:1@b SIP/2.0\nFrom: <sip:a@a>;tag=%d\nTo: <sip:b@b>\nCall-ID: evict-%d\nCSeq: 1 INVITE\n\n", i, i);
    CHECK_EQ_INT(nout, 1);
    CHECK_EQ_STR(out[0].u.call.call_id, "evict-0");
    CHECK_EQ_INT(out[0].u.call.end_reason, END_EVICTED);
    CHECK_EQ_INT(d.stats.evicted, 1);
    CHECK_EQ_INT(dialog_live(&d), 2);
    stop();
    CHECK_EQ_INT(nout, 3);
}

static void strays_are_counted(void)
{
    start(10);
    feed(T0, "10.0.0.1", "BYE sip:b@b SIP/2.0\n" HDRS("A", ";tag=B", "2", "BYE") "\n");
    feed(T0, "10.0.0.1", "SIP/2.0 200 OK\n" HDRS("A", ";tag=B", "1", "INVITE") "\n");
    feed(T0, "10.0.0.1", "INVITE sip:b@b SIP/2.0\n" HDRS("A", ";tag=B", "3", "INVITE") "\n");
    CHECK_EQ_INT(d.stats.unmatched, 3);
    CHECK_EQ_INT(dialog_live(&d), 0);
    stop();
    CHECK_EQ_INT(nout, 0);
}

static void caller_without_from_tag(void)
{
    /* RFC 2543 user agents send no From-tag: the empty tag is the key. */
    start(10);
    feed(T0, "10.0.0.1", "INVITE sip:b@b SIP/2.0\nFrom: <sip:a@a>\nTo: <sip:b@b>\nCall-ID: old-ua\nCSeq: 1 INVITE\n\n");
    feed(T0 + S(1), "10.0.0.9", "SIP/2.0 200 OK\nFrom: <sip:a@a>\nTo: <sip:b@b>;tag=z\nCall-ID: old-ua\nCSeq: 1 INVITE\n\n");
    feed(T0 + S(3), "10.0.0.1", "BYE sip:b@b SIP/2.0\nFrom: <sip:a@a>\nTo: <sip:b@b>;tag=z\nCall-ID: old-ua\nCSeq: 2 BYE\n\n");
    stop();
    const struct call_record *c = only_call();
    CHECK_EQ_INT(c->hangup_by, HANGUP_CALLER);
    CHECK_EQ_INT(c->duration_ms, 2000);
}

int main(void)
{
    CHECK_EQ_INT(sip_uri_init(), 0);
    RUN(answered_caller_hangs_up);
    RUN(callee_hangs_up_and_reinvite_fails);
    RUN(busy_seen_on_two_legs);
    RUN(cancelled);
    RUN(auth_challenge_is_one_call);
    RUN(redirect_and_diversion);
    RUN(open_at_end_and_expiry);
    RUN(full_table_evicts_oldest);
    RUN(strays_are_counted);
    RUN(caller_without_from_tag);
    return check_summary();
}
