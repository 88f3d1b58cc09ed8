/*
 * bench/loadgen.c — the WebSocket load generator of `./agora bench fanout` and
 * `./agora bench connections`: one process, one thread, many sockets, epoll.
 *
 *   loadgen idle   --ws HOST:PORT --paths FILE --n N [--src A,B..] [--want-frame]
 *                  [--hold S]
 *       opens N WebSocket connections (path i = line i % lines of FILE), prints
 *       "READY {json}" once all are up (with --want-frame: once each got its first
 *       text frame, agora-wsd's `ready`), then holds them, answering pings, until
 *       stdin closes or S seconds pass.
 *   loadgen fanout (the same options) --pub nats|http --pub-addr HOST:PORT
 *                  --targets FILE --rate R[,R2..] --warmup S --seconds S [--pub-conns K]
 *                  [--pipeline P] [--hist] [--first K] [--floor SUBJECT]
 *       subscribers as above; once all are up, publishes R events/s round-robin
 *       over the targets (NATS subjects, published to JetStream with a reply
 *       inbox; or HTTP paths, POSTed on K keep-alive connections with up to P
 *       requests in flight on each, pipelined: the rate holds when the server answers
 *       late). Each event carries "ts<CLOCK_MONOTONIC ns>n<index>"; every text frame
 *       received with one gives a publish→receipt latency; an index a subscriber had
 *       already is a duplicate, counted apart. Events of the warm-up are delivered, not
 *       counted; "published_measured" is the events published inside the window, the
 *       same test as the deliveries'. Prints one JSON line per rate (with --hist, the
 *       latency histogram too): several rates run one after the other on the same
 *       subscribers, phase i from T0 + i x (warm-up + seconds + 2 s), T0 given on stdin
 *       ("go T0", CLOCK_MONOTONIC ns) or the moment "go" came. Several processes with the
 *       same T0 count the same windows: one publishes, the others (--pub none) only
 *       subscribe (the load of one process is past one core at 200k deliveries/s).
 *   loadgen fanout ... --pub graphql --pub-addr HOST:PORT --targets FILE
 *       the e2e form: each target line is "CHANNEL_ID JWT"; each event is a
 *       `createPost` POSTed to /graphql (keep-alive, Bearer JWT). The post's id
 *       from the response is matched with the `messageId` of every
 *       `channel_message` frame (which may arrive before the response), giving
 *       request→frame latency per delivery, and request→response per post.
 *
 * Several processes (one per source address) get past the 20k fds of one
 * process and the ~28k ephemeral ports of one source address. The client keys
 * are constant and the server's accept key is not checked: this is a load
 * generator, not a conformance test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF     8192
#define HIST_US  1000000           /* 1 µs buckets up to 1 s; beyond goes to the last */
#define INFLIGHT 256               /* handshakes in progress at once */

enum { C_FREE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSED };
enum { K_SUB, K_NATS, K_HTTP };

#define PIPE_MAX 256               /* requests in flight on one HTTP publisher connection */

typedef struct {
    int      fd, state, kind, idx;
    bool     got_frame;
    int      nout, out_head;       /* HTTP publisher: requests in flight (pipelined), oldest */
    int64_t *sent_ns;              /* HTTP publisher: when each of them left (a ring) */
    int64_t  last_ev;              /* subscriber: index of the last event received */
    int      chan;                 /* subscriber: its target (event index % targets), -1 unknown */
    uint8_t *seen;                 /* subscriber: bit m set = event chan + m * targets received */
    size_t   seen_bytes;
    size_t   rlen;
    char    *rbuf;
} conn_t;

static struct {
    /* options */
    char     host[64];
    int      port, n, nsrc, want_frame, hold, rate, warmup, seconds, pub_conns, pipeline;
    int      rates[16], nrates;    /* --rate A,B,..: one phase each, in turn */
    int64_t  go_t0;                /* when phase 0 starts (several loadgens share the clock) */
    int      hist_out;             /* --hist: print the histogram (µs buckets) with the result */
    int      path_off;             /* --first K: connection i uses path line K + i */
    const char *floor_subj;        /* --floor SUBJ: a JetStream push consumer's deliveries */
    uint32_t *hist_floor;
    uint64_t floor_counted;
    char     pub[8], pub_host[64];
    int      pub_port;
    char   **paths, **targets;
    int      npaths, ntargets;
    struct in_addr src[16];
    /* state */
    int      ep;
    conn_t  *c;
    int      nc, inflight, next_open, open, ready, failed, closed;
    conn_t  *nats, *http;
    int      nhttp;
    uint64_t published, pub_acks, pub_skipped, received, counted, late;
    uint64_t published_window;     /* events whose publish time is in the measured window */
    uint64_t dups;                 /* deliveries of an event index a subscriber already had */
    uint64_t reordered;            /* deliveries of an index below one the subscriber had */
    uint64_t foreign;              /* deliveries of another target's event (none expected) */
    int64_t  measure_from, measure_to;
    uint32_t *hist;
    int64_t  max_ns;
    int64_t  t_start, t_ready;
    /* --pub graphql (e2e) */
    int      gql;
    uint32_t *hist_resp;
    uint64_t posts_ok, posts_failed, posts_measured, resp_counted, unmatched;
    int64_t  resp_max_ns;
} G;

