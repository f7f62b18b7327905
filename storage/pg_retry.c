/* pg_retry.c - failure classes and backoff (see pg_retry.h). */
#include "pg_retry.h"

#include <stdbool.h>
#include <string.h>

#include "pg_migrate.h"

static bool sqlstate_char(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

static bool valid_sqlstate(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (!sqlstate_char(s[i]))
            return false;
    return s[5] == '\0';
}

enum pgr_class pgr_classify_sqlstate(const char *s)
{
    if (s == NULL || !valid_sqlstate(s))
        return PGR_FATAL;
    static const char *const classes[] = {"08", "40", "53", "57", "58"};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (s[0] == classes[i][0] && s[1] == classes[i][1])
            return PGR_TRANSIENT;
    static const char *const codes[] = {"25006", "55P03", "55006", "72000"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(s, codes[i]) == 0)
            return PGR_TRANSIENT;
    return PGR_FATAL;
}

/* At p: ":  XXXXX: " as libpq's verbose format writes after the severity?
 * (two spaces; the severity word itself may be translated). */
static bool at_code(const char *p, const char *end)
{
    if (end - p < 10 || p[0] != ':' || p[1] != ' ' || p[2] != ' ')
        return false;
    for (int i = 3; i < 8; i++)
        if (!sqlstate_char(p[i]))
            return false;
    return p[8] == ':' && p[9] == ' ';
}

enum pgr_class pgr_conn_error(const char *msg, char sqlstate[PGR_SQLSTATE_LEN], char *out, size_t cap)
{
    enum pgr_class cls = PGR_TRANSIENT;
    sqlstate[0] = '\0';
    if (msg == NULL)
        msg = "";
    /* Rebuild the text line by line, into a bounded scratch buffer, then let
     * pgm_error_line() flatten it exactly as it does every other error. */
    char text[2048];
    size_t o = 0;
    const char *p = msg, *end = msg + strlen(msg);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if ((size_t)(eol - p) >= 10 && memcmp(p, "LOCATION:", 9) == 0) {
            p = nl ? nl + 1 : end; /* verbose-only line: where in the server's source */
            continue;
        }
        for (const char *q = p; q < eol; q++) {
            if (at_code(q, eol)) {
                char code[PGR_SQLSTATE_LEN];
                memcpy(code, q + 3, 5);
                code[5] = '\0';
                if (sqlstate[0] == '\0' || (cls == PGR_TRANSIENT && pgr_classify_sqlstate(code) == PGR_FATAL))
                    memcpy(sqlstate, code, PGR_SQLSTATE_LEN);
                if (pgr_classify_sqlstate(code) == PGR_FATAL)
                    cls = PGR_FATAL;
                if (o + 3 < sizeof(text)) {
                    memcpy(text + o, ":  ", 3);
                    o += 3;
                }
                q += 9; /* past ":  XXXXX:", the loop steps over the space */
                continue;
            }
            if (o + 1 < sizeof(text))
                text[o++] = *q;
        }
        if (nl != NULL && o + 1 < sizeof(text))
            text[o++] = '\n';
        p = nl ? nl + 1 : end;
    }
    text[o] = '\0';
    pgm_error_line(text, out, cap);
    return cls;
}

uint64_t pgr_backoff_next(uint64_t cur_ms, uint64_t min_ms, uint64_t max_ms)
{
    if (min_ms == 0)
        min_ms = 1;
    if (max_ms < min_ms)
        max_ms = min_ms;
    if (cur_ms < min_ms)
        return min_ms;
    return cur_ms > max_ms / 2 ? max_ms : cur_ms * 2;
}
