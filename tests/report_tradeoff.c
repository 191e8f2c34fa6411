/* The pause-versus-memory trade-off of `mmbench report` (harness/analyze/report_tradeoff.c): the
 * Pareto front on known points, and a cell's numbers read from repetitions, malformed ones
 * included. The CLI side (tables and figures) is tests/report_tradeoff_test.sh. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>

#include "report_tradeoff.h"
#include "test.h"

/* The front of n points as a string of 0/1, one per point, and its count checked against it. */
static const char *front_of(const double *x, const double *y, int n) {
    static char buf[64];
    bool front[32];
    int count = mmb_pareto_front(x, y, n, front), ones = 0;
    for (int i = 0; i < n; i++) {
        buf[i] = front[i] ? '1' : '0';
        ones += front[i];
    }
    buf[n] = '\0';
    ASSERT_EQ(count, ones);
    return buf;
}

TEST(report_pareto_exact_front) {
    /* A staircase of four (0, 2, 4, 6) and three points behind it: 1 behind 0 on both axes, 3
     * behind 2 on both, 5 behind 4 on one axis and level on the other. */
    static const double x[] = {1, 4, 2, 5, 3, 3.5, 6};
    static const double y[] = {9, 10, 5, 6, 3, 3, 1};
    ASSERT_STR_EQ(front_of(x, y, 7), "1010101");
}

TEST(report_pareto_ties) {
    /* Equal points are all on the front; a point level with a front point on one axis and worse
     * on the other is not. */
    static const double x[] = {2, 2, 2, 1, 3};
    static const double y[] = {5, 5, 6, 8, 5};
    ASSERT_STR_EQ(front_of(x, y, 5), "11010");
    /* Every point equal: all on the front. */
    static const double same[] = {7, 7, 7};
    ASSERT_STR_EQ(front_of(same, same, 3), "111");
}

TEST(report_pareto_single_point_and_none) {
    static const double x[] = {42}, y[] = {0};
    ASSERT_STR_EQ(front_of(x, y, 1), "1");
    bool front[1] = {true};
    ASSERT_EQ(mmb_pareto_front(x, y, 0, front), 0);
}

TEST(report_pareto_one_axis_only) {
    /* Better on one axis, worse on the other: neither beats the other. Zero is a value (a manager
     * that did not pause), and it beats a larger one. */
    static const double x[] = {10, 20, 20};
    static const double y[] = {100, 0, 50};
    ASSERT_STR_EQ(front_of(x, y, 3), "110");
}

TEST(report_pareto_rejects_invalid) {
    /* NaN, infinite and negative values are on no front, and beat nothing: without them, the
     * point (5, 5) is alone and on the front. A broken front would let -1 or -inf beat it. */
    double x[] = {NAN, 5, -1, INFINITY, 1, -INFINITY};
    double y[] = {1, 5, 1, 1, NAN, 1};
    ASSERT_STR_EQ(front_of(x, y, 6), "010000");
    /* All invalid: nothing on the front. */
    double bad[] = {NAN, -3};
    ASSERT_STR_EQ(front_of(bad, bad, 2), "00");
}

static json_t *entries_of(const char *text) {
    json_error_t err;
    json_t *e = json_loads(text, 0, &err);
    if (!e)
        fprintf(stderr, "test JSON: %s at %d:%d\n", err.text, err.line, err.column);
    ASSERT_TRUE(e != NULL);
    return e;
}

TEST(report_tradeoff_reads_medians_and_the_median_series) {
    /* Three repetitions: steady max pauses 3, 1 (under pauses.phases only: no counter) and 100
     * ms give the median 3 ms, not the mean; garbage peaks 900, 100, 500 pick the series of the
     * one with 500. */
    json_t *entries = entries_of(
        "[{\"steady_pause_max_ns\":3e6,\"steady_pause_p99_ns\":1e6,\"garbage_peak_bytes\":900,"
        "  \"mmbench\":{\"garbage\":{\"available\":true,\"peak_bytes\":900,"
        "    \"series\":[[0,1,10,1,9],[1,1,10,1,900]]}}},"
        " {\"mmbench\":{\"pauses\":{\"phases\":{\"steady\":{\"max_ns\":1e6,\"p99_ns\":5e5}}},"
        "    \"garbage\":{\"available\":true,\"peak_bytes\":100,"
        "    \"series\":[[0,1,10,1,5],[1,1,10,1,100]]}}},"
        " {\"steady_pause_max_ns\":1e8,\"steady_pause_p99_ns\":2e6,\"garbage_peak_bytes\":500,"
        "  \"mmbench\":{\"garbage\":{\"available\":true,\"peak_bytes\":500,"
        "    \"series\":[[0,1,10,1,7],[1,1,20,1,250],[2,1,30,1,500]]}}}]");
    mmb_report_tradeoff *t = mmb_report_tradeoff_read(entries);
    ASSERT_EQ(t->steady_max_ns, 3e6);
    ASSERT_EQ(t->steady_p99_ns, 1e6);
    ASSERT_EQ(t->garbage_peak_bytes, 500);
    ASSERT_EQ(t->npoints, 3);
    ASSERT_EQ(t->t_ms[2], 2);
    ASSERT_EQ(t->live_bytes[2], 30);
    ASSERT_EQ(t->garbage_bytes[1], 250);
    mmb_report_tradeoff_free(t);
    json_decref(entries);
}

