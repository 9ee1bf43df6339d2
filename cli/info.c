/*
 * info.c - 'clce info': every platform and device, the one clce picks and why (CLCE_DEVICE or
 * the automatic rule), and the capabilities the library read from it.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static const char *type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

static void print_caps(const clce_device_info *d) {
    printf("  name:               %s\n", d->name);
    printf("  vendor:             %s\n", d->vendor);
    printf("  platform:           %s\n", d->platform_name);
    printf("  type:               %s\n", type_name(d->type));
    printf("  OpenCL version:     %s\n", d->opencl_version);
    printf("  driver version:     %s\n", d->driver_version);
    printf("  fp64:               %s\n", d->has_fp64 ? "yes" : "no");
    printf("  fp16:               %s\n", d->has_fp16 ? "yes" : "no");
    printf("  compute units:      %u\n", d->compute_units);
    printf("  max work-group:     %zu\n", d->max_work_group_size);
    printf("  local memory:       %llu KiB\n", (unsigned long long)(d->local_mem_size / 1024));
    printf("  global memory:      %llu MiB\n",
           (unsigned long long)(d->global_mem_size / (1024 * 1024)));
    printf("  max allocation:     %llu MiB\n",
           (unsigned long long)(d->max_mem_alloc_size / (1024 * 1024)));
}

int cli_info(int argc, char **argv) {
    int help = 0;
    if (cli_parse("info", argc, argv, NULL, 0, &help) != 0)
        return 1;
    if (help) {
        puts("usage: clce info\n\n"
             "Lists the OpenCL platforms and devices, the device clce picks and why, and its\n"
             "capabilities.  CLCE_DEVICE=<index> or CLCE_DEVICE=<name substring> overrides the\n"
             "automatic choice (first GPU, else first CPU).");
        return 0;
    }
    printf("clce %s\n\n", clce_version_string());
    size_t count = 0;
    clce_status st = clce_enumerate_devices(NULL, 0, &count);
    if (st != CLCE_OK)
        return cli_lib_error("listing OpenCL devices", st);
    clce_device_info *all = calloc(count ? count : 1, sizeof *all);
    if (!all)
        return cli_error("out of memory listing %zu devices", count);
    st = clce_enumerate_devices(all, count, &count);
    if (st != CLCE_OK) {
        free(all);
        return cli_lib_error("listing OpenCL devices", st);
    }
    printf("devices (%zu; CLCE_DEVICE=<index> picks one):\n", count);
    for (size_t i = 0; i < count; ++i)
        printf("  [%zu] %-11s %s | %s | %s\n", i, type_name(all[i].type), all[i].name,
               all[i].platform_name, all[i].driver_version);
    free(all);

    const char *env = getenv("CLCE_DEVICE");
    printf("\nCLCE_DEVICE: %s\n", env ? env : "(not set: first GPU, else first CPU)");
    clce_device *dev = cli_open_device();
    if (!dev)
        return 1;
    clce_device_info info;
    st = clce_device_get_info(dev, &info);
    if (st != CLCE_OK) {
        clce_device_destroy(dev);
        return cli_lib_error("reading device information", st);
    }
    printf("selected: [%d] %s\n", info.index, info.name);
    printf("  why:                %s\n", info.selection_reason);
    print_caps(&info);
    clce_device_destroy(dev);
    return 0;
}
