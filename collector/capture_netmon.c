/* capture_netmon.c - Network Monitor 2.x reader (see capture_netmon.h). */
#include "capture_netmon.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "privacy.h"
#include "sc.h"

#define NM_MAGIC_LEN 4
#define NM_HDR_LEN 32       /* the part of the 128-byte header we read */
#define NM_FRAME_HDR_LEN 16 /* u64 time offset, u32 original length, u32 captured length */
#define NM_TRAILER_MAX 15   /* 2.3: media u16, process u32, FILETIME u64, time zone u8 */
#define NM_ERR_LEN 192

/* pcap link types NetMon 3.x stores as 0xE000 + LINKTYPE_ for converted
 * pcap files. Only those whose DLT is unambiguous are mapped. */
#define NM_MEDIA_PCAP_BASE 0xE000u
#define NM_MEDIA_PCAP_MASK 0x0FFFu

/* Microseconds between 1601-01-01 (FILETIME epoch) and 1970-01-01. */
#define NM_FILETIME_EPOCH_US INT64_C(11644473600000000)

struct netmon {
    FILE *fp;
    uint64_t size; /* file size at open: every offset is checked against it */
    uint64_t pos;  /* where the stream is, so sequential frames need no seek */
    int64_t start_us;
    unsigned minor;
    size_t trailer_len;
    int dlt;
    uint8_t *table; /* raw little-endian u32 offsets, nframes of them */
    uint32_t nframes;
    uint32_t next;
    uint32_t skipped;
    int failed;
    char errmsg[NM_ERR_LEN];
    uint8_t *buf; /* packet bytes of the current frame, exactly buf_len long */
    size_t buf_len;
};

static const uint8_t nm_magic[NM_MAGIC_LEN] = {'G', 'M', 'B', 'U'};

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32); }

int netmon_is_magic(const uint8_t *p, size_t len)
{
    return len >= NM_MAGIC_LEN && memcmp(p, nm_magic, NM_MAGIC_LEN) == 0;
}

/* NetMon media type -> DLT. *meta is set for NetMon's own records, which are
 * not packets at all. Media 0 is documented as "null", but NetMon 3.4 VPN
 * captures use it for frames with Ethernet headers. 7, 8 and 9 are tunnel,
 * wireless WAN and raw IP frames: bare IP packets, version nibble first.
 * 2 (Token Ring), 3 (bit-swapped FDDI), 4 (ATM with a NetMon pseudo-header)
 * and 6 (802.11 behind NetMon's radio header) would each need a decoder of
 * their own; the pipeline counts them as unsupported links instead. */
