/* pg_writer.c - non-blocking libpq on a libuv loop (see pg_writer.h).
 *
 * States, in the order a writer goes through them:
 *
 *   CONNECTING  PQconnectPoll, the socket watched for what it asks
 *   CHECKING    the schema version query in flight
 *   READY       idle; the socket is watched for reading only, so a server
 *               that goes away is noticed at once, not at the next batch
 *   BATCH       BEGIN, COPY calls, COPY sms, COMMIT: one statement at a time
 *   FAILED      connection closed; on_error is delivered from the timer
 *
 * Everything that talks to libpq funnels through drive(), which runs the
 * current statement as far as it can without blocking and then sets what the
 * poll waits for: readable always, writable too while libpq holds unsent
 * output (PQflush returned 1). Errors go through fail(), the single exit:
 * it closes the connection and defers on_error to a zero timer, so no
 * callback ever runs inside pgw_start(), pgw_kick() or pgw_close(), and no
 * code runs on a connection that is gone.
 *
 * Costs accepted: a batch takes up to four round trips (BEGIN, two COPYs,
 * COMMIT) instead of one multi-statement string; on loopback or a LAN that
 * is small next to the COPY itself, and each statement's result is checked
 * on its own. The batch is encoded in full before BEGIN (two buffers with a
 * ceiling), so a COPY never waits for the encoder.
 *
 * Reconnecting later: a batch holds no state the queue does not have (its
 * records are still the oldest batch_n in q), so a retry only needs FAILED
 * to lead back to CONNECTING after a delay instead of to on_error.
 */
#include "pg_writer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg_copy.h"
#include "pg_migrate.h"
#include "sc.h"

/* COPY data goes to libpq in slices this big, each followed by PQflush, so
 * libpq's output buffer stays near this size instead of growing to a whole
 * batch. */
#define PGW_COPY_CHUNK (64 * 1024)
#define PGW_ERR_MAX 1024

_Static_assert(PGW_COPYBUF_MAX >= PGCOPY_ROW_MAX, "one record must fit an empty COPY buffer");

enum pgw_state { PGW_CONNECTING, PGW_CHECKING, PGW_READY, PGW_BATCH, PGW_FAILED };

/* The statements of a batch, in order; a COPY without rows is skipped. */
enum pgw_step { STEP_BEGIN, STEP_COPY_CALLS, STEP_COPY_SMS, STEP_COMMIT, STEP_END };

/* Allocated apart from the writer because libpq may switch sockets while it
 * connects: the old handle finishes closing while the new one is in use. */
struct pgw_poll {
    uv_poll_t handle;
    struct pgw *w;
};

struct pgw {
    uv_loop_t *loop;
    struct record_queue *q; /* not owned */
    size_t batch_max;
    struct pgw_callbacks cb;
    void *ctx;
    void (*closed)(void *ctx);

    PGconn *conn;          /* NULL once dropped */
    struct pgw_poll *poll; /* NULL when not watching */
    int poll_fd;
    int poll_events; /* what poll is started with; 0: stopped */
    int poll_errors; /* poll errors in a row */
    uv_timer_t timer;  /* connect timeout, then the deferred on_error */
    unsigned handles;  /* uv handles not yet closed; w is freed at 0 */
    bool closing;
    bool error_delivered;
    enum pgw_state state;
    uint64_t connect_timeout_ms; /* 0: none */

    /* The statement in flight. */
    bool cmd_active; /* sent, results not all read (PQgetResult not NULL yet) */
    bool copying;    /* server said COPY_IN: sending data */
    bool want_write; /* libpq holds unsent output */
    char cmd_err[PGW_ERR_MAX]; /* first problem seen in its results */
    int db_version;

    /* The batch in flight: the oldest batch_n records of q. */
    enum pgw_step step;
    size_t batch_n, batch_calls, batch_sms;
    struct copybuf copy[2]; /* [0] calls, [1] sms */
    size_t copy_off;        /* bytes of the current COPY handed to libpq */
    uint64_t batch_start_ns;
    char copy_sql[2][PGCOPY_STMT_MAX];

