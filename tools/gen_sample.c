/* gen_sample.c - write the bundled sample capture (deterministic).
 *
 *   sipcdr-gensample OUT.pcap
 *
 * A small day at a SIP proxy (192.0.2.10): answered calls seen on both legs,
 * busy, cancelled, no answer, rejected, an authentication challenge, a call
 * over IPv6, a call still ringing when the capture ends, text and 3GPP
 * MESSAGEs, a REGISTER and some RTP. Every body (SDP, SMS text, the 3GPP
 * PDU) carries the marker CANARY so that anyone can check that no body byte
 * reaches sipcdr's output: `grep -r CANARY` over it must find nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_writer.h"

#define S(x) ((int64_t)(x)*1000000)
#define MS(x) ((int64_t)(x)*1000)
#define T0 S(1480675281) /* 2016-12-02T10:41:21Z */

static struct pcapw *w;
static int failed;

static const char *PROXY = "192.0.2.10";

/* Send one SIP message: headers from fmt, then blen body bytes (binary
 * bodies may hold NULs) with a correct Content-Length. */
static void vsip(int64_t t, const char *src, const char *dst, const char *body, size_t blen, const char *fmt,
                 va_list ap)
{
    char hdr[4096], msg[8192];
    vsnprintf(hdr, sizeof(hdr), fmt, ap);
    int n = snprintf(msg, sizeof(msg), "%sContent-Length: %zu\r\n\r\n", hdr, blen);
    if (n < 0 || (size_t)n + blen >= sizeof(msg)) {
        failed = 1;
        return;
    }
    if (blen)
        memcpy(msg + n, body, blen);
    if (pcapw_udp(w, t, src, 5060, dst, 5060, msg, (size_t)n + blen) != 0)
        failed = 1;
}

static void sip(int64_t t, const char *src, const char *dst, const char *body, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsip(t, src, dst, body, body ? strlen(body) : 0, fmt, ap);
    va_end(ap);
}

static void sip_bin(int64_t t, const char *src, const char *dst, const char *body, size_t blen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsip(t, src, dst, body, blen, fmt, ap);
    va_end(ap);
}

static void rtp(int64_t t, const char *src, const char *dst, int n)
{
    unsigned char pkt[172];
    for (int i = 0; i < n; i++) {
        memset(pkt, 0xd5, sizeof(pkt));
        pkt[0] = 0x80;
        pkt[1] = 0x08;
        pkt[2] = (unsigned char)(i >> 8);
        pkt[3] = (unsigned char)i;
        if (pcapw_udp(w, t + MS(20) * i, src, 40000, dst, 40002, pkt, sizeof(pkt)) != 0)
            failed = 1;
    }
}

static const char *sdp(int n)
{
    static char buf[512];
    snprintf(buf, sizeof(buf),
             "v=0\r\no=- %d 1 IN IP4 198.51.100.7\r\ns=CANARY-SDP-%d\r\nc=IN IP4 198.51.100.7\r\n"
             "t=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n",
             n, n);
    return buf;
}

#define VIA(host, br) "Via: SIP/2.0/UDP " host ":5060;branch=z9hG4bK" br "\r\n"

/* An INVITE dialog through the proxy: leg 1 caller <-> proxy, leg 2 proxy <->
 * callee. outcome: 200 (answered, bye_by 'a' caller / 'b' callee after talk
 * seconds), or a failure code; cancel_at > 0 cancels after that many ms. */
struct call {
    const char *id, *from, *to, *caller_ip, *callee_ip, *ua;
    int64_t t;
    int final;
    char bye_by;
    int talk_s;
    int cancel_ms;
    int ring;
};

