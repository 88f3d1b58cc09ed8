/* tests/unit/json/test_json.c — parsing limits, typed getters, building and escaping. */
#include "json/json.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

int
main(void)
{
    char        err[160];
    const char *s = NULL;
    int64_t     n = 0;
    bool        b = false;

    const char doc[] = "{\"name\":\"ana\",\"age\":30,\"ok\":true,\"nil\":null,\"list\":[1,2,3]}";
    ag_json_t *v = ag_json_parse(doc, strlen(doc), 8, err, sizeof(err));
    ok(v != NULL, "parses an object");
    is_int(ag_json_type(v), AG_JSON_OBJECT, "type is object");
    ok(ag_json_get_str(v, "name", &s) == AG_OK && strcmp(s, "ana") == 0, "get_str");
    ok(ag_json_get_i64(v, "age", &n) == AG_OK && n == 30, "get_i64");
    ok(ag_json_get_bool(v, "ok", &b) == AG_OK && b, "get_bool");
    is_int(ag_json_get_str(v, "missing", &s), AG_DECLINED, "absent key is AG_DECLINED");
    is_int(ag_json_get_str(v, "nil", &s), AG_DECLINED, "null is treated as absent");
    is_int(ag_json_get_str(v, "age", &s), AG_EBADREQ, "wrong type is AG_EBADREQ");
    is_int(ag_json_len(ag_json_get(v, "list")), 3, "array length");
    is_int(ag_json_as_i64(ag_json_at(ag_json_get(v, "list"), 2)), 3, "array element");
    ag_json_free(v);

    ok(ag_json_parse("{\"a\":", 5, 8, err, sizeof(err)) == NULL, "truncated JSON refused");
    ok(strstr(err, "unexpected end") != NULL, "truncation explained: %s", err);
    ok(ag_json_parse("{\"a\":1} x", 9, 8, err, sizeof(err)) == NULL, "trailing data refused");
    ok(ag_json_parse("{'a':1}", 7, 8, err, sizeof(err)) == NULL, "single quotes refused (strict)");
    ok(ag_json_parse("[[[[[[[[[[1]]]]]]]]]]", 21, 5, err, sizeof(err)) == NULL,
       "nesting deeper than the limit refused");
    ok(ag_json_parse("\"\xff\"", 3, 8, err, sizeof(err)) == NULL, "invalid UTF-8 refused");
    v = ag_json_parse("9", 1, 8, err, sizeof(err));
    ok(v != NULL && ag_json_as_i64(v) == 9, "a bare top-level number parses (found by fuzz_rest_body)");
    ag_json_free(v);
    v = ag_json_parse("-1.5e3", 6, 8, err, sizeof(err));
    ok(v != NULL && ag_json_as_double(v) == -1500.0, "a bare float parses");
    ag_json_free(v);
    ok(ag_json_parse("9 x", 3, 8, err, sizeof(err)) == NULL, "a number with trailing data is refused");
    ok(ag_json_parse("", 0, 8, err, sizeof(err)) == NULL, "empty input is refused");
    v = ag_json_parse("{\"a\":1}  \n", 10, 8, err, sizeof(err));
    ok(v != NULL, "trailing white space accepted");
    ag_json_free(v);

    ag_json_t *o = ag_json_obj(), *arr = ag_json_arr();
    ag_json_set_str(o, "id", "45");
    ag_json_set_int(o, "n", -3);
    ag_json_set_bool(o, "t", true);
    ag_json_set(o, "z", ag_json_null());
    ag_json_push(arr, ag_json_str("x\"y"));
    ag_json_set(o, "arr", arr);
    size_t len = 0;
    is_str(ag_json_dump(o, &len), "{\"id\":\"45\",\"n\":-3,\"t\":true,\"z\":null,\"arr\":[\"x\\\"y\"]}",
           "built object serializes compactly in insertion order");
    ag_json_free(o);

    ag_buf_t buf;
    ag_buf_init(&buf);
    ag_json_escape(&buf, "a\"b\\c\n\x01/", 8);
    is_str(buf.data, "\"a\\\"b\\\\c\\u000a\\u0001/\"", "escape quotes, backslash, controls");
    ag_buf_fini(&buf);

    ag_arena_t *a = ag_arena_new(0);
    ok(ag_json_on_arena(a, ag_json_obj()) != NULL, "value registered on an arena");
    ag_arena_free(a);  /* LeakSanitizer checks the value was released */
    return done_testing();
}
