/* lib/http/http_int.h — declarations shared by the files of lib/http only. */
#ifndef AG_HTTP_INT_H
#define AG_HTTP_INT_H

#include "http/http.h"

/* Read up to n body bytes from the request's input stream; *got = bytes read. */
ag_status_t ag_http__read(ag_req_t *req, char *dst, size_t n, size_t *got);

#endif
