/*
 * lib/model/media.c — the rows of attachments and resumable uploads
 * (sql/009_social.sql). The bytes are lib/media's; these say whose they are
 * and who may read them.
 */
#include "model/model_int.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>

#define ATT_COLS                                                                                   \
    "id, owner_id, sha256, content_type, size, width, height, thumb_sha256, name, "                \
    "(extract(epoch FROM created_at) * 1000)::bigint, message_id, channel_id, dm_from, dm_to"

/* ag_model__id in the arena, for statements with many numbers (NULL for want of memory). */
static const char *
dec(ag_arena_t *a, int64_t v)
{
    char *buf = ag_arena_alloc(a, 24);
    return buf ? ag_model__id(buf, v) : NULL;
}

static void
read_att(ag_db_res_t *r, int row, ag_attachment_t *t)
{
    snprintf(t->id, sizeof(t->id), "%s", ag_db_val(r, row, 0));
    t->owner_id = ag_db_i64(r, row, 1);
    t->sha256 = ag_db_val(r, row, 2);
    t->content_type = ag_db_val(r, row, 3);
    t->size = ag_db_i64(r, row, 4);
    t->width = (int)ag_db_i64(r, row, 5);
    t->height = (int)ag_db_i64(r, row, 6);
    t->thumb_sha256 = ag_db_val(r, row, 7);
    t->name = ag_db_val(r, row, 8);
    t->created_ms = ag_db_i64(r, row, 9);
    t->message_id = ag_db_val(r, row, 10);
    t->channel_id = ag_db_i64(r, row, 11);
    t->dm_from = ag_db_i64(r, row, 12);
    t->dm_to = ag_db_i64(r, row, 13);
}

/* "{a,b,c}" of ids already checked to be hex (no quoting needed); NULL entries skipped. */
static const char *
id_array(ag_arena_t *a, const char *const *ids, size_t n)
{
    ag_buf_t    b;
    const char *out = NULL;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    for (size_t i = 0; i < n; i++)
        if (ids[i])
            ag_buf_printf(&b, "%s%s", b.len > 1 ? "," : "", ids[i]);
    if (ag_buf_puts(&b, "}") == AG_OK)
        out = ag_arena_strdup(a, b.data);
    ag_buf_fini(&b);
    return out;
}

static bool
oid_ok(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 24;
}

ag_status_t
ag_attachment_insert(ag_model_t *m, ag_arena_t *a, const ag_attachment_t *t)
{
    const char *p[] = {t->id,
                       dec(a, t->owner_id),
                       t->sha256,
                       t->content_type,
                       dec(a, t->size),
                       t->width ? dec(a, t->width) : NULL,
                       t->height ? dec(a, t->height) : NULL,
                       t->thumb_sha256,
                       t->name};
    return ag_db_exec(m->db, a,
                      "INSERT INTO attachments (id, owner_id, sha256, content_type, size, width, "
                      "height, thumb_sha256, name) VALUES ($1, $2::bigint, $3, $4, $5::bigint, "
                      "$6::int, $7::int, $8, $9)",
                      9, p, NULL);
}

