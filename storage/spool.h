/* spool.h - durable, append-only spool of record batches on disk.
 *
 * When PostgreSQL is down, failing or slower than the input, batches go here
 * and are replayed in order when it is back; a spool left by an earlier run
 * is replayed at start.
 *
 * Layout: DIR/spool-NNNNNNNNNNNNNNNN.seg segment files, each a sequence of
 * frames  "SPL2" | u32 length | u32 CRC32C(payload) | payload,  payload =
 * u64 first record sequence | u32 record count | u8 length + collector |
 * u8 length + stream | encoded records (record_codec.h). DIR/ack holds the
 * position of the oldest unacknowledged frame, replaced atomically (write +
 * rename) after each acknowledgement. DIR/lock is held (flock) while a spool
 * is open, so two processes never share one directory. ("SPL1" frames, with
 * a bare batch number, were never written by a released sipcdr.)
 *
 * Crash safety: a frame is either whole and valid or it is a torn tail. At
 * open, every segment is scanned; the first invalid frame of the newest
 * segment and everything after it is a torn tail: counted and truncated. An
 * invalid frame inside an older segment is corruption: counted, and the rest
 * of that segment is skipped. A batch replayed after a crash between its
 * COMMIT and its acknowledgement is recognised by the database through its
 * stream and record sequence numbers (see storage/pg_writer.h), so replay
 * never duplicates rows.
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

/* Records per frame at most: a reader always has room for a whole batch with
 * SPOOL_BATCH_MAX records, whatever batch size the writer was configured with. */
#define SPOOL_BATCH_MAX 1024
/* Collector and stream names, with their NUL. */
#define SPOOL_KEY_MAX 128

/* What a batch is: whose records, and where they stand in their stream. */
struct spool_batch_info {
    char collector[SPOOL_KEY_MAX];
    char stream[SPOOL_KEY_MAX];
    uint64_t first_seq; /* the first record's sequence number; the others follow by one */
};

struct spool_limits {
    uint64_t max_bytes;     /* all segments together */
    uint64_t segment_bytes; /* a new segment starts past this size */
    int fsync_each;         /* fsync after every append and acknowledgement */
};

struct spool_stats {
    uint64_t batches_written, records_written;
    uint64_t batches_acked;
    uint64_t batches_pending; /* written, not yet acknowledged */
    uint64_t records_pending; /* records in those batches */
    uint64_t bytes_on_disk;
    uint64_t torn_tails, torn_bytes; /* found at open and truncated */
    uint64_t corrupt_frames;         /* bad frames inside older segments, skipped */
    uint64_t refused_full;           /* appends refused at max_bytes */
};

/* Open (creating DIR if needed), lock it and scan what an earlier run left.
 * Returns 0 or a negative errno with err filled; -EBUSY when another process
 * holds the spool. */
int spool_open(struct spool **out, const char *dir, const struct spool_limits *lim, char *err, size_t errlen);
void spool_close(struct spool *s);

/* Append one batch of n records (1 <= n <= SPOOL_BATCH_MAX; names shorter
 * than SPOOL_KEY_MAX). Returns 0, -ENOSPC (the limit, or the disk is full:
 * nothing was written), -EINVAL (bad arguments, a record too large) or
 * another negative errno; err is filled on every failure. */
int spool_append(struct spool *s, const struct spool_batch_info *info, const struct record *const *recs, size_t n,
                 char *err, size_t errlen);

/* The oldest unacknowledged batch: its info, and its records into out (*n
 * receives the count). Returns 0, -ENOENT when the spool is empty (and only
 * then), -EOVERFLOW when the batch holds more than cap records (never with
 * cap >= SPOOL_BATCH_MAX), -EIO when the frame no longer reads back intact
 * or its segment file is gone, or another negative errno. */
int spool_peek(struct spool *s, struct spool_batch_info *info, struct record *out, size_t cap, size_t *n);

/* The batch spool_peek() returned is durable elsewhere: skip it for good.
 * Returns 0 or a negative errno. */
int spool_ack(struct spool *s);

const struct spool_stats *spool_get_stats(const struct spool *s);

/* CRC32C (Castagnoli), exposed for tests. */
uint32_t spool_crc32c(const void *data, size_t len);

#endif
