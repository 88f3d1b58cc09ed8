/*
 * lib/config/config.c — parsing and validation of the key table in
 * config_keys.h. A config is built once at program start and then only read.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum ktype { T_STR, T_INT, T_BOOL, T_ENUM };

struct keydef {
    const char *name;
    enum ktype  type;
    const char *def;
    const char *choices;
    int64_t     min, max;
    bool        secret;
    const char *help;
};

static const struct keydef keys[] = {
#define AG__CFG_ROW(name, type, def, choices, min, max, secret, help) \
    {#name, T_##type, def, choices, min, max, secret, help},
    AG_CONFIG_KEYS(AG__CFG_ROW)
#undef AG__CFG_ROW
};

struct value {
    char    *str;       /* owned; the canonical text */
    int64_t  num;       /* INT and BOOL */
    char     src[96];   /* "default", "file.conf:12", "AGORA_PG_PORT" */
};

struct ag_config {
    struct value v[AG_CFG__COUNT];
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int
find_key(const char *name)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool
enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    return false;
}

static ag_status_t
parse_bool(const char *v, int64_t *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) { *out = 1; return AG_OK; }
        if (strcmp(v, no[i]) == 0)  { *out = 0; return AG_OK; }
    }
    return AG_EBADREQ;
}

/* Validate and store one value; the message names the key, the value and its source. */
static ag_status_t
set_index(ag_config_t *cfg, int i, const char *value, const char *src, char *err, size_t errlen)
{
    const struct keydef *k = &keys[i];
    int64_t num = 0;

    switch (k->type) {
    case T_INT:
        if (ag_parse_i64(value, &num) != AG_OK) {
            seterr(err, errlen, "config: %s: '%s' is not an integer (from %s)", k->name, value, src);
            return AG_ECONFIG;
        }
        if (num < k->min || num > k->max) {
            seterr(err, errlen, "config: %s: %lld is out of range %lld..%lld (from %s)", k->name,
                   (long long)num, (long long)k->min, (long long)k->max, src);
            return AG_ECONFIG;
        }
        break;
    case T_BOOL:
        if (parse_bool(value, &num) != AG_OK) {
            seterr(err, errlen, "config: %s: '%s' is not a boolean (true/false) (from %s)", k->name,
                   value, src);
            return AG_ECONFIG;
        }
        break;
    case T_ENUM:
        if (!enum_has(k->choices, value)) {
            seterr(err, errlen, "config: %s: '%s' is not one of %s (from %s)", k->name, value,
                   k->choices, src);
            return AG_ECONFIG;
        }
        break;
    case T_STR:
        break;
    }
    char *copy = strdup(value);
    if (copy == NULL)
        return AG_ENOMEM;
    free(cfg->v[i].str);
    cfg->v[i].str = copy;
    cfg->v[i].num = num;
    snprintf(cfg->v[i].src, sizeof(cfg->v[i].src), "%s", src);
    return AG_OK;
}

ag_status_t
ag_config_set(ag_config_t *cfg, const char *key, const char *value, const char *src, char *err,
              size_t errlen)
{
    int i = find_key(key);
    if (i < 0) {
        seterr(err, errlen, "config: unknown key '%s' (from %s)", key, src);
        return AG_ECONFIG;
    }
    return set_index(cfg, i, value, src, err, errlen);
}

static ag_config_t *
config_defaults(void)
{
    ag_config_t *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL)
        return NULL;
    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++) {
        /* defaults are compiled in and valid by construction */
        if (set_index(cfg, (int)i, keys[i].def, "default", NULL, 0) != AG_OK) {
            ag_config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

static char *
trim(char *s, char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    *end = '\0';
    return s;
}

/* Parse `key = value` lines. The text need not be NUL-terminated. */
static ag_status_t
parse_text(ag_config_t *cfg, const char *text, size_t len, const char *srcname, char *err,
           size_t errlen)
{
    char        line[4096];
    size_t      pos = 0;
    int         lineno = 0;
    ag_status_t st;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t      n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n >= sizeof(line)) {
            seterr(err, errlen, "config: %s:%d: line longer than %zu bytes", srcname, lineno,
                   sizeof(line) - 1);
            return AG_ECONFIG;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl ? 1 : 0);
        if (memchr(line, '\0', n) != NULL) {
            seterr(err, errlen, "config: %s:%d: NUL byte in line", srcname, lineno);
            return AG_ECONFIG;
        }
        char *s = trim(line, line + n);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            seterr(err, errlen, "config: %s:%d: expected 'key = value'", srcname, lineno);
            return AG_ECONFIG;
        }
        char *key = trim(s, eq);
        char *val = trim(eq + 1, eq + 1 + strlen(eq + 1));
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        char where[96];
        snprintf(where, sizeof(where), "%.80s:%d", srcname, lineno);
        if ((st = ag_config_set(cfg, key, val, where, err, errlen)) != AG_OK)
            return st;
    }
    return AG_OK;
}

