"""Matrix products on the default device context against numpy.

Dot of matrices and vectors runs on GpuGemm / GpuGemv / GpuDot; shapes that are not
multiples of the kernels' blocks, transposed and strided inputs, vectors on either
side and empty dimensions each check another path of the kernels. The kernels meant
for GPUs run on PoCL too (with the CPU family switched off, or launched by hand), and
the CUDA renderings of the dialect-neutral templates are compiled with nvcc.
"""
import numpy as np
import pytest

import clgraph
import clgraph.compile.device_blas  # noqa: F401  (registers the device implementation of Dot)
import clgraph.tensor as T
from clgraph.backends import get_context, nvcc, to_device, zeros
from clgraph.codegen import gemm
from clgraph.compile.device_blas import GpuDot, _gpu_dot, _gpu_gemm, _gpu_gemv
from clgraph.tensor.transfer import DeviceTensorType

DTYPES = ["float32", "float64"]
GEMM_SHAPES = [(1, 1, 1), (3, 5, 7), (37, 65, 129), (256, 256, 256), (5, 300, 3), (0, 4, 3), (4, 0, 3),
               (4, 3, 0)]
TOLERANCE = {"float32": 2e-4, "float64": 1e-11}


def random(shape, dtype, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def check(got, expected, dtype):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    # Sums of up to a few hundred products of numbers below 1: an absolute floor for the
    # results that cancel to near zero.
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * 10)


def op_names(f):
    return [type(node.op).__name__ for node in f.maker.fgraph.toposort()]


@pytest.fixture(scope="module", params=DTYPES)
def functions(request):
    """Compiled products of one dtype, shared by the tests (one kernel build each)."""
    dtype = request.param
    x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
    u, v = T.vector("u", dtype=dtype), T.vector("v", dtype=dtype)
    return dtype, {
        "mm": clgraph.function([x, y], T.dot(x, y)),
        "tn": clgraph.function([x, y], T.dot(x.T, y)),
        "nt": clgraph.function([x, y], T.dot(x, y.T)),
        "mv": clgraph.function([x, u], T.dot(x, u)),
        "tv": clgraph.function([x, u], T.dot(x.T, u)),
        "vm": clgraph.function([u, x], T.dot(u, x)),
        "vt": clgraph.function([u, x], T.dot(u, x.T)),
        "vv": clgraph.function([u, v], T.dot(u, v[::2])),
    }


@pytest.mark.parametrize("m, k, n", GEMM_SHAPES)
def test_matrix_products(functions, m, k, n):
    dtype, f = functions
    a, b = random((m, k), dtype, 1), random((k, n), dtype, 2)
    check(f["mm"](a, b), a @ b, dtype)
    check(f["tn"](np.ascontiguousarray(a.T), b), a @ b, dtype)
    check(f["nt"](a, np.ascontiguousarray(b.T)), a @ b, dtype)


def on_device(op, *arrays):
    """``op`` run on DeviceArrays (views with any strides)."""
    variables = [DeviceTensorType(x.dtype, (None,) * x.ndim, x.context.name)() for x in arrays]
    return op.perform(op.make_node(*variables), list(arrays))[0].get()


