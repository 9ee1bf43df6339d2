/*
 * launch.c - kernel argument setting, event chaining across an op's kernels (so ops are correct
 * on out-of-order queues too), scratch buffers and op sequence numbers.
 */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clce_status clce__set_args(cl_kernel k, const char *kname, const clce__arg *args, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS)
            return clce__fail(CLCE_ERROR_OPENCL, "clSetKernelArg(%s, %zu) failed: %s (%d)", kname,
                              i, clce__cl_error_name(err), (int)err);
    }
    return CLCE_OK;
}

clce_status clce__check_wait_list(cl_uint num_wait_events, const cl_event *wait_events) {
    if (num_wait_events > 0 && !wait_events)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "wait_events is NULL but num_wait_events is %u", num_wait_events);
    return CLCE_OK;
}

void clce__chain_init(clce__chain *c, clce_device *dev, cl_uint nwait, const cl_event *wait) {
    c->dev = dev;
    c->nwait = nwait;
    c->wait = wait;
    c->last = NULL;
    c->nscratch = 0;
}

clce_status clce__chain_launch(clce__chain *c, cl_kernel k, const char *kname, size_t global,
                               size_t local) {
    cl_event ev = NULL;
    cl_int err;
    if (c->last) {
        err = clEnqueueNDRangeKernel(c->dev->queue, k, 1, NULL, &global, &local, 1, &c->last, &ev);
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

static clce_status clce__scratch(clce_device *dev, size_t bytes, const char *what, cl_mem *out) {
    cl_int err;
    *out = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &err);
    if (err != CL_SUCCESS) {
        char msg[160];
        snprintf(msg, sizeof msg, "clCreateBuffer(%s, %zu bytes)", what, bytes);
        return clce__cl_fail(err, msg);
    }
    return CLCE_OK;
}

typedef struct scratch_list {
    cl_event event;
    int n;
    cl_mem mems[CLCE__CHAIN_MAX_SCRATCH];
} scratch_list;

static void release_list(scratch_list *l) {
    for (int i = 0; i < l->n; ++i)
        clReleaseMemObject(l->mems[i]);
    if (l->event)
        clReleaseEvent(l->event);
    free(l);
}

static void CL_CALLBACK on_chain_complete(cl_event ev, cl_int status, void *user) {
    (void)ev;
    (void)status;
    release_list(user);
}

clce_status clce__chain_launch_rows(clce__chain *c, cl_kernel k, const char *kname, int64_t rows) {
    const size_t wg = c->dev->tuning.row_wg;
    return clce__chain_launch(c, k, kname, clce__round_up((size_t)rows, wg), wg);
}

void clce__chain_finish(clce__chain *c, cl_event *event) {
    if (c->nscratch > 0) {
        scratch_list *l = malloc(sizeof *l);
        if (!l || !c->last) {
            /* nothing in flight (or no memory for the list): wait, then release directly */
            if (c->last)
                clWaitForEvents(1, &c->last);
            for (int i = 0; i < c->nscratch; ++i)
                clReleaseMemObject(c->scratch[i]);
            free(l);
        } else {
            l->n = c->nscratch;
            memcpy(l->mems, c->scratch, sizeof(cl_mem) * (size_t)c->nscratch);
            l->event = c->last;
            clRetainEvent(c->last);
            if (clSetEventCallback(c->last, CL_COMPLETE, on_chain_complete, l) != CL_SUCCESS) {
                clWaitForEvents(1, &c->last);
                release_list(l);
            }
        }
        c->nscratch = 0;
    }
    if (event)
        *event = c->last;
    else if (c->last)
        clReleaseEvent(c->last);
    c->last = NULL;
}

clce_status clce__chain_end(clce__chain *c, clce_status st, cl_event *event) {
    clce__chain_finish(c, st == CLCE_OK ? event : NULL);
    return st;
}

clce_status clce__chain_scratch(clce__chain *c, size_t bytes, const char *what, cl_mem *out) {
    *out = NULL;
    if (c->nscratch == CLCE__CHAIN_MAX_SCRATCH)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "internal: more than %d scratch buffers in one op (%s)",
                          CLCE__CHAIN_MAX_SCRATCH, what);
    clce_status st = clce__scratch(c->dev, bytes, what, out);
    if (st == CLCE_OK)
        c->scratch[c->nscratch++] = *out;
    return st;
}

int clce__next_seq(clce_device *dev) {
    unsigned v = atomic_fetch_add(&dev->op_seq, 1u) + 1u;
    int s = (int)(v & 0x3fffffffu);
    return s ? s : 1;
}
