/*
 * man/gen_conf_man.c — writes the KEYS section of agora.conf(5) from the key
 * table itself (lib/config/config_keys.h), so that the manual page names
 * every key with the default and bounds the programs enforce and cannot
 * drift from them. Run at build time: `gen-conf-man > keys.roff`.
 * It expands the same X-macro as lib/config/config.c, with the same AG_SQL_DIR.
 */
#include <stdio.h>
#include <string.h>

#ifndef AG_SQL_DIR
#define AG_SQL_DIR "/usr/local/share/agora/sql"
#endif
#include "config/config_keys.h"

struct key {
    const char *name, *type, *def, *choices, *help;
    long long   min, max;
    int         secret;
};

static const struct key keys[] = {
#define ROW(name, type, def, choices, min, max, secret, help)                                      \
    {#name, #type, def, choices, help, min, max, secret},
    AG_CONFIG_KEYS(ROW)
#undef ROW
};

/* Text as roff: '-' is a hyphen only as "\-", a backslash is "\e", and a line
 * must not start with '.' or '\'' (a request). */
static void
roff(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        if (*s == '-')
            fputs("\\-", stdout);
        else if (*s == '\\')
            fputs("\\e", stdout);
        else
            putchar(*s);
    }
}

static void
bold(const char *s)
{
    fputs("\\fB", stdout);
    roff(s);
    fputs("\\fR", stdout);
}

/* "one of \fBa\fR, \fBb\fR" for an ENUM's "a|b" */
static void
choices(const char *list)
{
    char one[64];
    fputs("One of ", stdout);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, "|");
        snprintf(one, sizeof(one), "%.*s", (int)n, p);
        bold(one);
        p += n;
        if (*p == '|') {
            fputs(", ", stdout);
            p++;
        }
    }
}

static void
kind(const struct key *k)
{
    if (strcmp(k->type, "INT") == 0)
        printf("Integer from %lld to %lld", k->min, k->max);
    else if (strcmp(k->type, "BOOL") == 0)
        fputs(
            "Boolean (\\fBtrue\\fR/\\fBfalse\\fR, \\fByes\\fR/\\fBno\\fR, \\fBon\\fR/\\fBoff\\fR, "
            "\\fB1\\fR/\\fB0\\fR)",
            stdout);
    else if (strcmp(k->type, "ENUM") == 0)
        choices(k->choices);
    else
        fputs("String", stdout);
}

static void
env_name(const char *name)
{
    fputs("\\fBAGORA_", stdout);
    for (const char *p = name; *p; p++)
        putchar(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    fputs("\\fR", stdout);
}

int
main(void)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        printf(".TP\n.B %s\n", k->name);
        /* the table's help is a phrase ("log threshold"): a sentence here */
        if (k->help[0] >= 'a' && k->help[0] <= 'z')
            putchar(k->help[0] - 'a' + 'A');
        roff(k->help + (k->help[0] >= 'a' && k->help[0] <= 'z'));
        fputs(k->secret ? ". Secret: \\-\\-check\\-config prints it masked.\n.br\n" : ".\n.br\n",
              stdout);
        kind(k);
        fputs("; default ", stdout);
        if (*k->def)
            bold(k->def);
        else
            fputs("empty", stdout);
        fputs("; environment ", stdout);
        env_name(k->name);
        fputs(".\n", stdout);
    }
    return ferror(stdout) ? 1 : 0;
}
