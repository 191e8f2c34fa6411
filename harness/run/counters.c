/* Event counters per thread, by phase (counters.h); what works where: ../shared/PLATFORM.md,
 * "PAPI". The design, in brief:
 *
 * - The probe runs once, on one thread, and picks each event's backend: for hardware names PAPI's
 *   presets, then perf_event_open's generic hardware events (for CPUs libpfm4 does not know), for
 *   software names perf_event_open, then getrusage(RUSAGE_THREAD), then CLOCK_THREAD_CPUTIME_ID.
 *   An event no backend counts is unavailable with a one-line reason, never a zero; cycles and
 *   instructions must move over a busy loop, or a PMU that only pretends to count is refused.
 * - perf_event_open always asks for user mode only (exclude_kernel=1), the most that
 *   perf_event_paranoid=2 grants an unprivileged user, so results do not depend on privilege.
 *   Page faults the thread's own code takes still count; context switches, which happen in the
 *   kernel, would not, so they come from getrusage. perf's task-clock and CLOCK_THREAD_CPUTIME_ID
 *   are both the thread's CPU time, but on a loaded VM the first can read up to ~10% lower.
 * - Per thread: one PAPI event set, one perf_event group per kind (hardware leader pinned, so a
 *   PMU that cannot hold the group fails reads instead of reading 0; software in its own group,
 *   so it never fails with the hardware), one read() per group. Measured here (no PMU): a
 *   reading costs about 1.6 us through perf_event, 1.1 us through getrusage, 1.4 us through the
 *   clock; a phase begin/end pair costs two readings.
 * - Phases: only the outermost begin/end read counters; each reading closes an interval, which
 *   goes to the phase that was current, so the phases sum to the whole by construction.
 */
#include "counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <papi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "strlist.h"

/* ---- the named events ----------------------------------------------------------------------- */

typedef enum rusage_field {
    RU_NONE,
    RU_SWITCHES,
    RU_FAULTS,
    RU_MINOR_FAULTS,
    RU_MAJOR_FAULTS
} rusage_field;

#define HW_CACHE(cache, op, result)                                                                \
    ((uint64_t)(cache) | ((uint64_t)(op) << 8) | ((uint64_t)(result) << 16))
#define L1D_READ_MISS                                                                              \
    HW_CACHE(PERF_COUNT_HW_CACHE_L1D, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS)
#define LL_READ_MISS                                                                               \
    HW_CACHE(PERF_COUNT_HW_CACHE_LL, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS)
#define DTLB_READ_MISS                                                                             \
    HW_CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS)

/* Each event's backends, in the order the probe tries them. perf_event_open always runs with
 * exclude_kernel=1 (all that perf_event_paranoid=2 allows an unprivileged user), so
 * context-switches, which happen in the kernel, would read 0 there: they come from getrusage. */
typedef struct known_event {
    const char *name;
    bool hardware;
    const char *papi[2]; /* presets to try, in order */
    uint32_t perf_type;
    uint64_t perf_config;
    const char *perf_source; /* NULL: not through perf_event_open */
    rusage_field rusage;
    bool clock; /* CLOCK_THREAD_CPUTIME_ID, in ns */
} known_event;

static const known_event known[] = {
    {.name = "cycles",
     .hardware = true,
     .papi = {"PAPI_TOT_CYC"},
     .perf_type = PERF_TYPE_HARDWARE,
     .perf_config = PERF_COUNT_HW_CPU_CYCLES,
     .perf_source = "perf_event PERF_COUNT_HW_CPU_CYCLES, user mode"},
    {.name = "instructions",
     .hardware = true,
     .papi = {"PAPI_TOT_INS"},
     .perf_type = PERF_TYPE_HARDWARE,
     .perf_config = PERF_COUNT_HW_INSTRUCTIONS,
     .perf_source = "perf_event PERF_COUNT_HW_INSTRUCTIONS, user mode"},
    {.name = "l1d-misses",
     .hardware = true,
     .papi = {"PAPI_L1_DCM"},
     .perf_type = PERF_TYPE_HW_CACHE,
     .perf_config = L1D_READ_MISS,
     .perf_source = "perf_event L1D read misses, user mode"},
    {.name = "llc-misses",
     .hardware = true,
     .papi = {"PAPI_L3_DCM", "PAPI_L3_TCM"},
     .perf_type = PERF_TYPE_HW_CACHE,
     .perf_config = LL_READ_MISS,
     .perf_source = "perf_event LL read misses, user mode"},
    {.name = "dtlb-misses",
     .hardware = true,
     .papi = {"PAPI_TLB_DM"},
     .perf_type = PERF_TYPE_HW_CACHE,
     .perf_config = DTLB_READ_MISS,
     .perf_source = "perf_event DTLB read misses, user mode"},
    {.name = "task-clock",
     .perf_type = PERF_TYPE_SOFTWARE,
     .perf_config = PERF_COUNT_SW_TASK_CLOCK,
     .perf_source = "perf_event PERF_COUNT_SW_TASK_CLOCK, ns",
     .clock = true},
    {.name = "page-faults",
     .perf_type = PERF_TYPE_SOFTWARE,
     .perf_config = PERF_COUNT_SW_PAGE_FAULTS,
     .perf_source = "perf_event PERF_COUNT_SW_PAGE_FAULTS, user mode",
     .rusage = RU_FAULTS},
    {.name = "minor-faults",
     .perf_type = PERF_TYPE_SOFTWARE,
     .perf_config = PERF_COUNT_SW_PAGE_FAULTS_MIN,
     .perf_source = "perf_event PERF_COUNT_SW_PAGE_FAULTS_MIN, user mode",
     .rusage = RU_MINOR_FAULTS},
    {.name = "major-faults",
     .perf_type = PERF_TYPE_SOFTWARE,
     .perf_config = PERF_COUNT_SW_PAGE_FAULTS_MAJ,
     .perf_source = "perf_event PERF_COUNT_SW_PAGE_FAULTS_MAJ, user mode",
     .rusage = RU_MAJOR_FAULTS},
    {.name = "cpu-migrations",
     .perf_type = PERF_TYPE_SOFTWARE,
     .perf_config = PERF_COUNT_SW_CPU_MIGRATIONS,
     .perf_source = "perf_event PERF_COUNT_SW_CPU_MIGRATIONS"},
    {.name = "context-switches", .rusage = RU_SWITCHES},
};
enum { KNOWN_COUNT = sizeof known / sizeof known[0], DEFAULT_COUNT = 5 };

