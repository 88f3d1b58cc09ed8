/* tests/unit/model/test_mentions.c — which @names of a text are mentions (lib/model/attention.c):
 * the rule the fanout job notifies by and the unread counts' `mentions` count by. */
#include "model/model.h"
#include "tap.h"

int
main(void)
{
    ag_arena_t *a = ag_arena_new(1024);
    ag_buf_t    b;

    is_str(ag_mentions_names(a, "no mention here"), "", "a text without @ has none");
    is_str(ag_mentions_names(a, "hi @ana and @bo_b."), "{ana,bo_b}",
           "names end at a non-name char");
    is_str(ag_mentions_names(a, "@Ana @ANA"), "{ana,ana}", "lower-cased (duplicates are harmless)");
    is_str(ag_mentions_names(a, "mail a@ana.org, x_@bob"), "", "'@' inside a word is an address");
    is_str(ag_mentions_names(a, "(@ana) @ab @abc"), "{ana,abc}", "3 to 32 characters");
    is_str(ag_mentions_names(
               a, "@a23456789012345678901234567890123 @a2345678901234567890123456789012"),
           "{a2345678901234567890123456789012}", "a 33-character name is no mention");
    is_str(ag_mentions_names(a, "@@ana @"), "{ana}", "a lone or doubled @");
    ag_buf_init(&b);
    for (int i = 0; i < AG_MENTIONS_MAX + 10; i++)
        ag_buf_printf(&b, "@user%03d ", i);
    const char *many = ag_mentions_names(a, b.data);
    int         n = 0;
    for (const char *p = many; *p; p++)
        n += *p == ',';
    is_int(n + 1, AG_MENTIONS_MAX, "at most AG_MENTIONS_MAX names");
    ag_buf_fini(&b);
    ag_arena_free(a);
    return done_testing();
}
