/* frame_tcp.h - SIP over TCP: segments -> complete SIP header sections.
 *
 * RFC 3261 §18.3: on a stream transport a message ends where its
 * Content-Length says, and a missing Content-Length means 0. tcpreasm puts
 * each direction of a TCP connection back in sequence order, cuts the byte
 * stream into messages and hands the caller one header section at a time
 * (start line .. blank line inclusive). Bodies are never handed out and never
 * stored: body bytes are skipped by count as they pass and wiped where they
 * lie (the segment payload, which is writable for exactly this reason).
 *
 * Pure: no libuv, no logging, no clock. Time is the packet time of the
 * segments, and the caller drives idle expiry with tcpreasm_expire().
 * Every reason to drop or skip something is a counter in struct tcp_stats.
 *
 * Memory: a stream costs a fixed struct (bounded by max_streams) plus the
 * packet bytes it holds: a header section not yet complete, and segments
 * that arrived ahead of a gap. Held bytes are bounded per direction
 * (max_stream_bytes) and in total (max_total_bytes); going over the total
 * evicts the least recently active streams. Body bytes that arrive ahead of a
 * gap, when the framing already knows they are body, are held as a range
 * only (no bytes). Bytes whose nature is not known yet (out-of-order data
 * past the current message) are held until the gap fills, then skipped or
 * delivered as the framing decides; every buffer that held packet bytes is
 * wiped with privacy_wipe() before it is freed or reused.
 *
 * Where a message starts, its start line must have the shape of one:
 * privacy_is_sip_start(), and "SIP/2.0 NNN" or a method of RFC 3261 or its
 * extensions (INVITE ACK BYE CANCEL REGISTER OPTIONS MESSAGE INFO PRACK
 * UPDATE SUBSCRIBE NOTIFY REFER PUBLISH) followed by a Request-URI
 * "scheme:...". A body without a final line end glued to the next request
 * line ("hello" "MESSAGE sip:...") fails that shape, so neither a resync nor
 * a too-short Content-Length can pass body bytes off as headers. Cost
 * accepted: a message with an extension method is not framed over TCP; the
 * half-stream resyncs past it (counted).
 *
 * Resynchronisation: a capture that starts mid-connection, a gap that will
 * never be filled, a header section that overflowed or a start line that is
 * not one leave the framing not knowing where the next message starts. The
 * half-stream then discards bytes (wiped, never kept) until a line start
 * whose line, complete within the bytes at hand, is a start line as above.
 * The start of each in-order segment, and the bytes right after a gap, count
 * as line starts too, since SIP stacks write one message per send. A start
 * line split across segments while resyncing is not recognised (holding it
 * would mean holding bytes that may be a body); the next message is. Known
 * residue: a resync landing inside a torn "PRACK sip:..." reads "ACK sip:...".
 *
 * SIP over WebSocket (RFC 7118): when the first bytes a half sends are an
 * HTTP request "GET ... HTTP/1.1" with "Upgrade: websocket", that half
 * switches to WebSocket framing (RFC 6455 §5.2) once the request's header
 * section ends; the other half switches when it answers "HTTP/1.1 101". Any
 * other answer undoes the upgrade (both halves resync). The HTTP sections are
 * held like SIP header sections (bounded alike) and never delivered. Frames
 * may be masked or not, with 7, 16 or 64-bit lengths; text and binary
 * messages may be fragmented into continuation frames, with control frames
 * (ping, pong, close: skipped) between them. Each message is one SIP message:
 * its header section (unmasked, held across frames and segments up to
 * max_header_bytes) is delivered when its blank line arrives; the rest of the
 * message is body, skipped by count and wiped, never unmasked, never held.
 * Held out-of-order bytes that fall inside a frame being skipped are kept as
 * a range only. A message whose start line is not SIP, which ends before its
 * blank line, or which is compressed (RSV bits: permessage-deflate) is
 * skipped and counted in ws_errors. A gap that cannot be filled inside a
 * frame that was being read, or a 64-bit length with the top bit set, loses
 * the framing of that half for good (counted): masked frames give nothing to
 * resync on. A capture that starts after the upgrade does not frame the
 * connection (it resyncs on SIP start lines, which masked frames hide).
 */
#ifndef SIPCDR_FRAME_TCP_H
#define SIPCDR_FRAME_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "packet.h"

