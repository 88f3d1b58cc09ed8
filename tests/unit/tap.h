/*
 * tests/unit/tap.h — a minimal TAP producer for unit tests run by automake's
 * tap-driver: each check prints "ok N - name" or "not ok N - name".
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                   \
    do {                                                                \
        int ok__ = !!(cond);                                            \
        printf("%sok %d - ", ok__ ? "" : "not ", ++tap_n);              \
        printf(__VA_ARGS__);                                            \
        printf("\n");                                                   \
        if (!ok__) {                                                    \
            tap_failed++;                                               \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                               \
    } while (0)

#define is_int(got, want, ...)                                          \
    do {                                                                \
        long long g__ = (long long)(got), w__ = (long long)(want);      \
        ok(g__ == w__, __VA_ARGS__);                                    \
        if (g__ != w__)                                                 \
            printf("#   got %lld, want %lld\n", g__, w__);              \
    } while (0)

#define is_str(got, want, ...)                                          \
    do {                                                                \
        const char *g__ = (got), *w__ = (want);                         \
        int same__ = g__ && w__ && strcmp(g__, w__) == 0;               \
        ok(same__, __VA_ARGS__);                                        \
        if (!same__)                                                    \
            printf("#   got '%s', want '%s'\n", g__ ? g__ : "(null)", w__ ? w__ : "(null)"); \
    } while (0)

static inline int
done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
