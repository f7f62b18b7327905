/* test_pg_copy.c - COPY text rows: escaping, NULLs, UTF-8 repair, ceiling. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pg_copy.h"

/* The buffer's rows as a C string (the buffer itself is not terminated). */
static const char *text(const struct copybuf *b)
{
    static char out[PGCOPY_ROW_MAX * 2];
    size_t n = b->len < sizeof(out) - 1 ? b->len : sizeof(out) - 1;
    if (n > 0)
        memcpy(out, b->data, n);
    out[n] = '\0';
    return out;
}

static void sms(struct record *r, const char *call_id)
{
    record_init(r, RECORD_SMS);
    snprintf(r->u.sms.call_id, sizeof(r->u.sms.call_id), "%s", call_id);
    r->u.sms.time_us = 1480675281070298LL;
}

static void statements_name_every_column(void)
{
    char buf[PGCOPY_STMT_MAX];
    CHECK_EQ_INT(pgcopy_statement(RECORD_CALL, buf, sizeof(buf)), 0);
    CHECK_EQ_STR(buf, "COPY calls (call_id, caller, callee, redirects, caller_ip, user_agent, invite_time, "
                      "ring_time, answer_time, end_time, duration_ms, status, disposition, hangup_by, "
                      "end_reason) FROM STDIN");
    CHECK_EQ_INT(pgcopy_statement(RECORD_SMS, buf, sizeof(buf)), 0);
    CHECK_EQ_STR(buf, "COPY sms (call_id, sender, destination, time, status, kind) FROM STDIN");
    char small[20];
    CHECK_EQ_INT(pgcopy_statement(RECORD_SMS, small, sizeof(small)), -ENOSPC);
    CHECK_EQ_STR(small, "");
}

static void unknown_values_are_null(void)
{
    struct copybuf b;
    pgcopy_init(&b, 1 << 20);
    struct record r;
    record_init(&r, RECORD_CALL);
    snprintf(r.u.call.call_id, sizeof(r.u.call.call_id), "c1");
    r.u.call.invite_us = 0;
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK_EQ_STR(text(&b), "c1\t\\N\t\\N\t\\N\t\\N\t\\N\t1970-01-01T00:00:00.000000Z\t\\N\t\\N\t\\N\t\\N\t\\N\t"
                           "\\N\t\\N\t\\N\n");
    pgcopy_free(&b);
}

static void full_call_row(void)
{
    struct copybuf b;
    pgcopy_init(&b, 1 << 20);
    struct record r;
    record_init(&r, RECORD_CALL);
    struct call_record *c = &r.u.call;
    snprintf(c->call_id, sizeof(c->call_id), "abc@host");
    snprintf(c->caller, sizeof(c->caller), "+4930111");
    snprintf(c->callee, sizeof(c->callee), "+4930222");
    snprintf(c->redirects, sizeof(c->redirects), "+4930555;+4930666");
    snprintf(c->caller_ip, sizeof(c->caller_ip), "2001:db8::1");
    snprintf(c->user_agent, sizeof(c->user_agent), "Phone 1.0");
    c->invite_us = 1480675281070298LL;
    c->ring_us = c->invite_us + 1000;
    c->answer_us = c->invite_us + 2000000;
    c->end_us = c->invite_us + 62000000;
    c->duration_ms = 60000;
    c->status = 200;
    c->disposition = DISP_ANSWERED;
    c->hangup_by = HANGUP_CALLEE;
    c->end_reason = END_BYE;
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK_EQ_STR(text(&b), "abc@host\t+4930111\t+4930222\t+4930555;+4930666\t2001:db8::1\tPhone 1.0\t"
                           "2016-12-02T10:41:21.070298Z\t2016-12-02T10:41:21.071298Z\t"
                           "2016-12-02T10:41:23.070298Z\t2016-12-02T10:42:23.070298Z\t60000\t200\tanswered\t"
                           "callee\tbye\n");
    pgcopy_free(&b);
}

static void specials_are_escaped(void)
{
    struct copybuf b;
    pgcopy_init(&b, 1 << 20);
    struct record r;
    sms(&r, "a\tb\nc\rd\\e");
    snprintf(r.u.sms.sender, sizeof(r.u.sms.sender), "\\N");      /* text, not NULL */
    snprintf(r.u.sms.destination, sizeof(r.u.sms.destination), "\\."); /* not end of data */
    r.u.sms.status = 202;
    r.u.sms.kind = SMS_3GPP;
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK_EQ_STR(text(&b), "a\\tb\\nc\\rd\\\\e\t\\\\N\t\\\\.\t2016-12-02T10:41:21.070298Z\t202\t3gpp\n");
    pgcopy_free(&b);
}