/* Added when hardware events asked for are unavailable. */
static const char *const fallbacks[] = {"task-clock", "page-faults", "context-switches"};
enum { FALLBACK_COUNT = sizeof fallbacks / sizeof fallbacks[0] };

static const char *const rusage_sources[] = {
    [RU_SWITCHES] = "getrusage(RUSAGE_THREAD) ru_nvcsw + ru_nivcsw",
    [RU_FAULTS] = "getrusage(RUSAGE_THREAD) ru_minflt + ru_majflt",
    [RU_MINOR_FAULTS] = "getrusage(RUSAGE_THREAD) ru_minflt",
    [RU_MAJOR_FAULTS] = "getrusage(RUSAGE_THREAD) ru_majflt",
};

static const char *const phase_names[MMB_PHASE_COUNT] = {"mutator", "cascade", "collector"};

static const char valid_names[] =
    "default, cycles, instructions, l1d-misses, llc-misses, dtlb-misses, task-clock, page-faults, "
    "minor-faults, major-faults, cpu-migrations, context-switches, a PAPI preset such as "
    "PAPI_L2_DCM, or a native event PMU::EVENT";

const char *mmb_counters_backend_name(mmb_counter_backend backend) {
    switch (backend) {
    case MMB_BACKEND_PAPI:
        return "papi";
    case MMB_BACKEND_PERF:
        return "perf_event";
    case MMB_BACKEND_RUSAGE:
        return "getrusage";
    case MMB_BACKEND_CLOCK:
        return "clock";
    default:
        return "unavailable";
    }
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t n, const char *fmt, ...) {
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Appends to a NUL-terminated string in buf[n], truncating. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t n, const char *fmt,
                                                         ...) {
    size_t used = strlen(buf);
    if (used + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, n - used, fmt, ap);
    va_end(ap);
}

/* ---- PAPI, initialised once per process ----------------------------------------------------- */

static pthread_mutex_t papi_lock = PTHREAD_MUTEX_INITIALIZER;
static int papi_state; /* 0: not tried, 1: ready, -1: failed (papi_failure says why) */
static char papi_failure[160];
static pthread_t papi_init_thread; /* PAPI knows it without PAPI_register_thread */

static unsigned long papi_thread_id(void) {
    return (unsigned long)pthread_self();
}

static bool papi_ready(void) {
    pthread_mutex_lock(&papi_lock);
    if (papi_state == 0) {
        int v = PAPI_library_init(PAPI_VER_CURRENT);
        if (v != PAPI_VER_CURRENT) {
            snprintf(papi_failure, sizeof papi_failure, "PAPI_library_init failed: %s",
                     v > 0 ? "library and header versions differ" : PAPI_strerror(v));
            papi_state = -1;
        } else if ((v = PAPI_thread_init(papi_thread_id)) != PAPI_OK) {
            snprintf(papi_failure, sizeof papi_failure, "PAPI_thread_init failed: %s",
                     PAPI_strerror(v));
            papi_state = -1;
        } else {
            papi_init_thread = pthread_self();
            papi_state = 1;
        }
    }
    bool ready = papi_state == 1;
    pthread_mutex_unlock(&papi_lock);
    return ready;
}

/* ---- parsing -------------------------------------------------------------------------------- */

static int find_known(const char *name) {
    for (int k = 0; k < KNOWN_COUNT; k++)
        if (strcmp(name, known[k].name) == 0)
            return k;
    return -1;
}

