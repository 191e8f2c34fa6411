/* mmbench-forked: the mmbench CLI with test-only managers that show why stress and replay run
 * each manager of a list in a process of its own (harness/verify/verify_run.c): two that allow
 * one heap a process between them, as the external runtimes do (Boehm's incremental mode cannot
 * be turned off; CPython and PHP have one interpreter a process), and one whose process dies of
 * a signal. Each reuses the rc manager. `mmbench-forked --self-check` shows that the first two
 * do refuse a second heap in one process. Test-only; tests/forked_runs.sh runs it. */
#include "commands.h"
#include "mmbench/manager.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern const mmb_manager mmb_manager_rc;

/* Whether this process made a heap of once-a or once-b. */
static bool made_one;

static int once_create(const mmb_heap_config *config, mmb_heap **out, char *err, size_t n) {
    if (made_one) {
        snprintf(err, n, "this process already made a heap of once-a or once-b (one a process)");
        return -1;
    }
    made_one = true;
    return mmb_manager_rc.create(config, out, err, n);
}

static int dies_create(const mmb_heap_config *config, mmb_heap **out, char *err, size_t n) {
    (void)config, (void)out, (void)err, (void)n;
    raise(SIGTERM); /* not SIGSEGV: a sanitizer would catch that and exit instead */
    return -1;
}

static mmb_manager once_a, once_b, dies;

/* Two heaps of once-a, then of once-b, in this process: the second of all must be refused. */
static int self_check(void) {
    const mmb_manager *ms[] = {&once_a, &once_b};
    int made = 0;
    for (size_t i = 0; i < 2; i++) {
        mmb_heap_config cfg;
        mmb_config_defaults(ms[i], &cfg);
        mmb_heap *h;
        char err[256];
        if (mmb_heap_create(ms[i], &cfg, &h, err, sizeof err) != 0) {
            printf("%s refused: %s\n", ms[i]->name, err);
            continue;
        }
        made++;
        h->manager->destroy(h);
    }
    return made == 1 ? 0 : 1;
}

int main(int argc, char **argv) {
    once_a = mmb_manager_rc;
    once_a.name = "once-a";
    once_a.summary = "test-only: rc, one heap of once-a or once-b a process";
    once_a.create = once_create;
    once_b = once_a;
    once_b.name = "once-b";
    dies = mmb_manager_rc;
    dies.name = "dies";
    dies.summary = "test-only: its process dies of SIGTERM when it makes a heap";
    dies.create = dies_create;
    if (mmb_manager_register(&once_a) || mmb_manager_register(&once_b) ||
        mmb_manager_register(&dies)) {
        fprintf(stderr, "mmbench-forked: cannot register the test managers\n");
        return 1;
    }
    if (argc == 2 && strcmp(argv[1], "--self-check") == 0)
        return self_check();
    return mmb_cli_main(argc, argv);
}
