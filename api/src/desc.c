/*
 * desc.c - tensor descriptors: constructors, argument checks that name the argument and the
 * offending value, and the reduction of any strided layout to rows x classes (dropping size-1
 * dimensions and merging dimensions that are contiguous in every tensor, so NCHW becomes
 * (N, H*W) rows and a contiguous (N, C) becomes one row dimension).
 */
#include "ops.h"

#include <stdio.h>
#include <string.h>

clce_tensor_desc clce_tensor_contiguous(clce_dtype dtype, int ndim, const int64_t *sizes) {
    clce_tensor_desc d;
    memset(&d, 0, sizeof d);
    d.dtype = dtype;
    d.ndim = ndim;
    if (ndim < 0 || ndim > CLCE_MAX_DIMS || (ndim > 0 && !sizes)) {
        d.ndim = -1; /* rejected by every op as an invalid ndim */
        return d;
    }
    int64_t stride = 1;
    for (int k = ndim - 1; k >= 0; --k) {
        d.sizes[k] = sizes[k];
        d.strides[k] = stride;
        stride *= sizes[k] > 0 ? sizes[k] : 1;
    }
    return d;
}

int64_t clce_tensor_numel(const clce_tensor_desc *d) {
    if (!d || d->ndim < 0 || d->ndim > CLCE_MAX_DIMS)
        return 0;
    int64_t n = 1;
    for (int k = 0; k < d->ndim; ++k)
        n *= d->sizes[k];
    return n;
}

const char *clce__shape_str(const clce_tensor_desc *d, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "(");
    for (int k = 0; k < d->ndim && k < CLCE_MAX_DIMS && used < len; ++k)
        used +=
            (size_t)snprintf(buf + used, len - used, k ? ", %lld" : "%lld", (long long)d->sizes[k]);
    if (used < len)
        snprintf(buf + used, len - used, ")");
    return buf;
}

int clce__resolve_class_axis(int class_axis, int ndim) {
    if (class_axis == CLCE_CLASS_AXIS_DEFAULT)
        return ndim == 1 ? 0 : 1;
    int k = class_axis < 0 ? class_axis + ndim : class_axis;
    if (k < 0 || k >= ndim)
        return -1;
    return k;
}

static const int64_t LIMIT = (int64_t)1 << 50;

clce_status clce__check_tensor(const char *name, const clce_tensor_desc *d, cl_mem mem,
                               const clce_dtype *allowed, bool is_output) {
    if (!d)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "%s: descriptor is NULL", name);
    if (!mem)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "%s: buffer is NULL", name);
    bool ok = false;
    for (const clce_dtype *a = allowed; *a; ++a)
        ok = ok || *a == d->dtype;
    if (!ok) {
        char list[128] = "";
        size_t used = 0;
        for (const clce_dtype *a = allowed; *a && used < sizeof list; ++a)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     a == allowed ? "" : " or ", clce_dtype_name(*a));
        return clce__fail(CLCE_ERROR_INVALID_DTYPE, "%s: dtype is %s (%d), expected %s", name,
                          clce_dtype_name(d->dtype), (int)d->dtype, list);
    }
    if (d->ndim < 0 || d->ndim > CLCE_MAX_DIMS)
        return clce__fail(CLCE_ERROR_INVALID_SHAPE, "%s: ndim is %d, expected 0..%d", name, d->ndim,
                          CLCE_MAX_DIMS);
    if (d->offset < 0 || d->offset > LIMIT)
        return clce__fail(CLCE_ERROR_INVALID_LAYOUT, "%s: offset is %lld", name,
                          (long long)d->offset);
    int64_t numel = 1, extent = 0;
    for (int k = 0; k < d->ndim; ++k) {
        if (d->sizes[k] < 0 || d->sizes[k] > LIMIT)
            return clce__fail(CLCE_ERROR_INVALID_SHAPE, "%s: sizes[%d] is %lld", name, k,
                              (long long)d->sizes[k]);
        if (d->strides[k] < 0 || d->strides[k] > LIMIT)
            return clce__fail(CLCE_ERROR_INVALID_LAYOUT,
                              "%s: strides[%d] is %lld (strides must be in 0..2^50)", name, k,
                              (long long)d->strides[k]);
        if (d->sizes[k] != 0 && numel > LIMIT / d->sizes[k])
            return clce__fail(CLCE_ERROR_INVALID_SHAPE, "%s: element count overflows", name);
        numel *= d->sizes[k];
    }
    if (numel == 0)
        return CLCE_OK; /* nothing is addressed */
    for (int k = 0; k < d->ndim; ++k) {
        if (d->sizes[k] > 1 && d->strides[k] > LIMIT / (d->sizes[k] - 1))
            return clce__fail(CLCE_ERROR_INVALID_LAYOUT, "%s: strides[%d] = %lld overflows", name,
                              k, (long long)d->strides[k]);
        extent += (d->sizes[k] - 1) * d->strides[k];
        if (extent > LIMIT)
            return clce__fail(CLCE_ERROR_INVALID_LAYOUT, "%s: layout spans too many elements",
                              name);
        if (is_output && d->sizes[k] > 1 && d->strides[k] == 0)
            return clce__fail(CLCE_ERROR_INVALID_LAYOUT,
                              "%s: strides[%d] is 0 for a dimension of size %lld; an output "
                              "must not overlap itself",
                              name, k, (long long)d->sizes[k]);
    }
    size_t bytes = 0;
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    if (err != CL_SUCCESS)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "%s: buffer is not a valid cl_mem (%s)",
                          name, clce__cl_error_name(err));
    size_t esize = clce_dtype_size(d->dtype);
    uint64_t need = ((uint64_t)d->offset + (uint64_t)extent + 1) * esize;
    if (need > bytes)
        return clce__fail(CLCE_ERROR_INVALID_LAYOUT,
                          "%s: offset %lld and strides address element %lld, %llu bytes, but "
                          "the buffer holds %zu bytes",
                          name, (long long)d->offset, (long long)(d->offset + extent),
                          (unsigned long long)need, bytes);
    return CLCE_OK;
}

