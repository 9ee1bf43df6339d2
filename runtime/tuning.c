/*
 * tuning.c - the one table of launch parameters, keyed by device type (and later vendor), so a
 * GPU gets GPU-shaped launches and POCL's CPU device gets few, fat work-items.  Kernels read
 * these as build options or launch sizes; nothing else in the library hard-codes them.
 */
#include "runtime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A threshold of the table overridden by an environment variable, when set and non-empty. */
static void env_threshold(const char *name, int64_t *field) {
    const char *v = getenv(name);
    if (v && *v)
        *field = strtoll(v, NULL, 10);
}

void clce__tuning_for(const clce_device_info *info, cl_uint native_float_width, clce__tuning *out) {
    int is_cpu = (info->type & CL_DEVICE_TYPE_CPU) != 0;
    /* CLCE_TUNING=gpu|cpu picks a row of the table regardless of the device: tests run the
     * GPU-shaped kernels on POCL for correctness, benchmarks compare shapes. */
    const char *force = getenv("CLCE_TUNING");
    if (force && !strcmp(force, "gpu"))
        is_cpu = 0;
    else if (force && !strcmp(force, "cpu"))
        is_cpu = 1;
    if (is_cpu) {
        /* POCL runs a work-group as a loop over its items: small groups, much work each. */
        out->row_wg = 8;
        out->reduce_wg = 16;
        out->reduce_items = 4096;
        out->target_rows_per_item = 4096;
        /* forward: float16 loads inside a work-item, chunk max then one exp per logit */
        out->fwd_fast = 1;
        out->fwd_vrow_wg = 1;
        out->fwd_chunk_vecs = 16;
        /* weighted rows (4 at a time, below) do best with half the chunk: (8192, 32000)
         * forward 52 -> 43 ms; plain rows lose 5% with it */
        out->fwd_chunk_vecs_weighted = 8;
        out->fwd_vrow_min_classes = 32;
        /* the weights stream next to the logits cost as much as the exponentials: each weights
         * vector serves 4 rows ((8192, 32000) weights + smoothing: see the commit) */
        out->fwd_vrow_weighted_rows = 4;
        /* a scalar log per row was a quarter of the row kernel: up to 16 rows per item share
         * one float16 log ((5e5, 100) forward 22.5 -> 12.5 ms, fused 39.3 -> 23.4), as many as
         * fit 4096 logits (forward) or 1600 (the gradients reread each row: (4e5, 200) fused
         * 16 rows 50 ms, 8 rows 40; (5e4, 1000) forward 4 rows 7.9 ms, 16 rows 8.9) */
        out->fwd_vrow_rows = 16;
        out->vrow_fwd_floats = 4096;
        out->vrow_grad_floats = 1600;
        out->fwd_lane_wg = 1;
        out->fwd_lane_chunk = 16;
        out->fwd_lane_groups = 32;
        /* the fused 16-lane kernel's write pass re-read the logits from global memory: for
         * NCHW the class vectors lie a plane apart (same cache set), for tiny class-contiguous
         * rows every vector is a gather; small rows keep them (2 KiB) instead */
        out->grad_lane_keep = 32;
        /* streaming stores skip the read-for-ownership of each gradient line (a third of the
         * fused call's traffic: (8192, 32000) 81 -> 71 ms, NCHW 49 -> 41 ms); below the L3's
         * size a plain store leaves the gradient in cache for whoever reads it next */
        out->grad_stream_min_bytes = 32 << 20;
        /* ... but rows of C % 16 != 0 classes start off the 64-byte grid one row in two (or
         * more): streamed there only long rows, the others plain throughout (fused minima of 4
         * runs, streamed vs plain: (4e5, 120) 33.7 vs 21.4 ms, (4e5, 200) 41.3 vs 32.3,
         * (5e4, 1000) 17.6 vs 15.9, (3e4, 1500) 15.0 vs 13.7, but (1e4, 5000) 16.7 vs 18.2) */
        out->stream_odd_classes = 4096;
        /* 16-row blocks of up to 64 classes transposed in registers (four ranges of 16): the
         * 16-lane kernel then beats vrows' item per row ((1e6, 32) forward 29 -> 6 ms, fused
         * 44 -> 12; (5e5, 64) 16 -> 7 / 26 -> 17; from ~100 classes vrows' fused kernel is
         * faster again: (2.5e5, 128) 17.6 vs 23 ms) */
        out->lane_transpose_max_classes = 64;
        /* a program per small class count: constant loops, one chunk (NCHW C = 21: -9%).  Up
         * to 64 it was faster still (C = 33 fused 15 -> 12.7 ms) but the fused kernel's cold
         * build took 8-9 s, against ~4 s (as C = 21's) with chunks of 16 */
        out->lane_const_max_classes = 32;
        out->lane_specialize_min_rows = 16384;
        /* the hardware prefetchers stop at each 4 KiB page (three 16-row blocks of C = 21)
         * and an item's blocks are 43 KiB apart from its neighbour's on the other thread:
         * channels-last forward 10.1 -> 8.6 ms with the next block prefetched */
        out->lane_prefetch_groups = 1;
        /* the forward, which writes nothing, further ahead and into L2: channels-last
         * forward 7.8 -> 7.5 ms (the fused kernel lost 14% that way: its gradient stores
         * share the caches) */
        out->fwd_lane_prefetch_groups = 4;
        /* NCHW: to L2, two groups ahead (into L1 the planes' lines evict each other): forward
         * 8.4 -> 7.6 ms on AVX2.  With AVX-512 (16-float native vectors) no prefetch did
         * better: medians of 3 interleaved runs, none vs two groups, forward 6.03 vs 6.33 ms,
         * loss + gradient 8.68 vs 9.20 (one group: 6.27 / 9.53) */
        out->lane_plane_prefetch_groups = native_float_width >= 16 ? 0 : 2;
        /* a row scan's core waits on memory between its bursts of exps: its loads (then also
         * the next chunk's max, one chunk (1 KiB) ahead; no max pass since d38d680) came too
         * late for DRAM; two chunks further ahead into L1, paired medians of 5 against no
         * prefetch: (8192, 32000) forward 0.82-0.89 of the time, fused 0.84 (1 chunk: 0.97-1.0, 4:
         * 0.85-0.91).  Not in the weighted 4-row loop (four rows and the weights: 1.03-1.15 there).
         * That was on AVX2 (8 floats a native vector); with AVX-512 (16: a chunk's vectors take
         * half the instructions) the scan runs ahead of 2 chunks: 5 on an AVX-512 EPYC, medians of
         * 3 interleaved runs against 2: (8192, 32000) forward 25.2 vs 29.2 ms, fused 65.9 vs 73.5;
         * (4096, 128256) forward 50 vs 64 (3 and 4: in between or level with 5; 6 and 8 behind it)
         */
        out->row_prefetch_chunks = native_float_width >= 16 ? 5 : 2;
        out->fwd_wgrow_min_classes = INT64_MAX; /* 0.9 GB/s on POCL: never */
        out->fwd_wgrow_wg = 1;
        out->fwd_split_min_classes = 16384;
        out->fwd_split_items = 8 * (int64_t)(info->compute_units ? info->compute_units : 1);
    } else {
        out->row_wg = 64;
        out->reduce_wg = 256;
        out->reduce_items = 64;
        out->target_rows_per_item = 16;
        /* GPUs: class-contiguous rows get a work-group per row (items stride the row:
         * coalesced), pixel-contiguous NCHW the 16-lane kernel with one group per item
         * (neighbouring items read neighbouring 64-byte segments); per-item float16 rows
         * (uncoalesced on a GPU) and row splitting are off. */
        out->fwd_fast = 1;
        out->fwd_vrow_wg = 64;
        out->fwd_chunk_vecs = 4;
        out->fwd_chunk_vecs_weighted = 4;
        out->fwd_vrow_min_classes = INT64_MAX;
        out->fwd_vrow_weighted_rows = 1;
        out->fwd_vrow_rows = 1;
        out->vrow_fwd_floats = 0;
        out->vrow_grad_floats = 0;
        out->fwd_lane_wg = 64;
        out->fwd_lane_chunk = 4;
        out->fwd_lane_groups = 1;
        out->grad_lane_keep = 0; /* private arrays spill on GPUs */
        out->grad_stream_min_bytes = 0;
        out->stream_odd_classes = 0;
        out->lane_transpose_max_classes = 0;
        out->lane_const_max_classes = 0;
        out->lane_specialize_min_rows = INT64_MAX;
        out->lane_prefetch_groups = 0;
        out->fwd_lane_prefetch_groups = 0;
        out->lane_plane_prefetch_groups = 0;
        out->row_prefetch_chunks = 0;
        out->fwd_wgrow_min_classes = 128;
        out->fwd_wgrow_wg = 256;
        out->fwd_split_min_classes = INT64_MAX;
        out->fwd_split_items = 0;
    }
    /* Prefetches only where measured and known to build: POCL (Oclgrind, a simulator, has no
     * prefetch intrinsic and its kernels would not build; other CPU runtimes are unmeasured) */
    if (!strstr(info->platform_name, "Portable Computing Language")) {
        out->lane_prefetch_groups = 0;
        out->fwd_lane_prefetch_groups = 0;
        out->lane_plane_prefetch_groups = 0;
        out->row_prefetch_chunks = 0;
    }
    /* CLCE_GRAD_STREAM_MIN_BYTES=N moves the streaming-store threshold, and
     * CLCE_LANE_SPECIALIZE_MIN_ROWS=N that of the per-class-count 16-lane builds (tests run the
     * fast paths through both with N = 0 or 1 on small shapes) */
    env_threshold("CLCE_GRAD_STREAM_MIN_BYTES", &out->grad_stream_min_bytes);
    env_threshold("CLCE_LANE_SPECIALIZE_MIN_ROWS", &out->lane_specialize_min_rows);
    /* CLCE_FWD_FAST=0 forces the generic kernel (A/B measurements, tests). */
    const char *env = getenv("CLCE_FWD_FAST");
    if (env && env[0] == '0')
        out->fwd_fast = 0;
    size_t max = info->max_work_group_size ? info->max_work_group_size : 1;
    if (out->row_wg > max)
        out->row_wg = max;
    if (out->fwd_vrow_wg > max)
        out->fwd_vrow_wg = max;
    if (out->fwd_lane_wg > max)
        out->fwd_lane_wg = max;
    while (out->fwd_wgrow_wg > max)
        out->fwd_wgrow_wg /= 2;
    if (out->fwd_wgrow_wg == 0)
        out->fwd_wgrow_wg = 1;
    while (out->reduce_wg > max)
        out->reduce_wg /= 2;
    if (out->reduce_wg == 0)
        out->reduce_wg = 1;
}
