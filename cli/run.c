/*
 * run.c - 'clce run OP': parses the op's flags, loads the .npy files, checks their dtypes (the
 * library checks shapes and values and its messages are passed on with the file names), makes
 * the buffers, calls the op's invocation (run_ce.c, run_nll.c, run_softmax.c) and writes the
 * results as float32 C-order .npy files.
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char loss_help[] =
    "usage: clce run cross_entropy|nll_loss --input X.npy --target T.npy [options]\n"
    "\n"
    "  --input X.npy         float32 logits (nll_loss: log-probabilities), shape (C) or\n"
    "                        (N, C, d1, ..., dK); the class dimension is 1 (0 for 1-D input)\n"
    "  --target T.npy        class indices (int64, int32 or uint8) shaped like the input\n"
    "                        without the class dimension, or (cross_entropy) class\n"
    "                        probabilities (float32; float64 is converted to float32 on the\n"
    "                        host) shaped like the input\n"
    "  --weight W.npy        per-class weights, shape (C), float32 (float64 converted)\n"
    "  --reduction R         none | sum | mean (default mean)\n"
    "  --ignore-index N      target value that contributes nothing (default -100)\n"
    "  --label-smoothing F   in [0, 1] (cross_entropy only, default 0)\n"
    "  --out LOSS.npy        the loss: 0-d for sum/mean, the target's shape for none\n"
    "  --grad-output G.npy   upstream gradient: one element for sum/mean, the loss's shape for\n"
    "                        none (float32; float64 converted)\n"
    "  --grad-input DX.npy   the gradient with respect to the input, the input's shape\n"
    "\n"
    "Every output is float32 in C order.  Fortran-order inputs are read in place (strided).\n"
    "A reduced loss is also printed.  --grad-output and --grad-input go together.\n";

static const char softmax_help[] =
    "usage: clce run softmax|log_softmax --input X.npy --dim D --out Y.npy\n"
    "                [--grad-output G.npy --grad-input DX.npy]\n"
    "\n"
    "  --input X.npy         float32 input, any shape (0-d allowed)\n"
    "  --dim D               the dimension to normalise over (negative counts from the end)\n"
    "  --out Y.npy           the output, the input's shape\n"
    "  --grad-output G.npy   upstream gradient, the input's shape (float32; float64 converted)\n"
    "  --grad-input DX.npy   the gradient with respect to the input\n"
    "\n"
    "Every output is float32 in C order.  Fortran-order inputs are read in place (strided).\n";

static void run_usage(FILE *f) {
    fputs("usage: clce run OP [options]   (OP: cross_entropy, nll_loss, log_softmax, softmax)\n"
          "       clce run OP --help        the options of OP\n",
          f);
}

/* Everything one run holds, released by job_free. */
typedef struct run_state {
    npy_array input, target, weight, gout;
    cli_job job;
    float *host_out, *host_gin;
} run_state;

static void job_free(run_state *s) {
    cl_mem mems[] = {s->job.input, s->job.target, s->job.weight,
                     s->job.out,   s->job.gout,   s->job.gin};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; ++i)
        if (mems[i])
            clReleaseMemObject(mems[i]);
    clce_device_destroy(s->job.dev);
    npy_free(&s->input);
    npy_free(&s->target);
    npy_free(&s->weight);
    npy_free(&s->gout);
    free(s->host_out);
    free(s->host_gin);
}

/* A float operand: float32 as is, float64 converted on the host, anything else an error. */
static int load_float(const char *flag, const char *path, npy_array *a, const char *what) {
    if (cli_load(flag, path, a) != 0)
        return -1;
    if (a->dtype == NPY_F64)
        return cli_f64_to_f32(a);
    if (a->dtype != NPY_F32)
        return cli_error("%s %s: dtype %s is not supported: %s must be float32 (or float64)", flag,
                         path, npy_dtype_name(a->dtype), what),
               -1;
    return 0;
}

