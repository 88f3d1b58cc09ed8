/* tests/unit/core/test_arena.c — arena allocation, cleanups and the growable buffer. */
#include "core/core.h"
#include "tap.h"

#include <stdint.h>

static int cleaned[3], order[3], norder;

static void
cleanup(void *p)
{
    int i = (int)(intptr_t)p;
    cleaned[i]++;
    order[norder++] = i;
}

int
main(void)
{
    ag_arena_t *a = ag_arena_new(64);
    ok(a != NULL, "arena created with a small chunk size");

    char *s = ag_arena_strdup(a, "hello");
    is_str(s, "hello", "strdup copies");
    ok(((uintptr_t)ag_arena_alloc(a, 3) % 16) == 0, "allocations are 16-byte aligned");
    char *big = ag_arena_alloc(a, 10000);
    ok(big != NULL, "an allocation larger than a chunk gets its own chunk");
    big[9999] = 'x';
    is_str(s, "hello", "earlier allocations survive growth");
    is_str(ag_arena_printf(a, "%d-%s", 45, "c"), "45-c", "printf into the arena");
    ok(ag_arena_used(a) >= 10000, "used counts bytes handed out");

    for (int i = 0; i < 3; i++)
        ag_arena_cleanup(a, cleanup, (void *)(intptr_t)i);
    ag_arena_reset(a);
    ok(cleaned[0] == 1 && cleaned[1] == 1 && cleaned[2] == 1, "reset runs every cleanup once");
    ok(order[0] == 2 && order[1] == 1 && order[2] == 0, "cleanups run in reverse order");
    is_int(ag_arena_used(a), 0, "reset empties the arena");
    is_str(ag_arena_strdup(a, "again"), "again", "the arena is reusable after reset");
    ag_arena_free(a);
    ag_arena_free(NULL);
    ok(1, "free accepts NULL");

    ag_buf_t b;
    ag_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        ag_buf_printf(&b, "%d,", i % 10);
    is_int(b.len, 2000, "buffer grows across many appends");
    ok(b.data[b.len] == '\0', "buffer stays NUL-terminated");
    ag_buf_reset(&b);
    is_int(b.len, 0, "buffer reset");
    ag_buf_fini(&b);
    return done_testing();
}
