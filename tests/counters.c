/* Counters (harness/counters.h): parsing, the probe's conclusions on machines described by their
 * answers (no PMU, a PMU, a disabled component, a missing event, permission denied), the real
 * probe's self-consistency, counting by software events, phase attribution, the JSON, and events
 * that cannot be counted. Busy loops spin on the thread's CPU clock, so a loaded machine makes
 * them longer in wall time but not in CPU time. perf's task-clock reads below that clock on a
 * loaded VM (about 10% seen here), so a count of N ns of spinning is checked against
 * [N/2, 2N + 5 ms]: margins that hold on 2 shared, loaded cores; through the thread clock itself
 * the lower bound is exact. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "test.h"

#define MS 1000000ull

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Burns NS of this thread's CPU time in user mode. */
static void spin_ns(uint64_t ns) {
    uint64_t end = thread_cpu_ns() + ns;
    volatile uint64_t x = 0;
    while (thread_cpu_ns() < end)
        for (int i = 0; i < 1000; i++)
            x = x + (uint64_t)i;
}

/* Whether COUNTED ns of CPU time is what spinning SPUN ns gives, through BACKEND. */
static bool cpu_time_ok(uint64_t counted, uint64_t spun, mmb_counter_backend backend) {
    uint64_t low = backend == MMB_BACKEND_CLOCK ? spun : spun / 2;
    return counted >= low && counted <= 2 * spun + 5 * MS;
}

static mmb_counters_plan probed(const char *list, unsigned backends) {
    mmb_counters_plan plan;
    char err[512] = "";
    int rc = mmb_counters_parse(list, &plan, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "parse %s: %s\n", list, err);
    ASSERT_EQ(rc, 0);
    plan.backends = backends;
    mmb_counters_probe(&plan);
    fprintf(stderr, "%s: available %d, reason \"%s\"\n", list, mmb_counters_available(&plan),
            mmb_counters_reason(&plan));
    return plan;
}

static int find(const mmb_counters_plan *plan, const char *name) {
    for (int i = 0; i < plan->count; i++)
        if (strcmp(plan->events[i].name, name) == 0)
            return i;
    return -1;
}

static mmb_counters_thread *open_here(const mmb_counters_plan *plan) {
    char why[256] = "";
    mmb_counters_thread *t = mmb_counters_thread_open(plan, why, sizeof why);
    if (!t)
        fprintf(stderr, "open: %s\n", why);
    ASSERT_TRUE(t != NULL);
    return t;
}

/* The change in event I over FN(). */
static uint64_t delta(mmb_counters_thread *t, int i, void (*fn)(void)) {
    uint64_t a[MMB_COUNTERS_MAX], b[MMB_COUNTERS_MAX];
    ASSERT_EQ(mmb_counters_thread_read(t, a), 0);
    fn();
    ASSERT_EQ(mmb_counters_thread_read(t, b), 0);
    return b[i] - a[i];
}

static void expect_parse_error(const char *list, const char *message) {
    mmb_counters_plan plan;
    char err[512] = "";
    ASSERT_EQ(mmb_counters_parse(list, &plan, err, sizeof err), -1);
    ASSERT_STR_CONTAINS(err, message);
}

