"""numpy.matmul, tensordot and batched_tensordot on the default device context against
the host reference (FAST_COMPILE).

MatMul covers every number of axes numpy.matmul takes (vectors as one-row or one-column
matrices, batch axes broadcast), TensorDot any contracted axes, in and out of order;
empty, transposed and strided operands; both kernel families (the CPU one on vector
types and, with it switched off, the one meant for GPUs, which PoCL runs too); the
launches a stack takes; errors that name the op; and the CUDA rendering of the
templates with nvcc.
"""
import functools

import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context, nvcc, to_device
from clgraph.codegen import gemm
from clgraph.compile.device_blas import GpuDot, GpuMatMul, GpuTensorDot, _as_stack
from clgraph.tensor.math import MatMul

DTYPES = ["float32", "float64"]
EPSILON = {"float32": 1e-6, "float64": 1e-15}   # per term of the contracted sums
# The kernels for GPUs take float64 as they take float32 (the template is the same):
# their PoCL builds (seconds each) are spared for float64.
FAMILIES_AND_DTYPES = pytest.mark.parametrize("family, dtype", [
    ("cpu-kernels", "float32"), ("cpu-kernels", "float64"), ("gpu-kernels", "float32")], indirect=["family"])


def random(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(-1, 1, shape).astype(dtype)
    return rng.integers(-5, 6, shape).astype(dtype)


@pytest.fixture(params=["cpu-kernels", "gpu-kernels"])
def family(request, monkeypatch):
    """Each kernel family on the OpenCL device: the CPU one, or the one for GPUs."""
    if request.param == "gpu-kernels":
        monkeypatch.setattr(gemm, "blocked_width", lambda device, dtype: 0)
    return request.param


@functools.lru_cache(maxsize=None)
def compiled(build, *types):
    """(device function, reference function) of ``build`` on inputs of ``types``
    ((dtype, ndim) pairs, any lengths), shared by the tests."""
    inputs = [T.tensor(dtype, (None,) * ndim) for dtype, ndim in types]
    output = build(*inputs)
    return clgraph.function(inputs, output), clgraph.function(inputs, output, mode="FAST_COMPILE")


def compare(build, gpu_op, values, k):
    """``build`` of ``values`` on the device (by a ``gpu_op`` node) and on the host, with
    a tolerance that grows with ``k``, the length of the contracted sums."""
    device, reference = compiled(build, *((str(v.dtype), v.ndim) for v in values))
    assert any(isinstance(node.op, gpu_op) for node in device.maker.fgraph.toposort())
    got, expected = device(*values), reference(*values)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    tolerance = EPSILON[str(got.dtype)] * max(k, 8)
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


MATMUL_SHAPES = [
    ((3, 1, 4, 5), (2, 5, 6)),          # both broadcast: a loop over one batch axis, a stack along the other
    ((3, 4, 5), (5, 6)),                # one matrix for the stack: one GEMM over every row of a
    ((4, 5), (3, 5, 6)),                # one left matrix for the stack
    ((5,), (3, 5, 6)),                  # vector @ stack: matrix-vector products
    ((3, 4, 5), (5,)),                  # stack @ vector
    ((2, 3, 1, 5), (2, 3, 5, 7)),       # one row each
    ((2, 3, 4, 5), (2, 3, 5, 1)),       # one column each
    ((2, 1, 40, 50), (1, 3, 50, 33)),
    ((6, 70, 40), (6, 40, 37)),         # B packed for each product, blocks cut by the edges
    ((2, 40, 1100), (2, 1100, 20)),     # K in several chunks
    ((1, 4, 5), (1, 5, 6)),
    ((3, 0, 5), (5, 6)), ((3, 4, 0), (0, 6)), ((0, 4, 5), (5, 6)), ((2, 4, 5), (2, 5, 0)),
]


@FAMILIES_AND_DTYPES
@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_of_stacks(family, dtype, a_shape, b_shape):
    a, b = random(a_shape, dtype, 1), random(b_shape, dtype, 2)
    compare(T.matmul, GpuMatMul, [a, b], a_shape[-1])


_matmul_op = MatMul()


@pytest.mark.parametrize("a_shape, b_shape", [((5,), (5,)), ((4, 5), (5,)), ((5,), (5, 6)), ((4, 5), (5, 6))],
                         ids=str)
def test_matmul_op_of_vectors_and_matrices(a_shape, b_shape):
    """matmul() gives these to Dot; the MatMul op takes them as numpy.matmul does."""
    a, b = random(a_shape, "float32", 1), random(b_shape, "float32", 2)
    compare(_matmul_op, GpuMatMul, [a, b], 5)


def _transposed_times_reversed(a, b):
    return T.matmul(a.transpose(0, 2, 1), b[:, ::-2, 1:])


def _broadcast_views(a, b):
    return T.matmul(a[::2].dimshuffle(0, "x", 2, 1), b[:, 1:].transpose(0, 2, 1))


def _strided_times_columns(a, b):
    return T.matmul(a[:, ::2, ::3], b)   # matrix-vector products on rows with gaps


def _batched_dot_of_strided_vectors(a, b):
    return T.batched_dot(a, b[:, ::2])


@pytest.mark.parametrize("build, a_shape, b_shape, k", [
    (_transposed_times_reversed, (3, 5, 4), (3, 10, 7), 5),
    (_transposed_times_reversed, (4, 45, 38), (4, 90, 41), 45),
    (_broadcast_views, (6, 5, 4), (2, 7, 5), 5),
    (_strided_times_columns, (3, 8, 9), (3, 3, 1), 3),
    (_batched_dot_of_strided_vectors, (7, 3, 4), (7, 8), 4),
], ids=["small", "large", "broadcast", "columns", "vectors"])
def test_products_of_strided_views(family, build, a_shape, b_shape, k):
    a, b = random(a_shape, "float32", 1), random(b_shape, "float32", 2)
    compare(build, (GpuMatMul, GpuTensorDot), [a, b], k)


def _tensordot(axes):
    return functools.partial(T.tensordot, axes=axes)


TENSORDOT_CASES = [
    (_tensordot([[1, 2], [0, 1]]), (3, 4, 5), (4, 5, 6), 20),            # views of both
    (_tensordot([[-1, 1], [1, 0]]), (3, 4, 5), (4, 5, 6), 20),           # out of order: copies
    (_tensordot([[0, 2], [2, 0]]), (3, 4, 5), (5, 6, 3), 15),
    (_tensordot([[1], [0]]), (3, 4, 5), (4,), 4),
    (_tensordot([[0], [1]]), (4,), (3, 4, 5), 4),
    (_tensordot(0), (3, 4), (5, 2), 1),                                  # an outer product
    (_tensordot(3), (3, 4, 5), (3, 4, 5), 60),                           # everything contracted
    (_tensordot([[1, 2], [0, 1]]), (3, 0, 5), (0, 5, 6), 0),             # empty sums
    (_tensordot([[1, 2], [0, 1]]), (0, 4, 5), (4, 5, 6), 20),            # an empty result
    (T.batched_dot, (7, 3, 4), (7, 4, 5), 4),
    (T.batched_dot, (7, 3, 4), (7, 4), 4),
    (T.batched_dot, (7, 4), (7, 4), 4),
    (T.batched_dot, (0, 3, 4), (0, 4, 5), 4),
    (functools.partial(T.batched_tensordot, axes=[[1, 3], [3, 1]]), (7, 3, 4, 5), (7, 5, 6, 3), 15),
]


@FAMILIES_AND_DTYPES
@pytest.mark.parametrize("build, a_shape, b_shape, k", TENSORDOT_CASES, ids=lambda v: str(v)[:40])
def test_tensordot(family, dtype, build, a_shape, b_shape, k):
    a, b = random(a_shape, dtype, 1), random(b_shape, dtype, 2)
    compare(build, GpuTensorDot, [a, b], k)


def _tensordot_of_views(a, b):
    return T.tensordot(a.transpose(2, 0, 1), b[::-1, :, ::2], [[0, 2], [1, 0]])


def test_tensordot_of_strided_views(family):
    a, b = random((3, 4, 5), "float32", 1), random((4, 5, 12), "float32", 2)
    compare(_tensordot_of_views, GpuTensorDot, [a, b], 20)


def test_operands_are_viewed_as_matrices_and_copied_only_where_strides_do_not_allow():
    value = np.arange(120, dtype="float32").reshape(2, 3, 4, 5)
    x = to_device(value, get_context("opencl0:0"))
    cases = [
        (x, value, [[0], [1], [2, 3]], True),
        (x, value, [[], [3], [0, 1, 2]], True),                       # a contracted axis moved first
        (x[:, :, ::2], value[:, :, ::2], [[], [0, 1], [2, 3]], False),   # columns 2 x 5 with a gap
        (x[:, ::-1], value[:, ::-1], [[], [0, 1], [2, 3]], False),       # rows reversed within a batch
    ]
    for array, expected, groups, viewed in cases:
        stack = _as_stack(array, groups)
        assert (stack.block is x.block) == viewed, groups
        order = [a for group in groups for a in group]
        shape = [int(np.prod([expected.shape[a] for a in group])) for group in groups]
        np.testing.assert_array_equal(stack.get(), expected.transpose(order).reshape(shape))


@pytest.mark.parametrize("a_shape, b_shape, launches", [
    ((3, 4, 5), (5, 6), [(1, 12, 6)]),                  # one b: one product over every row
    ((2, 3, 4, 5), (5, 6), [(1, 24, 6)]),
    ((3, 1, 4, 5), (2, 5, 6), [(3, 4, 6)] * 2),         # the longer batch axis is the stack
    ((7, 4, 5), (7, 5, 6), [(7, 4, 6)]),
    ((2, 3, 4, 5), (2, 3, 5, 6), [(6, 4, 6)]),          # batch axes merged
    ((4, 5), (3, 5, 6), [(3, 4, 6)]),
])
def test_launches_of_a_stack(monkeypatch, a_shape, b_shape, launches):
    """Batch axes that b does not change along fold into rows, the others into as few
    stacks as strides allow."""
    calls = []
    products = GpuDot._products

    def recording(self, c, a, b):
        calls.append(c.shape)
        products(self, c, a, b)
    monkeypatch.setattr(GpuDot, "_products", recording)
    a, b = random(a_shape, "float32", 1), random(b_shape, "float32", 2)
    compare(T.matmul, GpuMatMul, [a, b], 5)
    assert calls == launches


def test_stacks_longer_than_the_grid_limit(monkeypatch):
    """The batched tiled GEMM takes a stack longer than the third grid axis may be (made
    short here) in several launches."""
    monkeypatch.setattr(gemm, "blocked_width", lambda device, dtype: 0)
    monkeypatch.setattr(gemm, "MAX_GRID_BATCHES", 2)
    a, b = random((5, 9, 70), "float32", 1), random((5, 70, 11), "float32", 2)
    compare(T.matmul, GpuMatMul, [a, b], 70)


def test_stacks_of_large_products_launch_one_by_one(monkeypatch):
    """On CPU devices, products with much work each take the one-product GEMM (made
    small here)."""
    monkeypatch.setattr(gemm, "STACK_MAX_WORK", 5000)
    shapes = []
    gemm_of = GpuDot._gemm

    def recording(self, c, a, b, *args):
        shapes.append(c.shape)
        gemm_of(self, c, a, b, *args)
    monkeypatch.setattr(GpuDot, "_gemm", recording)
    for a_shape, b_shape, stacks in [((3, 40, 30), (3, 30, 20), 1), ((3, 1, 40, 30), (2, 30, 20), 2)]:
        shapes.clear()
        a, b = random(a_shape, "float32", 1), random(b_shape, "float32", 2)
        compare(T.matmul, GpuMatMul, [a, b], 30)
        assert shapes == ([(3, 40, 20)] + [(40, 20)] * 3) * stacks


def test_other_dtypes():
    """Integer and float16 products stay on the host (exact); mixed ones with a float32
    or float64 result convert their inputs on the device."""
    for dtype in ("int32", "int64", "float16"):
        device, reference = compiled(T.matmul, (dtype, 3), (dtype, 3))
        ops = [type(node.op) for node in device.maker.fgraph.toposort()]
        assert MatMul in ops and GpuMatMul not in ops
        a, b = random((2, 3, 4), dtype, 1), random((2, 4, 5), dtype, 2)
        got, expected = device(a, b), reference(a, b)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    a, b = random((2, 3, 4), "int8", 1), random((2, 4, 5), "float32", 2)
    compare(T.matmul, GpuMatMul, [a, b], 4)
    a, b = random((2, 3, 4), "int32", 1), random((4, 5), "float32", 2)   # float64, as numpy
    compare(_tensordot([[2], [0]]), GpuTensorDot, [a, b], 4)


def _affine(a, b, c):
    return T.matmul(a, b) * 2 + c


def test_product_in_a_larger_graph():
    a, b, c = random((3, 4, 5), "float32", 1), random((3, 5, 6), "float32", 2), random((6,), "float32", 3)
    compare(_affine, GpuMatMul, [a, b, c], 10)


def test_shape_errors_name_the_op_and_the_function_works_afterwards():
    f, _ = compiled(T.matmul, ("float32", 3), ("float32", 3))
    with pytest.raises(ValueError, match=r"GpuMatMul: shapes \(2, 3, 4\) and \(2, 5, 6\) are not aligned: "
                                         r"the last axis of the first has length 4, the contracted axis "
                                         r"of the second 5"):
        f(random((2, 3, 4), "float32"), random((2, 5, 6), "float32"))
    with pytest.raises(ValueError, match=r"GpuMatMul: the batch axes of shapes \(2, 3, 4\) and \(3, 4, 6\) "
                                         r"do not broadcast: 2 != 3"):
        f(random((2, 3, 4), "float32"), random((3, 4, 6), "float32"))
    assert f(random((2, 3, 4), "float32"), random((2, 4, 6), "float32")).shape == (2, 3, 6)

    g, _ = compiled(_tensordot([[1, 2], [0, 1]]), ("float32", 3), ("float32", 3))
    with pytest.raises(ValueError, match=r"GpuTensorDot\{axes=\[\[1, 2\], \[0, 1\]\]\}: shapes \(3, 4, 5\) and "
                                         r"\(4, 6, 6\) are not aligned: axis 2 of the first input has length 5 "
                                         r"but axis 1 of the second has length 6"):
        g(random((3, 4, 5), "float32"), random((4, 6, 6), "float32"))
    assert g(random((3, 4, 5), "float32"), random((4, 5, 6), "float32")).shape == (3, 6)

    h, _ = compiled(T.batched_dot, ("float32", 3), ("float32", 3))
    with pytest.raises(ValueError, match=r"GpuBatchedTensorDot\{axes=\[\[2\], \[1\]\]\}: shapes \(2, 3, 4\) and "
                                         r"\(3, 4, 5\) are not aligned: axis 0 of the first input has length 2"):
        h(random((2, 3, 4), "float32"), random((3, 4, 5), "float32"))
    assert h(random((2, 3, 4), "float32"), random((2, 4, 5), "float32")).shape == (2, 3, 5)


def test_kernel_sources_of_a_matmul():
    device, _ = compiled(T.matmul, ("float32", 3), ("float32", 3))
    tiled, gemv = gemm.tiled_gemm("float32"), gemm.gemv("float32")
    assert clgraph.printing.kernel_source(device, "cuda") == dict([tiled, gemv])
    assert f"{tiled[0]}_batched(" in tiled[1]


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_the_stacked_kernels_compiles_with_nvcc():
    sources = dict(pair for dtype in DTYPES for pair in (gemm.tiled_gemm(dtype), gemm.gemv(dtype)))
    ptx = nvcc.compile_ptx(sources)
    for dtype in DTYPES:
        name = gemm.tiled_gemm(dtype)[0]
        for entry in (name, name + "_batched", gemm.gemv(dtype)[0]):
            assert f".entry {entry}(" in ptx
