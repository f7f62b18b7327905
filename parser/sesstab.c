/* sesstab.c - bounded session table with per-list idle expiry (see sesstab.h). */
#include "sesstab.h"

#include <errno.h>

int sesstab_init(struct sesstab *t, size_t max, unsigned nlists, const int64_t *timeouts)
{
    if (nlists == 0 || nlists > SESS_LISTS_MAX || max == 0)
        return -EINVAL;
    int rc = hash_random_key(t->key);
    if (rc < 0)
        return rc;
    rc = htab_init(&t->ht, max);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < nlists; i++) {
        dlist_init(&t->lists[i]);
        t->timeout_us[i] = timeouts[i];
    }
    t->nlists = nlists;
    t->count = 0;
    t->max = max;
    return 0;
}

void sesstab_free(struct sesstab *t) { htab_free(&t->ht); }

uint64_t sesstab_hash(const struct sesstab *t, const void *key, size_t len)
{
    return hash_siphash24(t->key, key, len);
}

void sesstab_add(struct sesstab *t, struct sess *s, uint64_t hash, unsigned list, int64_t now_us)
{
    htab_insert(&t->ht, &s->hnode, hash);
    s->list = (uint8_t)list;
    s->last_us = now_us;
    dlist_push_tail(&t->lists[list], &s->lnode);
    t->count++;
}

void sesstab_touch(struct sesstab *t, struct sess *s, unsigned list, int64_t now_us)
{
    /* Packet times from two legs or two files can step back a little; an
     * entry's activity time never moves backwards. */
    if (now_us > s->last_us)
        s->last_us = now_us;
    s->list = (uint8_t)list;
    dlist_move_tail(&t->lists[list], &s->lnode);
}

void sesstab_remove(struct sesstab *t, struct sess *s)
{
    htab_remove(&t->ht, &s->hnode);
    dlist_remove(&s->lnode);
    t->count--;
}

struct sess *sesstab_expired(struct sesstab *t, int64_t now_us)
{
    for (unsigned i = 0; i < t->nlists; i++) {
        if (dlist_empty(&t->lists[i]))
            continue;
        struct sess *s = container_of(t->lists[i].next, struct sess, lnode);
        if (now_us - s->last_us >= t->timeout_us[i])
            return s;
    }
    return NULL;
}

struct sess *sesstab_oldest(struct sesstab *t, const unsigned *order, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct dlist *h = &t->lists[order[i]];
        if (!dlist_empty(h))
            return container_of(h->next, struct sess, lnode);
    }
    return NULL;
}