TEST(counters_parse_lists) {
    mmb_counters_plan plan;
    char err[512] = "";
    ASSERT_EQ(mmb_counters_parse("default", &plan, err, sizeof err), 0);
    ASSERT_EQ(plan.count, 5);
    const char *want[] = {"cycles", "instructions", "l1d-misses", "llc-misses", "dtlb-misses"};
    for (int i = 0; i < 5; i++) {
        ASSERT_STR_CONTAINS(plan.events[i].name, want[i]);
        ASSERT_TRUE(plan.events[i].hardware);
    }
    ASSERT_TRUE(!plan.probed);
    ASSERT_EQ(mmb_counters_parse("default,page-faults", &plan, err, sizeof err), 0);
    ASSERT_EQ(plan.count, 6);
    ASSERT_TRUE(!plan.events[5].hardware);
    /* Duplicates count once; spaces around names are ignored. */
    ASSERT_EQ(mmb_counters_parse("cycles, task-clock,cycles,default", &plan, err, sizeof err), 0);
    ASSERT_EQ(plan.count, 6);
    ASSERT_EQ(find(&plan, "task-clock"), 1);
    ASSERT_EQ(find(&plan, "instructions"), 2);
    /* A preset PAPI knows and a native name (only the probe can tell whether it exists). */
    ASSERT_EQ(mmb_counters_parse("PAPI_L2_DCM,perf::CYCLES", &plan, err, sizeof err), 0);
    ASSERT_EQ(plan.count, 2);
    ASSERT_TRUE(plan.events[0].hardware && plan.events[1].hardware);
    ASSERT_EQ(plan.backends, MMB_COUNTERS_USE_ALL);

    expect_parse_error("cycles,cycels", "unknown counter 'cycels' (hint: one of: default, cycles");
    expect_parse_error("cycels", "context-switches");
    expect_parse_error("", "empty counter list");
    expect_parse_error("cycles,,task-clock", "empty name in counter list 'cycles,,task-clock'");
    expect_parse_error("PAPI_NOPE", "unknown PAPI preset 'PAPI_NOPE'");
    expect_parse_error("::X", "unknown counter '::X'");
    char many[512] = "";
    for (int i = 0; i < 14; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%spmu::E%d", i ? "," : "", i);
    expect_parse_error(many, "more than 13 counters");
}

/* ---- the probe's logic, on machines described by their answers ---------------------------- */

/* A machine that answers the probe's questions as told: what PAPI says to each event name, what
 * perf_event_open says, and whether counts move over a busy loop. */
typedef struct fake_machine {
    const char *papi_open_fails; /* NULL: PAPI starts */
    const char *papi_refuses;    /* NULL: PAPI adds every event; else its phrase for every one */
    const char *papi_missing[2]; /* names PAPI does not have ... */
    const char *missing_why[2];  /* ... and its phrase for each */
    bool papi_still;             /* added events do not move over a busy loop */
    int perf_hw_err;             /* 0: perf_event_open opens hardware events */
    bool perf_still;             /* opened hardware events do not move */
    int perf_sw_err;             /* 0, an errno value, or -1 (does not move) */
    int paranoid;
    int rusage_err, clock_err;
    int papi_opens, perf_hw_opens, closes; /* what the probe asked */
} fake_machine;

static int fake_papi_open(void *ctx, char *why, size_t n) {
    fake_machine *f = ctx;
    f->papi_opens++;
    if (!f->papi_open_fails)
        return 0;
    snprintf(why, n, "%s", f->papi_open_fails);
    return -1;
}

static int fake_papi_add(void *ctx, const char *name, int *code, bool *unknown, char *why,
                         size_t n) {
    fake_machine *f = ctx;
    *code = 1;
    *unknown = false;
    const char *refuse = f->papi_refuses;
    for (int i = 0; i < 2; i++)
        if (f->papi_missing[i] && strcmp(name, f->papi_missing[i]) == 0)
            refuse = f->missing_why[i];
    if (!refuse)
        return 0;
    snprintf(why, n, "%s", refuse);
    return -1;
}

static int fake_papi_spin(void *ctx, int count, long long *delta, char *why, size_t n) {
    fake_machine *f = ctx;
    (void)why, (void)n;
    for (int i = 0; i < count; i++)
        delta[i] = f->papi_still ? 0 : 1000;
    return 0;
}

static int fake_perf_hw_open(void *ctx, uint32_t type, uint64_t config) {
    fake_machine *f = ctx;
    (void)type, (void)config;
    f->perf_hw_opens += f->perf_hw_err == 0;
    return f->perf_hw_err;
}

static int fake_perf_hw_spin(void *ctx, int count, uint64_t *delta) {
    fake_machine *f = ctx;
    ASSERT_EQ(count, f->perf_hw_opens);
    for (int i = 0; i < count; i++)
        delta[i] = f->perf_still ? 0 : 1000;
    return 0;
}

static int fake_perf_sw(void *ctx, uint32_t type, uint64_t config, bool must_move) {
    fake_machine *f = ctx;
    (void)type, (void)config;
    return f->perf_sw_err == -1 && !must_move ? 0 : f->perf_sw_err;
}

static int fake_paranoid(void *ctx) {
    return ((fake_machine *)ctx)->paranoid;
}

static int fake_rusage(void *ctx) {
    return ((fake_machine *)ctx)->rusage_err;
}

static int fake_clock(void *ctx) {
    return ((fake_machine *)ctx)->clock_err ? -1 : 0;
}

static void fake_close(void *ctx) {
    ((fake_machine *)ctx)->closes++;
}

static mmb_counters_plan probed_on(const char *list, fake_machine *f) {
    mmb_counters_plan plan;
    char err[512] = "";
    ASSERT_EQ(mmb_counters_parse(list, &plan, err, sizeof err), 0);
    const mmb_counters_machine m = {
        .ctx = f,
        .papi_open = fake_papi_open,
        .papi_add = fake_papi_add,
        .papi_spin = fake_papi_spin,
        .perf_hw_open = fake_perf_hw_open,
        .perf_hw_spin = fake_perf_hw_spin,
        .perf_sw = fake_perf_sw,
        .perf_paranoid = fake_paranoid,
        .rusage = fake_rusage,
        .thread_clock = fake_clock,
        .close = fake_close,
    };
    mmb_counters_probe_machine(&plan, &m);
    ASSERT_TRUE(plan.probed);
    ASSERT_EQ(f->closes, 1);
    fprintf(stderr, "%s: reason \"%s\"\n", list, mmb_counters_reason(&plan));
    return plan;
}

static void expect_backends(const mmb_counters_plan *plan, const char *name,
                            mmb_counter_backend backend, const char *source) {
    int i = find(plan, name);
    ASSERT_TRUE(i >= 0);
    ASSERT_EQ(plan->events[i].backend, backend);
    ASSERT_STR_EQ(plan->events[i].source, source);
}

static const char fallbacks_counted[] =
    "; counting software events only: task-clock, page-faults, context-switches";

/* No PMU (a VM): PAPI has none of the presets and perf_event_open no such events. One cause for
 * every hardware event, so one "no hardware counters" with it; each event's own why names the
 * preset tried; the software fallbacks are counted instead. */
TEST(counters_probe_groups_no_pmu) {
    fake_machine f = {.papi_refuses = "Event does not exist", .perf_hw_err = ENOENT};
    mmb_counters_plan plan = probed_on("default", &f);
    ASSERT_TRUE(!mmb_counters_available(&plan));
    char want[512];
    snprintf(want, sizeof want, "%s%s",
             "no hardware counters: PAPI: Event does not exist, and perf_event_open found no such "
             "event (ENOENT)",
             fallbacks_counted);
    ASSERT_STR_EQ(mmb_counters_reason(&plan), want);
    ASSERT_STR_EQ(plan.events[0].why, "PAPI cannot count PAPI_TOT_CYC (Event does not exist), and "
                                      "perf_event_open found no such event (ENOENT)");
    ASSERT_STR_EQ(plan.events[3].why, "PAPI cannot count PAPI_L3_DCM (Event does not exist), and "
                                      "perf_event_open found no such event (ENOENT)");
    ASSERT_EQ(plan.count, 8);
    for (int i = 5; i < 8; i++)
        ASSERT_TRUE(plan.events[i].fallback);
    expect_backends(&plan, "task-clock", MMB_BACKEND_PERF,
                    "perf_event PERF_COUNT_SW_TASK_CLOCK, ns");
    expect_backends(&plan, "context-switches", MMB_BACKEND_RUSAGE,
                    "getrusage(RUSAGE_THREAD) ru_nvcsw + ru_nivcsw");
}

/* A PMU PAPI counts: every event through PAPI, nothing added, nothing to say. */
TEST(counters_probe_groups_pmu) {
    fake_machine f = {0};
    mmb_counters_plan plan = probed_on("default", &f);
    ASSERT_TRUE(mmb_counters_available(&plan));
    ASSERT_STR_EQ(mmb_counters_reason(&plan), "");
    ASSERT_EQ(plan.count, 5);
    expect_backends(&plan, "cycles", MMB_BACKEND_PAPI, "PAPI_TOT_CYC");
    expect_backends(&plan, "llc-misses", MMB_BACKEND_PAPI, "PAPI_L3_DCM");
    ASSERT_EQ(f.perf_hw_opens, 0);
    /* A software-only plan never starts PAPI. */
    fake_machine g = {0};
    plan = probed_on("task-clock,page-faults", &g);
    ASSERT_EQ(g.papi_opens, 0);
    ASSERT_TRUE(mmb_counters_available(&plan));
}

/* PAPI's perf_event component disabled, perf_event_open itself fine: the PMU is counted through
 * perf_event_open, and the result is available. */
TEST(counters_probe_groups_component_disabled) {
    fake_machine f = {.papi_refuses = "component perf_event is disabled: no PMU found"};
    mmb_counters_plan plan = probed_on("default", &f);
    ASSERT_TRUE(mmb_counters_available(&plan));
    ASSERT_EQ(f.perf_hw_opens, 5);
    expect_backends(&plan, "cycles", MMB_BACKEND_PERF,
                    "perf_event PERF_COUNT_HW_CPU_CYCLES, user mode");
    ASSERT_EQ(plan.count, 5);
}

/* Permission denied (perf_event_paranoid 3): PAPI's component disabled and perf_event_open refused
 * for hardware and software events alike: the hardware events share one cause naming the paranoid
 * level; task-clock falls back to the thread clock, page faults to getrusage. */
TEST(counters_probe_groups_permission_denied) {
    fake_machine f = {.papi_refuses =
                          "component perf_event is disabled: perf_event_paranoid forbids it",
                      .perf_hw_err = EACCES,
                      .perf_sw_err = EACCES,
                      .paranoid = 3};
    mmb_counters_plan plan = probed_on("default", &f);
    ASSERT_TRUE(!mmb_counters_available(&plan));
    char want[512];
    snprintf(want, sizeof want, "%s%s",
             "no hardware counters: PAPI: component perf_event is disabled: perf_event_paranoid "
             "forbids it, and perf_event_open not permitted (EACCES, perf_event_paranoid is 3)",
             fallbacks_counted);
    ASSERT_STR_EQ(mmb_counters_reason(&plan), want);
    expect_backends(&plan, "task-clock", MMB_BACKEND_CLOCK,
                    "clock_gettime(CLOCK_THREAD_CPUTIME_ID), ns");
    expect_backends(&plan, "page-faults", MMB_BACKEND_RUSAGE,
                    "getrusage(RUSAGE_THREAD) ru_minflt + ru_majflt");
    /* Without getrusage either, the faults are unavailable with both causes, never a zero. */
    fake_machine g = f;
    g.rusage_err = ENOSYS;
    g.closes = 0;
    plan = probed_on("page-faults", &g);
    ASSERT_STR_EQ(mmb_counters_reason(&plan),
                  "page-faults unavailable: perf_event_open not permitted (EACCES, "
                  "perf_event_paranoid is 3), and getrusage(RUSAGE_THREAD) failed (Function not "
                  "implemented); nothing can be counted");
}

/* A PMU without one event: only that event is named, with PAPI's two candidates' different
 * errors and perf_event_open's, and everything else is counted. */
TEST(counters_probe_groups_event_missing) {
    fake_machine f = {.papi_missing = {"PAPI_L3_DCM", "PAPI_L3_TCM"},
                      .missing_why = {"Event does not exist", "Hardware resource limit"},
                      .perf_hw_err = ENOENT};
    mmb_counters_plan plan = probed_on("default", &f);
    ASSERT_TRUE(!mmb_counters_available(&plan));
    ASSERT_STR_EQ(mmb_counters_reason(&plan),
                  "llc-misses unavailable: PAPI: Event does not exist, nor the alternative "
                  "(Hardware resource limit), and perf_event_open found no such event (ENOENT); "
                  "counting cycles, instructions, l1d-misses, dtlb-misses, task-clock, "
                  "page-faults, context-switches");
    ASSERT_STR_EQ(plan.events[3].why,
                  "PAPI cannot count PAPI_L3_DCM (Event does not exist), nor PAPI_L3_TCM "
                  "(Hardware resource limit), and perf_event_open found no such event (ENOENT)");
    ASSERT_EQ(plan.count, 8);
}

/* A PMU that only pretends (cycles do not move over a busy loop): no PAPI event is trusted, nor
 * perf_event_open's; and PAPI that does not start is one cause for all. */
TEST(counters_probe_groups_pretend_pmu_and_no_papi) {
    fake_machine f = {.papi_still = true, .perf_still = true};
    mmb_counters_plan plan = probed_on("cycles,l1d-misses", &f);
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan),
                        "no hardware counters: PAPI: PAPI_TOT_CYC did not move over a busy loop, "
                        "and perf_event_open: cycles or instructions did not move over a busy "
                        "loop; counting software events only: ");
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(plan.events[i].backend, MMB_BACKEND_UNAVAILABLE);

    fake_machine g = {.papi_open_fails = "PAPI_library_init failed: Not supported",
                      .perf_hw_err = ENODEV};
    plan = probed_on("default", &g);
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan),
                        "no hardware counters: PAPI_library_init failed: Not supported, and "
                        "perf_event_open found no such event (ENODEV); counting software");
}

