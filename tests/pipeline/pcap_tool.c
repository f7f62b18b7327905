/* pcap_tool.c - captures for the pipeline tests that the sample does not hold.
 *
 *   pcap_tool privacy OUT.pcap     bodies that try to slip past the privacy cut
 *   pcap_tool malformed OUT.pcap   broken SIP, non-SIP UDP, a datagram cut short
 *   pcap_tool sll OUT.pcap         a call captured on Linux "any" (cooked) as pcapng
 *   pcap_tool hep OUT.pcap         MESSAGEs mirrored as HEPv3 to udp/9060, plain and zlib-compressed
 *   pcap_tool many N OUT.pcap [S]  N calls (every fifth busy, the rest answered) and N/10 MESSAGEs,
 *                                  one call starting every 20 ms, S seconds (default 0) after the
 *                                  other captures' start: a long import for the crash tests. Call-IDs
 *                                  are "many-<S>-<i>@gen.example", "many-sms-<S>-<i>@gen.example"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "pcap_writer.h"

#define T0 ((int64_t)1480675281 * 1000000)

static int failed;

static void udp(struct pcapw *w, int64_t t, const char *src, const char *dst, const char *msg, size_t len)
{
    if (pcapw_udp(w, t, src, 5060, dst, 5060, msg, len) != 0)
        failed = 1;
}

static void str(struct pcapw *w, int64_t t, const char *msg) { udp(w, t, "10.1.0.1", "10.1.0.2", msg, strlen(msg)); }

#define MSGHDR(id, cseq)                                                                           \
    "MESSAGE sip:+4917099" id "@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.0.1;branch=z9hG4bK" id "\r\n"     \
    "From: <sip:+4930100" id "@example.net>;tag=f" id "\r\nTo: <sip:+4917099" id "@example.net>\r\n"           \
    "Call-ID: privacy-" id "\r\nCSeq: " cseq " MESSAGE\r\n"

static int privacy(const char *path)
{
    struct pcapw *w = pcapw_open(path, 1, 0);
    if (w == NULL)
        return 1;
    /* Content-Length shorter than the body */
    str(w, T0 + 1, MSGHDR("01", "1") "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nCANARY-P01 short length");
    /* Content-Length longer than the datagram */
    str(w, T0 + 2, MSGHDR("02", "1") "Content-Type: text/plain\r\nContent-Length: 2000000000\r\n\r\nCANARY-P02 huge length");
    /* no Content-Length at all, compact headers, bare LF */
    str(w, T0 + 3, "MESSAGE sip:+4917099003@example.net SIP/2.0\nv: SIP/2.0/UDP 10.1.0.1;branch=z9hG4bK3\n"
                   "f: <sip:+4930100003@example.net>;tag=f03\nt: <sip:+4917099003@example.net>\ni: privacy-03\n"
                   "CSeq: 1 MESSAGE\nc: text/plain\n\nCANARY-P03 no length");
    /* a body that is itself a SIP request */
    str(w, T0 + 4, MSGHDR("04", "1") "Content-Type: message/sip\r\nContent-Length: 95\r\n\r\n"
                   "INVITE sip:CANARY-P04@evil SIP/2.0\r\nCall-ID: CANARY-P04-inner\r\nFrom: a;tag=x\r\nTo: b\r\nCSeq: 1 INVITE\r\n\r\n");
    /* CPIM and multipart */
    str(w, T0 + 5, MSGHDR("05", "1") "Content-Type: message/cpim\r\nContent-Length: 80\r\n\r\n"
                   "From: <sip:x@y>\r\nTo: <sip:z@y>\r\nContent-Type: text/plain\r\n\r\nCANARY-P05 cpim text");
    str(w, T0 + 6, MSGHDR("06", "1") "Content-Type: multipart/mixed;boundary=zz\r\nContent-Length: 60\r\n\r\n"
                   "--zz\r\nContent-Type: text/plain\r\n\r\nCANARY-P06 part\r\n--zz--\r\n");
    /* 8-bit text with NUL bytes in a 3GPP PDU */
    static const char pdu[] = MSGHDR("07", "1") "Content-Type: application/vnd.3gpp.sms\r\nContent-Length: 30\r\n\r\n"
                                               "\x00\x01\x00\x06\x91\x94\x51\x55\x00\x00\x10\x01\x00\x04\x0a"
                                               "CANARY-P07\x00\xff";
    udp(w, T0 + 7, "10.1.0.1", "10.1.0.2", pdu, sizeof(pdu) - 1);
    /* the answers, one of them with a body too */
    str(w, T0 + 8, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.1.0.1;branch=z9hG4bK01\r\n"
                   "From: <sip:+4930100" "01@example.net>;tag=f01\r\nTo: <sip:+4917099" "01@example.net>;tag=t\r\n"
                   "Call-ID: privacy-01\r\nCSeq: 1 MESSAGE\r\nContent-Length: 15\r\n\r\nCANARY-P08 resp");
    /* over IPv6 too */
    const char *v6 = MSGHDR("09", "1") "Content-Type: text/plain\r\nContent-Length: 15\r\n\r\nCANARY-P09 ipv6";
    udp(w, T0 + 9, "2001:db8::1", "2001:db8::2", v6, strlen(v6));
    if (pcapw_close(w) != 0)
        return 1;
    return failed;
}

