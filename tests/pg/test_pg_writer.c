/* test_pg_writer.c - the asynchronous writer on a real loop and a real server.
 *
 * Each test counts its callbacks exactly and ends with uv_loop_close() == 0:
 * a handle left open or a callback run twice fails the test.
 */
#include <dirent.h>
#include <stdbool.h>
#include <uv.h>

#include "check.h"
#include "pg_migrate.h"
#include "pg_writer.h"
#include "pgtest.h"
#include "record_queue.h"
#include "spool.h"

#define T0 1480675281070298LL /* 2016-12-02T10:41:21.070298Z */

struct run {
    uv_loop_t loop;
    struct record_queue q;
    struct pgw *w;
    struct pgw_options opts;
    int ready, progress, retries, errors, closed;
    char error[1024];
    char retry[1024];         /* the first on_retry message */
    uint64_t retry_delay;     /* its delay */
    bool close_on_ready;      /* kick, then close with the batch in flight */
    const char *on_ready_sql; /* run on a side connection when ready */
    bool sql_after_kick;      /* ... after pgw_kick instead of before */
    const char *side_db;
    const char *on_retry_sql; /* run on a side connection at the first retry */
    int close_at_retry;       /* close at this many retries (0: never) */
    struct pgw_stats stats;   /* as the last callback saw them (w is freed after close) */
};

static void on_ready(void *ctx)
{
    struct run *r = ctx;
    r->ready++;
    r->stats = *pgw_get_stats(r->w);
    if (r->sql_after_kick)
        pgw_kick(r->w);
    if (r->on_ready_sql != NULL) {
        PGconn *c = pgtest_connect(r->side_db);
        if (c != NULL) {
            pgtest_exec(c, r->on_ready_sql);
            PQfinish(c);
        }
    }
    if (!r->sql_after_kick)
        pgw_kick(r->w);
    if (r->close_on_ready) {
        CHECK(pgw_busy(r->w) != 0);
        pgw_close(r->w, NULL); /* no closed callback: counted below instead */
        r->closed++;
        return;
    }
    if (rq_count(&r->q) == 0 && pgw_spooled(r->w) == 0 && r->on_ready_sql == NULL) {
        pgw_close(r->w, NULL);
        r->closed++;
    }
}

static void on_progress(void *ctx)
{
    struct run *r = ctx;
    r->progress++;
    r->stats = *pgw_get_stats(r->w);
    if (r->closed)
        return;
    if (rq_count(&r->q) == 0 && pgw_spooled(r->w) == 0 && !pgw_busy(r->w)) {
        pgw_close(r->w, NULL);
        r->closed++;
    } else {
        pgw_kick(r->w);
    }
}

static void on_retry(void *ctx, const char *msg, uint64_t delay_ms)
{
    struct run *r = ctx;
    r->retries++;
    r->stats = *pgw_get_stats(r->w);
    printf("  %s: on_retry: %s (%llu ms)\n", check_current, msg, (unsigned long long)delay_ms);
    CHECK(pgw_busy(r->w) != 0);
    CHECK(pgw_down(r->w));
    CHECK(strchr(msg, '\n') == NULL);
    if (r->retries == 1) {
        snprintf(r->retry, sizeof(r->retry), "%s", msg);
        r->retry_delay = delay_ms;
        if (r->on_retry_sql != NULL) {
            PGconn *c = pgtest_connect(r->side_db);
            if (c != NULL) {
                pgtest_exec(c, r->on_retry_sql);
                PQfinish(c);
            }
        }
    }
    if (r->close_at_retry > 0 && r->retries >= r->close_at_retry) {
        pgw_close(r->w, NULL);
        r->closed++;
    }
}

static void on_error(void *ctx, const char *msg)
{
    struct run *r = ctx;
    r->errors++;
    r->stats = *pgw_get_stats(r->w);
    snprintf(r->error, sizeof(r->error), "%s", msg);
    printf("  %s: on_error: %s\n", check_current, msg);
    CHECK(!pgw_busy(r->w));
    pgw_close(r->w, NULL);
    r->closed++;
}

static const struct pgw_callbacks cbs = {on_ready, on_progress, on_retry, on_error};

static void run_init(struct run *r, size_t cap)
{
    memset(r, 0, sizeof(*r));
    CHECK_EQ_INT(uv_loop_init(&r->loop), 0);
    CHECK_EQ_INT(rq_init(&r->q, cap), 0);
    r->opts.collector = "test-collector";
    r->opts.stream = "test-stream";
    r->opts.retry_min_ms = 20;
    r->opts.retry_max_ms = 200;
}

/* Start the writer, run the loop until every handle is closed. */
static void run_writer(struct run *r, const char *conninfo, size_t batch_max)
{
    char err[512];
    r->opts.batch_max = batch_max;
    int rc = pgw_start(&r->w, &r->loop, conninfo, &r->q, &r->opts, &cbs, r, err, sizeof(err));
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "pgw_start: %s\n", err);
        return;
    }
    CHECK(pgw_busy(r->w) != 0);
    CHECK_EQ_INT(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
}

