/* cmd_read.c - one libuv loop drives reading, state and writing.
 *
 * Reading happens in an idle handle: one burst of packets per loop iteration,
 * so the PostgreSQL socket is served between bursts. When the record queue
 * cannot take another burst, reading pauses (the idle handle stops) until
 * the writer commits a batch: a capture file waits for the database, it is
 * never read faster than records can be kept.
 *
 * Phases: WAIT_DB (connecting, schema check) -> READING (files one after the
 * other) -> FLUSHING (calls still open are recorded, end_reason
 * end_of_input) -> DRAINING (the writer empties the queue) -> DONE.
 */
#include "cmd_read.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "capture_file.h"
#include "csv_writer.h"
#include "log.h"
#include "pg_writer.h"
#include "pipeline.h"

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
    enum phase phase;
    int files_ok, files_failed, files_truncated;
    uint64_t written_calls, written_sms;
    bool fatal;
};

static void finish(struct reader *r);

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
    }
}

static bool output_busy(const struct reader *r) { return r->pgw != NULL && pgw_busy(r->pgw); }

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
    size_t space = pipeline_space(&r->pl);
    if (space > burst)
        pipeline_expire(&r->pl, space - burst);
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
    if (rq_count(&r->pl.queue) == 0 && !output_busy(r)) {
        finish(r);
        return;
    }
    if (output_busy(r))
        idle_stop(r); /* on_progress resumes */
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
    r->phase = PH_READING;
    idle_start(r);
}

static void pg_progress(void *ctx)
{
    struct reader *r = ctx;
    const struct pgw_stats *s = pgw_get_stats(r->pgw);
    r->written_calls = s->rows_calls;
    r->written_sms = s->rows_sms;
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
    if (r->pgw != NULL)
        pgw_close(r->pgw, pg_closed);
}

static void log_summary(struct reader *r)
{
    char stats[2048], lost[64] = "";
    pipeline_format_stats(&r->pl, stats, sizeof(stats));
    if (r->fatal) {
        size_t unwritten = rq_count(&r->pl.queue) + dialog_live(&r->pl.dialogs) + sms_live(&r->pl.sms);
        snprintf(lost, sizeof(lost), " records_not_written=%zu", unwritten);
    }
    log_msg(r->fatal ? LOG_ERROR : LOG_INFO,
            "msg=summary files=%d files_failed=%d files_damaged=%d %s calls_written=%llu sms_written=%llu%s",
            r->files_ok, r->files_failed, r->files_truncated, stats, (unsigned long long)r->written_calls,
            (unsigned long long)r->written_sms, lost);
}

int cmd_read(const struct config *cfg, const char *db, const char *csv_dir, char **files, int nfiles)
{
    static struct reader rd; /* large (pipeline stats); one per process */
    struct reader *r = &rd;
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->files = files;
    r->nfiles = nfiles;
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
        static const struct pgw_callbacks cbs = {pg_ready, pg_progress, pg_error};
        r->phase = PH_WAIT_DB;
        if (pgw_start(&r->pgw, &r->loop, db, &r->pl.queue, cfg->batch_max, &cbs, r, err, sizeof(err)) != 0) {
            log_error("msg=\"database error\" err=\"%s\"", err);
            r->pgw = NULL;
            r->fatal = true;
            r->phase = PH_DONE;
        }
    }

    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&r->idle, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&r->loop) != 0)
        log_warn("msg=\"event loop closed with handles open\"");

    log_summary(r);
    pipeline_free(&r->pl);
    return (r->fatal || r->files_failed > 0) ? 1 : 0;
}
