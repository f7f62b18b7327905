/* sv.c - string view helpers (see sv.h). */
#include "sv.h"

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

bool sv_eq_nocase(struct sv a, struct sv b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
            return false;
    return true;
}

bool sv_eq_nocase_cstr(struct sv a, const char *s) { return sv_eq_nocase(a, sv_make(s, strlen(s))); }

struct sv sv_trim(struct sv v)
{
    while (v.len > 0 && (v.p[0] == ' ' || v.p[0] == '\t')) {
        v.p++;
        v.len--;
    }
    while (v.len > 0 && (v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
        v.len--;
    return v;
}

bool sv_copy(char *dst, size_t cap, struct sv v)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    if (n > 0)
        memcpy(dst, v.p, n);
    dst[n] = '\0';
    return n == v.len;
}

bool sv_to_u64(struct sv v, unsigned long long max, unsigned long long *out)
{
    unsigned long long n = 0;
    if (v.len == 0)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        unsigned d = (unsigned char)v.p[i] - '0';
        if (d > 9)
            return false;
        if (n > (max - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *out = n;
    return true;
}
