/*
 * device.c - discovery, selection and ownership of the OpenCL device: platforms and devices are
 * listed in one fixed order (platform order, then device order) so CLCE_DEVICE=<index> means the
 * same thing to `clce info` and to the library; capabilities are read once here.
 */
#include "runtime.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 64

static void read_info(cl_platform_id platform, cl_device_id device, clce_device_info *info) {
    memset(info, 0, sizeof *info);
    info->index = -1;
    clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof info->name - 1, info->name, NULL);
    clGetDeviceInfo(device, CL_DEVICE_VENDOR, sizeof info->vendor - 1, info->vendor, NULL);
    clGetDeviceInfo(device, CL_DRIVER_VERSION, sizeof info->driver_version - 1,
                    info->driver_version, NULL);
    clGetDeviceInfo(device, CL_DEVICE_VERSION, sizeof info->opencl_version - 1,
                    info->opencl_version, NULL);
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform_name - 1,
                      info->platform_name, NULL);
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof info->type, &info->type, NULL);
    cl_uint cu = 0;
    clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->compute_units = cu;
    clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info->max_work_group_size,
                    &info->max_work_group_size, NULL);
    cl_ulong v = 0;
    clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof v, &v, NULL);
    info->local_mem_size = v;
    v = 0;
    clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof v, &v, NULL);
    info->global_mem_size = v;
    v = 0;
    clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof v, &v, NULL);
    info->max_mem_alloc_size = v;
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp, &fp, NULL);
    info->has_fp64 = fp != 0;
    size_t ext_len = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) == CL_SUCCESS &&
        ext_len > 0) {
        char *ext = malloc(ext_len + 1);
        if (ext &&
            clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS) {
            ext[ext_len] = '\0';
            info->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
            if (!info->has_fp64)
                info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
        }
        free(ext);
    }
}

/* Lists all (platform, device) pairs in enumeration order.  Returns the count. */
static size_t list_all(cl_platform_id *plats_out, cl_device_id *devs_out, size_t cap) {
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint nplat = 0;
    if (clGetPlatformIDs(MAX_PLATFORMS, plats, &nplat) != CL_SUCCESS)
        return 0;
    if (nplat > MAX_PLATFORMS)
        nplat = MAX_PLATFORMS;
    size_t n = 0;
    for (cl_uint p = 0; p < nplat; ++p) {
        cl_device_id devs[MAX_DEVICES_PER_PLATFORM];
        cl_uint ndev = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, devs, &ndev) !=
            CL_SUCCESS)
            continue;
        if (ndev > MAX_DEVICES_PER_PLATFORM)
            ndev = MAX_DEVICES_PER_PLATFORM;
        for (cl_uint d = 0; d < ndev; ++d) {
            if (n < cap) {
                plats_out[n] = plats[p];
                devs_out[n] = devs[d];
            }
            ++n;
        }
    }
    return n;
}

#define MAX_ALL (MAX_PLATFORMS * 4)

clce_status clce_enumerate_devices(clce_device_info *entries, size_t capacity, size_t *count) {
    clce__clear_detail();
    if (!count)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "count is NULL");
    if (!entries && capacity > 0)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "entries is NULL but capacity is %zu",
                          capacity);
    cl_platform_id plats[MAX_ALL];
    cl_device_id devs[MAX_ALL];
    size_t n = list_all(plats, devs, MAX_ALL);
    if (n > MAX_ALL)
        n = MAX_ALL;
    *count = n;
    for (size_t i = 0; i < n && i < capacity; ++i) {
        read_info(plats[i], devs[i], &entries[i]);
        entries[i].index = (int)i;
    }
    if (n == 0)
        return clce__fail(CLCE_ERROR_NO_DEVICE,
                          "no OpenCL platform or device found (is an ICD such as "
                          "pocl-opencl-icd installed? see /etc/OpenCL/vendors)");
    return CLCE_OK;
}

