/* pg_migrate.c - schema migrations and the schema check (see pg_migrate.h). */
#include "pg_migrate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Session advisory lock that serialises migrators on one database: two
 * `sipcdr db migrate` started together would otherwise both see version 0 and
 * both try migration 1. The key is "sipcdr" in ASCII plus a 1; it only has
 * to differ from keys other applications on the same database use. */
#define PGM_LOCK_KEY "8316304591436234753"

#define SQLSTATE_UNDEFINED_TABLE "42P01"

static const char version_query[] = "SELECT max(version) FROM sipcdr_schema_version";

static const char create_version_table[] =
    "CREATE TABLE IF NOT EXISTS sipcdr_schema_version ("
    " version int PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int pgm_expected_version(void)
{
    return sql_migrations_count > 0 ? sql_migrations[sql_migrations_count - 1].version : 0;
}

const char *pgm_version_query(void) { return version_query; }

char *pgm_error_line(const char *msg, char *out, size_t cap)
{
    if (cap == 0)
        return out;
    if (msg == NULL || msg[0] == '\0')
        msg = "unknown error";
    size_t o = 0;
    const char *s = msg;
    while (*s != '\0' && o + 1 < cap) {
        if (*s == '\n' || *s == '\r') {
            /* One separator for a run of line breaks and the indentation
             * libpq puts after them ("\n\tIs the server running ..."). */
            while (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ')
                s++;
            if (*s == '\0')
                break;
            if (o + 3 >= cap)
                break;
            out[o++] = ';';
            out[o++] = ' ';
            continue;
        }
        out[o++] = *s == '\t' ? ' ' : *s;
        s++;
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == ';'))
        o--;
    out[o] = '\0';
    return out;
}

char *pgm_result_error(const PGresult *res, char *out, size_t cap)
{
    const char *sev = res ? PQresultErrorField(res, PG_DIAG_SEVERITY) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary != NULL) {
        char line[512];
        pgm_error_line(primary, line, sizeof(line));
        snprintf(out, cap, "%s: %s", sev ? sev : "ERROR", line);
        return out;
    }
    return pgm_error_line(res ? PQresultErrorMessage(res) : NULL, out, cap);
}

int pgm_conninfo_check(const char *conninfo, char *err, size_t errlen)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
    if (opts != NULL) {
        PQconninfoFree(opts);
        return 0;
    }
    char line[256], masked[256];
    pgm_error_line(msg ? msg : "out of memory", line, sizeof(line));
    PQfreemem(msg);
    /* Mask every "quoted token": it is a piece of the conninfo, and an
     * unquoted password with a space in it ends up quoted here. A quoted "="
     * is libpq's own text ("missing "=" after ...") and stays. */
    size_t o = 0;
    const char *s = line;
    while (*s != '\0' && o + 6 < sizeof(masked)) {
        if (*s != '"') {
            masked[o++] = *s++;
            continue;
        }
        const char *close = strchr(s + 1, '"');
        if (close == NULL)
            break;
        bool keep = close == s + 2 && s[1] == '=';
        memcpy(masked + o, keep ? "\"=\"" : "\"...\"", keep ? 3 : 5);
        o += keep ? 3 : 5;
        s = close + 1;
    }
    masked[o] = '\0';
    snprintf(err, errlen, "invalid connection string: %s", masked);
    return -1;
}

int pgm_version_from_result(const PGresult *res, int *version, char *err, size_t errlen)
{
    char line[512];
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (state != NULL && strcmp(state, SQLSTATE_UNDEFINED_TABLE) == 0) {
            *version = -1;
            return 0;
        }
        snprintf(err, errlen, "cannot read the schema version: %s", pgm_result_error(res, line, sizeof(line)));
        return -1;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != 1) {
        snprintf(err, errlen, "cannot read the schema version: unexpected result shape");
        return -1;
    }
    if (PQgetisnull(res, 0, 0)) {
        *version = 0;
        return 0;
    }
    const char *v = PQgetvalue(res, 0, 0);
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 1000000) {
        snprintf(err, errlen, "cannot read the schema version: bad value");
        return -1;
    }
    *version = (int)n;
    return 0;
}

