/* lib/db/db.c — libpq wrapper: lazy connect, reconnect, SQLSTATE → status. */
#include "db/db.h"
#include "log/log.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Statements are prepared on first use and kept per connection, keyed by the
 * address of their SQL text: every caller passes a string literal, so the
 * address is stable, and the server skips parsing and planning after the
 * first call. A reconnect forgets them all.
 */
#define PREP_SLOTS 128

struct ag_db {
    PGconn     *conn;
    const char *prep_sql[PREP_SLOTS];  /* open addressing on the pointer value */
    char       *prep_text[PREP_SLOTS]; /* a copy: a reused address with other text is caught */
    int         nprep;
    bool        in_tx;        /* between ag_db_begin and commit/rollback: never retried */
    int         plan_mode;    /* the session's plan_cache_mode: 0 auto, 1 generic, -1 unknown */
    int         tx_plan_mode; /* plan_mode at ag_db_begin */
    int64_t     wait_ms;      /* longest wait for an answer: statement_timeout + a margin */
    bool        timed_out;    /* the last statement got no answer in time */
    char        conninfo[1024];
    char        err[512];
    char        constraint[128];
};

struct ag_db_res {
    PGresult *res;
};

static void
add_kv(char *dst, size_t n, const char *k, const char *v)
{
    /* conninfo values are single-quoted with \ and ' escaped */
    size_t len = strlen(dst);
    int    w = snprintf(dst + len, n - len, "%s%s='", len ? " " : "", k);
    if (w < 0 || (size_t)w >= n - len)
        return;
    len += (size_t)w;
    for (; *v && len + 3 < n; v++) {
        if (*v == '\'' || *v == '\\')
            dst[len++] = '\\';
        dst[len++] = *v;
    }
    if (len + 2 < n) {
        dst[len++] = '\'';
        dst[len] = '\0';
    }
}

ag_db_t *
ag_db_new(const ag_config_t *cfg)
{
    char     num[96];
    ag_db_t *db = calloc(1, sizeof(*db));
    if (db == NULL)
        return NULL;
    add_kv(db->conninfo, sizeof(db->conninfo), "host", ag_config_str(cfg, AG_CFG_pg_host));
    snprintf(num, sizeof(num), "%lld", (long long)ag_config_int(cfg, AG_CFG_pg_port));
    add_kv(db->conninfo, sizeof(db->conninfo), "port", num);
    add_kv(db->conninfo, sizeof(db->conninfo), "user", ag_config_str(cfg, AG_CFG_pg_user));
    add_kv(db->conninfo, sizeof(db->conninfo), "dbname", ag_config_str(cfg, AG_CFG_pg_dbname));
    if (*ag_config_str(cfg, AG_CFG_pg_password))
        add_kv(db->conninfo, sizeof(db->conninfo), "password",
               ag_config_str(cfg, AG_CFG_pg_password));
    snprintf(num, sizeof(num), "%lld", (long long)ag_config_int(cfg, AG_CFG_pg_connect_timeout));
    add_kv(db->conninfo, sizeof(db->conninfo), "connect_timeout", num);
    snprintf(num, sizeof(num), "-c statement_timeout=%lld -c TimeZone=UTC",
             (long long)ag_config_int(cfg, AG_CFG_pg_statement_timeout_ms));
    add_kv(db->conninfo, sizeof(db->conninfo), "options", num);
    /* the server cancels a statement at statement_timeout; a second more is ours */
    db->wait_ms = ag_config_int(cfg, AG_CFG_pg_statement_timeout_ms) + 1000;
    add_kv(db->conninfo, sizeof(db->conninfo), "application_name", "agora");
    return db;
}

void
ag_db_free(ag_db_t *db)
{
    if (db == NULL)
        return;
    PQfinish(db->conn);
    for (int i = 0; i < PREP_SLOTS; i++)
        free(db->prep_text[i]);
    free(db);
}

static void
set_err(ag_db_t *db, const char *msg)
{
    snprintf(db->err, sizeof(db->err), "%s", msg ? msg : "");
    size_t n = strlen(db->err);
    while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
        db->err[--n] = '\0';
}

