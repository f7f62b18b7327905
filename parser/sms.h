/* sms.h - SIP MESSAGE transactions in, one SMS record each out.
 *
 * A MESSAGE is keyed by Call-ID, From-tag and CSeq number: retransmissions
 * and the second proxy leg make one record. The record holds who sent it to
 * whom, when, and the final response code; never a byte of the body, which
 * the privacy cut wiped before this module ran.
 *
 * Bounded: at most max_sms transactions in flight; when full, the oldest is
 * recorded as it stands (status empty if no final response yet) and counted.
 */
#ifndef SIPCDR_SMS_H
#define SIPCDR_SMS_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "record.h"
#include "sesstab.h"
#include "sip_scan.h"

struct sms_limits {
    size_t max_sms;
    int64_t pending_us; /* no final response: give up after this (RFC 3261 Timer F = 32 s) */
    int64_t linger_us;  /* final response seen: absorb retransmissions this long */
};

struct sms_stats {
    uint64_t created;
    uint64_t recorded;
    uint64_t no_response; /* recorded without a final response */
    uint64_t evicted;
    uint64_t unmatched; /* MESSAGE responses of no known request */
    uint64_t truncated_fields;
    uint64_t uri_errors;
    uint64_t sink_full;
};

struct sms_table {
    struct sesstab tab;
    struct sms_limits lim;
    struct sms_stats stats;
    struct record_sink sink;
};

int sms_init(struct sms_table *t, const struct sms_limits *lim, struct record_sink sink);
void sms_free(struct sms_table *t); /* drops live entries unrecorded */

/* Feed a MESSAGE request or a response whose CSeq method is MESSAGE. */
void sms_on_message(struct sms_table *t, const struct sip_msg *m, const struct packet *pkt);

size_t sms_expire(struct sms_table *t, int64_t now_us, size_t max);
size_t sms_flush(struct sms_table *t, size_t max); /* returns entries still live */
static inline size_t sms_live(const struct sms_table *t) { return t->tab.count; }

#endif
