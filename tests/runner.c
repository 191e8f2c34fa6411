/* The unit-test runner (test.h): `mmbench-unit NAME` runs one test, `mmbench-unit --list` names
 * them all. */
#include "test.h"

#include "mmbench/manager.h"

static mmb_test *tests;

const char *mmb_test_arg, *mmb_test_arg2;

void mmb_test_register(mmb_test *t) {
    t->next = tests;
    tests = t;
}

const char *mmb_test_slurp(const char *path) {
    static char buf[1 << 18];
    FILE *f = fopen(path, "r");
    if (!f)
        fprintf(stderr, "%s: cannot open\n", path);
    ASSERT_TRUE(f != NULL);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

const mmb_manager *mmb_test_manager(const char *name) {
    const mmb_manager *m = mmb_manager_find(name ? name : "");
    if (!m)
        fprintf(stderr, "mmbench-unit: no manager named '%s'\n", name ? name : "(none given)");
    ASSERT_TRUE(m != NULL);
    return m;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (mmb_test *t = tests; t; t = t->next)
            printf("%s\n", t->name);
        return 0;
    }
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: mmbench-unit NAME [ARG [ARG2]] | --list\n");
        return 2;
    }
    mmb_test_arg = argc >= 3 ? argv[2] : NULL;
    mmb_test_arg2 = argc == 4 ? argv[3] : NULL;
    for (mmb_test *t = tests; t; t = t->next)
        if (strcmp(t->name, argv[1]) == 0) {
            t->fn();
            printf("%s: ok\n", t->name);
            return 0;
        }
    fprintf(stderr, "mmbench-unit: no test named '%s'\n", argv[1]);
    return 2;
}
