/*
 * tests/unit/db/test_db.c — lib/db without a database: what every caller
 * relies on when PostgreSQL is not there (nothing listens on the port) or
 * does not answer (a socket that accepts and stays silent, like a stopped
 * server): AG_EUNAVAIL, promptly, never a hang or a crash. The statements
 * themselves are tested against the test stack's PostgreSQL
 * (tests/integration/model/test_model.c).
 */
#include "db/db.h"
#include "tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

/* A loopback TCP socket bound to a free port, listening (backlog) or not; its port. */
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

static ag_config_t *
config_on(int port)
{
    ag_config_t *cfg = NULL;
    char         err[256], num[16];

    if (ag_config_load_text("", 0, "test", &cfg, err, sizeof(err)) != AG_OK)
        return NULL;
    snprintf(num, sizeof(num), "%d", port);
    ag_config_set(cfg, "pg_port", num, "test", err, sizeof(err));
    ag_config_set(cfg, "pg_connect_timeout", "1", "test", err, sizeof(err));
    return cfg;
}

int
main(void)
{
    int          port = 0, fd = loopback(false, &port); /* bound, not listening: refused */
    ag_config_t *cfg = config_on(port);
    ag_db_t     *db = cfg ? ag_db_new(cfg) : NULL;
    ag_arena_t  *a = ag_arena_new(1024);
    ag_db_res_t *r = NULL;
    const char  *p[] = {"1"};

    ok(fd >= 0 && db != NULL, "a client for a port where nothing listens");
    is_int(ag_db_connect(db), AG_EUNAVAIL, "connecting is AG_EUNAVAIL");
    ok(*ag_db_error(db) != '\0', "... and the error says why (%s)", ag_db_error(db));
    is_int(ag_db_health(db), AG_EUNAVAIL, "health is unavailable");
    is_int(ag_db_exec(db, a, "SELECT $1::int", 1, p, &r), AG_EUNAVAIL,
           "a statement is AG_EUNAVAIL: the connection is made lazily and fails");
    ok(r == NULL, "... with no result");
    is_int(ag_db_exec_generic(db, a, "SELECT $1::int", 1, p, &r), AG_EUNAVAIL,
           "a generic-plan statement too");
    is_int(ag_db_begin(db), AG_EUNAVAIL, "a transaction cannot begin");
    ag_db_rollback(db); /* best effort: must not crash without a connection */
    ok(true, "rollback without a connection returns");
    ag_db_free(db);
    ag_config_free(cfg);
    close(fd);

    int silent = loopback(true, &port); /* the kernel accepts; nobody ever answers */
    cfg = config_on(port);
    db = cfg ? ag_db_new(cfg) : NULL;
    ok(silent >= 0 && db != NULL, "a client for a server that accepts and never answers");
    is_int(ag_db_exec(db, a, "SELECT $1::int", 1, p, &r), AG_EUNAVAIL,
           "a statement gives up after pg_connect_timeout: AG_EUNAVAIL, not a hang");
    ag_db_free(db);
    ag_config_free(cfg);
    close(silent);

    ag_db_free(NULL);
    ok(true, "ag_db_free accepts NULL");
    ag_arena_free(a);
    return done_testing();
}
