/* Workload tests: each workload's self-check at tiny scale under each manager (a CTest per pair),
 * with the oracle on; the same seed gives the same checksum on every manager. */
#include "corrupt_manager.h"
#include "mmbench/manager.h"
#include "oracle.h"
#include "test.h"
#include "workload.h"

/* Threaded workloads run here with one worker, whatever the manager's caps: the oracle keeps its
 * shadow without locks, and the corrupting manager wraps rc. tests/threaded_workloads.c
 * runs them with several workers behind a lock. Returns the number of overrides written to kv
 * (0 or 1). */
static size_t one_worker(const mmb_workload *w, const char **kv) {
    for (size_t i = 0; w->params && w->params[i].name; i++)
        if (strcmp(w->params[i].name, MMB_PARAM_THREADS) == 0) {
            kv[0] = "threads=1";
            return 1;
        }
    return 0;
}

static const mmb_workload *workload_of_arg(const char *test) {
    const mmb_workload *w = mmb_workload_find(mmb_test_arg ? mmb_test_arg : "");
    if (!w) {
        fprintf(stderr, "usage: mmbench-unit %s WORKLOAD%s\n", test,
                strcmp(test, "workload_tiny_verified") == 0 ? " MANAGER" : "");
        exit(2);
    }
    return w;
}

/* W on M at tiny scale under the oracle, seed 42: the self-check, no violation, nothing left
 * after a full collection where M reclaims cycles, some work done. Returns the checksum. */
static uint64_t tiny_verified(const mmb_workload *w, const mmb_manager *m) {
    mmb_heap_config cfg;
    mmb_config_defaults(m, &cfg);
    mmb_oracle_options opt = {.fill_payload = false};
    mmb_workload_env env = {.seed = 42};
    char err[512];
    const char *kv[1];
    size_t nkv = one_worker(w, kv);
    ASSERT_EQ(mmb_params_parse(w, MMB_SCALE_TINY, kv, nkv, &env, err, sizeof err), 0);
    ASSERT_EQ(mmb_oracle_create(m, &cfg, &opt, &env.heap, err, sizeof err), 0);
    mmb_workload_result r = {0};
    int status = w->run(&env, &r, err, sizeof err);
    if (status != 0)
        fprintf(stderr, "%s on %s: self-check failed: %s\n", w->name, m->name, err);
    ASSERT_EQ(status, 0);
    ASSERT_TRUE(!mmb_oracle_failed(env.heap));
    mmb_collect(env.heap);
    if (mmb_oracle_failed(env.heap))
        fprintf(stderr, "%s on %s: %s\n", w->name, m->name, mmb_oracle_failure(env.heap));
    ASSERT_TRUE(!mmb_oracle_failed(env.heap));
    mmb_stats s;
    mmb_stats_get(env.heap, &s);
    if (m->caps & MMB_CAP_CYCLES)
        ASSERT_EQ(s.live_objects, 0); /* the workload dropped everything it held */
    ASSERT_TRUE(r.work_units > 0);
    char msg[512];
    int closed = mmb_oracle_close(env.heap, msg, sizeof msg);
    if (closed != 0)
        fprintf(stderr, "%s on %s: %s\n", w->name, m->name, msg);
    ASSERT_EQ(closed, 0);
    printf("%s on %-12s ok: %llu %s, checksum %016llx\n", w->name, m->name,
           (unsigned long long)r.work_units, r.unit, (unsigned long long)r.checksum);
    return r.checksum;
}

/* One CTest per workload and manager: verified, and the checksum the first registered manager
 * gets (also verified). */
TEST_EACH(workload_tiny_verified, "workload.{workload}.{manager}", 600, "conformance") {
    const mmb_workload *w = workload_of_arg("workload_tiny_verified");
    const mmb_manager *m = mmb_test_manager(mmb_test_arg2);
    uint64_t checksum = tiny_verified(w, m);
    if (m != mmb_manager_at(0))
        ASSERT_EQ(checksum, tiny_verified(w, mmb_manager_at(0)));
}

/* Every workload's self-check fails on the corrupting manager (corrupt_manager.h) (run with this
 * test's argument: a workload name). */
TEST_EACH(workload_self_check_catches_corruption, "workload.{workload}.catches_corruption", 600,
          "conformance") {
    const mmb_workload *w = workload_of_arg("workload_self_check_catches_corruption");
    mmb_manager broken = mmb_test_corrupt_manager();
    mmb_heap_config cfg;
    mmb_config_defaults(&broken, &cfg);
    mmb_workload_env env = {.seed = 42};
    char err[512] = "";
    const char *kv[1];
    size_t nkv = one_worker(w, kv);
    ASSERT_EQ(mmb_params_parse(w, MMB_SCALE_TINY, kv, nkv, &env, err, sizeof err), 0);
    ASSERT_EQ(mmb_heap_create(&broken, &cfg, &env.heap, err, sizeof err), 0);
    mmb_workload_result r = {0};
    ASSERT_EQ(w->run(&env, &r, err, sizeof err), -1);
    ASSERT_TRUE(strlen(err) > 10);
    printf("%s: self-check caught it: %s\n", w->name, err);
    broken.destroy(env.heap);
}
