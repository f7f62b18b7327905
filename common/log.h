/* log.h - one line per event, logfmt, on stderr.
 *
 * Only main and the pipeline log; lower layers return codes and fill error
 * buffers. Format: ts=... level=... msg="..." key=value ... Values that may
 * hold spaces or quotes go through log_quote(). Nothing that could be message
 * body ever reaches a log call: the privacy cut runs before any code that logs.
 */
#ifndef SIPCDR_LOG_H
#define SIPCDR_LOG_H

#include <stddef.h>

#include "sc.h"

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* fmt is the rest of the line after level=: usually msg="..." key=val. */
void log_msg(enum log_level level, const char *fmt, ...) SC_PRINTF(2, 3);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Quote s for a logfmt value into buf ("..." with \" and \\ escaped, control
 * bytes as \xNN, truncated to fit). Returns buf. */
const char *log_quote(const char *s, char *buf, size_t cap);

#endif
