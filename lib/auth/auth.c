/* lib/auth/auth.c — argon2id password hashes and HS256 JWTs (libjwt 1.10). */
#include "auth/auth.h"
#include "log/log.h"

#include <argon2.h>
#include <errno.h>
#include <jwt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define KEY_MIN 32
#define KEY_MAX 512
#define CLOCK_SKEW_S 60

/*
 * Verified tokens, so that a client's next request with the same token skips
 * jwt_decode (base64, JSON, HMAC: 7 % of a worker's CPU on a GraphQL page).
 * Only what the signature proves is kept (sub, exp, nbf, iat); the time
 * checks run on every hit, so a cached token still expires on time. Sets of
 * TOKEN_WAYS slots chosen by a hash keyed with a per-process random seed, the
 * least recently used slot of a set replaced (direct mapping let two hot
 * tokens of one slot evict each other on every request); a hit compares the
 * whole token in constant time. Longer tokens are verified every time.
 */
#define TOKEN_SLOTS 512
#define TOKEN_WAYS 4
#define TOKEN_CACHED_MAX 480

typedef struct {
    int64_t user_id;
    long    exp, nbf, iat;
    bool    has_nbf, has_iat;
} claims_t;

typedef struct {
    size_t   len; /* 0: empty slot */
    uint64_t used; /* the cache's clock at the last hit or fill */
    claims_t claims;
    char     token[TOKEN_CACHED_MAX];
} token_slot_t;

struct ag_auth {
    unsigned char   key[KEY_MAX];
    size_t          keylen;
    uint32_t        t_cost, m_cost, lanes;
    int64_t         ttl;
    char            dummy_hash[AG_AUTH_HASH_MAX];
    /* agora-wsd verifies on its service thread, others may too: the cache is locked */
    pthread_mutex_t cache_mu;
    uint64_t        cache_seed;
    uint64_t        cache_clock;
    token_slot_t   *cache; /* TOKEN_SLOTS, allocated on the first verified token */
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
    pthread_mutex_init(&au->cache_mu, NULL);
    if (getrandom(&au->cache_seed, sizeof(au->cache_seed), 0) != (ssize_t)sizeof(au->cache_seed))
        au->cache_seed = (uint64_t)(uintptr_t)au ^ 0x9e3779b97f4a7c15u;
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
    if (au->cache) {
        explicit_bzero(au->cache, sizeof(*au->cache) * TOKEN_SLOTS); /* tokens are credentials */
        free(au->cache);
    }
    pthread_mutex_destroy(&au->cache_mu);
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

/* The time checks of a verified token, done on every use. */
static ag_status_t
claims_valid_at(const claims_t *c, int64_t now_s)
{
    if (c->exp <= now_s)
        return AG_EUNAUTH;
    if (c->has_nbf && c->nbf > now_s + CLOCK_SKEW_S)
        return AG_EUNAUTH;
    if (c->has_iat && c->iat > now_s + CLOCK_SKEW_S)
        return AG_EUNAUTH; /* issued in the future: not yet valid */
    return AG_OK;
}

/* What the signature proves: AG_OK with the claims, or AG_EUNAUTH. */
static ag_status_t
decode(const ag_auth_t *au, const char *token, claims_t *c)
{
    jwt_t      *jwt = NULL;
    ag_status_t st = AG_EUNAUTH;

    memset(c, 0, sizeof(*c));
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
    c->exp = jwt_get_grant_int(jwt, "exp");
    if (errno != 0)
        goto out; /* no exp: refused */
    errno = 0;
    c->nbf = jwt_get_grant_int(jwt, "nbf");
    c->has_nbf = errno == 0;
    errno = 0;
    c->iat = jwt_get_grant_int(jwt, "iat");
    c->has_iat = errno == 0;
    const char *sub = jwt_get_grant(jwt, "sub");
    if (sub == NULL || ag_parse_i64(sub, &c->user_id) != AG_OK || c->user_id <= 0)
        goto out;
    st = AG_OK;
out:
    jwt_free(jwt);
    return st;
}

static uint64_t
token_hash(uint64_t seed, const char *s, size_t n)
{
    uint64_t h = seed ^ 0xcbf29ce484222325u; /* FNV-1a from a random basis */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h ^ (h >> 29);
}

/* Equal lengths assumed; no early exit, so timing says nothing about a cached token. */
static bool
same_token(const char *a, const char *b, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

ag_status_t
ag_auth_token_verify(const ag_auth_t *au, const char *token, int64_t now_s, int64_t *user_id)
{
    int64_t exp;
    return ag_auth_token_check(au, token, now_s, user_id, &exp);
}

ag_status_t
ag_auth_token_check(const ag_auth_t *au_c, const char *token, int64_t now_s, int64_t *user_id,
                    int64_t *exp_s)
{
    ag_auth_t *au = (ag_auth_t *)au_c; /* only the cache changes: logically const */
    claims_t   c;
    size_t     len;
    bool       hit = false;

    if (token == NULL || (len = strlen(token)) >= AG_AUTH_TOKEN_MAX * 4)
        return AG_EUNAUTH;
    bool   cacheable = len > 0 && len < TOKEN_CACHED_MAX;
    size_t set = cacheable ? token_hash(au->cache_seed, token, len) % (TOKEN_SLOTS / TOKEN_WAYS)
                           : 0;
    if (cacheable) {
        pthread_mutex_lock(&au->cache_mu);
        for (size_t w = 0; au->cache && w < TOKEN_WAYS && !hit; w++) {
            token_slot_t *e = &au->cache[set * TOKEN_WAYS + w];
            if (e->len == len && same_token(e->token, token, len)) {
                c = e->claims;
                e->used = ++au->cache_clock;
                hit = true;
            }
        }
        pthread_mutex_unlock(&au->cache_mu);
    }
    if (!hit) {
        if (decode(au, token, &c) != AG_OK)
            return AG_EUNAUTH;
        if (cacheable) {
            pthread_mutex_lock(&au->cache_mu);
            if (au->cache == NULL)
                au->cache = calloc(TOKEN_SLOTS, sizeof(*au->cache));
            if (au->cache) {
                token_slot_t *e = &au->cache[set * TOKEN_WAYS];
                for (size_t w = 1; w < TOKEN_WAYS; w++) /* an empty slot (used 0) or the oldest */
                    if (au->cache[set * TOKEN_WAYS + w].used < e->used)
                        e = &au->cache[set * TOKEN_WAYS + w];
                memcpy(e->token, token, len);
                e->len = len;
                e->claims = c;
                e->used = ++au->cache_clock;
            }
            pthread_mutex_unlock(&au->cache_mu);
        }
    }
    if (claims_valid_at(&c, now_s) != AG_OK)
        return AG_EUNAUTH;
    *user_id = c.user_id;
    *exp_s = c.exp;
    return AG_OK;
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
