/*
 * npy.c - self-contained reader/writer for NumPy .npy files.  See npy.h for
 * the API and the policy decisions (limits, trailing data, header grammar).
 */
#include "npy.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_HEADER_LEN (1ul << 20) /* 1 MiB */
#define NPY_MAX_BYTES (1ull << 40)     /* 1 TiB of payload */
#define NPY_ALIGN 64
#define NPY_GROWTH_AXIS_MAX_DIGITS 21 /* as numpy/lib/format.py */

#if defined(__GNUC__)
#define NPY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NPY_PRINTF(a, b)
#endif

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static const struct {
    const char *name;
    size_t size;
    char kind; /* numpy kind character used in descr */
} dtinfo[] = {
    [NPY_F32] = {"float32", 4, 'f'}, [NPY_F64] = {"float64", 8, 'f'},
    [NPY_F16] = {"float16", 2, 'f'}, [NPY_I64] = {"int64", 8, 'i'},
    [NPY_I32] = {"int32", 4, 'i'},   [NPY_U8] = {"uint8", 1, 'u'},
    [NPY_I8] = {"int8", 1, 'i'},     [NPY_I16] = {"int16", 2, 'i'},
    [NPY_BOOL] = {"bool", 1, 'b'},
};
#define NPY_NDTYPES ((int)(sizeof dtinfo / sizeof dtinfo[0]))

static int dtype_valid(npy_dtype d) {
    return (int)d >= 0 && (int)d < NPY_NDTYPES;
}

const char *npy_dtype_name(npy_dtype d) {
    return dtype_valid(d) ? dtinfo[d].name : "unknown";
}

size_t npy_dtype_size(npy_dtype d) {
    return dtype_valid(d) ? dtinfo[d].size : 0;
}

