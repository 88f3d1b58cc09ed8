/*
 * tests/unit/media/test_tus.c — the tus 1.0 header parsers (lib/media/tus.c),
 * no server: Upload-Length/Offset numbers and Upload-Metadata pairs, the
 * malformed ones refused.
 */
#include "media/media.h"
#include "tap.h"

#include <string.h>

static void
test_numbers(void)
{
    int64_t v = -1;
    ok(ag_tus_parse_u64("0", &v) == AG_OK && v == 0, "u64: 0");
    ok(ag_tus_parse_u64("3145728", &v) == AG_OK && v == 3145728, "u64: 3145728");
    ok(ag_tus_parse_u64("9007199254740992", &v) == AG_OK, "u64: 2^53 accepted");
    static const char *bad[] = {
        "",   "-1", "+1", " 1", "1 ", "1.5", "0x10", "9007199254740993", "99999999999999999999",
        "１", NULL};
    bool all = true;
    for (int i = 0; bad[i]; i++)
        all &= ag_tus_parse_u64(bad[i], &v) == AG_EBADREQ;
    ok(all, "u64: signs, spaces, fractions, hex, overflow and other digits refused");
    ok(ag_tus_parse_u64(NULL, &v) == AG_EBADREQ, "u64: NULL refused");
}

static void
test_metadata(ag_arena_t *a)
{
    const char *v = NULL;
    /* filename "world_domination_plan.pdf", filetype "image/png", is_confidential (no value) */
    const char *h = "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,filetype aW1hZ2UvcG5n,"
                    "is_confidential";
    ok(ag_tus_metadata_get(a, h, "filename", &v) == AG_OK && v &&
           strcmp(v, "world_domination_plan.pdf") == 0,
       "metadata: filename decoded");
    ok(ag_tus_metadata_get(a, h, "filetype", &v) == AG_OK && v && strcmp(v, "image/png") == 0,
       "metadata: filetype decoded");
    ok(ag_tus_metadata_get(a, h, "is_confidential", &v) == AG_OK && v && *v == '\0',
       "metadata: a key without value reads as empty");
    ok(ag_tus_metadata_get(a, h, "absent", &v) == AG_OK && v == NULL, "metadata: absent key NULL");
    ok(ag_tus_metadata_get(a, "", "filename", &v) == AG_OK && v == NULL, "metadata: empty header");
    ok(ag_tus_metadata_get(a, "a YQ==, b Yg==", "b", &v) == AG_OK && v && strcmp(v, "b") == 0,
       "metadata: a space after the comma is allowed");
    static const char *bad[] = {"filename !!!!",
                                "filename YQ=",
                                "filename Y===",
                                "filename YQ==YQ==",
                                ",",
                                "a YQ==,",
                                " ",
                                "fi/le YQ==",
                                "filename AA==",
                                "a  YQ==",
                                NULL};
    bool               all = true;
    for (int i = 0; bad[i]; i++)
        all &= ag_tus_metadata_get(a, bad[i], "filename", &v) == AG_EBADREQ;
    ok(all, "metadata: bad base64, padding in the middle, empty pairs, bad keys, NUL refused");
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ok(ag_tus_metadata_get(a, big, "a", &v) == AG_EBADREQ, "metadata: over 4 KiB refused");
}

int
main(void)
{
    ag_arena_t *a = ag_arena_new(4096);
    test_numbers();
    test_metadata(a);
    ag_arena_free(a);
    return done_testing();
}