static void call_flow(const struct call *c, int n)
{
    char hdrs[1024];
    snprintf(hdrs, sizeof(hdrs),
             "From: <sip:%s@example.net>;tag=a%d\r\nTo: <sip:%s@example.net>%%s\r\nCall-ID: %s\r\n", c->from, n, c->to,
             c->id);
    char to_tag[32];
    snprintf(to_tag, sizeof(to_tag), ";tag=b%d", n);
    int64_t t = c->t;
#define HDR(tag) (snprintf(h, sizeof(h), hdrs, (tag)), h)
    char h[1200];
    /* INVITE on both legs, 100 Trying back on leg 1 */
    sip(t, c->caller_ip, PROXY, sdp(n),
        "INVITE sip:%s@example.net SIP/2.0\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 INVITE\r\nUser-Agent: %s\r\n"
        "Contact: <sip:%s@%s>\r\nContent-Type: application/sdp\r\n",
        c->to, HDR(""), c->ua, c->from, c->caller_ip);
    sip(t + MS(2), PROXY, c->callee_ip, sdp(n),
        "INVITE sip:%s@example.net SIP/2.0\r\n" VIA("192.0.2.10", "2") "%sCSeq: 1 INVITE\r\nUser-Agent: %s\r\n"
        "Content-Type: application/sdp\r\n",
        c->to, HDR(""), c->ua);
    sip(t + MS(3), PROXY, c->caller_ip, NULL, "SIP/2.0 100 Trying\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 INVITE\r\n",
        HDR(""));
    int64_t now = t + MS(3);
    if (c->ring) {
        now = t + MS(800);
        sip(now, c->callee_ip, PROXY, NULL, "SIP/2.0 180 Ringing\r\n" VIA("192.0.2.10", "2") "%sCSeq: 1 INVITE\r\n",
            HDR(to_tag));
        sip(now + MS(1), PROXY, c->caller_ip, NULL,
            "SIP/2.0 180 Ringing\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 INVITE\r\n", HDR(to_tag));
    }
    if (c->cancel_ms > 0) {
        now = t + MS(c->cancel_ms);
        sip(now, c->caller_ip, PROXY, NULL, "CANCEL sip:%s@example.net SIP/2.0\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 CANCEL\r\n",
            c->to, HDR(""));
        sip(now + MS(1), PROXY, c->caller_ip, NULL, "SIP/2.0 200 OK\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 CANCEL\r\n", HDR(""));
        sip(now + MS(2), PROXY, c->callee_ip, NULL, "CANCEL sip:%s@example.net SIP/2.0\r\n" VIA("192.0.2.10", "2") "%sCSeq: 1 CANCEL\r\n",
            c->to, HDR(""));
        sip(now + MS(30), c->callee_ip, PROXY, NULL,
            "SIP/2.0 487 Request Terminated\r\n" VIA("192.0.2.10", "2") "%sCSeq: 1 INVITE\r\n", HDR(to_tag));
        sip(now + MS(31), PROXY, c->caller_ip, NULL,
            "SIP/2.0 487 Request Terminated\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 INVITE\r\n", HDR(to_tag));
        sip(now + MS(40), c->caller_ip, PROXY, NULL, "ACK sip:%s@example.net SIP/2.0\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 ACK\r\n",
            c->to, HDR(to_tag));
        return;
    }
    if (c->final == 0)
        return; /* still ringing when the capture ends */
    now += S(c->final == 200 ? 4 : 1);
    const char *reason = c->final == 200 ? "OK" : c->final == 486 ? "Busy Here" : c->final == 480 ? "Temporarily Unavailable" : "Decline";
    sip(now, c->callee_ip, PROXY, c->final == 200 ? sdp(n + 100) : NULL,
        "SIP/2.0 %d %s\r\n" VIA("192.0.2.10", "2") "%sCSeq: 1 INVITE\r\n%s", c->final, reason, HDR(to_tag),
        c->final == 200 ? "Content-Type: application/sdp\r\nServer: Yealink SIP-T46S 66.86.0.15\r\n" : "");
    sip(now + MS(1), PROXY, c->caller_ip, c->final == 200 ? sdp(n + 100) : NULL,
        "SIP/2.0 %d %s\r\n" VIA("198.51.100.7", "1") "%sCSeq: 1 INVITE\r\n%s", c->final, reason, HDR(to_tag),
        c->final == 200 ? "Content-Type: application/sdp\r\n" : "");
    sip(now + MS(20), c->caller_ip, PROXY, NULL, "ACK sip:%s@example.net SIP/2.0\r\n" VIA("198.51.100.7", "3") "%sCSeq: 1 ACK\r\n",
        c->to, HDR(to_tag));
    if (c->final != 200)
        return;
    rtp(now + MS(40), c->caller_ip, c->callee_ip, 5);
    now += S(c->talk_s);
    if (c->bye_by == 'a') {
        sip(now, c->caller_ip, PROXY, NULL, "BYE sip:%s@example.net SIP/2.0\r\n" VIA("198.51.100.7", "4") "%sCSeq: 2 BYE\r\n",
            c->to, HDR(to_tag));
        sip(now + MS(30), PROXY, c->caller_ip, NULL, "SIP/2.0 200 OK\r\n" VIA("198.51.100.7", "4") "%sCSeq: 2 BYE\r\n", HDR(to_tag));
    } else {
        char rev[1024];
        snprintf(rev, sizeof(rev),
                 "From: <sip:%s@example.net>;tag=b%d\r\nTo: <sip:%s@example.net>;tag=a%d\r\nCall-ID: %s\r\n", c->to, n,
                 c->from, n, c->id);
        sip(now, c->callee_ip, PROXY, NULL, "BYE sip:%s@%s SIP/2.0\r\n" VIA("203.0.113.20", "5") "%sCSeq: 1 BYE\r\n",
            c->from, c->caller_ip, rev);
        sip(now + MS(30), c->caller_ip, PROXY, NULL, "SIP/2.0 200 OK\r\n" VIA("203.0.113.20", "5") "%sCSeq: 1 BYE\r\n", rev);
    }
#undef HDR
}