    char errmsg[PGW_ERR_MAX];
    char last_fatal[PGW_ERR_MAX]; /* why the server said it ends the session */
    struct pgw_stats stats;
};

static void drive(struct pgw *w);
static void start_batch(struct pgw *w);

/* ---- handles and teardown ---------------------------------------------- */

static void handle_closed(struct pgw *w)
{
    w->handles--;
    if (!w->closing || w->handles > 0)
        return;
    void (*closed)(void *) = w->closed;
    void *ctx = w->ctx;
    pgcopy_free(&w->copy[0]);
    pgcopy_free(&w->copy[1]);
    free(w);
    if (closed != NULL)
        closed(ctx);
}

static void poll_closed(uv_handle_t *h)
{
    struct pgw_poll *p = h->data;
    struct pgw *w = p->w;
    free(p);
    handle_closed(w);
}

static void timer_closed(uv_handle_t *h) { handle_closed(h->data); }

static void unwatch(struct pgw *w)
{
    if (w->poll == NULL)
        return;
    /* uv_close stops the poll at once, so the fd may be closed right after. */
    uv_close((uv_handle_t *)&w->poll->handle, poll_closed);
    w->poll = NULL;
    w->poll_events = 0;
}

/* Stop watching, then close the socket (in that order: libuv must not poll
 * a closed fd, which the kernel may hand out again). */
static void drop_connection(struct pgw *w)
{
    unwatch(w);
    if (w->conn != NULL) {
        PQfinish(w->conn);
        w->conn = NULL;
    }
    w->cmd_active = w->copying = w->want_write = false;
}

static void on_timer(uv_timer_t *t);

static void fail(struct pgw *w, const char *fmt, ...) SC_PRINTF(2, 3);
static void fail(struct pgw *w, const char *fmt, ...)
{
    if (w->state == PGW_FAILED || w->closing)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
    va_end(ap);
    w->state = PGW_FAILED;
    drop_connection(w);
    uv_timer_stop(&w->timer);
    uv_timer_start(&w->timer, on_timer, 0, 0);
}

/* libpq's connection-level error as one line. */
static const char *conn_error(const struct pgw *w, char *buf, size_t cap)
{
    return pgm_error_line(w->conn ? PQerrorMessage(w->conn) : NULL, buf, cap);
}

/* The connection broke. A server that ends a session first says why (an
 * ERROR/FATAL while idle, which libpq hands to the notice receiver); that
 * beats libpq's generic "server closed the connection unexpectedly". */
