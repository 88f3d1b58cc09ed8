/*
 * lib/core/arena.c — per-request bump allocator. A FastCGI worker resets one
 * arena after each response, so a request's memory, and the foreign objects
 * registered on it, cannot outlive the request.
 */
#include "core/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16

struct chunk {
    struct chunk *next;
    size_t        size;
    size_t        used;
    /* keep the payload 16-byte aligned on every ABI we build for */
    _Alignas(ALIGN) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    ag_cleanup_fn   fn;
    void           *data;
};

struct ag_arena {
    struct chunk   *head;       /* current chunk; the first chunk is last in the list */
    struct cleanup *cleanups;   /* LIFO */
    size_t          chunk_size;
    size_t          total;
};

static struct chunk *
chunk_new(size_t size)
{
    struct chunk *c = malloc(sizeof(*c) + size);
    if (c == NULL)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

ag_arena_t *
ag_arena_new(size_t chunk_size)
{
    ag_arena_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->chunk_size = chunk_size ? chunk_size : 16384;
    a->head = chunk_new(a->chunk_size);
    if (a->head == NULL) {
        free(a);
        return NULL;
    }
    return a;
}

static void
run_cleanups(ag_arena_t *a)
{
    while (a->cleanups) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->data);  /* the cleanup record itself lives in the arena */
    }
}

void
ag_arena_reset(ag_arena_t *a)
{
    if (a == NULL)
        return;
    run_cleanups(a);
    /* free every chunk but the oldest (the tail), which is kept for reuse */
    while (a->head->next) {
        struct chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
    a->head->used = 0;
    a->total = 0;
}

void
ag_arena_free(ag_arena_t *a)
{
    if (a == NULL)
        return;
    ag_arena_reset(a);
    free(a->head);
    free(a);
}

void *
ag_arena_alloc(ag_arena_t *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < n)
        return NULL;  /* overflow */
    if (a->head->size - a->head->used < need) {
        size_t sz = need > a->chunk_size ? need : a->chunk_size;
        struct chunk *c = chunk_new(sz);
        if (c == NULL)
            return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += need;
    a->total += need;
    return p;
}

void *
ag_arena_calloc(ag_arena_t *a, size_t n)
{
    void *p = ag_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *
ag_arena_strndup(ag_arena_t *a, const char *s, size_t n)
{
    char *p = ag_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
ag_arena_strdup(ag_arena_t *a, const char *s)
{
    return s ? ag_arena_strndup(a, s, strlen(s)) : NULL;
}

char *
ag_arena_printf(ag_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = ag_arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

ag_status_t
ag_arena_cleanup(ag_arena_t *a, ag_cleanup_fn fn, void *data)
{
    struct cleanup *c = ag_arena_alloc(a, sizeof(*c));
    if (c == NULL) {
        fn(data);  /* never leak what the caller handed off */
        return AG_ENOMEM;
    }
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
    return AG_OK;
}

size_t
ag_arena_used(const ag_arena_t *a)
{
    return a->total;
}
