/*
 * lib/content/content.c — the backend-neutral half of the content store:
 * argument checks, ObjectIds, cursors, body rules and page trimming. Every
 * id, body and cursor is checked here once, so backends see canonical input.
 */
#include "content/content_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

ag_status_t
ag_content__fail(ag_content_t *c, ag_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    for (char *p = c->err; *p; p++) /* driver texts span lines; logs want one */
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return st;
}

/* ---- ObjectIds ------------------------------------------------------------ */

/*
 * The 5 random bytes identify the process: they are drawn again after a
 * fork (FastCGI workers are forked), so two workers never share them. The
 * counter is atomic, which keeps generation thread-safe as well.
 */
static uint8_t  oid_rand[5];
static pid_t    oid_pid;
static uint32_t oid_counter;

static void
oid_seed(void)
{
    uint8_t buf[8];
    if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
        /* impossible on Linux >= 3.17 short of a seccomp filter; fall back to time and pid */
        uint64_t x = (uint64_t)ag_now_mono_ms() * 2654435761u ^ (uint64_t)getpid() << 20;
        memcpy(buf, &x, sizeof(buf));
    }
    memcpy(oid_rand, buf, sizeof(oid_rand));
    __atomic_store_n(&oid_counter, (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7],
                     __ATOMIC_RELAXED);
    oid_pid = getpid();
}

