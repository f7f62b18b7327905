/* sip_scan.h - zero-copy scanner for the SIP header section.
 *
 * The hot path: every SIP message goes through sip_scan(), which reads the
 * start line and the headers sipcdr needs as {ptr,len} views into the header
 * bytes that privacy_cut left. No allocation, no copy, bounded by len. Values
 * keep their raw form (line folding included); sip_value_copy() unfolds.
 * A full osip2 parse happens only in sip_uri.c, for the few values of the
 * messages that create or define records.
 *
 * Views in struct sip_msg live as long as the header bytes passed in.
 */
#ifndef SIPCDR_SIP_SCAN_H
#define SIPCDR_SIP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sc.h"
#include "sv.h"

enum sip_method {
    SIP_UNKNOWN = 0,
    SIP_INVITE,
    SIP_ACK,
    SIP_BYE,
    SIP_CANCEL,
    SIP_REGISTER,
    SIP_OPTIONS,
    SIP_MESSAGE,
    SIP_INFO,
    SIP_PRACK,
    SIP_UPDATE,
    SIP_SUBSCRIBE,
    SIP_NOTIFY,
    SIP_REFER,
    SIP_PUBLISH,
    SIP_METHOD_COUNT
};

/* Why a message was rejected; counted per reason by the pipeline. */
enum sip_scan_error {
    SIP_ERR_NONE = 0,
    SIP_ERR_START_LINE,     /* malformed request or status line */
    SIP_ERR_HEADER_LINE,    /* a header line without a colon or with a bad name */
    SIP_ERR_MISSING_HEADER, /* Call-ID, From, To or CSeq absent */
    SIP_ERR_DUP_HEADER,     /* a single-valued header given twice with different values */
    SIP_ERR_CSEQ,           /* CSeq not "number method" */
    SIP_ERR_TOO_MANY_HEADERS,
    SIP_ERR_COUNT
};

const char *sip_scan_error_name(enum sip_scan_error e);
const char *sip_method_name(enum sip_method m); /* "INVITE", ... ; "" for unknown */

#define SIP_MULTI_MAX 8      /* Diversion / Contact entries kept per message */
#define SIP_HEADERS_MAX 256  /* header lines scanned per message */

struct sip_msg {
    bool is_request;
    enum sip_method method; /* request method, SIP_UNKNOWN for extension methods */
    struct sv method_token;
    struct sv ruri;
    int status; /* responses: 100..699 */
    struct sv reason_phrase;

    struct sv call_id;
    struct sv from, to; /* whole header values */
    struct sv from_tag, to_tag;
    uint32_t cseq;
    enum sip_method cseq_method;
    struct sv cseq_method_token;

    struct sv user_agent, server, content_type;
    struct sv p_asserted_identity, remote_party_id, privacy, reason;
    long long content_length; /* -1 when absent */

    struct sv contact[SIP_MULTI_MAX];
    unsigned n_contact; /* entries kept; n_contact_seen may be larger */
    unsigned n_contact_seen;
    struct sv diversion[SIP_MULTI_MAX];
    unsigned n_diversion;
    unsigned n_diversion_seen;

    unsigned n_headers;
};

/* Scan the header section hdr[0..len) (start line, headers, optional blank
 * line). Returns SC_OK with *m filled, or SC_ERROR with *why set. */
enum sc_ret sip_scan(const char *hdr, size_t len, struct sip_msg *m, enum sip_scan_error *why);

/* Map a method token to its enum (case-sensitive, as RFC 3261 says). */
enum sip_method sip_method_from_token(struct sv tok);

/* The value of parameter name (e.g. "tag") of a name-addr / addr-spec header
 * value: parameters after '>' when the URI is bracketed, else after the URI.
 * Quoted display names are skipped. Returns SV_NULL when absent. */
struct sv sip_header_param(struct sv value, const char *name);

/* Copy a header value into dst (cap > 0) with line folding (CRLF + WSP)
 * replaced by one space and other control bytes dropped, NUL-terminated.
 * Returns true when it fitted. */
bool sip_value_copy(char *dst, size_t cap, struct sv value);

#endif
