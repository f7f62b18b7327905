/* hash.h - keyed hashing and the intrusive containers the state tables share.
 *
 * Keys such as Call-IDs come from the network, so tables hash them with
 * SipHash-2-4 under a per-process random key: an attacker who cannot see the
 * key cannot aim many Call-IDs at one bucket.
 *
 * struct dlist: circular doubly linked list with a sentinel head.
 * struct htab: chained hash table whose bucket array is sized once at init
 * from the table's entry limit and never grows, so a full table costs no
 * rehash pause; entries embed struct hnode and are owned by the caller.
 */
#ifndef SIPCDR_HASH_H
#define SIPCDR_HASH_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

uint64_t hash_siphash24(const uint8_t key[16], const void *data, size_t len);

/* Fill key with random bytes (getrandom). Returns 0 or a negative errno. */
int hash_random_key(uint8_t key[16]);

struct dlist {
    struct dlist *prev, *next;
};

static inline void dlist_init(struct dlist *h) { h->prev = h->next = h; }
static inline int dlist_empty(const struct dlist *h) { return h->next == h; }
static inline void dlist_remove(struct dlist *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
static inline void dlist_push_tail(struct dlist *h, struct dlist *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}
/* Move n (already linked somewhere, or self-linked) to the tail of h. */
static inline void dlist_move_tail(struct dlist *h, struct dlist *n)
{
    dlist_remove(n);
    dlist_push_tail(h, n);
}

struct hnode {
    struct hnode *next;
    uint64_t hash;
};

struct htab {
    struct hnode **buckets; /* owned */
    size_t mask;
    size_t count;
};

/* Buckets for about max_entries entries (a power of two >= max_entries / 2).
 * Returns 0 or -ENOMEM. */
int htab_init(struct htab *t, size_t max_entries);
void htab_free(struct htab *t); /* frees the bucket array only */
void htab_insert(struct htab *t, struct hnode *n, uint64_t hash);
void htab_remove(struct htab *t, struct hnode *n);
/* First node with this hash, or NULL; continue with htab_next(). */
struct hnode *htab_first(const struct htab *t, uint64_t hash);
struct hnode *htab_next(const struct hnode *n, uint64_t hash);

#endif
