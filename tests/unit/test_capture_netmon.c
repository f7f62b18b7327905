/* test_capture_netmon.c - NetMon 2.x files: round trip, torn files, lying
 * tables and headers, per-frame media, the shared corpus file.
 *
 * Files are built here byte by byte (nm_build) so each test controls every
 * field. Images handed to the reader through fmemopen() are exact-size heap
 * copies, and the reader's packet buffer is exact-size too, so an overread on
 * either side is an ASan report rather than a silent pass.
 */
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_file.h"
#include "capture_netmon.h"
#include "check.h"
#include "sc.h"

#define HDR_PAD 128 /* NetMon pads its file header to 128 bytes */
#define MAX_FRAMES 8
#define MAX_DATA 2048

/* ---- a tiny NetMon 2.x writer ------------------------------------------ */

struct tframe {
    int64_t rel_us; /* offset from capture start, may be negative */
    uint32_t wirelen;
    uint32_t caplen;
    uint16_t media;    /* trailer media type (2.1+) */
    uint64_t filetime; /* trailer UTC time (2.3+) */
};

struct tspec {
    unsigned major, minor;
    uint16_t media;  /* file header media type */
    uint16_t st[8];  /* SYSTEMTIME: year, month, dow, day, hour, min, sec, ms */
    int table_first; /* table right after the header instead of at the end */
    size_t nframes;
    const struct tframe *f;
    size_t frame_end[MAX_FRAMES]; /* out: file offset just past frame i */
    size_t table_off, table_end;  /* out */
};

static size_t trailer_len(unsigned minor) { return minor == 0 ? 0 : minor == 1 ? 2 : minor == 2 ? 6 : 15; }

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t frame_byte(size_t frame, size_t j) { return (uint8_t)(0x11 * (frame + 1) + j * 7); }

/* The whole file as an exact-size heap buffer; *len receives its size. */
static uint8_t *nm_build(struct tspec *s, size_t *len)
{
    size_t tl = trailer_len(s->minor), table_len = 4 * s->nframes, size = HDR_PAD + table_len;
    for (size_t i = 0; i < s->nframes; i++)
        size += 16 + s->f[i].caplen + tl;
    uint8_t *b = calloc(1, size);
    memcpy(b, "GMBU", 4);
    b[4] = (uint8_t)s->minor;
    b[5] = (uint8_t)s->major;
    put16(b + 6, s->media);
    for (int i = 0; i < 8; i++)
        put16(b + 8 + 2 * i, s->st[i]);
    size_t at = HDR_PAD;
    if (s->table_first) {
        s->table_off = at;
        at += table_len;
    }
    for (size_t i = 0; i < s->nframes; i++) {
        const struct tframe *f = &s->f[i];
        if (s->table_first)
            put32(b + s->table_off + 4 * i, (uint32_t)at);
        else
            put32(b + size - table_len + 4 * i, (uint32_t)at);
        put64(b + at, (uint64_t)f->rel_us);
        put32(b + at + 8, f->wirelen);
        put32(b + at + 12, f->caplen);
        at += 16;
        for (size_t j = 0; j < f->caplen; j++)
            b[at + j] = frame_byte(i, j);
        at += f->caplen;
        if (tl >= 2)
            put16(b + at, f->media);
        if (tl >= 6)
            put32(b + at + 2, 0);
        if (tl >= 15)
            put64(b + at + 6, f->filetime);
        at += tl;
        s->frame_end[i] = at;
    }
    if (!s->table_first)
        s->table_off = at;
    s->table_end = s->table_off + table_len;
    put32(b + 24, (uint32_t)s->table_off);
    put32(b + 28, (uint32_t)table_len);
    *len = size;
    return b;
}

/* 2024-02-29 23:59:59.999 UTC (a leap day, one millisecond before March):
 * 1709164800 is 2024-02-29 00:00:00 UTC (date -u -d 2024-02-29 +%s). */
#define START_US (INT64_C(1709251199) * 1000000 + 999000)

static const struct tframe three_frames[] = {
    {0, 60, 60, 1, 0},
    {1, 1514, 93, 1, 0}, /* snapped: 93 of 1514 bytes, crosses into March */
    {1500000, 42, 42, 1, 0},
};