void
ag_content_oid_new(char out[AG_CONTENT_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t           b[12];

    if (oid_pid != getpid())
        oid_seed();
    uint32_t t = (uint32_t)time(NULL);
    uint32_t n = __atomic_fetch_add(&oid_counter, 1, __ATOMIC_RELAXED);
    b[0] = (uint8_t)(t >> 24), b[1] = (uint8_t)(t >> 16), b[2] = (uint8_t)(t >> 8),
    b[3] = (uint8_t)t;
    memcpy(b + 4, oid_rand, 5);
    b[9] = (uint8_t)(n >> 16), b[10] = (uint8_t)(n >> 8), b[11] = (uint8_t)n;
    for (int i = 0; i < 12; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[AG_CONTENT_ID_LEN] = '\0';
}

bool
ag_content_oid_valid(const char *s)
{
    if (s == NULL)
        return false;
    for (int i = 0; i < AG_CONTENT_ID_LEN; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return s[AG_CONTENT_ID_LEN] == '\0';
}

/* Lowercase copy of a valid id; false for an invalid one. */
static bool
oid_canon(const char *s, char out[AG_CONTENT_ID_LEN + 1])
{
    if (!ag_content_oid_valid(s))
        return false;
    for (int i = 0; i <= AG_CONTENT_ID_LEN; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
    return true;
}

/* ---- cursors ---------------------------------------------------------------- */

/*
 * A cursor is base64url (no padding) of 20 bytes: created_at as a big-endian
 * int64, then the 12 ObjectId bytes. Opaque to clients, 27 characters, and
 * decoding re-encodes to reject any non-canonical spelling.
 */
#define CURSOR_BYTES 20
#define CURSOR_LEN   27
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
cursor_encode(int64_t ts, const char *id, char out[CURSOR_LEN + 1])
{
    uint8_t b[CURSOR_BYTES + 1] = {0}; /* one spare zero byte for the last group */
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)ts >> (56 - 8 * i));
    for (int i = 0; i < 12; i++) {
        unsigned hi =
            (unsigned)(id[2 * i] <= '9' ? id[2 * i] - '0' : (id[2 * i] | 0x20) - 'a' + 10);
        unsigned lo = (unsigned)(id[2 * i + 1] <= '9' ? id[2 * i + 1] - '0'
                                                      : (id[2 * i + 1] | 0x20) - 'a' + 10);
        b[8 + i] = (uint8_t)(hi << 4 | lo);
    }
    int o = 0;
    for (int i = 0; i < CURSOR_BYTES; i += 3) {
        uint32_t v =
            (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | (i + 2 < CURSOR_BYTES ? b[i + 2] : 0);
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        if (o < CURSOR_LEN)
            out[o++] = b64url[v & 63];
    }
    out[CURSOR_LEN] = '\0';
}

const char *
ag_content_cursor(ag_arena_t *a, int64_t created_at, const char *id)
{
    char buf[CURSOR_LEN + 1];
    if (!ag_content_oid_valid(id))
        return NULL;
    cursor_encode(created_at, id, buf);
    return ag_arena_strdup(a, buf);
}

ag_status_t
ag_content_cursor_decode(const char *cursor, int64_t *created_at, char id[AG_CONTENT_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t           b[CURSOR_BYTES + 2] = {0};
    char              again[CURSOR_LEN + 1];
    uint64_t          ts = 0;

    if (cursor == NULL || strlen(cursor) != CURSOR_LEN)
        return AG_EBADREQ;
    /* 4 characters carry 3 bytes; the last 3 carry 2 (and 2 zero bits) */
    for (int i = 0, o = 0; i < CURSOR_LEN; i += 4, o += 3) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            const char *p = i + k < CURSOR_LEN ? strchr(b64url, cursor[i + k]) : b64url;
            if (p == NULL)
                return AG_EBADREQ;
            v = v << 6 | (uint32_t)(p - b64url);
        }
        b[o] = (uint8_t)(v >> 16), b[o + 1] = (uint8_t)(v >> 8), b[o + 2] = (uint8_t)v;
    }
    for (int i = 0; i < 8; i++)
        ts = ts << 8 | b[i];
    if ((int64_t)ts < 0)
        return AG_EBADREQ;
    for (int i = 0; i < 12; i++) {
        id[2 * i] = hex[b[8 + i] >> 4];
        id[2 * i + 1] = hex[b[8 + i] & 15];
    }
    id[AG_CONTENT_ID_LEN] = '\0';
    cursor_encode((int64_t)ts, id, again);
    if (strcmp(again, cursor) != 0)
        return AG_EBADREQ; /* stray bits in the last character */
    *created_at = (int64_t)ts;
    return AG_OK;
}

/* ---- bodies ----------------------------------------------------------------- */

/* Length of one well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0. */
static int
utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        unsigned char lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        unsigned char lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

ag_status_t
ag_content_body_check(const char *body, const char **why)
{
    const unsigned char *s = (const unsigned char *)body;
    size_t               chars = 0;
    const char          *dummy;

    if (why == NULL)
        why = &dummy;
    if (body == NULL || *body == '\0') {
        *why = "body must not be empty";
        return AG_EBADREQ;
    }
    while (*s) {
        int n = utf8_seq(s);
        if (n == 0) {
            *why = "body must be valid UTF-8";
            return AG_EBADREQ;
        }
        s += n;
        if (++chars > AG_CONTENT_BODY_MAX) {
            *why = "body must be at most 10000 characters";
            return AG_EBADREQ;
        }
    }
    return AG_OK;
}

/* ---- emojis (the rule is in content.h) ---------------------------------------- */

/* Decode one code point at s (well-formed by utf8_seq); *n its length, 0 when malformed. */
static uint32_t
utf8_cp(const unsigned char *s, int *n)
{
    *n = utf8_seq(s);
    switch (*n) {
    case 1:
        return s[0];
    case 2:
        return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    case 3:
        return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    case 4:
        return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
               (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
    default:
        return 0;
    }
}

/* Extended_Pictographic, approximated by the blocks that hold it (UTS #51). */
static bool
pictograph(uint32_t cp)
{
    static const uint32_t r[][2] = {
        {0x00a9, 0x00a9}, {0x00ae, 0x00ae},   {0x203c, 0x203c},   {0x2049, 0x2049},
        {0x2122, 0x2122}, {0x2139, 0x2139},   {0x2194, 0x21ff},   {0x2300, 0x23ff},
        {0x24c2, 0x24c2}, {0x25a0, 0x25ff},   {0x2600, 0x27bf},   {0x2900, 0x297f},
        {0x2b00, 0x2bff}, {0x3030, 0x3030},   {0x303d, 0x303d},   {0x3297, 0x3297},
        {0x3299, 0x3299}, {0x1f000, 0x1f1e5}, {0x1f200, 0x1f3fa}, {0x1f400, 0x1faff},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(r); i++)
        if (cp >= r[i][0] && cp <= r[i][1])
            return true;
    return false;
}

#define IS_RI(cp)   ((cp) >= 0x1f1e6 && (cp) <= 0x1f1ff)
#define IS_TONE(cp) ((cp) >= 0x1f3fb && (cp) <= 0x1f3ff)
#define IS_TAG(cp)  ((cp) >= 0xe0020 && (cp) <= 0xe007f)

ag_status_t
ag_content_emoji_check(const char *emoji, const char **why)
{
    const unsigned char *s = (const unsigned char *)emoji;
    uint32_t             cp[17];
    int                  n = 0, len;
    const char          *dummy;

    if (why == NULL)
        why = &dummy;
    *why = "emoji must be one emoji (a pictograph, a flag or a keycap), not text";
    if (emoji == NULL || *emoji == '\0' || strlen(emoji) > AG_CONTENT_EMOJI_MAX)
        return AG_EBADREQ;
    for (; *s; s += len) {
        if (n == 16 || (cp[n++] = utf8_cp(s, &len)) == 0 || len == 0)
            return AG_EBADREQ;
    }
    if (n == 2 && IS_RI(cp[0]) && IS_RI(cp[1]))
        return AG_OK;                                                   /* a flag */
    if ((cp[0] >= '0' && cp[0] <= '9') || cp[0] == '#' || cp[0] == '*') /* a keycap */
        return (n == 2 && cp[1] == 0x20e3) || (n == 3 && cp[1] == 0xfe0f && cp[2] == 0x20e3)
                   ? AG_OK
                   : AG_EBADREQ;
    /* pictograph (FE0F | tone)? tag* (ZWJ pictograph ...)* */
    for (int i = 0; i < n;) {
        if (!pictograph(cp[i++]))
            return AG_EBADREQ;
        if (i < n && (cp[i] == 0xfe0f || IS_TONE(cp[i])))
            i++;
        while (i < n && IS_TAG(cp[i]))
            i++;
        if (i < n && (cp[i] != 0x200d || ++i == n))
            return AG_EBADREQ; /* anything but a ZWJ followed by another pictograph */
    }
    return AG_OK;
}

/* ---- the handle --------------------------------------------------------------- */

void
ag_content_global_init(void)
{
    ag_content__mongo_global_init();
}

void
ag_content_global_fini(void)
{
    ag_content__mongo_global_fini();
}

ag_status_t
ag_content_open(const ag_config_t *cfg, ag_db_t *db, ag_content_t **out, char *err, size_t errlen)
{
    ag_content_t *c = calloc(1, sizeof(*c));
    ag_status_t   st;

    if (c == NULL)
        return AG_ENOMEM;
    if (*ag_config_str(cfg, AG_CFG_mongodb_uri)) {
        c->backend = AG_CONTENT_MONGODB;
        st = ag_content__mongo_open(c, cfg, err, errlen);
    } else if (db == NULL) {
        snprintf(err, errlen, "content: mongodb_uri is empty and no PostgreSQL connection given");
        st = AG_ECONFIG;
    } else {
        c->backend = AG_CONTENT_POSTGRES;
        st = ag_content__pg_open(c, db, err, errlen);
    }
    if (st != AG_OK) {
        free(c);
        return st;
    }
    *out = c;
    return AG_OK;
}

void
ag_content_close(ag_content_t *c)
{
    if (c == NULL)
        return;
    if (c->ops && c->ops->close)
        c->ops->close(c);
    free(c);
}

ag_content_backend_t
ag_content_backend(const ag_content_t *c)
{
    return c->backend;
}
const char *
ag_content_backend_name(const ag_content_t *c)
{
    return c->ops->name;
}
const char *
ag_content_error(const ag_content_t *c)
{
    return c->err;
}

ag_status_t
ag_content_health(ag_content_t *c)
{
    c->err[0] = '\0';
    return c->ops->health(c) == AG_OK ? AG_OK : AG_EUNAVAIL;
}

/* ---- argument checks shared by the operations ----------------------------------- */

static ag_status_t
check_id(ag_content_t *c, const char *id, char out[AG_CONTENT_ID_LEN + 1], const char *what)
{
    c->err[0] = '\0';
    if (!oid_canon(id, out))
        return ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
    return AG_OK;
}

static ag_status_t
check_body(ag_content_t *c, const char *body)
{
    const char *why;
    if (ag_content_body_check(body, &why) != AG_OK)
        return ag_content__fail(c, AG_EBADREQ, "%s", why);
    return AG_OK;
}

static ag_status_t
check_event(ag_content_t *c, const ag_content_event_t *ev)
{
    if (ev && (ev->msg_id == NULL || !*ev->msg_id || ev->subject == NULL || !*ev->subject ||
               ev->payload == NULL))
        return ag_content__fail(c, AG_EBADREQ, "outbox event needs msg_id, subject and payload");
    return AG_OK;
}

/* The id of a new record: the caller's (checked) or a fresh one. */
static ag_status_t
new_id(ag_content_t *c, const char *given, char out[AG_CONTENT_ID_LEN + 1])
{
    if (given == NULL) {
        ag_content_oid_new(out);
        return AG_OK;
    }
    if (!oid_canon(given, out))
        return ag_content__fail(c, AG_EBADREQ, "id must be 24 hex digits");
    return AG_OK;
}

static ag_status_t
check_page(ag_content_t *c, int first, const char *after, ag_content__after_t *key)
{
    key->set = false;
    if (first < 0 || first > AG_CONTENT_FIRST_MAX)
        return ag_content__fail(c, AG_EBADREQ, "first must be between 0 and %d",
                                AG_CONTENT_FIRST_MAX);
    if (after == NULL)
        return AG_OK;
    if (ag_content_cursor_decode(after, &key->ts, key->id) != AG_OK)
        return ag_content__fail(c, AG_EBADREQ, "after is not a cursor of this list");
    key->set = true;
    return AG_OK;
}

/*
 * A backend returned up to first + 1 rows: the extra row only says that a
 * next page exists. Works on every page type (same layout by construction).
 */
#define FINISH_PAGE(a, page, first)                                                                \
    do {                                                                                           \
        (page)->has_next_page = (page)->n > (size_t)(first);                                       \
        if ((page)->has_next_page)                                                                 \
            (page)->n = (size_t)(first);                                                           \
        (page)->end_cursor = NULL;                                                                 \
        if ((page)->n > 0) {                                                                       \
            const char *cur__ = ag_content_cursor((a), (page)->items[(page)->n - 1].created_at,    \
                                                  (page)->items[(page)->n - 1].id);                \
            if (cur__ == NULL)                                                                     \
                return AG_ENOMEM;                                                                  \
            (page)->end_cursor = cur__;                                                            \
        }                                                                                          \
    } while (0)

/* ---- posts ------------------------------------------------------------------- */

ag_status_t
ag_content_post_create(ag_content_t *c, ag_arena_t *a, const char *id, int64_t channel_id,
                       int64_t author_id, const char *body, const ag_content_event_t *ev,
                       ag_content_post_t **out)
{
    ag_content_post_t *p;
    ag_status_t        st;

    c->err[0] = '\0';
    if ((p = ag_arena_calloc(a, sizeof(*p))) == NULL)
        return AG_ENOMEM;
    if ((st = new_id(c, id, p->id)) != AG_OK || (st = check_body(c, body)) != AG_OK ||
        (st = check_event(c, ev)) != AG_OK)
        return st;
    p->channel_id = channel_id;
    p->author_id = author_id;
    if ((p->body = ag_arena_strdup(a, body)) == NULL)
        return AG_ENOMEM;
    p->created_at = ag_now_wall_ms();
    if ((st = c->ops->post_insert(c, a, p, ev)) != AG_OK)
        return st;
    if (out)
        *out = p;
    return AG_OK;
}

ag_status_t
ag_content_post_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_post_t **out)
{
    char        key[AG_CONTENT_ID_LEN + 1];
    ag_status_t st;
    if ((st = check_id(c, id, key, "post")) != AG_OK)
        return st;
    return c->ops->post_get(c, a, key, out);
}

ag_status_t
ag_content_post_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                     const ag_content_event_t *ev, ag_content_post_t **out)
{
    char               key[AG_CONTENT_ID_LEN + 1];
    ag_content_post_t *p = NULL;
    ag_status_t        st;

    if ((st = check_id(c, id, key, "post")) != AG_OK || (st = check_body(c, body)) != AG_OK ||
        (st = check_event(c, ev)) != AG_OK)
        return st;
    if ((st = c->ops->post_edit(c, a, key, body, ag_now_wall_ms(), ev, &p)) != AG_OK)
        return st;
    if (out)
        *out = p;
    return AG_OK;
}

ag_status_t
ag_content_post_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    char        key[AG_CONTENT_ID_LEN + 1];
    ag_status_t st;
    if ((st = check_id(c, id, key, "post")) != AG_OK || (st = check_event(c, ev)) != AG_OK)
        return st;
    return c->ops->post_delete(c, a, key, ev);
}

