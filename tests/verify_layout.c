/* The verify layer's shape (issue 10): replay's pauses are the recorder's, reported with run's
 * percentiles; mmb_stats reach JSON through one table of keys. */
#include "diag.h"
#include "heap_stats.h"
#include "pauses.h"
#include "recorder.h"
#include "test.h"
#include "verify_commands.h"

#include <jansson.h>
#include <unistd.h>

/* Runs `mmbench replay ARGS... TRACE` in-process on a trace of `text`, its stdout parsed. */
static json_t *replay(const char *text, const char *manager) {
    char trace[] = "/tmp/mmb-verify-trace-XXXXXX", out[] = "/tmp/mmb-verify-out-XXXXXX";
    int tfd = mkstemp(trace), ofd = mkstemp(out);
    ASSERT_TRUE(tfd >= 0 && ofd >= 0);
    ASSERT_EQ(write(tfd, text, strlen(text)), (long long)strlen(text));
    close(tfd);
    char *argv[] = {"replay", "--manager", (char *)manager, trace, NULL};
    fflush(stdout);
    int saved = dup(1);
    dup2(ofd, 1);
    int status = mmb_replay_main(4, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(ofd);
    ASSERT_EQ(status, EXIT_OK);
    json_error_t err;
    json_t *o = json_loads(mmb_test_slurp(out), 0, &err);
    unlink(trace);
    unlink(out);
    if (!o)
        fprintf(stderr, "replay's output is not JSON: %s\n", err.text);
    ASSERT_TRUE(json_is_object(o));
    return o;
}

/* 40 self-cycles, each dropped and collected: 41 full collections with the final one. */
static const char *collecting_trace(void) {
    static char text[4096];
    size_t len = 0;
    for (int i = 1; i <= 40; i++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "new %d 1 0\nset %d 0 %d\ndrop %d\ncollect\n", i, i, i, i);
    return text;
}

/* A wrapper of cpython that gives its i-th event a duration of i microseconds, and records what
 * it reports in a recorder of the test's own. */
static const mmb_manager *inner;
static mmb_event_fn inner_fn;
static void *inner_ctx;
static mmb_recorder *mine;
static uint64_t nevents;

static void timed_event(void *ctx, const mmb_event *ev) {
    (void)ctx;
    mmb_event e = *ev;
    e.end_ns = e.start_ns + 1000 * ++nevents;
    mmb_recorder_on_event(mine, &e);
    inner_fn(inner_ctx, &e);
}

static int timed_create(const mmb_heap_config *config, mmb_heap **out, char *err, size_t n) {
    mmb_heap_config c = *config;
    inner_fn = c.on_event;
    inner_ctx = c.event_ctx;
    ASSERT_TRUE(inner_fn != NULL);
    c.on_event = timed_event;
    c.event_ctx = NULL;
    return inner->create(&c, out, err, n);
}

static double number(json_t *o, const char *kind, const char *key) {
    json_t *v = json_object_get(json_object_get(json_object_get(o, "pauses"), kind), key);
    if (!json_is_number(v))
        fprintf(stderr, "pauses.%s.%s is not a number\n", kind, key);
    ASSERT_TRUE(json_is_number(v));
    return json_number_value(v);
}

TEST(replay_pauses_are_the_recorders) {
    static mmb_manager timed;
    inner = mmb_manager_find("cpython");
    ASSERT_TRUE(inner != NULL);
    timed = *inner;
    timed.name = "timed-cpython";
    timed.create = timed_create;
    ASSERT_EQ(mmb_manager_register(&timed), 0);
    mine = mmb_recorder_new();
    ASSERT_TRUE(mine != NULL);
    mmb_recorder_start(mine, 0);
    json_t *o = replay(collecting_trace(), "timed-cpython");
    ASSERT_EQ(mine->pauses[MMB_EVENT_FULL].count, 41);
    mmb_pause_stats ps;
    mmb_pause_stats_compute(mine, 1000000000, &ps);
    for (int k = 0; k < MMB_EVENT_KIND_COUNT; k++) {
        const char *kind = mmb_event_kind_name((mmb_event_kind)k);
        const mmb_hist *h = &mine->pauses[k];
        ASSERT_EQ(number(o, kind, "count"), h->count);
        ASSERT_TRUE(number(o, kind, "p99_ns") == mmb_hist_percentile(h, 99));
        ASSERT_TRUE(number(o, kind, "p50_ns") == mmb_hist_percentile(h, 50));
        ASSERT_EQ(number(o, kind, "max_ns"), h->count ? h->max : 0);
    }
    ASSERT_TRUE(number(o, "all", "p99_ns") == mmb_hist_percentile(&ps.all, 99));
    ASSERT_EQ(number(o, "all", "max_ns"), ps.all.max);
    ASSERT_EQ(number(o, "all", "max_ns"), 1000 * nevents); /* the last event was the longest */
    ASSERT_TRUE(number(o, "full", "p99_ns") > number(o, "full", "p50_ns"));
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(o, "pauses"), "longest_kind")),
                  "full");
    json_decref(o);
    mmb_recorder_free(mine);
}

