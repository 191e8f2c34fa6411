/* Strict parsers for command-line values (flags.h). A value that is not exactly what the flag
 * takes is refused with one line, before anything runs: no wrapping, no silent defaults. */
#include "flags.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

bool mmb_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (!text || !*text)
        return false;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

int mmb_flag_u64(const char *cmd, const char *flag, const char *text, uint64_t min, uint64_t max,
                 uint64_t *out) {
    if (mmb_parse_u64(text, min, max, out))
        return EXIT_OK;
    char hint[64];
    snprintf(hint, sizeof hint, "mmbench %s --help", cmd);
    return mmb_usage_error(cmd, hint,
                           "%s: bad value '%s' (expected an integer in %" PRIu64 "..%" PRIu64 ")",
                           flag, text, min, max);
}

int mmb_flag_bytes(const char *cmd, const char *flag, const char *text, uint64_t *out) {
    size_t len = strlen(text);
    char last = len ? text[len - 1] : '\0';
    int shift = last == 'K' ? 10 : last == 'M' ? 20 : last == 'G' ? 30 : 0;
    size_t digits_len = len - (shift != 0);
    char digits[24];
    uint64_t v;
    if (digits_len < sizeof digits) {
        memcpy(digits, text, digits_len);
        digits[digits_len] = '\0';
        if (mmb_parse_u64(digits, 1, UINT64_MAX >> shift, &v)) {
            *out = v << shift;
            return EXIT_OK;
        }
    }
    char hint[64];
    snprintf(hint, sizeof hint, "mmbench %s --help", cmd);
    return mmb_usage_error(
        cmd, hint,
        "%s: bad value '%s' (expected a number of bytes >= 1, optionally with K, "
        "M or G)",
        flag, text);
}

/* ---- Google Benchmark's flags ---------------------------------------------------------------- */

typedef enum { GB_BOOL, GB_SECONDS, GB_WORD, GB_KEY_VALUES, GB_TEXT, GB_OURS } gb_type;

/* The --benchmark_ flags of Google Benchmark 1.7.1 and what each takes. `words`: the values a
 * GB_WORD flag accepts; for GB_OURS, the mmbench flag that does the job. */
static const struct gb_flag {
    const char *name;
    gb_type type;
    const char *words;
} gb_flags[] = {
    {"min_time", GB_SECONDS, NULL},
    {"min_warmup_time", GB_SECONDS, NULL},
    {"enable_random_interleaving", GB_BOOL, NULL},
    {"report_aggregates_only", GB_BOOL, NULL},
    {"display_aggregates_only", GB_BOOL, NULL},
    {"counters_tabular", GB_BOOL, NULL},
    {"color", GB_WORD, "one of auto, true, false, yes, no, on, off, 1, 0"},
    {"time_unit", GB_WORD, "one of ns, us, ms, s"},
    {"context", GB_KEY_VALUES, NULL},
    {"perf_counters", GB_TEXT, NULL},
    {"out", GB_OURS, "--out"},
    {"out_format", GB_OURS, "--out"},
    {"format", GB_OURS, "--format"},
    {"filter", GB_OURS, "--manager, --workload and --scale"},
    {"list_tests", GB_OURS, "--topology for a dry run"},
};

static const char bool_words[] = "one of true, false, yes, no, on, off, 1, 0";

/* Whether WORD is one of LIST ("a, b, c"). */
static bool is_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; n && (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

static bool is_key_values(const char *text) {
    if (!*text)
        return false;
    for (const char *item = text;;) {
        size_t len = strcspn(item, ",");
        const char *eq = memchr(item, '=', len);
        if (!eq || eq == item || memchr(eq + 1, '=', len - (size_t)(eq + 1 - item)))
            return false;
        if (!item[len])
            return true;
        item += len + 1;
    }
}

int mmb_gb_flag_check(const char *arg) {
    static const char hint[] = "mmbench run --help";
    const char *name = arg + strlen("--benchmark_");
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const char *value = eq ? eq + 1 : NULL;
    const struct gb_flag *g = NULL;
    for (size_t i = 0; i < sizeof gb_flags / sizeof gb_flags[0]; i++)
        if (strlen(gb_flags[i].name) == len && strncmp(gb_flags[i].name, name, len) == 0)
            g = &gb_flags[i];
    if (!g)
        return mmb_usage_error("run", hint, "unknown flag '%s'", arg);
    const char *expected = NULL;
    char *end;
    switch (g->type) {
    case GB_OURS:
        return mmb_usage_error("run", hint, "'%s': mmbench sets --benchmark_%s itself (use %s)",
                               arg, g->name, g->words);
    case GB_BOOL:
        if (value && !is_word(bool_words, value))
            expected = bool_words;
        break;
    case GB_SECONDS: {
        errno = 0;
        double s = value && *value ? strtod(value, &end) : NAN;
        if (!value || !*value || *end || errno || !isfinite(s) || s < 0 ||
            !((*value >= '0' && *value <= '9') || *value == '.'))
            expected = "a number of seconds >= 0, e.g. 0.1";
        break;
    }
    case GB_WORD:
        if (!value || !is_word(g->words, value))
            expected = g->words;
        break;
    case GB_KEY_VALUES:
        if (!value || !is_key_values(value))
            expected = "KEY=VALUE[,KEY=VALUE...]";
        break;
    case GB_TEXT:
        if (!value || !*value)
            expected = "a value after '='";
        break;
    }
    if (expected)
        return mmb_usage_error("run", hint, "--benchmark_%s: bad value '%s' (expected %s)", g->name,
                               value ? value : "", expected);
    return EXIT_OK;
}
