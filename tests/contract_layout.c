/* The contract facts every registered workload and manager must keep (workload.h, manager.h):
 * a workload's family is one of mmb_families, a threaded workload declares MMB_PARAM_THREADS,
 * every event kind below MMB_EVENT_KIND_COUNT has a name. Each checker is shown failing too. */
#include <stdbool.h>

#include "report_model.h"
#include "test.h"
#include "workload.h"

static bool known_family(const char *family) {
    for (size_t i = 0; family && mmb_families[i]; i++)
        if (strcmp(mmb_families[i], family) == 0)
            return true;
    return false;
}

/* The workload's integer MMB_PARAM_THREADS parameter, or NULL when it has none. */
static const mmb_param_spec *threads_param(const mmb_workload *w) {
    for (size_t i = 0; w->params && w->params[i].name; i++)
        if (strcmp(w->params[i].name, MMB_PARAM_THREADS) == 0 && w->params[i].integer)
            return &w->params[i];
    return NULL;
}

/* NULL when w keeps the contract's facts, else what it breaks. */
static const char *workload_breaks_contract(const mmb_workload *w) {
    if (!known_family(w->family))
        return "family is not one of mmb_families";
    if (strcmp(w->family, "threaded") == 0 && !threads_param(w))
        return "threaded, without an integer " MMB_PARAM_THREADS " parameter";
    return NULL;
}

TEST(contract_workload_families_and_threads) {
    ASSERT_TRUE(mmb_workload_count() > 0);
    for (size_t i = 0; i < mmb_workload_count(); i++) {
        const mmb_workload *w = mmb_workload_at(i);
        const char *broken = workload_breaks_contract(w);
        if (broken)
            fprintf(stderr, "workload '%s': %s\n", w->name, broken);
        ASSERT_TRUE(broken == NULL);
    }
}

/* mmb_families is what tables show: every family is used by some registered workload, once in
 * the list, and the list ends with NULL. */
TEST(contract_families_all_used) {
    for (size_t f = 0; mmb_families[f]; f++) {
        bool used = false;
        for (size_t i = 0; i < mmb_workload_count(); i++)
            used = used || strcmp(mmb_workload_at(i)->family, mmb_families[f]) == 0;
        if (!used)
            fprintf(stderr, "family '%s' has no workload\n", mmb_families[f]);
        ASSERT_TRUE(used);
        for (size_t g = 0; g < f; g++)
            ASSERT_TRUE(strcmp(mmb_families[g], mmb_families[f]) != 0);
    }
}

/* The checker on deliberately broken workloads: an unknown family, a threaded one without the
 * parameter, one whose thread count is not an integer. */
TEST(contract_workload_checker_catches_breakage) {
    static const mmb_param_spec real_threads[] = {
        {MMB_PARAM_THREADS, false, {2, 2, 2, 2}, 1, 256, "worker threads"},
        {NULL, false, {0, 0, 0, 0}, 0, 0, NULL},
    };
    static const mmb_param_spec other[] = {
        {"workers", true, {2, 2, 2, 2}, 1, 256, "worker threads"},
        {NULL, false, {0, 0, 0, 0}, 0, 0, NULL},
    };
    mmb_workload w = *mmb_workload_at(0);
    w.family = "many-smal";
    ASSERT_STR_CONTAINS(workload_breaks_contract(&w), "mmb_families");
    w.family = NULL;
    ASSERT_STR_CONTAINS(workload_breaks_contract(&w), "mmb_families");
    w.family = "threaded";
    w.params = NULL;
    ASSERT_STR_CONTAINS(workload_breaks_contract(&w), MMB_PARAM_THREADS);
    w.params = other;
    ASSERT_STR_CONTAINS(workload_breaks_contract(&w), MMB_PARAM_THREADS);
    w.params = real_threads;
    ASSERT_STR_CONTAINS(workload_breaks_contract(&w), "integer");
    w.family = "cycle-heavy";
    ASSERT_TRUE(workload_breaks_contract(&w) == NULL);
}

/* Every kind the contract counts has a name; one past the count does not. */
TEST(contract_event_kinds_named) {
    for (int k = 0; k < MMB_EVENT_KIND_COUNT; k++)
        ASSERT_TRUE(strcmp(mmb_event_kind_name((mmb_event_kind)k), "unknown") != 0);
    ASSERT_STR_EQ(mmb_event_kind_name((mmb_event_kind)MMB_EVENT_KIND_COUNT), "unknown");
    ASSERT_STR_EQ(mmb_event_kind_name(MMB_EVENT_CASCADE), "cascade");
}

/* analyze/ reads results JSON only, so report keeps the pause kinds as the JSON names them
 * (report_model.h); this is where the two must agree: a new event kind in the contract fails here
 * until report knows it too. */

TEST(contract_report_knows_every_event_kind) {
    ASSERT_EQ(MMB_REPORT_KINDS, MMB_EVENT_KIND_COUNT);
    for (int k = 0; k < MMB_EVENT_KIND_COUNT; k++)
        ASSERT_STR_EQ(mmb_report_kinds[k], mmb_event_kind_name((mmb_event_kind)k));
}
