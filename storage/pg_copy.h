/* pg_copy.h - records -> PostgreSQL COPY text format.
 *
 * One row per record, columns in record_columns() order, separated by a tab,
 * ended by a newline. Field text comes from record_format_field(), the same
 * function the CSV writer uses, so both outputs hold the same values. Per the
 * COPY text rules, backslash, tab, newline and carriage return in a value are
 * written as \\ \t \n \r, and an unknown value (SQL NULL) as \N. A value is
 * therefore never mistaken for NULL or for the end-of-data marker \. .
 *
 * Bytes that are not valid UTF-8 (a Call-ID off the wire, a string truncated
 * in the middle of a character) are replaced by U+FFFD: the connection's
 * client_encoding is UTF8, and one undecodable byte would make PostgreSQL
 * reject the whole batch, again and again. Valid UTF-8 passes unchanged.
 *
 * No libpq here: this is the pure, testable half of the writer.
 */
#ifndef SIPCDR_PG_COPY_H
#define SIPCDR_PG_COPY_H

#include <stddef.h>

#include "record.h"

/* A growable byte buffer with a hard ceiling. Owns data. */
struct copybuf {
    char *data; /* NULL until the first append */
    size_t len; /* bytes of complete rows */
    size_t cap; /* bytes allocated */
    size_t max; /* ceiling: len never exceeds it */
};

/* The longest row a record can encode to: every string column at its limit
 * with every byte tripled (an invalid byte becomes the 3-byte U+FFFD; an
 * escape is only 2), plus the numeric and time columns and separators. A
 * ceiling of at least this much always takes one record into an empty buffer. */
#define PGCOPY_ROW_MAX (3 * (REC_CALLID_MAX + 2 * REC_NUMBER_MAX + REC_REDIRECTS_MAX + REC_IP_MAX + REC_UA_MAX) + 1024)

/* Longest COPY statement pgcopy_statement() writes. */
#define PGCOPY_STMT_MAX 512

/* Empty buffer with a ceiling of max bytes. Allocates nothing. */
void pgcopy_init(struct copybuf *b, size_t max);

/* Forget the rows, keep the memory for the next batch. */
void pgcopy_reset(struct copybuf *b);

/* Free the memory; b may be initialised again. */
void pgcopy_free(struct copybuf *b);

/* Append r as one row. Returns 0; -ENOSPC when the row would take len past
 * the ceiling; -ENOMEM when the memory cannot grow. On failure b is unchanged
 * (no partial row), so the caller can send what it holds and retry r later. */
int pgcopy_append(struct copybuf *b, const struct record *r);

/* Write "COPY <table> (<col>, ...) FROM STDIN" for kind into buf.
 * Returns 0, or -ENOSPC when cap is too small (cap >= PGCOPY_STMT_MAX is
 * always enough). */
int pgcopy_statement(enum record_kind kind, char *buf, size_t cap);

#endif
