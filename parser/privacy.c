/* privacy.c - cut message bodies before anything else reads them.
 *
 * Why the start-line check comes first: most UDP payloads in a capture are
 * RTP. Recognising SIP by its first line costs a few bytes of reading and
 * keeps the header search (and the wipe) off media packets.
 */
#include "privacy.h"

#include <string.h>

/* The longest first line we will consider. A request line holds a URI, which
 * has no hard limit, but a start line longer than this is not worth parsing. */
#define START_LINE_MAX 8192

static int is_token_char(uint8_t c)
{
    /* RFC 3261 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("-.!%*_+`'~", c) != NULL;
}

int privacy_is_sip_start(const uint8_t *p, size_t len)
{
    static const char ver[] = "SIP/2.0";
    const size_t vlen = sizeof(ver) - 1;
    size_t max = len < START_LINE_MAX ? len : START_LINE_MAX;

    if (max > vlen && memcmp(p, ver, vlen) == 0 && p[vlen] == ' ')
        return 1;

    /* Request: token SP ... SP SIP/2.0 CRLF. Find the end of the line. */
    size_t i = 0;
    while (i < max && is_token_char(p[i]))
        i++;
    if (i == 0 || i >= max || p[i] != ' ')
        return 0;
    size_t eol = i;
    while (eol < max && p[eol] != '\n' && p[eol] != '\r')
        eol++;
    if (eol == max)
        return 0; /* no end of line within bounds: not a start line we accept */
    size_t end = eol;
    while (end > i && p[end - 1] == ' ')
        end--; /* tolerate trailing spaces before CRLF */
    return end >= i + vlen + 1 && p[end - vlen - 1] == ' ' && memcmp(p + end - vlen, ver, vlen) == 0;
}

void privacy_wipe(void *p, size_t n)
{
    /* A volatile pointer keeps the stores: the compiler cannot prove the bytes
     * are dead, which is exactly what we want for body bytes. */
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

/* Offset just past the blank line ending the header section, or len when the
 * datagram has none (then everything is header, there is no body). Bare LF
 * line ends are accepted as many user agents send them. */
static size_t header_end(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < len && p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return len;
}

enum sc_ret privacy_cut_datagram(uint8_t *payload, size_t len, struct privacy_result *out)
{
    out->header_len = 0;
    out->wiped = 0;
    if (!privacy_is_sip_start(payload, len))
        return SC_DECLINED;
    size_t h = header_end(payload, len);
    if (h < len) {
        privacy_wipe(payload + h, len - h);
        out->wiped = len - h;
    }
    out->header_len = h;
    return SC_OK;
}
