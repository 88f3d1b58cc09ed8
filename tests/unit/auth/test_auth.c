/* tests/unit/auth/test_auth.c — password hashes and JWT verification, including forged tokens. */
#include "auth/auth.h"
#include "tap.h"

#include <jwt.h>
#include <stdlib.h>
#include <string.h>

#define KEY "0123456789abcdef0123456789abcdef-test-key"

static ag_auth_t *
make(const char *extra)
{
    char text[512], err[256];
    ag_config_t *cfg = NULL;
    ag_auth_t *au = NULL;
    snprintf(text, sizeof(text), "jwt_secret = %s\nargon2_m_cost_kib = 64\nargon2_t_cost = 1\n%s",
             KEY, extra);
    if (ag_config_load_text(text, strlen(text), "t", &cfg, err, sizeof(err)) != AG_OK)
        return NULL;
    ag_auth_new(cfg, &au, err, sizeof(err));
    ag_config_free(cfg);
    return au;
}

/* A token signed by hand, to forge what an attacker would send. */
static char *
forge(jwt_alg_t alg, const char *key, const char *sub, long iat, long exp, const char *iss)
{
    jwt_t *j = NULL;
    jwt_new(&j);
    if (sub) jwt_add_grant(j, "sub", sub);
    if (iss) jwt_add_grant(j, "iss", iss);
    jwt_add_grant_int(j, "iat", iat);
    if (exp) jwt_add_grant_int(j, "exp", exp);
    jwt_set_alg(j, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0);
    char *t = jwt_encode_str(j);
    jwt_free(j);
    return t;
}

int
main(void)
{
    char       err[256], hash[AG_AUTH_HASH_MAX], tok[AG_AUTH_TOKEN_MAX];
    int64_t    uid = 0, now = 1764000000;
    ag_auth_t *au = make("");
    ok(au != NULL, "auth set up from config");

    ok(ag_auth_hash_password(au, "correct horse", hash) == AG_OK, "password hashed");
    ok(strncmp(hash, "$argon2id$", 10) == 0, "hash is argon2id encoded: %.20s", hash);
    ok(ag_auth_verify_password(hash, "correct horse") == AG_OK, "right password verifies");
    ok(ag_auth_verify_password(hash, "wrong horse") == AG_EUNAUTH, "wrong password refused");
    ok(ag_auth_verify_password("garbage", "x") == AG_EUNAUTH, "malformed hash refused");

    ok(ag_auth_token_issue(au, 45, now, tok) == AG_OK, "token issued");
    ok(ag_auth_token_verify(au, tok, now + 10, &uid) == AG_OK && uid == 45, "token verifies, sub=45");
    ok(ag_auth_token_verify(au, tok, now + 86401, &uid) == AG_EUNAUTH, "expired token refused");

    char bad[AG_AUTH_TOKEN_MAX];
    strcpy(bad, tok);
    bad[strlen(bad) - 2] ^= 1;
    ok(ag_auth_token_verify(au, bad, now, &uid) == AG_EUNAUTH, "tampered signature refused");

    char *t = forge(JWT_ALG_HS256, "another-key-another-key-another-key!", "45", now, now + 100, "agora");
    ok(ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH, "token signed with another key refused");
    free(t);
    t = forge(JWT_ALG_HS512, KEY, "45", now, now + 100, "agora");
    ok(ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH, "HS512 with our key refused (alg pinned)");
    free(t);
    t = forge(JWT_ALG_NONE, NULL, "45", now, now + 100, "agora");
    ok(t != NULL && ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH, "alg=none refused");
    free(t);
    t = forge(JWT_ALG_HS256, KEY, "45", now, 0, "agora");
    ok(ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH, "token without exp refused");
    free(t);
    t = forge(JWT_ALG_HS256, KEY, "45", now + 3600, now + 7200, "agora");
    ok(ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH, "token issued in the future refused");
    free(t);
    t = forge(JWT_ALG_HS256, KEY, "45", now, now + 100, "evil");
    ok(ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH, "wrong issuer refused");
    free(t);
    t = forge(JWT_ALG_HS256, KEY, "abc", now, now + 100, "agora");
    ok(ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH, "non-numeric sub refused");
    free(t);
    ok(ag_auth_token_verify(au, "not.a.token", now, &uid) == AG_EUNAUTH, "garbage refused");
    ok(ag_auth_token_verify(au, "", now, &uid) == AG_EUNAUTH, "empty token refused");

    /* the verified-token cache: a hit still checks time and the whole token */
    ok(ag_auth_token_verify(au, tok, now + 10, &uid) == AG_OK && uid == 45,
       "token cache: verified token verifies again (cache hit)");
    ok(ag_auth_token_verify(au, tok, now + 86401, &uid) == AG_EUNAUTH,
       "token cache: a cached token still expires");
    ok(ag_auth_token_verify(au, bad, now, &uid) == AG_EUNAUTH,
       "token cache: a tampered copy of a cached token (same length) is refused");
    t = forge(JWT_ALG_HS256, KEY, "46", now, now + 100, "agora");
    uid = 0;
    ok(ag_auth_token_verify(au, t, now, &uid) == AG_OK && uid == 46 &&
           ag_auth_token_verify(au, t, now, &uid) == AG_OK && uid == 46,
       "token cache: another user's token gives its own sub");
    free(t);
    t = forge(JWT_ALG_HS256, KEY, "47", now + 3600, now + 7200, "agora");
    ok(ag_auth_token_verify(au, t, now + 3600, &uid) == AG_OK && uid == 47 &&
           ag_auth_token_verify(au, t, now, &uid) == AG_EUNAUTH,
       "token cache: iat in the future is checked on a hit too");
    free(t);
    /* more tokens than slots: entries are replaced, every answer stays right */
    int wrong = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 1; i <= 1500; i++) {
            char tk[AG_AUTH_TOKEN_MAX];
            if (ag_auth_token_issue(au, i, now + i, tk) != AG_OK ||
                ag_auth_token_verify(au, tk, now + i, &uid) != AG_OK || uid != i)
                wrong++;
        }
    ok(wrong == 0, "token cache: 1500 tokens twice (eviction), each gives its own sub (%d wrong)",
       wrong);
    ok(ag_auth_token_verify(au, tok, now + 10, &uid) == AG_OK && uid == 45,
       "token cache: an evicted token verifies again from scratch");

    const char *bt = NULL;
    ok(ag_auth_bearer("Bearer abc", &bt) == AG_OK && strcmp(bt, "abc") == 0, "Bearer parsed");
    ok(ag_auth_bearer("", &bt) == AG_DECLINED, "no header is anonymous");
    ok(ag_auth_bearer("Basic abc", &bt) == AG_EUNAUTH, "another scheme refused");
    ok(ag_auth_bearer("Bearer ", &bt) == AG_EUNAUTH, "empty bearer refused");
    ag_auth_free(au);

    char text[] = "jwt_secret = short\n";
    ag_config_t *cfg = NULL;
    ag_auth_t *au2 = NULL;
    ag_config_load_text(text, strlen(text), "t", &cfg, err, sizeof(err));
    ok(ag_auth_new(cfg, &au2, err, sizeof(err)) == AG_ECONFIG && au2 == NULL, "short key refused");
    ok(strstr(err, "jwt_secret") != NULL, "error names the key: %s", err);
    ag_config_free(cfg);
    return done_testing();
}
