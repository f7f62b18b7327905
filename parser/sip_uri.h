/* sip_uri.h - user parts of URIs, through osip2.
 *
 * Called only for the values that define records (the initial INVITE's From
 * and Request-URI, a MESSAGE's From and Request-URI, Diversion entries, 3xx
 * Contacts), never for every message: osip2's full parse allocates, the
 * scanner does not. Each call copies the value into a bounded stack buffer,
 * parses it with osip2 and frees everything before returning.
 */
#ifndef SIPCDR_SIP_URI_H
#define SIPCDR_SIP_URI_H

#include <stddef.h>

#include "sc.h"
#include "sv.h"

/* Initialise osip2's parser tables once per process. Returns 0 or -1. */
int sip_uri_init(void);

/* The user part of a URI ("sip:alice@example.com" -> "alice"; "tel:+4930123;
 * phone-context=x" -> "+4930123") copied into dst (cap > 0), as signalled
 * (no unescaping, no normalisation). An empty dst when the URI has no user.
 * Returns SC_OK, or SC_ERROR when the value cannot be parsed (dst is empty). */
enum sc_ret sip_uri_user(struct sv uri, char *dst, size_t cap);

/* Same for a name-addr / addr-spec header value (From, To, Diversion,
 * Contact, P-Asserted-Identity): the display name and parameters are ignored. */
enum sc_ret sip_header_uri_user(struct sv value, char *dst, size_t cap);

#endif
