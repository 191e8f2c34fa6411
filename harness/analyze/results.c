/* Results documents (results.h): the one loader compare, report and merge use. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

int mmb_results_load(const char *cmd, const char *path, const char *hint, json_t **doc) {
    char where[4200];
    *doc = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(where, sizeof where, "%s%s%s", cmd ? cmd : "", cmd ? ": " : "", path);
        return mmb_usage_error(where, NULL, "cannot open: %s", strerror(errno));
    }
    json_error_t err;
    *doc = json_loadf(f, 0, &err);
    fclose(f);
    if (*doc)
        return EXIT_OK;
    snprintf(where, sizeof where, "%s%s%s:%d:%d", cmd ? cmd : "", cmd ? ": " : "", path, err.line,
             err.column);
    return mmb_usage_error(where, hint, "not valid JSON: %s", err.text);
}

json_t *mmb_results_benchmarks(const json_t *doc) {
    json_t *b = json_object_get(doc, "benchmarks");
    return json_is_array(b) ? b : NULL;
}

bool mmb_results_is_iteration(const json_t *entry, bool absent) {
    const char *type = json_string_value(json_object_get(entry, "run_type"));
    return type ? strcmp(type, "iteration") == 0 : absent;
}

const char *mmb_results_cell(const json_t *entry) {
    return json_string_value(json_object_get(json_object_get(entry, "mmbench"), "cell"));
}

double mmb_results_number(const json_t *v) {
    return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *mmb_results_string(const json_t *v, const char *fallback) {
    const char *s = json_string_value(v);
    return s ? s : fallback;
}