static void fail_lost(struct pgw *w)
{
    char line[PGW_ERR_MAX];
    conn_error(w, line, sizeof(line));
    /* The input buffer may still hold that last word, unparsed: a result
     * during a statement, a notice while idle. */
    if (w->last_fatal[0] == '\0' && w->conn != NULL && !PQisBusy(w->conn)) {
        PGresult *res = PQgetResult(w->conn);
        const char *sev = res ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
        if (sev != NULL && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
            pgm_result_error(res, w->last_fatal, sizeof(w->last_fatal));
        PQclear(res);
    }
    if (w->last_fatal[0] != '\0')
        fail(w, "connection lost: %s", w->last_fatal);
    else
        fail(w, "connection lost: %s", line);
}

static void on_timer(uv_timer_t *t)
{
    struct pgw *w = t->data;
    if (w->closing)
        return;
    if (w->state == PGW_FAILED) {
        if (!w->error_delivered) {
            w->error_delivered = true;
            if (w->cb.on_error != NULL)
                w->cb.on_error(w->ctx, w->errmsg);
        }
        return;
    }
    if (w->state == PGW_CONNECTING || w->state == PGW_CHECKING)
        fail(w, "cannot connect: no answer from the database within %llu s",
             (unsigned long long)(w->connect_timeout_ms / 1000));
}

/* ---- the socket --------------------------------------------------------- */

static void on_io(uv_poll_t *h, int status, int events);

/* Watch fd for events. rearm: stop and start even when nothing changed,
 * because during the connect libpq may close its socket and open a new one
 * that gets the same number: the kernel dropped the old registration with
 * the old socket, and only a fresh start registers the new one. */
static int watch(struct pgw *w, int fd, int events, bool rearm)
{
    if (w->poll != NULL && w->poll_fd != fd)
        unwatch(w);
    if (w->poll == NULL) {
        struct pgw_poll *p = malloc(sizeof(*p));
        if (p == NULL)
            return UV_ENOMEM;
        int rc = uv_poll_init_socket(w->loop, &p->handle, fd);
        if (rc != 0) {
            free(p);
            return rc;
        }
        p->handle.data = p;
        p->w = w;
        w->handles++;
        w->poll = p;
        w->poll_fd = fd;
        w->poll_events = 0;
    } else if (rearm && w->poll_events != 0) {
        uv_poll_stop(&w->poll->handle);
        w->poll_events = 0;
    }
    if (events == w->poll_events)
        return 0;
    int rc = uv_poll_start(&w->poll->handle, events, on_io);
    if (rc != 0)
        return rc;
    w->poll_events = events;
    return 0;
}

/* Hand libpq's pending output to the kernel. 0, or -1 after fail(). */
static int flush(struct pgw *w)
{
    int r = PQflush(w->conn);
    if (r < 0) {
        fail_lost(w);
        return -1;
    }
    w->want_write = r == 1;
    return 0;
}

/* Send one statement; its results are read by drive(). 0 or -1 after fail(). */
static int send_sql(struct pgw *w, const char *sql)
{
    w->cmd_err[0] = '\0';
    if (!PQsendQuery(w->conn, sql)) {
        char line[PGW_ERR_MAX];
        fail(w, "cannot send to the database: %s", conn_error(w, line, sizeof(line)));
        return -1;
    }
    w->cmd_active = true;
    return flush(w);
}

/* ---- connecting and the schema check ------------------------------------ */

static void connected(struct pgw *w)
{
    if (PQsetnonblocking(w->conn, 1) != 0) {
        char line[PGW_ERR_MAX];
        fail(w, "cannot connect: %s", conn_error(w, line, sizeof(line)));
        return;
    }
    w->state = PGW_CHECKING;
    int rc = watch(w, PQsocket(w->conn), UV_READABLE, true);
    if (rc != 0) {
        fail(w, "cannot watch the database socket: %s", uv_strerror(rc));
        return;
    }
    w->db_version = -1;
    if (send_sql(w, pgm_version_query()) != 0)
        return;
    drive(w);
}

static void connect_step(struct pgw *w)
{
    char line[PGW_ERR_MAX];
    PostgresPollingStatusType st = PQconnectPoll(w->conn);
    if (st == PGRES_POLLING_FAILED) {
        fail(w, "cannot connect: %s", conn_error(w, line, sizeof(line)));
        return;
    }
    if (st == PGRES_POLLING_OK) {
        connected(w);
        return;
    }
    int fd = PQsocket(w->conn);
    if (fd < 0) {
        fail(w, "cannot connect: %s", conn_error(w, line, sizeof(line)));
        return;
    }
    int rc = watch(w, fd, st == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE, true);
    if (rc != 0)
        fail(w, "cannot watch the database socket: %s", uv_strerror(rc));
}

/* ---- batches ------------------------------------------------------------ */

/* Encode the oldest records into the COPY buffers and send BEGIN. */
static void start_batch(struct pgw *w)
{
    if (w->closing || w->state != PGW_READY || rq_count(w->q) == 0)
        return;
    size_t n = rq_count(w->q);
    if (n > w->batch_max)
        n = w->batch_max;
    pgcopy_reset(&w->copy[0]);
    pgcopy_reset(&w->copy[1]);
    w->batch_calls = w->batch_sms = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        const struct record *r = rq_peek(w->q, i);
        bool call = r->kind == RECORD_CALL;
        int rc = pgcopy_append(&w->copy[call ? 0 : 1], r);
        if (rc == -ENOSPC && i > 0)
            break; /* buffer ceiling: the rest waits for the next batch */
        if (rc != 0) {
            fail(w, "cannot encode records: %s", strerror(-rc));
            return;
        }
        if (call)
            w->batch_calls++;
        else
            w->batch_sms++;
    }
    w->batch_n = i;
    w->state = PGW_BATCH;
    w->step = STEP_BEGIN;
    w->batch_start_ns = uv_hrtime();
    send_sql(w, "BEGIN");
}