static void run_done(struct run *r)
{
    CHECK_EQ_INT(uv_loop_close(&r->loop), 0);
    rq_free(&r->q);
}

static void migrated_db(const char *name, char *db, size_t cap)
{
    char err[512];
    int from, to;
    db[0] = '\0';
    if (pgtest_newdb(name, db, cap) != 0 || pgm_migrate(db, &from, &to, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: cannot prepare: %s\n", name, err);
        CHECK(!"migrated test database");
    }
}

/* The awkward strings: COPY specials, SQL quotes, the NULL and end-of-data
 * markers as text, UTF-8 of every length. */
static const char *const awkward[] = {
    "tab\there",
    "new\nline",
    "cr\rret",
    "back\\slash",
    "\\N",
    "\\.",
    "quote'\"double",
    "Gr\xc3\xbc\xc3\x9f\x65 \xe2\x98\x8e \xf0\x9d\x84\x9e",
    "mix\\t\t\\n\n;,'\"\xc3\xa9",
};
#define NAWK (sizeof(awkward) / sizeof(awkward[0]))

static void fill_call(struct record *rec, int i)
{
    struct call_record *c = &rec->u.call;
    snprintf(c->call_id, sizeof(c->call_id), "call-%d", i);
    if (i < (int)NAWK * 2) {
        snprintf(c->call_id, sizeof(c->call_id), "call-%d-%s", i, awkward[(size_t)i / 2]);
        snprintf(c->caller, sizeof(c->caller), "%s", awkward[(size_t)i / 2]);
        snprintf(c->user_agent, sizeof(c->user_agent), "UA %s", awkward[(size_t)i / 2]);
        snprintf(c->redirects, sizeof(c->redirects), "%s;+49", awkward[(size_t)i / 2]);
    } else {
        snprintf(c->caller, sizeof(c->caller), "+49301%05d", i);
    }
    snprintf(c->callee, sizeof(c->callee), "+49302%05d", i);
    snprintf(c->caller_ip, sizeof(c->caller_ip), i % 4 ? "192.0.2.%d" : "2001:db8::%d", i % 250 + 1);
    c->invite_us = T0 + (int64_t)i * 1000;
    if (i % 3 != 0) { /* every third call never answered: NULLs */
        c->ring_us = c->invite_us + 1000;
        c->answer_us = c->invite_us + 2000000;
        c->end_us = c->answer_us + 60000001;
        c->duration_ms = 60000;
        c->status = 200;
        c->disposition = DISP_ANSWERED;
        c->hangup_by = HANGUP_CALLER;
        c->end_reason = END_BYE;
    }
}

static void fill_sms(struct record *rec, int i)
{
    struct sms_record *s = &rec->u.sms;
    snprintf(s->call_id, sizeof(s->call_id), "sms-%d", i);
    if (i < (int)NAWK * 2 + 1) {
        snprintf(s->call_id, sizeof(s->call_id), "sms-%d-%s", i, awkward[(size_t)i / 2]);
        snprintf(s->destination, sizeof(s->destination), "%s", awkward[(size_t)i / 2]);
    } else {
        snprintf(s->destination, sizeof(s->destination), "+49170%05d", i);
    }
    snprintf(s->sender, sizeof(s->sender), "+49303%05d", i);
    s->time_us = T0 + (int64_t)i * 1000;
    s->status = i % 5 ? 202 : 0;
    s->kind = i % 2 ? SMS_3GPP : SMS_TEXT;
}

static void push(struct record_queue *q, int n)
{
    for (int i = 0; i < n; i++) {
        struct record *rec = rq_push_slot(q, i % 2 ? RECORD_SMS : RECORD_CALL);
        if (rec == NULL)
            return;
        if (rec->kind == RECORD_CALL)
            fill_call(rec, i);
        else
            fill_sms(rec, i);
    }
}

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* One stored call row, as record_format_field() would print it; NULL as
 * "(null)", fields joined by "|". */
static const char *stored_call(PGconn *c, const char *call_id, char *out, size_t cap)
{
    const char *params[1] = {call_id};
    PGresult *res = PQexecParams(c,
                                 "SELECT call_id, caller, callee, redirects, host(caller_ip), user_agent, "
                                 ISO("invite_time") ", " ISO("ring_time") ", " ISO("answer_time") ", "
                                 ISO("end_time") ", duration_ms, status, disposition, hangup_by, end_reason "
                                 "FROM calls WHERE call_id = $1",
                                 1, NULL, params, NULL, NULL, 0);
    size_t o = 0;
    out[0] = '\0';
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        snprintf(out, cap, "(%d rows) %s", PQntuples(res), PQresultErrorMessage(res));
        PQclear(res);
        return out;
    }
    for (int f = 0; f < PQnfields(res); f++) {
        int n = snprintf(out + o, cap - o, "%s%s", f ? "|" : "", PQgetisnull(res, 0, f) ? "(null)" : PQgetvalue(res, 0, f));
        if (n < 0 || (size_t)n >= cap - o)
            break;
        o += (size_t)n;
    }
    PQclear(res);
    return out;
}

