/* privacy.h - the privacy cut: the first code that reads a SIP payload.
 *
 * The product promises that no byte of a message body (SMS text above all)
 * reaches a buffer, queue, log, spool or database. privacy_cut() runs on the
 * raw transport payload before anything else looks at it: it finds the end of
 * the header section, wipes every byte after it in place, and reports how
 * many leading bytes are headers. Callers may only read those bytes.
 *
 * For a datagram (UDP), the message ends at the end of the datagram, so the
 * body is everything after the blank line, whatever Content-Length claims:
 * a lying Content-Length can shorten nothing and lengthen nothing.
 */
#ifndef SIPCDR_PRIVACY_H
#define SIPCDR_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct privacy_result {
    size_t header_len; /* bytes of start line + headers, up to and including the blank line */
    size_t wiped;      /* body bytes wiped (0 when the message had no body) */
};

/* Cut a datagram payload. payload is writable: bytes [header_len, len) are
 * overwritten with zeros before this returns.
 * Returns SC_OK, or SC_DECLINED when the first line is not a SIP start line
 * (the payload is then left untouched and must not be read further). */
enum sc_ret privacy_cut_datagram(uint8_t *payload, size_t len, struct privacy_result *out);

/* True when the bytes begin with a SIP request line ("METHOD SP URI SP
 * SIP/2.0") or status line ("SIP/2.0 SP"). Reads at most the first line and
 * never past len. */
int privacy_is_sip_start(const uint8_t *p, size_t len);

/* Overwrite n bytes at p with zeros in a way the compiler may not elide. */
void privacy_wipe(void *p, size_t n);

#endif
