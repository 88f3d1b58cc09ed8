/*
 * lib/log/log.h — one line per event, to stderr or syslog.
 * Line shape on stderr: "2026-11-24T10:00:00.123Z warn agora-wsd[123] message".
 * Thread-safe: each line is formatted in a local buffer and written once.
 */
#ifndef AG_LOG_H
#define AG_LOG_H

#include "core/core.h"

typedef enum { AG_LOG_DEBUG = 0, AG_LOG_INFO, AG_LOG_WARN, AG_LOG_ERROR } ag_log_level_t;

/* prog: name in each line; level: "debug|info|warn|error"; target: "stderr|syslog". */
ag_status_t ag_log_init(const char *prog, const char *level, const char *target);
void        ag_log_fini(void);
bool        ag_log_enabled(ag_log_level_t lvl);
void        ag_log(ag_log_level_t lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse a level name; AG_EBADREQ when it is none of the four. */
ag_status_t ag_log_level_parse(const char *name, ag_log_level_t *out);

#define ag_log_debug(...) do { if (ag_log_enabled(AG_LOG_DEBUG)) ag_log(AG_LOG_DEBUG, __VA_ARGS__); } while (0)
#define ag_log_info(...)  ag_log(AG_LOG_INFO, __VA_ARGS__)
#define ag_log_warn(...)  ag_log(AG_LOG_WARN, __VA_ARGS__)
#define ag_log_error(...) ag_log(AG_LOG_ERROR, __VA_ARGS__)

#endif
