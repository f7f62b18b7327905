/* frame.h - link, IP and transport decoding: one captured frame -> struct packet.
 *
 * Pure functions over a byte range: no allocation, no logging, no libpcap.
 * Never reads past caplen. The caller counts the reason of every skip.
 *
 * What is unwrapped on the way to the transport header:
 *   link     Ethernet (VLAN/QinQ tags, PPPoE, MPLS label stacks), Linux
 *            cooked v1/v2, BSD loopback, raw IPv4/IPv6;
 *   MPLS     any number of labels; after the bottom of the stack the first
 *            nibble decides: 4 IPv4, 6 IPv6, 0 a pseudowire control word
 *            followed by an Ethernet frame (RFC 4448 with RFC 4385 CW);
 *   tunnels  IP-in-IP (IPv4 protocol / IPv6 next header 4 and 41), GRE
 *            version 0 with C/K/S fields (IPv4, IPv6, transparent Ethernet
 *            bridging 0x6558, ERSPAN type I/II 0x88BE, type III 0x22EB),
 *            VXLAN (UDP dport 4789) and TZSP (UDP dport 37008) carrying
 *            Ethernet.
 * SCTP (IP protocol 132) is returned with l4proto 132, the ports of its
 * common header, and payload = the chunk list after that header (bounded by
 * the IP length, truncated as for UDP); frame_sctp_next_data() takes the SIP
 * messages (DATA chunk user data) out of it one at a time.
 *
 * Each tunnel (an IP-in-IP header, a GRE header, a VXLAN or TZSP header, an
 * MPLS pseudowire) counts one in packet.tunnel_depth; more than
 * FRAME_MAX_TUNNEL_DEPTH of them is FRAME_MALFORMED. VLAN tags, PPPoE and
 * plain MPLS labels are link framing and do not count.
 *
 * The bytes a tunnel carries are a copy of the inner packet that a mirroring
 * device may have cut (ERSPAN's T bit, sniffers that send a snap length): an
 * inner length beyond what the tunnel carries is reported as truncated, like
 * a snap length, not as malformed.
 *
 * A UDP datagram to port 4789 or 37008 is a tunnel only when its header is
 * valid and the link header it carries leads to an IP header of the version
 * the link announced; anything else (a SIP phone that picked 37008 as its
 * ephemeral port) is returned as the plain UDP datagram it is. Bytes cut by
 * the snap length inside such a tunnel header are FRAME_TRUNCATED.
 */
#ifndef SIPCDR_FRAME_H
#define SIPCDR_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "sc.h"

/* Encapsulation layers unwrapped at most; one more is FRAME_MALFORMED. */
#define FRAME_MAX_TUNNEL_DEPTH 8

/* Why a frame did not yield a UDP or TCP payload. FRAME_REASONS_MAX sizes counters. */
enum frame_reason {
    FRAME_OK = 0,
    FRAME_UNSUPPORTED_LINK, /* link type we do not decode */
    FRAME_NOT_IP,           /* ARP, LLDP, a GRE or MPLS payload we do not decode, ... */
    FRAME_NOT_UDP,          /* neither UDP, TCP nor SCTP: ICMP, ESP, ... (name kept: "not_udp") */
    FRAME_IP_FRAGMENT,      /* IPv4/IPv6 fragment: see frame_decode_ex() and frame_ipdefrag.h */
    FRAME_TRUNCATED,        /* headers cut short by the snap length or a torn file */
    FRAME_MALFORMED,        /* impossible lengths, bad version, tunnels nested too deep, ... */
    FRAME_REASONS_MAX
};

const char *frame_reason_name(enum frame_reason r);

/* One IPv4 or IPv6 fragment, as frame_decode_ex() found it: what
 * ipdefrag_feed() needs to put the datagram back together. Every pointer
 * points into the caller's frame bytes and is valid as long as they are. */
