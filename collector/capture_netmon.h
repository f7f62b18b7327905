/* capture_netmon.h - Microsoft Network Monitor 2.x capture files ("GMBU").
 *
 * libpcap cannot read these, so capture_file.c hands them here. The format,
 * all integers little-endian:
 *
 *   file header (the first 32 bytes are all we need; writers pad it to 128):
 *     0  "GMBU"
 *     4  minor version (u8), major version (u8, 2)
 *     6  media type (u16): 1 Ethernet, ...
 *     8  capture start as a Windows SYSTEMTIME, 8 x u16: year, month,
 *        day of week, day, hour, minute, second, millisecond (taken as UTC)
 *     24 frame table offset (u32), 28 frame table length in bytes (u32)
 *   frame table: one u32 file offset per frame, in capture order; frames
 *     need not be contiguous nor in file order.
 *   frame: time since capture start in microseconds (u64, read as signed:
 *     NetMon writes frames slightly before the start), original length (u32),
 *     captured length (u32), the captured bytes, then from version 2.1 on a
 *     trailer: media type of this frame (u16); 2.2 adds a process index (u32);
 *     2.3 adds the frame time as a UTC FILETIME (u64) and a time zone index
 *     (u8), and that time replaces start + offset.
 *
 * Everything is checked against the file size before it is read: the frame
 * table must lie inside the file and cannot claim more frames than the file
 * could hold; a frame whose header or bytes fall outside the file ends the
 * read with an error after the frames before it were delivered. A truncated
 * NetMon file usually loses its frame table (it is written last), so such a
 * file is refused at open.
 *
 * Privacy: packet bytes are read into one buffer owned by the reader, never
 * into a stdio buffer (streams opened here are unbuffered), and that buffer
 * is wiped after every callback returns and before it is freed.
 *
 * Nothing here logs: errors fill the caller's buffer.
 */
#ifndef SIPCDR_CAPTURE_NETMON_H
#define SIPCDR_CAPTURE_NETMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct netmon;

/* The link type passed for a frame whose NetMon media type has no DLT
 * (Token Ring, NetMon's own 802.11 header, ...). Frame decoders count it as an
 * unsupported link rather than losing the frame silently. */
#define NETMON_DLT_NONE (-1)

/* Refused: more frames than this in the table (4 bytes each: 64 MiB). */
#define NETMON_MAX_FRAMES (1u << 24)

/* Refused: a frame with more captured bytes than this (libpcap's limit). */
#define NETMON_MAX_CAPLEN 262144u

/* Same shape as capture_packet_fn: data is the reader's buffer, writable,
 * valid until the callback returns (it is wiped then); ts_us is microseconds
 * since the epoch; dlt is a DLT_ value or NETMON_DLT_NONE. */
typedef void (*netmon_packet_fn)(void *ctx, int dlt, int64_t ts_us, uint8_t *data, size_t caplen,
                                 size_t wirelen);

enum netmon_status {
    NETMON_MORE,  /* burst done, more frames may follow */
    NETMON_EOF,   /* every frame of the table was read */
    NETMON_ERROR, /* err says why; frames before the damage were delivered; sticky */
};

/* True when the 4 bytes at p are the NetMon 2.x magic. len is how many bytes
 * p holds; fewer than 4 is never a match. */
int netmon_is_magic(const uint8_t *p, size_t len);

/* Open path as a NetMon 2.x file: the stream is made unbuffered so no packet
 * byte lingers in stdio. Returns NULL with err filled when the file cannot be
 * opened or is not a readable NetMon 2.x file ("NetMon: ..."). */
struct netmon *netmon_open(const char *path, char *err, size_t errlen);

/* As netmon_open() on a stream positioned anywhere; the reader seeks. fp is
 * taken over in every case: closed on failure and by netmon_close(). Bytes
 * the stream buffers itself are the caller's to care about (fmemopen in
 * tests; netmon_open() makes its stream unbuffered). */
struct netmon *netmon_open_stream(FILE *fp, char *err, size_t errlen);

/* Deliver up to max frames to cb in frame-table order; *delivered receives
 * the count; NETMON_EOF may come with *delivered > 0 (the table is known, so
 * the end is reported with the last frames). NetMon's own metadata frames (adapter lists, DNS cache, filter
 * text, event records) are not packets: they are skipped, counted by
 * netmon_skipped(), and not part of max or *delivered. */
enum netmon_status netmon_read(struct netmon *nm, unsigned max, netmon_packet_fn cb, void *ctx,
                               unsigned *delivered, char *err, size_t errlen);

/* The link type of the file header: the DLT of every frame in a 2.0 file; a
 * hint only from 2.1 on, where each frame carries its own (may then be
 * NETMON_DLT_NONE). */
int netmon_dlt(const struct netmon *nm);

/* Frames in the table, and metadata frames skipped so far. */
uint32_t netmon_frames(const struct netmon *nm);
uint32_t netmon_skipped(const struct netmon *nm);

/* Wipe the packet buffer, close the stream, free. NULL is a no-op. */
void netmon_close(struct netmon *nm);

#endif