static struct tspec base_spec(void)
{
    struct tspec s = {.major = 2,
                      .minor = 0,
                      .media = 1,
                      .st = {2024, 2, 4, 29, 23, 59, 59, 999},
                      .nframes = 3,
                      .f = three_frames};
    return s;
}

/* ---- what the callback saw --------------------------------------------- */

struct seen {
    unsigned n;
    int dlt[MAX_FRAMES];
    int64_t ts[MAX_FRAMES];
    size_t caplen[MAX_FRAMES], wirelen[MAX_FRAMES];
    uint8_t data[MAX_FRAMES][MAX_DATA];
    const uint8_t *last; /* the reader's buffer, to see it wiped afterwards */
    size_t last_len;
};

static void on_packet(void *ctx, int dlt, int64_t ts_us, uint8_t *data, size_t caplen, size_t wirelen)
{
    struct seen *s = ctx;
    if (s->n < MAX_FRAMES && caplen <= MAX_DATA) {
        s->dlt[s->n] = dlt;
        s->ts[s->n] = ts_us;
        s->caplen[s->n] = caplen;
        s->wirelen[s->n] = wirelen;
        memcpy(s->data[s->n], data, caplen);
    }
    /* the privacy cut writes in place: the buffer must take it */
    if (caplen > 0)
        memset(data, 0xAA, caplen);
    s->last = data;
    s->last_len = caplen;
    s->n++;
}

static int frame_bytes_ok(const struct seen *s, unsigned i, const struct tframe *f)
{
    if (s->caplen[i] != f->caplen || s->wirelen[i] != f->wirelen)
        return 0;
    for (size_t j = 0; j < f->caplen; j++)
        if (s->data[i][j] != frame_byte(i, j))
            return 0;
    return 1;
}

/* fmemopen over an exact-size heap copy of the first len bytes of img. The
 * copy must outlive the stream: *copy receives it. */
static FILE *mem_stream(const uint8_t *img, size_t len, uint8_t **copy)
{
    *copy = malloc(len > 0 ? len : 1);
    if (len > 0)
        memcpy(*copy, img, len);
    FILE *fp = fmemopen(*copy, len, "r");
    if (fp != NULL)
        setvbuf(fp, NULL, _IONBF, 0);
    return fp;
}

static const char *tmp_path(const char *tag)
{
    static char path[96];
    snprintf(path, sizeof(path), "/tmp/sipcdr-nm-%d-%s.cap", (int)getpid(), tag);
    return path;
}

static void write_file(const char *path, const uint8_t *img, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK_EQ_INT(fwrite(img, 1, len, f), len);
    CHECK_EQ_INT(fclose(f), 0);
}

