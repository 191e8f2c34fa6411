/* A small test runner in the style of libuv's: each TEST is a function, CTest runs each in its own
 * process (`mmbench-unit NAME`) with a timeout, and a failing assertion prints the file, line,
 * expression and both values. */
#ifndef MMB_TEST_H
#define MMB_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*mmb_test_fn)(void);

typedef struct mmb_test {
    const char *name;
    mmb_test_fn fn;
    struct mmb_test *next;
} mmb_test;

void mmb_test_register(mmb_test *t);

/* The text of the file at PATH (at most 256 KiB), NUL-terminated, in a buffer that the next call
 * reuses; a file that cannot be opened fails the test. */
const char *mmb_test_slurp(const char *path);

/* Defines and registers a test; CMake finds the names by scanning for TEST(. */
#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    static mmb_test test_entry_##name = {#name, test_##name, NULL};                                \
    __attribute__((constructor)) static void test_register_##name(void) {                          \
        mmb_test_register(&test_entry_##name);                                                     \
    }                                                                                              \
    static void test_##name(void)

#define ASSERT_TRUE(expr)                                                                          \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr);           \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "%s:%d: assertion failed: %s == %s (%lld != %lld)\n", __FILE__,        \
                    __LINE__, #a, #b, va_, vb_);                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define ASSERT_STR_CONTAINS(haystack, needle)                                                      \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        if (!h_ || !strstr(h_, n_)) {                                                              \
            fprintf(stderr, "%s:%d: assertion failed: %s contains \"%s\" (it is \"%s\")\n",        \
                    __FILE__, __LINE__, #haystack, n_, h_ ? h_ : "(null)");                        \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define ASSERT_STR_EQ(actual, expected)                                                            \
    do {                                                                                           \
        const char *a_ = (actual), *e_ = (expected);                                               \
        if (!a_ || strcmp(a_, e_) != 0) {                                                          \
            fprintf(stderr, "%s:%d: assertion failed: %s is \"%s\" (it is \"%s\")\n", __FILE__,    \
                    __LINE__, #actual, e_, a_ ? a_ : "(null)");                                    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif
