/* stream.c - stream keys (see stream.h). */
#include "stream.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hash.h"

/* Fixed keys: the hash must come out the same in every process and build.
 * Any two different constants do; these are "sipcdr-stream-k0"/"-k1". */
static const uint8_t key0[16] = {'s', 'i', 'p', 'c', 'd', 'r', '-', 's', 't', 'r', 'e', 'a', 'm', '-', 'k', '0'};
static const uint8_t key1[16] = {'s', 'i', 'p', 'c', 'd', 'r', '-', 's', 't', 'r', 'e', 'a', 'm', '-', 'k', '1'};

#define CHUNK 255

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* state = H(state || len || bytes) for one chunk of at most CHUNK bytes:
 * SipHash is one-shot, so the chain is what makes the hash incremental,
 * and the length byte keeps chunk boundaries unambiguous. */
static void absorb(struct stream_hash *s, const void *data, size_t len)
{
    uint8_t buf[16 + 1 + CHUNK];
    put64(buf, s->h[0]);
    put64(buf + 8, s->h[1]);
    buf[16] = (uint8_t)len;
    memcpy(buf + 17, data, len);
    s->h[0] = hash_siphash24(key0, buf, 17 + len);
    s->h[1] = hash_siphash24(key1, buf, 17 + len);
}

void stream_hash_init(struct stream_hash *s)
{
    s->h[0] = s->h[1] = 0;
    absorb(s, "sipcdr-stream-1", 15); /* the format of what follows */
}

void stream_hash_add(struct stream_hash *s, const void *data, size_t len)
{
    uint8_t l[8];
    put64(l, (uint64_t)len);
    absorb(s, l, sizeof(l));
    const uint8_t *p = data;
    while (len > 0) {
        size_t c = len < CHUNK ? len : CHUNK;
        absorb(s, p, c);
        p += c;
        len -= c;
    }
}

int stream_hash_text(const struct stream_hash *s, const char *prefix, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%016llx%016llx", prefix, (unsigned long long)s->h[0], (unsigned long long)s->h[1]);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

static void add_u64(struct stream_hash *s, uint64_t v)
{
    uint8_t b[8];
    put64(b, v);
    stream_hash_add(s, b, sizeof(b));
}

int stream_key_files(const char *const *files, size_t n, const char *salt, char *out, size_t cap, char *err,
                     size_t errlen)
{
    struct stream_hash h;
    stream_hash_init(&h);
    stream_hash_add(&h, "read", 4);
    stream_hash_add(&h, salt, strlen(salt));
    add_u64(&h, (uint64_t)n);
    for (size_t i = 0; i < n; i++) {
        /* The canonical path, so "./a.pcap" and "/data/a.pcap" are one input;
         * size and mtime, so a file rewritten in place is a new one. */
        errno = 0;
        char *real = realpath(files[i], NULL);
        if (real == NULL && errno == ENOMEM) {
            snprintf(err, errlen, "stream key: out of memory");
            return -1;
        }
        const char *path = real != NULL ? real : files[i];
        struct stat st;
        int ok = stat(path, &st) == 0;
        stream_hash_add(&h, "file", 4);
        stream_hash_add(&h, path, strlen(path));
        add_u64(&h, ok ? (uint64_t)st.st_size : UINT64_MAX);
        add_u64(&h, ok ? (uint64_t)st.st_mtim.tv_sec : UINT64_MAX);
        add_u64(&h, ok ? (uint64_t)st.st_mtim.tv_nsec : UINT64_MAX);
        free(real);
    }
    if (stream_hash_text(&h, "read-", out, cap) != 0) {
        snprintf(err, errlen, "stream key: buffer too small");
        return -1;
    }
    return 0;
}
