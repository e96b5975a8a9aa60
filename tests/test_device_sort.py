"""Sort and argsort on the default device context against numpy's stable sort: every
dtype, NaNs and signed zeros, ties, line lengths around the tile sizes, any axis,
strided inputs, results that feed more device work, and the CUDA rendering."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc
from clgraph.codegen.sort import SortKernel
from clgraph.compile import device_sort
from clgraph.compile.device_sort import GpuArgSort, GpuSort

DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "float16", "float32", "float64"]


def values(dtype, shape, seed=0):
    """Few distinct values, so lines have ties; floats also get NaN, +-0.0 and +-inf."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(dtype)
    low = 0 if dtype.kind == "u" else -5
    data = rng.integers(low, 6, shape).astype(dtype)
    if dtype.kind == "u":
        data[rng.random(shape) < 0.1] = np.iinfo(dtype).max
    elif dtype.kind == "i":
        data[rng.random(shape) < 0.1] = np.iinfo(dtype).min
    else:
        specials = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, -np.nan], dtype)
        where = rng.random(shape) < 0.3
        data[where] = rng.choice(specials, int(where.sum()))
    return data


def bits(array):
    """The array's bit patterns: equal only if the same NaNs and zeros are in the same places."""
    return array.view(f"u{array.dtype.itemsize}") if array.dtype.kind == "f" else array


def assert_stable(sorted_, order, value, axis):
    np.testing.assert_array_equal(bits(sorted_), bits(np.sort(value, axis=axis, kind="stable")))
    assert order.dtype == np.int64
    np.testing.assert_array_equal(order, np.argsort(value, axis=axis, kind="stable"))


def device_function(inputs, outputs):
    f = clgraph.function(inputs, outputs)
    ops = [type(node.op) for node in f.maker.fgraph.toposort()]
    assert GpuSort in ops or GpuArgSort in ops, ops
    return f


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_sorts_as_numpy_stable_along_both_axes(dtype):
    x = T.tensor(dtype, (None, None), name="x")
    outputs = [T.sort(x, axis=-1), T.argsort(x, axis=-1, kind="stable"),
               T.sort(x, axis=0, kind="stable"), T.argsort(x, axis=0, kind="stable")]
    f = device_function([x], outputs)
    reference = clgraph.function([x], outputs, mode="FAST_COMPILE")
    value = values(dtype, (9, 37), seed=1)
    got = f(value)
    for g, e in zip(got, reference(value)):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)
    assert_stable(got[0], got[1], value, -1)
    assert_stable(got[2], got[3], value, 0)


@pytest.fixture(scope="module")
def sort_vector():
    v = T.dvector("v")
    return device_function([v], [T.sort(v), T.argsort(v)])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 255, 513, 2047, 2048, 2049, 5000, 70001])
def test_line_lengths_around_the_tile_sizes(sort_vector, n):
    value = values("float64", (n,), seed=n)
    sorted_, order = sort_vector(value)
    assert sorted_.shape == order.shape == (n,)
    assert_stable(sorted_, order, value, -1)


@pytest.mark.parametrize("shape", [(20000, 3), (3000, 17), (5, 600), (3, 3000), (1, 1), (4, 0), (0, 4)])
def test_many_lines_along_either_axis(shape):
    x = T.imatrix("x")
    f = device_function([x], [T.sort(x), T.argsort(x), T.sort(x, axis=0), T.argsort(x, axis=0)])
    value = values("int32", shape, seed=2)
    got = f(value)
    assert_stable(got[0], got[1], value, -1)
    assert_stable(got[2], got[3], value, 0)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, None])
def test_every_axis_of_a_3d_tensor(axis):
    x = T.ftensor3("x")
    f = device_function([x], [T.sort(x, axis=axis), T.argsort(x, axis=axis)])
    value = values("float32", (6, 700, 5), seed=3)
    sorted_, order = f(value)
    assert_stable(sorted_, order, value, axis)


@pytest.mark.parametrize("view", [lambda x: x.T, lambda x: x[::2, ::-1], lambda x: x[1:, 3:],
                                  lambda x: x.dimshuffle(1, "x", 0)])
