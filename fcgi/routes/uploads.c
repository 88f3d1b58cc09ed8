/*
 * fcgi/routes/uploads.c — files (issue 17, CONTRACT §9):
 *   POST  /api/v1/uploads            one request: the body is the file
 *   OPTIONS, POST /api/v1/uploads/   tus 1.0 core + creation (Tus-Resumable)
 *   HEAD, GET, PATCH /api/v1/uploads/{id}   tus offset and append; GET: JSON
 *   GET   /api/v1/files/{id}[/thumbnail]    an attachment, for its readers
 *   PUT   /api/v1/users/me/avatar    the body is the picture
 *
 * Bodies are streamed to a file under the data directory, never held whole
 * in memory. Files are served by Apache, not by this process: a file request
 * is authorized here and answered with X-Sendfile (mod_xsendfile), which
 * makes Apache send the stored file itself — the FastCGI worker is free
 * again after one SELECT, whatever the file's size.
 */
#include "app.h"
#include "log/log.h"
#include "media/media.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TUS_VERSION "1.0.0"
#define CHUNK       65536

/* ---- shared checks: rate, size, quota ------------------------------------------------------ */

static ag_status_t
upload_allowed(ag_req_t *req, int64_t size)
{
    fcgi_app_t *app = FCGI_APP(req);
    int64_t     quota = ag_config_int(app->cfg, AG_CFG_upload_quota_bytes), used = 0;
    char        key[48];
    ag_status_t st;

    snprintf(key, sizeof(key), "rl:upload:%lld", (long long)req->user_id);
    if ((st = fcgi_rate_limit(req, key, ag_config_int(app->cfg, AG_CFG_upload_rate_per_min), 60)) !=
        AG_OK)
        return st;
    if (quota == 0)
        return AG_OK;
    if ((st = ag_media_usage(FCGI_M(req), req->arena, req->user_id, &used)) != AG_OK)
        return fcgi_db_fail(req, st, "upload quota");
    if (used + size > quota)
        return ag_req_fail(req, AG_ETOOLARGE,
                           "your uploads would pass your quota of %lld bytes (%lld used)",
                           (long long)quota, (long long)used);
    return AG_OK;
}

/*
 * Copy up to n body bytes to fd at its position; *wrote: how many arrived
 * (fewer when the client went away: the caller keeps them, tus resumes).
 */
static ag_status_t
body_to_file(ag_req_t *req, int fd, int64_t n, int64_t *wrote)
{
    char   *buf = ag_arena_alloc(req->arena, CHUNK);
    int64_t done = 0;

    *wrote = 0;
    if (buf == NULL)
        return AG_ENOMEM;
    while (done < n) {
        size_t want = n - done > CHUNK ? CHUNK : (size_t)(n - done), got = 0, off = 0;
        ag_req_read(req, buf, want, &got);
        while (off < got) {
            ssize_t w = write(fd, buf + off, got - off);
            if (w <= 0) {
                *wrote = done + (int64_t)off;
                return AG_EINTERNAL;
            }
            off += (size_t)w;
        }
        done += (int64_t)got;
        if (got < want)
            break; /* the client went away */
    }
    *wrote = done;
    return AG_OK;
}

/* Store the file at path as an attachment of the user; *out its row. */
static ag_status_t
make_attachment(ag_req_t *req, const char *path, const char *name, ag_attachment_t **out)
{
    fcgi_app_t      *app = FCGI_APP(req);
    ag_media_file_t  f;
    ag_attachment_t *t = ag_arena_calloc(req->arena, sizeof(*t));
    char             why[160];
    ag_status_t      st;

    if (t == NULL)
        return ag_req_fail(req, AG_ENOMEM, "out of memory");
    if ((st = ag_media_store(app->media, path, &f, why, sizeof(why))) != AG_OK)
        return st == AG_EINTERNAL ? ag_req_fail(req, st, "storing the file failed")
                                  : ag_req_fail(req, st, "%s", why);
    ag_content_oid_new(t->id);
    t->owner_id = req->user_id;
    t->sha256 = ag_arena_strdup(req->arena, f.sha256);
    t->content_type = f.content_type;
    t->size = f.size;
    t->width = f.width;
    t->height = f.height;
    t->thumb_sha256 = f.thumb_sha256[0] ? ag_arena_strdup(req->arena, f.thumb_sha256) : NULL;
    t->name = name && *name && strlen(name) <= 255 ? name : NULL;
    if ((st = ag_attachment_insert(FCGI_M(req), req->arena, t)) != AG_OK)
        return fcgi_db_fail(req, st, "attachment");
    *out = t;
    return AG_OK;
}

