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
/* Row `row` of a result whose first columns are AG_MODEL__USER_COLS. */
void ag_model__user(const ag_db_res_t *r, int row, ag_user_t *u);

#endif
