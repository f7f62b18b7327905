/* frame.h - link, IP and UDP decoding: one captured frame -> struct packet.
 *
 * Pure functions over a byte range: no allocation, no logging, no libpcap.
 * Never reads past caplen. The caller counts the reason of every skip.
 */
#ifndef SIPCDR_FRAME_H
#define SIPCDR_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "sc.h"

/* Why a frame did not yield a UDP payload. FRAME_REASONS_MAX sizes counters. */
enum frame_reason {
    FRAME_OK = 0,
    FRAME_UNSUPPORTED_LINK, /* link type we do not decode */
    FRAME_NOT_IP,           /* ARP, LLDP, ... */
    FRAME_NOT_UDP,          /* TCP, ICMP, ... (TCP arrives with the capture issue) */
    FRAME_IP_FRAGMENT,      /* IPv4/IPv6 fragment (reassembly arrives with the capture issue) */
    FRAME_TRUNCATED,        /* headers cut short by the snap length or a torn file */
    FRAME_MALFORMED,        /* impossible lengths, bad version, ... */
    FRAME_REASONS_MAX
};

const char *frame_reason_name(enum frame_reason r);

/* Decode a frame of link type dlt (DLT_EN10MB, DLT_LINUX_SLL, ...).
 * data/caplen: the captured bytes (writable: out->payload points into them);
 * wirelen: the frame's length on the wire; ts_us: packet time.
 * Returns SC_OK with *out filled, SC_DECLINED (not IP/UDP; *why says which) or
 * SC_ERROR (truncated or malformed; *why says which). */
enum sc_ret frame_decode(int dlt, uint8_t *data, size_t caplen, size_t wirelen, int64_t ts_us,
                         struct packet *out, enum frame_reason *why);

#endif
