/* admin/admin.h — agora-admin's subcommands; each returns a process exit code. */
#ifndef ADMIN_H
#define ADMIN_H

#include "config/config.h"
#include "db/db.h"

typedef struct {
    ag_config_t *cfg;
    ag_db_t     *db;
    bool         events_used; /* nats.c was started: shut it down at exit */
} admin_t;

int admin_migrate(admin_t *ad);
int admin_streams(admin_t *ad);
int admin_subs(admin_t *ad, const char *user_id);
int admin_outbox(admin_t *ad);
int admin_setup(admin_t *ad);
/* Whether a NATS server of the configuration accepts a TCP connection within nats_timeout_ms. */
bool admin_nats_listening(const ag_config_t *cfg);
/*
 * Run as root with pg_host a socket directory, become the OS user named
 * pg_user (when one exists): peer authentication maps the OS user to the role
 * of the same name, so the configured role is the one that connects.
 * 0, or -1 (message printed) when the switch failed.
 */
int admin_become_pg_user(admin_t *ad);

#endif
