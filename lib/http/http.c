/*
 * lib/http/http.c — serving loop and response writing. FastCGI through
 * libfcgi's single-threaded FCGX_Accept; plain CGI (mod_cgi hosts) reads the
 * process environment and stdin instead and serves one request.
 */
#include "http/http.h"
#include "http/http_int.h"
#include "log/log.h"

#include <fastcgi.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct io {
    FCGX_Stream     *in, *out;
    FCGX_ParamArray  env;       /* NULL in CGI mode: use getenv */
};

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

const char *
ag_req_header(ag_req_t *req, const char *cgi_name)
{
    struct io *io = req->io__;
    const char *v = io->env ? FCGX_GetParam(cgi_name, io->env) : getenv(cgi_name);
    return v ? v : "";
}

ag_status_t
ag_http__read(ag_req_t *req, char *dst, size_t n, size_t *got)
{
    struct io *io = req->io__;
    size_t     have = 0;
    while (have < n) {
        int chunk = n - have > 65536 ? 65536 : (int)(n - have);
        int r = io->in ? FCGX_GetStr(dst + have, chunk, io->in)
                       : (int)fread(dst + have, 1, (size_t)chunk, stdin);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    *got = have;
    return AG_OK;
}

static void
write_out(ag_req_t *req, const char *p, size_t n)
{
    struct io *io = req->io__;
    if (io->out)
        FCGX_PutStr(p, (int)n, io->out);
    else
        fwrite(p, 1, n, stdout);
}

static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default:  return status >= 500 ? "Internal Server Error" : "OK";
    }
}

static void
send_response(ag_req_t *req)
{
    char head[256];
    int  n;

    if (req->status == 0)
        (void)ag_req_fail(req, AG_EINTERNAL, "handler produced no response");
    n = snprintf(head, sizeof(head), "Status: %d %s\r\n", req->status, reason(req->status));
    write_out(req, head, (size_t)n);
    if (req->status != 204 && req->resp_type) {
        n = snprintf(head, sizeof(head), "Content-Type: %s\r\nContent-Length: %lu\r\n",
                     req->resp_type, (unsigned long)req->body.len);
        write_out(req, head, (size_t)n);
    }
    if (req->headers.len)
        write_out(req, req->headers.data, req->headers.len);
    write_out(req, "\r\n", 2);
    if (req->status != 204 && req->body.len && strcmp(req->method, "HEAD") != 0)
        write_out(req, req->body.data, req->body.len);
}

static void
setup(ag_req_t *req)
{
    const char *cl;
    req->method = ag_req_header(req, "REQUEST_METHOD");
    req->path = ag_req_header(req, "SCRIPT_URL");
    if (*req->path == '\0') {
        /* REQUEST_URI is still percent-encoded and carries the query: cut and decode */
        const char *uri = ag_req_header(req, "REQUEST_URI");
        const char *q = strchr(uri, '?');
        char *p = ag_http_urldecode(req->arena, uri, q ? (size_t)(q - uri) : strlen(uri));
        req->path = p ? p : "";
    }
    req->query = ag_req_header(req, "QUERY_STRING");
    req->content_type = ag_req_header(req, "CONTENT_TYPE");
    req->accept = ag_req_header(req, "HTTP_ACCEPT");
    req->authorization = ag_req_header(req, "HTTP_AUTHORIZATION");
    req->remote_addr = ag_req_header(req, "REMOTE_ADDR");
    cl = ag_req_header(req, "CONTENT_LENGTH");
    req->content_length = 0;
    if (*cl && ag_parse_i64(cl, &req->content_length) != AG_OK)
        req->content_length = -1;
}

static void
serve_one(ag_req_t *req, ag_handler_fn dispatch)
{
    setup(req);
    ag_status_t st = dispatch(req);
    if (!req->responded)
        (void)ag_req_fail(req, st < 0 ? st : AG_EINTERNAL, "request not handled");
    send_response(req);
}

/* A buffer's memory is kept for the next request unless it grew past this. */
#define KEEP_BUF_MAX 65536

static void
buf_recycle(ag_buf_t *b, bool keep)
{
    if (keep && b->cap <= KEEP_BUF_MAX)
        ag_buf_reset(b);
    else
        ag_buf_fini(b);
}

/*
 * After a response: the buffers go back to their usual size and the arena
 * to its first chunk, and when the request was large the freed memory goes
 * back to the OS at once, so that a worker that served one huge request
 * does not hold it until it exits.
 */
#define HEAVY_BYTES (4u << 20)

static void
req_done(ag_req_t *req, ag_arena_t *arena)
{
    bool heavy = req->heavy || ag_arena_used(arena) > HEAVY_BYTES || req->body.cap > HEAVY_BYTES ||
                 req->headers.cap > HEAVY_BYTES;

    buf_recycle(&req->body, true);
    buf_recycle(&req->headers, true);
    ag_arena_reset(arena);
    if (heavy)
        ag_mem_release();
}

/* A fresh request; keep: the response buffers' memory is reused (the serving loop). */
static void
req_reset(ag_req_t *req, ag_arena_t *arena, void *app, struct io *io, bool keep)
{
    ag_buf_t headers = req->headers, body = req->body;
    buf_recycle(&headers, keep);
    buf_recycle(&body, keep);
    memset(req, 0, sizeof(*req));
    req->headers = headers;
    req->body = body;
    req->arena = arena;
    req->app = app;
    req->io__ = io;
}

