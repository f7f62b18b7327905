/* sip_scan.c - zero-copy SIP header scanner (see sip_scan.h).
 *
 * One pass over the header bytes, a cursor and a bound; nothing here scans to
 * a NUL, allocates or logs. Headers we do not need are skipped after their
 * name is read.
 */
#include "sip_scan.h"

#include <string.h>

enum hdr_id {
    H_OTHER = 0,
    H_CALL_ID,
    H_FROM,
    H_TO,
    H_CSEQ,
    H_CONTACT,
    H_CONTENT_LENGTH,
    H_CONTENT_TYPE,
    H_USER_AGENT,
    H_SERVER,
    H_PAI,
    H_RPID,
    H_PRIVACY,
    H_REASON,
    H_DIVERSION,
};

static const char *const method_names[SIP_METHOD_COUNT] = {
    [SIP_UNKNOWN] = "",         [SIP_INVITE] = "INVITE",   [SIP_ACK] = "ACK",
    [SIP_BYE] = "BYE",          [SIP_CANCEL] = "CANCEL",   [SIP_REGISTER] = "REGISTER",
    [SIP_OPTIONS] = "OPTIONS",  [SIP_MESSAGE] = "MESSAGE", [SIP_INFO] = "INFO",
    [SIP_PRACK] = "PRACK",      [SIP_UPDATE] = "UPDATE",   [SIP_SUBSCRIBE] = "SUBSCRIBE",
    [SIP_NOTIFY] = "NOTIFY",    [SIP_REFER] = "REFER",     [SIP_PUBLISH] = "PUBLISH",
};

const char *sip_method_name(enum sip_method m)
{
    return (m >= 0 && m < SIP_METHOD_COUNT) ? method_names[m] : "";
}

const char *sip_scan_error_name(enum sip_scan_error e)
{
    switch (e) {
    case SIP_ERR_NONE: return "none";
    case SIP_ERR_START_LINE: return "bad_start_line";
    case SIP_ERR_HEADER_LINE: return "bad_header_line";
    case SIP_ERR_MISSING_HEADER: return "missing_header";
    case SIP_ERR_DUP_HEADER: return "duplicate_header";
    case SIP_ERR_CSEQ: return "bad_cseq";
    case SIP_ERR_TOO_MANY_HEADERS: return "too_many_headers";
    case SIP_ERR_COUNT: break;
    }
    return "unknown";
}

enum sip_method sip_method_from_token(struct sv tok)
{
    for (int m = 1; m < SIP_METHOD_COUNT; m++) {
        size_t n = strlen(method_names[m]);
        if (n == tok.len && memcmp(method_names[m], tok.p, n) == 0)
            return (enum sip_method)m;
    }
    return SIP_UNKNOWN;
}

static int is_token_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("-.!%*_+`'~", c) != NULL;
}

static int is_wsp(char c) { return c == ' ' || c == '\t'; }

