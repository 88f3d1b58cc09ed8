/*
 * lib/model/authz.c — who may read, write, react to, edit and delete
 * content (CONTRACT §5, §9), in one place: the GraphQL resolvers and the
 * file route ask here instead of each spelling the rule out.
 */
#include "model/model.h"

#include <string.h>

static bool
manager(const char *role)
{
    return role && (strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0);
}

bool
ag_authz_channel_content(ag_authz_verb_t verb, int64_t user_id, int64_t author_id, bool is_public,
                         const char *role)
{
    switch (verb) {
    case AG_AUTHZ_READ:
        return is_public || role != NULL;
    case AG_AUTHZ_WRITE:
    case AG_AUTHZ_REACT:
        return role != NULL;
    /* a former member keeps no right over what they wrote in a private channel */
    case AG_AUTHZ_EDIT:
        return user_id == author_id && (is_public || role != NULL);
    case AG_AUTHZ_DELETE:
        return (user_id == author_id && (is_public || role)) || manager(role);
    }
    return false; /* impossible: every verb is listed */
}

bool
ag_authz_dm(ag_authz_verb_t verb, int64_t user_id, int64_t from_id, int64_t to_id)
{
    switch (verb) {
    case AG_AUTHZ_READ:
    case AG_AUTHZ_REACT:
        return user_id == from_id || user_id == to_id;
    case AG_AUTHZ_WRITE:
    case AG_AUTHZ_EDIT:
    case AG_AUTHZ_DELETE:
        return user_id == from_id;
    }
    return false;
}

ag_status_t
ag_authz_attachment_read(ag_model_t *m, ag_arena_t *a, const ag_attachment_t *att, int64_t user_id,
                         bool *allowed)
{
    ag_channel_access_t acc;
    ag_status_t         st;

    *allowed = false;
    if (att->message_id == NULL) {
        *allowed = att->owner_id == user_id; /* not posted yet: the uploader's alone */
        return AG_OK;
    }
    if (att->channel_id == 0) {
        *allowed = ag_authz_dm(AG_AUTHZ_READ, user_id, att->dm_from, att->dm_to);
        return AG_OK;
    }
    if ((st = ag_channel_access(m, a, att->channel_id, user_id, &acc)) != AG_OK)
        return st;
    *allowed =
        acc.exists && ag_authz_channel_content(AG_AUTHZ_READ, user_id, 0, acc.is_public, acc.role);
    return AG_OK;
}
