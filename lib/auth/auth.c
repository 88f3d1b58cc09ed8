/* lib/auth/auth.c — argon2id password hashes and HS256 JWTs (libjwt 1.10). */
#include "auth/auth.h"
#include "log/log.h"

#include <argon2.h>
#include <errno.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define KEY_MIN 32
#define KEY_MAX 512
#define CLOCK_SKEW_S 60

struct ag_auth {
    unsigned char key[KEY_MAX];
    size_t        keylen;
    uint32_t      t_cost, m_cost, lanes;
    int64_t       ttl;
    char          dummy_hash[AG_AUTH_HASH_MAX];
};

static ag_status_t
read_key_file(const char *path, unsigned char *key, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "config: jwt_secret_file: cannot open %s: %s", path, strerror(errno));
        return AG_ECONFIG;
    }
    size_t n = fread(key, 1, KEY_MAX, f);
    fclose(f);
    while (n && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' '))
        n--;  /* a trailing newline from an editor is not part of the key */
    *len = n;
    return AG_OK;
}

ag_status_t
ag_auth_new(const ag_config_t *cfg, ag_auth_t **out, char *err, size_t errlen)
{
    ag_auth_t  *au = calloc(1, sizeof(*au));
    const char *secret = ag_config_str(cfg, AG_CFG_jwt_secret);
    const char *file = ag_config_str(cfg, AG_CFG_jwt_secret_file);
    ag_status_t st;

    if (au == NULL)
        return AG_ENOMEM;
    if (*secret) {
        au->keylen = strlen(secret) < KEY_MAX ? strlen(secret) : KEY_MAX;
        memcpy(au->key, secret, au->keylen);
    } else if (*file) {
        if ((st = read_key_file(file, au->key, &au->keylen, err, errlen)) != AG_OK) {
            ag_auth_free(au);
            return st;
        }
    }
    if (au->keylen < KEY_MIN) {
        snprintf(err, errlen, "config: jwt_secret: the JWT key is %s (need at least %d bytes; "
                 "set jwt_secret or jwt_secret_file)", au->keylen ? "too short" : "not set", KEY_MIN);
        ag_auth_free(au);
        return AG_ECONFIG;
    }
    au->t_cost = (uint32_t)ag_config_int(cfg, AG_CFG_argon2_t_cost);
    au->m_cost = (uint32_t)ag_config_int(cfg, AG_CFG_argon2_m_cost_kib);
    au->lanes = (uint32_t)ag_config_int(cfg, AG_CFG_argon2_parallelism);
    au->ttl = ag_config_int(cfg, AG_CFG_jwt_ttl);
    if (au->m_cost < 8 * au->lanes) {
        snprintf(err, errlen, "config: argon2_m_cost_kib: must be at least 8 x argon2_parallelism");
        ag_auth_free(au);
        return AG_ECONFIG;
    }
    if (ag_auth_hash_password(au, "agora-dummy-password", au->dummy_hash) != AG_OK) {
        snprintf(err, errlen, "auth: argon2id self-test failed");
        ag_auth_free(au);
        return AG_EINTERNAL;
    }
    *out = au;
    return AG_OK;
}

void
ag_auth_free(ag_auth_t *au)
{
    if (au == NULL)
        return;
    explicit_bzero(au->key, sizeof(au->key));
    free(au);
}

ag_status_t
ag_auth_hash_password(const ag_auth_t *au, const char *password, char out[AG_AUTH_HASH_MAX])
{
    unsigned char salt[16];
    if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
        return AG_EINTERNAL;
    int rc = argon2id_hash_encoded(au->t_cost, au->m_cost, au->lanes, password, strlen(password),
                                   salt, sizeof(salt), 32, out, AG_AUTH_HASH_MAX);
    if (rc != ARGON2_OK) {
        ag_log_error("argon2id: %s", argon2_error_message(rc));
        return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? AG_ENOMEM : AG_EINTERNAL;
    }
    return AG_OK;
}

ag_status_t
ag_auth_verify_password(const char *encoded, const char *password)
{
    return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK ? AG_OK : AG_EUNAUTH;
}

void
ag_auth_burn_verify(const ag_auth_t *au, const char *password)
{
    (void)ag_auth_verify_password(au->dummy_hash, password);
}

ag_status_t
ag_auth_token_issue(const ag_auth_t *au, int64_t user_id, int64_t now_s,
                    char out[AG_AUTH_TOKEN_MAX])
{
    jwt_t      *jwt = NULL;
    char       *tok = NULL;
    char        sub[24];
    ag_status_t st = AG_EINTERNAL;

    snprintf(sub, sizeof(sub), "%lld", (long long)user_id);
    if (jwt_new(&jwt) != 0)
        return AG_ENOMEM;
    if (jwt_add_grant(jwt, "sub", sub) == 0 && jwt_add_grant(jwt, "iss", "agora") == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now_s) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now_s + au->ttl)) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, au->key, (int)au->keylen) == 0 &&
        (tok = jwt_encode_str(jwt)) != NULL && strlen(tok) < AG_AUTH_TOKEN_MAX) {
        memcpy(out, tok, strlen(tok) + 1);
        st = AG_OK;
    }
    free(tok);
    jwt_free(jwt);
    return st;
}

ag_status_t
ag_auth_token_verify(const ag_auth_t *au, const char *token, int64_t now_s, int64_t *user_id)
{
    jwt_t      *jwt = NULL;
    ag_status_t st = AG_EUNAUTH;
    int64_t     id;

    if (token == NULL || strlen(token) >= AG_AUTH_TOKEN_MAX * 4)
        return AG_EUNAUTH;
    /* jwt_decode checks the signature with the algorithm the token names, so the
     * algorithm must be pinned afterwards: only HS256 is ours (no alg confusion) */
    if (jwt_decode(&jwt, token, au->key, (int)au->keylen) != 0)
        return AG_EUNAUTH;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        goto out;
    const char *iss = jwt_get_grant(jwt, "iss");
    if (iss == NULL || strcmp(iss, "agora") != 0)
        goto out;
    errno = 0;
    long exp = jwt_get_grant_int(jwt, "exp");
    if (errno != 0 || exp <= now_s)
        goto out;
    errno = 0;
    long nbf = jwt_get_grant_int(jwt, "nbf");
    if (errno == 0 && nbf > now_s + CLOCK_SKEW_S)
        goto out;
    errno = 0;
    long iat = jwt_get_grant_int(jwt, "iat");
    if (errno == 0 && iat > now_s + CLOCK_SKEW_S)
        goto out;  /* issued in the future: not yet valid */
    const char *sub = jwt_get_grant(jwt, "sub");
    if (sub == NULL || ag_parse_i64(sub, &id) != AG_OK || id <= 0)
        goto out;
    *user_id = id;
    st = AG_OK;
out:
    jwt_free(jwt);
    return st;
}

ag_status_t
ag_auth_bearer(const char *header, const char **token)
{
    if (header == NULL || *header == '\0')
        return AG_DECLINED;
    if (strncasecmp(header, "Bearer ", 7) != 0)
        return AG_EUNAUTH;
    header += 7;
    while (*header == ' ')
        header++;
    if (*header == '\0')
        return AG_EUNAUTH;
    *token = header;
    return AG_OK;
}