/* The real probe on this machine, whatever it has: only that its findings are self-consistent
 * (what it finds is the business of the tests above, with the machine's answers injected). */
TEST(counters_probe_reports_this_machine) {
    mmb_counters_plan plan = probed("default", MMB_COUNTERS_USE_ALL);
    ASSERT_TRUE(plan.probed);
    bool hw_missing = false;
    for (int i = 0; i < plan.count; i++) {
        const mmb_counter_event *e = &plan.events[i];
        if (e->backend == MMB_BACKEND_UNAVAILABLE) {
            ASSERT_TRUE(e->why[0] != '\0' && e->cause[0] != '\0');
            ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), e->cause);
            hw_missing |= e->hardware;
        } else {
            ASSERT_TRUE(e->source[0] != '\0');
            ASSERT_TRUE(e->why[0] == '\0');
            if (e->hardware)
                ASSERT_TRUE(e->backend == MMB_BACKEND_PAPI || e->backend == MMB_BACKEND_PERF);
        }
    }
    ASSERT_EQ(mmb_counters_available(&plan), !hw_missing);
    ASSERT_EQ(plan.count, hw_missing ? 8 : 5);
    ASSERT_EQ(mmb_counters_reason(&plan)[0] == '\0', !hw_missing);
    /* The note: once per process, only when something is missing. */
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    bool printed = mmb_counters_note(&plan, f);
    ASSERT_EQ(printed, !mmb_counters_available(&plan));
    ASSERT_TRUE(!mmb_counters_note(&plan, f));
    char line[1024] = "";
    rewind(f);
    if (printed) {
        ASSERT_TRUE(fgets(line, sizeof line, f) != NULL);
        ASSERT_EQ(strncmp(line, "mmbench: note: counters: ", 25), 0);
        ASSERT_STR_CONTAINS(line, mmb_counters_reason(&plan));
        ASSERT_TRUE(fgets(line, sizeof line, f) == NULL); /* one line, not two */
    }
    fclose(f);
}

