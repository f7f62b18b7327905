/* test_pg_migrate.c - migrations and the schema check against a real server. */
#include <pthread.h>

#include "check.h"
#include "pg_migrate.h"
#include "pgtest.h"
#include "record.h"

#define NOT_INITIALISED "database schema is not initialised: run `sipcdr db migrate --db ...`"

static void error_lines_are_flat(void)
{
    char out[128];
    CHECK_EQ_STR(pgm_error_line("connection to server failed: Connection refused\n\tIs the server running?\n", out,
                                sizeof(out)),
                 "connection to server failed: Connection refused; Is the server running?");
    CHECK_EQ_STR(pgm_error_line("a\r\n\r\nb\tc", out, sizeof(out)), "a; b c");
    CHECK_EQ_STR(pgm_error_line(NULL, out, sizeof(out)), "unknown error");
    CHECK_EQ_STR(pgm_error_line("abcdef", out, 4), "abc");
}

static void version_messages(void)
{
    char err[256];
    int want = pgm_expected_version();
    CHECK(want >= 1);
    CHECK_EQ_INT((int)sql_migrations_count, want);
    CHECK_EQ_INT(sql_migrations[0].version, 1);
    CHECK_EQ_STR(sql_migrations[0].name, "initial");
    CHECK_EQ_INT(pgm_check_version(want, err, sizeof(err)), 0);
    CHECK_EQ_INT(pgm_check_version(-1, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, NOT_INITIALISED);
    CHECK_EQ_INT(pgm_check_version(0, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, NOT_INITIALISED);
    CHECK_EQ_INT(pgm_check_version(999, err, sizeof(err)), -1);
    char expect[256];
    snprintf(expect, sizeof(expect), "database schema version 999 is newer than this sipcdr (%d): upgrade sipcdr", want);
    CHECK_EQ_STR(err, expect);
    if (want > 1) {
        CHECK_EQ_INT(pgm_check_version(want - 1, err, sizeof(err)), -1);
        snprintf(expect, sizeof(expect),
                 "database schema version %d is older than this sipcdr (%d): run `sipcdr db migrate`", want - 1, want);
        CHECK_EQ_STR(err, expect);
    }
}

/* The table's columns, in order, joined with ",". */
static const char *table_columns(PGconn *c, const char *table, char *out, size_t cap)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
             "WHERE table_schema = current_schema() AND table_name = '%s'",
             table);
    return pgtest_value(c, sql, out, cap);
}

static const char *record_column_list(enum record_kind kind, char *out, size_t cap)
{
    size_t n, o = 0;
    const char *const *cols = record_columns(kind, &n);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + o, cap - o, "%s%s", i ? "," : "", cols[i]);
        if (w < 0 || (size_t)w >= cap - o)
            break;
        o += (size_t)w;
    }
    return out;
}

