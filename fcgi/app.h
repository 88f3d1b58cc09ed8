/*
 * fcgi/app.h — state shared by every request of one agora.fcgi process:
 * configuration, auth keys and one connection each to PostgreSQL, Redis and
 * NATS. A FastCGI process serves one request at a time, so none of it is
 * locked.
 */
#ifndef FCGI_APP_H
#define FCGI_APP_H

#include "auth/auth.h"
#include "content/content.h"
#include "cache/cache.h"
#include "config/config.h"
#include "db/db.h"
#include "events/events.h"
#include "gql/gql.h"
#include "http/http.h"
#include "model/model.h"

#include <stddef.h>

struct ag_graphql_schema;
struct ag_media;
struct ag_graphql_doc_cache;
struct gql_pq;

typedef struct {
    ag_config_t                 *cfg;
    ag_auth_t                   *auth;
    ag_model_t                   model;     /* db, cache, events */
    ag_content_t                *content;   /* posts, comments, replies, DMs */
    struct ag_media             *media;     /* uploaded files under data_dir */
    struct ag_graphql_schema    *schema;    /* built once at start */
    ag_buf_t                     sdl;       /* the schema printed, for /graphql/schema.graphql */
    struct ag_graphql_doc_cache *doc_cache; /* valid documents by query text (may be NULL) */
    struct gql_pq               *persisted; /* APQ texts of this worker and the trusted manifest */
    gql_env_t                    gql;       /* the GraphQL resolvers' view of the above */
    size_t                       body_max;
    int                          page_max;
} fcgi_app_t;

#define FCGI_APP(req) ((fcgi_app_t *)(req)->app)
#define FCGI_DB(req)  (FCGI_APP(req)->model.db)
#define FCGI_M(req)   (&FCGI_APP(req)->model)

/* middleware.c — bearer token → req->user_id (401 otherwise), and rate limits. */
ag_status_t fcgi_authenticate(ag_req_t *req);
/* Fixed-window limit on key: AG_ERATE (429 + Retry-After set) past max per window_s. */
ag_status_t fcgi_rate_limit(ag_req_t *req, const char *key, int64_t max, int window_s);
/*
 * The API token bucket (rate_api_per_sec, rate_api_burst) of key, taking
 * weight tokens (at most the burst): AG_ERATE with the seconds to wait in
 * *retry_s (no response set), AG_OK otherwise, and when Redis is down.
 */
ag_status_t fcgi_rate_take(ag_req_t *req, const char *key, int64_t weight, int64_t *retry_s);

/* render.c — the model's records as the contract's objects (CONTRACT §5). */
ag_json_t *fcgi_user_json(const ag_user_t *u);
ag_json_t *fcgi_channel_json(const ag_channel_t *c);
ag_json_t *fcgi_member_json(const ag_member_t *m);
ag_json_t *fcgi_notification_json(const ag_notification_t *n);
ag_json_t *fcgi_day_json(const ag_channel_day_t *d);
/* The same for fcgi_page_json (item: a record of the named type). */
ag_json_t *fcgi_user_item(const void *item);
ag_json_t *fcgi_channel_item(const void *item);
ag_json_t *fcgi_member_item(const void *item);
ag_json_t *fcgi_notification_item(const void *item);
/*
 * {"items":[...],"next":cursor|null} of a page of records (n of size bytes);
 * next is the int64 at cursor_off of the last item when has_next.
 * FCGI_PAGE_JSON takes all of it from a model page and the cursor's member.
 */
ag_json_t *fcgi_page_json(const void *items, size_t n, size_t size, bool has_next,
                          ag_json_t *(*one)(const void *item), size_t cursor_off);
#define FCGI_PAGE_JSON(page, one, cursor)                                                          \
    fcgi_page_json((page).items, (page).n, sizeof(*(page).items), (page).has_next, (one),          \
                   offsetof(__typeof__(*(page).items), cursor))