/* Defaults, used for every limit left at 0. */
#define TCP_DEFAULT_MAX_STREAMS 65536
#define TCP_DEFAULT_MAX_STREAM_BYTES (128 * 1024)
#define TCP_DEFAULT_MAX_TOTAL_BYTES (64 * 1024 * 1024)
#define TCP_DEFAULT_IDLE_TIMEOUT_US (600LL * 1000000)
#define TCP_DEFAULT_MAX_HEADER_BYTES 65536

struct tcp_limits {
    size_t max_streams;      /* live connections; a new one beyond evicts the least recently active */
    size_t max_stream_bytes; /* packet bytes held per direction: partial header + out-of-order data */
    size_t max_total_bytes;  /* packet bytes held by all streams; beyond it, evict */
    int64_t idle_timeout_us; /* packet time without a segment before tcpreasm_expire() closes */
    size_t max_header_bytes; /* a header section longer than this is dropped and counted */
};

struct tcp_stats {
    uint64_t segments;          /* fed, any l4proto */
    uint64_t messages;          /* header sections delivered */
    uint64_t streams_opened;
    uint64_t streams_closed;    /* FIN in both directions (or the only one seen), or RST */
    uint64_t streams_evicted;   /* for max_streams or max_total_bytes; held data dropped */
    uint64_t streams_timed_out; /* by tcpreasm_expire() */
    uint64_t resyncs;           /* a half-stream lost (or never had) message framing */
    uint64_t gaps;              /* missing bytes given up on */
    uint64_t retransmissions;   /* segments that brought no new byte */
    uint64_t overlaps;          /* segments partly trimmed against bytes seen before */
    uint64_t body_bytes_skipped;
    uint64_t headers_too_long;  /* over max_header_bytes (or the per-direction / total budget) */
    uint64_t ws_frames;         /* WebSocket frames parsed, control frames included */
    uint64_t ws_messages;       /* of messages: header sections taken out of WebSocket messages */
    uint64_t ws_errors;         /* WebSocket messages or frames not used, framing lost */
    uint64_t nomem;             /* segments or streams dropped because malloc failed */
    uint64_t bytes_held;        /* now: packet bytes (and out-of-order bookkeeping) held */
    uint64_t bytes_held_peak;
    uint64_t streams_live;      /* now */
};

/* One complete SIP header section: start line up to and including the blank
 * line, hdr_len bytes, writable, valid only during the call. Bodies never
 * appear here. seg carries the addresses, ports and time of the segment
 * that completed the section; its payload is not the section (read hdr
 * only). When tcpreasm_expire() delivers held data, seg is synthesised
 * (addresses of that direction, ts_us = now_us, no payload).
 * The callback must not call back into the same struct tcpreasm. */
typedef void (*tcp_message_fn)(void *ctx, const struct packet *seg, uint8_t *hdr, size_t hdr_len);

struct tcp_stream; /* private to frame_tcp.c */

/* Embed in the owner; treat the fields as read-only outside frame_tcp.c. */
struct tcpreasm {
    struct tcp_limits lim;
    struct tcp_stats stats;
    struct htab streams; /* keyed by the unordered 4-tuple, SipHash under hash_key */
    struct dlist lru;    /* least recently active first */
    uint8_t hash_key[16];
};

/* lim may be NULL; a 0 field takes its default. Returns 0, -ENOMEM, or the
 * negative errno of the random hash key. On error nothing needs freeing. */
int tcpreasm_init(struct tcpreasm *t, const struct tcp_limits *lim);

/* Drop every stream (held bytes wiped, nothing delivered) and free. */
void tcpreasm_free(struct tcpreasm *t);

/* Feed one TCP segment (seg->l4proto 6; anything else is counted and
 * ignored). May call cb zero or more times. On return every byte of
 * seg->payload is zero: header bytes were copied or delivered first, body
 * bytes were wiped before any later callback ran. A segment with neither SYN
 * nor payload does not create a stream. */
void tcpreasm_feed(struct tcpreasm *t, const struct packet *seg, tcp_message_fn cb, void *ctx);

/* Close streams idle since now_us - idle_timeout_us (packet time), at most
 * max of them (bounded work per call). Data held behind a gap is given up on
 * the gap and delivered through cb first (cb may be NULL: dropped); a partial
 * header is dropped. Returns the number of streams closed. */
size_t tcpreasm_expire(struct tcpreasm *t, int64_t now_us, size_t max, tcp_message_fn cb, void *ctx);

/* Tests and debugging: 1 when needle occurs in any byte the module holds
 * (partial headers, out-of-order data), else 0. O(bytes held). */
int tcpreasm_held_contains(const struct tcpreasm *t, const void *needle, size_t len);

#endif
