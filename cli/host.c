/*
 * host.c - host-side helpers of the tool: opening the device, OpenCL buffers, and the bridge
 * between .npy arrays and clce tensor descriptors.  A Fortran-order file keeps its data as
 * stored and is described by its strides, so the library reads it without a copy.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clce_device *cli_open_device(void) {
    clce_device *dev = NULL;
    clce_status st = clce_device_create(NULL, &dev);
    if (st != CLCE_OK) {
        cli_lib_error("cannot open an OpenCL device (see 'clce info')", st);
        return NULL;
    }
    return dev;
}

cl_mem cli_buffer(clce_device *dev, size_t bytes, const void *init) {
    cl_int err = CL_SUCCESS;
    size_t n = bytes ? bytes : 1;
    cl_mem b = clCreateBuffer(clce_device_context(dev), CL_MEM_READ_WRITE, n, NULL, &err);
    if (!b || err != CL_SUCCESS) {
        cli_error("clCreateBuffer of %zu bytes failed (OpenCL error %d)", n, (int)err);
        return NULL;
    }
    /* Zero-fill first so that an output the op does not write reads back as zeros. */
    if (init && bytes) {
        err =
            clEnqueueWriteBuffer(clce_device_queue(dev), b, CL_TRUE, 0, bytes, init, 0, NULL, NULL);
    } else {
        const unsigned char zero = 0;
        err = clEnqueueFillBuffer(clce_device_queue(dev), b, &zero, 1, 0, n, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clFinish(clce_device_queue(dev));
    }
    if (err != CL_SUCCESS) {
        clReleaseMemObject(b);
        cli_error("writing a buffer of %zu bytes failed (OpenCL error %d)", n, (int)err);
        return NULL;
    }
    return b;
}

int cli_read(clce_device *dev, cl_mem b, size_t bytes, void *out) {
    if (!bytes)
        return 0;
    cl_int err =
        clEnqueueReadBuffer(clce_device_queue(dev), b, CL_TRUE, 0, bytes, out, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return cli_error("reading back %zu bytes failed (OpenCL error %d)", bytes, (int)err), -1;
    return 0;
}

int cli_load(const char *flag, const char *path, npy_array *a) {
    char msg[512];
    if (npy_read(path, a, msg, sizeof msg) != 0)
        return cli_error("%s: %s", flag, msg), -1;
    return 0;
}

clce_tensor_desc cli_desc_of(const npy_array *a, clce_dtype dtype) {
    clce_tensor_desc d;
    memset(&d, 0, sizeof d);
    d.dtype = dtype;
    d.ndim = a->ndim;
    for (int i = 0; i < a->ndim; ++i) {
        d.sizes[i] = (int64_t)a->shape[i];
        d.strides[i] = (int64_t)a->strides[i];
    }
    return d;
}

int cli_f64_to_f32(npy_array *a) {
    if (a->dtype != NPY_F64)
        return 0;
    float *f = malloc(a->numel ? a->numel * sizeof(float) : 1);
    if (!f)
        return cli_error("out of memory converting %zu float64 values", a->numel), -1;
    const double *d = a->data;
    for (size_t i = 0; i < a->numel; ++i)
        f[i] = (float)d[i];
    free(a->data);
    a->data = f;
    a->dtype = NPY_F32;
    a->itemsize = sizeof(float);
    return 0;
}

int cli_save_f32(const char *flag, const char *path, int ndim, const int64_t *shape,
                 const float *data) {
    long long sh[NPY_MAX_NDIM];
    for (int i = 0; i < ndim; ++i)
        sh[i] = (long long)shape[i];
    char msg[512];
    if (npy_write(path, NPY_F32, ndim, sh, data, msg, sizeof msg) != 0)
        return cli_error("%s: %s", flag, msg), -1;
    return 0;
}

const char *cli_shape_str(int ndim, const long long *shape, char *buf, size_t len) {
    size_t pos = 0;
    pos += (size_t)snprintf(buf + pos, len - pos, "(");
    for (int i = 0; i < ndim && pos < len; ++i)
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%lld", i ? ", " : "", shape[i]);
    if (pos < len)
        snprintf(buf + pos, len - pos, ndim == 1 ? ",)" : ")");
    return buf;
}