static int media_to_dlt(unsigned media, int *meta)
{
    *meta = 0;
    switch (media) {
    case 0:
    case 1:
        return DLT_EN10MB;
    case 7:
    case 8:
    case 9:
        return DLT_RAW;
    case 0xFFE0: /* event tracing record */
    case 0xFFFB: /* adapter list (extended) */
    case 0xFFFC: /* header of a frame NetMon rebuilt itself */
    case 0xFFFD: /* adapter list */
    case 0xFFFE: /* DNS cache */
    case 0xFFFF: /* capture filter text */
        *meta = 1;
        return NETMON_DLT_NONE;
    default:
        break;
    }
    /* 0xE080..0xE08A are Message Analyzer's own types, not pcap ones. */
    if ((media & ~NM_MEDIA_PCAP_MASK) != NM_MEDIA_PCAP_BASE || (media >= 0xE080 && media <= 0xE08A))
        return NETMON_DLT_NONE;
    switch (media & NM_MEDIA_PCAP_MASK) {
    case 0:
        return DLT_NULL;
    case 1:
        return DLT_EN10MB;
    case 101: /* LINKTYPE_RAW */
        return DLT_RAW;
    case 108: /* LINKTYPE_LOOP */
        return DLT_LOOP;
    case 113: /* LINKTYPE_LINUX_SLL */
        return DLT_LINUX_SLL;
    case 228:
        return DLT_IPV4;
    case 229:
        return DLT_IPV6;
    case 276:
        return DLT_LINUX_SLL2;
    default:
        return NETMON_DLT_NONE;
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). Counts
 * whole 400-year eras from 0000-03-01 so February's length needs no table:
 * March-based years put the leap day last. */
static int64_t days_from_civil(unsigned year, unsigned month, unsigned day)
{
    int64_t y = (int64_t)year - (month <= 2 ? 1 : 0);
    int64_t era = y / 400; /* y >= 1600 here, so plain division is floor */
    int64_t yoe = y - era * 400;
    int64_t mp = month > 2 ? (int64_t)month - 3 : (int64_t)month + 9;
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* SYSTEMTIME (8 x u16 at p) -> microseconds since the epoch, UTC. The day of
 * week is redundant and ignored. Returns -1 for a date that does not exist,
 * so a zeroed or garbled header is refused instead of becoming 1970. */
static int systemtime_to_us(const uint8_t *p, int64_t *out)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned year = le16(p), month = le16(p + 2), day = le16(p + 6);
    unsigned hour = le16(p + 8), min = le16(p + 10), sec = le16(p + 12), ms = le16(p + 14);
    if (year < 1601 || year > 30827 || month < 1 || month > 12 || day < 1)
        return -1;
    unsigned dim = mdays[month - 1] + (month == 2 && is_leap(year) ? 1u : 0u);
    if (day > dim || hour > 23 || min > 59 || sec > 59 || ms > 999)
        return -1;
    int64_t secs = days_from_civil(year, month, day) * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
    *out = secs * 1000000 + (int64_t)ms * 1000;
    return 0;
}

/* The frame offset is written unsigned, but NetMon stores frames captured
 * just before the nominal start as negative values in two's complement. */
static int64_t as_signed(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return (int64_t)v;
    return -(int64_t)(UINT64_MAX - v) - 1;
}

/* Read n bytes at off. The caller has checked off + n <= size, so a short
 * read means the file changed under us or the device failed. */
static int read_at(struct netmon *nm, uint64_t off, void *dst, size_t n)
{
    if (off != nm->pos) {
        if (off > (uint64_t)INT64_MAX || fseeko(nm->fp, (off_t)off, SEEK_SET) != 0) {
            nm->pos = UINT64_MAX;
            return -1;
        }
        nm->pos = off;
    }
    if (n > 0 && fread(dst, 1, n, nm->fp) != n) {
        nm->pos = UINT64_MAX;
        return -1;
    }
    nm->pos = off + n;
    return 0;
}

static void drop_buf(struct netmon *nm)
{
    if (nm->buf != NULL)
        privacy_wipe(nm->buf, nm->buf_len);
    free(nm->buf);
    nm->buf = NULL;
    nm->buf_len = 0;
}

/* The packet buffer is sized exactly to the frame (reallocated when the size
 * changes): a decoder that reads past caplen then hits the heap redzone under
 * ASan instead of stale bytes. A malloc per size change costs little next to
 * the reads an unbuffered stream makes per frame. */
static int size_buf(struct netmon *nm, size_t n)
{
    size_t want = n > 0 ? n : 1;
    if (nm->buf != NULL && nm->buf_len == want)
        return 0;
    drop_buf(nm);
    nm->buf = malloc(want);
    if (nm->buf == NULL)
        return -1;
    nm->buf_len = want;
    return 0;
}

static void nm_free(struct netmon *nm)
{
    drop_buf(nm);
    free(nm->table);
    if (nm->fp != NULL)
        fclose(nm->fp);
    free(nm);
}

static int trailer_len_of(unsigned minor)
{
    switch (minor) {
    case 0:
        return 0;
    case 1:
        return 2;
    case 2:
        return 6;
    default:
        return NM_TRAILER_MAX; /* 2.3 was the last; later minors keep its trailer */
    }
}

struct netmon *netmon_open_stream(FILE *fp, char *err, size_t errlen)
{
    uint8_t hdr[NM_HDR_LEN];
    struct netmon *nm = calloc(1, sizeof(*nm));
    if (nm == NULL) {
        snprintf(err, errlen, "out of memory");
        fclose(fp);
        return NULL;
    }
    nm->fp = fp;
    nm->pos = UINT64_MAX;

    if (fseeko(fp, 0, SEEK_END) != 0) {
        snprintf(err, errlen, "NetMon: cannot seek: %s", strerror(errno));
        goto err;
    }
    off_t end = ftello(fp);
    if (end < 0) {
        snprintf(err, errlen, "NetMon: cannot tell the file size: %s", strerror(errno));
        goto err;
    }
    nm->size = (uint64_t)end;

    size_t got = nm->size < NM_HDR_LEN ? (size_t)nm->size : NM_HDR_LEN;
    if (read_at(nm, 0, hdr, got) != 0) {
        snprintf(err, errlen, "NetMon: cannot read the file header");
        goto err;
    }
    if (!netmon_is_magic(hdr, got)) {
        snprintf(err, errlen, "NetMon: not a NetMon 2.x file (no GMBU magic)");
        goto err;
    }
    if (got < NM_HDR_LEN) {
        snprintf(err, errlen, "NetMon: file header truncated (%zu of %d bytes)", got, NM_HDR_LEN);
        goto err;
    }
    unsigned minor = hdr[4], major = hdr[5];
    if (major != 2) {
        snprintf(err, errlen, "NetMon: version %u.%u is not supported (2.x only)", major, minor);
        goto err;
    }
    nm->minor = minor;
    nm->trailer_len = (size_t)trailer_len_of(minor);

    unsigned media = le16(hdr + 6);
    int meta;
    nm->dlt = media_to_dlt(media, &meta);
    /* From 2.1 on each frame names its own media; the header value is a
     * backward-compatible guess (NetMon 3 always writes 1). */
    if (minor == 0 && nm->dlt == NETMON_DLT_NONE) {
        snprintf(err, errlen, "NetMon: media type %u is not supported", media);
        goto err;
    }

    if (systemtime_to_us(hdr + 8, &nm->start_us) != 0) {
        snprintf(err, errlen, "NetMon: capture start %u-%u-%u %u:%u:%u.%u is not a valid date", le16(hdr + 8),
                 le16(hdr + 10), le16(hdr + 14), le16(hdr + 16), le16(hdr + 18), le16(hdr + 20),
                 le16(hdr + 22));
        goto err;
    }

    uint64_t tab_off = le32(hdr + 24), tab_len = le32(hdr + 28);
    if (tab_len % 4 != 0) {
        snprintf(err, errlen, "NetMon: frame table length %" PRIu64 " is not a multiple of 4", tab_len);
        goto err;
    }
    uint64_t count = tab_len / 4;
    /* Every frame needs its own 16-byte header, so a table claiming more
     * frames than that is corrupt; the fixed cap bounds the allocation even
     * for a huge file. Both are checked before anything is allocated. */
    if (count > NETMON_MAX_FRAMES || count > nm->size / NM_FRAME_HDR_LEN) {
        snprintf(err, errlen, "NetMon: frame table claims %" PRIu64 " frames, more than the file can hold",
                 count);
        goto err;
    }
    if (count > 0 && (tab_off < NM_HDR_LEN || tab_off + tab_len > nm->size)) {
        snprintf(err, errlen,
                 "NetMon: frame table (%" PRIu64 " bytes at offset %" PRIu64
                 ") lies outside the file (%" PRIu64 " bytes): truncated?",
                 tab_len, tab_off, nm->size);
        goto err;
    }
    nm->nframes = (uint32_t)count;
    if (count > 0) {
        nm->table = malloc((size_t)tab_len);
        if (nm->table == NULL) {
            snprintf(err, errlen, "out of memory");
            goto err;
        }
        if (read_at(nm, tab_off, nm->table, (size_t)tab_len) != 0) {
            snprintf(err, errlen, "NetMon: cannot read the frame table");
            goto err;
        }
    }
    return nm;

err:
    nm_free(nm);
    return NULL;
}

struct netmon *netmon_open(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    /* Unbuffered: fread goes straight into our buffers, so stdio never holds
     * packet bytes we would have to find and wipe. It costs a read (and
     * sometimes a seek) per frame header, data and trailer. */
    if (setvbuf(fp, NULL, _IONBF, 0) != 0) {
        snprintf(err, errlen, "NetMon: cannot make the stream unbuffered");
        fclose(fp);
        return NULL;
    }
    return netmon_open_stream(fp, err, errlen);
}

/* Record err for this and every later call. The reader stops at the first
 * damaged frame, as libpcap does on a torn pcap: a table that lied once is
 * not trusted for the frames after it. */
static enum netmon_status fail(struct netmon *nm, char *err, size_t errlen, const char *fmt, ...)
    SC_PRINTF(4, 5);

static enum netmon_status fail(struct netmon *nm, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nm->errmsg, sizeof(nm->errmsg), fmt, ap);
    va_end(ap);
    nm->failed = 1;
    snprintf(err, errlen, "%s", nm->errmsg);
    return NETMON_ERROR;
}