static void spin_20ms(void) {
    spin_ns(20 * MS);
}

/* task-clock moves by the CPU time spent, through perf_event_open and through the thread clock
 * (perf_event_open refused, as under perf_event_paranoid=3). */
TEST(counters_task_clock_counts_cpu_time) {
    unsigned masks[] = {MMB_COUNTERS_USE_ALL, MMB_COUNTERS_USE_ALL & ~MMB_COUNTERS_USE_PERF};
    for (int m = 0; m < 2; m++) {
        mmb_counters_plan plan = probed("task-clock", masks[m]);
        ASSERT_TRUE(mmb_counters_available(&plan));
        ASSERT_EQ(plan.count, 1);
        if (m == 1)
            ASSERT_EQ(plan.events[0].backend, MMB_BACKEND_CLOCK);
        mmb_counters_thread *t = open_here(&plan);
        uint64_t ns = delta(t, 0, spin_20ms);
        fprintf(stderr, "%s: %" PRIu64 " ns\n", plan.events[0].source, ns);
        ASSERT_TRUE(cpu_time_ok(ns, 20 * MS, plan.events[0].backend));
        mmb_counters_thread_close(t);
    }
}

enum { FRESH_PAGES = 256 };
static char *fresh;
static long page_bytes;

static void touch_fresh_pages(void) {
    for (int i = 0; i < FRESH_PAGES; i++)
        fresh[(long)i * page_bytes] = 1;
}

