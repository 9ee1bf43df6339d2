/*
 * ops.h - internal helpers shared by the ops: argument checks that name the argument and value,
 * row geometry (how a strided N-D tensor becomes rows x classes), kernel argument setting and
 * event chaining.
 */
#ifndef CLCE_OPS_H
#define CLCE_OPS_H

#include "runtime.h"

#include <stdbool.h>

#define CLCE__ROW_DIMS_MAX 7
#define CLCE__ROLES 4

/* Rows x classes view of up to four tensors sharing the row dimensions. */
typedef struct clce__rowgeom {
    int64_t rows;    /* product of the non-class sizes */
    int64_t classes; /* size of the class dimension */
    int nd;          /* 1..7 row dimensions after dropping size-1 dims and merging */
    int64_t size[CLCE__ROW_DIMS_MAX];                /* innermost first */
    int64_t stride[CLCE__ROLES][CLCE__ROW_DIMS_MAX]; /* per role, innermost first */
    int64_t class_stride[CLCE__ROLES];               /* 0 for roles without a class dim */
    int64_t offset[CLCE__ROLES];
} clce__rowgeom;

/* Resolves desc->class_axis (or PyTorch's default) against ndim; -1 with a detail if invalid. */
int clce__resolve_class_axis(int class_axis, int ndim);

/* Checks a tensor argument: non-NULL desc and buffer, dtype in `allowed` (0-terminated list),
 * sane sizes/strides/offset, and that every addressed element lies inside the buffer.
 * For outputs, also that no dimension of size > 1 has stride 0. */
clce_status clce__check_tensor(const char *name, const clce_tensor_desc *desc, cl_mem mem,
                               const clce_dtype *allowed, bool is_output);

/* Builds the row geometry.  roles[0] is the tensor that holds the class dimension at
 * class_axis; roles[1..3] (NULL when absent) either have the same ndim (full: class dim
 * included) or one less (class dim removed).  Shapes must already be checked. */
void clce__rowgeom_build(const clce_tensor_desc *roles[CLCE__ROLES], int class_axis,
                         clce__rowgeom *g);

/* "(2, 3, 4)" into buf. */
const char *clce__shape_str(const clce_tensor_desc *d, char *buf, size_t len);

/* Kernel arguments. */
typedef struct clce__arg {
    size_t size;
    const void *value;
} clce__arg;
#define CLCE_ARG(v) ((clce__arg){sizeof(v), &(v)})
clce_status clce__set_args(cl_kernel k, const char *kname, const clce__arg *args, size_t n);

/* Long8 vectors of a geometry's sizes and strides, padded with size 1 / stride 0. */
cl_long8 clce__geom_sizes(const clce__rowgeom *g);
cl_long8 clce__geom_strides(const clce__rowgeom *g, int role);

/* Event chain: the first launch waits on the caller's list, each later one on the previous. */
#define CLCE__CHAIN_MAX_SCRATCH 16
typedef struct clce__chain {
    clce_device *dev;
    cl_uint nwait;
    const cl_event *wait;
    cl_event last;
    cl_mem scratch[CLCE__CHAIN_MAX_SCRATCH]; /* released when the chain's last command ends */
    int nscratch;
} clce__chain;
/* CLCE_ERROR_INVALID_ARGUMENT when a wait list is counted but missing; every op checks it before
 * enqueuing anything. */
clce_status clce__check_wait_list(cl_uint num_wait_events, const cl_event *wait_events);
void clce__chain_init(clce__chain *c, clce_device *dev, cl_uint nwait, const cl_event *wait);
clce_status clce__chain_launch(clce__chain *c, cl_kernel k, const char *kname, size_t global,
                               size_t local);
/* One work-item per row: `rows` items in groups of the tuning table's row_wg. */
clce_status clce__chain_launch_rows(clce__chain *c, cl_kernel k, const char *kname, int64_t rows);
/* Hands the last event to *event (or releases it) and arranges for the chain's scratch
 * buffers to be released once that event completes. */
void clce__chain_finish(clce__chain *c, cl_event *event);
/* Ends an op: on success hands the last event to *event (or releases it).  On failure it does
 * not block: what was already enqueued (it reads the inputs and writes scratch and the error
 * record) may still be waiting on the caller's events, possibly user events the caller would
 * only set after this call returns; its scratch is released when it completes.  Returns st. */
clce_status clce__chain_end(clce__chain *c, clce_status st, cl_event *event);
/* A device scratch buffer of `bytes` (at least 1) owned by the chain: it lives until the
 * chain's last command has completed.  (Releasing right after enqueueing is legal OpenCL, but
 * Oclgrind then reports reads of freed memory, and a library should not lean on every driver
 * deferring the free correctly.) */
clce_status clce__chain_scratch(clce__chain *c, size_t bytes, const char *what, cl_mem *out);

/* Next nonzero op sequence number for the error record. */
int clce__next_seq(clce_device *dev);

/* Round up to a multiple. */
static inline size_t clce__round_up(size_t n, size_t m) {
    return (n + m - 1) / m * m;
}

#endif