static void fresh_database_migrates(void)
{
    char db[512], err[1024], v[512], want[600];
    if (pgtest_newdb("t_migrate_fresh", db, sizeof(db)) != 0) {
        CHECK(!"test database");
        return;
    }
    int from = -5, to = -5;
    CHECK_EQ_INT(pgm_migrate(db, &from, &to, err, sizeof(err)), 0);
    CHECK_EQ_INT(from, 0);
    CHECK_EQ_INT(to, pgm_expected_version());

    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT string_agg(version || ':' || name, ',' ORDER BY version) "
                                 "FROM sipcdr_schema_version", v, sizeof(v)),
                 "1:initial,2:exactly_once");
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM sipcdr_schema_version WHERE applied_at <= now()", v,
                              sizeof(v)),
                 "2");
    /* The schema is the record contract: same columns, same order, then the
     * database-only collector column (docs/storage.md). */
    char cols[512];
    snprintf(want, sizeof(want), "%s,collector", record_column_list(RECORD_CALL, cols, sizeof(cols)));
    CHECK_EQ_STR(table_columns(c, "calls", v, sizeof(v)), want);
    snprintf(want, sizeof(want), "%s,collector", record_column_list(RECORD_SMS, cols, sizeof(cols)));
    CHECK_EQ_STR(table_columns(c, "sms", v, sizeof(v)), want);
    CHECK_EQ_STR(table_columns(c, "sipcdr_progress", v, sizeof(v)), "collector,stream,last_seq,updated_at");
    /* The collector default reads the transaction's setting, NULL without. */
    CHECK_EQ_INT(pgtest_exec(c, "INSERT INTO sms (call_id, time, kind) VALUES ('no-setting', now(), 'text')"), 0);
    CHECK_EQ_INT(pgtest_exec(c, "BEGIN"), 0);
    CHECK_EQ_INT(pgtest_exec(c, "SELECT set_config('sipcdr.collector', 'c1', true)"), 0);
    CHECK_EQ_INT(pgtest_exec(c, "INSERT INTO sms (call_id, time, kind) VALUES ('with-setting', now(), 'text')"), 0);
    CHECK_EQ_INT(pgtest_exec(c, "COMMIT"), 0);
    CHECK_EQ_INT(pgtest_exec(c, "INSERT INTO sms (call_id, time, kind) VALUES ('after', now(), 'text')"), 0);
    CHECK_EQ_STR(pgtest_value(c, "SELECT string_agg(call_id || '=' || coalesce(collector, 'NULL'), ',' "
                                 "ORDER BY call_id) FROM sms", v, sizeof(v)),
                 "after=NULL,no-setting=NULL,with-setting=c1");
    CHECK_EQ_INT(pgtest_exec(c, "DELETE FROM sms"), 0);
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM pg_indexes WHERE tablename = 'calls' "
                                 "AND indexdef LIKE '%(invite_time)'", v, sizeof(v)),
                 "1");
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM pg_indexes WHERE tablename = 'sms' "
                                 "AND indexdef LIKE '%(\"time\")'", v, sizeof(v)),
                 "1");
    CHECK_EQ_STR(pgtest_value(c, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                                 "WHERE attrelid = 'calls'::regclass AND attname = 'caller_ip'", v, sizeof(v)),
                 "inet");

    /* Running it again changes nothing. */
    CHECK_EQ_INT(pgm_migrate(db, &from, &to, err, sizeof(err)), 0);
    CHECK_EQ_INT(from, pgm_expected_version());
    CHECK_EQ_INT(to, pgm_expected_version());
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM sipcdr_schema_version", v, sizeof(v)), "2");

    /* The version query the writer uses reads it back. */
    PGresult *r = PQexec(c, pgm_version_query());
    int version = -5;
    CHECK_EQ_INT(pgm_version_from_result(r, &version, err, sizeof(err)), 0);
    CHECK_EQ_INT(version, pgm_expected_version());
    PQclear(r);
    PQfinish(c);
}

static void newer_database_is_refused(void)
{
    char db[512], err[1024], v[64], expect[256];
    if (pgtest_newdb("t_migrate_newer", db, sizeof(db)) != 0) {
        CHECK(!"test database");
        return;
    }
    int from, to;
    CHECK_EQ_INT(pgm_migrate(db, &from, &to, err, sizeof(err)), 0);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(pgtest_exec(c, "INSERT INTO sipcdr_schema_version (version, name) VALUES (999, 'future')"), 0);
    CHECK_EQ_INT(pgm_migrate(db, &from, &to, err, sizeof(err)), -1);
    snprintf(expect, sizeof(expect), "database schema version 999 is newer than this sipcdr (%d): upgrade sipcdr",
             pgm_expected_version());
    CHECK_EQ_STR(err, expect);
    CHECK_EQ_INT(from, 999);
    CHECK_EQ_INT(to, 999);
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM sipcdr_schema_version", v, sizeof(v)), "3");
    PQfinish(c);
}

