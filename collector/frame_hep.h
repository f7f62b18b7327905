/* frame_hep.h - HEP (Homer Encapsulation Protocol) v1, v2 and v3 decoding:
 * one HEP packet -> the struct packet it describes.
 *
 * A capture agent (kamailio siptrace, heplify, captagent...) mirrors each SIP
 * message it sees as one HEP packet: the original addresses, ports, transport
 * and time, then the message. hep_decode() turns that back into what
 * frame_decode() would have produced had we captured the message ourselves.
 *
 * Pure functions over a byte range: no libuv, no logging, no allocation of
 * our own (zlib allocates its inflate state for compressed payloads only).
 * Never reads past len. The caller counts the reason of every skip.
 *
 * Wire formats, all numbers big-endian unless noted:
 *   HEPv3: "HEP3", total length u16 (the whole packet, these 6 bytes included),
 *          then chunks: vendor u16, type u16, length u16 (6-byte chunk header
 *          included), value. Vendor 0 is the generic set; everything else and
 *          generic types we do not use are skipped by their length.
 *   HEPv1: version u8 (1), header length u8 (16 IPv4 / 40 IPv6), family u8
 *          (2 / 10), ip proto u8, sport u16, dport u16, src addr, dst addr,
 *          then the payload to the end of the datagram.
 *   HEPv2: as v1 with version 2 and a time header after the addresses:
 *          sec u32, usec u32, capture id u16, in the sender's byte order
 *          (little-endian: every known sender is x86 or ARM), padded to 12
 *          bytes because senders copy sizeof() of an unpacked C struct.
 */
#ifndef SIPCDR_FRAME_HEP_H
#define SIPCDR_FRAME_HEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "sc.h"
#include "sv.h"

/* HEP payload type (chunk 0x000b) of SIP; the only one we decode. */
#define HEP_PROTO_SIP 1

/* Why hep_decode() did not return SC_OK. HEP_ERRORS_MAX sizes counters.
 * HEP_NOT_HEP, HEP_NOT_SIP and HEP_NOT_UDP_TCP come with SC_DECLINED; every
 * other reason with SC_ERROR. */
enum hep_error {
    HEP_OK = 0,
    HEP_NOT_HEP,            /* no "HEP3" magic and no plausible v1/v2 header */
    HEP_NOT_SIP,            /* payload type is not SIP (RTCP 5, logs 100, ...) */
    HEP_NOT_UDP_TCP,        /* original transport neither UDP nor TCP (SCTP, ...) */
    HEP_TRUNCATED,          /* fewer bytes than the fixed header a signature promised */
    HEP_BAD_TOTAL_LENGTH,   /* HEPv3 total length < 6 or beyond the buffer */
    HEP_BAD_CHUNK_LENGTH,   /* chunk length < 6, beyond the packet, or a torn chunk header */
    HEP_BAD_CHUNK_SIZE,     /* a chunk we read has the wrong value size for its type */
    HEP_DUPLICATE_CHUNK,    /* a chunk we read appears twice (or two payload chunks) */
    HEP_BAD_FAMILY,         /* address family neither IPv4 (2) nor IPv6 (10) */
    HEP_MISSING_FAMILY,     /* chunk 0x0001 */
    HEP_MISSING_IP_PROTO,   /* chunk 0x0002 */
    HEP_MISSING_ADDRESS,    /* 0x0003/0x0004 (IPv4) or 0x0005/0x0006 (IPv6) */
    HEP_MISSING_PORT,       /* 0x0007 or 0x0008 */
    HEP_MISSING_PROTO_TYPE, /* 0x000b: without it we cannot tell SIP from RTCP */
    HEP_MISSING_PAYLOAD,    /* neither 0x000f nor 0x0010 */
    HEP_NO_INFLATE_BUFFER,  /* compressed payload, but the caller gave no inflate_buf */
    HEP_INFLATE_TOO_BIG,    /* inflated payload larger than inflate_cap */
    HEP_ZLIB,               /* corrupt or incomplete zlib stream, or bytes after its end */
    HEP_ERRORS_MAX
};

