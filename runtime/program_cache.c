/*
 * program_cache.c - runtime compilation of the embedded kernel files and an in-memory cache of
 * the built programs, keyed by (file, full option string).  Programs, not kernels, are cached:
 * kernels carry per-call argument state, so each op creates its own.  The lock is not held while
 * compiling (a cold build takes ~0.5 s on POCL); if two threads build the same program, the
 * first to finish is kept and the other is released.
 */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepended to every program, in this order. */
static const char *const common_headers[] = {"common.clh"};

const clce__kernel_source *clce__find_kernel_source(const char *name) {
    for (size_t i = 0; i < clce__kernel_source_count; ++i)
        if (strcmp(clce__kernel_sources[i].name, name) == 0)
            return &clce__kernel_sources[i];
    return NULL;
}

void clce__program_cache_init(clce__program_cache *cache) {
    memset(cache, 0, sizeof *cache);
    pthread_mutex_init(&cache->lock, NULL);
}

void clce__program_cache_clear(clce__program_cache *cache) {
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->count; ++i) {
        clReleaseProgram(cache->entries[i].program);
        free(cache->entries[i].file);
        free(cache->entries[i].options);
    }
    free(cache->entries);
    cache->entries = NULL;
    cache->count = cache->capacity = 0;
    pthread_mutex_unlock(&cache->lock);
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Looks up under the lock; returns a retained program or NULL. */
static cl_program lookup(clce__program_cache *cache, const char *file, const char *options) {
    cl_program found = NULL;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->count; ++i) {
        if (strcmp(cache->entries[i].file, file) == 0 &&
            strcmp(cache->entries[i].options, options) == 0) {
            found = cache->entries[i].program;
            clRetainProgram(found);
            break;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return found;
}

/* Inserts a built program (takes the caller's reference) unless another thread won the race;
 * returns the program to use, retained for the caller. */
static cl_program insert(clce__program_cache *cache, const char *file, const char *options,
                         cl_program built) {
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->count; ++i) {
        if (strcmp(cache->entries[i].file, file) == 0 &&
            strcmp(cache->entries[i].options, options) == 0) {
            cl_program winner = cache->entries[i].program;
            clRetainProgram(winner);
            pthread_mutex_unlock(&cache->lock);
            clReleaseProgram(built);
            return winner;
        }
    }
    if (cache->count == cache->capacity) {
        size_t cap = cache->capacity ? cache->capacity * 2 : 16;
        clce__program_entry *e = realloc(cache->entries, cap * sizeof *e);
        if (!e) {
            pthread_mutex_unlock(&cache->lock);
            return built; /* uncached but usable */
        }
        cache->entries = e;
        cache->capacity = cap;
    }
    char *f = dup_str(file), *o = dup_str(options);
    if (!f || !o) {
        free(f);
        free(o);
        pthread_mutex_unlock(&cache->lock);
        return built;
    }
    cache->entries[cache->count].file = f;
    cache->entries[cache->count].options = o;
    cache->entries[cache->count].program = built;
    cache->count++;
    clRetainProgram(built);
    pthread_mutex_unlock(&cache->lock);
    return built;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Builds "-cl-std=CL1.2 <sorted defines> <device defines>" so that equal requests give equal
 * strings whatever order the caller listed them in. */
static clce_status make_options(const clce_device *dev, const char *defines, char *out,
                                size_t outlen) {
    char buf[1024];
    char *tokens[64];
    size_t nt = 0;
    snprintf(buf, sizeof buf, "%s -DCLCE_HAS_FP64=%d", defines ? defines : "",
             dev->info.has_fp64 ? 1 : 0);
    for (char *tok = strtok(buf, " "); tok && nt < 64; tok = strtok(NULL, " "))
        tokens[nt++] = tok;
    qsort(tokens, nt, sizeof tokens[0], cmp_str);
    size_t used = (size_t)snprintf(out, outlen, "-cl-std=CL1.2");
    for (size_t i = 0; i < nt; ++i) {
        int w = snprintf(out + used, outlen - used, " %s", tokens[i]);
        if (w < 0 || (size_t)w >= outlen - used)
            return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "kernel build options too long");
        used += (size_t)w;
    }
    return CLCE_OK;
}