static struct netmon *open_mem(const uint8_t *img, size_t len, uint8_t **copy, char *err, size_t errlen)
{
    FILE *fp = mem_stream(img, len, copy);
    CHECK(fp != NULL);
    if (fp == NULL) {
        snprintf(err, errlen, "fmemopen failed");
        return NULL;
    }
    return netmon_open_stream(fp, err, errlen);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* ---- tests ------------------------------------------------------------- */

static void check_three(const struct seen *s)
{
    CHECK_EQ_INT(s->n, 3);
    for (unsigned i = 0; i < 3 && i < s->n; i++) {
        CHECK_EQ_INT(s->dlt[i], DLT_EN10MB);
        CHECK(frame_bytes_ok(s, i, &three_frames[i]));
    }
    CHECK_EQ_INT(s->ts[0], START_US);
    CHECK_EQ_INT(s->ts[1], START_US + 1);              /* 2024-02-29 23:59:59.999001 */
    CHECK_EQ_INT(s->ts[2], INT64_C(1709251201499000)); /* 2024-03-01 00:00:01.499 */
}

static void three_ethernet_frames_round_trip(void)
{
    struct tspec sp = base_spec();
    size_t len;
    uint8_t *img = nm_build(&sp, &len);
    char err[256] = "";
    uint8_t *copy;
    struct netmon *nm = open_mem(img, len, &copy, err, sizeof(err));
    CHECK(nm != NULL);
    if (nm != NULL) {
        struct seen s = {0};
        unsigned n;
        CHECK_EQ_INT(netmon_dlt(nm), DLT_EN10MB);
        CHECK_EQ_INT(netmon_frames(nm), 3);
        CHECK_EQ_INT(netmon_read(nm, 2, on_packet, &s, &n, err, sizeof(err)), NETMON_MORE);
        CHECK_EQ_INT(n, 2);
        /* the buffer the callback saw was wiped once it returned */
        CHECK(all_zero(s.last, s.last_len));
        CHECK_EQ_INT(netmon_read(nm, 2, on_packet, &s, &n, err, sizeof(err)), NETMON_EOF);
        CHECK_EQ_INT(n, 1);
        CHECK(all_zero(s.last, s.last_len));
        CHECK_EQ_INT(netmon_read(nm, 2, on_packet, &s, &n, err, sizeof(err)), NETMON_EOF);
        CHECK_EQ_INT(n, 0);
        check_three(&s);
        netmon_close(nm);
    }
    free(copy);

    /* the same through a real file and the path API */
    const char *path = tmp_path("rt");
    write_file(path, img, len);
    nm = netmon_open(path, err, sizeof(err));
    CHECK(nm != NULL);
    if (nm != NULL) {
        struct seen s = {0};
        unsigned n;
        CHECK_EQ_INT(netmon_read(nm, 100, on_packet, &s, &n, err, sizeof(err)), NETMON_EOF);
        CHECK_EQ_INT(n, 3);
        check_three(&s);
        netmon_close(nm);
    }
    unlink(path);
    free(img);
}

/* One truncation: open through fmemopen and, for the production path, a
 * real file; expect refusal while the table is cut, else the whole frames
 * before the cut and then an error (EOF only at full length). */
static void check_truncated(const struct tspec *sp, const uint8_t *img, size_t full, size_t cut)
{
    int want_open = cut >= sp->table_end && (sp->table_first || cut == full);
    unsigned want_n = 0;
    for (size_t i = 0; i < sp->nframes; i++)
        if (sp->frame_end[i] <= cut)
            want_n = (unsigned)i + 1;
        else
            break;
    for (int via_path = 0; via_path < 2; via_path++) {
        char err[256] = "";
        uint8_t *copy = NULL;
        struct netmon *nm;
        const char *path = tmp_path("cut");
        if (via_path) {
            write_file(path, img, cut);
            nm = netmon_open(path, err, sizeof(err));
        } else {
            nm = open_mem(img, cut, &copy, err, sizeof(err));
        }
        CHECK_REPORT((nm != NULL) == want_open, "cut %zu of %zu (path %d): open %d, want %d (%s)", cut, full,
                     via_path, nm != NULL, want_open, err);
        if (nm == NULL) {
            CHECK(strstr(err, "NetMon") != NULL);
        } else {
            struct seen s = {0};
            unsigned n;
            enum netmon_status st = netmon_read(nm, 100, on_packet, &s, &n, err, sizeof(err));
            CHECK_EQ_INT(st, cut == full ? NETMON_EOF : NETMON_ERROR);
            CHECK_REPORT(n == want_n && s.n == want_n, "cut %zu: %u frames, want %u", cut, n, want_n);
            for (unsigned i = 0; i < s.n && i < MAX_FRAMES; i++)
                CHECK(frame_bytes_ok(&s, i, &sp->f[i]));
            if (st == NETMON_ERROR)
                CHECK(strstr(err, "truncated") != NULL);
            netmon_close(nm);
        }
        free(copy);
        if (via_path)
            unlink(path);
    }
}

static void truncated_at_every_length(void)
{
    static const struct tframe with_trailers[] = {
        {0, 60, 60, 1, 1},
        {5, 93, 93, 9, 2},
        {7, 42, 42, 0xFFFD, 3},
    };
    for (int minor = 0; minor <= 3; minor += 3) {
        for (int first = 0; first < 2; first++) {
            struct tspec sp = base_spec();
            sp.minor = (unsigned)minor;
            sp.table_first = first;
            if (minor > 0)
                sp.f = with_trailers;
            size_t len;
            uint8_t *img = nm_build(&sp, &len);
            if (minor > 0) {
                /* the metadata frame is skipped, never delivered: leave it
                 * out of the frame count expected before a cut */
                sp.nframes = 2;
            }
            for (size_t cut = 0; cut <= len; cut++)
                check_truncated(&sp, img, len, cut);
            free(img);
        }
    }
}

/* Frame 2's table entry or header lies; frame 1 is delivered, then an error
 * that stays. */
static void frame_offsets_outside_the_file(void)
{
    struct tspec sp = base_spec();
    size_t len;
    uint8_t *img = nm_build(&sp, &len);
    const size_t entry2 = sp.table_off + 4;
    const size_t frame2 = sp.frame_end[0];
    struct {
        size_t at;
        uint32_t value;
        const char *says;
    } lies[] = {
        {entry2, (uint32_t)len, "outside the file"},
        {entry2, (uint32_t)len - 8, "outside the file"}, /* header straddles the end */
        {entry2, 0xFFFFFFFFu, "outside the file"},
        {entry2, 4, "overlaps the file header"},
        {frame2 + 12, 0x7FFFFFFFu, "claims"},                          /* absurd captured length */
        {frame2 + 12, (uint32_t)(len - frame2 - 16 + 1), "truncated"}, /* runs one byte past the end */
    };
    for (size_t k = 0; k < SC_ARRAY_LEN(lies); k++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, img, len);
        put32(bad + lies[k].at, lies[k].value);
        char err[256] = "";
        uint8_t *copy;
        struct netmon *nm = open_mem(bad, len, &copy, err, sizeof(err));
        CHECK(nm != NULL);
        if (nm != NULL) {
            struct seen s = {0};
            unsigned n;
            CHECK_EQ_INT(netmon_read(nm, 100, on_packet, &s, &n, err, sizeof(err)), NETMON_ERROR);
            CHECK_EQ_INT(n, 1);
            CHECK(frame_bytes_ok(&s, 0, &three_frames[0]));
            CHECK_REPORT(strstr(err, "frame 2") && strstr(err, lies[k].says), "lie %zu: %s", k, err);
            err[0] = '\0';
            CHECK_EQ_INT(netmon_read(nm, 100, on_packet, &s, &n, err, sizeof(err)), NETMON_ERROR);
            CHECK_EQ_INT(n, 0);
            CHECK(strstr(err, "frame 2") != NULL);
            netmon_close(nm);
        }
        free(copy);
        free(bad);
    }
    free(img);
}