static void batch_committed(struct pgw *w)
{
    rq_release(w->q, w->batch_n);
    w->stats.batches++;
    w->stats.rows_calls += w->batch_calls;
    w->stats.rows_sms += w->batch_sms;
    w->stats.last_batch_us = (uv_hrtime() - w->batch_start_ns) / 1000;
    w->batch_n = 0;
    w->state = PGW_READY;
    if (w->cb.on_progress != NULL)
        w->cb.on_progress(w->ctx);
    /* The callback may have closed us or kicked a batch already. */
    start_batch(w);
}

/* The statement in flight returned all its results. */
static void statement_done(struct pgw *w)
{
    char msg[PGW_ERR_MAX];
    if (w->state == PGW_CHECKING) {
        if (w->cmd_err[0] != '\0') {
            fail(w, "%s", w->cmd_err);
            return;
        }
        if (pgm_check_version(w->db_version, msg, sizeof(msg)) != 0) {
            fail(w, "%s", msg);
            return;
        }
        w->state = PGW_READY;
        uv_timer_stop(&w->timer);
        if (w->cb.on_ready != NULL)
            w->cb.on_ready(w->ctx);
        start_batch(w);
        return;
    }
    if (w->cmd_err[0] != '\0') {
        fail(w, "cannot write records: %s", w->cmd_err);
        return;
    }
    for (;;) {
        w->step++;
        switch (w->step) {
        case STEP_BEGIN: break;
        case STEP_COPY_CALLS:
            if (w->batch_calls == 0)
                continue;
            send_sql(w, w->copy_sql[0]);
            return;
        case STEP_COPY_SMS:
            if (w->batch_sms == 0)
                continue;
            send_sql(w, w->copy_sql[1]);
            return;
        case STEP_COMMIT: send_sql(w, "COMMIT"); return;
        case STEP_END: batch_committed(w); return;
        }
    }
}

static void note_error(struct pgw *w, const char *fmt, ...) SC_PRINTF(2, 3);
static void note_error(struct pgw *w, const char *fmt, ...)
{
    if (w->cmd_err[0] != '\0')
        return; /* the first error is the cause; later ones follow from it */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->cmd_err, sizeof(w->cmd_err), fmt, ap);
    va_end(ap);
}

/* One result of the statement in flight. Takes ownership of res. */
static void on_result(struct pgw *w, PGresult *res)
{
    char line[PGW_ERR_MAX];
    ExecStatusType st = PQresultStatus(res);
    if (w->state == PGW_CHECKING) {
        int v;
        if (pgm_version_from_result(res, &v, line, sizeof(line)) == 0)
            w->db_version = v;
        else
            note_error(w, "%s", line);
    } else if (st == PGRES_COPY_IN) {
        w->copying = true;
        w->copy_off = 0;
    } else if (st == PGRES_COMMAND_OK) {
        const char *tag = PQcmdStatus(res);
        if (w->step == STEP_COPY_CALLS || w->step == STEP_COPY_SMS) {
            /* The server counts what it stored; any difference means a row
             * was split or merged on the way, which must not pass silently. */
            size_t want = w->step == STEP_COPY_CALLS ? w->batch_calls : w->batch_sms;
            char *end;
            const char *rows = PQcmdTuples(res);
            unsigned long long got = strtoull(rows, &end, 10);
            if (end == rows || *end != '\0' || got != want)
                note_error(w, "COPY stored %s rows of %zu", rows[0] ? rows : "?", want);
        } else if (w->step == STEP_COMMIT && strcmp(tag, "COMMIT") != 0) {
            /* COMMIT of a failed transaction "succeeds" as ROLLBACK. */
            note_error(w, "transaction was rolled back (%s)", tag);
        }
    } else {
        note_error(w, "%s", pgm_result_error(res, line, sizeof(line)));
    }
    PQclear(res);
}

/* Feed the current COPY's data to libpq. true when all of it and the end
 * marker are queued; false when waiting for the socket, or after fail(). */
