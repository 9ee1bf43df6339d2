/*
 * runtime.h - internal interface of the device manager: device handle layout, thread-local
 * error detail, OpenCL error translation, embedded kernel sources and the program cache.
 * Nothing here knows about losses; api/ builds on it.
 */
#ifndef CLCE_RUNTIME_H
#define CLCE_RUNTIME_H

#include "clce/clce.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

/* ---- error detail (detail.c) ---- */
void clce__clear_detail(void);
void clce__set_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets the detail and returns status, so error paths read `return clce__fail(...)`. */
clce_status clce__fail(clce_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Translates a failed OpenCL call: CL_OUT_OF_*_MEMORY -> OUT_OF_MEMORY, else OPENCL. */
clce_status clce__cl_fail(cl_int err, const char *what);
const char *clce__cl_error_name(cl_int err);

/* ---- embedded kernel sources (generated embedded_kernels.c) ---- */
typedef struct clce__kernel_source {
    const char *name;   /* file name, e.g. "ce_fwd.cl" */
    const char *text;   /* NUL-terminated source */
    const char *sha256; /* hex digest of the file */
} clce__kernel_source;
extern const clce__kernel_source clce__kernel_sources[];
extern const size_t clce__kernel_source_count;
const clce__kernel_source *clce__find_kernel_source(const char *name);

/* ---- program cache (program_cache.c) ---- */
typedef struct clce__program_entry {
    char *file;    /* kernel file name */
    char *options; /* full build option string */
    cl_program program;
} clce__program_entry;

typedef struct clce__program_cache {
    pthread_mutex_t lock;
    clce__program_entry *entries;
    size_t count, capacity;
} clce__program_cache;

void clce__program_cache_init(clce__program_cache *cache);
void clce__program_cache_clear(clce__program_cache *cache);

/* ---- device handle (device.c) ---- */

/* Layout of the device error record (see cl/common.clh, which mirrors it). */
enum {
    CLCE__REC_BAD_ROW = 0, /* smallest offending row, INT_MAX when clear */
    CLCE__REC_VALUE_LO = 1,
    CLCE__REC_VALUE_HI = 2,
    CLCE__REC_SEQ = 3,         /* op sequence number that failed, 0 when clear */
    CLCE__REC_CLASSES = 4,     /* C of that op */
    CLCE__REC_OP = 5,          /* clce__op_code */
    CLCE__REC_PENDING_ROW = 6, /* written by row kernels that check targets themselves */
    CLCE__RECORD_INTS = 8
};
typedef enum clce__op_code {
    CLCE__OP_CROSS_ENTROPY_FORWARD = 1,
    CLCE__OP_CROSS_ENTROPY_BACKWARD = 2,
    CLCE__OP_CROSS_ENTROPY_FUSED = 3,
    CLCE__OP_NLL_FORWARD = 4,
    CLCE__OP_NLL_BACKWARD = 5
} clce__op_code;
const char *clce__op_name(int op_code);

/* Launch parameters per device type and vendor (tuning.c). */
typedef struct clce__tuning {
    size_t row_wg;                /* work-group size for one-item-per-row kernels */
    size_t reduce_wg;             /* work-group size of the reduction kernels */
    size_t reduce_items;          /* elements each reduction work-item folds serially */
    int64_t target_rows_per_item; /* rows per item of the target scans (check, mean denominator) */
    /* cross_entropy forward fast paths (cl/ce_fwd_fast.cl; api/src/ce_forward.c picks) */
    int fwd_fast;                 /* 0: generic row kernel only */
    size_t fwd_vrow_wg;           /* work-group size of ce_fwd_vrows / ce_fwd_merge */
    int fwd_chunk_vecs;           /* float16 vectors per chunk max (CHV) */
    int fwd_chunk_vecs_weighted;  /* the same with class weights + smoothing */
    int64_t fwd_vrow_min_classes; /* class-contiguous rows at least this long use vrows */
    int fwd_vrow_weighted_rows;   /* vrows with weights + smoothing: rows per item sharing
                                   * each weights vector (VROWS_R; 1: one row per item) */
    int fwd_vrow_rows;            /* vrows otherwise: rows per item (VROWS_R, at most 16),
                                   * their logs taken at once ... */
    int64_t vrow_fwd_floats;      /* ... while rows x classes stays within this (forward) */
    int64_t vrow_grad_floats;     /* ... or this (backward and fused, which reread the rows) */
    size_t fwd_lane_wg;           /* work-group size of ce_fwd_lanes */
    int fwd_lane_chunk;           /* classes per chunk max in ce_fwd_lanes (LCH) */
    size_t fwd_lane_groups;       /* groups of 16 lanes per ce_fwd_lanes work-item */
    /* 16-lane kernels built for the class count (NCLS) up to lane_const_max_classes, and
     * transposing contiguous 16-row blocks (runtime/transpose_gen.c) up to
     * lane_transpose_max_classes (<= 64); both only for problems of at least
     * lane_specialize_min_rows rows (a build per class count costs ~1 s cold).  0 / INT64_MAX:
     * never. */
    int64_t lane_const_max_classes;
    int64_t lane_transpose_max_classes;
    int64_t lane_specialize_min_rows;
    /* transposed 16-row blocks (C >= 16) prefetch the block this many groups ahead (0: not);
     * the forward (read-only) its own distance, into L2 */
    int lane_prefetch_groups;
    int fwd_lane_prefetch_groups;
    /* class vectors a plane apart (NCHW) prefetch this many groups ahead (0: not) */
    int lane_plane_prefetch_groups;
    /* class-contiguous row scans prefetch the chunk this many chunks ahead (0: not) */
    int row_prefetch_chunks;
    int64_t grad_stream_min_bytes; /* fast gradient kernels use streaming (non-temporal)
                                    * stores for gradients of at least this size (0: never) */
    int64_t stream_odd_classes;    /* ... and class-contiguous rows of C % 16 != 0
                                    * classes only from this many classes */
    size_t grad_lane_keep;         /* ce_grad_lanes keeps up to this many classes' vectors
                                    * from its stats pass in private memory (0: re-read) */
    int64_t fwd_wgrow_min_classes; /* rows at least this long: a work-group per row (GPU) */
    size_t fwd_wgrow_wg;           /* its work-group size (power of two) */
    int64_t fwd_split_min_classes; /* split rows at least this long ... */
    int64_t fwd_split_items;       /* ... when rows < this many: nseg = ceil(items / rows) */
} clce__tuning;

struct clce_device {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    int out_of_order;
    clce_device_info info;
    clce__tuning tuning;
    /* int[CLCE__RECORD_INTS], written by kernels, read and reset by clce_device_sync. */
    cl_mem error_record;
    atomic_uint op_seq;
    clce__program_cache cache;
};

/* Returns the built program for a kernel file with the given -D options (sorted and prefixed
 * with the fixed options here).  Common headers are prepended.  Thread-safe. */
clce_status clce__get_program(clce_device *dev, const char *file, const char *defines,
                              cl_program *out);
/* Creates a kernel from clce__get_program; caller releases it. */
clce_status clce__get_kernel(clce_device *dev, const char *file, const char *defines,
                             const char *kernel_name, cl_kernel *out);

/* native_float_width: the device's CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT (0 if unknown) */
void clce__tuning_for(const clce_device_info *info, cl_uint native_float_width, clce__tuning *out);

/* OpenCL source of the TR_COLS / TR_ROWS transposes for C classes (1..32), malloc'd; NULL when
 * out of memory or C is out of range (transpose_gen.c). */
char *clce__transpose_source(int C);

#endif
