/* frame_hep.c - one HEP packet -> the struct packet it describes.
 *
 * HEPv3 is walked chunk by chunk inside the total length the header declares,
 * which must fit the buffer; each chunk must fit what is left of the packet,
 * so no chunk length can move a read past len. The walk only records where
 * things are; the checks that make a packet usable (payload type, family,
 * addresses, ports, payload) run after it, in the order a reader of the
 * counters would expect: a non-SIP packet is declined before anyone asks
 * whether it carries SIP-shaped fields.
 */
#include "frame_hep.h"

#include <limits.h>
#include <string.h>

/* Input bytes stay const through zlib (zlib 1.2.5.2 and later). */
#define ZLIB_CONST
#include <zlib.h>

#define HEP3_HDR_LEN 6
#define HEP3_CHUNK_HDR_LEN 6
#define HEP12_HDR_LEN 8 /* version, header length, family, proto, sport, dport */
#define HEP12_V4_HDR_LEN (HEP12_HDR_LEN + 2 * 4)
#define HEP12_V6_HDR_LEN (HEP12_HDR_LEN + 2 * 16)
/* sec u32, usec u32, capture id u16, padded to 12: senders copy sizeof() of
 * an unpacked struct, and the reference receiver skips the same 12 bytes. */
#define HEP2_TIME_LEN 12

/* Address family values on the wire: Linux AF_INET / AF_INET6, which the HEP
 * specification adopted for v3 and every v1/v2 sender used. */
#define HEP_AF_INET 2
#define HEP_AF_INET6 10

#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17

/* Generic (vendor 0) chunk types we read. */
enum {
    CH_FAMILY = 0x0001,
    CH_IP_PROTO = 0x0002,
    CH_SRC4 = 0x0003,
    CH_DST4 = 0x0004,
    CH_SRC6 = 0x0005,
    CH_DST6 = 0x0006,
    CH_SPORT = 0x0007,
    CH_DPORT = 0x0008,
    CH_TS_SEC = 0x0009,
    CH_TS_USEC = 0x000a,
    CH_PROTO_TYPE = 0x000b,
    CH_CAPTURE_ID = 0x000c,
    CH_AUTH_KEY = 0x000e,
    CH_PAYLOAD = 0x000f,
    CH_ZPAYLOAD = 0x0010,
    CH_CORRELATION = 0x0011,
    CH_READ_MAX = 0x0012 /* types below this may be read; the rest are skipped */
};

/* Value size of each chunk we read; 0 = any size (strings and payloads);
 * types absent here (0x000d keep-alive timer) are skipped like unknown ones. */
static const uint8_t chunk_value_size[CH_READ_MAX] = {
    [CH_FAMILY] = 1,     [CH_IP_PROTO] = 1, [CH_SRC4] = 4,   [CH_DST4] = 4,
    [CH_SRC6] = 16,      [CH_DST6] = 16,    [CH_SPORT] = 2,  [CH_DPORT] = 2,
    [CH_TS_SEC] = 4,     [CH_TS_USEC] = 4,  [CH_PROTO_TYPE] = 1, [CH_CAPTURE_ID] = 4,
};

static const uint32_t chunk_read_mask =
    1u << CH_FAMILY | 1u << CH_IP_PROTO | 1u << CH_SRC4 | 1u << CH_DST4 | 1u << CH_SRC6 |
    1u << CH_DST6 | 1u << CH_SPORT | 1u << CH_DPORT | 1u << CH_TS_SEC | 1u << CH_TS_USEC |
    1u << CH_PROTO_TYPE | 1u << CH_CAPTURE_ID | 1u << CH_AUTH_KEY | 1u << CH_PAYLOAD |
    1u << CH_ZPAYLOAD | 1u << CH_CORRELATION;

#define HAS(seen, type) (((seen) >> (type)) & 1u)

