/* spool.h - durable, append-only spool of record batches on disk.
 *
 * When PostgreSQL is down, failing or slower than the input, batches go here
 * and are replayed in order when it is back; a spool left by an earlier run
 * is replayed at start.
 *
 * Layout: DIR/spool-NNNNNNNNNNNNNNNN.seg segment files, each a sequence of
 * frames  "SPL1" | u32 length | u32 CRC32C(payload) | payload,  payload =
 * u64 batch sequence | u32 record count | encoded records (record_codec.h).
 * DIR/ack holds the position of the oldest unacknowledged frame, replaced
 * atomically (write + rename) after each acknowledgement.
 *
 * Crash safety: a frame is either whole and valid or it is a torn tail. At
 * open, every segment is scanned; the first invalid frame of the newest
 * segment and everything after it is a torn tail: counted and truncated. An
 * invalid frame inside an older segment is corruption: counted, and the rest
 * of that segment is skipped. A batch replayed after a crash between its
 * COMMIT and its acknowledgement is recognised by the database through its
 * batch sequence (see storage/pg_writer.c), so replay never duplicates rows.
 *
 * Bounded: the segments on disk never exceed max_bytes. An append that would
 * pass the limit is refused with -ENOSPC and counted; the caller applies its
 * documented policy (pause input, or count and drop).
 */
#ifndef SIPCDR_SPOOL_H
#define SIPCDR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct spool;

struct spool_limits {
    uint64_t max_bytes;     /* all segments together */
    uint64_t segment_bytes; /* a new segment starts past this size */
    int fsync_each;         /* fsync after every append and acknowledgement */
};

struct spool_stats {
    uint64_t batches_written, records_written;
    uint64_t batches_acked;
    uint64_t batches_pending; /* written, not yet acknowledged */
    uint64_t bytes_on_disk;
    uint64_t torn_tails, torn_bytes; /* found at open and truncated */
    uint64_t corrupt_frames;         /* bad frames inside older segments, skipped */
    uint64_t refused_full;           /* appends refused at max_bytes */
};

/* Open (creating DIR if needed) and scan what an earlier run left.
 * Returns 0 or a negative errno with err filled. */
int spool_open(struct spool **out, const char *dir, const struct spool_limits *lim, char *err, size_t errlen);
void spool_close(struct spool *s);

/* Append one batch of n records. Returns 0, -ENOSPC (limit: nothing was
 * written) or another negative errno (err filled). */
int spool_append(struct spool *s, uint64_t batch_seq, const struct record *const *recs, size_t n, char *err,
                 size_t errlen);

/* The oldest unacknowledged batch: its sequence and up to cap records into
 * out (*n receives the count). Returns 0, -ENOENT when the spool is empty,
 * -EOVERFLOW when the batch holds more than cap records. */
int spool_peek(struct spool *s, uint64_t *batch_seq, struct record *out, size_t cap, size_t *n);

/* The batch spool_peek() returned is durable elsewhere: skip it for good.
 * Returns 0 or a negative errno. */
int spool_ack(struct spool *s);

const struct spool_stats *spool_get_stats(const struct spool *s);

/* CRC32C (Castagnoli), exposed for tests. */
uint32_t spool_crc32c(const void *data, size_t len);

#endif
