/*
 * lib/gql/persisted.c — persisted documents: a request names its document
 * by the SHA-256 of the text (extensions.persistedQuery, Apollo's automatic
 * persisted queries, version 1) instead of sending it.
 *
 * APQ: a hash the server has seen is run; an unknown one answers
 * PersistedQueryNotFound (HTTP 200: Apollo Client's link turns APQ off for
 * the session on a 400), the client sends the text with the hash, the
 * server checks the hash and keeps the text once it parsed and validated
 * (junk is never stored). Kept where: in this worker's
 * LRU (graphql_apq_entries texts at most, each at most graphql_body_max
 * bytes) and in Redis (gql:apq:<hash>, graphql_apq_ttl_s), so that a text
 * registered through one worker of the pool is found by the others and
 * survives a restart; Redis down only means a miss, and the client resends.
 *
 * Trusted documents (graphql_trusted_documents = a manifest file): only the
 * manifest's documents run, named by hash or sent in full (whose hash must
 * then be in it); APQ registration is off. The manifest is the one the web
 * client's build writes (web/scripts/persisted-manifest.mjs), in the format
 * of Apollo's generate-persisted-query-manifest; each id is checked against
 * its body at start.
 *
 * One worker serves one request at a time: nothing here is locked.
 */
#include "gql/gql.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_HEX 64

typedef struct {
    char     hash[HASH_HEX + 1];
    char    *text; /* malloc, NUL-terminated */
    size_t   len;
    uint64_t used; /* tick of the last use: the smallest goes first */
} entry_t;

struct gql_pq {
    entry_t *lru; /* APQ texts seen by this worker */
    size_t   n_lru, max_lru;
    size_t   max_len;
    uint64_t tick;
    long     ttl_s;
    entry_t *trusted; /* the manifest, sorted by hash; NULL: not in trusted mode */
    size_t   n_trusted;
};

static void
entries_free(entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].text);
    free(e);
}

void
gql_pq_free(gql_pq_t *pq)
{
    if (pq == NULL)
        return;
    entries_free(pq->lru, pq->n_lru);
    entries_free(pq->trusted, pq->n_trusted);
    free(pq);
}

static int
by_hash(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->hash, ((const entry_t *)b)->hash);
}

static bool
is_hash(const char *h)
{
    if (h == NULL || strlen(h) != HASH_HEX)
        return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* One operation of the manifest into e; false (err set) when it is malformed. */
static bool
manifest_entry(ag_json_t *op, entry_t *e, size_t i, char *err, size_t errlen)
{
    const char *id = NULL, *body = NULL;

    if (ag_json_get_str(op, "id", &id) != AG_OK || ag_json_get_str(op, "body", &body) != AG_OK ||
        !is_hash(id)) {
        snprintf(err, errlen, "operation %zu: needs an \"id\" (64 hex digits) and a \"body\"", i);
        return false;
    }
    ag_sha256_hex(body, strlen(body), e->hash);
    if (strcmp(e->hash, id) != 0) {
        snprintf(err, errlen, "operation %zu: id %s is not the SHA-256 of its body", i, id);
        return false;
    }
    e->len = strlen(body);
    return (e->text = strdup(body)) != NULL;
}

/* Read the manifest file into pq->trusted; false with err. */
static bool
manifest_load(gql_pq_t *pq, const char *path, char *err, size_t errlen)
{
    FILE      *f = fopen(path, "rb");
    char      *buf = NULL, perr[128];
    long       size;
    ag_json_t *doc = NULL, *ops;
    bool       good = false;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)size + 1)) == NULL ||
        fread(buf, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, errlen, "cannot read %s", path);
        goto out;
    }
    if ((doc = ag_json_parse(buf, (size_t)size, 16, perr, sizeof(perr))) == NULL ||
        (ops = ag_json_get(doc, "operations")) == NULL || ag_json_type(ops) != AG_JSON_ARRAY) {
        snprintf(err, errlen, "%s: not a persisted query manifest (\"operations\": [...])", path);
        goto out;
    }
    pq->trusted = calloc(ag_json_len(ops) + 1, sizeof(*pq->trusted));
    for (size_t i = 0; pq->trusted && i < ag_json_len(ops); i++, pq->n_trusted++)
        if (!manifest_entry(ag_json_at(ops, i), &pq->trusted[i], i, err, errlen))
            goto out;
    if (pq->trusted == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    qsort(pq->trusted, pq->n_trusted, sizeof(*pq->trusted), by_hash);
    good = true;
out:
    ag_json_free(doc);
    free(buf);
    if (f)
        fclose(f);
    return good;
}

