/*
 * wsd/main.c — agora-wsd: options, configuration, the lws context and the
 * service loop, graceful SIGTERM. See wsd.h for which thread owns what.
 */
#include "wsd.h"
#include "gqlws.h"
#include "gql/gql.h"
#include "log/log.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static wsd_t *the_wsd; /* for the signal handler only */

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: agora-wsd [--config FILE] [--pidfile FILE] [--check-config]\n"
            "The Agora realtime daemon: one WebSocket per client on ws_port\n"
            "(ws://HOST:PORT/?access_token=JWT), /healthz and /metrics on the same port.\n"
            "  --config FILE   configuration file (default $AGORA_CONFIG or %s)\n"
            "  --pidfile FILE  write the process id there; removed at exit\n"
            "  --check-config  print the effective configuration and exit\n"
            "  --help          this text\n"
            "Close codes: 1001 shutting down, 1008 policy, 1009 frame over ws_frame_max,\n"
            "1011 subscriptions unavailable (retry), 4001 token expired or account deleted\n"
            "(sign in again), 4008 slow consumer (reconnect; replay resumes from lastRead).\n"
            "/metrics: with ws_metrics_token, Authorization: Bearer <token>; without, direct\n"
            "requests from loopback only.\n\nConfiguration keys:\n",
            AG_CONFIG_DEFAULT_PATH);
    ag_config_print_keys(f);
}

static void
on_signal(int sig)
{
    (void)sig;
    if (the_wsd) {
        the_wsd->stop = 1;
        if (the_wsd->ctx)
            lws_cancel_service(the_wsd->ctx); /* a write(2) on lws's pipe */
    }
}

static void
lws_logger(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        n--;
    ag_log(level == LLL_ERR ? AG_LOG_ERROR : AG_LOG_WARN, "lws: %.*s", (int)n, line);
}

static int
write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        ag_log_error("cannot write pid file %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
    return 0;
}

static void
limits_from(wsd_t *w)
{
    w->frame_max = ag_config_int(w->cfg, AG_CFG_ws_frame_max);
    w->queue_max = ag_config_int(w->cfg, AG_CFG_ws_queue_max);
    w->conn_per_user = ag_config_int(w->cfg, AG_CFG_ws_conn_per_user);
    w->rate_per_sec = ag_config_int(w->cfg, AG_CFG_ws_rate_per_sec);
    w->heartbeat_ms = ag_config_int(w->cfg, AG_CFG_ws_heartbeat_ms);
    w->grace_ms = ag_config_int(w->cfg, AG_CFG_ws_presence_grace_ms);
    w->typing_ms = ag_config_int(w->cfg, AG_CFG_typing_interval_ms);
    w->consumer_idle_s = ag_config_int(w->cfg, AG_CFG_ws_consumer_idle_s);
    w->instance_ttl_ms = ag_config_int(w->cfg, AG_CFG_ws_instance_ttl_ms);
    w->replay_max = ag_config_int(w->cfg, AG_CFG_ws_replay_max);
    w->resync_ms = ag_config_int(w->cfg, AG_CFG_ws_resync_s) * 1000;
    w->live_hb_ms = ag_config_int(w->cfg, AG_CFG_ws_live_heartbeat_ms);
    w->consumer_hb_ms = ag_config_int(w->cfg, AG_CFG_ws_consumer_heartbeat_ms);
    w->ack_wait_s = ag_config_int(w->cfg, AG_CFG_ws_ack_wait_s);
    w->metrics_token = ag_config_str(w->cfg, AG_CFG_ws_metrics_token);
    w->gql_init_wait_ms = ag_config_int(w->cfg, AG_CFG_ws_gql_init_wait_ms);
    w->gql_subs_max = ag_config_int(w->cfg, AG_CFG_ws_gql_subscriptions_max);
}

/* libev, right before the loop polls: the frames queued in this pass go out now (conn.c) */
static void
before_sleep(struct ev_loop *loop, ev_prepare *wp, int revents)
{
    (void)loop;
    (void)revents;
    wsd_flush(wp->data);
}