static int load_logits(const char *path, npy_array *a) {
    if (cli_load("--input", path, a) != 0)
        return -1;
    if (a->dtype != NPY_F32)
        return cli_error("--input %s: dtype %s is not supported: the input must be float32", path,
                         npy_dtype_name(a->dtype)),
               -1;
    return 0;
}

static int to_device(clce_device *dev, const npy_array *a, cl_mem *out) {
    *out = cli_buffer(dev, a->numel * a->itemsize, a->data);
    return *out ? 0 : -1;
}

/* The output descriptor: contiguous float32 of the given logical shape. */
static clce_tensor_desc contiguous(int ndim, const long long *shape) {
    int64_t sz[CLCE_MAX_DIMS] = {0};
    for (int i = 0; i < ndim; ++i)
        sz[i] = shape[i];
    return clce_tensor_contiguous(CLCE_F32, ndim, sz);
}

static int finish(run_state *s, clce_status st, const char *what, const char *op,
                  const char *files) {
    (void)what; /* names the entry point; the library detail already says which failed */
    if (st != CLCE_OK) {
        char ctx[1200];
        snprintf(ctx, sizeof ctx, "%s (%s)", op, files);
        return cli_lib_error(ctx, st);
    }
    (void)s;
    return 0;
}

static int write_outputs(run_state *s, const char *out_path, const char *gin_path,
                         int print_scalar) {
    cli_job *j = &s->job;
    size_t n = (size_t)clce_tensor_numel(&j->out_d);
    s->host_out = malloc(n ? n * sizeof(float) : 1);
    if (!s->host_out)
        return cli_error("out of memory reading back %zu values", n);
    if (cli_read(j->dev, j->out, n * sizeof(float), s->host_out) != 0)
        return 1;
    if (print_scalar)
        printf("loss = %.9g\n", (double)s->host_out[0]);
    if (out_path && cli_save_f32("--out", out_path, j->out_d.ndim, j->out_d.sizes, s->host_out))
        return 1;
    if (gin_path) {
        size_t m = (size_t)clce_tensor_numel(&j->gin_d);
        s->host_gin = malloc(m ? m * sizeof(float) : 1);
        if (!s->host_gin)
            return cli_error("out of memory reading back %zu values", m);
        if (cli_read(j->dev, j->gin, m * sizeof(float), s->host_gin) != 0)
            return 1;
        if (cli_save_f32("--grad-input", gin_path, j->gin_d.ndim, j->gin_d.sizes, s->host_gin))
            return 1;
    }
    return 0;
}

