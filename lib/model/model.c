/* lib/model/model.c — what every part of the model shares: events, ids, pages. */
#include "model/model_int.h"
#include "log/log.h"

#include <stdio.h>

ag_status_t
ag_model_emit(ag_model_t *m, const ag_ev_t *ev)
{
    ag_status_t st;
    char        subj[AG_EV_NAME_MAX];

    if (m->events == NULL)
        return AG_EUNAVAIL;
    if ((st = ag_events_emit(m->events, ev)) != AG_OK) {
        ag_ev_subject_of(ev, subj, sizeof(subj));
        ag_log_warn("event %s not published: %s", subj, ag_events_error(m->events));
    }
    return st;
}

const char *
ag_model__id(char buf[24], int64_t id)
{
    ag_fmt_i64(buf, id);
    return buf;
}

void
ag_model__page_params(const ag_page_req_t *pg, char after[24], char fetch[16])
{
    ag_fmt_i64(after, pg->after);
    snprintf(fetch, 16, "%d", pg->limit + 1);
}

size_t
ag_model__page_rows(const ag_db_res_t *r, int limit, bool *has_next)
{
    int rows = ag_db_rows(r);
    *has_next = rows > limit;
    return (size_t)(rows > limit ? limit : rows);
}

void
ag_model__user(const ag_db_res_t *r, int row, ag_user_t *u)
{
    u->id = ag_db_i64(r, row, 0);
    u->username = ag_db_val(r, row, 1);
    u->display_name = ag_db_val(r, row, 2);
    u->bio = ag_db_val(r, row, 3);
    u->avatar_url = ag_db_val(r, row, 4);
    u->created_at = ag_db_val(r, row, 5);
}

ag_status_t
ag_model__user_page(ag_arena_t *a, const ag_db_res_t *r, int limit, ag_user_page_t *out)
{
    out->n = ag_model__page_rows(r, limit, &out->has_next);
    if ((out->items = ag_arena_calloc(a, sizeof(*out->items) * (out->n + 1))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < out->n; i++)
        ag_model__user(r, (int)i, &out->items[i]);
    return AG_OK;
}