/* Stable lower_snake name of r for counters and logs; "unknown" if out of range. */
const char *hep_error_name(enum hep_error r);

/* What the HEP envelope said beyond the packet itself. The views point into
 * the buf given to hep_decode() and live as long as it does. */
struct hep_info {
    uint8_t version;          /* 1, 2 or 3 */
    uint8_t proto_type;       /* chunk 0x000b; 1 (SIP) for v1/v2, which carry only SIP */
    uint8_t has_ts;           /* a timestamp was present (v2, or v3 chunk 0x0009) */
    uint8_t has_capture_id;   /* v2, or v3 chunk 0x000c */
    uint8_t auth_key_present; /* v3 chunk 0x000e; its bytes are in auth_key */
    uint8_t compressed;       /* payload came from chunk 0x0010 and lives in inflate_buf */
    uint32_t capture_id;      /* capture agent id; 0 when absent */
    struct sv auth_key;       /* empty when absent; the caller compares it, we do not */
    struct sv correlation_id; /* chunk 0x0011, empty when absent */
    size_t frame_len;         /* bytes of buf this packet used: v3 total length, len for v1/v2 */
};

/* Decode the HEP packet at buf[0..len).
 *
 * SC_OK: *out is the original packet: af 4/6, l4proto 17/6, addresses, ports,
 * ts_us (0 when the packet carried no time: info->has_ts says so, and the
 * caller substitutes the arrival time), payload and len. The payload is
 * either the chunk 0x000f (or v1/v2 trailing) bytes in place in buf - which
 * is why buf is writable: the privacy cut wipes bodies in place - or, for
 * chunk 0x0010, the zlib/gzip-inflated bytes written to inflate_buf (cap
 * inflate_cap bytes). Other packet fields are 0; a caller that unwrapped this
 * HEP packet from a capture adds its own tunnel_depth. Only the first
 * info->frame_len bytes are read: a HEPv3 packet followed by more bytes
 * decodes as itself (see hep_frame_length() for streams).
 *
 * SC_DECLINED: *why is HEP_NOT_HEP, HEP_NOT_SIP or HEP_NOT_UDP_TCP. For the
 * last two, info->version, proto_type, capture_id and frame_len are valid,
 * so a caller can count by type and skip to the next packet in a stream.
 *
 * SC_ERROR: malformed or undecodable; *why names the reason. *out and *info
 * are undefined.
 *
 * The payload view lives as long as buf (in place) or until inflate_buf is
 * reused. inflate_buf may be NULL (then compressed packets fail with
 * HEP_NO_INFLATE_BUFFER). out, info and why must not be NULL. Inflating costs
 * one zlib state allocation (~40 KB) per compressed packet; CPU and output
 * are bounded by inflate_cap however well the payload compresses. */
enum sc_ret hep_decode(uint8_t *buf, size_t len, struct packet *out, struct hep_info *info,
                       uint8_t *inflate_buf, size_t inflate_cap, enum hep_error *why);

/* Content detection: true if p[0..len) starts with the "HEP3" magic and a
 * total length >= 6, or with a plausible v1/v2 header (version 1/2, header
 * length matching the family, UDP or TCP, and the whole fixed header
 * present). A SIP message never passes: it starts with a letter. */
bool hep_looks_like(const uint8_t *p, size_t len);

/* For stream transports (HEP over TCP concatenates packets): the total length
 * of the HEPv3 packet starting at p, read from its header; it may exceed len,
 * in which case wait for more bytes. Returns 0 when len < 6 (not enough bytes
 * to tell) or when the bytes are not a HEPv3 header (no magic, or a total
 * length < 6): with 6 or more bytes, 0 means the stream is not HEPv3 and
 * cannot be resynchronised. HEPv1/v2 carry no total length and cannot be
 * framed on a stream: 0 for them too. */
size_t hep_frame_length(const uint8_t *p, size_t len);

#endif
