/* pg_writer.h - records from a record_queue (and a spool) -> PostgreSQL,
 * exactly once, on a libuv loop.
 *
 * libpq in non-blocking mode, driven by a uv_poll on the connection's socket:
 * the loop never blocks on the database. The writer connects, checks that the
 * schema version equals pgm_expected_version(), then writes batches. A batch
 * is a contiguous run of one stream's records, [first, last] by sequence
 * number (rq_seq(), stream.h), written in one transaction:
 *
 *   BEGIN
 *   upsert sipcdr_progress (collector, stream), locking the row; read last_seq
 *   COPY calls / COPY sms  - only the records with seq > last_seq
 *   UPDATE sipcdr_progress SET last_seq = greatest(last_seq, last)
 *   COMMIT
 *
 * So a batch that reaches the database twice - replayed from the spool after
 * a crash between COMMIT and its acknowledgement, or produced again because
 * the same input was read again - adds no row the second time; two writers
 * on one stream take turns on the row lock. The rows' collector column is
 * filled from the transaction setting sipcdr.collector, which the upsert sets
 * (sql/002_exactly_once.sql). A COPY is skipped when it has no rows.
 *
 * Sources, oldest first: the spool (batches an earlier connection or run
 * could not write), then the queue. One batch is in flight at a time: the
 * oldest spool batch, or the oldest up to batch_max queued records, fewer
 * when their COPY text would pass the writer's buffer ceiling. Queued records
 * stay in the queue while their batch is in flight and are rq_release()d only
 * after COMMIT; a spool batch is acknowledged (spool_ack) only after COMMIT.
 *
 * Failures come in two kinds (pg_retry.h):
 * - transient (cannot connect, connection lost, server restarting or
 *   read-only, serialization failure, a batch not committed within
 *   batch_timeout_ms): the connection is dropped, on_retry reports it, and
 *   the writer connects again after a delay that starts at retry_min_ms and
 *   doubles up to retry_max_ms (reset by a commit). It never gives up.
 * - fatal (authentication, unknown role or database, schema missing, older or
 *   newer, a record the server rejects): on_error once, and the writer stops.
 * The records of a failed batch are still in the queue or the spool either way.
 *
 * Spool (optional): while the database is down (a transient failure since it
 * was last ready), queued records move to the spool in frames of up to
 * min(batch_max, SPOOL_BATCH_MAX, queue size / 2) records, so the queue frees
 * and input can go on; the rest of the queue moves at each retry and on
 * pgw_spill(). While the database is up but the spool is still draining,
 * records move once the queue is half full. Records never move while a queue
 * batch is in flight: within a stream the spool always holds older records
 * than the queue, which is what keeps batches committing in sequence order.
 * An append the spool refuses (full, disk error) leaves the records in the
 * queue (counted): the producer sees a full queue and pauses.
 *
 * Callbacks run on the loop, never from inside pgw_start(), pgw_kick(),
 * pgw_spill() or pgw_close(). From any callback the owner may call
 * pgw_kick(), pgw_spill() or pgw_close(); after pgw_close() no callback but
 * closed() comes. After on_error the writer is inert but still holds its uv
 * handles: the owner calls pgw_close() (from the callback or later) before
 * closing the loop. Nothing here logs.
 */
#ifndef SIPCDR_PG_WRITER_H
#define SIPCDR_PG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "record_queue.h"
#include "spool.h"

struct pgw;

struct pgw_callbacks {
    /* Connected and schema verified, the first time. */
    void (*on_ready)(void *ctx);
    /* Something the owner may wait for happened: queue space was freed (a
     * batch committed, records moved to the spool), a spool batch committed,
     * or the writer is ready again after a reconnect. */
    void (*on_progress)(void *ctx);
    /* A transient failure: msg (one line, valid during the call) says what;
     * the next attempt starts in delay_ms. Once per failure. */
    void (*on_retry)(void *ctx, const char *msg, uint64_t delay_ms);
    /* Fatal: cannot continue; msg is one line, valid during the call; at most
     * once. */
    void (*on_error)(void *ctx, const char *msg);
};