static clce_status build(clce_device *dev, const clce__kernel_source *src, const char *options,
                         cl_program *out) {
    const size_t nh = sizeof common_headers / sizeof common_headers[0];
    const char *texts[8];
    size_t n = 0;
    for (size_t i = 0; i < nh; ++i) {
        const clce__kernel_source *h = clce__find_kernel_source(common_headers[i]);
        if (!h)
            return clce__fail(CLCE_ERROR_BUILD, "embedded header %s is missing", common_headers[i]);
        texts[n++] = h->text;
    }
    /* generated source some option sets need (the options are the cache key, so the same
     * options always get the same text) */
    char *generated = NULL;
    const char *tr = strstr(options, "-DTRANSPOSE_C=");
    if (tr && atoi(tr + strlen("-DTRANSPOSE_C=")) > 0) {
        generated = clce__transpose_source(atoi(tr + strlen("-DTRANSPOSE_C=")));
        if (!generated)
            return clce__fail(CLCE_ERROR_OUT_OF_MEMORY,
                              "generating the transpose source for %s failed", options);
        texts[n++] = generated;
    }
    texts[n++] = src->text;
    cl_int err;
    cl_program prog = clCreateProgramWithSource(dev->context, (cl_uint)n, texts, NULL, &err);
    free(generated);
    if (err != CL_SUCCESS)
        return clce__cl_fail(err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &dev->device, options, NULL, NULL);
    /* CLCE_VERBOSE=1: every build's options and log (warnings of a build that succeeded too);
     * otherwise the log is read only for a failed build's error */
    const int verbose = getenv("CLCE_VERBOSE") && getenv("CLCE_VERBOSE")[0] == '1';
    char log[6144] = "";
    if (verbose || err != CL_SUCCESS) {
        clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        log[sizeof log - 1] = '\0';
    }
    if (verbose)
        fprintf(stderr, "clce: building %s with \"%s\" %s; build log:\n%s\n", src->name, options,
                err == CL_SUCCESS ? "succeeded" : "failed", log);
    if (err != CL_SUCCESS) {
        clReleaseProgram(prog);
        return clce__fail(CLCE_ERROR_BUILD,
                          "building %s with options \"%s\" failed: %s (%d); build log:\n%s",
                          src->name, options, clce__cl_error_name(err), (int)err, log);
    }
    *out = prog;
    return CLCE_OK;
}

clce_status clce__get_program(clce_device *dev, const char *file, const char *defines,
                              cl_program *out) {
    const clce__kernel_source *src = clce__find_kernel_source(file);
    if (!src)
        return clce__fail(CLCE_ERROR_BUILD, "no embedded kernel file named %s", file);
    char options[1200];
    clce_status st = make_options(dev, defines, options, sizeof options);
    if (st != CLCE_OK)
        return st;
    cl_program prog = lookup(&dev->cache, file, options);
    if (prog) {
        *out = prog;
        return CLCE_OK;
    }
    st = build(dev, src, options, &prog);
    if (st != CLCE_OK)
        return st;
    *out = insert(&dev->cache, file, options, prog);
    return CLCE_OK;
}

clce_status clce__get_kernel(clce_device *dev, const char *file, const char *defines,
                             const char *kernel_name, cl_kernel *out) {
    cl_program prog;
    clce_status st = clce__get_program(dev, file, defines, &prog);
    if (st != CLCE_OK)
        return st;
    cl_int err;
    *out = clCreateKernel(prog, kernel_name, &err);
    clReleaseProgram(prog);
    if (err != CL_SUCCESS)
        return clce__fail(CLCE_ERROR_BUILD, "clCreateKernel(%s in %s) failed: %s (%d)", kernel_name,
                          file, clce__cl_error_name(err), (int)err);
    return CLCE_OK;
}
