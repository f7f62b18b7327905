/* test_privacy.c - the privacy cut: bodies never survive, whatever the framing claims. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "privacy.h"

static const char *CANARY = "CANARY-BODY-7f3a";

/* Cut a copy of msg (in a buffer of exactly its size, so ASan catches any
 * overread) and check that no canary byte survives past header_len. */
static size_t cut(const char *msg, size_t *wiped, enum sc_ret *rc)
{
    size_t len = strlen(msg);
    uint8_t *buf = malloc(len);
    memcpy(buf, msg, len);
    struct privacy_result r;
    *rc = privacy_cut_datagram(buf, len, &r);
    *wiped = r.wiped;
    if (*rc == SC_OK) {
        for (size_t i = r.header_len; i < len; i++)
            CHECK_EQ_INT(buf[i], 0);
        CHECK(memmem(buf, len, CANARY, strlen(CANARY)) == NULL);
    }
    free(buf);
    return r.header_len;
}

static void body_after_blank_line_is_wiped(void)
{
    const char *m = "MESSAGE sip:bob@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 16\r\n\r\nCANARY-BODY-7f3a";
    size_t wiped;
    enum sc_ret rc;
    size_t h = cut(m, &wiped, &rc);
    CHECK_EQ_INT(rc, SC_OK);
    CHECK_EQ_INT(h, strlen(m) - 16);
    CHECK_EQ_INT(wiped, 16);
}

static void lying_content_length_changes_nothing(void)
{
    /* Content-Length 0 but a body present; and a huge one. */
    const char *a = "MESSAGE sip:b@b SIP/2.0\r\nl: 0\r\n\r\nCANARY-BODY-7f3a";
    const char *b = "MESSAGE sip:b@b SIP/2.0\r\nContent-Length: 2000000000\r\n\r\nCANARY-BODY-7f3a";
    const char *c = "SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nCANARY-BODY-7f3a";
    size_t wiped;
    enum sc_ret rc;
    cut(a, &wiped, &rc);
    CHECK_EQ_INT(rc, SC_OK);
    CHECK_EQ_INT(wiped, 16);
    cut(b, &wiped, &rc);
    CHECK_EQ_INT(wiped, 16);
    cut(c, &wiped, &rc);
    CHECK_EQ_INT(rc, SC_OK);
    CHECK_EQ_INT(wiped, 16);
}

static void bare_lf_and_body_that_looks_like_sip(void)
{
    const char *m = "MESSAGE sip:b@b SIP/2.0\nCall-ID: x\n\nINVITE sip:x SIP/2.0\r\n\r\nCANARY-BODY-7f3a";
    size_t wiped;
    enum sc_ret rc;
    size_t h = cut(m, &wiped, &rc);
    CHECK_EQ_INT(rc, SC_OK);
    CHECK_EQ_INT(h, strlen("MESSAGE sip:b@b SIP/2.0\nCall-ID: x\n\n"));
}

static void no_blank_line_means_no_body(void)
{
    const char *m = "OPTIONS sip:b@b SIP/2.0\r\nCall-ID: x\r\n";
    size_t wiped;
    enum sc_ret rc;
    size_t h = cut(m, &wiped, &rc);
    CHECK_EQ_INT(rc, SC_OK);
    CHECK_EQ_INT(h, strlen(m));
    CHECK_EQ_INT(wiped, 0);
}

static void non_sip_is_declined(void)
{
    const char *cases[] = {
        "NOTIFY * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n\r\n",
        "\x80\x00\x12\x34 RTP",
        "",
        "INVITE",
        "INVITE sip:x SIP/2.0", /* no line end within the datagram */
        "SIP/2.0",
        "GET / HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t wiped;
        enum sc_ret rc;
        cut(cases[i], &wiped, &rc);
        CHECK_EQ_INT(rc, SC_DECLINED);
    }
}

static void start_lines_accepted(void)
{
    CHECK(privacy_is_sip_start((const uint8_t *)"SIP/2.0 180 Ringing\r\n", 21));
    CHECK(privacy_is_sip_start((const uint8_t *)"FOO-BAR sip:x SIP/2.0\r\n", 23));
    CHECK(privacy_is_sip_start((const uint8_t *)"INVITE tel:+1 SIP/2.0  \n", 24));
    CHECK(!privacy_is_sip_start((const uint8_t *)"INVITE sip:x SIP/2.1\r\n", 22));
    CHECK(!privacy_is_sip_start((const uint8_t *)" INVITE sip:x SIP/2.0\r\n", 23));
}

int main(void)
{
    RUN(body_after_blank_line_is_wiped);
    RUN(lying_content_length_changes_nothing);
    RUN(bare_lf_and_body_that_looks_like_sip);
    RUN(no_blank_line_means_no_body);
    RUN(non_sip_is_declined);
    RUN(start_lines_accepted);
    return check_summary();
}