static const char *stored_sms(PGconn *c, const char *call_id, char *out, size_t cap)
{
    const char *params[1] = {call_id};
    PGresult *res = PQexecParams(c,
                                 "SELECT call_id, sender, destination, " ISO("time") ", status, kind "
                                 "FROM sms WHERE call_id = $1",
                                 1, NULL, params, NULL, NULL, 0);
    size_t o = 0;
    out[0] = '\0';
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        snprintf(out, cap, "(%d rows) %s", PQntuples(res), PQresultErrorMessage(res));
        PQclear(res);
        return out;
    }
    for (int f = 0; f < PQnfields(res); f++) {
        int n = snprintf(out + o, cap - o, "%s%s", f ? "|" : "", PQgetisnull(res, 0, f) ? "(null)" : PQgetvalue(res, 0, f));
        if (n < 0 || (size_t)n >= cap - o)
            break;
        o += (size_t)n;
    }
    PQclear(res);
    return out;
}

/* The same row from the record itself, through record_format_field(). */
static const char *expected(const struct record *rec, char *out, size_t cap)
{
    size_t n, o = 0;
    record_columns(rec->kind, &n);
    out[0] = '\0';
    for (size_t col = 0; col < n; col++) {
        char field[REC_FIELD_MAX];
        const char *v = record_format_field(rec, col, field, sizeof(field));
        int k = snprintf(out + o, cap - o, "%s%s", col ? "|" : "", v ? v : "(null)");
        if (k < 0 || (size_t)k >= cap - o)
            break;
        o += (size_t)k;
    }
    return out;
}

static void batches_round_trip(void)
{
    char db[512], v[64];
    migrated_db("t_writer_roundtrip", db, sizeof(db));
    struct run r;
    run_init(&r, 3000);
    push(&r.q, 2500);
    CHECK_EQ_INT(rq_count(&r.q), 2500);
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.progress, 3);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.closed, 1);
    CHECK_EQ_STR(r.error, "");
    CHECK_EQ_INT(rq_count(&r.q), 0);
    CHECK_EQ_INT(r.q.released, 2500);
    run_done(&r);

    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM calls", v, sizeof(v)), "1250");
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM sms", v, sizeof(v)), "1250");
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(DISTINCT call_id) FROM calls", v, sizeof(v)), "1250");
    /* The database-only column, and where the stream stands. */
    CHECK_EQ_STR(pgtest_value(c, "SELECT (SELECT count(*) FROM calls WHERE collector = 'test-collector') + "
                                 "(SELECT count(*) FROM sms WHERE collector = 'test-collector')", v, sizeof(v)),
                 "2500");
    CHECK_EQ_STR(pgtest_value(c, "SELECT collector || ' ' || stream || ' ' || last_seq FROM sipcdr_progress", v,
                              sizeof(v)),
                 "test-collector test-stream 2500");

    /* Every awkward record, and a few plain ones, come back byte for byte. */
    int idx[NAWK * 2 + 4];
    size_t nidx = 0;
    for (int i = 0; i < (int)NAWK * 2; i++)
        idx[nidx++] = i;
    idx[nidx++] = 998;
    idx[nidx++] = 999;
    idx[nidx++] = 1000;
    idx[nidx++] = 2499;
    for (size_t k = 0; k < nidx; k++) {
        struct record rec;
        record_init(&rec, idx[k] % 2 ? RECORD_SMS : RECORD_CALL);
        char want[2048], got[2048];
        if (rec.kind == RECORD_CALL) {
            fill_call(&rec, idx[k]);
            stored_call(c, rec.u.call.call_id, got, sizeof(got));
        } else {
            fill_sms(&rec, idx[k]);
            stored_sms(c, rec.u.sms.call_id, got, sizeof(got));
        }
        CHECK_EQ_STR(got, expected(&rec, want, sizeof(want)));
    }
    /* Unknown values are SQL NULL, not empty strings. */
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM calls WHERE answer_time IS NULL AND status IS NULL "
                                 "AND disposition IS NULL AND duration_ms IS NULL",
                              v, sizeof(v)),
                 "417");
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM calls WHERE disposition = '' OR redirects = ''", v, sizeof(v)),
                 "0");
    PQfinish(c);
}