ag_status_t
ag_content_post_list(ag_content_t *c, ag_arena_t *a, int64_t channel_id, int first,
                     const char *after, ag_content_post_page_t *out)
{
    ag_content__after_t key;
    ag_status_t         st;

    c->err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if ((st = check_page(c, first, after, &key)) != AG_OK ||
        (st = c->ops->post_list(c, a, channel_id, first + 1, &key, out)) != AG_OK)
        return st;
    FINISH_PAGE(a, out, first);
    return AG_OK;
}

ag_status_t
ag_content_post_list_as(ag_content_t *c, ag_arena_t *a, int64_t channel_id, int64_t reader_id,
                        int first, const char *after, ag_content_access_t *access,
                        ag_content_post_page_t *out)
{
    ag_content__after_t key;
    ag_status_t         st;

    c->err[0] = '\0';
    memset(out, 0, sizeof(*out));
    memset(access, 0, sizeof(*access));
    if (c->ops->post_list_as == NULL || check_page(c, first, after, &key) != AG_OK)
        return AG_DECLINED;
    if ((st = c->ops->post_list_as(c, a, channel_id, reader_id, first + 1, &key, access, out)) !=
        AG_OK)
        return st;
    FINISH_PAGE(a, out, first);
    return AG_OK;
}

ag_status_t
ag_content_post_get_as(ag_content_t *c, ag_arena_t *a, const char *id, int64_t reader_id,
                       ag_content_access_t *access, ag_content_post_t **out)
{
    char        key[AG_CONTENT_ID_LEN + 1];
    ag_status_t st;

    memset(access, 0, sizeof(*access));
    if (c->ops->post_get_as == NULL)
        return AG_DECLINED;
    if ((st = check_id(c, id, key, "post")) != AG_OK)
        return st;
    return c->ops->post_get_as(c, a, key, reader_id, access, out);
}