void npy_free(npy_array *a) {
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

static int host_is_little(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ------------------------------------------------------------------------ */
/* error reporting                                                          */

static void set_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
    NPY_PRINTF(4, 5);

static void set_err(char *err, size_t errlen, const char *path, const char *fmt, ...) {
    va_list ap;
    int n;
    size_t i;

    if (!err || errlen == 0)
        return;
    n = snprintf(err, errlen, "%s: ", path ? path : "(null)");
    if (n < 0) {
        err[0] = '\0';
        return;
    }
    if ((size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* guarantee a single line */
    for (i = 0; err[i]; i++) {
        unsigned char c = (unsigned char)err[i];
        if (c < 0x20 || c == 0x7f)
            err[i] = '?';
    }
}

/* Copy up to a few bytes of untrusted header text into buf as printable ASCII. */
static const char *frag(char *buf, size_t bufsz, const char *p, size_t n) {
    size_t i, o = 0;
    const size_t maxshow = 32;

    for (i = 0; i < n && i < maxshow && o + 1 < bufsz; i++) {
        unsigned char c = (unsigned char)p[i];
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (i < n && o + 4 < bufsz) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------ */
/* header parsing: a tiny subset of Python literal syntax                    */

typedef struct {
    const char *p;
    const char *end;
} cursor;

typedef struct {
    int have_descr, have_fortran, have_shape;
    const char *descr; /* points into the header buffer */
    size_t descr_len;
    int fortran;
    int ndim;
    long long shape[NPY_MAX_NDIM];
} header_info;

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} errctx;

static int is_ws(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static void skip_ws(cursor *c) {
    while (c->p < c->end && is_ws(*c->p))
        c->p++;
}

static int is_ident_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* The rest of the header from c, without the trailing padding, for messages. */
static const char *rest(const cursor *c, char *buf, size_t bufsz) {
    const char *e = c->end;
    while (e > c->p && is_ws(e[-1]))
        e--;
    if (c->p >= e)
        return "<end of header>";
    return frag(buf, bufsz, c->p, (size_t)(e - c->p));
}

/* Python string literal without escapes: '...' or "...". */
static int parse_str(cursor *c, const errctx *e, const char **s, size_t *n) {
    char q;
    const char *start;

    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) {
        set_err(e->err, e->errlen, e->path, "invalid header: expected a string");
        return -1;
    }
    q = *c->p++;
    start = c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\') {
            set_err(e->err, e->errlen, e->path,
                    "invalid header: escape sequences in strings are not supported");
            return -1;
        }
        if (*c->p == '\n') {
            break;
        }
        c->p++;
    }
    if (c->p >= c->end || *c->p != q) {
        set_err(e->err, e->errlen, e->path, "invalid header: unterminated string");
        return -1;
    }
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return 0;
}

static int parse_shape(cursor *c, const errctx *e, header_info *h) {
    char buf[48];
    int ndim = 0;
    int saw_comma = 0;

    if (c->p < c->end && *c->p == '[') {
        set_err(e->err, e->errlen, e->path, "invalid header: shape is a list, not a tuple");
        return -1;
    }
    if (c->p >= c->end || *c->p != '(') {
        set_err(e->err, e->errlen, e->path, "invalid header: shape is not a tuple: '%s'",
                rest(c, buf, sizeof buf));
        return -1;
    }
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ')') {
        c->p++;
        h->ndim = 0;
        return 0;
    }
    for (;;) {
        int neg = 0, digits = 0;
        long long v = 0;
        cursor start;

        skip_ws(c);
        start = *c;
        if (c->p < c->end && (*c->p == '-' || *c->p == '+')) {
            neg = *c->p == '-';
            c->p++;
            skip_ws(c);
        }
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            int d = *c->p - '0';
            if (v > (LLONG_MAX - d) / 10) {
                set_err(e->err, e->errlen, e->path,
                        "invalid header: shape dimension too large: '%s'",
                        rest(&start, buf, sizeof buf));
                return -1;
            }
            v = v * 10 + d;
            digits++;
            c->p++;
        }
        if (digits > 0 && c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
            c->p++; /* Python 2 long suffix */
        if (digits == 0 || (c->p < c->end && (is_ident_char(*c->p) || *c->p == '.'))) {
            set_err(e->err, e->errlen, e->path,
                    "invalid header: shape entry is not an integer: '%s'",
                    rest(c, buf, sizeof buf));
            return -1;
        }
        if (neg && v != 0) {
            set_err(e->err, e->errlen, e->path, "invalid header: negative dimension -%lld in shape",
                    v);
            return -1;
        }
        if (ndim == NPY_MAX_NDIM) {
            set_err(e->err, e->errlen, e->path,
                    "invalid header: shape has too many dimensions (more than %d)", NPY_MAX_NDIM);
            return -1;
        }
        h->shape[ndim++] = v;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            saw_comma = 1;
            c->p++;
            skip_ws(c);
            if (c->p < c->end && *c->p == ')') {
                c->p++;
                break;
            }
            continue;
        }
        if (c->p < c->end && *c->p == ')') {
            if (ndim == 1 && !saw_comma) {
                set_err(e->err, e->errlen, e->path,
                        "invalid header: shape is not a tuple: '(%lld)' is an integer", v);
                return -1;
            }
            c->p++;
            break;
        }
        set_err(e->err, e->errlen, e->path, "invalid header: expected ',' or ')' in shape at '%s'",
                rest(c, buf, sizeof buf));
        return -1;
    }
    h->ndim = ndim;
    return 0;
}

static int parse_header(const char *text, size_t len, const errctx *e, header_info *h) {
    cursor c = {text, text + len};
    char buf[48];

    memset(h, 0, sizeof *h);
    skip_ws(&c);
    if (c.p >= c.end) {
        set_err(e->err, e->errlen, e->path, "invalid header: header is empty");
        return -1;
    }
    if (*c.p != '{') {
        set_err(e->err, e->errlen, e->path, "invalid header: not a dict: '%s'",
                rest(&c, buf, sizeof buf));
        return -1;
    }
    c.p++;
    for (;;) {
        const char *key;
        size_t klen;

        skip_ws(&c);
        if (c.p >= c.end) {
            set_err(e->err, e->errlen, e->path, "invalid header: unterminated dict");
            return -1;
        }
        if (*c.p == '}') {
            c.p++;
            break;
        }
        if (*c.p != '\'' && *c.p != '"') {
            set_err(e->err, e->errlen, e->path, "invalid header: dict key is not a string: '%s'",
                    rest(&c, buf, sizeof buf));
            return -1;
        }
        if (parse_str(&c, e, &key, &klen) != 0)
            return -1;
        skip_ws(&c);
        if (c.p >= c.end || *c.p != ':') {
            set_err(e->err, e->errlen, e->path, "invalid header: expected ':' after key '%s'",
                    frag(buf, sizeof buf, key, klen));
            return -1;
        }
        c.p++;
        skip_ws(&c);
        if (klen == 5 && memcmp(key, "descr", 5) == 0) {
            if (h->have_descr) {
                set_err(e->err, e->errlen, e->path, "invalid header: duplicate key 'descr'");
                return -1;
            }
            if (c.p < c.end && *c.p == '[') {
                set_err(e->err, e->errlen, e->path,
                        "unsupported dtype: structured dtype (descr is a list)");
                return -1;
            }
            if (c.p < c.end && *c.p == '(') {
                set_err(e->err, e->errlen, e->path,
                        "unsupported dtype: subarray dtype (descr is a tuple)");
                return -1;
            }
            if (c.p >= c.end || (*c.p != '\'' && *c.p != '"')) {
                set_err(e->err, e->errlen, e->path, "invalid header: descr is not a string: '%s'",
                        rest(&c, buf, sizeof buf));
                return -1;
            }
            if (parse_str(&c, e, &h->descr, &h->descr_len) != 0)
                return -1;
            h->have_descr = 1;
        } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
            const char *w = c.p;
            size_t wl;
            if (h->have_fortran) {
                set_err(e->err, e->errlen, e->path,
                        "invalid header: duplicate key 'fortran_order'");
                return -1;
            }
            while (c.p < c.end && is_ident_char(*c.p))
                c.p++;
            wl = (size_t)(c.p - w);
            if (wl == 4 && memcmp(w, "True", 4) == 0) {
                h->fortran = 1;
            } else if (wl == 5 && memcmp(w, "False", 5) == 0) {
                h->fortran = 0;
            } else {
                c.p = w;
                set_err(e->err, e->errlen, e->path,
                        "invalid header: fortran_order is not True or False: '%s'",
                        rest(&c, buf, sizeof buf));
                return -1;
            }
            h->have_fortran = 1;
        } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
            if (h->have_shape) {
                set_err(e->err, e->errlen, e->path, "invalid header: duplicate key 'shape'");
                return -1;
            }
            if (parse_shape(&c, e, h) != 0)
                return -1;
            h->have_shape = 1;
        } else {
            set_err(e->err, e->errlen, e->path, "invalid header: unexpected key '%s'",
                    frag(buf, sizeof buf, key, klen));
            return -1;
        }
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == '}') {
            c.p++;
            break;
        }
        set_err(e->err, e->errlen, e->path, "invalid header: expected ',' or '}' in dict at '%s'",
                rest(&c, buf, sizeof buf));
        return -1;
    }
    skip_ws(&c);
    if (c.p != c.end) {
        set_err(e->err, e->errlen, e->path, "invalid header: unexpected text after dict: '%s'",
                rest(&c, buf, sizeof buf));
        return -1;
    }
    if (!h->have_descr || !h->have_fortran || !h->have_shape) {
        set_err(e->err, e->errlen, e->path, "invalid header: missing key '%s'",
                !h->have_descr     ? "descr"
                : !h->have_fortran ? "fortran_order"
                                   : "shape");
        return -1;
    }
    return 0;
}