struct pgw_options {
    size_t batch_max;      /* records per batch at most, >= 1 */
    const char *collector; /* who writes, 1..SPOOL_KEY_MAX-1 bytes; copied */
    const char *stream;    /* the queue's stream, 1..SPOOL_KEY_MAX-1 bytes; copied */
    struct spool *spool;   /* NULL: no spool. Not owned; must outlive the writer */
    uint64_t retry_min_ms; /* 0: PGW_RETRY_MIN_MS */
    uint64_t retry_max_ms; /* 0: PGW_RETRY_MAX_MS; below retry_min_ms: retry_min_ms */
    uint64_t batch_timeout_ms; /* 0: PGW_BATCH_TIMEOUT_MS */
};

#define PGW_RETRY_MIN_MS 100
#define PGW_RETRY_MAX_MS 30000
#define PGW_BATCH_TIMEOUT_MS 60000

struct pgw_stats {
    uint64_t batches;         /* committed */
    uint64_t rows_calls;      /* committed */
    uint64_t rows_sms;
    uint64_t records_skipped; /* committed before (an earlier run or connection): not written again */
    uint64_t last_batch_us;   /* BEGIN sent to COMMIT confirmed, last batch */
    uint64_t failures;        /* transient failures */
    uint64_t reconnects;      /* connection attempts after a transient failure */
    uint64_t backoff_ms;      /* the current retry delay; 0 after a commit */
    uint64_t records_spooled;   /* moved from the queue to the spool */
    uint64_t records_unspooled; /* of spool batches, committed or found committed */
    uint64_t spool_refused;   /* spool appends refused (full, disk error): records stayed queued */
    uint64_t spool_ack_errors; /* acknowledgements not written: the batch replays, harmlessly */
};

/* Connection time limit when conninfo sets no connect_timeout. libpq does not
 * apply connect_timeout to non-blocking connects, so the writer does, and it
 * covers the schema check too. */
#define PGW_CONNECT_TIMEOUT_S 30

/* Ceiling of each COPY buffer (calls, sms): a batch is cut short rather than
 * grow past it. Bounds the writer's memory whatever batch_max says. */
#define PGW_COPYBUF_MAX (8u * 1024 * 1024)

/* Start connecting to conninfo. q (not owned) must outlive the writer; its
 * records belong to opts->stream; cb and opts are copied, ctx is passed to
 * every callback; any callback may be NULL. Returns 0 with *out set, then
 * on_ready, on_retry or on_error follows on the loop. Returns -1 with err
 * filled (bad conninfo, bad options, out of memory) and *out NULL; nothing
 * was started. err never holds the conninfo, which may carry a password. */
int pgw_start(struct pgw **out, uv_loop_t *loop, const char *conninfo, struct record_queue *q,
              const struct pgw_options *opts, const struct pgw_callbacks *cb, void *ctx, char *err, size_t errlen);

/* Records were pushed: if ready and no batch is in flight, send the next
 * batch now; while the database is down, move full frames to the spool.
 * Otherwise nothing: right after on_ready, after each commit and after a
 * reconnect the writer goes on by itself while there is work, so a kick is
 * never lost. No callback runs from here: the owner looks at the queue again
 * after the call. */
void pgw_kick(struct pgw *w);

/* No more records are coming soon (end of input): while the database is
 * down, move every queued record to the spool now instead of at the next
 * retry. Returns the number moved (0 without a spool, while the database is
 * up, or when the spool refuses). */
size_t pgw_spill(struct pgw *w);

/* Nonzero while connecting, checking the schema, waiting to retry, or a batch
 * is in flight; zero when ready and idle, and after a fatal failure. */
int pgw_busy(const struct pgw *w);

/* True after a transient failure until the database is ready again. */
bool pgw_down(const struct pgw *w);

/* Records in the spool not yet committed (0 without a spool). */
uint64_t pgw_spooled(const struct pgw *w);

/* Stop: an in-flight batch is abandoned (the server rolls it back; its records
 * stay in the queue or the spool). Closes the connection and the uv handles;
 * w is freed once they are closed, then closed(ctx) runs (closed may be NULL).
 * Do not use w after this call. */
void pgw_close(struct pgw *w, void (*closed)(void *ctx));

/* Counters; valid until pgw_close(). */
const struct pgw_stats *pgw_get_stats(const struct pgw *w);

#endif
