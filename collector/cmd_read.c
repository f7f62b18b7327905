/* cmd_read.c - one libuv loop drives reading, state and writing.
 *
 * Reading happens in an idle handle: one burst of packets per loop iteration,
 * so the PostgreSQL socket is served between bursts. When the record queue
 * cannot take another burst, reading pauses (the idle handle stops) until
 * the writer commits a batch or moves records to the spool: a capture file
 * waits for the database, it is never read faster than records can be kept.
 *
 * Phases: WAIT_DB (connecting, schema check) -> READING (files one after the
 * other) -> FLUSHING (calls still open are recorded, end_reason
 * end_of_input) -> DRAINING (the writer empties the queue and the spool) ->
 * DONE.
 *
 * Exactly once (docs/storage.md): the records of one import form a stream
 * whose key is a hash of the input files and of the settings that shape the
 * records (stream.h), and each record's number in it is its place in the
 * queue. Reading the same files again after a crash therefore produces the
 * same records with the same numbers, and the writer skips those the
 * database already has. For that, which records come out must not depend on
 * how fast the database is: expiry after a burst takes a fixed number of
 * records (one burst's worth), never "whatever the queue has room for".
 *
 * The database being away: before it was ever reached, without a spool, a
 * failure ends the import at once (most likely a wrong host or port, and
 * there is nowhere to keep records anyway). With a spool, reading goes on
 * into it. Once reached, the writer waits out any transient failure: reading
 * pauses when the queue (and the spool) are full, and goes on when the
 * database is back. The import ends when every record is committed, or with
 * --spool-ok as soon as every record is committed or in the spool.
 */
#include "cmd_read.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "capture_file.h"
#include "csv_writer.h"
#include "log.h"
#include "pg_writer.h"
#include "pipeline.h"
#include "spool.h"
#include "stream.h"

/* A retry is logged as a warning when its text changed or this long after
 * the last warning; in between at debug level, so a long outage is a line
 * every half minute, not one per attempt. */
#define RETRY_LOG_EVERY_NS (30ULL * 1000000000)

enum phase { PH_WAIT_DB, PH_READING, PH_FLUSHING, PH_DRAINING, PH_DONE };

struct reader {
    uv_loop_t loop;
    uv_idle_t idle;
    const struct config *cfg;
    struct pipeline pl;
    char **files;
    int nfiles, next;
    struct capture_file *cf;
    const char *cur_path;
    struct csv_writer *csv;
    struct pgw *pgw;
    struct spool *spool;
    bool spool_ok;     /* --spool-ok: done when every record is committed or spooled */
    bool db_reached;   /* the writer was ready at least once */
    bool db_away;      /* a retry was logged and the database not seen back yet */
    uint64_t retry_logged_ns;
    char retry_msg[256];
    uint64_t refusals_seen; /* spool refusals already accounted for */
    uint64_t refusal_logged_ns;
    struct pgw_stats wstats; /* the writer's, kept when it closes */
    uint64_t spooled_at_end;
    enum phase phase;
    bool expired_all; /* FLUSHING: every timed-out call and SMS recorded */
    int files_ok, files_failed, files_truncated;
    uint64_t written_calls, written_sms;
    bool fatal;
};

static void finish(struct reader *r);

/* The spool refused records (full, or the disk failed): they stay queued and
 * reading pauses. Never silent, but at most a line every RETRY_LOG_EVERY_NS;
 * the summary has the count. */
static void note_spool_refusals(struct reader *r)
{
    if (r->pgw == NULL || r->spool == NULL)
        return;
    uint64_t n = pgw_get_stats(r->pgw)->spool_refused, now = uv_hrtime();
    if (n == r->refusals_seen)
        return;
    r->refusals_seen = n;
    if (r->refusal_logged_ns != 0 && now - r->refusal_logged_ns < RETRY_LOG_EVERY_NS)
        return;
    r->refusal_logged_ns = now;
    log_warn("msg=\"spool full or unwritable: reading waits for the database\" spool_bytes=%llu refusals=%llu",
             (unsigned long long)spool_get_stats(r->spool)->bytes_on_disk, (unsigned long long)n);
}

static void idle_start(struct reader *r);
static void idle_stop(struct reader *r) { uv_idle_stop(&r->idle); }

