/*
 * lib/model/attention.c — what decides whether something deserves a user's
 * attention: the @mentions of a text, the unread and mentions counts of a
 * member's channels (definitions in model.h), per-channel notification
 * levels and blocks. Tables: sql/008_attention.sql.
 *
 * The unread counts are kept from both sides of the stream: the GraphQL
 * write path records a post (and then its sequence) as soon as it is stored,
 * so a count read right after a mutation's response already has it; the
 * fanout job records it again from the event, which repairs whatever the
 * writer could not do (the publish left to the outbox, a database error
 * after the post was stored). Every write here is idempotent.
 */
#include "model/model_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The @name starting at p (just after '@'): its length when it is one, else 0. */
static size_t
mention_len(const char *body, const char *at)
{
    size_t n = 0;
    /* "a@b" is an address, not a mention: '@' must start a word */
    if (at > body && (isalnum((unsigned char)at[-1]) || at[-1] == '_'))
        return 0;
    while (n < 33 && (isalnum((unsigned char)at[1 + n]) || at[1 + n] == '_'))
        n++;
    return n >= 3 && n <= 32 ? n : 0;
}

const char *
ag_mentions_names(ag_arena_t *a, const char *body)
{
    ag_buf_t    b;
    const char *out;
    size_t      found = 0;

    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    for (const char *p = body; (p = strchr(p, '@')) != NULL && found < AG_MENTIONS_MAX; p++) {
        size_t n = mention_len(body, p);
        if (n == 0)
            continue;
        ag_buf_puts(&b, found ? "," : "");
        for (size_t i = 0; i < n; i++) { /* [a-z0-9_] needs no quoting in an array literal */
            char c = (char)tolower((unsigned char)p[1 + i]);
            ag_buf_append(&b, &c, 1);
        }
        found++;
        p += n;
    }
    ag_buf_puts(&b, "}");
    /* a repeated name is harmless: username = ANY() matches each user once */
    out = found && b.data ? ag_arena_strdup(a, b.data) : "";
    ag_buf_fini(&b);
    return out;
}

ag_status_t
ag_mentions_resolve(ag_model_t *m, ag_arena_t *a, const char *body, int64_t **ids, size_t *n)
{
    const char *names = ag_mentions_names(a, body);

    *ids = NULL;
    *n = 0;
    if (names == NULL)
        return AG_ENOMEM;
    return *names ? ag_model__user_ids(m, a, names, ids, n) : AG_OK;
}

/* ---- posts ---------------------------------------------------------------------- */
/* The bigint[] of the first column of row 0 ("{1,2}") into ids from a. */
static ag_status_t
parse_ids(ag_arena_t *a, const char *arr, int64_t **ids, size_t *n)
{
    size_t cap = 1;

    *n = 0;
    for (const char *c = arr; c && *c; c++)
        cap += *c == ',';
    if ((*ids = ag_arena_alloc(a, sizeof(int64_t) * cap)) == NULL)
        return AG_ENOMEM;
    for (const char *c = arr; c && *c;) {
        char   *end;
        int64_t v = strtoll(c + (*c == '{' || *c == ','), &end, 10);
        if (end == c + (*c == '{' || *c == ','))
            break; /* "{}" */
        (*ids)[(*n)++] = v;
        c = end;
    }
    return AG_OK;
}

static ag_status_t
mentioned_out(ag_arena_t *a, ag_db_res_t *r, int64_t **mentioned, size_t *n)
{
    if (mentioned == NULL)
        return AG_OK;
    *mentioned = NULL;
    *n = 0;
    return ag_db_rows(r) == 1 ? parse_ids(a, ag_db_val(r, 0, 0), mentioned, n) : AG_OK;
}