void clce__rowgeom_build(const clce_tensor_desc *roles[CLCE__ROLES], int class_axis,
                         clce__rowgeom *g) {
    memset(g, 0, sizeof *g);
    const clce_tensor_desc *in = roles[0];
    /* logical row dims, outermost first */
    int64_t size[CLCE_MAX_DIMS], stride[CLCE__ROLES][CLCE_MAX_DIMS];
    int n = 0;
    g->classes = in->ndim > 0 ? in->sizes[class_axis] : 1;
    for (int r = 0; r < CLCE__ROLES; ++r) {
        const clce_tensor_desc *d = roles[r];
        if (!d)
            continue;
        g->offset[r] = d->offset;
        g->class_stride[r] = d->ndim == in->ndim && in->ndim > 0 ? d->strides[class_axis] : 0;
    }
    g->rows = 1;
    for (int k = 0; k < in->ndim; ++k) {
        if (k == class_axis)
            continue;
        g->rows *= in->sizes[k];
        if (in->sizes[k] == 1)
            continue; /* contributes nothing to any offset */
        size[n] = in->sizes[k];
        for (int r = 0; r < CLCE__ROLES; ++r) {
            const clce_tensor_desc *d = roles[r];
            int kk = (d && d->ndim == in->ndim) ? k : (k < class_axis ? k : k - 1);
            stride[r][n] = d ? d->strides[kk] : 0;
        }
        ++n;
    }
    /* merge dim j into j-1 (outer) where every role is contiguous across the pair */
    int m = 0;
    for (int j = 0; j < n; ++j) {
        bool merge = m > 0;
        for (int r = 0; r < CLCE__ROLES && merge; ++r)
            merge = stride[r][m - 1] == stride[r][j] * size[j];
        if (merge) {
            size[m - 1] *= size[j];
            for (int r = 0; r < CLCE__ROLES; ++r)
                stride[r][m - 1] = stride[r][j];
        } else {
            size[m] = size[j];
            for (int r = 0; r < CLCE__ROLES; ++r)
                stride[r][m] = stride[r][j];
            ++m;
        }
    }
    if (m == 0) {
        size[0] = 1;
        for (int r = 0; r < CLCE__ROLES; ++r)
            stride[r][0] = 0;
        m = 1;
    }
    g->nd = m; /* at most ndim - 1 <= 7 */
    for (int j = 0; j < m; ++j) {
        g->size[j] = size[m - 1 - j];
        for (int r = 0; r < CLCE__ROLES; ++r)
            g->stride[r][j] = stride[r][m - 1 - j];
    }
}

cl_long8 clce__geom_sizes(const clce__rowgeom *g) {
    cl_long8 v;
    for (int j = 0; j < 8; ++j)
        v.s[j] = j < g->nd ? g->size[j] : 1;
    return v;
}

cl_long8 clce__geom_strides(const clce__rowgeom *g, int role) {
    cl_long8 v;
    for (int j = 0; j < 8; ++j)
        v.s[j] = j < g->nd ? g->stride[role][j] : 0;
    return v;
}
