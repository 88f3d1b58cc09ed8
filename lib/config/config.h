/*
 * lib/config/config.h — the configuration of every Agora program.
 * Load order: built-in defaults, then the file (`key = value`, '#' comments),
 * then AGORA_<KEY> environment variables. Unknown keys and bad values are
 * errors whose message names the key and where it came from.
 */
#ifndef AG_CONFIG_H
#define AG_CONFIG_H

#include "core/core.h"
#include <stdio.h>

#ifndef AG_SQL_DIR
#define AG_SQL_DIR "/usr/local/share/agora/sql"
#endif

#include "config/config_keys.h"

typedef enum {
#define AG__CFG_ENUM(name, type, def, choices, min, max, secret, help) AG_CFG_##name,
    AG_CONFIG_KEYS(AG__CFG_ENUM)
#undef AG__CFG_ENUM
    AG_CFG__COUNT
} ag_cfg_key_t;

typedef struct ag_config ag_config_t;

/* Default file when neither --config nor AGORA_CONFIG names one. */
#define AG_CONFIG_DEFAULT_PATH "/etc/agora/agora.conf"

/*
 * Build a configuration. path NULL: AGORA_CONFIG, else the default path if it
 * exists (a missing default file is not an error; a missing named one is).
 * On failure *err holds a one-line message naming the key.
 */
ag_status_t ag_config_load(const char *path, ag_config_t **out, char *err, size_t errlen);
/* Defaults, then the given text as a file named srcname; no environment. For tests and fuzzing. */
ag_status_t ag_config_load_text(const char *text, size_t len, const char *srcname,
                                ag_config_t **out, char *err, size_t errlen);
/* Apply AGORA_<KEY> overrides from the environment. */
ag_status_t ag_config_apply_env(ag_config_t *cfg, char *err, size_t errlen);
/* Set one key from a string, validating it (src names the origin in errors). */
ag_status_t ag_config_set(ag_config_t *cfg, const char *key, const char *value, const char *src,
                          char *err, size_t errlen);
void        ag_config_free(ag_config_t *cfg);

const char *ag_config_str(const ag_config_t *cfg, ag_cfg_key_t key);
int64_t     ag_config_int(const ag_config_t *cfg, ag_cfg_key_t key);
bool        ag_config_bool(const ag_config_t *cfg, ag_cfg_key_t key);
const char *ag_config_key_name(ag_cfg_key_t key);

/* Print effective values as `key = value  # source`, secrets masked (--check-config). */
void ag_config_print(const ag_config_t *cfg, FILE *f);
/* Print every key with its type, default and help (--help of programs). */
void ag_config_print_keys(FILE *f);

#endif
