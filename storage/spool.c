/* spool.c - append-only segment files of record batches (see spool.h). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record_codec.h"

#define FRAME_MAGIC 0x324c5053u /* "SPL2" little-endian */
#define FRAME_HDR 12
#define BATCH_HDR 12 /* first seq, count; the two names follow */
#define FRAME_MAX (64u * 1024 * 1024) /* a frame longer than this is not ours */
#define PATH_CAP 4096

struct segment {
    uint64_t id;
    uint64_t end;  /* end of the last valid frame */
    uint64_t disk; /* bytes the file takes */
};

struct spool {
    char dir[PATH_CAP - 64]; /* room for "/spool-<16 hex>.seg" and "/ack.tmp" */
    struct spool_limits lim;
    struct spool_stats st;
    struct segment *segs; /* sorted by id, owned */
    size_t nsegs, segcap;
    int wfd; /* newest segment, open for appending; -1 until the first append */
    size_t rseg;   /* read cursor: segment index ... */
    uint64_t roff; /* ... and offset */
    uint64_t peeked; /* length of the frame spool_peek() returned, 0 if none */
    uint32_t peeked_count;
    uint64_t next_id;
    int lockfd; /* DIR/lock, flock()ed while open */
};

uint32_t spool_crc32c(const void *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static int seg_path(const struct spool *s, uint64_t id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/spool-%016" PRIx64 ".seg", s->dir, id);
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

static int read_exact(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        done += (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        done += (size_t)w;
    }
    return 0;
}

/* Parse a payload's batch header: info, record count and where the records
 * start. Returns 0, or -1 when it is not a batch this spool writes. */
static int parse_batch(const uint8_t *p, size_t len, struct spool_batch_info *info, uint32_t *count, size_t *rec_off)
{
    if (len < BATCH_HDR + 2)
        return -1;
    uint32_t n = get32(p + 8);
    if (n == 0 || n > SPOOL_BATCH_MAX)
        return -1;
    size_t o = BATCH_HDR;
    char *names[2] = {info ? info->collector : NULL, info ? info->stream : NULL};
    for (int i = 0; i < 2; i++) {
        if (len - o < 1)
            return -1;
        size_t l = p[o++];
        if (l >= SPOOL_KEY_MAX || len - o < l || memchr(p + o, 0, l) != NULL)
            return -1;
        if (names[i] != NULL) {
            memcpy(names[i], p + o, l);
            names[i][l] = '\0';
        }
        o += l;
    }
    if (info != NULL)
        info->first_seq = get64(p);
    *count = n;
    *rec_off = o;
    return 0;
}

/* Check the frame at off of a file of size disk. Returns its total length,
 * or 0 when it is not a whole valid frame. *count receives its record count;
 * *payload the payload when payload is not NULL (caller frees). */
static uint64_t check_frame(int fd, uint64_t off, uint64_t disk, uint8_t **payload, uint32_t *count)
{
    uint8_t h[FRAME_HDR];
    if (disk - off < FRAME_HDR || read_exact(fd, h, FRAME_HDR, off) != 0)
        return 0;
    uint32_t len = get32(h + 4);
    if (get32(h) != FRAME_MAGIC || len < BATCH_HDR || len > FRAME_MAX || disk - off - FRAME_HDR < len)
        return 0;
    uint8_t *p = malloc(len);
    size_t rec_off;
    if (p == NULL || read_exact(fd, p, len, off + FRAME_HDR) != 0 || spool_crc32c(p, len) != get32(h + 8) ||
        parse_batch(p, len, NULL, count, &rec_off) != 0) {
        free(p);
        return 0;
    }
    if (payload != NULL)
        *payload = p;
    else
        free(p);
    return FRAME_HDR + (uint64_t)len;
}

static int add_segment(struct spool *s, uint64_t id)
{
    if (s->nsegs == s->segcap) {
        size_t cap = s->segcap ? s->segcap * 2 : 8;
        struct segment *n = realloc(s->segs, cap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        s->segs = n;
        s->segcap = cap;
    }
    s->segs[s->nsegs++] = (struct segment){id, 0, 0};
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const struct segment *)a)->id, y = ((const struct segment *)b)->id;
    return x < y ? -1 : x > y;
}

/* Scan one segment: count its frames, find its valid end; the newest one is
 * truncated at a torn tail. Frames before (ack_id, ack_off) were delivered. */
static int scan_segment(struct spool *s, size_t i, uint64_t ack_id, uint64_t ack_off)
{
    char path[PATH_CAP];
    int rc = seg_path(s, s->segs[i].id, path, sizeof(path));
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat stt;
    if (fstat(fd, &stt) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    uint64_t disk = (uint64_t)stt.st_size, off = 0, len;
    uint32_t count;
    while ((len = check_frame(fd, off, disk, NULL, &count)) != 0) {
        if (s->segs[i].id > ack_id || (s->segs[i].id == ack_id && off >= ack_off)) {
            s->st.batches_pending++;
            s->st.records_pending += count;
        }
        off += len;
    }
    if (off < disk) {
        if (i == s->nsegs - 1) {
            s->st.torn_tails++;
            s->st.torn_bytes += disk - off;
            if (ftruncate(fd, (off_t)off) != 0) {
                rc = -errno;
                close(fd);
                return rc;
            }
            disk = off;
        } else {
            s->st.corrupt_frames++;
        }
    }
    close(fd);
    s->segs[i].end = off;
    s->segs[i].disk = disk;
    s->st.bytes_on_disk += disk;
    return 0;
}

static void read_ack(struct spool *s, uint64_t *id, uint64_t *off)
{
    char path[PATH_CAP], buf[64] = "";
    *id = 0;
    *off = 0;
    snprintf(path, sizeof(path), "%s/ack", s->dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fgets(buf, sizeof(buf), f) != NULL && sscanf(buf, "%" SCNx64 " %" SCNu64, id, off) != 2)
        *id = *off = 0;
    fclose(f);
}

static int write_ack(struct spool *s)
{
    char path[PATH_CAP], tmp[PATH_CAP], buf[64];
    snprintf(path, sizeof(path), "%s/ack", s->dir);
    snprintf(tmp, sizeof(tmp), "%s/ack.tmp", s->dir);
    uint64_t id = s->rseg < s->nsegs ? s->segs[s->rseg].id : s->next_id;
    int n = snprintf(buf, sizeof(buf), "%" PRIx64 " %" PRIu64 "\n", id, s->rseg < s->nsegs ? s->roff : 0);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, buf, (size_t)n);
    if (rc == 0 && s->lim.fsync_each && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    return rc;
}

int spool_open(struct spool **out, const char *dir, const struct spool_limits *lim, char *err, size_t errlen)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create spool directory %s: %s", dir, strerror(e));
        return -e;
    }
    struct spool *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "cannot open spool %s: out of memory", dir);
        return -ENOMEM;
    }
    s->wfd = -1;
    s->lockfd = -1;
    s->lim = *lim;
    if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s", dir) >= sizeof(s->dir)) {
        free(s);
        snprintf(err, errlen, "spool directory path too long");
        return -ENAMETOOLONG;
    }
    /* Two writers appending to one segment would interleave frames, and one
     * acknowledging the other's batches would lose them: one owner at a
     * time. The lock goes with the descriptor, so a killed owner frees it. */
    char lpath[PATH_CAP];
    snprintf(lpath, sizeof(lpath), "%s/lock", s->dir);
    s->lockfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "spool %s is in use by another process", dir);
        else
            snprintf(err, errlen, "cannot lock spool %s: %s", dir, strerror(e));
        spool_close(s);
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        int e = errno;
        snprintf(err, errlen, "cannot read spool directory %s: %s", dir, strerror(e));
        spool_close(s);
        return -e;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        uint64_t id;
        char tail[8];
        if (sscanf(de->d_name, "spool-%16" SCNx64 ".se%1s", &id, tail) == 2 && strlen(de->d_name) == 26)
            rc = add_segment(s, id);
    }
    closedir(d);
    if (rc == 0) {
        if (s->nsegs > 1)
            qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_seg);
        uint64_t ack_id, ack_off;
        read_ack(s, &ack_id, &ack_off);
        for (size_t i = 0; rc == 0 && i < s->nsegs; i++)
            rc = scan_segment(s, i, ack_id, ack_off);
        /* Cursor: the acknowledged position, or the first later segment. */
        while (s->rseg < s->nsegs && s->segs[s->rseg].id < ack_id)
            s->rseg++;
        if (s->rseg < s->nsegs && s->segs[s->rseg].id == ack_id)
            s->roff = ack_off <= s->segs[s->rseg].end ? ack_off : s->segs[s->rseg].end;
        s->next_id = s->nsegs ? s->segs[s->nsegs - 1].id + 1 : 1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot open spool %s: %s", dir, strerror(-rc));
        spool_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void spool_close(struct spool *s)
{
    if (s == NULL)
        return;
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->lockfd >= 0)
        close(s->lockfd); /* releases the flock */
    free(s->segs);
    free(s);
}

