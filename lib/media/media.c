/*
 * lib/media/media.c — sniffing (libmagic), image processing (libvips) and the
 * content-addressed store under the data directory (see media.h).
 *
 * Files are written to tmp/ and renamed into place, so a reader (Apache)
 * never sees half a file, and two workers storing the same bytes at once
 * both succeed: rename(2) replaces a file by an identical one atomically.
 */
#include "media/media.h"
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

struct ag_media {
    char    dir[1024];
    magic_t magic;
    int64_t max_pixels;
    int     thumb_px;
};

static const struct {
    const char *type;
    const char *save; /* libvips saver suffix for a re-encode without metadata; NULL: kept as is */
} allowed[] = {
    {"image/png", ".png[strip]"},        {"image/jpeg", ".jpg[strip,Q=90]"},
    {"image/webp", ".webp[strip,Q=90]"}, {"image/gif", ".gif[strip]"},
    {"application/pdf", NULL},           {"text/plain", NULL},
};

static int
find_allowed(const char *type)
{
    for (size_t i = 0; type && i < AG_ARRAY_LEN(allowed); i++)
        if (strcmp(allowed[i].type, type) == 0)
            return (int)i;
    return -1;
}

bool
ag_media_allowed(const char *type)
{
    return find_allowed(type) >= 0;
}

static bool
mkdirs(const char *path)
{
    char buf[1100];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return false;
            *p = '/';
        }
    return mkdir(buf, 0755) == 0 || errno == EEXIST;
}

static bool vips_ready;

ag_status_t
ag_media_new(const ag_config_t *cfg, const char *argv0, ag_media_t **out, char *err, size_t errlen)
{
    static const char *subdirs[] = {"files", "avatars", "uploads", "tmp"};
    ag_media_t        *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return AG_ENOMEM;
    snprintf(m->dir, sizeof(m->dir), "%s", ag_config_str(cfg, AG_CFG_data_dir));
    m->max_pixels = ag_config_int(cfg, AG_CFG_image_max_pixels);
    m->thumb_px = (int)ag_config_int(cfg, AG_CFG_thumbnail_px);
    for (size_t i = 0; i < AG_ARRAY_LEN(subdirs); i++) {
        char d[1100];
        snprintf(d, sizeof(d), "%s/%s", m->dir, subdirs[i]);
        if (!mkdirs(d)) {
            snprintf(err, errlen, "data_dir: cannot create %s: %s", d, strerror(errno));
            free(m);
            return AG_ECONFIG;
        }
    }
    if ((m->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) == NULL ||
        magic_load(m->magic, NULL) != 0) {
        snprintf(err, errlen, "libmagic: %s", m->magic ? magic_error(m->magic) : "out of memory");
        ag_media_free(m);
        return AG_ECONFIG;
    }
    if (!vips_ready) {
        if (VIPS_INIT(argv0 ? argv0 : "agora") != 0) {
            snprintf(err, errlen, "libvips: %s", vips_error_buffer());
            ag_media_free(m);
            return AG_ECONFIG;
        }
        /* one request at a time per process: no operation cache, one worker thread */
        vips_cache_set_max(0);
        vips_concurrency_set(1);
        vips_ready = true;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium: cannot initialise");
        ag_media_free(m);
        return AG_ECONFIG;
    }
    *out = m;
    return AG_OK;
}

void
ag_media_free(ag_media_t *m)
{
    if (m == NULL)
        return;
    if (m->magic)
        magic_close(m->magic);
    free(m);
    if (vips_ready) {
        vips_shutdown();
        vips_ready = false;
    }
}

const char *
ag_media_sniff(ag_media_t *m, const void *buf, size_t len)
{
    const char *t = magic_buffer(m->magic, buf, len);
    return t ? t : "application/octet-stream";
}

/* ---- the store ------------------------------------------------------------------------------- */

static void
hex_of(const unsigned char *h, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[64] = '\0';
}