static int malformed(const char *path)
{
    struct pcapw *w = pcapw_open(path, 1, 0);
    if (w == NULL)
        return 1;
    str(w, T0 + 1, "NOTIFY * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n\r\n"); /* SSDP */
    str(w, T0 + 2, "INVITE sip:x SIP/2.0\r\nCall-ID: only-call-id\r\n\r\n");                   /* missing headers */
    str(w, T0 + 3, "INVITE sip:x SIP/2.0\r\nthis is not a header\r\n\r\n");
    str(w, T0 + 4, "SIP/2.0 999 Nine\r\nCall-ID: x\r\n\r\n");
    str(w, T0 + 5, "INVITE sip:x SIP/2.0\r\nCall-ID: a\r\nCall-ID: b\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCSeq: 1 INVITE\r\n\r\n");
    str(w, T0 + 6, "\x80\x08\x00\x01rtp-ish payload");
    /* one good call after the junk: still recorded */
    str(w, T0 + 7, "INVITE sip:+4930999@example.net SIP/2.0\r\nFrom: <sip:+4930888@example.net>;tag=g\r\n"
                   "To: <sip:+4930999@example.net>\r\nCall-ID: good-after-junk\r\nCSeq: 1 INVITE\r\n\r\n");
    str(w, T0 + 8, "SIP/2.0 486 Busy Here\r\nFrom: <sip:+4930888@example.net>;tag=g\r\n"
                   "To: <sip:+4930999@example.net>;tag=h\r\nCall-ID: good-after-junk\r\nCSeq: 1 INVITE\r\n\r\n");
    if (pcapw_close(w) != 0)
        return 1;
    return failed;
}

static int sll(const char *path)
{
    struct pcapw *w = pcapw_open(path, 113 /* DLT_LINUX_SLL */, 1);
    if (w == NULL)
        return 1;
    str(w, T0 + 1, "INVITE sip:+4930777@example.net SIP/2.0\r\nFrom: <sip:+4930666@example.net>;tag=s\r\n"
                   "To: <sip:+4930777@example.net>\r\nCall-ID: cooked-1\r\nCSeq: 1 INVITE\r\nUser-Agent: sipp\r\n\r\n");
    str(w, T0 + 2000000, "SIP/2.0 200 OK\r\nFrom: <sip:+4930666@example.net>;tag=s\r\n"
                         "To: <sip:+4930777@example.net>;tag=u\r\nCall-ID: cooked-1\r\nCSeq: 1 INVITE\r\n\r\n");
    str(w, T0 + 9500000, "BYE sip:+4930666@example.net SIP/2.0\r\nFrom: <sip:+4930777@example.net>;tag=u\r\n"
                         "To: <sip:+4930666@example.net>;tag=s\r\nCall-ID: cooked-1\r\nCSeq: 1 BYE\r\n\r\n");
    if (pcapw_close(w) != 0)
        return 1;
    return failed;
}

