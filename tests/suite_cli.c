/*
 * suite_cli.c - the clce tool end to end: 'clce run' on .npy files (C order, Fortran order, 0-d)
 * compared with PyTorch float64 values from tests/cli_fixtures/make_fixtures.py, every error
 * class (one "clce: error:" line naming the file/flag/value, non-zero exit, never a crash), the
 * malformed .npy corpus of tests/npy_fixtures/bad, --help/--version, and 'clce demo' and
 * 'clce check' exiting 0, and a run with cold kernel builds quiet on stderr.  The tool is run
 * as a child process (CLCE_CLI_PATH).
 */
/* nftw (tearing down the cold-build test's kernel cache) is an XSI function */
#define _XOPEN_SOURCE 700

#include "npy.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];
static char out_text[65536], err_text[65536];

static void slurp(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
}

/* Runs clce with args (NULL-terminated); captures stdout/stderr; returns the exit status, or
 * 1000 + signal number if it was killed (a crash). */
static int clce(const char *const *args) {
    char outp[300], errp[300];
    snprintf(outp, sizeof outp, "%s/stdout.txt", tmpdir);
    snprintf(errp, sizeof errp, "%s/stderr.txt", tmpdir);
    /* execv wants char *const[]; the strings are never written (uintptr_t drops const). */
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)(uintptr_t)CLCE_CLI_PATH;
    for (; args[n - 1] && n < 63; ++n)
        argv[n] = (char *)(uintptr_t)args[n - 1];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0)
            _exit(127);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(CLCE_CLI_PATH, argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    slurp(outp, out_text, sizeof out_text);
    slurp(errp, err_text, sizeof err_text);
    if (WIFSIGNALED(status))
        return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

#define RUN(...) clce((const char *const[]){__VA_ARGS__, NULL})

static const char *fx(const char *name) {
    static char buf[8][512];
    static int i = 0;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", CLCE_CLI_FIXTURES, name);
    return buf[i];
}
static const char *tmp(const char *name) {
    static char buf[8][512];
    static int i = 0;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
    return buf[i];
}

/* The failure contract: non-zero exit (not a crash), one line on stderr starting with
 * "clce: error:" and containing `needle`. */
static void expect_error(int rc, const char *needle) {
    ck_assert_msg(rc > 0 && rc < 1000, "exit status %d (stderr: %s)", rc, err_text);
    ck_assert_msg(strncmp(err_text, "clce: error: ", 13) == 0, "stderr: '%s'", err_text);
    const char *nl = strchr(err_text, '\n');
    ck_assert_msg(nl && nl[1] == 0, "stderr is not one line: '%s'", err_text);
    ck_assert_msg(strstr(err_text, needle), "stderr lacks '%s': %s", needle, err_text);
}

/* Every op is in the library: a tool run that fails is a failure. */
static int op_missing(int rc) {
    (void)rc;
    return 0;
}

/* Reads a float32 C-order output file and a float64 expected fixture of the same shape. */
static void read_matching(const char *got_path, const char *exp_name, npy_array *got,
                          npy_array *exp) {
    char err[512];
    ck_assert_msg(npy_read(got_path, got, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(npy_read(fx(exp_name), exp, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(got->dtype, NPY_F32);
    ck_assert_int_eq(got->fortran_order, 0);
    ck_assert_int_eq(exp->dtype, NPY_F64);
    ck_assert_int_eq(got->ndim, exp->ndim);
    for (int i = 0; i < got->ndim; ++i)
        ck_assert_int_eq(got->shape[i], exp->shape[i]);
    ck_assert_uint_eq(got->numel, exp->numel);
    /* expected files are C order (PyTorch results saved from contiguous tensors) */
    ck_assert_int_eq(exp->fortran_order, 0);
}

/* Compares a float32 C-order output file with a float64 expected file (same shape). */
static void expect_close(const char *got_path, const char *exp_name, int is_loss) {
    npy_array got, exp;
    read_matching(got_path, exp_name, &got, &exp);
    const float *g = got.data;
    const double *e = exp.data;
    double emax = 0;
    for (size_t i = 0; i < exp.numel; ++i)
        emax = fmax(emax, fabs(e[i]));
    for (size_t i = 0; i < exp.numel; ++i) {
        double tol = is_loss ? 1e-5 * fmax(1.0, fabs(e[i])) : 1e-4 * fabs(e[i]) + 1e-6 * emax;
        ck_assert_msg(fabs(g[i] - e[i]) <= tol, "%s[%zu]: got %.9g expected %.17g", exp_name, i,
                      (double)g[i], e[i]);
    }
    npy_free(&got);
    npy_free(&exp);
}

static void write_npy(const char *path, npy_dtype dt, int ndim, const long long *shape,
                      const void *data) {
    char err[512];
    ck_assert_msg(npy_write(path, dt, ndim, shape, data, err, sizeof err) == 0, "%s", err);
}

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/clce_cli_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}
static void teardown(void) {
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            unlink(tmp(e->d_name));
    if (d)
        closedir(d);
    rmdir(tmpdir);
}

/* ---- run: results vs PyTorch ---- */
START_TEST(run_c_order_mean) {
    int rc = RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"),
                 "--out", tmp("l.npy"));
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "loss = "));
    expect_close(tmp("l.npy"), "expected_c_mean_loss.npy", 1);
}
END_TEST

START_TEST(run_fortran_none_weight_ignore) {
    int rc =
        RUN("run", "cross_entropy", "--input", fx("f_x.npy"), "--target", fx("f_t.npy"), "--weight",
            fx("w.npy"), "--reduction", "none", "--ignore-index", "2", "--out", tmp("l.npy"));
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("l.npy"), "expected_f_none_loss.npy", 1);
}
END_TEST