gql_pq_t *
gql_pq_new(const ag_config_t *cfg, char *err, size_t errlen)
{
    gql_pq_t   *pq = calloc(1, sizeof(*pq));
    const char *manifest = ag_config_str(cfg, AG_CFG_graphql_trusted_documents);

    if (pq == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pq->max_lru = (size_t)ag_config_int(cfg, AG_CFG_graphql_apq_entries);
    pq->max_len = (size_t)ag_config_int(cfg, AG_CFG_graphql_body_max);
    pq->ttl_s = (long)ag_config_int(cfg, AG_CFG_graphql_apq_ttl_s);
    if (pq->max_lru && (pq->lru = calloc(pq->max_lru, sizeof(*pq->lru))) == NULL) {
        snprintf(err, errlen, "out of memory");
        gql_pq_free(pq);
        return NULL;
    }
    if (manifest && *manifest && !manifest_load(pq, manifest, err, errlen)) {
        gql_pq_free(pq);
        return NULL;
    }
    return pq;
}

bool
gql_pq_trusted_mode(const gql_pq_t *pq)
{
    return pq && pq->trusted;
}

size_t
gql_pq_manifest_size(const gql_pq_t *pq)
{
    return pq ? pq->n_trusted : 0;
}

static const entry_t *
trusted_find(const gql_pq_t *pq, const char *hash)
{
    entry_t key;
    snprintf(key.hash, sizeof(key.hash), "%s", hash);
    return bsearch(&key, pq->trusted, pq->n_trusted, sizeof(key), by_hash);
}

static entry_t *
lru_find(gql_pq_t *pq, const char *hash)
{
    for (size_t i = 0; i < pq->n_lru; i++)
        if (memcmp(pq->lru[i].hash, hash, HASH_HEX) == 0) {
            pq->lru[i].used = ++pq->tick;
            return &pq->lru[i];
        }
    return NULL;
}

/* Keep text under hash in this worker, the least recently used out when full. */
static void
lru_put(gql_pq_t *pq, const char *hash, const char *text, size_t len)
{
    entry_t *e;
    char    *copy;

    if (pq->max_lru == 0 || len > pq->max_len || lru_find(pq, hash) ||
        (copy = strndup(text, len)) == NULL)
        return;
    if (pq->n_lru < pq->max_lru) {
        e = &pq->lru[pq->n_lru++];
    } else {
        e = &pq->lru[0];
        for (size_t i = 1; i < pq->n_lru; i++)
            if (pq->lru[i].used < e->used)
                e = &pq->lru[i];
        free(e->text);
    }
    memcpy(e->hash, hash, HASH_HEX + 1);
    e->text = copy;
    e->len = len;
    e->used = ++pq->tick;
}

/* The text of hash from Redis (into this worker's LRU too), or NULL. */
static const char *
shared_get(gql_pq_t *pq, ag_cache_t *cache, ag_arena_t *a, const char *hash)
{
    char              key[80];
    const char       *argv[2] = {"GET", key};
    ag_cache_reply_t *rep = NULL;
    const char       *s;
    size_t            len;

    if (pq->ttl_s <= 0 || cache == NULL)
        return NULL;
    snprintf(key, sizeof(key), "gql:apq:%s", hash);
    if (ag_cache_cmd(cache, a, &rep, 2, argv) != AG_OK || ag_cache_reply_type(rep) != AG_CACHE_STR)
        return NULL;
    s = ag_cache_reply_str(rep, &len);
    char check[HASH_HEX + 1];
    ag_sha256_hex(s, len, check);
    if (strcmp(check, hash) != 0)
        return NULL; /* not what a client registered: never run it */
    lru_put(pq, hash, s, len);
    return ag_arena_strndup(a, s, len);
}

static void
shared_put(gql_pq_t *pq, ag_cache_t *cache, ag_arena_t *a, const char *hash, const char *text)
{
    char        key[80], ttl[24];
    const char *argv[5] = {"SET", key, text, "EX", ttl};

    if (pq->ttl_s <= 0 || cache == NULL)
        return;
    snprintf(key, sizeof(key), "gql:apq:%s", hash);
    snprintf(ttl, sizeof(ttl), "%ld", pq->ttl_s);
    if (ag_cache_cmd(cache, a, NULL, 5, argv) != AG_OK)
        ag_log_debug("graphql apq: not stored in Redis (%s)", ag_cache_error(cache));
}

static ag_status_t
refuse(gql_pq_result_t *res, int status, const char *code, const char *msg)
{
    res->status = status;
    res->code = code;
    res->message = msg;
    return AG_EBADREQ;
}

/* The sha256Hash of extensions.persistedQuery, NULL when there is none; *bad when malformed. */
static const char *
requested_hash(const ag_json_t *ext, bool *bad)
{
    ag_json_t  *pq = ext ? ag_json_get(ext, "persistedQuery") : NULL;
    const char *hash = NULL;
    int64_t     version = 0;

    *bad = false;
    if (pq == NULL)
        return NULL;
    if (ag_json_type(pq) != AG_JSON_OBJECT || ag_json_get_i64(pq, "version", &version) != AG_OK ||
        version != 1 || ag_json_get_str(pq, "sha256Hash", &hash) != AG_OK || !is_hash(hash)) {
        *bad = true;
        return NULL;
    }
    return hash;
}

/* Trusted mode: the manifest's text of hash, or of the sent text's hash. */
static ag_status_t
resolve_trusted(gql_pq_t *pq, const char *hash, const char *query, gql_pq_result_t *res)
{
    char           sent[HASH_HEX + 1];
    const entry_t *e;

    if (query) {
        ag_sha256_hex(query, strlen(query), sent);
        if (hash && strcmp(sent, hash) != 0)
            return refuse(res, 400, "PERSISTED_QUERY_HASH_MISMATCH",
                          "provided sha does not match query");
        if ((e = trusted_find(pq, sent)) == NULL)
            return refuse(res, 400, "QUERY_NOT_IN_SAFELIST",
                          "Only the trusted documents of this server's manifest may run; "
                          "this document is not one of them.");
    } else if ((e = trusted_find(pq, hash)) == NULL) {
        return refuse(res, 400, "PERSISTED_QUERY_NOT_IN_LIST",
                      "This document hash is not in the trusted documents' manifest.");
    }
    res->text = e->text;
    res->persisted = true;
    return AG_OK;
}

ag_status_t
gql_pq_resolve(gql_pq_t *pq, ag_cache_t *cache, ag_arena_t *a, const char *query,
               const ag_json_t *ext, gql_pq_result_t *res)
{
    bool        bad;
    const char *hash = requested_hash(ext, &bad);
    char        sent[HASH_HEX + 1];
    entry_t    *e;

    memset(res, 0, sizeof(*res));
    res->text = query;
    if (bad)
        return refuse(res, 400, "bad_request",
                      "extensions.persistedQuery needs version 1 and a sha256Hash of 64 "
                      "lowercase hex digits");
    if (pq && pq->trusted)
        return resolve_trusted(pq, hash, query, res);
    if (hash == NULL) {
        if (query == NULL)
            return refuse(res, 400, "bad_request", "the request needs a query");
        return AG_OK;
    }
    if (pq == NULL || pq->max_lru == 0)
        return refuse(res, 200, "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported");
    res->persisted = true;
    if (query) {
        /* registration: the text must be what the hash names */
        ag_sha256_hex(query, strlen(query), sent);
        if (strcmp(sent, hash) != 0)
            return refuse(res, 400, "PERSISTED_QUERY_HASH_MISMATCH",
                          "provided sha does not match query");
        res->register_hash = hash; /* kept by gql_pq_keep once it proved a valid document */
        return AG_OK;
    }
    if ((e = lru_find(pq, hash)) != NULL) {
        res->text = e->text;
        return AG_OK;
    }
    if ((res->text = shared_get(pq, cache, a, hash)) != NULL)
        return AG_OK;
    return refuse(res, 200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound");
}

void
gql_pq_keep(gql_pq_t *pq, ag_cache_t *cache, ag_arena_t *a, const gql_pq_result_t *res)
{
    if (pq == NULL || res->register_hash == NULL || lru_find(pq, res->register_hash))
        return;
    lru_put(pq, res->register_hash, res->text, strlen(res->text));
    shared_put(pq, cache, a, res->register_hash, res->text);
}
