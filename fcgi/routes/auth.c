/* fcgi/routes/auth.c — POST /auth/register and /auth/login. */
#include "app.h"
#include "validate.h"

#include <stdio.h>
#include <time.h>

/* {user, token} for a user just created or signed in. */
static ag_status_t
user_and_token(ag_req_t *req, int status, const ag_user_t *u)
{
    char tok[AG_AUTH_TOKEN_MAX];
    if (ag_auth_token_issue(FCGI_APP(req)->auth, u->id, (int64_t)time(NULL), tok) != AG_OK)
        return ag_req_fail(req, AG_EINTERNAL, "token signing failed");
    ag_json_t *out = ag_json_obj();
    ag_json_set(out, "user", fcgi_user_json(u));
    ag_json_set_str(out, "token", tok);
    return ag_resp_json(req, status, out);
}

ag_status_t
fcgi_auth_register(ag_req_t *req)
{
    fcgi_app_t  *app = FCGI_APP(req);
    ag_json_t   *body = NULL;
    const char  *username = NULL, *password = NULL, *display = NULL, *why;
    char         hash[AG_AUTH_HASH_MAX], key[96], msg[96];
    bool         has_display;
    ag_user_t   *u = NULL;
    ag_status_t  st;

    snprintf(key, sizeof(key), "rl:register:ip:%.60s", req->remote_addr);
    if ((st = fcgi_rate_limit(req, key, ag_config_int(app->cfg, AG_CFG_rate_register_per_min),
                              60)) != AG_OK)
        return st;
    if ((st = ag_req_json_body(req, app->body_max, &body)) != AG_OK)
        return st;
    if (ag_json_get_str(body, "username", &username) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "username is required and must be a string");
    if (ag_json_get_str(body, "password", &password) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "password is required and must be a string");
    if ((st = fcgi_opt_str(req, body, "displayName", &display, &has_display)) != AG_OK)
        return st;
    if ((why = fcgi_check_username(username)) || (why = fcgi_check_password(password)) ||
        (display && (why = fcgi_check_text("displayName", display, 1, 64, msg, sizeof(msg)))))
        return ag_req_fail(req, AG_EBADREQ, "%s", why);
    if ((st = ag_auth_hash_password(app->auth, password, hash)) != AG_OK)
        return ag_req_fail(req, st, "password hashing failed");
    st = ag_user_create(&app->model, req->arena, username, hash, display, &u);
    if (st == AG_ECONFLICT)
        return ag_req_fail(req, AG_ECONFLICT, "username '%s' is already taken", username);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "register");
    return user_and_token(req, 201, u);
}

ag_status_t
fcgi_auth_login(ag_req_t *req)
{
    fcgi_app_t  *app = FCGI_APP(req);
    ag_json_t   *body = NULL;
    const char  *username = NULL, *password = NULL, *hash = NULL;
    char         key[128];
    ag_user_t   *u = NULL;
    ag_status_t  st;
    int64_t      max = ag_config_int(app->cfg, AG_CFG_rate_login_per_min);

    snprintf(key, sizeof(key), "rl:login:ip:%.60s", req->remote_addr);
    if ((st = fcgi_rate_limit(req, key, max, 60)) != AG_OK)
        return st;
    if ((st = ag_req_json_body(req, app->body_max, &body)) != AG_OK)
        return st;
    if (ag_json_get_str(body, "username", &username) != AG_OK ||
        ag_json_get_str(body, "password", &password) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "username and password are required strings");
    /* per username too: guessing one account's password from many addresses */
    snprintf(key, sizeof(key), "rl:login:user:%.64s", username);
    if ((st = fcgi_rate_limit(req, key, max, 60)) != AG_OK)
        return st;
    st = ag_user_credentials(&app->model, req->arena, username, &u, &hash);
    if (st == AG_ENOTFOUND) {
        ag_auth_burn_verify(app->auth, password); /* same time as a wrong password */
        return ag_req_fail(req, AG_EUNAUTH, "invalid username or password");
    }
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "login");
    if (ag_auth_verify_password(hash, password) != AG_OK)
        return ag_req_fail(req, AG_EUNAUTH, "invalid username or password");
    return user_and_token(req, 200, u);
}
