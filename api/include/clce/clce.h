/*
 * clce.h - the public contract of clce, PyTorch's cross-entropy loss family on OpenCL.
 *
 * Life cycle: create a device (clce_device_create or clce_device_create_from_queue), describe
 * tensors with clce_tensor_desc (sizes and strides in elements, plus an element offset), fill a
 * clce_loss_desc with clce_loss_desc_init and edit it, then enqueue ops.  Every op comes in two
 * forms: the asynchronous one enqueues on the device's queue, honours an event wait list and may
 * return an event the caller owns; the blocking form (suffix _sync) waits and reports errors
 * found on the device.  The library never owns or releases a caller's cl_mem.
 *
 * Errors: every function returns a clce_status.  clce_status_name / clce_status_message give
 * fixed text; clce_last_error_detail() gives a thread-local sentence naming the argument and the
 * value at fault (or the OpenCL error code, or the kernel build log).  Bad arguments are
 * rejected before anything is enqueued, so outputs are unchanged.
 *
 * Targets out of range are found by the kernels themselves.  An asynchronous op whose targets
 * are bad writes nothing and records the first offending position in the device's error
 * record; clce_device_sync() (called by every _sync op) reports it as
 * CLCE_ERROR_TARGET_OUT_OF_RANGE, naming the position and value, and clears the record.  While
 * the record is set, later ops on that device write nothing (like a poisoned stream, but
 * recoverable by the report).
 *
 * Thread safety: a clce_device may be used from several threads at once (its program cache is
 * locked; each op creates its own kernels), but ops enqueued from several threads on one device
 * share its queue and its error record, so an error may be reported to another thread's sync.
 *
 * The header compiles as C99 and C++.
 */
#ifndef CLCE_CLCE_H
#define CLCE_CLCE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CLCE_API
#elif defined(CLCE_BUILDING)
#define CLCE_API __attribute__((visibility("default")))
#else
#define CLCE_API
#endif

#define CLCE_VERSION_MAJOR 0
#define CLCE_VERSION_MINOR 1
#define CLCE_VERSION_PATCH 0
#define CLCE_VERSION_NUMBER                                                                        \
    (CLCE_VERSION_MAJOR * 10000 + CLCE_VERSION_MINOR * 100 + CLCE_VERSION_PATCH)
#define CLCE_VERSION_STRING "0.1.0"

/** Runtime version, CLCE_VERSION_NUMBER of the library actually linked. */
CLCE_API unsigned clce_version_number(void);
/** Runtime version string, e.g. "0.1.0". */
CLCE_API const char *clce_version_string(void);

/* ------------------------------------------------------------------------------------------ */
/* Status codes.  Values are pinned forever: new codes get new numbers.                        */

#define CLCE_STATUS_LIST(X)                                                                        \
    X(CLCE_OK, 0, "success")                                                                       \
    X(CLCE_ERROR_INVALID_ARGUMENT, -1, "invalid argument")                                         \
    X(CLCE_ERROR_INVALID_DTYPE, -2, "unsupported or mismatched data type")                         \
    X(CLCE_ERROR_INVALID_SHAPE, -3, "shape mismatch or invalid shape")                             \
    X(CLCE_ERROR_INVALID_LAYOUT, -4, "strides or offset invalid for the buffer")                   \
    X(CLCE_ERROR_UNSUPPORTED, -5, "not supported")                                                 \
    X(CLCE_ERROR_NO_DEVICE, -6, "no OpenCL device found")                                          \
    X(CLCE_ERROR_BUILD, -7, "OpenCL kernel build failed")                                          \
    X(CLCE_ERROR_OPENCL, -8, "OpenCL call failed")                                                 \
    X(CLCE_ERROR_OUT_OF_MEMORY, -9, "out of memory")                                               \
    X(CLCE_ERROR_TARGET_OUT_OF_RANGE, -10, "target class index out of range")

