"""Elementwise kernels on the default device context against the numpy reference.

Every operation of the scalar table, for each dtype, is computed by one multi-output
fused kernel (one build per case) on contiguous, broadcast and strided inputs, each
layout selecting another kernel variant; the reference is the same node run by the
numpy implementations (FAST_COMPILE). With device=cuda0 these check the CUDA kernels.
"""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.compile.device_ops import GpuElemwise
from clgraph.scalar import SCALAR_OPS, Composite
from clgraph.tensor.basic import ELEMENTWISE
from clgraph.tensor.elemwise import Elemwise

DTYPES = ["float32", "float64", "int32", "int64"]
INTEGER_ONLY = {"and_", "or_", "xor", "invert"}
# Inputs: a and b anywhere in [-4, 4] (with halves, and zeros among integers), p in
# (0.1, 0.9) and q in (1.1, 4) for functions with a restricted domain.
ARGUMENTS = {"arccosh": "q", "arccos": "p", "arcsin": "p", "arctanh": "p", "log": "q", "log2": "q",
             "log10": "q", "log1p": "p", "sqrt": "q", "pow": "pq", "clip": "apq", "switch": "aab",
             "second": "ab"}


def operations(dtype):
    for name in sorted(ELEMENTWISE):
        if name in INTEGER_ONLY and dtype.startswith("float"):
            continue
        if name == "pow" and dtype.startswith("int"):
            continue   # integer power has no kernel: it runs on the host
        nin = SCALAR_OPS[name].nin
        yield name, ARGUMENTS.get(name, "ab"[:2 if nin == -1 else nin])


def values(dtype, shape, layout):
    rng = np.random.default_rng(0)
    if dtype.startswith("float"):
        a = np.round(rng.uniform(-4, 4, shape) * 2) / 2
        b = rng.uniform(-4, 4, shape)
    else:
        a, b = rng.integers(-9, 10, shape), rng.integers(-9, 10, shape)
        b.flat[0] = 0                     # division by zero gives 0, as numpy
    data = {"a": a, "b": b, "p": rng.uniform(0.1, 0.9, shape), "q": rng.uniform(1.1, 4.0, shape)}
    data = {k: v.astype(dtype) for k, v in data.items()}
    if layout == "transposed":           # strided inputs
        data = {k: np.ascontiguousarray(v.T).T for k, v in data.items()}
    if layout == "row":                  # a broadcast row
        data["b"] = data["b"][:1]
    return data


def all_operations_node(dtype, layout):
    """Inputs a, b, p, q and one Elemwise(Composite) computing every operation."""
    names = "abpq"
    inputs = {k: T.tensor(dtype, (1, None) if layout == "row" and k == "b" else (None, None)) for k in names}
    body, labels = [], []
    for name, args in operations(dtype):
        out = ELEMENTWISE[name](*[inputs[k] for k in args])   # the dtype it has unfused
        body.append((SCALAR_OPS[name], [("i", names.index(k)) for k in args], out.dtype))
        labels.append(name)
    node = Elemwise(Composite(len(names), body, [("t", j) for j in range(len(body))]))
    return [inputs[k] for k in names], node(*[inputs[k] for k in names]), labels


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "row"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_operation_matches_numpy(dtype, layout):
    inputs, outputs, labels = all_operations_node(dtype, layout)
    # rows of 71: on CPUs, whole runs of a work-item's elements, then the rest of the row
    data = values(dtype, (5, 71), layout)
    args = [data[k] for k in "abpq"]
    device = clgraph.function(inputs, outputs)
    assert any(isinstance(n.op, GpuElemwise) for n in device.maker.fgraph.toposort())
    reference = clgraph.function(inputs, outputs, mode="FAST_COMPILE")
    tolerance = 2e-6 if dtype == "float32" else 1e-12
    for label, got, expected in zip(labels, device(*args), reference(*args)):
        assert got.dtype == expected.dtype, label
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance, equal_nan=True,
                                   err_msg=f"{label} on {dtype}, {layout} inputs")


def test_innermost_strides_of_one_zero_and_any():
    """One kernel reading a contiguous row, a broadcast column and a reversed strided
    view (innermost strides 1, 0 and -2 elements), on rows longer than a CPU run."""
    x, c, y = T.fmatrix("x"), T.fcol("c"), T.fmatrix("y")
    f = clgraph.function([x, c, y], (x + c) * y[:, ::-2] - 2 * c)
    rng = np.random.default_rng(1)
    a, col, b = (rng.uniform(-2, 2, shape).astype("float32") for shape in [(6, 75), (6, 1), (6, 150)])
    assert any(isinstance(n.op, GpuElemwise) for n in f.maker.fgraph.toposort())
    np.testing.assert_allclose(f(a, col, b), (a + col) * b[:, ::-2] - 2 * col, rtol=1e-6)


