/* e164.c - see e164.h. */
#include "e164.h"

#include <string.h>
#include <strings.h>

void e164_rules_default(struct e164_rules *r) { memset(r, 0, sizeof(*r)); }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* RFC 3966 visual-separator, plus the space people type. */
static int is_separator(char c) { return c == '-' || c == '.' || c == '(' || c == ')' || c == ' '; }

/* Append the digits of s[0..len) to d (which holds *n of at most dmax),
 * skipping visual separators. Returns -1 when a byte is neither a digit nor
 * a separator, or the digits do not fit. */
static int collect_digits(const char *s, size_t len, char *d, size_t *n, size_t dmax)
{
    for (size_t i = 0; i < len; i++) {
        if (is_separator(s[i]))
            continue;
        if (!is_digit(s[i]) || *n == dmax)
            return -1;
        d[(*n)++] = s[i];
    }
    return 0;
}

/* prefix is non-empty and d[0..n) starts with it and goes on after it. */
static int has_prefix(const char *d, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return p > 0 && p < n && memcmp(d, prefix, p) == 0;
}

/* The value of the phone-context parameter in params[0..len), or NULL. */
static const char *phone_context(const char *params, size_t len, size_t *vlen)
{
    static const char key[] = "phone-context=";
    const size_t klen = sizeof(key) - 1;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && params[j] != ';')
            j++;
        if (j - i > klen && strncasecmp(params + i, key, klen) == 0) {
            *vlen = j - i - klen;
            return params + i + klen;
        }
        i = j + 1;
    }
    return NULL;
}

static size_t fail(char *out, size_t cap)
{
    if (cap > 0)
        out[0] = '\0';
    return 0;
}

size_t e164_normalize(const struct e164_rules *r, const char *raw, size_t len, char *out, size_t cap)
{
    /* Room for everything collected before prefixes are stripped: an
     * international prefix (4) + 15 digits, or a context + local digits. */
    char d[2 * E164_DIGITS_MAX + 8];
    size_t n = 0;
    if (cap < E164_MAX)
        return fail(out, cap);
    if (len >= 4 && strncasecmp(raw, "tel:", 4) == 0) {
        raw += 4;
        len -= 4;
    }
    const char *semi = memchr(raw, ';', len);
    size_t nlen = semi ? (size_t)(semi - raw) : len;
    const char *params = semi ? semi + 1 : NULL;
    size_t plen = semi ? len - nlen - 1 : 0;

    size_t start = 0;
    while (start < nlen && raw[start] == ' ')
        start++;
    if (start < nlen && raw[start] == '+') {
        if (collect_digits(raw + start + 1, nlen - start - 1, d, &n, sizeof(d)) != 0)
            return fail(out, cap);
    } else {
        size_t clen = 0;
        const char *ctx = params ? phone_context(params, plen, &clen) : NULL;
        if (ctx != NULL && clen > 1 && ctx[0] == '+') {
            /* A local number in a global context: the context's digits first. */
            if (collect_digits(ctx + 1, clen - 1, d, &n, sizeof(d)) != 0)
                return fail(out, cap);
            size_t ctx_digits = n;
            if (collect_digits(raw + start, nlen - start, d, &n, sizeof(d)) != 0 || n == ctx_digits)
                return fail(out, cap);
        } else {
            /* At most a 4-digit prefix and 15 digits: cc + the rest fits d. */
            char local[E164_DIGITS_MAX + 4];
            size_t ln = 0;
            if (collect_digits(raw + start, nlen - start, local, &ln, sizeof(local)) != 0)
                return fail(out, cap);
            /* International before national: "00" starts with "0". */
            if (has_prefix(local, ln, r->international_prefix)) {
                size_t p = strlen(r->international_prefix);
                memcpy(d, local + p, ln - p);
                n = ln - p;
            } else if (r->country_code[0] != '\0' && has_prefix(local, ln, r->national_prefix) &&
                       local[strlen(r->national_prefix)] != '0') {
                /* A national significant number never starts with 0: "00..."
                 * is an international prefix, however incomplete. */
                size_t p = strlen(r->national_prefix), cc = strlen(r->country_code);
                memcpy(d, r->country_code, cc);
                memcpy(d + cc, local + p, ln - p);
                n = cc + ln - p;
            } else {
                return fail(out, cap); /* a subscriber or service number: no rule applies */
            }
        }
    }
    if (n < E164_DIGITS_MIN || n > E164_DIGITS_MAX || d[0] == '0')
        return fail(out, cap); /* no country code starts with 0 */
    out[0] = '+';
    memcpy(out + 1, d, n);
    out[n + 1] = '\0';
    return n + 1;
}