START_TEST(run_unbatched_0d_target_sum) {
    int rc = RUN("run", "cross_entropy", "--input", fx("u_x.npy"), "--target", fx("u_t.npy"),
                 "--reduction=sum", "--out", tmp("l.npy"));
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("l.npy"), "expected_u_sum_loss.npy", 1);
}
END_TEST

START_TEST(run_uint8_smoothing_ignore) {
    int rc = RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("ls_t.npy"),
                 "--label-smoothing", "0.1", "--ignore-index", "1", "--out", tmp("l.npy"));
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("l.npy"), "expected_ls_mean_loss.npy", 1);
}
END_TEST

START_TEST(run_gradients) {
    int rc =
        RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"), "--out",
            tmp("l.npy"), "--grad-output", fx("go_scalar.npy"), "--grad-input", tmp("g.npy"));
    if (op_missing(rc))
        return;
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("l.npy"), "expected_c_mean_loss.npy", 1);
    expect_close(tmp("g.npy"), "expected_c_mean_grad.npy", 0);

    rc = RUN("run", "cross_entropy", "--input", fx("f_x.npy"), "--target", fx("f_t.npy"),
             "--weight", fx("w.npy"), "--reduction", "none", "--ignore-index", "2", "--grad-output",
             fx("f_go.npy"), "--grad-input", tmp("g.npy"));
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("g.npy"), "expected_f_none_grad.npy", 0);

    rc = RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("prob_t.npy"),
             "--reduction", "sum", "--out", tmp("l.npy"), "--grad-output", fx("go_scalar.npy"),
             "--grad-input", tmp("g.npy"));
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("l.npy"), "expected_prob_sum_loss.npy", 1);
    /* expected_prob_sum_grad is for grad_output 1: scale check via a 1.0 grad_output file */
    const long long none[1] = {0};
    const float one = 1.0f;
    write_npy(tmp("one.npy"), NPY_F32, 0, none, &one);
    rc = RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("prob_t.npy"),
             "--reduction", "sum", "--grad-output", tmp("one.npy"), "--grad-input", tmp("g.npy"));
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("g.npy"), "expected_prob_sum_grad.npy", 0);
}
END_TEST

