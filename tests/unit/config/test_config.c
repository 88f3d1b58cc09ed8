/* tests/unit/config/test_config.c — config file parsing, env overrides and errors naming the key. */
#include "config/config.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static ag_status_t
load(const char *text, ag_config_t **cfg, char *err, size_t n)
{
    err[0] = '\0';
    return ag_config_load_text(text, strlen(text), "test.conf", cfg, err, n);
}

int
main(void)
{
    ag_config_t *cfg = NULL;
    char         err[512];

    ok(load("", &cfg, err, sizeof(err)) == AG_OK, "empty file gives defaults");
    is_int(ag_config_int(cfg, AG_CFG_pg_port), 55432, "default pg_port");
    is_int(ag_config_int(cfg, AG_CFG_http_port), 8080, "default http_port");
    is_str(ag_config_str(cfg, AG_CFG_log_level), "info", "default log_level");
    is_int(ag_config_int(cfg, AG_CFG_rest_body_max), 65536, "default REST body limit is 64 KiB");
    is_int(ag_config_int(cfg, AG_CFG_graphql_max_depth), 12, "default GraphQL depth is 12");
    ag_config_free(cfg);

    ok(load("# comment\n\n  pg_port = 6000  \nlog_level=debug\njwt_secret = \"a b\"\n", &cfg,
            err, sizeof(err)) == AG_OK, "comments, blank lines, spaces and quotes");
    is_int(ag_config_int(cfg, AG_CFG_pg_port), 6000, "file value read");
    is_str(ag_config_str(cfg, AG_CFG_log_level), "debug", "enum value read");
    is_str(ag_config_str(cfg, AG_CFG_jwt_secret), "a b", "quotes stripped");

    setenv("AGORA_PG_PORT", "7000", 1);
    ok(ag_config_apply_env(cfg, err, sizeof(err)) == AG_OK, "environment applied");
    is_int(ag_config_int(cfg, AG_CFG_pg_port), 7000, "AGORA_PG_PORT overrides the file");
    setenv("AGORA_REDIS_PORT", "seventy", 1);
    ok(ag_config_apply_env(cfg, err, sizeof(err)) == AG_ECONFIG, "bad env value refused");
    ok(strstr(err, "redis_port") && strstr(err, "AGORA_REDIS_PORT"),
       "env error names the key and the variable: %s", err);
    unsetenv("AGORA_REDIS_PORT");
    unsetenv("AGORA_PG_PORT");
    ag_config_free(cfg);
    cfg = NULL;

    ok(load("pg_port = 70000\n", &cfg, err, sizeof(err)) == AG_ECONFIG && cfg == NULL,
       "out of range refused");
    ok(strstr(err, "pg_port") && strstr(err, "1..65535") && strstr(err, "test.conf:1"),
       "range error names key, bounds and line: %s", err);

    ok(load("pg_prot = 5\n", &cfg, err, sizeof(err)) == AG_ECONFIG, "unknown key refused");
    ok(strstr(err, "unknown key 'pg_prot'") != NULL, "unknown key named: %s", err);

    ok(load("\n\nlog_level = loud\n", &cfg, err, sizeof(err)) == AG_ECONFIG, "bad enum refused");
    ok(strstr(err, "log_level") && strstr(err, "debug|info|warn|error") &&
       strstr(err, "test.conf:3"), "enum error lists the choices: %s", err);

    ok(load("pg_port 5\n", &cfg, err, sizeof(err)) == AG_ECONFIG, "line without = refused");
    ok(strstr(err, "expected 'key = value'") != NULL, "syntax error explained: %s", err);

    ok(load("jwt_ttl = 12abc\n", &cfg, err, sizeof(err)) == AG_ECONFIG, "non-integer refused");
    ok(strstr(err, "jwt_ttl") && strstr(err, "not an integer"), "integer error: %s", err);

    char longline[5000];
    memset(longline, 'a', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    ok(load(longline, &cfg, err, sizeof(err)) == AG_ECONFIG, "overlong line refused");

    const char nul[] = "pg_port = 1\0 2\n";
    ok(ag_config_load_text(nul, sizeof(nul) - 1, "nul.conf", &cfg, err, sizeof(err)) ==
       AG_ECONFIG, "NUL byte in a line refused");

    ok(ag_config_load("/nonexistent/agora.conf", &cfg, err, sizeof(err)) == AG_ECONFIG,
       "a named file that does not exist is an error");
    ok(strstr(err, "/nonexistent/agora.conf") != NULL, "missing file named: %s", err);

    ok(load("jwt_secret = s3cret\n", &cfg, err, sizeof(err)) == AG_OK, "secret loads");
    char  *out = NULL;
    size_t outlen = 0;
    FILE  *mf = open_memstream(&out, &outlen);
    ag_config_print(cfg, mf);
    fclose(mf);
    ok(strstr(out, "s3cret") == NULL && strstr(out, "jwt_secret = ********"),
       "--check-config masks secrets");
    free(out);
    ag_config_free(cfg);
    return done_testing();
}
