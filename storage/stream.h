/* stream.h - record streams: which run of the pipeline a record came from.
 *
 * Every record the pipeline produces gets a sequence number 1, 2, 3, ...
 * within a stream, in the order it enters the record queue. The database
 * remembers, per (collector, stream), the highest sequence number committed
 * (sipcdr_progress), so a batch that arrives again - from the spool, or
 * because the same input was read again after a crash - is recognised and
 * not written twice (see pg_writer.h and docs/storage.md).
 *
 * That only works when the same input always gives the same records in the
 * same order. The pipeline runs on packet time, so it does for the same
 * files read with the same record-shaping settings by the same sipcdr. A
 * `read` stream key is therefore a hash of exactly those: each file's
 * canonical path, size and modification time, in the order given, plus the
 * caller's description of the settings (salt). Anything else that changed
 * the records would renumber them; changing the key instead makes a rerun a
 * new stream, whose records are all written again (duplicates, never gaps).
 *
 * Pure apart from stat(2) and realpath(3); nothing here logs.
 */
#ifndef SIPCDR_STREAM_H
#define SIPCDR_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* "read-" and 32 hex digits, with the NUL. */
#define STREAM_KEY_MAX 48

/* A 128-bit running hash of length-delimited items: two SipHash-2-4 chains
 * under fixed, different keys. Not secret and not meant to resist someone
 * crafting collisions; it only has to tell the operator's inputs apart. */
struct stream_hash {
    uint64_t h[2];
};

void stream_hash_init(struct stream_hash *s);

/* Add one item of len bytes; items are delimited, so ("ab","c") and
 * ("a","bc") differ. */
void stream_hash_add(struct stream_hash *s, const void *data, size_t len);

/* prefix followed by the hash as 32 lower-case hex digits. Returns 0, or -1
 * when cap is too small (out is then ""). */
int stream_hash_text(const struct stream_hash *s, const char *prefix, char *out, size_t cap);

/* The stream key of `sipcdr read` over files[0..n) with the settings
 * described by salt: "read-" + hash. A file that cannot be examined (it will
 * fail to open as well) enters the key by its name as given. Returns 0, or
 * -1 with err filled (out of memory, cap too small). */
int stream_key_files(const char *const *files, size_t n, const char *salt, char *out, size_t cap, char *err,
                     size_t errlen);

#endif