static int contains_ci(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    if (nl == 0)
        return 1;
    for (const char *h = hay; *h; ++h) {
        size_t i = 0;
        while (i < nl && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            ++i;
        if (i == nl)
            return 1;
    }
    return 0;
}

static int parse_index(const char *s, long *out) {
    if (!*s)
        return 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > INT_MAX)
        return 0;
    *out = v;
    return 1;
}

/* Chooses an index into the enumeration; sets reason. */
static clce_status choose(const clce_device_options *opts, const clce_device_info *infos, size_t n,
                          size_t *chosen, char *reason, size_t rlen) {
    const char *env = getenv("CLCE_DEVICE");
    if (opts->device_index >= 0) {
        if ((size_t)opts->device_index >= n)
            return clce__fail(CLCE_ERROR_NO_DEVICE,
                              "device_index %d out of range: %zu device(s) found",
                              opts->device_index, n);
        *chosen = (size_t)opts->device_index;
        snprintf(reason, rlen, "device_index %d requested by the caller", opts->device_index);
        return CLCE_OK;
    }
    const char *want = opts->name_contains;
    const char *source = "name_contains option";
    if (!want && env && *env) {
        long idx;
        if (parse_index(env, &idx)) {
            if ((size_t)idx >= n)
                return clce__fail(CLCE_ERROR_NO_DEVICE,
                                  "CLCE_DEVICE=%s is out of range: %zu device(s) found", env, n);
            *chosen = (size_t)idx;
            snprintf(reason, rlen, "CLCE_DEVICE=%s (index)", env);
            return CLCE_OK;
        }
        want = env;
        source = "CLCE_DEVICE";
    }
    if (want) {
        for (size_t i = 0; i < n; ++i) {
            if (contains_ci(infos[i].name, want) || contains_ci(infos[i].vendor, want) ||
                contains_ci(infos[i].platform_name, want)) {
                *chosen = i;
                snprintf(reason, rlen, "%s=\"%s\" matched device %zu", source, want, i);
                return CLCE_OK;
            }
        }
        return clce__fail(CLCE_ERROR_NO_DEVICE, "%s=\"%s\" matches none of the %zu device(s)",
                          source, want, n);
    }
    static const cl_device_type order[] = {CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_CPU};
    static const char *order_name[] = {"first GPU", "first CPU (no GPU found)"};
    for (size_t k = 0; k < 2; ++k) {
        for (size_t i = 0; i < n; ++i) {
            if (infos[i].type & order[k]) {
                *chosen = i;
                snprintf(reason, rlen, "automatic: %s", order_name[k]);
                return CLCE_OK;
            }
        }
    }
    *chosen = 0;
    snprintf(reason, rlen, "automatic: first device (no GPU or CPU type reported)");
    return CLCE_OK;
}

void clce_device_options_init(clce_device_options *opts) {
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->struct_version = CLCE_DEVICE_OPTIONS_VERSION;
    opts->device_index = -1;
}

static clce_status reset_record(clce_device *dev) {
    cl_int init[CLCE__RECORD_INTS] = {0};
    init[CLCE__REC_BAD_ROW] = INT_MAX;
    init[CLCE__REC_PENDING_ROW] = INT_MAX;
    cl_int err = clEnqueueWriteBuffer(dev->queue, dev->error_record, CL_TRUE, 0, sizeof init, init,
                                      0, NULL, NULL);
    if (err != CL_SUCCESS)
        return clce__cl_fail(err, "clEnqueueWriteBuffer(error record)");
    return CLCE_OK;
}

const char *clce__op_name(int op_code) {
    switch (op_code) {
    case CLCE__OP_CROSS_ENTROPY_FORWARD:
        return "cross_entropy forward";
    case CLCE__OP_CROSS_ENTROPY_BACKWARD:
        return "cross_entropy backward";
    case CLCE__OP_CROSS_ENTROPY_FUSED:
        return "cross_entropy fused loss+gradient";
    case CLCE__OP_NLL_FORWARD:
        return "nll_loss forward";
    case CLCE__OP_NLL_BACKWARD:
        return "nll_loss backward";
    default:
        return "an op";
    }
}

