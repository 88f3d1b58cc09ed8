/* lib/cache/cache.c — hiredis wrapper with lazy (re)connect. */
#include "cache/cache.h"
#include "log/log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ag_cache {
    redisContext *ctx;
    char          host[256];
    int           port;
    char          password[256];
    int           timeout_ms;
    bool          fresh;      /* connected and not used yet */
    char          err[256];
};

ag_cache_t *
ag_cache_new(const ag_config_t *cfg)
{
    ag_cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    snprintf(c->host, sizeof(c->host), "%s", ag_config_str(cfg, AG_CFG_redis_host));
    snprintf(c->password, sizeof(c->password), "%s", ag_config_str(cfg, AG_CFG_redis_password));
    c->port = (int)ag_config_int(cfg, AG_CFG_redis_port);
    c->timeout_ms = (int)ag_config_int(cfg, AG_CFG_redis_timeout_ms);
    return c;
}

void
ag_cache_free(ag_cache_t *c)
{
    if (c == NULL)
        return;
    if (c->ctx)
        redisFree(c->ctx);
    free(c);
}

static void
drop(ag_cache_t *c)
{
    if (c->ctx) {
        snprintf(c->err, sizeof(c->err), "%s", c->ctx->errstr);
        redisFree(c->ctx);
        c->ctx = NULL;
    }
}

ag_status_t
ag_cache_connect(ag_cache_t *c)
{
    if (c->ctx && c->ctx->err == 0)
        return AG_OK;
    drop(c);
    struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
    c->ctx = redisConnectWithTimeout(c->host, c->port, tv);
    if (c->ctx == NULL) {
        snprintf(c->err, sizeof(c->err), "out of memory");
        return AG_ENOMEM;
    }
    if (c->ctx->err) {
        drop(c);
        return AG_EUNAVAIL;
    }
    redisSetTimeout(c->ctx, tv);
    c->fresh = true;
    if (*c->password) {
        redisReply *r = redisCommand(c->ctx, "AUTH %s", c->password);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject(r);
        if (!ok) {
            drop(c);
            snprintf(c->err, sizeof(c->err), "AUTH failed");
            return AG_EUNAVAIL;
        }
    }
    return AG_OK;
}

static void
reply_free(void *p)
{
    freeReplyObject(p);
}

ag_status_t
ag_cache_cmd(ag_cache_t *c, ag_arena_t *a, ag_cache_reply_t **out, int argc, const char **argv)
{
    ag_status_t st;
    if ((st = ag_cache_connect(c)) != AG_OK)
        return st;
    bool        fresh = c->fresh;
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, NULL);
    c->fresh = false;
    if (r == NULL && !fresh && (c->ctx->err == REDIS_ERR_EOF || c->ctx->err == REDIS_ERR_IO)) {
        /* an idle connection that Redis closed (restart): dial again, send once more */
        drop(c);
        if ((st = ag_cache_connect(c)) != AG_OK)
            return st;
        c->fresh = false;
        r = redisCommandArgv(c->ctx, argc, argv, NULL);
    }
    if (r == NULL) {
        drop(c);  /* I/O error or timeout: the connection state is unknown */
        return AG_EUNAVAIL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(c->err, sizeof(c->err), "%s", r->str);
        freeReplyObject(r);
        return AG_EINTERNAL;
    }
    if (out == NULL) {
        freeReplyObject(r);
        return AG_OK;
    }
    if (ag_arena_cleanup(a, reply_free, r) != AG_OK)
        return AG_ENOMEM;
    *out = r;
    return AG_OK;
}