static void empty_database_is_not_initialised(void)
{
    char db[512], err[1024], v[64];
    if (pgtest_newdb("t_migrate_empty", db, sizeof(db)) != 0) {
        CHECK(!"test database");
        return;
    }
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    PGresult *r = PQexec(c, pgm_version_query());
    int version = -5;
    CHECK_EQ_INT(pgm_version_from_result(r, &version, err, sizeof(err)), 0);
    CHECK_EQ_INT(version, -1);
    PQclear(r);
    CHECK_EQ_INT(pgm_check_version(version, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, NOT_INITIALISED);

    /* A version table without rows is no better. */
    CHECK_EQ_INT(pgtest_exec(c, "CREATE TABLE sipcdr_schema_version (version int PRIMARY KEY, name text NOT NULL, "
                                "applied_at timestamptz NOT NULL DEFAULT now())"),
                 0);
    r = PQexec(c, pgm_version_query());
    CHECK_EQ_INT(pgm_version_from_result(r, &version, err, sizeof(err)), 0);
    CHECK_EQ_INT(version, 0);
    PQclear(r);
    CHECK_EQ_INT(pgm_check_version(version, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, NOT_INITIALISED);

    /* ... and migrate takes it from there. */
    int from, to;
    CHECK_EQ_INT(pgm_migrate(db, &from, &to, err, sizeof(err)), 0);
    CHECK_EQ_INT(from, 0);
    CHECK_EQ_INT(to, pgm_expected_version());
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM calls", v, sizeof(v)), "0");
    PQfinish(c);
}

static void failed_migration_rolls_back(void)
{
    /* A table in the way: migration 1 fails as a whole, no version row. */
    char db[512], err[1024], v[64];
    if (pgtest_newdb("t_migrate_fail", db, sizeof(db)) != 0) {
        CHECK(!"test database");
        return;
    }
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_INT(pgtest_exec(c, "CREATE TABLE sms (x int)"), 0);
    int from, to;
    CHECK_EQ_INT(pgm_migrate(db, &from, &to, err, sizeof(err)), -1);
    CHECK(strstr(err, "migration 001_initial failed: ERROR: relation \"sms\" already exists") == err);
    CHECK(strchr(err, '\n') == NULL);
    CHECK_EQ_INT(from, 0);
    CHECK_EQ_INT(to, 0);
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM sipcdr_schema_version", v, sizeof(v)), "0");
    CHECK_EQ_STR(pgtest_value(c, "SELECT to_regclass('calls') IS NULL", v, sizeof(v)), "t");
    PQfinish(c);
}

struct racer {
    const char *db;
    int rc, from, to;
    char err[1024];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    r->rc = pgm_migrate(r->db, &r->from, &r->to, r->err, sizeof(r->err));
    return NULL;
}

static void concurrent_migrators_take_turns(void)
{
    char db[512], v[64];
    if (pgtest_newdb("t_migrate_race", db, sizeof(db)) != 0) {
        CHECK(!"test database");
        return;
    }
    struct racer r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i].db = db;
        CHECK_EQ_INT(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    int fresh = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(r[i].rc, 0);
        if (r[i].rc != 0)
            fprintf(stderr, "migrator %d: %s\n", i, r[i].err);
        CHECK_EQ_INT(r[i].to, pgm_expected_version());
        fresh += r[i].from == 0;
    }
    CHECK_EQ_INT(fresh, 1);
    PGconn *c = pgtest_connect(db);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_EQ_STR(pgtest_value(c, "SELECT count(*) FROM sipcdr_schema_version", v, sizeof(v)), "2");
    PQfinish(c);
}

static void unreachable_server_is_one_line(void)
{
    char conninfo[256], err[1024];
    snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=x user=u password=s3cret-pw connect_timeout=5",
             pgtest_free_port());
    int from = -5, to = -5;
    CHECK_EQ_INT(pgm_migrate(conninfo, &from, &to, err, sizeof(err)), -1);
    CHECK(pgtest_starts_with(err, "cannot connect: "));
    CHECK(strstr(err, "Connection refused") != NULL);
    CHECK(strchr(err, '\n') == NULL);
    CHECK(strstr(err, "s3cret") == NULL);
    CHECK_EQ_INT(from, 0);
    CHECK_EQ_INT(to, 0);
    if (strstr(err, "Connection refused") == NULL)
        fprintf(stderr, "got: %s\n", err);
}

static void bad_conninfo_hides_its_tokens(void)
{
    char err[1024];
    int from, to;
    /* An unquoted password with a space: libpq quotes the second half. */
    CHECK_EQ_INT(pgm_migrate("host=127.0.0.1 password=abc pw2xyz", &from, &to, err, sizeof(err)), -1);
    CHECK(pgtest_starts_with(err, "invalid connection string: "));
    CHECK(strstr(err, "pw2xyz") == NULL);
    CHECK(strchr(err, '\n') == NULL);
    CHECK_EQ_INT(pgm_migrate("host=127.0.0.1 pw2xyz=1", &from, &to, err, sizeof(err)), -1);
    CHECK(strstr(err, "pw2xyz") == NULL);
    CHECK_EQ_INT(pgm_conninfo_check("host=127.0.0.1 port=5 dbname='a b'", err, sizeof(err)), 0);
}

int main(void)
{
    RUN(error_lines_are_flat);
    RUN(version_messages);
    RUN(fresh_database_migrates);
    RUN(newer_database_is_refused);
    RUN(empty_database_is_not_initialised);
    RUN(failed_migration_rolls_back);
    RUN(concurrent_migrators_take_turns);
    RUN(unreachable_server_is_one_line);
    RUN(bad_conninfo_hides_its_tokens);
    return check_summary();
}
