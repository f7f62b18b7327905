/* config.c - INI configuration through libinih (see config.h).
 *
 * inih's handler has no line number in Debian's build, so the file is fed
 * through ini_parse_stream() with a reader that counts lines: inih asks for
 * exactly one line per call, so the count is the line of the key in hand.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "sc.h"

enum key_type {
    K_UINT,    /* whole number into an unsigned, size_t or uint64_t (by the field's size) */
    K_SECONDS, /* whole seconds, stored as int64_t microseconds */
    K_MILLIS,  /* whole milliseconds, stored as int64_t microseconds */
    K_BOOL,    /* yes/no, true/false, on/off, 1/0 into an int */
    K_LEVEL,   /* log level name into an int */
    K_NAME,    /* printable ASCII without spaces, 1..size-1 bytes, into a char array */
    K_PATH,    /* any text without control bytes, 0..size-1 bytes, into a char array */
    K_DIGITS,  /* min..size-1 decimal digits into a char array (min from the key) */
};

struct key {
    const char *section, *name;
    enum key_type type;
    size_t offset, size;
    unsigned long long min, max;
};

#define OFF(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
static const struct key keys[] = {
    {"capture", "burst", K_UINT, OFF(burst), 1, 65536},
    {"capture", "hep_port", K_UINT, OFF(hep_port), 1, 65535},
    {"calls", "max_calls", K_UINT, OFF(max_calls), 1, 100000000},
    {"calls", "setup_timeout", K_SECONDS, OFF(setup_timeout_us), 1, 86400},
    {"calls", "max_idle", K_SECONDS, OFF(max_idle_us), 1, 7 * 86400},
    {"calls", "linger", K_SECONDS, OFF(call_linger_us), 0, 3600},
    {"sms", "max_sms", K_UINT, OFF(max_sms), 1, 100000000},
    {"sms", "pending_timeout", K_SECONDS, OFF(sms_pending_us), 1, 3600},
    {"sms", "linger", K_SECONDS, OFF(sms_linger_us), 0, 3600},
    {"storage", "queue_size", K_UINT, OFF(queue_size), 16, 10000000},
    {"storage", "batch_max", K_UINT, OFF(batch_max), 1, 1000000},
    {"storage", "collector", K_NAME, OFF(collector), 0, 0},
    {"storage", "spool_dir", K_PATH, OFF(spool_dir), 0, 0},
    {"storage", "spool_max_bytes", K_UINT, OFF(spool_max_bytes), 65536, 1ULL << 50},
    {"storage", "spool_fsync", K_BOOL, OFF(spool_fsync), 0, 0},
    {"storage", "retry_min", K_MILLIS, OFF(retry_min_us), 1, 3600000},
    {"storage", "retry_max", K_MILLIS, OFF(retry_max_us), 1, 3600000},
    {"storage", "batch_timeout", K_SECONDS, OFF(batch_timeout_us), 1, 86400},
    {"log", "level", K_LEVEL, OFF(log_level), 0, 0},
    {"numbers", "country_code", K_DIGITS, OFF(numbers.country_code), 1, 0},
    {"numbers", "national_prefix", K_DIGITS, OFF(numbers.national_prefix), 0, 0},
    {"numbers", "international_prefix", K_DIGITS, OFF(numbers.international_prefix), 0, 0},
};

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    c->burst = 256;
    c->hep_port = 9060;
    c->max_calls = 200000;
    c->setup_timeout_us = 300LL * 1000000;
    c->max_idle_us = 4LL * 3600 * 1000000;
    c->call_linger_us = 32LL * 1000000;
    c->max_sms = 100000;
    c->sms_pending_us = 32LL * 1000000;
    c->sms_linger_us = 32LL * 1000000;
    c->queue_size = 16384;
    c->batch_max = 5000;
    c->spool_max_bytes = 1ULL << 30;
    c->spool_fsync = 1;
    c->retry_min_us = 100LL * 1000;
    c->retry_max_us = 30LL * 1000000;
    c->batch_timeout_us = 60LL * 1000000;
    c->log_level = LOG_INFO;
}

