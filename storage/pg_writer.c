/* pg_writer.c - non-blocking libpq on a libuv loop (see pg_writer.h).
 *
 * States, in the order a writer goes through them:
 *
 *   CONNECTING  PQconnectPoll, the socket watched for what it asks
 *   CHECKING    the schema version query in flight
 *   READY       idle; the socket is watched for reading only, so a server
 *               that goes away is noticed at once, not at the next batch
 *   BATCH       BEGIN, progress, COPY calls, COPY sms, mark, COMMIT: one
 *               statement at a time
 *   BACKOFF     a transient failure dropped the connection: the timer first
 *               reports it (on_retry) and moves queued records to the spool,
 *               then after the delay leads back to CONNECTING
 *   FAILED      fatal: connection closed; on_error is delivered from the timer
 *
 * One timer serves every state, because each state needs at most one
 * deadline: the connect timeout (CONNECTING, CHECKING), the batch timeout
 * (BATCH), the retry report and delay (BACKOFF), the deferred on_error.
 *
 * Everything that talks to libpq funnels through drive(), which runs the
 * current statement as far as it can without blocking and then sets what the
 * poll waits for: readable always, writable too while libpq holds unsent
 * output (PQflush returned 1). Errors go through fail(), the single exit:
 * it closes the connection and defers the callback to the timer, so no
 * callback ever runs inside pgw_start(), pgw_kick() or pgw_close(), and no
 * code runs on a connection that is gone.
 *
 * Costs accepted: a batch takes six round trips (BEGIN, progress, two COPYs,
 * mark, COMMIT) instead of one multi-statement string; on loopback or a LAN
 * that is small next to the COPY itself, and each statement's result is
 * checked on its own. The batch is encoded after the progress row says which
 * of its records are new, into two buffers with a ceiling, so a COPY never
 * waits for the encoder. Spool appends are synchronous file writes on the
 * loop (an fsync each when configured): they happen only while the database
 * is away, when there is nothing else for the loop to wait on.
 *
 * A batch holds no state that its source does not: its records are the
 * oldest batch_n in the queue, or the spool's oldest unacknowledged frame,
 * until COMMIT. So after any failure the next READY simply starts over from
 * the sources, and the progress row sorts out what already got in.
 */
#include "pg_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg_copy.h"
#include "pg_migrate.h"
#include "pg_retry.h"
#include "sc.h"

/* COPY data goes to libpq in slices this big, each followed by PQflush, so
 * libpq's output buffer stays near this size instead of growing to a whole
 * batch. */
#define PGW_COPY_CHUNK (64 * 1024)
#define PGW_ERR_MAX 1024
/* Streams whose committed mark the writer remembers (see struct known). */
#define PGW_KNOWN_MAX 4

_Static_assert(PGW_COPYBUF_MAX >= PGCOPY_ROW_MAX, "one record must fit an empty COPY buffer");
/* A spool frame is acknowledged whole, so it must never be cut short. */
_Static_assert((uint64_t)SPOOL_BATCH_MAX * PGCOPY_ROW_MAX <= PGW_COPYBUF_MAX, "a spool batch must fit one COPY");

/* Lock the stream's row (an upsert locks the row it finds, as FOR UPDATE
 * would, and creates it the first time) and read how far it got. The same
 * statement sets two things for this transaction only: the collector, for
 * the rows' default; and a durable commit. The records leave the queue (or
 * the spool) when COMMIT returns, so COMMIT must not return before the
 * commit is on disk: with synchronous_commit off, a server crash loses the
 * last transactions it confirmed, and those records with them. "local" is
 * enough for that; a stronger setting (on, remote_*) is left as it is. */
static const char progress_sql[] =
    "INSERT INTO sipcdr_progress AS p (collector, stream, last_seq) VALUES ($1, $2, 0) "
    "ON CONFLICT (collector, stream) DO UPDATE SET last_seq = p.last_seq "
    "RETURNING p.last_seq, set_config('sipcdr.collector', $1, true), "
    "CASE WHEN current_setting('synchronous_commit') = 'off' "
    "THEN set_config('synchronous_commit', 'local', true) END";
/* greatest(): a batch whose records were all committed already must not move
 * the mark backwards. */
