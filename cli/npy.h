/*
 * npy.h - self-contained reader/writer for NumPy .npy files (C11, libc only).
 *
 * Supported element types: float32/64/16, int64/32/16/8, uint8, bool.
 * Reading accepts format versions 1.0, 2.0 and 3.0, little-, big- and
 * native-endian descriptors (data is converted to host order), C and Fortran
 * order (Fortran data is kept as stored; strides describe it).
 *
 * The reader is meant to be safe on hostile input: every malformed file is
 * rejected with -1 and a one-line message "<path>: <problem>"; it never reads
 * out of bounds and frees everything it allocated on error.
 *
 * Policy decisions:
 *  - Header length is limited to 1 MiB (NumPy itself stops at 10000 bytes).
 *  - numel * itemsize must not exceed 2^40 bytes (1 TiB); the product of the
 *    non-zero dimensions is checked too, so strides never overflow.
 *  - Trailing bytes after the data are REJECTED ("trailing data"): NumPy never
 *    writes them, and they almost always mean the header and the payload
 *    disagree.  (np.load would silently ignore them.)
 *  - The header must be what NumPy's safe_eval would accept for a plain array:
 *    a dict with exactly the keys 'descr', 'fortran_order', 'shape' (any
 *    order, any whitespace, optional trailing comma), descr a string,
 *    fortran_order True/False, shape a tuple of non-negative ints (Python 2
 *    'L' suffixes allowed, "-0" allowed, "(5)" rejected since it is not a
 *    tuple).  Duplicate keys and backslash escapes in strings are rejected
 *    (NumPy would accept both; NumPy never writes them).
 *  - descr: byte order '<', '>', '=', '|' or none; '=', '|' and none mean host
 *    order.  Kinds f2 f4 f8 i1 i2 i4 i8 u1 b1 and '?' (bool).  Anything else
 *    (u2..u8, complex, strings, object, datetime, structured, subarray) is
 *    rejected with a message that names the type.
 *  - Negative dimensions are rejected (NumPy 1.24 quietly accepts (-1, 3)).
 *  - Bool data is passed through unchanged (not normalised to 0/1).
 */
#ifndef CLCE_NPY_H
#define CLCE_NPY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NPY_MAX_NDIM 8

typedef enum {
    NPY_F32,
    NPY_F64,
    NPY_F16,
    NPY_I64,
    NPY_I32,
    NPY_U8,
    NPY_I8,
    NPY_I16,
    NPY_BOOL
} npy_dtype;

typedef struct npy_array {
    npy_dtype dtype;
    size_t itemsize;
    int ndim; /* 0..8; more -> error */
    long long shape[NPY_MAX_NDIM];
    long long strides[NPY_MAX_NDIM]; /* in ELEMENTS, describing the data as
                                        stored: C order or Fortran order */
    int fortran_order;
    size_t numel; /* product of shape; 1 for 0-d */
    void *data;   /* numel*itemsize bytes, host byte order,
                     malloc'd (never NULL on success, even
                     when numel == 0) */
} npy_array;

/* Read a whole .npy file.  Returns 0 on success; on failure -1 and a one-line
 * message in err (if err != NULL && errlen > 0) naming the file and the
 * problem, e.g. "x.npy: truncated data: header says 120 bytes, file has 64".
 * On failure *out is zeroed, so npy_free(out) is always safe. */
int npy_read(const char *path, npy_array *out, char *err, size_t errlen);

/* Write a C-order array (ndim 0..8) of the given dtype in host byte order.
 * Uses format version 1.0 (2.0 if the header does not fit in 1.0) and the
 * same 64-byte aligned header layout as NumPy.  data may be NULL only when
 * the array has zero elements.  On failure returns -1, sets err and removes
 * the partially written file. */
int npy_write(const char *path, npy_dtype dtype, int ndim, const long long *shape, const void *data,
              char *err, size_t errlen);

/* Free a's data and zero it.  Safe on a zeroed or already freed array and on NULL. */
void npy_free(npy_array *a);

/* "float32", "float64", "float16", "int64", "int32", "uint8", "int8",
 * "int16", "bool"; "unknown" for out-of-range values. */
const char *npy_dtype_name(npy_dtype d);

/* Size in bytes of one element of d; 0 for out-of-range values. */
size_t npy_dtype_size(npy_dtype d);

#ifdef __cplusplus
}
#endif

#endif /* CLCE_NPY_H */