/* Hand queued records to the writer. CSV writes synchronously and frees the
 * queue at once; PostgreSQL takes a batch if none is in flight. */
static void output_kick(struct reader *r)
{
    if (r->csv != NULL) {
        char err[512];
        while (rq_count(&r->pl.queue) > 0) {
            const struct record *rec = rq_peek(&r->pl.queue, 0);
            if (csv_writer_write(r->csv, rec, err, sizeof(err)) != 0) {
                log_error("msg=\"cannot write CSV\" err=\"%s\"", err);
                r->fatal = true;
                finish(r);
                return;
            }
            if (rec->kind == RECORD_CALL)
                r->written_calls++;
            else
                r->written_sms++;
            rq_release(&r->pl.queue, 1);
        }
    } else if (r->pgw != NULL) {
        pgw_kick(r->pgw);
        note_spool_refusals(r);
    }
}

static void on_frame(void *ctx, int dlt, int64_t ts_us, uint8_t *data, size_t caplen, size_t wirelen)
{
    struct reader *r = ctx;
    pipeline_on_frame(&r->pl, dlt, ts_us, data, caplen, wirelen);
}

/* Open the next input file; false when there is none left. */
static bool open_next(struct reader *r)
{
    while (r->next < r->nfiles) {
        const char *path = r->files[r->next++];
        char err[512];
        r->cf = capture_file_open(path, err, sizeof(err));
        if (r->cf != NULL) {
            r->cur_path = path;
            log_debug("msg=\"reading capture\" file=\"%s\" linktype=%d", path, capture_file_dlt(r->cf));
            return true;
        }
        log_error("msg=\"cannot read capture\" file=\"%s\" err=\"%s\"", path, err);
        r->files_failed++;
    }
    return false;
}

static void read_burst(struct reader *r)
{
    unsigned burst = r->cfg->burst;
    if (pipeline_space(&r->pl) < 2 * (size_t)burst) {
        output_kick(r);
        if (r->phase == PH_DONE)
            return;
        if (pipeline_space(&r->pl) < 2 * (size_t)burst) {
            idle_stop(r); /* resumed by on_progress when a batch commits */
            return;
        }
    }
    if (r->cf == NULL && !open_next(r)) {
        r->phase = PH_FLUSHING;
        return;
    }
    unsigned n;
    char err[512];
    enum capture_status st = capture_file_read(r->cf, burst, on_frame, r, &n, err, sizeof(err));
    if (st != CAPTURE_MORE) {
        if (st == CAPTURE_ERROR) {
            /* The packets before the damage were used; say so and go on. */
            log_warn("msg=\"capture file damaged, rest skipped\" file=\"%s\" err=\"%s\"", r->cur_path, err);
            r->files_truncated++;
        }
        r->files_ok++;
        capture_file_close(r->cf);
        r->cf = NULL;
    }
    /* The burst added at most one record per frame to a queue that had room
     * for two bursts, so one burst's worth of expiries always fits. A fixed
     * number, not the room left, keeps the records and their order the same
     * whatever the database's speed (see the top of this file). The cap by
     * the room left only bites if a burst broke that contract (pipeline.h);
     * then a record renumbered on a rerun is better than one lost now. */
    size_t expire = burst, space = pipeline_space(&r->pl);
    pipeline_expire(&r->pl, expire < space ? expire : space);
    output_kick(r);
}

static void flush_some(struct reader *r)
{
    if (pipeline_space(&r->pl) == 0) {
        output_kick(r);
        if (r->phase == PH_DONE)
            return;
        if (pipeline_space(&r->pl) == 0) {
            idle_stop(r);
            return;
        }
    }
    /* First what had timed out by the last packet, as expired: the budget
     * per burst (read_burst) may have left some. No packet comes between
     * these calls, so chunks of any size give the same records in the same
     * order. */
    if (!r->expired_all) {
        size_t space = pipeline_space(&r->pl);
        r->expired_all = pipeline_expire(&r->pl, space) < space;
        output_kick(r);
        return;
    }
    size_t live = pipeline_flush(&r->pl, pipeline_space(&r->pl));
    output_kick(r);
    if (live == 0 && r->phase != PH_DONE)
        r->phase = PH_DRAINING;
}

