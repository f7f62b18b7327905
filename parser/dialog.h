/* dialog.h - call state: SIP messages in, one call record per call out.
 *
 * A call is keyed by Call-ID and the From-tag of its initial INVITE; a
 * message belongs to it when its From-tag or To-tag equals that tag (the
 * callee's requests carry it in To), so retransmissions and both legs of a
 * proxy make one call. The rules that turn messages into times, status,
 * disposition and hangup side are in docs/records.md; every record is written
 * by one function, dialog.c:finalize(), whatever ended the call.
 *
 * Bounded: at most max_calls live calls. When full, a new call first closes
 * the least recently active call, preferring calls that have already ended;
 * the closed call is recorded (end_reason evicted) and counted.
 */
#ifndef SIPCDR_DIALOG_H
#define SIPCDR_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "record.h"
#include "sesstab.h"
#include "sip_scan.h"

struct dialog_limits {
    size_t max_calls;
    int64_t setup_timeout_us;  /* unanswered call with no activity */
    int64_t max_idle_us;       /* answered call with no activity (missing BYE) */
    int64_t linger_us;         /* ended call kept for retransmissions and the other leg */
};

struct dialog_stats {
    uint64_t created;
    uint64_t recorded;
    uint64_t expired;
    uint64_t evicted;
    uint64_t unmatched;        /* in-dialog messages of no known call */
    uint64_t truncated_fields; /* a value longer than its record column */
    uint64_t uri_errors;       /* a URI osip2 could not parse */
    uint64_t sink_full;        /* record lost because the sink was full (a bug: see pipeline.c) */
};

struct dialog_table {
    struct sesstab tab;
    struct dialog_limits lim;
    struct dialog_stats stats;
    struct record_sink sink;
};

int dialog_init(struct dialog_table *d, const struct dialog_limits *lim, struct record_sink sink);
/* Frees every live call without recording it; flush first to keep them. */
void dialog_free(struct dialog_table *d);

/* Feed one scanned SIP message (any method but MESSAGE) seen in pkt.
 * Records at most one call (an ended or evicted one) into the sink. */
void dialog_on_message(struct dialog_table *d, const struct sip_msg *m, const struct packet *pkt);

/* Record calls whose time is up at now_us, at most max. Returns how many. */
size_t dialog_expire(struct dialog_table *d, int64_t now_us, size_t max);

/* Record up to max live calls as they stand (end of input). Returns the
 * number of calls still live afterwards. */
size_t dialog_flush(struct dialog_table *d, size_t max);

static inline size_t dialog_live(const struct dialog_table *d) { return d->tab.count; }

#endif
