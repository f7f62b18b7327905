/* record_codec.h - records <-> bytes, for the spool.
 *
 * A compact, versioned binary form: kind, then every field in column order;
 * strings as u16 length + bytes, integers little-endian. Independent of the
 * in-memory struct layout, so a spool written by one build is read by the
 * next. Decoding bounds-checks everything and never trusts a length.
 */
#ifndef SIPCDR_RECORD_CODEC_H
#define SIPCDR_RECORD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define RECORD_CODEC_VERSION 1
#define RECORD_ENCODED_MAX 2048 /* upper bound of one encoded record */

/* Encode r into buf (cap >= RECORD_ENCODED_MAX is always enough).
 * Returns the length, or 0 when it does not fit. */
size_t record_encode(const struct record *r, uint8_t *buf, size_t cap);

/* Decode one record from buf[0..len). Returns bytes consumed, or 0 when the
 * bytes are not a valid record. */
size_t record_decode(const uint8_t *buf, size_t len, struct record *r);

#endif
