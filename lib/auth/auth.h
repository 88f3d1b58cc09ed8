/*
 * lib/auth/auth.h — passwords (argon2id) and access tokens (JWT HS256), the
 * same code in agora.fcgi, agora-wsd and the workers. Token claims (CONTRACT
 * §5): sub = user id (decimal string), iat, exp, iss "agora". Any other alg,
 * a bad signature, a past exp or a future nbf/iat is AG_EUNAUTH.
 */
#ifndef AG_AUTH_H
#define AG_AUTH_H

#include "config/config.h"
#include "core/core.h"

#define AG_AUTH_HASH_MAX  256   /* room for an encoded argon2id hash */
#define AG_AUTH_TOKEN_MAX 512   /* room for a token */

typedef struct ag_auth ag_auth_t;

/*
 * Read the key (jwt_secret, else jwt_secret_file) and the argon2 parameters.
 * A missing or short (< 32 bytes) key is AG_ECONFIG with a message naming the key.
 */
ag_status_t ag_auth_new(const ag_config_t *cfg, ag_auth_t **out, char *err, size_t errlen);
void        ag_auth_free(ag_auth_t *au);      /* accepts NULL; wipes the key */

ag_status_t ag_auth_hash_password(const ag_auth_t *au, const char *password,
                                  char out[AG_AUTH_HASH_MAX]);
/* AG_OK when password matches encoded; AG_EUNAUTH otherwise (also for a malformed hash). */
ag_status_t ag_auth_verify_password(const char *encoded, const char *password);
/* Spend the time of one verification without a user (login of an unknown name). */
void        ag_auth_burn_verify(const ag_auth_t *au, const char *password);

ag_status_t ag_auth_token_issue(const ag_auth_t *au, int64_t user_id, int64_t now_s,
                                char out[AG_AUTH_TOKEN_MAX]);
/* Verify a token at time now_s; *user_id receives sub. */
ag_status_t ag_auth_token_verify(const ag_auth_t *au, const char *token, int64_t now_s,
                                 int64_t *user_id);
/* The same, with the token's expiry (exp, seconds since the epoch): a session opened with
 * it ends there (agora-wsd). */
ag_status_t ag_auth_token_check(const ag_auth_t *au, const char *token, int64_t now_s,
                                int64_t *user_id, int64_t *exp_s);
/* "Bearer <token>" → token; AG_DECLINED when the header is empty, AG_EUNAUTH when malformed. */
ag_status_t ag_auth_bearer(const char *header, const char **token);

#endif