static int
serve(wsd_t *w)
{
    struct lws_context_creation_info info;
    struct lws_protocols             protos[3];
    lws_retry_bo_t                   retry;
    int64_t                          deadline;
    struct ev_loop                  *loop;
    void                            *loops[1];
    ev_prepare                       flush;

    memset(protos, 0, sizeof(protos));
    protos[0].name = "agora"; /* also the default: clients need not name a subprotocol */
    protos[0].callback = wsd_callback;
    protos[0].per_session_data_size = 64;
    /* lws allocates this per connection: client frames are small JSON actions, and a
     * larger one (up to ws_frame_max) arrives over several callbacks (conn.c) */
    protos[0].rx_buffer_size = 512;
    /* lws_issue_raw sends at most tx_packet_size (else rx_buffer_size + LWS_PRE + 4) at a
     * time and buffers the rest for POLLOUT: room for a whole corked write (conn.c) */
    protos[0].tx_packet_size = WSD_WBUF;
    /* GraphQL subscriptions (gqlws.h): the same callback, sessions and limits */
    protos[1] = protos[0];
    protos[1].name = WSD_GQL_PROTOCOL;
    /* no lws validity timers (its default pings after 300 s): the heartbeat is ours
     * (conn.c, wsd_heartbeat_sweep); lws arms none when secs_since_valid_hangup is 0 */
    memset(&retry, 0, sizeof(retry));
    memset(&info, 0, sizeof(info));
    /* a server without a listening socket of its own: listen.c accepts and hands each
     * connection over (lws_adopt_descriptor_vhost) */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protos;
    info.user = w;
    info.retry_and_idle_policy = &retry;
    /*
     * The loop is libev on epoll, ours (a "foreign" loop to lws). lws's default poll()
     * walks every descriptor on each wake-up: at 10k sessions and 1,000 events/s that
     * was most of the loop's own time (bench fanout). We run the loop a round at a
     * time so that SIGTERM (lws_cancel_service from the handler) ends it; lws installs
     * no signal watchers on a foreign loop.
     */
    if ((loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV)) == NULL) {
        ag_log_error("cannot create the event loop (libev, epoll)");
        return 1;
    }
    loops[0] = loop;
    info.foreign_loops = loops;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_LIBEV;
    info.timeout_secs = 10;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_logger);
    if ((w->ctx = lws_create_context(&info)) == NULL) {
        ag_log_error("cannot create the lws context (is lws's libev plugin missing?)");
        ev_loop_destroy(loop);
        return 1;
    }
    if (wsd_listen_start(w, loop, w->listen_fd) != 0) {
        lws_context_destroy(w->ctx);
        w->ctx = NULL;
        ev_loop_destroy(loop);
        return 1;
    }
    if ((w->wbuf = malloc(LWS_PRE + WSD_WBUF)) == NULL)
        ag_log_warn("no memory for the write buffer: one frame per write");
    ev_prepare_init(&flush, before_sleep);
    flush.data = w;
    ev_prepare_start(loop, &flush);
    /* the live consumer: created when NATS says connected (live.c) */
    ag_log_info("listening on port %d", (int)ag_config_int(w->cfg, AG_CFG_ws_port));
    while (!w->stop)
        ev_run(loop, EVRUN_ONCE);
    /* graceful: close frames to every session, give them a moment, then tear down */
    ag_log_info("shutting down (%zu sessions)", w->nsess);
    w->stopping = true;
    wsd_listen_stop();
    wsd_sessions_shutdown(w);
    deadline = ag_now_mono_ms() + 1500;
    while (w->nsess > 0 && ag_now_mono_ms() < deadline)
        ev_run(loop, EVRUN_ONCE); /* the 1 s tick bounds each round */
    the_wsd = NULL;
    ev_prepare_stop(loop, &flush);
    {
        struct lws_context *ctx = w->ctx;
        pthread_mutex_lock(&w->wake_mu);
        w->ctx = NULL; /* other threads stop waking the loop */
        pthread_mutex_unlock(&w->wake_mu);
        lws_context_destroy(ctx);
    }
    ev_loop_destroy(loop);
    free(w->wbuf);
    w->wbuf = NULL;
    return 0;
}