/* ---- e2e: post ids -> request time, deliveries that beat the response --------- */
#define IDTAB  (1u << 17)          /* posts per run: 500/s over a whole run fit */
#define IDMAX  47

typedef struct {
    char     key[IDMAX + 1];
    int64_t  sent;                 /* 0 until the createPost response names the id */
    int64_t *early;                /* frames that arrived before the response */
    uint32_t nearly, cap;
} post_t;

static post_t *posts;
static uint32_t nposts;

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *m)
{
    fprintf(stderr, "loadgen: %s%s%s\n", m, errno ? ": " : "", errno ? strerror(errno) : "");
    exit(1);
}

static char **
read_lines(const char *path, int *n)
{
    FILE  *f = fopen(path, "r");
    char **v = NULL, line[4096];
    int    cap = 0;
    if (f == NULL)
        die("cannot open a lines file");
    *n = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            if ((v = realloc(v, sizeof(*v) * (size_t)cap)) == NULL)
                die("out of memory");
        }
        v[(*n)++] = strdup(line);
    }
    fclose(f);
    if (*n == 0)
        die("empty lines file");
    return v;
}

static void
hostport(const char *s, char *host, int *port)
{
    const char *c = strrchr(s, ':');
    if (c == NULL || (size_t)(c - s) >= 64)
        die("want HOST:PORT");
    memcpy(host, s, (size_t)(c - s));
    host[c - s] = '\0';
    *port = atoi(c + 1);
}

static void
ep_add(conn_t *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(G.ep, EPOLL_CTL_ADD, c->fd, &e) != 0)
        die("epoll_ctl");
}

static void
ep_mod(conn_t *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(G.ep, EPOLL_CTL_MOD, c->fd, &e);
}

static int
tcp_connect(const char *host, int port, const struct in_addr *src, bool nonblock)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int                fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (src) {
        struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr = *src};
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&s, sizeof(s)) != 0) {
            close(fd);
            return -1;
        }
    }
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {  /* rare: the peer is slow; wait for room */
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

/* ---- subscribers ----------------------------------------------------------- */
static void
sub_fail(conn_t *c)
{
    if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) {
        G.inflight--;
        G.failed++;
    } else if (c->state == C_OPEN) {
        G.closed++;
        G.open--;
        if (!G.want_frame || c->got_frame)
            G.ready--;
    }
    c->state = C_CLOSED;
    close(c->fd);
    c->fd = -1;
}

static void
sub_open_more(void)
{
    while (G.inflight < INFLIGHT && G.next_open < G.n) {
        conn_t *c = &G.c[G.next_open];
        c->idx = G.next_open++;
        c->kind = K_SUB;
        c->last_ev = -1;
        c->chan = -1;
        c->fd = tcp_connect(G.host, G.port, G.nsrc ? &G.src[c->idx % G.nsrc] : NULL, true);
        if (c->fd < 0) {
            G.failed++;
            c->state = C_CLOSED;
            continue;
        }
        if (c->rbuf == NULL && (c->rbuf = malloc(RBUF)) == NULL)
            die("out of memory");
        c->state = C_CONNECTING;
        G.inflight++;
        ep_add(c, EPOLLOUT | EPOLLIN);
    }
}

static void
sub_send_handshake(conn_t *c)
{
    char req[4600];
    int  n = snprintf(req, sizeof(req),
                      "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n",
                      G.paths[(c->idx + G.path_off) % G.npaths], G.host, G.port);
    int  err = 0;
    socklen_t el = sizeof(err);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err || write(c->fd, req, (size_t)n) != n) {
        sub_fail(c);
        return;
    }
    c->state = C_HANDSHAKE;
    ep_mod(c, EPOLLIN);
}

static void
became_ready(conn_t *c)
{
    (void)c;
    if (++G.ready == G.n)
        G.t_ready = now_ns();
}

static void
ws_send(int fd, int opcode, const unsigned char *p, size_t n)
{
    unsigned char f[256];
    if (n > 125)
        n = 125;
    f[0] = (unsigned char)(0x80 | opcode);
    f[1] = (unsigned char)(0x80 | n);
    memset(f + 2, 0, 4);  /* mask 0: legal, and XOR with it is the identity */
    memcpy(f + 6, p, n);
    write_all(fd, f, 6 + n);
}

/* one delivery of an event published at `sent`: counted if published in the window */
static void
count_delivery(int64_t sent, int64_t now)
{
    G.received++;
    if (sent < G.measure_from || (G.measure_to && sent >= G.measure_to))
        return;
    int64_t d = now - sent, us = d > 0 ? d / 1000 : 0;
    G.counted++;
    if (d > G.max_ns)
        G.max_ns = d;
    G.hist[us < HIST_US ? us : HIST_US - 1]++;
}