/*
 * The result of what was just sent (sent: what PQsend* returned). libpq's PQexec
 * waits for the server however long it takes, and a server that stopped (SIGSTOP,
 * a frozen VM, a path that swallows packets) never answers: every worker would
 * hang with it. So the statement is sent, then its results are awaited at most
 * wait_ms from the last sign of life (statement_timeout, which the server enforces
 * itself, plus a margin). Past that the connection is dropped (its state is
 * unknown) and NULL is returned: the caller answers "unavailable". Of several
 * results (a script) the first error is kept, else the last result.
 */
static PGresult *
await_result(ag_db_t *db, int sent)
{
    PGresult *last = NULL, *r;
    int64_t   deadline = ag_now_mono_ms() + db->wait_ms;

    if (!sent)
        return NULL; /* the connection is broken: PQerrorMessage says why */
    db->timed_out = false;
    for (;;) {
        while (PQisBusy(db->conn)) {
            int64_t       left = deadline - ag_now_mono_ms();
            struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};
            int           n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0) {
                PQclear(last);
                snprintf(db->err, sizeof(db->err),
                         "no answer from PostgreSQL within %lld ms (server stopped or unreachable)",
                         (long long)db->wait_ms);
                db->timed_out = true;
                PQfinish(db->conn);
                db->conn = NULL;
                return NULL;
            }
            if (n < 0 || !PQconsumeInput(db->conn))
                break; /* PQgetResult reports the error */
        }
        if ((r = PQgetResult(db->conn)) == NULL)
            return last;
        if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            PQclear(last);
            last = r;
        }
        deadline = ag_now_mono_ms() + db->wait_ms; /* it answers: wait for the rest */
    }
}

static PGresult *
q_exec(ag_db_t *db, const char *sql)
{
    return await_result(db, PQsendQuery(db->conn, sql));
}

static PGresult *
q_params(ag_db_t *db, const char *sql, int n, const char *const *params)
{
    return await_result(db, PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL, 0));
}

ag_status_t
ag_db_connect(ag_db_t *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return AG_OK;
    if (db->in_tx) {
        /* the transaction died with its connection: what follows must not run
         * outside it on a new one (until rollback or commit ends it) */
        snprintf(db->err, sizeof(db->err), "the connection was lost inside a transaction");
        return AG_EUNAVAIL;
    }
    if (db->conn) {
        /* a broken connection: drop it and dial again (the server may be back) */
        PQfinish(db->conn);
        db->conn = NULL;
    }
    for (int i = 0; i < PREP_SLOTS; i++)
        free(db->prep_text[i]);
    memset(db->prep_sql, 0, sizeof(db->prep_sql));
    memset(db->prep_text, 0, sizeof(db->prep_text));
    db->nprep = 0;
    db->plan_mode = 0; /* a new session starts with the server's default, auto */
    db->conn = PQconnectdb(db->conninfo);
    if (db->conn == NULL)
        return AG_ENOMEM;
    if (PQstatus(db->conn) != CONNECTION_OK) {
        set_err(db, PQerrorMessage(db->conn));
        PQfinish(db->conn);
        db->conn = NULL;
        return AG_EUNAVAIL;
    }
    return AG_OK;
}

static ag_status_t
map_sqlstate(const char *state)
{
    if (state == NULL)
        return AG_EUNAVAIL; /* no SQLSTATE: the connection itself failed */
    if (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)
        return AG_ECONFLICT;
    if (strcmp(state, "23503") == 0)
        return AG_ENOTFOUND;
    if (strncmp(state, "22", 2) == 0 || strcmp(state, "23502") == 0 || strcmp(state, "23514") == 0)
        return AG_EBADREQ;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57014") == 0 ||
        strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0)
        return AG_EUNAVAIL;
    return AG_EINTERNAL;
}

static void
res_clear(void *p)
{
    PQclear(p);
}