/* One HEPv3 chunk: vendor 0, type, length including the 6-byte header. */
static size_t chunk(uint8_t *p, uint16_t type, const void *val, size_t len)
{
    size_t n = 6 + len;
    p[0] = 0;
    p[1] = 0;
    p[2] = (uint8_t)(type >> 8);
    p[3] = (uint8_t)type;
    p[4] = (uint8_t)(n >> 8);
    p[5] = (uint8_t)n;
    memcpy(p + 6, val, len);
    return n;
}

static size_t hep3(uint8_t *out, uint32_t ts_sec, uint32_t ts_usec, const void *payload, size_t plen, int compress_it)
{
    size_t o = 6;
    uint8_t u8, a4[4];
    uint16_t u16;
    uint32_t u32;
    u8 = 2; o += chunk(out + o, 1, &u8, 1);           /* IPv4 */
    u8 = 17; o += chunk(out + o, 2, &u8, 1);          /* UDP */
    a4[0] = 10; a4[1] = 2; a4[2] = 0; a4[3] = 1; o += chunk(out + o, 3, a4, 4);
    a4[3] = 2; o += chunk(out + o, 4, a4, 4);
    u16 = htons(5060); o += chunk(out + o, 7, &u16, 2);
    o += chunk(out + o, 8, &u16, 2);
    u32 = htonl(ts_sec); o += chunk(out + o, 9, &u32, 4);
    u32 = htonl(ts_usec); o += chunk(out + o, 10, &u32, 4);
    u8 = 1; o += chunk(out + o, 11, &u8, 1);          /* SIP */
    u32 = htonl(2001); o += chunk(out + o, 12, &u32, 4);
    if (compress_it) {
        uint8_t z[4096];
        uLongf zl = sizeof(z);
        if (compress(z, &zl, payload, plen) != Z_OK)
            failed = 1;
        o += chunk(out + o, 16, z, zl);
    } else {
        o += chunk(out + o, 15, payload, plen);
    }
    memcpy(out, "HEP3", 4);
    out[4] = (uint8_t)(o >> 8);
    out[5] = (uint8_t)o;
    return o;
}

static int hep(const char *path)
{
    struct pcapw *w = pcapw_open(path, 1, 0);
    if (w == NULL)
        return 1;
    static const char *msgs[] = {
        MSGHDR("21", "1") "Content-Type: text/plain\r\nContent-Length: 20\r\n\r\nCANARY-P21 hep plain",
        MSGHDR("22", "1") "Content-Type: text/plain\r\nContent-Length: 19\r\n\r\nCANARY-P22 hep zlib",
    };
    for (int i = 0; i < 2; i++) {
        uint8_t pkt[4096];
        size_t n = hep3(pkt, 1480675290, 250000 + (uint32_t)i, msgs[i], strlen(msgs[i]), i == 1);
        if (pcapw_udp(w, T0 + 9000000 + i, "10.9.9.9", 5060, "10.9.9.10", 9060, pkt, n) != 0)
            failed = 1;
    }
    if (pcapw_close(w) != 0)
        return 1;
    return failed;
}

/* One message of call i at time t: start line, then the call's headers. */
static void many_msg(struct pcapw *w, int64_t t, int i, long start, const char *first, const char *to_tag,
                     const char *cseq)
{
    char msg[1024];
    int n = snprintf(msg, sizeof(msg),
                     "%s\r\nVia: SIP/2.0/UDP 10.5.0.1;branch=z9hG4bKm%d%s\r\n"
                     "From: <sip:+4930%07d@example.net>;tag=a%d\r\nTo: <sip:+4940%07d@example.net>%s\r\n"
                     "Call-ID: many-%ld-%d@gen.example\r\nCSeq: %s\r\nUser-Agent: gen\r\n"
                     "Content-Length: 0\r\n\r\n",
                     first, i, cseq, i, i, i, to_tag, start, i, cseq);
    if (n < 0 || (size_t)n >= sizeof(msg))
        failed = 1;
    else
        str(w, t, msg);
}

