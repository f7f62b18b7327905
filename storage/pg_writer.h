/* pg_writer.h - records from a record_queue -> PostgreSQL, on a libuv loop.
 *
 * libpq in non-blocking mode, driven by a uv_poll on the connection's socket:
 * the loop never blocks on the database. The writer connects, checks that the
 * schema version equals pgm_expected_version(), then writes batches:
 *
 *   BEGIN; COPY calls ... FROM STDIN; COPY sms ... FROM STDIN; COMMIT
 *
 * (a COPY is skipped when the batch has no record of that kind). One batch is
 * in flight at a time: the oldest up to batch_max records of the queue, fewer
 * when their COPY text would pass the writer's buffer ceiling. Records stay
 * in the queue while their batch is in flight, and are rq_release()d only
 * after COMMIT succeeded; the writer never changes the queue otherwise, and
 * the producer only appends to it meanwhile.
 *
 * Failure: any error (cannot connect, authentication, schema mismatch, COPY
 * rejected, read-only database, connection lost) ends the writer: on_error
 * gets one line, the connection is closed, and the records of the failed
 * batch are still in the queue. This slice does not reconnect or spool; the
 * states are kept separate (connect, check, idle, batch) so that a retry
 * after a delay and a spool can be added without changing this interface.
 *
 * Callbacks run on the loop, never from inside pgw_start(), pgw_kick() or
 * pgw_close(). From any callback the owner may call pgw_kick() or
 * pgw_close(); after pgw_close() no callback but closed() comes. After
 * on_error the writer is inert but still holds its uv handles: the owner
 * calls pgw_close() (from the callback or later) before closing the loop.
 */
#ifndef SIPCDR_PG_WRITER_H
#define SIPCDR_PG_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "record_queue.h"

struct pgw;

struct pgw_callbacks {
    void (*on_ready)(void *ctx);                  /* connected and schema verified; once */
    void (*on_progress)(void *ctx);               /* a batch committed: queue space was freed */
    void (*on_error)(void *ctx, const char *msg); /* fatal: cannot continue; msg is one line,
                                                     valid during the call; at most once */
};

struct pgw_stats {
    uint64_t batches;       /* committed */
    uint64_t rows_calls;    /* committed */
    uint64_t rows_sms;
    uint64_t last_batch_us; /* BEGIN sent to COMMIT confirmed, last batch */
};

/* Connection time limit when conninfo sets no connect_timeout. libpq does not
 * apply connect_timeout to non-blocking connects, so the writer does, and it
 * covers the schema check too. */
#define PGW_CONNECT_TIMEOUT_S 30

/* Ceiling of each COPY buffer (calls, sms): a batch is cut short rather than
 * grow past it. Bounds the writer's memory whatever batch_max says. */
#define PGW_COPYBUF_MAX (8u * 1024 * 1024)

/* Start connecting to conninfo. q (not owned) must outlive the writer;
 * batch_max >= 1; cb (copied) and ctx are used for every callback; any
 * callback may be NULL. Returns 0 with *out set, then on_ready or on_error
 * follows on the loop. Returns -1 with err filled (bad conninfo, bad
 * arguments, out of memory) and *out NULL; nothing was started. err never
 * holds the conninfo, which may carry a password. */
int pgw_start(struct pgw **out, uv_loop_t *loop, const char *conninfo, struct record_queue *q, size_t batch_max,
              const struct pgw_callbacks *cb, void *ctx, char *err, size_t errlen);

/* Records were pushed: if ready and no batch is in flight, send the oldest up
 * to batch_max now. Otherwise nothing: right after on_ready and after each
 * commit the writer starts the next batch by itself while the queue holds
 * records, so a kick is never lost. */
void pgw_kick(struct pgw *w);

/* Nonzero while connecting, checking the schema, or a batch is in flight;
 * zero when ready and idle, and after a failure. */
int pgw_busy(const struct pgw *w);

/* Stop: an in-flight batch is abandoned (the server rolls it back; its records
 * stay in the queue). Closes the connection and the uv handles; w is freed
 * once they are closed, then closed(ctx) runs (closed may be NULL). Do not use
 * w after this call. */
void pgw_close(struct pgw *w, void (*closed)(void *ctx));

/* Counters; valid until pgw_close(). */
const struct pgw_stats *pgw_get_stats(const struct pgw *w);

#endif
