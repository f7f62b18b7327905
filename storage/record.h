/* record.h - the records sipcdr produces: calls and SMS.
 *
 * Records are plain values with bounded, NUL-terminated strings so that they
 * can be copied into queue slots (and later spool frames) without pointers.
 * A string that did not fit is truncated and the truncation is counted by the
 * producer. Times are microseconds since the Unix epoch (UTC), taken from the
 * packets; REC_TIME_NONE means unknown.
 *
 * The column lists below are the public contract (README, docs/records.md):
 * columns may be added, never renamed or repurposed. The CSV writer and the
 * PostgreSQL COPY writer both format through record_format_field(), so the two
 * outputs cannot drift apart.
 */
#ifndef SIPCDR_RECORD_H
#define SIPCDR_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_TIME_NONE INT64_MIN

#define REC_CALLID_MAX 256 /* Call-ID; longer ones are truncated and counted */
#define REC_NUMBER_MAX 128 /* user part of a URI, as signalled */
#define REC_IP_MAX 48      /* textual IPv4 / IPv6 address */
#define REC_UA_MAX 256     /* User-Agent */
#define REC_REDIRECTS_MAX 512

enum record_kind {
    RECORD_CALL = 1,
    RECORD_SMS = 2,
};

enum call_disposition {
    DISP_UNKNOWN = 0, /* no final outcome known (e.g. open at end of input) */
    DISP_ANSWERED,
    DISP_BUSY,
    DISP_CANCELLED,
    DISP_NO_ANSWER,
    DISP_REJECTED,
    DISP_REDIRECTED,
    DISP_FAILED,
};

enum call_hangup_by {
    HANGUP_NONE = 0,    /* no BYE seen: empty cell */
    HANGUP_UNKNOWN,     /* a BYE whose From-tag matches neither side */
    HANGUP_CALLER,
    HANGUP_CALLEE,
};

enum call_end_reason {
    END_NONE = 0,
    END_BYE,            /* answered call ended by BYE */
    END_CANCEL,         /* unanswered call cancelled by the caller */
    END_FINAL_RESPONSE, /* unanswered call ended by a >= 300 final response */
    END_END_OF_INPUT,   /* still open when the input ended */
    END_EXPIRED,        /* no activity for longer than the configured limit */
    END_EVICTED,        /* call table full: the least recently active call was closed */
};

enum sms_kind {
    SMS_TEXT = 1,
    SMS_3GPP = 2,
};

struct call_record {
    char call_id[REC_CALLID_MAX];
    char caller[REC_NUMBER_MAX];
    char callee[REC_NUMBER_MAX];
    char redirects[REC_REDIRECTS_MAX]; /* ';'-joined, ordered, de-duplicated */
    char caller_ip[REC_IP_MAX];
    char user_agent[REC_UA_MAX];
    int64_t invite_us;
    int64_t ring_us;
    int64_t answer_us;
    int64_t end_us;
    int64_t duration_ms; /* -1: unknown */
    int status;          /* 0: unknown */
    enum call_disposition disposition;
    enum call_hangup_by hangup_by;
    enum call_end_reason end_reason;
};

struct sms_record {
    char call_id[REC_CALLID_MAX];
    char sender[REC_NUMBER_MAX];
    char destination[REC_NUMBER_MAX];
    int64_t time_us;
    int status; /* 0: no final response seen */
    enum sms_kind kind;
};

struct record {
    enum record_kind kind;
    union {
        struct call_record call;
        struct sms_record sms;
    } u;
};

/* Where state machines put finished records: slot() returns a record
 * initialised for kind, to be filled before the next call, or NULL when the
 * destination is full (the producer counts the drop). */
struct record_sink {
    struct record *(*slot)(void *ctx, enum record_kind kind);
    void *ctx;
};

/* Initialise a record of the given kind: empty strings, unknown times. */
void record_init(struct record *r, enum record_kind kind);

/* Column names of a kind, in output order; *n receives the count. Static. */
const char *const *record_columns(enum record_kind kind, size_t *n);

/* The SQL table that holds a kind ("calls", "sms"). Static. */
const char *record_table(enum record_kind kind);

/* Format column col of r as text into buf (cap >= REC_FIELD_MAX).
 * Returns buf, or NULL when the value is unknown (empty CSV cell, SQL NULL). */
#define REC_FIELD_MAX 600
const char *record_format_field(const struct record *r, size_t col, char *buf, size_t cap);

const char *record_disposition_name(enum call_disposition d); /* "" for unknown */
const char *record_hangup_name(enum call_hangup_by h);        /* "" for none */
const char *record_end_reason_name(enum call_end_reason e);   /* "" for none */
const char *record_sms_kind_name(enum sms_kind k);

/* Format microseconds since the epoch as 2016-12-02T10:41:21.070298Z.
 * cap must be >= 32. Returns buf. */
char *record_format_time(int64_t us, char *buf, size_t cap);

#endif