/* Touching N fresh pages takes N faults. perf_event_open (exclude_kernel=1) counts the faults the
 * thread's own code takes, so these; it misses only faults inside system calls, which getrusage
 * counts too. Huge pages are refused so that each page faults once. */
TEST(counters_page_faults_count_fresh_pages) {
    page_bytes = sysconf(_SC_PAGESIZE);
    unsigned masks[] = {MMB_COUNTERS_USE_ALL, MMB_COUNTERS_USE_RUSAGE};
    for (int m = 0; m < 2; m++) {
        mmb_counters_plan plan = probed("page-faults,minor-faults", masks[m]);
        ASSERT_TRUE(mmb_counters_available(&plan));
        if (m == 1)
            ASSERT_EQ(plan.events[0].backend, MMB_BACKEND_RUSAGE);
        mmb_counters_thread *t = open_here(&plan);
        size_t bytes = (size_t)FRESH_PAGES * (size_t)page_bytes;
        fresh = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_TRUE(fresh != MAP_FAILED);
        madvise(fresh, bytes, MADV_NOHUGEPAGE);
        uint64_t a[MMB_COUNTERS_MAX], b[MMB_COUNTERS_MAX];
        ASSERT_EQ(mmb_counters_thread_read(t, a), 0);
        touch_fresh_pages();
        ASSERT_EQ(mmb_counters_thread_read(t, b), 0);
        fprintf(stderr, "%s: %" PRIu64 " faults, minor %" PRIu64 "\n", plan.events[0].source,
                b[0] - a[0], b[1] - a[1]);
        for (int i = 0; i < 2; i++) {
            ASSERT_TRUE(b[i] - a[i] >= FRESH_PAGES);
            ASSERT_TRUE(b[i] - a[i] <= 2 * FRESH_PAGES + 64); /* sanitizers' shadow faults too */
        }
        munmap(fresh, bytes);
        mmb_counters_thread_close(t);
    }
}