/* ---- one request ------------------------------------------------------------------------------
 */

static ag_status_t
upload_one(ag_req_t *req)
{
    fcgi_app_t      *app = FCGI_APP(req);
    int64_t          max = ag_config_int(app->cfg, AG_CFG_upload_request_max), wrote = 0;
    ag_attachment_t *t = NULL;
    const char      *path = NULL;
    int              fd = -1;
    ag_status_t      st;

    /* refused before a byte is read; the header's type is ignored: the bytes decide */
    if (req->content_length <= 0)
        return ag_req_fail(req, AG_EBADREQ, "send the file as the request body");
    if (req->content_length > max)
        return ag_req_fail(req, AG_ETOOLARGE,
                           "a one-request upload is at most %lld bytes; use tus (/api/v1/uploads/) "
                           "for larger files",
                           (long long)max);
    if ((st = upload_allowed(req, req->content_length)) != AG_OK)
        return st;
    if (ag_media_tmp(app->media, req->arena, &fd, &path) != AG_OK)
        return ag_req_fail(req, AG_EINTERNAL, "no temporary file: %s", strerror(errno));
    st = body_to_file(req, fd, req->content_length, &wrote);
    close(fd);
    if (st != AG_OK || wrote != req->content_length) {
        unlink(path);
        return ag_req_fail(req, st != AG_OK ? st : AG_EBADREQ, "body shorter than Content-Length");
    }
    if ((st = make_attachment(req, path, ag_req_query(req, "name"), &t)) != AG_OK)
        return st;
    return ag_resp_json(req, 201, ag_attachment_json(t));
}

/* ---- tus 1.0 ----------------------------------------------------------------------------------
 */

static void
tus_headers(ag_req_t *req)
{
    ag_resp_header(req, "Tus-Resumable", TUS_VERSION);
}

ag_status_t
fcgi_uploads_options(ag_req_t *req)
{
    char max[24];
    snprintf(max, sizeof(max), "%lld",
             (long long)ag_config_int(FCGI_APP(req)->cfg, AG_CFG_upload_max_bytes));
    tus_headers(req);
    ag_resp_header(req, "Tus-Version", TUS_VERSION);
    ag_resp_header(req, "Tus-Extension", "creation");
    ag_resp_header(req, "Tus-Max-Size", max);
    return ag_resp_empty(req, 204);
}

/* Tus-Resumable must name the version we speak: 412 with Tus-Version otherwise. */
static ag_status_t
tus_version(ag_req_t *req)
{
    if (strcmp(ag_req_header(req, "HTTP_TUS_RESUMABLE"), TUS_VERSION) == 0)
        return AG_OK;
    static const char body[] =
        "{\"error\":{\"code\":\"bad_request\",\"message\":\"Tus-Resumable must be 1.0.0\"}}";
    ag_resp_header(req, "Tus-Version", TUS_VERSION);
    ag_resp_raw(req, 412, "application/json", body, sizeof(body) - 1);
    return AG_EBADREQ;
}

