/*
 * lib/media/media.h — uploaded files (issue 17, CONTRACT §9): their type
 * sniffed from their bytes (libmagic), images decoded, stripped of metadata
 * and thumbnailed (libvips), and every file stored under the data directory
 * by the SHA-256 of its bytes, so that Apache can serve it (mod_xsendfile)
 * and the same bytes are kept once:
 *
 *   <data_dir>/files/ab/cd/<sha256>   attachments and their thumbnails (read
 *                                     only through an authorizing response)
 *   <data_dir>/avatars/ab/<sha256>.webp  avatars (public, served as static files)
 *   <data_dir>/uploads/<id>           the bytes of an unfinished tus upload
 *   <data_dir>/tmp/                   files being written
 *
 * One ag_media_t per process (a FastCGI worker); not thread-safe. The tus
 * header parsers at the end are pure and fuzzed (tests/fuzz/fuzz_upload.c).
 */
#ifndef AG_MEDIA_H
#define AG_MEDIA_H

#include "config/config.h"
#include "core/core.h"

typedef struct ag_media ag_media_t;

/*
 * Create the folders under data_dir and load libmagic's database; libvips
 * is initialised once per process here. AG_ECONFIG (with err) when the data
 * directory cannot be made or libmagic has no database.
 */
ag_status_t ag_media_new(const ag_config_t *cfg, const char *argv0, ag_media_t **out, char *err,
                         size_t errlen);
void        ag_media_free(ag_media_t *m); /* accepts NULL */

/* What a stored upload became. Strings are the media's until the next call. */
typedef struct {
    char        sha256[65];
    const char *content_type; /* one of the allowed types (static) */
    int64_t     size;         /* bytes stored (an image after re-encoding) */
    int         width, height;
    char        thumb_sha256[65]; /* "" without a thumbnail */
} ag_media_file_t;

/*
 * The type of len bytes by their content, "application/octet-stream" when
 * unknown. Allowed are image/png, image/jpeg, image/gif, image/webp,
 * application/pdf and text/plain; everything else (HTML, SVG, executables)
 * is refused by ag_media_store.
 */
const char *ag_media_sniff(ag_media_t *m, const void *buf, size_t len);
bool        ag_media_allowed(const char *type);

/*
 * Take the file at path (written by the caller under tmp/ or uploads/) and
 * store it: AG_EMEDIA for a type that is not allowed (whatever the client
 * called it), AG_EBADREQ for an image that does not decode or has more than
 * image_max_pixels pixels. Images are auto-rotated, re-encoded in their own
 * format without metadata (EXIF, GPS, comments) and get a WebP thumbnail of
 * thumbnail_px on the longest side. The file at path is removed in every
 * case. why says what was refused.
 */
ag_status_t ag_media_store(ag_media_t *m, const char *path, ag_media_file_t *out, char *why,
                           size_t whylen);
/* An avatar: a square WebP of 256 px, no metadata; *url = "/avatars/ab/<sha256>.webp". */
ag_status_t ag_media_store_avatar(ag_media_t *m, ag_arena_t *a, const char *path, const char **url,
                                  char *why, size_t whylen);

/* Where a stored file is, for X-Sendfile. */
const char *ag_media_file_path(ag_media_t *m, ag_arena_t *a, const char *sha256);
/* A new temporary file under tmp/ opened for writing (fd), its path in the arena. */
ag_status_t ag_media_tmp(ag_media_t *m, ag_arena_t *a, int *fd, const char **path);
/* The file of an unfinished tus upload. */
const char *ag_media_upload_path(ag_media_t *m, ag_arena_t *a, const char *upload_id);

/* ---- tus 1.0 headers (tus.c; pure, any thread) ------------------------------------------ */

/* A decimal Upload-Length / Upload-Offset: digits only, no sign, at most 2^53. */
ag_status_t ag_tus_parse_u64(const char *s, int64_t *out);
/*
 * Upload-Metadata: "key base64value,key2,key3 base64value" (tus 1.0). Keys are
 * 1..64 characters of [A-Za-z0-9._-]; values must be valid base64 and are
 * decoded (at most 1 KiB each, no NUL). Looks up want and stores its decoded
 * value in *value (NULL when absent, "" for a key without value). AG_EBADREQ
 * for a malformed header (at most 4 KiB, 32 pairs).
 */
ag_status_t ag_tus_metadata_get(ag_arena_t *a, const char *header, const char *want,
                                const char **value);

#endif