/* Map a descr string to a dtype.  *swap is set when the data must be
 * byte-swapped to host order. */
static int parse_descr(const char *s, size_t n, const errctx *e, npy_dtype *dt, int *swap) {
    char buf[48];
    char order = '=';
    const char *t = s;
    size_t tn = n;
    char kind;
    unsigned long size = 0;
    size_t i;
    int d;
    char kname[48];

    if (tn > 0 && (t[0] == '<' || t[0] == '>' || t[0] == '=' || t[0] == '|')) {
        order = t[0];
        t++;
        tn--;
    }
    if (tn == 1 && t[0] == '?') { /* numpy char code for bool */
        *dt = NPY_BOOL;
        *swap = 0;
        return 0;
    }
    if (tn < 2 || tn > 4)
        goto unsupported;
    kind = t[0];
    for (i = 1; i < tn; i++) {
        if (t[i] < '0' || t[i] > '9')
            goto unsupported;
        size = size * 10 + (unsigned long)(t[i] - '0');
    }
    for (d = 0; d < NPY_NDTYPES; d++) {
        if (dtinfo[d].kind == kind && dtinfo[d].size == size) {
            int file_little;
            *dt = (npy_dtype)d;
            if (size == 1 || order == '=' || order == '|') {
                *swap = 0;
            } else {
                file_little = order == '<';
                *swap = file_little != host_is_little();
            }
            return 0;
        }
    }

unsupported:
    /* Name the type as well as we can. */
    kname[0] = '\0';
    if (tn >= 1) {
        int known_size = tn >= 2 && tn <= 4;
        for (i = 1; i < tn && known_size; i++)
            if (t[i] < '0' || t[i] > '9')
                known_size = 0;
        switch (t[0]) {
        case 'u':
            if (known_size)
                snprintf(kname, sizeof kname, "uint%lu", size * 8);
            break;
        case 'i':
            if (known_size)
                snprintf(kname, sizeof kname, "int%lu", size * 8);
            break;
        case 'f':
            if (known_size)
                snprintf(kname, sizeof kname, "float%lu", size * 8);
            break;
        case 'c':
            if (known_size)
                snprintf(kname, sizeof kname, "complex%lu", size * 8);
            break;
        case 'b':
            snprintf(kname, sizeof kname, "bool of unusual size");
            break;
        case 'O':
            snprintf(kname, sizeof kname, "object");
            break;
        case 'U':
            snprintf(kname, sizeof kname, "unicode string");
            break;
        case 'S':
        case 'a':
            snprintf(kname, sizeof kname, "byte string");
            break;
        case 'V':
            snprintf(kname, sizeof kname, "void/raw bytes");
            break;
        case 'M':
            snprintf(kname, sizeof kname, "datetime64");
            break;
        case 'm':
            snprintf(kname, sizeof kname, "timedelta64");
            break;
        default:
            break;
        }
    }
    if (kname[0])
        set_err(e->err, e->errlen, e->path, "unsupported dtype '%s' (%s)",
                frag(buf, sizeof buf, s, n), kname);
    else
        set_err(e->err, e->errlen, e->path, "unsupported dtype '%s'", frag(buf, sizeof buf, s, n));
    return -1;
}