ag_status_t
ag_attachment_get(ag_model_t *m, ag_arena_t *a, const char *id, ag_attachment_t **out)
{
    ag_db_res_t     *r = NULL;
    ag_attachment_t *t;
    const char      *p[] = {id};
    ag_status_t      st;

    if (!oid_ok(id))
        return AG_ENOTFOUND;
    st = ag_db_exec_generic(m->db, a, "SELECT " ATT_COLS " FROM attachments WHERE id = $1", 1, p,
                            &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return AG_ENOTFOUND;
    if ((t = ag_arena_calloc(a, sizeof(*t))) == NULL)
        return AG_ENOMEM;
    read_att(r, 0, t);
    *out = t;
    return AG_OK;
}

ag_status_t
ag_attachments_of(ag_model_t *m, ag_arena_t *a, const char *const *message_ids, size_t n,
                  ag_attachment_list_t **out)
{
    ag_attachment_list_t *res = ag_arena_calloc(a, (n ? n : 1) * sizeof(*res));
    ag_db_res_t          *r = NULL;
    ag_status_t           st;

    if (res == NULL)
        return AG_ENOMEM;
    *out = res;
    const char *p[] = {id_array(a, message_ids, n)};
    if (p[0] == NULL)
        return AG_ENOMEM;
    st = ag_db_exec_generic(m->db, a,
                            "SELECT " ATT_COLS " FROM attachments WHERE message_id = ANY "
                            "($1::text[]) ORDER BY message_id, created_at, id",
                            1, p, &r);
    if (st != AG_OK)
        return st;
    int rows = ag_db_rows(r);
    for (int row = 0; row < rows;) {
        const char *msg = ag_db_val(r, row, 10);
        int         end = row;
        while (end < rows && strcmp(ag_db_val(r, end, 10), msg) == 0)
            end++;
        ag_attachment_t *items = ag_arena_calloc(a, (size_t)(end - row) * sizeof(*items));
        if (items == NULL)
            return AG_ENOMEM;
        for (int k = row; k < end; k++)
            read_att(r, k, &items[k - row]);
        for (size_t i = 0; i < n; i++)
            if (message_ids[i] && strcmp(message_ids[i], msg) == 0)
                res[i] = (ag_attachment_list_t){items, (size_t)(end - row)};
        row = end;
    }
    return AG_OK;
}

ag_status_t
ag_attachments_claim(ag_model_t *m, ag_arena_t *a, const char *const *ids, size_t n,
                     int64_t owner_id, const char *message_id, int64_t channel_id, int64_t dm_from,
                     int64_t dm_to)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    for (size_t i = 0; i < n; i++)
        if (!oid_ok(ids[i]))
            return AG_EBADREQ;
    const char *p[] = {id_array(a, ids, n),
                       dec(a, owner_id),
                       message_id,
                       channel_id ? dec(a, channel_id) : NULL,
                       dm_from ? dec(a, dm_from) : NULL,
                       dm_to ? dec(a, dm_to) : NULL,
                       dec(a, (int64_t)n)};
    if (p[0] == NULL)
        return AG_ENOMEM;
    /*
     * All or none in one statement: the update runs only when every id names
     * a free attachment of the owner (a repeated id counts once and fails).
     */
    st = ag_db_exec(m->db, a,
                    "WITH want AS (SELECT id FROM attachments WHERE id = ANY ($1::text[]) AND "
                    "owner_id = $2::bigint AND message_id IS NULL FOR UPDATE), "
                    "ok AS (SELECT count(*) = $7::int AS ok FROM want) "
                    "UPDATE attachments SET message_id = $3, channel_id = $4::bigint, "
                    "dm_from = $5::bigint, dm_to = $6::bigint "
                    "WHERE id IN (SELECT id FROM want) AND (SELECT ok FROM ok) RETURNING id",
                    7, p, &r);
    if (st != AG_OK)
        return st;
    return (size_t)ag_db_rows(r) == n ? AG_OK : AG_EBADREQ;
}

ag_status_t
ag_attachments_release(ag_model_t *m, ag_arena_t *a, const char *message_id)
{
    const char *p[] = {message_id};
    return ag_db_exec(m->db, a,
                      "UPDATE attachments SET message_id = NULL, channel_id = NULL, "
                      "dm_from = NULL, dm_to = NULL WHERE message_id = $1",
                      1, p, NULL);
}

ag_status_t
ag_attachments_drop(ag_model_t *m, ag_arena_t *a, const char *message_id)
{
    const char *p[] = {message_id};
    return ag_db_exec(m->db, a, "DELETE FROM attachments WHERE message_id = $1", 1, p, NULL);
}