def test_casts_mixed_dtypes_half_and_nan():
    c = T.bvector("c")
    x = T.fvector("x")
    i = T.ivector("i")
    outputs = [T.switch(c, x, i), T.clip(x, -1.0, 1.5), T.second(i, x), T.cast(x, "int16"),
               T.cast(x, "bool"), x * i, x.astype("float16") * 2, T.isnan(x / x), abs(i),
               T.maximum(x, 0.0), T.minimum(x, 0.0)]
    values = [np.array([1, 0, 2, 0], np.int8), np.array([-3.5, 0.0, 2.25, np.nan], np.float32),
              np.array([7, -8, 9, 0], np.int32)]
    expected = clgraph.function([c, x, i], outputs, mode="FAST_COMPILE")(*values)
    with clgraph.config.change_flags(optimizer_excluding="elemwise_fusion"):
        device = clgraph.function([c, x, i], outputs)
    for g, e in zip(device(*values), expected):
        assert g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=1e-3, equal_nan=True)


def programs():
    """The elementwise programs of these tests and of the source documents."""
    a, b = T.fmatrices("a", "b")
    x = T.fvector("x")
    i = T.ivector("i")
    inputs, outputs, _ = all_operations_node("float32", "row")
    yield inputs, [outputs[0] * inputs[0]]
    yield [a, b], [(a + b) * a]
    yield [x], [T.exp(-(x * x + x * x + 2 * x * x)) * T.tanh(x)]
    yield [x, i], [T.switch(x > 0, x // i, x % 3), i & 3]
    for dtype in DTYPES:
        inputs, outputs, _ = all_operations_node(dtype, "contiguous")
        yield inputs, outputs


def test_kernel_source_of_a_function():
    a, b = T.fmatrices("a", "b")
    f = clgraph.function([a, b], (a + b) * a)
    opencl = clgraph.printing.kernel_source(f, "opencl")
    cuda = clgraph.printing.kernel_source(f, "cuda")
    assert opencl and cuda
    assert all("KERNEL void " + name + "(" in source for name, source in opencl.items())
    assert not any("vload" in source for source in cuda.values())
    assert any("_strided2(" in source for source in cuda.values())   # GPUs: an element per work-item
    from clgraph.backends import get_context

    if get_context().info.kind == "CPU" and get_context().api == "opencl":
        # PoCL: vector types, and runs of elements per work-item in the strided kernel
        assert any("vload" in source and "vstore" in source for source in opencl.values())
        assert any("_strided2_run" in name for name in opencl) and set(cuda) - set(opencl) == {
            name for name in cuda if "_strided2" in name}
    else:
        assert set(cuda) <= set(opencl)
    with pytest.raises(ValueError, match="dialect must be 'opencl' or 'cuda', got 'metal'"):
        clgraph.printing.kernel_source(f, "metal")


@pytest.mark.skipif(__import__("clgraph.backends.nvcc", fromlist=["x"]).find_nvcc() is None,
                    reason="nvcc not found")
def test_cuda_rendering_of_every_kernel_compiles_with_nvcc():
    from clgraph.backends import nvcc

    sources = {}
    for inputs, outputs in programs():
        f = clgraph.function(inputs, outputs, on_unused_input="ignore")
        sources.update(clgraph.printing.kernel_source(f, "cuda"))
    ptx = nvcc.compile_ptx(sources)
    for name in sources:
        assert f".entry {name}(" in ptx


def test_constant_basic_indexing_is_a_device_view():
    from clgraph.compile.device_ops import GpuSubtensor

    x = T.fmatrix("x")
    value = np.arange(20, dtype="float32").reshape(4, 5)
    for output in [x[1:3, ::-2], x[2], T.exp(x[:, 1:]) + 1, x[None, 1, ...], x[-1, -1]]:
        f = clgraph.function([x], output)
        assert any(isinstance(n.op, GpuSubtensor) for n in f.maker.fgraph.toposort())
        np.testing.assert_allclose(f(value), output.eval({x: value}), rtol=1e-6)
    state = clgraph.shared(value)
    f = clgraph.function([], state[1:3], updates={state: state * 2})
    before = f()                      # the old rows, not a view of the new state
    np.testing.assert_array_equal(before, value[1:3])
    np.testing.assert_array_equal(state.get_value(), value * 2)


def test_float64_nodes_stay_on_the_host_of_a_device_without_fp64(monkeypatch):
    from clgraph.backends import get_context
    from clgraph.compile.device_reduce import GpuCAReduce

    monkeypatch.setattr(get_context().info, "fp64", False)   # the device's description only
    d, f = T.dvector("d"), T.fvector("f")
    compiled = clgraph.function([d, f], [T.exp(d).sum(), T.exp(f).sum()])
    on_device = [n for n in compiled.maker.fgraph.toposort() if isinstance(n.op, (GpuElemwise, GpuCAReduce))]
    assert on_device and all(n.outputs[0].type.dtype == "float32" for n in on_device)
    got = compiled(np.ones(3), np.ones(3, "float32"))
    np.testing.assert_allclose(got, [3 * np.e, 3 * np.e], rtol=1e-6)