/* Format a shape like Python's repr of a tuple. */
static void shape_repr(char *buf, size_t bufsz, int ndim, const long long *shape) {
    size_t o = 0;
    int i, n;

    n = snprintf(buf, bufsz, "(");
    o = n > 0 ? (size_t)n : 0;
    for (i = 0; i < ndim && o < bufsz; i++) {
        n = snprintf(buf + o, bufsz - o, "%s%lld", i ? ", " : "", shape[i]);
        if (n < 0)
            return;
        o += (size_t)n;
    }
    if (o < bufsz)
        snprintf(buf + o, bufsz - o, "%s)", ndim == 1 ? "," : "");
}

/* Checked size computation.  Returns 0 and sets *numel and *nbytes, or -1 when
 * the product of the non-zero dims times itemsize exceeds NPY_MAX_BYTES
 * (which also rules out any overflow). */
static int checked_size(int ndim, const long long *shape, size_t itemsize, size_t *numel,
                        size_t *nbytes) {
    unsigned long long nz = 1;
    int zero = 0, i;

    for (i = 0; i < ndim; i++) {
        unsigned long long d;
        if (shape[i] < 0)
            return -1;
        if (shape[i] == 0) {
            zero = 1;
            continue;
        }
        d = (unsigned long long)shape[i];
        if (nz > NPY_MAX_BYTES / d)
            return -1;
        nz *= d;
    }
    if (itemsize == 0 || nz > NPY_MAX_BYTES / itemsize)
        return -1;
    if (nz * itemsize > (unsigned long long)SIZE_MAX)
        return -1;
    *numel = zero ? 0 : (size_t)nz;
    *nbytes = (size_t)(zero ? 0 : nz * itemsize);
    return 0;
}

