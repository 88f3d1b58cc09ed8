/*
 * lib/db/db.h — PostgreSQL access through libpq. One ag_db_t is one
 * connection owned by one thread. It connects lazily, and a broken
 * connection is re-established on the next call, so a worker survives a
 * database restart. Every statement is parameterised.
 */
#ifndef AG_DB_H
#define AG_DB_H

#include "core/core.h"
#include "config/config.h"

typedef struct ag_db     ag_db_t;
typedef struct ag_db_res ag_db_res_t;   /* a result; released with its arena */

ag_db_t    *ag_db_new(const ag_config_t *cfg);
void        ag_db_free(ag_db_t *db);                  /* accepts NULL */
/* Connect if not connected. AG_EUNAVAIL when the server cannot be reached. */
ag_status_t ag_db_connect(ag_db_t *db);
/* Round trip to the server: AG_OK or AG_EUNAVAIL. */
ag_status_t ag_db_health(ag_db_t *db);

/*
 * Run one statement with text parameters (NULL entries are SQL NULL).
 * On success *out (if non-NULL) is a result registered on arena a.
 * Failures: AG_ECONFLICT (unique violation), AG_ENOTFOUND (foreign key to a
 * missing row), AG_EBADREQ (bad input value), AG_EUNAVAIL (server gone,
 * timeout), AG_EINTERNAL (anything else; the message is in ag_db_error()).
 */
ag_status_t ag_db_exec(ag_db_t *db, ag_arena_t *a, const char *sql, int nparams,
                       const char *const *params, ag_db_res_t **out);
/*
 * ag_db_exec for a statement whose best plan does not depend on its values
 * (key lookups, keyset pages, joins on keys): PostgreSQL plans it once per
 * connection and reuses the plan (plan_cache_mode = force_generic_plan while
 * it runs). Otherwise a statement with LIMIT $n is planned again on every
 * execution, which for a 4-table page costs more than running it. The mode
 * is a session setting: switching to or from it costs one SET, so the
 * statements of a hot path should all be of one kind.
 */
ag_status_t ag_db_exec_generic(ag_db_t *db, ag_arena_t *a, const char *sql, int nparams,
                               const char *const *params, ag_db_res_t **out);
/* Run a script of several statements without parameters (migrations). */
ag_status_t ag_db_exec_script(ag_db_t *db, const char *sql);
ag_status_t ag_db_begin(ag_db_t *db);
ag_status_t ag_db_commit(ag_db_t *db);
void        ag_db_rollback(ag_db_t *db);          /* best effort; errors are logged */

const char *ag_db_error(const ag_db_t *db);       /* last error text */
const char *ag_db_constraint(const ag_db_t *db);  /* constraint of the last violation, or "" */

int         ag_db_rows(const ag_db_res_t *r);
int64_t     ag_db_affected(const ag_db_res_t *r);
int         ag_db_col(const ag_db_res_t *r, const char *name);   /* -1 when absent */
bool        ag_db_isnull(const ag_db_res_t *r, int row, int col);
const char *ag_db_val(const ag_db_res_t *r, int row, int col);   /* NULL for SQL NULL */
int64_t     ag_db_i64(const ag_db_res_t *r, int row, int col);   /* 0 for NULL */
bool        ag_db_bool(const ag_db_res_t *r, int row, int col);

#endif
