/*
 * lib/cache/cache.h — Redis through hiredis (synchronous, with timeouts).
 * One ag_cache_t is one connection owned by one thread; it reconnects on the
 * next call after a failure. Failures to reach Redis are AG_EUNAVAIL.
 */
#ifndef AG_CACHE_H
#define AG_CACHE_H

#include "core/core.h"
#include "config/config.h"

typedef struct ag_cache ag_cache_t;
typedef struct redisReply ag_cache_reply_t;   /* read only through the accessors below */

typedef enum {
    AG_CACHE_NIL, AG_CACHE_INT, AG_CACHE_STR, AG_CACHE_ARR, AG_CACHE_STATUS, AG_CACHE_ERR
} ag_cache_type_t;

ag_cache_t *ag_cache_new(const ag_config_t *cfg);
void        ag_cache_free(ag_cache_t *c);            /* accepts NULL */
ag_status_t ag_cache_connect(ag_cache_t *c);
ag_status_t ag_cache_health(ag_cache_t *c);          /* PING */

/*
 * Run one command given as an argument vector (binary safe). *out, when
 * non-NULL, receives the reply, registered on arena a. A Redis error reply
 * is AG_EINTERNAL with its text in ag_cache_error().
 */
ag_status_t ag_cache_cmd(ag_cache_t *c, ag_arena_t *a, ag_cache_reply_t **out, int argc,
                         const char **argv);
/* Queue several commands and read all replies (one round trip); replies are not kept. */
ag_status_t ag_cache_pipeline(ag_cache_t *c, int ncmds, const int *argcs, const char ***argvs);
/*
 * The same, keeping every reply: replies[i] is command i's reply (an error
 * reply has type AG_CACHE_ERR), registered on arena a. AG_EUNAVAIL on I/O failure.
 */
ag_status_t ag_cache_pipeline_get(ag_cache_t *c, ag_arena_t *a, int ncmds, const int *argcs,
                                  const char ***argvs, ag_cache_reply_t **replies);
const char *ag_cache_error(const ag_cache_t *c);

ag_cache_type_t   ag_cache_reply_type(const ag_cache_reply_t *r);
int64_t           ag_cache_reply_int(const ag_cache_reply_t *r);
const char       *ag_cache_reply_str(const ag_cache_reply_t *r, size_t *len);
size_t            ag_cache_reply_len(const ag_cache_reply_t *r);
ag_cache_reply_t *ag_cache_reply_at(const ag_cache_reply_t *r, size_t i);

/*
 * Fixed-window counter for rate limits: INCR key, set its expiry to window_s
 * on first hit. *count gets the new value, *ttl_s the seconds left.
 */
ag_status_t ag_cache_hit(ag_cache_t *c, const char *key, int window_s, int64_t *count,
                         int64_t *ttl_s);

#endif
