/* config.h - file + argv -> one immutable struct config.
 *
 * Every key has a default, a unit and a range, all in the table in config.c;
 * docs/sipcdr.ini.example documents them. An unknown key or a bad value is an
 * error reported as FILE:LINE: message, and every error in the file is
 * reported, not just the first. The database password is never a key here:
 * libpq reads it from its usual places (PGPASSFILE, service file, environment).
 */
#ifndef SIPCDR_CONFIG_H
#define SIPCDR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "e164.h"

#define CONFIG_COLLECTOR_MAX 64 /* with the NUL */
#define CONFIG_PATH_MAX 1024

struct config {
    /* [capture] */
    unsigned burst; /* packets read per loop iteration */
    unsigned hep_port; /* UDP port where HEPv1/v2 (no magic) are looked for; HEPv3 is found anywhere */
    /* [calls] */
    size_t max_calls;
    int64_t setup_timeout_us;
    int64_t max_idle_us;
    int64_t call_linger_us;
    /* [sms] */
    size_t max_sms;
    int64_t sms_pending_us;
    int64_t sms_linger_us;
    /* [storage] */
    size_t queue_size;
    size_t batch_max;
    char collector[CONFIG_COLLECTOR_MAX]; /* who writes: "" means the host name */
    char spool_dir[CONFIG_PATH_MAX];      /* "" means no spool */
    uint64_t spool_max_bytes;
    int spool_fsync;          /* fsync each spool append and acknowledgement */
    int64_t retry_min_us;     /* first reconnect delay, doubled up to retry_max_us */
    int64_t retry_max_us;
    int64_t batch_timeout_us; /* a batch not committed by then counts as failed */
    /* [log] */
    int log_level; /* enum log_level */
    /* [numbers] the dialling plan for the *_e164 columns */
    struct e164_rules numbers;
};

void config_defaults(struct config *c);

/* Read an INI file over the defaults already in c. Returns the number of
 * errors (0 on success); each error is one line "path:line: message" appended
 * to err (truncated to errlen). A file that cannot be opened is one error. */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* Set one key ("section.name") from a command line override. Returns 0 or -1
 * with err filled. */
int config_set(struct config *c, const char *section, const char *name, const char *value, char *err,
               size_t errlen);

#endif
