/* lib/model/model_int.h — what the files of lib/model share, and nothing else sees. */
#ifndef AG_MODEL_INT_H
#define AG_MODEL_INT_H

#include "model/model.h"

/* RFC 3339 UTC text of a timestamptz column, for SELECT lists */
#define AG_MODEL__TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* the columns ag_model__user reads, in order */
#define AG_MODEL__USER_COLS                                                                        \
    "u.id, u.username, u.display_name, u.bio, u.avatar_url, " AG_MODEL__TS(                        \
        "u.created_at") " AS created_at"

/* An id as decimal text in a caller's buffer, for statement parameters. */
const char *ag_model__id(char buf[24], int64_t id);
/*
 * A keyset page's parameters as text: the cursor and limit + 1 (the extra row
 * only says that a next page exists, see ag_model__page_rows).
 */
void ag_model__page_params(const ag_page_req_t *pg, char after[24], char fetch[16]);
/* The rows of a page to show (at most limit) and whether a next page exists. */
size_t ag_model__page_rows(const ag_db_res_t *r, int limit, bool *has_next);
/* The ids of the users named in names, a text[] literal ("{ana,bo_b}"), by id. */
ag_status_t ag_model__user_ids(ag_model_t *m, ag_arena_t *a, const char *names, int64_t **ids,
                               size_t *nids);
/* Row `row` of a result whose first columns are AG_MODEL__USER_COLS. */
void ag_model__user(const ag_db_res_t *r, int row, ag_user_t *u);
/* A page of users (at most limit) from a result of AG_MODEL__USER_COLS rows. */
ag_status_t ag_model__user_page(ag_arena_t *a, const ag_db_res_t *r, int limit,
                                ag_user_page_t *out);

/*
 * The access rules' SQL side (the rules: access.c and model.h, "who may reach
 * whom"), for statements that apply a rule as they write or count, so that a
 * rule and what it guards are one statement.
 */
/* User u's notification level of channel c, 'all' when none is set. */
#define AG_ACCESS__LEVEL_SQL(u, c)                                                                 \
    "coalesce((SELECT level FROM channel_notify_levels WHERE user_id = " u " AND channel_id = " c  \
    "), 'all')"
/* Whether user `blocker` has blocked user `blocked`. */
#define AG_ACCESS__BLOCKED_SQL(blocker, blocked)                                                   \
    "EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = " blocker " AND blocked_id = " blocked ")"
/*
 * Who may be told (ag_notify): $1 the recipient, $2 the kind, $3 the actor,
 * $4 the channel (NULL: none). The recipient has not blocked the actor, may
 * read the channel (the READ rule of ag_access_check, as ag_channel_list
 * mirrors it) and the level admits the kind.
 */
#define AG_ACCESS__NOTIFY_SQL                                                                      \
    "NOT " AG_ACCESS__BLOCKED_SQL(                                                                 \
        "$1::bigint",                                                                              \
        "$3::bigint") " AND ($4::bigint IS NULL OR "                                               \
                      "EXISTS (SELECT 1 FROM channels c WHERE c.id = $4::bigint AND "              \
                      "(c.visibility = 'public' OR "                                               \
                      "EXISTS (SELECT 1 FROM memberships mb WHERE mb.channel_id = c.id AND "       \
                      "mb.user_id = $1::bigint)))) AND " AG_ACCESS__LEVEL_SQL(                     \
                          "$1::bigint", "$4::bigint") " IN ('all', CASE WHEN $2 = 'mention' THEN " \
                                                      "'mentions' END)"

#endif