/* the string value of "name":"..." in a compact JSON text (our servers' output) */
static bool
json_str(const char *p, size_t n, const char *name, const char **v, size_t *vn)
{
    char        pat[40];
    int         pl = snprintf(pat, sizeof(pat), "\"%s\":\"", name);
    const char *s = memmem(p, n, pat, (size_t)pl), *e;
    if (s == NULL)
        return false;
    s += pl;
    if ((e = memchr(s, '"', (size_t)(p + n - s))) == NULL)
        return false;
    *v = s;
    *vn = (size_t)(e - s);
    return true;
}

static uint32_t
id_hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

/* the entry of a post id, created on first sight; NULL when the table is full */
static post_t *
post_slot(const char *k, size_t n)
{
    if (n == 0 || n > IDMAX)
        return NULL;
    if (posts == NULL && (posts = calloc(IDTAB, sizeof(*posts))) == NULL)
        die("out of memory");
    for (uint32_t i = id_hash(k, n) & (IDTAB - 1), probes = 0; probes < IDTAB;
         i = (i + 1) & (IDTAB - 1), probes++) {
        post_t *p = &posts[i];
        if (p->key[0] == '\0') {
            if (nposts >= IDTAB / 4 * 3)
                return NULL;
            memcpy(p->key, k, n);
            p->key[n] = '\0';
            nposts++;
            return p;
        }
        if (strncmp(p->key, k, n) == 0 && p->key[n] == '\0')
            return p;
    }
    return NULL;
}

/* a channel_message frame for post `id`, received at `now` */
static void
e2e_frame(const char *id, size_t n, int64_t now)
{
    post_t *p = post_slot(id, n);
    if (p == NULL) {
        G.unmatched++;
        return;
    }
    if (p->sent) {
        count_delivery(p->sent, now);
        return;
    }
    if (p->nearly == p->cap) {  /* the frame beat the createPost response */
        p->cap = p->cap ? p->cap * 2 : 8;
        if ((p->early = realloc(p->early, sizeof(*p->early) * p->cap)) == NULL)
            die("out of memory");
    }
    p->early[p->nearly++] = now;
}

/* a createPost response: the post's id, or a failure */
static void
e2e_response(int64_t sent_ns, const char *body, size_t n, bool ok)
{
    const char *cp = ok ? memmem(body, n, "\"createPost\"", 12) : NULL, *id;
    size_t      idn;
    int64_t     now = now_ns();
    post_t     *p;

    if (cp == NULL || !json_str(cp, (size_t)(body + n - cp), "id", &id, &idn)) {
        if (G.posts_failed++ < 5)
            fprintf(stderr, "loadgen: createPost failed: %.*s\n", (int)(n < 300 ? n : 300), body);
        return;
    }
    G.pub_acks++;
    G.posts_ok++;
    if (sent_ns >= G.measure_from && sent_ns < G.measure_to) {
        int64_t d = now - sent_ns, us = d / 1000;
        G.posts_measured++;
        G.resp_counted++;
        if (d > G.resp_max_ns)
            G.resp_max_ns = d;
        G.hist_resp[us < HIST_US ? us : HIST_US - 1]++;
    }
    if ((p = post_slot(id, idn)) == NULL) {
        G.unmatched++;
        return;
    }
    p->sent = sent_ns;
    for (uint32_t i = 0; i < p->nearly; i++)
        count_delivery(p->sent, p->early[i]);
    free(p->early);
    p->early = NULL;
    p->nearly = p->cap = 0;
}

/* Whether subscriber c had event ev before (then a duplicate); marks it had. Events go
 * round-robin over the targets, so a subscriber (of one channel) gets every
 * ntargets-th index: one bit each. */
static bool
seen_before(conn_t *c, int64_t ev)
{
    int64_t m;
    size_t  byte;

    if (c->chan < 0)
        c->chan = (int)(ev % G.ntargets);
    if (ev % G.ntargets != c->chan) {
        G.foreign++; /* the subscriber is in another channel too: not a delivery we expect */
        return true;
    }
    m = ev / G.ntargets;
    byte = (size_t)(m / 8);
    if (byte >= c->seen_bytes) {
        size_t nb = c->seen_bytes ? c->seen_bytes : 64;
        while (nb <= byte)
            nb *= 2;
        if ((c->seen = realloc(c->seen, nb)) == NULL)
            die("out of memory");
        memset(c->seen + c->seen_bytes, 0, nb - c->seen_bytes);
        c->seen_bytes = nb;
    }
    if (c->seen[byte] & (1u << (m % 8)))
        return true;
    c->seen[byte] |= (uint8_t)(1u << (m % 8));
    return false;
}

/* "ts<digits>n<digits>" in a payload: publish time and index of the event (fanout);
 * or, for the e2e form, a channel_message frame naming a post. An index a subscriber
 * already had is a duplicate: counted apart, never as a delivery; one below the
 * highest it had came out of order (counted, and delivered). */