static const char mark_sql[] = "UPDATE sipcdr_progress SET last_seq = greatest(last_seq, $3::bigint), "
                               "updated_at = now() WHERE collector = $1 AND stream = $2";

enum pgw_state { PGW_CONNECTING, PGW_CHECKING, PGW_READY, PGW_BATCH, PGW_BACKOFF, PGW_FAILED };

/* The statements of a batch, in order; a COPY without rows is skipped. */
enum pgw_step { STEP_BEGIN, STEP_PROGRESS, STEP_COPY_CALLS, STEP_COPY_SMS, STEP_MARK, STEP_COMMIT, STEP_END };

/* A stream's mark as this connection last saw it. Marks only grow, so it is
 * a lower bound of the truth: a batch wholly at or below it was committed
 * before and is released without a transaction. That makes a rerun of a
 * finished import, or a spool of batches that did get in before a crash,
 * cost no round trips. Forgotten at every new connection, so a database
 * restored from a backup in between is asked again. */
struct known {
    char collector[SPOOL_KEY_MAX];
    char stream[SPOOL_KEY_MAX];
    uint64_t last; /* 0: unused */
};

/* Allocated apart from the writer because libpq may switch sockets while it
 * connects: the old handle finishes closing while the new one is in use. */
struct pgw_poll {
    uv_poll_t handle;
    struct pgw *w;
};

struct pgw {
    uv_loop_t *loop;
    struct record_queue *q; /* not owned */
    struct spool *spool;    /* not owned; NULL: none */
    size_t batch_max;
    size_t spill_chunk; /* records per spool frame */
    char collector[SPOOL_KEY_MAX];
    char stream[SPOOL_KEY_MAX];
    char *conninfo; /* owned; kept to reconnect, wiped when freed */
    uint64_t retry_min_ms, retry_max_ms, batch_timeout_ms;
    uint64_t connect_timeout_ms; /* 0: none */
    struct pgw_callbacks cb;
    void *ctx;
    void (*closed)(void *ctx);

    PGconn *conn;          /* NULL once dropped */
    struct pgw_poll *poll; /* NULL when not watching */
    int poll_fd;
    int poll_events; /* what poll is started with; 0: stopped */
    int poll_errors; /* poll errors in a row */
    uv_timer_t timer; /* the current state's one deadline (see above) */
    unsigned handles; /* uv handles not yet closed; w is freed at 0 */
    bool closing;
    bool error_delivered;
    bool ever_ready;     /* on_ready was delivered */
    bool down;           /* a transient failure since the last READY */
    bool retry_reported; /* on_retry delivered for the current BACKOFF */
    uint64_t spool_refused_at; /* spool size when it last refused; 0: none */
    enum pgw_state state;

    /* The statement in flight. */
    bool cmd_active; /* sent, results not all read (PQgetResult not NULL yet) */
    bool copying;    /* server said COPY_IN: sending data */
    bool want_write; /* libpq holds unsent output */
    char cmd_err[PGW_ERR_MAX]; /* first problem seen in its results ... */
    enum pgr_class cmd_class;  /* ... and whether waiting can cure it */
    int db_version;

    /* The batch in flight: the oldest batch_n records of q, or the spool's
     * oldest frame decoded into spool_recs. */
    enum pgw_step step;
    bool from_spool;
    struct spool_batch_info info; /* its stream and first sequence number */
    size_t batch_n;               /* records it covers */
    size_t batch_skip;            /* of them, committed before: not sent */
    size_t batch_calls, batch_sms;
    int64_t last_seq; /* the stream's mark as the progress row said */
    bool batch_known; /* wholly committed before (struct known): no transaction */
    struct known known[PGW_KNOWN_MAX];
    unsigned known_next; /* the entry to replace next */
    struct record *spool_recs;         /* SPOOL_BATCH_MAX, with a spool */
    const struct record **spool_ptrs;  /* SPOOL_BATCH_MAX, for spool_append */
    struct copybuf copy[2];            /* [0] calls, [1] sms */
    size_t copy_off;                   /* bytes of the current COPY handed to libpq */
    uint64_t batch_start_ns;
    char copy_sql[2][PGCOPY_STMT_MAX];
    char mark_last[24];

