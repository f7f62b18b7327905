/* packet.h - what the framing stages hand to the privacy cut: one transport
 * payload with its addresses and packet time.
 *
 * payload points into the capture buffer (libpcap's, or later a reassembly
 * buffer) and is writable on purpose: the privacy cut wipes body bytes in
 * place. Valid only until the capture callback returns.
 */
#ifndef SIPCDR_PACKET_H
#define SIPCDR_PACKET_H

#include <stddef.h>
#include <stdint.h>

struct packet {
    int64_t ts_us;       /* packet time, microseconds since the epoch */
    uint8_t af;          /* 4 or 6 */
    uint8_t l4proto;     /* IPPROTO_UDP, IPPROTO_TCP or 132 (SCTP: see frame_sctp_next_data()) */
    uint8_t src[16];     /* IPv4 in the first 4 bytes */
    uint8_t dst[16];
    uint16_t sport, dport;
    uint8_t truncated;   /* captured fewer bytes than the datagram held */
    uint8_t tcp_flags;   /* TCP only: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 */
    uint32_t tcp_seq;    /* TCP only: sequence number of payload[0] */
    uint32_t tcp_ack;
    uint8_t tunnel_depth; /* encapsulation layers unwrapped to reach this packet */
    uint8_t *payload;    /* into the capture buffer, writable */
    size_t len;          /* captured payload bytes */
};

/* Format an address of p as text (inet_ntop); cap >= 48. Returns buf. */
const char *packet_addr_str(const struct packet *p, int which_src, char *buf, size_t cap);

#endif