static int parse_uint(const char *v, unsigned long long min, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (*v == '\0' || *v == '-' || *v == '+')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < SC_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Copy a text value into its char array: K_NAME allows printable ASCII
 * without spaces (it ends up in logs and a database key), K_PATH anything
 * but control bytes. */
static int set_text(const struct key *k, char *dst, const char *value, char *err, size_t errlen)
{
    size_t n = strlen(value);
    if (n >= k->size || (k->type == K_NAME && n == 0)) {
        snprintf(err, errlen, "%s.%s: expected %s to %zu bytes, got %zu", k->section, k->name,
                 k->type == K_NAME ? "1" : "0", k->size - 1, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)value[i];
        bool bad = k->type == K_NAME ? (ch <= 0x20 || ch >= 0x7f) : (ch < 0x20 || ch == 0x7f);
        if (bad) {
            snprintf(err, errlen, "%s.%s: %s", k->section, k->name,
                     k->type == K_NAME ? "only printable ASCII without spaces is allowed"
                                       : "control characters are not allowed");
            return -1;
        }
    }
    memcpy(dst, value, n + 1);
    return 0;
}

static int set_key(struct config *c, const struct key *k, const char *value, char *err, size_t errlen)
{
    unsigned long long n;
    char *base = (char *)c + k->offset;
    switch (k->type) {
    case K_LEVEL: {
        static const char *const names[] = {"error", "warn", "info", "debug"};
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(value, names[i]) == 0) {
                *(int *)(void *)base = i;
                return 0;
            }
        }
        snprintf(err, errlen, "%s.%s: expected error, warn, info or debug, got \"%s\"", k->section, k->name, value);
        return -1;
    }
    case K_BOOL:
        if (parse_bool(value, (int *)(void *)base) != 0) {
            snprintf(err, errlen, "%s.%s: expected yes or no, got \"%s\"", k->section, k->name, value);
            return -1;
        }
        return 0;
    case K_NAME:
    case K_PATH: return set_text(k, base, value, err, errlen);
    case K_DIGITS: {
        size_t digits = strlen(value);
        bool ok = digits >= k->min && digits < k->size;
        for (size_t i = 0; ok && i < digits; i++)
            ok = value[i] >= '0' && value[i] <= '9';
        if (!ok) {
            snprintf(err, errlen, "%s.%s: expected %llu to %zu digits, got \"%s\"", k->section, k->name, k->min,
                     k->size - 1, value);
            return -1;
        }
        memcpy(base, value, digits + 1);
        return 0;
    }
    case K_UINT:
    case K_SECONDS:
    case K_MILLIS:
        if (parse_uint(value, k->min, k->max, &n) != 0) {
            snprintf(err, errlen, "%s.%s: expected a whole number%s from %llu to %llu, got \"%s\"", k->section,
                     k->name, k->type == K_SECONDS ? " of seconds" : k->type == K_MILLIS ? " of milliseconds" : "",
                     k->min, k->max, value);
            return -1;
        }
        if (k->type == K_SECONDS)
            *(int64_t *)(void *)base = (int64_t)n * 1000000;
        else if (k->type == K_MILLIS)
            *(int64_t *)(void *)base = (int64_t)n * 1000;
        else if (k->size == sizeof(unsigned))
            *(unsigned *)(void *)base = (unsigned)n;
        else if (k->size == sizeof(uint64_t))
            *(uint64_t *)(void *)base = (uint64_t)n;
        else
            *(size_t *)(void *)base = (size_t)n;
        return 0;
    }
    return -1;
}

int config_set(struct config *c, const char *section, const char *name, const char *value, char *err,
               size_t errlen)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return set_key(c, &keys[i], value, err, errlen);
    snprintf(err, errlen, "unknown key \"%s\" in section [%s]", name, section);
    return -1;
}

struct load_ctx {
    struct config *c;
    const char *path;
    FILE *fp;
    int line;
    int errors;
    char *err;
    size_t errlen, used;
};

static void add_error(struct load_ctx *x, const char *msg)
{
    x->errors++;
    if (x->used >= x->errlen)
        return;
    int n = snprintf(x->err + x->used, x->errlen - x->used, "%s%s:%d: %s", x->used ? "\n" : "", x->path,
                     x->line, msg);
    if (n > 0)
        x->used += (size_t)n < x->errlen - x->used ? (size_t)n : x->errlen - x->used;
}

static char *read_line(char *buf, int size, void *stream)
{
    struct load_ctx *x = stream;
    char *r = fgets(buf, size, x->fp);
    if (r != NULL)
        x->line++;
    return r;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *x = user;
    char msg[512];
    if (config_set(x->c, section, name, value, msg, sizeof(msg)) != 0)
        add_error(x, msg);
    return 1; /* keep going: report every error in the file */
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
    struct load_ctx x = {.c = c, .path = path, .err = err, .errlen = errlen};
    if (errlen)
        err[0] = '\0';
    x.fp = fopen(path, "r");
    if (x.fp == NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
        add_error(&x, msg);
        return x.errors;
    }
    int rc = ini_parse_stream(read_line, &x, on_key, &x);
    fclose(x.fp);
    if (rc > 0) {
        /* a syntax error inih found itself (no '=' or ']') */
        x.line = rc;
        add_error(&x, "syntax error: expected [section] or key = value");
    } else if (rc < 0) {
        add_error(&x, "cannot read the file");
    }
    return x.errors;
}
