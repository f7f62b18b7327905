/* record_queue.h - bounded FIFO of records between the pipeline and a writer.
 *
 * A fixed ring of slots allocated once at init: the queue never grows. The
 * pipeline reserves a slot with rq_push_slot() and fills it in place; a writer
 * reads the oldest records with rq_peek() and removes them with rq_release()
 * only once they are durable (committed or written), so a failed batch can be
 * sent again.
 *
 * Full queue: rq_push_slot() returns NULL and counts nothing itself; the caller
 * decides (a file reader pauses before that can happen, see pipeline.c).
 *
 * Sequence numbers: the records of a queue are numbered 1, 2, 3, ... in push
 * order (rq_seq()), for its whole life. The number is implicit (released +
 * position), so it costs no slot space; it is the record's identity within
 * its stream (stream.h), which is how the writer keeps replays exactly-once.
 */
#ifndef SIPCDR_RECORD_QUEUE_H
#define SIPCDR_RECORD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct record_queue {
    struct record *slots; /* owned, cap entries */
    size_t cap;
    size_t head;  /* index of the oldest record */
    size_t count; /* records held */
    uint64_t pushed;
    uint64_t released;
    size_t high_water; /* largest count seen: the metric for sizing */
};

/* Allocate cap slots. Returns 0 or -ENOMEM / -EINVAL (cap 0). */
int rq_init(struct record_queue *q, size_t cap);
void rq_free(struct record_queue *q);

static inline size_t rq_count(const struct record_queue *q) { return q->count; }
static inline size_t rq_space(const struct record_queue *q) { return q->cap - q->count; }

/* Append one record slot, initialised by record_init(kind); the caller fills
 * it before the next queue call. NULL when the queue is full. */
struct record *rq_push_slot(struct record_queue *q, enum record_kind kind);

/* The i-th oldest record, i < rq_count(q). Valid until it is released. */
const struct record *rq_peek(const struct record_queue *q, size_t i);

/* Sequence number of the i-th oldest record (i <= rq_count(q); i ==
 * rq_count(q) gives the number the next push will get). */
static inline uint64_t rq_seq(const struct record_queue *q, size_t i) { return q->released + (uint64_t)i + 1; }

/* Remove the n oldest records (n <= rq_count(q)). */
void rq_release(struct record_queue *q, size_t n);

#endif
