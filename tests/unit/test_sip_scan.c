/* test_sip_scan.c - the zero-copy scanner: fields, compact forms, folding, errors. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sip_scan.h"
#include "sip_uri.h"

/* Scan from a heap copy of exactly the message size (ASan sees overreads). */
static enum sc_ret scan(const char *text, struct sip_msg *m, enum sip_scan_error *why, char **keep)
{
    size_t len = strlen(text);
    *keep = malloc(len);
    memcpy(*keep, text, len);
    return sip_scan(*keep, len, m, why);
}

static void invite_fields(void)
{
    const char *t = "INVITE sip:+4930123@example.com;user=phone SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
                    "From: \"Alice, A\" <sip:alice@example.com>;tag=abc123\r\n"
                    "To: <sip:+4930123@example.com>\r\n"
                    "Call-ID: 1234@host\r\n"
                    "CSeq: 1 INVITE\r\n"
                    "User-Agent: Zoiper rv2.10\r\n"
                    "Diversion: <sip:111@x>;reason=busy, <sip:222@x>;reason=unconditional\r\n"
                    "Contact: <sip:alice@10.0.0.1>\r\n"
                    "Content-Type: application/sdp\r\n"
                    "Content-Length: 100\r\n\r\n";
    struct sip_msg m;
    enum sip_scan_error why;
    char *buf;
    CHECK_EQ_INT(scan(t, &m, &why, &buf), SC_OK);
    CHECK(m.is_request);
    CHECK_EQ_INT(m.method, SIP_INVITE);
    CHECK_EQ_SV(m.ruri, "sip:+4930123@example.com;user=phone");
    CHECK_EQ_SV(m.call_id, "1234@host");
    CHECK_EQ_SV(m.from_tag, "abc123");
    CHECK(m.to_tag.p == NULL);
    CHECK_EQ_INT(m.cseq, 1);
    CHECK_EQ_INT(m.cseq_method, SIP_INVITE);
    CHECK_EQ_SV(m.user_agent, "Zoiper rv2.10");
    CHECK_EQ_INT(m.n_diversion, 2);
    CHECK_EQ_SV(m.diversion[1], "<sip:222@x>;reason=unconditional");
    CHECK_EQ_INT(m.content_length, 100);
    char user[64];
    CHECK_EQ_INT(sip_header_uri_user(m.from, user, sizeof(user)), SC_OK);
    CHECK_EQ_STR(user, "alice");
    CHECK_EQ_INT(sip_uri_user(m.ruri, user, sizeof(user)), SC_OK);
    CHECK_EQ_STR(user, "+4930123");
    free(buf);
}

static void compact_and_folded_headers(void)
{
    const char *t = "SIP/2.0 180 Ringing\r\n"
                    "v: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
                    "f: sip:a@b;tag=1\r\n"
                    "t: <sip:c@d>\r\n  ;tag=2\r\n"
                    "i: folded\r\n"
                    "CSeq:\r\n\t7\r\n INVITE\r\n"
                    "l: 0\r\n\r\n";
    struct sip_msg m;
    enum sip_scan_error why;
    char *buf;
    CHECK_EQ_INT(scan(t, &m, &why, &buf), SC_OK);
    CHECK(!m.is_request);
    CHECK_EQ_INT(m.status, 180);
    CHECK_EQ_SV(m.reason_phrase, "Ringing");
    CHECK_EQ_SV(m.from_tag, "1");
    CHECK_EQ_SV(m.to_tag, "2");
    CHECK_EQ_SV(m.call_id, "folded");
    CHECK_EQ_INT(m.cseq, 7);
    CHECK_EQ_INT(m.cseq_method, SIP_INVITE);
    CHECK_EQ_INT(m.content_length, 0);
    free(buf);
}