static void batch_max_one_and_empty_queue(void)
{
    char db[512], v[64];
    migrated_db("t_writer_small", db, sizeof(db));
    struct run r;
    run_init(&r, 8);
    push(&r.q, 3); /* call, sms, call: batches of one skip the other COPY */
    run_writer(&r, db, 1);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.progress, 3);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.closed, 1);
    run_done(&r);

    /* Nothing queued: ready, then closed at once. */
    run_init(&r, 8);
    run_writer(&r, db, 100);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.progress, 0);
    CHECK_EQ_INT(r.closed, 1);
    run_done(&r);

    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT (SELECT count(*) FROM calls) || '/' || (SELECT count(*) FROM sms)", v,
                              sizeof(v)),
                 "2/1");
    PQfinish(c);
}

static void wrong_port_is_retried(void)
{
    /* Nothing listens: transient. Three attempts, the delay doubling, one
     * clear line each, and the records stay where they are. */
    char conninfo[256];
    snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=x user=u password=s3cret-pw",
             pgtest_free_port());
    struct run r;
    run_init(&r, 16);
    push(&r.q, 5);
    r.close_at_retry = 3;
    run_writer(&r, conninfo, 1000);
    CHECK_EQ_INT(r.ready, 0);
    CHECK_EQ_INT(r.retries, 3);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.closed, 1);
    CHECK(pgtest_starts_with(r.retry, "cannot connect: connection to server at \"127.0.0.1\", port "));
    CHECK(strstr(r.retry, "Connection refused") != NULL);
    CHECK(strstr(r.retry, "s3cret") == NULL);
    CHECK_EQ_INT(r.retry_delay, 20);
    CHECK_EQ_INT(rq_count(&r.q), 5);
    run_done(&r);
}

static void unknown_role_is_fatal(void)
{
    /* The server answers, and says no to who we are: no retry cures that. */
    char db[512], conninfo[600];
    migrated_db("t_writer_role", db, sizeof(db));
    snprintf(conninfo, sizeof(conninfo), "%s user=nobody_here", db);
    struct run r;
    run_init(&r, 16);
    push(&r.q, 5);
    run_writer(&r, conninfo, 1000);
    CHECK_EQ_INT(r.ready, 0);
    CHECK_EQ_INT(r.retries, 0);
    CHECK_EQ_INT(r.errors, 1);
    CHECK(pgtest_starts_with(r.error, "cannot connect: connection to server at \"127.0.0.1\", port "));
    CHECK(strstr(r.error, "failed: FATAL:  role \"nobody_here\" does not exist") != NULL);
    CHECK(strstr(r.error, "28000") == NULL); /* verbose codes are read, not shown */
    CHECK(strstr(r.error, "LOCATION") == NULL);
    CHECK_EQ_INT(rq_count(&r.q), 5);
    run_done(&r);
}

static void bad_conninfo_fails_at_start(void)
{
    struct run r;
    run_init(&r, 4);
    char err[512];
    struct pgw *w = (struct pgw *)&r; /* must be reset to NULL */
    r.opts.batch_max = 10;
    CHECK_EQ_INT(
        pgw_start(&w, &r.loop, "host=127.0.0.1 password=abc pw2xyz", &r.q, &r.opts, &cbs, &r, err, sizeof(err)), -1);
    CHECK(w == NULL);
    CHECK(pgtest_starts_with(err, "invalid connection string: "));
    CHECK(strstr(err, "pw2xyz") == NULL);
    r.opts.batch_max = 0;
    CHECK_EQ_INT(pgw_start(&w, &r.loop, "host=127.0.0.1", &r.q, &r.opts, &cbs, &r, err, sizeof(err)), -1);
    r.opts.batch_max = 10;
    r.opts.stream = "";
    CHECK_EQ_INT(pgw_start(&w, &r.loop, "host=127.0.0.1", &r.q, &r.opts, &cbs, &r, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "database writer: invalid arguments");
    CHECK_EQ_INT(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
    run_done(&r);
}

static void unmigrated_database_is_refused(void)
{
    char db[512];
    if (pgtest_newdb("t_writer_unmigrated", db, sizeof(db)) != 0) {
        CHECK(!"test database");
        return;
    }
    struct run r;
    run_init(&r, 16);
    push(&r.q, 5);
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 0);
    CHECK_EQ_INT(r.errors, 1);
    CHECK_EQ_INT(r.closed, 1);
    CHECK_EQ_STR(r.error, "database schema is not initialised: run `sipcdr db migrate --db ...`");
    CHECK_EQ_INT(rq_count(&r.q), 5);
    run_done(&r);
}

static void newer_database_is_refused(void)
{
    char db[512], expect[256];
    migrated_db("t_writer_newer", db, sizeof(db));
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(pgtest_exec(c, "INSERT INTO sipcdr_schema_version (version, name) VALUES (999, 'future')"), 0);
    PQfinish(c);
    struct run r;
    run_init(&r, 16);
    push(&r.q, 5);
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 0);
    CHECK_EQ_INT(r.errors, 1);
    snprintf(expect, sizeof(expect), "database schema version 999 is newer than this sipcdr (%d): upgrade sipcdr",
             pgm_expected_version());
    CHECK_EQ_STR(r.error, expect);
    run_done(&r);
}