ag_status_t
ag_content_post_get_many(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                         ag_content_post_t ***out)
{
    ag_content_post_t **res;
    const char        **keys;
    size_t              valid = 0;

    c->err[0] = '\0';
    if (n > AG_CONTENT_FIRST_MAX)
        return ag_content__fail(c, AG_EBADREQ, "at most %d ids at once", AG_CONTENT_FIRST_MAX);
    if ((res = ag_arena_calloc(a, (n ? n : 1) * sizeof(*res))) == NULL ||
        (keys = ag_arena_calloc(a, (n ? n : 1) * sizeof(*keys))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char *k = ag_arena_alloc(a, AG_CONTENT_ID_LEN + 1);
        if (k == NULL)
            return AG_ENOMEM;
        keys[i] = oid_canon(ids[i], k) ? (valid++, k) : NULL; /* NULL: stays a NULL result */
    }
    *out = res;
    return valid ? c->ops->post_get_many(c, a, keys, n, res) : AG_OK;
}

/* ---- comments and replies ---------------------------------------------------------- */

ag_status_t
ag_content_comment_create(ag_content_t *c, ag_arena_t *a, const char *id, const char *post_id,
                          int64_t author_id, const char *body, const ag_content_event_t *ev,
                          ag_content_comment_t **out)
{
    ag_content_comment_t *cm;
    ag_status_t           st;

    c->err[0] = '\0';
    if ((cm = ag_arena_calloc(a, sizeof(*cm))) == NULL)
        return AG_ENOMEM;
    if ((st = check_id(c, post_id, cm->post_id, "post")) != AG_OK ||
        (st = new_id(c, id, cm->id)) != AG_OK || (st = check_body(c, body)) != AG_OK ||
        (st = check_event(c, ev)) != AG_OK)
        return st;
    cm->author_id = author_id;
    if ((cm->body = ag_arena_strdup(a, body)) == NULL)
        return AG_ENOMEM;
    cm->created_at = ag_now_wall_ms();
    if ((st = c->ops->comment_insert(c, a, cm, ev)) != AG_OK)
        return st;
    if (out)
        *out = cm;
    return AG_OK;
}

ag_status_t
ag_content_comment_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_comment_t **out)
{
    char        key[AG_CONTENT_ID_LEN + 1];
    ag_status_t st;
    if ((st = check_id(c, id, key, "comment")) != AG_OK)
        return st;
    return c->ops->comment_get(c, a, key, out);
}