/* Header names, long and compact forms (RFC 3261 7.3.3 and extensions). */
static enum hdr_id header_id(struct sv n)
{
    if (n.len == 1) {
        switch (n.p[0] | 0x20) {
        case 'i': return H_CALL_ID;
        case 'f': return H_FROM;
        case 't': return H_TO;
        case 'm': return H_CONTACT;
        case 'l': return H_CONTENT_LENGTH;
        case 'c': return H_CONTENT_TYPE;
        default: return H_OTHER;
        }
    }
    static const struct {
        const char *name;
        enum hdr_id id;
    } names[] = {
        {"Call-ID", H_CALL_ID},
        {"From", H_FROM},
        {"To", H_TO},
        {"CSeq", H_CSEQ},
        {"Contact", H_CONTACT},
        {"Content-Length", H_CONTENT_LENGTH},
        {"Content-Type", H_CONTENT_TYPE},
        {"User-Agent", H_USER_AGENT},
        {"Server", H_SERVER},
        {"P-Asserted-Identity", H_PAI},
        {"Remote-Party-ID", H_RPID},
        {"Privacy", H_PRIVACY},
        {"Reason", H_REASON},
        {"Diversion", H_DIVERSION},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (sv_eq_nocase_cstr(n, names[i].name))
            return names[i].id;
    return H_OTHER;
}

/* Split a list header value on commas outside quotes and angle brackets. */
static void split_list(struct sv value, struct sv *out, unsigned *n_kept, unsigned *n_seen)
{
    size_t start = 0;
    int in_quote = 0, in_angle = 0;
    for (size_t i = 0; i <= value.len; i++) {
        char c = i < value.len ? value.p[i] : ',';
        if (in_quote) {
            if (c == '\\' && i + 1 < value.len)
                i++;
            else if (c == '"')
                in_quote = 0;
            continue;
        }
        if (c == '"')
            in_quote = 1;
        else if (c == '<')
            in_angle = 1;
        else if (c == '>')
            in_angle = 0;
        else if (c == ',' && !in_angle) {
            struct sv item = sv_trim(sv_make(value.p + start, i - start));
            start = i + 1;
            if (item.len == 0)
                continue;
            (*n_seen)++;
            if (*n_kept < SIP_MULTI_MAX)
                out[(*n_kept)++] = item;
        }
    }
}

/* Single-valued header: a repeat with another value makes the message ambiguous. */
static int set_single(struct sv *slot, struct sv value)
{
    if (slot->p != NULL && !sv_eq(*slot, value))
        return -1;
    *slot = value;
    return 0;
}

static enum sc_ret parse_start_line(struct sv line, struct sip_msg *m)
{
    static const char ver[] = "SIP/2.0";
    const size_t vlen = sizeof(ver) - 1;
    if (line.len > vlen && memcmp(line.p, ver, vlen) == 0 && line.p[vlen] == ' ') {
        /* Status-Line: SIP/2.0 SP 3DIGIT SP Reason-Phrase */
        size_t i = vlen + 1;
        if (i + 3 > line.len)
            return SC_ERROR;
        int code = 0;
        for (size_t k = 0; k < 3; k++) {
            unsigned d = (unsigned char)line.p[i + k] - '0';
            if (d > 9)
                return SC_ERROR;
            code = code * 10 + (int)d;
        }
        if (code < 100 || code > 699)
            return SC_ERROR;
        i += 3;
        if (i < line.len && line.p[i] != ' ')
            return SC_ERROR;
        m->is_request = false;
        m->status = code;
        m->reason_phrase = i < line.len ? sv_trim(sv_make(line.p + i + 1, line.len - i - 1)) : SV_NULL;
        return SC_OK;
    }
    /* Request-Line: Method SP Request-URI SP SIP-Version */
    size_t i = 0;
    while (i < line.len && is_token_char((unsigned char)line.p[i]))
        i++;
    if (i == 0 || i >= line.len || line.p[i] != ' ')
        return SC_ERROR;
    m->method_token = sv_make(line.p, i);
    size_t uri_start = i + 1;
    size_t end = line.len;
    while (end > uri_start && line.p[end - 1] == ' ')
        end--;
    if (end < uri_start + vlen + 2 || memcmp(line.p + end - vlen, ver, vlen) != 0 ||
        line.p[end - vlen - 1] != ' ')
        return SC_ERROR;
    struct sv uri = sv_make(line.p + uri_start, end - vlen - 1 - uri_start);
    if (uri.len == 0 || memchr(uri.p, ' ', uri.len) != NULL)
        return SC_ERROR;
    m->is_request = true;
    m->method = sip_method_from_token(m->method_token);
    m->ruri = uri;
    return SC_OK;
}

static enum sc_ret parse_cseq(struct sv v, struct sip_msg *m)
{
    size_t i = 0;
    while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9')
        i++;
    unsigned long long n;
    if (i == 0 || !sv_to_u64(sv_make(v.p, i), 0xffffffffULL, &n))
        return SC_ERROR;
    size_t j = i;
    while (j < v.len && (is_wsp(v.p[j]) || v.p[j] == '\r' || v.p[j] == '\n'))
        j++;
    if (j == i || j >= v.len)
        return SC_ERROR;
    struct sv tok = sv_make(v.p + j, v.len - j);
    for (size_t k = 0; k < tok.len; k++)
        if (!is_token_char((unsigned char)tok.p[k]))
            return SC_ERROR;
    m->cseq = (uint32_t)n;
    m->cseq_method_token = tok;
    m->cseq_method = sip_method_from_token(tok);
    return SC_OK;
}

static enum sc_ret take_header(struct sv name, struct sv value, struct sip_msg *m, enum sip_scan_error *why)
{
    int dup = 0;
    switch (header_id(name)) {
    case H_CALL_ID: dup = set_single(&m->call_id, value); break;
    case H_FROM: dup = set_single(&m->from, value); break;
    case H_TO: dup = set_single(&m->to, value); break;
    case H_CSEQ:
        if (m->cseq_method_token.p != NULL) {
            struct sip_msg tmp = *m;
            if (parse_cseq(value, &tmp) != SC_OK || tmp.cseq != m->cseq ||
                !sv_eq(tmp.cseq_method_token, m->cseq_method_token))
                dup = -1;
            break;
        }
        if (parse_cseq(value, m) != SC_OK) {
            *why = SIP_ERR_CSEQ;
            return SC_ERROR;
        }
        break;
    case H_CONTACT: split_list(value, m->contact, &m->n_contact, &m->n_contact_seen); break;
    case H_DIVERSION: split_list(value, m->diversion, &m->n_diversion, &m->n_diversion_seen); break;
    case H_CONTENT_LENGTH: {
        unsigned long long n;
        if (sv_to_u64(value, 0x7fffffffffffffffULL, &n))
            m->content_length = (long long)n;
        break;
    }
    case H_CONTENT_TYPE: m->content_type = value; break;
    case H_USER_AGENT: m->user_agent = value; break;
    case H_SERVER: m->server = value; break;
    case H_PAI:
        if (m->p_asserted_identity.p == NULL)
            m->p_asserted_identity = value;
        break;
    case H_RPID:
        if (m->remote_party_id.p == NULL)
            m->remote_party_id = value;
        break;
    case H_PRIVACY: m->privacy = value; break;
    case H_REASON:
        if (m->reason.p == NULL)
            m->reason = value;
        break;
    case H_OTHER: break;
    }
    if (dup) {
        *why = SIP_ERR_DUP_HEADER;
        return SC_ERROR;
    }
    return SC_OK;
}

/* End of the line starting at i: index of its '\n' (or len), and the length
 * of its content without CR. */
static size_t line_end(const char *p, size_t len, size_t i)
{
    const char *nl = memchr(p + i, '\n', len - i);
    return nl ? (size_t)(nl - p) : len;
}

static size_t content_len(const char *p, size_t start, size_t eol)
{
    size_t e = eol;
    if (e > start && p[e - 1] == '\r')
        e--;
    return e - start;
}

enum sc_ret sip_scan(const char *hdr, size_t len, struct sip_msg *m, enum sip_scan_error *why)
{
    memset(m, 0, sizeof(*m));
    m->content_length = -1;
    *why = SIP_ERR_NONE;