typedef enum clce_status {
#define CLCE__STATUS_ENUM(name, value, text) name = value,
    CLCE_STATUS_LIST(CLCE__STATUS_ENUM)
#undef CLCE__STATUS_ENUM
} clce_status;

/** "CLCE_OK", "CLCE_ERROR_INVALID_ARGUMENT", ...; "CLCE_UNKNOWN_STATUS" for other values. */
CLCE_API const char *clce_status_name(clce_status status);
/** A fixed human sentence for the status. */
CLCE_API const char *clce_status_message(clce_status status);
/** Thread-local detail of the last failure on this thread: the argument and value at fault,
 *  the raw cl_int, or the build log.  "" after success of a function that clears it.  The
 *  pointer stays valid until the next clce call on this thread. */
CLCE_API const char *clce_last_error_detail(void);

/* ------------------------------------------------------------------------------------------ */
/* Tensor descriptors                                                                          */

#define CLCE_MAX_DIMS 8

typedef enum clce_dtype {
    CLCE_DTYPE_INVALID = 0,
    CLCE_F32 = 1,
    CLCE_F64 = 2,  /* reserved: not yet accepted by any op */
    CLCE_F16 = 3,  /* reserved */
    CLCE_BF16 = 4, /* reserved */
    CLCE_I64 = 10,
    CLCE_I32 = 11,
    CLCE_U8 = 12
} clce_dtype;

/** Bytes per element of a dtype; 0 for an unknown one. */
CLCE_API size_t clce_dtype_size(clce_dtype dtype);
/** "float32", "int64", ...; "invalid" for an unknown one. */
CLCE_API const char *clce_dtype_name(clce_dtype dtype);

/** A strided view into a buffer: element (i0..i{ndim-1}) lives at element index
 *  offset + sum_k i_k * strides[k].  A plain value type: copy it with '='.  Unused entries of
 *  sizes/strides should be zero.  Strides must be >= 0; outputs must not overlap themselves. */
typedef struct clce_tensor_desc {
    clce_dtype dtype;
    int ndim;                       /* 0 .. CLCE_MAX_DIMS */
    int64_t sizes[CLCE_MAX_DIMS];   /* elements along each dimension */
    int64_t strides[CLCE_MAX_DIMS]; /* in elements */
    int64_t offset;                 /* in elements */
} clce_tensor_desc;

/** A contiguous row-major (C order) descriptor; sizes may be NULL when ndim is 0. */
CLCE_API clce_tensor_desc clce_tensor_contiguous(clce_dtype dtype, int ndim, const int64_t *sizes);
/** Number of elements (1 for ndim 0). */
CLCE_API int64_t clce_tensor_numel(const clce_tensor_desc *desc);

/* ------------------------------------------------------------------------------------------ */
/* Device                                                                                      */

typedef struct clce_device clce_device;

#define CLCE_DEVICE_OPTIONS_VERSION 1
typedef struct clce_device_options {
    unsigned struct_version; /* CLCE_DEVICE_OPTIONS_VERSION */
    /** Device to pick: -1 = automatic (env CLCE_DEVICE, else first GPU, else first CPU,
     *  else any); otherwise the index in clce_enumerate_devices' order. */
    int device_index;
    /** If non-NULL and device_index is -1: the first device whose name, vendor or platform
     *  name contains this substring (case-insensitive). Overrides CLCE_DEVICE. */
    const char *name_contains;
    /** Create the queue with profiling enabled (benchmarks). */
    int enable_profiling;
} clce_device_options;

CLCE_API void clce_device_options_init(clce_device_options *opts);

#define CLCE_DEVICE_INFO_VERSION 1
typedef struct clce_device_info {
    char name[256];
    char vendor[256];
    char platform_name[256];
    char driver_version[128];
    char opencl_version[128];
    cl_device_type type;
    int index; /* position in clce_enumerate_devices' order, -1 if adopted and not found */
    int has_fp64;
    int has_fp16;
    unsigned compute_units;
    size_t max_work_group_size;
    uint64_t local_mem_size;
    uint64_t global_mem_size;
    uint64_t max_mem_alloc_size;
    char selection_reason[256]; /* why this device was picked */
} clce_device_info;