static void
on_text(conn_t *c, const char *p, size_t n)
{
    int64_t now = now_ns();
    if (G.gql) {
        const char *id;
        size_t      idn;
        if (memmem(p, n, "\"channel_message\"", 17) && json_str(p, n, "messageId", &id, &idn))
            e2e_frame(id, idn, now);
        return;
    }
    for (size_t i = 0; i + 2 < n; i++) {
        if (p[i] != 't' || p[i + 1] != 's' || p[i + 2] < '0' || p[i + 2] > '9')
            continue;
        int64_t ts = 0, ev = -1;
        for (i += 2; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ts = ts * 10 + (p[i] - '0');
        if (i + 1 < n && p[i] == 'n' && p[i + 1] >= '0' && p[i + 1] <= '9')
            for (ev = 0, i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
                ev = ev * 10 + (p[i] - '0');
        if (ev >= 0) {
            uint64_t foreign = G.foreign;
            if (seen_before(c, ev)) {
                if (G.foreign == foreign)
                    G.dups++;
                return;
            }
            if (ev < c->last_ev)
                G.reordered++;
            else
                c->last_ev = ev;
        }
        count_delivery(ts, now);
        return;
    }
}

/* Parse whole frames from c->rbuf; returns false when the connection is finished. */
static bool
sub_frames(conn_t *c)
{
    size_t off = 0;
    while (c->rlen - off >= 2) {
        unsigned char *b = (unsigned char *)c->rbuf + off;
        size_t         avail = c->rlen - off, hl = 2;
        uint64_t       len = b[1] & 0x7F;
        if (len == 126) {
            if (avail < 4)
                break;
            len = ((uint64_t)b[2] << 8) | b[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | b[2 + i];
            hl = 10;
        }
        if (hl + len > RBUF)
            return false;  /* far bigger than any frame of these benchmarks */
        if (avail < hl + len)
            break;
        int op = b[0] & 0x0F;
        if (op == 1) {
            if (!c->got_frame) {
                c->got_frame = true;
                if (G.want_frame)
                    became_ready(c);
            }
            on_text(c, (char *)b + hl, (size_t)len);
        } else if (op == 9) {
            ws_send(c->fd, 10, b + hl, (size_t)len);
        } else if (op == 8) {
            return false;
        }
        off += hl + (size_t)len;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    return true;
}

static void
sub_read(conn_t *c)
{
    for (;;) {
        ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            sub_fail(c);
            return;
        }
        size_t want = RBUF - c->rlen;
        c->rlen += (size_t)r;
        if (c->state == C_HANDSHAKE) {
            char *e = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
            if (e == NULL) {
                if (c->rlen == RBUF)
                    sub_fail(c);
                continue;
            }
            if (c->rlen < 12 || memcmp(c->rbuf + 9, "101", 3) != 0) {
                sub_fail(c);
                return;
            }
            size_t hl = (size_t)(e + 4 - c->rbuf);
            memmove(c->rbuf, c->rbuf + hl, c->rlen - hl);
            c->rlen -= hl;
            c->state = C_OPEN;
            G.inflight--;
            G.open++;
            if (!G.want_frame)
                became_ready(c);
        }
        if (!sub_frames(c)) {
            sub_fail(c);
            return;
        }
        /* less than asked for: the socket is empty now (epoll is level-triggered), so no
         * second read that only says EAGAIN: half the reads of a frame-per-wake-up load */
        if ((size_t)r < want)
            return;
    }
}

/* ---- publishers ------------------------------------------------------------- */
static void
nats_open(void)
{
    static conn_t nc;
    char          buf[4096];
    int           fd = tcp_connect(G.pub_host, G.pub_port, NULL, false);
    if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)  /* INFO */
        die("cannot reach NATS");
    static const char hello[] = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n"
                                "SUB _INBOX.loadgen.* 1\r\n";
    write_all(fd, hello, sizeof(hello) - 1);
    if (G.floor_subj) {
        char sub[300];
        int  n = snprintf(sub, sizeof(sub), "SUB %s 2\r\n", G.floor_subj);
        write_all(fd, sub, (size_t)n);
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    nc.fd = fd;
    nc.kind = K_NATS;
    nc.rbuf = malloc(1 << 20);
    G.nats = &nc;
    ep_add(&nc, EPOLLIN);
}

/* An event delivered by the JetStream push consumer that --floor names: the broker's own
 * publish-to-delivery latency, the floor under agora-wsd's (which gets the same events
 * from a consumer of its own) */
static void
floor_msg(const char *p, size_t n)
{
    int64_t now = now_ns(), ts = 0;
    for (size_t i = 0; i + 2 < n; i++) {
        if (p[i] != 't' || p[i + 1] != 's' || p[i + 2] < '0' || p[i + 2] > '9')
            continue;
        for (i += 2; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ts = ts * 10 + (p[i] - '0');
        break;
    }
    if (ts < G.measure_from || ts >= G.measure_to)
        return;
    int64_t us = (now - ts) / 1000;
    G.floor_counted++;
    G.hist_floor[us < 0 ? 0 : (us < HIST_US ? us : HIST_US - 1)]++;
}

static void
nats_read(conn_t *c)
{
    for (;;) {
        ssize_t r = read(c->fd, c->rbuf + c->rlen, (1 << 20) - c->rlen);
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0)
            die("NATS closed the connection");
        c->rlen += (size_t)r;
        size_t off = 0;
        for (;;) {
            char *eol = memmem(c->rbuf + off, c->rlen - off, "\r\n", 2);
            if (eol == NULL)
                break;
            size_t ll = (size_t)(eol - (c->rbuf + off));
            if (ll >= 4 && memcmp(c->rbuf + off, "MSG ", 4) == 0) {
                const char *sp = memrchr(c->rbuf + off, ' ', ll), *sid;
                size_t      plen = (size_t)strtoul(sp + 1, NULL, 10);
                if (off + ll + 2 + plen + 2 > c->rlen)
                    break;
                /* "MSG <subject> <sid> ...": sid 2 is --floor's subscription */
                sid = memchr(c->rbuf + off + 4, ' ', ll - 4);
                if (sid && sid[1] == '2' && sid[2] == ' ')
                    floor_msg(c->rbuf + off + ll + 2, plen);
                else
                    G.pub_acks++;
                off += ll + 2 + plen + 2;
                continue;
            }
            if (ll >= 4 && memcmp(c->rbuf + off, "PING", 4) == 0)
                write_all(c->fd, "PONG\r\n", 6);
            else if (ll >= 4 && memcmp(c->rbuf + off, "-ERR", 4) == 0)
                fprintf(stderr, "loadgen: NATS %.*s\n", (int)ll, c->rbuf + off);
            off += ll + 2;
        }
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

static void
http_connect(conn_t *c)
{
    if ((c->fd = tcp_connect(G.pub_host, G.pub_port, NULL, false)) < 0)
        die("cannot reach the HTTP publisher endpoint");
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    c->rlen = 0;
    c->nout = c->out_head = 0;
    ep_add(c, EPOLLIN);
}

static void
http_open(void)
{
    if ((G.http = calloc((size_t)G.pub_conns, sizeof(conn_t))) == NULL)
        die("out of memory");
    for (int i = 0; i < G.pub_conns; i++) {
        conn_t *c = &G.http[i];
        c->kind = K_HTTP;
        if ((c->rbuf = malloc(RBUF)) == NULL ||
            (c->sent_ns = calloc(PIPE_MAX, sizeof(*c->sent_ns))) == NULL)
            die("out of memory");
        http_connect(c);
    }
    G.nhttp = G.pub_conns;
}

static void
http_read(conn_t *c)
{
    for (;;) {
        ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            /* Apache ends a keep-alive connection after MaxKeepAliveRequests: a new one
             * (what was in flight on it is lost) */
            G.posts_failed += (uint64_t)c->nout;
            epoll_ctl(G.ep, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            http_connect(c);
            return;
        }
        c->rlen += (size_t)r;
        for (;;) {
            char *e = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
            if (e == NULL)
                break;
            size_t hl = (size_t)(e + 4 - c->rbuf), bl = 0;
            char  *cl = memmem(c->rbuf, hl, "Content-Length:", 15);
            if (cl == NULL)
                cl = memmem(c->rbuf, hl, "content-length:", 15);
            if (cl)
                bl = (size_t)strtoul(cl + 15, NULL, 10);
            else if (memmem(c->rbuf, hl, "chunked", 7)) {
                /* Apache streams a FastCGI response without a length: chunks up to the
                 * last one (the id search reads through the chunk-size lines) */
                char *end = hl >= 2 ? memmem(c->rbuf + hl - 2, c->rlen - hl + 2, "\r\n0\r\n\r\n", 7)
                                    : NULL;
                if (end == NULL)
                    break;
                bl = (size_t)(end + 7 - (c->rbuf + hl));
            }
            if (hl + bl > c->rlen)
                break;
            bool    ok = c->rlen >= 12 && c->rbuf[9] == '2';
            int64_t sent = c->nout ? c->sent_ns[c->out_head] : 0;
            if (c->nout) { /* responses come in request order */
                c->out_head = (c->out_head + 1) % PIPE_MAX;
                c->nout--;
            }
            if (G.gql)
                e2e_response(sent, c->rbuf + hl, bl, ok);
            else if (ok)
                G.pub_acks++;
            memmove(c->rbuf, c->rbuf + hl + bl, c->rlen - hl - bl);
            c->rlen -= hl + bl;
        }
        if (c->rlen == RBUF)
            c->rlen = 0;  /* a response we do not understand: forget it */
    }
}

/* The HTTP connection for the next request: an idle one first, else the least loaded
 * one with room for another pipelined request (up to --pipeline); NULL when all are full. */
static conn_t *
http_pick(void)
{
    conn_t *best = NULL;
    for (int i = 0; i < G.nhttp; i++) {
        conn_t *c = &G.http[(G.published + (uint64_t)i) % (uint64_t)G.nhttp];
        if (c->nout == 0)
            return c;
        if (c->nout < G.pipeline && (best == NULL || c->nout < best->nout))
            best = c;
    }
    return best;
}

static void
http_sent(conn_t *c, int64_t ts)
{
    c->sent_ns[(c->out_head + c->nout) % PIPE_MAX] = ts;
    c->nout++;
}

/* One event now. Its body names its publish time and index ("ts<ns>n<i>"); events whose
 * publish time falls in the measured window are what the delivered share is taken of. */
static void
publish_one(void)
{
    char        msg[2048], body[512];
    const char *t = G.targets[G.published % (uint64_t)G.ntargets];
    int64_t     ts = now_ns();
    conn_t     *c;

    if (G.nats) {
        int bl = snprintf(body, sizeof(body), "{\"messageId\":\"ts%lldn%llu\"}", (long long)ts,
                          (unsigned long long)G.published);
        int n = snprintf(msg, sizeof(msg), "PUB %s _INBOX.loadgen.%llu %d\r\n%s\r\n", t,
                         (unsigned long long)G.published, bl, body);
        write_all(G.nats->fd, msg, (size_t)n);
    } else if ((c = http_pick()) == NULL) {
        G.pub_skipped++; /* every connection has --pipeline requests in flight */
        return;
    } else if (G.gql) { /* "CHANNEL_ID JWT": createPost as that user */
        const char *sp = strchr(t, ' ');
        if (sp == NULL)
            die("a graphql target line is \"CHANNEL_ID JWT\"");
        int bl = snprintf(body, sizeof(body),
                          "{\"query\":\"mutation($c:ID!,$b:String!){createPost(channelId:$c,"
                          "body:$b){id}}\",\"variables\":{\"c\":\"%.*s\",\"b\":\"e2e "
                          "benchmark post %llu\"}}",
                          (int)(sp - t), t, (unsigned long long)G.published);
        int n = snprintf(msg, sizeof(msg),
                         "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                         "Accept: application/json\r\nAuthorization: Bearer %s\r\n"
                         "Content-Length: %d\r\n\r\n%s",
                         G.pub_host, sp + 1, bl, body);
        http_sent(c, ts);
        write_all(c->fd, msg, (size_t)n);
    } else {
        int bl = snprintf(body, sizeof(body), "ts%lldn%llu", (long long)ts,
                          (unsigned long long)G.published);
        int n = snprintf(msg, sizeof(msg),
                         "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %d\r\n\r\n%s",
                         t, G.pub_host, bl, body);
        http_sent(c, ts);
        write_all(c->fd, msg, (size_t)n);
    }
    G.published++;
    if (ts >= G.measure_from && ts < G.measure_to)
        G.published_window++;
}

/* ---- main loop ---------------------------------------------------------------- */
static volatile sig_atomic_t stop_flag;

static void
on_sig(int s)
{
    (void)s;
    stop_flag = 1;
}

static void
loop_once(int timeout_ms)
{
    struct epoll_event ev[512];
    int                n = epoll_wait(G.ep, ev, 512, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn_t *c = ev[i].data.ptr;
        if (c == NULL) {  /* stdin: "go [T0]" (T0: CLOCK_MONOTONIC ns of the first phase) */
            char    b[64];
            ssize_t r = read(0, b, sizeof(b) - 1);
            if (r <= 0) {
                stop_flag = 1;
            } else {
                b[r] = '\0';
                if (strncmp(b, "go ", 3) == 0)
                    G.go_t0 = strtoll(b + 3, NULL, 10);
            }
            continue;
        }
        if (c->kind == K_NATS) {
            nats_read(c);
        } else if (c->kind == K_HTTP) {
            http_read(c);
        } else if (c->state == C_CONNECTING) {
            if (ev[i].events & (EPOLLERR | EPOLLHUP))
                sub_fail(c);
            else if (ev[i].events & EPOLLOUT)
                sub_send_handshake(c);
        } else if (c->state == C_HANDSHAKE || c->state == C_OPEN) {
            sub_read(c);
        }
    }
    sub_open_more();
}

static double
pct_of(const uint32_t *hist, uint64_t count, double p)
{
    uint64_t want = (uint64_t)((double)count * p / 100.0), acc = 0;
    if (count == 0)
        return -1;
    for (int i = 0; i < HIST_US; i++) {
        acc += hist[i];
        if (acc > want)
            return i / 1000.0 + 0.0005;
    }
    return HIST_US / 1000.0;
}

static double
pct(double p)
{
    return pct_of(G.hist, G.counted, p);
}

/*
 * One rate: warm-up, the measured window, 2 s for the last deliveries; then one JSON
 * line. Several rates run one after the other on the same subscribers (--rate A,B,..),
 * each counted on its own: a delivery counts in the phase whose window holds its event's
 * publish time.
 */
static void
run_phase(int rate, int64_t t0, double ramp_s)
{
    uint64_t pub0 = G.published, acks0 = G.pub_acks, rcv0 = G.received;
    uint64_t ok0 = G.posts_ok, fail0 = G.posts_failed;
    int64_t  step = 1000000000LL / rate, next = t0, behind_max = 0;
    bool     in_window = false;
    bool     publish = strcmp(G.pub, "none") != 0;

    while (!stop_flag && now_ns() < t0) { /* the phase starts at the same time everywhere */
        int64_t wait = (t0 - now_ns()) / 1000000;
        loop_once(wait > 50 ? 50 : (wait > 0 ? (int)wait : 0));
    }

    G.rate = rate;
    G.published_window = G.pub_skipped = G.counted = G.dups = G.reordered = G.foreign = 0;
    G.posts_measured = G.resp_counted = G.unmatched = G.floor_counted = 0;
    G.max_ns = G.resp_max_ns = 0;
    memset(G.hist, 0, HIST_US * sizeof(*G.hist));
    memset(G.hist_resp, 0, HIST_US * sizeof(*G.hist_resp));
    memset(G.hist_floor, 0, HIST_US * sizeof(*G.hist_floor));
    G.measure_from = t0 + (int64_t)G.warmup * 1000000000LL;
    G.measure_to = G.measure_from + (int64_t)G.seconds * 1000000000LL;
    while (!stop_flag) {
        int64_t now = now_ns();
        if (!in_window && now >= G.measure_from) {
            in_window = true;
            printf("MEASURE %d\n", rate); /* the caller samples the server's CPU from here */
            fflush(stdout);
        }
        if (now >= G.measure_to) {
            printf("MEASURED %d\n", rate);
            fflush(stdout);
            break;
        }
        /* behind schedule (this process was busy or descheduled): catch up at once, so
         * that the window holds rate x seconds events; how far behind it got is reported */
        if (in_window && now - next > behind_max)
            behind_max = now - next;
        while (next <= now) {
            if (publish)
                publish_one();
            next += step;
        }
        int64_t wait = (next - now_ns()) / 1000000;
        loop_once(wait > 0 ? (int)wait : 0);
    }
    /* drain: deliveries of the last events still on their way */
    int64_t drain = G.measure_to + 2000000000LL;
    while (!stop_flag && now_ns() < drain)
        loop_once(50);
    printf("{\"subscribers\":%d,\"open\":%d,\"failed\":%d,\"closed\":%d,\"ramp_s\":%.2f,"
           "\"rate\":%d,\"published\":%llu,\"published_measured\":%llu,\"pub_acks\":%llu,"
           "\"pub_skipped\":%llu,\"pub_behind_max_ms\":%.1f,\"received\":%llu,\"counted\":%llu,"
           "\"duplicates\":%llu,\"reordered\":%llu,\"foreign\":%llu,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f",
           G.n, G.open, G.failed, G.closed, ramp_s, rate,
           (unsigned long long)(G.published - pub0), (unsigned long long)G.published_window,
           (unsigned long long)(G.pub_acks - acks0), (unsigned long long)G.pub_skipped,
           (double)behind_max / 1e6, (unsigned long long)(G.received - rcv0),
           (unsigned long long)G.counted, (unsigned long long)G.dups,
           (unsigned long long)G.reordered, (unsigned long long)G.foreign, pct(50), pct(90), pct(99),
           pct(99.9), (double)G.max_ns / 1e6);
    if (G.floor_subj)
        printf(",\"floor_counted\":%llu,\"floor_p50_ms\":%.3f,\"floor_p99_ms\":%.3f",
               (unsigned long long)G.floor_counted, pct_of(G.hist_floor, G.floor_counted, 50),
               pct_of(G.hist_floor, G.floor_counted, 99));
    if (G.hist_out) { /* the latency histogram itself, for merging several loadgens' */
        const char *sep = "";
        fputs(",\"hist\":[", stdout);
        for (int i = 0; i < HIST_US; i++)
            if (G.hist[i]) {
                printf("%s[%d,%u]", sep, i, G.hist[i]);
                sep = ",";
            }
        putchar(']');
    }
    if (G.gql)
        printf(",\"e2e\":true,\"posts_ok\":%llu,\"posts_failed\":%llu,\"posts_measured\":%llu,"
               "\"unmatched\":%llu,\"resp_p50_ms\":%.3f,\"resp_p99_ms\":%.3f,\"resp_max_ms\":%.3f",
               (unsigned long long)(G.posts_ok - ok0), (unsigned long long)(G.posts_failed - fail0),
               (unsigned long long)G.posts_measured, (unsigned long long)G.unmatched,
               pct_of(G.hist_resp, G.resp_counted, 50), pct_of(G.hist_resp, G.resp_counted, 99),
               (double)G.resp_max_ns / 1e6);
    puts("}");
    fflush(stdout);
}

static void
usage(void)
{
    fputs("usage: loadgen idle|fanout --ws HOST:PORT --paths FILE --n N [--src A,B] "
          "[--want-frame] [--hold S]\n"
          "       [--pub nats|http --pub-addr HOST:PORT --targets FILE --rate R[,R..] --warmup S "
          "--seconds S --pub-conns K --pipeline P --hist --floor SUBJECT]\n"
          "       [--pub none --targets FILE --rate R[,R..] ...: subscribers of another loadgen's events]\n"
          "       [--pub graphql --pub-addr HOST:PORT --targets FILE(\"CHANNEL_ID JWT\" lines) ...]\n",
          stderr);
    exit(2);
}

int
main(int argc, char **argv)
{
    struct rlimit rl;
    bool          fanout;

    if (argc < 2)
        usage();
    fanout = strcmp(argv[1], "fanout") == 0;
    if (!fanout && strcmp(argv[1], "idle") != 0)
        usage();
    G.hold = 3600;
    G.rates[0] = G.rate = 1000;
    G.nrates = 1;
    G.warmup = 5;
    G.seconds = 20;
    G.pub_conns = 16;
    G.pipeline = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--want-frame") == 0) {
            G.want_frame = 1;
            continue;
        }
        if (strcmp(a, "--hist") == 0) {
            G.hist_out = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--ws") == 0) hostport(v, G.host, &G.port);
        else if (strcmp(a, "--paths") == 0) G.paths = read_lines(v, &G.npaths);
        else if (strcmp(a, "--targets") == 0) G.targets = read_lines(v, &G.ntargets);
        else if (strcmp(a, "--n") == 0) G.n = atoi(v);
        else if (strcmp(a, "--hold") == 0) G.hold = atoi(v);
        else if (strcmp(a, "--rate") == 0) {
            char *d = strdup(v), *save = NULL;
            G.nrates = 0;
            for (char *t = strtok_r(d, ",", &save); t && G.nrates < 16; t = strtok_r(NULL, ",", &save))
                if ((G.rates[G.nrates] = atoi(t)) > 0)
                    G.nrates++;
            free(d);
        }
        else if (strcmp(a, "--warmup") == 0) G.warmup = atoi(v);
        else if (strcmp(a, "--seconds") == 0) G.seconds = atoi(v);
        else if (strcmp(a, "--pub-conns") == 0) G.pub_conns = atoi(v);
        else if (strcmp(a, "--pipeline") == 0) G.pipeline = atoi(v);
        else if (strcmp(a, "--first") == 0) G.path_off = atoi(v);
        else if (strcmp(a, "--floor") == 0) G.floor_subj = v;
        else if (strcmp(a, "--pub") == 0) snprintf(G.pub, sizeof(G.pub), "%s", v);
        else if (strcmp(a, "--pub-addr") == 0) hostport(v, G.pub_host, &G.pub_port);
        else if (strcmp(a, "--src") == 0) {
            char *d = strdup(v), *save = NULL;
            for (char *t = strtok_r(d, ",", &save); t && G.nsrc < 16; t = strtok_r(NULL, ",", &save))
                if (inet_pton(AF_INET, t, &G.src[G.nsrc]) == 1)
                    G.nsrc++;
            free(d);
        } else usage();
    }
    if (G.n <= 0 || G.paths == NULL || !G.port || (fanout && (!G.targets || !G.pub[0])) ||
        G.pipeline < 1 || G.pipeline > PIPE_MAX)
        usage();
    /* the soft fd limit up to the hard one: the point is many sockets */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    if ((G.ep = epoll_create1(0)) < 0 || (G.c = calloc((size_t)G.n, sizeof(conn_t))) == NULL ||
        (G.hist = calloc(HIST_US, sizeof(uint32_t))) == NULL ||
        (G.hist_resp = calloc(HIST_US, sizeof(uint32_t))) == NULL ||
        (G.hist_floor = calloc(HIST_US, sizeof(uint32_t))) == NULL)
        die("setup");
    G.gql = strcmp(G.pub, "graphql") == 0;
    G.measure_from = INT64_MAX;
    G.t_start = now_ns();
    {
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
        if (!fanout)
            epoll_ctl(G.ep, EPOLL_CTL_ADD, 0, &e);  /* stdin closed: stop holding */
    }
    sub_open_more();
    /* ramp up: until all are ready or nothing is in progress any more */
    while (!stop_flag && G.ready + G.failed + G.closed < G.n &&
           (now_ns() - G.t_start) < 120LL * 1000000000LL)
        loop_once(100);
    double ramp_s = (double)(now_ns() - G.t_start) / 1e9;
    if (!fanout) {
        printf("READY {\"wanted\":%d,\"ready\":%d,\"open\":%d,\"failed\":%d,\"closed\":%d,"
               "\"ramp_s\":%.2f}\n", G.n, G.ready, G.open, G.failed, G.closed, ramp_s);
        fflush(stdout);
        int64_t end = now_ns() + (int64_t)G.hold * 1000000000LL;
        while (!stop_flag && now_ns() < end)
            loop_once(200);
        printf("DONE {\"open\":%d,\"closed\":%d}\n", G.open, G.closed);
        return 0;
    }
    if (strcmp(G.pub, "nats") == 0)
        nats_open();
    else if (strcmp(G.pub, "none") != 0) /* none: subscribers only (another loadgen publishes) */
        http_open();
    /* after the ramp the server may still be busy (presence, consumers of 10k users):
     * the caller watches its CPU and writes a line on stdin when it is quiet */
    fputs("RAMPED\n", stdout);
    fflush(stdout);
    {
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
        epoll_ctl(G.ep, EPOLL_CTL_ADD, 0, &e);
        while (!stop_flag)
            loop_once(50);
        stop_flag = 0;
        epoll_ctl(G.ep, EPOLL_CTL_DEL, 0, NULL);
    }
    /* phase i starts at T0 + i x (warm-up + seconds + 2 s of drain): several loadgen
     * processes (one publishing, the others --pub none) count the same windows */
    int64_t t0 = G.go_t0 ? G.go_t0 : now_ns();
    int64_t period = ((int64_t)G.warmup + G.seconds + 2) * 1000000000LL;
    for (int i = 0; i < G.nrates && !stop_flag; i++)
        run_phase(G.rates[i], t0 + i * period, ramp_s);
    return 0;
}