/* Open the newest segment for appending, or start a new one. */
static int writable_segment(struct spool *s, uint64_t frame_len)
{
    struct segment *last = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
    if (last != NULL && s->wfd >= 0 && (last->end == 0 || last->end + frame_len <= s->lim.segment_bytes))
        return 0;
    if (last != NULL && s->wfd < 0 && last->end == last->disk &&
        (last->end == 0 || last->end + frame_len <= s->lim.segment_bytes)) {
        char path[PATH_CAP];
        int rc = seg_path(s, last->id, path, sizeof(path));
        if (rc < 0)
            return rc;
        s->wfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        return s->wfd < 0 ? -errno : 0;
    }
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = -1;
    int rc = add_segment(s, s->next_id++);
    if (rc < 0)
        return rc;
    char path[PATH_CAP];
    rc = seg_path(s, s->segs[s->nsegs - 1].id, path, sizeof(path));
    if (rc < 0)
        return rc;
    s->wfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (s->wfd < 0) {
        rc = -errno;
        s->nsegs--;
        return rc;
    }
    return 0;
}

int spool_append(struct spool *s, const struct spool_batch_info *info, const struct record *const *recs, size_t n,
                 char *err, size_t errlen)
{
    size_t lc = strlen(info->collector), ls = strlen(info->stream);
    if (n == 0 || n > SPOOL_BATCH_MAX || lc >= SPOOL_KEY_MAX || ls >= SPOOL_KEY_MAX) {
        snprintf(err, errlen, "cannot spool: bad batch (%zu records)", n);
        return -EINVAL;
    }
    size_t hdr = FRAME_HDR + BATCH_HDR + 2 + lc + ls;
    size_t cap = hdr + n * RECORD_ENCODED_MAX;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        snprintf(err, errlen, "cannot spool: out of memory");
        return -ENOMEM;
    }
    size_t o = FRAME_HDR + BATCH_HDR;
    buf[o++] = (uint8_t)lc;
    memcpy(buf + o, info->collector, lc);
    o += lc;
    buf[o++] = (uint8_t)ls;
    memcpy(buf + o, info->stream, ls);
    o += ls;
    for (size_t i = 0; i < n; i++) {
        size_t l = record_encode(recs[i], buf + o, cap - o);
        if (l == 0) {
            free(buf);
            snprintf(err, errlen, "record too large to spool");
            return -EINVAL;
        }
        o += l;
    }
    uint32_t plen = (uint32_t)(o - FRAME_HDR);
    put64(buf + FRAME_HDR, info->first_seq);
    put32(buf + FRAME_HDR + 8, (uint32_t)n);
    put32(buf, FRAME_MAGIC);
    put32(buf + 4, plen);
    put32(buf + 8, spool_crc32c(buf + FRAME_HDR, plen));
    if (s->st.bytes_on_disk + o > s->lim.max_bytes) {
        s->st.refused_full++;
        free(buf);
        snprintf(err, errlen, "spool full (%" PRIu64 " of %" PRIu64 " bytes)", s->st.bytes_on_disk, s->lim.max_bytes);
        return -ENOSPC;
    }
    int rc = writable_segment(s, o);
    if (rc == 0) {
        struct segment *seg = &s->segs[s->nsegs - 1];
        rc = write_all(s->wfd, buf, o);
        if (rc == 0 && s->lim.fsync_each && fsync(s->wfd) != 0)
            rc = -errno;
        if (rc != 0 && ftruncate(s->wfd, (off_t)seg->end) != 0)
            rc = -errno; /* the frame may be torn: the next open truncates it */
    }
    free(buf);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write spool: %s", strerror(-rc));
        return rc;
    }
    struct segment *seg = &s->segs[s->nsegs - 1];
    seg->end += o;
    seg->disk = seg->end;
    s->st.bytes_on_disk += o;
    s->st.batches_written++;
    s->st.batches_pending++;
    s->st.records_written += n;
    s->st.records_pending += n;
    return 0;
}

