/* tests/unit/core/test_array.c — ag_array_reserve, the one growable array of the tree. */
#include "core/core.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    int64_t id;
    char    tag;
} item_t;

int
main(void)
{
    item_t *items = NULL;
    size_t  n = 0, cap = 0;

    is_int(AG_ARRAY_RESERVE(items, cap, 1, 8), AG_OK, "the first reserve allocates");
    ok(items != NULL, "the array exists after the first reserve");
    is_int(cap, 8, "the first capacity is min_cap");
    for (int i = 0; i < 1000; i++) {
        if (AG_ARRAY_RESERVE(items, cap, n + 1, 8) != AG_OK)
            break;
        items[n++] = (item_t){.id = i, .tag = (char)('a' + i % 26)};
    }
    is_int(n, 1000, "a thousand appends, one reserve each");
    is_int(cap, 1024, "capacity doubles: 8, 16, ... 1024");
    int intact = 1;
    for (size_t i = 0; i < n; i++)
        intact &= items[i].id == (int64_t)i && items[i].tag == (char)('a' + i % 26);
    ok(intact, "elements survive every growth in order");

    item_t *before = items;
    is_int(AG_ARRAY_RESERVE(items, cap, 10, 8), AG_OK, "reserving less than the capacity is AG_OK");
    ok(items == before && cap == 1024, "... and neither moves nor shrinks the array");

    is_int(AG_ARRAY_RESERVE(items, cap, 5000, 8), AG_OK, "a jump past double the capacity");
    is_int(cap, 8192, "grows by doubling until it fits");
    ok(items[999].id == 999, "the data is kept across a big jump");

    size_t huge_cap = cap;
    is_int(ag_array_reserve(&items, &huge_cap, SIZE_MAX / 2, sizeof(*items), 8), AG_ENOMEM,
           "an impossible size is AG_ENOMEM, not an overflowed allocation");
    ok(huge_cap == cap && items[999].id == 999, "... and leaves the array as it was");
    free(items);

    int64_t *ids = NULL;
    size_t   idcap = 0;
    is_int(ag_array_reserve(&ids, &idcap, 3, sizeof(*ids), 0), AG_OK, "min_cap 0 means 4");
    is_int(idcap, 4, "the default first capacity is 4");
    free(ids);
    return done_testing();
}
