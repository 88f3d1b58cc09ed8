/* fcgi/validate.c — field rules of CONTRACT §5, each failure a message naming the rule. */
#include "validate.h"

#include <string.h>

size_t
fcgi_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

const char *
fcgi_check_username(const char *u)
{
    size_t n = strlen(u);
    if (n < 3 || n > 32)
        return "username must be 3 to 32 characters long";
    for (const char *p = u; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return "username may contain only lowercase letters a-z, digits 0-9 and _";
    return NULL;
}

const char *
fcgi_check_password(const char *p)
{
    size_t n = fcgi_utf8_len(p);
    if (n < 8)
        return "password must be at least 8 characters long";
    if (n > 128)
        return "password must be at most 128 characters long";
    return NULL;
}

const char *
fcgi_check_text(const char *field, const char *v, size_t min, size_t max, char *buf, size_t n)
{
    size_t len = fcgi_utf8_len(v);
    if (len < min || len > max) {
        snprintf(buf, n, "%s must be %zu to %zu characters long", field, min, max);
        return buf;
    }
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') {
            snprintf(buf, n, "%s must not contain control characters", field);
            return buf;
        }
    return NULL;
}

ag_status_t
fcgi_opt_str(ag_req_t *req, ag_json_t *body, const char *key, const char **out, bool *present)
{
    ag_status_t st = ag_json_get_str(body, key, out);
    *present = ag_json_has(body, key);
    if (st == AG_EBADREQ)
        return ag_req_fail(req, AG_EBADREQ, "%s must be a string", key);
    if (st == AG_DECLINED)
        *out = NULL;  /* absent, or null: clears the field when present */
    return AG_OK;
}