clce_status clce_device_sync(clce_device *dev) {
    clce__clear_detail();
    if (!dev)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "device is NULL");
    cl_int err = clFinish(dev->queue);
    if (err != CL_SUCCESS)
        return clce__cl_fail(err, "clFinish");
    cl_int rec[CLCE__RECORD_INTS];
    err = clEnqueueReadBuffer(dev->queue, dev->error_record, CL_TRUE, 0, sizeof rec, rec, 0, NULL,
                              NULL);
    if (err != CL_SUCCESS)
        return clce__cl_fail(err, "clEnqueueReadBuffer(error record)");
    if (rec[CLCE__REC_BAD_ROW] == INT_MAX)
        return CLCE_OK;
    long long value = (long long)(((uint64_t)(uint32_t)rec[CLCE__REC_VALUE_HI] << 32) |
                                  (uint32_t)rec[CLCE__REC_VALUE_LO]);
    int row = rec[CLCE__REC_BAD_ROW];
    int classes = rec[CLCE__REC_CLASSES];
    const char *op = clce__op_name(rec[CLCE__REC_OP]);
    clce_status st = reset_record(dev);
    if (st != CLCE_OK)
        return st;
    return clce__fail(CLCE_ERROR_TARGET_OUT_OF_RANGE,
                      "target: value %lld at position %d (row-major index into the target) is "
                      "out of bounds for %d classes and is not ignore_index (%s; nothing was "
                      "written)",
                      value, row, classes, op);
}

static clce_status finish_setup(clce_device *dev) {
    cl_int err;
    cl_uint native_float_width = 0;
    if (clGetDeviceInfo(dev->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native_float_width,
                        &native_float_width, NULL) != CL_SUCCESS)
        native_float_width = 0; /* unknown: the table's narrower-vector choices */
    clce__tuning_for(&dev->info, native_float_width, &dev->tuning);
    dev->error_record = clCreateBuffer(dev->context, CL_MEM_READ_WRITE,
                                       CLCE__RECORD_INTS * sizeof(cl_int), NULL, &err);
    if (err != CL_SUCCESS)
        return clce__cl_fail(err, "clCreateBuffer(error record)");
    clce_status st = reset_record(dev);
    if (st != CLCE_OK)
        return st;
    atomic_init(&dev->op_seq, 0u);
    clce__program_cache_init(&dev->cache);
    return CLCE_OK;
}

clce_status clce_device_create(const clce_device_options *opts_in, clce_device **out) {
    clce__clear_detail();
    if (!out)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    clce_device_options opts;
    clce_device_options_init(&opts);
    if (opts_in) {
        if (opts_in->struct_version != CLCE_DEVICE_OPTIONS_VERSION)
            return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                              "opts->struct_version is %u, expected %u (use "
                              "clce_device_options_init)",
                              opts_in->struct_version, CLCE_DEVICE_OPTIONS_VERSION);
        opts = *opts_in;
    }
    cl_platform_id plats[MAX_ALL];
    cl_device_id devs[MAX_ALL];
    size_t n = list_all(plats, devs, MAX_ALL);
    if (n > MAX_ALL)
        n = MAX_ALL;
    if (n == 0)
        return clce__fail(CLCE_ERROR_NO_DEVICE,
                          "no OpenCL platform or device found (is an ICD such as "
                          "pocl-opencl-icd installed? see /etc/OpenCL/vendors)");
    clce_device_info infos[MAX_ALL];
    for (size_t i = 0; i < n; ++i) {
        read_info(plats[i], devs[i], &infos[i]);
        infos[i].index = (int)i;
    }
    size_t idx = 0;
    char reason[256];
    clce_status st = choose(&opts, infos, n, &idx, reason, sizeof reason);
    if (st != CLCE_OK)
        return st;

    clce_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return clce__fail(CLCE_ERROR_OUT_OF_MEMORY, "allocating the device handle");
    dev->platform = plats[idx];
    dev->device = devs[idx];
    dev->info = infos[idx];
    snprintf(dev->info.selection_reason, sizeof dev->info.selection_reason, "%s", reason);
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
    dev->context = clCreateContext(props, 1, &dev->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        free(dev);
        return clce__cl_fail(err, "clCreateContext");
    }
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    dev->queue = clCreateCommandQueue(dev->context, dev->device,
                                      opts.enable_profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    if (err != CL_SUCCESS) {
        clReleaseContext(dev->context);
        free(dev);
        return clce__cl_fail(err, "clCreateCommandQueue");
    }
    st = finish_setup(dev);
    if (st != CLCE_OK) {
        clce_device_destroy(dev);
        return st;
    }
    *out = dev;
    return CLCE_OK;
}

