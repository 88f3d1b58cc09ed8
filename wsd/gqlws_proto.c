/*
 * wsd/gqlws_proto.c — the client's messages of graphql-transport-ws, parsed
 * without daemon state (tests/unit: test_wsd_protocol, fuzzed with the §4
 * frames): {"type": ..., "id"?: ..., "payload"?: ...}.
 */
#include "gqlws.h"
#include "auth/auth.h"

#include <string.h>

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

static void
subscribe(ag_json_t *root, wsd_gmsg_t *out)
{
    ag_json_t *p = ag_json_get(root, "payload");

    if ((out->id = id_of(root)) == NULL)
        out->error = "subscribe needs an id of 1 to 128 characters";
    else if (p == NULL || ag_json_type(p) != AG_JSON_OBJECT)
        out->error = "subscribe needs a payload object";
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
