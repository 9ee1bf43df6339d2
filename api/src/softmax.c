/*
 * softmax.c - softmax / log_softmax forward and backward along any dimension of an N-D strided
 * tensor (PyTorch F.softmax / F.log_softmax, semantics.md section 8).  Each op checks its
 * arguments (naming the argument and value at fault), views every tensor as rows x classes with
 * the class axis = dim, and launches one row kernel (cl/softmax.cl).  A 0-d tensor is one row of
 * one class; an empty tensor enqueues nothing.
 */
#include "ops.h"

#include <limits.h>
#include <stdio.h>

static const clce_dtype F32_ONLY[] = {CLCE_F32, CLCE_DTYPE_INVALID};

/* PyTorch's dim wrapping: a 0-d tensor accepts dim in [-1, 0]. */
static clce_status resolve_dim(int dim, int ndim, int *out) {
    const int n = ndim > 0 ? ndim : 1;
    if (dim < -n || dim >= n)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "dim: Dimension out of range (expected to be in range of [%d, %d], "
                          "but got %d)",
                          -n, n - 1, dim);
    *out = dim < 0 ? dim + n : dim;
    return CLCE_OK;
}

static clce_status same_shape(const char *name, const clce_tensor_desc *d, const char *ref_name,
                              const clce_tensor_desc *ref) {
    int same = d->ndim == ref->ndim;
    for (int k = 0; same && k < d->ndim; ++k)
        same = d->sizes[k] == ref->sizes[k];
    if (!same) {
        char s1[128], s2[128];
        return clce__fail(CLCE_ERROR_INVALID_SHAPE, "%s: shape %s does not match %s's shape %s",
                          name, clce__shape_str(d, s1, sizeof s1), ref_name,
                          clce__shape_str(ref, s2, sizeof s2));
    }
    return CLCE_OK;
}

/* Rows of a tensor with class axis k (0-d: one row). */
static int64_t rows_of(const clce_tensor_desc *d, int k) {
    int64_t rows = 1;
    for (int j = 0; j < d->ndim; ++j)
        if (j != k)
            rows *= d->sizes[j];
    return rows;
}

/* Enqueues one row kernel over geometry g (roles 0..n-1 bound to bufs, in that order), then the
 * chain's last event goes to *event. */
static clce_status launch_rows(clce_device *dev, const char *kname, int log, const clce__rowgeom *g,
                               cl_mem *bufs, int nbufs, cl_uint nwait, const cl_event *wait,
                               cl_event *event) {
    char defines[64];
    snprintf(defines, sizeof defines, "-DLOG=%d -DROW_DIMS=%d", log, g->nd);
    cl_kernel k = NULL;
    clce_status st = clce__get_kernel(dev, "softmax.cl", defines, kname, &k);
    if (st != CLCE_OK)
        return st;
    cl_long off[3], cs[3], rows = g->rows, C = g->classes;
    cl_long8 size = clce__geom_sizes(g), strides[3];
    clce__arg args[3 * 3 + 2 + 1 + 3];
    size_t n = 0;
    for (int i = 0; i < nbufs; ++i) {
        off[i] = g->offset[i];
        cs[i] = g->class_stride[i];
        strides[i] = clce__geom_strides(g, i);
        args[n++] = CLCE_ARG(bufs[i]);
        args[n++] = CLCE_ARG(off[i]);
        args[n++] = CLCE_ARG(cs[i]);
    }
    args[n++] = CLCE_ARG(rows);
    args[n++] = CLCE_ARG(C);
    args[n++] = CLCE_ARG(size);
    for (int i = 0; i < nbufs; ++i)
        args[n++] = CLCE_ARG(strides[i]);
    st = clce__set_args(k, kname, args, n);
    clce__chain chain;
    clce__chain_init(&chain, dev, nwait, wait);
    if (st == CLCE_OK)
        st = clce__chain_launch_rows(&chain, k, kname, g->rows);
    clReleaseKernel(k);
    return clce__chain_end(&chain, st, event);
}

static clce_status check_common(clce_device *dev, cl_uint num_wait_events,
                                const cl_event *wait_events) {
    if (!dev)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "device is NULL");
    return clce__check_wait_list(num_wait_events, wait_events);
}