static void read_only_database_is_waited_out(void)
{
    /* Read-only (a standby, or an operator's switch) is transient: the batch
     * is retried on a new connection until the database takes it. */
    char db[512], sql[256], v[64];
    migrated_db("t_writer_readonly", db, sizeof(db));
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET default_transaction_read_only = on", PQdb(c));
    CHECK_EQ_INT(pgtest_exec(c, sql), 0);
    struct run r;
    run_init(&r, 64);
    push(&r.q, 10);
    /* The side connection needs a writable session to switch it back. */
    char side[600];
    snprintf(side, sizeof(side), "%s options='-c default_transaction_read_only=off'", db);
    r.side_db = side;
    r.on_retry_sql = "ALTER DATABASE t_writer_readonly SET default_transaction_read_only = off";
    r.close_at_retry = 20; /* a bound, should the switch not work */
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.retries, 1);
    CHECK_EQ_INT(r.progress, 2); /* ready again, then the commit */
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.closed, 1);
    CHECK_EQ_STR(r.retry, "cannot write records: ERROR: cannot execute INSERT in a read-only transaction");
    CHECK_EQ_INT(rq_count(&r.q), 0);
    CHECK_EQ_INT(pgw_get_stats(r.w) != NULL, 1);
    run_done(&r);
    CHECK_EQ_STR(pgtest_value(c, "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM sms)", v, sizeof(v)),
                 "10");
    PQfinish(c);
}

static void bad_row_fails_the_batch(void)
{
    char db[512], v[64];
    migrated_db("t_writer_badrow", db, sizeof(db));
    struct run r;
    run_init(&r, 64);
    push(&r.q, 10);
    /* The 4th record (a call) carries an address the inet type rejects: the
     * whole batch is rolled back, sms included. */
    struct record *bad = &r.q.slots[4];
    snprintf(bad->u.call.caller_ip, sizeof(bad->u.call.caller_ip), "not-an-ip");
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.progress, 0);
    CHECK_EQ_INT(r.errors, 1);
    CHECK_EQ_STR(r.error, "cannot write records: ERROR: invalid input syntax for type inet: \"not-an-ip\"");
    CHECK_EQ_INT(rq_count(&r.q), 10);
    run_done(&r);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM sms)", v, sizeof(v)),
                 "0");
    PQfinish(c);
}

static void lost_connection_is_noticed_while_idle(void)
{
    char db[512];
    migrated_db("t_writer_lost", db, sizeof(db));
    struct run r;
    run_init(&r, 16);
    r.side_db = db;
    r.on_ready_sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND application_name = 'sipcdr'";
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.retries, 1);
    CHECK_EQ_INT(r.progress, 1); /* ready again on a new connection */
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.closed, 1);
    CHECK_EQ_STR(r.retry, "connection lost: FATAL: terminating connection due to administrator command");
    run_done(&r);
}

static void lost_connection_mid_batch_is_retried(void)
{
    char db[512], v[64];
    migrated_db("t_writer_lost_batch", db, sizeof(db));
    struct run r;
    run_init(&r, 2000);
    push(&r.q, 2000);
    r.side_db = db;
    r.sql_after_kick = true; /* BEGIN is on its way when the backend dies */
    r.on_ready_sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND application_name = 'sipcdr'";
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.retries, 1);
    CHECK_EQ_INT(r.progress, 3); /* ready again, two commits */
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.closed, 1);
    /* Which words arrive depends on timing: the server's FATAL, or the EOF
     * or reset after it. Always libpq's or the server's text, one line. */
    CHECK(strstr(r.retry, "terminating connection due to administrator command") != NULL ||
          strstr(r.retry, "server closed the connection unexpectedly") != NULL ||
          strstr(r.retry, "Connection reset by peer") != NULL);
    CHECK_EQ_INT(rq_count(&r.q), 0);
    run_done(&r);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) || '/' || count(DISTINCT call_id) FROM calls", v, sizeof(v)),
                 "1000/1000");
    CHECK_EQ_STR(pgtest_value(c, "SELECT last_seq FROM sipcdr_progress", v, sizeof(v)), "2000");
    PQfinish(c);
}

static void close_with_batch_in_flight(void)
{
    char db[512], v[64];
    migrated_db("t_writer_close", db, sizeof(db));
    struct run r;
    run_init(&r, 2000);
    push(&r.q, 2000);
    r.close_on_ready = true;
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.progress, 0);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.closed, 1);
    CHECK_EQ_INT(rq_count(&r.q), 2000); /* nothing committed, nothing released */
    run_done(&r);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM calls", v, sizeof(v)), "0");
    PQfinish(c);
}

