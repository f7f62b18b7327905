/* pg_retry.h - which database failures are worth waiting out, and how long.
 *
 * The writer retries a failure that time can cure (the server is down,
 * restarting, read-only, out of connections, a lost connection, a
 * serialization failure) and stops for one that needs a person (wrong
 * password, unknown role or database, a schema it does not know, a record
 * the server rejects). This is the pure half of that decision; pg_writer.c
 * applies it. No libpq or libuv here, so it is unit-tested on its own.
 */
#ifndef SIPCDR_PG_RETRY_H
#define SIPCDR_PG_RETRY_H

#include <stddef.h>
#include <stdint.h>

enum pgr_class {
    PGR_TRANSIENT, /* retry after a delay */
    PGR_FATAL,     /* report once and stop */
};

/* Class of a server error by its SQLSTATE (5 characters). Transient:
 * classes 08 (connection exception), 40 (serialization failure, deadlock),
 * 53 (insufficient resources: disk full, too many connections), 57 (operator
 * intervention: admin shutdown, cannot connect now, query cancelled), 58
 * (system I/O error), and 25006 (read-only transaction), 55P03 (lock not
 * available), 55006 (object in use), 72000 (snapshot too old). Everything
 * else, and NULL or a malformed code, is fatal: a server that answers with
 * anything else will answer the same way next time. */
enum pgr_class pgr_classify_sqlstate(const char *sqlstate);

#define PGR_SQLSTATE_LEN 6 /* 5 characters and the NUL */

/* Read libpq's text of a failed connection, produced with error verbosity
 * PQERRORS_VERBOSE so that the server's errors carry their SQLSTATE
 * ("... failed: FATAL:  28000: role "x" does not exist\nLOCATION: ...").
 * With a host list libpq reports each host in turn.
 * Returns the class: fatal when any server error in msg is fatal, else
 * transient (no server error at all: refused, unreachable, timed out, a
 * lost connection). sqlstate receives the deciding server code, or "".
 * out receives the text as one line, as libpq writes it by default: without
 * the SQLSTATEs and LOCATION lines (truncated to cap - 1 bytes). */
enum pgr_class pgr_conn_error(const char *msg, char sqlstate[PGR_SQLSTATE_LEN], char *out, size_t cap);

/* The delay before the next attempt: min_ms after a success (cur_ms 0),
 * then doubling up to max_ms. max_ms below min_ms counts as min_ms. */
uint64_t pgr_backoff_next(uint64_t cur_ms, uint64_t min_ms, uint64_t max_ms);

#endif