/* Where the chunk walk found each value; pointers into the caller's buffer. */
struct hep3_chunks {
    uint32_t seen; /* bit per chunk type read */
    const uint8_t *val[CH_READ_MAX];
    size_t vlen[CH_READ_MAX];
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((unsigned)p[0] << 8 | p[1]); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16le(const uint8_t *p) { return (uint16_t)((unsigned)p[1] << 8 | p[0]); }

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static enum sc_ret fail(enum hep_error *why, enum hep_error r)
{
    *why = r;
    return r == HEP_NOT_HEP || r == HEP_NOT_SIP || r == HEP_NOT_UDP_TCP ? SC_DECLINED : SC_ERROR;
}

/* Inflate a zlib or gzip stream (window bits + 32 detects either: agents
 * differ) into dst. A single Z_FINISH call with all input present either
 * completes or stops with output full (too big) or input exhausted (torn). */
static enum sc_ret inflate_payload(const uint8_t *in, size_t in_len, uint8_t *dst, size_t cap,
                                   size_t *out_len, enum hep_error *why)
{
    if (dst == NULL || cap == 0)
        return fail(why, HEP_NO_INFLATE_BUFFER);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    zs.next_in = in;
    zs.avail_in = (uInt)in_len; /* a chunk value: < 64 KiB */
    zs.next_out = dst;
    zs.avail_out = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
    if (inflateInit2(&zs, MAX_WBITS + 32) != Z_OK)
        return fail(why, HEP_ZLIB);
    int zr = inflate(&zs, Z_FINISH);
    size_t produced = (size_t)zs.total_out;
    uInt left_in = zs.avail_in, left_out = zs.avail_out;
    inflateEnd(&zs);
    if (zr == Z_STREAM_END) {
        if (left_in != 0) /* bytes after the stream: not what the sender compressed */
            return fail(why, HEP_ZLIB);
        *out_len = produced;
        return SC_OK;
    }
    if ((zr == Z_OK || zr == Z_BUF_ERROR) && left_out == 0)
        return fail(why, HEP_INFLATE_TOO_BIG);
    return fail(why, HEP_ZLIB);
}

/* Record one chunk we read: reject a second copy and a wrong value size. */
static enum sc_ret take_chunk(struct hep3_chunks *c, unsigned type, const uint8_t *v, size_t vlen,
                              enum hep_error *why)
{
    /* Two payloads (plain and compressed, or two of either) are as ambiguous
     * as two Content-Lengths: refuse rather than pick one. */
    unsigned slot = type == CH_ZPAYLOAD ? CH_PAYLOAD : type;
    if (HAS(c->seen, slot) || (type == CH_PAYLOAD && HAS(c->seen, CH_ZPAYLOAD)))
        return fail(why, HEP_DUPLICATE_CHUNK);
    if (chunk_value_size[type] != 0 && vlen != chunk_value_size[type])
        return fail(why, HEP_BAD_CHUNK_SIZE);
    c->seen |= 1u << type;
    c->val[type] = v;
    c->vlen[type] = vlen;
    return SC_OK;
}

/* Walk the chunks of buf[6..total). Every chunk header and value is checked
 * against total (<= len) before it is read. */
static enum sc_ret hep3_walk(const uint8_t *buf, size_t total, struct hep3_chunks *c, enum hep_error *why)
{
    size_t off = HEP3_HDR_LEN;
    while (off < total) {
        if (total - off < HEP3_CHUNK_HDR_LEN)
            return fail(why, HEP_BAD_CHUNK_LENGTH); /* a torn chunk header */
        unsigned vendor = rd16(buf + off);
        unsigned type = rd16(buf + off + 2);
        size_t clen = rd16(buf + off + 4);
        if (clen < HEP3_CHUNK_HDR_LEN || clen > total - off)
            return fail(why, HEP_BAD_CHUNK_LENGTH);
        if (vendor == 0 && type < CH_READ_MAX && HAS(chunk_read_mask, type)) {
            enum sc_ret rc = take_chunk(c, type, buf + off + HEP3_CHUNK_HDR_LEN,
                                        clen - HEP3_CHUNK_HDR_LEN, why);
            if (rc != SC_OK)
                return rc;
        }
        /* Vendor chunks and generic types we do not use: skipped by length.
         * clen >= 6, so the walk always advances and ends. */
        off += clen;
    }
    return SC_OK;
}

static struct sv chunk_sv(const struct hep3_chunks *c, unsigned type)
{
    if (!HAS(c->seen, type))
        return SV_NULL;
    return sv_make((const char *)c->val[type], c->vlen[type]);
}

static enum sc_ret hep3_decode(uint8_t *buf, size_t len, struct packet *out, struct hep_info *info,
                               uint8_t *inflate_buf, size_t inflate_cap, enum hep_error *why)
{
    if (len < HEP3_HDR_LEN)
        return fail(why, HEP_TRUNCATED);
    size_t total = rd16(buf + 4);
    if (total < HEP3_HDR_LEN || total > len)
        return fail(why, HEP_BAD_TOTAL_LENGTH);
    struct hep3_chunks c;
    memset(&c, 0, sizeof(c));
    enum sc_ret rc = hep3_walk(buf, total, &c, why);
    if (rc != SC_OK)
        return rc;

    info->version = 3;
    info->frame_len = total;
    if (HAS(c.seen, CH_CAPTURE_ID)) {
        info->has_capture_id = 1;
        info->capture_id = rd32(c.val[CH_CAPTURE_ID]);
    }
    info->auth_key_present = (uint8_t)HAS(c.seen, CH_AUTH_KEY);
    info->auth_key = chunk_sv(&c, CH_AUTH_KEY);
    info->correlation_id = chunk_sv(&c, CH_CORRELATION);
    if (!HAS(c.seen, CH_PROTO_TYPE))
        return fail(why, HEP_MISSING_PROTO_TYPE);
    info->proto_type = c.val[CH_PROTO_TYPE][0];
    if (info->proto_type != HEP_PROTO_SIP)
        return fail(why, HEP_NOT_SIP);

    if (!HAS(c.seen, CH_FAMILY))
        return fail(why, HEP_MISSING_FAMILY);
    unsigned family = c.val[CH_FAMILY][0];
    if (family != HEP_AF_INET && family != HEP_AF_INET6)
        return fail(why, HEP_BAD_FAMILY);
    if (!HAS(c.seen, CH_IP_PROTO))
        return fail(why, HEP_MISSING_IP_PROTO);
    unsigned l4 = c.val[CH_IP_PROTO][0];
    if (l4 != IPPROTO_NUM_UDP && l4 != IPPROTO_NUM_TCP)
        return fail(why, HEP_NOT_UDP_TCP);
    /* Address chunks of the other family, if a sender adds them, are ignored:
     * the family chunk says which pair describes the packet. */
    unsigned src = family == HEP_AF_INET ? CH_SRC4 : CH_SRC6;
    unsigned dst = family == HEP_AF_INET ? CH_DST4 : CH_DST6;
    if (!HAS(c.seen, src) || !HAS(c.seen, dst))
        return fail(why, HEP_MISSING_ADDRESS);
    if (!HAS(c.seen, CH_SPORT) || !HAS(c.seen, CH_DPORT))
        return fail(why, HEP_MISSING_PORT);
    if (!HAS(c.seen, CH_PAYLOAD) && !HAS(c.seen, CH_ZPAYLOAD))
        return fail(why, HEP_MISSING_PAYLOAD);

    out->af = family == HEP_AF_INET ? 4 : 6;
    out->l4proto = (uint8_t)l4;
    memcpy(out->src, c.val[src], c.vlen[src]);
    memcpy(out->dst, c.val[dst], c.vlen[dst]);
    out->sport = rd16(c.val[CH_SPORT]);
    out->dport = rd16(c.val[CH_DPORT]);
    /* Seconds without microseconds is still a time; microseconds alone is
     * not, and the caller's arrival time is better than 1970. */
    if (HAS(c.seen, CH_TS_SEC)) {
        info->has_ts = 1;
        int64_t usec = HAS(c.seen, CH_TS_USEC) ? (int64_t)rd32(c.val[CH_TS_USEC]) : 0;
        out->ts_us = (int64_t)rd32(c.val[CH_TS_SEC]) * 1000000 + usec;
    }
    if (HAS(c.seen, CH_PAYLOAD)) {
        /* The walk read the value through a const view of buf; the payload
         * is handed on writable, at the same offset of the caller's buffer. */
        out->payload = buf + (c.val[CH_PAYLOAD] - buf);
        out->len = c.vlen[CH_PAYLOAD];
    } else {
        size_t n = 0;
        rc = inflate_payload(c.val[CH_ZPAYLOAD], c.vlen[CH_ZPAYLOAD], inflate_buf, inflate_cap, &n, why);
        if (rc != SC_OK)
            return rc;
        info->compressed = 1;
        out->payload = inflate_buf;
        out->len = n;
    }
    *why = HEP_OK;
    return SC_OK;
}

/* The fixed part of a v1/v2 header: version, and a header length that
 * matches the family. Needs 4 bytes. Returns the length of the whole fixed
 * header (time header included), or 0 if this is no v1/v2 header. */
static size_t hep12_fixed_len(const uint8_t *p)
{
    if (p[0] != 1 && p[0] != 2)
        return 0;
    size_t hl;
    if (p[2] == HEP_AF_INET && p[1] == HEP12_V4_HDR_LEN)
        hl = HEP12_V4_HDR_LEN;
    else if (p[2] == HEP_AF_INET6 && p[1] == HEP12_V6_HDR_LEN)
        hl = HEP12_V6_HDR_LEN;
    else
        return 0;
    return p[0] == 2 ? hl + HEP2_TIME_LEN : hl;
}

static enum sc_ret hep12_decode(uint8_t *buf, size_t len, struct packet *out, struct hep_info *info,
                                size_t fixed, enum hep_error *why)
{
    if (len < fixed)
        return fail(why, HEP_TRUNCATED);
    info->version = buf[0];
    info->proto_type = HEP_PROTO_SIP; /* v1/v2 carried nothing else */
    info->frame_len = len;            /* no length field: the payload runs to the end */
    unsigned l4 = buf[3];
    if (l4 != IPPROTO_NUM_UDP && l4 != IPPROTO_NUM_TCP)
        return fail(why, HEP_NOT_UDP_TCP);
    size_t alen = buf[2] == HEP_AF_INET ? 4 : 16;
    out->af = buf[2] == HEP_AF_INET ? 4 : 6;
    out->l4proto = (uint8_t)l4;
    out->sport = rd16(buf + 4);
    out->dport = rd16(buf + 6);
    memcpy(out->src, buf + HEP12_HDR_LEN, alen);
    memcpy(out->dst, buf + HEP12_HDR_LEN + alen, alen);
    if (buf[0] == 2) {
        const uint8_t *t = buf + HEP12_HDR_LEN + 2 * alen;
        info->has_ts = 1;
        info->has_capture_id = 1;
        out->ts_us = (int64_t)rd32le(t) * 1000000 + (int64_t)rd32le(t + 4);
        info->capture_id = rd16le(t + 8);
    }
    out->payload = buf + fixed;
    out->len = len - fixed;
    *why = HEP_OK;
    return SC_OK;
}

enum sc_ret hep_decode(uint8_t *buf, size_t len, struct packet *out, struct hep_info *info,
                       uint8_t *inflate_buf, size_t inflate_cap, enum hep_error *why)
{
    memset(out, 0, sizeof(*out));
    memset(info, 0, sizeof(*info));
    if (len >= 4 && memcmp(buf, "HEP3", 4) == 0)
        return hep3_decode(buf, len, out, info, inflate_buf, inflate_cap, why);
    size_t fixed = len >= 4 ? hep12_fixed_len(buf) : 0;
    if (fixed != 0)
        return hep12_decode(buf, len, out, info, fixed, why);
    return fail(why, HEP_NOT_HEP);
}

bool hep_looks_like(const uint8_t *p, size_t len)
{
    if (hep_frame_length(p, len) != 0)
        return true;
    if (len < 4)
        return false;
    size_t fixed = hep12_fixed_len(p);
    return fixed != 0 && len >= fixed && (p[3] == IPPROTO_NUM_UDP || p[3] == IPPROTO_NUM_TCP);
}

size_t hep_frame_length(const uint8_t *p, size_t len)
{
    if (len < HEP3_HDR_LEN || memcmp(p, "HEP3", 4) != 0)
        return 0;
    size_t total = rd16(p + 4);
    return total < HEP3_HDR_LEN ? 0 : total;
}

const char *hep_error_name(enum hep_error r)
{
    static const char *const names[HEP_ERRORS_MAX] = {
        [HEP_OK] = "ok",
        [HEP_NOT_HEP] = "not_hep",
        [HEP_NOT_SIP] = "not_sip",
        [HEP_NOT_UDP_TCP] = "not_udp_tcp",
        [HEP_TRUNCATED] = "truncated",
        [HEP_BAD_TOTAL_LENGTH] = "bad_total_length",
        [HEP_BAD_CHUNK_LENGTH] = "bad_chunk_length",
        [HEP_BAD_CHUNK_SIZE] = "bad_chunk_size",
        [HEP_DUPLICATE_CHUNK] = "duplicate_chunk",
        [HEP_BAD_FAMILY] = "bad_family",
        [HEP_MISSING_FAMILY] = "missing_family",
        [HEP_MISSING_IP_PROTO] = "missing_ip_proto",
        [HEP_MISSING_ADDRESS] = "missing_address",
        [HEP_MISSING_PORT] = "missing_port",
        [HEP_MISSING_PROTO_TYPE] = "missing_proto_type",
        [HEP_MISSING_PAYLOAD] = "missing_payload",
        [HEP_NO_INFLATE_BUFFER] = "no_inflate_buffer",
        [HEP_INFLATE_TOO_BIG] = "inflate_too_big",
        [HEP_ZLIB] = "zlib",
    };
    if ((unsigned)r >= HEP_ERRORS_MAX || names[r] == NULL)
        return "unknown";
    return names[r];
}