static void closed_callback_runs_once(void)
{
    /* pgw_close right after start: the connect is abandoned, closed(ctx)
     * runs once from the loop and no other callback comes. */
    char db[512];
    migrated_db("t_writer_closed_cb", db, sizeof(db));
    struct run r;
    run_init(&r, 4);
    char err[512];
    r.opts.batch_max = 10;
    CHECK_EQ_INT(pgw_start(&r.w, &r.loop, db, &r.q, &r.opts, &cbs, &r, err, sizeof(err)), 0);
    pgw_close(r.w, NULL);
    CHECK_EQ_INT(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
    CHECK_EQ_INT(r.ready + r.errors + r.progress, 0);
    run_done(&r);
}

/* The closed callback of pgw_close: counts into the run. */
static void count_closed(void *ctx) { ((struct run *)ctx)->closed++; }

static void closed_callback_gets_ctx(void)
{
    struct run r;
    run_init(&r, 4);
    char err[512], conninfo[128];
    snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d", pgtest_free_port());
    r.opts.batch_max = 10;
    CHECK_EQ_INT(pgw_start(&r.w, &r.loop, conninfo, &r.q, &r.opts, &cbs, &r, err, sizeof(err)), 0);
    pgw_close(r.w, count_closed);
    CHECK_EQ_INT(r.closed, 0); /* not from inside pgw_close */
    CHECK_EQ_INT(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
    CHECK_EQ_INT(r.closed, 1);
    CHECK_EQ_INT(r.errors, 0);
    run_done(&r);
}

static void host_list_switches_sockets(void)
{
    /* The first host refuses, libpq opens a new socket for the second:
     * the poll must follow it. */
    char db[512], port[16], conninfo[700], v[64];
    migrated_db("t_writer_hostlist", db, sizeof(db));
    snprintf(conninfo, sizeof(conninfo), "%s host=127.0.0.1,127.0.0.1 port=%d,%s", db, pgtest_free_port(),
             pgtest_port(db, port, sizeof(port)));
    struct run r;
    run_init(&r, 16);
    push(&r.q, 7);
    run_writer(&r, conninfo, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.progress, 1);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_STR(r.error, "");
    run_done(&r);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM sms)", v, sizeof(v)),
                 "7");
    PQfinish(c);
}

static void silent_server_times_out(void)
{
    /* A listener that never accepts: TCP connects, the startup packet gets
     * no answer. libpq ignores connect_timeout here; the writer does not. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 4) == 0 &&
          getsockname(s, (struct sockaddr *)&a, &len) == 0);
    char conninfo[256];
    snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=x connect_timeout=2", ntohs(a.sin_port));
    struct run r;
    run_init(&r, 4);
    r.close_at_retry = 1;
    uint64_t t0 = uv_hrtime();
    run_writer(&r, conninfo, 10);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    CHECK_EQ_INT(r.retries, 1);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_STR(r.retry, "cannot connect: no answer from the database within 2 s");
    CHECK(ms >= 1900 && ms < 10000);
    run_done(&r);
    close(s);
}


static int64_t rows(PGconn *c)
{
    char v[64];
    return strtoll(pgtest_value(c, "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM sms)", v, sizeof(v)),
                   NULL, 10);
}

static int64_t distinct_ids(PGconn *c)
{
    char v[64];
    return strtoll(pgtest_value(c, "SELECT (SELECT count(DISTINCT call_id) FROM calls) + "
                                   "(SELECT count(DISTINCT call_id) FROM sms)", v, sizeof(v)),
                   NULL, 10);
}

static void replay_is_exactly_once(void)
{
    /* A first run commits records 1..100 of a stream. A rerun that produces
     * the same records and 50 more writes only the 50: its batches of 30 are
     * wholly (1..30, 31..60, 61..90), partly (91..120) and not at all
     * (121..150) committed before. */
    char db[512];
    migrated_db("t_writer_replay", db, sizeof(db));
    struct run r;
    run_init(&r, 200);
    push(&r.q, 100);
    run_writer(&r, db, 30);
    CHECK_EQ_INT(r.progress, 4);
    CHECK_EQ_INT(r.stats.records_skipped, 0);
    run_done(&r);

    run_init(&r, 200);
    push(&r.q, 150);
    run_writer(&r, db, 30);
    CHECK_EQ_INT(r.progress, 5);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.stats.records_skipped, 100);
    CHECK_EQ_INT(r.stats.rows_calls + r.stats.rows_sms, 50);
    /* The first batch read the mark (100): 31..60 and 61..90 went without a
     * transaction; 91..120 and 121..150 needed one each. */
    CHECK_EQ_INT(r.stats.batches, 3);
    run_done(&r);

    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(rows(c), 150);
    CHECK_EQ_INT(distinct_ids(c), 150);

    /* The stream is the identity: the same records in another stream are
     * other records (why a rerun must keep its stream key, docs/storage.md). */
    run_init(&r, 200);
    push(&r.q, 10);
    r.opts.stream = "another-stream";
    run_writer(&r, db, 30);
    CHECK_EQ_INT(r.stats.records_skipped, 0);
    run_done(&r);
    CHECK_EQ_INT(rows(c), 160);
    PQfinish(c);
}