static void sleep_often(void) {
    for (int i = 0; i < 20; i++) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        sched_yield();
    }
}

/* Context switches come from getrusage: perf_event_open with exclude_kernel=1 would read 0, so
 * without getrusage the event is unavailable, never a zero. */
TEST(counters_context_switches_from_getrusage) {
    mmb_counters_plan plan = probed("context-switches", MMB_COUNTERS_USE_ALL);
    ASSERT_TRUE(mmb_counters_available(&plan));
    ASSERT_EQ(plan.events[0].backend, MMB_BACKEND_RUSAGE);
    mmb_counters_thread *t = open_here(&plan);
    uint64_t switches = delta(t, 0, sleep_often);
    fprintf(stderr, "context switches over 20 sleeps: %" PRIu64 "\n", switches);
    ASSERT_TRUE(switches >= 10);
    mmb_counters_thread_close(t);

    plan = probed("context-switches", MMB_COUNTERS_USE_PERF | MMB_COUNTERS_USE_CLOCK);
    ASSERT_TRUE(!mmb_counters_available(&plan));
    ASSERT_EQ(plan.events[0].backend, MMB_BACKEND_UNAVAILABLE);
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan),
                        "context-switches unavailable: getrusage not used; nothing can be counted");
}

/* Phases as a collector would call them: the time lands where it was spent, a cascade inside a
 * collection is the collection's, and the phases sum to the whole exactly. */
static void check_phases(unsigned backends) {
    mmb_counters_plan plan = probed("task-clock", backends);
    ASSERT_TRUE(mmb_counters_available(&plan));
    mmb_counters_thread *t = open_here(&plan);
    uint64_t cpu0 = thread_cpu_ns();
    spin_ns(5 * MS);
    mmb_counters_phase(t, MMB_PHASE_COLLECTOR, 1);
    spin_ns(30 * MS);
    mmb_counters_phase(t, MMB_PHASE_CASCADE, 1);
    spin_ns(10 * MS);
    mmb_counters_phase(t, MMB_PHASE_CASCADE, 0);
    mmb_counters_phase(t, MMB_PHASE_COLLECTOR, 0);
    spin_ns(5 * MS);
    mmb_counters_phase_hook(t, MMB_PHASE_CASCADE, 1);
    spin_ns(10 * MS);
    mmb_counters_phase_hook(t, MMB_PHASE_CASCADE, 0);
    mmb_counters_phase(t, MMB_PHASE_CASCADE, 0); /* an end without a begin: ignored */
    mmb_counters_phase(t, (mmb_phase)7, 1);      /* no such phase: ignored */
    mmb_counter_totals tot;
    mmb_counters_thread_totals(t, &tot);
    uint64_t cpu = thread_cpu_ns() - cpu0;
    mmb_counters_thread_close(t);
    uint64_t mutator = tot.phase[MMB_PHASE_MUTATOR][0], cascade = tot.phase[MMB_PHASE_CASCADE][0],
             collector = tot.phase[MMB_PHASE_COLLECTOR][0];
    fprintf(stderr, "%s: mutator %" PRIu64 " cascade %" PRIu64 " collector %" PRIu64 " ns\n",
            plan.events[0].source, mutator, cascade, collector);
    mmb_counter_backend b = plan.events[0].backend;
    ASSERT_TRUE(cpu_time_ok(collector, 40 * MS, b));
    ASSERT_TRUE(cpu_time_ok(cascade, 10 * MS, b));
    ASSERT_TRUE(cpu_time_ok(mutator, 10 * MS, b));
    ASSERT_EQ(mutator + cascade + collector, tot.whole[0]);
    ASSERT_TRUE(tot.whole[0] >= cpu / 2 &&
                tot.whole[0] <= cpu + 5 * MS); /* bracketed by the clock */
    ASSERT_EQ(tot.count, 1);
    ASSERT_EQ(tot.reads, 1 + 4 + 1); /* open, two outermost begin/end pairs, totals */
    ASSERT_EQ(tot.read_errors, 0);
    ASSERT_EQ(tot.bad_calls, 2);
}

