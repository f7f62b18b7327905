/* pg_copy.c - COPY text rows of records (see pg_copy.h). */
#include "pg_copy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* First allocation; doubled up to the ceiling. Small enough not to matter for
 * a tiny batch, large enough that a 1000-row batch grows only a few times. */
#define COPYBUF_FIRST (64 * 1024)

void pgcopy_init(struct copybuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void pgcopy_reset(struct copybuf *b) { b->len = 0; }

void pgcopy_free(struct copybuf *b)
{
    free(b->data);
    pgcopy_init(b, b->max);
}

/* Make room for need more bytes. 0, -ENOSPC (ceiling) or -ENOMEM. */
static int reserve(struct copybuf *b, size_t need)
{
    if (need > b->max || b->len > b->max - need)
        return -ENOSPC;
    size_t want = b->len + need;
    if (want <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : COPYBUF_FIRST;
    while (cap < want)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
        cap = b->max;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF - what PostgreSQL's verifier accepts) at
 * s[0..n), or 0 when s does not start one. s[0] >= 0x80. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* A cursor over the row scratch buffer; a write past the end sets full. */
struct row {
    char *p;
    size_t len, cap;
    int full;
};

static void put(struct row *w, const char *s, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void put_value(struct row *w, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s); /* record strings are NUL-terminated within their arrays */
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t run = i;
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '\\')
            run++;
        put(w, s + i, run - i);
        i = run;
        if (i == n)
            break;
        unsigned char c = u[i];
        size_t k;
        switch (c) {
        case '\\': put(w, "\\\\", 2); i++; continue;
        case '\t': put(w, "\\t", 2); i++; continue;
        case '\n': put(w, "\\n", 2); i++; continue;
        case '\r': put(w, "\\r", 2); i++; continue;
        default: break;
        }
        if (c < 0x80) { /* other control characters are plain data in COPY text */
            put(w, s + i, 1);
            i++;
            continue;
        }
        k = utf8_len(u + i, n - i);
        if (k == 0) {
            put(w, "\xef\xbf\xbd", 3); /* U+FFFD for the one bad byte */
            i++;
        } else {
            put(w, s + i, k);
            i += k;
        }
    }
}

int pgcopy_append(struct copybuf *b, const struct record *r)
{
    char scratch[PGCOPY_ROW_MAX];
    char field[REC_FIELD_MAX];
    struct row w = {scratch, 0, sizeof(scratch), 0};
    size_t ncols;
    record_columns(r->kind, &ncols);
    for (size_t col = 0; col < ncols; col++) {
        if (col > 0)
            put(&w, "\t", 1);
        const char *v = record_format_field(r, col, field, sizeof(field));
        if (v == NULL)
            put(&w, "\\N", 2);
        else
            put_value(&w, v);
    }
    put(&w, "\n", 1);
    if (w.full)
        return -ENOSPC; /* cannot happen: PGCOPY_ROW_MAX bounds every record */
    int rc = reserve(b, w.len);
    if (rc != 0)
        return rc;
    memcpy(b->data + b->len, scratch, w.len);
    b->len += w.len;
    return 0;
}

int pgcopy_statement(enum record_kind kind, char *buf, size_t cap)
{
    struct row w = {buf, 0, cap, 0};
    static const char copy[] = "COPY ", from[] = ") FROM STDIN";
    const char *table = record_table(kind);
    size_t ncols;
    const char *const *cols = record_columns(kind, &ncols);
    /* Names are our own lowercase identifiers: no quoting needed. */
    put(&w, copy, sizeof(copy) - 1);
    put(&w, table, strlen(table));
    put(&w, " (", 2);
    for (size_t i = 0; i < ncols; i++) {
        if (i > 0)
            put(&w, ", ", 2);
        put(&w, cols[i], strlen(cols[i]));
    }
    put(&w, from, sizeof(from)); /* with its NUL */
    if (w.full) {
        if (cap > 0)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return 0;
}
