/* admin/streams.c — `agora-admin streams`: create or update the JetStream streams. */
#include "admin.h"
#include "events/events.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One TCP connect to host:port, within timeout_ms. */
static bool
tcp_answers(const char *host, const char *port, int timeout_ms)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    bool            ok = false;

    if (getaddrinfo(host, port, &hints, &res) != 0)
        return false;
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            ok = true;
        } else {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int           err = 0;
            socklen_t     len = sizeof(err);
            ok = poll(&p, 1, timeout_ms) == 1 &&
                 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return ok;
}

/* "nats://user:pw@host:port" or "host:port" -> host and port (default 4222). */
static void
split_url(const char *url, char *host, size_t hlen, char *port, size_t plen)
{
    const char *p = strstr(url, "://"), *at, *colon;
    p = p ? p + 3 : url;
    if ((at = strrchr(p, '@')) != NULL)
        p = at + 1;
    if (*p == '[') { /* [v6]:port */
        const char *end = strchr(p, ']');
        size_t      n = end ? (size_t)(end - p - 1) : strlen(p + 1);
        snprintf(host, hlen, "%.*s", (int)n, p + 1);
        colon = end ? strchr(end, ':') : NULL;
    } else {
        colon = strrchr(p, ':');
        snprintf(host, hlen, "%.*s", (int)(colon ? (size_t)(colon - p) : strlen(p)), p);
    }
    snprintf(port, plen, "%s", colon ? colon + 1 : "4222");
}

/*
 * Whether any configured NATS server accepts a connection. Asked first because
 * lib/events connects with nats.c's retry-on-failed-connect, which retries in
 * place, without end, while nothing listens: an operator's command would hang.
 */
bool
admin_nats_listening(const ag_config_t *cfg)
{
    char list[2048], host[256], port[16];
    int  timeout_ms = (int)ag_config_int(cfg, AG_CFG_nats_timeout_ms);

    if (*ag_config_str(cfg, AG_CFG_nats_urls) == '\0') {
        snprintf(port, sizeof(port), "%lld", (long long)ag_config_int(cfg, AG_CFG_nats_port));
        return tcp_answers(ag_config_str(cfg, AG_CFG_nats_host), port, timeout_ms);
    }
    snprintf(list, sizeof(list), "%s", ag_config_str(cfg, AG_CFG_nats_urls));
    for (char *save = NULL, *u = strtok_r(list, ", ", &save); u; u = strtok_r(NULL, ", ", &save)) {
        split_url(u, host, sizeof(host), port, sizeof(port));
        if (tcp_answers(host, port, timeout_ms))
            return true;
    }
    return false;
}

int
admin_streams(admin_t *ad)
{
    ag_events_t *ev = NULL;
    int          rc = 1;

    if (!admin_nats_listening(ad->cfg)) {
        if (*ag_config_str(ad->cfg, AG_CFG_nats_urls))
            fprintf(stderr, "streams: no NATS server of %s answers\n",
                    ag_config_str(ad->cfg, AG_CFG_nats_urls));
        else
            fprintf(stderr, "streams: no NATS server answers at %s:%lld\n",
                    ag_config_str(ad->cfg, AG_CFG_nats_host),
                    (long long)ag_config_int(ad->cfg, AG_CFG_nats_port));
        return 1;
    }
    ad->events_used = true;
    if (ag_events_new(ad->cfg, "agora-admin", &ev) != AG_OK) {
        fprintf(stderr, "streams: cannot connect to NATS\n");
        return 1;
    }
    if (ag_events_health(ev) != AG_OK)
        fprintf(stderr, "streams: NATS unavailable: %s\n", ag_events_error(ev));
    else if (ag_events_ensure_streams(ev, ad->cfg, stdout) != AG_OK)
        fprintf(stderr, "streams: %s\n", ag_events_error(ev));
    else
        rc = 0;
    ag_events_free(ev);
    return rc;
}