TEST(counters_phases_attribute_time) {
    check_phases(MMB_COUNTERS_USE_ALL);
    check_phases(MMB_COUNTERS_USE_CLOCK);
}

typedef struct worker {
    const mmb_counters_plan *plan;
    mmb_counter_totals totals;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    mmb_counters_thread *t = open_here(w->plan);
    mmb_counters_phase(t, MMB_PHASE_COLLECTOR, 1);
    spin_ns(15 * MS);
    mmb_counters_phase(t, MMB_PHASE_COLLECTOR, 0);
    mmb_counters_thread_totals(t, &w->totals);
    mmb_counters_thread_close(t);
    return NULL;
}

/* Each thread counts itself only; a run's totals are the threads' sums. */
TEST_THREADS(counters_threads_count_separately) {
    mmb_counters_plan plan = probed("default,task-clock", MMB_COUNTERS_USE_ALL);
    int tc = find(&plan, "task-clock");
    mmb_counters_thread *t = open_here(&plan);
    worker w = {&plan, {0}};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, work, &w), 0);
    spin_ns(25 * MS); /* the main thread's mutator, while the worker collects */
    ASSERT_EQ(pthread_join(th, NULL), 0);
    mmb_counter_totals mine, sum;
    mmb_counters_thread_totals(t, &mine);
    mmb_counters_thread_close(t);
    mmb_counter_backend b = plan.events[tc].backend;
    ASSERT_TRUE(cpu_time_ok(w.totals.phase[MMB_PHASE_COLLECTOR][tc], 15 * MS, b));
    ASSERT_TRUE(w.totals.phase[MMB_PHASE_MUTATOR][tc] < 5 * MS);
    ASSERT_TRUE(cpu_time_ok(mine.phase[MMB_PHASE_MUTATOR][tc], 25 * MS, b));
    ASSERT_EQ(mine.phase[MMB_PHASE_COLLECTOR][tc], 0);
    memset(&sum, 0, sizeof sum);
    mmb_counters_totals_add(&sum, &mine);
    mmb_counters_totals_add(&sum, &w.totals);
    ASSERT_EQ(sum.count, plan.count);
    for (int i = 0; i < plan.count; i++)
        for (int p = 0; p < MMB_PHASE_COUNT; p++)
            ASSERT_EQ(sum.phase[p][i], mine.phase[p][i] + w.totals.phase[p][i]);
    ASSERT_EQ(sum.reads, mine.reads + w.totals.reads);
}