/* Appends an event unless the plan has it. Leaves room for the fallbacks. */
static int add_event(mmb_counters_plan *plan, const char *name, int k, char *err, size_t n) {
    for (int i = 0; i < plan->count; i++)
        if (strcmp(plan->events[i].name, name) == 0)
            return 0;
    if (plan->count >= MMB_COUNTERS_MAX - FALLBACK_COUNT)
        return fail(err, n, "more than %d counters", MMB_COUNTERS_MAX - FALLBACK_COUNT);
    mmb_counter_event *e = &plan->events[plan->count++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->known = k;
    e->hardware = k < 0 || known[k].hardware;
    e->papi_code = PAPI_NULL;
    return 0;
}

static int parse_item(mmb_counters_plan *plan, const char *item, char *err, size_t n) {
    if (strcmp(item, "default") == 0) {
        for (int k = 0; k < DEFAULT_COUNT; k++)
            if (add_event(plan, known[k].name, k, err, n) != 0)
                return -1;
        return 0;
    }
    int k = find_known(item);
    if (k >= 0)
        return add_event(plan, item, k, err, n);
    if (strlen(item) >= sizeof plan->events[0].name)
        return fail(err, n, "counter name '%.40s...' is too long", item);
    if (strncmp(item, "PAPI_", 5) == 0) {
        /* Presets are PAPI's own table: a typo is caught here, not after the run. */
        int code;
        int rc = papi_ready() ? PAPI_event_name_to_code(item, &code) : PAPI_OK;
        if (rc != PAPI_OK)
            return fail(err, n, "unknown PAPI preset '%s' (hint: papi_avail lists them)", item);
        return add_event(plan, item, -1, err, n);
    }
    if (strstr(item, "::") && item[0] != ':')
        return add_event(plan, item, -1, err, n); /* native: only the probe can tell */
    return fail(err, n, "unknown counter '%s' (hint: one of: %s)", item, valid_names);
}

int mmb_counters_parse(const char *list, mmb_counters_plan *plan, char *err, size_t n) {
    memset(plan, 0, sizeof *plan);
    plan->backends = MMB_COUNTERS_USE_ALL;
    if (!list || !*list)
        return fail(err, n, "empty counter list (hint: one of: %s)", valid_names);
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char item[128];
        if (len == 0)
            return fail(err, n, "empty name in counter list '%s'", list);
        if (len >= sizeof item)
            return fail(err, n, "counter name '%.40s...' is too long", p);
        memcpy(item, p, len);
        item[len] = '\0';
        if (parse_item(plan, item, err, n) != 0)
            return -1;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* ---- perf_event_open ------------------------------------------------------------------------ */

/* Opens one event on the calling thread, user mode, in GROUP (-1: as a leader). A hardware
 * group's leader is pinned: if the PMU cannot hold the group, reads fail instead of reading 0. */
static int perf_open(uint32_t type, uint64_t config, int group) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = type;
    a.config = config;
    a.read_format = PERF_FORMAT_GROUP;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.pinned = group < 0 && type != PERF_TYPE_SOFTWARE;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, group, PERF_FLAG_FD_CLOEXEC);
}

/* Reads a group of N events through its leader. Returns 0, or -1 (a pinned group the PMU could
 * not schedule reads as end of file). */
static int perf_read_group(int leader, int n, uint64_t *out) {
    uint64_t buf[1 + MMB_COUNTERS_MAX];
    ssize_t want = (ssize_t)((size_t)(1 + n) * sizeof buf[0]);
    if (read(leader, buf, (size_t)want) != want || buf[0] != (uint64_t)n)
        return -1;
    memcpy(out, buf + 1, (size_t)n * sizeof *out);
    return 0;
}

/* A little user-mode work, for checking that cycles and instructions count. */
static void spin(void) {
    volatile uint64_t x = 0;
    for (int i = 0; i < 200000; i++)
        x = x + (uint64_t)i;
}

static bool counts_everything(const char *name) {
    return strcmp(name, "cycles") == 0 || strcmp(name, "instructions") == 0 ||
           strcmp(name, "PAPI_TOT_CYC") == 0 || strcmp(name, "PAPI_TOT_INS") == 0;
}

/* ---- this machine, as the probe asks it ------------------------------------------------------ */

static int read_paranoid(void) {
    int level = INT32_MIN;
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    if (f) {
        if (fscanf(f, "%d", &level) != 1)
            level = INT32_MIN;
        fclose(f);
    }
    return level;
}

typedef struct real_machine {
    int papi_set;
    int papi_added;
    int perf_fds[MMB_COUNTERS_MAX];
    int perf_count;
} real_machine;

static int real_papi_open(void *ctx, char *why, size_t n) {
    real_machine *r = ctx;
    if (!papi_ready())
        return fail(why, n, "%s", papi_failure);
    int rc = PAPI_create_eventset(&r->papi_set);
    if (rc != PAPI_OK) {
        r->papi_set = PAPI_NULL;
        return fail(why, n, "PAPI_create_eventset failed (%s)", PAPI_strerror(rc));
    }
    return 0;
}

/* The phrase for a PAPI error, ECMP_DISABLED naming the disabled component and its reason. */
static void papi_error_text(int code, int rc, char *buf, size_t n) {
    if (rc == PAPI_ECMP_DISABLED) {
        int cidx = PAPI_get_event_component(code);
        const PAPI_component_info_t *info = cidx >= 0 ? PAPI_get_component_info(cidx) : NULL;
        if (!info || !info->disabled_reason[0])
            info = PAPI_get_component_info(PAPI_get_component_index("perf_event"));
        if (info) {
            snprintf(buf, n, "component %.64s is disabled: %.160s", info->name,
                     info->disabled_reason[0] ? info->disabled_reason : "no reason given");
            return;
        }
    }
    snprintf(buf, n, "%s", PAPI_strerror(rc));
}

/* Adds one event to the set, which stays startable: added, started and stopped, or removed. */
static int real_papi_add(void *ctx, const char *name, int *code, bool *unknown, char *why,
                         size_t n) {
    real_machine *r = ctx;
    *unknown = false;
    int rc = PAPI_event_name_to_code(name, code);
    if (rc != PAPI_OK) {
        *code = PAPI_NULL;
        *unknown = true;
        return fail(why, n, "%s", PAPI_strerror(rc));
    }
    if ((rc = PAPI_add_event(r->papi_set, *code)) == PAPI_OK &&
        (rc = PAPI_start(r->papi_set)) != PAPI_OK)
        PAPI_remove_event(r->papi_set, *code);
    if (rc != PAPI_OK) {
        papi_error_text(*code, rc, why, n);
        return -1;
    }
    long long scratch[MMB_COUNTERS_MAX];
    PAPI_stop(r->papi_set, scratch);
    r->papi_added++;
    return 0;
}

/* Leaves the set started, so that the perf_event probe competes with it for the PMU, as
 * threads will. */