/* Read frame number idx (0-based) and deliver it, or skip it as metadata.
 * Returns 1 delivered, 0 skipped, or -1 with err set and the reader failed. */
static int read_frame(struct netmon *nm, uint32_t idx, netmon_packet_fn cb, void *ctx, char *err,
                      size_t errlen)
{
    uint32_t num = idx + 1; /* as tshark numbers frames */
    uint64_t off = le32(nm->table + (size_t)idx * 4);
    uint8_t fh[NM_FRAME_HDR_LEN];
    uint8_t trl[NM_TRAILER_MAX];

    if (off < NM_HDR_LEN) {
        fail(nm, err, errlen, "NetMon: frame %" PRIu32 " at offset %" PRIu64 " overlaps the file header", num,
             off);
        return -1;
    }
    if (off + NM_FRAME_HDR_LEN > nm->size) {
        fail(nm, err, errlen,
             "NetMon: frame %" PRIu32 " at offset %" PRIu64 " lies outside the file (%" PRIu64
             " bytes): truncated",
             num, off, nm->size);
        return -1;
    }
    if (read_at(nm, off, fh, sizeof(fh)) != 0) {
        fail(nm, err, errlen, "NetMon: cannot read frame %" PRIu32, num);
        return -1;
    }
    uint64_t rel = le64(fh);
    uint32_t wirelen = le32(fh + 8), caplen = le32(fh + 12);
    if (caplen > NETMON_MAX_CAPLEN) {
        fail(nm, err, errlen, "NetMon: frame %" PRIu32 " claims %" PRIu32 " captured bytes (limit %u)", num,
             caplen, NETMON_MAX_CAPLEN);
        return -1;
    }
    uint64_t end = off + NM_FRAME_HDR_LEN + caplen + nm->trailer_len;
    if (end > nm->size) {
        fail(nm, err, errlen,
             "NetMon: frame %" PRIu32 " is truncated (ends at %" PRIu64 ", file has %" PRIu64 " bytes)", num,
             end, nm->size);
        return -1;
    }
    if (size_buf(nm, caplen) != 0) {
        fail(nm, err, errlen, "out of memory");
        return -1;
    }
    if (read_at(nm, off + NM_FRAME_HDR_LEN, nm->buf, caplen) != 0 ||
        read_at(nm, off + NM_FRAME_HDR_LEN + caplen, trl, nm->trailer_len) != 0) {
        privacy_wipe(nm->buf, nm->buf_len);
        fail(nm, err, errlen, "NetMon: cannot read frame %" PRIu32, num);
        return -1;
    }

    int dlt = nm->dlt;
    int64_t ts;
    if (nm->trailer_len > 0) {
        int meta;
        dlt = media_to_dlt(le16(trl), &meta);
        if (meta) {
            privacy_wipe(nm->buf, nm->buf_len);
            nm->skipped++;
            return 0;
        }
    }
    if (nm->trailer_len >= NM_TRAILER_MAX) {
        /* 2.3 carries the UTC time itself, in 100 ns units since 1601. */
        ts = (int64_t)(le64(trl + 6) / 10) - NM_FILETIME_EPOCH_US;
    } else {
        int64_t d = as_signed(rel);
        if ((d > 0 && nm->start_us > INT64_MAX - d) || (d < 0 && nm->start_us < INT64_MIN - d)) {
            privacy_wipe(nm->buf, nm->buf_len);
            fail(nm, err, errlen, "NetMon: frame %" PRIu32 " time is out of range", num);
            return -1;
        }
        ts = nm->start_us + d;
    }
    cb(ctx, dlt, ts, nm->buf, caplen, wirelen);
    /* The callback may have cut the body in place already; wipe the rest
     * (headers, media bytes) before the buffer is reused or freed. */
    privacy_wipe(nm->buf, nm->buf_len);
    return 1;
}

enum netmon_status netmon_read(struct netmon *nm, unsigned max, netmon_packet_fn cb, void *ctx,
                               unsigned *delivered, char *err, size_t errlen)
{
    *delivered = 0;
    if (nm->failed) {
        snprintf(err, errlen, "%s", nm->errmsg);
        return NETMON_ERROR;
    }
    unsigned n = 0;
    while (n < max && nm->next < nm->nframes) {
        int rc = read_frame(nm, nm->next, cb, ctx, err, errlen);
        if (rc < 0) {
            *delivered = n;
            return NETMON_ERROR;
        }
        nm->next++;
        n += (unsigned)rc;
    }
    *delivered = n;
    return nm->next < nm->nframes ? NETMON_MORE : NETMON_EOF;
}

int netmon_dlt(const struct netmon *nm) { return nm->dlt; }

uint32_t netmon_frames(const struct netmon *nm) { return nm->nframes; }

uint32_t netmon_skipped(const struct netmon *nm) { return nm->skipped; }

void netmon_close(struct netmon *nm)
{
    if (nm == NULL)
        return;
    nm_free(nm);
}
