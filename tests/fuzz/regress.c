/* The fuzz targets in the ordinary builds (the CTest fuzz.regressions): every target runs on each
 * file of its seed corpus, ROOT/TARGET/, and of its crash inputs, ROOT/regressions/TARGET/.
 * Usage: mmbench-fuzz-regress ROOT [TARGET]. A crash, leak or sanitizer report fails it; so does
 * a target with an empty corpus (nothing checked). */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mmb_fuzz_target {
    const char *name; /* its corpus folder under tests/fuzz/ */
    void (*run)(const uint8_t *data, size_t size);
} mmb_fuzz_target;

static const mmb_fuzz_target targets[] = {
    {"trace", mmb_fuzz_trace},
    {"report", mmb_fuzz_report},
    {"compare", mmb_fuzz_compare},
    {"merge", mmb_fuzz_merge},
    {"kv", mmb_fuzz_kv},
    {"topology", mmb_fuzz_topology},
    {"thresholds", mmb_fuzz_thresholds},
};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs target on every regular file in dir, in name order; returns how many, or -1. */
static long run_dir(const mmb_fuzz_target *t, const char *dir, int missing_ok) {
    DIR *d = opendir(dir);
    if (!d) {
        if (missing_ok && errno == ENOENT)
            return 0;
        fprintf(stderr, "mmbench: error: %s: cannot open: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                abort();
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    long ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "mmbench: error: %s: cannot open: %s\n", path, strerror(errno));
            ran = -1;
            break;
        }
        size_t size = 0, cap_bytes = 4096;
        uint8_t *buf = malloc(cap_bytes); /* never NULL, even for an empty input */
        for (size_t got; buf && (got = fread(buf + size, 1, cap_bytes - size, f)) > 0;) {
            size += got;
            if (size == cap_bytes)
                buf = realloc(buf, cap_bytes *= 2);
        }
        fclose(f);
        if (!buf)
            abort();
        fprintf(stderr, "fuzz.regressions: %s: %s\n", t->name, path);
        t->run(buf, size);
        free(buf);
        ran++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ran;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: mmbench-fuzz-regress ROOT [TARGET]\n");
        return 2;
    }
    mmb_fuzz_quiet();
    int status = 0, matched = 0;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        const mmb_fuzz_target *t = &targets[i];
        if (argc == 3 && strcmp(argv[2], t->name) != 0)
            continue;
        matched++;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", argv[1], t->name);
        long seeds = run_dir(t, dir, 0);
        snprintf(dir, sizeof dir, "%s/regressions/%s", argv[1], t->name);
        long crashes = run_dir(t, dir, 1);
        if (seeds <= 0 || crashes < 0) {
            fprintf(stderr, "mmbench: error: fuzz target %s: %s\n", t->name,
                    seeds == 0 ? "empty seed corpus (nothing checked)" : "cannot read its inputs");
            status = 1;
            continue;
        }
        fprintf(stderr, "fuzz.regressions: %s: %ld seeds, %ld regressions: ok\n", t->name, seeds,
                crashes);
    }
    if (!matched) {
        fprintf(stderr, "mmbench: error: no fuzz target named '%s'\n", argv[2]);
        return 2;
    }
    return status;
}
