/*
 * tests/unit/content/test_content.c — the content store's pure parts, no
 * server: ObjectId generation and validation, cursor round trips and the
 * rejection of foreign cursors, body rules, and what open/calls do when
 * the store is absent or misconfigured.
 */
#include "content/content.h"
#include "log/log.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
cmp_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void
test_oid_generation_is_unique_hex_and_time_prefixed(void)
{
    enum { N = 20000 };
    static char ids[N][AG_CONTENT_ID_LEN + 1];
    bool        valid = true, lower = true;
    time_t      now = time(NULL);

    for (int i = 0; i < N; i++) {
        ag_content_oid_new(ids[i]);
        valid &= ag_content_oid_valid(ids[i]) && strlen(ids[i]) == AG_CONTENT_ID_LEN;
        lower &= strspn(ids[i], "0123456789abcdef") == AG_CONTENT_ID_LEN;
    }
    ok(valid, "oid_new: 24 hex digits every time");
    ok(lower, "oid_new: lowercase");
    char head[9];
    memcpy(head, ids[N - 1], 8);
    head[8] = '\0';
    unsigned long t = strtoul(head, NULL, 16);
    ok(t >= (unsigned long)now - 1 && t <= (unsigned long)now + 1,
       "oid_new: first 4 bytes are the time (%lu vs %ld)", t, (long)now);
    ok(memcmp(ids[0] + 8, ids[N - 1] + 8, 10) == 0, "oid_new: same 5 process bytes in a process");
    qsort(ids, N, sizeof(ids[0]), cmp_ids);
    bool uniq = true;
    for (int i = 1; i < N; i++)
        uniq &= strcmp(ids[i - 1], ids[i]) != 0;
    ok(uniq, "oid_new: %d ids, no duplicates", N);
}

static void
test_oid_process_bytes_change_after_fork(void)
{
    char  mine[AG_CONTENT_ID_LEN + 1], theirs[AG_CONTENT_ID_LEN + 1] = "";
    int   fds[2];
    pid_t pid;

    ag_content_oid_new(mine);
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        ok(0, "fork");
        return;
    }
    if (pid == 0) {
        char id[AG_CONTENT_ID_LEN + 1];
        ag_content_oid_new(id);
        ssize_t w = write(fds[1], id, sizeof(id));
        _exit(w == (ssize_t)sizeof(id) ? 0 : 1);
    }
    close(fds[1]);
    ssize_t r = read(fds[0], theirs, sizeof(theirs));
    close(fds[0]);
    waitpid(pid, NULL, 0);
    ok(r == (ssize_t)sizeof(theirs) && memcmp(mine + 8, theirs + 8, 10) != 0,
       "oid_new: a forked worker draws its own process bytes (%s vs %s)", mine, theirs);
}

static void
test_oid_validation_rejects_malformed_ids(void)
{
    ok(ag_content_oid_valid("0123456789abcdefABCDEF01"), "valid: mixed case hex");
    ok(!ag_content_oid_valid(NULL), "invalid: NULL");
    ok(!ag_content_oid_valid(""), "invalid: empty");
    ok(!ag_content_oid_valid("0123456789abcdef0123456"), "invalid: 23 digits");
    ok(!ag_content_oid_valid("0123456789abcdef012345678"), "invalid: 25 digits");
    ok(!ag_content_oid_valid("0123456789abcdef0123456g"), "invalid: non-hex digit");
    ok(!ag_content_oid_valid(" 123456789abcdef01234567"), "invalid: space");
    ok(!ag_content_oid_valid("12"), "invalid: short numeric (a PostgreSQL-style id)");
}

