/* test_capture_file.c - bursts, end of file, torn and foreign files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture_file.h"
#include "check.h"
#include "pcap_writer.h"

static unsigned seen;
static int64_t last_ts;

static void on_packet(void *ctx, int dlt, int64_t ts_us, uint8_t *data, size_t caplen, size_t wirelen)
{
    (void)ctx;
    (void)data;
    CHECK_EQ_INT(dlt, 1);
    CHECK(caplen == wirelen);
    CHECK(ts_us > last_ts);
    last_ts = ts_us;
    seen++;
}

static const char *make_capture(int n, int pcapng)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/sipcdr-cf-%d.%s", (int)getpid(), pcapng ? "pcapng" : "pcap");
    struct pcapw *w = pcapw_open(path, 1, pcapng);
    for (int i = 0; i < n; i++)
        pcapw_udp(w, 1000000 + i, "10.0.0.1", 5060, "10.0.0.2", 5060, "x", 1);
    CHECK_EQ_INT(pcapw_close(w), 0);
    return path;
}

static void reads_in_bounded_bursts(void)
{
    for (int ng = 0; ng < 2; ng++) {
        const char *path = make_capture(10, ng);
        char err[256];
        struct capture_file *cf = capture_file_open(path, err, sizeof(err));
        CHECK(cf != NULL);
        seen = 0;
        last_ts = 0;
        unsigned n;
        CHECK_EQ_INT(capture_file_read(cf, 4, on_packet, NULL, &n, err, sizeof(err)), CAPTURE_MORE);
        CHECK_EQ_INT(n, 4);
        CHECK_EQ_INT(capture_file_read(cf, 4, on_packet, NULL, &n, err, sizeof(err)), CAPTURE_MORE);
        CHECK_EQ_INT(n, 4);
        CHECK_EQ_INT(capture_file_read(cf, 4, on_packet, NULL, &n, err, sizeof(err)), CAPTURE_EOF);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(seen, 10);
        capture_file_close(cf);
        unlink(path);
    }
}

static void torn_file_is_an_error_after_the_good_packets(void)
{
    const char *path = make_capture(5, 0);
    /* 24-byte header, then 5 records of 16 + 43 bytes: cut the last in half */
    CHECK_EQ_INT(truncate(path, 24 + 4 * 59 + 30), 0);
    char err[256];
    struct capture_file *cf = capture_file_open(path, err, sizeof(err));
    CHECK(cf != NULL);
    seen = 0;
    last_ts = 0;
    unsigned n;
    CHECK_EQ_INT(capture_file_read(cf, 100, on_packet, NULL, &n, err, sizeof(err)), CAPTURE_ERROR);
    CHECK_EQ_INT(n, 4);
    CHECK(strstr(err, "truncated") != NULL);
    capture_file_close(cf);
    unlink(path);
}

static void foreign_and_missing_files_are_refused(void)
{
    char err[256];
    CHECK(capture_file_open("/nonexistent/file.pcap", err, sizeof(err)) == NULL);
    CHECK_EQ_STR(err, "No such file or directory");
    const char *path = "/tmp/sipcdr-cf-text.pcap";
    FILE *f = fopen(path, "w");
    fputs("hello, this is text\n", f);
    fclose(f);
    CHECK(capture_file_open(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "unknown file format") != NULL);
    unlink(path);
}

int main(void)
{
    RUN(reads_in_bounded_bursts);
    RUN(torn_file_is_an_error_after_the_good_packets);
    RUN(foreign_and_missing_files_are_refused);
    return check_summary();
}
