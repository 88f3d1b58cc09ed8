/*
 * tests/unit/model/test_access.c — lib/model's access rules (access.c), the
 * one answer to "may user U do V on channel C" for REST, GraphQL, agora-wsd
 * and the workers. Pure: the rules read the facts (ag_channel_access_t) only.
 * The matrix of member management is the one README "Roles" states and
 * tests/integration/test_security.py checks end to end.
 */
#include "model/model.h"
#include "tap.h"

#include <string.h>

static const ag_channel_access_t missing = {.exists = false};
static const ag_channel_access_t priv_outsider = {.exists = true, .is_public = false};
static const ag_channel_access_t pub_outsider = {.exists = true, .is_public = true};
static const ag_channel_access_t priv_member = {.exists = true, .role = "member"};
static const ag_channel_access_t priv_admin = {.exists = true, .role = "admin"};
static const ag_channel_access_t priv_owner = {.exists = true, .role = "owner"};
static const ag_channel_access_t pub_member = {.exists = true, .is_public = true, .role = "member"};

static ag_status_t
check(const ag_channel_access_t *acc, ag_access_verb_t verb)
{
    const char *why = NULL;
    ag_status_t st = ag_access_check(acc, verb, &why);
    if (st != AG_OK && (why == NULL || *why == '\0'))
        return AG_EINTERNAL; /* every refusal must say why */
    return st;
}

static void
test_verbs(void)
{
    const char *why = NULL;

    is_int(ag_access_check(&missing, AG_ACCESS_READ, &why), AG_ENOTFOUND, "no channel: not found");
    is_str(why, "no such channel", "... said so");
    is_int(ag_access_check(&priv_outsider, AG_ACCESS_READ, &why), AG_ENOTFOUND,
           "a private channel is not found by an outsider");
    is_str(why, "you are not a member of this private channel", "... GraphQL says why");
    is_int(check(&pub_outsider, AG_ACCESS_READ), AG_OK, "anyone reads a public channel");
    is_int(check(&priv_member, AG_ACCESS_READ), AG_OK, "a member reads a private one");

    /* every verb on a private channel is "not found" to outsiders (CONTRACT §5) */
    for (int v = AG_ACCESS_READ; v <= AG_ACCESS_LEVEL; v++)
        is_int(check(&priv_outsider, (ag_access_verb_t)v), AG_ENOTFOUND,
               "verb %d on a private channel by an outsider: not found", v);

    is_int(check(&pub_outsider, AG_ACCESS_POST), AG_EFORBIDDEN, "outsiders do not post");
    is_int(check(&pub_outsider, AG_ACCESS_ANSWER), AG_EFORBIDDEN, "nor comment or reply");
    is_int(check(&pub_member, AG_ACCESS_POST), AG_OK, "members post");
    is_int(check(&priv_member, AG_ACCESS_ANSWER), AG_OK, "members comment and reply");

    is_int(check(&pub_member, AG_ACCESS_UPDATE), AG_EFORBIDDEN, "a member does not change it");
    is_int(check(&pub_outsider, AG_ACCESS_DELETE), AG_EFORBIDDEN, "an outsider does not delete it");
    is_int(check(&priv_admin, AG_ACCESS_UPDATE), AG_OK, "an admin changes it");
    is_int(check(&priv_admin, AG_ACCESS_DELETE), AG_OK, "an admin deletes it");
    is_int(check(&priv_owner, AG_ACCESS_UPDATE), AG_OK, "the owner changes it");
    is_int(check(&priv_owner, AG_ACCESS_DELETE), AG_OK, "the owner deletes it");
    is_int(check(&priv_admin, AG_ACCESS_TRANSFER), AG_EFORBIDDEN, "an admin does not hand it over");
    is_int(check(&priv_owner, AG_ACCESS_TRANSFER), AG_OK, "the owner does");
    is_str(ag_access_refusal(AG_ACCESS_TRANSFER), "only the channel's owner may hand it over",
           "a verb's refusal has its sentence");
}

/* Levels are a member's; blocks stop DMs either way (CONTRACT §9). */
static void
test_attention(void)
{
    const char *why = NULL;

    is_int(check(&pub_outsider, AG_ACCESS_LEVEL), AG_EFORBIDDEN, "an outsider has no level");
    is_int(check(&priv_outsider, AG_ACCESS_LEVEL), AG_ENOTFOUND, "nor a private channel at all");
    is_int(check(&pub_member, AG_ACCESS_LEVEL), AG_OK, "a member sets a level");
    is_int(ag_access_dm_send(false, false, &why), AG_OK, "no block: a DM goes");
    is_int(ag_access_dm_send(true, false, &why), AG_EFORBIDDEN, "the recipient blocked the sender");
    is_str(why, "this user does not accept your messages", "... said without naming the block");
    is_int(ag_access_dm_send(false, true, &why), AG_EFORBIDDEN, "the sender blocked the recipient");
    is_str(why, "you blocked this user: unblock them to send a message", "... said so");
    is_int(ag_access_dm_send(true, true, &why), AG_EFORBIDDEN, "both");
}

/* ag_access_member_set for caller role `by` on a public channel; target role, self, new role. */
static ag_status_t
set(const char *by, const char *target, bool self, const char *role)
{
    ag_channel_access_t acc = {.exists = true, .is_public = true, .role = by};
    const char         *why = NULL;
    return ag_access_member_set(&acc, target, self, role, &why);
}

static ag_status_t
rm(const char *by, const char *target, bool self)
{
    ag_channel_access_t acc = {.exists = true, .is_public = true, .role = by};
    const char         *why = NULL;
    return ag_access_member_remove(&acc, target, self, &why);
}

