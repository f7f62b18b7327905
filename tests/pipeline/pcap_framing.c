/* pcap_framing.c - captures that deliver SIP MESSAGEs with canary bodies
 * through the framings the capture layer must undo:
 *
 *   pcap_framing OUT.pcap
 *
 * TCP split one byte per segment, pipelined in one segment, out of order;
 * a UDP datagram in three IPv4 fragments sent last first; an 802.1Q VLAN;
 * IPv6. Every body holds "CANARY". Frames are built by hand here because
 * the tests' pcap writer only builds whole UDP datagrams. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "pcap_writer.h"

#define T0 ((int64_t)1480675281 * 1000000)

static struct pcapw *w;
static int failed;
static int64_t now = T0;

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)(p[n - 1] << 8);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* Ethernet + IPv4 header (proto, id, fragment offset in bytes, MF) + l4. */
static void ipv4(uint8_t proto, uint16_t id, size_t frag_off, int mf, const uint8_t *l4, size_t len)
{
    uint8_t f[2048];
    memset(f, 0, 14);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + len) >> 8);
    ip[3] = (uint8_t)(20 + len);
    ip[4] = (uint8_t)(id >> 8);
    ip[5] = (uint8_t)id;
    uint16_t fo = (uint16_t)((frag_off / 8) | (mf ? 0x2000 : 0));
    ip[6] = (uint8_t)(fo >> 8);
    ip[7] = (uint8_t)fo;
    ip[8] = 64;
    ip[9] = proto;
    ip[12] = 10, ip[13] = 3, ip[14] = 0, ip[15] = 1;
    ip[16] = 10, ip[17] = 3, ip[18] = 0, ip[19] = 2;
    uint16_t c = csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    memcpy(ip + 20, l4, len);
    if (pcapw_raw(w, now++, f, 34 + len) != 0)
        failed = 1;
}

static void tcp(uint32_t seq, uint8_t flags, const char *data, size_t len)
{
    uint8_t seg[1600];
    memset(seg, 0, 20);
    seg[0] = 0x13, seg[1] = 0xc4; /* 5060 */
    seg[2] = 0x13, seg[3] = 0xc4;
    seg[4] = (uint8_t)(seq >> 24), seg[5] = (uint8_t)(seq >> 16), seg[6] = (uint8_t)(seq >> 8), seg[7] = (uint8_t)seq;
    seg[12] = 0x50;
    seg[13] = flags;
    seg[14] = 0xff, seg[15] = 0xff;
    memcpy(seg + 20, data, len);
    ipv4(6, 1, 0, 0, seg, 20 + len);
}

#define MSG(id)                                                                                    \
    "MESSAGE sip:+4917099" id "@example.net SIP/2.0\r\nVia: SIP/2.0/TCP 10.3.0.1;branch=z9hG4bK" id "\r\n" \
    "From: <sip:+4930100" id "@example.net>;tag=f" id "\r\nTo: <sip:+4917099" id "@example.net>\r\n"       \
    "Call-ID: framing-" id "\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 22\r\n\r\n" \
    "CANARY-F" id " secret text"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_framing OUT.pcap\n");
        return 2;
    }
    w = pcapw_open(argv[1], 1, 0);
    if (w == NULL)
        return 1;
    uint32_t seq = 1000;
    tcp(seq - 1, 0x02, "", 0); /* SYN */

    /* 31: one byte per segment */
    const char *m31 = MSG("31");
    for (size_t i = 0; i < strlen(m31); i++)
        tcp(seq++, 0x18, m31 + i, 1);

    /* 32, 33, 34: pipelined in one segment */
    char three[2048];
    int n = snprintf(three, sizeof(three), "%s%s%s", MSG("32"), MSG("33"), MSG("34"));
    tcp(seq, 0x18, three, (size_t)n);
    seq += (uint32_t)n;

    /* 35: three segments, sent in reverse order, the canary split across */
    const char *m35 = MSG("35");
    size_t l = strlen(m35), a = l - 30, b = l - 12;
    tcp(seq + (uint32_t)b, 0x18, m35 + b, l - b);
    tcp(seq + (uint32_t)a, 0x18, m35 + a, b - a);
    tcp(seq, 0x18, m35, a);
    seq += (uint32_t)l;

    /* 36: UDP in three fragments, last first, the canary in the last two */
    char udp[1024];
    const char *m36 = MSG("36");
    size_t ml = strlen(m36);
    memset(udp, 0, 8);
    udp[0] = 0x13, udp[1] = (char)0xc4, udp[2] = 0x13, udp[3] = (char)0xc4;
    udp[4] = (char)((8 + ml) >> 8), udp[5] = (char)(8 + ml);
    memcpy(udp + 8, m36, ml);
    size_t total = 8 + ml, f1 = 200, f2 = (total - 16) & ~(size_t)7;
    ipv4(17, 77, f2, 0, (const uint8_t *)udp + f2, total - f2);
    ipv4(17, 77, f1, 1, (const uint8_t *)udp + f1, f2 - f1);
    ipv4(17, 77, 0, 1, (const uint8_t *)udp, f1);

    /* 37: VLAN; 38: IPv6 */
    const char *m37 = MSG("37"), *m38 = MSG("38");
    if (pcapw_udp_vlan(w, now++, "10.3.0.1", 5060, "10.3.0.2", 5060, m37, strlen(m37), 42) != 0 ||
        pcapw_udp(w, now++, "2001:db8::31", 5060, "2001:db8::32", 5060, m38, strlen(m38)) != 0)
        failed = 1;
    if (pcapw_close(w) != 0)
        return 1;
    return failed;
}