static ag_status_t
tus_create(ag_req_t *req)
{
    fcgi_app_t *app = FCGI_APP(req);
    ag_upload_t u = {0};
    const char *name = NULL;
    char        loc[64];
    int         fd;
    ag_status_t st;

    tus_headers(req);
    if ((st = tus_version(req)) != AG_OK)
        return st;
    if (ag_tus_parse_u64(ag_req_header(req, "HTTP_UPLOAD_LENGTH"), &u.length) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ,
                           "Upload-Length must be a decimal byte count "
                           "(deferred lengths are not supported)");
    if (u.length == 0)
        return ag_req_fail(req, AG_EBADREQ, "an upload has at least one byte");
    if (u.length > ag_config_int(app->cfg, AG_CFG_upload_max_bytes))
        return ag_req_fail(req, AG_ETOOLARGE, "files are at most %lld bytes",
                           (long long)ag_config_int(app->cfg, AG_CFG_upload_max_bytes));
    if (ag_tus_metadata_get(req->arena, ag_req_header(req, "HTTP_UPLOAD_METADATA"), "filename",
                            &name) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "Upload-Metadata is malformed");
    if ((st = upload_allowed(req, u.length)) != AG_OK)
        return st;
    ag_content_oid_new(u.id);
    u.owner_id = req->user_id;
    u.name = name && *name && strlen(name) <= 255 ? name : NULL;
    fd =
        open(ag_media_upload_path(app->media, req->arena, u.id), O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0)
        return ag_req_fail(req, AG_EINTERNAL, "upload file: %s", strerror(errno));
    close(fd);
    if ((st = ag_upload_create(FCGI_M(req), req->arena, &u)) != AG_OK) {
        unlink(ag_media_upload_path(app->media, req->arena, u.id));
        return fcgi_db_fail(req, st, "upload");
    }
    snprintf(loc, sizeof(loc), "/api/v1/uploads/%s", u.id);
    ag_resp_header(req, "Location", loc);
    return ag_resp_empty(req, 201);
}

ag_status_t
fcgi_uploads_post(ag_req_t *req)
{
    /* tus creation and the one-request upload share the path; the tus header tells them apart */
    if (*ag_req_header(req, "HTTP_TUS_RESUMABLE"))
        return tus_create(req);
    return upload_one(req);
}

static ag_status_t
find_upload(ag_req_t *req, ag_upload_t **u)
{
    ag_status_t st =
        ag_upload_get(FCGI_M(req), req->arena, ag_req_param(req, "id"), req->user_id, u);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, st, "no such upload");
    return st == AG_OK ? st : fcgi_db_fail(req, st, "upload");
}

/* HEAD (tus: where to resume) and GET (JSON, with the attachment once complete). */
ag_status_t
fcgi_uploads_get(ag_req_t *req)
{
    ag_upload_t     *u = NULL;
    ag_attachment_t *t = NULL;
    char             n[24];
    ag_status_t      st;

    tus_headers(req);
    ag_resp_header(req, "Cache-Control", "no-store");
    if ((st = find_upload(req, &u)) != AG_OK)
        return st;
    snprintf(n, sizeof(n), "%lld", (long long)u->offset);
    ag_resp_header(req, "Upload-Offset", n);
    snprintf(n, sizeof(n), "%lld", (long long)u->length);
    ag_resp_header(req, "Upload-Length", n);
    if (strcmp(req->method, "HEAD") == 0)
        return ag_resp_empty(req, 200);
    ag_json_t *o = ag_json_obj();
    ag_json_set_str(o, "id", u->id);
    ag_json_set_int(o, "offset", u->offset);
    ag_json_set_int(o, "length", u->length);
    if (u->attachment_id &&
        ag_attachment_get(FCGI_M(req), req->arena, u->attachment_id, &t) == AG_OK)
        ag_json_set(o, "attachment", ag_attachment_json(t));
    else
        ag_json_set(o, "attachment", NULL);
    return ag_resp_json(req, 200, o);
}

