/* fuzz_frame.c - libFuzzer: link/IP/UDP decoding for every link type.
 * The first byte picks the link type; the rest is the frame, copied into a
 * buffer of exactly its size so that any overread is caught. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101, DLT_NULL, DLT_LOOP};
    if (size < 1)
        return 0;
    int dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, data + 1, n);
    struct packet pkt;
    enum frame_reason why;
    if (frame_decode(dlt, buf, n, n, 0, &pkt, &why) == SC_OK) {
        if (pkt.payload < buf || pkt.payload + pkt.len > buf + n)
            abort();
        /* SCTP: every DATA chunk handed out lies inside the chunk list. */
        size_t off = 0;
        struct packet msg;
        struct frame_sctp_counts counts = {0};
        while (pkt.l4proto == 132 && frame_sctp_next_data(&pkt, &off, &msg, &counts) == SC_OK)
            if (msg.payload < pkt.payload || msg.payload + msg.len > pkt.payload + pkt.len || off > pkt.len)
                abort();
    }
    free(buf);
    return 0;
}