int pgm_check_version(int db_version, char *err, size_t errlen)
{
    int want = pgm_expected_version();
    if (db_version <= 0) {
        /* An empty version table is as good as none: nothing was applied. */
        snprintf(err, errlen, "database schema is not initialised: run `sipcdr db migrate --db ...`");
        return -1;
    }
    if (db_version > want) {
        snprintf(err, errlen, "database schema version %d is newer than this sipcdr (%d): upgrade sipcdr",
                 db_version, want);
        return -1;
    }
    if (db_version < want) {
        snprintf(err, errlen, "database schema version %d is older than this sipcdr (%d): run `sipcdr db migrate`",
                 db_version, want);
        return -1;
    }
    return 0;
}

/* The default notice processor prints to stderr; a low layer must not. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Run one command that returns no rows. 0, or -1 with err = what: reason. */
static int exec_ok(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        return 0;
    }
    char line[512];
    if (res != NULL)
        pgm_result_error(res, line, sizeof(line));
    else
        pgm_error_line(PQerrorMessage(conn), line, sizeof(line));
    snprintf(err, errlen, "%s: %s", what, line);
    PQclear(res);
    return -1;
}

static int read_version(PGconn *conn, int *version, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, version_query);
    int rc;
    if (res == NULL) {
        char line[512];
        snprintf(err, errlen, "cannot read the schema version: %s",
                 pgm_error_line(PQerrorMessage(conn), line, sizeof(line)));
        rc = -1;
    } else {
        rc = pgm_version_from_result(res, version, err, errlen);
    }
    PQclear(res);
    return rc;
}

/* Apply migration m in one transaction with its version row. */
static int apply(PGconn *conn, const struct sql_migration *m, char *err, size_t errlen)
{
    char what[128], version[16];
    snprintf(what, sizeof(what), "migration %03d_%s failed", m->version, m->name);
    snprintf(version, sizeof(version), "%d", m->version);
    if (exec_ok(conn, "BEGIN", what, err, errlen) != 0)
        return -1;
    if (exec_ok(conn, m->sql, what, err, errlen) != 0)
        goto rollback;
    const char *params[2] = {version, m->name};
    PGresult *res = PQexecParams(conn, "INSERT INTO sipcdr_schema_version (version, name) VALUES ($1::int, $2)", 2,
                                 NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char line[512];
        snprintf(err, errlen, "%s: %s", what, pgm_result_error(res, line, sizeof(line)));
        PQclear(res);
        goto rollback;
    }
    PQclear(res);
    if (exec_ok(conn, "COMMIT", what, err, errlen) != 0)
        return -1; /* a failed COMMIT has already rolled back */
    return 0;

rollback:;
    /* Best effort: the connection is closed next anyway, which also rolls back. */
    PGresult *rb = PQexec(conn, "ROLLBACK");
    PQclear(rb);
    return -1;
}

int pgm_migrate(const char *conninfo, int *from_version, int *to_version, char *err, size_t errlen)
{
    *from_version = *to_version = 0;
    if (pgm_conninfo_check(conninfo, err, errlen) != 0)
        return -1;
    /* client_encoding is pinned so the embedded UTF-8 SQL is read as such,
     * whatever the environment says; later keywords override the string's. */
    static const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *const values[] = {conninfo, "UTF8", "sipcdr-migrate", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn == NULL) {
        snprintf(err, errlen, "cannot connect: out of memory");
        return -1;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[512];
        snprintf(err, errlen, "cannot connect: %s", pgm_error_line(PQerrorMessage(conn), line, sizeof(line)));
        PQfinish(conn);
        return -1;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);

    int rc = -1, version = 0;
    /* Held until PQfinish ends the session. */
    if (exec_ok(conn, "SELECT pg_advisory_lock(" PGM_LOCK_KEY ")", "cannot take the migration lock", err, errlen) != 0)
        goto out;
    if (exec_ok(conn, create_version_table, "cannot create sipcdr_schema_version", err, errlen) != 0)
        goto out;
    if (read_version(conn, &version, err, errlen) != 0)
        goto out;
    *from_version = *to_version = version;
    if (version > pgm_expected_version()) {
        pgm_check_version(version, err, errlen);
        goto out;
    }
    for (size_t i = 0; i < sql_migrations_count; i++) {
        const struct sql_migration *m = &sql_migrations[i];
        if (m->version <= version)
            continue;
        if (apply(conn, m, err, errlen) != 0)
            goto out;
        *to_version = m->version;
    }
    rc = 0;
out:
    PQfinish(conn);
    return rc;
}