static clce_status forward(int log, clce_device *dev, int dim, const clce_tensor_desc *input_desc,
                           cl_mem input, const clce_tensor_desc *output_desc, cl_mem output,
                           cl_uint num_wait_events, const cl_event *wait_events, cl_event *event) {
    clce__clear_detail();
    if (event)
        *event = NULL;
    clce_status st = check_common(dev, num_wait_events, wait_events);
    if (st == CLCE_OK)
        st = clce__check_tensor("input", input_desc, input, F32_ONLY, false);
    if (st == CLCE_OK)
        st = clce__check_tensor("output", output_desc, output, F32_ONLY, true);
    if (st == CLCE_OK)
        st = same_shape("output", output_desc, "input", input_desc);
    int k = 0;
    if (st == CLCE_OK)
        st = resolve_dim(dim, input_desc->ndim, &k);
    if (st != CLCE_OK)
        return st;
    if (rows_of(input_desc, k) >= INT_MAX)
        return clce__fail(CLCE_ERROR_UNSUPPORTED, "input: %lld rows; at most %d are supported",
                          (long long)rows_of(input_desc, k), INT_MAX - 1);
    if (clce_tensor_numel(input_desc) == 0)
        return CLCE_OK; /* empty result: nothing to compute */
    const clce_tensor_desc *roles[CLCE__ROLES] = {input_desc, output_desc, NULL, NULL};
    clce__rowgeom g;
    clce__rowgeom_build(roles, k, &g);
    cl_mem bufs[2] = {input, output};
    return launch_rows(dev, "softmax_fwd_rows", log, &g, bufs, 2, num_wait_events, wait_events,
                       event);
}

static clce_status backward(int log, clce_device *dev, int dim, const clce_tensor_desc *output_desc,
                            cl_mem output, const clce_tensor_desc *grad_output_desc,
                            cl_mem grad_output, const clce_tensor_desc *grad_input_desc,
                            cl_mem grad_input, cl_uint num_wait_events, const cl_event *wait_events,
                            cl_event *event) {
    clce__clear_detail();
    if (event)
        *event = NULL;
    clce_status st = check_common(dev, num_wait_events, wait_events);
    if (st == CLCE_OK)
        st = clce__check_tensor("output", output_desc, output, F32_ONLY, false);
    /* no descriptor: the gradient takes the layout of the forward's output */
    if (!grad_input_desc)
        grad_input_desc = output_desc;
    if (st == CLCE_OK)
        st = clce__check_tensor("grad_output", grad_output_desc, grad_output, F32_ONLY, false);
    if (st == CLCE_OK)
        st = clce__check_tensor("grad_input", grad_input_desc, grad_input, F32_ONLY, true);
    if (st == CLCE_OK)
        st = same_shape("grad_output", grad_output_desc, "output", output_desc);
    if (st == CLCE_OK)
        st = same_shape("grad_input", grad_input_desc, "output", output_desc);
    int k = 0;
    if (st == CLCE_OK)
        st = resolve_dim(dim, output_desc->ndim, &k);
    if (st != CLCE_OK)
        return st;
    if (rows_of(output_desc, k) >= INT_MAX)
        return clce__fail(CLCE_ERROR_UNSUPPORTED, "output: %lld rows; at most %d are supported",
                          (long long)rows_of(output_desc, k), INT_MAX - 1);
    if (clce_tensor_numel(output_desc) == 0)
        return CLCE_OK;
    const clce_tensor_desc *roles[CLCE__ROLES] = {output_desc, grad_output_desc, grad_input_desc,
                                                  NULL};
    clce__rowgeom g;
    clce__rowgeom_build(roles, k, &g);
    cl_mem bufs[3] = {output, grad_output, grad_input};
    return launch_rows(dev, "softmax_bwd_rows", log, &g, bufs, 3, num_wait_events, wait_events,
                       event);
}

clce_status clce_softmax_forward(clce_device *device, int dim, const clce_tensor_desc *input_desc,
                                 cl_mem input, const clce_tensor_desc *output_desc, cl_mem output,
                                 cl_uint num_wait_events, const cl_event *wait_events,
                                 cl_event *event) {
    return forward(0, device, dim, input_desc, input, output_desc, output, num_wait_events,
                   wait_events, event);
}

clce_status clce_log_softmax_forward(clce_device *device, int dim,
                                     const clce_tensor_desc *input_desc, cl_mem input,
                                     const clce_tensor_desc *output_desc, cl_mem output,
                                     cl_uint num_wait_events, const cl_event *wait_events,
                                     cl_event *event) {
    return forward(1, device, dim, input_desc, input, output_desc, output, num_wait_events,
                   wait_events, event);
}

clce_status clce_softmax_backward(clce_device *device, int dim, const clce_tensor_desc *output_desc,
                                  cl_mem output, const clce_tensor_desc *grad_output_desc,
                                  cl_mem grad_output, const clce_tensor_desc *grad_input_desc,
                                  cl_mem grad_input, cl_uint num_wait_events,
                                  const cl_event *wait_events, cl_event *event) {
    return backward(0, device, dim, output_desc, output, grad_output_desc, grad_output,
                    grad_input_desc, grad_input, num_wait_events, wait_events, event);
}

clce_status clce_log_softmax_backward(clce_device *device, int dim,
                                      const clce_tensor_desc *output_desc, cl_mem output,
                                      const clce_tensor_desc *grad_output_desc, cl_mem grad_output,
                                      const clce_tensor_desc *grad_input_desc, cl_mem grad_input,
                                      cl_uint num_wait_events, const cl_event *wait_events,
                                      cl_event *event) {
    return backward(1, device, dim, output_desc, output, grad_output_desc, grad_output,
                    grad_input_desc, grad_input, num_wait_events, wait_events, event);
}