/** Lists every OpenCL device of every platform, in the order used for CLCE_DEVICE indices.
 *  Writes up to capacity entries and sets *count to the number that exist (entries may be NULL
 *  with capacity 0 to count).  Returns CLCE_ERROR_NO_DEVICE if there is no platform. */
CLCE_API clce_status clce_enumerate_devices(clce_device_info *entries, size_t capacity,
                                            size_t *count);

/** Picks a device (see clce_device_options; opts may be NULL for defaults), creates a context
 *  and an in-order queue, and reads its capabilities.  CLCE_DEVICE=<index> or
 *  CLCE_DEVICE=<name substring> overrides the automatic choice.
 *  Errors: CLCE_ERROR_NO_DEVICE (none found / no match), CLCE_ERROR_OPENCL, OUT_OF_MEMORY. */
CLCE_API clce_status clce_device_create(const clce_device_options *opts, clce_device **out);

/** Adopts a caller's queue (retained; released by clce_device_destroy).  Its context and device
 *  are used; an out-of-order queue is allowed (ops chain their own kernels with events). */
CLCE_API clce_status clce_device_create_from_queue(cl_command_queue queue, clce_device **out);

/** Waits for outstanding work, releases everything the device owns.  NULL is accepted. */
CLCE_API void clce_device_destroy(clce_device *device);

CLCE_API clce_status clce_device_get_info(const clce_device *device, clce_device_info *info);
CLCE_API cl_context clce_device_context(const clce_device *device);
CLCE_API cl_command_queue clce_device_queue(const clce_device *device);

/** Waits for all work on the device's queue, then reports (and clears) an error that kernels
 *  recorded, e.g. CLCE_ERROR_TARGET_OUT_OF_RANGE with the position and value in the detail. */
CLCE_API clce_status clce_device_sync(clce_device *device);

/** Builds every embedded kernel file once with a representative set of options (named in the
 *  file), so a driver that cannot compile one of them fails here, at a known point.  Other
 *  option sets are still compiled at first use and then cached. */
CLCE_API clce_status clce_device_warm_up(clce_device *device);

/* ------------------------------------------------------------------------------------------ */
/* Loss options                                                                                */

typedef enum clce_reduction {
    CLCE_REDUCTION_NONE = 0,
    CLCE_REDUCTION_SUM = 1,
    CLCE_REDUCTION_MEAN = 2
} clce_reduction;

#define CLCE_LOSS_DESC_VERSION 1
#define CLCE_CLASS_AXIS_DEFAULT (-1000)

typedef struct clce_loss_desc {
    unsigned struct_version;  /* stamped by clce_loss_desc_init */
    clce_reduction reduction; /* default CLCE_REDUCTION_MEAN */
    int64_t ignore_index;     /* default -100 (class-index targets only) */
    double label_smoothing;   /* default 0; in [0, 1]; negative acts as 0 (PyTorch) */
    /** Which input dimension holds the classes; default CLCE_CLASS_AXIS_DEFAULT means PyTorch's
     *  rule: 1, or 0 for an unbatched 1-D input.  Negative values count from the end. */
    int class_axis;
} clce_loss_desc;

CLCE_API void clce_loss_desc_init(clce_loss_desc *desc);

/* ------------------------------------------------------------------------------------------ */
/* cross_entropy forward                                                                       */

