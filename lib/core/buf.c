/* lib/core/buf.c — growable, always NUL-terminated byte buffer. */
#include "core/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ag_buf_init(ag_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
ag_buf_fini(ag_buf_t *b)
{
    free(b->data);
    ag_buf_init(b);
}

void
ag_buf_reset(ag_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static ag_status_t
reserve(ag_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return AG_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return AG_ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return AG_ENOMEM;
    b->data = p;
    b->cap = cap;
    return AG_OK;
}

ag_status_t
ag_buf_reserve(ag_buf_t *b, size_t extra)
{
    return reserve(b, extra);
}

ag_status_t
ag_buf_append(ag_buf_t *b, const void *p, size_t n)
{
    if (reserve(b, n) != AG_OK)
        return AG_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return AG_OK;
}

ag_status_t
ag_buf_puts(ag_buf_t *b, const char *s)
{
    return ag_buf_append(b, s, strlen(s));
}

ag_status_t
ag_buf_printf(ag_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return AG_EINTERNAL;
    if (reserve(b, (size_t)n) != AG_OK)
        return AG_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return AG_OK;
}
