/* lib/log/log.c — leveled logging; configured once at start, read from any thread. */
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const char *names[] = {"debug", "info", "warn", "error"};
static const int   syslog_prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};

static struct {
    ag_log_level_t level;
    bool           use_syslog;
    char           prog[64];
} g = {AG_LOG_INFO, false, "agora"};

ag_status_t
ag_log_level_parse(const char *name, ag_log_level_t *out)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(names); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (ag_log_level_t)i;
            return AG_OK;
        }
    }
    return AG_EBADREQ;
}

ag_status_t
ag_log_init(const char *prog, const char *level, const char *target)
{
    if (prog)
        snprintf(g.prog, sizeof(g.prog), "%s", prog);
    if (level && ag_log_level_parse(level, &g.level) != AG_OK)
        return AG_EBADREQ;
    if (target && strcmp(target, "syslog") == 0) {
        g.use_syslog = true;
        openlog(g.prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    } else if (target && strcmp(target, "stderr") != 0) {
        return AG_EBADREQ;
    }
    return AG_OK;
}

void
ag_log_fini(void)
{
    if (g.use_syslog)
        closelog();
    g.use_syslog = false;
}

bool
ag_log_enabled(ag_log_level_t lvl)
{
    return lvl >= g.level;
}

void
ag_log(ag_log_level_t lvl, const char *fmt, ...)
{
    char    msg[2048];
    va_list ap;

    if (!ag_log_enabled(lvl))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* one event, one line: fold any newline an argument smuggled in */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (g.use_syslog) {
        syslog(syslog_prio[lvl], "%s", msg);
        return;
    }
    char ts[40], line[2200];
    ag_format_rfc3339(ag_now_wall_ms(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line), "%s %s %s[%ld] %s\n", ts, names[lvl], g.prog,
                     (long)getpid(), msg);
    if (n > (int)sizeof(line))
        n = (int)sizeof(line);
    (void)!write(STDERR_FILENO, line, (size_t)n);
}
