/* Counters (harness/counters.h): parsing, the probe on this machine (which may or may not have a
 * PMU: each test checks whichever it found, never nothing), counting by software events, phase
 * attribution, the JSON, and events that cannot be counted. Busy loops spin on the thread's CPU
 * clock, so a loaded machine makes them longer in wall time but not in CPU time. perf's task-clock
 * can read up to about 10% below that clock on a loaded VM, so time is checked to within 20%. */
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

/* Whatever this machine has, the probe says so: hardware events counted, or unavailable with a
 * reason naming PAPI and software events counted instead. */
TEST(counters_probe_reports_this_machine) {
    mmb_counters_plan plan = probed("default", MMB_COUNTERS_USE_ALL);
    ASSERT_TRUE(plan.probed);
    int cycles = find(&plan, "cycles");
    bool pmu = plan.events[cycles].backend != MMB_BACKEND_UNAVAILABLE;
    for (int i = 0; i < 5; i++) {
        const mmb_counter_event *e = &plan.events[i];
        if (e->backend == MMB_BACKEND_UNAVAILABLE) {
            ASSERT_TRUE(e->why[0] != '\0');
            ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), e->why);
        } else {
            ASSERT_TRUE(e->backend == MMB_BACKEND_PAPI || e->backend == MMB_BACKEND_PERF);
            ASSERT_TRUE(e->source[0] != '\0');
        }
    }
    if (!pmu) {
        /* No PMU (this project's VM): nothing hardware, PAPI's reason, software instead. */
        ASSERT_TRUE(!mmb_counters_available(&plan));
        ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), "no hardware counters: ");
        ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), "PAPI");
        ASSERT_STR_CONTAINS(mmb_counters_reason(&plan),
                            "; counting software events only: task-clock, page-faults, "
                            "context-switches");
        ASSERT_EQ(plan.count, 8);
        for (int i = 5; i < 8; i++) {
            ASSERT_TRUE(plan.events[i].fallback);
            ASSERT_TRUE(plan.events[i].backend != MMB_BACKEND_UNAVAILABLE);
        }
        ASSERT_EQ(find(&plan, "context-switches"), 7);
        ASSERT_EQ(plan.events[7].backend, MMB_BACKEND_RUSAGE);
    } else {
        /* A PMU: cycles and instructions move over 20 ms of CPU time (at least 10 MHz). */
        mmb_counters_thread *t = open_here(&plan);
        uint64_t a[MMB_COUNTERS_MAX], b[MMB_COUNTERS_MAX];
        ASSERT_EQ(mmb_counters_thread_read(t, a), 0);
        spin_ns(20 * MS);
        ASSERT_EQ(mmb_counters_thread_read(t, b), 0);
        fprintf(stderr, "cycles %" PRIu64 "\n", b[cycles] - a[cycles]);
        ASSERT_TRUE(b[cycles] - a[cycles] > 200000);
        int ins = find(&plan, "instructions");
        if (plan.events[ins].backend != MMB_BACKEND_UNAVAILABLE)
            ASSERT_TRUE(b[ins] - a[ins] > 200000);
        mmb_counters_thread_close(t);
        if (!mmb_counters_available(&plan))
            ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), " unavailable: ");
    }
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
        ASSERT_TRUE(ns >= 16 * MS);
        ASSERT_TRUE(ns < 40 * MS);
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
    ASSERT_TRUE(collector >= 32 * MS && collector < 60 * MS);
    ASSERT_TRUE(cascade >= 8 * MS && cascade < 20 * MS);
    ASSERT_TRUE(mutator >= 8 * MS && mutator < 20 * MS);
    ASSERT_EQ(mutator + cascade + collector, tot.whole[0]);
    ASSERT_TRUE(tot.whole[0] >= cpu * 8 / 10 && tot.whole[0] <= cpu + 5 * MS);
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
TEST(counters_threads_count_separately) {
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
    ASSERT_TRUE(w.totals.phase[MMB_PHASE_COLLECTOR][tc] >= 12 * MS);
    ASSERT_TRUE(w.totals.phase[MMB_PHASE_MUTATOR][tc] < 5 * MS);
    ASSERT_TRUE(mine.phase[MMB_PHASE_MUTATOR][tc] >= 20 * MS);
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
        _exit(ns >= 16 * MS ? 0 : 4);
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
    ASSERT_STR_CONTAINS(mmb_counters_reason(&plan), plan.events[bad].why);
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