ag_status_t
ag_attention_post_put(ag_model_t *m, ag_arena_t *a, const ag_attention_post_t *p,
                      int64_t **mentioned, size_t *n)
{
    char         cid[24], uid[24], seq[24], ms[24];
    ag_db_res_t *r = NULL;
    const char  *names = ag_mentions_names(a, p->body);
    ag_status_t  st;

    if (names == NULL)
        return AG_ENOMEM;
    const char *params[] = {p->post_id,
                            ag_model__id(cid, p->channel_id),
                            ag_model__id(uid, p->author_id),
                            ag_model__id(seq, (int64_t)p->seq),
                            *names ? names : "{}",
                            ag_model__id(ms, p->created_ms)};
    /* mentions resolved in the statement itself: one round trip on the write path */
    st = ag_db_exec(
        m->db, a,
        "INSERT INTO attention_posts (post_id, channel_id, author_id, seq, mentioned, created_at) "
        "VALUES ($1, $2::bigint, $3::bigint, nullif($4::bigint, 0), ARRAY(SELECT id FROM users "
        "WHERE username = ANY($5::text[]) ORDER BY id), CASE WHEN $6::bigint > 0 THEN "
        "timestamptz 'epoch' + $6::bigint * interval '1 millisecond' ELSE now() END) "
        "ON CONFLICT (post_id) DO UPDATE SET mentioned = EXCLUDED.mentioned, "
        "seq = coalesce(attention_posts.seq, EXCLUDED.seq) RETURNING mentioned",
        6, params, &r);
    return st == AG_OK ? mentioned_out(a, r, mentioned, n) : st;
}

