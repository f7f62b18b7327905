/* pipeline.h - the stage order, from a captured frame to records.
 *
 *   frame_decode -+-----------------------------+- UDP -> [HEP] -> privacy_cut -+
 *                 \- fragment -> ipdefrag ------/                                |
 *                                                \- TCP -> tcpreasm (cuts bodies) -+-> sip_scan
 *   sip_scan -> dialog / sms -> record_queue
 *
 * Pure and synchronous: no event loop and no I/O, so tests can drive it with
 * frames. Every frame that does not become a SIP message is counted under
 * one reason. Time is packet time: now_us is the latest packet time seen.
 *
 * Queue contract: each frame produces at most one record, so before a burst
 * of n frames the caller makes sure pipeline_space() >= n (cmd_read.c pauses
 * reading otherwise); expiry and flushing take a maximum. A record that
 * still finds the queue full is counted in records_lost, never dropped
 * silently.
 */
#ifndef SIPCDR_PIPELINE_H
#define SIPCDR_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dialog.h"
#include "frame.h"
#include "frame_hep.h"
#include "frame_ipdefrag.h"
#include "frame_tcp.h"
#include "record_queue.h"
#include "sip_scan.h"
#include "sms.h"

struct pipeline_stats {
    uint64_t packets;
    uint64_t frame_skips[FRAME_REASONS_MAX]; /* by enum frame_reason (FRAME_OK unused) */
    uint64_t udp_truncated;   /* datagram cut by the snap length: headers used if complete */
    uint64_t not_sip;         /* UDP payload that is not a SIP message */
    uint64_t hep_packets;     /* SIP messages taken out of HEP */
    uint64_t reassembled;     /* IP datagrams rebuilt from fragments */
    uint64_t hep_skips[HEP_ERRORS_MAX]; /* HEP packets not used, by reason */
    uint64_t sip_messages;    /* framed as SIP (start line seen), malformed ones included */
    uint64_t not_call;        /* REGISTER, OPTIONS, SUBSCRIBE, NOTIFY, PUBLISH: no record yet */
    uint64_t sip_errors[SIP_ERR_COUNT]; /* of sip_messages, malformed and not used, by reason */
    uint64_t requests[SIP_METHOD_COUNT];
    uint64_t responses[7];    /* by class: [1] 1xx ... [6] 6xx */
    uint64_t body_bytes_wiped;
    struct frame_sctp_counts sctp; /* DATA chunks taken out of SCTP packets, and what was skipped */
    uint64_t records_lost;    /* queue full when a record was due (should stay 0) */
};

struct pipeline {
    const struct config *cfg;
    struct record_queue queue;
    struct dialog_table dialogs;
    struct sms_table sms;
    struct ipdefrag defrag;
    struct tcpreasm tcp;
    int64_t now_us;
    struct pipeline_stats st;
    uint8_t inflate_buf[65536]; /* compressed HEP payloads; wiped after each use */
};

/* Returns 0, or -1 with err filled. */
int pipeline_init(struct pipeline *p, const struct config *cfg, char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

/* One captured frame of link type dlt; data is writable (privacy cut). */
void pipeline_on_frame(struct pipeline *p, int dlt, int64_t ts_us, uint8_t *data, size_t caplen, size_t wirelen);

/* Record calls and SMS whose time is up; at most max records. */
size_t pipeline_expire(struct pipeline *p, size_t max);

/* End of input: record up to max live calls and SMS. Returns how many are
 * still live. */
size_t pipeline_flush(struct pipeline *p, size_t max);

static inline size_t pipeline_space(const struct pipeline *p) { return rq_space(&p->queue); }

/* One logfmt fragment with every counter (k=v ...), for the summary line. */
void pipeline_format_stats(const struct pipeline *p, char *buf, size_t cap);

#endif