static int run_loss(const char *op, int argc, char **argv) {
    const char *in_p, *tg_p, *w_p, *red_p, *ii_p, *ls_p, *out_p, *go_p, *gi_p;
    const cli_opt opts[] = {
        {"--input", CLI_OPT_VALUE, &in_p, NULL},
        {"--target", CLI_OPT_VALUE, &tg_p, NULL},
        {"--weight", CLI_OPT_VALUE, &w_p, NULL},
        {"--reduction", CLI_OPT_VALUE, &red_p, NULL},
        {"--ignore-index", CLI_OPT_VALUE, &ii_p, NULL},
        {"--label-smoothing", CLI_OPT_VALUE, &ls_p, NULL},
        {"--out", CLI_OPT_VALUE, &out_p, NULL},
        {"--grad-output", CLI_OPT_VALUE, &go_p, NULL},
        {"--grad-input", CLI_OPT_VALUE, &gi_p, NULL},
    };
    const int is_ce = strcmp(op, "cross_entropy") == 0;
    int help = 0;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "run %s", op);
    if (cli_parse(cmd, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), &help) != 0)
        return 1;
    if (help) {
        fputs(loss_help, stdout);
        return 0;
    }
    if (!in_p)
        return cli_error("%s: --input is required", cmd);
    if (!tg_p)
        return cli_error("%s: --target is required", cmd);
    if (!go_p != !gi_p)
        return cli_error("%s: --grad-output and --grad-input go together (%s given alone)", cmd,
                         go_p ? "--grad-output" : "--grad-input");
    if (ls_p && !is_ce)
        return cli_error("%s: --label-smoothing is for cross_entropy only", cmd);

    run_state s;
    memset(&s, 0, sizeof s);
    cli_job *j = &s.job;
    clce_loss_desc_init(&j->desc);
    int rc = 1;
    if (red_p && cli_parse_reduction("--reduction", red_p, &j->desc.reduction) != 0)
        goto done;
    if (ii_p && cli_parse_i64("--ignore-index", ii_p, &j->desc.ignore_index) != 0)
        goto done;
    if (ls_p && cli_parse_double("--label-smoothing", ls_p, &j->desc.label_smoothing) != 0)
        goto done;

    if (load_logits(in_p, &s.input) != 0)
        goto done;
    if (cli_load("--target", tg_p, &s.target) != 0)
        goto done;
    clce_dtype tdt;
    switch (s.target.dtype) {
    case NPY_I64:
        tdt = CLCE_I64;
        break;
    case NPY_I32:
        tdt = CLCE_I32;
        break;
    case NPY_U8:
        tdt = CLCE_U8;
        break;
    case NPY_F32:
        tdt = CLCE_F32;
        break;
    case NPY_F64:
        if (cli_f64_to_f32(&s.target) != 0)
            goto done;
        tdt = CLCE_F32;
        break;
    default:
        cli_error("--target %s: dtype %s is not supported: class indices must be int64, int32 "
                  "or uint8, probabilities float32 or float64",
                  tg_p, npy_dtype_name(s.target.dtype));
        goto done;
    }
    if (w_p && load_float("--weight", w_p, &s.weight, "a weight") != 0)
        goto done;
    if (go_p && load_float("--grad-output", go_p, &s.gout, "a gradient") != 0)
        goto done;

    /* The loss has the input's shape without the class dimension (the target's shape for
     * class indices) or is 0-d when reduced. */
    long long lshape[NPY_MAX_NDIM];
    int lnd = 0;
    if (j->desc.reduction == CLCE_REDUCTION_NONE && s.input.ndim >= 1) {
        const int k = s.input.ndim == 1 ? 0 : 1;
        for (int i = 0; i < s.input.ndim; ++i)
            if (i != k)
                lshape[lnd++] = s.input.shape[i];
    }

    if (!(j->dev = cli_open_device()))
        goto done;
    j->input_d = cli_desc_of(&s.input, CLCE_F32);
    j->target_d = cli_desc_of(&s.target, tdt);
    j->out_d = contiguous(lnd, lshape);
    if (to_device(j->dev, &s.input, &j->input) || to_device(j->dev, &s.target, &j->target))
        goto done;
    if (!(j->out = cli_buffer(j->dev, (size_t)clce_tensor_numel(&j->out_d) * 4, NULL)))
        goto done;
    if (w_p) {
        j->weight_d = cli_desc_of(&s.weight, CLCE_F32);
        if (to_device(j->dev, &s.weight, &j->weight))
            goto done;
    }
    if (go_p) {
        j->gout_d = cli_desc_of(&s.gout, CLCE_F32);
        j->gin_d = contiguous(s.input.ndim, s.input.shape);
        if (to_device(j->dev, &s.gout, &j->gout))
            goto done;
        if (!(j->gin = cli_buffer(j->dev, s.input.numel * 4, NULL)))
            goto done;
    }

    char files[1100];
    snprintf(files, sizeof files, "--input %s, --target %s%s%s%s%s", in_p, tg_p,
             w_p ? ", --weight " : "", w_p ? w_p : "", go_p ? ", --grad-output " : "",
             go_p ? go_p : "");
    const char *what = op;
    clce_status st = is_ce ? cli_invoke_cross_entropy(j, &what) : cli_invoke_nll_loss(j, &what);
    if (finish(&s, st, what, op, files) != 0)
        goto done;
    rc = write_outputs(&s, out_p, gi_p, j->desc.reduction != CLCE_REDUCTION_NONE);
