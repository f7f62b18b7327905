/* pgtest.h - what the C PostgreSQL tests share.
 *
 * Each test gets its own fresh database from the ctest fixture's cluster by
 * running `pgtmp.sh newdb NAME` (SIPCDR_PGTMP overrides the script path that
 * CMake compiles in; SIPCDR_PGTMP_DIR, set by sipcdr_pg_test(), says where
 * the cluster is). Synchronous libpq helpers for checking what was stored.
 */
#ifndef SIPCDR_PGTEST_H
#define SIPCDR_PGTEST_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#ifndef SIPCDR_PGTMP_SH
#define SIPCDR_PGTMP_SH "tests/pg/pgtmp.sh"
#endif

extern char **environ;

static inline int pgtest_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Create (or re-create) database name and put its conninfo in out.
 * Returns 0, or -1 after printing why. */
static inline int pgtest_newdb(const char *name, char *out, size_t cap)
{
    const char *script = getenv("SIPCDR_PGTMP");
    if (script == NULL || script[0] == '\0')
        script = SIPCDR_PGTMP_SH;
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char *argv[] = {(char *)"sh", (char *)script, (char *)"newdb", (char *)name, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        fprintf(stderr, "cannot run %s: %s\n", script, strerror(rc));
        return -1;
    }
    size_t n = 0;
    ssize_t got;
    while (n + 1 < cap && (got = read(fds[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)got;
    close(fds[0]);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || n == 0) {
        fprintf(stderr, "%s newdb %s failed (is the pg fixture running? SIPCDR_PGTMP_DIR=%s)\n", script, name,
                getenv("SIPCDR_PGTMP_DIR") ? getenv("SIPCDR_PGTMP_DIR") : "(unset)");
        return -1;
    }
    return 0;
}

/* Blocking connection for checks; NULL after printing why. */
static inline PGconn *pgtest_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Run sql; 0 when it succeeded, else -1 after printing the error. */
static inline int pgtest_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* First value of the first row of sql into out: "(null)" for NULL, "(none)"
 * without rows, "(error)" after printing the error. Returns out. */
static inline const char *pgtest_value(PGconn *c, const char *sql, char *out, size_t cap)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
        snprintf(out, cap, "(error)");
    } else if (PQntuples(r) == 0) {
        snprintf(out, cap, "(none)");
    } else if (PQgetisnull(r, 0, 0)) {
        snprintf(out, cap, "(null)");
    } else {
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return out;
}

/* The port of a conninfo ("" when it has none). */
static inline const char *pgtest_port(const char *conninfo, char *out, size_t cap)
{
    snprintf(out, cap, "%s", "");
    PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *p = o; p != NULL && p->keyword != NULL; p++)
        if (strcmp(p->keyword, "port") == 0 && p->val != NULL)
            snprintf(out, cap, "%s", p->val);
    PQconninfoFree(o);
    return out;
}

/* A TCP port on 127.0.0.1 that nothing listens on (free a moment ago). */
static inline int pgtest_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

#endif
