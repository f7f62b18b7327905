/* test_record.c - record text forms, the queue's bounds, and the CSV writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "csv_writer.h"
#include "record_queue.h"

static void times_format_iso_utc_micro(void)
{
    char buf[40];
    CHECK_EQ_STR(record_format_time(1480675281070298LL, buf, sizeof(buf)), "2016-12-02T10:41:21.070298Z");
    CHECK_EQ_STR(record_format_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
    CHECK_EQ_STR(record_format_time(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999999Z");
}

static void unknown_values_are_null(void)
{
    struct record r;
    record_init(&r, RECORD_CALL);
    char buf[REC_FIELD_MAX];
    size_t n;
    record_columns(RECORD_CALL, &n);
    CHECK_EQ_INT(n, 15);
    for (size_t i = 0; i < n; i++)
        CHECK(record_format_field(&r, i, buf, sizeof(buf)) == NULL);
    r.u.call.status = 486;
    r.u.call.disposition = DISP_BUSY;
    CHECK_EQ_STR(record_format_field(&r, 11, buf, sizeof(buf)), "486");
    CHECK_EQ_STR(record_format_field(&r, 12, buf, sizeof(buf)), "busy");
}

static void queue_is_bounded(void)
{
    struct record_queue q;
    CHECK_EQ_INT(rq_init(&q, 3), 0);
    for (int i = 0; i < 3; i++)
        CHECK(rq_push_slot(&q, RECORD_SMS) != NULL);
    CHECK(rq_push_slot(&q, RECORD_SMS) == NULL);
    rq_release(&q, 2);
    CHECK_EQ_INT(rq_count(&q), 1);
    struct record *r = rq_push_slot(&q, RECORD_CALL);
    CHECK(r != NULL);
    CHECK_EQ_INT(rq_peek(&q, 1)->kind, RECORD_CALL);
    CHECK_EQ_INT(q.high_water, 3);
    /* Numbered in push order across wraps: records 3 and 4 are held. */
    CHECK_EQ_INT(rq_seq(&q, 0), 3);
    CHECK_EQ_INT(rq_seq(&q, 1), 4);
    CHECK_EQ_INT(rq_seq(&q, 2), 5); /* the next push */
    rq_free(&q);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void csv_quotes_only_when_needed(void)
{
    char dir[] = "/tmp/sipcdr-csv-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[256];
    struct csv_writer *w = csv_writer_open(dir, err, sizeof(err));
    CHECK(w != NULL);
    struct record r;
    record_init(&r, RECORD_SMS);
    snprintf(r.u.sms.call_id, sizeof(r.u.sms.call_id), "a,\"b\"");
    snprintf(r.u.sms.sender, sizeof(r.u.sms.sender), "+4930111");
    r.u.sms.time_us = 1480675281070298LL;
    CHECK_EQ_INT(csv_writer_write(w, &r, err, sizeof(err)), 0);
    CHECK_EQ_INT(csv_writer_close(w, err, sizeof(err)), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/sms.csv", dir);
    CHECK_EQ_STR(slurp(path), "call_id,sender,destination,time,status,kind\n"
                              "\"a,\"\"b\"\"\",+4930111,,2016-12-02T10:41:21.070298Z,,text\n");
    unlink(path);
    snprintf(path, sizeof(path), "%s/calls.csv", dir);
    CHECK(slurp(path) != NULL);
    unlink(path);
    CHECK_EQ_INT(rmdir(dir), 0);
}

int main(void)
{
    RUN(times_format_iso_utc_micro);
    RUN(unknown_values_are_null);
    RUN(queue_is_bounded);
    RUN(csv_quotes_only_when_needed);
    return check_summary();
}
