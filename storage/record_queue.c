/* record_queue.c - bounded ring of records (see record_queue.h). */
#include "record_queue.h"

#include <errno.h>
#include <stdlib.h>

int rq_init(struct record_queue *q, size_t cap)
{
    q->slots = NULL;
    q->cap = q->head = q->count = q->high_water = 0;
    q->pushed = q->released = 0;
    if (cap == 0)
        return -EINVAL;
    q->slots = calloc(cap, sizeof(*q->slots));
    if (q->slots == NULL)
        return -ENOMEM;
    q->cap = cap;
    return 0;
}

void rq_free(struct record_queue *q)
{
    free(q->slots);
    q->slots = NULL;
    q->cap = q->count = q->head = 0;
}

struct record *rq_push_slot(struct record_queue *q, enum record_kind kind)
{
    if (q->count == q->cap)
        return NULL;
    struct record *r = &q->slots[(q->head + q->count) % q->cap];
    q->count++;
    q->pushed++;
    if (q->count > q->high_water)
        q->high_water = q->count;
    record_init(r, kind);
    return r;
}

const struct record *rq_peek(const struct record_queue *q, size_t i)
{
    return &q->slots[(q->head + i) % q->cap];
}

void rq_release(struct record_queue *q, size_t n)
{
    if (n > q->count)
        n = q->count;
    q->head = (q->head + n) % q->cap;
    q->count -= n;
    q->released += n;
}