/**
 * cross_entropy forward with class-index targets (PyTorch F.cross_entropy).
 *
 * input:  f32 logits, shape (C) or (N, C, d1..dK) with the class dimension at
 *         desc->class_axis; any non-negative strides and offset.
 * target: int64 or int32 (uint8 too) class indices, shape = input's shape without the class
 *         dimension (0-d for a (C) input); its own strides.
 * weight: NULL, or f32 per-class weights, shape (C).
 * loss:   f32; reduction NONE: target's shape (own strides); SUM/MEAN: 0-d (one element).
 * stats:  NULL, or a buffer of at least 2 * rows floats that receives, for each row in
 *         row-major order of the non-class dimensions, (m, log sum_c exp(x_c - m)): the row's
 *         log-sum-exp is their sum.  m is the row's max, or a logit of the row at most ln 256
 *         (5.55) below it: a long row's scan takes its exps against the first part's max and
 *         moves m only when a later logit would make its sum lose precision (no separate pass
 *         for the max).  The backward reuses it.
 *
 * Returns CLCE_OK when enqueued.  Validation errors (INVALID_ARGUMENT, INVALID_DTYPE,
 * INVALID_SHAPE, INVALID_LAYOUT, UNSUPPORTED) are returned before anything is enqueued.
 * A target out of range is found on the device (see the header comment).  *event, if event is
 * non-NULL, receives an event for the op's last command; the caller releases it.
 */
CLCE_API clce_status clce_cross_entropy_forward(clce_device *device, const clce_loss_desc *desc,
                                                const clce_tensor_desc *input_desc, cl_mem input,
                                                const clce_tensor_desc *target_desc, cl_mem target,
                                                const clce_tensor_desc *weight_desc, cl_mem weight,
                                                const clce_tensor_desc *loss_desc, cl_mem loss,
                                                cl_mem stats, cl_uint num_wait_events,
                                                const cl_event *wait_events, cl_event *event);

/** Blocking form: enqueue, wait, report device-side errors. */
CLCE_API clce_status clce_cross_entropy_forward_sync(
    clce_device *device, const clce_loss_desc *desc, const clce_tensor_desc *input_desc,
    cl_mem input, const clce_tensor_desc *target_desc, cl_mem target,
    const clce_tensor_desc *weight_desc, cl_mem weight, const clce_tensor_desc *loss_desc,
    cl_mem loss, cl_mem stats);

/* ------------------------------------------------------------------------------------------ */
/* cross_entropy backward and fused loss + gradient                                            */

/**
 * cross_entropy backward (class-index or class-probability targets; a float32 target with the
 * input's shape holds probabilities, as in PyTorch).
 *
 * grad_output: f32; reduction NONE: the loss's shape (per-element); SUM/MEAN: one element.
 * stats:       NULL (recomputed from the input) or the forward's stats buffer (2 floats/row).
 * grad_input:  f32, the input's shape; grad_input_desc NULL means the input's strides and
 *              offset.  The mean's denominator is computed on the device.
 */
CLCE_API clce_status clce_cross_entropy_backward(
    clce_device *device, const clce_loss_desc *desc, const clce_tensor_desc *input_desc,
    cl_mem input, const clce_tensor_desc *target_desc, cl_mem target,
    const clce_tensor_desc *weight_desc, cl_mem weight, const clce_tensor_desc *grad_output_desc,
    cl_mem grad_output, cl_mem stats, const clce_tensor_desc *grad_input_desc, cl_mem grad_input,
    cl_uint num_wait_events, const cl_event *wait_events, cl_event *event);

/**
 * Fused loss + gradient (what training loops call): computes the loss as
 * clce_cross_entropy_forward does and the gradient as clce_cross_entropy_backward does, reading
 * the logits at most twice and writing the gradient once.  grad_output NULL means 1 (sum/mean)
 * or all ones (none).  grad_input may be the input buffer itself (in place, no second N x C
 * buffer) when grad_input_desc is NULL or equal to input_desc.  The gradient is bit-identical
 * to forward + backward.  loss may be NULL (gradient only).
 */
