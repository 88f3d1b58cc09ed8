/* wsd/protocol.c — client frame parsing: CONTRACT §4's (a JSON object, its action and
 * arguments) and graphql-transport-ws's ({"type", "id"?, "payload"?}). */
#include "protocol.h"
#include "auth/auth.h"
#include "events/vocab.h"
#include "json/json.h"

#include <string.h>

/* A channel id given as "45" or 45. */
bool
wsd_json_id(ag_json_t *o, const char *key, int64_t *out)
{
    ag_json_t  *v = o ? ag_json_get(o, key) : NULL;
    const char *s;
    if (v == NULL)
        return false;
    if (ag_json_type(v) == AG_JSON_INT) {
        *out = ag_json_as_i64(v);
        return *out > 0;
    }
    s = ag_json_as_str(v);
    return s && ag_parse_i64(s, out) == AG_OK && *out > 0;
}

bool
wsd_token_ok(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_'))
            return false;
    }
    return n > 0 && n <= 64;
}

void
wsd_action_parse(const char *text, size_t len, wsd_action_t *out)
{
    char        err[128];
    const char *action = NULL, *stream = NULL;
    ag_json_t  *p = ag_json_parse(text, len, 8, err, sizeof(err));

    memset(out, 0, sizeof(*out));
    out->kind = WSD_ACT_BAD;
    if (p == NULL || ag_json_type(p) != AG_JSON_OBJECT ||
        ag_json_get_str(p, "action", &action) != AG_OK) {
        out->error = "expected a JSON object with an action";
    } else if (strcmp(action, "ping") == 0) {
        out->kind = WSD_ACT_PING;
    } else if (strcmp(action, "typing") == 0) {
        if (wsd_json_id(p, "channelId", &out->channel_id))
            out->kind = WSD_ACT_TYPING;
        else
            out->error = "typing needs channelId";
    } else if (strcmp(action, "read") == 0) {
        if (wsd_json_id(p, "channelId", &out->channel_id) &&
            ag_json_get_i64(p, "seq", &out->seq) == AG_OK && out->seq > 0)
            out->kind = WSD_ACT_READ;
        else
            out->error = "read needs channelId and a positive seq";
    } else if (strcmp(action, "ack") == 0) {
        if (ag_json_get_str(p, "stream", &stream) == AG_OK &&
            ag_json_get_i64(p, "seq", &out->seq) == AG_OK &&
            (strcmp(stream, AG_EV_INBOX_DM) == 0 || strcmp(stream, AG_EV_INBOX_NOTIFY) == 0)) {
            out->kind = WSD_ACT_ACK;
            out->stream = strcmp(stream, AG_EV_INBOX_DM) == 0 ? 0 : 1;
        } else {
            out->error = "ack needs stream \"dm\" or \"notify\" and seq";
        }
    } else {
        out->kind = WSD_ACT_UNKNOWN;
        out->error = "unknown action";
    }
    ag_json_free(p);
}

bool
wsd_reaction_ok(const ag_ev_t *ev, ag_buf_t *emoji_json)
{
    ag_buf_init(emoji_json);
    if (!wsd_token_ok(ev->target_id) || ev->op == NULL ||
        (strcmp(ev->op, AG_EV_OP_ADDED) != 0 && strcmp(ev->op, AG_EV_OP_REMOVED) != 0) ||
        ev->emoji == NULL || *ev->emoji == '\0' || strlen(ev->emoji) > 64)
        return false;
    return ag_json_escape(emoji_json, ev->emoji, strlen(ev->emoji)) == AG_OK && emoji_json->data;
}

/* ---- graphql-transport-ws ------------------------------------------------------------- */
/* JSON nesting of a message: the subscribe payload's variables sit 3 levels down */
#define GMSG_DEPTH 32

static const char *
id_of(ag_json_t *root)
{
    const char *id = NULL;
    if (ag_json_get_str(root, "id", &id) != AG_OK || id == NULL || *id == '\0' ||
        strlen(id) > WSD_GQL_ID_MAX)
        return NULL;
    return id;
}

/* connection_init's payload: {"authorization": "Bearer <jwt>"} (or a bare token). */
static const char *
init_token(ag_json_t *root)
{
    ag_json_t  *p = ag_json_get(root, "payload");
    const char *v = NULL, *tok = NULL;

    if (p == NULL || ag_json_type(p) != AG_JSON_OBJECT)
        return NULL;
    if (ag_json_get_str(p, "authorization", &v) != AG_OK &&
        ag_json_get_str(p, "Authorization", &v) != AG_OK)
        return NULL;
    if (v && strncmp(v, "Bearer ", 7) != 0)
        return v;
    return v && ag_auth_bearer(v, &tok) == AG_OK ? tok : NULL;
}

/* Member key of o is absent, null, or of the given type. */
static bool
member_is(ag_json_t *o, const char *key, ag_json_type_t type)
{
    ag_json_t *v = ag_json_get(o, key);
    return v == NULL || ag_json_type(v) == AG_JSON_NULL || ag_json_type(v) == type;
}

static void
subscribe(ag_json_t *root, wsd_gmsg_t *out)
{
    ag_json_t *p = ag_json_get(root, "payload");

    if ((out->id = id_of(root)) == NULL)
        out->error = "subscribe needs an id of 1 to 128 characters";
    else if (p == NULL || ag_json_type(p) != AG_JSON_OBJECT)
        out->error = "subscribe needs a payload object";
    else if (!member_is(p, "query", AG_JSON_STRING))
        out->error = "payload.query must be a string"; /* absent: a persisted document's hash */
    else if (!member_is(p, "operationName", AG_JSON_STRING))
        out->error = "payload.operationName must be a string or null";
    else if (!member_is(p, "variables", AG_JSON_OBJECT) ||
             !member_is(p, "extensions", AG_JSON_OBJECT))
        out->error = "payload.variables and payload.extensions must be objects or null";
    else {
        out->payload = p;
        out->kind = WSD_GMSG_SUBSCRIBE;
    }
}

void
wsd_gmsg_parse(const char *text, size_t len, wsd_gmsg_t *out)
{
    char        err[64];
    const char *type = NULL;
    ag_json_t  *root = ag_json_parse(text, len, GMSG_DEPTH, err, sizeof(err));

    memset(out, 0, sizeof(*out));
    out->root = root;
    if (root == NULL || ag_json_type(root) != AG_JSON_OBJECT ||
        ag_json_get_str(root, "type", &type) != AG_OK || type == NULL) {
        out->error = "expected a JSON object with a type";
    } else if (strcmp(type, "connection_init") == 0) {
        out->kind = WSD_GMSG_INIT;
        out->token = init_token(root);
    } else if (strcmp(type, "ping") == 0) {
        out->kind = WSD_GMSG_PING;
    } else if (strcmp(type, "pong") == 0) {
        out->kind = WSD_GMSG_PONG;
    } else if (strcmp(type, "subscribe") == 0) {
        subscribe(root, out);
    } else if (strcmp(type, "complete") == 0) {
        if ((out->id = id_of(root)) != NULL)
            out->kind = WSD_GMSG_COMPLETE;
        else
            out->error = "complete needs an id";
    } else {
        out->error = "unknown message type";
    }
}