ag_status_t
ag_media_usage(ag_model_t *m, ag_arena_t *a, int64_t owner_id, int64_t *bytes)
{
    ag_db_res_t *r = NULL;
    const char  *p[] = {dec(a, owner_id)};
    ag_status_t  st = ag_db_exec(
         m->db, a,
         "SELECT (SELECT coalesce(sum(size), 0) FROM attachments WHERE owner_id = $1::bigint) + "
          "(SELECT coalesce(sum(length), 0) FROM uploads WHERE owner_id = $1::bigint "
          "AND attachment_id IS NULL)",
         1, p, &r);
    if (st == AG_OK)
        *bytes = ag_db_i64(r, 0, 0);
    return st;
}

/* ---- resumable uploads ---------------------------------------------------------------- */

ag_status_t
ag_upload_create(ag_model_t *m, ag_arena_t *a, const ag_upload_t *u)
{
    const char *p[] = {u->id, dec(a, u->owner_id), dec(a, u->length), u->name};
    return ag_db_exec(m->db, a,
                      "INSERT INTO uploads (id, owner_id, length, name) "
                      "VALUES ($1, $2::bigint, $3::bigint, $4)",
                      4, p, NULL);
}

ag_status_t
ag_upload_get(ag_model_t *m, ag_arena_t *a, const char *id, int64_t owner_id, ag_upload_t **out)
{
    ag_db_res_t *r = NULL;
    ag_upload_t *u;
    ag_status_t  st;

    if (!oid_ok(id))
        return AG_ENOTFOUND;
    const char *p[] = {id, dec(a, owner_id)};
    st = ag_db_exec(m->db, a,
                    "SELECT id, owner_id, length, \"offset\", name, attachment_id FROM uploads "
                    "WHERE id = $1 AND owner_id = $2::bigint",
                    2, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return AG_ENOTFOUND;
    if ((u = ag_arena_calloc(a, sizeof(*u))) == NULL)
        return AG_ENOMEM;
    snprintf(u->id, sizeof(u->id), "%s", ag_db_val(r, 0, 0));
    u->owner_id = ag_db_i64(r, 0, 1);
    u->length = ag_db_i64(r, 0, 2);
    u->offset = ag_db_i64(r, 0, 3);
    u->name = ag_db_val(r, 0, 4);
    u->attachment_id = ag_db_val(r, 0, 5);
    *out = u;
    return AG_OK;
}

ag_status_t
ag_upload_advance(ag_model_t *m, ag_arena_t *a, const char *id, int64_t from, int64_t to)
{
    ag_db_res_t *r = NULL;
    const char  *p[] = {id, dec(a, from), dec(a, to)};
    ag_status_t  st = ag_db_exec(m->db, a,
                                 "UPDATE uploads SET \"offset\" = $3::bigint WHERE id = $1 "
                                  "AND \"offset\" = $2::bigint RETURNING id",
                                 3, p, &r);
    if (st != AG_OK)
        return st;
    return ag_db_rows(r) ? AG_OK : AG_ECONFLICT;
}

ag_status_t
ag_upload_finish(ag_model_t *m, ag_arena_t *a, const char *id, const char *attachment_id)
{
    const char *p[] = {id, attachment_id};
    return ag_db_exec(m->db, a, "UPDATE uploads SET attachment_id = $2 WHERE id = $1", 2, p, NULL);
}

/* The contract's Attachment object (CONTRACT §9), for REST and GraphQL alike. */
ag_json_t *
ag_attachment_json(const ag_attachment_t *t)
{
    ag_json_t *o = ag_json_obj();
    char       url[96];
    if (o == NULL)
        return NULL;
    ag_json_set_str(o, "id", t->id);
    snprintf(url, sizeof(url), "/api/v1/files/%s", t->id);
    ag_json_set_str(o, "url", url);
    ag_json_set_str(o, "contentType", t->content_type);
    ag_json_set_int(o, "size", t->size);
    ag_json_set(o, "width", t->width ? ag_json_int(t->width) : NULL);
    ag_json_set(o, "height", t->height ? ag_json_int(t->height) : NULL);
    snprintf(url, sizeof(url), "/api/v1/files/%s/thumbnail", t->id);
    ag_json_set_str(o, "thumbnailUrl", t->thumb_sha256 && *t->thumb_sha256 ? url : NULL);
    return o;
}