CLCE_API clce_status clce_cross_entropy_fused(
    clce_device *device, const clce_loss_desc *desc, const clce_tensor_desc *input_desc,
    cl_mem input, const clce_tensor_desc *target_desc, cl_mem target,
    const clce_tensor_desc *weight_desc, cl_mem weight, const clce_tensor_desc *loss_desc,
    cl_mem loss, const clce_tensor_desc *grad_output_desc, cl_mem grad_output,
    const clce_tensor_desc *grad_input_desc, cl_mem grad_input, cl_uint num_wait_events,
    const cl_event *wait_events, cl_event *event);

/* ------------------------------------------------------------------------------------------ */
/* nll_loss (input holds log-probabilities; any real values are accepted)                      */

/** nll_loss forward: same shapes, weight, ignore_index and reductions as cross_entropy with
 *  class-index targets; desc->label_smoothing must be 0.  Input ndim >= 1. */
CLCE_API clce_status clce_nll_loss_forward(clce_device *device, const clce_loss_desc *desc,
                                           const clce_tensor_desc *input_desc, cl_mem input,
                                           const clce_tensor_desc *target_desc, cl_mem target,
                                           const clce_tensor_desc *weight_desc, cl_mem weight,
                                           const clce_tensor_desc *loss_desc, cl_mem loss,
                                           cl_uint num_wait_events, const cl_event *wait_events,
                                           cl_event *event);

/** nll_loss backward: grad_input[r, t_r] = -g_r w_{t_r}, 0 elsewhere.  Only the input's shape
 *  is used (input_desc); grad_input_desc NULL means the input's layout (strides, offset). */
CLCE_API clce_status clce_nll_loss_backward(
    clce_device *device, const clce_loss_desc *desc, const clce_tensor_desc *input_desc,
    const clce_tensor_desc *target_desc, cl_mem target, const clce_tensor_desc *weight_desc,
    cl_mem weight, const clce_tensor_desc *grad_output_desc, cl_mem grad_output,
    const clce_tensor_desc *grad_input_desc, cl_mem grad_input, cl_uint num_wait_events,
    const cl_event *wait_events, cl_event *event);

/* ------------------------------------------------------------------------------------------ */
/* softmax / log_softmax along any dimension (negative dims count from the end; a 0-d input   */
/* is allowed: softmax 1, log_softmax 0)                                                       */

CLCE_API clce_status clce_softmax_forward(clce_device *device, int dim,
                                          const clce_tensor_desc *input_desc, cl_mem input,
                                          const clce_tensor_desc *output_desc, cl_mem output,
                                          cl_uint num_wait_events, const cl_event *wait_events,
                                          cl_event *event);
CLCE_API clce_status clce_log_softmax_forward(clce_device *device, int dim,
                                              const clce_tensor_desc *input_desc, cl_mem input,
                                              const clce_tensor_desc *output_desc, cl_mem output,
                                              cl_uint num_wait_events, const cl_event *wait_events,
                                              cl_event *event);
/** Backward from the forward's output y and upstream gradient g:
 *  softmax: dx = y (g - sum(g y)); log_softmax: dx = g - exp(y) sum(g).
 *  grad_input_desc NULL means the output's layout (its strides and offset). */
CLCE_API clce_status clce_softmax_backward(clce_device *device, int dim,
                                           const clce_tensor_desc *output_desc, cl_mem output,
                                           const clce_tensor_desc *grad_output_desc,
                                           cl_mem grad_output,
                                           const clce_tensor_desc *grad_input_desc,
                                           cl_mem grad_input, cl_uint num_wait_events,
                                           const cl_event *wait_events, cl_event *event);
CLCE_API clce_status clce_log_softmax_backward(clce_device *device, int dim,
                                               const clce_tensor_desc *output_desc, cl_mem output,
                                               const clce_tensor_desc *grad_output_desc,
                                               cl_mem grad_output,
                                               const clce_tensor_desc *grad_input_desc,
                                               cl_mem grad_input, cl_uint num_wait_events,
                                               const cl_event *wait_events, cl_event *event);

#ifdef __cplusplus
}
#endif

#endif /* CLCE_CLCE_H */
