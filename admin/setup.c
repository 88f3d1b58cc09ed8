/*
 * admin/setup.c — `agora-admin setup`: what a fresh host needs before the site
 * serves, each step idempotent so that it can be run again after every fix:
 *   1. the PostgreSQL role and database, created when this run may: as the
 *      local superuser (root becomes the OS user postgres and uses the
 *      server's socket) or with the configured credentials (a role that may
 *      create databases);
 *   2. the schema: `agora-admin migrate`;
 *   3. the JetStream streams: `agora-admin streams`; as root with Debian's
 *      nats-server on this host running without JetStream, JetStream is
 *      turned on in its configuration first (and the server restarted under
 *      systemd);
 *   4. under systemd, a restart of the enabled Agora units, which could not
 *      run before the schema and the streams existed.
 * A step that cannot be done is named with the commands that do it by hand,
 * and the exit status is 1.
 */
#include "admin.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Debian's PostgreSQL socket directory, for a server configured as 127.0.0.1 */
#define SETUP_PG_SOCKDIR "/var/run/postgresql"
/* Debian's nats-server: its configuration and where JetStream will keep the streams */
#define SETUP_NATS_CONF  "/etc/nats-server.conf"
#define SETUP_NATS_STORE "/var/lib/nats"

/* A host the local superuser can reach through the server's own socket. */
static bool
pg_is_local(const char *host)
{
    return host[0] == '/' || strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "::1") == 0;
}

static int
become(const struct passwd *pw)
{
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "agora-admin: cannot become OS user %s: %s\n", pw->pw_name,
                strerror(errno));
        return -1;
    }
    return 0;
}

int
admin_become_pg_user(admin_t *ad)
{
    const char    *host = ag_config_str(ad->cfg, AG_CFG_pg_host);
    struct passwd *pw;

    /* peer authentication exists only on the socket; over TCP root connects as configured */
    if (geteuid() != 0 || host[0] != '/')
        return 0;
    if ((pw = getpwnam(ag_config_str(ad->cfg, AG_CFG_pg_user))) == NULL || pw->pw_uid == 0)
        return 0;
    if (become(pw) != 0)
        return -1;
    printf("agora-admin: working as the OS user %s from here on (peer authentication on %s)\n",
           pw->pw_name, host);
    return 0;
}

/* The statement PostgreSQL's format() builds from the parameters: identifiers
 * and literals quoted by the server itself, never by us. */
static ag_status_t
exec_formatted(ag_db_t *db, ag_arena_t *a, const char *fmt_sql, int n, const char *const *p)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st = ag_db_exec(db, a, fmt_sql, n, p, &r);
    return st != AG_OK ? st : ag_db_exec_script(db, ag_db_val(r, 0, 0));
}

