/* fcgi/routes/openapi.c — GET /openapi.json: the document in fcgi/openapi.json, compiled in. */
#include "app.h"

#include <string.h>

extern const char fcgi_openapi_doc[];  /* generated from fcgi/openapi.json at build time */

ag_status_t
fcgi_openapi_get(ag_req_t *req)
{
    return ag_resp_raw(req, 200, "application/json", fcgi_openapi_doc, strlen(fcgi_openapi_doc));
}