ag_status_t
ag_content_comment_list(ag_content_t *c, ag_arena_t *a, const char *post_id, int first,
                        const char *after, ag_content_comment_page_t *out)
{
    char                key[AG_CONTENT_ID_LEN + 1];
    ag_content__after_t k;
    ag_status_t         st;

    memset(out, 0, sizeof(*out));
    if ((st = check_id(c, post_id, key, "post")) != AG_OK ||
        (st = check_page(c, first, after, &k)) != AG_OK ||
        (st = c->ops->comment_list(c, a, key, first + 1, &k, out)) != AG_OK)
        return st;
    FINISH_PAGE(a, out, first);
    return AG_OK;
}

ag_status_t
ag_content_reply_create(ag_content_t *c, ag_arena_t *a, const char *id, const char *comment_id,
                        int64_t author_id, const char *body, const ag_content_event_t *ev,
                        ag_content_reply_t **out)
{
    ag_content_reply_t *r;
    ag_status_t         st;

    c->err[0] = '\0';
    if ((r = ag_arena_calloc(a, sizeof(*r))) == NULL)
        return AG_ENOMEM;
    if ((st = check_id(c, comment_id, r->comment_id, "comment")) != AG_OK ||
        (st = new_id(c, id, r->id)) != AG_OK || (st = check_body(c, body)) != AG_OK ||
        (st = check_event(c, ev)) != AG_OK)
        return st;
    r->author_id = author_id;
    if ((r->body = ag_arena_strdup(a, body)) == NULL)
        return AG_ENOMEM;
    r->created_at = ag_now_wall_ms();
    if ((st = c->ops->reply_insert(c, a, r, ev)) != AG_OK)
        return st;
    if (out)
        *out = r;
    return AG_OK;
}

