/*
 * lib/core/core.h — the status type, arenas and small string helpers that
 * every other module of Agora builds on. Nothing here talks to a network.
 */
#ifndef AG_CORE_H
#define AG_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/*
 * One status type for the whole tree. Zero is success, AG_DECLINED (positive)
 * means "not mine, try the next handler", every negative value is a failure
 * that maps to exactly one HTTP status and one contract error code.
 *   X(name, value, http status, contract code)
 */
#define AG_STATUS_MAP(X)                                                  \
    X(AG_OK,           0,   200, "ok")                                    \
    X(AG_DECLINED,     1,   404, "not_found")                             \
    X(AG_EBADREQ,     -1,   400, "bad_request")                           \
    X(AG_EUNAUTH,     -2,   401, "unauthorized")                          \
    X(AG_EFORBIDDEN,  -3,   403, "forbidden")                             \
    X(AG_ENOTFOUND,   -4,   404, "not_found")                             \
    X(AG_EMETHOD,     -5,   405, "method_not_allowed")                    \
    X(AG_ECONFLICT,   -6,   409, "conflict")                              \
    X(AG_ETOOLARGE,   -7,   413, "payload_too_large")                     \
    X(AG_EMEDIA,      -8,   415, "unsupported_media_type")                \
    X(AG_ERATE,       -9,   429, "rate_limited")                          \
    X(AG_EUNAVAIL,    -10,  503, "unavailable")                           \
    X(AG_EINTERNAL,   -11,  500, "internal")                              \
    X(AG_ENOMEM,      -12,  500, "internal")                              \
    X(AG_ECONFIG,     -13,  500, "internal")                              \
    X(AG_ENOTACCEPT,  -14,  406, "not_acceptable")

typedef enum {
#define AG__STATUS_ENUM(name, val, http, code) name = (val),
    AG_STATUS_MAP(AG__STATUS_ENUM)
#undef AG__STATUS_ENUM
} ag_status_t;

/* HTTP status for a status value (500 for an unknown one). */
int ag_status_http(ag_status_t st);
/* Contract error code ("not_found", ...) for a status value. */
const char *ag_status_code(ag_status_t st);
/* The enumerator's own name ("AG_ENOTFOUND"), for logs. */
const char *ag_status_name(ag_status_t st);
/* Map an errno value to a status (ENOMEM → AG_ENOMEM, ECONNREFUSED → AG_EUNAVAIL, ...). */
ag_status_t ag_status_from_errno(int err);

/*
 * Arenas: bump allocation in chunks, released all at once. Foreign objects
 * (a PGresult, a cursor) are registered with ag_arena_cleanup() and released
 * when the arena is reset or freed, in reverse order of registration.
 * An arena belongs to one thread at a time.
 */
typedef struct ag_arena ag_arena_t;
typedef void (*ag_cleanup_fn)(void *data);

ag_arena_t *ag_arena_new(size_t chunk_size);
void        ag_arena_free(ag_arena_t *a);          /* accepts NULL */
void        ag_arena_reset(ag_arena_t *a);         /* runs cleanups, keeps the first chunk */
void       *ag_arena_alloc(ag_arena_t *a, size_t n);  /* 16-byte aligned; NULL on ENOMEM */
void       *ag_arena_calloc(ag_arena_t *a, size_t n);
char       *ag_arena_strdup(ag_arena_t *a, const char *s);
char       *ag_arena_strndup(ag_arena_t *a, const char *s, size_t n);
char       *ag_arena_printf(ag_arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
ag_status_t ag_arena_cleanup(ag_arena_t *a, ag_cleanup_fn fn, void *data);
size_t      ag_arena_used(const ag_arena_t *a);

/*
 * The process's memory, for bounding a request and handing memory back
 * after a large one (mem.c). ag_mem_in_use() is what the process holds now,
 * as cheaply as it can be known (~2 µs): resident bytes from /proc, or the
 * allocator's live bytes under AddressSanitizer; 0 when unknown. Compare
 * two readings, never a reading with a constant.
 */
size_t ag_mem_in_use(void);
/* Give freed heap memory back to the OS (malloc_trim; ASan: purge its allocator). */
void   ag_mem_release(void);
/* Allocations of at least this many bytes are mapped and unmapped on their own
 * (glibc's mmap threshold, fixed: otherwise it grows to the largest block freed). */
void   ag_mem_map_large(size_t bytes);

/*
 * Growable byte buffer (heap). Always NUL-terminated so that ->data can be
 * handed to C string APIs; ->len excludes the terminator.
 */
typedef struct {
    char   *data;
    size_t  len;
    size_t  cap;
} ag_buf_t;

void        ag_buf_init(ag_buf_t *b);
void        ag_buf_fini(ag_buf_t *b);
ag_status_t ag_buf_append(ag_buf_t *b, const void *p, size_t n);
ag_status_t ag_buf_puts(ag_buf_t *b, const char *s);
ag_status_t ag_buf_printf(ag_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void        ag_buf_reset(ag_buf_t *b);
/* Room for extra more bytes (and the NUL) at data + len; the caller writes them and adds to len. */
ag_status_t ag_buf_reserve(ag_buf_t *b, size_t extra);

/*
 * Growable array on the heap: make *arrp (a T **) hold at least need elements
 * of elem bytes, doubling its capacity *cap from min_cap (0: 4). Elements
 * already there are kept; on AG_ENOMEM *arrp and *cap are unchanged. The
 * array is the caller's to free(). AG_ARRAY_RESERVE takes the element size
 * from the pointer's type:
 *     if (AG_ARRAY_RESERVE(u->pend, u->cappend, u->npend + 1, 8) != AG_OK) ...
 */
ag_status_t ag_array_reserve(void *arrp, size_t *cap, size_t need, size_t elem, size_t min_cap);
#define AG_ARRAY_RESERVE(arr, cap, need, min_cap)                                                  \
    ag_array_reserve(&(arr), &(cap), (need), sizeof(*(arr)), (min_cap))

/* Parse a whole decimal int64 (no sign other than '-', no spaces). */
ag_status_t ag_parse_i64(const char *s, int64_t *out);
/* SHA-256 of data (sha256.c); _hex writes 64 lowercase hex digits and a NUL. */
void ag_sha256(const void *data, size_t len, uint8_t out[32]);
void ag_sha256_hex(const void *data, size_t len, char out[65]);
/* Monotonic and wall clocks in milliseconds. */
int64_t ag_now_mono_ms(void);
int64_t ag_now_wall_ms(void);
/* RFC 3339 UTC with milliseconds: "2026-11-24T10:00:00.123Z"; buf >= 32 bytes. */
void ag_format_rfc3339(int64_t wall_ms, char *buf, size_t n);
/* v in decimal into buf (NUL-terminated); returns its length. No locale, no printf. */
size_t ag_fmt_i64(char buf[24], int64_t v);

#define AG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
