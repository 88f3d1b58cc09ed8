/* admin/main.c — agora-admin: operator commands (setup, migrate, streams, subs, outbox,
 * check-config). man/agora-admin.8.in documents the same commands and options
 * (man/test_man.sh checks). */
#include "admin.h"
#include "events/events.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: agora-admin [--config FILE] COMMAND\n"
            "Commands:\n"
            "  setup          everything a new host needs, idempotent: the PostgreSQL role and\n"
            "                 database (as the local superuser when run as root, else with the\n"
            "                 configured role), the migrations, JetStream (turned on in a local\n"
            "                 Debian nats-server) and the streams, then a restart of the enabled\n"
            "                 Agora units under systemd; names what it could not do and how to\n"
            "                 do it by hand (exit 1 then)\n"
            "  migrate        apply the numbered SQL migrations in sql_dir (idempotent)\n"
            "  streams        create or update the JetStream streams (idempotent)\n"
            "  subs USER_ID   print a user's subscribed channels (rebuilt from PostgreSQL\n"
            "                 into Redis when missing)\n"
            "  outbox         what waits to be published: events and notifications, the\n"
            "                 oldest of each; exit 1 when one is older than\n"
            "                 worker_outbox_alert_s (for monitoring), 69 when unreadable\n"
            "  check-config   print the effective configuration\n"
            "As root with pg_host a socket directory, setup, migrate, subs and outbox work as\n"
            "the OS user named pg_user, if there is one (peer authentication).\n"
            "Options:\n"
            "  --config FILE  configuration file (default $AGORA_CONFIG or %s)\n"
            "  --help         this text\n"
            "Configuration keys (each also AGORA_<KEY> in the environment):\n",
            AG_CONFIG_DEFAULT_PATH);
    ag_config_print_keys(f);
}

int
main(int argc, char **argv)
{
    const char *path = NULL, *cmd = NULL, *arg = NULL;
    char        err[512];
    admin_t     ad = {0};
    int         rc = 2;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (cmd == NULL && argv[i][0] != '-') {
            cmd = argv[i];
        } else if (arg == NULL && argv[i][0] != '-') {
            arg = argv[i];
        } else {
            fprintf(stderr, "agora-admin: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (cmd == NULL) {
        usage(stderr);
        return 2;
    }
    if (ag_config_load(path, &ad.cfg, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "agora-admin: %s\n", err);
        return 78;
    }
    ag_log_init("agora-admin", ag_config_str(ad.cfg, AG_CFG_log_level),
                ag_config_str(ad.cfg, AG_CFG_log_target));
    if (strcmp(cmd, "check-config") == 0) {
        ag_config_print(ad.cfg, stdout);
        rc = 0;
    } else if (strcmp(cmd, "setup") == 0) {
        rc = admin_setup(&ad);
    } else if (strcmp(cmd, "migrate") == 0) {
        if (admin_become_pg_user(&ad) != 0 || (ad.db = ag_db_new(ad.cfg)) == NULL)
            rc = 1;
        else if (ag_db_connect(ad.db) != AG_OK)
            fprintf(stderr, "migrate: cannot connect to PostgreSQL: %s\n", ag_db_error(ad.db));
        else
            rc = admin_migrate(&ad);
    } else if (strcmp(cmd, "subs") == 0) {
        if (admin_become_pg_user(&ad) == 0)
            ad.db = ag_db_new(ad.cfg);
        rc = ad.db ? admin_subs(&ad, arg) : 1;
    } else if (strcmp(cmd, "outbox") == 0) {
        if (admin_become_pg_user(&ad) == 0)
            ad.db = ag_db_new(ad.cfg);
        rc = ad.db ? admin_outbox(&ad) : 1;
    } else if (strcmp(cmd, "streams") == 0) {
        rc = admin_streams(&ad);
    } else {
        fprintf(stderr, "agora-admin: unknown command '%s' (see --help)\n", cmd);
    }
    if (ad.events_used)
        ag_events_shutdown();
    ag_db_free(ad.db);
    ag_config_free(ad.cfg);
    ag_log_fini();
    return rc;
}
