"""Reductions on the default device context against the numpy reference: every
reduction, dtype and set of axes, on contiguous and strided inputs, through each kernel
path (one pass, chunked partials, rows of vectors, streamed rows)."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc
from clgraph.compile.device_reduce import GpuCAReduce
from clgraph.codegen.reduce import ReduceKernel

REDUCTIONS = {"sum": T.sum, "prod": T.prod, "max": T.max, "min": T.min}
AXES = [None, 0, 1, 2, (0, 2), (1, 2), (0, 1)]


def reference_and_device(inputs, outputs, values):
    expected = clgraph.function(inputs, outputs, mode="FAST_COMPILE")(*values)
    device = clgraph.function(inputs, outputs)
    nodes = device.maker.fgraph.toposort()
    assert sum(isinstance(n.op, GpuCAReduce) for n in nodes) == len(outputs), nodes
    return device(*values), expected


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_every_reduction_over_every_axis_set(dtype, layout):
    rng = np.random.default_rng(1)
    value = (rng.uniform(0.5, 1.5, (4, 5, 6)) if dtype.startswith("float")
             else rng.integers(-3, 4, (4, 5, 6))).astype(dtype)
    x = T.tensor(dtype, (None, None, None))
    if layout == "transposed":
        value = np.ascontiguousarray(value.transpose(2, 1, 0)).transpose(2, 1, 0)
    outputs = [f(x, axis=axis) for f in REDUCTIONS.values() for axis in AXES]
    got, expected = reference_and_device([x], outputs, [value])
    for g, e, (name, axis) in zip(got, expected, [(n, a) for n in REDUCTIONS for a in AXES]):
        assert g.dtype == e.dtype, (name, axis)
        np.testing.assert_allclose(g, e, rtol=1e-5 if dtype == "float32" else 1e-12,
                                   err_msg=f"{name} over {axis} of {dtype} ({layout})")


@pytest.mark.parametrize("shape", [(3, 37), (1000, 9), (1003, 13), (64, 1000), (1, 65), (70, 1), (0, 5), (5, 0)])
def test_sum_paths_on_large_and_odd_shapes(shape):
    value = np.random.default_rng(2).uniform(-1, 1, shape).astype("float32")
    x = T.fmatrix("x")
    outputs = [x.sum(axis=0), x.sum(axis=1), x.sum(), x.T.sum(axis=1), x.prod(axis=0)]
    got, expected = reference_and_device([x], outputs, [value])
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_chunked_sum_of_a_long_vector_and_logical_reductions():
    value = np.random.default_rng(3).uniform(0, 1, 1_000_003).astype("float32")
    x = T.fvector("x")
    outputs = [x.sum(), x.max(), T.all(x >= 0), T.any(x > 0.999999), T.sum(x > 0.5)]
    got, expected = reference_and_device([x], outputs, [value])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-4)
    for g, e in zip(got[1:], expected[1:]):
        assert g.dtype == e.dtype and np.array_equal(g, e)


def test_max_of_an_empty_array_names_the_reduction():
    x = T.fvector("x")
    f = clgraph.function([x], x.max())
    with pytest.raises(ValueError, match="cannot take the max over axes .* of an empty array"):
        f(np.zeros(0, "float32"))
    assert f(np.ones(3, "float32")) == 1   # the function still works


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_reduction_kernels_compiles():
    sources = {}
    for op in ("add", "mul", "maximum", "minimum", "and_", "or_"):
        for dtypes in [("float32", "float32", "float32"), ("int32", "int64", "int64"),
                       ("float16", "float32", "float16"), ("bool", "bool", "bool")]:
            if op in ("and_", "or_") and dtypes[0] != "bool":
                continue
            kernel = ReduceKernel(op, *dtypes)
            for kept, reduced in [(0, 1), (1, 1), (2, 2)]:
                name, source = kernel.source(kept, reduced)
                sources[name] = source
    ptx = nvcc.compile_ptx(sources)
    assert all(f".entry {name}(" in ptx for name in sources)


def device_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if "From" not in str(n.op)]


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_elementwise_map_fuses_into_the_reduction(axis):
    x, y = T.fmatrices("x", "y")
    values = [np.random.default_rng(4).uniform(-1, 1, (37, 65)).astype("float32") for _ in range(2)]
    for output in [(x ** 2).sum(axis=axis), (x * y - 1).max(axis=axis), T.exp(x).prod(axis=axis)]:
        f = clgraph.function([x, y], output, on_unused_input="ignore")
        nodes = device_nodes(f)
        assert len(nodes) == 1 and isinstance(nodes[0].op, GpuCAReduce) and nodes[0].op.map is not None, nodes
        expected = clgraph.function([x, y], output, mode="FAST_COMPILE", on_unused_input="ignore")(*values)
        np.testing.assert_allclose(f(*values), expected, rtol=1e-4)
        strided = [np.ascontiguousarray(v.T).T for v in values]   # the unfused fallback
        np.testing.assert_allclose(f(*strided), expected, rtol=1e-4)


def test_a_map_used_elsewhere_is_not_fused():
    x = T.fvector("x")
    squares = x ** 2
    f = clgraph.function([x], [squares.sum(), squares])
    assert sum(isinstance(n.op, GpuCAReduce) and n.op.map is None for n in f.maker.fgraph.toposort()) == 1
    total, each = f(np.arange(4, dtype="float32"))
    assert total == 14 and np.array_equal(each, [0, 1, 4, 9])


def test_kernel_source_lists_every_reduction_kernel_a_function_runs():
    x, y = T.fmatrix("x"), T.ftensor3("y")
    f = clgraph.function([x, y], [x.sum(axis=0), (x ** 2).sum(), (x * 2 + 1).max(axis=1),
                                  y.sum(axis=(0, 2)), y.prod(axis=1)])
    rng = np.random.default_rng(5)
    for shape in [(3, 5), (300, 70), (5000, 4)]:   # one pass, partials, rows of vectors
        f(rng.random(shape, dtype=np.float32), rng.random((4, shape[0], 6), dtype=np.float32))
    listed = clgraph.printing.kernel_source(f, "opencl")
    ran = {kernel.name for node in f.maker.fgraph.toposort() if isinstance(node.op, GpuCAReduce)
           for kernel in node.op._kernel_cache.values()}
    assert ran and ran <= set(listed), ran - set(listed)
    cuda = clgraph.printing.kernel_source(f, "cuda")
    assert cuda and set(cuda) <= set(listed)
    if nvcc.find_nvcc() is not None:
        ptx = nvcc.compile_ptx(cuda)
        assert all(f".entry {name}(" in ptx for name in cuda)
