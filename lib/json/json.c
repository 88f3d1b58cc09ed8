/* lib/json/json.c — the json-c binding; the only file that includes json-c. */
#include "json/json.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/*
 * json-c accepts 'single-quoted' strings even in strict mode; JSON does not.
 * Scan for a quote character outside double-quoted strings.
 */
static bool
has_single_quote(const char *buf, size_t len)
{
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '\'') {
            return true;
        }
    }
    return false;
}

ag_json_t *
ag_json_parse(const char *buf, size_t len, int max_depth, char *err, size_t errlen)
{
    struct json_tokener *tok;
    ag_json_t           *v;
    enum json_tokener_error jerr;

    if (errlen)
        err[0] = '\0';
    if (len > INT32_MAX) {
        snprintf(err, errlen, "JSON document too large");
        return NULL;
    }
    if (has_single_quote(buf, len)) {
        snprintf(err, errlen, "invalid JSON: single-quoted strings are not JSON");
        return NULL;
    }
    tok = json_tokener_new_ex(max_depth > 0 ? max_depth : 32);
    if (tok == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    v = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue && v == NULL) {
        /* a top-level number ("9") is complete only once something follows it:
         * end the input with one space, which JSON allows anywhere */
        v = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    if (jerr == json_tokener_continue) {
        snprintf(err, errlen, "unexpected end of JSON input");
        json_object_put(v);
        v = NULL;
    } else if (jerr != json_tokener_success) {
        snprintf(err, errlen, "invalid JSON at offset %lu: %s",
                 (unsigned long)json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
        v = NULL;
    } else {
        /* allow trailing white space only */
        for (size_t i = end; i < len; i++) {
            char c = buf[i];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                snprintf(err, errlen, "invalid JSON at offset %lu: trailing data",
                         (unsigned long)i);
                json_object_put(v);
                v = NULL;
                break;
            }
        }
        if (v == NULL && errlen && err[0] == '\0')
            snprintf(err, errlen, "JSON null is not accepted here");
    }
    json_tokener_free(tok);
    return v;
}

void
ag_json_free(ag_json_t *v)
{
    json_object_put(v);
}

ag_json_t *
ag_json_ref(ag_json_t *v)
{
    return json_object_get(v);
}

static void
put_cb(void *p)
{
    json_object_put(p);
}

ag_json_t *
ag_json_on_arena(ag_arena_t *a, ag_json_t *v)
{
    if (v == NULL)
        return NULL;
    return ag_arena_cleanup(a, put_cb, v) == AG_OK ? v : NULL;
}

ag_json_t *ag_json_obj(void) { return json_object_new_object(); }
ag_json_t *ag_json_arr(void) { return json_object_new_array(); }
ag_json_t *ag_json_str(const char *s) { return s ? json_object_new_string(s) : NULL; }
ag_json_t *ag_json_strn(const char *s, size_t n) { return json_object_new_string_len(s, (int)n); }
ag_json_t *ag_json_int(int64_t v) { return json_object_new_int64(v); }
ag_json_t *ag_json_double(double v) { return json_object_new_double(v); }
ag_json_t *ag_json_bool(bool v) { return json_object_new_boolean(v); }

ag_status_t
ag_json_set(ag_json_t *obj, const char *key, ag_json_t *child)
{
    if (json_object_object_add(obj, key, child) != 0) {
        json_object_put(child);
        return AG_ENOMEM;
    }
    return AG_OK;
}

ag_status_t
ag_json_set_str(ag_json_t *obj, const char *key, const char *s)
{
    return ag_json_set(obj, key, ag_json_str(s));
}

ag_status_t
ag_json_set_int(ag_json_t *obj, const char *key, int64_t v)
{
    return ag_json_set(obj, key, ag_json_int(v));
}

ag_status_t
ag_json_set_bool(ag_json_t *obj, const char *key, bool v)
{
    return ag_json_set(obj, key, ag_json_bool(v));
}

ag_status_t
ag_json_push(ag_json_t *arr, ag_json_t *child)
{
    if (json_object_array_add(arr, child) != 0) {
        json_object_put(child);
        return AG_ENOMEM;
    }
    return AG_OK;
}

ag_json_type_t
ag_json_type(const ag_json_t *v)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean: return AG_JSON_BOOL;
    case json_type_int:     return AG_JSON_INT;
    case json_type_double:  return AG_JSON_DOUBLE;
    case json_type_string:  return AG_JSON_STRING;
    case json_type_object:  return AG_JSON_OBJECT;
    case json_type_array:   return AG_JSON_ARRAY;
    case json_type_null:
    default:                return AG_JSON_NULL;
    }
}