static void other_bytes_pass_unchanged(void)
{
    struct copybuf b;
    pgcopy_init(&b, 1 << 20);
    struct record r;
    /* Quotes, commas and other control characters are plain data in COPY
     * text; valid UTF-8 up to four bytes passes as it is. */
    sms(&r, "q'\"x,y\x01\x7f Gr\xc3\xbc\xc3\x9f\x65 \xe2\x98\x8e \xf0\x9d\x84\x9e");
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK_EQ_STR(text(&b), "q'\"x,y\x01\x7f Gr\xc3\xbc\xc3\x9f\x65 \xe2\x98\x8e \xf0\x9d\x84\x9e\t\\N\t\\N\t"
                           "2016-12-02T10:41:21.070298Z\t\\N\ttext\n");
    pgcopy_free(&b);
}

static void invalid_utf8_is_replaced(void)
{
    struct copybuf b;
    pgcopy_init(&b, 1 << 20);
    struct record r;
    /* A stray byte, a character cut by truncation, an overlong form, a
     * surrogate, and past U+10FFFF: each bad byte becomes one U+FFFD. */
    sms(&r, "a\xff" "b");
    snprintf(r.u.sms.sender, sizeof(r.u.sms.sender), "x\xe2\x98");
    snprintf(r.u.sms.destination, sizeof(r.u.sms.destination), "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80");
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
#define R "\xef\xbf\xbd"
    CHECK_EQ_STR(text(&b), "a" R "b\tx" R R "\t" R R "|" R R R "|" R R R R "\t2016-12-02T10:41:21.070298Z\t\\N\ttext\n");
#undef R
    pgcopy_free(&b);
}

static void ceiling_refuses_whole_rows(void)
{
    struct copybuf b;
    struct record r;
    sms(&r, "id1");
    pgcopy_init(&b, 1 << 20);
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    size_t row = b.len;
    pgcopy_free(&b);

    pgcopy_init(&b, 2 * row - 1);
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK_EQ_INT(pgcopy_append(&b, &r), -ENOSPC);
    CHECK_EQ_INT(b.len, row); /* no partial row */
    CHECK(b.cap <= b.max);
    pgcopy_reset(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    pgcopy_free(&b);

    pgcopy_init(&b, 2 * row);
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK_EQ_INT(b.len, 2 * row); /* exactly at the ceiling */
    CHECK_EQ_INT(pgcopy_append(&b, &r), -ENOSPC);
    pgcopy_free(&b);

    pgcopy_init(&b, 0);
    CHECK_EQ_INT(pgcopy_append(&b, &r), -ENOSPC);
    CHECK(b.data == NULL);
    pgcopy_free(&b);
}

static void buffer_grows_to_many_rows(void)
{
    struct copybuf b;
    pgcopy_init(&b, 8u << 20);
    struct record r;
    size_t lines = 0;
    for (int i = 0; i < 5000; i++) {
        sms(&r, "grow");
        snprintf(r.u.sms.sender, sizeof(r.u.sms.sender), "%d", i);
        if (pgcopy_append(&b, &r) != 0)
            break;
    }
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    CHECK_EQ_INT(lines, 5000);
    CHECK(b.cap >= b.len && b.cap <= b.max);
    pgcopy_free(&b);
}

static void worst_record_fits_row_max(void)
{
    /* Every string full of bytes that each expand to three: one record must
     * still fit a buffer whose ceiling is PGCOPY_ROW_MAX. */
    struct record r;
    record_init(&r, RECORD_CALL);
    struct call_record *c = &r.u.call;
    memset(c->call_id, 0xff, sizeof(c->call_id) - 1);
    memset(c->caller, 0xff, sizeof(c->caller) - 1);
    memset(c->callee, 0xff, sizeof(c->callee) - 1);
    memset(c->redirects, 0xff, sizeof(c->redirects) - 1);
    memset(c->caller_ip, 0xff, sizeof(c->caller_ip) - 1);
    memset(c->user_agent, 0xff, sizeof(c->user_agent) - 1);
    c->invite_us = c->ring_us = c->answer_us = c->end_us = INT64_C(253402300799999999); /* year 9999 */
    c->duration_ms = INT64_MAX;
    c->status = 699;
    c->disposition = DISP_REDIRECTED;
    c->hangup_by = HANGUP_UNKNOWN;
    c->end_reason = END_FINAL_RESPONSE;
    struct copybuf b;
    pgcopy_init(&b, PGCOPY_ROW_MAX);
    CHECK_EQ_INT(pgcopy_append(&b, &r), 0);
    CHECK(b.len > 3 * (sizeof(c->call_id) - 1));
    pgcopy_free(&b);
}

int main(void)
{
    RUN(statements_name_every_column);
    RUN(unknown_values_are_null);
    RUN(full_call_row);
    RUN(specials_are_escaped);
    RUN(other_bytes_pass_unchanged);
    RUN(invalid_utf8_is_replaced);
    RUN(ceiling_refuses_whole_rows);
    RUN(buffer_grows_to_many_rows);
    RUN(worst_record_fits_row_max);
    return check_summary();
}
