/*
 * wsd/frame.c — frames shared by every queue they go on (built once with their
 * WebSocket header). Loop thread only.
 */
#include "wsd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wsd_msg_t *
wsd_msg_new(const char *json, size_t len, bool droppable)
{
    wsd_msg_t *m = malloc(sizeof(*m) + LWS_PRE + len + 1);

    if (m == NULL)
        return NULL;
    m->refs = 1;
    m->droppable = droppable;
    m->len = len;
    memcpy(m->buf + LWS_PRE, json, len);
    /* the server's (unmasked) text frame header, once for every session the frame goes
     * to; lws would write the same bytes into the headroom on each lws_write */
    unsigned char *h = m->buf + LWS_PRE;
    if (len < 126) {
        m->hlen = 2;
        h[-1] = (unsigned char)len;
    } else if (len < 65536) {
        m->hlen = 4;
        h[-3] = 126;
        h[-2] = (unsigned char)(len >> 8);
        h[-1] = (unsigned char)len;
    } else {
        m->hlen = 10;
        h[-9] = 127;
        for (int i = 0; i < 8; i++)
            h[-1 - i] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    h[-(int)m->hlen] = 0x81; /* FIN, text */
    m->buf[LWS_PRE + len] = '\0';
    return m;
}

wsd_msg_t *
wsd_msg_printf(bool droppable, const char *fmt, ...)
{
    char    tmp[1024];
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return NULL; /* frames are ids only: 1 KiB is far above any of them */
    return wsd_msg_new(tmp, (size_t)n, droppable);
}

void
wsd_msg_unref(wsd_msg_t *m)
{
    if (m && --m->refs == 0)
        free(m);
}