static bool pump(struct pgw *w)
{
    const struct copybuf *b = &w->copy[w->step == STEP_COPY_CALLS ? 0 : 1];
    while (w->copy_off < b->len) {
        if (w->want_write)
            return false;
        size_t n = b->len - w->copy_off;
        if (n > PGW_COPY_CHUNK)
            n = PGW_COPY_CHUNK;
        int r = PQputCopyData(w->conn, b->data + w->copy_off, (int)n);
        if (r < 0) {
            fail_lost(w);
            return false;
        }
        if (r == 0) { /* libpq could not take it now: wait for writable */
            w->want_write = true;
            return false;
        }
        w->copy_off += n;
        if (flush(w) != 0)
            return false;
    }
    int r = PQputCopyEnd(w->conn, NULL);
    if (r < 0) {
        fail_lost(w);
        return false;
    }
    if (r == 0) {
        w->want_write = true;
        return false;
    }
    w->copying = false;
    return flush(w) == 0;
}

/* Idle: nothing is expected from the server, so anything that arrives is the
 * server ending the session (a FATAL error, then EOF). */
static void idle_input(struct pgw *w)
{
    char line[PGW_ERR_MAX];
    if (!PQisBusy(w->conn)) {
        PGresult *res = PQgetResult(w->conn);
        if (res != NULL) {
            pgm_result_error(res, line, sizeof(line));
            PQclear(res);
            fail(w, "connection lost: %s", line);
            return;
        }
    }
    if (PQstatus(w->conn) == CONNECTION_BAD)
        fail_lost(w);
}

static void drive(struct pgw *w)
{
    while (!w->closing) {
        if (w->state == PGW_READY) {
            idle_input(w);
            break;
        }
        if (w->state != PGW_CHECKING && w->state != PGW_BATCH)
            break;
        if (w->copying) {
            if (!pump(w))
                break;
            continue;
        }
        if (!w->cmd_active || PQisBusy(w->conn))
            break;
        PGresult *res = PQgetResult(w->conn);
        if (res == NULL) {
            w->cmd_active = false;
            statement_done(w); /* next statement, or callbacks: loop re-checks */
            continue;
        }
        on_result(w, res);
    }
    if (w->closing || w->conn == NULL || w->state == PGW_CONNECTING)
        return;
    int rc = watch(w, w->poll_fd, UV_READABLE | (w->want_write ? UV_WRITABLE : 0), false);
    if (rc != 0)
        fail(w, "cannot watch the database socket: %s", uv_strerror(rc));
}

static void on_io(uv_poll_t *h, int status, int events)
{
    struct pgw_poll *p = h->data;
    struct pgw *w = p->w;
    if (w->closing || p != w->poll || w->conn == NULL)
        return;
    if (w->state == PGW_CONNECTING) {
        /* A refused connect shows as a poll error; PQconnectPoll says why. */
        connect_step(w);
        return;
    }
    if (status < 0) {
        /* POLLERR (libuv says UV_EBADF and stops the handle): usually a reset
         * after the server ended the session. Read and parse what arrived
         * before it, which says why; a later read reports the reset itself.
         * The cap only guards against a socket that keeps erring silently. */
        w->poll_events = 0;
        if (!PQconsumeInput(w->conn)) {
            fail_lost(w);
            return;
        }
        if (++w->poll_errors > 3) {
            fail(w, "connection lost: %s", uv_strerror(status));
            return;
        }
        drive(w);
        return;
    }
    w->poll_errors = 0;
    if ((events & UV_READABLE) && !PQconsumeInput(w->conn)) {
        fail_lost(w);
        return;
    }
    if (w->want_write && flush(w) != 0)
        return;
    drive(w);
}

/* ---- public ------------------------------------------------------------- */

/* libpq's default notice receiver prints to stderr; a low layer must not,
 * and the writer's statements raise no notice worth a log line. What it
 * keeps is the server's last word before it ends the session. */