/*
 * libfcgi closes a connection by shutdown() and then waiting until the web
 * server closes its end (up to 2 s), so that unread input cannot turn the
 * close into a reset that loses the response. On a Unix socket the response
 * is already in the server's receive queue, which a close never discards;
 * and once the request's input has been read to its end there is nothing
 * left to reset about. Then the request is detached: a plain close(), and
 * the worker accepts the next connection instead of sleeping in poll()
 * (5.5 % of its CPU and one more wake-up per request). Input left unread
 * (a body refused as too large) keeps libfcgi's careful close.
 */
static bool
listener_is_unix(void)
{
    struct sockaddr_storage ss;
    socklen_t               len = sizeof(ss);
    return getsockname(FCGI_LISTENSOCK_FILENO, (struct sockaddr *)&ss, &len) == 0 &&
           ss.ss_family == AF_UNIX;
}

int
ag_http_serve(ag_handler_fn dispatch, void *app)
{
    ag_arena_t      *arena = ag_arena_new(32768);
    ag_req_t         req;
    struct io        io = {0};
    struct sigaction sa;

    if (arena == NULL)
        return 1;
    memset(&req, 0, sizeof(req));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* large blocks (big responses) mapped on their own, so that freeing returns them */
    ag_mem_map_large(256u << 10);
    if (FCGX_IsCGI()) {
        req_reset(&req, arena, app, &io, false);
        serve_one(&req, dispatch);
        fflush(stdout);
    } else {
        FCGX_Request fr;
        bool         fast_close = listener_is_unix();
        FCGX_Init();
        /* FAIL_ACCEPT_ON_INTR: SIGTERM interrupts accept() so the loop ends cleanly */
        FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
        while (!stopping && FCGX_Accept_r(&fr) >= 0) {
            io.in = fr.in;
            io.out = fr.out;
            io.env = fr.envp;
            req_reset(&req, arena, app, &io, true);
            serve_one(&req, dispatch);
            if (fast_close && FCGX_GetChar(fr.in) == EOF)
                FCGX_Detach(&fr);
            FCGX_Finish_r(&fr);
            req_done(&req, arena);
        }
        FCGX_Free(&fr, 1);
    }
    req_reset(&req, NULL, NULL, NULL, false);
    ag_arena_free(arena);
    return 0;
}

/* ---- responses ---------------------------------------------------------- */

void
ag_resp_header(ag_req_t *req, const char *name, const char *value)
{
    /* header injection guard: values never carry CR or LF */
    if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n:"))
        return;
    ag_buf_printf(&req->headers, "%s: %s\r\n", name, value);
}

ag_status_t
ag_resp_raw(ag_req_t *req, int status, const char *type, const char *body, size_t len)
{
    ag_buf_reset(&req->body);
    if (ag_buf_append(&req->body, body, len) != AG_OK)
        return AG_ENOMEM;
    req->status = status;
    req->resp_type = type;
    req->responded = true;
    return AG_OK;
}

ag_status_t
ag_resp_buf(ag_req_t *req, int status, const char *type, ag_buf_t *b)
{
    ag_buf_t old = req->body;

    req->body = *b; /* a large response is not copied (nor held twice) */
    *b = old;
    ag_buf_reset(b);
    req->status = status;
    req->resp_type = type;
    req->responded = true;
    return AG_OK;
}

ag_status_t
ag_resp_json(ag_req_t *req, int status, ag_json_t *json)
{
    size_t      len = 0;
    const char *s;
    ag_status_t st;
    if (json == NULL)
        return ag_req_fail(req, AG_ENOMEM, "out of memory building response");
    s = ag_json_dump(json, &len);
    st = ag_resp_raw(req, status, "application/json", s, len);
    ag_json_free(json);
    return st;
}

ag_status_t
ag_resp_empty(ag_req_t *req, int status)
{
    ag_buf_reset(&req->body);
    req->status = status;
    req->resp_type = NULL;
    req->responded = true;
    return AG_OK;
}

ag_status_t
ag_req_fail(ag_req_t *req, ag_status_t st, const char *fmt, ...)
{
    char    msg[512];
    va_list ap;
    ag_json_t *env, *err;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (st >= 0)
        st = AG_EINTERNAL;  /* a failure was asked for: never answer 200 */
    int http = ag_status_http(st);
    if (http >= 500)
        ag_log_error("%s %s -> %d %s: %s", req->method, req->path, http, ag_status_name(st), msg);
    env = ag_json_obj();
    err = ag_json_obj();
    if (env && err) {
        ag_json_set_str(err, "code", ag_status_code(st));
        /* internal details stay in the log */
        ag_json_set_str(err, "message", http == 500 ? "internal error" : msg);
        ag_json_set(env, "error", err);
        err = NULL;
        size_t len;
        const char *s = ag_json_dump(env, &len);
        ag_resp_raw(req, http, "application/json", s, len);
    } else {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        ag_resp_raw(req, 500, "application/json", oom, sizeof(oom) - 1);
    }
    ag_json_free(err);
    ag_json_free(env);
    if (st == AG_EUNAVAIL)
        ag_resp_header(req, "Retry-After", "1");
    return st;
}
