/* sc.h - the small set of return codes every stage shares.
 *
 * Stage functions (framing, privacy cut, scanning, state) return one of these,
 * never a mix of booleans, counts and errnos. Wrappers of libuv and system calls
 * return 0 or a negative errno instead, as libuv does.
 */
#ifndef SIPCDR_SC_H
#define SIPCDR_SC_H

enum sc_ret {
    SC_OK = 0,        /* done; outputs are valid */
    SC_ERROR = -1,    /* malformed or failed; outputs undefined, reason counted by caller */
    SC_AGAIN = -2,    /* need more bytes or more time; call again later */
    SC_DECLINED = -3, /* not mine (not SIP, not UDP...): pass or skip, not an error */
};

#define SC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define SC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SC_UNUSED __attribute__((unused))
#else
#define SC_PRINTF(fmt, args)
#define SC_UNUSED
#endif

#endif
