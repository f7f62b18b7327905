/* frame_ipdefrag.h - IPv4 and IPv6 fragment reassembly (RFC 791/815, RFC 8200).
 *
 * frame_decode_ex() describes each fragment in a struct frame_fragment;
 * ipdefrag_feed() collects them by (af, src, dst, id, protocol) and, when a
 * datagram is complete, hands out the whole IP datagram (header rebuilt with
 * the fragmentation fields cleared and the lengths fixed) for
 * frame_decode_ip().
 *
 * Pure: no libuv, no logging, no clock. Time is the packet time of the
 * fragments; the caller drives expiry with ipdefrag_expire(). Every reason to
 * drop something is a counter in struct ipdefrag_stats.
 *
 * Fragments may come in any order. A fragment that brings no new byte and
 * agrees with the bytes held is a duplicate and ignored; one that overlaps
 * held bytes with different content drops the whole datagram (RFC 5722
 * practice: no guessing which copy a receiver kept). Overlaps are compared
 * where both copies are held; bytes the privacy rule below chose not to keep
 * are zeros in the output whatever arrived, so there is nothing to compare.
 * A fragment after a drop starts a new datagram, which then times out.
 *
 * Memory: every pending datagram costs its bookkeeping plus the bytes it
 * holds. bytes_held counts both (a struct per datagram and per byte range,
 * the IP header, the fragment bytes) and never exceeds max_bytes: when a
 * fragment would go beyond, the oldest other pending datagrams are evicted;
 * when the datagram being fed cannot fit alone it is dropped. Beyond that,
 * one handed-out datagram (at most max_datagram bytes) is held until the
 * next call, and moving a growing byte range briefly holds both copies.
 * Every buffer that held packet bytes is wiped with privacy_wipe() before it
 * is freed or reused, and so is every byte of f->data once fed.
 *
 * Privacy: a SIP body (SMS text) must not be kept longer than needed. For
 * datagrams carrying UDP, keep_prefix (given at init) is shown the
 * contiguous prefix of the reassembled UDP datagram (from its UDP header on)
 * each time the prefix has grown enough, and answers how many leading bytes
 * must be kept (IPDEFRAG_KEEP_UNKNOWN: cannot tell yet, ask again;
 * IPDEFRAG_KEEP_ALL: keep everything). Once it answers, bytes beyond that
 * length are never stored: later fragments there only count towards
 * completeness (their ranges are tracked, their bytes wiped), and bytes held
 * there already are wiped and released. The datagram handed out then holds
 * the kept prefix followed by zeros, with its full length. A fragment at
 * offset 0 is shown to keep_prefix before it is stored, so in the common
 * order (first fragment first) no body byte is ever held. Bytes that arrive
 * before the answer (a last fragment first) are held until it comes.
 * Protocols other than UDP (TCP, tunnels) are held whole: their bodies are
 * cut after reassembly.
 */
#ifndef SIPCDR_FRAME_IPDEFRAG_H
#define SIPCDR_FRAME_IPDEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "hash.h"
#include "sc.h"

/* Defaults, used for every limit left at 0. */
#define IPDEFRAG_DEFAULT_MAX_DATAGRAMS 4096
#define IPDEFRAG_DEFAULT_MAX_BYTES (16 * 1024 * 1024)
#define IPDEFRAG_DEFAULT_TIMEOUT_US (30LL * 1000000) /* Linux ipfrag_time; RFC 8200 says 60 s */

/* keep_prefix answers besides a length. */
#define IPDEFRAG_KEEP_UNKNOWN SIZE_MAX
#define IPDEFRAG_KEEP_ALL (SIZE_MAX - 1)

/* How many leading bytes of the reassembled UDP datagram (UDP header
 * included) must be kept, judged from its first contiguous_len bytes at l4
 * (read-only, valid during the call). Called only for UDP; must not call
 * back into the module. */
typedef size_t (*ipdefrag_keep_fn)(void *ctx, const uint8_t *l4, size_t contiguous_len);

struct ipdefrag_limits {
    size_t max_datagrams; /* pending datagrams; a new one beyond evicts the oldest */
    size_t max_bytes;     /* bytes_held ceiling (packet bytes and bookkeeping) */
    int64_t timeout_us;   /* packet time since a datagram's first fragment before it expires */
    size_t max_datagram;  /* largest datagram rebuilt, IP header included; 0 or more than
                           * the protocol allows (v4 65535, v6 40 + 65535) = the protocol limit */
};

