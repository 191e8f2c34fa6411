/* The Mann-Whitney U test of `mmbench compare` (compare.h) against cases worked out by hand, a
 * textbook example, and a brute-force enumeration of every way to split the pooled values. */
#include <math.h>

#include "compare.h"
#include "test.h"

#define ASSERT_NEAR(a, b, tol)                                                                     \
    do {                                                                                           \
        double va_ = (a), vb_ = (b);                                                               \
        if (!(fabs(va_ - vb_) <= (tol))) {                                                         \
            fprintf(stderr, "%s:%d: assertion failed: %s ~ %s (%.17g != %.17g)\n", __FILE__,       \
                    __LINE__, #a, #b, va_, vb_);                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static mmb_utest_result utest(const double *a, size_t na, const double *b, size_t nb,
                              mmb_utest_method m) {
    mmb_utest_result r;
    ASSERT_EQ(mmb_utest(a, na, b, nb, m, &r), 0);
    return r;
}

/* Fully separated 3 vs 3: one of the C(6,3) = 20 splits is as extreme on each side: p = 2/20. The
 * smallest p 3 repetitions a side can give, which is why the gate needs more. */
TEST(utest_exact_separated_3x3) {
    const double a[] = {1, 2, 3}, b[] = {4, 5, 6};
    mmb_utest_result r = utest(a, 3, b, 3, MMB_UTEST_AUTO);
    ASSERT_TRUE(r.exact);
    ASSERT_NEAR(r.u, 0, 0);
    ASSERT_NEAR(r.p, 0.1, 1e-15);
    r = utest(b, 3, a, 3, MMB_UTEST_AUTO);
    ASSERT_NEAR(r.u, 9, 0);
    ASSERT_NEAR(r.p, 0.1, 1e-15);
}

/* Fully separated 9 vs 9 (the recommended repetitions): p = 2 / C(18,9) = 2/48620. */
TEST(utest_exact_separated_9x9) {
    double a[9], b[9];
    for (int i = 0; i < 9; i++) {
        a[i] = 100 + i;
        b[i] = 150 + 2 * i;
    }
    mmb_utest_result r = utest(a, 9, b, 9, MMB_UTEST_AUTO);
    ASSERT_TRUE(r.exact);
    ASSERT_NEAR(r.p, 2.0 / 48620, 1e-15);
}

/* scipy.stats.mannwhitneyu's documented example (males vs females, Conover's textbook): U = 17;
 * exact p = 14/126 = 0.1111; asymptotic: mean 10, sd sqrt(5*4*10/12) = 4.0825, z = (17 - 10 -
 * 0.5)/4.0825 = 1.5922, p = 2(1 - Phi(z)) = 0.11135. */
TEST(utest_textbook_example) {
    const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    mmb_utest_result r = utest(males, 5, females, 4, MMB_UTEST_AUTO);
    ASSERT_TRUE(r.exact);
    ASSERT_NEAR(r.u, 17, 0);
    ASSERT_NEAR(r.p, 14.0 / 126, 1e-15);
    r = utest(males, 5, females, 4, MMB_UTEST_NORMAL);
    ASSERT_TRUE(!r.exact);
    ASSERT_NEAR(r.p, 0.11134688653314041, 1e-12);
}

/* Ties, by hand. {1,2} vs {2,3}: ranks 1, 2.5 | 2.5, 4; U = 0.5; the 6 splits' rank sums are
 * 3.5 3.5 5 5 6.5 6.5, so P(W <= 3.5) = 2/6 and p = 2/3.
 * {1,2,2} vs {2,3,4}: ranks 1, 3, 3 | 3, 5, 6; W = 7 is the least sum, reached by 3 of the 20
 * splits: p = 2 * 3/20 = 0.3. Normal: U = max(1, 8) = 8, mean 4.5, tie term 3^3 - 3 = 24,
 * variance 9/12 (7 - 24/30) = 4.65, z = 3/sqrt(4.65) = 1.39122, p = erfc(z/sqrt 2) = 0.164160. */
TEST(utest_ties_by_hand) {
    const double a1[] = {1, 2}, b1[] = {2, 3};
    mmb_utest_result r = utest(a1, 2, b1, 2, MMB_UTEST_AUTO);
    ASSERT_NEAR(r.u, 0.5, 0);
    ASSERT_NEAR(r.p, 2.0 / 3, 1e-15);
    const double a2[] = {1, 2, 2}, b2[] = {2, 3, 4};
    r = utest(a2, 3, b2, 3, MMB_UTEST_EXACT);
    ASSERT_NEAR(r.u, 1, 0);
    ASSERT_NEAR(r.p, 0.3, 1e-15);
    r = utest(a2, 3, b2, 3, MMB_UTEST_NORMAL);
    ASSERT_NEAR(r.p, erfc(3 / sqrt(4.65) / sqrt(2)), 1e-15);
    ASSERT_NEAR(r.p, 0.16416, 1e-5);
}

/* Identical samples, or all values equal: no evidence of a difference. */
TEST(utest_no_difference) {
    const double a[] = {5, 5, 5, 5}, b[] = {5, 5, 5};
    ASSERT_NEAR(utest(a, 4, b, 3, MMB_UTEST_EXACT).p, 1, 0);
    ASSERT_NEAR(utest(a, 4, b, 3, MMB_UTEST_NORMAL).p, 1, 0);
    const double c[] = {3, 1, 2, 5, 4};
    ASSERT_NEAR(utest(c, 5, c, 5, MMB_UTEST_EXACT).p, 1, 0);
    ASSERT_NEAR(utest(c, 5, c, 5, MMB_UTEST_NORMAL).p, 1, 0);
}

/* Exact up to 20 values a side, the normal approximation beyond; empty samples are refused. */
TEST(utest_method_choice) {
    double a[21], b[21];
    for (int i = 0; i < 21; i++) {
        a[i] = i;
        b[i] = i + 0.5;
    }
    ASSERT_TRUE(utest(a, 20, b, 20, MMB_UTEST_AUTO).exact);
    ASSERT_TRUE(!utest(a, 21, b, 20, MMB_UTEST_AUTO).exact);
    /* Past 20 a side the two agree closely (the reason for the switch): b shifted by 3.5, p is
     * 0.0921 exact, 0.0919 normal. */
    for (int i = 0; i < 21; i++)
        b[i] = i + 3.5;
    ASSERT_NEAR(utest(a, 21, b, 21, MMB_UTEST_EXACT).p, 0.09209736115718609, 1e-12);
    ASSERT_NEAR(utest(a, 21, b, 21, MMB_UTEST_NORMAL).p, 0.09190475432879931, 1e-12);
    mmb_utest_result r;
    ASSERT_EQ(mmb_utest(a, 0, b, 3, MMB_UTEST_AUTO, &r), -1);
    ASSERT_EQ(mmb_utest(a, 3, b, 0, MMB_UTEST_AUTO, &r), -1);
}

/* The exact p-value against an independent count: every subset of the pooled values taken as
 * the first sample, its rank sum compared with the observed one. Small integer values, so ties
 * are frequent. */
static double brute_force_p(const double *a, size_t na, const double *b, size_t nb) {
    size_t n = na + nb;
    double v[16], rank[16];
    for (size_t i = 0; i < n; i++)
        v[i] = i < na ? a[i] : b[i - na];
    for (size_t i = 0; i < n; i++) {
        double below = 0, equal = 0;
        for (size_t j = 0; j < n; j++) {
            below += v[j] < v[i];
            equal += v[j] == v[i];
        }
        rank[i] = below + (equal + 1) / 2;
    }
    double w = 0;
    for (size_t i = 0; i < na; i++)
        w += rank[i];
    double lo = 0, hi = 0, total = 0;
    for (unsigned mask = 0; mask < 1u << n; mask++) {
        if ((size_t)__builtin_popcount(mask) != na)
            continue;
        double s = 0;
        for (size_t i = 0; i < n; i++)
            if (mask & 1u << i)
                s += rank[i];
        total++;
        lo += s <= w + 1e-9;
        hi += s >= w - 1e-9;
    }
    double p = 2 * fmin(lo, hi) / total;
    return p < 1 ? p : 1;
}

TEST(utest_exact_matches_brute_force) {
    uint64_t x = 12345;
    for (int round = 0; round < 300; round++) {
        double a[8], b[8];
        x = x * 6364136223846793005u + 1442695040888963407u;
        size_t na = 1 + (x >> 33) % 7, nb = 1 + (x >> 45) % 7;
        for (size_t i = 0; i < na + nb; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            double v = (double)((x >> 40) % 5);
            if (i < na)
                a[i] = v;
            else
                b[i - na] = v + (round % 3 == 0); /* a shift now and then */
        }
        mmb_utest_result r = utest(a, na, b, nb, MMB_UTEST_EXACT);
        ASSERT_NEAR(r.p, brute_force_p(a, na, b, nb), 1e-12);
        /* Swapping the samples mirrors U and keeps p. */
        mmb_utest_result s = utest(b, nb, a, na, MMB_UTEST_EXACT);
        ASSERT_NEAR(s.u, (double)(na * nb) - r.u, 1e-12);
        ASSERT_NEAR(s.p, r.p, 1e-12);
    }
}
