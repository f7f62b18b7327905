/* check.h - tiny assertion kit for the unit tests.
 *
 * Each CHECK prints both sides on failure and counts; check_summary() prints
 * "N passed, N failed" (the line ctest users and CI read) and returns the
 * process exit status. One behaviour per test function, run with RUN().
 */
#ifndef SIPCDR_CHECK_H
#define SIPCDR_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;
static const char *check_current = "";

#define CHECK_REPORT(ok, ...)                                                                      \
    do {                                                                                           \
        if (ok) {                                                                                  \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "FAIL %s (%s:%d): ", check_current, __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK(cond) CHECK_REPORT((cond), "%s", #cond)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        CHECK_REPORT(check_a_ == check_b_, "%s == %s: %lld != %lld", #a, #b, check_a_, check_b_);  \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        int check_ok_ = (check_a_ == NULL && check_b_ == NULL) ||                                  \
                        (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0);                 \
        CHECK_REPORT(check_ok_, "%s == %s: \"%s\" != \"%s\"", #a, #b,                              \
                     check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");              \
    } while (0)

/* Compare a {ptr,len} view with a C string. */
#define CHECK_EQ_SV(v, s)                                                                          \
    do {                                                                                           \
        const char *check_s_ = (s);                                                                \
        int check_ok_ = (v).len == strlen(check_s_) && memcmp((v).p, check_s_, (v).len) == 0;     \
        CHECK_REPORT(check_ok_, "%s == %s: \"%.*s\" != \"%s\"", #v, #s, (int)(v).len,              \
                     (v).p ? (v).p : "", check_s_);                                                \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        check_current = #fn;                                                                       \
        fn();                                                                                      \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif
