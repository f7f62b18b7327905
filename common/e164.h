/* e164.h - numbers as signalled -> E.164 ("+4021...") by the operator's rules.
 *
 * Records keep the number as signalled (the raw user part of a URI) and, in
 * a *_e164 column beside it, the same number in international form, so that a
 * regulator request for "+40 21 ...", "0040 21 ..." or "021 ..." finds the
 * same rows (ITU-T E.164, E.123 for prefixes, RFC 3966 for tel: syntax).
 *
 * The rules are the dialling plan of the operator's network:
 *   country_code          digits of the home country code ("40")
 *   national_prefix       trunk prefix of national numbers ("0"), may be ""
 *   international_prefix  prefix of international numbers ("00"), may be ""
 * With all three empty only numbers that are already global ("+...")
 * normalise. The normaliser is pure and allocation-free: it may run on the
 * hot path and in export queries alike.
 */
#ifndef SIPCDR_E164_H
#define SIPCDR_E164_H

#include <stddef.h>

#define E164_DIGITS_MAX 15                /* ITU-T E.164 §6 */
#define E164_MAX (E164_DIGITS_MAX + 2)    /* '+', digits, NUL */
#define E164_DIGITS_MIN 3                 /* shorter is a service code, not a number */

struct e164_rules {
    char country_code[4];         /* 1..3 digits, "" when unknown */
    char national_prefix[4];      /* 0..3 digits */
    char international_prefix[5]; /* 0..4 digits */
};

/* All empty: only global numbers normalise. */
void e164_rules_default(struct e164_rules *r);

/* Normalise raw[0..len) — a URI user part as signalled, possibly with
 * visual separators (space - . ( ), RFC 3966 §3) and parameters after ';'
 * (phone-context=+CC... makes a local number global, RFC 3966 §5.1.5).
 * Writes "+digits" and a NUL to out (cap >= E164_MAX) and returns its length;
 * returns 0 and writes "" when raw is not a telephone number under the rules
 * (a name such as "alice", '*' or '#' codes, a national number without a
 * country code configured, fewer than 3 or more than 15 digits). */
size_t e164_normalize(const struct e164_rules *r, const char *raw, size_t len, char *out, size_t cap);

#endif