ag_status_t
ag_content_reply_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_reply_t **out)
{
    char        key[AG_CONTENT_ID_LEN + 1];
    ag_status_t st;
    if ((st = check_id(c, id, key, "reply")) != AG_OK)
        return st;
    return c->ops->reply_get(c, a, key, out);
}

ag_status_t
ag_content_reply_list(ag_content_t *c, ag_arena_t *a, const char *comment_id, int first,
                      const char *after, ag_content_reply_page_t *out)
{
    char                key[AG_CONTENT_ID_LEN + 1];
    ag_content__after_t k;
    ag_status_t         st;

    memset(out, 0, sizeof(*out));
    if ((st = check_id(c, comment_id, key, "comment")) != AG_OK ||
        (st = check_page(c, first, after, &k)) != AG_OK ||
        (st = c->ops->reply_list(c, a, key, first + 1, &k, out)) != AG_OK)
        return st;
    FINISH_PAGE(a, out, first);
    return AG_OK;
}

/* ---- direct messages ------------------------------------------------------------- */

ag_status_t
ag_content_dm_send(ag_content_t *c, ag_arena_t *a, const char *id, int64_t from_id, int64_t to_id,
                   const char *body, const ag_content_event_t *ev, ag_content_dm_t **out)
{
    ag_content_dm_t *m;
    ag_status_t      st;

    c->err[0] = '\0';
    if ((m = ag_arena_calloc(a, sizeof(*m))) == NULL)
        return AG_ENOMEM;
    if ((st = new_id(c, id, m->id)) != AG_OK || (st = check_body(c, body)) != AG_OK ||
        (st = check_event(c, ev)) != AG_OK)
        return st;
    m->from_id = from_id;
    m->to_id = to_id;
    if ((m->body = ag_arena_strdup(a, body)) == NULL)
        return AG_ENOMEM;
    m->created_at = ag_now_wall_ms();
    if ((st = c->ops->dm_insert(c, a, m, ev)) != AG_OK)
        return st;
    if (out)
        *out = m;
    return AG_OK;
}

ag_status_t
ag_content_dm_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_dm_t **out)
{
    char        key[AG_CONTENT_ID_LEN + 1];
    ag_status_t st;
    if ((st = check_id(c, id, key, "direct message")) != AG_OK)
        return st;
    return c->ops->dm_get(c, a, key, out);
}

