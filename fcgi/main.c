/*
 * fcgi/main.c — agora.fcgi: the REST API under Apache. Started as a pool by
 * spawn-fcgi (mod_proxy_fcgi), or run as plain CGI where only mod_cgi exists.
 */
#include "app.h"
#include "gql/gql.h"
#include "log/log.h"
#include "media/media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: agora.fcgi [--config FILE] [--check-config] [--help]\n"
            "Agora's REST API (CONTRACT §2) as a FastCGI program; as plain CGI when\n"
            "not started by a FastCGI process manager.\n"
            "  --config FILE    configuration file (default $AGORA_CONFIG or %s)\n"
            "  --check-config   print the effective configuration and exit\n"
            "Configuration keys (each also AGORA_<KEY> in the environment):\n",
            AG_CONFIG_DEFAULT_PATH);
    ag_config_print_keys(f);
}

int
main(int argc, char **argv)
{
    const char *path = NULL;
    bool        check = false;
    char        err[512];
    fcgi_app_t  app = {0};
    int         rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = true;
        } else {
            fprintf(stderr, "agora.fcgi: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (ag_config_load(path, &app.cfg, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "agora.fcgi: %s\n", err);
        return 78; /* EX_CONFIG */
    }
    if (check) {
        ag_config_print(app.cfg, stdout);
        ag_config_free(app.cfg);
        return 0;
    }
    if (ag_log_init("agora.fcgi", ag_config_str(app.cfg, AG_CFG_log_level),
                    ag_config_str(app.cfg, AG_CFG_log_target)) != AG_OK)
        goto out;
    if (ag_auth_new(app.cfg, &app.auth, err, sizeof(err)) != AG_OK) {
        ag_log_error("%s", err);
        rc = 78;
        goto out;
    }
    app.body_max = (size_t)ag_config_int(app.cfg, AG_CFG_rest_body_max);
    app.page_max = (int)ag_config_int(app.cfg, AG_CFG_page_limit_max);
    app.model.db = ag_db_new(app.cfg);
    app.model.cache = ag_cache_new(app.cfg);
    if (app.model.db == NULL || app.model.cache == NULL)
        goto out;
    /* NATS down at start is not fatal: the connection is retried in the background */
    if (ag_events_new(app.cfg, "agora-fcgi", &app.model.events) != AG_OK)
        ag_log_warn("nats: not connected at start; events will fail with 503 until it is");
    /* the content store shares the REST side's PostgreSQL connection */
    ag_content_global_init();
    if (ag_content_open(app.cfg, app.model.db, &app.content, err, sizeof(err)) != AG_OK) {
        ag_log_error("content store: %s", err);
        goto out;
    }
    if (ag_media_new(app.cfg, argv[0], &app.media, err, sizeof(err)) != AG_OK) {
        ag_log_error("%s", err);
        rc = 78;
        goto out;
    }
    app.gql = (gql_env_t){app.cfg, &app.model, app.content, app.page_max};
    if ((app.schema = gql_schema_new(err, sizeof(err))) == NULL ||
        ag_graphql_schema_print(app.schema, &app.sdl) != AG_OK) {
        ag_log_error("graphql schema: %s", err);
        goto out;
    }
    /* clients send a handful of distinct queries: 256 texts and 4 MiB hold them all */
    if ((app.doc_cache = ag_graphql_doc_cache_new(app.schema, 256, 4u << 20)) == NULL)
        ag_log_warn("graphql: no document cache (out of memory); every query is parsed");
    if ((app.persisted = gql_pq_new(app.cfg, err, sizeof(err))) == NULL) {
        ag_log_error("graphql_trusted_documents: %s", err);
        rc = 78;
        goto out;
    }
    if (gql_pq_trusted_mode(app.persisted))
        ag_log_info("graphql: trusted documents only (%lu in the manifest)",
                    (unsigned long)gql_pq_manifest_size(app.persisted));
    rc = ag_http_serve(fcgi_dispatch, &app);
out:
    gql_pq_free(app.persisted);
    ag_graphql_doc_cache_free(app.doc_cache);
    ag_buf_fini(&app.sdl);
    ag_graphql_schema_free(app.schema);
    ag_media_free(app.media);
    ag_content_close(app.content);
    ag_content_global_fini();
    ag_events_free(app.model.events);
    ag_events_shutdown();
    ag_cache_free(app.model.cache);
    ag_db_free(app.model.db);
    ag_auth_free(app.auth);
    ag_config_free(app.cfg);
    ag_log_fini();
    return rc;
}