START_TEST(run_nll_and_softmax) {
    int rc = RUN("run", "nll_loss", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"), "--weight",
                 fx("w.npy"), "--reduction", "sum", "--out", tmp("l.npy"), "--grad-output",
                 fx("go_scalar.npy"), "--grad-input", tmp("g.npy"));
    if (op_missing(rc))
        return;
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err_text);
    expect_close(tmp("l.npy"), "expected_nll_sum_loss.npy", 1);
    expect_close(tmp("g.npy"), "expected_nll_sum_grad.npy", 0);
    const char *ops[2] = {"softmax", "log_softmax"};
    for (int i = 0; i < 2; ++i) {
        rc = RUN("run", ops[i], "--input", fx("f_x.npy"), "--dim", "1", "--out", tmp("y.npy"),
                 "--grad-output", fx("sm_go.npy"), "--grad-input", tmp("g.npy"));
        if (op_missing(rc))
            return;
        ck_assert_msg(rc == 0, "%s rc %d: %s", ops[i], rc, err_text);
        char name[64];
        snprintf(name, sizeof name, "expected_%s_y.npy", ops[i]);
        expect_close(tmp("y.npy"), name, 0);
        snprintf(name, sizeof name, "expected_%s_grad.npy", ops[i]);
        expect_close(tmp("g.npy"), name, 0);
    }
}
END_TEST

/* Softmax probabilities below float32's normal range (make_fixtures.py case 8): with grad_output
 * 1e30 the gradient of a logit 87 to 103 below its row's max is ~1e-8 to 1e-15, where a
 * probability flushed to 0 shows.  The tolerance is 1e-5 relative plus 2e-15, the product's
 * error where the probability itself is a subnormal (its unit, 2^-149 ~ 1.4e-45, times 1e30). */
static void expect_close_scaled_tiny(const char *got_path, const char *exp_name) {
    npy_array got, exp;
    read_matching(got_path, exp_name, &got, &exp);
    const float *g = got.data;
    const double *e = exp.data;
    size_t tiny = 0;
    for (size_t i = 0; i < exp.numel; ++i) {
        tiny += fabs(e[i]) > 0 && fabs(e[i]) < 1e30 * 1.2e-38;
        ck_assert_msg(fabs(g[i] - e[i]) <= 1e-5 * fabs(e[i]) + 2e-15,
                      "%s[%zu]: got %.9g expected %.17g", exp_name, i, (double)g[i], e[i]);
    }
    /* the fixture holds what it is for: gradients from subnormal probabilities */
    ck_assert_uint_ge(tiny, 5);
    npy_free(&got);
    npy_free(&exp);
}

START_TEST(run_gradient_tiny_probabilities) {
    const char *cases[2] = {"tiny", "tiny4"};
    for (int i = 0; i < 2; ++i) {
        char x[32], t[32], l[48], g[48];
        snprintf(x, sizeof x, "%s_x.npy", cases[i]);
        snprintf(t, sizeof t, "%s_t.npy", cases[i]);
        snprintf(l, sizeof l, "expected_%s_sum_loss.npy", cases[i]);
        snprintf(g, sizeof g, "expected_%s_sum_grad.npy", cases[i]);
        int rc = RUN("run", "cross_entropy", "--input", fx(x), "--target", fx(t), "--reduction",
                     "sum", "--out", tmp("l.npy"), "--grad-output", fx("go_1e30.npy"),
                     "--grad-input", tmp("g.npy"));
        ck_assert_msg(rc == 0, "%s rc %d: %s", cases[i], rc, err_text);
        expect_close(tmp("l.npy"), l, 1);
        expect_close_scaled_tiny(tmp("g.npy"), g);
    }
}
END_TEST

/* ---- errors ---- */
START_TEST(err_flags_and_commands) {
    expect_error(RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"),
                     "--bogus", "1"),
                 "--bogus");
    expect_error(RUN("run", "cross_entropy", "--target", fx("c_t.npy")), "--input");
    expect_error(RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"),
                     "--reduction", "avg"),
                 "'avg'");
    expect_error(RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"),
                     "--ignore-index", "x1"),
                 "--ignore-index");
    expect_error(RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"),
                     "--label-smoothing", "2"),
                 "label_smoothing");
    expect_error(RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", fx("c_t.npy"),
                     "--grad-output", fx("go_scalar.npy")),
                 "--grad-input");
    expect_error(RUN("run", "cross_entropy", "--input"), "--input");
    expect_error(RUN("run", "softmax", "--input", fx("c_x.npy"), "--out", tmp("y.npy")), "--dim");
    expect_error(RUN("run", "hinge_loss"), "hinge_loss");
    expect_error(RUN("frobnicate"), "frobnicate");
    expect_error(RUN("--frob"), "--frob");
    expect_error(RUN("check", "--fast"), "--fast");
    expect_error(RUN("bench", "--rows", "-3"), "--rows");
}
END_TEST

