/* admin/admin.h — agora-admin's subcommands; each returns a process exit code. */
#ifndef ADMIN_H
#define ADMIN_H

#include "config/config.h"
#include "db/db.h"

typedef struct {
    ag_config_t *cfg;
    ag_db_t     *db;
} admin_t;

int admin_migrate(admin_t *ad);
int admin_streams(admin_t *ad);
int admin_subs(admin_t *ad, const char *user_id);
int admin_outbox(admin_t *ad);

#endif