clce_status clce_device_create_from_queue(cl_command_queue queue, clce_device **out) {
    clce__clear_detail();
    if (!out)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    if (!queue)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "queue is NULL");
    clce_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return clce__fail(CLCE_ERROR_OUT_OF_MEMORY, "allocating the device handle");
    cl_int err =
        clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof dev->context, &dev->context, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof dev->device, &dev->device, NULL);
    cl_command_queue_properties qp = 0;
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof qp, &qp, NULL);
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(dev->device, CL_DEVICE_PLATFORM, sizeof dev->platform, &dev->platform,
                              NULL);
    if (err != CL_SUCCESS) {
        free(dev);
        return clce__cl_fail(err, "clGetCommandQueueInfo(queue)");
    }
    dev->out_of_order = (qp & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0;
    clRetainCommandQueue(queue);
    clRetainContext(dev->context);
    dev->queue = queue;
    read_info(dev->platform, dev->device, &dev->info);
    cl_platform_id plats[MAX_ALL];
    cl_device_id devs[MAX_ALL];
    size_t n = list_all(plats, devs, MAX_ALL);
    for (size_t i = 0; i < n && i < MAX_ALL; ++i)
        if (devs[i] == dev->device)
            dev->info.index = (int)i;
    snprintf(dev->info.selection_reason, sizeof dev->info.selection_reason,
             "adopted the caller's command queue");
    clce_status st = finish_setup(dev);
    if (st != CLCE_OK) {
        clce_device_destroy(dev);
        return st;
    }
    *out = dev;
    return CLCE_OK;
}

void clce_device_destroy(clce_device *dev) {
    if (!dev)
        return;
    if (dev->queue)
        clFinish(dev->queue);
    if (dev->cache.entries || dev->cache.capacity)
        clce__program_cache_clear(&dev->cache);
    pthread_mutex_destroy(&dev->cache.lock);
    if (dev->error_record)
        clReleaseMemObject(dev->error_record);
    if (dev->queue)
        clReleaseCommandQueue(dev->queue);
    if (dev->context)
        clReleaseContext(dev->context);
    free(dev);
}

clce_status clce_device_get_info(const clce_device *dev, clce_device_info *info) {
    clce__clear_detail();
    if (!dev)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "device is NULL");
    if (!info)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "info is NULL");
    *info = dev->info;
    return CLCE_OK;
}

cl_context clce_device_context(const clce_device *dev) {
    return dev ? dev->context : NULL;
}
cl_command_queue clce_device_queue(const clce_device *dev) {
    return dev ? dev->queue : NULL;
}

clce_status clce_device_warm_up(clce_device *dev) {
    clce__clear_detail();
    if (!dev)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "device is NULL");
    for (size_t i = 0; i < clce__kernel_source_count; ++i) {
        const char *name = clce__kernel_sources[i].name;
        size_t len = strlen(name);
        if (len < 3 || strcmp(name + len - 3, ".cl") != 0)
            continue; /* headers are not programs */
        /* a file names the -D options of a representative build on a "clce-warmup:" line */
        char defines[256] = "";
        const char *w = strstr(clce__kernel_sources[i].text, "clce-warmup:");
        if (w) {
            w += strlen("clce-warmup:");
            size_t n = strcspn(w, "\n");
            snprintf(defines, sizeof defines, "%.*s", (int)(n < 255 ? n : 255), w);
        }
        cl_program prog;
        clce_status st = clce__get_program(dev, name, defines, &prog);
        if (st != CLCE_OK)
            return st;
        clReleaseProgram(prog);
    }
    return CLCE_OK;
}