static int real_papi_spin(void *ctx, int count, long long *delta, char *why, size_t n) {
    real_machine *r = ctx;
    long long before[MMB_COUNTERS_MAX], after[MMB_COUNTERS_MAX];
    if (count != r->papi_added || PAPI_start(r->papi_set) != PAPI_OK ||
        PAPI_read(r->papi_set, before) != PAPI_OK)
        return fail(why, n, "PAPI: the event set would not start or read");
    spin();
    if (PAPI_read(r->papi_set, after) != PAPI_OK)
        return fail(why, n, "PAPI: the event set would not read");
    for (int i = 0; i < count; i++)
        delta[i] = after[i] - before[i];
    return 0;
}

static int real_perf_hw_open(void *ctx, uint32_t type, uint64_t config) {
    real_machine *r = ctx;
    int fd = perf_open(type, config, r->perf_count ? r->perf_fds[0] : -1);
    if (fd < 0)
        return errno ? errno : EINVAL;
    r->perf_fds[r->perf_count++] = fd;
    return 0;
}

static int real_perf_hw_spin(void *ctx, int count, uint64_t *delta) {
    real_machine *r = ctx;
    uint64_t before[MMB_COUNTERS_MAX], after[MMB_COUNTERS_MAX];
    if (count != r->perf_count || perf_read_group(r->perf_fds[0], count, before) != 0)
        return -1;
    spin();
    if (perf_read_group(r->perf_fds[0], count, after) != 0)
        return -1;
    for (int i = 0; i < count; i++)
        delta[i] = after[i] - before[i];
    return 0;
}

static int real_perf_sw(void *ctx, uint32_t type, uint64_t config, bool must_move) {
    (void)ctx;
    int fd = perf_open(type, config, -1);
    if (fd < 0)
        return errno ? errno : EINVAL;
    uint64_t v[2] = {0, 0};
    bool moved = true;
    if (must_move) {
        moved = perf_read_group(fd, 1, &v[0]) == 0;
        spin();
        moved = moved && perf_read_group(fd, 1, &v[1]) == 0 && v[1] > v[0];
    }
    close(fd);
    return moved ? 0 : -1;
}

static int real_perf_paranoid(void *ctx) {
    (void)ctx;
    return read_paranoid();
}

static int real_rusage(void *ctx) {
    (void)ctx;
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? 0 : errno;
}

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int real_thread_clock(void *ctx) {
    (void)ctx;
    return thread_cpu_ns() != 0 ? 0 : -1;
}

static void real_close(void *ctx) {
    real_machine *r = ctx;
    for (int j = r->perf_count - 1; j >= 0; j--)
        close(r->perf_fds[j]);
    r->perf_count = 0;
    if (r->papi_set != PAPI_NULL) {
        long long scratch[MMB_COUNTERS_MAX];
        PAPI_stop(r->papi_set, scratch);
        PAPI_cleanup_eventset(r->papi_set);
        PAPI_destroy_eventset(&r->papi_set);
        r->papi_set = PAPI_NULL;
    }
    r->papi_added = 0;
}

/* ---- the probe ------------------------------------------------------------------------------ */

/* Marks E unavailable: WHY is the whole story for this event (it names the PAPI events tried),
 * CAUSE the same without names, so that events failing for one cause group under it. */
static void set_unavailable(mmb_counter_event *e, const char *why, const char *cause) {
    e->backend = MMB_BACKEND_UNAVAILABLE;
    e->source[0] = '\0';
    snprintf(e->why, sizeof e->why, "%s", why);
    snprintf(e->cause, sizeof e->cause, "%s", cause);
}

