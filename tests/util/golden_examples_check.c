/* golden_examples_check.c - checks that ce_spec.golden reproduces the worked-example numbers
 * printed in /work/shared/design/semantics.md (Examples A, B, C, section 6 gradients, section 9
 * rows). The spec prints 10 decimals, so the tolerance is 1e-9 (absolute, or relative above 1).
 * The golden inputs are float32-representable, so the weight 0.2 and the prob targets
 * 0.1/0.2/0.7 are float32(0.2) etc. there, while the spec used float64 0.2: cases that contain
 * them are compared with tolerance 5e-8 instead (the effect is ~6e-9; any formula error, such as
 * dividing by N instead of the weight sum, changes the result by far more).
 *   gcc -std=c11 -o /tmp/gx tests/util/golden_examples_check.c tests/util/golden.c -lm
 *   /tmp/gx tests/golden/ce_spec.golden
 */
#include "golden.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static golden_case *g_cases;
static size_t g_count;
static int g_fail;

static const golden_case *find(const char *name) {
    for (size_t i = 0; i < g_count; i++)
        if (strcmp(g_cases[i].name, name) == 0)
            return &g_cases[i];
    printf("MISSING %s\n", name);
    g_fail = 1;
    return NULL;
}

static double g_tol = 1e-9;

static int close_to(double got, double want) {
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= g_tol * fmax(1.0, fabs(want));
}

/* which: 'o' output, 'g' grad_input */
static void check(const char *name, char which, size_t n, const double *want) {
    const golden_case *c = find(name);
    if (c == NULL)
        return;
    const double *got = which == 'o' ? c->output : c->grad_input;
    size_t have = which == 'o' ? c->output_numel : c->grad_input_numel;
    if (have < n) {
        printf("FAIL %s: %zu values, want %zu\n", name, have, n);
        g_fail = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!close_to(got[i], want[i])) {
            printf("FAIL %s %s[%zu]: got %.12g want %.12g\n", name,
                   which == 'o' ? "output" : "grad_input", i, got[i], want[i]);
            g_fail = 1;
        }
    }
}

#define CHK(name, which, ...)                                                                      \
    do {                                                                                           \
        static const double w_[] = {__VA_ARGS__};                                                  \
        check(name, which, sizeof w_ / sizeof w_[0], w_);                                          \
    } while (0)

int main(int argc, char **argv) {
    char msg[512];
    if (argc != 2) {
        fprintf(stderr, "usage: %s ce_spec.golden\n", argv[0]);
        return 2;
    }
    if (golden_load(argv[1], &g_cases, &g_count, msg, sizeof msg) != 0) {
        fprintf(stderr, "FAIL %s\n", msg);
        return 1;
    }
    /* Example A (section 2) */
    CHK("exA_none", 'o', 0.4076059644, 2.1531782071);
    CHK("exA_sum", 'o', 2.5607841716);
    CHK("exA_mean", 'o', 1.2803920858);
    g_tol = 5e-8; /* float32(0.2) weight */
    CHK("exA_w_none", 'o', 1.2228178933, 0.4306356414);
    CHK("exA_w_sum", 'o', 1.6534535348);
    CHK("exA_w_mean", 'o', 0.5167042296);
    CHK("exA_ign_none", 'o', 0.4076059644, 0.0);
    CHK("exA_ign_sum", 'o', 0.4076059644);
    CHK("exA_ign_mean", 'o', 0.4076059644);
    g_tol = 1e-9;
    CHK("exA_ign_w_sum", 'o', 1.2228178933);
    CHK("exA_ign_w_mean", 'o', 0.4076059644);
    g_tol = 5e-8;
    CHK("exA_onehot_prob_w_mean", 'o', 0.8267267674);
    g_tol = 1e-9;
    /* Example A gradients (section 6) */
    CHK("exA_mean", 'g', 0.0450152866, 0.1223642355, -0.1673795221);
    g_tol = 5e-8;
    CHK("exA_w_mean", 'g', 0.0844036623, 0.2294329416, -0.3138366040, -0.0552428416, 0.0016192909,
        0.0536235507);
    g_tol = 1e-9;
    /* Example B (section 3) */
    CHK("exB_none", 'o', 0.5076059644, 2.1365115405, 0.0);
    CHK("exB_sum", 'o', 2.6441175049);
    CHK("exB_mean", 'o', 1.3220587525);
    g_tol = 5e-8;
    CHK("exB_w_none", 'o', 1.2042676057, 0.5390170263, 0.0);
    CHK("exB_w_sum", 'o', 1.7432846320);
    CHK("exB_w_mean", 'o', 0.5447764475);
    CHK("exB_w_mean", 'g', 0.0778188004, 0.2067798514, -0.2845986517, -0.0467218799, -0.0078258012,
        0.0545476811, 0.0, 0.0, 0.0);
    g_tol = 1e-9;
    CHK("exB_epsneg_mean", 'o', 1.2803920858); /* eps < 0 == eps 0 on exA rows */
    /* Example C (section 4): targets 0.1, 0.2, 0.7 are float32-rounded */
    g_tol = 5e-8;
    CHK("exC_none", 'o', 0.8076059644, 2.9031782071);
    CHK("exC_mean", 'o', 1.8553920858);
    CHK("exC_w_none", 'o', 1.1856458375, 2.0419069243);
    CHK("exC_w_sum", 'o', 3.2275527618);
    CHK("exC_w_mean", 'o', 1.6137763809);
    CHK("exC_w_eps_mean", 'o', 1.5799869681);
    g_tol = 1e-9;
    /* section 9 / 11 / 15 rows */
    CHK("exA_ign_all_mean", 'o', NAN);
    CHK("exA_ign_all_mean", 'g', 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    CHK("big1e4_t0_mean", 'o', 0.0);
    CHK("big1e4_t2_mean", 'o', 20000.0);
    CHK("big1e4_t2_mean", 'g', 1.0, 0.0, -1.0);
    CHK("f3e38_t0_mean", 'o', 0.6931471805599453);
    CHK("f3e38_t0_mean", 'g', -0.5, 0.5, 0.0);
    CHK("f1e7_t0_mean", 'o', 0.4076059644);
    CHK("m1e30_t0_mean", 'o', 1.0000000150474662e30);
    CHK("m1e30_t0_mean", 'g', -1.0, 0.2689414214, 0.7310585786);
    CHK("ninf_at_target_eps0_none", 'o', INFINITY, 2.1531782071);
    CHK("ninf_at_target_eps1_none", 'o', NAN);
    CHK("nan_ignored_sum", 'o', 2.1531782071);
    CHK("nan_ignored_sum", 'g', NAN, NAN, NAN);
    CHK("unb_ign_mean", 'o', NAN);
    CHK("unb_w_mean", 'o', 2.1531782071);
    CHK("unb_w0_mean", 'o', NAN);
    CHK("empty_0C_sum", 'o', 0.0);
    CHK("empty_0C_mean", 'o', NAN);
    CHK("c1_mean", 'o', 0.0);
    CHK("nll_any_input", 'o', -5.0);
    golden_free(g_cases, g_count);
    if (!g_fail)
        printf("OK: ce_spec.golden matches the semantics.md worked examples\n");
    return g_fail;
}
