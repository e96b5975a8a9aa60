"""The maximum or minimum and its index on the default device context against the numpy
reference: dtypes, axes (one, several, all), keepdims, ties, NaN, strided inputs, long
lines split into chunks, and every lane count of the kernel's local-memory tree."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc, to_device
from clgraph.codegen.argreduce import ArgReduceKernel
from clgraph.compile.device_argmax import GpuMaxAndArgmax
from clgraph.tensor.math import MaxAndArgmax


def reference_and_device(inputs, outputs, values):
    expected = clgraph.function(inputs, outputs, mode="FAST_COMPILE")(*values)
    device = clgraph.function(inputs, outputs)
    assert any(isinstance(n.op, GpuMaxAndArgmax) for n in device.maker.fgraph.toposort())
    return device(*values), expected


def assert_same(got, expected, what):
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape, what
        np.testing.assert_array_equal(g, e, err_msg=what)


def small_values(dtype, shape, seed):
    """Values of a narrow range, so that lines hold ties."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    low = 0 if np.dtype(dtype).kind == "u" else -3
    return rng.integers(low, low + 7, shape).astype(dtype)


def everything(x, axes):
    """[max, argmax, argmin] over each of ``axes``, and both with keepdims."""
    outputs = []
    for axis in axes:
        outputs += T.max_and_argmax(x, axis=axis) + [T.argmin(x, axis=axis)]
    return outputs + [T.argmax(x, axis=-1, keepdims=True), T.argmin(x, axis=(0, 2), keepdims=True)]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_every_axis_set_with_ties_on_strided_inputs(layout):
    axes = [None, 0, -1, (0, 2), (1, 2), (0, 1)]
    value = small_values("int32", (9, 6, 8), 1)
    if layout == "transposed":
        value = np.ascontiguousarray(value.transpose(2, 0, 1)).transpose(1, 2, 0)
    elif layout == "sliced":
        value = small_values("int32", (9, 12, 8), 2)[:, ::-2, :]
    x = T.tensor("int32", (None, None, None))
    got, expected = reference_and_device([x], everything(x, axes), [value])
    assert_same(got, expected, layout)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "int16", "int64", "uint8",
                                   "uint16", "uint32", "uint64", "bool"])
def test_dtypes(dtype):
    value = small_values(dtype, (7, 5), 3)
    if dtype.startswith("float"):
        value = (value / 4).astype(dtype)
    x = T.tensor(dtype, (None, None))
    outputs = T.max_and_argmax(x.T, axis=0) + [T.argmin(x, axis=-1)]
    got, expected = reference_and_device([x], outputs, [value])
    assert_same(got, expected, dtype)


def test_extreme_values_of_integer_dtypes():
    x = T.tensor("uint64", (None,))
    y = T.tensor("int64", (None,))
    top = np.iinfo(np.uint64).max
    values = [np.array([5, top, 0, top], np.uint64),
              np.array([0, np.iinfo(np.int64).min, np.iinfo(np.int64).max, np.iinfo(np.int64).min], np.int64)]
    outputs = T.max_and_argmax(x) + T.max_and_argmax(y) + [T.argmin(y)]
    got, expected = reference_and_device([x, y], outputs, values)
    assert_same(got, expected, "extremes")
    assert (got[1], got[3], got[4]) == (1, 2, 1)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_nan_is_the_extreme_and_its_first_occurrence_wins(dtype):
    value = np.array([[1, np.nan, 3, np.nan],       # first NaN inside
                      [np.nan, 5, -np.inf, 2],      # first NaN first
                      [-1, 7, 7, np.inf],           # no NaN: inf wins
                      [np.nan, np.nan, np.nan, np.nan],
                      [-np.inf, -np.inf, -2, -np.inf],
                      [0.0, -0.0, 0.0, -0.0]], dtype)
    x = T.tensor(dtype, (None, None))
    outputs = T.max_and_argmax(x, axis=1) + T.max_and_argmax(x, axis=0) + [T.argmin(x, axis=1), T.argmax(x)]
    got, expected = reference_and_device([x], outputs, [value])
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)
    np.testing.assert_array_equal(got[1], np.argmax(value, axis=1))
    np.testing.assert_array_equal(got[4], np.argmin(value, axis=1))
    assert got[5] == np.argmax(value) == 1
    assert np.signbit(got[0][5]) == np.signbit(value[5, 0])