START_TEST(err_files_and_dtypes) {
    expect_error(
        RUN("run", "cross_entropy", "--input", tmp("missing.npy"), "--target", fx("c_t.npy")),
        "missing.npy");
    /* float64 logits */
    double xd[10] = {0};
    const long long s25[2] = {2, 5}, s2[1] = {2}, s3[1] = {3};
    write_npy(tmp("x64.npy"), NPY_F64, 2, s25, xd);
    expect_error(RUN("run", "cross_entropy", "--input", tmp("x64.npy"), "--target", fx("c_t.npy")),
                 "x64.npy");
    ck_assert_ptr_nonnull(strstr(err_text, "float64"));
    /* int16 targets */
    short t16[2] = {0, 1};
    float x[10] = {0};
    write_npy(tmp("x.npy"), NPY_F32, 2, s25, x);
    write_npy(tmp("t16.npy"), NPY_I16, 1, s2, t16);
    expect_error(RUN("run", "cross_entropy", "--input", tmp("x.npy"), "--target", tmp("t16.npy")),
                 "t16.npy");
    ck_assert_ptr_nonnull(strstr(err_text, "int16"));
    /* shape mismatch: 3 targets for 2 rows */
    long long t3[3] = {0, 1, 2};
    write_npy(tmp("t3.npy"), NPY_I64, 1, s3, t3);
    expect_error(RUN("run", "cross_entropy", "--input", tmp("x.npy"), "--target", tmp("t3.npy")),
                 "INVALID_SHAPE");
    ck_assert_ptr_nonnull(strstr(err_text, "t3.npy"));
    /* weight of the wrong size */
    float w3[3] = {1, 1, 1};
    write_npy(tmp("w3.npy"), NPY_F32, 1, s3, w3);
    expect_error(RUN("run", "cross_entropy", "--input", tmp("x.npy"), "--target", fx("c_t.npy"),
                     "--weight", tmp("w3.npy")),
                 "w3.npy");
    /* target out of range: value and position */
    long long tbad[2] = {1, 7};
    write_npy(tmp("tbad.npy"), NPY_I64, 1, s2, tbad);
    expect_error(RUN("run", "cross_entropy", "--input", tmp("x.npy"), "--target", tmp("tbad.npy"),
                     "--out", tmp("never.npy")),
                 "7");
    ck_assert_ptr_nonnull(strstr(err_text, "TARGET_OUT_OF_RANGE"));
    ck_assert_ptr_nonnull(strstr(err_text, "position 1"));
    ck_assert_int_ne(access(tmp("never.npy"), F_OK), 0); /* nothing written */
    /* an output that cannot be written */
    long long t2[2] = {0, 1};
    write_npy(tmp("t2.npy"), NPY_I64, 1, s2, t2);
    expect_error(RUN("run", "cross_entropy", "--input", tmp("x.npy"), "--target", tmp("t2.npy"),
                     "--out", "/nonexistent-dir/l.npy"),
                 "/nonexistent-dir/l.npy");
}
END_TEST

START_TEST(err_malformed_corpus) {
    DIR *d = opendir(CLCE_NPY_BAD_DIR);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".npy"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", CLCE_NPY_BAD_DIR, e->d_name);
        int rc = RUN("run", "cross_entropy", "--input", path, "--target", fx("c_t.npy"));
        expect_error(rc, e->d_name);
        /* as a target and as softmax input too */
        rc = RUN("run", "cross_entropy", "--input", fx("c_x.npy"), "--target", path);
        expect_error(rc, e->d_name);
        rc = RUN("run", "log_softmax", "--input", path, "--dim", "0", "--out", tmp("y.npy"));
        expect_error(rc, e->d_name);
        ++n;
    }
    closedir(d);
    ck_assert_int_ge(n, 40);
}
END_TEST

