"""Cumulative sums and products on the default device context against the numpy
reference: dtypes (ints widen as numpy, float16 rounds every step as numpy), axes,
strided inputs, empty inputs, and long lines scanned in blocks."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc
from clgraph.codegen.cumulative import CumulativeKernel
from clgraph.compile.device_cumulative import GpuCumOp


def reference_and_device(inputs, outputs, values):
    expected = clgraph.function(inputs, outputs, mode="FAST_COMPILE")(*values)
    device = clgraph.function(inputs, outputs)
    placed = sum(isinstance(n.op, GpuCumOp) for n in device.maker.fgraph.toposort())
    assert placed == len(outputs), device.maker.fgraph.toposort()
    return device(*values), expected


def assert_same(got, expected, what, rtol=0):
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape, what
        if rtol:
            np.testing.assert_allclose(g, e, rtol=rtol, err_msg=what)
        else:
            np.testing.assert_array_equal(g, e, err_msg=what)


def values_of(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(0.5, 1.5, shape).astype(dtype)
    low = 0 if np.dtype(dtype).kind == "u" else -3
    return rng.integers(low, low + 7, shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "int64", "uint8", "uint64", "bool"])
def test_dtypes_and_axes(dtype):
    # int8 sums overflow int8 (numpy widens to int64); float16 rounds at every step
    value = values_of(dtype, (6, 40), 1)
    if dtype == "int8":
        value *= 40
    x = T.tensor(dtype, (None, None))
    outputs = [T.cumsum(x, axis=0), T.cumsum(x, axis=-1), T.cumsum(x), T.cumprod(x, axis=1), T.cumprod(x.T)]
    got, expected = reference_and_device([x], outputs, [value])
    assert_same(got, expected, dtype, rtol=1e-6 if dtype in ("float32", "float64") else 0)


@pytest.mark.parametrize("layout", ["transposed", "sliced", "reversed"])
def test_strided_inputs(layout):
    base = values_of("float64", (5, 8, 6), 2)
    value = {"transposed": np.ascontiguousarray(base.transpose(2, 0, 1)).transpose(1, 2, 0),
             "sliced": base[1:, ::3, :],
             "reversed": base[::-1, :, ::-2]}[layout]
    x = T.dtensor3("x")
    outputs = [T.cumsum(x, axis=a) for a in (0, 1, 2, None)] + [T.cumprod(x, axis=-2), T.cumprod(x[:, 1:])]
    got, expected = reference_and_device([x], outputs, [value])
    assert_same(got, expected, layout, rtol=1e-13)


def test_long_lines_are_scanned_in_blocks():
    n = 1_000_003
    rng = np.random.default_rng(3)
    floats = rng.uniform(0, 1, n).astype("float32")
    near_one = (1 + rng.uniform(-1e-6, 1e-6, n)).astype("float64")
    x, p = T.fvector("x"), T.dvector("p")
    got, expected = reference_and_device([x, p], [T.cumsum(x), T.cumprod(p)], [floats, near_one])
    # numpy adds float32 in order; blocks add their totals in another order: the
    # difference is rounding, of the size of numpy's own error against float64
    np.testing.assert_allclose(got[0], expected[0], rtol=2e-4)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-10)
    # a few long lines, exact: along a strided axis and along the contiguous one
    m = T.lmatrix("m")
    matrix = rng.integers(-1000, 1000, (300_000, 3)).astype("int64")
    got, expected = reference_and_device([m], [T.cumsum(m, axis=0), T.cumsum(m.T, axis=1)], [matrix])
    assert_same(got, expected, "few long lines")


def test_empty_and_scalar_inputs():
    m = T.fmatrix("m")
    s = T.iscalar("s")
    f = clgraph.function([m], [T.cumsum(m, axis=0), T.cumprod(m, axis=1), T.cumsum(m)])
    for shape in [(0, 4), (3, 0), (0, 0)]:
        got = f(np.zeros(shape, "float32"))
        assert [g.shape for g in got] == [shape, shape, (0,)]
    got, expected = reference_and_device([s], [T.cumsum(s), T.cumprod(s)], [np.int32(7)])
    assert_same(got, expected, "scalar")
    assert got[0].shape == (1,) and got[0].dtype == np.int64


def test_kernel_sources_of_a_function():
    x = T.fmatrix("x")
    f = clgraph.function([x], T.cumsum(x, axis=1))
    names = set(clgraph.printing.kernel_source(f, "opencl"))
    assert {"cumulative_add_float32_float32_k1", "cumulative_add_float32_float32_k1_carried"} <= names


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_cumulative_kernels_compiles():
    sources = {}
    for mode in ("add", "mul"):
        for in_dtype, out_dtype in [("float32", "float32"), ("float64", "float64"), ("float16", "float16"),
                                    ("int8", "int64"), ("uint16", "uint64"), ("bool", "int64")]:
            kernels = CumulativeKernel(mode, in_dtype, out_dtype)
            for kept in (1, 3):
                sources.update([kernels.scan(kept), kernels.scan(kept, carried=True), kernels.totals(kept)])
    ptx = nvcc.compile_ptx(sources)
    assert all(f".entry {name}(" in ptx for name in sources)


def test_kernels_are_rendered_once_per_context_not_at_every_call(monkeypatch):
    renders = []
    scan = CumulativeKernel.scan
    monkeypatch.setattr(CumulativeKernel, "scan", lambda self, *a, **k: renders.append(a) or scan(self, *a, **k))
    x = T.fmatrix("x")
    f = clgraph.function([x], T.cumsum(x, axis=1))
    value = np.ones((300, 5), "float32")
    f(value)
    first = len(renders)
    for _ in range(3):
        np.testing.assert_array_equal(f(value), np.cumsum(value, axis=1))
    assert first >= 1 and len(renders) == first
