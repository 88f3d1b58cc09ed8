/*
 * fcgi/app.h — state shared by every request of one agora.fcgi process:
 * configuration and one connection each to PostgreSQL, Redis and NATS.
 * A FastCGI process serves one request at a time, so none of it is locked.
 */
#ifndef FCGI_APP_H
#define FCGI_APP_H

#include "cache/cache.h"
#include "config/config.h"
#include "db/db.h"
#include "events/events.h"
#include "http/http.h"

typedef struct {
    ag_config_t *cfg;
    ag_db_t     *db;
    ag_cache_t  *cache;
    ag_events_t *events;
} fcgi_app_t;

#define FCGI_APP(req) ((fcgi_app_t *)(req)->app)

/* Route handlers, one family per file in fcgi/routes/. */
ag_status_t fcgi_health_get(ag_req_t *req);

/* The dispatcher: routes /api/v1/... and answers 404 for the rest. */
ag_status_t fcgi_dispatch(ag_req_t *req);

#endif