static void
test_members(void)
{
    const char *why = NULL;

    /* joining */
    is_int(set(NULL, NULL, true, NULL), AG_OK, "anyone joins a public channel");
    is_int(set(NULL, NULL, true, "member"), AG_OK, "... as a member");
    is_int(set(NULL, NULL, true, "admin"), AG_EFORBIDDEN, "... but not as an admin");
    is_int(ag_access_member_set(&priv_outsider, NULL, true, NULL, &why), AG_ENOTFOUND,
           "nobody joins a private channel by themselves (it is not found)");
    is_int(ag_access_member_set(&priv_member, NULL, false, NULL, &why), AG_EFORBIDDEN,
           "a member does not add others to a private channel");
    is_int(set("member", NULL, false, NULL), AG_EFORBIDDEN, "nor to a public one");
    is_int(ag_access_member_set(&priv_admin, NULL, false, "admin", &why), AG_OK,
           "an admin adds members to a private channel, with a role");
    is_int(set("owner", NULL, false, "admin"), AG_OK, "the owner adds an admin");

    /* role changes: the rule of removal */
    is_int(set("member", "member", false, NULL), AG_EFORBIDDEN,
           "a member does not touch another member's membership, even without a role");
    is_int(set("member", "member", true, NULL), AG_OK, "PUT on oneself without a role: no change");
    is_int(set("member", "member", true, "member"), AG_OK, "... or the same role");
    is_int(set("member", "member", true, "admin"), AG_EFORBIDDEN, "nobody promotes themselves");
    is_int(set("admin", "admin", true, "member"), AG_OK, "an admin steps down");
    is_int(set("admin", "member", false, "admin"), AG_OK, "an admin promotes a member");
    is_int(set("admin", "admin", false, "member"), AG_EFORBIDDEN,
           "an admin does not demote another admin");
    is_int(set("owner", "admin", false, "member"), AG_OK, "the owner demotes an admin");
    is_int(set("admin", "owner", false, "member"), AG_EFORBIDDEN, "nobody demotes the owner");
    is_int(set("owner", "owner", true, "admin"), AG_ECONFLICT,
           "the owner demoting itself contradicts the ownership: conflict");
    is_int(set("owner", "owner", true, NULL), AG_OK, "the owner's PUT without a role: no change");

    /* removal */
    is_int(rm("member", "member", true), AG_OK, "a member leaves");
    is_int(rm("member", "member", false), AG_EFORBIDDEN, "a member removes nobody else");
    is_int(rm(NULL, NULL, false), AG_EFORBIDDEN, "an outsider removes nobody, member or not");
    is_int(rm("admin", NULL, false), AG_OK, "removing a non-member: nothing to do");
    is_int(rm("admin", "member", false), AG_OK, "an admin removes a member");
    is_int(rm("admin", "admin", false), AG_EFORBIDDEN, "an admin does not remove an admin");
    is_int(rm("admin", "admin", true), AG_OK, "an admin leaves");
    is_int(rm("owner", "admin", false), AG_OK, "the owner removes an admin");
    is_int(rm("admin", "owner", false), AG_EFORBIDDEN, "nobody removes the owner");
    is_int(rm("owner", "owner", true), AG_ECONFLICT, "the owner cannot leave: conflict");
    is_int(ag_access_member_remove(&priv_outsider, "member", false, &why), AG_ENOTFOUND,
           "a private channel's members are not found by outsiders");
}

static void
test_posts(void)
{
    const char *why = NULL;

    is_int(ag_access_post_delete(&pub_member, true, &why), AG_OK, "the author deletes a post");
    is_int(ag_access_post_delete(&pub_member, false, &why), AG_EFORBIDDEN,
           "another member does not");
    ok(why && strstr(why, "author"), "... and is told who may");
    is_int(ag_access_post_delete(&priv_admin, false, &why), AG_OK, "an admin does");
    is_int(ag_access_post_delete(&priv_owner, false, &why), AG_OK, "the owner does");
    is_int(ag_access_post_delete(&priv_outsider, true, &why), AG_ENOTFOUND,
           "nobody outside a private channel, not even the author who left it");

    is_int(ag_access_post_edit(&pub_outsider, true, &why), AG_OK,
           "the author edits in a public channel they left");
    is_int(ag_access_post_edit(&priv_owner, false, &why), AG_EFORBIDDEN,
           "nobody else edits, not even the owner");
    is_int(ag_access_post_edit(&priv_outsider, true, &why), AG_ENOTFOUND,
           "an author who left a private channel keeps no right over what they wrote");
    is_int(check(&pub_member, AG_ACCESS_REACT), AG_OK, "members react");
    is_int(check(&pub_outsider, AG_ACCESS_REACT), AG_EFORBIDDEN, "readers who are not do not");
}

static void
test_dms(void)
{
    const char *why = NULL;

    is_int(ag_access_dm(1, 1, 2, false, &why), AG_OK, "the sender reads a DM");
    is_int(ag_access_dm(2, 1, 2, false, &why), AG_OK, "the recipient reads (and reacts to) it");
    is_int(ag_access_dm(3, 1, 2, false, &why), AG_ENOTFOUND, "nobody else");
    is_int(ag_access_dm(1, 1, 2, true, &why), AG_OK, "the sender edits or deletes it");
    is_int(ag_access_dm(2, 1, 2, true, &why), AG_EFORBIDDEN, "the recipient does not");
    ok(why && strstr(why, "sender"), "... and is told who may");
    is_int(ag_access_dm(3, 1, 2, true, &why), AG_ENOTFOUND, "a stranger is not told it exists");
}

int
main(void)
{
    test_verbs();
    test_attention();
    test_members();
    test_posts();
    test_dms();
    return done_testing();
}
