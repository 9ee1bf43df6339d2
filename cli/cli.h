/*
 * cli.h - shared declarations of the clce command-line tool: the subcommand entry points, the
 * argument parser, one-line error reporting, and the host-side helpers that turn .npy arrays
 * into clce tensor descriptors and OpenCL buffers.
 */
#ifndef CLCE_CLI_H
#define CLCE_CLI_H

#include "npy.h"

#include <clce/clce.h>

#include <stddef.h>
#include <stdint.h>

/* ---- subcommands: each returns the process exit status ---- */
int cli_info(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_bench(int argc, char **argv);

/* ---- errors (errors.c) ---- */
/* Prints "clce: error: <message>" as one line on stderr; returns 1 (the failure exit status). */
int cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Prints a failed library call: "clce: error: <what>: <STATUS>: <detail>". Returns 1. */
int cli_lib_error(const char *what, clce_status st);

/* ---- argument parsing (args.c) ---- */
typedef enum { CLI_OPT_FLAG, CLI_OPT_VALUE } cli_opt_kind;
typedef struct cli_opt {
    const char *name; /* "--input" */
    cli_opt_kind kind;
    const char **value; /* CLI_OPT_VALUE: receives the argument (NULL when absent) */
    int *flag;          /* CLI_OPT_FLAG: set to 1 when present */
} cli_opt;
/* Parses argv[0..argc) as "--name value", "--name=value" or "--flag"; "--help"/"-h" sets
 * *help.  Unknown flags, missing values and stray arguments are reported (cmd names the
 * subcommand) and give -1. */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, int nopts, int *help);
/* Strict number parsing; report "flag: 'text' is not ..." and return -1 on failure. */
int cli_parse_i64(const char *flag, const char *text, int64_t *out);
int cli_parse_double(const char *flag, const char *text, double *out);
int cli_parse_reduction(const char *flag, const char *text, clce_reduction *out);
const char *cli_reduction_name(clce_reduction r);

/* ---- device and buffers (host.c) ---- */
/* Creates the default device (CLCE_DEVICE honoured); reports and returns NULL on failure. */
clce_device *cli_open_device(void);
/* A read-write buffer of max(bytes, 1) bytes (OpenCL forbids empty ones), filled from init
 * when non-NULL.  Reports and returns NULL on failure. */
cl_mem cli_buffer(clce_device *dev, size_t bytes, const void *init);
int cli_read(clce_device *dev, cl_mem b, size_t bytes, void *out);
/* Reads a .npy file; reports "clce: error: <flag>: <npy message>" on failure. */
int cli_load(const char *flag, const char *path, npy_array *a);
/* The descriptor of an array as stored (Fortran order gives its strides; no copy). */
clce_tensor_desc cli_desc_of(const npy_array *a, clce_dtype dtype);
/* Converts float64 data to float32 in place (same element order, so strides stay valid). */
int cli_f64_to_f32(npy_array *a);
/* Writes a float32 C-order array; reports on failure. */
int cli_save_f32(const char *flag, const char *path, int ndim, const int64_t *shape,
                 const float *data);
/* "(2, 5, 3)" */
const char *cli_shape_str(int ndim, const long long *shape, char *buf, size_t len);

#endif
