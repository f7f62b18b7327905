/* main.c - wiring only: parse the command line, load the config, dispatch.
 *
 *   sipcdr read (--db CONNINFO [--spool-ok] | --csv DIR) [--config FILE] [-v] [-q] FILE...
 *   sipcdr db migrate --db CONNINFO
 *   sipcdr config check FILE
 *   sipcdr version
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd_read.h"
#include "config.h"
#include "log.h"
#include "pg_migrate.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sipcdr <command> [options]\n"
            "\n"
            "  read --db CONNINFO [options] FILE...   import pcap/pcapng files into PostgreSQL\n"
            "  read --csv DIR [options] FILE...       write DIR/calls.csv and DIR/sms.csv instead\n"
            "       --spool-ok      with --db: done when every record is committed or in the\n"
            "                       spool (storage.spool_dir), not only when all are committed\n"
            "       --config FILE   settings (see docs/sipcdr.ini.example)\n"
            "       -v, --verbose   debug logging      -q, --quiet   errors only\n"
            "  db migrate --db CONNINFO               create or upgrade the database schema\n"
            "  config check FILE                      report unknown keys and bad values\n"
            "  version                                print the version\n"
            "\n"
            "CONNINFO is a libpq connection string (\"host=... dbname=... user=...\") or URI;\n"
            "the password comes from PGPASSWORD, ~/.pgpass or a service file, never the command line.\n");
}

static int load_config(struct config *cfg, const char *path)
{
    config_defaults(cfg);
    if (path == NULL)
        return 0;
    char err[4096];
    if (config_load(cfg, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int cmd_read_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"csv", required_argument, NULL, 'c'},
        {"config", required_argument, NULL, 'f'}, {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {"spool-ok", no_argument, NULL, 's'},     {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *csv = NULL, *cfgpath = NULL;
    int level = -1, c;
    bool spool_ok = false;
    while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'c': csv = optarg; break;
        case 'f': cfgpath = optarg; break;
        case 'v': level = LOG_DEBUG; break;
        case 'q': level = LOG_ERROR; break;
        case 's': spool_ok = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if ((db == NULL) == (csv == NULL)) {
        fprintf(stderr, "sipcdr read: give exactly one of --db CONNINFO and --csv DIR\n");
        return EXIT_USAGE;
    }
    if (spool_ok && db == NULL) {
        fprintf(stderr, "sipcdr read: --spool-ok goes with --db\n");
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "sipcdr read: no capture file given\n");
        return EXIT_USAGE;
    }
    struct config cfg;
    if (load_config(&cfg, cfgpath) != 0)
        return EXIT_USAGE;
    log_set_level(level >= 0 ? (enum log_level)level : (enum log_level)cfg.log_level);
    return cmd_read(&cfg, db, csv, argv + optind, argc - optind, spool_ok);
}

static int cmd_db_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || strcmp(argv[1], "migrate") != 0) {
        fprintf(stderr, "usage: sipcdr db migrate --db CONNINFO\n");
        return EXIT_USAGE;
    }
    const char *db = NULL;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'd')
            return EXIT_USAGE;
        db = optarg;
    }
    if (db == NULL || optind != argc) {
        fprintf(stderr, "usage: sipcdr db migrate --db CONNINFO\n");
        return EXIT_USAGE;
    }
    int from = 0, to = 0;
    char err[1024];
    if (pgm_migrate(db, &from, &to, err, sizeof(err)) != 0) {
        log_error("msg=\"migration failed\" err=\"%s\"", err);
        return 1;
    }
    if (from == to)
        log_info("msg=\"schema up to date\" version=%d", to);
    else
        log_info("msg=\"schema migrated\" from=%d to=%d", from, to);
    return 0;
}

static int cmd_config_main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "usage: sipcdr config check FILE\n");
        return EXIT_USAGE;
    }
    struct config cfg;
    config_defaults(&cfg);
    char err[8192];
    int n = config_load(&cfg, argv[2], err, sizeof(err));
    if (n != 0) {
        fprintf(stderr, "%s\n%d error%s\n", err, n, n == 1 ? "" : "s");
        return 1;
    }
    printf("%s: ok\n", argv[2]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "read") == 0)
        return cmd_read_main(argc - 1, argv + 1);
    if (strcmp(cmd, "db") == 0)
        return cmd_db_main(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0)
        return cmd_config_main(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sipcdr %s\n", SIPCDR_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sipcdr: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
