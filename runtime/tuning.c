/*
 * tuning.c - the one table of launch parameters, keyed by device type (and later vendor), so a
 * GPU gets GPU-shaped launches and POCL's CPU device gets few, fat work-items.  Kernels read
 * these as build options or launch sizes; nothing else in the library hard-codes them.
 */
#include "runtime.h"

void clce__tuning_for(const clce_device_info *info, clce__tuning *out) {
    int is_cpu = (info->type & CL_DEVICE_TYPE_CPU) != 0;
    if (is_cpu) {
        /* POCL runs a work-group as a loop over its items: small groups, much work each. */
        out->row_wg = 8;
        out->reduce_wg = 16;
        out->reduce_items = 4096;
    } else {
        out->row_wg = 64;
        out->reduce_wg = 256;
        out->reduce_items = 64;
    }
    size_t max = info->max_work_group_size ? info->max_work_group_size : 1;
    if (out->row_wg > max)
        out->row_wg = max;
    while (out->reduce_wg > max)
        out->reduce_wg /= 2;
    if (out->reduce_wg == 0)
        out->reduce_wg = 1;
}