ag_status_t
ag_attention_post_claim(ag_model_t *m, ag_arena_t *a, const char *post_id, uint64_t seq,
                        ag_attention_post_t *out, int64_t **mentioned, size_t *n, bool *found)
{
    char         sq[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {post_id, ag_model__id(sq, (int64_t)seq)};

    *found = false;
    *mentioned = NULL;
    *n = 0;
    st = ag_db_exec(m->db, a,
                    "UPDATE attention_posts SET seq = coalesce(seq, nullif($2::bigint, 0)) "
                    "WHERE post_id = $1 RETURNING channel_id, author_id, mentioned",
                    2, p, &r);
    if (st != AG_OK || ag_db_rows(r) == 0)
        return st;
    *found = true;
    memset(out, 0, sizeof(*out));
    out->post_id = post_id;
    out->channel_id = ag_db_i64(r, 0, 0);
    out->author_id = ag_db_i64(r, 0, 1);
    out->seq = seq;
    return parse_ids(a, ag_db_val(r, 0, 2), mentioned, n);
}

ag_status_t
ag_attention_post_seq(ag_model_t *m, ag_arena_t *a, const char *post_id, uint64_t seq)
{
    char        sq[24];
    const char *p[] = {post_id, ag_model__id(sq, (int64_t)seq)};
    return ag_db_exec(
        m->db, a, "UPDATE attention_posts SET seq = $2::bigint WHERE post_id = $1 AND seq IS NULL",
        2, p, NULL);
}

ag_status_t
ag_attention_post_edit(ag_model_t *m, ag_arena_t *a, const char *post_id, const char *body,
                       int64_t **mentioned, size_t *n)
{
    ag_db_res_t *r = NULL;
    const char  *names = ag_mentions_names(a, body);
    ag_status_t  st;

    if (names == NULL)
        return AG_ENOMEM;
    const char *p[] = {post_id, *names ? names : "{}"};
    /* the mentions come back even for a post with no row: the edit notifies them */
    st = ag_db_exec(m->db, a,
                    "WITH who AS (SELECT ARRAY(SELECT id FROM users WHERE username = "
                    "ANY($2::text[]) ORDER BY id) AS ids), "
                    "upd AS (UPDATE attention_posts SET mentioned = (SELECT ids FROM who) "
                    "WHERE post_id = $1) SELECT ids FROM who",
                    2, p, &r);
    return st == AG_OK ? mentioned_out(a, r, mentioned, n) : st;
}

ag_status_t
ag_attention_post_gone(ag_model_t *m, ag_arena_t *a, const char *post_id)
{
    const char *p[] = {post_id};
    return ag_db_exec(m->db, a, "DELETE FROM attention_posts WHERE post_id = $1", 1, p, NULL);
}

/* ---- counts --------------------------------------------------------------------- */
/* The rows of one channel that are unread for $1 (see model.h), as a FROM clause. */
#define UNREAD_ROWS                                                                                \
    "FROM attention_posts p WHERE p.channel_id = c.cid AND (p.seq > coalesce(o.seq, 0) OR "        \
    "p.seq IS NULL) AND p.author_id <> $1::bigint AND p.created_at >= mb.joined_at "

static const char counts_sql[] =
    "SELECT c.cid, "
    "(SELECT count(*) FROM (SELECT 1 " UNREAD_ROWS "LIMIT $3::int) u), "
    "CASE WHEN " AG_ACCESS__LEVEL_SQL(
        "$1::bigint",
        "c.cid") " = 'none' THEN 0 ELSE "
                 "(SELECT count(*) FROM (SELECT 1 " UNREAD_ROWS
                 "AND $1::bigint = ANY (p.mentioned) "
                 "AND NOT " AG_ACCESS__BLOCKED_SQL(
                     "$1::bigint",
                     "p.author_id") " LIMIT $3::int) x) END, "
                                    "coalesce(o.seq, 0), "
                                    "coalesce((SELECT max(p.seq) FROM attention_posts p WHERE "
                                    "p.channel_id = c.cid), 0) "
                                    "FROM unnest($2::bigint[]) AS c(cid) "
                                    "JOIN memberships mb ON mb.channel_id = c.cid AND mb.user_id = "
                                    "$1::bigint "
                                    "LEFT JOIN ws_read_offsets o ON o.user_id = $1::bigint AND "
                                    "o.channel_id = c.cid";

/* ids as a PostgreSQL bigint[] literal, in the arena. */
static const char *
id_array(ag_arena_t *a, const int64_t *ids, size_t n)
{
    ag_buf_t    b;
    const char *out;

    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    for (size_t i = 0; i < n; i++)
        ag_buf_printf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
    ag_buf_puts(&b, "}");
    out = b.data ? ag_arena_strdup(a, b.data) : NULL;
    ag_buf_fini(&b);
    return out;
}

ag_status_t
ag_attention_counts(ag_model_t *m, ag_arena_t *a, int64_t user_id, const int64_t *ids, size_t n,
                    ag_attention_counts_t **out)
{
    char         uid[24], max[24];
    ag_db_res_t *r = NULL;
    const char  *arr = id_array(a, ids, n);
    ag_status_t  st;

    if (arr == NULL || (*out = ag_arena_calloc(a, sizeof(**out) * (n ? n : 1))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++)
        (*out)[i].channel_id = ids[i];
    if (n == 0)
        return AG_OK;
    const char *p[] = {ag_model__id(uid, user_id), arr, ag_model__id(max, AG_ATTENTION_COUNT_MAX)};
    if ((st = ag_db_exec_generic(m->db, a, counts_sql, 3, p, &r)) != AG_OK)
        return st;
    for (int row = 0; row < ag_db_rows(r); row++) {
        int64_t cid = ag_db_i64(r, row, 0);
        for (size_t i = 0; i < n; i++) {
            if (ids[i] != cid)
                continue;
            (*out)[i].unread = ag_db_i64(r, row, 1);
            (*out)[i].mentions = ag_db_i64(r, row, 2);
            (*out)[i].read_seq = ag_db_i64(r, row, 3);
            (*out)[i].last_seq = ag_db_i64(r, row, 4);
        }
    }
    return AG_OK;
}

/* ---- notification levels --------------------------------------------------------- */
static const char *const level_names[] = {"all", "mentions", "none"};

const char *
ag_notify_level_name(ag_notify_level_t level)
{
    return (size_t)level < AG_ARRAY_LEN(level_names) ? level_names[level] : "all";
}

bool
ag_notify_level_parse(const char *s, ag_notify_level_t *out)
{
    for (size_t i = 0; s && i < AG_ARRAY_LEN(level_names); i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (ag_notify_level_t)i;
            return true;
        }
    return false;
}

ag_status_t
ag_notify_level_get(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t channel_id,
                    ag_notify_level_t *out)
{
    char         uid[24], cid[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {ag_model__id(uid, user_id), ag_model__id(cid, channel_id)};

    *out = AG_LEVEL_ALL; /* no row: the default */
    st = ag_db_exec(m->db, a,
                    "SELECT level FROM channel_notify_levels WHERE user_id = $1::bigint "
                    "AND channel_id = $2::bigint",
                    2, p, &r);
    if (st == AG_OK && ag_db_rows(r) == 1)
        ag_notify_level_parse(ag_db_val(r, 0, 0), out);
    return st;
}

ag_status_t
ag_notify_level_set(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t channel_id,
                    ag_notify_level_t level)
{
    char        uid[24], cid[24];
    const char *p[] = {ag_model__id(uid, user_id), ag_model__id(cid, channel_id),
                       ag_notify_level_name(level)};
    return ag_db_exec(m->db, a,
                      "INSERT INTO channel_notify_levels (user_id, channel_id, level) "
                      "VALUES ($1::bigint, $2::bigint, $3) ON CONFLICT (user_id, channel_id) "
                      "DO UPDATE SET level = EXCLUDED.level, updated_at = now()",
                      3, p, NULL);
}

/* ---- blocks --------------------------------------------------------------------- */
ag_status_t
ag_block_set(ag_model_t *m, ag_arena_t *a, int64_t blocker, int64_t blocked, bool on)
{
    char        from[24], to[24];
    const char *p[] = {ag_model__id(from, blocker), ag_model__id(to, blocked)};

    if (blocker == blocked)
        return AG_EBADREQ;
    if (on)
        return ag_db_exec(m->db, a,
                          "INSERT INTO user_blocks (blocker_id, blocked_id) "
                          "VALUES ($1::bigint, $2::bigint) ON CONFLICT DO NOTHING",
                          2, p, NULL);
    return ag_db_exec(m->db, a,
                      "DELETE FROM user_blocks WHERE blocker_id = $1::bigint "
                      "AND blocked_id = $2::bigint",
                      2, p, NULL);
}

ag_status_t
ag_block_between(ag_model_t *m, ag_arena_t *a, int64_t ua, int64_t ub, bool *a_blocked_b,
                 bool *b_blocked_a)
{
    char         x[24], y[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {ag_model__id(x, ua), ag_model__id(y, ub)};

    *a_blocked_b = *b_blocked_a = false;
    st = ag_db_exec_generic(m->db, a,
                            "SELECT blocker_id = $1::bigint FROM user_blocks WHERE "
                            "(blocker_id = $1::bigint AND blocked_id = $2::bigint) OR "
                            "(blocker_id = $2::bigint AND blocked_id = $1::bigint)",
                            2, p, &r);
    for (int i = 0; st == AG_OK && i < ag_db_rows(r); i++) {
        if (ag_db_bool(r, i, 0))
            *a_blocked_b = true;
        else
            *b_blocked_a = true;
    }
    return st;
}

ag_status_t
ag_blocks_list(ag_model_t *m, ag_arena_t *a, int64_t blocker, const ag_page_req_t *pg,
               ag_user_page_t *out)
{
    char         uid[24], after[24], fetch[16];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    memset(out, 0, sizeof(*out));
    ag_model__page_params(pg, after, fetch);
    const char *p[] = {ag_model__id(uid, blocker), after, fetch};
    st = ag_db_exec_generic(m->db, a,
                            "SELECT " AG_MODEL__USER_COLS " FROM user_blocks b "
                            "JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = $1::bigint "
                            "AND b.blocked_id > $2::bigint ORDER BY b.blocked_id LIMIT $3::int",
                            3, p, &r);
    return st == AG_OK ? ag_model__user_page(a, r, pg->limit, out) : st;
}