/* unread, mentions, readSeq and lastSeq of one channel, set on its item. */
void fcgi_attention_counts_set(ag_json_t *item, const ag_attention_counts_t *c);
/* Convert a failed model/db status into the response, with a message for 4xx. */
ag_status_t fcgi_db_fail(ag_req_t *req, ag_status_t st, const char *what);
/*
 * Keyset page parameters of a list: limit (default 20, clamped to
 * page_limit_max) and after (the previous page's next cursor, 0 when
 * absent). 400 (response set) on junk.
 */
ag_status_t fcgi_page_params(ag_req_t *req, ag_page_req_t *pg);
/*
 * The caller's access to the channel of path parameter `param`, checked for
 * verb (lib/model's rules); the refusal answered (404 "no channel <id>" to an
 * outsider, else the rule's reason). AG_OK with *id and *acc set otherwise.
 */
ag_status_t fcgi_channel_access(ag_req_t *req, const char *param, ag_access_verb_t verb,
                                int64_t *id, ag_channel_access_t *acc);
/* A refusal of lib/model's access rules as the response (AG_OK passes through). */
ag_status_t fcgi_access_fail(ag_req_t *req, ag_status_t st, const char *why, int64_t channel_id);
/* Format an id as decimal text into a 24-byte buffer. */
const char *fcgi_id(char out[24], int64_t id);

/* Route handlers, one family per file in fcgi/routes/. */
ag_status_t fcgi_health_get(ag_req_t *req);
ag_status_t fcgi_openapi_get(ag_req_t *req);
ag_status_t fcgi_auth_register(ag_req_t *req);
ag_status_t fcgi_auth_login(ag_req_t *req);
ag_status_t fcgi_users_me(ag_req_t *req);
ag_status_t fcgi_users_get(ag_req_t *req);
ag_status_t fcgi_users_list(ag_req_t *req);
ag_status_t fcgi_users_patch(ag_req_t *req);
ag_status_t fcgi_users_delete(ag_req_t *req);
ag_status_t fcgi_follow_put(ag_req_t *req);
ag_status_t fcgi_follow_delete(ag_req_t *req);
ag_status_t fcgi_channels_create(ag_req_t *req);
ag_status_t fcgi_channels_list(ag_req_t *req);
ag_status_t fcgi_channels_get(ag_req_t *req);
ag_status_t fcgi_channels_patch(ag_req_t *req);
ag_status_t fcgi_channels_delete(ag_req_t *req);
ag_status_t fcgi_channels_owner(ag_req_t *req);
ag_status_t fcgi_members_list(ag_req_t *req);
ag_status_t fcgi_members_put(ag_req_t *req);
ag_status_t fcgi_members_delete(ag_req_t *req);
/* routes/attention.c: unread counts on your channel list, levels, blocks (CONTRACT §9) */
ag_status_t fcgi_attention_add_counts(ag_req_t *req, const ag_channel_page_t *page,
                                      ag_json_t *json);
ag_status_t fcgi_channel_level_get(ag_req_t *req);
ag_status_t fcgi_channel_level_put(ag_req_t *req);
ag_status_t fcgi_block_put(ag_req_t *req);
ag_status_t fcgi_block_delete(ag_req_t *req);
ag_status_t fcgi_blocks_list(ag_req_t *req);
ag_status_t fcgi_notifications_list(ag_req_t *req);
ag_status_t fcgi_notifications_read(ag_req_t *req);
ag_status_t fcgi_stats_get(ag_req_t *req);
ag_status_t fcgi_uploads_options(ag_req_t *req);
ag_status_t fcgi_uploads_post(ag_req_t *req);
ag_status_t fcgi_uploads_get(ag_req_t *req);
ag_status_t fcgi_uploads_patch(ag_req_t *req);
ag_status_t fcgi_files_get(ag_req_t *req);
ag_status_t fcgi_files_thumbnail(ag_req_t *req);
ag_status_t fcgi_avatar_put(ag_req_t *req);
ag_status_t fcgi_graphql_post(ag_req_t *req);
ag_status_t fcgi_graphql_get(ag_req_t *req);
ag_status_t fcgi_graphql_sdl(ag_req_t *req);

/* The dispatcher: routes /api/v1/... and answers 404 for the rest. */
ag_status_t fcgi_dispatch(ag_req_t *req);

#endif
