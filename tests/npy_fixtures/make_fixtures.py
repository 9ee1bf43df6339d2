#!/usr/bin/python3
"""Generate the .npy fixtures used by tests/suite_npy.c.

Run with a Python that has NumPy (on the dev box: /usr/bin/python3):

    /usr/bin/python3 tests/npy_fixtures/make_fixtures.py

Good fixtures are written by NumPy itself into this directory; the malformed
corpus is written by hand into bad/.  Output is deterministic; the generated
files are committed so the C test suite does not need Python.
Values follow simple formulas that suite_npy.c recomputes.
"""
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")
MAGIC = b"\x93NUMPY"


def save(name, arr, version=None):
    with open(os.path.join(HERE, name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


def good():
    a234 = np.arange(24, dtype="<f4").reshape(2, 3, 4)          # a[i,j,k] = 12i+4j+k
    save("c_f32_234.npy", a234)
    save("f_f32_234.npy", np.asfortranarray(a234))               # fortran_order True
    save("f_i64_23.npy", np.asfortranarray(np.arange(6, dtype="<i8").reshape(2, 3)))
    save("v2_i32_23.npy", np.arange(6, dtype="<i4").reshape(2, 3), version=(2, 0))
    save("v3_f64_32.npy", (np.arange(6, dtype="<f8") * 0.5).reshape(3, 2), version=(3, 0))
    save("be_f32_5.npy", (np.arange(5) * 1.5).astype(">f4"))
    save("be_f64_5.npy", (np.arange(5) * -0.25).astype(">f8"))
    save("be_i64_5.npy", ((np.arange(5) - 2) * 1000000000000).astype(">i8"))
    save("be_i32_5.npy", ((np.arange(5) - 2) * 100000).astype(">i4"))
    save("be_i16_5.npy", ((np.arange(5) - 2) * 1000).astype(">i2"))
    save("be_f16_4.npy", np.array([0.0, 0.5, -2.0, 65504.0], dtype=">f2"))
    save("scalar_f64.npy", np.array(3.25, dtype="<f8"))
    save("scalar_i32.npy", np.array(-7, dtype="<i4"))
    save("bool_5.npy", np.array([True, False, True, True, False]))
    save("u8_26.npy", ((np.arange(26) * 9) % 256).astype("|u1"))
    save("i8_5.npy", np.array([-128, -1, 0, 1, 127], dtype="|i1"))
    save("i16_5.npy", np.array([-32768, -1, 0, 1, 32767], dtype="<i2"))
    save("i32_7.npy", ((np.arange(7) - 3) * 100000).astype("<i4"))
    save("i64_7.npy", ((np.arange(7) - 3) * 2**40).astype("<i8"))
    save("f64_5.npy", (np.arange(5) / 4.0).astype("<f8"))
    save("f16_4.npy", np.array([0.0, 0.5, -2.0, 65504.0], dtype="<f2"))
    save("zero_03.npy", np.zeros((0, 3), dtype="<f4"))
    save("zero_1d.npy", np.zeros((0,), dtype="<i8"))


def raw(header, data=b"", version=(1, 0), hlen=None, pad=True):
    """Assemble a .npy file by hand. header: str or bytes (no padding)."""
    if isinstance(header, str):
        header = header.encode("latin1")
    if pad:
        pre = 10 if version[0] == 1 else 12
        total = len(header) + 1
        header = header + b" " * ((64 - (pre + total) % 64) % 64) + b"\n"
    if hlen is None:
        hlen = len(header)
    fmt = "<H" if version[0] == 1 else "<I"
    return MAGIC + bytes(version) + struct.pack(fmt, hlen) + header + data


def bad():
    for fn in os.listdir(BAD):
        if fn.endswith(".npy"):
            os.remove(os.path.join(BAD, fn))

    def w(name, content):
        with open(os.path.join(BAD, name), "wb") as f:
            f.write(content)

    d24 = np.arange(24, dtype="<f4").tobytes()
    ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"
    valid = raw(ok, d24)

    w("empty.npy", b"")
    w("five_bytes.npy", MAGIC[:5])
    w("preamble_only.npy", MAGIC + b"\x01\x00")
    w("bad_magic.npy", b"\x93NUMPX" + valid[6:])
    w("text_file.npy", b"hello, this is not an npy file\n")
    w("version_9.npy", MAGIC + b"\x09\x00" + valid[8:])
    w("version_1_5.npy", MAGIC + b"\x01\x05" + valid[8:])
    w("trunc_header.npy", valid[:40])
    w("trunc_data.npy", valid[:-10])
    w("hlen_ffffffff_v2.npy", raw(ok, d24, version=(2, 0), hlen=0xFFFFFFFF))
    w("hlen_2mib_v2.npy", raw(ok, d24, version=(2, 0), hlen=2 << 20))
    w("hlen_beyond_file.npy", raw(ok, d24, hlen=5000))
    w("hlen_zero.npy", raw("", b"", pad=False))
    w("missing_shape.npy", raw("{'descr': '<f4', 'fortran_order': False, }", d24))
    w("missing_descr.npy", raw("{'fortran_order': False, 'shape': (2, 3, 4), }", d24))
    w("neg_dim.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }", d24))
    w("overflow_shape.npy",
      raw("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, 16), }" % (2**62, 2**62), d24))
    w("too_large.npy",
      raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576, 1024), }", d24))
    w("huge_int_dim.npy",
      raw("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", d24))
    w("object.npy", raw("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", b"\0" * 24))
    w("structured.npy",
      raw("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }",
          b"\0" * 24))
    w("subarray.npy", raw("{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (3,), }",
                          b"\0" * 24))
    w("unsupported_u4.npy", raw("{'descr': '<u4', 'fortran_order': False, 'shape': (6,), }", d24))
    w("unsupported_c8.npy", raw("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", d24))
    w("unsupported_U5.npy", raw("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }",
                                b"\0" * 20))
    w("unsupported_datetime.npy",
      raw("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (3,), }", d24[:24]))
    w("nondict_list.npy", raw("[1, 2, 3]", d24))
    w("nondict_str.npy", raw("'just a string'", d24))
    w("unterminated_dict.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), ", d24))
    w("unterminated_string.npy", raw("{'descr': '<f4, 'fortran_order': False", d24))
    w("garbage_after_dict.npy", raw(ok + " xyz", d24))
    w("unknown_key.npy",
      raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), 'foo': 1, }", d24))
    w("duplicate_key.npy",
      raw("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", d24))
    w("ndim_9.npy",
      raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", d24[:4]))
    w("fortran_not_bool.npy", raw("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3, 4), }", d24))
    w("shape_list.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3, 4], }", d24))
    w("shape_int.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (24), }", d24))
    w("shape_float.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (24.0,), }", d24))
    w("shape_unparsable.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3 4), }", d24))
    w("descr_not_string.npy", raw("{'descr': 4, 'fortran_order': False, 'shape': (2, 3, 4), }", d24))
    w("descr_escape.npy", raw("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2, 3, 4), }", d24))
    w("nul_in_header.npy", raw(ok.replace(" ", "\0"), d24))
    # shape/size disagreements: more data than the shape says, and less
    w("size_mismatch_extra.npy",
      raw("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", b"\0" * 48))
    w("size_mismatch_short.npy",
      raw("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }", b"\0" * 48))
    w("zero_size_with_data.npy",
      raw("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", b"\0" * 4))


if __name__ == "__main__":
    os.makedirs(BAD, exist_ok=True)
    good()
    bad()
