/* pcap_writer.h - a tiny pcap / pcapng writer for tests and the sample
 * generator. Written by hand, without libpcap, so a test can build exactly
 * the bytes it wants to feed the reader.
 *
 * Files are written in host byte order (readers detect it from the magic),
 * with microsecond timestamps and a snap length of 262144. Every function
 * returns 0 or -1; after a -1 from a write the file is still usable, and
 * pcapw_close() reports any write that failed on the way.
 */
#ifndef SIPCDR_PCAP_WRITER_H
#define SIPCDR_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct pcapw;

/* Create path (truncating it) and write the file header: pcap, or for
 * pcapng != 0 a Section Header Block and one Interface Description Block.
 * linktype is a DLT_ value; DLT_RAW (12 on most systems, 14 on OpenBSD) is
 * written as LINKTYPE_RAW (101) as libpcap does, any other value as it is.
 * pcapw_udp() builds frames for DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
 * DLT_NULL and raw IP; with any other link type only pcapw_raw() works.
 * Returns NULL if the file cannot be created or written (errno is set). */
struct pcapw *pcapw_open(const char *path, int linktype, int pcapng);

/* Append one UDP datagram at ts_us (microseconds since the epoch, >= 0) with
 * the link header of the file's link type. IPv4 or IPv6 follows the address
 * text (both must be the same family); IP and UDP lengths and checksums are
 * correct. len may be up to the largest datagram the IP version carries.
 * pcap files hold times up to 2038-01-19 (readers take seconds as signed 32
 * bits); pcapng has no such limit.
 * Returns -1 on bad addresses, a time the format cannot hold, a link type it
 * cannot build, or a write error. */
int pcapw_udp(struct pcapw *w, int64_t ts_us, const char *src_ip, uint16_t sport, const char *dst_ip,
              uint16_t dport, const void *payload, size_t len);

/* As pcapw_udp(), with one 802.1Q tag carrying vlan_id (0..4095) after the
 * Ethernet addresses. Only for DLT_EN10MB files; -1 otherwise. */
int pcapw_udp_vlan(struct pcapw *w, int64_t ts_us, const char *src_ip, uint16_t sport, const char *dst_ip,
                   uint16_t dport, const void *payload, size_t len, uint16_t vlan_id);

/* Append a complete link-layer frame as given (captured length = wire
 * length = len, len <= 262144); same time limits as pcapw_udp(). */
int pcapw_raw(struct pcapw *w, int64_t ts_us, const void *frame, size_t len);

/* Flush, close and free w (also when it returns -1). Returns -1 if any write
 * since pcapw_open() failed or the close failed, else 0. */
int pcapw_close(struct pcapw *w);

#endif