static void message(int64_t t, int n, const char *from, const char *to, int code, const char *ctype, const char *body,
                    size_t blen)
{
    char hdrs[1024];
    snprintf(hdrs, sizeof(hdrs),
             "From: <sip:%s@example.net>;tag=m%d\r\nTo: <sip:%s@example.net>%%s\r\nCall-ID: sms-%d@198.51.100.7\r\n"
             "CSeq: 1 MESSAGE\r\n",
             from, n, to, n);
    char h[1200];
    snprintf(h, sizeof(h), hdrs, "");
    sip_bin(t, "198.51.100.7", PROXY, body, blen,
        "MESSAGE sip:%s@example.net SIP/2.0\r\n" VIA("198.51.100.7", "m") "%sContent-Type: %s\r\n", to, h, ctype);
    sip_bin(t + MS(1), PROXY, "203.0.113.30", body, blen,
        "MESSAGE sip:%s@example.net SIP/2.0\r\n" VIA("192.0.2.10", "n") "%sContent-Type: %s\r\n", to, h, ctype);
    if (code == 0)
        return;
    snprintf(h, sizeof(h), hdrs, ";tag=r1");
    const char *reason = code == 200 ? "OK" : "Accepted";
    sip(t + MS(40), "203.0.113.30", PROXY, NULL, "SIP/2.0 %d %s\r\n" VIA("192.0.2.10", "n") "%s", code, reason, h);
    sip(t + MS(41), PROXY, "198.51.100.7", NULL, "SIP/2.0 %d %s\r\n" VIA("198.51.100.7", "m") "%s", code, reason, h);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sipcdr-gensample OUT.pcap\n");
        return 2;
    }
    w = pcapw_open(argv[1], 1 /* DLT_EN10MB */, 0);
    if (w == NULL) {
        perror(argv[1]);
        return 1;
    }
    static const struct call calls[] = {
        {"c1-answered@198.51.100.7", "+4930111000", "+4930222000", "198.51.100.7", "203.0.113.20", "Zoiper rv2.10.8.1", T0, 200, 'a', 62, 0, 1},
        {"c2-busy@198.51.100.7", "+4930111001", "+4930222001", "198.51.100.7", "203.0.113.20", "Linphone/5.2.0 (belle-sip/5.2.0)", T0 + S(10), 486, 0, 0, 0, 1},
        {"c3-cancel@198.51.100.7", "+4930111002", "+4930222002", "198.51.100.7", "203.0.113.20", "MicroSIP/3.21.3", T0 + S(20), 0, 0, 0, 6500, 1},
        {"c4-noanswer@198.51.100.7", "+4930111003", "+4930222003", "198.51.100.7", "203.0.113.20", "Grandstream GXP2170 1.0.11.3", T0 + S(30), 480, 0, 0, 0, 1},
        {"c5-callee-bye@198.51.100.7", "+4930111004", "+4930222004", "198.51.100.7", "203.0.113.20", "Bria 6.5.0", T0 + S(40), 200, 'b', 17, 0, 0},
        {"c6-rejected@198.51.100.7", "alice", "+4930222005", "198.51.100.7", "203.0.113.20", "", T0 + S(50), 603, 0, 0, 0, 1},
        {"c7-ringing@198.51.100.7", "+4930111006", "+4930222006", "198.51.100.7", "203.0.113.20", "Asterisk PBX 18.10.0", T0 + S(115), 0, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        call_flow(&calls[i], (int)i + 1);

    /* An IPv6 call with an authentication challenge first (one call). */
    const char *a6 = "2001:db8::7", *p6 = "2001:db8::10";
    const char *hv6 = "From: <sip:+4930111007@example.net>;tag=a8\r\nTo: <sip:+4930222007@example.net>%s\r\n"
                      "Call-ID: c8-ipv6-auth@2001:db8::7\r\n";
    char h[512];
    snprintf(h, sizeof(h), hv6, "");
    sip(T0 + S(60), a6, p6, sdp(8), "INVITE sip:+4930222007@example.net SIP/2.0\r\n" VIA("[2001:db8::7]", "61")
        "%sCSeq: 1 INVITE\r\nUser-Agent: Cisco-CP8845/12.8.1\r\nContent-Type: application/sdp\r\n", h);
    snprintf(h, sizeof(h), hv6, ";tag=px");
    sip(T0 + S(60) + MS(5), p6, a6, NULL, "SIP/2.0 407 Proxy Authentication Required\r\n" VIA("[2001:db8::7]", "61")
        "%sCSeq: 1 INVITE\r\nProxy-Authenticate: Digest realm=\"example.net\", nonce=\"abc\"\r\n", h);
    sip(T0 + S(60) + MS(6), a6, p6, NULL, "ACK sip:+4930222007@example.net SIP/2.0\r\n" VIA("[2001:db8::7]", "61") "%sCSeq: 1 ACK\r\n", h);
    snprintf(h, sizeof(h), hv6, "");
    sip(T0 + S(60) + MS(50), a6, p6, sdp(8), "INVITE sip:+4930222007@example.net SIP/2.0\r\n" VIA("[2001:db8::7]", "62")
        "%sCSeq: 2 INVITE\r\nProxy-Authorization: Digest username=\"x\"\r\nUser-Agent: Cisco-CP8845/12.8.1\r\nContent-Type: application/sdp\r\n", h);
    snprintf(h, sizeof(h), hv6, ";tag=b8");
    sip(T0 + S(61), p6, a6, NULL, "SIP/2.0 180 Ringing\r\n" VIA("[2001:db8::7]", "62") "%sCSeq: 2 INVITE\r\n", h);
    sip(T0 + S(63) + 250, p6, a6, sdp(108), "SIP/2.0 200 OK\r\n" VIA("[2001:db8::7]", "62") "%sCSeq: 2 INVITE\r\nContent-Type: application/sdp\r\n", h);
    sip(T0 + S(63) + MS(20), a6, p6, NULL, "ACK sip:+4930222007@example.net SIP/2.0\r\n" VIA("[2001:db8::7]", "63") "%sCSeq: 2 ACK\r\n", h);
    sip(T0 + S(93) + 999, a6, p6, NULL, "BYE sip:+4930222007@example.net SIP/2.0\r\n" VIA("[2001:db8::7]", "64") "%sCSeq: 3 BYE\r\n", h);

    /* A REGISTER (devices come with a later release; not a call). */
    sip(T0 + S(5), "198.51.100.7", PROXY, NULL,
        "REGISTER sip:example.net SIP/2.0\r\n" VIA("198.51.100.7", "r") "From: <sip:+4930111000@example.net>;tag=r1\r\n"
        "To: <sip:+4930111000@example.net>\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:+4930111000@198.51.100.7>\r\nExpires: 3600\r\n");

    /* SMS: text, 3GPP (binary PDU with 8-bit text), and one never answered. */
    message(T0 + S(70), 1, "+4930111000", "+4917012345", 200, "text/plain;charset=UTF-8",
            "CANARY-SMS-1 Meet me at 8, the usual place.", 43);
    /* RP-DATA MS->network, SMSC +4915550000; SMS-SUBMIT to +49170222222,
     * TP-DCS 0x04 (8-bit data), 12 octets of user data. */
    static const char pdu[] = "\x00\x05\x00\x06\x91\x94\x51\x55\x00\x00\x19\x01\x2a\x0b\x91\x94\x71\x20"
                              "\x22\x22\xf2\x00\x04\x0c" "CANARY-SMS-2";
    message(T0 + S(75), 2, "+4930111001", "+4917012346", 202, "application/vnd.3gpp.sms", pdu, sizeof(pdu) - 1);
    message(T0 + S(80), 3, "+4930111002", "+4917012347", 0, "text/plain", "CANARY-SMS-3 are you there?", 27);

    if (pcapw_close(w) != 0 || failed) {
        fprintf(stderr, "sipcdr-gensample: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