ag_status_t
ag_content_dm_list(ag_content_t *c, ag_arena_t *a, int64_t u, int64_t v, int first,
                   const char *after, ag_content_dm_page_t *out)
{
    ag_content__after_t k;
    ag_status_t         st;

    c->err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if ((st = check_page(c, first, after, &k)) != AG_OK ||
        (st = c->ops->dm_list(c, a, u < v ? u : v, u < v ? v : u, first + 1, &k, out)) != AG_OK)
        return st;
    FINISH_PAGE(a, out, first);
    return AG_OK;
}

/* ---- outbox ----------------------------------------------------------------------- */

ag_status_t
ag_content_outbox_pending(ag_content_t *c, ag_arena_t *a, int older_than_s, int64_t due_ms,
                          int limit, ag_content_outbox_t **items, size_t *n)
{
    c->err[0] = '\0';
    *items = NULL;
    *n = 0;
    if (older_than_s < 0 || limit < 1 || limit > AG_CONTENT_FIRST_MAX)
        return ag_content__fail(c, AG_EBADREQ, "older_than_s >= 0 and 1 <= limit <= %d",
                                AG_CONTENT_FIRST_MAX);
    return c->ops->outbox_pending(c, a, older_than_s, due_ms, limit, items, n);
}

ag_status_t
ag_content_outbox_retry_later(ag_content_t *c, const char *msg_id, int64_t next_try_ms,
                              const char *why, int64_t *attempts)
{
    int64_t n = 0;
    c->err[0] = '\0';
    if (msg_id == NULL || *msg_id == '\0')
        return ag_content__fail(c, AG_ENOTFOUND, "outbox: empty msg_id");
    ag_status_t st = c->ops->outbox_retry(c, msg_id, next_try_ms, why ? why : "", &n);
    if (attempts)
        *attempts = n;
    return st;
}

ag_status_t
ag_content_outbox_backlog(ag_content_t *c, ag_arena_t *a, ag_content_outbox_backlog_t *out)
{
    c->err[0] = '\0';
    memset(out, 0, sizeof(*out));
    return c->ops->outbox_backlog(c, a, out);
}

ag_status_t
ag_content_outbox_mark_published(ag_content_t *c, const char *msg_id)
{
    c->err[0] = '\0';
    if (msg_id == NULL || *msg_id == '\0')
        return ag_content__fail(c, AG_ENOTFOUND, "outbox: empty msg_id");
    return c->ops->outbox_mark(c, msg_id);
}

/* ---- edits and deletes of comments, replies and DMs --------------------------------- */

/*
 * The three kinds share the checks: a valid id, a valid body, an event with
 * all its parts; then the backend's edit with the time of the edit.
 */
#define EDIT(c, a, id, body, ev, out, what, op, T)                                                 \
    do {                                                                                           \
        char        key__[AG_CONTENT_ID_LEN + 1];                                                  \
        T          *rec__ = NULL;                                                                  \
        ag_status_t st__;                                                                          \
        if ((st__ = check_id((c), (id), key__, (what))) != AG_OK ||                                \
            (st__ = check_body((c), (body))) != AG_OK || (st__ = check_event((c), (ev))) != AG_OK) \
            return st__;                                                                           \
        if ((st__ = (c)->ops->op((c), (a), key__, (body), ag_now_wall_ms(), (ev), &rec__)) !=      \
            AG_OK)                                                                                 \
            return st__;                                                                           \
        if (out)                                                                                   \
            *(out) = rec__;                                                                        \
        return AG_OK;                                                                              \
    } while (0)

#define DELETE(c, a, id, ev, what, op)                                                             \
    do {                                                                                           \
        char        key__[AG_CONTENT_ID_LEN + 1];                                                  \
        ag_status_t st__;                                                                          \
        if ((st__ = check_id((c), (id), key__, (what))) != AG_OK ||                                \
            (st__ = check_event((c), (ev))) != AG_OK)                                              \
            return st__;                                                                           \
        return (c)->ops->op((c), (a), key__, (ev));                                                \
    } while (0)

ag_status_t
ag_content_comment_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                        const ag_content_event_t *ev, ag_content_comment_t **out)
{
    EDIT(c, a, id, body, ev, out, "comment", comment_edit, ag_content_comment_t);
}

