"""The cluda dialect headers: the shared check kernels run on an OpenCL device and are
compiled for CUDA with nvcc; the two headers must define the same names."""

import re
from pathlib import Path

import numpy as np
import pyopencl as cl
import pytest

from clgraph.backends import nvcc
from clgraph.backends.array import strided_copy_source
from clgraph.backends.errors import BuildError

ROOT = Path(__file__).resolve().parent.parent
CL_INCLUDE_DIR = ROOT / "kernels_cl"
CL_HEADER = CL_INCLUDE_DIR / "cluda.h"
CU_HEADER = ROOT / "kernels_cu" / "cluda.h"
CHECK_SOURCE = (ROOT / "clgraph" / "kernels" / "cluda_check.c").read_text()

# Every buffer starts at this byte offset behind a guard pattern, so a kernel that
# ignores the (base, offset) ABI gives wrong results or overwrites the guard.
OFFSET = 40
GUARD = 0xAB

# Mirrors cluda_check_stats in cluda_check.c.
STATS = np.dtype([("sum", "f4"), ("count", "i4"), ("max_index", "i4"), ("min_index", "i4"),
                  ("warp_size", "i4"), ("specials", "f4", 4)])

needs_nvcc = pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")


def header_names(path):
    """Macros and ga_ names a header defines, less its internal helpers (#undef-ed)."""
    text = path.read_text()
    names = set(re.findall(r"#\s*define\s+(\w+)", text)) | set(re.findall(r"\bga_\w+", text))
    return names - set(re.findall(r"#\s*undef\s+(\w+)", text))


def test_headers_define_the_same_names():
    cl_names, cu_names = header_names(CL_HEADER), header_names(CU_HEADER)
    assert cl_names - cu_names == {"DIALECT_OPENCL"}
    # OpenCL C has NAN, INFINITY and M_PI_F built in.
    assert cu_names - cl_names == {"DIALECT_CUDA", "NAN", "INFINITY", "M_PI_F"}
    version = re.compile(r"#define CLUDA_HEADER_VERSION (\d+)")
    assert version.search(CL_HEADER.read_text())[1] == version.search(CU_HEADER.read_text())[1]


def test_check_kernels_use_every_name():
    not_for_kernels = {"CLUDA_H", "CLUDA_HEADER_VERSION", "DIALECT_CUDA", "GA_HAS_FP16"}
    unused = header_names(CU_HEADER) - not_for_kernels - set(re.findall(r"\w+", CHECK_SOURCE))
    assert not unused


# ---- OpenCL: build and run the check kernels ----

@pytest.fixture(scope="module")
def opencl():
    try:
        platforms = cl.get_platforms()
    except cl.Error:
        platforms = []
    devices = [d for p in platforms for d in p.get_devices()]
    if not devices:
        pytest.skip("no OpenCL device")
    pocl = [d for d in devices if "Portable Computing Language" in d.platform.name]
    context = cl.Context([(pocl or devices)[0]])
    program = cl.Program(context, '#include "cluda.h"\n' + CHECK_SOURCE)
    program.build(options=["-I", str(CL_INCLUDE_DIR)])
    return context, cl.CommandQueue(context), program


def to_device(context, array):
    """A buffer holding array at byte OFFSET, behind the guard."""
    host = np.full(OFFSET + array.nbytes, GUARD, np.uint8)
    host[OFFSET:] = np.ascontiguousarray(array).view(np.uint8).ravel()
    flags = cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR
    return cl.Buffer(context, flags, hostbuf=host)


def from_device(queue, buffer, like):
    host = np.empty(OFFSET + like.nbytes, np.uint8)
    cl.enqueue_copy(queue, host, buffer)
    assert (host[:OFFSET] == GUARD).all(), "a kernel wrote before its buffer's offset"
    return host[OFFSET:].view(like.dtype).reshape(like.shape)


def buffer_args(*buffers):
    return [arg for buffer in buffers for arg in (buffer, np.int64(OFFSET))]


