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

int main(void)
{
    RUN(values_override_defaults);
    RUN(every_error_has_file_and_line);
    return check_summary();
}