static void
test_cursor_round_trip(ag_arena_t *a)
{
    static const int64_t ts[] = {0, 1, 1732442400123, INT64_MAX};
    static const char   *ids[] = {"000000000000000000000000", "ffffffffffffffffffffffff",
                                  "6566b1f0c2a4e81d3c9f0a12", "6566B1F0C2A4E81D3C9F0A12"};
    bool                 all = true, opaque = true;

    for (size_t i = 0; i < AG_ARRAY_LEN(ts); i++)
        for (size_t j = 0; j < AG_ARRAY_LEN(ids); j++) {
            const char *cur = ag_content_cursor(a, ts[i], ids[j]);
            int64_t     t = -1;
            char        id[AG_CONTENT_ID_LEN + 1];
            all &= cur && ag_content_cursor_decode(cur, &t, id) == AG_OK && t == ts[i] &&
                   strcasecmp(id, ids[j]) == 0 && strspn(id, "0123456789abcdef") == 24;
            opaque &= cur && strlen(cur) == 27 && strstr(cur, ids[j]) == NULL;
        }
    ok(all, "cursor: (createdAt, id) survive encode/decode, id comes back lowercase");
    ok(opaque, "cursor: 27 url-safe characters that do not spell the id");
    ok(ag_content_cursor(a, 1, "nope") == NULL, "cursor: not made from a malformed id");
}