def test_check_kernel_on_opencl(opencl):
    context, queue, program = opencl
    n, group_size = 1000, 32
    groups = -(-n // group_size)
    values = np.random.default_rng(0).uniform(1, 2, n).astype(np.float32)
    values[:2] = [1 + 2**-11, 1 + 3 * 2**-11]  # exactly half-way between two halves
    stats = np.zeros(1, STATS)
    stats["max_index"], stats["min_index"] = -1, np.iinfo(np.int32).max
    group_sums, halves = np.zeros(groups, np.float32), np.zeros(n, np.float16)
    buffers = [to_device(context, a) for a in (group_sums, halves, stats, values)]

    program.cluda_check(queue, (groups * group_size,), (group_size,), *buffer_args(*buffers),
                        np.int64(n), cl.LocalMemory(group_size * 4))
    got_sums, got_halves, got_stats, got_values = (
        from_device(queue, b, a) for b, a in zip(buffers, (group_sums, halves, stats, values)))

    padded = np.zeros(groups * group_size, np.float32)
    padded[:n] = values
    np.testing.assert_allclose(got_sums, padded.reshape(groups, group_size).sum(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(got_halves[:2], [1.0, 1 + 2**-9])  # ties round to even
    np.testing.assert_array_equal(got_halves.view(np.uint16), values.astype(np.float16).view(np.uint16))
    np.testing.assert_array_equal(got_values, values.astype(np.float16).astype(np.float32))
    (s,) = got_stats
    assert abs(s["sum"] - values.sum(dtype=np.float64)) < 0.5  # a lost update costs >= 1
    assert (s["count"], s["max_index"], s["min_index"], s["warp_size"]) == (n, n - 1, 0, 1)
    assert np.isnan(s["specials"][0]) and s["specials"][1] == np.inf
    np.testing.assert_array_equal(s["specials"][2:], np.float32(np.pi))


def test_ids_kernel_on_opencl(opencl):
    context, queue, program = opencl
    groups, local = np.array([3, 2, 2]), np.array([4, 2, 2])
    global_size = groups * local
    ids = np.zeros((global_size.prod(), 16), np.int64)
    buffer = to_device(context, ids)

    program.cluda_check_ids(queue, tuple(global_size), tuple(local), *buffer_args(buffer))

    # Row-major over (z, y, x), matching the kernel's global index.
    global_id = np.indices(global_size[::-1]).reshape(3, -1)[::-1]
    lid, gid = global_id % local[:, None], global_id // local[:, None]
    local_index = lid[0] + local[0] * (lid[1] + local[1] * lid[2])
    count = global_id.shape[1]
    expected = np.column_stack([lid.T, gid.T, np.tile(local, (count, 1)), np.tile(groups, (count, 1)),
                                global_id.T, local.prod() - 1 - local_index])
    np.testing.assert_array_equal(from_device(queue, buffer, ids), expected)


def test_wide_atomics_on_opencl(opencl):
    context, queue, program = opencl
    if "cluda_check_wide" not in program.get_info(cl.program_info.KERNEL_NAMES).split(";"):
        pytest.skip("device lacks fp64 or 64-bit atomics")
    n = 1 << 18
    x = np.arange(n) * 0.25  # sums exactly in any order, so any lost update shows
    totals = np.zeros(2, np.int64)
    buffers = [to_device(context, a) for a in (totals, x)]

    # Few groups, each looping over many elements: long runs of contended updates.
    program.cluda_check_wide(queue, (16 * 64,), (64,), *buffer_args(*buffers), np.int64(n))

    wide_count, sum_bits = from_device(queue, buffers[0], totals)
    assert wide_count == n << 32
    assert sum_bits.view(np.float64) == x.sum()


def test_saxpy_on_opencl(opencl):
    context, queue, program = opencl
    n, a = 1000, np.float32(2.5)
    rng = np.random.default_rng(1)
    y, x = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    buffers = [to_device(context, v) for v in (y, x)]

    # Fewer work-items than elements: the grid-stride loop covers the rest.
    program.cluda_saxpy(queue, (4 * 64,), (64,), *buffer_args(*buffers), a, np.int64(n))

    np.testing.assert_allclose(from_device(queue, buffers[0], y), a * x + y, rtol=1e-6, atol=1e-6)  # the device may fuse into an FMA


# ---- CUDA: compile checks with nvcc ----

# A helper named like one in cluda_check.c: each source of a batch has its own namespace.
SAME_HELPER_NAME = """
DEVICE_FUNC INLINE ga_float cluda_group_sum(ga_float v) { return 2.0f * v; }
KERNEL void other_source(GLOBAL_MEM char *out_base, ga_ssize out_off)
{
    GLOBAL_MEM ga_float *out = (GLOBAL_MEM ga_float *)(out_base + out_off);
    out[GLOBAL_ID_0] = cluda_group_sum(out[GLOBAL_ID_0]);
}
"""


# Renderings of the runtime's templates, compiled in the same nvcc call.
STRIDED_COPIES = dict(strided_copy_source(ndim, src, dst) for ndim, src, dst in [
    (1, "float32", "float32"), (2, "float16", "float32"), (3, "float32", "float16"),
    (2, "int64", "float64"), (1, "bool", "float32"), (2, "float32", "bool"), (4, "uint8", "int16"),
]) | dict([strided_copy_source(3, "float32", "float32", 32, True), strided_copy_source(2, "float16", "float64", 32)])


@needs_nvcc
def test_check_kernels_compile_for_cuda():
    ptx = nvcc.compile_ptx({"cluda_check.c": CHECK_SOURCE, "other_source.c": SAME_HELPER_NAME,
                            **STRIDED_COPIES})
    for kernel in ("cluda_check", "cluda_check_ids", "cluda_check_wide", "cluda_saxpy", "other_source",
                   *STRIDED_COPIES):
        assert re.search(rf"\.entry {kernel}\(", ptx), kernel
    # The default target adds doubles natively rather than through the CAS loop.
    assert re.search(r"(atom|red)\.global\.add\.f64", ptx)


@needs_nvcc
def test_cuda_build_error_carries_log_and_numbered_source():
    broken = "KERNEL void broken(GLOBAL_MEM char *out_base)\n{\n    ga_int x = ;\n}\n"
    with pytest.raises(BuildError) as caught:
        nvcc.compile_ptx({"other_source.c": SAME_HELPER_NAME, "broken.c": broken})
    error = caught.value
    assert error.dialect == "cuda"
    assert "broken.c(3)" in error.log  # the #line marker names the source and its own line
    message = str(error)
    assert error.log.strip() in message
    assert re.search(r"\d+ \|     ga_int x = ;", message)


@needs_nvcc
def test_nvcc_version_is_the_release_line():
    assert "release" in nvcc.nvcc_version()


def test_duplicate_kernel_names_in_a_batch_are_refused():
    twin = "KERNEL void twin(GLOBAL_MEM char *out_base) {}"
    with pytest.raises(ValueError, match=r"'twin'.*'first\.c'.*'second\.c'"):
        nvcc.compile_ptx({"first.c": twin, "second.c": twin})


def test_find_nvcc_falls_back_to_cuda_home(monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "nvcc"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.delenv("CUDA_ROOT", raising=False)
    monkeypatch.setenv("CUDA_HOME", str(tmp_path))
    assert nvcc.find_nvcc() == str(fake)

    monkeypatch.delenv("CUDA_HOME")
    assert nvcc.find_nvcc() is None
    with pytest.raises(FileNotFoundError, match="nvcc"):
        nvcc.compile_ptx({"saxpy.c": CHECK_SOURCE})


def test_cuda_include_dir_holds_the_cuda_header():
    assert (nvcc.cuda_include_dir() / "cluda.h").read_text() == CU_HEADER.read_text()