def test_long_lines_split_into_chunks_keep_the_first_occurrence():
    n = 1_000_003
    value = np.random.default_rng(4).uniform(-1, 1, n).astype("float32")
    value[[700_001, 12, 999_999]] = 2     # ties in different chunks: the first wins
    value[[5, 800_000]] = -3
    with_nan = value.copy()
    with_nan[[600_000, 900_000]] = np.nan
    x = T.fvector("x")
    m = T.fmatrix("m")
    outputs = [T.argmax(x), T.argmin(x), T.max(x)]
    got, expected = reference_and_device([x], outputs, [value])
    assert_same(got, expected, "long line")
    assert (got[0], got[1]) == (12, 5)
    got, expected = reference_and_device([x], outputs, [with_nan])
    assert (got[0], got[1]) == (600_000, 600_000) and np.isnan(got[2])
    # a few long strided lines (columns of a matrix), also chunked
    matrix = np.random.default_rng(5).integers(-50, 50, (40_000, 3)).astype("float32")
    got, expected = reference_and_device([m], T.max_and_argmax(m, axis=0) + [T.argmin(m, axis=0)], [matrix])
    assert_same(got, expected, "columns")


def test_the_local_memory_tree_for_every_lane_count(kernel_context):
    """lanes work-items share a chunk of a line (GPUs take this path for few long lines;
    it is run here directly, whatever the device)."""
    context = kernel_context
    rng = np.random.default_rng(6)
    value = rng.integers(-20, 20, (5, 3001)).astype("float32")
    value[1, [40, 2900]] = np.nan
    value[2] = 4                     # all ties: index 0
    value[3, 2000:] = np.nan
    op = GpuMaxAndArgmax(MaxAndArgmax((1,)), "float32")
    x = to_device(value, context)
    for lanes in (1, 2, 8, 64):
        # one chunk per line; partials, reduced by the second launch; chunks shorter than lanes
        for chunk in (3001, 700, 40):
            chunks = -(-3001 // chunk)
            values = to_device(np.zeros(5 * chunks, "float32"), context)
            indices = to_device(np.zeros(5 * chunks, "int64"), context)
            op._launch(values, indices, [x], ([5], [3001]), ([3001], [1]), chunk, lanes)
            if chunks == 1:
                got_values, got_indices = values.get(), indices.get()
            else:
                final = to_device(np.zeros(5, "float32"), context), to_device(np.zeros(5, "int64"), context)
                op._launch(*final, [values, indices], ([5], [chunks]), ([chunks], [1]), chunks, 1, partials=True)
                got_values, got_indices = final[0].get(), final[1].get()
            np.testing.assert_array_equal(got_indices, np.argmax(value, axis=1), err_msg=f"{lanes} {chunk}")
            np.testing.assert_array_equal(got_values, np.max(value, axis=1))


def test_scalars_empty_lines_and_empty_outputs():
    s = T.fscalar("s")
    m = T.fmatrix("m")
    got, expected = reference_and_device([s], T.max_and_argmax(s), [np.float32(2.5)])
    assert_same(got, expected, "scalar")
    f = clgraph.function([m], T.max_and_argmax(m, axis=1))
    values, indices = f(np.zeros((0, 4), "float32"))    # no lines: nothing to reduce
    assert values.shape == indices.shape == (0,) and indices.dtype == np.int64
    with pytest.raises(ValueError, match=r"GpuMaxAndArgmax\{axis=\(1,\)\}: cannot take the max and its "
                                         r"index over axes \(1,\) of an empty array of shape \(3, 0\)"):
        f(np.zeros((3, 0), "float32"))
    g = clgraph.function([m], T.argmin(m))
    with pytest.raises(ValueError, match=r"GpuMinAndArgmin.*empty array of shape \(0, 0\)"):
        g(np.zeros((0, 0), "float32"))
    assert f(np.eye(3, dtype="float32"))[1].tolist() == [0, 1, 2]   # the function still works


def test_kernel_sources_of_a_function():
    x = T.fmatrix("x")
    f = clgraph.function([x], T.argmax(x, axis=1))
    names = set(clgraph.printing.kernel_source(f, "cuda"))
    assert names == {f"argmaximum_float32_k1_r1{variant}" for variant in ("", "_tree", "_partials")}


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_argreduce_kernels_compiles():
    sources = {}
    for op in ("maximum", "minimum"):
        for dtype in ("float32", "float64", "float16", "int8", "uint64", "bool"):
            kernel = ArgReduceKernel(op, dtype)
            for kept, reduced, partials, tree in [(1, 1, False, False), (2, 3, False, True),
                                                  (1, 1, True, False)]:
                name, source = kernel.source(kept, reduced, partials, tree)
                sources[name] = source
    ptx = nvcc.compile_ptx(sources)
    assert all(f".entry {name}(" in ptx for name in sources)
