/* lib/core/status.c — the one table that maps statuses to HTTP and contract codes. */
#include "core/core.h"

#include <errno.h>

struct status_row {
    ag_status_t  st;
    int          http;
    const char  *code;
    const char  *name;
};

static const struct status_row rows[] = {
#define AG__STATUS_ROW(name, val, http, code) {name, http, code, #name},
    AG_STATUS_MAP(AG__STATUS_ROW)
#undef AG__STATUS_ROW
};

static const struct status_row *
find(ag_status_t st)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(rows); i++)
        if (rows[i].st == st)
            return &rows[i];
    return NULL;
}

int
ag_status_http(ag_status_t st)
{
    const struct status_row *r = find(st);
    return r ? r->http : 500;
}

const char *
ag_status_code(ag_status_t st)
{
    const struct status_row *r = find(st);
    return r ? r->code : "internal";
}

const char *
ag_status_name(ag_status_t st)
{
    const struct status_row *r = find(st);
    return r ? r->name : "AG_UNKNOWN";
}

ag_status_t
ag_status_from_errno(int err)
{
    switch (err) {
    case 0:            return AG_OK;
    case ENOMEM:       return AG_ENOMEM;
    case ENOENT:       return AG_ENOTFOUND;
    case EACCES:
    case EPERM:        return AG_EFORBIDDEN;
    case EINVAL:       return AG_EBADREQ;
    case E2BIG:
    case EFBIG:        return AG_ETOOLARGE;
    case ECONNREFUSED:
    case ECONNRESET:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EPIPE:
    case EAGAIN:       return AG_EUNAVAIL;
    default:           return AG_EINTERNAL;
    }
}
