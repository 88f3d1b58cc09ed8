/* wsd/map.c — the int64-keyed hash map of sessions, channels and users; loop thread only. */
#include "wsd.h"

#include <stdlib.h>
#include <string.h>

struct wsd_map_ent {
    int64_t        key;
    void          *val;
    wsd_map_ent_t *next;
};

static size_t
slot(const wsd_map_t *m, int64_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (m->nb - 1);
}

void
wsd_map_init(wsd_map_t *m)
{
    m->b = NULL;
    m->nb = 0;
    m->n = 0;
}

void
wsd_map_fini(wsd_map_t *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        wsd_map_ent_t *e = m->b[i], *nx;
        for (; e; e = nx) {
            nx = e->next;
            free(e);
        }
    }
    free(m->b);
    wsd_map_init(m);
}

void *
wsd_map_get(const wsd_map_t *m, int64_t key)
{
    if (m->nb == 0)
        return NULL;
    for (wsd_map_ent_t *e = m->b[slot(m, key)]; e; e = e->next)
        if (e->key == key)
            return e->val;
    return NULL;
}

static int
grow(wsd_map_t *m)
{
    size_t          nb = m->nb ? m->nb * 2 : 64;
    wsd_map_ent_t **b = calloc(nb, sizeof(*b));
    wsd_map_t       nm = {b, nb, m->n};

    if (b == NULL)
        return -1;
    for (size_t i = 0; i < m->nb; i++) {
        wsd_map_ent_t *e = m->b[i], *nx;
        for (; e; e = nx) {
            size_t s = slot(&nm, e->key);
            nx = e->next;
            e->next = b[s];
            b[s] = e;
        }
    }
    free(m->b);
    *m = nm;
    return 0;
}

int
wsd_map_put(wsd_map_t *m, int64_t key, void *val)
{
    wsd_map_ent_t *e;

    if ((m->n + 1 > m->nb) && grow(m) != 0)
        return -1;
    for (e = m->b[slot(m, key)]; e; e = e->next)
        if (e->key == key) {
            e->val = val;
            return 0;
        }
    if ((e = malloc(sizeof(*e))) == NULL)
        return -1;
    e->key = key;
    e->val = val;
    e->next = m->b[slot(m, key)];
    m->b[slot(m, key)] = e;
    m->n++;
    return 0;
}

void *
wsd_map_del(wsd_map_t *m, int64_t key)
{
    if (m->nb == 0)
        return NULL;
    for (wsd_map_ent_t **pp = &m->b[slot(m, key)]; *pp; pp = &(*pp)->next) {
        if ((*pp)->key == key) {
            wsd_map_ent_t *e = *pp;
            void          *v = e->val;
            *pp = e->next;
            free(e);
            m->n--;
            return v;
        }
    }
    return NULL;
}

void **
wsd_map_values(const wsd_map_t *m, size_t *n)
{
    void **v = malloc(sizeof(void *) * (m->n ? m->n : 1));
    size_t k = 0;

    if (v == NULL) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < m->nb; i++)
        for (wsd_map_ent_t *e = m->b[i]; e; e = e->next)
            v[k++] = e->val;
    *n = k;
    return v;
}
