/* Fuzz target: `key=value` parsing: run's --param/--option values (parse_dim in harness/run.c)
 * and the manager options of replay, stress and run (mmb_options_parse in managers/common.c).
 * The first byte picks the manager (its top bit: the first line is MMBENCH_OPTIONS); the other
 * lines are the KEY=VALUE items. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mmbench/manager.h"
#include "run.h"

#define MAX_ITEMS 64

void mmb_fuzz_kv(const uint8_t *data, size_t size) {
    if (size == 0)
        return;
    const mmb_manager *m = mmb_manager_at(data[0] % mmb_manager_count());
    size_t env = data[0] & 0x80 ? 1 : 0;
    char *text = mmb_fuzz_string(data + 1, size - 1);
    const char *kv[MAX_ITEMS];
    size_t n = 0;
    for (char *line = text; line && n < MAX_ITEMS;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        kv[n++] = line;
        line = nl;
    }
    if (env && n > 0)
        setenv("MMBENCH_OPTIONS", kv[0], 1);
    else
        unsetenv("MMBENCH_OPTIONS");
    for (size_t i = env; i < n; i++) {
        int nvalues;
        int status = mmb_run_parse_dim("--param", kv[i], &nvalues);
        if (status == EXIT_OK ? nvalues < 1 || nvalues > 16 : status != EXIT_USAGE) {
            fprintf(stderr, "mmbench fuzz: kv: parse_dim gave %d with %d values\n", status,
                    nvalues);
            abort();
        }
    }
    mmb_heap_config cfg;
    char err[512];
    err[0] = '\0';
    if (mmb_options_parse(m, kv + env, n - env, &cfg, err, sizeof err) != 0 &&
        (err[0] == '\0' || strchr(err, '\n'))) {
        fprintf(stderr, "mmbench fuzz: kv: a refusal without a one-line reason\n");
        abort();
    }
    unsetenv("MMBENCH_OPTIONS");
    free(text);
}
