/* test_pcap_writer.c - files from pcapw read back by libpcap and frame_decode:
 * every link type the writer builds, pcap and pcapng, exact timestamps, exact
 * file sizes, correct checksums, and the calls it must refuse.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "frame.h"
#include "pcap_writer.h"

#define T0 ((int64_t)1480675281 * 1000000)
#define T_2038 ((int64_t)INT32_MAX * 1000000 + 999999) /* the last pcap microsecond */
#define T_2100 ((int64_t)4102444800 * 1000000 + 999999) /* past 2^31 seconds: pcapng only */

/* One datagram written and expected back. */
struct dgram {
    int64_t ts_us;
    const char *src, *dst;
    uint16_t sport, dport;
    size_t len;   /* bytes of big_payload() */
    int vlan;     /* < 0: none */
    int pcapng_only;
};

static const struct dgram dgrams[] = {
    {T0 + 123456, "10.0.0.1", "10.0.0.2", 5060, 5080, 40, -1, 0},
    {T0 + 999999, "2001:db8::1", "2001:db8:ffff::2", 5061, 5062, 333, -1, 0},
    {T0 + 1000000, "192.0.2.10", "198.51.100.7", 1, 65535, 0, -1, 0}, /* empty payload */
    {T0 + 1000001, "::1", "::1", 5060, 5060, 1, -1, 0},                /* odd length: checksum pad byte */
    {T_2038, "10.255.255.254", "10.0.0.1", 5060, 5060, 1400, -1, 0},
    {T_2100, "10.0.0.1", "10.0.0.2", 5060, 5060, 10, -1, 1},
    {0, "fe80::1", "ff02::1", 5060, 5060, 8000, -1, 0},
    {T0 + 7, "10.0.0.1", "10.0.0.2", 5060, 5060, 61, 100, 0}, /* Ethernet only */
    {T0 + 8, "2001:db8::1", "2001:db8::2", 5060, 5060, 61, 4095, 0},
};

static uint8_t big[8000];

/* Payload bytes that differ per offset and include NULs. */
static void fill_big(void)
{
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + (i >> 8));
}