static void drain(struct reader *r)
{
    output_kick(r);
    if (r->phase == PH_DONE)
        return;
    if (r->pgw == NULL) {
        if (rq_count(&r->pl.queue) == 0)
            finish(r);
        return;
    }
    /* Nothing more is coming: what the database cannot take now goes to the
     * spool at once, if the owner is content with that. */
    if (r->spool_ok && pgw_down(r->pgw))
        pgw_spill(r->pgw);
    bool queue_empty = rq_count(&r->pl.queue) == 0;
    if (queue_empty && !pgw_busy(r->pgw) && pgw_spooled(r->pgw) == 0) {
        finish(r); /* every record committed */
        return;
    }
    if (queue_empty && r->spool_ok && pgw_down(r->pgw)) {
        finish(r); /* every record committed or spooled */
        return;
    }
    idle_stop(r); /* on_progress or on_retry resumes */
}

static void on_idle(uv_idle_t *h)
{
    struct reader *r = h->data;
    switch (r->phase) {
    case PH_READING: read_burst(r); break;
    case PH_FLUSHING: flush_some(r); break;
    case PH_DRAINING: drain(r); break;
    case PH_WAIT_DB:
    case PH_DONE: idle_stop(r); break;
    }
}

static void idle_start(struct reader *r)
{
    if (r->phase != PH_DONE)
        uv_idle_start(&r->idle, on_idle);
}

static void pg_ready(void *ctx)
{
    struct reader *r = ctx;
    log_debug("msg=\"database ready\"");
    r->db_reached = true;
    if (r->phase == PH_WAIT_DB)
        r->phase = PH_READING;
    idle_start(r);
}

static void pg_progress(void *ctx)
{
    struct reader *r = ctx;
    const struct pgw_stats *s = pgw_get_stats(r->pgw);
    r->written_calls = s->rows_calls;
    r->written_sms = s->rows_sms;
    if (r->db_away && !pgw_down(r->pgw)) {
        r->db_away = false;
        r->retry_logged_ns = 0;
        r->retry_msg[0] = '\0';
        log_info("msg=\"database available again\" failures=%llu spooled=%llu",
                 (unsigned long long)s->failures, (unsigned long long)pgw_spooled(r->pgw));
    }
    idle_start(r);
}

static void pg_retry(void *ctx, const char *msg, uint64_t delay_ms)
{
    struct reader *r = ctx;
    if (!r->db_reached && r->spool == NULL) {
        /* Never reached and nowhere to keep records: say so and stop, the
         * same way as before there were retries. */
        log_error("msg=\"database error\" err=\"%s\"", msg);
        r->fatal = true;
        finish(r);
        return;
    }
    uint64_t now = uv_hrtime();
    bool changed = strncmp(msg, r->retry_msg, sizeof(r->retry_msg) - 1) != 0;
    if (r->retry_logged_ns == 0 || changed || now - r->retry_logged_ns >= RETRY_LOG_EVERY_NS) {
        log_warn("msg=\"database unavailable, retrying\" err=\"%s\" retry_in_ms=%llu queued=%zu spooled=%llu", msg,
                 (unsigned long long)delay_ms, rq_count(&r->pl.queue), (unsigned long long)pgw_spooled(r->pgw));
        r->retry_logged_ns = now;
        snprintf(r->retry_msg, sizeof(r->retry_msg), "%s", msg);
    } else {
        log_debug("msg=\"database unavailable, retrying\" err=\"%s\" retry_in_ms=%llu", msg,
                  (unsigned long long)delay_ms);
    }
    r->db_away = true;
    note_spool_refusals(r);
    if (r->phase == PH_WAIT_DB) {
        log_info("msg=\"reading into the spool until the database is back\"");
        r->phase = PH_READING;
    }
    idle_start(r);
}

static void pg_error(void *ctx, const char *msg)
{
    struct reader *r = ctx;
    log_error("msg=\"database error\" err=\"%s\"", msg);
    r->fatal = true;
    finish(r);
}

static void pg_closed(void *ctx)
{
    struct reader *r = ctx;
    r->pgw = NULL;
}