/* Appends one phrase to an unavailable event's why and cause alike. */
__attribute__((format(printf, 2, 3))) static void add_cause(mmb_counter_event *e, const char *fmt,
                                                            ...) {
    char phrase[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(phrase, sizeof phrase, fmt, ap);
    va_end(ap);
    append(e->why, sizeof e->why, "%s%s", e->why[0] ? ", and " : "", phrase);
    append(e->cause, sizeof e->cause, "%s%s", e->cause[0] ? ", and " : "", phrase);
}

/* Why perf_event_open failed with ERR, as a phrase. */
static void perf_failure_text(int err, int paranoid, char *buf, size_t n) {
    const char *name = strerrorname_np(err);
    name = name ? name : strerror(err);
    if (err == EACCES || err == EPERM) {
        if (paranoid != INT32_MIN)
            snprintf(buf, n, "perf_event_open not permitted (%s, perf_event_paranoid is %d)", name,
                     paranoid);
        else
            snprintf(buf, n, "perf_event_open not permitted (%s)", name);
    } else if (err == ENOENT || err == EOPNOTSUPP || err == ENODEV) {
        snprintf(buf, n, "perf_event_open found no such event (%s)", name);
    } else {
        snprintf(buf, n, "perf_event_open failed (%s: %s)", name, strerror(err));
    }
}

/* One event's PAPI candidates (a named event's presets, or the name itself), tried in order: the
 * first that PAPI counts is kept; else why names each candidate's failure. */
static void papi_candidates(const mmb_counters_machine *m, mmb_counter_event *e) {
    const char *single[2] = {e->name, NULL};
    const char *const *candidates = e->known >= 0 ? known[e->known].papi : single;
    char why[256] = "", cause[256] = "", first[160] = "";
    for (int c = 0; c < 2 && candidates[c]; c++) {
        int code = PAPI_NULL;
        bool unknown = false;
        char phrase[160] = "";
        if (m->papi_add(m->ctx, candidates[c], &code, &unknown, phrase, sizeof phrase) == 0) {
            e->backend = MMB_BACKEND_PAPI;
            e->papi_code = code;
            snprintf(e->source, sizeof e->source, "%s", candidates[c]);
            return;
        }
        if (c == 0) {
            snprintf(why, sizeof why, "PAPI %s %s (%s)", unknown ? "does not know" : "cannot count",
                     candidates[c], phrase);
            snprintf(cause, sizeof cause, "PAPI: %s%s", unknown ? "no such event, " : "", phrase);
            snprintf(first, sizeof first, "%s", phrase);
        } else if (strcmp(phrase, first) != 0) {
            append(why, sizeof why, ", nor %s (%s)", candidates[c], phrase);
            append(cause, sizeof cause, ", nor the alternative (%s)", phrase);
        }
    }
    set_unavailable(e, why, cause);
}

/* Hardware events through PAPI. Cycles and instructions must move over a busy loop: a PMU that a
 * hypervisor pretends to have can count nothing, and then no PAPI event is trusted. */
static void probe_papi(mmb_counters_plan *plan, const mmb_counters_machine *m) {
    bool any = false;
    for (int i = 0; i < plan->count; i++)
        any |= plan->events[i].hardware;
    if (!any)
        return;
    char skip[256] = "";
    if (!(plan->backends & MMB_COUNTERS_USE_PAPI))
        snprintf(skip, sizeof skip, "PAPI not used");
    else if (m->papi_open(m->ctx, skip, sizeof skip) != 0 && !skip[0])
        snprintf(skip, sizeof skip, "PAPI could not start");
    int counted = 0;
    for (int i = 0; i < plan->count; i++) {
        mmb_counter_event *e = &plan->events[i];
        if (!e->hardware)
            continue;
        if (skip[0])
            set_unavailable(e, skip, skip);
        else
            papi_candidates(m, e);
        counted += e->backend == MMB_BACKEND_PAPI;
    }
    if (counted == 0)
        return;
    long long delta[MMB_COUNTERS_MAX];
    char bad[256] = "";
    if (m->papi_spin(m->ctx, counted, delta, bad, sizeof bad) != 0 && !bad[0])
        snprintf(bad, sizeof bad, "PAPI: the event set would not read");
    for (int i = 0, k = 0; i < plan->count && !bad[0]; i++) {
        const mmb_counter_event *e = &plan->events[i];
        if (e->backend != MMB_BACKEND_PAPI)
            continue;
        if (counts_everything(e->source) && delta[k] <= 0)
            snprintf(bad, sizeof bad, "PAPI: %s did not move over a busy loop", e->source);
        k++;
    }
    if (bad[0])
        for (int i = 0; i < plan->count; i++)
            if (plan->events[i].backend == MMB_BACKEND_PAPI)
                set_unavailable(&plan->events[i], bad, bad);
}

/* The named hardware events PAPI could not count, through perf_event_open, as one pinned group. */
static void probe_perf_hardware(mmb_counters_plan *plan, const mmb_counters_machine *m) {
    int slot[MMB_COUNTERS_MAX], n = 0;
    for (int i = 0; i < plan->count; i++) {
        mmb_counter_event *e = &plan->events[i];
        if (!e->hardware || e->backend != MMB_BACKEND_UNAVAILABLE || e->known < 0)
            continue;
        if (!(plan->backends & MMB_COUNTERS_USE_PERF)) {
            add_cause(e, "perf_event_open not used");
            continue;
        }
        int err = m->perf_hw_open(m->ctx, known[e->known].perf_type, known[e->known].perf_config);
        if (err != 0) {
            char why[128];
            perf_failure_text(err, m->perf_paranoid(m->ctx), why, sizeof why);
            add_cause(e, "%s", why);
            continue;
        }
        slot[n++] = i;
    }
    if (n == 0)
        return;
    uint64_t delta[MMB_COUNTERS_MAX];
    const char *why = m->perf_hw_spin(m->ctx, n, delta) != 0
                          ? "perf_event_open: the PMU could not hold the group"
                          : NULL;
    for (int j = 0; j < n && !why; j++)
        if (counts_everything(plan->events[slot[j]].name) && delta[j] == 0)
            why = "perf_event_open: cycles or instructions did not move over a busy loop";
    for (int j = 0; j < n; j++) {
        mmb_counter_event *e = &plan->events[slot[j]];
        if (why) {
            add_cause(e, "%s", why);
        } else {
            e->backend = MMB_BACKEND_PERF;
            e->why[0] = e->cause[0] = '\0';
            snprintf(e->source, sizeof e->source, "%s", known[e->known].perf_source);
        }
    }
}

/* A software event: perf_event_open, else getrusage, else the thread clock. */
static void probe_software(mmb_counters_plan *plan, const mmb_counters_machine *m,
                           mmb_counter_event *e) {
    const known_event *k = &known[e->known];
    e->why[0] = e->cause[0] = '\0';
    if (k->perf_source) {
        int err = (plan->backends & MMB_COUNTERS_USE_PERF)
                      ? m->perf_sw(m->ctx, k->perf_type, k->perf_config, k->clock)
                      : INT32_MIN;
        char why[160];
        if (err == 0) {
            e->backend = MMB_BACKEND_PERF;
            snprintf(e->source, sizeof e->source, "%s", k->perf_source);
            return;
        } else if (err == INT32_MIN) {
            add_cause(e, "perf_event_open not used");
        } else if (err < 0) {
            add_cause(e, "perf_event_open: it did not move over a busy loop");
        } else {
            perf_failure_text(err, m->perf_paranoid(m->ctx), why, sizeof why);
            add_cause(e, "%s", why);
        }
    }
    if (k->rusage != RU_NONE && (plan->backends & MMB_COUNTERS_USE_RUSAGE)) {
        int err = m->rusage(m->ctx);
        if (err == 0) {
            e->backend = MMB_BACKEND_RUSAGE;
            snprintf(e->source, sizeof e->source, "%s", rusage_sources[k->rusage]);
            return;
        }
        add_cause(e, "getrusage(RUSAGE_THREAD) failed (%s)", strerror(err));
    } else if (k->rusage != RU_NONE) {
        add_cause(e, "getrusage not used");
    }
    if (k->clock && (plan->backends & MMB_COUNTERS_USE_CLOCK)) {
        if (m->thread_clock(m->ctx) == 0) {
            e->backend = MMB_BACKEND_CLOCK;
            snprintf(e->source, sizeof e->source, "clock_gettime(CLOCK_THREAD_CPUTIME_ID), ns");
            return;
        }
        add_cause(e, "CLOCK_THREAD_CPUTIME_ID failed");
    } else if (k->clock) {
        add_cause(e, "the thread clock not used");
    }
    e->backend = MMB_BACKEND_UNAVAILABLE;
    e->source[0] = '\0';
}

static bool is_counted(const mmb_counter_event *e) {
    return e->backend != MMB_BACKEND_UNAVAILABLE;
}

/* Whether B is unavailable for the same cause as A (an unavailable event). */
static bool same_reason(const mmb_counter_event *a, const mmb_counter_event *b) {
    return !is_counted(b) && b->hardware == a->hardware && strcmp(a->cause, b->cause) == 0;
}

/* "no hardware counters: CAUSE; counting software events only: A, B" and the like: the
 * unavailable events asked for, grouped by identical causes, then every event that is counted. */
static void build_reason(mmb_counters_plan *plan, int asked) {
    char *r = plan->reason;
    size_t n = sizeof plan->reason;
    r[0] = '\0';
    if (plan->available)
        return;
    int hw = 0, hw_counted = 0, counted = 0;
    for (int i = 0; i < plan->count; i++) {
        const mmb_counter_event *e = &plan->events[i];
        hw += e->hardware && i < asked;
        hw_counted += e->hardware && is_counted(e);
        counted += is_counted(e);
    }
    bool done[MMB_COUNTERS_MAX] = {false};
    const char *names[MMB_COUNTERS_MAX + 1]; /* the events a phrase lists */
    char list[sizeof names / sizeof names[0] * sizeof plan->events[0].name];
    for (int i = 0; i < asked; i++) {
        const mmb_counter_event *e = &plan->events[i];
        if (done[i] || is_counted(e))
            continue;
        int same = 0;
        for (int j = i; j < asked; j++)
            same += same_reason(e, &plan->events[j]);
        append(r, n, "%s", r[0] ? "; " : "");
        if (e->hardware && same == hw) {
            append(r, n, "no hardware counters: %s", e->cause);
        } else {
            int k = 0;
            for (int j = i; j < asked; j++)
                if (same_reason(e, &plan->events[j]))
                    names[k++] = plan->events[j].name;
            names[k] = NULL;
            append(r, n, "%s unavailable: %s", mmb_join(list, sizeof list, names, ", ", NULL),
                   e->cause);
        }
        for (int j = i; j < asked; j++)
            done[j] |= same_reason(e, &plan->events[j]);
    }
    if (counted == 0) {
        append(r, n, "; nothing can be counted");
        return;
    }
    append(r, n, "%s",
           hw > 0 && hw_counted == 0 ? "; counting software events only: " : "; counting ");
    int k = 0;
    for (int i = 0; i < plan->count; i++)
        if (is_counted(&plan->events[i]))
            names[k++] = plan->events[i].name;
    names[k] = NULL;
    append(r, n, "%s", mmb_join(list, sizeof list, names, ", ", NULL));
}

void mmb_counters_probe_machine(mmb_counters_plan *plan, const mmb_counters_machine *m) {
    if (plan->probed)
        return;
    int asked = plan->count;
    probe_papi(plan, m);
    probe_perf_hardware(plan, m);
    m->close(m->ctx);
    bool hw_missing = false;
    for (int i = 0; i < asked; i++)
        hw_missing |= plan->events[i].hardware && !is_counted(&plan->events[i]);
    for (int f = 0; hw_missing && f < FALLBACK_COUNT; f++) {
        int before = plan->count;
        add_event(plan, fallbacks[f], find_known(fallbacks[f]), NULL, 0); /* room was kept */
        if (plan->count > before)
            plan->events[before].fallback = true;
    }
    for (int i = 0; i < plan->count; i++)
        if (!plan->events[i].hardware)
            probe_software(plan, m, &plan->events[i]);
    plan->available = true;
    for (int i = 0; i < asked; i++)
        plan->available &= is_counted(&plan->events[i]);
    build_reason(plan, asked);
    plan->probed = true;
}

void mmb_counters_probe(mmb_counters_plan *plan) {
    real_machine r = {.papi_set = PAPI_NULL};
    const mmb_counters_machine m = {
        .ctx = &r,
        .papi_open = real_papi_open,
        .papi_add = real_papi_add,
        .papi_spin = real_papi_spin,
        .perf_hw_open = real_perf_hw_open,
        .perf_hw_spin = real_perf_hw_spin,
        .perf_sw = real_perf_sw,
        .perf_paranoid = real_perf_paranoid,
        .rusage = real_rusage,
        .thread_clock = real_thread_clock,
        .close = real_close,
    };
    mmb_counters_probe_machine(plan, &m);
}

bool mmb_counters_available(const mmb_counters_plan *plan) {
    return plan->probed && plan->available;
}

const char *mmb_counters_reason(const mmb_counters_plan *plan) {
    return plan->probed ? plan->reason : "counters not probed";
}

bool mmb_counters_note(const mmb_counters_plan *plan, FILE *out) {
    static atomic_flag noted = ATOMIC_FLAG_INIT;
    if (mmb_counters_available(plan) || atomic_flag_test_and_set(&noted))
        return false;
    fprintf(out, "mmbench: note: counters: %s\n", mmb_counters_reason(plan));
    return true;
}

/* ---- counting on one thread ----------------------------------------------------------------- */

typedef struct perf_group {
    int n;
    int fds[MMB_COUNTERS_MAX];  /* fds[0] leads */
    int slot[MMB_COUNTERS_MAX]; /* the plan index of each */
} perf_group;

struct mmb_counters_thread {
    const mmb_counters_plan *plan;
    int papi_set; /* PAPI_NULL: no PAPI event */
    int papi_n, papi_slot[MMB_COUNTERS_MAX];
    bool papi_registered;
    perf_group perf[2]; /* hardware, software: a mixed group would make software events fail
                           with the hardware ones when the PMU is full */
    bool rusage, clock;
    int depth;         /* begins not yet ended */
    mmb_phase current; /* the outermost phase begun, or the mutator */
    uint64_t base[MMB_COUNTERS_MAX], last[MMB_COUNTERS_MAX];
    mmb_counter_totals totals;
};

int mmb_counters_thread_read(mmb_counters_thread *t, uint64_t *values) {
    const mmb_counters_plan *plan = t->plan;
    int rc = 0;
    if (t->papi_n) {
        long long v[MMB_COUNTERS_MAX];
        if (PAPI_read(t->papi_set, v) == PAPI_OK)
            for (int k = 0; k < t->papi_n; k++)
                values[t->papi_slot[k]] = (uint64_t)v[k];
        else
            rc = -1;
    }
    for (int g = 0; g < 2; g++) {
        const perf_group *p = &t->perf[g];
        uint64_t v[MMB_COUNTERS_MAX];
        if (p->n == 0)
            continue;
        if (perf_read_group(p->fds[0], p->n, v) == 0)
            for (int k = 0; k < p->n; k++)
                values[p->slot[k]] = v[k];
        else
            rc = -1;
    }
    if (t->rusage) {
        struct rusage ru;
        if (getrusage(RUSAGE_THREAD, &ru) == 0) {
            for (int i = 0; i < plan->count; i++) {
                if (plan->events[i].backend != MMB_BACKEND_RUSAGE)
                    continue;
                uint64_t minor = (uint64_t)ru.ru_minflt, major = (uint64_t)ru.ru_majflt;
                switch (known[plan->events[i].known].rusage) {
                case RU_SWITCHES:
                    values[i] = (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
                    break;
                case RU_FAULTS:
                    values[i] = minor + major;
                    break;
                case RU_MINOR_FAULTS:
                    values[i] = minor;
                    break;
                default:
                    values[i] = major;
                    break;
                }
            }
        } else {
            rc = -1;
        }
    }
    if (t->clock) {
        uint64_t ns = thread_cpu_ns();
        for (int i = 0; i < plan->count; i++)
            if (plan->events[i].backend == MMB_BACKEND_CLOCK)
                values[i] = ns;
    }
    return rc;
}

mmb_counters_thread *mmb_counters_thread_open(const mmb_counters_plan *plan, char *why, size_t n) {
    if (!plan->probed) {
        fail(why, n, "counters not probed");
        return NULL;
    }
    mmb_counters_thread *t = calloc(1, sizeof *t);
    if (!t) {
        fail(why, n, "out of memory");
        return NULL;
    }
    t->plan = plan;
    t->papi_set = PAPI_NULL;
    t->totals.count = plan->count;
    for (int i = 0; i < plan->count; i++) {
        const mmb_counter_event *e = &plan->events[i];
        if (e->backend == MMB_BACKEND_PAPI) {
            t->papi_slot[t->papi_n++] = i;
        } else if (e->backend == MMB_BACKEND_PERF) {
            const known_event *k = &known[e->known];
            perf_group *g = &t->perf[k->hardware ? 0 : 1];
            int fd = perf_open(k->perf_type, k->perf_config, g->n ? g->fds[0] : -1);
            if (fd < 0) {
                char text[128];
                int err = errno;
                perf_failure_text(err, read_paranoid(), text, sizeof text);
                fail(why, n, "%s: %s", e->name, text);
                goto failed;
            }
            g->fds[g->n] = fd;
            g->slot[g->n++] = i;
        } else if (e->backend == MMB_BACKEND_RUSAGE) {
            t->rusage = true;
        } else if (e->backend == MMB_BACKEND_CLOCK) {
            t->clock = true;
        }
    }
    if (t->papi_n) {
        int rc;
        if (!papi_ready()) {
            fail(why, n, "%s", papi_failure);
            goto failed;
        }
        if (!pthread_equal(pthread_self(), papi_init_thread)) {
            if ((rc = PAPI_register_thread()) != PAPI_OK) {
                fail(why, n, "PAPI_register_thread failed (%s)", PAPI_strerror(rc));
                goto failed;
            }
            t->papi_registered = true;
        }
        if ((rc = PAPI_create_eventset(&t->papi_set)) != PAPI_OK) {
            t->papi_set = PAPI_NULL;
            fail(why, n, "PAPI_create_eventset failed (%s)", PAPI_strerror(rc));
            goto failed;
        }
        for (int k = 0; k < t->papi_n; k++) {
            const mmb_counter_event *e = &plan->events[t->papi_slot[k]];
            if ((rc = PAPI_add_event(t->papi_set, e->papi_code)) != PAPI_OK) {
                fail(why, n, "%s: PAPI_add_event failed (%s)", e->name, PAPI_strerror(rc));
                goto failed;
            }
        }
        if ((rc = PAPI_start(t->papi_set)) != PAPI_OK) {
            fail(why, n, "PAPI_start failed (%s)", PAPI_strerror(rc));
            goto failed;
        }
    }
    t->totals.reads = 1;
    if (mmb_counters_thread_read(t, t->base) != 0) {
        fail(why, n, "the first reading of the counters failed");
        goto failed;
    }
    memcpy(t->last, t->base, sizeof t->last);
    return t;
failed:
    mmb_counters_thread_close(t);
    return NULL;
}

/* Reads the counters and gives the interval since the last read to phase TO. A failed read gives
 * nothing to anyone: the next successful one carries the interval, so the phases still sum to the
 * whole. */
static void close_interval(mmb_counters_thread *t, mmb_phase to) {
    uint64_t now[MMB_COUNTERS_MAX];
    memcpy(now, t->last, sizeof now);
    t->totals.reads++;
    if (mmb_counters_thread_read(t, now) != 0) {
        t->totals.read_errors++;
        return;
    }
    for (int i = 0; i < t->totals.count; i++) {
        t->totals.phase[to][i] += now[i] - t->last[i];
        t->totals.whole[i] = now[i] - t->base[i];
    }
    memcpy(t->last, now, sizeof now);
}

void mmb_counters_phase(mmb_counters_thread *t, mmb_phase phase, int begin) {
    if ((unsigned)phase >= MMB_PHASE_COUNT) {
        t->totals.bad_calls++;
    } else if (begin) {
        if (t->depth++ == 0) {
            close_interval(t, MMB_PHASE_MUTATOR);
            t->current = phase;
        }
    } else if (t->depth == 0) {
        t->totals.bad_calls++;
    } else if (--t->depth == 0) {
        close_interval(t, t->current);
        t->current = MMB_PHASE_MUTATOR;
    }
}

void mmb_counters_phase_hook(void *thread, mmb_phase phase, int begin) {
    mmb_counters_phase(thread, phase, begin);
}

void mmb_counters_thread_totals(mmb_counters_thread *t, mmb_counter_totals *out) {
    close_interval(t, t->depth ? t->current : MMB_PHASE_MUTATOR);
    *out = t->totals;
}

void mmb_counters_thread_close(mmb_counters_thread *t) {
    if (!t)
        return;
    if (t->papi_set != PAPI_NULL) {
        long long scratch[MMB_COUNTERS_MAX];
        PAPI_stop(t->papi_set, scratch); /* fails harmlessly when not started */
        PAPI_cleanup_eventset(t->papi_set);
        PAPI_destroy_eventset(&t->papi_set);
    }
    if (t->papi_registered)
        PAPI_unregister_thread();
    for (int g = 0; g < 2; g++)
        for (int k = t->perf[g].n - 1; k >= 0; k--)
            close(t->perf[g].fds[k]);
    free(t);
}

void mmb_counters_totals_add(mmb_counter_totals *sum, const mmb_counter_totals *part) {
    if (sum->count < part->count)
        sum->count = part->count;
    for (int i = 0; i < part->count; i++) {
        for (int p = 0; p < MMB_PHASE_COUNT; p++)
            sum->phase[p][i] += part->phase[p][i];
        sum->whole[i] += part->whole[i];
    }
    sum->reads += part->reads;
    sum->read_errors += part->read_errors;
    sum->bad_calls += part->bad_calls;
}

/* ---- results -------------------------------------------------------------------------------- */

json_t *mmb_counters_context_json(const mmb_counters_plan *plan) {
    json_t *o = json_object(), *events = json_array(), *backend = json_object(),
           *source = json_object(), *unavailable = json_object(), *added = json_array();
    if (!o || !events || !backend || !source || !unavailable || !added)
        goto oom;
    bool available = mmb_counters_available(plan);
    json_object_set_new(o, "available", json_boolean(available));
    if (!available)
        json_object_set_new(o, "reason", json_string(mmb_counters_reason(plan)));
    for (int i = 0; i < plan->count; i++) {
        const mmb_counter_event *e = &plan->events[i];
        json_array_append_new(events, json_string(e->name));
        json_object_set_new(backend, e->name,
                            json_string(mmb_counters_backend_name(plan->probed ? e->backend : 0)));
        if (plan->probed && is_counted(e))
            json_object_set_new(source, e->name, json_string(e->source));
        else if (plan->probed)
            json_object_set_new(unavailable, e->name, json_string(e->why));
        if (e->fallback)
            json_array_append_new(added, json_string(e->name));
    }
    json_object_set_new(o, "events", events);
    json_object_set_new(o, "backend", backend);
    json_object_set_new(o, "source", source);
    if (json_object_size(unavailable))
        json_object_set_new(o, "unavailable", unavailable);
    else
        json_decref(unavailable);
    if (json_array_size(added))
        json_object_set_new(o, "fallback", added);
    else
        json_decref(added);
    return o;
oom:
    json_decref(o);
    json_decref(events);
    json_decref(backend);
    json_decref(source);
    json_decref(unavailable);
    json_decref(added);
    return NULL;
}

json_t *mmb_counters_values_json(const mmb_counters_plan *plan, const mmb_counter_totals *totals) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (int p = 0; p < MMB_PHASE_COUNT; p++) {
        json_t *phase = json_object();
        if (!phase) {
            json_decref(o);
            return NULL;
        }
        for (int i = 0; i < plan->count && i < totals->count; i++)
            if (plan->probed && is_counted(&plan->events[i]))
                json_object_set_new(phase, plan->events[i].name,
                                    json_integer((json_int_t)totals->phase[p][i]));
        json_object_set_new(o, phase_names[p], phase);
    }
    if (totals->read_errors)
        json_object_set_new(o, "read_errors", json_integer((json_int_t)totals->read_errors));
    return o;
}