/* Move the cursor past fully read segments, deleting those no one writes to. */
static int settle_cursor(struct spool *s)
{
    while (s->rseg < s->nsegs && s->roff >= s->segs[s->rseg].end && s->rseg + 1 < s->nsegs) {
        char path[PATH_CAP];
        int rc = seg_path(s, s->segs[s->rseg].id, path, sizeof(path));
        if (rc < 0 || (unlink(path) != 0 && errno != ENOENT))
            return rc < 0 ? rc : -errno;
        s->st.bytes_on_disk -= s->segs[s->rseg].disk;
        memmove(&s->segs[s->rseg], &s->segs[s->rseg + 1], (s->nsegs - s->rseg - 1) * sizeof(*s->segs));
        s->nsegs--;
        s->roff = 0;
    }
    return 0;
}

int spool_peek(struct spool *s, struct spool_batch_info *info, struct record *out, size_t cap, size_t *n)
{
    *n = 0;
    s->peeked = 0;
    int rc = settle_cursor(s);
    if (rc < 0)
        return rc;
    if (s->rseg >= s->nsegs || s->roff >= s->segs[s->rseg].end)
        return -ENOENT;
    char path[PATH_CAP];
    rc = seg_path(s, s->segs[s->rseg].id, path, sizeof(path));
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) /* a segment that vanished (directory deleted) is not "empty" */
        return errno == ENOENT ? -EIO : -errno;
    uint8_t *p = NULL;
    uint32_t count;
    uint64_t len = check_frame(fd, s->roff, s->segs[s->rseg].end, &p, &count);
    close(fd);
    if (len == 0)
        return -EIO;
    size_t plen = (size_t)(len - FRAME_HDR), o;
    if (parse_batch(p, plen, info, &count, &o) != 0) {
        free(p);
        return -EIO;
    }
    if (count > cap) {
        free(p);
        return -EOVERFLOW;
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t l = record_decode(p + o, plen - o, &out[i]);
        if (l == 0) {
            free(p);
            return -EIO;
        }
        o += l;
    }
    free(p);
    if (o != plen)
        return -EIO;
    *n = count;
    s->peeked = len;
    s->peeked_count = count;
    return 0;
}

int spool_ack(struct spool *s)
{
    if (s->peeked == 0)
        return -EINVAL;
    s->roff += s->peeked;
    s->peeked = 0;
    s->st.batches_acked++;
    s->st.batches_pending--;
    s->st.records_pending -= s->peeked_count;
    int rc = settle_cursor(s);
    return rc < 0 ? rc : write_ack(s);
}

const struct spool_stats *spool_get_stats(const struct spool *s) { return &s->st; }