/* Stop reading, close the output. Reached once, from any phase. */
static void finish(struct reader *r)
{
    if (r->phase == PH_DONE)
        return;
    r->phase = PH_DONE;
    idle_stop(r);
    if (r->cf != NULL) {
        capture_file_close(r->cf);
        r->cf = NULL;
    }
    if (r->csv != NULL) {
        char err[512];
        if (r->fatal) {
            csv_writer_abort(r->csv);
        } else if (csv_writer_close(r->csv, err, sizeof(err)) != 0) {
            log_error("msg=\"cannot write CSV\" err=\"%s\"", err);
            r->fatal = true;
        }
        r->csv = NULL;
    }
    if (r->pgw != NULL) {
        r->wstats = *pgw_get_stats(r->pgw);
        r->spooled_at_end = pgw_spooled(r->pgw);
        pgw_close(r->pgw, pg_closed);
    }
}

static void log_summary(struct reader *r, bool db)
{
    char stats[2048], lost[64] = "", dbstats[256] = "";
    pipeline_format_stats(&r->pl, stats, sizeof(stats));
    if (r->fatal) {
        size_t unwritten = rq_count(&r->pl.queue) + dialog_live(&r->pl.dialogs) + sms_live(&r->pl.sms);
        snprintf(lost, sizeof(lost), " records_not_written=%zu", unwritten);
    }
    if (db) {
        const struct pgw_stats *w = &r->wstats;
        snprintf(dbstats, sizeof(dbstats),
                 " records_skipped=%llu records_spooled=%llu db_failures=%llu spool_refusals=%llu",
                 (unsigned long long)w->records_skipped, (unsigned long long)r->spooled_at_end,
                 (unsigned long long)w->failures, (unsigned long long)w->spool_refused);
    }
    log_msg(r->fatal ? LOG_ERROR : LOG_INFO,
            "msg=summary files=%d files_failed=%d files_damaged=%d %s calls_written=%llu sms_written=%llu%s%s",
            r->files_ok, r->files_failed, r->files_truncated, stats, (unsigned long long)r->written_calls,
            (unsigned long long)r->written_sms, dbstats, lost);
}

/* The settings that shape which records come out of the pipeline, and in
 * which order, as text for the stream key: changing one of them between a
 * crash and the rerun must make a new stream, not renumber the old one. The
 * queue size and batch size do not belong here: they change when records are
 * written, not which. */
static void stream_salt(const struct config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "sipcdr=%s burst=%u hep_port=%u max_calls=%zu setup_timeout=%lld max_idle=%lld call_linger=%lld "
             "max_sms=%zu sms_pending=%lld sms_linger=%lld",
             SIPCDR_VERSION, cfg->burst, cfg->hep_port, cfg->max_calls, (long long)cfg->setup_timeout_us,
             (long long)cfg->max_idle_us, (long long)cfg->call_linger_us, cfg->max_sms, (long long)cfg->sms_pending_us,
             (long long)cfg->sms_linger_us);
}

/* storage.collector, else the host name. */
static void collector_name(const struct config *cfg, char *buf, size_t cap)
{
    if (cfg->collector[0] != '\0') {
        snprintf(buf, cap, "%s", cfg->collector);
        return;
    }
    char host[256];
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(buf, cap, "%.*s", (int)(cap > 0 ? cap - 1 : 0), host);
}

/* Open storage.spool_dir and say what an earlier run left in it. 0, or -1
 * after logging why. */
static int open_spool(struct reader *r, const struct config *cfg)
{
    /* Segments of an eighth of the limit: a fully acknowledged segment is
     * deleted whole, so at most about that much of the limit is dead space. */
    uint64_t seg = cfg->spool_max_bytes / 8;
    if (seg < 64 * 1024)
        seg = 64 * 1024;
    if (seg > 64ULL * 1024 * 1024)
        seg = 64ULL * 1024 * 1024;
    struct spool_limits lim = {cfg->spool_max_bytes, seg, cfg->spool_fsync};
    char err[512];
    if (spool_open(&r->spool, cfg->spool_dir, &lim, err, sizeof(err)) != 0) {
        log_error("msg=\"cannot open spool\" err=\"%s\"", err);
        return -1;
    }
    const struct spool_stats *st = spool_get_stats(r->spool);
    if (st->torn_tails > 0)
        log_warn("msg=\"spool: torn tail cut (crash while writing)\" dir=\"%s\" bytes=%llu", cfg->spool_dir,
                 (unsigned long long)st->torn_bytes);
    if (st->corrupt_frames > 0)
        log_error("msg=\"spool: damaged frames skipped, their records are lost\" dir=\"%s\" frames=%llu",
                  cfg->spool_dir, (unsigned long long)st->corrupt_frames);
    if (st->records_pending > 0)
        log_info("msg=\"spool holds records of an earlier run: written first\" dir=\"%s\" records=%llu "
                 "batches=%llu",
                 cfg->spool_dir, (unsigned long long)st->records_pending, (unsigned long long)st->batches_pending);
    return 0;
}