const char *
ag_media_file_path(ag_media_t *m, ag_arena_t *a, const char *sha256)
{
    return ag_arena_printf(a, "%s/files/%.2s/%.2s/%s", m->dir, sha256, sha256 + 2, sha256);
}

const char *
ag_media_upload_path(ag_media_t *m, ag_arena_t *a, const char *upload_id)
{
    return ag_arena_printf(a, "%s/uploads/%s", m->dir, upload_id);
}

ag_status_t
ag_media_tmp(ag_media_t *m, ag_arena_t *a, int *fd, const char **path)
{
    char *p = ag_arena_printf(a, "%s/tmp/up-XXXXXX", m->dir);
    if (p == NULL)
        return AG_ENOMEM;
    if ((*fd = mkstemp(p)) < 0)
        return AG_EINTERNAL;
    fchmod(*fd, 0644); /* Apache (another user) reads the stored file */
    *path = p;
    return AG_OK;
}

/* Write len bytes under their hash at dest(hash); sha256 receives the hash. */
static ag_status_t
put_bytes(ag_media_t *m, const void *buf, size_t len, const char *sub, const char *suffix,
          char sha256[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char          tmp[1200], dir[1200], dest[1300];
    int           fd;

    crypto_hash_sha256(h, buf, len);
    hex_of(h, sha256);
    if (strcmp(sub, "files") == 0)
        snprintf(dir, sizeof(dir), "%s/files/%.2s/%.2s", m->dir, sha256, sha256 + 2);
    else
        snprintf(dir, sizeof(dir), "%s/%s/%.2s", m->dir, sub, sha256);
    snprintf(dest, sizeof(dest), "%s/%s%s", dir, sha256, suffix);
    if (access(dest, F_OK) == 0)
        return AG_OK; /* the same bytes are stored already */
    snprintf(tmp, sizeof(tmp), "%s/tmp/st-XXXXXX", m->dir);
    if (!mkdirs(dir) || (fd = mkstemp(tmp)) < 0)
        return AG_EINTERNAL;
    fchmod(fd, 0644);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)buf + done, len - done);
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return AG_EINTERNAL;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, dest) != 0) {
        unlink(tmp);
        return AG_EINTERNAL;
    }
    return AG_OK;
}

static ag_status_t
read_file(const char *path, char **buf, size_t *len)
{
    struct stat sb;
    int         fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t     got = 0;

    *buf = NULL;
    if (fd < 0 || fstat(fd, &sb) != 0 || (*buf = malloc((size_t)sb.st_size + 1)) == NULL) {
        if (fd >= 0)
            close(fd);
        return AG_EINTERNAL;
    }
    while (got < sb.st_size) {
        ssize_t r = read(fd, *buf + got, (size_t)(sb.st_size - got));
        if (r <= 0)
            break;
        got += r;
    }
    close(fd);
    *len = (size_t)got;
    return AG_OK;
}

/* Decode, rotate upright, re-encode without metadata, thumbnail. */
static ag_status_t
store_image(ag_media_t *m, const char *path, int kind, ag_media_file_t *out, char *why,
            size_t whylen)
{
    VipsImage  *in = NULL, *up = NULL, *th = NULL;
    void       *enc = NULL, *tenc = NULL;
    size_t      elen = 0, tlen = 0;
    ag_status_t st = AG_EBADREQ;

    /* animated GIFs: every frame ("n": -1); others: the first image */
    if (strcmp(allowed[kind].type, "image/gif") == 0)
        in = vips_image_new_from_file(path, "n", -1, NULL);
    else
        in = vips_image_new_from_file(path, NULL);
    if (in == NULL) {
        snprintf(why, whylen, "the image does not decode");
        goto out;
    }
    out->width = vips_image_get_width(in);
    out->height = vips_image_get_page_height(in);
    if ((int64_t)out->width * out->height > m->max_pixels) {
        snprintf(why, whylen, "the image has more than %lld pixels", (long long)m->max_pixels);
        goto out;
    }
    if (vips_autorot(in, &up, NULL) != 0 ||
        vips_image_write_to_buffer(up, allowed[kind].save, &enc, &elen, NULL) != 0) {
        snprintf(why, whylen, "the image does not decode");
        goto out;
    }
    out->width = vips_image_get_width(up);
    out->height = vips_image_get_page_height(up);
    if (vips_thumbnail_image(up, &th, m->thumb_px, "height", m->thumb_px, NULL) == 0 &&
        vips_image_write_to_buffer(th, ".webp[strip,Q=80]", &tenc, &tlen, NULL) == 0 &&
        put_bytes(m, tenc, tlen, "files", "", out->thumb_sha256) != AG_OK)
        out->thumb_sha256[0] = '\0';
    st = put_bytes(m, enc, elen, "files", "", out->sha256);
    out->size = (int64_t)elen;
out:
    if (st == AG_EBADREQ)
        ag_log_info("media: image refused: %s (%s)", why, vips_error_buffer());
    vips_error_clear();
    g_free(enc);
    g_free(tenc);
    if (th)
        g_object_unref(th);
    if (up)
        g_object_unref(up);
    if (in)
        g_object_unref(in);
    return st;
}