    size_t eol = line_end(hdr, len, 0);
    if (parse_start_line(sv_make(hdr, content_len(hdr, 0, eol)), m) != SC_OK) {
        *why = SIP_ERR_START_LINE;
        return SC_ERROR;
    }
    size_t i = eol < len ? eol + 1 : len;

    while (i < len) {
        size_t e = line_end(hdr, len, i);
        size_t clen = content_len(hdr, i, e);
        if (clen == 0)
            break; /* blank line: end of headers */
        /* The header's value may continue on lines starting with SP / HTAB. */
        size_t vend = e;
        while (vend + 1 < len && is_wsp(hdr[vend + 1]))
            vend = line_end(hdr, len, vend + 1);
        size_t next = vend < len ? vend + 1 : len;

        size_t k = i;
        while (k < i + clen && is_token_char((unsigned char)hdr[k]))
            k++;
        struct sv name = sv_make(hdr + i, k - i);
        while (k < i + clen && is_wsp(hdr[k]))
            k++;
        if (name.len == 0 || k >= i + clen || hdr[k] != ':') {
            *why = SIP_ERR_HEADER_LINE;
            return SC_ERROR;
        }
        if (++m->n_headers > SIP_HEADERS_MAX) {
            *why = SIP_ERR_TOO_MANY_HEADERS;
            return SC_ERROR;
        }
        size_t vstart = k + 1;
        size_t vlen_raw = content_len(hdr, vstart, vend);
        struct sv value = sv_make(hdr + vstart, vlen_raw);
        /* Trim leading/trailing LWS, folded line breaks included. */
        while (value.len && (is_wsp(value.p[0]) || value.p[0] == '\r' || value.p[0] == '\n')) {
            value.p++;
            value.len--;
        }
        while (value.len && (is_wsp(value.p[value.len - 1]) || value.p[value.len - 1] == '\r' ||
                             value.p[value.len - 1] == '\n'))
            value.len--;
        if (take_header(name, value, m, why) != SC_OK)
            return SC_ERROR;
        i = next;
    }