static void
teardown(wsd_t *w)
{
    wsd_job_t *bye = wsd_job_new(WSD_JOB_HEARTBEAT); /* up=false: give the lease back */
    w->stopping = true;
    if (w->pool)
        wsd_job_submit(w, bye);
    else
        wsd_job_free(bye);
    wsd_jobs_stop(w);   /* runs the queued presence updates, then joins */
    wsd_inbox_drain(w); /* results that came back meanwhile (ctx is gone: no wake-ups) */
    wsd_inbox_discard(w);
    wsd_user_free_all(w);
    wsd_live_stop(w);
    wsd_bus_close(w);     /* after every subscription of ours is released */
    wsd_inbox_discard(w); /* callbacks that raced the close */
    wsd_map_fini(&w->users);
    wsd_map_fini(&w->chans);
    wsd_map_fini(&w->sessions);
    wsd_map_fini(&w->gsubs);
}

/*
 * One daemon: the whole process, or one of ws_workers processes (listen.c) on the
 * socket its supervisor bound. Everything with threads (nats.c, the job pools) starts
 * here, after any fork.
 */
static int
daemon_main(wsd_t *w)
{
    int rc;

    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    /* this process's name in Redis (presence lease): unique per start, not per host */
    snprintf(w->iid, sizeof(w->iid), "%08lx%08lx%06lx", (unsigned long)random(),
             (unsigned long)time(NULL), (unsigned long)getpid() & 0xffffffUL);
    wsd_map_init(&w->sessions);
    wsd_map_init(&w->chans);
    wsd_map_init(&w->users);
    wsd_map_init(&w->gsubs);
    ag_content_global_init(); /* the job threads' content stores (gqlws_run.c) */
    pthread_mutex_init(&w->inbox_mu, NULL);
    pthread_mutex_init(&w->wake_mu, NULL);
    the_wsd = w;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (wsd_bus_open(w) != AG_OK || wsd_jobs_start(w) != AG_OK) {
        ag_log_error("cannot start NATS side or workers");
        w->stop = 1;
    }
    rc = w->stop ? 1 : serve(w);
    teardown(w);
    ag_events_shutdown();
    /* nats.c's shared delivery threads (bus.c) may run a callback until
     * nats_CloseAndWait has joined them: free what they queued after teardown */
    wsd_inbox_discard(w);
    ag_content_global_fini();
    ag_log_info("stopped");
    return rc;
}

int
main(int argc, char **argv)
{
    const char *path = NULL, *pidfile = NULL;
    bool        check = false;
    char        err[512];
    wsd_t       w;
    int         rc = 1, workers = 0, nfds = 0, fds[WSD_WORKERS_MAX];

    memset(&w, 0, sizeof(w));
    w.listen_fd = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc) {
            pidfile = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = true;
        } else {
            fprintf(stderr, "agora-wsd: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (ag_config_load(path, &w.cfg, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "agora-wsd: %s\n", err);
        return 1;
    }
    if (check) {
        ag_config_print(w.cfg, stdout);
        ag_config_free(w.cfg);
        return 0;
    }
    ag_log_init("agora-wsd", ag_config_str(w.cfg, AG_CFG_log_level),
                ag_config_str(w.cfg, AG_CFG_log_target));
    if (ag_auth_new(w.cfg, &w.auth, err, sizeof(err)) != AG_OK) {
        ag_log_error("%s", err);
        goto out;
    }
    limits_from(&w);
    /* the schema of agora.fcgi's, for subscriptions: built once, read by every job thread */
    if ((w.schema = gql_schema_new(err, sizeof(err))) == NULL) {
        ag_log_error("graphql schema: %s", err);
        goto out;
    }
    workers = (int)ag_config_int(w.cfg, AG_CFG_ws_workers);
    if (wsd_listen_open((int)ag_config_int(w.cfg, AG_CFG_ws_port), workers, fds) != 0)
        goto out;
    nfds = workers;
    if (pidfile && write_pidfile(pidfile) != 0) {
        pidfile = NULL; /* not ours to remove */
        goto out;
    }
    w.listen_fd = fds[0];
    rc = workers > 1 ? wsd_workers_run(workers, fds, &w, daemon_main) : daemon_main(&w);
out:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    if (pidfile)
        unlink(pidfile);
    ag_auth_free(w.auth);
    ag_graphql_schema_free(w.schema);
    ag_config_free(w.cfg);
    ag_log_fini();
    return rc;
}
