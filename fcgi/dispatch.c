/* fcgi/dispatch.c — the route table of agora.fcgi (CONTRACT §2). */
#include "app.h"

#define PUBLIC  false
#define SIGNED  true   /* needs a valid Bearer token; req->user_id is set */

static const ag_route_t routes[] = {
    {"GET", "/api/v1/health", fcgi_health_get, PUBLIC, NULL},
    {"GET", "/api/v1/openapi.json", fcgi_openapi_get, PUBLIC, NULL},
    {"POST", "/api/v1/auth/register", fcgi_auth_register, PUBLIC, NULL},
    {"POST", "/api/v1/auth/login", fcgi_auth_login, PUBLIC, NULL},
    {"GET", "/api/v1/users/me", fcgi_users_me, SIGNED, NULL},
    {"PUT", "/api/v1/users/me/avatar", fcgi_avatar_put, SIGNED, NULL},
    {"GET", "/api/v1/users/me/blocks", fcgi_blocks_list, SIGNED, NULL},
    {"GET", "/api/v1/users", fcgi_users_list, SIGNED, NULL},
    /* a profile is fetched from its cached JSON in the auth round trip */
    {"GET", "/api/v1/users/{id}", fcgi_users_get, SIGNED, "user:{id}:json"},
    {"PATCH", "/api/v1/users/{id}", fcgi_users_patch, SIGNED, NULL},
    {"DELETE", "/api/v1/users/{id}", fcgi_users_delete, SIGNED, NULL},
    {"PUT", "/api/v1/users/{id}/follow", fcgi_follow_put, SIGNED, NULL},
    {"DELETE", "/api/v1/users/{id}/follow", fcgi_follow_delete, SIGNED, NULL},
    {"PUT", "/api/v1/users/{id}/block", fcgi_block_put, SIGNED, NULL},
    {"DELETE", "/api/v1/users/{id}/block", fcgi_block_delete, SIGNED, NULL},
    {"POST", "/api/v1/channels", fcgi_channels_create, SIGNED, NULL},
    {"GET", "/api/v1/channels", fcgi_channels_list, SIGNED, NULL},
    {"GET", "/api/v1/channels/{id}", fcgi_channels_get, SIGNED, NULL},
    {"PATCH", "/api/v1/channels/{id}", fcgi_channels_patch, SIGNED, NULL},
    {"DELETE", "/api/v1/channels/{id}", fcgi_channels_delete, SIGNED, NULL},
    {"POST", "/api/v1/channels/{id}/owner", fcgi_channels_owner, SIGNED, NULL},
    {"GET", "/api/v1/channels/{id}/members", fcgi_members_list, SIGNED, NULL},
    {"PUT", "/api/v1/channels/{id}/members/{userId}", fcgi_members_put, SIGNED, NULL},
    {"DELETE", "/api/v1/channels/{id}/members/{userId}", fcgi_members_delete, SIGNED, NULL},
    {"GET", "/api/v1/channels/{id}/stats", fcgi_stats_get, SIGNED, NULL},
    {"GET", "/api/v1/channels/{id}/notifications", fcgi_channel_level_get, SIGNED, NULL},
    {"PUT", "/api/v1/channels/{id}/notifications", fcgi_channel_level_put, SIGNED, NULL},
    {"GET", "/api/v1/notifications", fcgi_notifications_list, SIGNED, NULL},
    {"POST", "/api/v1/notifications/read", fcgi_notifications_read, SIGNED, NULL},
    /* files (CONTRACT §9); tus asks its OPTIONS without a token */
    {"OPTIONS", "/api/v1/uploads", fcgi_uploads_options, PUBLIC, NULL},
    {"POST", "/api/v1/uploads", fcgi_uploads_post, SIGNED, NULL},
    {"GET", "/api/v1/uploads/{id}", fcgi_uploads_get, SIGNED, NULL},
    {"PATCH", "/api/v1/uploads/{id}", fcgi_uploads_patch, SIGNED, NULL},
    /* files authenticate themselves: an <img> sends a cookie, not a header */
    {"GET", "/api/v1/files/{id}", fcgi_files_get, PUBLIC, NULL},
    {"GET", "/api/v1/files/{id}/thumbnail", fcgi_files_thumbnail, PUBLIC, NULL},
    /* GraphQL authenticates itself: anonymous requests may introspect */
    {"POST", "/graphql", fcgi_graphql_post, PUBLIC, NULL},
    {"GET", "/graphql", fcgi_graphql_get, PUBLIC, NULL},
    {"GET", "/graphql/schema.graphql", fcgi_graphql_sdl, PUBLIC, NULL},
};

ag_status_t
fcgi_dispatch(ag_req_t *req)
{
    ag_status_t st = ag_http_route(req, routes, AG_ARRAY_LEN(routes), fcgi_authenticate);
    if (st == AG_DECLINED)
        return ag_req_fail(req, AG_ENOTFOUND, "no route for %s %s", req->method, req->path);
    return st;
}