    char errmsg[PGW_ERR_MAX];
    char last_fatal[PGW_ERR_MAX]; /* why the server said it ends the session */
    struct pgw_stats stats;
};

static void drive(struct pgw *w);
static void service(struct pgw *w);
static void connect_start(struct pgw *w);

/* ---- handles and teardown ---------------------------------------------- */

static void writer_free(struct pgw *w)
{
    pgcopy_free(&w->copy[0]);
    pgcopy_free(&w->copy[1]);
    free(w->spool_recs);
    free(w->spool_ptrs);
    if (w->conninfo != NULL) {
        /* It may carry a password: do not leave it in freed memory. */
        volatile char *p = w->conninfo;
        while (*p != '\0')
            *p++ = '\0';
        free(w->conninfo);
    }
    free(w);
}

static void handle_closed(struct pgw *w)
{
    w->handles--;
    if (!w->closing || w->handles > 0)
        return;
    void (*closed)(void *) = w->closed;
    void *ctx = w->ctx;
    writer_free(w);
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
static void batch_committed(struct pgw *w);

/* The single exit of every failure. Transient: BACKOFF, the timer reports it
 * and reconnects later. Fatal: FAILED, the timer delivers on_error. Either
 * way the batch in flight is abandoned; its records are still in its source. */
static void fail(struct pgw *w, enum pgr_class cls, const char *fmt, ...) SC_PRINTF(3, 4);
static void fail(struct pgw *w, enum pgr_class cls, const char *fmt, ...)
{
    if (w->state == PGW_FAILED || w->state == PGW_BACKOFF || w->closing)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
    va_end(ap);
    drop_connection(w);
    w->batch_n = 0;
    if (cls == PGR_FATAL) {
        w->state = PGW_FAILED;
    } else {
        w->state = PGW_BACKOFF;
        w->down = true;
        w->retry_reported = false;
        w->stats.failures++;
        w->stats.backoff_ms = pgr_backoff_next(w->stats.backoff_ms, w->retry_min_ms, w->retry_max_ms);
    }
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
 * beats libpq's generic "server closed the connection unexpectedly". Losing
 * the connection is always worth a retry: a server that shuts down, crashes
 * or restarts looks exactly like this. */
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
        fail(w, PGR_TRANSIENT, "connection lost: %s", w->last_fatal);
    else
        fail(w, PGR_TRANSIENT, "connection lost: %s", line);
}

/* ---- the spool ---------------------------------------------------------- */

/* Move the oldest queued records to the spool, a frame at a time, while the
 * policy in pg_writer.h wants it; force: also a last partial frame while the
 * database is down. Returns the number of records moved. */
static size_t spill(struct pgw *w, bool force)
{
    if (w->spool == NULL || w->closing)
        return 0;
    if (w->state == PGW_BATCH && !w->from_spool)
        return 0; /* the queue's head is in flight: newer records must not pass it */
    const struct spool_stats *ss = spool_get_stats(w->spool);
    /* A refusal (full, disk error) stands until the spool shrinks; trying
     * again on every kick would only encode the same frame for nothing. */
    if (w->spool_refused_at != 0 && ss->bytes_on_disk >= w->spool_refused_at && !force)
        return 0;
    w->spool_refused_at = 0;
    size_t moved = 0;
    while (rq_count(w->q) > 0) {
        size_t count = rq_count(w->q);
        bool want;
        if (w->down)
            want = force || count >= w->spill_chunk;
        else
            want = ss->records_pending > 0 && count >= w->q->cap / 2;
        if (!want)
            break;
        size_t n = count < w->spill_chunk ? count : w->spill_chunk;
        for (size_t i = 0; i < n; i++)
            w->spool_ptrs[i] = rq_peek(w->q, i);
        struct spool_batch_info b;
        memcpy(b.collector, w->collector, sizeof(b.collector));
        memcpy(b.stream, w->stream, sizeof(b.stream));
        b.first_seq = rq_seq(w->q, 0);
        char err[256];
        if (spool_append(w->spool, &b, w->spool_ptrs, n, err, sizeof(err)) != 0) {
            w->stats.spool_refused++;
            w->spool_refused_at = ss->bytes_on_disk > 0 ? ss->bytes_on_disk : 1;
            break;
        }
        rq_release(w->q, n);
        moved += n;
        w->stats.records_spooled += n;
    }
    return moved;
}

static void on_timer(uv_timer_t *t)
{
    struct pgw *w = t->data;
    if (w->closing)
        return;
    switch (w->state) {
    case PGW_FAILED:
        if (!w->error_delivered) {
            w->error_delivered = true;
            if (w->cb.on_error != NULL)
                w->cb.on_error(w->ctx, w->errmsg);
        }
        return;
    case PGW_BACKOFF:
        if (!w->retry_reported) {
            w->retry_reported = true;
            if (w->cb.on_retry != NULL)
                w->cb.on_retry(w->ctx, w->errmsg, w->stats.backoff_ms);
            if (w->closing || w->state != PGW_BACKOFF)
                return;
            /* The database is away for a while: make room for input now. */
            if (spill(w, true) > 0 && w->cb.on_progress != NULL) {
                w->cb.on_progress(w->ctx);
                if (w->closing || w->state != PGW_BACKOFF)
                    return;
            }
            uv_timer_start(&w->timer, on_timer, w->stats.backoff_ms, 0);
            return;
        }
        w->stats.reconnects++;
        connect_start(w);
        return;
    case PGW_CONNECTING:
    case PGW_CHECKING:
        fail(w, PGR_TRANSIENT, "cannot connect: no answer from the database within %llu s",
             (unsigned long long)(w->connect_timeout_ms / 1000));
        return;
    case PGW_BATCH:
        if (w->batch_known) {
            batch_committed(w);
            return;
        }
        fail(w, PGR_TRANSIENT, "batch not committed within %llu ms", (unsigned long long)w->batch_timeout_ms);
        return;
    case PGW_READY: return;
    }
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

/* Send one statement, with parameters when n > 0; its results are read by
 * drive(). 0 or -1 after fail(). */
static int send_params(struct pgw *w, const char *sql, int n, const char *const *values)
{
    w->cmd_err[0] = '\0';
    w->cmd_class = PGR_TRANSIENT;
    int ok = n > 0 ? PQsendQueryParams(w->conn, sql, n, NULL, values, NULL, NULL, 0) : PQsendQuery(w->conn, sql);
    if (!ok) {
        char line[PGW_ERR_MAX];
        fail(w, PGR_TRANSIENT, "cannot send to the database: %s", conn_error(w, line, sizeof(line)));
        return -1;
    }
    w->cmd_active = true;
    return flush(w);
}

static int send_sql(struct pgw *w, const char *sql) { return send_params(w, sql, 0, NULL); }

/* ---- connecting and the schema check ------------------------------------ */

/* PQconnectPoll gave up. Whether to retry depends on who said no: the
 * network or a starting server, yes; the server refusing who we are, no. */
static void connect_failed(struct pgw *w)
{
    char line[PGW_ERR_MAX], sqlstate[PGR_SQLSTATE_LEN];
    enum pgr_class cls = pgr_conn_error(w->conn ? PQerrorMessage(w->conn) : NULL, sqlstate, line, sizeof(line));
    /* libpq wanted a password and had none: no later attempt will have one. */
    if (w->conn != NULL && PQconnectionNeedsPassword(w->conn))
        cls = PGR_FATAL;
    fail(w, cls, "cannot connect: %s", line);
}

static void connected(struct pgw *w)
{
    /* Verbose errors were only wanted for the connect's SQLSTATEs. */
    PQsetErrorVerbosity(w->conn, PQERRORS_DEFAULT);
    if (PQsetnonblocking(w->conn, 1) != 0) {
        char line[PGW_ERR_MAX];
        fail(w, PGR_TRANSIENT, "cannot connect: %s", conn_error(w, line, sizeof(line)));
        return;
    }
    w->state = PGW_CHECKING;
    int rc = watch(w, PQsocket(w->conn), UV_READABLE, true);
    if (rc != 0) {
        fail(w, PGR_TRANSIENT, "cannot watch the database socket: %s", uv_strerror(rc));
        return;
    }
    w->db_version = -1;
    if (send_sql(w, pgm_version_query()) != 0)
        return;
    drive(w);
}

static void connect_step(struct pgw *w)
{
    PostgresPollingStatusType st = PQconnectPoll(w->conn);
    if (st == PGRES_POLLING_FAILED) {
        connect_failed(w);
        return;
    }
    if (st == PGRES_POLLING_OK) {
        connected(w);
        return;
    }
    int fd = PQsocket(w->conn);
    if (fd < 0) {
        connect_failed(w);
        return;
    }
    int rc = watch(w, fd, st == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE, true);
    if (rc != 0)
        fail(w, PGR_TRANSIENT, "cannot watch the database socket: %s", uv_strerror(rc));
}

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

/* A new connection: the first one from pgw_start(), the others after BACKOFF.
 * Every failure from here on is reported through the timer. */
static void connect_start(struct pgw *w)
{
    w->state = PGW_CONNECTING;
    w->last_fatal[0] = '\0';
    memset(w->known, 0, sizeof(w->known));
    w->poll_errors = 0;
    /* Later keywords override the conninfo's own: the COPY text is UTF-8
     * (pg_copy.h), and the server sees who is connected. */
    static const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *const values[] = {w->conninfo, "UTF8", "sipcdr", NULL};
    w->conn = PQconnectStartParams(keys, values, 1);
    if (w->conn == NULL) {
        fail(w, PGR_TRANSIENT, "cannot connect: out of memory");
        return;
    }
    PQsetNoticeReceiver(w->conn, on_notice, w);
    /* Verbose: a server's refusal then carries its SQLSTATE, which decides
     * between waiting and giving up (pg_retry.h). Back to default once in. */
    PQsetErrorVerbosity(w->conn, PQERRORS_VERBOSE);
    int fd = PQstatus(w->conn) == CONNECTION_BAD ? -1 : PQsocket(w->conn);
    if (fd < 0) {
        connect_failed(w);
        return;
    }
    if (w->connect_timeout_ms > 0)
        uv_timer_start(&w->timer, on_timer, w->connect_timeout_ms, 0);
    /* libpq: behave as if PQconnectPoll had just asked for writable. */
    int rc = watch(w, fd, UV_WRITABLE, true);
    if (rc != 0)
        fail(w, PGR_TRANSIENT, "cannot watch the database socket: %s", uv_strerror(rc));
}

/* ---- batches ------------------------------------------------------------ */

static struct known *known_find(struct pgw *w, const struct spool_batch_info *b)
{
    for (unsigned i = 0; i < PGW_KNOWN_MAX; i++)
        if (w->known[i].last > 0 && strcmp(w->known[i].stream, b->stream) == 0 &&
            strcmp(w->known[i].collector, b->collector) == 0)
            return &w->known[i];
    return NULL;
}

static void known_note(struct pgw *w, const struct spool_batch_info *b, uint64_t last)
{
    if (last == 0)
        return;
    struct known *k = known_find(w, b);
    if (k == NULL) {
        k = &w->known[w->known_next];
        w->known_next = (w->known_next + 1) % PGW_KNOWN_MAX;
        memcpy(k->collector, b->collector, sizeof(k->collector));
        memcpy(k->stream, b->stream, sizeof(k->stream));
        k->last = 0;
    }
    if (last > k->last)
        k->last = last;
}

static void begin_batch(struct pgw *w, size_t n)
{
    w->batch_n = n;
    w->batch_skip = w->batch_calls = w->batch_sms = 0;
    w->last_seq = -1;
    w->state = PGW_BATCH;
    w->step = STEP_BEGIN;
    w->batch_start_ns = uv_hrtime();
    const struct known *k = known_find(w, &w->info);
    w->batch_known = k != NULL && k->last >= w->info.first_seq + n - 1;
    if (w->batch_known) {
        /* Completed from the timer, like a commit from the socket: never
         * inside pgw_kick(), and one batch per loop turn. */
        w->batch_skip = n;
        uv_timer_start(&w->timer, on_timer, 0, 0);
        return;
    }
    uv_timer_start(&w->timer, on_timer, w->batch_timeout_ms, 0);
    send_sql(w, "BEGIN");
}

/* Ready and idle: start the next batch, from the spool while it holds any. */
static void service(struct pgw *w)
{
    if (w->closing || w->state != PGW_READY)
        return;
    spill(w, false); /* a draining spool and a half-full queue */
    if (w->spool != NULL) {
        size_t n;
        int rc = spool_peek(w->spool, &w->info, w->spool_recs, SPOOL_BATCH_MAX, &n);
        if (rc == 0) {
            w->from_spool = true;
            begin_batch(w, n);
            return;
        }
        if (rc != -ENOENT) {
            /* Frames were checked when the spool was opened; one that no
             * longer reads back was changed under us. Not retried. */
            fail(w, PGR_FATAL, "cannot read the spool: %s", strerror(-rc));
            return;
        }
    }
    if (rq_count(w->q) == 0) {
        w->stats.backoff_ms = 0; /* connected and nothing failing: start afresh */
        return;
    }
    size_t n = rq_count(w->q);
    if (n > w->batch_max)
        n = w->batch_max;
    w->from_spool = false;
    memcpy(w->info.collector, w->collector, sizeof(w->info.collector));
    memcpy(w->info.stream, w->stream, sizeof(w->info.stream));
    w->info.first_seq = rq_seq(w->q, 0);
    begin_batch(w, n);
}

/* The progress row is locked and says how far the stream got: encode the
 * batch's records past that mark. A queue batch is cut short at the COPY
 * buffer ceiling (the rest waits for the next batch); a spool batch always
 * fits (static assertion above). 0, or -1 after fail(). */
static int encode_batch(struct pgw *w)
{
    pgcopy_reset(&w->copy[0]);
    pgcopy_reset(&w->copy[1]);
    w->batch_calls = w->batch_sms = 0;
    uint64_t first = w->info.first_seq;
    size_t skip = 0;
    if (w->last_seq > 0 && (uint64_t)w->last_seq >= first) {
        uint64_t done = (uint64_t)w->last_seq - first + 1;
        skip = done < w->batch_n ? (size_t)done : w->batch_n;
    }
    size_t i;
    for (i = skip; i < w->batch_n; i++) {
        const struct record *r = w->from_spool ? &w->spool_recs[i] : rq_peek(w->q, i);
        bool call = r->kind == RECORD_CALL;
        int rc = pgcopy_append(&w->copy[call ? 0 : 1], r);
        if (rc == -ENOSPC && i > skip && !w->from_spool)
            break;
        if (rc != 0) {
            fail(w, PGR_FATAL, "cannot encode records: %s", strerror(-rc));
            return -1;
        }
        if (call)
            w->batch_calls++;
        else
            w->batch_sms++;
    }
    w->batch_n = i;
    w->batch_skip = skip;
    return 0;
}

static void batch_committed(struct pgw *w)
{
    uv_timer_stop(&w->timer);
    if (w->from_spool) {
        if (spool_ack(w->spool) != 0)
            w->stats.spool_ack_errors++; /* it replays after a restart and is skipped then */
        w->stats.records_unspooled += w->batch_n;
    } else {
        rq_release(w->q, w->batch_n);
    }
    if (!w->batch_known) {
        w->stats.batches++;
        known_note(w, &w->info, w->info.first_seq + w->batch_n - 1);
    }
    w->stats.rows_calls += w->batch_calls;
    w->stats.rows_sms += w->batch_sms;
    w->stats.records_skipped += w->batch_skip;
    w->stats.last_batch_us = (uv_hrtime() - w->batch_start_ns) / 1000;
    w->stats.backoff_ms = 0;
    w->batch_n = 0;
    w->state = PGW_READY;
    if (w->cb.on_progress != NULL)
        w->cb.on_progress(w->ctx);
    /* The callback may have closed us or kicked a batch already. */
    service(w);
}

static void became_ready(struct pgw *w)
{
    w->state = PGW_READY;
    w->down = false;
    uv_timer_stop(&w->timer);
    bool first = !w->ever_ready;
    w->ever_ready = true;
    if (first && w->cb.on_ready != NULL)
        w->cb.on_ready(w->ctx);
    else if (!first && w->cb.on_progress != NULL)
        w->cb.on_progress(w->ctx);
    service(w);
}

/* The statement in flight returned all its results. */
static void statement_done(struct pgw *w)
{
    char msg[PGW_ERR_MAX];
    if (w->state == PGW_CHECKING) {
        if (w->cmd_err[0] != '\0') {
            fail(w, w->cmd_class, "%s", w->cmd_err);
            return;
        }
        if (pgm_check_version(w->db_version, msg, sizeof(msg)) != 0) {
            fail(w, PGR_FATAL, "%s", msg);
            return;
        }
        became_ready(w);
        return;
    }
    if (w->cmd_err[0] != '\0') {
        fail(w, w->cmd_class, "cannot write records: %s", w->cmd_err);
        return;
    }
    const char *params[3] = {w->info.collector, w->info.stream, w->mark_last};
    for (;;) {
        w->step++;
        switch (w->step) {
        case STEP_BEGIN: break;
        case STEP_PROGRESS: send_params(w, progress_sql, 2, params); return;
        case STEP_COPY_CALLS:
            if (w->last_seq < 0) {
                fail(w, PGR_FATAL, "cannot write records: the progress row was not returned");
                return;
            }
            if (encode_batch(w) != 0)
                return;
            if (w->batch_calls == 0)
                continue;
            send_sql(w, w->copy_sql[0]);
            return;
        case STEP_COPY_SMS:
            if (w->batch_sms == 0)
                continue;
            send_sql(w, w->copy_sql[1]);
            return;
        case STEP_MARK:
            snprintf(w->mark_last, sizeof(w->mark_last), "%" PRIu64, w->info.first_seq + w->batch_n - 1);
            send_params(w, mark_sql, 3, params);
            return;
        case STEP_COMMIT: send_sql(w, "COMMIT"); return;
        case STEP_END: batch_committed(w); return;
        }
    }
}

static void note_error(struct pgw *w, enum pgr_class cls, const char *fmt, ...) SC_PRINTF(3, 4);
static void note_error(struct pgw *w, enum pgr_class cls, const char *fmt, ...)
{
    if (w->cmd_err[0] != '\0')
        return; /* the first error is the cause; later ones follow from it */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->cmd_err, sizeof(w->cmd_err), fmt, ap);
    va_end(ap);
    w->cmd_class = cls;
}

/* Whether a failed result is worth a retry: by its SQLSTATE; without one it
 * is libpq's own, which is transient only when the connection went with it. */
static enum pgr_class result_class(const struct pgw *w, const PGresult *res)
{
    const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (sqlstate == NULL)
        return PQstatus(w->conn) == CONNECTION_BAD ? PGR_TRANSIENT : PGR_FATAL;
    return pgr_classify_sqlstate(sqlstate);
}

/* The progress statement's row: last_seq, then set_config's echo. */
static void progress_result(struct pgw *w, const PGresult *res)
{
    const char *v = PQntuples(res) == 1 && PQnfields(res) >= 1 && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0') {
        note_error(w, PGR_FATAL, "unexpected progress row");
        return;
    }
    w->last_seq = n < 0 ? 0 : (int64_t)n;
    known_note(w, &w->info, (uint64_t)w->last_seq);
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
            note_error(w, result_class(w, res), "%s", line);
    } else if (st == PGRES_COPY_IN) {
        w->copying = true;
        w->copy_off = 0;
    } else if (st == PGRES_TUPLES_OK && w->step == STEP_PROGRESS) {
        progress_result(w, res);
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
                note_error(w, PGR_FATAL, "COPY stored %s rows of %zu", rows[0] ? rows : "?", want);
        } else if (w->step == STEP_MARK && strcmp(PQcmdTuples(res), "1") != 0) {
            note_error(w, PGR_FATAL, "progress row not updated (%s)", tag);
        } else if (w->step == STEP_COMMIT && strcmp(tag, "COMMIT") != 0) {
            /* COMMIT of a failed transaction "succeeds" as ROLLBACK. */
            note_error(w, PGR_FATAL, "transaction was rolled back (%s)", tag);
        }
    } else {
        note_error(w, result_class(w, res), "%s", pgm_result_error(res, line, sizeof(line)));
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
            fail(w, PGR_TRANSIENT, "connection lost: %s", line);
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
        fail(w, PGR_TRANSIENT, "cannot watch the database socket: %s", uv_strerror(rc));
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
            fail(w, PGR_TRANSIENT, "connection lost: %s", uv_strerror(status));
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

static bool key_ok(const char *s) { return s != NULL && s[0] != '\0' && strlen(s) < SPOOL_KEY_MAX; }

int pgw_start(struct pgw **out, uv_loop_t *loop, const char *conninfo, struct record_queue *q,
              const struct pgw_options *opts, const struct pgw_callbacks *cb, void *ctx, char *err, size_t errlen)
{
    *out = NULL;
    if (loop == NULL || conninfo == NULL || q == NULL || opts == NULL || cb == NULL || opts->batch_max == 0 ||
        !key_ok(opts->collector) || !key_ok(opts->stream)) {
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
    w->spool = opts->spool;
    w->batch_max = opts->batch_max;
    snprintf(w->collector, sizeof(w->collector), "%s", opts->collector);
    snprintf(w->stream, sizeof(w->stream), "%s", opts->stream);
    w->retry_min_ms = opts->retry_min_ms ? opts->retry_min_ms : PGW_RETRY_MIN_MS;
    w->retry_max_ms = opts->retry_max_ms ? opts->retry_max_ms : PGW_RETRY_MAX_MS;
    w->batch_timeout_ms = opts->batch_timeout_ms ? opts->batch_timeout_ms : PGW_BATCH_TIMEOUT_MS;
    w->cb = *cb;
    w->ctx = ctx;
    w->poll_fd = -1;
    w->connect_timeout_ms = connect_timeout_ms(conninfo);
    /* A frame the spool takes, no more than a batch, and at most half the
     * queue so that a small queue still spills before it fills. */
    size_t chunk = q->cap / 2 > 0 ? q->cap / 2 : 1;
    if (chunk > w->batch_max)
        chunk = w->batch_max;
    w->spill_chunk = chunk < SPOOL_BATCH_MAX ? chunk : SPOOL_BATCH_MAX;
    pgcopy_init(&w->copy[0], PGW_COPYBUF_MAX);
    pgcopy_init(&w->copy[1], PGW_COPYBUF_MAX);
    w->conninfo = strdup(conninfo);
    if (w->spool != NULL) {
        w->spool_recs = calloc(SPOOL_BATCH_MAX, sizeof(*w->spool_recs));
        w->spool_ptrs = calloc(SPOOL_BATCH_MAX, sizeof(*w->spool_ptrs));
    }
    if (w->conninfo == NULL || (w->spool != NULL && (w->spool_recs == NULL || w->spool_ptrs == NULL))) {
        snprintf(err, errlen, "database writer: out of memory");
        writer_free(w);
        return -1;
    }
    if (pgcopy_statement(RECORD_CALL, w->copy_sql[0], sizeof(w->copy_sql[0])) != 0 ||
        pgcopy_statement(RECORD_SMS, w->copy_sql[1], sizeof(w->copy_sql[1])) != 0) {
        snprintf(err, errlen, "database writer: COPY statement too long");
        writer_free(w);
        return -1;
    }
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    w->handles = 1;
    *out = w;
    /* From here every failure is reported through the callbacks, like any
     * later connection failure, so the owner has one path for "no database". */
    connect_start(w);
    return 0;
}

void pgw_kick(struct pgw *w)
{
    if (w->closing)
        return;
    if (w->state != PGW_READY) {
        spill(w, false);
        return;
    }
    service(w);
    drive(w);
}

size_t pgw_spill(struct pgw *w)
{
    if (w->closing)
        return 0;
    return spill(w, true);
}

int pgw_busy(const struct pgw *w)
{
    if (w->closing)
        return 0;
    return w->state == PGW_CONNECTING || w->state == PGW_CHECKING || w->state == PGW_BATCH ||
           w->state == PGW_BACKOFF;
}

bool pgw_down(const struct pgw *w) { return w->down; }

uint64_t pgw_spooled(const struct pgw *w) { return w->spool ? spool_get_stats(w->spool)->records_pending : 0; }

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
