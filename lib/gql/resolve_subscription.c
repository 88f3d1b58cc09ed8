/*
 * lib/gql/resolve_subscription.c — Subscription.channelEvents and its event's
 * post, run by agora-wsd (wsd/gql_run.c) once per event and selection; and
 * what the programs share about running a request: the viewer mark and the
 * configured limits.
 */
#include "gql/gql.h"

#include <string.h>

int64_t
gql_viewer(ag_graphql_info_t *info)
{
    GQL_CTX(info)->viewer_read = true;
    return GQL_CTX(info)->user_id;
}

void
gql_options(const ag_config_t *cfg, ag_graphql_options_t *o)
{
    memset(o, 0, sizeof(*o));
    o->max_depth = (int)ag_config_int(cfg, AG_CFG_graphql_max_depth);
    o->max_cost = (long)ag_config_int(cfg, AG_CFG_graphql_max_cost);
    o->max_doc_bytes = (size_t)ag_config_int(cfg, AG_CFG_graphql_body_max);
    o->max_root_fields = (int)ag_config_int(cfg, AG_CFG_graphql_max_root_fields);
    o->max_aliases = (int)ag_config_int(cfg, AG_CFG_graphql_max_aliases);
    o->page_max = (int)ag_config_int(cfg, AG_CFG_page_limit_max);
    o->max_memory = (size_t)ag_config_int(cfg, AG_CFG_graphql_memory_max);
}

/* The root field: the event being delivered. Over HTTP there is none. */
ag_status_t
gql_s_channel_events(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                     ag_graphql_value_t *out)
{
    gql_event_t *ev = GQL_CTX(info)->event;
    (void)parent;
    if (ev && ev->probe) {
        if (!gql_arg_id(info, "channelId", &ev->channel_id))
            return gql_fail(info, AG_EBADREQ, "bad_request", "channelId must be a channel id");
        if (ag_json_get_i64(info->args, "seq", &ev->seq) == AG_OK) {
            if (ev->seq < 0)
                return gql_fail(info, AG_EBADREQ, "bad_request", "seq must not be negative");
            ev->has_seq = true;
        }
        ev->probe_ok = true;
        return AG_OK; /* null: the probe's result is not sent */
    }
    if (ev == NULL || ev->event == NULL)
        return gql_fail(info, AG_EBADREQ, "bad_request",
                        "subscriptions are served over WebSocket at /graphql "
                        "(subprotocol graphql-transport-ws), not over HTTP");
    *out = ag_graphql_json(ev->event);
    return AG_OK;
}

/* The id of the post an event is about: postId (comment_*), messageId (message_*), or
 * targetId (reaction: a post's, else no post is found). */
static const char *
event_post_id(const ag_json_t *e)
{
    const char *id = NULL, *type = NULL;
    if (ag_json_get_str(e, "postId", &id) == AG_OK && id)
        return id;
    if (ag_json_get_str(e, "type", &type) == AG_OK && type && strcmp(type, "reaction") == 0)
        return ag_json_get_str(e, "targetId", &id) == AG_OK ? id : NULL;
    if (ag_json_get_str(e, "type", &type) == AG_OK && type &&
        (strcmp(type, "channel_message") == 0 || strncmp(type, "message_", 8) == 0) &&
        strcmp(type, "message_deleted") != 0 && ag_json_get_str(e, "messageId", &id) == AG_OK)
        return id;
    return NULL;
}

/*
 * ChannelEvent.post: loaded once per event into the event's own arena, whatever
 * number of selections read it; each execution renders it into its own arena.
 * The subscriber's right to read the channel was checked when it subscribed and
 * is checked again when it leaves (agora-wsd detaches it).
 */
ag_status_t
gql_f_event_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    gql_event_t *ev = GQL_CTX(info)->event;
    const char  *id;

    if (ev == NULL || parent->kind != AG_GRAPHQL_JSON || (id = event_post_id(parent->json)) == NULL)
        return AG_OK;
    if (!ev->post_loaded) {
        ev->post_loaded = true;
        ev->post_st = ag_content_post_get(GQL_CTX(info)->env->content, ev->arena, id, &ev->post);
        if (ev->post_st == AG_ENOTFOUND || ev->post_st == AG_EBADREQ) { /* gone, or not a post id */
            ev->post = NULL;
            ev->post_st = AG_OK;
        }
    }
    if (ev->post_st != AG_OK)
        return gql_store_fail(info, ev->post_st);
    if (ev->post == NULL)
        return AG_OK;
    gql_memo_authors(info, ev->post, 1);
    *out = ag_graphql_json(gql_post_json(info->arena, ev->post));
    return AG_OK;
}