    if (m->call_id.p == NULL || m->from.p == NULL || m->to.p == NULL || m->cseq_method_token.p == NULL ||
        m->call_id.len == 0) {
        *why = SIP_ERR_MISSING_HEADER;
        return SC_ERROR;
    }
    m->from_tag = sip_header_param(m->from, "tag");
    m->to_tag = sip_header_param(m->to, "tag");
    return SC_OK;
}

struct sv sip_header_param(struct sv v, const char *name)
{
    size_t i = 0, nlen = strlen(name);
    /* Skip a quoted display name and a bracketed URI; then params start. */
    const char *lt = NULL;
    int in_quote = 0;
    for (size_t k = 0; k < v.len; k++) {
        char c = v.p[k];
        if (in_quote) {
            if (c == '\\' && k + 1 < v.len)
                k++;
            else if (c == '"')
                in_quote = 0;
        } else if (c == '"') {
            in_quote = 1;
        } else if (c == '<') {
            lt = v.p + k;
            break;
        }
    }
    if (lt != NULL) {
        const char *gt = memchr(lt, '>', v.len - (size_t)(lt - v.p));
        if (gt == NULL)
            return SV_NULL;
        i = (size_t)(gt - v.p) + 1;
    } else {
        /* addr-spec form: the first ';' ends the URI, params follow. */
        const char *semi = memchr(v.p, ';', v.len);
        if (semi == NULL)
            return SV_NULL;
        i = (size_t)(semi - v.p);
    }
    while (i < v.len) {
        const char *semi = memchr(v.p + i, ';', v.len - i);
        if (semi == NULL)
            return SV_NULL;
        size_t s = (size_t)(semi - v.p) + 1;
        while (s < v.len && is_wsp(v.p[s]))
            s++;
        size_t e = s;
        while (e < v.len && v.p[e] != ';' && v.p[e] != ',')
            e++;
        struct sv param = sv_make(v.p + s, e - s);
        const char *eq = memchr(param.p, '=', param.len);
        struct sv pname = sv_trim(sv_make(param.p, eq ? (size_t)(eq - param.p) : param.len));
        if (pname.len == nlen && sv_eq_nocase_cstr(pname, name))
            return eq ? sv_trim(sv_make(eq + 1, param.len - (size_t)(eq + 1 - param.p))) : sv_make(param.p, 0);
        i = e;
    }
    return SV_NULL;
}

bool sip_value_copy(char *dst, size_t cap, struct sv v)
{
    size_t o = 0;
    bool fitted = true;
    int pending_space = 0;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c == '\r' || c == '\n') {
            pending_space = 1;
            continue;
        }
        if (pending_space) {
            /* folded line: the CRLF and the following WSP become one space */
            while (i < v.len && is_wsp(v.p[i]))
                i++;
            if (i == v.len)
                break;
            c = (unsigned char)v.p[i];
            pending_space = 0;
            if (o + 1 < cap)
                dst[o++] = ' ';
            else
                fitted = false;
        }
        if (c < 0x20 && c != '\t')
            continue;
        if (o + 1 < cap)
            dst[o++] = (char)c;
        else
            fitted = false;
    }
    dst[o] = '\0';
    return fitted;
}