/* ---- help, version, demo, check ---- */
START_TEST(help_and_version) {
    const char *cmds[][4] = {{"--help", NULL, NULL},         {"info", "--help", NULL},
                             {"demo", "--help", NULL},       {"run", "--help", NULL},
                             {"run", "cross_entropy", "-h"}, {"run", "softmax", "--help"},
                             {"check", "--help", NULL},      {"bench", "--help", NULL}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; ++i) {
        int rc = clce((const char *const *)cmds[i]);
        ck_assert_msg(rc == 0, "%s %s: rc %d", cmds[i][0], cmds[i][1] ? cmds[i][1] : "", rc);
        ck_assert_msg(strstr(out_text, "usage: clce"), "no usage for %s", cmds[i][0]);
    }
    ck_assert_int_eq(RUN("--version"), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "clce 0."));
    expect_error(RUN("run"), "no op");
}
END_TEST

START_TEST(demo_info_check) {
    int rc = RUN("demo");
    ck_assert_msg(rc == 0, "demo rc %d: %s", rc, err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "PyTorch"));
    ck_assert_ptr_nonnull(strstr(out_text, "all values agree"));
    rc = RUN("info");
    ck_assert_msg(rc == 0, "info rc %d: %s", rc, err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "selected:"));
    rc = RUN("check");
    ck_assert_msg(rc == 0, "check rc %d: %s", rc, err_text);
    ck_assert_ptr_nonnull(strstr(out_text, " 0 failed"));
    ck_assert_ptr_null(strstr(out_text, "FAIL"));
    rc = RUN("bench", "--rows", "64", "--classes", "100", "--repeats", "2");
    ck_assert_msg(rc == 0, "bench rc %d: %s", rc, err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "GB/s"));
}
END_TEST

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A successful run writes nothing to stderr, also while it compiles its kernels: POCL prints
 * clang's warning count ("N warnings generated.") to the caller's stderr on every cold build
 * that warns, so the kernels must build warning-free.  A fresh POCL_CACHE_DIR makes every
 * build cold (other drivers ignore the variable; the check holds for them as well). */
START_TEST(cold_build_quiet) {
    char cache[256];
    snprintf(cache, sizeof cache, "/tmp/clce_cold_cache_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(cache));
    const char *old = getenv("POCL_CACHE_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("POCL_CACHE_DIR", cache, 1);
    unsetenv("CLCE_VERBOSE");
    const char *runs[3][20] = {
        {"demo", NULL},
        {"run", "cross_entropy", "--input", fx("f_x.npy"), "--target", fx("f_t.npy"), "--weight",
         fx("w.npy"), "--label-smoothing", "0.1", "--reduction", "none", "--grad-output",
         fx("f_go.npy"), "--grad-input", tmp("g.npy"), NULL},
        {"run", "softmax", "--input", fx("f_x.npy"), "--dim", "1", "--out", tmp("y.npy"), NULL},
    };
    int rcs[3];
    char errs[3][512];
    for (int i = 0; i < 3; ++i) {
        rcs[i] = clce(runs[i]);
        snprintf(errs[i], sizeof errs[i], "%.500s", err_text);
    }
    if (saved) {
        setenv("POCL_CACHE_DIR", saved, 1);
        free(saved);
    } else {
        unsetenv("POCL_CACHE_DIR");
    }
    nftw(cache, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < 3; ++i) {
        ck_assert_msg(rcs[i] == 0, "%s rc %d: %s", runs[i][0], rcs[i], errs[i]);
        ck_assert_msg(errs[i][0] == 0, "clce %s %s wrote to stderr: '%s'", runs[i][0],
                      runs[i][1] ? runs[i][1] : "", errs[i]);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, run_c_order_mean);
    tcase_add_test(tc, run_fortran_none_weight_ignore);
    tcase_add_test(tc, run_unbatched_0d_target_sum);
    tcase_add_test(tc, run_uint8_smoothing_ignore);
    tcase_add_test(tc, run_gradients);
    tcase_add_test(tc, run_nll_and_softmax);
    tcase_add_test(tc, run_gradient_tiny_probabilities);
    tcase_add_test(tc, err_flags_and_commands);
    tcase_add_test(tc, err_files_and_dtypes);
    tcase_add_test(tc, err_malformed_corpus);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, demo_info_check);
    suite_add_tcase(s, tc);
    TCase *cold = tcase_create("cold");
    tcase_add_checked_fixture(cold, setup, teardown);
    tcase_set_timeout(cold, 600);
    tcase_add_test(cold, cold_build_quiet);
    suite_add_tcase(s, cold);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