static ag_status_t
ensure_role(ag_db_t *db, ag_arena_t *a, const char *role, const char *password)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {role, password};

    if ((st = ag_db_exec(db, a, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, p, &r)) != AG_OK)
        return st;
    if (ag_db_rows(r) == 1) {
        printf("setup: database: role %s exists\n", role);
    } else {
        if ((st = exec_formatted(db, a, "SELECT format('CREATE ROLE %I LOGIN', $1::text)", 1, p)) !=
            AG_OK)
            return st;
        printf("setup: database: role %s created\n", role);
    }
    if (*password == '\0')
        return AG_OK;
    /* the configured password is the truth: a rerun after changing it applies it */
    if ((st =
             exec_formatted(db, a, "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                            2, p)) == AG_OK)
        printf("setup: database: password of role %s set from pg_password\n", role);
    return st;
}

static ag_status_t
ensure_database(ag_db_t *db, ag_arena_t *a, const char *name, const char *owner)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {name, owner};

    st = ag_db_exec(db, a,
                    "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1",
                    1, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 1) {
        printf("setup: database: database %s exists (owner %s)\n", name, ag_db_val(r, 0, 0));
        return AG_OK;
    }
    if ((st = exec_formatted(db, a,
                             "SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)", 2,
                             p)) == AG_OK)
        printf("setup: database: database %s created (owner %s)\n", name, owner);
    return st;
}

/*
 * Connect with cfg's server but as `user` to the database `postgres` (the
 * maintenance database every cluster has) and create what is missing.
 * make_role: also the role (needs CREATEROLE); otherwise only the database.
 */
static int
create_as(const admin_t *ad, const char *host, const char *user, const char *password,
          bool make_role)
{
    ag_config_t *cfg = NULL;
    ag_db_t     *db = NULL;
    ag_arena_t  *a = ag_arena_new(0);
    char         err[512], port[24];
    const char  *role = ag_config_str(ad->cfg, AG_CFG_pg_user);
    const char  *name = ag_config_str(ad->cfg, AG_CFG_pg_dbname);
    int          rc = 1;

    snprintf(port, sizeof(port), "%lld", (long long)ag_config_int(ad->cfg, AG_CFG_pg_port));
    if (a == NULL || ag_config_load_text("", 0, "setup", &cfg, err, sizeof(err)) != AG_OK ||
        ag_config_set(cfg, "pg_host", host, "setup", err, sizeof(err)) != AG_OK ||
        ag_config_set(cfg, "pg_port", port, "setup", err, sizeof(err)) != AG_OK ||
        ag_config_set(cfg, "pg_user", user, "setup", err, sizeof(err)) != AG_OK ||
        ag_config_set(cfg, "pg_password", password, "setup", err, sizeof(err)) != AG_OK ||
        ag_config_set(cfg, "pg_dbname", "postgres", "setup", err, sizeof(err)) != AG_OK ||
        (db = ag_db_new(cfg)) == NULL)
        goto out;
    if (ag_db_connect(db) != AG_OK) {
        printf("setup: database: cannot connect as %s to %s: %s\n", user, host, ag_db_error(db));
        goto out;
    }
    if ((make_role &&
         ensure_role(db, a, role, ag_config_str(ad->cfg, AG_CFG_pg_password)) != AG_OK) ||
        ensure_database(db, a, name, role) != AG_OK) {
        printf("setup: database: as %s: %s\n", user, ag_db_error(db));
        goto out;
    }
    rc = 0;
out:
    ag_db_free(db);
    ag_config_free(cfg);
    ag_arena_free(a);
    return rc;
}

/* As root on the database host: a child process becomes the OS user postgres,
 * the cluster's superuser under peer authentication on its socket. */
static int
create_as_superuser(const admin_t *ad)
{
    const char    *host = ag_config_str(ad->cfg, AG_CFG_pg_host);
    struct passwd *pw = getpwnam("postgres");
    pid_t          pid;
    int            status = 0;

    if (pw == NULL) {
        printf("setup: database: no OS user postgres here (PostgreSQL is not installed on this "
               "host)\n");
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0)
        return 1;
    if (pid == 0) {
        int rc = become(pw) == 0
                     ? create_as(ad, host[0] == '/' ? host : SETUP_PG_SOCKDIR, "postgres", "", true)
                     : 1;
        fflush(stdout);
        _exit(rc); /* the parent owns every other resource: release nothing twice */
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void
hint_database(const admin_t *ad)
{
    const char *role = ag_config_str(ad->cfg, AG_CFG_pg_user);
    const char *name = ag_config_str(ad->cfg, AG_CFG_pg_dbname);

    printf("setup: could not reach the database %s as %s. By hand, as PostgreSQL's superuser on "
           "its host:\n"
           "    sudo -u postgres createuser %s%s\n"
           "    sudo -u postgres createdb -O %s %s\n"
           "  then check pg_host, pg_port, pg_user and pg_password in the configuration and run\n"
           "  agora-admin setup again (with pg_host a socket directory, run it as root or as the\n"
           "  OS user %s: peer authentication maps the OS user to the role of the same name).\n",
           name, role, role, *ag_config_str(ad->cfg, AG_CFG_pg_password) ? " --pwprompt" : "", role,
           name, role);
}

/* Step 1: true when the configured role reaches the configured database. */
static bool
setup_database(admin_t *ad)
{
    const char *host = ag_config_str(ad->cfg, AG_CFG_pg_host);
    int         su = 1;

    if (geteuid() == 0 && pg_is_local(host))
        su = create_as_superuser(ad);
    if (admin_become_pg_user(ad) != 0)
        return false;
    if ((ad->db = ag_db_new(ad->cfg)) == NULL)
        return false;
    if (ag_db_connect(ad->db) != AG_OK && su != 0) {
        /* a role that exists but lacks its database: it may create it itself */
        printf("setup: database: %s\n", ag_db_error(ad->db));
        create_as(ad, host, ag_config_str(ad->cfg, AG_CFG_pg_user),
                  ag_config_str(ad->cfg, AG_CFG_pg_password), false);
    }
    if (ag_db_connect(ad->db) != AG_OK) {
        printf("setup: database: %s\n", ag_db_error(ad->db));
        hint_database(ad);
        return false;
    }
    printf("setup: database: %s reachable as %s\n", ag_config_str(ad->cfg, AG_CFG_pg_dbname),
           ag_config_str(ad->cfg, AG_CFG_pg_user));
    return true;
}

static bool
under_systemd(void)
{
    struct stat st;
    return geteuid() == 0 && stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* The client port a nats-server configuration sets ("port: N", or the port of
 * "listen: host:N"); NATS's own default otherwise. */
static long
nats_conf_port(const char *text)
{
    long port = 4222;

    for (const char *l = text; *l;) {
        const char *eol = l + strcspn(l, "\n"), *k = l + strspn(l, " \t");
        size_t      klen = strcspn(k, " \t:=\n");

        if (klen == 4 && strncmp(k, "port", 4) == 0) {
            port = strtol(k + 4 + strspn(k + 4, " \t:="), NULL, 10);
        } else if (klen == 6 && strncmp(k, "listen", 6) == 0) {
            const char *c = eol; /* "listen: host:port": the digits after the last ':' */
            while (c > k + 6 && c[-1] != ':')
                c--;
            if (c > k + 6)
                port = strtol(c, NULL, 10);
        }
        l = *eol ? eol + 1 : eol;
    }
    return port;
}

/*
 * Debian's nats-server reads SETUP_NATS_CONF, which names only a host and a
 * port: no JetStream, so no streams. As root, when the configured NATS is
 * that server (on this host, on the port that file sets) and the file has no
 * word of JetStream, turn it on there, with the store in SETUP_NATS_STORE
 * owned by the server's user. 1 when the file was changed, 0 when it is not
 * ours to change, -1 on error (printed).
 */
static int
enable_jetstream(const admin_t *ad)
{
    static const char block[] = "\n# added by agora-admin setup: Agora's streams need JetStream\n"
                                "jetstream {\n    store_dir: \"" SETUP_NATS_STORE "\"\n}\n";
    char              text[16384];
    size_t            n;
    FILE             *f;
    struct passwd    *pw = getpwnam("nats");

    if (geteuid() != 0 || *ag_config_str(ad->cfg, AG_CFG_nats_urls) ||
        !pg_is_local(ag_config_str(ad->cfg, AG_CFG_nats_host)) ||
        (f = fopen(SETUP_NATS_CONF, "r")) == NULL)
        return 0;
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (n == sizeof(text) - 1 || strcasestr(text, "jetstream") != NULL)
        return 0; /* JetStream is configured there (off, or elsewhere): the admin's choice */
    if (nats_conf_port(text) != ag_config_int(ad->cfg, AG_CFG_nats_port))
        return 0; /* the configured NATS is another server */
    if ((mkdir(SETUP_NATS_STORE, 0750) != 0 && errno != EEXIST) ||
        (pw && chown(SETUP_NATS_STORE, pw->pw_uid, pw->pw_gid) != 0) ||
        (f = fopen(SETUP_NATS_CONF, "a")) == NULL) {
        printf("setup: streams: cannot turn JetStream on in %s: %s\n", SETUP_NATS_CONF,
               strerror(errno));
        return -1;
    }
    fputs(block, f);
    if (fclose(f) != 0)
        return -1;
    printf("setup: streams: JetStream turned on in %s (store %s)\n", SETUP_NATS_CONF,
           SETUP_NATS_STORE);
    return 1;
}

static void
hint_streams(const admin_t *ad)
{
    printf("setup: could not create the streams on NATS at %s:%lld (JetStream). By hand:\n"
           "  NATS must run with JetStream, which Debian's nats-server leaves off. Add\n"
           "      jetstream { store_dir: \"/var/lib/nats\" }\n"
           "  to /etc/nats-server.conf, then\n"
           "      install -d -o nats -g nats /var/lib/nats && systemctl restart nats-server\n"
           "  (or set nats_host/nats_port/nats_urls to a server that has it) and run\n"
           "  agora-admin setup again.\n",
           ag_config_str(ad->cfg, AG_CFG_nats_host),
           (long long)ag_config_int(ad->cfg, AG_CFG_nats_port));
}

/* 0 when the command ran and exited 0 */
static int
run(const char *const argv[])
{
    pid_t pid;
    int   status = 0;

    if (posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Step 4: the units start before the schema and the streams exist (agora-wsd
 * gives up then): restart the enabled ones now that they do. */
static int
setup_services(void)
{
    static const char *units[] = {"agora-fcgi.service", "agora-wsd.service"};
    int                failed = 0;

    if (!under_systemd()) {
        printf(
            "setup: services: not root under systemd here; (re)start the FastCGI pool and "
            "agora-wsd yourself\n"
            "  (systemctl restart agora-fcgi agora-wsd, or the ExecStart lines of their units)\n");
        return 0;
    }
    for (size_t i = 0; i < AG_ARRAY_LEN(units); i++) {
        const char *enabled[] = {"/bin/systemctl", "is-enabled", "--quiet", units[i], NULL};
        const char *restart[] = {"/bin/systemctl", "restart", units[i], NULL};
        if (run(enabled) != 0) {
            printf("setup: services: %s is not enabled; left alone\n", units[i]);
        } else if (run(restart) != 0) {
            printf("setup: could not restart %s: see journalctl -u %s\n", units[i], units[i]);
            failed++;
        } else {
            printf("setup: services: %s restarted\n", units[i]);
        }
    }
    return failed;
}

/* Step 3: true when the streams exist. */
static bool
setup_streams(admin_t *ad)
{
    const char *restart[] = {"/bin/systemctl", "restart", "nats-server.service", NULL};
    int         js;

    if (admin_streams(ad) == 0)
        return true;
    if ((js = enable_jetstream(ad)) <= 0) {
        hint_streams(ad);
        return false;
    }
    if (!under_systemd()) {
        printf("setup: streams: restart nats-server so that it reads %s (systemctl restart "
               "nats-server, or its unit's ExecStart), then run agora-admin setup again\n",
               SETUP_NATS_CONF);
        return false;
    }
    if (run(restart) != 0) {
        printf("setup: could not restart nats-server: see journalctl -u nats-server\n");
        return false;
    }
    printf("setup: streams: nats-server restarted\n");
    fflush(stdout);
    for (int i = 0; i < 100 && !admin_nats_listening(ad->cfg); i++)
        usleep(100 * 1000);
    if (admin_streams(ad) == 0)
        return true;
    hint_streams(ad);
    return false;
}

int
admin_setup(admin_t *ad)
{
    int failed = 0;

    if (!setup_database(ad)) {
        printf("setup: schema: not applied (no database)\n");
        failed += 2;
    } else if (admin_migrate(ad) != 0) {
        printf("setup: could not apply the migrations (the error is above); after fixing it:\n"
               "    agora-admin migrate\n");
        failed++;
    }
    fflush(stdout);
    if (!setup_streams(ad))
        failed++;
    if (failed == 0)
        failed += setup_services();
    if (failed == 0) {
        printf("setup: done\n");
        return 0;
    }
    printf("setup: incomplete: %d step(s) above could not be done\n", failed);
    return 1;
}