static void
test_cursor_rejects_garbage(ag_arena_t *a)
{
    const char *good = ag_content_cursor(a, 1732442400123, "6566b1f0c2a4e81d3c9f0a12");
    int64_t     t;
    char        id[AG_CONTENT_ID_LEN + 1];
    char        bad[64];

    is_int(ag_content_cursor_decode(NULL, &t, id), AG_EBADREQ, "garbage: NULL");
    is_int(ag_content_cursor_decode("", &t, id), AG_EBADREQ, "garbage: empty");
    is_int(ag_content_cursor_decode("garbage", &t, id), AG_EBADREQ, "garbage: a word");
    is_int(ag_content_cursor_decode("6566b1f0c2a4e81d3c9f0a12", &t, id), AG_EBADREQ,
           "garbage: a bare id");
    snprintf(bad, sizeof(bad), "%s=", good);
    is_int(ag_content_cursor_decode(bad, &t, id), AG_EBADREQ, "garbage: padded");
    snprintf(bad, sizeof(bad), "%.26s", good);
    is_int(ag_content_cursor_decode(bad, &t, id), AG_EBADREQ, "garbage: truncated");
    snprintf(bad, sizeof(bad), "%s", good);
    bad[3] = '+';
    is_int(ag_content_cursor_decode(bad, &t, id), AG_EBADREQ, "garbage: '+' (not url-safe)");
    bad[3] = '/';
    is_int(ag_content_cursor_decode(bad, &t, id), AG_EBADREQ, "garbage: '/'");
    snprintf(bad, sizeof(bad), "%s", good);
    bad[26] = bad[26] == 'B' ? 'C' : 'B'; /* stray low bits in the last character */
    int st = ag_content_cursor_decode(bad, &t, id);
    ok(st == AG_EBADREQ || (st == AG_OK && strcmp(ag_content_cursor(a, t, id), bad) == 0),
       "garbage: a non-canonical last character is refused");
    /* a negative time: first byte 0x80.. => first character 'g'..'/' range */
    snprintf(bad, sizeof(bad), "%s", good);
    bad[0] = '_';
    is_int(ag_content_cursor_decode(bad, &t, id), AG_EBADREQ, "garbage: negative createdAt");
    /* any 27-character string either decodes to itself or is refused */
    bool closed = true;
    srand(7);
    for (int n = 0; n < 20000; n++) {
        static const char pool[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. ";
        for (int i = 0; i < 27; i++)
            bad[i] = pool[rand() % (int)(sizeof(pool) - 1)];
        bad[27] = '\0';
        if (ag_content_cursor_decode(bad, &t, id) == AG_OK)
            closed &= strcmp(ag_content_cursor(a, t, id), bad) == 0;
    }
    ok(closed, "garbage: 20000 random strings never decode to another cursor");
}

static void
test_body_rules(void)
{
    const char *why = NULL;
    ag_buf_t    b;

    is_int(ag_content_body_check("x", &why), AG_OK, "body: one character");
    is_int(ag_content_body_check("", &why), AG_EBADREQ, "body: empty refused");
    ok(why && strstr(why, "empty"), "body: empty has a message (%s)", why);
    is_int(ag_content_body_check(NULL, &why), AG_EBADREQ, "body: NULL refused");
    ag_buf_init(&b);
    for (int i = 0; i < AG_CONTENT_BODY_MAX; i++)
        ag_buf_puts(&b, "a");
    is_int(ag_content_body_check(b.data, &why), AG_OK, "body: 10000 ASCII characters");
    ag_buf_puts(&b, "a");
    is_int(ag_content_body_check(b.data, &why), AG_EBADREQ, "body: 10001 refused");
    ok(why && strstr(why, "10000"), "body: message names the limit (%s)", why);
    ag_buf_reset(&b);
    for (int i = 0; i < AG_CONTENT_BODY_MAX; i++)
        ag_buf_puts(&b, "\xf0\x9f\x8e\x89"); /* U+1F389, 4 bytes */
    is_int(ag_content_body_check(b.data, &why), AG_OK,
           "body: 10000 four-byte characters (40000 bytes) count as 10000");
    ag_buf_puts(&b, "\xc3\xa9");
    is_int(ag_content_body_check(b.data, &why), AG_EBADREQ, "body: 10001 multi-byte refused");
    ag_buf_fini(&b);
    static const struct {
        const char *s, *name;
    } bad[] = {
        {"\xff", "byte 0xff"},
        {"a\xc3", "truncated sequence"},
        {"\xc0\xaf", "overlong '/'"},
        {"\xe0\x80\xaf", "3-byte overlong"},
        {"\xed\xa0\x80", "UTF-16 surrogate"},
        {"\xf4\x90\x80\x80", "beyond U+10FFFF"},
        {"\x80", "lone continuation byte"},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(bad); i++)
        is_int(ag_content_body_check(bad[i].s, &why), AG_EBADREQ, "body: invalid UTF-8, %s",
               bad[i].name);
    is_int(ag_content_body_check("h\xc3\xa9llo \xe2\x9c\x93", &why), AG_OK, "body: valid UTF-8");
}

static void
test_open_without_a_store(ag_arena_t *a)
{
    ag_config_t       *cfg = NULL;
    ag_content_t      *c = NULL;
    ag_content_post_t *p = NULL;
    char               err[256] = "";

    ok(ag_config_load_text("", 0, "test", &cfg, err, sizeof(err)) == AG_OK, "config: defaults");
    if (cfg == NULL)
        return;
    is_int(ag_content_open(cfg, NULL, &c, err, sizeof(err)), AG_ECONFIG,
           "open: PostgreSQL backend without a connection is a config error");
    ok(*err, "open: with a message (%s)", err);

    ag_config_set(cfg, "mongodb_uri", "http://not-mongo", "test", err, sizeof(err));
    is_int(ag_content_open(cfg, NULL, &c, err, sizeof(err)), AG_ECONFIG,
           "open: a malformed mongodb_uri is a config error");

    /* port 1 on loopback: nothing listens, the connection is refused at once */
    ag_config_set(cfg, "mongodb_uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", "test",
                  err, sizeof(err));
    is_int(ag_content_open(cfg, NULL, &c, err, sizeof(err)), AG_OK,
           "open: MongoDB that is down still opens");
    if (c) {
        is_str(ag_content_backend_name(c), "mongodb", "open: backend mongodb");
        is_int(ag_content_health(c), AG_EUNAVAIL, "store down: health is unavailable");
        is_int(ag_content_post_get(c, a, "6566b1f0c2a4e81d3c9f0a12", &p), AG_EUNAVAIL,
               "store down: a get is unavailable");
        is_int(ag_content_post_get(c, a, "not-an-id", &p), AG_ENOTFOUND,
               "invalid id: not found without asking the store");
        is_int(ag_content_post_create(c, a, NULL, 1, 1, "", NULL, &p), AG_EBADREQ,
               "empty body: bad request without asking the store");
        ok(strstr(ag_content_error(c), "empty") != NULL, "error text for the client (%s)",
           ag_content_error(c));
    }
    ag_content_close(c);
    ag_content_close(NULL);
    ag_config_free(cfg);
}

/* The emoji rule of content.h: one emoji is accepted, text of any kind is refused. */
static void
test_emoji_rule_accepts_one_emoji_refuses_text(void)
{
    static const char *emoji[] = {"👍",
                                  "❤️",
                                  "❤",
                                  "🎉",
                                  "😂",
                                  "👍🏽",
                                  "👩‍💻",
                                  "👨‍👩‍👧‍👦",
                                  "🏳️‍🌈",
                                  "🇯🇵",
                                  "🇫🇷",
                                  "#️⃣",
                                  "1️⃣",
                                  "9⃣",
                                  "☕",
                                  "✅",
                                  "©️",
                                  "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
                                  "🧑🏿‍🚀",
                                  "🀄",
                                  NULL};
    static const char *text[] = {"a",       "A",       "ok",   "lol",   "1",
                                 "#",       " ",       "👍 ",   " 👍",    "👍👍",
                                 "🇫",       "🇫🇷🇯🇵",    "👍a",   "a👍",    "\u200d",
                                 "👍\u200d", "\u200d👍", "🏽", "️",   "<script>",
                                 "é",       "中",      "\xff", "👍\xf0", "👍🏽🏽",
                                 "1️",    NULL};
    const char        *why = NULL;
    bool               all = true;

    for (int i = 0; emoji[i]; i++) {
        bool good = ag_content_emoji_check(emoji[i], &why) == AG_OK;
        if (!good)
            printf("# refused, should pass: %s\n", emoji[i]);
        all &= good;
    }
    ok(all, "emoji: pictographs, skin tones, ZWJ sequences, flags, keycaps and tags pass");
    all = true;
    for (int i = 0; text[i]; i++) {
        bool bad = ag_content_emoji_check(text[i], &why) == AG_EBADREQ;
        if (!bad)
            printf("# accepted, should be refused: %s\n", text[i]);
        all &= bad;
    }
    ok(all, "emoji: letters, digits, spaces, two emojis, lone modifiers and bad UTF-8 refused");
    ok(why && strstr(why, "emoji") != NULL, "emoji: the refusal says the rule (%s)", why);
    is_int(ag_content_emoji_check(NULL, NULL), AG_EBADREQ, "emoji: NULL refused");
    is_int(ag_content_emoji_check("", NULL), AG_EBADREQ, "emoji: empty refused");
    char long_zwj[200] = "";
    for (int i = 0; i < 9; i++)
        strcat(long_zwj, i ? "\u200d👍" : "👍");
    is_int(ag_content_emoji_check(long_zwj, NULL), AG_EBADREQ,
           "emoji: a ZWJ chain past 64 bytes is not a short grapheme cluster");
}

int
main(void)
{
    ag_arena_t *a = ag_arena_new(4096);

    ag_log_init("test_content", "error", "stderr");
    ag_content_global_init();
    test_oid_generation_is_unique_hex_and_time_prefixed();
    test_oid_process_bytes_change_after_fork();
    test_oid_validation_rejects_malformed_ids();
    test_cursor_round_trip(a);
    test_cursor_rejects_garbage(a);
    test_body_rules();
    test_emoji_rule_accepts_one_emoji_refuses_text();
    test_open_without_a_store(a);
    ag_arena_free(a);
    ag_content_global_fini();
    ag_log_fini();
    return done_testing();
}