TEST(report_tradeoff_reads_malformed_input_as_absent) {
    /* Negative, string and huge values; a sampler that says unavailable (its numbers are not
     * read); a series that is not an array, and one whose points are short, negative, not numbers
     * or going back in time (only the two good points remain, in order). */
    json_t *entries = entries_of(
        "[{\"steady_pause_max_ns\":-5,\"steady_pause_p99_ns\":\"fast\",\"garbage_peak_bytes\":"
        "1e300,"
        "  \"mmbench\":{\"pauses\":{\"phases\":\"steady\"},"
        "    \"garbage\":{\"available\":false,\"reason\":\"threads\",\"peak_bytes\":7,"
        "    \"series\":[[0,1,10,1,9],[1,1,10,1,9]]}}},"
        " {\"mmbench\":{\"garbage\":{\"available\":true,\"series\":{\"t\":1}}}},"
        " {\"mmbench\":{\"garbage\":{\"available\":true,\"peak_bytes\":-1,"
        "    \"series\":[[1,1,10,1,9],[0,1],[2,1,-10,1,9],[3,1,10,\"x\",9],[0.5,1,10,1,9],"
        "               [4,1,11,1,8],[5,1,12,1,7,99]]}}},"
        " {\"error_occurred\":true,\"steady_pause_max_ns\":1e3}]");
    mmb_report_tradeoff *t = mmb_report_tradeoff_read(entries);
    ASSERT_TRUE(isnan(t->steady_max_ns));
    ASSERT_TRUE(isnan(t->steady_p99_ns));
    ASSERT_TRUE(isnan(t->garbage_peak_bytes));
    ASSERT_EQ(t->npoints, 2);
    ASSERT_EQ(t->t_ms[0], 1);
    ASSERT_EQ(t->t_ms[1], 4);
    ASSERT_EQ(t->garbage_bytes[1], 8);
    mmb_report_tradeoff_free(t);
    json_decref(entries);

    /* Not an array at all, and an empty one: nothing, and no crash. */
    json_t *odd = json_string("entries");
    t = mmb_report_tradeoff_read(odd);
    ASSERT_TRUE(isnan(t->steady_max_ns));
    ASSERT_EQ(t->npoints, 0);
    mmb_report_tradeoff_free(t);
    json_decref(odd);
    json_t *none = json_array();
    t = mmb_report_tradeoff_read(none);
    ASSERT_TRUE(isnan(t->garbage_peak_bytes));
    ASSERT_EQ(t->npoints, 0);
    mmb_report_tradeoff_free(t);
    json_decref(none);
    mmb_report_tradeoff_free(NULL);
}

TEST(report_tradeoff_series_is_decimated) {
    /* 2500 points are kept as at most MMB_TRADEOFF_SERIES_MAX, in time order, the first kept. */
    json_t *series = json_array();
    for (int i = 0; i < 2500; i++)
        json_array_append_new(series, json_pack("[iiiii]", i, 1, 100 + i, 1, i));
    json_t *entries =
        json_pack("[{s:{s:{s:b,s:o}}}]", "mmbench", "garbage", "available", 1, "series", series);
    ASSERT_TRUE(entries != NULL);
    mmb_report_tradeoff *t = mmb_report_tradeoff_read(entries);
    ASSERT_TRUE(t->npoints > 2 && t->npoints <= MMB_TRADEOFF_SERIES_MAX);
    ASSERT_EQ(t->t_ms[0], 0);
    for (int i = 1; i < t->npoints; i++)
        ASSERT_TRUE(t->t_ms[i] > t->t_ms[i - 1]);
    ASSERT_EQ(t->npoints, 834); /* every third point: 0, 3, ..., 2499 */
    mmb_report_tradeoff_free(t);
    json_decref(entries);
}

TEST(report_tradeoff_reads_counters_where_report_does) {
    /* A counter under mmbench.deterministic (older results) is read; the counter wins over the
     * sampler's own number when both are there. */
    json_t *entries = entries_of(
        "[{\"mmbench\":{\"deterministic\":{\"garbage_peak_bytes\":64,\"steady_pause_max_ns\":9},"
        "  \"garbage\":{\"available\":true,\"peak_bytes\":128}}},"
        " {\"garbage_peak_bytes\":32,\"mmbench\":{\"garbage\":{\"available\":true,"
        "  \"peak_bytes\":4096}}}]");
    mmb_report_tradeoff *t = mmb_report_tradeoff_read(entries);
    ASSERT_EQ(t->garbage_peak_bytes, 48); /* the median of 64 and 32 */
    ASSERT_EQ(t->steady_max_ns, 9);
    mmb_report_tradeoff_free(t);
    json_decref(entries);
}