ag_status_t
ag_config_load_text(const char *text, size_t len, const char *srcname, ag_config_t **out,
                    char *err, size_t errlen)
{
    ag_config_t *cfg = config_defaults();
    ag_status_t  st;

    if (cfg == NULL)
        return AG_ENOMEM;
    if ((st = parse_text(cfg, text, len, srcname, err, errlen)) != AG_OK) {
        ag_config_free(cfg);
        return st;
    }
    *out = cfg;
    return AG_OK;
}

ag_status_t
ag_config_apply_env(ag_config_t *cfg, char *err, size_t errlen)
{
    char        name[80];
    ag_status_t st;

    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++) {
        int n = snprintf(name, sizeof(name), "AGORA_");
        for (const char *p = keys[i].name; *p && n < (int)sizeof(name) - 1; p++)
            name[n++] = (char)toupper((unsigned char)*p);
        name[n] = '\0';
        const char *v = getenv(name);
        if (v == NULL)
            continue;
        if ((st = set_index(cfg, (int)i, v, name, err, errlen)) != AG_OK)
            return st;
    }
    return AG_OK;
}

static ag_status_t
read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        seterr(err, errlen, "config: cannot open %s: %s", path, strerror(errno));
        return AG_ECONFIG;
    }
    ag_buf_t b;
    char     chunk[4096];
    size_t   n;
    ag_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > (1u << 20) || ag_buf_append(&b, chunk, n) != AG_OK) {
            seterr(err, errlen, "config: %s is larger than 1 MiB", path);
            fclose(f);
            ag_buf_fini(&b);
            return AG_ECONFIG;
        }
    }
    fclose(f);
    *text = b.data ? b.data : strdup("");
    *len = b.len;
    return *text ? AG_OK : AG_ENOMEM;
}

ag_status_t
ag_config_load(const char *path, ag_config_t **out, char *err, size_t errlen)
{
    ag_config_t *cfg = NULL;
    char        *text = NULL;
    size_t       len = 0;
    ag_status_t  st;

    if (path == NULL)
        path = getenv("AGORA_CONFIG");
    if (path == NULL && access(AG_CONFIG_DEFAULT_PATH, F_OK) == 0)
        path = AG_CONFIG_DEFAULT_PATH;
    if (path != NULL && (st = read_file(path, &text, &len, err, errlen)) != AG_OK)
        return st;
    st = ag_config_load_text(text ? text : "", len, path ? path : "(none)", &cfg, err, errlen);
    free(text);
    if (st != AG_OK)
        return st;
    if ((st = ag_config_apply_env(cfg, err, errlen)) != AG_OK) {
        ag_config_free(cfg);
        return st;
    }
    *out = cfg;
    return AG_OK;
}

void
ag_config_free(ag_config_t *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++)
        free(cfg->v[i].str);
    free(cfg);
}

const char *
ag_config_str(const ag_config_t *cfg, ag_cfg_key_t key)
{
    return cfg->v[key].str;
}

int64_t
ag_config_int(const ag_config_t *cfg, ag_cfg_key_t key)
{
    return cfg->v[key].num;
}

bool
ag_config_bool(const ag_config_t *cfg, ag_cfg_key_t key)
{
    return cfg->v[key].num != 0;
}

const char *
ag_config_key_name(ag_cfg_key_t key)
{
    return keys[key].name;
}

void
ag_config_print(const ag_config_t *cfg, FILE *f)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++) {
        const char *v = cfg->v[i].str;
        if (keys[i].secret && *v)
            v = "********";
        fprintf(f, "%s = %s  # %s\n", keys[i].name, v, cfg->v[i].src);
    }
}

void
ag_config_print_keys(FILE *f)
{
    static const char *tn[] = {"string", "integer", "boolean", "one of"};
    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++) {
        const struct keydef *k = &keys[i];
        fprintf(f, "  %-24s %s", k->name, tn[k->type]);
        if (k->type == T_ENUM)
            fprintf(f, " %s", k->choices);
        if (k->type == T_INT)
            fprintf(f, " %lld..%lld", (long long)k->min, (long long)k->max);
        fprintf(f, ", default '%s': %s\n", k->def, k->help);
    }
}
