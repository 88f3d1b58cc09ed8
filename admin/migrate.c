/*
 * admin/migrate.c — `agora-admin migrate`: apply sql/NNN_name.sql in order,
 * each in its own transaction, recording version and checksum. A file whose
 * checksum changed after it was applied stops the run: migrations are
 * history, a new change needs a new file. An advisory lock serialises
 * concurrent runs.
 */
#include "admin.h"
#include "log/log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK "7411062001"   /* pg_advisory lock id for migrations */

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Migration files are "<digits>_<name>.sql"; anything else in the folder is ignored. */
static bool
is_migration(const char *name, long *version)
{
    char *end;
    size_t n = strlen(name);
    if (n < 6 || strcmp(name + n - 4, ".sql") != 0 || name[0] < '0' || name[0] > '9')
        return false;
    *version = strtol(name, &end, 10);
    return *end == '_';
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ag_buf_t b;
    char chunk[8192];
    size_t n;
    if (f == NULL)
        return NULL;
    ag_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (ag_buf_append(&b, chunk, n) != AG_OK)
            break;
    fclose(f);
    *len = b.len;
    return b.data ? b.data : strdup("");
}

static ag_status_t
apply_one(ag_db_t *db, ag_arena_t *a, const char *dir, const char *name, long version,
          int *applied)
{
    char         path[1024], ver[32];
    size_t       len = 0;
    char        *sql = NULL;
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(ver, sizeof(ver), "%ld", version);
    if ((sql = slurp(path, &len)) == NULL) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", path, strerror(errno));
        return AG_ENOTFOUND;
    }
    const char *p1[] = {ver, sql};
    st = ag_db_exec(db, a,
                    "SELECT checksum = md5($2::text) AS same, name FROM schema_migrations "
                    "WHERE version = $1::int",
                    2, p1, &r);
    if (st != AG_OK)
        goto out;
    if (ag_db_rows(r) == 1) {
        if (!ag_db_bool(r, 0, 0)) {
            fprintf(stderr,
                    "migrate: %s was changed after it was applied (checksum differs); "
                    "refusing to continue. Put the change in a new migration.\n", name);
            st = AG_ECONFLICT;
        }
        goto out;  /* already applied */
    }
    if ((st = ag_db_begin(db)) != AG_OK)
        goto out;
    if ((st = ag_db_exec(db, a, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", 0, NULL,
                         NULL)) == AG_OK &&
        (st = ag_db_exec_script(db, sql)) == AG_OK) {
        const char *p2[] = {ver, name, sql};
        st = ag_db_exec(db, a,
                        "INSERT INTO schema_migrations (version, name, checksum) "
                        "VALUES ($1::int, $2, md5($3::text)) ON CONFLICT (version) DO NOTHING",
                        3, p2, NULL);
    }
    if (st == AG_OK)
        st = ag_db_commit(db);
    if (st != AG_OK) {
        fprintf(stderr, "migrate: %s failed: %s\n", name, ag_db_error(db));
        ag_db_rollback(db);
        goto out;
    }
    printf("applied %s\n", name);
    (*applied)++;
out:
    free(sql);
    return st;
}

int
admin_migrate(admin_t *ad)
{
    const char *dir = ag_config_str(ad->cfg, AG_CFG_sql_dir);
    DIR        *d = opendir(dir);
    char       *names[512];
    long        versions[512];
    size_t      n = 0;
    int         applied = 0, rc = 1;
    ag_arena_t *a = ag_arena_new(0);
    struct dirent *e;

    if (d == NULL || a == NULL) {
        fprintf(stderr, "migrate: cannot open sql_dir %s: %s\n", dir, strerror(errno));
        ag_arena_free(a);
        if (d)
            closedir(d);
        return 1;
    }
    while ((e = readdir(d)) != NULL && n < AG_ARRAY_LEN(names)) {
        long v;
        if (is_migration(e->d_name, &v))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (size_t i = 0; i < n; i++) {
        is_migration(names[i], &versions[i]);
        if (i > 0 && versions[i] == versions[i - 1]) {
            fprintf(stderr, "migrate: two migrations share version %ld: %s and %s\n",
                    versions[i], names[i - 1], names[i]);
            goto out;
        }
    }
    if (ag_db_exec_script(ad->db,
                          "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version int PRIMARY KEY, name text NOT NULL,"
                          " checksum text NOT NULL,"
                          " applied_at timestamptz NOT NULL DEFAULT now())") != AG_OK) {
        fprintf(stderr, "migrate: %s\n", ag_db_error(ad->db));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (apply_one(ad->db, a, dir, names[i], versions[i], &applied) != AG_OK)
            goto out;
        ag_arena_reset(a);
    }
    printf("migrations: %d applied, %zu up to date\n", applied, n - (size_t)applied);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    ag_arena_free(a);
    return rc;
}