ag_status_t
ag_media_store(ag_media_t *m, const char *path, ag_media_file_t *out, char *why, size_t whylen)
{
    char       *buf = NULL;
    size_t      len = 0;
    ag_status_t st;
    int         kind;

    memset(out, 0, sizeof(*out));
    snprintf(why, whylen, "%s", "");
    if ((st = read_file(path, &buf, &len)) != AG_OK)
        goto out;
    const char *type = ag_media_sniff(m, buf, len);
    if ((kind = find_allowed(type)) < 0) {
        snprintf(why, whylen, "files of type %s are not accepted", type);
        st = AG_EMEDIA;
        goto out;
    }
    out->content_type = allowed[kind].type;
    if (allowed[kind].save)
        st = store_image(m, path, kind, out, why, whylen);
    else if ((st = put_bytes(m, buf, len, "files", "", out->sha256)) == AG_OK)
        out->size = (int64_t)len;
out:
    free(buf);
    unlink(path);
    return st;
}

ag_status_t
ag_media_store_avatar(ag_media_t *m, ag_arena_t *a, const char *path, const char **url, char *why,
                      size_t whylen)
{
    char        head[64], sha[65];
    VipsImage  *th = NULL;
    void       *enc = NULL;
    size_t      elen = 0;
    ag_status_t st = AG_EBADREQ;
    int         fd = open(path, O_RDONLY | O_CLOEXEC), kind;
    ssize_t     n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;

    if (fd >= 0)
        close(fd);
    kind = n > 0 ? find_allowed(ag_media_sniff(m, head, (size_t)n)) : -1;
    if (kind < 0 || allowed[kind].save == NULL) {
        snprintf(why, whylen, "an avatar must be a PNG, JPEG, GIF or WebP image");
        st = AG_EMEDIA;
        goto out;
    }
    VipsImage *probe = vips_image_new_from_file(path, NULL);
    bool too_big = probe && (int64_t)vips_image_get_width(probe) * vips_image_get_height(probe) >
                                m->max_pixels;
    if (probe)
        g_object_unref(probe);
    if (probe == NULL || too_big) {
        snprintf(why, whylen, too_big ? "the image is too large" : "the image does not decode");
        goto out;
    }
    /* a centred square, upright: what every avatar slot shows */
    if (vips_thumbnail(path, &th, 256, "height", 256, "crop", VIPS_INTERESTING_CENTRE, NULL) != 0 ||
        vips_image_write_to_buffer(th, ".webp[strip,Q=85]", &enc, &elen, NULL) != 0) {
        snprintf(why, whylen, "the image does not decode");
        goto out;
    }
    if ((st = put_bytes(m, enc, elen, "avatars", ".webp", sha)) == AG_OK)
        *url = ag_arena_printf(a, "/avatars/%.2s/%s.webp", sha, sha);
out:
    vips_error_clear();
    g_free(enc);
    if (th)
        g_object_unref(th);
    unlink(path);
    return st;
}
