/* csv_writer.h - records -> DIR/calls.csv and DIR/sms.csv.
 *
 * RFC 4180 with LF line ends (what Unix tools expect): a header row, comma separated, a field quoted (quotes doubled)
 * only when it holds a comma, a quote, CR or LF; an unknown value is an empty
 * cell. Files are written as DIR/.calls.csv.tmp and renamed into place by
 * csv_writer_close(), so a crash never leaves a half file under the real name.
 */
#ifndef SIPCDR_CSV_WRITER_H
#define SIPCDR_CSV_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct csv_writer;

/* Create DIR if needed and open both files. Returns NULL with err filled. */
struct csv_writer *csv_writer_open(const char *dir, char *err, size_t errlen);

/* Append one record. Returns 0, or -1 with err filled (disk full, ...). */
int csv_writer_write(struct csv_writer *w, const struct record *r, char *err, size_t errlen);

/* Flush, fsync and rename into place, then free w (always freed).
 * Returns 0 or -1 with err filled. */
int csv_writer_close(struct csv_writer *w, char *err, size_t errlen);

/* Close and delete the temporary files (an aborted run), free w. */
void csv_writer_abort(struct csv_writer *w);

uint64_t csv_writer_rows(const struct csv_writer *w, enum record_kind kind);

#endif
