/*
 * tests/unit/cache/test_cache.c — lib/cache without Redis: every call a
 * caller makes while Redis is not there (nothing listens) or hangs (a socket
 * that accepts and stays silent) is AG_EUNAVAIL within redis_timeout_ms, so
 * that the callers' fail-open paths (rate limits, the user cache) run. The
 * commands themselves are tested against the test stack's Redis
 * (tests/integration/model/test_model.c).
 */
#include "cache/cache.h"
#include "tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int
loopback(bool listening, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t          len = sizeof(sa);
    int                fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || (listening && listen(fd, 4) != 0))
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

static ag_cache_t *
cache_on(int port, ag_config_t **cfg)
{
    char err[256], num[16];

    if (ag_config_load_text("", 0, "test", cfg, err, sizeof(err)) != AG_OK)
        return NULL;
    snprintf(num, sizeof(num), "%d", port);
    ag_config_set(*cfg, "redis_port", num, "test", err, sizeof(err));
    ag_config_set(*cfg, "redis_timeout_ms", "200", "test", err, sizeof(err));
    return ag_cache_new(*cfg);
}

static void
every_call_unavailable(ag_cache_t *c, const char *where)
{
    ag_arena_t       *a = ag_arena_new(1024);
    ag_cache_reply_t *r = NULL, *reps[2] = {NULL, NULL};
    const char       *get[] = {"GET", "k"}, *set[] = {"SET", "k", "v"};
    const char      **argvs[] = {get, set};
    int               argcs[] = {2, 3};
    int64_t           count = -1, ttl = -1;

    is_int(ag_cache_connect(c), AG_EUNAVAIL, "%s: connect is AG_EUNAVAIL", where);
    ok(*ag_cache_error(c) != '\0', "%s: the error says why (%s)", where, ag_cache_error(c));
    is_int(ag_cache_health(c), AG_EUNAVAIL, "%s: health is unavailable", where);
    is_int(ag_cache_cmd(c, a, &r, 2, get), AG_EUNAVAIL, "%s: a command", where);
    ok(r == NULL, "%s: ... leaves no reply", where);
    is_int(ag_cache_pipeline(c, 2, argcs, argvs), AG_EUNAVAIL, "%s: a pipeline", where);
    is_int(ag_cache_pipeline_get(c, a, 2, argcs, argvs, reps), AG_EUNAVAIL,
           "%s: a pipeline keeping replies", where);
    ok(reps[0] == NULL && reps[1] == NULL, "%s: ... leaves every reply NULL", where);
    is_int(ag_cache_hit(c, "rl:test", 60, &count, &ttl), AG_EUNAVAIL,
           "%s: a rate-limit hit (the caller fails open)", where);
    ag_arena_free(a);
}

int
main(void)
{
    ag_config_t *cfg = NULL;
    int          port = 0, fd = loopback(false, &port);
    ag_cache_t  *c = fd >= 0 ? cache_on(port, &cfg) : NULL;

    ok(c != NULL, "a client for a port where nothing listens");
    every_call_unavailable(c, "refused");
    ag_cache_free(c);
    ag_config_free(cfg);
    close(fd);

    cfg = NULL;
    fd = loopback(true, &port); /* the kernel accepts; nobody ever answers */
    c = fd >= 0 ? cache_on(port, &cfg) : NULL;
    ok(c != NULL, "a client for a server that accepts and never answers");
    const char *ping[] = {"PING"};
    is_int(ag_cache_cmd(c, NULL, NULL, 1, ping), AG_EUNAVAIL,
           "silent: a command times out as AG_EUNAVAIL, not a hang");
    is_int(ag_cache_health(c), AG_EUNAVAIL, "silent: health is unavailable");
    ag_cache_free(c);
    ag_config_free(cfg);
    close(fd);

    ag_cache_free(NULL);
    ok(true, "ag_cache_free accepts NULL");
    return done_testing();
}