/* The upload is complete: its file becomes an attachment (or goes, when refused). */
static ag_status_t
tus_finish(ag_req_t *req, ag_upload_t *u)
{
    fcgi_app_t      *app = FCGI_APP(req);
    ag_attachment_t *t = NULL;
    ag_status_t      st =
        make_attachment(req, ag_media_upload_path(app->media, req->arena, u->id), u->name, &t);
    if (st != AG_OK) {
        /* refused (type, image): the upload goes too, so a HEAD says 404, not "complete" */
        ag_upload_finish(FCGI_M(req), req->arena, u->id, NULL);
        return st;
    }
    if ((st = ag_upload_finish(FCGI_M(req), req->arena, u->id, t->id)) != AG_OK)
        return fcgi_db_fail(req, st, "upload");
    /* tus answers a PATCH with 204: the attachment rides in headers (and GET tells it again) */
    ag_resp_header(req, "Agora-Attachment-Id", t->id);
    return AG_OK;
}

ag_status_t
fcgi_uploads_patch(ag_req_t *req)
{
    fcgi_app_t  *app = FCGI_APP(req);
    ag_upload_t *u = NULL;
    int64_t      offset, wrote = 0;
    char         n[24];
    int          fd = -1;
    ag_status_t  st;

    tus_headers(req);
    if ((st = tus_version(req)) != AG_OK || (st = find_upload(req, &u)) != AG_OK)
        return st;
    if (strncmp(req->content_type, "application/offset+octet-stream", 31) != 0)
        return ag_req_fail(req, AG_EMEDIA, "Content-Type must be application/offset+octet-stream");
    if (ag_tus_parse_u64(ag_req_header(req, "HTTP_UPLOAD_OFFSET"), &offset) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "Upload-Offset must be a decimal byte offset");
    if (u->attachment_id || offset != u->offset)
        return ag_req_fail(req, AG_ECONFLICT, "the upload is at offset %lld", (long long)u->offset);
    if (req->content_length < 0 || offset + req->content_length > u->length)
        return ag_req_fail(req, AG_ETOOLARGE, "the chunk passes the declared Upload-Length");
    /* one writer at a time per upload: a second PATCH in flight is refused, not interleaved */
    fd = open(ag_media_upload_path(app->media, req->arena, u->id), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return ag_req_fail(req, AG_ENOTFOUND, "no such upload");
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return ag_req_fail(req, AG_ECONFLICT, "another PATCH of this upload is in progress");
    }
    if (lseek(fd, offset, SEEK_SET) != offset || ftruncate(fd, offset) != 0) {
        close(fd);
        return ag_req_fail(req, AG_EINTERNAL, "upload file: %s", strerror(errno));
    }
    /* what arrived is kept even when the client went away mid-chunk: tus resumes there */
    st = body_to_file(req, fd, req->content_length, &wrote);
    close(fd); /* releases the lock */
    if (st != AG_OK)
        return ag_req_fail(req, st, "writing the upload failed");
    if (wrote > 0 &&
        (st = ag_upload_advance(FCGI_M(req), req->arena, u->id, offset, offset + wrote)) != AG_OK)
        return st == AG_ECONFLICT ? ag_req_fail(req, st, "the upload moved on meanwhile")
                                  : fcgi_db_fail(req, st, "upload");
    u->offset = offset + wrote;
    snprintf(n, sizeof(n), "%lld", (long long)u->offset);
    ag_resp_header(req, "Upload-Offset", n);
    if (u->offset == u->length && (st = tus_finish(req, u)) != AG_OK)
        return st;
    return ag_resp_empty(req, 204);
}

/* ---- serving: authorize, then let Apache send it ----------------------------------------------
 */

/*
 * Files are loaded by <img> elements, which send cookies but no Authorization
 * header: the web client keeps its token in the agora_token cookie too
 * (path /api/v1/files, SameSite=Strict), accepted here and only here.
 */
static ag_status_t
file_auth(ag_req_t *req)
{
    const char *cookie = ag_req_header(req, "HTTP_COOKIE"), *p;
    if (*req->authorization == '\0' && (p = strstr(cookie, "agora_token=")) != NULL &&
        (p == cookie || p[-1] == ' ' || p[-1] == ';')) {
        p += strlen("agora_token=");
        size_t n = strcspn(p, "; ");
        req->authorization = ag_arena_printf(req->arena, "Bearer %.*s", (int)n, p);
    }
    return fcgi_authenticate(req);
}