static char *temp_path(void)
{
    const char *dir = getenv("TMPDIR");
    static char path[512];
    int n = snprintf(path, sizeof(path), "%s/sipcdr_pcapw_XXXXXX", dir && *dir ? dir : "/tmp");
    CHECK(n > 0 && (size_t)n < sizeof(path));
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    return path;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sum += i & 1 ? p[i] : (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t folded(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Verify the IPv4 header checksum and the UDP checksum of a decoded packet:
 * both sum to 0xffff over the covered bytes. */
static void check_checksums(const struct packet *p)
{
    const uint8_t *udp = p->payload - 8;
    size_t ulen = (size_t)udp[4] << 8 | udp[5];
    size_t alen = p->af == 4 ? 4 : 16;
    if (p->af == 4)
        CHECK_EQ_INT(folded(sum16(0, udp - 20, 20)), 0xffff);
    uint32_t s = sum16(0, p->src, alen);
    s = sum16(s, p->dst, alen);
    s += 17 + (uint32_t)ulen;
    CHECK((udp[6] | udp[7]) != 0);
    CHECK_EQ_INT(folded(sum16(s, udp, ulen)), 0xffff);
}

static int usable(int linktype, int pcapng, const struct dgram *d)
{
    return (d->vlan < 0 || linktype == DLT_EN10MB) && (pcapng || !d->pcapng_only);
}

static long expected_size(int linktype, int pcapng, size_t link_len)
{
    long size = pcapng ? 28 + 32 : 24;
    for (size_t i = 0; i < SC_ARRAY_LEN(dgrams); i++) {
        const struct dgram *d = &dgrams[i];
        if (!usable(linktype, pcapng, d))
            continue;
        size_t n = link_len + (d->vlan >= 0 ? 4 : 0) + (strchr(d->src, ':') ? 40 : 20) + 8 + d->len;
        size += pcapng ? 32 + (long)((n + 3) & ~(size_t)3) : 16 + (long)n;
    }
    return size;
}

/* Write every datagram the link type can carry, read them back, decode. */
static void round_trip(int linktype, int pcapng, size_t link_len, int want_dlt)
{
    char *path = temp_path();
    struct pcapw *w = pcapw_open(path, linktype, pcapng);
    CHECK(w != NULL);
    if (w == NULL)
        return;
    for (size_t i = 0; i < SC_ARRAY_LEN(dgrams); i++) {
        const struct dgram *d = &dgrams[i];
        if (!usable(linktype, pcapng, d))
            continue;
        int rc = d->vlan < 0 ? pcapw_udp(w, d->ts_us, d->src, d->sport, d->dst, d->dport, big, d->len)
                             : pcapw_udp_vlan(w, d->ts_us, d->src, d->sport, d->dst, d->dport, big, d->len,
                                              (uint16_t)d->vlan);
        CHECK_EQ_INT(rc, 0);
    }
    CHECK_EQ_INT(pcapw_close(w), 0);
    CHECK_EQ_INT(file_size(path), expected_size(linktype, pcapng, link_len));

    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    CHECK_REPORT(pc != NULL, "pcap_open_offline: %s", err);
    if (pc == NULL) {
        unlink(path);
        return;
    }
    CHECK_EQ_INT(pcap_datalink(pc), want_dlt);
    for (size_t i = 0; i < SC_ARRAY_LEN(dgrams); i++) {
        const struct dgram *d = &dgrams[i];
        if (!usable(linktype, pcapng, d))
            continue;
        struct pcap_pkthdr *h;
        const u_char *bytes;
        CHECK_EQ_INT(pcap_next_ex(pc, &h, &bytes), 1);
        CHECK_EQ_INT((int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec, d->ts_us);
        CHECK_EQ_INT(h->caplen, h->len);
        /* frame_decode writes nothing but wants writable bytes; a copy of
         * exactly caplen lets ASan see any overread. */
        uint8_t *data = malloc(h->caplen);
        memcpy(data, bytes, h->caplen);
        struct packet p;
        enum frame_reason why;
        CHECK_EQ_INT(frame_decode(pcap_datalink(pc), data, h->caplen, h->len, d->ts_us, &p, &why), SC_OK);
        if (why == FRAME_OK) {
            char a[48];
            CHECK_EQ_STR(packet_addr_str(&p, 1, a, sizeof(a)), d->src);
            CHECK_EQ_STR(packet_addr_str(&p, 0, a, sizeof(a)), d->dst);
            CHECK_EQ_INT(p.af, strchr(d->src, ':') ? 6 : 4);
            CHECK_EQ_INT(p.sport, d->sport);
            CHECK_EQ_INT(p.dport, d->dport);
            CHECK_EQ_INT(p.ts_us, d->ts_us);
            CHECK_EQ_INT(p.truncated, 0);
            CHECK_EQ_INT(p.len, d->len);
            CHECK(d->len == 0 || memcmp(p.payload, big, d->len) == 0);
            CHECK_EQ_INT(p.payload + p.len - data, h->caplen); /* nothing after the datagram */
            check_checksums(&p);
            if (d->vlan >= 0)
                CHECK_EQ_INT(((unsigned)data[14] << 8 | data[15]) & 0x0fff, d->vlan);
        }
        free(data);
    }
    struct pcap_pkthdr *h;
    const u_char *bytes;
    CHECK_EQ_INT(pcap_next_ex(pc, &h, &bytes), PCAP_ERROR_BREAK); /* end of file */
    pcap_close(pc);
    unlink(path);
}

static void pcap_ethernet(void) { round_trip(DLT_EN10MB, 0, 14, DLT_EN10MB); }
static void pcapng_ethernet(void) { round_trip(DLT_EN10MB, 1, 14, DLT_EN10MB); }
static void pcap_sll(void) { round_trip(DLT_LINUX_SLL, 0, 16, DLT_LINUX_SLL); }
static void pcapng_sll(void) { round_trip(DLT_LINUX_SLL, 1, 16, DLT_LINUX_SLL); }
static void pcap_sll2(void) { round_trip(DLT_LINUX_SLL2, 0, 20, DLT_LINUX_SLL2); }
static void pcapng_sll2(void) { round_trip(DLT_LINUX_SLL2, 1, 20, DLT_LINUX_SLL2); }
static void pcap_null(void) { round_trip(DLT_NULL, 0, 4, DLT_NULL); }
static void pcapng_null(void) { round_trip(DLT_NULL, 1, 4, DLT_NULL); }
/* The file says 101; libpcap hands this system's DLT_RAW to the reader. */
static void pcap_raw(void) { round_trip(101, 0, 0, DLT_RAW); }
static void pcapng_raw_from_dlt(void) { round_trip(DLT_RAW, 1, 0, DLT_RAW); }

/* pcapw_raw writes frames as given, on any link type; a cut file keeps the
 * records before the cut readable. */
static void raw_frames_and_cut_file(void)
{
    static const uint8_t ppp[] = {0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04}; /* LCP */
    char *path = temp_path();
    struct pcapw *w = pcapw_open(path, DLT_PPP, 0);
    CHECK(w != NULL);
    if (w == NULL)
        return;
    CHECK_EQ_INT(pcapw_udp(w, T0, "10.0.0.1", 1, "10.0.0.2", 2, "x", 1), -1); /* no PPP builder */
    CHECK_EQ_INT(pcapw_raw(w, T0 + 1, ppp, sizeof(ppp)), 0);
    CHECK_EQ_INT(pcapw_raw(w, T0 + 2, ppp, sizeof(ppp)), 0);
    CHECK_EQ_INT(pcapw_close(w), 0);
    CHECK_EQ_INT(file_size(path), 24 + 2 * (16 + (long)sizeof(ppp)));
    CHECK_EQ_INT(truncate(path, 24 + 16 + (long)sizeof(ppp) + 16 + 3), 0);

    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    CHECK_REPORT(pc != NULL, "pcap_open_offline: %s", err);
    if (pc == NULL) {
        unlink(path);
        return;
    }
    CHECK_EQ_INT(pcap_datalink(pc), DLT_PPP);
    struct pcap_pkthdr *h;
    const u_char *bytes;
    CHECK_EQ_INT(pcap_next_ex(pc, &h, &bytes), 1);
    CHECK_EQ_INT(h->caplen, sizeof(ppp));
    CHECK(memcmp(bytes, ppp, sizeof(ppp)) == 0);
    uint8_t copy[sizeof(ppp)];
    memcpy(copy, bytes, sizeof(copy));
    struct packet p;
    enum frame_reason why;
    CHECK_EQ_INT(frame_decode(DLT_PPP, copy, sizeof(copy), sizeof(copy), T0, &p, &why), SC_DECLINED);
    CHECK_EQ_INT(why, FRAME_UNSUPPORTED_LINK);
    CHECK_EQ_INT(pcap_next_ex(pc, &h, &bytes), PCAP_ERROR); /* the torn record */
    pcap_close(pc);
    unlink(path);
}

static void refusals(void)
{
    char *path = temp_path();
    struct pcapw *w = pcapw_open(path, DLT_LINUX_SLL, 1);
    CHECK(w != NULL);
    if (w == NULL)
        return;
    CHECK_EQ_INT(pcapw_udp(w, T0, "10.0.0.256", 1, "10.0.0.2", 2, "x", 1), -1);
    CHECK_EQ_INT(pcapw_udp(w, T0, "10.0.0.1", 1, "2001:db8::1", 2, "x", 1), -1); /* mixed families */
    CHECK_EQ_INT(pcapw_udp(w, T0, "sip.example.net", 1, "10.0.0.2", 2, "x", 1), -1);
    CHECK_EQ_INT(pcapw_udp(w, -1, "10.0.0.1", 1, "10.0.0.2", 2, "x", 1), -1);
    CHECK_EQ_INT(pcapw_udp_vlan(w, T0, "10.0.0.1", 1, "10.0.0.2", 2, "x", 1, 5), -1); /* not Ethernet */
    static uint8_t huge[65536];
    CHECK_EQ_INT(pcapw_udp(w, T0, "10.0.0.1", 1, "10.0.0.2", 2, huge, 65535 - 28 + 1), -1);
    CHECK_EQ_INT(pcapw_udp(w, T0, "10.0.0.1", 1, "10.0.0.2", 2, huge, 65535 - 28), 0); /* the largest */
    CHECK_EQ_INT(pcapw_udp(w, T0, "2001:db8::1", 1, "2001:db8::2", 2, huge, 65535 - 8), 0);
    CHECK_EQ_INT(pcapw_udp(w, T0, "2001:db8::1", 1, "2001:db8::2", 2, huge, 65535 - 8 + 1), -1);
    CHECK_EQ_INT(pcapw_close(w), 0);
    unlink(path);

    w = pcapw_open(path, DLT_EN10MB, 0);
    CHECK(w != NULL);
    if (w == NULL)
        return;
    CHECK_EQ_INT(pcapw_udp_vlan(w, T0, "10.0.0.1", 1, "10.0.0.2", 2, "x", 1, 4096), -1);
    CHECK_EQ_INT(pcapw_udp(w, T_2038 + 1, "10.0.0.1", 1, "10.0.0.2", 2, "x", 1), -1); /* past pcap's seconds */
    CHECK_EQ_INT(pcapw_close(w), 0);
    CHECK_EQ_INT(file_size(path), 24);
    unlink(path);

    errno = 0;
    CHECK(pcapw_open("/nonexistent-dir/x.pcap", DLT_EN10MB, 0) == NULL);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK(pcapw_open(path, -1, 0) == NULL);
    CHECK_EQ_INT(pcapw_close(NULL), -1);
}

/* A failed write surfaces at close. */
static void write_error_reported_at_close(void)
{
    if (access("/dev/full", W_OK) != 0)
        return; /* not on this system: nothing to test */
    struct pcapw *w = pcapw_open("/dev/full", DLT_EN10MB, 0);
    if (w == NULL)
        return; /* the header write already failed: also a correct report */
    for (int i = 0; i < 100; i++)
        (void)pcapw_udp(w, T0, "10.0.0.1", 1, "10.0.0.2", 2, big, 1000);
    CHECK_EQ_INT(pcapw_close(w), -1);
}

int main(void)
{
    fill_big();
    RUN(pcap_ethernet);
    RUN(pcapng_ethernet);
    RUN(pcap_sll);
    RUN(pcapng_sll);
    RUN(pcap_sll2);
    RUN(pcapng_sll2);
    RUN(pcap_null);
    RUN(pcapng_null);
    RUN(pcap_raw);
    RUN(pcapng_raw_from_dlt);
    RUN(raw_frames_and_cut_file);
    RUN(refusals);
    RUN(write_error_reported_at_close);
    return check_summary();
}
