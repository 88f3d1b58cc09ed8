/*
 * lib/model/access.c — who may do what on a channel: the one place where the
 * rules are written (model.h, "who may do what on a channel"). The facts come
 * from one query (ag_channel_access, or the content store's joined read for
 * GraphQL); the rules read only the facts, so REST, GraphQL, agora-wsd and the
 * workers cannot disagree.
 */
#include "model/model_int.h"

#include <string.h>

ag_status_t
ag_channel_access(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                  ag_channel_access_t *out)
{
    char         cid[24], uid[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    const char *p[] = {ag_model__id(cid, channel_id), ag_model__id(uid, user_id)};
    st = ag_db_exec_generic(
        m->db, a,
        "SELECT c.visibility = 'public', m.role FROM channels c "
        "LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $2::bigint "
        "WHERE c.id = $1::bigint",
        2, p, &r);
    if (st != AG_OK)
        return st;
    out->exists = ag_db_rows(r) == 1;
    out->is_public = out->exists && ag_db_bool(r, 0, 0);
    out->role = out->exists ? ag_db_val(r, 0, 1) : NULL;
    return AG_OK;
}

static bool
is_role(const char *role, const char *want)
{
    return role && strcmp(role, want) == 0;
}

/* The "owner or admin" rule, written once. */
static bool
manages(const ag_channel_access_t *acc)
{
    return is_role(acc->role, "owner") || is_role(acc->role, "admin");
}

static bool
readable(const ag_channel_access_t *acc)
{
    return acc->exists && (acc->is_public || acc->role != NULL);
}

static ag_status_t
refuse(ag_status_t st, const char *msg, const char **why)
{
    *why = msg;
    return st;
}

enum { READER, MEMBER, MANAGER, OWNER };

static const struct {
    int         who;
    const char *refusal;
} verbs[] = {
#define AG__ACCESS_DEF(v, who, refusal) [AG_ACCESS_##v] = {who, refusal},
    AG_ACCESS_VERBS(AG__ACCESS_DEF)
#undef AG__ACCESS_DEF
};

ag_status_t
ag_access_check(const ag_channel_access_t *acc, ag_access_verb_t verb, const char **why)
{
    bool may;

    /* a private channel is not found by outsiders, whatever they ask (CONTRACT §5) */
    if (!readable(acc))
        return refuse(
            AG_ENOTFOUND,
            acc->exists ? "you are not a member of this private channel" : "no such channel", why);
    switch (verbs[verb].who) {
    case READER:
        may = true;
        break;
    case MEMBER:
        may = acc->role != NULL;
        break;
    case MANAGER:
        may = manages(acc);
        break;
    default:
        may = is_role(acc->role, "owner");
        break;
    }
    return may ? AG_OK : refuse(AG_EFORBIDDEN, verbs[verb].refusal, why);
}

const char *
ag_access_refusal(ag_access_verb_t verb)
{
    return verbs[verb].refusal;
}

static const char owner_moves[] = "the owner's role changes only with the ownership: "
                                  "POST /channels/{id}/owner names the new owner";

ag_status_t
ag_access_member_set(const ag_channel_access_t *acc, const char *target_role, bool self,
                     const char *role, const char **why)
{
    ag_status_t st;

    if ((st = ag_access_check(acc, AG_ACCESS_READ, why)) != AG_OK)
        return st;
    if (target_role == NULL) { /* a new member */
        if (manages(acc))
            return AG_OK;
        if (!self || !acc->is_public)
            return refuse(AG_EFORBIDDEN,
                          "only the owner or an admin may add members to this channel", why);
        if (role && strcmp(role, "member") != 0)
            return refuse(AG_EFORBIDDEN, "only the owner or an admin may grant roles", why);
        return AG_OK;
    }
    if (!self && !manages(acc))
        return refuse(AG_EFORBIDDEN, "only the owner or an admin may change members", why);
    if (role == NULL || (self && strcmp(role, target_role) == 0))
        return AG_OK; /* no change: PUT is idempotent for a member */
    if (is_role(target_role, "owner"))
        return refuse(self ? AG_ECONFLICT : AG_EFORBIDDEN, owner_moves, why);
    if (self)
        return strcmp(role, "member") == 0
                   ? AG_OK
                   : refuse(AG_EFORBIDDEN, "only the owner or an admin may grant roles", why);
    if (is_role(target_role, "admin") && !is_role(acc->role, "owner"))
        return refuse(AG_EFORBIDDEN, "only the owner may change an admin's role", why);
    return AG_OK;
}

ag_status_t
ag_access_member_remove(const ag_channel_access_t *acc, const char *target_role, bool self,
                        const char **why)
{
    ag_status_t st;

    if ((st = ag_access_check(acc, AG_ACCESS_READ, why)) != AG_OK)
        return st;
    if (!self && !manages(acc))
        return refuse(AG_EFORBIDDEN, "only the owner or an admin may remove others", why);
    if (target_role == NULL)
        return AG_OK; /* not a member: nothing to remove */
    if (is_role(target_role, "owner"))
        return refuse(self ? AG_ECONFLICT : AG_EFORBIDDEN,
                      "the owner cannot leave or be removed; transfer the ownership "
                      "(POST /channels/{id}/owner) or delete the channel",
                      why);
    if (is_role(target_role, "admin") && !self && !is_role(acc->role, "owner"))
        return refuse(AG_EFORBIDDEN, "only the owner may remove an admin", why);
    return AG_OK;
}

ag_status_t
ag_access_post_delete(const ag_channel_access_t *acc, bool author, const char **why)
{
    ag_status_t st;

    if ((st = ag_access_check(acc, AG_ACCESS_READ, why)) != AG_OK)
        return st;
    if (author || manages(acc))
        return AG_OK;
    return refuse(AG_EFORBIDDEN,
                  "only the author, the channel's owner or an admin may delete a post", why);
}

ag_status_t
ag_access_post_edit(const ag_channel_access_t *acc, bool author, const char **why)
{
    ag_status_t st;

    if ((st = ag_access_check(acc, AG_ACCESS_READ, why)) != AG_OK)
        return st;
    return author ? AG_OK : refuse(AG_EFORBIDDEN, "only the author may edit it", why);
}

ag_status_t
ag_access_dm(int64_t user_id, int64_t from_id, int64_t to_id, bool change, const char **why)
{
    if (user_id != from_id && user_id != to_id)
        return refuse(AG_ENOTFOUND, "not your message", why);
    if (change && user_id != from_id)
        return refuse(AG_EFORBIDDEN, "only the sender may change a message", why);
    return AG_OK;
}

ag_status_t
ag_access_attachment_read(ag_model_t *m, ag_arena_t *a, const ag_attachment_t *att, int64_t user_id,
                          bool *allowed)
{
    ag_channel_access_t acc;
    const char         *why;
    ag_status_t         st;

    *allowed = false;
    if (att->message_id == NULL) /* not posted yet: the uploader's alone */
        *allowed = att->owner_id == user_id;
    else if (att->channel_id == 0)
        *allowed = ag_access_dm(user_id, att->dm_from, att->dm_to, false, &why) == AG_OK;
    else if ((st = ag_channel_access(m, a, att->channel_id, user_id, &acc)) != AG_OK)
        return st;
    else
        *allowed = ag_access_check(&acc, AG_ACCESS_READ, &why) == AG_OK;
    return AG_OK;
}

ag_status_t
ag_access_dm_send(bool recipient_blocked_sender, bool sender_blocked_recipient, const char **why)
{
    if (recipient_blocked_sender)
        return refuse(AG_EFORBIDDEN, "this user does not accept your messages", why);
    if (sender_blocked_recipient)
        return refuse(AG_EFORBIDDEN, "you blocked this user: unblock them to send a message", why);
    return AG_OK;
}
