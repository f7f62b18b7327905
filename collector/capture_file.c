/* capture_file.c - bursts of packets from a capture file (see capture_file.h).
 *
 * libpcap reads pcap and pcapng. Microsoft NetMon 2.x files, which libpcap
 * refuses, go to capture_netmon.c; every function below dispatches on which
 * of the two readers the file got. */
#include "capture_file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_netmon.h"
#include "privacy.h"

/* Large enough that reading costs few system calls, small enough to wipe
 * after every burst without noticing. */
#define IOBUF_SIZE (64 * 1024)

struct capture_file {
    pcap_t *pcap;
    struct netmon *nm; /* set instead of pcap for NetMon 2.x files */
    FILE *fp;          /* owned by pcap once pcap_fopen_offline succeeds */
    int dlt;
    char iobuf[IOBUF_SIZE];
};

/* After libpcap refused the stream: does it start with the NetMon 2.x magic?
 * The magic alone decides, not libpcap's wording of the refusal: no pcap or
 * pcapng file starts with "GMBU", so libpcap can only have refused it as an
 * unknown format. The bytes this reads land in iobuf, which the caller wipes. */
static int is_netmon(FILE *fp)
{
    uint8_t magic[4];
    if (fseek(fp, 0, SEEK_SET) != 0)
        return 0;
    size_t n = fread(magic, 1, sizeof(magic), fp);
    return netmon_is_magic(magic, n);
}

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
        int netmon = is_netmon(cf->fp);
        snprintf(err, errlen, "%s", perr[0] ? perr : "not a pcap or pcapng file");
        fclose(cf->fp);
        cf->fp = NULL;
        privacy_wipe(cf->iobuf, sizeof(cf->iobuf));
        if (netmon)
            cf->nm = netmon_open(path, err, errlen);
        if (cf->nm == NULL) {
            free(cf);
            return NULL;
        }
        cf->dlt = netmon_dlt(cf->nm);
        return cf;
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
    if (cf->nm != NULL) {
        switch (netmon_read(cf->nm, max, cb, ctx, delivered, err, errlen)) {
        case NETMON_MORE:
            return CAPTURE_MORE;
        case NETMON_EOF:
            return CAPTURE_EOF;
        default:
            return CAPTURE_ERROR;
        }
    }
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
    if (cf->nm != NULL)
        netmon_close(cf->nm); /* its own unbuffered stream; cf->fp is closed already */
    else
        pcap_close(cf->pcap); /* closes cf->fp */
    privacy_wipe(cf->iobuf, sizeof(cf->iobuf));
    free(cf);
}
