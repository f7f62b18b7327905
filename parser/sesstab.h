/* sesstab.h - bounded table of live sessions (calls, SMS transactions).
 *
 * Entries embed struct sess and are owned by the module that allocates them
 * (dialog.c, sms.c); the table only links them. Each entry sits in exactly
 * one of a few lists, each list with its own idle timeout: an entry moves to
 * the tail of its list whenever it sees activity, so the head of every list
 * is its least recently active entry and expiry never scans.
 *
 * Time is packet time (now_us), never the wall clock, so replaying a capture
 * gives the same records every time.
 */
#ifndef SIPCDR_SESSTAB_H
#define SIPCDR_SESSTAB_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define SESS_LISTS_MAX 4

struct sess {
    struct hnode hnode;
    struct dlist lnode;
    int64_t last_us; /* last activity, packet time */
    uint8_t list;    /* which list holds it */
};

struct sesstab {
    struct htab ht;
    struct dlist lists[SESS_LISTS_MAX];
    int64_t timeout_us[SESS_LISTS_MAX];
    unsigned nlists;
    size_t count, max;
    uint8_t key[16]; /* SipHash key, random per table */
};

/* max: entry limit (the caller checks sesstab_full() before adding).
 * timeouts: nlists idle timeouts in microseconds. Returns 0 or -errno. */
int sesstab_init(struct sesstab *t, size_t max, unsigned nlists, const int64_t *timeouts);
void sesstab_free(struct sesstab *t); /* entries must have been removed */

uint64_t sesstab_hash(const struct sesstab *t, const void *key, size_t len);
static inline int sesstab_full(const struct sesstab *t) { return t->count >= t->max; }

void sesstab_add(struct sesstab *t, struct sess *s, uint64_t hash, unsigned list, int64_t now_us);
/* Record activity: move s to the tail of list. */
void sesstab_touch(struct sesstab *t, struct sess *s, unsigned list, int64_t now_us);
void sesstab_remove(struct sesstab *t, struct sess *s);

/* An entry whose list timeout has passed at now_us, or NULL. */
struct sess *sesstab_expired(struct sesstab *t, int64_t now_us);
/* The least recently active entry of the first non-empty list in the order
 * given (eviction preference), or NULL when all are empty. */
struct sess *sesstab_oldest(struct sesstab *t, const unsigned *order, unsigned n);

#endif
