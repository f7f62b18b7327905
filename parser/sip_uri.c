/* sip_uri.c - URI user parts through osip2 (see sip_uri.h). */
#include "sip_uri.h"

#include <osipparser2/osip_parser.h> /* pulls in osip_headers.h: osip_from_t and friends */
#include <string.h>

#include "sip_scan.h"

/* Header values longer than this are not URIs we need to read. */
#define URI_TEXT_MAX 2048

int sip_uri_init(void) { return parser_init() == 0 ? 0 : -1; }

/* tel: and other non-SIP schemes: osip keeps everything after the colon in
 * url->string; the number runs to the first parameter. */
static void copy_opaque_user(const char *s, char *dst, size_t cap)
{
    size_t n = strcspn(s, ";?>");
    sv_copy(dst, cap, sv_make(s, n));
}

static void copy_url_user(osip_uri_t *url, char *dst, size_t cap)
{
    if (url->username != NULL)
        sv_copy(dst, cap, sv_make(url->username, strlen(url->username)));
    else if (url->string != NULL)
        copy_opaque_user(url->string, dst, cap);
}

enum sc_ret sip_uri_user(struct sv uri, char *dst, size_t cap)
{
    char buf[URI_TEXT_MAX];
    dst[0] = '\0';
    if (uri.len == 0 || !sip_value_copy(buf, sizeof(buf), uri))
        return SC_ERROR;
    osip_uri_t *url = NULL;
    if (osip_uri_init(&url) != 0)
        return SC_ERROR;
    enum sc_ret rc = SC_ERROR;
    if (osip_uri_parse(url, buf) == 0) {
        copy_url_user(url, dst, cap);
        rc = SC_OK;
    }
    osip_uri_free(url);
    return rc;
}

enum sc_ret sip_header_uri_user(struct sv value, char *dst, size_t cap)
{
    char buf[URI_TEXT_MAX];
    dst[0] = '\0';
    if (value.len == 0 || !sip_value_copy(buf, sizeof(buf), value))
        return SC_ERROR;
    osip_from_t *from = NULL;
    if (osip_from_init(&from) != 0)
        return SC_ERROR;
    enum sc_ret rc = SC_ERROR;
    if (osip_from_parse(from, buf) == 0 && from->url != NULL) {
        copy_url_user(from->url, dst, cap);
        rc = SC_OK;
    }
    osip_from_free(from);
    return rc;
}