/* Check a result; on failure record why and, for a dead connection, drop it. */
static ag_status_t
check(ag_db_t *db, PGresult *res)
{
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK)
        return AG_OK;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    if (res == NULL && db->timed_out)
        return AG_EUNAVAIL; /* db->err says so; the connection is gone */
    set_err(db, res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
    snprintf(db->constraint, sizeof(db->constraint), "%s", cons ? cons : "");
    ag_status_t st = map_sqlstate(state);
    if (PQstatus(db->conn) != CONNECTION_OK)
        st = AG_EUNAVAIL;
    return st;
}

/*
 * The slot of sql in the prepared-statement table: *fresh tells whether it
 * must be prepared first. -1 when the table is full (then run unprepared).
 */
static int
prep_slot(ag_db_t *db, const char *sql, bool *fresh)
{
    size_t h = ((uintptr_t)sql >> 3) % PREP_SLOTS;
    for (int i = 0; i < PREP_SLOTS; i++, h = (h + 1) % PREP_SLOTS) {
        if (db->prep_sql[h] == sql) {
            *fresh = false;
            /* same address, other text (a caller built SQL at runtime): run it unprepared */
            return strcmp(db->prep_text[h], sql) == 0 ? (int)h : -1;
        }
        if (db->prep_sql[h] == NULL) {
            if (db->nprep >= PREP_SLOTS * 3 / 4)
                return -1;
            *fresh = true;
            return (int)h;
        }
    }
    return -1;
}

static PGresult *
exec_prepared(ag_db_t *db, const char *sql, int nparams, const char *const *params)
{
    bool fresh = false;
    int  slot = prep_slot(db, sql, &fresh);
    char name[16];

    if (slot < 0)
        return q_params(db, sql, nparams, params);
    snprintf(name, sizeof(name), "ag%d", slot);
    if (fresh) {
        PGresult *p = await_result(db, PQsendPrepare(db->conn, name, sql, nparams, NULL));
        if (PQresultStatus(p) != PGRES_COMMAND_OK)
            return p; /* the caller reports the error; nothing was recorded */
        PQclear(p);
        if ((db->prep_text[slot] = strdup(sql)) == NULL)
            return q_params(db, sql, nparams, params);
        db->prep_sql[slot] = sql;
        db->nprep++;
    }
    return await_result(db, PQsendQueryPrepared(db->conn, name, nparams, params, NULL, NULL, 0));
}

/*
 * A connection that was idle when the server restarted looks fine until it is
 * used: the first statement fails and only then is the connection bad. That
 * statement never reached a live server, so outside a transaction it is sent
 * once more on a fresh connection; otherwise every worker process would answer
 * one 503 after each database restart.
 */
static bool
stale_connection(ag_db_t *db, bool fresh)
{
    return !fresh && !db->in_tx && db->conn && PQstatus(db->conn) != CONNECTION_OK;
}

/*
 * Put the session in plan mode `mode` (see ag_db_exec_generic). A SET inside
 * a transaction is undone by its rollback: the mode is unknown then.
 */
static PGresult *
set_plan_mode(ag_db_t *db, int mode)
{
    if (db->plan_mode == mode)
        return NULL;
    PGresult *res = q_exec(db, mode ? "SET plan_cache_mode = force_generic_plan"
                                    : "SET plan_cache_mode = auto");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        db->plan_mode = -1;
        return res; /* the caller reports it */
    }
    PQclear(res);
    db->plan_mode = mode;
    return NULL;
}

static PGresult *
exec_in_mode(ag_db_t *db, int mode, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = set_plan_mode(db, mode);
    if (res || db->conn == NULL)
        return res; /* an error, or no answer in time (the connection is gone) */
    return exec_prepared(db, sql, nparams, params);
}

static ag_status_t
exec_mode(ag_db_t *db, ag_arena_t *a, int mode, const char *sql, int nparams,
          const char *const *params, ag_db_res_t **out)
{
    ag_status_t st;
    bool        fresh = db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK;
    if ((st = ag_db_connect(db)) != AG_OK)
        return st;
    PGresult *res = exec_in_mode(db, mode, sql, nparams, params);
    if (PQresultStatus(res) == PGRES_FATAL_ERROR && stale_connection(db, fresh)) {
        PQclear(res);
        if ((st = ag_db_connect(db)) != AG_OK)
            return st;
        res = exec_in_mode(db, mode, sql, nparams, params);
    }
    if ((st = check(db, res)) != AG_OK) {
        PQclear(res);
        return st;
    }
    if (out == NULL) {
        PQclear(res);
        return AG_OK;
    }
    ag_db_res_t *r = ag_arena_alloc(a, sizeof(*r));
    if (r == NULL || ag_arena_cleanup(a, res_clear, res) != AG_OK) {
        if (r == NULL)
            PQclear(res);
        return AG_ENOMEM;
    }
    r->res = res;
    *out = r;
    return AG_OK;
}