ag_status_t
ag_content_comment_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                          const ag_content_event_t *ev)
{
    DELETE(c, a, id, ev, "comment", comment_delete);
}

ag_status_t
ag_content_reply_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                      const ag_content_event_t *ev, ag_content_reply_t **out)
{
    EDIT(c, a, id, body, ev, out, "reply", reply_edit, ag_content_reply_t);
}

ag_status_t
ag_content_reply_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                        const ag_content_event_t *ev)
{
    DELETE(c, a, id, ev, "reply", reply_delete);
}

ag_status_t
ag_content_dm_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                   const ag_content_event_t *ev, ag_content_dm_t **out)
{
    EDIT(c, a, id, body, ev, out, "direct message", dm_edit, ag_content_dm_t);
}

ag_status_t
ag_content_dm_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    DELETE(c, a, id, ev, "direct message", dm_delete);
}

/* ---- reactions ------------------------------------------------------------------------ */

ag_status_t
ag_content_target_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_target_t *out)
{
    char        key[AG_CONTENT_ID_LEN + 1];
    ag_status_t st;

    memset(out, 0, sizeof(*out));
    if ((st = check_id(c, id, key, "target")) != AG_OK)
        return st;
    return c->ops->target_get(c, a, key, out);
}

static ag_status_t
check_reaction(ag_content_t *c, const ag_content_target_t *t, const char *emoji,
               const ag_content_event_t *ev)
{
    const char *why;
    c->err[0] = '\0';
    if (t == NULL || !ag_content_oid_valid(t->id) || t->kind < AG_CONTENT_KIND_POST ||
        t->kind > AG_CONTENT_KIND_DM)
        return ag_content__fail(c, AG_ENOTFOUND, "reaction: no such target");
    if (ag_content_emoji_check(emoji, &why) != AG_OK)
        return ag_content__fail(c, AG_EBADREQ, "%s", why);
    return check_event(c, ev);
}

ag_status_t
ag_content_reaction_add(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                        int64_t user_id, const char *emoji, int max_emojis,
                        const ag_content_event_t *ev, bool *changed)
{
    bool        capped = false, ch = false;
    ag_status_t st;

    if (changed)
        *changed = false;
    if ((st = check_reaction(c, t, emoji, ev)) != AG_OK)
        return st;
    if (max_emojis < 1)
        return ag_content__fail(c, AG_EBADREQ, "max_emojis must be at least 1");
    st = c->ops->reaction_add(c, a, t, user_id, emoji, ag_now_wall_ms(), max_emojis, ev, &ch,
                              &capped);
    if (st == AG_OK && capped)
        return ag_content__fail(
            c, AG_EBADREQ, "this already has %d different emojis; add one of those", max_emojis);
    if (changed)
        *changed = ch;
    return st;
}

ag_status_t
ag_content_reaction_remove(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                           int64_t user_id, const char *emoji, const ag_content_event_t *ev,
                           bool *changed)
{
    bool        ch = false;
    ag_status_t st;

    if (changed)
        *changed = false;
    if ((st = check_reaction(c, t, emoji, ev)) != AG_OK)
        return st;
    st = c->ops->reaction_remove(c, a, t, user_id, emoji, ev, &ch);
    if (changed)
        *changed = ch;
    return st;
}

ag_status_t
ag_content_reactions(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                     int64_t viewer_id, ag_content_reactions_t **out)
{
    ag_content_reactions_t *res;
    const char            **keys;
    size_t                  valid = 0;

    c->err[0] = '\0';
    if (n > AG_CONTENT_FIRST_MAX)
        return ag_content__fail(c, AG_EBADREQ, "at most %d ids at once", AG_CONTENT_FIRST_MAX);
    if ((res = ag_arena_calloc(a, (n ? n : 1) * sizeof(*res))) == NULL ||
        (keys = ag_arena_calloc(a, (n ? n : 1) * sizeof(*keys))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char *k = ag_arena_alloc(a, AG_CONTENT_ID_LEN + 1);
        if (k == NULL)
            return AG_ENOMEM;
        keys[i] = oid_canon(ids[i], k) ? (valid++, k) : NULL;
    }
    *out = res;
    return valid ? c->ops->reactions(c, a, keys, n, viewer_id, res) : AG_OK;
}