ag_status_t
ag_cache_pipeline_get(ag_cache_t *c, ag_arena_t *a, int ncmds, const int *argcs,
                      const char ***argvs, ag_cache_reply_t **replies)
{
    ag_status_t st;
    if ((st = ag_cache_connect(c)) != AG_OK)
        return st;
    for (int attempt = 0;; attempt++) {
        bool fresh = c->fresh;
        c->fresh = false;
        for (int i = 0; i < ncmds; i++)
            if (redisAppendCommandArgv(c->ctx, argcs[i], argvs[i], NULL) != REDIS_OK) {
                drop(c);
                return AG_EUNAVAIL;
            }
        void *first = NULL;
        if (redisGetReply(c->ctx, &first) == REDIS_OK) {
            st = AG_OK;
            for (int i = 0; i < ncmds; i++) {
                void *rp = first;
                if (i > 0 && redisGetReply(c->ctx, &rp) != REDIS_OK) {
                    drop(c);  /* the replies already read are on the arena or freed */
                    return AG_EUNAVAIL;
                }
                redisReply *r = rp;
                if (r->type == REDIS_REPLY_ERROR) {
                    snprintf(c->err, sizeof(c->err), "%s", r->str);
                    st = AG_EINTERNAL;
                }
                if (replies == NULL)
                    freeReplyObject(r);
                else if (ag_arena_cleanup(a, reply_free, r) != AG_OK)
                    return AG_ENOMEM;  /* the cleanup already freed r */
                else
                    replies[i] = r;
            }
            return replies ? AG_OK : st;
        }
        /* nothing came back: a connection Redis closed while idle (restart) is
         * dialled again once and the batch resent; anything else is a failure */
        bool stale = !fresh && attempt == 0 &&
                     (c->ctx->err == REDIS_ERR_EOF || c->ctx->err == REDIS_ERR_IO);
        drop(c);
        if (!stale || ag_cache_connect(c) != AG_OK)
            return AG_EUNAVAIL;
    }
}

ag_status_t
ag_cache_pipeline(ag_cache_t *c, int ncmds, const int *argcs, const char ***argvs)
{
    return ag_cache_pipeline_get(c, NULL, ncmds, argcs, argvs, NULL);
}

ag_status_t
ag_cache_health(ag_cache_t *c)
{
    const char *argv[] = {"PING"};
    return ag_cache_cmd(c, NULL, NULL, 1, argv) == AG_OK ? AG_OK : AG_EUNAVAIL;
}

const char *ag_cache_error(const ag_cache_t *c) { return c->err; }

ag_cache_type_t
ag_cache_reply_type(const ag_cache_reply_t *r)
{
    switch (r->type) {
    case REDIS_REPLY_INTEGER: return AG_CACHE_INT;
    case REDIS_REPLY_STRING:  return AG_CACHE_STR;
    case REDIS_REPLY_ARRAY:   return AG_CACHE_ARR;
    case REDIS_REPLY_STATUS:  return AG_CACHE_STATUS;
    case REDIS_REPLY_ERROR:   return AG_CACHE_ERR;
    default:                  return AG_CACHE_NIL;
    }
}

int64_t ag_cache_reply_int(const ag_cache_reply_t *r) { return r->integer; }

const char *
ag_cache_reply_str(const ag_cache_reply_t *r, size_t *len)
{
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
        return NULL;
    if (len)
        *len = r->len;
    return r->str;
}

size_t ag_cache_reply_len(const ag_cache_reply_t *r) { return r->type == REDIS_REPLY_ARRAY ? r->elements : 0; }

ag_cache_reply_t *
ag_cache_reply_at(const ag_cache_reply_t *r, size_t i)
{
    return i < ag_cache_reply_len(r) ? r->element[i] : NULL;
}

ag_status_t
ag_cache_hit(ag_cache_t *c, const char *key, int window_s, int64_t *count, int64_t *ttl_s)
{
    ag_cache_reply_t *rep[3] = {NULL, NULL, NULL};
    ag_arena_t       *a = ag_arena_new(1024);
    ag_status_t       st;
    char              win[16];

    if (a == NULL)
        return AG_ENOMEM;
    snprintf(win, sizeof(win), "%d", window_s);
    /* INCR then EXPIRE NX in one round trip; the TTL tells Retry-After */
    const char  *incr[] = {"INCR", key};
    const char  *exp[] = {"EXPIRE", key, win, "NX"};
    const char  *ttl[] = {"TTL", key};
    const char **argvs[] = {incr, exp, ttl};
    const int    argcs[] = {2, 4, 2};
    st = ag_cache_pipeline_get(c, a, 3, argcs, argvs, rep);
    if (st == AG_OK) {
        for (int i = 0; i < 3; i++)
            if (ag_cache_reply_type(rep[i]) != AG_CACHE_INT)
                st = AG_EINTERNAL;
    }
    if (st == AG_OK) {
        *count = ag_cache_reply_int(rep[0]);
        *ttl_s = ag_cache_reply_int(rep[2]) > 0 ? ag_cache_reply_int(rep[2]) : window_s;
    }
    ag_arena_free(a);
    return st;
}
