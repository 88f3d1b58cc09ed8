/*
 * tests/fuzz/fuzz_upload.c — libFuzzer target: the untrusted headers of a
 * tus upload (lib/media/tus.c) as agora.fcgi reads them. The first line is
 * an Upload-Length / Upload-Offset value, the rest an Upload-Metadata header
 * looked up for a few keys; a decoded value must be NUL-free and bounded.
 */
#include "media/media.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *keys[] = {"filename", "filetype", "name", "a", ""};
    ag_arena_t        *a = ag_arena_new(4096);
    char              *s = malloc(size + 1);
    int64_t            v;

    if (a == NULL || s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    char *nl = strchr(s, '\n'), *meta = nl ? nl + 1 : s;
    if (nl)
        *nl = '\0';
    if (ag_tus_parse_u64(s, &v) == AG_OK && (v < 0 || v > (INT64_C(1) << 53)))
        abort();
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *val = NULL;
        if (ag_tus_metadata_get(a, meta, keys[i], &val) == AG_OK && val && strlen(val) > 1024)
            abort();
    }
    ag_arena_free(a);
    free(s);
    return 0;
}
