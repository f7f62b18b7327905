/* capture_file.c - bursts of packets from a capture file (see capture_file.h). */
#include "capture_file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy.h"

/* Large enough that reading costs few system calls, small enough to wipe
 * after every burst without noticing. */
#define IOBUF_SIZE (64 * 1024)

struct capture_file {
    pcap_t *pcap;
    FILE *fp; /* owned by pcap once pcap_fopen_offline succeeds */
    int dlt;
    char iobuf[IOBUF_SIZE];
};

struct capture_file *capture_file_open(const char *path, char *err, size_t errlen)
{
    struct capture_file *cf = calloc(1, sizeof(*cf));
    if (cf == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cf->fp = fopen(path, "rb");
    if (cf->fp == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        free(cf);
        return NULL;
    }
    setvbuf(cf->fp, cf->iobuf, _IOFBF, sizeof(cf->iobuf));
    char perr[PCAP_ERRBUF_SIZE] = "";
    cf->pcap = pcap_fopen_offline_with_tstamp_precision(cf->fp, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (cf->pcap == NULL) {
        snprintf(err, errlen, "%s", perr[0] ? perr : "not a pcap or pcapng file");
        fclose(cf->fp);
        privacy_wipe(cf->iobuf, sizeof(cf->iobuf));
        free(cf);
        return NULL;
    }
    cf->dlt = pcap_datalink(cf->pcap);
    return cf;
}

int capture_file_dlt(const struct capture_file *cf) { return cf->dlt; }

/* Wipe what stdio has handed to libpcap already. glibc exposes its read
 * pointers in struct _IO_FILE; elsewhere the buffer is wiped at close only. */
static void wipe_consumed(struct capture_file *cf)
{
#ifdef __GLIBC__
    FILE *fp = cf->fp;
    if (fp->_IO_read_base != NULL && fp->_IO_read_ptr > fp->_IO_read_base &&
        fp->_IO_read_base >= cf->iobuf && fp->_IO_read_ptr <= cf->iobuf + sizeof(cf->iobuf))
        privacy_wipe(fp->_IO_read_base, (size_t)(fp->_IO_read_ptr - fp->_IO_read_base));
#else
    (void)cf;
#endif
}

enum capture_status capture_file_read(struct capture_file *cf, unsigned max, capture_packet_fn cb, void *ctx,
                                      unsigned *delivered, char *err, size_t errlen)
{
    enum capture_status st = CAPTURE_MORE;
    unsigned n = 0;
    while (n < max) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(cf->pcap, &h, &data);
        if (rc == 1) {
            int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec;
            /* libpcap hands out a const view of its own buffer; the privacy
             * cut must wipe body bytes in that very buffer, so we take it
             * writable on purpose. */
            cb(ctx, cf->dlt, ts, (uint8_t *)(uintptr_t)data, h->caplen, h->len);
            n++;
            continue;
        }
        if (rc == PCAP_ERROR_BREAK) {
            st = CAPTURE_EOF;
        } else {
            snprintf(err, errlen, "%s", pcap_geterr(cf->pcap));
            st = CAPTURE_ERROR;
        }
        break;
    }
    wipe_consumed(cf);
    *delivered = n;
    return st;
}

void capture_file_close(struct capture_file *cf)
{
    if (cf == NULL)
        return;
    pcap_close(cf->pcap); /* closes cf->fp */
    privacy_wipe(cf->iobuf, sizeof(cf->iobuf));
    free(cf);
}