static ag_status_t
send_file(ag_req_t *req, bool thumbnail)
{
    fcgi_app_t      *app = FCGI_APP(req);
    ag_attachment_t *t = NULL;
    bool             allowed = false;
    ag_status_t      st;

    if ((st = file_auth(req)) != AG_OK)
        return st;
    st = ag_attachment_get(FCGI_M(req), req->arena, ag_req_param(req, "id"), &t);
    if (st == AG_OK && (st = ag_access_attachment_read(FCGI_M(req), req->arena, t, req->user_id,
                                                       &allowed)) != AG_OK)
        return fcgi_db_fail(req, st, "attachment");
    /* not yours to read is not found: its existence is not told either */
    if (st == AG_ENOTFOUND || !allowed || (thumbnail && t->thumb_sha256 == NULL))
        return ag_req_fail(req, AG_ENOTFOUND, "no such file");
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "attachment");
    const char *sha = thumbnail ? t->thumb_sha256 : t->sha256;
    const char *type = thumbnail ? "image/webp" : t->content_type;
    bool        inline_ok = strncmp(type, "image/", 6) == 0;
    ag_resp_header(req, "X-Sendfile", ag_media_file_path(app->media, req->arena, sha));
    ag_resp_header(req, "Cache-Control", "private, max-age=86400");
    ag_resp_header(req, "Content-Security-Policy", "default-src 'none'; sandbox");
    ag_resp_header(req, "Content-Disposition", inline_ok ? "inline" : "attachment");
    return ag_resp_raw(req, 200, type, "", 0);
}

ag_status_t
fcgi_files_get(ag_req_t *req)
{
    return send_file(req, false);
}

ag_status_t
fcgi_files_thumbnail(ag_req_t *req)
{
    return send_file(req, true);
}

/* ---- avatars -------------------------------------------------------------------------------- */

ag_status_t
fcgi_avatar_put(ag_req_t *req)
{
    fcgi_app_t *app = FCGI_APP(req);
    int64_t     max = ag_config_int(app->cfg, AG_CFG_upload_request_max), wrote = 0;
    const char *path = NULL, *url = NULL;
    ag_user_t  *u = NULL;
    char        why[160];
    int         fd = -1;
    ag_status_t st;

    if (req->content_length <= 0)
        return ag_req_fail(req, AG_EBADREQ, "send the picture as the request body");
    if (req->content_length > max)
        return ag_req_fail(req, AG_ETOOLARGE, "an avatar is at most %lld bytes", (long long)max);
    char key[48];
    snprintf(key, sizeof(key), "rl:upload:%lld", (long long)req->user_id);
    if ((st = fcgi_rate_limit(req, key, ag_config_int(app->cfg, AG_CFG_upload_rate_per_min), 60)) !=
        AG_OK)
        return st;
    if (ag_media_tmp(app->media, req->arena, &fd, &path) != AG_OK)
        return ag_req_fail(req, AG_EINTERNAL, "no temporary file: %s", strerror(errno));
    st = body_to_file(req, fd, req->content_length, &wrote);
    close(fd);
    if (st != AG_OK || wrote != req->content_length) {
        unlink(path);
        return ag_req_fail(req, AG_EBADREQ, "body shorter than Content-Length");
    }
    if ((st = ag_media_store_avatar(app->media, req->arena, path, &url, why, sizeof(why))) != AG_OK)
        return ag_req_fail(req, st, "%s", st == AG_EINTERNAL ? "storing the picture failed" : why);
    /* the model drops the cached user and publishes user.<id>.updated */
    ag_user_patch_t patch = {.set_avatar_url = true, .avatar_url = url};
    if ((st = ag_user_update(FCGI_M(req), req->arena, req->user_id, &patch, &u)) != AG_OK)
        return fcgi_db_fail(req, st, "avatar");
    return ag_resp_json(req, 200, fcgi_user_json(u));
}