/* Table lengths and offsets that would make us allocate or read absurdly
 * are refused at open. */
static void huge_or_misplaced_frame_table_is_refused(void)
{
    struct tspec sp = base_spec();
    size_t len;
    uint8_t *img = nm_build(&sp, &len);
    struct {
        uint32_t off, len;
        const char *says;
    } tables[] = {
        {(uint32_t)sp.table_off, 0xFFFFFFFCu, "claims"},
        {(uint32_t)sp.table_off, 4u * 1000, "claims"}, /* more frames than 16-byte headers fit */
        {(uint32_t)sp.table_off, 14, "multiple of 4"},
        {(uint32_t)sp.table_off + 4, 12, "outside"}, /* runs 4 bytes past the end */
        {0xFFFFFFF0u, 12, "outside"},                /* offset + length wraps 32 bits */
        {8, 12, "outside"},                          /* inside the header */
    };
    for (size_t k = 0; k < SC_ARRAY_LEN(tables); k++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, img, len);
        put32(bad + 24, tables[k].off);
        put32(bad + 28, tables[k].len);
        char err[256] = "";
        uint8_t *copy;
        struct netmon *nm = open_mem(bad, len, &copy, err, sizeof(err));
        CHECK(nm == NULL);
        CHECK_REPORT(strstr(err, tables[k].says) != NULL, "table %zu: %s", k, err);
        netmon_close(nm);
        free(copy);
        free(bad);
    }
    /* an empty table is an empty capture, not an error */
    put32(img + 28, 0);
    char err[256] = "";
    uint8_t *copy;
    struct netmon *nm = open_mem(img, len, &copy, err, sizeof(err));
    CHECK(nm != NULL);
    if (nm != NULL) {
        struct seen s = {0};
        unsigned n;
        CHECK_EQ_INT(netmon_read(nm, 10, on_packet, &s, &n, err, sizeof(err)), NETMON_EOF);
        CHECK_EQ_INT(n, 0);
        netmon_close(nm);
    }
    free(copy);
    free(img);
}

