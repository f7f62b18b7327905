/* test_spool.c - the durable spool: order, acknowledgement across restarts,
 * torn tails, corruption, segment rollover and the size limit. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "record_codec.h"
#include "spool.h"

static char dir[64];
static char err[256];

static void fresh_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sipcdr-spool-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int count_segments(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)) != NULL)
        n += strncmp(de->d_name, "spool-", 6) == 0;
    if (d)
        closedir(d);
    return n;
}

static struct record make(int i)
{
    struct record r;
    if (i % 2) {
        record_init(&r, RECORD_SMS);
        snprintf(r.u.sms.call_id, sizeof(r.u.sms.call_id), "sms-%d\t\"odd\"", i);
        snprintf(r.u.sms.sender, sizeof(r.u.sms.sender), "+49301%05d", i);
        r.u.sms.time_us = 1480675281000000LL + i;
        r.u.sms.status = 202;
        r.u.sms.kind = SMS_3GPP;
    } else {
        record_init(&r, RECORD_CALL);
        snprintf(r.u.call.call_id, sizeof(r.u.call.call_id), "call-%d@ü", i);
        snprintf(r.u.call.user_agent, sizeof(r.u.call.user_agent), "UA\\%d", i);
        r.u.call.invite_us = 1480675281000000LL + i;
        r.u.call.answer_us = r.u.call.invite_us + 5;
        r.u.call.duration_ms = 60000;
        r.u.call.status = 200;
        r.u.call.disposition = DISP_ANSWERED;
        r.u.call.hangup_by = HANGUP_CALLEE;
        r.u.call.end_reason = END_BYE;
    }
    return r;
}

/* Batch seq of the tests' stream: records first .. first + n - 1, each
 * batch in stream "s<seq>" so a mix-up of batches shows. */
static struct spool_batch_info info_of(uint64_t seq, int first)
{
    struct spool_batch_info b;
    memset(&b, 0, sizeof(b));
    snprintf(b.collector, sizeof(b.collector), "edge-1");
    snprintf(b.stream, sizeof(b.stream), "s%llu", (unsigned long long)seq);
    b.first_seq = (uint64_t)first + 1;
    return b;
}

static int append(struct spool *s, uint64_t seq, int first, int n)
{
    struct record recs[16];
    const struct record *ptrs[16];
    for (int i = 0; i < n; i++) {
        recs[i] = make(first + i);
        ptrs[i] = &recs[i];
    }
    struct spool_batch_info b = info_of(seq, first);
    return spool_append(s, &b, ptrs, (size_t)n, err, sizeof(err));
}

static void expect_batch(struct spool *s, uint64_t seq, int first, int n)
{
    struct record out[16];
    size_t got;
    struct spool_batch_info b, wb = info_of(seq, first);
    memset(&b, 0xa5, sizeof(b));
    CHECK_EQ_INT(spool_peek(s, &b, out, 16, &got), 0);
    CHECK_EQ_STR(b.collector, wb.collector);
    CHECK_EQ_STR(b.stream, wb.stream);
    CHECK_EQ_INT(b.first_seq, wb.first_seq);
    CHECK_EQ_INT(got, n);
    for (int i = 0; i < n && (size_t)i < got; i++) {
        struct record want = make(first + i);
        CHECK(memcmp(&want, &out[i], sizeof(want)) == 0);
    }
}

static struct spool_limits lim = {1 << 20, 1 << 16, 0};

static void crc32c_known_value(void) { CHECK_EQ_INT(spool_crc32c("123456789", 9), 0xe3069283u); }

static void codec_round_trip_and_truncation(void)
{
    uint8_t buf[RECORD_ENCODED_MAX];
    for (int i = 0; i < 2; i++) {
        struct record r = make(i), back;
        size_t n = record_encode(&r, buf, sizeof(buf));
        CHECK(n > 0);
        CHECK_EQ_INT(record_decode(buf, n, &back), n);
        CHECK(memcmp(&r, &back, sizeof(r)) == 0);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *p = malloc(cut ? cut : 1);
            memcpy(p, buf, cut);
            CHECK_EQ_INT(record_decode(p, cut, &back), 0);
            free(p);
        }
    }
}