@pytest.mark.parametrize("cpu_kernels", [True, False], ids=["cpu-kernels", "gpu-kernels"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_and_reversed_views(dtype, cpu_kernels, monkeypatch):
    """Every layout on the kernels of CPU devices, and (with those disabled) on the
    kernels and launch shapes meant for GPUs, which PoCL runs as well."""
    if not cpu_kernels:
        monkeypatch.setattr(gemm, "blocked_width", lambda device, dtype: 0)
    context = get_context("opencl0:0")
    a, b = random((75, 41), dtype, 1), random((119, 23), dtype, 2)
    da, db = to_device(a, context), to_device(b, context)
    check(on_device(_gpu_gemm, da[::2, 1:], db[::-3]), a[::2, 1:] @ b[::-3], dtype)
    check(on_device(_gpu_gemm, db[::-3].T, da[::2, 1:].T), (a[::2, 1:] @ b[::-3]).T, dtype)
    check(on_device(_gpu_gemm, da[1:30, ::-2], db[:21, 1:]), a[1:30, ::-2] @ b[:21, 1:], dtype)
    check(on_device(_gpu_gemv, da[::2, 1:], db[::3, 5]), a[::2, 1:] @ b[::3, 5], dtype)
    check(on_device(_gpu_gemv, da[::-2, 1:].T, db[:38, 5]), a[::-2, 1:].T @ b[:38, 5], dtype)
    check(on_device(_gpu_gemv, db[::-3, 5][:38], da[::2, 1:]), b[::-3, 5][:38] @ a[::2, 1:], dtype)
    check(on_device(_gpu_gemv, da[::2, ::3], db[:14, 1]), a[::2, ::3] @ b[:14, 1], dtype)
    check(on_device(_gpu_gemv, db[:75, 1], da[::-1]), b[:75, 1] @ a[::-1], dtype)
    check(on_device(_gpu_dot, da[3, ::-1], db[:41, 2]), a[3, ::-1] @ b[:41, 2], dtype)
    check(on_device(_gpu_dot, da[3], da[4]), a[3] @ a[4], dtype)
    e = random((5, 700), dtype, 3)   # rows longer than a group: partial sums, then the reduction
    de = to_device(e, context)
    check(on_device(_gpu_gemv, de[:, ::2], de[0, ::2]), e[:, ::2] @ e[0, ::2], dtype)


@pytest.mark.parametrize("m, k", [(1, 1), (3, 5), (37, 65), (130, 257), (0, 5), (5, 0)])
def test_vector_products(functions, m, k):
    dtype, f = functions
    a, x, w = random((m, k), dtype, 1), random(k, dtype, 2), random(m, dtype, 3)
    check(f["mv"](a, x), a @ x, dtype)
    check(f["tv"](np.ascontiguousarray(a.T), x), a @ x, dtype)
    check(f["vm"](w, a), w @ a, dtype)
    check(f["vt"](w, np.ascontiguousarray(a.T)), w @ a, dtype)
    u, v = random(k, dtype, 4), random(2 * k, dtype, 5)
    check(f["vv"](u, v), np.dot(u, v[::2]), dtype)


def test_products_run_on_the_device(functions):
    _, f = functions
    assert "GpuGemm" in op_names(f["mm"]) and "Dot" not in op_names(f["mm"])
    for case in ("mv", "tv", "vm", "vt"):
        assert "GpuGemv" in op_names(f[case])
    assert "GpuDot" in op_names(f["vv"])


def test_result_stays_on_the_device_and_mixed_dtypes():
    a = clgraph.shared(random((20, 30), "float32"))
    b = clgraph.shared(random((30, 10), "float64"))
    f = clgraph.function([], T.dot(a, b).transfer(a.context_name))
    out = f()
    assert out.dtype == np.float64 and "GpuGemm" in op_names(f)
    check(np.asarray(out.sync()), a.get_value().astype("float64") @ b.get_value(), "float64")


def test_other_dtypes_run_on_the_host():
    x, y = T.imatrix("x"), T.imatrix("y")
    f = clgraph.function([x, y], T.dot(x, y))
    assert "Dot" in op_names(f) and "GpuGemm" not in op_names(f)
    a = np.arange(12, dtype="int32").reshape(3, 4)
    np.testing.assert_array_equal(f(a, a.T), a @ a.T)


def test_misaligned_shapes_raise():
    x, y = T.matrices("x", "y")
    f = clgraph.function([x, y], T.dot(x, y))
    with pytest.raises(ValueError, match="not aligned"):
        f(np.ones((2, 3), x.dtype), np.ones((4, 2), x.dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tiled_gemm_on_the_opencl_device(dtype):
    """The GPU kernel, with alpha and beta, on PoCL: its edges and strides are checked
    here even where no GPU is present."""
    context = get_context("opencl0:0")
    name, source = gemm.tiled_gemm(dtype)
    kernel = context.build(source).kernel(name)
    m, k, n = 70, 33, 130
    a, b, c = random((k, m), dtype, 1).T, random((k, n), dtype, 2), random((m, n), dtype, 3)
    da, db, dc = to_device(np.ascontiguousarray(a.T), context).T, to_device(b, context), to_device(c, context)
    strides = [np.int64(s // a.itemsize) for s in da.strides + db.strides + dc.strides[:1]]
    scalar = np.dtype(dtype).type
    kernel((-(-n // gemm.TILE), -(-m // gemm.TILE)), (gemm.TILE_THREADS,) * 2, dc, da, db, np.int64(m),
           np.int64(n), np.int64(0), np.int64(k), *strides, scalar(2), scalar(0.5), outputs=[dc])
    check(dc.get(), 2 * a @ b + 0.5 * c, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_blocked_gemm_accumulates_over_k_chunks(dtype):
    """K longer than the blocked kernel's chunk: later chunks add to the first (beta=1)."""
    k = gemm.K_CHUNK * 2 + 3
    a, b = random((50, k), dtype, 1), random((k, 40), dtype, 2)
    context = get_context("opencl0:0")
    out = zeros((50, 40), dtype, context)
    GpuDot()._gemm(out, to_device(a, context), to_device(b, context))
    check(out.get(), a @ b, dtype)


@pytest.mark.parametrize("rows", [1, 2, gemm.BLOCK_ROWS + 1, 4 * gemm.BLOCK_ROWS - 1, gemm.PACK_MIN + 1])
def test_blocks_cut_by_the_last_row_write_only_their_rows(rows):
    """A block cut by the last row computes whole (its rows past M read row M - 1) and
    stores only the rows within C: the rows after it, in the same buffer, are kept."""
    context = get_context("opencl0:0")
    a, b, c = random((rows, 70), "float32", 1), random((70, 40), "float32", 2), random((rows + 9, 40), "float32", 3)
    out = to_device(c, context)
    GpuDot()._gemm(out[:rows], to_device(a, context), to_device(b, context), alpha=2, beta=0.5)
    expected = c.copy()
    expected[:rows] = 2 * a @ b + 0.5 * c[:rows]
    check(out.get(), expected, "float32")


def test_blocked_kernels_on_16_wide_vectors(monkeypatch):
    """float16 vectors, as AVX-512 devices get (float32 uses 8 here, float64 4)."""
    monkeypatch.setattr(gemm, "blocked_width", lambda device, dtype: 16)
    context, op = get_context("opencl0:0"), GpuDot()
    a, b = random((37, 65), "float32", 1), random((65, 129), "float32", 2)
    da, db = to_device(a, context), to_device(b, context)
    out, y, z = (zeros(shape, "float32", context) for shape in [(37, 129), 37, 129])
    op._gemm(out, da, db)
    op._gemv(y, da, db[:, 3])
    op._gemv(z, db.T, da[0])
    check(out.get(), a @ b, "float32")
    check(y.get(), a @ b[:, 3], "float32")
    check(z.get(), a[0] @ b, "float32")


def test_kernel_sources_of_a_function():
    x, y = T.matrices("x", "y")
    f = clgraph.function([x, y], T.dot(x, y))
    opencl, cuda = clgraph.printing.kernel_source(f, "opencl"), clgraph.printing.kernel_source(f, "cuda")
    dtype = x.dtype
    assert set(cuda) == {gemm.tiled_gemm(dtype)[0], gemm.gemv(dtype)[0]}
    width = gemm.blocked_width(get_context().info, np.dtype(dtype))
    if width:   # a CPU device: the blocked GEMM, its vector program, and the general matrix-vector kernel
        name = gemm.blocked_gemm(dtype, width)[0]
        assert set(opencl) == {name, name + "_gemv", gemm.gemv(dtype)[0]}
    else:
        assert set(opencl) == set(cuda)


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_compiles_with_nvcc():
    sources = dict(pair for dtype in DTYPES for pair in (gemm.tiled_gemm(dtype), gemm.gemv(dtype)))
    ptx = nvcc.compile_ptx(sources)
    for name in sources:
        assert f".entry {name}(" in ptx


def test_packed_operand_reused_until_it_is_written():
    # B is packed once for many products, and packed again after any write to it
    from clgraph.compile import device_blas

    rng = np.random.default_rng(5)
    a = clgraph.shared(rng.uniform(-1, 1, (gemm.PACK_MIN + 3, 40)).astype("float32"), name="a")
    w = clgraph.shared(rng.uniform(-1, 1, (40, 24)).astype("float32"), name="w")
    product = clgraph.function([], T.dot(a, w))
    step = clgraph.function([], [], updates={w: w - 0.5 * T.dot(a.T, T.dot(a, w))})   # in place over w
    packs = []
    pack = device_blas.GpuDot._pack_b
    try:
        device_blas.GpuDot._pack_b = lambda self, *args: packs.append(1) or pack(self, *args)
        for _ in range(3):
            np.testing.assert_allclose(product(), a.get_value() @ w.get_value(), rtol=1e-4, atol=1e-4)
        blocked = bool(gemm.blocked_width(get_context().info, np.dtype("float32")))
        assert len(packs) == (1 if blocked else 0)   # CPU devices pack B, once for the three calls
        for _ in range(2):
            step()
            np.testing.assert_allclose(product(), a.get_value() @ w.get_value(), rtol=1e-4, atol=1e-4)
        # w is written in place at each step: the step's own dot(a, w) and the product pack it again
        assert len(packs) == (5 if blocked else 0)
        w.set_value(np.ones((40, 24), "float32"))
        np.testing.assert_allclose(product(), a.get_value() @ np.ones((40, 24)), rtol=1e-4, atol=1e-4)
    finally:
        device_blas.GpuDot._pack_b = pack


@pytest.mark.skipif(not gemm.blocked_width(get_context().info, np.dtype("float32")), reason="a CPU OpenCL device")
def test_matrix_vector_products_build_no_gemm():
    # the vector kernels are a program of their own: a graph of matrix-vector products
    # does not compile the (long) GEMM family
    from conftest import run_python

    code = """
import numpy as np, pyopencl as cl, clgraph, clgraph.tensor as T
from clgraph.backends import get_context
a, x = T.fmatrix(), T.fvector()
clgraph.function([a, x], T.dot(a, x) + T.dot(x[:3], a))(np.ones((3, 3), 'float32'), np.ones(3, 'float32'))
programs = get_context().programs._memory.values()
print(sorted(name for p in programs for name in p.raw.get_info(cl.program_info.KERNEL_NAMES).split(';')))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    name = gemm.blocked_gemm("float32", gemm.blocked_width(get_context().info, np.dtype("float32")))[0]
    assert result.stdout.split("\n")[-2] == str(sorted([name + "_gemv", name + "_gevm"]))