/* What run reports of pauses, replay now reports too: each kind with its percentiles and the old
 * count/total_ns/max_ns, collections and all, the longest kind, and MMU per window. */
TEST(replay_reports_pause_percentiles) {
    json_t *o = replay(collecting_trace(), "cpython");
    static const char *const keys[] = {"count",    "mean_ns",  "p50_ns", "p90_ns", "p99_ns",
                                       "p99_9_ns", "total_ns", "max_ns", "min_ns"};
    static const char *const kinds[] = {"full", "young", "cascade", "collections", "all"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            (void)number(o, kinds[k], keys[i]);
    ASSERT_EQ(number(o, "full", "count"), 41);
    ASSERT_EQ(number(o, "all", "count"), 41);
    ASSERT_TRUE(number(o, "full", "p99_ns") > 0);
    ASSERT_TRUE(number(o, "full", "p99_ns") <= number(o, "full", "max_ns"));
    ASSERT_EQ(json_array_size(json_object_get(o, "mmu")), MMB_MMU_WINDOWS);
    ASSERT_EQ(json_integer_value(json_object_get(o, "collections")), 41);
    json_decref(o);
}

static char *dump(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* One table, three key sets: replay's line, run's "deterministic" object, run's counters. */
TEST(heap_stats_keys_from_one_table) {
    mmb_stats at_end = {.objects_allocated = 1,
                        .objects_freed = 2,
                        .objects_freed_by_rc = 3,
                        .objects_freed_by_gc = 4,
                        .live_objects = 5,
                        .live_bytes = 6,
                        .header_bytes = 7,
                        .collections_full = 8,
                        .collections_young = 9,
                        .cascades_reported = 10,
                        .increments = 11,
                        .decrements = 12,
                        .objects_traversed = 13};
    mmb_stats after = at_end;
    after.live_objects = 50;
    json_t *o = json_object();
    mmb_stats_json_set(o, MMB_STATS_KEYS_REPLAY, &after, &after);
    char *s = dump(o);
    ASSERT_STR_EQ(s, "{\"objects_allocated\":1,\"objects_freed\":2,\"objects_freed_by_rc\":3,"
                     "\"objects_freed_by_gc\":4,\"live_objects\":50,\"collections\":17,"
                     "\"collections_full\":8,\"collections_young\":9,\"increments\":11,"
                     "\"decrements\":12,\"objects_traversed\":13,\"header_bytes\":7}");
    free(s);
    o = json_object();
    mmb_stats_json_set(o, MMB_STATS_KEYS_RUN, &at_end, &after);
    s = dump(o);
    ASSERT_STR_EQ(s, "{\"objects_allocated\":1,\"objects_freed\":2,\"objects_freed_by_rc\":3,"
                     "\"objects_freed_by_gc\":4,\"live_objects_at_end\":5,"
                     "\"live_objects_after_final_collection\":50,\"collections_full\":8,"
                     "\"collections_young\":9,\"increments\":11,\"decrements\":12,"
                     "\"objects_traversed\":13,\"header_bytes\":7}");
    free(s);
    o = json_object();
    mmb_stats_json_set(o, MMB_STATS_KEYS_COUNTER, &at_end, NULL);
    s = dump(o);
    ASSERT_STR_EQ(s, "{\"objects_allocated\":1,\"freed_by_rc\":3,\"freed_by_gc\":4,"
                     "\"collections_full\":8,\"collections_young\":9,\"increments\":11,"
                     "\"decrements\":12,\"objects_traversed\":13,\"header_bytes\":7}");
    free(s);
}