static void order_and_ack_survive_restart(void)
{
    fresh_dir();
    struct spool *s;
    CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
    CHECK_EQ_INT(append(s, 1, 0, 3), 0);
    CHECK_EQ_INT(append(s, 2, 3, 5), 0);
    CHECK_EQ_INT(append(s, 3, 8, 1), 0);
    expect_batch(s, 1, 0, 3);
    CHECK_EQ_INT(spool_ack(s), 0);
    spool_close(s);

    CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
    CHECK_EQ_INT(spool_get_stats(s)->batches_pending, 2);
    CHECK_EQ_INT(spool_get_stats(s)->records_pending, 6);
    expect_batch(s, 2, 3, 5);
    expect_batch(s, 2, 3, 5); /* peek twice: same batch until acknowledged */
    CHECK_EQ_INT(spool_ack(s), 0);
    expect_batch(s, 3, 8, 1);
    CHECK_EQ_INT(spool_ack(s), 0);
    CHECK_EQ_INT(spool_get_stats(s)->records_pending, 0);
    struct spool_batch_info bs;
    size_t n;
    struct record out[1];
    CHECK_EQ_INT(spool_peek(s, &bs, out, 1, &n), -ENOENT);
    CHECK_EQ_INT(spool_ack(s), -EINVAL);
    spool_close(s);
    remove_dir();
}

static void torn_tail_is_cut_and_counted(void)
{
    fresh_dir();
    struct spool *s;
    CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
    CHECK_EQ_INT(append(s, 1, 0, 2), 0);
    CHECK_EQ_INT(append(s, 2, 2, 2), 0);
    uint64_t size = spool_get_stats(s)->bytes_on_disk;
    spool_close(s);
    char path[256];
    snprintf(path, sizeof(path), "%s/spool-0000000000000001.seg", dir);
    for (uint64_t cut = 1; cut < 40; cut += 7) {
        CHECK_EQ_INT(truncate(path, (off_t)(size - cut)), 0);
        CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
        CHECK_EQ_INT(spool_get_stats(s)->torn_tails, 1);
        CHECK_EQ_INT(spool_get_stats(s)->batches_pending, 1);
        CHECK_EQ_INT(spool_get_stats(s)->records_pending, 2);
        expect_batch(s, 1, 0, 2);
        CHECK_EQ_INT(append(s, 2, 2, 2), 0); /* writing goes on after the cut */
        size = spool_get_stats(s)->bytes_on_disk;
        spool_close(s);
    }
    remove_dir();
}

static void corruption_in_old_segment_is_skipped(void)
{
    fresh_dir();
    struct spool_limits small = {1 << 20, 300, 0};
    struct spool *s;
    CHECK_EQ_INT(spool_open(&s, dir, &small, err, sizeof(err)), 0);
    for (int b = 0; b < 6; b++)
        CHECK_EQ_INT(append(s, (uint64_t)b + 1, b * 2, 2), 0);
    int segs = count_segments();
    CHECK(segs >= 3);
    spool_close(s);
    /* flip a byte inside the first segment's second frame */
    char path[256];
    snprintf(path, sizeof(path), "%s/spool-0000000000000001.seg", dir);
    FILE *f = fopen(path, "r+b");
    fseek(f, -5, SEEK_END);
    fputc('X', f);
    fclose(f);
    CHECK_EQ_INT(spool_open(&s, dir, &small, err, sizeof(err)), 0);
    CHECK_EQ_INT(spool_get_stats(s)->corrupt_frames, 1);
    CHECK_EQ_INT(spool_get_stats(s)->torn_tails, 0);
    /* acknowledging everything deletes every segment but the newest */
    struct spool_batch_info bs;
    size_t n;
    struct record out[16];
    int batches = 0;
    while (spool_peek(s, &bs, out, 16, &n) == 0) {
        CHECK_EQ_INT(spool_ack(s), 0);
        batches++;
    }
    CHECK_EQ_INT(batches, 5);
    CHECK_EQ_INT(count_segments(), 1);
    spool_close(s);
    remove_dir();
}

static void limit_refuses_and_counts(void)
{
    fresh_dir();
    struct spool_limits tiny = {400, 1 << 16, 1};
    struct spool *s;
    CHECK_EQ_INT(spool_open(&s, dir, &tiny, err, sizeof(err)), 0);
    CHECK_EQ_INT(append(s, 1, 0, 1), 0);
    int rc = 0, i = 1;
    while (rc == 0 && i < 50)
        rc = append(s, (uint64_t)i + 1, i, 1), i++;
    CHECK_EQ_INT(rc, -ENOSPC);
    CHECK(strstr(err, "spool full") != NULL);
    CHECK_EQ_INT(spool_get_stats(s)->refused_full, 1);
    CHECK(spool_get_stats(s)->bytes_on_disk <= 400);
    uint64_t before = spool_get_stats(s)->batches_written;
    spool_close(s);
    CHECK_EQ_INT(spool_open(&s, dir, &tiny, err, sizeof(err)), 0);
    CHECK_EQ_INT(spool_get_stats(s)->batches_pending, before);
    CHECK_EQ_INT(spool_get_stats(s)->torn_tails, 0);
    spool_close(s);
    remove_dir();
}