static void bad_headers_are_refused(void)
{
    struct {
        size_t at;
        int width; /* 1 or 2 bytes */
        uint16_t value;
        const char *says;
    } cases[] = {
        {3, 1, 'V', "no GMBU magic"},      /* "GMBV" */
        {5, 1, 1, "version 1.0"},          /* NetMon 1.x */
        {5, 1, 3, "version 3.0"},          /* no such version */
        {6, 2, 2, "media type 2"},         /* Token Ring, 2.0: no per-frame media */
        {6, 2, 0xFFFF, "media type"},      /* a metadata type as the file's media */
        {10, 2, 13, "not a valid date"},   /* month 13 */
        {14, 2, 30, "not a valid date"},   /* 2024-02-30 */
        {8, 2, 0, "not a valid date"},     /* year 0 */
        {16, 2, 24, "not a valid date"},   /* hour 24 */
        {22, 2, 1000, "not a valid date"}, /* 1000 ms */
    };
    struct tspec sp = base_spec();
    size_t len;
    uint8_t *img = nm_build(&sp, &len);
    for (size_t k = 0; k < SC_ARRAY_LEN(cases); k++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, img, len);
        if (cases[k].width == 1)
            bad[cases[k].at] = (uint8_t)cases[k].value;
        else
            put16(bad + cases[k].at, cases[k].value);
        char err[256] = "";
        uint8_t *copy;
        struct netmon *nm = open_mem(bad, len, &copy, err, sizeof(err));
        CHECK(nm == NULL);
        CHECK_REPORT(strstr(err, cases[k].says) != NULL, "case %zu: %s", k, err);
        netmon_close(nm);
        free(copy);
        free(bad);
    }
    /* the magic and a little more, but not the whole header */
    char err[256] = "";
    uint8_t *copy;
    CHECK(open_mem(img, 20, &copy, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "header truncated") != NULL);
    free(copy);
    free(img);
}

/* 2.1 and later: each frame names its media; metadata frames are skipped;
 * media with no DLT arrive as NETMON_DLT_NONE so the decoder counts them. */
static void trailers_give_each_frame_its_media(void)
{
    static const struct tframe mixed[] = {
        {0, 60, 60, 1, 0},       /* Ethernet */
        {10, 30, 30, 0xFFFD, 0}, /* adapter list: metadata */
        {20, 40, 40, 9, 0},      /* raw IP frames */
        {30, 50, 50, 0xE071, 0}, /* converted pcap, LINKTYPE_LINUX_SLL (113) */
        {40, 44, 44, 2, 0},      /* Token Ring: no decoder */
        {50, 28, 28, 0xE065, 0}, /* converted pcap, LINKTYPE_RAW (101) */
    };
    for (unsigned minor = 1; minor <= 2; minor++) {
        struct tspec sp = base_spec();
        sp.minor = minor;
        sp.f = mixed;
        sp.nframes = SC_ARRAY_LEN(mixed);
        size_t len;
        uint8_t *img = nm_build(&sp, &len);
        char err[256] = "";
        uint8_t *copy;
        struct netmon *nm = open_mem(img, len, &copy, err, sizeof(err));
        CHECK(nm != NULL);
        if (nm != NULL) {
            struct seen s = {0};
            unsigned n;
            CHECK_EQ_INT(netmon_read(nm, 100, on_packet, &s, &n, err, sizeof(err)), NETMON_EOF);
            CHECK_EQ_INT(n, 5);
            CHECK_EQ_INT(netmon_skipped(nm), 1);
            CHECK_EQ_INT(s.dlt[0], DLT_EN10MB);
            CHECK_EQ_INT(s.dlt[1], DLT_RAW);
            CHECK_EQ_INT(s.dlt[2], DLT_LINUX_SLL);
            CHECK_EQ_INT(s.dlt[3], NETMON_DLT_NONE);
            CHECK_EQ_INT(s.dlt[4], DLT_RAW);
            CHECK_EQ_INT(s.ts[1], START_US + 20);
            CHECK_EQ_INT(s.caplen[1], 40);
            netmon_close(nm);
        }
        free(copy);
        free(img);
    }
}

