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

/* The test's arguments after its name on the command line, NULL where not given: the mmbench
 * binary for TEST_MMBENCH, the names of TEST_EACH's CTest name in their order. */
extern const char *mmb_test_arg, *mmb_test_arg2;

/* The manager named NAME (a TEST_EACH argument); a name that is none fails the test. */
struct mmb_manager;
const struct mmb_manager *mmb_test_manager(const char *name);

/* The text of the file at PATH (at most 256 KiB), NUL-terminated, in a buffer that the next call
 * reuses; a file that cannot be opened fails the test. */
const char *mmb_test_slurp(const char *path);

/* A test that cannot run here: says why on stderr and exits 77, which CTest shows as skipped. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "skipped: " __VA_ARGS__);                                                  \
        fputc('\n', stderr);                                                                       \
        exit(77);                                                                                  \
    } while (0)

/* How a test is declared. tests/CMakeLists.txt compiles every .c file of tests/ into mmbench-unit
 * (one with its own main() is a program of its own) and makes the CTests from the lines that begin
 * with one of these macros; the arguments after the name are read by that scan only (string
 * literals without commas or parentheses, labels apart by spaces; the macro may span lines). Every
 * test runs in its own process, `mmbench-unit NAME [ARG [ARG2]]`, and exit 77 is a skip.
 *
 *   TEST(name)           unit.NAME, label unit, 600 s.
 *   TEST_THREADS(name)   the same, labels unit threads: it starts threads (the tsan preset runs the
 *                        threads label).
 *   TEST_MMBENCH(name, "group", timeout_s, "labels")
 *                        GROUP.NAME, its argument the mmbench binary (mmb_test_arg).
 *   TEST_EACH(name, "ctest.name", timeout_s, "labels")
 *                        one CTest for each manager of managers/list.h where the CTest name holds
 *                        {manager}, and for each workload of workloads/list.h where it holds
 *                        {workload} (both: every pair); the names, dashed, are the test's
 *                        arguments in the order they stand in the CTest name (mmb_test_arg,
 *                        mmb_test_arg2). A threaded workload (its workloads/ID.c names
 *                        MMB_PARAM_THREADS or the family "threaded") adds the label threads. */
#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    static mmb_test test_entry_##name = {#name, test_##name, NULL};                                \
    __attribute__((constructor)) static void test_register_##name(void) {                          \
        mmb_test_register(&test_entry_##name);                                                     \
    }                                                                                              \
    static void test_##name(void)
#define TEST_THREADS(name)                             TEST(name)
#define TEST_MMBENCH(name, group, timeout_s, labels)   TEST(name)
#define TEST_EACH(name, ctest_name, timeout_s, labels) TEST(name)

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
