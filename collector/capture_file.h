/* capture_file.h - pcap and pcapng files through libpcap, read in bursts.
 *
 * No event loop here: the caller (cmd_read.c) decides when to read the next
 * burst, so a file is never read in one long blocking sweep.
 *
 * Privacy: libpcap reads through a stdio stream whose buffer we own. After
 * each burst the bytes libpcap has already consumed from it are wiped, and
 * the whole buffer is wiped at close, so raw body bytes do not linger in
 * stdio's buffer; libpcap's own packet buffer is wiped by the privacy cut,
 * which works in place on the bytes handed to the callback.
 */
#ifndef SIPCDR_CAPTURE_FILE_H
#define SIPCDR_CAPTURE_FILE_H

#include <stddef.h>
#include <stdint.h>

struct capture_file;

/* Called for each packet. data is libpcap's buffer, writable, valid until the
 * callback returns; ts_us is the packet time in microseconds. */
typedef void (*capture_packet_fn)(void *ctx, int dlt, int64_t ts_us, uint8_t *data, size_t caplen,
                                  size_t wirelen);

enum capture_status {
    CAPTURE_MORE,  /* burst done, more packets may follow */
    CAPTURE_EOF,   /* clean end of file */
    CAPTURE_ERROR, /* truncated or corrupt: err says why; packets before it were delivered */
};

/* Open a capture file. Returns NULL with err filled ("not a pcap or pcapng
 * file", "No such file or directory", ...). */
struct capture_file *capture_file_open(const char *path, char *err, size_t errlen);

/* Deliver up to max packets to cb. *delivered receives the count. */
enum capture_status capture_file_read(struct capture_file *cf, unsigned max, capture_packet_fn cb, void *ctx,
                                      unsigned *delivered, char *err, size_t errlen);

int capture_file_dlt(const struct capture_file *cf);

/* Close, wipe the stdio buffer, free. */
void capture_file_close(struct capture_file *cf);

#endif