/* 2.3 frames carry their own UTC FILETIME, which wins over start + offset. */
static void version_2_3_uses_the_frame_filetime(void)
{
    /* 2005-07-17 15:39:20.502 UTC in 100 ns units since 1601-01-01 */
    const uint64_t ft = (UINT64_C(1121614760502000) + UINT64_C(11644473600000000)) * 10 + 7;
    const struct tframe f[] = {{999, 60, 60, 1, ft}};
    struct tspec sp = base_spec();
    sp.minor = 3;
    sp.f = f;
    sp.nframes = 1;
    size_t len;
    uint8_t *img = nm_build(&sp, &len);
    char err[256] = "";
    uint8_t *copy;
    struct netmon *nm = open_mem(img, len, &copy, err, sizeof(err));
    CHECK(nm != NULL);
    if (nm != NULL) {
        struct seen s = {0};
        unsigned n;
        CHECK_EQ_INT(netmon_read(nm, 100, on_packet, &s, &n, err, sizeof(err)), NETMON_EOF);
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(s.ts[0], INT64_C(1121614760502000));
        netmon_close(nm);
    }
    free(copy);
    free(img);
}

/* NetMon writes frames captured just before the start with a negative
 * offset; an offset that would overflow the clock is an error. */
static void frame_times_before_start_and_out_of_range(void)
{
    const struct tframe f[] = {{-1500, 60, 60, 1, 0}, {INT64_MAX, 60, 60, 1, 0}};
    struct tspec sp = base_spec();
    sp.f = f;
    sp.nframes = 2;
    size_t len;
    uint8_t *img = nm_build(&sp, &len);
    char err[256] = "";
    uint8_t *copy;
    struct netmon *nm = open_mem(img, len, &copy, err, sizeof(err));
    CHECK(nm != NULL);
    if (nm != NULL) {
        struct seen s = {0};
        unsigned n;
        CHECK_EQ_INT(netmon_read(nm, 100, on_packet, &s, &n, err, sizeof(err)), NETMON_ERROR);
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(s.ts[0], START_US - 1500);
        CHECK(strstr(err, "out of range") != NULL);
        netmon_close(nm);
    }
    free(copy);
    free(img);
}

/* capture_file_open() hands a GMBU file to this reader and keeps libpcap's
 * refusal for anything else. */
static void capture_file_reads_netmon(void)
{
    struct tspec sp = base_spec();
    size_t len;
    uint8_t *img = nm_build(&sp, &len);
    const char *path = tmp_path("cf");
    write_file(path, img, len);
    char err[256] = "";
    struct capture_file *cf = capture_file_open(path, err, sizeof(err));
    CHECK(cf != NULL);
    if (cf != NULL) {
        struct seen s = {0};
        unsigned n;
        CHECK_EQ_INT(capture_file_dlt(cf), DLT_EN10MB);
        CHECK_EQ_INT(capture_file_read(cf, 2, on_packet, &s, &n, err, sizeof(err)), CAPTURE_MORE);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(capture_file_read(cf, 2, on_packet, &s, &n, err, sizeof(err)), CAPTURE_EOF);
        CHECK_EQ_INT(n, 1);
        check_three(&s);
        capture_file_close(cf);
    }

    /* a torn NetMon file (frame table gone) is refused with NetMon's reason */
    write_file(path, img, len - 2);
    CHECK(capture_file_open(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "NetMon: frame table") != NULL);

    /* a frame cut by a damaged table entry: packets before it, then an error */
    put32(img + sp.table_off + 8, 0xFFFFFF00u);
    write_file(path, img, len);
    cf = capture_file_open(path, err, sizeof(err));
    CHECK(cf != NULL);
    if (cf != NULL) {
        struct seen s = {0};
        unsigned n;
        CHECK_EQ_INT(capture_file_read(cf, 100, on_packet, &s, &n, err, sizeof(err)), CAPTURE_ERROR);
        CHECK_EQ_INT(n, 2);
        CHECK(strstr(err, "frame 3") != NULL);
        capture_file_close(cf);
    }

    /* not GMBU: libpcap's words, as before */
    FILE *f = fopen(path, "w");
    fputs("GMB but not quite\n", f);
    fclose(f);
    CHECK(capture_file_open(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "unknown file format") != NULL);
    unlink(path);
    free(img);
}