static int many(const char *count, const char *path, const char *start_s)
{
    char *end;
    errno = 0;
    long n = strtol(count, &end, 10);
    if (errno != 0 || *end != '\0' || n < 1 || n > 10000000) {
        fprintf(stderr, "many: N must be 1..10000000\n");
        return 2;
    }
    errno = 0;
    long start = strtol(start_s, &end, 10);
    if (errno != 0 || *end != '\0' || start < 0 || start > 86400 * 365) {
        fprintf(stderr, "many: S must be 0..31536000 seconds\n");
        return 2;
    }
    struct pcapw *w = pcapw_open(path, 1, 0);
    if (w == NULL)
        return 1;
    char ruri[128], tag[32];
    for (int i = 0; i < (int)n; i++) {
        int64_t t = T0 + (int64_t)start * 1000000 + (int64_t)i * 20000;
        snprintf(ruri, sizeof(ruri), "INVITE sip:+4940%07d@example.net SIP/2.0", i);
        snprintf(tag, sizeof(tag), ";tag=b%d", i);
        many_msg(w, t, i, start, ruri, "", "1 INVITE");
        many_msg(w, t + 300000, i, start, "SIP/2.0 180 Ringing", tag, "1 INVITE");
        if (i % 5 == 0) {
            many_msg(w, t + 900000, i, start, "SIP/2.0 486 Busy Here", tag, "1 INVITE");
        } else {
            many_msg(w, t + 1000000, i, start, "SIP/2.0 200 OK", tag, "1 INVITE");
            snprintf(ruri, sizeof(ruri), "BYE sip:+4940%07d@example.net SIP/2.0", i);
            many_msg(w, t + 1000000 + (int64_t)(i % 7 + 1) * 1000000, i, start, ruri, tag, "2 BYE");
        }
        if (i % 10 == 0) {
            char msg[1024];
            int k = snprintf(msg, sizeof(msg),
                             "MESSAGE sip:+4917%07d@example.net SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 10.5.0.1;branch=z9hG4bKs%d\r\n"
                             "From: <sip:+4930%07d@example.net>;tag=s%d\r\nTo: <sip:+4917%07d@example.net>\r\n"
                             "Call-ID: many-sms-%ld-%d@gen.example\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 10\r\n\r\nCANARY-%03d",
                             i, i, i, i, i, start, i, i % 1000);
            if (k < 0 || (size_t)k >= sizeof(msg))
                failed = 1;
            else
                str(w, t + 5000, msg);
            k = snprintf(msg, sizeof(msg),
                         "SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP 10.5.0.1;branch=z9hG4bKs%d\r\n"
                         "From: <sip:+4930%07d@example.net>;tag=s%d\r\nTo: <sip:+4917%07d@example.net>;tag=r\r\n"
                         "Call-ID: many-sms-%ld-%d@gen.example\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
                         i, i, i, i, start, i);
            if (k < 0 || (size_t)k >= sizeof(msg))
                failed = 1;
            else
                str(w, t + 50000, msg);
        }
    }
    if (pcapw_close(w) != 0)
        return 1;
    return failed;
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "many") == 0)
        return many(argv[2], argv[3], argc == 5 ? argv[4] : "0");
    if (argc == 3 && strcmp(argv[1], "hep") == 0)
        return hep(argv[2]);
    if (argc == 3 && strcmp(argv[1], "privacy") == 0)
        return privacy(argv[2]);
    if (argc == 3 && strcmp(argv[1], "malformed") == 0)
        return malformed(argv[2]);
    if (argc == 3 && strcmp(argv[1], "sll") == 0)
        return sll(argv[2]);
    fprintf(stderr, "usage: pcap_tool privacy|malformed|sll|hep OUT | many N OUT [S]\n");
    return 2;
}
