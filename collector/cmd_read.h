/* cmd_read.h - `sipcdr read`: capture files -> records in PostgreSQL or CSV. */
#ifndef SIPCDR_CMD_READ_H
#define SIPCDR_CMD_READ_H

#include <stdbool.h>

#include "config.h"

/* Exactly one of db (libpq conninfo) and csv_dir is set. Returns the process
 * exit status: 0 all input read and every record written (committed; with
 * spool_ok, committed or in the spool); 1 an input file could not be read or
 * records could not be written (the log says which). spool_ok only matters
 * with db and a storage.spool_dir. */
int cmd_read(const struct config *cfg, const char *db, const char *csv_dir, char **files, int nfiles, bool spool_ok);

#endif