int cmd_read(const struct config *cfg, const char *db, const char *csv_dir, char **files, int nfiles, bool spool_ok)
{
    static struct reader rd; /* large (pipeline stats); one per process */
    struct reader *r = &rd;
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->files = files;
    r->nfiles = nfiles;
    r->spool_ok = spool_ok;
    char err[512];

    if ((size_t)cfg->burst * 2 > cfg->queue_size) {
        log_error("msg=\"storage.queue_size must be at least twice capture.burst\" queue_size=%zu burst=%u",
                  cfg->queue_size, cfg->burst);
        return 1;
    }
    if (pipeline_init(&r->pl, cfg, err, sizeof(err)) != 0) {
        log_error("msg=\"cannot start\" err=\"%s\"", err);
        return 1;
    }
    int rc = uv_loop_init(&r->loop);
    if (rc != 0) {
        log_error("msg=\"cannot start event loop\" err=\"%s\"", uv_strerror(rc));
        pipeline_free(&r->pl);
        return 1;
    }
    uv_idle_init(&r->loop, &r->idle);
    r->idle.data = r;

    if (csv_dir != NULL) {
        r->csv = csv_writer_open(csv_dir, err, sizeof(err));
        if (r->csv == NULL) {
            log_error("msg=\"cannot write CSV\" err=\"%s\"", err);
            r->fatal = true;
            r->phase = PH_DONE;
        } else {
            r->phase = PH_READING;
            idle_start(r);
        }
    } else {
        static const struct pgw_callbacks cbs = {pg_ready, pg_progress, pg_retry, pg_error};
        char salt[512], stream[STREAM_KEY_MAX], collector[CONFIG_COLLECTOR_MAX];
        stream_salt(cfg, salt, sizeof(salt));
        collector_name(cfg, collector, sizeof(collector));
        r->phase = PH_DONE;
        r->fatal = true;
        if (stream_key_files((const char *const *)files, (size_t)nfiles, salt, stream, sizeof(stream), err,
                             sizeof(err)) != 0) {
            log_error("msg=\"cannot start\" err=\"%s\"", err);
        } else if (cfg->spool_dir[0] == '\0' || open_spool(r, cfg) == 0) {
            log_debug("msg=\"stream\" collector=%s stream=%s", collector, stream);
            struct pgw_options o = {
                .batch_max = cfg->batch_max,
                .collector = collector,
                .stream = stream,
                .spool = r->spool,
                .retry_min_ms = (uint64_t)cfg->retry_min_us / 1000,
                .retry_max_ms = (uint64_t)cfg->retry_max_us / 1000,
                .batch_timeout_ms = (uint64_t)cfg->batch_timeout_us / 1000,
            };
            if (pgw_start(&r->pgw, &r->loop, db, &r->pl.queue, &o, &cbs, r, err, sizeof(err)) != 0) {
                log_error("msg=\"database error\" err=\"%s\"", err);
                r->pgw = NULL;
            } else {
                r->phase = PH_WAIT_DB;
                r->fatal = false;
            }
        }
    }

    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&r->idle, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&r->loop) != 0)
        log_warn("msg=\"event loop closed with handles open\"");

    /* Without --spool-ok, records left in the spool mean the import is not
     * done (only a fatal error ends it early, and that is already an error). */
    if (db != NULL && r->spooled_at_end > 0 && !r->spool_ok)
        r->fatal = true;
    log_summary(r, db != NULL);
    spool_close(r->spool);
    pipeline_free(&r->pl);
    return (r->fatal || r->files_failed > 0) ? 1 : 0;
}