static void on_notice(void *arg, const PGresult *res)
{
    struct pgw *w = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev != NULL && (strcmp(sev, "ERROR") == 0 || strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        pgm_result_error(res, w->last_fatal, sizeof(w->last_fatal));
}

/* connect_timeout from conninfo in ms: libpq ignores it for non-blocking
 * connects. Unset: the default; 0 or less: none, as libpq reads it; 1 is 2,
 * libpq's minimum. */
static uint64_t connect_timeout_ms(const char *conninfo)
{
    uint64_t ms = (uint64_t)PGW_CONNECT_TIMEOUT_S * 1000;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (opts == NULL)
        return ms;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "connect_timeout") != 0 || o->val == NULL || o->val[0] == '\0')
            continue;
        char *end;
        errno = 0;
        long s = strtol(o->val, &end, 10);
        if (errno == 0 && end != o->val && *end == '\0')
            ms = s <= 0 ? 0 : (uint64_t)(s < 2 ? 2 : s) * 1000;
    }
    PQconninfoFree(opts);
    return ms;
}

int pgw_start(struct pgw **out, uv_loop_t *loop, const char *conninfo, struct record_queue *q, size_t batch_max,
              const struct pgw_callbacks *cb, void *ctx, char *err, size_t errlen)
{
    *out = NULL;
    if (loop == NULL || conninfo == NULL || q == NULL || cb == NULL || batch_max == 0) {
        snprintf(err, errlen, "database writer: invalid arguments");
        return -1;
    }
    if (pgm_conninfo_check(conninfo, err, errlen) != 0)
        return -1;
    struct pgw *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, errlen, "database writer: out of memory");
        return -1;
    }
    w->loop = loop;
    w->q = q;
    w->batch_max = batch_max;
    w->cb = *cb;
    w->ctx = ctx;
    w->poll_fd = -1;
    w->connect_timeout_ms = connect_timeout_ms(conninfo);
    pgcopy_init(&w->copy[0], PGW_COPYBUF_MAX);
    pgcopy_init(&w->copy[1], PGW_COPYBUF_MAX);
    if (pgcopy_statement(RECORD_CALL, w->copy_sql[0], sizeof(w->copy_sql[0])) != 0 ||
        pgcopy_statement(RECORD_SMS, w->copy_sql[1], sizeof(w->copy_sql[1])) != 0) {
        snprintf(err, errlen, "database writer: COPY statement too long");
        free(w);
        return -1;
    }

    /* Later keywords override the conninfo's own: the COPY text is UTF-8
     * (pg_copy.h), and the server sees who is connected. */
    static const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *const values[] = {conninfo, "UTF8", "sipcdr", NULL};
    w->conn = PQconnectStartParams(keys, values, 1);
    if (w->conn == NULL) {
        snprintf(err, errlen, "database writer: out of memory");
        free(w);
        return -1;
    }
    PQsetNoticeReceiver(w->conn, on_notice, w);

    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    w->handles = 1;
    w->state = PGW_CONNECTING;
    *out = w;

    /* From here every failure is reported through on_error, like any later
     * connection failure, so the owner has one path for "no database". */
    char line[PGW_ERR_MAX];
    int fd = PQstatus(w->conn) == CONNECTION_BAD ? -1 : PQsocket(w->conn);
    if (fd < 0) {
        fail(w, "cannot connect: %s", conn_error(w, line, sizeof(line)));
        return 0;
    }
    if (w->connect_timeout_ms > 0)
        uv_timer_start(&w->timer, on_timer, w->connect_timeout_ms, 0);
    /* libpq: behave as if PQconnectPoll had just asked for writable. */
    int rc = watch(w, fd, UV_WRITABLE, true);
    if (rc != 0)
        fail(w, "cannot watch the database socket: %s", uv_strerror(rc));
    return 0;
}

void pgw_kick(struct pgw *w)
{
    if (w->closing || w->state != PGW_READY)
        return;
    start_batch(w);
    drive(w);
}

int pgw_busy(const struct pgw *w)
{
    if (w->closing)
        return 0;
    return w->state == PGW_CONNECTING || w->state == PGW_CHECKING || w->state == PGW_BATCH;
}

void pgw_close(struct pgw *w, void (*closed)(void *ctx))
{
    if (w->closing)
        return;
    w->closing = true;
    w->closed = closed;
    drop_connection(w);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, timer_closed);
}

const struct pgw_stats *pgw_get_stats(const struct pgw *w) { return &w->stats; }
