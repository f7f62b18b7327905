/* test_pg_retry.c - which failures the writer waits out, and for how long. */
#include "check.h"
#include "pg_retry.h"

static void sqlstate_classes(void)
{
    static const struct {
        const char *code;
        enum pgr_class want;
    } cases[] = {
        {"08006", PGR_TRANSIENT}, /* connection failure */
        {"08001", PGR_TRANSIENT},
        {"40001", PGR_TRANSIENT}, /* serialization failure */
        {"40P01", PGR_TRANSIENT}, /* deadlock */
        {"53300", PGR_TRANSIENT}, /* too many connections */
        {"53100", PGR_TRANSIENT}, /* disk full */
        {"57P01", PGR_TRANSIENT}, /* admin shutdown */
        {"57P03", PGR_TRANSIENT}, /* cannot connect now (starting up) */
        {"57014", PGR_TRANSIENT}, /* query cancelled */
        {"58030", PGR_TRANSIENT}, /* I/O error */
        {"25006", PGR_TRANSIENT}, /* read-only transaction */
        {"55P03", PGR_TRANSIENT},
        {"28000", PGR_FATAL},     /* invalid authorization (unknown role) */
        {"28P01", PGR_FATAL},     /* wrong password */
        {"3D000", PGR_FATAL},     /* unknown database */
        {"42P01", PGR_FATAL},     /* undefined table: schema gone */
        {"42501", PGR_FATAL},     /* permission denied */
        {"22P02", PGR_FATAL},     /* a record the server rejects */
        {"25P02", PGR_FATAL},
        {"XX000", PGR_FATAL},
        {"0800", PGR_FATAL},      /* malformed codes */
        {"080066", PGR_FATAL},
        {"08a06", PGR_FATAL},
        {"", PGR_FATAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_current = cases[i].code;
        CHECK_EQ_INT(pgr_classify_sqlstate(cases[i].code), cases[i].want);
    }
    CHECK_EQ_INT(pgr_classify_sqlstate(NULL), PGR_FATAL);
}

static void connection_errors(void)
{
    char st[PGR_SQLSTATE_LEN], out[512];
    CHECK_EQ_INT(pgr_conn_error("connection to server at \"127.0.0.1\", port 55432 failed: FATAL:  28000: role "
                                "\"nobody\" does not exist\nLOCATION:  InitializeSessionUserId, miscinit.c:768\n",
                                st, out, sizeof(out)),
                 PGR_FATAL);
    CHECK_EQ_STR(st, "28000");
    CHECK_EQ_STR(out,
                 "connection to server at \"127.0.0.1\", port 55432 failed: FATAL:  role \"nobody\" does not exist");

    CHECK_EQ_INT(pgr_conn_error("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the "
                                "server running on that host and accepting TCP/IP connections?\n",
                                st, out, sizeof(out)),
                 PGR_TRANSIENT);
    CHECK_EQ_STR(st, "");
    CHECK_EQ_STR(out, "connection to server at \"127.0.0.1\", port 1 failed: Connection refused; Is the server "
                      "running on that host and accepting TCP/IP connections?");

    CHECK_EQ_INT(pgr_conn_error("connection to server at \"h\", port 5 failed: FATAL:  57P03: the database system is "
                                "starting up\nLOCATION:  x.c:1\n",
                                st, out, sizeof(out)),
                 PGR_TRANSIENT);
    CHECK_EQ_STR(st, "57P03");
    CHECK_EQ_STR(out, "connection to server at \"h\", port 5 failed: FATAL:  the database system is starting up");

    /* A host list: one host down, the next one refuses the role: fatal,
     * whatever the order. */
    CHECK_EQ_INT(pgr_conn_error("connection to server at \"a\", port 1 failed: FATAL:  57P03: starting up\n"
                                "connection to server at \"b\", port 2 failed: FATAL:  3D000: database \"x\" does "
                                "not exist\nDETAIL:  keep me\n",
                                st, out, sizeof(out)),
                 PGR_FATAL);
    CHECK_EQ_STR(st, "3D000");
    CHECK_EQ_STR(out, "connection to server at \"a\", port 1 failed: FATAL:  starting up; connection to server at "
                      "\"b\", port 2 failed: FATAL:  database \"x\" does not exist; DETAIL:  keep me");

    /* A translated severity word still carries its code. */
    CHECK_EQ_INT(pgr_conn_error("... failed: FATAL-fr:  28P01: authentification\n", st, out, sizeof(out)), PGR_FATAL);
    CHECK_EQ_STR(st, "28P01");
    /* Text that only looks a bit like a code stays as it is. */
    CHECK_EQ_INT(pgr_conn_error("timeout:  abcde: no", st, out, sizeof(out)), PGR_TRANSIENT);
    CHECK_EQ_STR(out, "timeout:  abcde: no");
    CHECK_EQ_INT(pgr_conn_error(NULL, st, out, sizeof(out)), PGR_TRANSIENT);
    CHECK_EQ_STR(out, "unknown error");
    CHECK_EQ_INT(pgr_conn_error("x: FATAL:  28000: long text", st, out, 12), PGR_FATAL);
    CHECK_EQ_STR(out, "x: FATAL:"); /* cut, trailing blanks trimmed */
}

static void backoff_doubles_to_the_cap(void)
{
    uint64_t d = 0;
    uint64_t want[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        d = pgr_backoff_next(d, 100, 30000);
        CHECK_EQ_INT(d, want[i]);
    }
    CHECK_EQ_INT(pgr_backoff_next(0, 500, 100), 500); /* max below min */
    CHECK_EQ_INT(pgr_backoff_next(500, 500, 100), 500);
    CHECK_EQ_INT(pgr_backoff_next(0, 0, 0), 1);
    CHECK_EQ_INT(pgr_backoff_next(UINT64_MAX / 2 + 1, 1, UINT64_MAX), UINT64_MAX);
}

int main(void)
{
    RUN(sqlstate_classes);
    RUN(connection_errors);
    RUN(backoff_doubles_to_the_cap);
    return check_summary();
}