static void byteswap(void *data, size_t numel, size_t itemsize) {
    unsigned char *p = data;
    size_t i, j;

    for (i = 0; i < numel; i++, p += itemsize) {
        for (j = 0; j < itemsize / 2; j++) {
            unsigned char t = p[j];
            p[j] = p[itemsize - 1 - j];
            p[itemsize - 1 - j] = t;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* reading                                                                  */

int npy_read(const char *path, npy_array *out, char *err, size_t errlen) {
    FILE *f = NULL;
    unsigned char pre[12];
    size_t got, hl_size, numel = 0, nbytes = 0;
    unsigned long header_len;
    unsigned major, minor;
    char *header = NULL;
    void *data = NULL;
    long fsize = -1, data_off;
    header_info h;
    npy_dtype dt;
    int swap = 0, i;
    errctx e;
    char shp[256];

    e.path = path;
    e.err = err;
    e.errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    if (!out) {
        set_err(err, errlen, path, "internal error: output array is NULL");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (!path) {
        set_err(err, errlen, path, "no file name given");
        return -1;
    }

    f = fopen(path, "rb");
    if (!f) {
        set_err(err, errlen, path, "cannot open: %s", strerror(errno));
        return -1;
    }

    /* file size, if the stream is seekable */
    if (fseek(f, 0, SEEK_END) == 0) {
        fsize = ftell(f);
        if (fsize < 0 || fseek(f, 0, SEEK_SET) != 0)
            fsize = -1;
    }
    clearerr(f);

    /* magic + version */
    got = fread(pre, 1, 8, f);
    if (got < 8 && ferror(f)) {
        set_err(err, errlen, path, "read error: %s", strerror(errno));
        goto fail;
    }
    if (got == 0) {
        set_err(err, errlen, path, "empty file, not a .npy file");
        goto fail;
    }
    if (memcmp(pre, npy_magic, got < 6 ? got : 6) != 0) {
        set_err(err, errlen, path, "not a .npy file (bad magic)");
        goto fail;
    }
    if (got < 8) {
        set_err(err, errlen, path, "truncated preamble: file has only %lu bytes",
                (unsigned long)got);
        goto fail;
    }
    major = pre[6];
    minor = pre[7];
    if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
        set_err(err, errlen, path, "unsupported .npy format version %u.%u", major, minor);
        goto fail;
    }
    hl_size = major == 1 ? 2 : 4;
    got = fread(pre + 8, 1, hl_size, f);
    if (got < hl_size) {
        if (ferror(f))
            set_err(err, errlen, path, "read error: %s", strerror(errno));
        else
            set_err(err, errlen, path, "truncated preamble: missing header length");
        goto fail;
    }
    if (hl_size == 2)
        header_len = (unsigned long)pre[8] | ((unsigned long)pre[9] << 8);
    else
        header_len = (unsigned long)pre[8] | ((unsigned long)pre[9] << 8) |
                     ((unsigned long)pre[10] << 16) | ((unsigned long)pre[11] << 24);
    if (header_len > NPY_MAX_HEADER_LEN) {
        set_err(err, errlen, path, "header length %lu exceeds the limit of %lu bytes", header_len,
                (unsigned long)NPY_MAX_HEADER_LEN);
        goto fail;
    }
    if (fsize >= 0 && header_len > (unsigned long)(fsize - (long)(8 + hl_size))) {
        set_err(err, errlen, path, "truncated header: header length is %lu bytes, file has %ld",
                header_len, fsize - (long)(8 + hl_size));
        goto fail;
    }
    if (header_len == 0) {
        set_err(err, errlen, path, "invalid header: header length is 0");
        goto fail;
    }

    header = malloc(header_len);
    if (!header) {
        set_err(err, errlen, path, "out of memory reading header (%lu bytes)", header_len);
        goto fail;
    }
    got = fread(header, 1, header_len, f);
    if (got < header_len) {
        if (ferror(f))
            set_err(err, errlen, path, "read error: %s", strerror(errno));
        else
            set_err(err, errlen, path, "truncated header: header length is %lu bytes, file has %lu",
                    header_len, (unsigned long)got);
        goto fail;
    }

    if (parse_header(header, header_len, &e, &h) != 0)
        goto fail;
    if (parse_descr(h.descr, h.descr_len, &e, &dt, &swap) != 0)
        goto fail;
    free(header); /* h.descr points into it: not used after this point */
    header = NULL;

    if (checked_size(h.ndim, h.shape, dtinfo[dt].size, &numel, &nbytes) != 0) {
        shape_repr(shp, sizeof shp, h.ndim, h.shape);
        set_err(err, errlen, path, "array too large: shape %s of %s exceeds 2^40 bytes", shp,
                dtinfo[dt].name);
        goto fail;
    }

    data_off = (long)(8 + hl_size + header_len);
    if (fsize >= 0) {
        long avail = fsize - data_off;
        if ((unsigned long long)avail < (unsigned long long)nbytes) {
            set_err(err, errlen, path, "truncated data: header says %llu bytes, file has %ld",
                    (unsigned long long)nbytes, avail);
            goto fail;
        }
        if ((unsigned long long)avail > (unsigned long long)nbytes) {
            set_err(err, errlen, path, "trailing data: header says %llu bytes, file has %ld",
                    (unsigned long long)nbytes, avail);
            goto fail;
        }
    }

    data = malloc(nbytes ? nbytes : 1);
    if (!data) {
        set_err(err, errlen, path, "out of memory: cannot allocate %llu bytes",
                (unsigned long long)nbytes);
        goto fail;
    }
    got = nbytes ? fread(data, 1, nbytes, f) : 0;
    if (got < nbytes) {
        if (ferror(f))
            set_err(err, errlen, path, "read error: %s", strerror(errno));
        else
            set_err(err, errlen, path, "truncated data: header says %llu bytes, file has %llu",
                    (unsigned long long)nbytes, (unsigned long long)got);
        goto fail;
    }
    if (fgetc(f) != EOF) {
        set_err(err, errlen, path, "trailing data: file is longer than the %llu bytes of data",
                (unsigned long long)nbytes);
        goto fail;
    }
    fclose(f);
    f = NULL;

    if (swap)
        byteswap(data, numel, dtinfo[dt].size);

    out->dtype = dt;
    out->itemsize = dtinfo[dt].size;
    out->ndim = h.ndim;
    out->fortran_order = h.fortran;
    out->numel = numel;
    out->data = data;
    for (i = 0; i < h.ndim; i++)
        out->shape[i] = h.shape[i];
    /* Strides in elements; zero-length dims count as 1 (like NumPy), which
     * keeps them bounded by the checked product of the non-zero dims. */
    if (h.ndim > 0) {
        if (h.fortran) {
            out->strides[0] = 1;
            for (i = 1; i < h.ndim; i++)
                out->strides[i] = out->strides[i - 1] * (h.shape[i - 1] > 0 ? h.shape[i - 1] : 1);
        } else {
            out->strides[h.ndim - 1] = 1;
            for (i = h.ndim - 2; i >= 0; i--)
                out->strides[i] = out->strides[i + 1] * (h.shape[i + 1] > 0 ? h.shape[i + 1] : 1);
        }
    }
    return 0;

fail:
    free(header);
    free(data);
    if (f)
        fclose(f);
    memset(out, 0, sizeof *out);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* writing                                                                  */

int npy_write(const char *path, npy_dtype dtype, int ndim, const long long *shape, const void *data,
              char *err, size_t errlen) {
    char dict[512];
    char shp[256];
    char hdr[1024];
    unsigned char prefix[12];
    size_t numel, nbytes, dlen, hlen, padlen, plen;
    int n, i, growth = 0;
    FILE *f;
    const char *descr;
    char descr_buf[8];

    if (err && errlen)
        err[0] = '\0';
    if (!path) {
        set_err(err, errlen, path, "no file name given");
        return -1;
    }
    if (!dtype_valid(dtype)) {
        set_err(err, errlen, path, "cannot write: invalid dtype %d", (int)dtype);
        return -1;
    }
    if (ndim < 0 || ndim > NPY_MAX_NDIM) {
        set_err(err, errlen, path, "cannot write: ndim %d out of range 0..%d", ndim, NPY_MAX_NDIM);
        return -1;
    }
    if (ndim > 0 && !shape) {
        set_err(err, errlen, path, "cannot write: shape is NULL");
        return -1;
    }
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            set_err(err, errlen, path, "cannot write: negative dimension %lld", shape[i]);
            return -1;
        }
    }
    if (checked_size(ndim, shape, dtinfo[dtype].size, &numel, &nbytes) != 0) {
        shape_repr(shp, sizeof shp, ndim, shape);
        set_err(err, errlen, path, "cannot write: array too large: shape %s of %s", shp,
                dtinfo[dtype].name);
        return -1;
    }
    if (nbytes > 0 && !data) {
        set_err(err, errlen, path, "cannot write: data is NULL");
        return -1;
    }

    if (dtinfo[dtype].size == 1) {
        descr_buf[0] = '|';
    } else {
        descr_buf[0] = host_is_little() ? '<' : '>';
    }
    descr_buf[1] = dtinfo[dtype].kind;
    descr_buf[2] = (char)('0' + dtinfo[dtype].size);
    descr_buf[3] = '\0';
    descr = descr_buf;

    shape_repr(shp, sizeof shp, ndim, shape);
    n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
                 shp);
    if (n < 0 || (size_t)n >= sizeof dict) {
        set_err(err, errlen, path, "cannot write: header too long");
        return -1;
    }
    dlen = (size_t)n;
    /* NumPy >= 1.24 leaves room for the first axis to grow in place. */
    if (ndim > 0) {
        char tmp[32];
        int dl = snprintf(tmp, sizeof tmp, "%lld", shape[0]);
        if (dl > 0 && dl < NPY_GROWTH_AXIS_MAX_DIGITS)
            growth = NPY_GROWTH_AXIS_MAX_DIGITS - dl;
    }
    hlen = dlen + (size_t)growth + 1; /* + final newline */
    plen = 10;
    padlen = NPY_ALIGN - ((plen + hlen) % NPY_ALIGN);
    if (hlen + padlen > 65535) {
        plen = 12;
        padlen = NPY_ALIGN - ((plen + hlen) % NPY_ALIGN);
    }
    if (hlen + padlen > sizeof hdr) {
        set_err(err, errlen, path, "cannot write: header too long");
        return -1;
    }
    memcpy(hdr, dict, dlen);
    memset(hdr + dlen, ' ', (size_t)growth + padlen);
    hdr[hlen + padlen - 1] = '\n';

    memcpy(prefix, npy_magic, 6);
    prefix[6] = plen == 10 ? 1 : 2;
    prefix[7] = 0;
    {
        unsigned long total = (unsigned long)(hlen + padlen);
        prefix[8] = (unsigned char)(total & 0xff);
        prefix[9] = (unsigned char)((total >> 8) & 0xff);
        prefix[10] = (unsigned char)((total >> 16) & 0xff);
        prefix[11] = (unsigned char)((total >> 24) & 0xff);
    }

    f = fopen(path, "wb");
    if (!f) {
        set_err(err, errlen, path, "cannot open for writing: %s", strerror(errno));
        return -1;
    }
    if (fwrite(prefix, 1, plen, f) != plen || fwrite(hdr, 1, hlen + padlen, f) != hlen + padlen ||
        (nbytes > 0 && fwrite(data, 1, nbytes, f) != nbytes)) {
        set_err(err, errlen, path, "write error: %s", strerror(errno));
        fclose(f);
        remove(path);
        return -1;
    }
    if (fclose(f) != 0) {
        set_err(err, errlen, path, "write error: %s", strerror(errno));
        remove(path);
        return -1;
    }
    (void)numel;
    return 0;
}
