/*
 * wsd/listen.c — the listening socket and the worker processes that share it.
 *
 * The sockets are ours, not lws's: lws 4.1 sets SO_REUSEPORT only when it runs
 * several service threads, and Debian builds it with LWS_MAX_SMP 1, so one
 * process can use one core. With ws_workers = N > 1 the first process binds N
 * SO_REUSEPORT sockets to the port (the kernel spreads connections over them by
 * a hash of the addresses: an even share each) and forks N workers; worker i
 * accepts from socket i in its own loop and hands each connection to lws
 * (lws_adopt_descriptor_vhost), which does the HTTP upgrade and the protocol as
 * if it had accepted it. Each worker is a whole daemon (its own NATS connection,
 * live consumer, presence lease and job threads: the design that already serves
 * several daemons on one NATS). The supervisor keeps every socket open, so the
 * connections that arrive for a worker that died wait in its backlog for its
 * replacement instead of being reset; it restarts a worker that died, forwards
 * SIGTERM, and exits when they all have. /metrics answers for every worker, whichever
 * the kernel picked (status.c). One socket shared by all workers was
 * the other way: it split 10k connects unevenly (whoever woke first took them).
 */
#include "wsd.h"
#include "log/log.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ACCEPT_BATCH 64 /* connections accepted per wake-up: others get their turn */

static int
bind_any(int family, int port, bool reuseport)
{
    struct sockaddr_in6 a6 = {
        .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_ANY_INIT};
    struct sockaddr_in a4 = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    int                one = 1, zero = 0, fd;

    if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    /* as lws binds: any address, IPv4 mapped into IPv6, restartable past TIME_WAIT */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if ((family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
                            : bind(fd, (struct sockaddr *)&a4, sizeof(a4))) != 0 ||
        listen(fd, 4096) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int
open_one(int port, bool reuseport)
{
    int fd = bind_any(AF_INET6, port, reuseport);

    if (fd < 0 && errno == EAFNOSUPPORT) /* no IPv6 here */
        fd = bind_any(AF_INET, port, reuseport);
    return fd;
}

int
wsd_listen_open(int port, int n, int *fds)
{
    int probe;

    for (int i = 0; i < n; i++)
        fds[i] = -1;
    /* SO_REUSEPORT would also share the port with another daemon's workers: first make
     * sure nobody listens there (a plain bind fails then) */
    if ((probe = open_one(port, false)) < 0) {
        ag_log_error("cannot listen on port %d: %s", port, strerror(errno));
        return -1;
    }
    if (n == 1) {
        fds[0] = probe;
        return 0;
    }
    close(probe);
    for (int i = 0; i < n; i++)
        if ((fds[i] = open_one(port, true)) < 0) {
            ag_log_error("cannot listen on port %d (socket %d of %d): %s", port, i + 1, n,
                         strerror(errno));
            for (int k = 0; k < i; k++)
                close(fds[k]);
            return -1;
        }
    return 0;
}

/* ---- accepting (loop thread) --------------------------------------------- */
static struct {
    wsd_t            *w;
    struct lws_vhost *vh;
    struct ev_loop   *loop;
    ev_io             io;
    ev_timer          pause;
    int               fd;
} L = {.fd = -1};

static void
on_resume(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)t;
    (void)revents;
    ev_io_start(loop, &L.io);
}

static void
on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)revents;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        lws_sock_file_fd_type d;
        int one = 1, fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: the backlog waits; polling it now would spin */
                ag_log_warn("wsd: accept: %s; pausing 100 ms", strerror(errno));
                ev_io_stop(loop, io);
                ev_timer_set(&L.pause, 0.1, 0.);
                ev_timer_start(loop, &L.pause);
            }
            return; /* EAGAIN: another worker took it, or none left */
        }
        if (L.w->stopping) {
            close(fd);
            continue;
        }
        /* what lws sets on a socket it accepts (lws_plat_set_socket_options) */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        d.sockfd = fd;
        /* NULL: lws closed it (its descriptor table is full) */
        lws_adopt_descriptor_vhost(L.vh, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP, d, NULL, NULL);
    }
}

int
wsd_listen_start(wsd_t *w, void *loop, int fd)
{
    L.w = w;
    L.loop = loop;
    L.fd = fd;
    if ((L.vh = lws_get_vhost_by_name(w->ctx, "default")) == NULL) {
        ag_log_error("wsd: lws has no default vhost");
        return -1;
    }
    ev_io_init(&L.io, on_accept, fd, EV_READ);
    ev_init(&L.pause, on_resume);
    ev_io_start(L.loop, &L.io);
    return 0;
}

