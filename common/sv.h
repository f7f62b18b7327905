/* sv.h - zero-copy string views {ptr, len}.
 *
 * A view never owns its bytes: its lifetime is that of the buffer it points
 * into, which the producing function's header states. Views are not
 * NUL-terminated; never pass .p to a function that scans to a NUL.
 */
#ifndef SIPCDR_SV_H
#define SIPCDR_SV_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct sv {
    const char *p;
    size_t len;
};

#define SV_NULL ((struct sv){NULL, 0})
#define SV_LIT(s) ((struct sv){(s), sizeof(s) - 1})

static inline struct sv sv_make(const char *p, size_t len)
{
    struct sv v = {p, len};
    return v;
}

static inline bool sv_empty(struct sv v) { return v.len == 0; }

static inline bool sv_eq(struct sv a, struct sv b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII case-insensitive comparison, as SIP header names and tokens need. */
bool sv_eq_nocase(struct sv a, struct sv b);
bool sv_eq_nocase_cstr(struct sv a, const char *s);

/* Strip leading and trailing SP / HTAB. */
struct sv sv_trim(struct sv v);

/* Copy v into dst (capacity cap, cap > 0), NUL-terminate. Returns true when
 * the whole view fitted, false when it was truncated to cap - 1 bytes. */
bool sv_copy(char *dst, size_t cap, struct sv v);

/* Parse an unsigned decimal with no sign and no spaces; false on overflow past
 * max, on an empty view or on a non-digit. */
bool sv_to_u64(struct sv v, unsigned long long max, unsigned long long *out);

#endif
