/* test_config.c - INI loading: defaults, every error with file:line. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/sipcdr-cfg-%d.ini", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void values_override_defaults(void)
{
    struct config c;
    config_defaults(&c);
    char err[1024];
    const char *p = write_tmp("; comment\n[calls]\nmax_calls = 5000\nsetup_timeout = 60\n[log]\nlevel = debug\n");
    CHECK_EQ_INT(config_load(&c, p, err, sizeof(err)), 0);
    CHECK_EQ_INT(c.max_calls, 5000);
    CHECK_EQ_INT(c.setup_timeout_us, 60LL * 1000000);
    CHECK_EQ_INT(c.log_level, 3);
    CHECK_EQ_INT(c.burst, 256); /* untouched default */
    unlink(p);
}

static void every_error_has_file_and_line(void)
{
    struct config c;
    config_defaults(&c);
    char err[1024], want[256];
    const char *p = write_tmp("[calls]\nmax_cals = 5\nmax_calls = -1\n[storage]\nbatch_max = 10x\n");
    CHECK_EQ_INT(config_load(&c, p, err, sizeof(err)), 3);
    snprintf(want, sizeof(want), "%s:2: unknown key \"max_cals\" in section [calls]", p);
    CHECK(strstr(err, want) != NULL);
    snprintf(want, sizeof(want), "%s:3: calls.max_calls", p);
    CHECK(strstr(err, want) != NULL);
    snprintf(want, sizeof(want), "%s:5: storage.batch_max", p);
    CHECK(strstr(err, want) != NULL);
    unlink(p);
    CHECK_EQ_INT(config_load(&c, "/nonexistent/x.ini", err, sizeof(err)), 1);
    CHECK(strstr(err, "cannot open") != NULL);
}

static void storage_keys(void)
{
    struct config c;
    config_defaults(&c);
    char err[2048];
    CHECK_EQ_STR(c.collector, "");
    CHECK_EQ_STR(c.spool_dir, "");
    CHECK_EQ_INT(c.spool_fsync, 1);
    CHECK_EQ_INT(c.retry_min_us, 100000);
    CHECK_EQ_INT(c.retry_max_us, 30000000);
    const char *p = write_tmp("[storage]\ncollector = edge-1.example\nspool_dir = /var/spool/sip cdr\n"
                              "spool_max_bytes = 1099511627776\nspool_fsync = off\nretry_min = 5\n"
                              "retry_max = 250\nbatch_timeout = 7\n");
    CHECK_EQ_INT(config_load(&c, p, err, sizeof(err)), 0);
    CHECK_EQ_STR(c.collector, "edge-1.example");
    CHECK_EQ_STR(c.spool_dir, "/var/spool/sip cdr");
    CHECK_EQ_INT(c.spool_max_bytes, 1099511627776ULL);
    CHECK_EQ_INT(c.spool_fsync, 0);
    CHECK_EQ_INT(c.retry_min_us, 5000);
    CHECK_EQ_INT(c.retry_max_us, 250000);
    CHECK_EQ_INT(c.batch_timeout_us, 7000000);
    CHECK_EQ_INT(c.queue_size, 16384); /* a size_t neighbour untouched */
    unlink(p);

    char big[100];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char text[512];
    snprintf(text, sizeof(text), "[storage]\ncollector = a b\ncollector = %s\nspool_fsync = maybe\n"
                                 "spool_max_bytes = 10\nretry_min = 0\n", big);
    p = write_tmp(text);
    CHECK_EQ_INT(config_load(&c, p, err, sizeof(err)), 5);
    CHECK(strstr(err, ":2: storage.collector: only printable ASCII") != NULL);
    CHECK(strstr(err, ":3: storage.collector: expected 1 to 63 bytes, got 99") != NULL);
    CHECK(strstr(err, ":4: storage.spool_fsync: expected yes or no") != NULL);
    CHECK(strstr(err, ":5: storage.spool_max_bytes") != NULL);
    CHECK(strstr(err, ":6: storage.retry_min: expected a whole number of milliseconds") != NULL);
    CHECK_EQ_STR(c.collector, "edge-1.example"); /* a bad value changes nothing */
    unlink(p);
}

static void numbers_keys(void)
{
    struct config c;
    config_defaults(&c);
    char err[2048];
    CHECK_EQ_STR(c.numbers.country_code, "");
    const char *p = write_tmp("[numbers]\ncountry_code = 40\nnational_prefix = 0\ninternational_prefix = 00\n");
    CHECK_EQ_INT(config_load(&c, p, err, sizeof(err)), 0);
    CHECK_EQ_STR(c.numbers.country_code, "40");
    CHECK_EQ_STR(c.numbers.national_prefix, "0");
    CHECK_EQ_STR(c.numbers.international_prefix, "00");
    unlink(p);
    p = write_tmp("[numbers]\ncountry_code =\ncountry_code = 4a\nnational_prefix = 0000\n"
                  "international_prefix = 00000\n");
    CHECK_EQ_INT(config_load(&c, p, err, sizeof(err)), 4);
    CHECK(strstr(err, ":2: numbers.country_code: expected 1 to 3 digits") != NULL);
    CHECK(strstr(err, ":3: numbers.country_code: expected 1 to 3 digits, got \"4a\"") != NULL);
    CHECK(strstr(err, ":4: numbers.national_prefix: expected 0 to 3 digits") != NULL);
    CHECK(strstr(err, ":5: numbers.international_prefix: expected 0 to 4 digits") != NULL);
    CHECK_EQ_STR(c.numbers.country_code, "40");
    unlink(p);
}

int main(void)
{
    RUN(values_override_defaults);
    RUN(every_error_has_file_and_line);
    RUN(storage_keys);
    RUN(numbers_keys);
    return check_summary();
}