void
wsd_listen_stop(void)
{
    if (L.loop == NULL)
        return;
    ev_io_stop(L.loop, &L.io);
    ev_timer_stop(L.loop, &L.pause);
    L.loop = NULL;
}

/* ---- worker processes (the first process, before any thread exists) ------ */
static volatile sig_atomic_t sup_stop;

static void
sup_signal(int sig)
{
    (void)sig;
    sup_stop = 1;
}

static pid_t
spawn(int i, int n, int *fds, wsd_t *w, int (*run)(wsd_t *))
{
    pid_t sup = getpid(), pid = fork();
    int   rc;

    if (pid != 0)
        return pid; /* the supervisor, or -1 */
    for (int k = 0; k < n; k++)
        if (k != i)
            close(fds[k]); /* the others' sockets: theirs to accept from */
    w->listen_fd = fds[i];
    w->worker = i;
    /* the worker: gone with the supervisor, whatever ends it (SIGKILL included) */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != sup)
        _exit(0); /* the supervisor died before prctl */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    ag_log_info("worker %d started (pid %ld)", i, (long)getpid());
    rc = run(w);
    ag_log_fini();
    _exit(rc);
}

/* every worker SIGTERM, then up to 10 s for them to end (graceful: close frames), then
 * SIGKILL */
static void
stop_all(pid_t *pids, int n)
{
    int64_t deadline = ag_now_mono_ms() + 10000;
    int     left = 0;

    for (int i = 0; i < n; i++)
        if (pids[i] > 0 && kill(pids[i], SIGTERM) == 0)
            left++;
    while (left > 0) {
        int   st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p > 0) {
            for (int i = 0; i < n; i++)
                if (pids[i] == p)
                    pids[i] = 0, left--;
            continue;
        }
        if (p < 0 && errno == ECHILD)
            break;
        if (ag_now_mono_ms() > deadline) {
            for (int i = 0; i < n; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGKILL);
            deadline = INT64_MAX;
        }
        usleep(50000);
    }
}

int
wsd_workers_run(int n, int *fds, wsd_t *w, int (*run)(wsd_t *))
{
    pid_t   pids[WSD_WORKERS_MAX] = {0};
    int64_t backoff[WSD_WORKERS_MAX] = {0}, due[WSD_WORKERS_MAX] = {0},
            started[WSD_WORKERS_MAX] = {0};
    struct sigaction sa;

    /* every worker answers /metrics for all of them (status.c) */
    if (!wsd_status_share_init(w, n))
        ag_log_warn("wsd: no shared memory for /metrics: each worker answers for itself");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sup_signal; /* no SA_RESTART: waitpid returns on SIGTERM */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    for (int i = 0; i < n; i++)
        due[i] = ag_now_mono_ms(); /* started by the first round below */
    while (!sup_stop) {
        int     st;
        int64_t now = ag_now_mono_ms();
        pid_t   p = waitpid(-1, &st, WNOHANG);

        for (int i = 0; p > 0 && i < n; i++) {
            if (pids[i] != p)
                continue;
            /* a crash, the OOM killer, an operator's kill: its sessions reconnect to the
             * others (or to it, once back); again after 1, 2, 4 ... 30 s if it keeps dying */
            backoff[i] = backoff[i] ? (backoff[i] * 2 > 30000 ? 30000 : backoff[i] * 2) : 1000;
            if (now - started[i] > 60000)
                backoff[i] = 1000; /* it had run a minute: not a crash loop */
            ag_log_error("worker %d (pid %ld) ended (%s %d); again in %lld ms", i, (long)p,
                         WIFSIGNALED(st) ? "signal" : "status",
                         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), (long long)backoff[i]);
            pids[i] = 0;
            due[i] = now + backoff[i];
            wsd_status_share_clear(w, i); /* its series leave /metrics until it is back */
        }
        for (int i = 0; i < n; i++)
            if (pids[i] == 0 && due[i] && now >= due[i]) {
                started[i] = now;
                due[i] = 0;
                if ((pids[i] = spawn(i, n, fds, w, run)) < 0) {
                    ag_log_error("cannot fork worker %d: %s", i, strerror(errno));
                    pids[i] = 0;
                    due[i] = now + 1000;
                }
            }
        if (p <= 0)
            usleep(100000);
    }
    ag_log_info("stopping %d workers", n);
    stop_all(pids, n);
    wsd_status_share_fini(w);
    return 0;
}