struct frame_fragment {
    int64_t ts_us;        /* packet time */
    uint8_t af;           /* 4 or 6 */
    uint8_t proto;        /* v4 protocol / v6 Fragment header next header: what the datagram carries */
    uint8_t more;         /* MF (v4) / M (v6): more fragments follow */
    uint8_t truncated;    /* the capture holds fewer bytes than the fragment did: unusable */
    uint8_t tunnel_depth; /* encapsulation layers unwrapped to reach the fragment */
    uint8_t src[16];      /* IPv4 in the first 4 bytes, the rest zero */
    uint8_t dst[16];
    uint32_t id;          /* v4: 16-bit Identification; v6: 32-bit Identification */
    uint32_t offset;      /* fragment offset in bytes (the header field times 8) */
    /* The header to rebuild the datagram from. v4: the IPv4 header with its
     * options. v6: the unfragmentable part, i.e. the fixed header and the
     * extension headers before the Fragment header; hdr[nh_off] is the next
     * header byte that names the Fragment header (6 when it follows the
     * fixed header): rewrite it to proto and fix the payload length. */
    const uint8_t *hdr;
    size_t hdr_len;
    size_t nh_off;        /* v6 only; 9 (the protocol byte) for v4 */
    uint8_t *data;        /* the fragment's payload bytes as captured; writable */
    size_t len;           /* captured bytes of data (fewer than the fragment when truncated) */
};

/* Decode a frame of link type dlt (DLT_EN10MB, DLT_LINUX_SLL, ...).
 * data/caplen: the captured bytes (writable: out->payload points into them);
 * wirelen: the frame's length on the wire; ts_us: packet time.
 * Returns SC_OK with *out filled: l4proto 17 (UDP) or 6 (TCP; tcp_seq,
 * tcp_ack and tcp_flags set, payload after the TCP options) or 132 (SCTP,
 * payload the chunk list: see frame_sctp_next_data()), payload bounded
 * by the UDP length or the IP length, truncated set when the capture holds
 * less than that. SC_DECLINED when it is not IP, not UDP/TCP/SCTP or an IP
 * fragment (*why says which), SC_ERROR when truncated or malformed (*why
 * says which). */
enum sc_ret frame_decode(int dlt, uint8_t *data, size_t caplen, size_t wirelen, int64_t ts_us,
                         struct packet *out, enum frame_reason *why);

/* As frame_decode(); in addition, when it returns SC_DECLINED with
 * FRAME_IP_FRAGMENT and frag is not NULL, *frag describes the fragment
 * (outermost fragmented IP header reached; out->tunnel_depth and the
 * addresses are those of that header). frag is untouched otherwise.
 * An IPv6 atomic fragment (offset 0, M 0, RFC 6946) is not a fragment. */
enum sc_ret frame_decode_ex(int dlt, uint8_t *data, size_t caplen, size_t wirelen, int64_t ts_us,
                            struct packet *out, enum frame_reason *why, struct frame_fragment *frag);

/* Decode a whole IP datagram that starts at its IPv4 or IPv6 header (the
 * version nibble decides), such as the one ipdefrag_feed() hands out; len
 * bytes are readable and writable. Same results as frame_decode(); tunnels
 * inside the datagram are unwrapped and counted from 0, so the caller adds
 * the tunnel_depth at which the fragments were found. A fragment inside the
 * datagram (a fragmented inner packet of a fragmented tunnel) is declined
 * with FRAME_IP_FRAGMENT and not described. */
enum sc_ret frame_decode_ip(uint8_t *ip, size_t len, int64_t ts_us, struct packet *out, enum frame_reason *why);

/* What frame_sctp_next_data() walked past, added to by every call. */
struct frame_sctp_counts {
    uint64_t chunks;            /* chunks of any type */
    uint64_t messages;          /* DATA user data handed out */
    uint64_t first_fragments;   /* of messages: the first piece of a split user message (B without E) */
    uint64_t fragments_skipped; /* later pieces of a split user message (B clear): not used */
    uint64_t truncated;         /* DATA chunks cut by the capture (used when the start was captured) */
    uint64_t malformed;         /* chunk lengths that are impossible: the rest of the packet is skipped */
};

/* The next SIP message of an SCTP packet that frame_decode() returned
 * (l4proto 132). *off is the offset in sctp->payload to start from: 0 for
 * the first call, then left where the last call stopped. Returns SC_OK with
 * *out a copy of *sctp whose payload and len are the user data of the next
 * DATA chunk (RFC 9260 §3.3.1; one SIP message per user message, RFC 4168,
 * whatever the PPID). The first piece of a fragmented user message (B flag
 * without E) is returned with out->truncated set, like a datagram cut by the
 * snap length: it holds the start line and usually the header section; later
 * pieces are counted and skipped, never joined. SC_DECLINED when no DATA
 * chunk is left. Other chunk types are skipped; every skip is counted in
 * *counts. out->payload points into sctp->payload, writable, valid as long
 * as the frame bytes are. Never reads past sctp->len. */
enum sc_ret frame_sctp_next_data(const struct packet *sctp, size_t *off, struct packet *out,
                                 struct frame_sctp_counts *counts);

#endif