ag_json_t *
ag_json_get(const ag_json_t *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_is_type(obj, json_type_object))
        return NULL;
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

bool
ag_json_has(const ag_json_t *obj, const char *key)
{
    return json_object_is_type(obj, json_type_object) &&
           json_object_object_get_ex(obj, key, NULL);
}

size_t
ag_json_len(const ag_json_t *arr)
{
    return json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

ag_json_t *
ag_json_at(const ag_json_t *arr, size_t i)
{
    return i < ag_json_len(arr) ? json_object_array_get_idx(arr, i) : NULL;
}

ag_status_t
ag_json_get_str(const ag_json_t *obj, const char *key, const char **out)
{
    ag_json_t *v = ag_json_get(obj, key);
    if (v == NULL)
        return AG_DECLINED;
    if (!json_object_is_type(v, json_type_string))
        return AG_EBADREQ;
    *out = json_object_get_string(v);
    return AG_OK;
}

ag_status_t
ag_json_get_i64(const ag_json_t *obj, const char *key, int64_t *out)
{
    ag_json_t *v = ag_json_get(obj, key);
    if (v == NULL)
        return AG_DECLINED;
    if (!json_object_is_type(v, json_type_int))
        return AG_EBADREQ;
    *out = json_object_get_int64(v);
    return AG_OK;
}

ag_status_t
ag_json_get_bool(const ag_json_t *obj, const char *key, bool *out)
{
    ag_json_t *v = ag_json_get(obj, key);
    if (v == NULL)
        return AG_DECLINED;
    if (!json_object_is_type(v, json_type_boolean))
        return AG_EBADREQ;
    *out = json_object_get_boolean(v);
    return AG_OK;
}

const char *
ag_json_as_str(const ag_json_t *v)
{
    return json_object_is_type(v, json_type_string) ? json_object_get_string((ag_json_t *)v)
                                                    : NULL;
}

size_t
ag_json_str_len(const ag_json_t *v)
{
    return json_object_is_type(v, json_type_string)
               ? (size_t)json_object_get_string_len(v) : 0;
}

int64_t ag_json_as_i64(const ag_json_t *v) { return json_object_get_int64(v); }
double  ag_json_as_double(const ag_json_t *v) { return json_object_get_double(v); }
bool    ag_json_as_bool(const ag_json_t *v) { return json_object_get_boolean(v); }

void
ag_json_each(const ag_json_t *obj, ag_json_each_fn fn, void *ud)
{
    if (!json_object_is_type(obj, json_type_object))
        return;
    json_object_object_foreach((ag_json_t *)obj, key, val) {
        if (!fn(key, val, ud))
            return;
    }
}

const char *
ag_json_dump(ag_json_t *v, size_t *len)
{
    size_t      n = 0;
    const char *s = json_object_to_json_string_length(
        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (len)
        *len = n;
    return s;
}

ag_status_t
ag_json_escape(ag_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ag_status_t st = ag_buf_append(b, "\"", 1);
    size_t run = 0;

    for (size_t i = 0; i < n && st == AG_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        st = ag_buf_append(b, s + run, i - run);
        run = i + 1;
        if (st != AG_OK)
            break;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            st = ag_buf_append(b, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            st = ag_buf_append(b, e, 6);
        }
    }
    if (st == AG_OK)
        st = ag_buf_append(b, s + run, n - run);
    if (st == AG_OK)
        st = ag_buf_append(b, "\"", 1);
    return st;
}

ag_json_t *
ag_json_parse_own(const char *buf, size_t len, int max_depth)
{
    struct json_tokener *tok;
    ag_json_t           *v;

    if (len > INT32_MAX || (tok = json_tokener_new_ex(max_depth)) == NULL)
        return NULL;
    v = json_tokener_parse_ex(tok, buf, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(v);
        v = NULL;
    }
    json_tokener_free(tok);
    return v;
}