/* The shared corpus file: NetMon 2.0, Ethernet, 39 frames. Expected values
 * from tshark 4.0.17, which reads the header time as local time, so it runs
 * with TZ=UTC to match our UTC reading:
 *   TZ=UTC tshark -r sipnab_c07-sip-r2.cap -T fields -e frame.time_epoch -e frame.cap_len
 *   first: 1121614760.502000000 (92 bytes), second: 271 bytes,
 *   last:  1121614772.454000000 */
#define CORPUS_NETMON "/work/shared/corpus/pcap/malformed/sipnab_c07-sip-r2.cap"

struct corpus_seen {
    unsigned n, not_eth;
    int64_t first_ts, last_ts, prev_ts;
    unsigned backwards;
    size_t len1, len2;
};

static void on_corpus(void *ctx, int dlt, int64_t ts_us, uint8_t *data, size_t caplen, size_t wirelen)
{
    struct corpus_seen *c = ctx;
    (void)data;
    (void)wirelen;
    if (dlt != DLT_EN10MB)
        c->not_eth++;
    if (c->n == 0)
        c->first_ts = ts_us;
    else if (ts_us < c->prev_ts)
        c->backwards++;
    if (c->n == 0)
        c->len1 = caplen;
    if (c->n == 1)
        c->len2 = caplen;
    c->prev_ts = c->last_ts = ts_us;
    c->n++;
}

static void corpus_file_matches_tshark(void)
{
    if (access(CORPUS_NETMON, R_OK) != 0) {
        printf("skip: %s not present\n", CORPUS_NETMON);
        return;
    }
    char err[256] = "";
    struct capture_file *cf = capture_file_open(CORPUS_NETMON, err, sizeof(err));
    CHECK_REPORT(cf != NULL, "open: %s", err);
    if (cf == NULL)
        return;
    CHECK_EQ_INT(capture_file_dlt(cf), DLT_EN10MB);
    struct corpus_seen c = {0};
    enum capture_status st;
    unsigned n, bursts = 0;
    do {
        st = capture_file_read(cf, 8, on_corpus, &c, &n, err, sizeof(err));
        bursts++;
    } while (st == CAPTURE_MORE && bursts < 100);
    CHECK_REPORT(st == CAPTURE_EOF, "status %d: %s", (int)st, err);
    CHECK_EQ_INT(c.n, 39);
    CHECK_EQ_INT(c.not_eth, 0);
    CHECK_EQ_INT(c.backwards, 0);
    CHECK_EQ_INT(c.first_ts, INT64_C(1121614760502000));
    CHECK_EQ_INT(c.last_ts, INT64_C(1121614772454000));
    CHECK_EQ_INT(c.len1, 92);
    CHECK_EQ_INT(c.len2, 271);
    capture_file_close(cf);
}

int main(void)
{
    RUN(three_ethernet_frames_round_trip);
    RUN(truncated_at_every_length);
    RUN(frame_offsets_outside_the_file);
    RUN(huge_or_misplaced_frame_table_is_refused);
    RUN(bad_headers_are_refused);
    RUN(trailers_give_each_frame_its_media);
    RUN(version_2_3_uses_the_frame_filetime);
    RUN(frame_times_before_start_and_out_of_range);
    RUN(capture_file_reads_netmon);
    RUN(corpus_file_matches_tshark);
    return check_summary();
}