static void two_writers_on_one_stream_take_turns(void)
{
    /* Two writers with the same 600 records, same stream, one loop: each
     * batch locks the stream's row, so whoever comes second skips what the
     * first committed. Every record lands once. */
    char db[512];
    migrated_db("t_writer_twins", db, sizeof(db));
    struct run a, b;
    run_init(&a, 600);
    run_init(&b, 600);
    push(&a.q, 600);
    push(&b.q, 600);
    char err[512];
    a.opts.batch_max = 50;
    b.opts.batch_max = 70;
    CHECK_EQ_INT(pgw_start(&a.w, &a.loop, db, &a.q, &a.opts, &cbs, &a, err, sizeof(err)), 0);
    CHECK_EQ_INT(pgw_start(&b.w, &a.loop, db, &b.q, &b.opts, &cbs, &b, err, sizeof(err)), 0);
    CHECK_EQ_INT(uv_run(&a.loop, UV_RUN_DEFAULT), 0);
    CHECK_EQ_INT(a.errors + b.errors, 0);
    CHECK_EQ_INT(a.closed + b.closed, 2);
    CHECK_EQ_INT(rq_count(&a.q) + rq_count(&b.q), 0);
    uint64_t written = a.stats.rows_calls + a.stats.rows_sms + b.stats.rows_calls + b.stats.rows_sms;
    CHECK_EQ_INT(written, 600);
    CHECK_EQ_INT(a.stats.records_skipped + b.stats.records_skipped, 600);
    run_done(&a);
    run_done(&b);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(rows(c), 600);
    CHECK_EQ_INT(distinct_ids(c), 600);
    PQfinish(c);
}

static char spool_dir[64];

static struct spool *spool_fresh(void)
{
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/sipcdr-wspool-XXXXXX");
    CHECK(mkdtemp(spool_dir) != NULL);
    struct spool_limits lim = {1 << 24, 1 << 20, 0};
    struct spool *s = NULL;
    char err[256];
    CHECK_EQ_INT(spool_open(&s, spool_dir, &lim, err, sizeof(err)), 0);
    return s;
}

static void spool_remove(struct spool *s)
{
    spool_close(s);
    DIR *d = opendir(spool_dir);
    struct dirent *de;
    char p[512];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", spool_dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(spool_dir);
}

static void database_down_spills_then_drains(void)
{
    /* Nothing listens: at the first retry every queued record moves to the
     * spool (queue space for the producer). A later writer with a database
     * drains the spool, exactly once, with the records' own stream. */
    char db[512], conninfo[256], v[128];
    migrated_db("t_writer_spill", db, sizeof(db));
    struct spool *sp = spool_fresh();
    snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=x", pgtest_free_port());
    struct run r;
    run_init(&r, 64);
    push(&r.q, 50);
    r.opts.spool = sp;
    r.close_at_retry = 2;
    run_writer(&r, conninfo, 1000);
    CHECK_EQ_INT(r.retries, 2);
    CHECK_EQ_INT(r.progress, 1); /* the first retry made room */
    CHECK_EQ_INT(rq_count(&r.q), 0);
    CHECK_EQ_INT(r.stats.records_spooled, 50);
    CHECK_EQ_INT(spool_get_stats(sp)->records_pending, 50);
    CHECK_EQ_INT(spool_get_stats(sp)->batches_pending, 2); /* frames of at most half the queue */
    run_done(&r);

    run_init(&r, 64);
    r.opts.spool = sp;
    r.opts.stream = "not-the-spooled-one";
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.ready, 1);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.progress, 2);
    CHECK_EQ_INT(r.stats.records_unspooled, 50);
    CHECK_EQ_INT(spool_get_stats(sp)->records_pending, 0);
    run_done(&r);
    spool_remove(sp);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(rows(c), 50);
    CHECK_EQ_STR(pgtest_value(c, "SELECT string_agg(stream || '=' || last_seq, ',') FROM sipcdr_progress", v,
                              sizeof(v)),
                 "test-stream=50");
    PQfinish(c);
}

