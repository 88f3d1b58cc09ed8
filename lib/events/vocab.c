/*
 * lib/events/vocab.c — builders and parsers over the tables of vocab.h. The
 * tables are read as written: a pattern is filled placeholder by placeholder,
 * a payload list is walked member by member, so that what the header says is
 * what goes on the wire.
 */
#include "events/vocab.h"
#include "json/json.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char    *pattern;
    ag_ev_stream_t stream;
    const char    *payload;
} subject_def_t;

static const subject_def_t subjects[] = {[AG_EV_UNKNOWN] = {NULL, AG_EV_STREAM_NONE, ""},
#define AG__EV_SUBJECT_DEF(e, pattern, stream, payload)                                            \
    [AG_EV_##e] = {pattern, AG_EV_STREAM_##stream, payload},
                                         AG_EV_SUBJECTS(AG__EV_SUBJECT_DEF)
#undef AG__EV_SUBJECT_DEF
};

static const struct {
    const char     *name;
    ag_ev_subject_t subject;
} streams[] = {[AG_EV_STREAM_NONE] = {NULL, AG_EV_UNKNOWN},
#define AG__EV_STREAM_DEF(e, name, subj) [AG_EV_STREAM_##e] = {name, AG_EV_##subj},
               AG_EV_STREAMS(AG__EV_STREAM_DEF)
#undef AG__EV_STREAM_DEF
};

static const char *const consumers[] = {
#define AG__EV_CONSUMER_DEF(e, pattern, stream) [AG_EV_CONSUMER_##e] = pattern,
    AG_EV_CONSUMERS(AG__EV_CONSUMER_DEF)
#undef AG__EV_CONSUMER_DEF
};

typedef enum { T_ID, T_STR, T_NUM, T_FLAG, T_IDS, T_TEXT } ftype_t;

static const struct {
    const char *key;
    ftype_t     type;
    size_t      off;
} fields[] = {
#define AG__EV_FIELD_DEF(m, key, type) [AG_EVF_##m] = {key, T_##type, offsetof(ag_ev_t, m)},
    AG_EV_FIELDS(AG__EV_FIELD_DEF)
#undef AG__EV_FIELD_DEF
};

static const char *const verbs[] = {[AG_EV_VERB_NONE] = NULL,
#define AG__EV_VERB_DEF(e, name) [AG_EV_VERB_##e] = name,
                                    AG_EV_MESSAGE_VERBS(AG__EV_VERB_DEF)
#undef AG__EV_VERB_DEF
};

/* ---- names ---------------------------------------------------------------------- */

static bool
valid(ag_ev_subject_t s)
{
    return s > AG_EV_UNKNOWN && (size_t)s < AG_ARRAY_LEN(subjects);
}

const char *
ag_ev_stream_name(ag_ev_stream_t s)
{
    return (size_t)s < AG_ARRAY_LEN(streams) ? streams[s].name : NULL;
}

ag_ev_stream_t
ag_ev_stream_of(ag_ev_subject_t s)
{
    return valid(s) ? subjects[s].stream : AG_EV_STREAM_NONE;
}

const char *
ag_ev_pattern(ag_ev_subject_t s)
{
    return valid(s) ? subjects[s].pattern : NULL;
}

/* One placeholder's text: false when it has none (and no wildcard is wanted). */
static bool
fill(const char *ph, size_t phlen, int64_t id, const char *tok, bool wild, char num[24],
     const char **text)
{
    if (phlen == 2 && memcmp(ph, "id", 2) == 0) {
        if (id > 0) {
            ag_fmt_i64(num, id);
            *text = num;
        } else {
            *text = wild && id == 0 ? "*" : NULL;
        }
    } else if (tok) {
        /* {tok} is one token: a '.' would change which subject this is */
        *text = *tok && (phlen == 4 || strchr(tok, '.') == NULL) ? tok : NULL;
    } else {
        *text = wild ? (phlen == 4 ? ">" : "*") : NULL; /* {rest} or {tok} */
    }
    return *text != NULL;
}

/* The pattern with its placeholders filled; 0 when out is short or a value is missing. */
static size_t
expand(char *out, size_t n, const char *pattern, int64_t id, const char *tok, bool wild)
{
    size_t len = 0;

    if (pattern == NULL || n == 0)
        return 0;
    for (const char *p = pattern; *p;) {
        const char *text, *close;
        char        num[24];
        size_t      tl;

        if (*p != '{' || (close = strchr(p, '}')) == NULL) {
            if (len + 1 >= n)
                return 0;
            out[len++] = *p++;
            continue;
        }
        if (!fill(p + 1, (size_t)(close - p - 1), id, tok, wild, num, &text))
            return 0;
        tl = strlen(text);
        if (len + tl >= n)
            return 0;
        memcpy(out + len, text, tl);
        len += tl;
        p = close + 1;
    }
    out[len] = '\0';
    return len;
}

size_t
ag_ev_subject(char *out, size_t n, ag_ev_subject_t s, int64_t id, const char *tok)
{
    return valid(s) && *subjects[s].pattern ? expand(out, n, subjects[s].pattern, id, tok, false)
                                            : 0;
}

size_t
ag_ev_subject_of(const ag_ev_t *ev, char *out, size_t n)
{
    return ag_ev_subject(out, n, ev->subject, ev->id, ev->tok);
}

size_t
ag_ev_filter(char *out, size_t n, ag_ev_subject_t s, int64_t id, const char *tok)
{
    return valid(s) ? expand(out, n, subjects[s].pattern, id < 0 ? -1 : id, tok, true) : 0;
}

size_t
ag_ev_stream_filter(ag_ev_stream_t s, char *out, size_t n)
{
    return ag_ev_stream_name(s) ? ag_ev_filter(out, n, streams[s].subject, 0, NULL) : 0;
}

size_t
ag_ev_consumer(char *out, size_t n, ag_ev_consumer_t c, int64_t id, const char *tok)
{
    return (size_t)c < AG_ARRAY_LEN(consumers) ? expand(out, n, consumers[c], id, tok, false) : 0;
}

size_t
ag_ev_msgid_doc(char *out, size_t n, const char *doc_id, const char *what)
{
    int w = snprintf(out, n, "%s-%s", doc_id, what);
    return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

size_t
ag_ev_msgid_notify(char *out, size_t n, int64_t notification_id)
{
    int w = snprintf(out, n, "notify-%lld", (long long)notification_id);
    return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

ag_ev_verb_t
ag_ev_verb(const char *tok)
{
    for (size_t v = 1; tok && v < AG_ARRAY_LEN(verbs); v++)
        if (strcmp(tok, verbs[v]) == 0)
            return (ag_ev_verb_t)v;
    return AG_EV_VERB_NONE;
}

const char *
ag_ev_verb_name(ag_ev_verb_t v)
{
    return (size_t)v < AG_ARRAY_LEN(verbs) ? verbs[v] : NULL;
}

/* ---- payloads ------------------------------------------------------------------- */

/* Each member of a payload list: its field and whether it is optional ("?"). */
typedef struct {
    const char *p;
} members_t;

static bool
next_member(members_t *it, ag_ev_field_t *f, bool *optional)
{
    size_t len;

    while (*it->p == ' ')
        it->p++;
    if (*it->p == '\0')
        return false;
    len = strcspn(it->p, " ?");
    *optional = it->p[len] == '?';
    *f = AG_EVF__COUNT;
    for (size_t i = 0; i < AG_ARRAY_LEN(fields); i++)
        if (strlen(fields[i].key) == len && memcmp(fields[i].key, it->p, len) == 0)
            *f = (ag_ev_field_t)i;
    it->p += len + (*optional ? 1 : 0);
    return true;
}

#define AT(ev, f, T) (*(T *)((char *)(ev) + fields[f].off))

/* Whether member f of ev holds a value (an id not 0, a string not NULL, a flag true). */
static bool
is_set(const ag_ev_t *ev, ag_ev_field_t f)
{
    switch (fields[f].type) {
    case T_ID:
        return AT(ev, f, const int64_t) != 0;
    case T_NUM:
        return AT(ev, f, const uint64_t) != 0;
    case T_FLAG:
        return AT(ev, f, const bool);
    case T_IDS:
        return true; /* an empty list is a list */
    case T_STR:
    case T_TEXT:
        return AT(ev, f, const char *const) != NULL;
    }
    return false; /* impossible: every type is handled above */
}

static ag_status_t
put_value(const ag_ev_t *ev, ag_ev_field_t f, ag_buf_t *out)
{
    char num[24];

    switch (fields[f].type) {
    case T_ID:
        ag_fmt_i64(num, AT(ev, f, const int64_t));
        return ag_buf_printf(out, "\"%s\"", num);
    case T_NUM:
        return ag_buf_printf(out, "%llu", (unsigned long long)AT(ev, f, const uint64_t));
    case T_FLAG:
        return ag_buf_puts(out, AT(ev, f, const bool) ? "\"true\"" : "\"false\"");
    case T_STR: {
        const char *s = AT(ev, f, const char *const);
        return s ? ag_json_escape(out, s, strlen(s)) : AG_EBADREQ;
    }
    case T_TEXT:
        return ev->data ? ag_json_escape(out, ev->data, ev->data_len) : AG_EBADREQ;
    case T_IDS: {
        ag_status_t st = ag_buf_puts(out, "[");
        for (size_t i = 0; st == AG_OK && i < ev->nchannels; i++) {
            ag_fmt_i64(num, ev->channels[i]);
            st = ag_buf_printf(out, "%s\"%s\"", i ? "," : "", num);
        }
        return st == AG_OK ? ag_buf_puts(out, "]") : st;
    }
    }
    return AG_EINTERNAL; /* impossible: every type is handled above */
}

ag_status_t
ag_ev_payload(const ag_ev_t *ev, ag_buf_t *out)
{
    members_t     it;
    ag_ev_field_t f;
    bool          optional;
    int           n = 0;
    ag_status_t   st;

    if (!valid(ev->subject) || *subjects[ev->subject].payload == '\0')
        return AG_EBADREQ;
    if ((st = ag_buf_puts(out, "{")) != AG_OK)
        return st;
    for (it.p = subjects[ev->subject].payload; next_member(&it, &f, &optional);) {
        if (f == AG_EVF__COUNT)
            return AG_EINTERNAL; /* impossible: vocab.h names a member it does not define */
        if (optional && !is_set(ev, f))
            continue;
        if ((st = ag_buf_printf(out, "%s\"%s\":", n++ ? "," : "", fields[f].key)) != AG_OK ||
            (st = put_value(ev, f, out)) != AG_OK)
            return st;
    }
    return ag_buf_puts(out, "}");
}

ag_status_t
ag_ev_text(const ag_ev_t *ev, ag_arena_t *a, const char **subject, const char **payload)
{
    char        subj[AG_EV_NAME_MAX];
    ag_buf_t    b;
    ag_status_t st;

    if (ag_ev_subject_of(ev, subj, sizeof(subj)) == 0)
        return AG_EBADREQ;
    ag_buf_init(&b);
    if ((st = ag_ev_payload(ev, &b)) == AG_OK) {
        *subject = ag_arena_strdup(a, subj);
        *payload = ag_arena_strdup(a, b.data);
        if (*subject == NULL || *payload == NULL)
            st = AG_ENOMEM;
    }
    ag_buf_fini(&b);
    return st;
}

/* ---- parsing -------------------------------------------------------------------- */

/* Match one pattern; the placeholders' values into *id and tok. */
static bool
match_one(const char *pattern, const char *s, int64_t *id, char *tok, size_t toklen)
{
    const char *p = pattern;

    while (*p) {
        const char *close;
        if (*p != '{' || (close = strchr(p, '}')) == NULL) {
            if (*s++ != *p++)
                return false;
            continue;
        }
        size_t      phlen = (size_t)(close - p - 1);
        bool        rest = phlen == 4 && memcmp(p + 1, "rest", 4) == 0;
        const char *end = rest ? s + strlen(s) : s + strcspn(s, ".");
        size_t      len = (size_t)(end - s);
        if (len == 0)
            return false;
        if (phlen == 2 && memcmp(p + 1, "id", 2) == 0) {
            char    num[24];
            int64_t v;
            if (len >= sizeof(num) || strspn(s, "0123456789") < len)
                return false;
            memcpy(num, s, len);
            num[len] = '\0';
            if (ag_parse_i64(num, &v) != AG_OK || v <= 0)
                return false;
            *id = v;
        } else if (tok) {
            if (len >= toklen)
                return false;
            memcpy(tok, s, len);
            tok[len] = '\0';
        }
        s = end;
        p = close + 1;
    }
    return *s == '\0';
}

ag_ev_subject_t
ag_ev_match(const char *subject, int64_t *id, char *tok, size_t toklen)
{
    if (subject == NULL)
        return AG_EV_UNKNOWN;
    for (size_t s = 1; s < AG_ARRAY_LEN(subjects); s++) {
        *id = 0;
        if (tok && toklen)
            tok[0] = '\0';
        /* the first character tells most patterns apart before any work */
        if (subjects[s].pattern[0] == subject[0] &&
            match_one(subjects[s].pattern, subject, id, tok, toklen))
            return (ag_ev_subject_t)s;
    }
    *id = 0;
    return AG_EV_UNKNOWN;
}

/* An id as "45" or 45, >= 0 (0: the placeholder of a deleted actor). */
static bool
get_id(ag_json_t *v, int64_t *out)
{
    const char *s;
    if (ag_json_type(v) == AG_JSON_INT) {
        *out = ag_json_as_i64(v);
        return *out >= 0;
    }
    s = ag_json_as_str(v);
    return s && ag_parse_i64(s, out) == AG_OK && *out >= 0;
}

static bool
get_ids(ag_ev_t *ev, ag_json_t *arr)
{
    size_t   n = ag_json_len(arr);
    int64_t *ids;

    if (ag_json_type(arr) != AG_JSON_ARRAY || (ids = calloc(n ? n : 1, sizeof(*ids))) == NULL)
        return false;
    ev->ids__ = ids;
    for (size_t i = 0; i < n; i++) {
        int64_t id;
        if (get_id(ag_json_at(arr, i), &id) && id > 0)
            ids[ev->nchannels++] = id; /* a malformed entry is skipped, the rest kept */
    }
    ev->channels = ids;
    return true;
}

/* Member f from the JSON object: true when present and of its type. */
static bool
get_member(ag_ev_t *ev, ag_json_t *o, ag_ev_field_t f)
{
    ag_json_t *v = ag_json_get(o, fields[f].key);
    int64_t    n;

    if (v == NULL)
        return false;
    switch (fields[f].type) {
    case T_ID:
        return get_id(v, &AT(ev, f, int64_t));
    case T_NUM:
        if (ag_json_type(v) != AG_JSON_INT || (n = ag_json_as_i64(v)) < 0)
            return false;
        AT(ev, f, uint64_t) = (uint64_t)n;
        return true;
    case T_FLAG:
        AT(ev, f, bool) = ag_json_as_str(v) && strcmp(ag_json_as_str(v), "true") == 0;
        return ag_json_as_str(v) != NULL;
    case T_STR:
        return (AT(ev, f, const char *) = ag_json_as_str(v)) != NULL;
    case T_TEXT:
        ev->data_len = ag_json_str_len(v);
        return (ev->data = ag_json_as_str(v)) != NULL;
    case T_IDS:
        return get_ids(ev, v);
    }
    return false; /* impossible: every type is handled above */
}

ag_status_t
ag_ev_decode(const char *subject, const char *data, size_t len, ag_ev_t *ev)
{
    char          err[128];
    ag_json_t    *o;
    members_t     it;
    ag_ev_field_t f;
    bool          optional;

    memset(ev, 0, sizeof(*ev));
    ev->subject = ag_ev_match(subject, &ev->id, ev->tok__, sizeof(ev->tok__));
    if (ev->subject == AG_EV_UNKNOWN)
        return AG_EBADREQ;
    ev->tok = ev->tok__[0] ? ev->tok__ : NULL;
    if ((o = ag_json_parse(data, len, 8, err, sizeof(err))) == NULL)
        return AG_EBADREQ;
    ev->json__ = o;
    if (ag_json_type(o) != AG_JSON_OBJECT)
        return AG_EBADREQ;
    for (it.p = subjects[ev->subject].payload; next_member(&it, &f, &optional);)
        if (f != AG_EVF__COUNT && get_member(ev, o, f))
            ev->has |= 1u << f;
    return AG_OK;
}

void
ag_ev_fini(ag_ev_t *ev)
{
    ag_json_free(ev->json__);
    free(ev->ids__);
    ev->json__ = NULL;
    ev->ids__ = NULL;
}

/* ---- JetStream deliveries ------------------------------------------------------- */

bool
ag_ev_jsack_parse(const char *reply, ag_ev_jsack_t *out)
{
    const char *tok[13];
    int         n = 0;

    if (reply == NULL || strncmp(reply, "$JS.ACK.", 8) != 0)
        return false;
    for (const char *p = reply; p && n < 13; p = strchr(p, '.'), p = p ? p + 1 : NULL)
        tok[n++] = p;
    /* v1: 9 tokens, <delivered> is the 5th (0-based 4); v2: 12 or more, the 7th */
    int base = n == 9 ? 4 : n >= 12 ? 6 : -1;
    if (base < 0)
        return false;
    out->delivered = strtoull(tok[base], NULL, 10);
    out->stream_seq = strtoull(tok[base + 1], NULL, 10);
    out->consumer_seq = strtoull(tok[base + 2], NULL, 10);
    return out->stream_seq > 0;
}
