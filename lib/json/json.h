/*
 * lib/json/json.h — JSON values over json-c, behind our own names so that
 * json-c's types stay inside this module. A value returned by a constructor
 * is owned by the caller until handed to a container (set/push take
 * ownership) or registered on an arena with ag_json_on_arena().
 */
#ifndef AG_JSON_H
#define AG_JSON_H

#include "core/core.h"

typedef struct json_object ag_json_t;

typedef enum {
    AG_JSON_NULL, AG_JSON_BOOL, AG_JSON_INT, AG_JSON_DOUBLE, AG_JSON_STRING, AG_JSON_OBJECT,
    AG_JSON_ARRAY
} ag_json_type_t;

/*
 * Parse exactly one JSON value of len bytes (trailing white space allowed).
 * max_depth bounds nesting. NULL on error, with a message in err.
 */
ag_json_t *ag_json_parse(const char *buf, size_t len, int max_depth, char *err, size_t errlen);
/*
 * Read back JSON text this process printed itself (a whole object or array):
 * no UTF-8 or quoting checks, so bytes come back as they went out. NULL on
 * error or for want of memory.
 */
ag_json_t *ag_json_parse_own(const char *buf, size_t len, int max_depth);
void       ag_json_free(ag_json_t *v);                       /* accepts NULL */
ag_json_t *ag_json_ref(ag_json_t *v);                        /* +1 reference */
/* Release v when the arena is reset; returns v (NULL stays NULL). */
ag_json_t *ag_json_on_arena(ag_arena_t *a, ag_json_t *v);

ag_json_t *ag_json_obj(void);
ag_json_t *ag_json_arr(void);
ag_json_t *ag_json_str(const char *s);                       /* NULL → JSON null */
ag_json_t *ag_json_strn(const char *s, size_t n);
ag_json_t *ag_json_int(int64_t v);
ag_json_t *ag_json_double(double v);
ag_json_t *ag_json_bool(bool v);
#define    ag_json_null() ((ag_json_t *)NULL)                /* json-c's null is NULL */

/* Object and array building; each takes ownership of child. */
ag_status_t ag_json_set(ag_json_t *obj, const char *key, ag_json_t *child);
ag_status_t ag_json_set_str(ag_json_t *obj, const char *key, const char *s);
ag_status_t ag_json_set_int(ag_json_t *obj, const char *key, int64_t v);
ag_status_t ag_json_set_bool(ag_json_t *obj, const char *key, bool v);
ag_status_t ag_json_push(ag_json_t *arr, ag_json_t *child);

ag_json_type_t ag_json_type(const ag_json_t *v);
/* Member of an object, or NULL when absent (also NULL for an explicit null). */
ag_json_t     *ag_json_get(const ag_json_t *obj, const char *key);
bool           ag_json_has(const ag_json_t *obj, const char *key);
size_t         ag_json_len(const ag_json_t *arr);
ag_json_t     *ag_json_at(const ag_json_t *arr, size_t i);
/*
 * Typed member getters: AG_OK with *out set; AG_DECLINED when the key is
 * absent or null; AG_EBADREQ when it holds another type.
 */
ag_status_t ag_json_get_str(const ag_json_t *obj, const char *key, const char **out);
ag_status_t ag_json_get_i64(const ag_json_t *obj, const char *key, int64_t *out);
ag_status_t ag_json_get_bool(const ag_json_t *obj, const char *key, bool *out);
const char *ag_json_as_str(const ag_json_t *v);              /* NULL unless a string */
size_t      ag_json_str_len(const ag_json_t *v);
int64_t     ag_json_as_i64(const ag_json_t *v);
double      ag_json_as_double(const ag_json_t *v);
bool        ag_json_as_bool(const ag_json_t *v);

/* Iterate an object's members in insertion order. */
typedef bool (*ag_json_each_fn)(const char *key, ag_json_t *val, void *ud);  /* false stops */
void ag_json_each(const ag_json_t *obj, ag_json_each_fn fn, void *ud);

/* Compact serialization; the text lives as long as v (or until v changes). */
const char *ag_json_dump(ag_json_t *v, size_t *len);
/* Append s as a quoted JSON string (for hand-built hot-path frames). */
ag_status_t ag_json_escape(ag_buf_t *b, const char *s, size_t n);

#endif
