/*
 * launch.c - kernel argument setting, event chaining across an op's kernels (so ops are correct
 * on out-of-order queues too), scratch buffers and op sequence numbers.
 */
#include "ops.h"

#include <stdio.h>

clce_status clce__set_args(cl_kernel k, const char *kname, const clce__arg *args, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS)
            return clce__fail(CLCE_ERROR_OPENCL, "clSetKernelArg(%s, %zu) failed: %s (%d)",
                              kname, i, clce__cl_error_name(err), (int)err);
    }
    return CLCE_OK;
}

void clce__chain_init(clce__chain *c, clce_device *dev, cl_uint nwait, const cl_event *wait) {
    c->dev = dev;
    c->nwait = nwait;
    c->wait = wait;
    c->last = NULL;
}

clce_status clce__chain_launch(clce__chain *c, cl_kernel k, const char *kname, size_t global,
                               size_t local) {
    cl_event ev = NULL;
    cl_int err;
    if (c->last) {
        err = clEnqueueNDRangeKernel(c->dev->queue, k, 1, NULL, &global, &local, 1, &c->last,
                                     &ev);
        clReleaseEvent(c->last);
    } else {
        err = clEnqueueNDRangeKernel(c->dev->queue, k, 1, NULL, &global, &local, c->nwait,
                                     c->nwait ? c->wait : NULL, &ev);
    }
    c->last = NULL;
    if (err != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s, global %zu, local %zu)", kname,
                 global, local);
        return clce__cl_fail(err, what);
    }
    c->last = ev;
    return CLCE_OK;
}

void clce__chain_finish(clce__chain *c, cl_event *event) {
    if (event)
        *event = c->last;
    else if (c->last)
        clReleaseEvent(c->last);
    c->last = NULL;
}

clce_status clce__scratch(clce_device *dev, size_t bytes, const char *what, cl_mem *out) {
    cl_int err;
    *out = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &err);
    if (err != CL_SUCCESS) {
        char msg[160];
        snprintf(msg, sizeof msg, "clCreateBuffer(%s, %zu bytes)", what, bytes);
        return clce__cl_fail(err, msg);
    }
    return CLCE_OK;
}

int clce__next_seq(clce_device *dev) {
    unsigned v = atomic_fetch_add(&dev->op_seq, 1u) + 1u;
    int s = (int)(v & 0x3fffffffu);
    return s ? s : 1;
}
