/* record.c - record columns and their text form (see record.h). */
#include "record.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const call_columns[] = {
    "call_id",     "caller",    "callee",   "redirects",   "caller_ip",
    "user_agent",  "invite_time", "ring_time", "answer_time", "end_time",
    "duration_ms", "status",    "disposition", "hangup_by", "end_reason",
};

static const char *const sms_columns[] = {
    "call_id", "sender", "destination", "time", "status", "kind",
};

void record_init(struct record *r, enum record_kind kind)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    if (kind == RECORD_CALL) {
        r->u.call.invite_us = REC_TIME_NONE;
        r->u.call.ring_us = REC_TIME_NONE;
        r->u.call.answer_us = REC_TIME_NONE;
        r->u.call.end_us = REC_TIME_NONE;
        r->u.call.duration_ms = -1;
    } else {
        r->u.sms.time_us = REC_TIME_NONE;
        r->u.sms.kind = SMS_TEXT;
    }
}

const char *const *record_columns(enum record_kind kind, size_t *n)
{
    if (kind == RECORD_CALL) {
        *n = sizeof(call_columns) / sizeof(call_columns[0]);
        return call_columns;
    }
    *n = sizeof(sms_columns) / sizeof(sms_columns[0]);
    return sms_columns;
}

const char *record_table(enum record_kind kind) { return kind == RECORD_CALL ? "calls" : "sms"; }

const char *record_disposition_name(enum call_disposition d)
{
    switch (d) {
    case DISP_ANSWERED: return "answered";
    case DISP_BUSY: return "busy";
    case DISP_CANCELLED: return "cancelled";
    case DISP_NO_ANSWER: return "no_answer";
    case DISP_REJECTED: return "rejected";
    case DISP_REDIRECTED: return "redirected";
    case DISP_FAILED: return "failed";
    case DISP_UNKNOWN: break;
    }
    return "";
}

const char *record_hangup_name(enum call_hangup_by h)
{
    switch (h) {
    case HANGUP_CALLER: return "caller";
    case HANGUP_CALLEE: return "callee";
    case HANGUP_UNKNOWN: return "unknown";
    case HANGUP_NONE: break;
    }
    return "";
}

const char *record_end_reason_name(enum call_end_reason e)
{
    switch (e) {
    case END_BYE: return "bye";
    case END_CANCEL: return "cancel";
    case END_FINAL_RESPONSE: return "final_response";
    case END_END_OF_INPUT: return "end_of_input";
    case END_EXPIRED: return "expired";
    case END_EVICTED: return "evicted";
    case END_NONE: break;
    }
    return "";
}

const char *record_sms_kind_name(enum sms_kind k) { return k == SMS_3GPP ? "3gpp" : "text"; }

char *record_format_time(int64_t us, char *buf, size_t cap)
{
    /* Floor division so that times before 1970 still format correctly. */
    int64_t sec = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, cap, "1970-01-01T00:00:00.000000Z");
        return buf;
    }
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

static const char *str_or_null(const char *s) { return s[0] ? s : NULL; }

static const char *time_or_null(int64_t us, char *buf, size_t cap)
{
    return us == REC_TIME_NONE ? NULL : record_format_time(us, buf, cap);
}

static const char *call_field(const struct call_record *c, size_t col, char *buf, size_t cap)
{
    switch (col) {
    case 0: return str_or_null(c->call_id);
    case 1: return str_or_null(c->caller);
    case 2: return str_or_null(c->callee);
    case 3: return str_or_null(c->redirects);
    case 4: return str_or_null(c->caller_ip);
    case 5: return str_or_null(c->user_agent);
    case 6: return time_or_null(c->invite_us, buf, cap);
    case 7: return time_or_null(c->ring_us, buf, cap);
    case 8: return time_or_null(c->answer_us, buf, cap);
    case 9: return time_or_null(c->end_us, buf, cap);
    case 10:
        if (c->duration_ms < 0)
            return NULL;
        snprintf(buf, cap, "%" PRId64, c->duration_ms);
        return buf;
    case 11:
        if (c->status <= 0)
            return NULL;
        snprintf(buf, cap, "%d", c->status);
        return buf;
    case 12: return str_or_null(record_disposition_name(c->disposition));
    case 13: return str_or_null(record_hangup_name(c->hangup_by));
    case 14: return str_or_null(record_end_reason_name(c->end_reason));
    default: return NULL;
    }
}

static const char *sms_field(const struct sms_record *s, size_t col, char *buf, size_t cap)
{
    switch (col) {
    case 0: return str_or_null(s->call_id);
    case 1: return str_or_null(s->sender);
    case 2: return str_or_null(s->destination);
    case 3: return time_or_null(s->time_us, buf, cap);
    case 4:
        if (s->status <= 0)
            return NULL;
        snprintf(buf, cap, "%d", s->status);
        return buf;
    case 5: return record_sms_kind_name(s->kind);
    default: return NULL;
    }
}

const char *record_format_field(const struct record *r, size_t col, char *buf, size_t cap)
{
    if (r->kind == RECORD_CALL)
        return call_field(&r->u.call, col, buf, cap);
    return sms_field(&r->u.sms, col, buf, cap);
}