/* Probed in the parent, counted in a forked child: how mmbench run uses a plan. */
TEST(counters_plan_counts_in_forked_child) {
    mmb_counters_plan plan = probed("default,task-clock", MMB_COUNTERS_USE_ALL);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        char why[256] = "";
        mmb_counters_thread *t = mmb_counters_thread_open(&plan, why, sizeof why);
        if (!t) {
            fprintf(stderr, "child: %s\n", why);
            _exit(3);
        }
        uint64_t ns = delta(t, find(&plan, "task-clock"), spin_20ms);
        mmb_counters_thread_close(t);
        _exit(cpu_time_ok(ns, 20 * MS, plan.events[find(&plan, "task-clock")].backend) ? 0 : 4);
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* The context says which backend counts what and why the others are missing; the values hold the
 * counted events only. */
TEST(counters_json_shapes) {
    mmb_counters_plan plan = probed("default,task-clock", MMB_COUNTERS_USE_ALL);
    json_t *ctx = mmb_counters_context_json(&plan);
    ASSERT_TRUE(ctx != NULL);
    ASSERT_EQ(json_is_true(json_object_get(ctx, "available")), mmb_counters_available(&plan));
    json_t *reason = json_object_get(ctx, "reason");
    if (mmb_counters_available(&plan)) {
        ASSERT_TRUE(reason == NULL);
    } else {
        ASSERT_TRUE(json_string_length(reason) > 0);
        ASSERT_TRUE(strcmp(json_string_value(reason), mmb_counters_reason(&plan)) == 0);
    }
    ASSERT_EQ(json_array_size(json_object_get(ctx, "events")), plan.count);
    json_t *backend = json_object_get(ctx, "backend"), *source = json_object_get(ctx, "source"),
           *unavailable = json_object_get(ctx, "unavailable");
    int counted = 0;
    for (int i = 0; i < plan.count; i++) {
        const mmb_counter_event *e = &plan.events[i];
        ASSERT_STR_CONTAINS(json_string_value(json_object_get(backend, e->name)),
                            mmb_counters_backend_name(e->backend));
        if (e->backend == MMB_BACKEND_UNAVAILABLE) {
            ASSERT_TRUE(json_object_get(source, e->name) == NULL);
            ASSERT_TRUE(json_string_length(json_object_get(unavailable, e->name)) > 0);
        } else {
            ASSERT_TRUE(json_string_length(json_object_get(source, e->name)) > 0);
            counted++;
        }
    }
    ASSERT_EQ(json_object_size(source), counted);
    ASSERT_EQ(json_object_size(unavailable), plan.count - counted);
    ASSERT_EQ(json_array_size(json_object_get(ctx, "fallback")),
              mmb_counters_available(&plan) ? 0 : plan.count - 6);
    json_decref(ctx);

    mmb_counters_thread *t = open_here(&plan);
    spin_ns(2 * MS);
    mmb_counter_totals tot;
    mmb_counters_thread_totals(t, &tot);
    mmb_counters_thread_close(t);
    json_t *values = mmb_counters_values_json(&plan, &tot);
    ASSERT_TRUE(values != NULL);
    ASSERT_EQ(json_object_size(values), 3);
    const char *phases[] = {"mutator", "cascade", "collector"};
    for (int p = 0; p < 3; p++) {
        json_t *phase = json_object_get(values, phases[p]);
        ASSERT_EQ(json_object_size(phase), counted);
        for (int i = 0; i < plan.count; i++)
            ASSERT_EQ(json_object_get(phase, plan.events[i].name) != NULL,
                      plan.events[i].backend != MMB_BACKEND_UNAVAILABLE);
    }
    ASSERT_TRUE(
        json_integer_value(json_object_get(json_object_get(values, "mutator"), "task-clock")) > 0);
    json_decref(values);
}

/* An event no backend can count is unavailable, with a reason, and absent from the values: here a
 * native event PAPI does not know, and then every backend refused. */
TEST(counters_impossible_events_are_unavailable) {
    mmb_counters_plan plan = probed("task-clock,nosuchpmu::NO_SUCH_EVENT", MMB_COUNTERS_USE_ALL);
    int bad = find(&plan, "nosuchpmu::NO_SUCH_EVENT");
    ASSERT_EQ(plan.events[bad].backend, MMB_BACKEND_UNAVAILABLE);
    ASSERT_STR_CONTAINS(plan.events[bad].why, "PAPI");
    ASSERT_TRUE(!mmb_counters_available(&plan));
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), "no hardware counters: ");
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), plan.events[bad].cause);
    /* task-clock was asked for; the other fallbacks are added. */
    ASSERT_EQ(plan.count, 4);
    ASSERT_TRUE(!plan.events[0].fallback && plan.events[2].fallback && plan.events[3].fallback);
    mmb_counters_thread *t = open_here(&plan);
    spin_ns(MS);
    mmb_counter_totals tot;
    mmb_counters_thread_totals(t, &tot);
    mmb_counters_thread_close(t);
    json_t *values = mmb_counters_values_json(&plan, &tot);
    json_t *mutator = json_object_get(values, "mutator");
    ASSERT_TRUE(json_object_get(mutator, "nosuchpmu::NO_SUCH_EVENT") == NULL);
    ASSERT_TRUE(json_integer_value(json_object_get(mutator, "task-clock")) > 0);
    json_decref(values);

    /* No backend at all: nothing counted, said so, and nothing in the values. */
    plan = probed("default,task-clock,cpu-migrations", 0);
    ASSERT_TRUE(!mmb_counters_available(&plan));
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), "no hardware counters: PAPI not used");
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), "; nothing can be counted");
    for (int i = 0; i < plan.count; i++)
        ASSERT_EQ(plan.events[i].backend, MMB_BACKEND_UNAVAILABLE);
    json_t *ctx = mmb_counters_context_json(&plan);
    ASSERT_TRUE(json_is_false(json_object_get(ctx, "available")));
    ASSERT_EQ(json_object_size(json_object_get(ctx, "source")), 0);
    ASSERT_EQ(json_object_size(json_object_get(ctx, "unavailable")), plan.count);
    json_decref(ctx);
    t = open_here(&plan);
    mmb_counters_thread_totals(t, &tot);
    mmb_counters_thread_close(t);
    values = mmb_counters_values_json(&plan, &tot);
    ASSERT_EQ(json_object_size(json_object_get(values, "collector")), 0);
    json_decref(values);
}