static void batch_bounds_and_names(void)
{
    fresh_dir();
    struct spool *s;
    CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
    static struct record recs[SPOOL_BATCH_MAX + 1];
    static const struct record *ptrs[SPOOL_BATCH_MAX + 1];
    for (int i = 0; i <= SPOOL_BATCH_MAX; i++) {
        recs[i] = make(i);
        ptrs[i] = &recs[i];
    }
    struct spool_batch_info b;
    memset(&b, 0, sizeof(b));
    memset(b.collector, 'c', SPOOL_KEY_MAX - 1); /* the longest names fit */
    memset(b.stream, 's', SPOOL_KEY_MAX - 1);
    b.first_seq = UINT64_MAX - SPOOL_BATCH_MAX;
    CHECK_EQ_INT(spool_append(s, &b, ptrs, SPOOL_BATCH_MAX + 1, err, sizeof(err)), -EINVAL);
    CHECK_EQ_INT(spool_append(s, &b, ptrs, 0, err, sizeof(err)), -EINVAL);
    CHECK_EQ_INT(spool_append(s, &b, ptrs, SPOOL_BATCH_MAX, err, sizeof(err)), 0);
    CHECK_EQ_INT(spool_get_stats(s)->records_pending, SPOOL_BATCH_MAX);
    spool_close(s);

    CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
    CHECK_EQ_INT(spool_get_stats(s)->records_pending, SPOOL_BATCH_MAX);
    static struct record out[SPOOL_BATCH_MAX];
    struct spool_batch_info got;
    size_t n;
    CHECK_EQ_INT(spool_peek(s, &got, out, SPOOL_BATCH_MAX - 1, &n), -EOVERFLOW);
    CHECK_EQ_INT(spool_peek(s, &got, out, SPOOL_BATCH_MAX, &n), 0);
    CHECK_EQ_INT(n, SPOOL_BATCH_MAX);
    CHECK_EQ_STR(got.collector, b.collector);
    CHECK_EQ_STR(got.stream, b.stream);
    CHECK(got.first_seq == UINT64_MAX - SPOOL_BATCH_MAX);
    CHECK(memcmp(&out[SPOOL_BATCH_MAX - 1], &recs[SPOOL_BATCH_MAX - 1], sizeof(out[0])) == 0);
    spool_close(s);
    remove_dir();
}

static void one_owner_at_a_time(void)
{
    fresh_dir();
    struct spool *s, *t = (struct spool *)&lim;
    CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
    CHECK_EQ_INT(spool_open(&t, dir, &lim, err, sizeof(err)), -EBUSY);
    CHECK(t == NULL);
    CHECK(strstr(err, "in use by another process") != NULL);
    spool_close(s);
    CHECK_EQ_INT(spool_open(&t, dir, &lim, err, sizeof(err)), 0); /* closing released it */
    spool_close(t);
    remove_dir();
}

static void vanished_segment_is_not_empty(void)
{
    /* Someone deleted the spool directory under a running sipcdr: its
     * batches are gone, and that must read as an error, not as "empty". */
    fresh_dir();
    struct spool *s;
    CHECK_EQ_INT(spool_open(&s, dir, &lim, err, sizeof(err)), 0);
    CHECK_EQ_INT(append(s, 1, 0, 2), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/spool-0000000000000001.seg", dir);
    CHECK_EQ_INT(unlink(path), 0);
    struct spool_batch_info b;
    struct record out[4];
    size_t n;
    CHECK_EQ_INT(spool_peek(s, &b, out, 4, &n), -EIO);
    CHECK_EQ_INT(spool_get_stats(s)->records_pending, 2);
    spool_close(s);
    remove_dir();
}

int main(void)
{
    RUN(crc32c_known_value);
    RUN(codec_round_trip_and_truncation);
    RUN(order_and_ack_survive_restart);
    RUN(torn_tail_is_cut_and_counted);
    RUN(corruption_in_old_segment_is_skipped);
    RUN(limit_refuses_and_counts);
    RUN(batch_bounds_and_names);
    RUN(one_owner_at_a_time);
    RUN(vanished_segment_is_not_empty);
    return check_summary();
}