ag_status_t
ag_db_exec(ag_db_t *db, ag_arena_t *a, const char *sql, int nparams, const char *const *params,
           ag_db_res_t **out)
{
    return exec_mode(db, a, 0, sql, nparams, params, out);
}

ag_status_t
ag_db_exec_generic(ag_db_t *db, ag_arena_t *a, const char *sql, int nparams,
                   const char *const *params, ag_db_res_t **out)
{
    return exec_mode(db, a, 1, sql, nparams, params, out);
}

ag_status_t
ag_db_exec_script(ag_db_t *db, const char *sql)
{
    ag_status_t st;
    bool        fresh = db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK;
    if ((st = ag_db_connect(db)) != AG_OK)
        return st;
    PGresult *res = q_exec(db, sql);
    if (PQresultStatus(res) == PGRES_FATAL_ERROR && stale_connection(db, fresh)) {
        PQclear(res);
        if ((st = ag_db_connect(db)) != AG_OK)
            return st;
        res = q_exec(db, sql);
    }
    st = check(db, res);
    PQclear(res);
    return st;
}

ag_status_t
ag_db_health(ag_db_t *db)
{
    ag_status_t st = ag_db_exec_script(db, "SELECT 1");
    return st == AG_OK ? AG_OK : AG_EUNAVAIL;
}

ag_status_t
ag_db_begin(ag_db_t *db)
{
    ag_status_t st = ag_db_exec_script(db, "BEGIN");
    db->in_tx = st == AG_OK;
    db->tx_plan_mode = db->plan_mode;
    return st;
}

ag_status_t
ag_db_commit(ag_db_t *db)
{
    ag_status_t st = ag_db_exec_script(db, "COMMIT");
    db->in_tx = false;
    /* COMMIT of a failed transaction rolls back, SETs included: ask again */
    if (db->plan_mode != db->tx_plan_mode)
        db->plan_mode = -1;
    return st;
}

void
ag_db_rollback(ag_db_t *db)
{
    db->in_tx = false;
    db->plan_mode = -1; /* a SET inside the transaction is undone */
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
        return; /* nothing to roll back: the server ended the transaction */
    PGresult *res = q_exec(db, "ROLLBACK");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        ag_log_warn("db: rollback failed: %s", PQresultErrorMessage(res));
    PQclear(res);
}

const char *
ag_db_error(const ag_db_t *db)
{
    return db->err;
}
const char *
ag_db_constraint(const ag_db_t *db)
{
    return db->constraint;
}

int
ag_db_rows(const ag_db_res_t *r)
{
    return PQntuples(r->res);
}

int64_t
ag_db_affected(const ag_db_res_t *r)
{
    const char *s = PQcmdTuples(r->res);
    return s && *s ? strtoll(s, NULL, 10) : 0;
}

int
ag_db_col(const ag_db_res_t *r, const char *name)
{
    return PQfnumber(r->res, name);
}
bool
ag_db_isnull(const ag_db_res_t *r, int row, int col)
{
    return PQgetisnull(r->res, row, col);
}

const char *
ag_db_val(const ag_db_res_t *r, int row, int col)
{
    return PQgetisnull(r->res, row, col) ? NULL : PQgetvalue(r->res, row, col);
}

int64_t
ag_db_i64(const ag_db_res_t *r, int row, int col)
{
    const char *v = ag_db_val(r, row, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

bool
ag_db_bool(const ag_db_res_t *r, int row, int col)
{
    const char *v = ag_db_val(r, row, col);
    return v && v[0] == 't';
}
