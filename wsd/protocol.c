/* wsd/protocol.c — client frame parsing (CONTRACT §4): JSON object, action, arguments. */
#include "protocol.h"
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
