/* hash.c - SipHash-2-4 and a fixed-size chained hash table (see hash.h).
 *
 * SipHash as specified by Aumasson and Bernstein (2012): 64-bit output,
 * 2 compression rounds, 4 finalisation rounds.
 */
#include "hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

uint64_t hash_siphash24(const uint8_t key[16], const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    size_t full = len & ~(size_t)7;

    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

int hash_random_key(uint8_t key[16])
{
    ssize_t n = getrandom(key, 16, 0);
    if (n != 16)
        return n < 0 ? -errno : -EIO;
    return 0;
}

int htab_init(struct htab *t, size_t max_entries)
{
    size_t n = 16;
    while (n < max_entries / 2 && n < ((size_t)1 << 30))
        n <<= 1;
    t->buckets = calloc(n, sizeof(*t->buckets));
    t->mask = n - 1;
    t->count = 0;
    return t->buckets ? 0 : -ENOMEM;
}

void htab_free(struct htab *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->count = 0;
}

void htab_insert(struct htab *t, struct hnode *n, uint64_t hash)
{
    struct hnode **b = &t->buckets[hash & t->mask];
    n->hash = hash;
    n->next = *b;
    *b = n;
    t->count++;
}

void htab_remove(struct htab *t, struct hnode *n)
{
    struct hnode **pp = &t->buckets[n->hash & t->mask];
    while (*pp != NULL) {
        if (*pp == n) {
            *pp = n->next;
            n->next = NULL;
            t->count--;
            return;
        }
        pp = &(*pp)->next;
    }
}

struct hnode *htab_first(const struct htab *t, uint64_t hash)
{
    struct hnode *n = t->buckets[hash & t->mask];
    while (n != NULL && n->hash != hash)
        n = n->next;
    return n;
}

struct hnode *htab_next(const struct hnode *n, uint64_t hash)
{
    struct hnode *m = n->next;
    while (m != NULL && m->hash != hash)
        m = m->next;
    return m;
}