def test_strided_inputs(view):
    x = T.fmatrix("x")
    y = view(x)
    f = device_function([x], [T.sort(y, axis=-1), T.argsort(y, axis=0)])
    value = values("float32", (40, 3000), seed=4)
    expected = clgraph.function([x], y, mode="FAST_COMPILE")(value)
    sorted_, order = f(value)
    np.testing.assert_array_equal(bits(sorted_), bits(np.sort(expected, axis=-1, kind="stable")))
    np.testing.assert_array_equal(order, np.argsort(expected, axis=0, kind="stable"))


def test_results_feed_more_device_work():
    x = T.fmatrix("x")
    ranks = T.argsort(T.argsort(x))                    # argsort of an argsort: the ranks
    spread = T.sort(x)[:, -1] - T.sort(x)[:, 0]        # max - min of each row
    f = device_function([x], [ranks, spread, (T.sort(x, axis=0) * 2).sum(axis=0)])
    names = [str(node.op) for node in f.maker.fgraph.toposort()]
    # Only the three results go to the host: the sorted values are used on the device.
    assert sum(name.startswith("HostFromGpu") for name in names) == 3, names
    value = np.random.default_rng(5).standard_normal((50, 300)).astype("float32")
    got_ranks, got_spread, got_sums = f(value)
    order = np.argsort(value, kind="stable")
    np.testing.assert_array_equal(got_ranks, np.argsort(order, kind="stable"))
    np.testing.assert_array_equal(got_spread, value.max(axis=1) - value.min(axis=1))
    np.testing.assert_allclose(got_sums, (np.sort(value, axis=0) * 2).sum(axis=0), rtol=1e-5)


def test_the_default_kind_is_stable_on_the_device():
    x = T.lvector("x")
    f = device_function([x], T.argsort(x))
    node = next(n for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuArgSort))
    assert str(node.op) == "GpuArgSort{stable}"
    value = np.array([3, 1, 3, 1, 2, 3, 1] * 400, "int64")   # ties everywhere
    np.testing.assert_array_equal(f(value), np.argsort(value, kind="stable"))


def test_a_bad_axis_names_the_op_and_the_function_still_works():
    x, axis = T.fmatrix("x"), T.lscalar("axis")
    f = device_function([x, axis], T.sort(x, axis=axis))
    value = values("float32", (3, 4))
    with pytest.raises(ValueError, match=r"GpuSort\{stable\}: axis 2 is out of range for a tensor of 2 "
                                         r"dimensions \(allowed: -2 to 1\)"):
        f(value, 2)
    np.testing.assert_array_equal(f(value, 0), np.sort(value, axis=0))


def test_large_sorts_sanity():
    """A long line takes several launches per stage of the network, strided and not; a
    large matrix takes many tiles of whole lines."""
    x = T.fvector("x")
    f = device_function([x], [T.sort(x), T.argsort(x)])
    value = np.random.default_rng(6).integers(-1000, 1000, 300_000).astype("float32")
    sorted_, order = f(value)
    assert_stable(sorted_, order, value, -1)
    m = T.fmatrix("m")
    g = device_function([m], [T.sort(m), T.argsort(m)])
    value = np.random.default_rng(7).standard_normal((2000, 500)).astype("float32")
    sorted_, order = g(value)
    assert_stable(sorted_, order, value, -1)


def test_the_tile_size_of_gpus_sorts_the_same(monkeypatch):
    """GPUs sort in the largest tiles (2048 positions of 32-bit keys), CPU devices in
    tiles of 512: run the GPUs' tiling here too."""
    monkeypatch.setattr(device_sort, "_CPU_TILE", 2048)
    x = T.fmatrix("x")
    f = device_function([x], [T.sort(x), T.argsort(x, axis=0)])
    for shape in [(300, 7), (3, 1000), (2, 2049), (5000, 2)]:
        value = values("float32", shape, seed=8)
        sorted_, order = f(value)
        np.testing.assert_array_equal(bits(sorted_), bits(np.sort(value, kind="stable")))
        np.testing.assert_array_equal(order, np.argsort(value, axis=0, kind="stable"))


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_every_sort_kernel_compiles():
    x = T.ftensor3("x")
    f = device_function([x], [T.sort(x, axis=1), T.argsort(x)])
    listed = clgraph.printing.kernel_source(f, "cuda")
    sources = {}
    for itemsize in (1, 2, 4, 8):
        sources.update(SortKernel(itemsize).sources(3))
    assert set(listed) <= set(sources) and "sort_32bit_k2_i32" in listed
    ptx = nvcc.compile_ptx(sources)
    for name in sources:
        assert f".entry {name}(" in ptx