static void spool_goes_first_and_replays_exactly_once(void)
{
    /* The spool holds frame A (collector edge-old, stream old, seq 1..10),
     * whose first 5 records an earlier run committed before it died, and
     * frame B (records 1..20 of the queue's own stream). The queue holds
     * records 1..30. Expected: A's last 5, B's 20, the queue's last 10. */
    char db[512], v[128];
    migrated_db("t_writer_spool_first", db, sizeof(db));
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(pgtest_exec(c, "INSERT INTO sipcdr_progress (collector, stream, last_seq) "
                                "VALUES ('edge-old', 'old', 5)"),
                 0);
    struct spool *sp = spool_fresh();
    static struct record recs[20];
    const struct record *ptrs[20];
    for (int i = 0; i < 20; i++) {
        record_init(&recs[i], i % 2 ? RECORD_SMS : RECORD_CALL);
        if (i % 2)
            fill_sms(&recs[i], i);
        else
            fill_call(&recs[i], i);
        ptrs[i] = &recs[i];
    }
    struct spool_batch_info a = {"edge-old", "old", 1}, bi = {"test-collector", "test-stream", 1};
    static struct record old[10];
    const struct record *optrs[10];
    for (int i = 0; i < 10; i++) {
        record_init(&old[i], RECORD_CALL);
        fill_call(&old[i], 1000 + i);
        optrs[i] = &old[i];
    }
    char err[256];
    CHECK_EQ_INT(spool_append(sp, &a, optrs, 10, err, sizeof(err)), 0);
    CHECK_EQ_INT(spool_append(sp, &bi, ptrs, 20, err, sizeof(err)), 0);

    struct run r;
    run_init(&r, 64);
    push(&r.q, 30);
    r.opts.spool = sp;
    run_writer(&r, db, 1000);
    CHECK_EQ_INT(r.errors, 0);
    CHECK_EQ_INT(r.progress, 3); /* frame A, frame B, the queue batch */
    CHECK_EQ_INT(r.stats.records_unspooled, 30);
    CHECK_EQ_INT(r.stats.records_skipped, 5 + 20);
    CHECK_EQ_INT(r.stats.rows_calls + r.stats.rows_sms, 5 + 20 + 10);
    CHECK_EQ_INT(rq_count(&r.q), 0);
    run_done(&r);
    spool_remove(sp);

    CHECK_EQ_INT(rows(c), 35);
    CHECK_EQ_INT(distinct_ids(c), 35);
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM calls WHERE collector = 'edge-old'", v, sizeof(v)), "5");
    CHECK_EQ_STR(pgtest_value(c, "SELECT string_agg(collector || '/' || stream || '=' || last_seq, ',' "
                                 "ORDER BY stream) FROM sipcdr_progress", v, sizeof(v)),
                 "edge-old/old=10,test-collector/test-stream=30");
    PQfinish(c);
}

static void commits_are_durable_whatever_the_default(void)
{
    /* With synchronous_commit off a server crash loses transactions it has
     * confirmed; the writer releases records at COMMIT, so its own commits
     * must be durable. A trigger notes the setting each batch ran with. */
    char db[512], sql[256], v[64];
    migrated_db("t_writer_durable", db, sizeof(db));
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(pgtest_exec(c, "CREATE TABLE seen (v text); "
                                "CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                "INSERT INTO seen VALUES (current_setting('synchronous_commit')); RETURN NULL; END $$; "
                                "CREATE TRIGGER note AFTER INSERT ON calls FOR EACH STATEMENT EXECUTE FUNCTION note()"),
                 0);
    const char *settings[] = {"off", "remote_apply", "on"};
    const char *want[] = {"local", "remote_apply", "on"};
    for (int i = 0; i < 3; i++) {
        snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET synchronous_commit = %s", PQdb(c), settings[i]);
        CHECK_EQ_INT(pgtest_exec(c, sql), 0);
        CHECK_EQ_INT(pgtest_exec(c, "DELETE FROM seen"), 0);
        struct run r;
        run_init(&r, 16);
        push(&r.q, 4);
        char stream[32];
        snprintf(stream, sizeof(stream), "durable-%d", i);
        r.opts.stream = stream;
        run_writer(&r, db, 1000);
        CHECK_EQ_INT(r.errors, 0);
        run_done(&r);
        CHECK_EQ_STR(pgtest_value(c, "SELECT string_agg(DISTINCT v, ',') FROM seen", v, sizeof(v)), want[i]);
    }
    PQfinish(c);
}

int main(void)
{
    RUN(batches_round_trip);
    RUN(batch_max_one_and_empty_queue);
    RUN(wrong_port_is_retried);
    RUN(unknown_role_is_fatal);
    RUN(bad_conninfo_fails_at_start);
    RUN(unmigrated_database_is_refused);
    RUN(newer_database_is_refused);
    RUN(read_only_database_is_waited_out);
    RUN(bad_row_fails_the_batch);
    RUN(lost_connection_is_noticed_while_idle);
    RUN(lost_connection_mid_batch_is_retried);
    RUN(close_with_batch_in_flight);
    RUN(closed_callback_runs_once);
    RUN(closed_callback_gets_ctx);
    RUN(host_list_switches_sockets);
    RUN(silent_server_times_out);
    RUN(replay_is_exactly_once);
    RUN(two_writers_on_one_stream_take_turns);
    RUN(database_down_spills_then_drains);
    RUN(spool_goes_first_and_replays_exactly_once);
    RUN(commits_are_durable_whatever_the_default);
    return check_summary();
}
