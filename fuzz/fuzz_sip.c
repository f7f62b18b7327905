/* fuzz_sip.c - libFuzzer: one UDP payload through the privacy cut, the
 * scanner, the URI parser and the call and SMS state machines.
 * Invariants: no crash, no leak, no overread; after the cut no byte past
 * header_len is non-zero. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dialog.h"
#include "privacy.h"
#include "sip_uri.h"
#include "sms.h"

static struct record sink_rec;
static struct record *slot(void *ctx, enum record_kind kind)
{
    (void)ctx;
    record_init(&sink_rec, kind);
    return &sink_rec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static struct dialog_table d;
    static struct sms_table s;
    if (!ready) {
        sip_uri_init();
        struct record_sink sink = {slot, NULL};
        struct dialog_limits dl = {64, 300000000, 300000000, 32000000};
        struct sms_limits sl = {64, 32000000, 32000000};
        dialog_init(&d, &dl, sink);
        sms_init(&s, &sl, sink);
        ready = 1;
    }
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct privacy_result cut;
    if (privacy_cut_datagram(buf, size, &cut) == SC_OK) {
        for (size_t i = cut.header_len; i < size; i++)
            if (buf[i] != 0)
                abort();
        struct sip_msg m;
        enum sip_scan_error why;
        if (sip_scan((const char *)buf, cut.header_len, &m, &why) == SC_OK) {
            struct packet pkt;
            memset(&pkt, 0, sizeof(pkt));
            pkt.af = 4;
            static int64_t now = 1;
            pkt.ts_us = now += 1000;
            if (m.method == SIP_MESSAGE || m.cseq_method == SIP_MESSAGE)
                sms_on_message(&s, &m, &pkt);
            else
                dialog_on_message(&d, &m, &pkt);
            dialog_expire(&d, pkt.ts_us, 8);
            sms_expire(&s, pkt.ts_us, 8);
        }
    }
    free(buf);
    return 0;
}