struct ipdefrag_stats {
    uint64_t fragments;        /* fed */
    uint64_t reassembled;      /* datagrams handed out */
    uint64_t timeouts;         /* datagrams dropped incomplete after timeout_us */
    uint64_t evicted_full;     /* datagrams dropped for max_datagrams or max_bytes */
    uint64_t overlaps_dropped; /* datagrams dropped: a fragment overlapped held bytes with other bytes */
    uint64_t duplicates;       /* fragments ignored: no new byte */
    uint64_t too_big;          /* fragments past the size limit (their datagram dropped too) */
    uint64_t invalid;          /* fragments unusable (cut by the snap length, a non-last length not a
                                * multiple of 8, bad header) or contradicting the datagram's end (then
                                * the datagram is dropped too) */
    uint64_t nomem;            /* datagrams dropped because malloc failed */
    uint64_t bytes_held;       /* now: see "Memory" above */
    uint64_t bytes_held_peak;
    uint64_t datagrams_held;   /* now */
};

struct ipdefrag_dgram; /* private to frame_ipdefrag.c */

/* Embed in the owner; treat the fields as read-only outside frame_ipdefrag.c. */
struct ipdefrag {
    struct ipdefrag_limits lim;
    struct ipdefrag_stats stats;
    struct htab table; /* pending datagrams by key, SipHash under hash_key */
    struct dlist age;  /* pending datagrams, oldest first */
    uint8_t hash_key[16];
    ipdefrag_keep_fn keep_prefix; /* NULL: keep everything */
    void *keep_ctx;
    uint8_t *out; /* the datagram handed out last; wiped and freed by the next call */
    size_t out_len;
};

/* lim may be NULL; a 0 field takes its default. keep_prefix may be NULL (hold
 * every byte until reassembled). Returns 0, -ENOMEM, or the negative errno
 * of the random hash key. On error nothing needs freeing. */
int ipdefrag_init(struct ipdefrag *d, const struct ipdefrag_limits *lim, ipdefrag_keep_fn keep_prefix,
                  void *keep_ctx);

/* Drop every pending datagram and the last output; all wiped, all freed. */
void ipdefrag_free(struct ipdefrag *d);

/* Feed one fragment seen at packet time now_us. First wipes and frees the
 * datagram handed out by the previous call.
 * Returns SC_AGAIN while the datagram is incomplete (and for duplicates);
 * SC_OK when it is complete: *out and *out_len then hold the whole IP
 * datagram, owned by the module, writable (the privacy cut wipes in place),
 * valid until the next ipdefrag_* call; SC_ERROR when the fragment or its
 * datagram was dropped (the reason is counted). *out is NULL unless SC_OK.
 * On return every byte of f->data is zero (copied first where kept). */
enum sc_ret ipdefrag_feed(struct ipdefrag *d, const struct frame_fragment *f, int64_t now_us, uint8_t **out,
                          size_t *out_len);

/* Drop (wipe, count) the datagrams whose first fragment is timeout_us or
 * more of packet time before now_us. Walks from the oldest and stops at the
 * first that is not expired, so the work is the number dropped plus one;
 * with packet time running backwards a datagram may outlive its timeout until
 * those before it expire. Also wipes and frees the last output. Returns the
 * number dropped. */
size_t ipdefrag_expire(struct ipdefrag *d, int64_t now_us);

/* A ready keep_prefix for SIP over UDP (ctx unused): keeps the UDP header and
 * the SIP start line and headers up to and including the blank line, found
 * exactly as privacy_cut_datagram() finds it; keeps everything that is not a
 * SIP message (HEP, other protocols: cut later if at all); IPDEFRAG_KEEP_UNKNOWN
 * while the prefix cannot tell. */
size_t ipdefrag_keep_sip_headers(void *ctx, const uint8_t *l4, size_t contiguous_len);

/* Tests and debugging: 1 when needle occurs within any buffer the module
 * holds (a header, a byte range, the last output), else 0. O(bytes held). */
int ipdefrag_held_contains(const struct ipdefrag *d, const void *needle, size_t len);

#endif
