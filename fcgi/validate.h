/* fcgi/validate.h — input rules shared by the REST handlers. */
#ifndef FCGI_VALIDATE_H
#define FCGI_VALIDATE_H

#include "app.h"

#include <stdio.h>

/* Each check returns NULL when valid, else a message for the 400 response. */
const char *fcgi_check_username(const char *u);
const char *fcgi_check_password(const char *p);
/* A free-text field of min..max characters without control characters (buf holds the message). */
const char *fcgi_check_text(const char *field, const char *v, size_t min, size_t max, char *buf,
                            size_t n);
size_t      fcgi_utf8_len(const char *s);
/*
 * Optional string member: *out = value or NULL (absent or null); *present
 * tells whether the key was in the body. A non-string is 400 (response set).
 */
ag_status_t fcgi_opt_str(ag_req_t *req, ag_json_t *body, const char *key, const char **out,
                         bool *present);

#endif