done:
    job_free(&s);
    return rc;
}

static int run_softmax(const char *op, int argc, char **argv) {
    const char *in_p, *dim_p, *out_p, *go_p, *gi_p;
    const cli_opt opts[] = {
        {"--input", CLI_OPT_VALUE, &in_p, NULL},      {"--dim", CLI_OPT_VALUE, &dim_p, NULL},
        {"--out", CLI_OPT_VALUE, &out_p, NULL},       {"--grad-output", CLI_OPT_VALUE, &go_p, NULL},
        {"--grad-input", CLI_OPT_VALUE, &gi_p, NULL},
    };
    int help = 0;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "run %s", op);
    if (cli_parse(cmd, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), &help) != 0)
        return 1;
    if (help) {
        fputs(softmax_help, stdout);
        return 0;
    }
    if (!in_p)
        return cli_error("%s: --input is required", cmd);
    if (!dim_p)
        return cli_error("%s: --dim is required", cmd);
    if (!out_p)
        return cli_error("%s: --out is required", cmd);
    if (!go_p != !gi_p)
        return cli_error("%s: --grad-output and --grad-input go together (%s given alone)", cmd,
                         go_p ? "--grad-output" : "--grad-input");
    int64_t dim = 0;
    if (cli_parse_i64("--dim", dim_p, &dim) != 0)
        return 1;
    if (dim < -CLCE_MAX_DIMS - 1 || dim > CLCE_MAX_DIMS)
        return cli_error("--dim: %lld is out of range", (long long)dim);

    run_state s;
    memset(&s, 0, sizeof s);
    cli_job *j = &s.job;
    j->dim = (int)dim;
    int rc = 1;
    if (load_logits(in_p, &s.input) != 0)
        goto done;
    if (go_p && load_float("--grad-output", go_p, &s.gout, "a gradient") != 0)
        goto done;
    if (!(j->dev = cli_open_device()))
        goto done;
    j->input_d = cli_desc_of(&s.input, CLCE_F32);
    j->out_d = contiguous(s.input.ndim, s.input.shape);
    if (to_device(j->dev, &s.input, &j->input))
        goto done;
    if (!(j->out = cli_buffer(j->dev, s.input.numel * 4, NULL)))
        goto done;
    if (go_p) {
        j->gout_d = cli_desc_of(&s.gout, CLCE_F32);
        j->gin_d = j->out_d;
        if (to_device(j->dev, &s.gout, &j->gout))
            goto done;
        if (!(j->gin = cli_buffer(j->dev, s.input.numel * 4, NULL)))
            goto done;
    }
    char files[1100];
    snprintf(files, sizeof files, "--input %s, --dim %s%s%s", in_p, dim_p,
             go_p ? ", --grad-output " : "", go_p ? go_p : "");
    const char *what = op;
    clce_status st = cli_invoke_softmax(j, strcmp(op, "log_softmax") == 0, &what);
    if (finish(&s, st, what, op, files) != 0)
        goto done;
    rc = write_outputs(&s, out_p, gi_p, 0);
done:
    job_free(&s);
    return rc;
}

int cli_run(int argc, char **argv) {
    if (argc < 1)
        return cli_error("run: no op given (one of cross_entropy, nll_loss, log_softmax, "
                         "softmax; see 'clce run --help')");
    const char *op = argv[0];
    if (strcmp(op, "--help") == 0 || strcmp(op, "-h") == 0) {
        run_usage(stdout);
        return 0;
    }
    if (strcmp(op, "cross_entropy") == 0 || strcmp(op, "nll_loss") == 0)
        return run_loss(op, argc - 1, argv + 1);
    if (strcmp(op, "softmax") == 0 || strcmp(op, "log_softmax") == 0)
        return run_softmax(op, argc - 1, argv + 1);
    return cli_error("run: unknown op '%s' (one of cross_entropy, nll_loss, log_softmax, "
                     "softmax)",
                     op);
}
