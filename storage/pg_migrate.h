/* pg_migrate.h - the database schema: versioned migrations and the check.
 *
 * The migrations are sql/NNN_name.sql, compiled into the binary by
 * sql/embed.cmake (sql_migrations[], in version order 1..N without gaps).
 * Table sipcdr_schema_version(version, name, applied_at) holds one row per
 * applied migration; the migrator creates it, no migration file does.
 *
 * pgm_migrate() is the synchronous admin command (`sipcdr db migrate`). The
 * other functions are the pieces the asynchronous writer uses to refuse a
 * database whose schema does not match this binary, and the error-text
 * helpers both share. Nothing here logs: errors are one line in err, with
 * libpq's text flattened to one line; a conninfo (which may hold a password)
 * is never echoed.
 */
#ifndef SIPCDR_PG_MIGRATE_H
#define SIPCDR_PG_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

struct sql_migration {
    int version;      /* NNN of the file name: 1, 2, ... */
    const char *name; /* the rest of the file name, without .sql */
    const char *sql;  /* the file's bytes, NUL-terminated; no BEGIN/COMMIT */
};

/* Generated from sql/ at build time (sql_migrations.c). */
extern const struct sql_migration sql_migrations[];
extern const size_t sql_migrations_count;

/* The schema version this binary writes: the highest migration it knows. */
int pgm_expected_version(void);

/* Bring the database at conninfo to pgm_expected_version(): connect, take an
 * advisory lock (so concurrent migrators take turns), create the version table
 * if missing, then apply each missing migration in its own transaction
 * together with its version row. Blocks; meant for the admin command.
 * Returns 0 with *from_version (0 for a fresh database) and *to_version set;
 * from == to means there was nothing to do. Returns -1 with err filled when
 * the database cannot be reached, a migration fails (that migration is rolled
 * back; earlier ones stay, *to_version says how far it got), or the database
 * is newer than this binary (nothing is changed). */
int pgm_migrate(const char *conninfo, int *from_version, int *to_version, char *err, size_t errlen);

/* The query that reads the database's schema version: one row, one column,
 * NULL when the table is empty. Fails with SQLSTATE 42P01 (undefined_table)
 * when the table does not exist; pgm_version_from_result() maps that to -1.
 * Static text. */
const char *pgm_version_query(void);

/* Read the result of pgm_version_query(). Returns 0 with *version set (-1:
 * no version table, 0: empty table), or -1 with err filled for any other
 * failure (permissions, connection lost, ...). Does not PQclear(res). */
int pgm_version_from_result(const PGresult *res, int *version, char *err, size_t errlen);

/* Compare a database version (-1 when the version table is missing) with
 * pgm_expected_version(). Returns 0 when equal, else -1 with one line in err:
 *   database schema is not initialised: run `sipcdr db migrate --db ...`
 *   database schema version N is newer than this sipcdr (M): upgrade sipcdr
 *   database schema version N is older than this sipcdr (M): run `sipcdr db migrate` */
int pgm_check_version(int db_version, char *err, size_t errlen);

/* Copy libpq error text msg into out as one line: line breaks and the tabs
 * after them become "; ", trailing whitespace goes. NULL or empty msg gives
 * "unknown error". Truncated to cap - 1 bytes. Returns out. */
char *pgm_error_line(const char *msg, char *out, size_t cap);

/* One line for a failed result: "ERROR: <primary message>" from the result's
 * fields (no LINE/caret context), else its flattened error message. Returns
 * out. */
char *pgm_result_error(const PGresult *res, char *out, size_t cap);

/* Check that conninfo parses. Returns 0, or -1 with err filled. libpq's parse
 * messages quote the offending token, which may be part of a password, so
 * quoted text is masked as "...". */
int pgm_conninfo_check(const char *conninfo, char *err, size_t errlen);

#endif