static void tel_uri_and_addr_spec(void)
{
    char user[64];
    CHECK_EQ_INT(sip_uri_user(SV_LIT("tel:+1-201-555-0123;phone-context=example.com"), user, sizeof(user)), SC_OK);
    CHECK_EQ_STR(user, "+1-201-555-0123");
    CHECK_EQ_INT(sip_header_uri_user(SV_LIT("<tel:+4930555>;tag=x"), user, sizeof(user)), SC_OK);
    CHECK_EQ_STR(user, "+4930555");
    CHECK_EQ_INT(sip_header_uri_user(SV_LIT("sip:bob@example.com;tag=99"), user, sizeof(user)), SC_OK);
    CHECK_EQ_STR(user, "bob");
    CHECK_EQ_INT(sip_uri_user(SV_LIT("sip:example.com"), user, sizeof(user)), SC_OK);
    CHECK_EQ_STR(user, "");
    struct sv tag = sip_header_param(SV_LIT("\"x;tag=fake\" <sip:a@b;tag=uri>;tag=real"), "tag");
    CHECK_EQ_SV(tag, "real");
}

static void errors_are_named(void)
{
    static const struct {
        const char *text;
        enum sip_scan_error why;
    } cases[] = {
        {"INVITE sip:a SIP/3.0\r\n\r\n", SIP_ERR_START_LINE},
        {"SIP/2.0 99 Low\r\n\r\n", SIP_ERR_START_LINE},
        {"SIP/2.0 1x0 Bad\r\n\r\n", SIP_ERR_START_LINE},
        {"INVITE sip:a SIP/2.0\r\nno colon here\r\n\r\n", SIP_ERR_HEADER_LINE},
        {"INVITE sip:a SIP/2.0\r\nCall-ID: x\r\nFrom: a\r\nTo: b\r\n\r\n", SIP_ERR_MISSING_HEADER},
        {"INVITE sip:a SIP/2.0\r\nCall-ID: x\r\nCall-ID: y\r\nFrom: a\r\nTo: b\r\nCSeq: 1 INVITE\r\n\r\n",
         SIP_ERR_DUP_HEADER},
        {"INVITE sip:a SIP/2.0\r\nCall-ID: x\r\nFrom: a\r\nTo: b\r\nCSeq: INVITE\r\n\r\n", SIP_ERR_CSEQ},
        {"INVITE sip:a SIP/2.0\r\nCall-ID: x\r\nFrom: a\r\nTo: b\r\nCSeq: 99999999999 INVITE\r\n\r\n", SIP_ERR_CSEQ},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sip_msg m;
        enum sip_scan_error why;
        char *buf;
        CHECK_EQ_INT(scan(cases[i].text, &m, &why, &buf), SC_ERROR);
        CHECK_EQ_STR(sip_scan_error_name(why), sip_scan_error_name(cases[i].why));
        free(buf);
    }
}

static void every_prefix_is_safe(void)
{
    /* Truncate a message at every length: never a crash, never an overread. */
    const char *t = "INVITE sip:b@b SIP/2.0\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\n"
                    "CSeq: 1 INVITE\r\nDiversion: <sip:1@x>, <sip:2@x>\r\n\r\n";
    size_t len = strlen(t);
    for (size_t n = 0; n <= len; n++) {
        char *buf = malloc(n ? n : 1);
        memcpy(buf, t, n);
        struct sip_msg m;
        enum sip_scan_error why;
        enum sc_ret rc = sip_scan(buf, n, &m, &why);
        CHECK(rc == SC_OK || rc == SC_ERROR);
        free(buf);
    }
}

static void value_copy_unfolds(void)
{
    char out[32];
    CHECK(sip_value_copy(out, sizeof(out), SV_LIT("Agent\r\n  v1.0")));
    CHECK_EQ_STR(out, "Agent v1.0");
    CHECK(!sip_value_copy(out, 4, SV_LIT("abcdef")));
    CHECK_EQ_STR(out, "abc");
}

int main(void)
{
    CHECK_EQ_INT(sip_uri_init(), 0);
    RUN(invite_fields);
    RUN(compact_and_folded_headers);
    RUN(tel_uri_and_addr_spec);
    RUN(errors_are_named);
    RUN(every_prefix_is_safe);
    RUN(value_copy_unfolds);
    return check_summary();
}
