/*
 * lib/core/array.c — the one growable array of the tree: any element type,
 * on the heap, doubling. The caller keeps the pointer, the count and the
 * capacity in its own struct (no wrapper type), so a growable field is two
 * size_t beside a plain pointer and reads like one.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

ag_status_t
ag_array_reserve(void *arrp, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
    void  *old, *grown;
    size_t nc;

    if (need <= *cap)
        return AG_OK;
    nc = *cap ? *cap : (min_cap ? min_cap : 4);
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return AG_ENOMEM;
        nc *= 2;
    }
    if (elem && nc > SIZE_MAX / elem)
        return AG_ENOMEM;
    /* arrp is a T **: the pointer is moved through memcpy, valid whatever T is */
    memcpy(&old, arrp, sizeof(old));
    if ((grown = realloc(old, nc * elem)) == NULL)
        return AG_ENOMEM; /* *arrp and *cap are unchanged: the caller's data is intact */
    memcpy(arrp, &grown, sizeof(grown));
    *cap = nc;
    return AG_OK;
}
