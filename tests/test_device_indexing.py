"""Gather and scatter on the default device context against the numpy reference:
advanced indexing x[key], set_subtensor / inc_subtensor of basic and advanced keys, for
every dtype group, index arrays computed on the device, repeated indices, empty and
strided inputs, and the errors of bad indices."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc
from clgraph.codegen.indexing import Addressing, gather_kernel, index_check_kernel, scatter_kernel
from clgraph.compile.device_indexing import GpuAdvancedIncSubtensor, GpuAdvancedSubtensor, GpuIncSubtensor
from clgraph.compile.device_ops import GpuFromHost
from clgraph.printing import kernel_source
from clgraph.tensor.subtensor import AdvancedIncSubtensor

DTYPES = ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "bool"]
ACCUMULATING = ["float32", "float64", "int32", "int64", "uint32", "uint64", "bool"]


def values(shape, dtype, seed=0):
    data = np.random.default_rng(seed).integers(0, 9, size=shape)
    return (data % 2).astype(dtype) if dtype == "bool" else data.astype(dtype)


def nodes(f, op):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, op)]


def compile_both(inputs, outputs, op, **kwargs):
    """The device function (checked to run ``op`` there) and the numpy reference."""
    device = clgraph.function(inputs, outputs, **kwargs)
    assert nodes(device, op), device.maker.fgraph.toposort()
    return device, clgraph.function(inputs, outputs, mode="FAST_COMPILE", **kwargs)


def same(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got.dtype, got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_set_and_inc_for_every_dtype(dtype):
    x = T.tensor(dtype, (None, None), "x")
    y = T.tensor(dtype, (None, None), "y")
    i = T.lvector("i")
    value, update = values((5, 3), dtype), values((3, 3), dtype, 1)
    index = np.array([4, -5, 2])
    outputs = [x[i], T.set_subtensor(x[i], y), T.set_subtensor(x[::-2], y[0]), T.inc_subtensor(x[::-2], y[0])]
    device = clgraph.function([x, i, y], outputs)
    reference = clgraph.function([x, i, y], outputs, mode="FAST_COMPILE")
    ops = {type(n.op) for n in device.maker.fgraph.toposort()}
    assert {GpuAdvancedSubtensor, GpuAdvancedIncSubtensor, GpuIncSubtensor} <= ops
    for got, expected in zip(device(value, index, update), reference(value, index, update)):
        same(got, expected)


@pytest.mark.parametrize("dtype", ACCUMULATING)
def test_repeated_indices_accumulate_like_add_at(dtype):
    x = T.tensor(dtype, (None, None), "x")
    y = T.tensor(dtype, (None, None), "y")
    i = T.ivector("i")
    value, update = values((4, 3), dtype), values((6, 3), dtype, 2)
    index = np.array([1, -3, 3, 0, 1, 1], "int32")
    outputs = [T.inc_subtensor(x[i], y), T.inc_subtensor(x[i], y[0]), T.inc_subtensor(x[i, 2], y[:, 0])]
    device, _ = compile_both([x, i, y], outputs, GpuAdvancedIncSubtensor)
    expected = [value.copy() for _ in outputs]
    np.add.at(expected[0], index, update)
    np.add.at(expected[1], index, update[0])
    np.add.at(expected[2], (index, 2), update[:, 0])
    for got, want in zip(device(value, index, update), expected):
        same(got, want)


def test_many_repeated_increments_of_one_element():
    x, y, i = T.fvector("x"), T.fvector("y"), T.lvector("i")
    device, _ = compile_both([x, i, y], T.inc_subtensor(x[i], y), GpuAdvancedIncSubtensor)
    index = np.arange(50000) % 3
    got = device(np.zeros(3, "float32"), index, np.ones(50000, "float32"))
    same(got, np.bincount(index).astype("float32"))


def test_dtypes_without_atomics_accumulate_on_the_host_and_set_on_the_device():
    x, y, i = T.bvector("x"), T.bvector("y"), T.lvector("i")
    add = clgraph.function([x, i, y], T.inc_subtensor(x[i], y))
    assert not nodes(add, GpuAdvancedIncSubtensor) and nodes(add, AdvancedIncSubtensor)
    expected = np.zeros(3, "int8")
    np.add.at(expected, [0, 0, 2], [1, 2, 3])
    same(add(np.zeros(3, "int8"), [0, 0, 2], [1, 2, 3]), expected)
    for output in [T.set_subtensor(x[i], y), T.inc_subtensor(x[i], y, ignore_duplicates=True)]:
        device, reference = compile_both([x, i, y], output, GpuAdvancedIncSubtensor)
        args = (np.arange(3, dtype="int8"), [2, 0], [5, 7])
        same(device(*args), reference(*args))


def test_a_device_without_64_bit_atomics_accumulates_those_dtypes_on_the_host(monkeypatch):
    import dataclasses

    from clgraph.backends import get_context

    context = get_context()
    monkeypatch.setattr(context, "info", dataclasses.replace(context.info, int64_atomics=False))
    for dtype, kept in [("float64", False), ("int64", False), ("float32", True)]:
        x, y, i = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype), T.lvector("i")
        f = clgraph.function([x, i, y], T.inc_subtensor(x[i], y))
        assert bool(nodes(f, GpuAdvancedIncSubtensor)) == kept, dtype
        same(f(np.zeros(3, dtype), [1, 1], np.ones(2, dtype)), np.array([0, 2, 0], dtype))


def test_set_and_ignore_duplicates_with_repeated_indices_take_one_value():
    x, y, i = T.fvector("x"), T.fvector("y"), T.lvector("i")
    value, index, update = np.zeros(3, "float32"), np.array([1, 1, 1, 2]), np.array([1, 2, 3, 4], "float32")
    cases = [(T.set_subtensor(x[i], y), 0), (T.inc_subtensor(x[i], y, ignore_duplicates=True), 10)]
    for output, offset in cases:
        device, _ = compile_both([x, i, y], output, GpuAdvancedIncSubtensor)
        got = device(value + 10, index, update)
        assert got[0] == 10 and got[2] == offset + 4 and got[1] - offset in update[:3], got


def key_3d(text, also_update=False):
    """A key over x of 3 dims written as numpy text over the index variables i, j, k;
    ``also_update``: set and increment through it too."""
    return pytest.param(lambda i, j, k: eval(f"np.index_exp[{text}]"), also_update, id=text)


@pytest.mark.parametrize("key, also_update", [
    key_3d("i"), key_3d(":, j"), key_3d("i, :, j", True), key_3d("i, j"), key_3d("1:, i, ::-1", True),
    key_3d("..., j"), key_3d("i[:, None], j", True), key_3d("0, :, j"), key_3d("i, ..., j"), key_3d(":, k, j"),
    key_3d("k, j, -1"), key_3d("None, i, :, None, j", True),
])
def test_keys_of_3d_arrays_place_advanced_axes_like_numpy(key, also_update):
    x = T.dtensor3("x")
    i, j, k = T.lvector("i"), T.ivector("j"), T.lscalar("k")
    value = values((4, 5, 6), "float64")
    args = (value, np.array([3, -4, 0, 3]), np.array([-1, 3, 0, 2], "int32"), -2)
    outputs = [x[key(i, j, k)], x.dimshuffle(2, 0, 1)[key(i, j, k)]]
    if also_update:
        outputs += [T.inc_subtensor(x[key(i, j, k)], 1.5), T.set_subtensor(x[key(i, j, k)], -1.0)]
    device, reference = compile_both([x, i, j, k], outputs, GpuAdvancedSubtensor, on_unused_input="ignore")
    assert bool(nodes(device, GpuAdvancedIncSubtensor)) == also_update
    for got, expected in zip(device(*args), reference(*args)):
        same(got, expected)


def test_index_dtypes_and_broadcast_index_arrays():
    x, rows = T.fmatrix("x"), T.bvector("rows")
    i, j, k = (T.tensor(dtype, (None,), name) for dtype, name in zip(["uint8", "int16", "uint64"], "ijk"))
    outputs = [x[rows[:, None], i], x[:, j], x[k, rows], T.inc_subtensor(x[rows[:, None], i], 2.0)]
    device, reference = compile_both([x, rows, i, j, k], outputs, GpuAdvancedSubtensor)
    args = (values((5, 6), "float32"), np.array([0, -1, 3], "int8"), np.array([5, 0], "uint8"),
            np.array([-6, 2], "int16"), np.array([4, 1, 0], "uint64"))
    for got, expected in zip(device(*args), reference(*args)):
        same(got, expected)


def test_boolean_masks_and_symbolic_slices():
    x, y = T.fmatrix("x"), T.fvector("y")
    n, m = T.lscalar("n"), T.lscalar("m")
    value = values((4, 5), "float32")
    outputs = [x[x > 3], x[n:, x[0] > 2], x[x[:, 0] > 2, m], T.set_subtensor(x[x > 4], 0.0),
               T.inc_subtensor(x[x[:, 1] > 2], y), x[n:m, [0, 2]]]
    device, reference = compile_both([x, y, n, m], outputs, GpuAdvancedSubtensor)
    assert nodes(device, GpuAdvancedIncSubtensor)
    for args in [(value, np.ones(5, "float32"), 1, -1), (value * 0, np.ones(5, "float32"), 3, 4)]:
        for got, expected in zip(device(*args), reference(*args)):
            same(got, expected)


def test_index_arrays_computed_on_the_device_stay_there():
    table = clgraph.shared(values((6, 4), "float32"), name="table")
    order = clgraph.shared(np.array([5, 0, -1, 3], "int64"), name="order")
    first = clgraph.shared(np.int64(1), name="first")
    x = T.fmatrix("x")
    rows = T.cast(x[:, 0], "int32") % 6   # computed on the device
    outputs = [table[order], table[order * 2 % 6], x[rows], T.inc_subtensor(table[order[::-1]], x[:4]),
               table[order, first], table[first:, order[1:3]]]
    device, reference = compile_both([x], outputs, GpuAdvancedSubtensor)
    indexing = nodes(device, GpuAdvancedSubtensor) + nodes(device, GpuAdvancedIncSubtensor)
    index_inputs = [n.inputs[-1] for n in indexing]
    assert len(index_inputs) == 6
    assert all(v.owner is None or not isinstance(v.owner.op, GpuFromHost) for v in index_inputs)
    value = values((6, 4), "float32", 3)
    for got, expected in zip(device(value), reference(value)):
        same(got, expected)


def test_empty_index_arrays_and_empty_regions():
    x, y, i = T.fmatrix("x"), T.fmatrix("y"), T.lvector("i")
    outputs = [x[i], x[:, i], T.inc_subtensor(x[i], y), T.set_subtensor(x[i, 1:1], 2.0),
               T.inc_subtensor(x[1:1], y)]
    device, reference = compile_both([x, i, y], outputs, GpuAdvancedSubtensor)
    args = (values((3, 4), "float32"), np.array([], "int64"), np.zeros((0, 4), "float32"))
    for got, expected in zip(device(*args), reference(*args)):
        same(got, expected)


def test_strided_x_and_y_on_the_device():
    x, i = T.fmatrix("x"), T.lvector("i")
    strided = x.T[::-1]   # device views: transposed and reversed
    outputs = [strided[i], strided[i, 1:], T.inc_subtensor(strided[i], x[:, :3].T[::-1]),
               T.set_subtensor(strided[1:3], x[:, 1:3].T), T.inc_subtensor(x.T[:, 1:][i], 1.0)]
    device, reference = compile_both([x, i], outputs, GpuIncSubtensor)
    args = (values((3, 5), "float32"), np.array([0, -2, 4]))
    for got, expected in zip(device(*args), reference(*args)):
        same(got, expected)


def test_basic_increments_with_symbolic_scalars_and_broadcast_y():
    x, y = T.tensor("float16", (None, None, None), "x"), T.tensor("float16", (None,), "y")
    a, b = T.lscalar("a"), T.iscalar("b")
    outputs = [T.inc_subtensor(x[a, :, b], y), T.set_subtensor(x[:, a], y), T.inc_subtensor(x[a, b, 0], 0.5),
               T.inc_subtensor(x[..., ::-1], y)]
    device, reference = compile_both([x, y, a, b], outputs, GpuIncSubtensor)
    args = (values((3, 4, 4), "float16") / 3, values((4,), "float16", 1) / 7, -1, 2)
    for got, expected in zip(device(*args), reference(*args)):
        same(got, expected)


def test_inplace_rewrite_writes_over_a_fresh_x():
    x, y, i = T.fvector("x"), T.fvector("y"), T.lvector("i")
    outputs = [T.inc_subtensor(T.exp(x)[i], y), T.set_subtensor((x * 2)[1:], y[0])]
    device, reference = compile_both([x, i, y], outputs, GpuAdvancedIncSubtensor)
    ops = [n.op for n in device.maker.fgraph.toposort()
           if isinstance(n.op, (GpuAdvancedIncSubtensor, GpuIncSubtensor))]
    assert len(ops) == 2 and all(op.inplace and op.destroy_map == {0: [0]} for op in ops)
    args = (np.linspace(0, 1, 4).astype("float32"), np.array([0, 0, 3]), np.ones(3, "float32"))
    for got, expected in zip(device(*args), reference(*args)):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_updates_of_shared_variables_in_the_documents_style():
    state = clgraph.shared(np.zeros((5, 2), "float32"), name="state")
    idx, y = T.lvector("idx"), T.fmatrix("y")
    increment = clgraph.function([idx, y], [], updates={state: T.inc_subtensor(state[idx], y)})
    setting = clgraph.function([y], [], updates={state: T.set_subtensor(state[1:3], y)})
    assert nodes(increment, GpuAdvancedIncSubtensor) and nodes(setting, GpuIncSubtensor)
    expected = np.zeros((5, 2), "float32")
    for step in range(3):
        update = np.full((3, 2), step + 1, "float32")
        increment([0, 4, 0], update)
        np.add.at(expected, [0, 4, 0], update)
    setting(np.array([[7, 8], [9, 10]], "float32"))
    expected[1:3] = [[7, 8], [9, 10]]
    same(state.get_value(), expected)


def test_out_of_bounds_indices_name_the_op_axis_index_and_length():
    x, y, i = T.fmatrix("x"), T.fvector("y"), T.lvector("i")
    n = T.lscalar("n")
    value = values((3, 4), "float32")
    GATHER = "GpuAdvancedSubtensor: "
    cases = [
        (x[:, i], (value, [0, 4]), GATHER + r"index 4 is out of bounds for axis 1 with length 4"),
        (x[i, 1:], (value, [-4]), GATHER + r"index -4 is out of bounds for axis 0 with length 3"),
        (x[n, i], (value, [0], 3), GATHER + r"index 3 is out of bounds for axis 0 with length 3"),
        (T.inc_subtensor(x[i, 0], y), (value, np.array([1, 9]), np.array([1, 2], "float32")),
         r"GpuAdvancedIncSubtensor\{(inplace,)?inc\}: index 9 is out of bounds for axis 0 with length 3"),
        (T.set_subtensor(x[0, n], 1.0), (value, -5), r"GpuIncSubtensor\{Set;0, int64\}: index -5 is out of "
                                                     r"bounds for axis 1 with length 4"),
        # checked on the device: computed there, or a constant whose range does not fit
        (x[i * 2 - 1], (value, np.array([1, 0, 2])), GATHER + r"index 3 is out of bounds for axis 0 with "
                                                              r"length 3"),
        (T.inc_subtensor(x[1:, (i * 3)[:, None]], 1.0), (value, np.array([0, -1, 2])),
         r"GpuAdvancedIncSubtensor\{(inplace,)?inc\}: index 6 is out of bounds for axis 1 with length 4"),
        (x[:, [3, -5]], (value,), GATHER + r"index -5 is out of bounds for axis 1 with length 4"),
    ]
    for output, bad, message in cases:
        inputs = [v for v in (x, i, y, n) if v in clgraph.graph.basic.graph_inputs([output])]
        f = clgraph.function(inputs, output)
        with pytest.raises(IndexError, match=message):
            f(*bad)
        good = tuple(np.zeros_like(np.asarray(a)) if k else a for k, a in enumerate(bad))
        if len(good) > 1:   # the function works afterwards
            same(f(*good), clgraph.function(inputs, output, mode="FAST_COMPILE")(*good))


def test_an_increment_that_fails_writes_nothing():
    state = clgraph.shared(np.zeros(4, "float32"), name="state")
    idx = T.lvector("idx")
    f = clgraph.function([idx], [], updates={state: T.inc_subtensor(state[idx], 1.0)})
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 0 with length 4"):
        f([0, 4])
    same(state.get_value(), np.zeros(4, "float32"))
    f([1, 1])
    same(state.get_value(), np.array([0, 2, 0, 0], "float32"))


def test_bad_masks_index_shapes_and_values_raise():
    x, y, i, j = T.fmatrix("x"), T.fvector("y"), T.lvector("i"), T.lvector("j")
    mask = T.bvector("mask")
    value = values((3, 4), "float32")
    f = clgraph.function([x, mask], x[T.cast(mask, "bool")])
    with pytest.raises(IndexError, match=r"boolean index did not match indexed array along axis 0; size of "
                                         r"axis is 3 but size of corresponding boolean axis is 2"):
        f(value, [1, 0])
    same(f(value, [1, 0, 1]), value[[0, 2]])
    g = clgraph.function([x, i, j], x[i, j])
    with pytest.raises(IndexError, match=r"shape mismatch: indexing arrays could not be broadcast together "
                                         r"with shapes \(2,\) \(3,\)"):
        g(value, [0, 1], [0, 1, 2])
    h = clgraph.function([x, i, y], T.set_subtensor(x[i], y))
    with pytest.raises(ValueError, match=r"cannot broadcast y of shape \(3,\) to the indexed region of shape "
                                         r"\(2, 4\)"):
        h(value, [0, 1], np.ones(3, "float32"))
    same(h(value, [0, 1], np.ones(4, "float32")), np.vstack([np.ones((2, 4), "float32"), value[2:]]))


def test_kernel_sources_list_the_indexing_kernels():
    x, y, i = T.fmatrix("x"), T.fmatrix("y"), T.lvector("i")
    f = clgraph.function([x, i, y], [x[i], T.inc_subtensor(x[i], y), T.set_subtensor(x[1:], y)])
    names = set(kernel_source(f, "opencl"))
    assert {n.split("_")[0] for n in names} == {"gather", "scatter", "index"}, names


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_indexing_kernels_compiles():
    addressings = [
        Addressing(2, (("index", 0), ("dim", 1)), ("int64",), (0,)),
        Addressing(3, (("index", 0), ("dim", 2), ("index", 1)), ("int8", "uint64"), (0, 1)),
        Addressing(0, ()),
        Addressing(3, (("dim", 0), ("dim", 1), ("dim", 2))),
    ]
    sources = {}
    for addressing in addressings:
        for dtype in DTYPES:
            sources.update([gather_kernel(addressing, dtype), scatter_kernel(addressing, dtype, "set")])
            for mode in ["inc", "inc_from"] + (["inc_atomic"] if dtype in ACCUMULATING else []):
                sources.update([scatter_kernel(addressing, dtype, mode)])
    sources.update(index_check_kernel(dtype) for dtype in ["int8", "uint16", "int32", "int64", "uint64"])
    x, i, mask = T.ftensor3("x"), T.lvector("i"), T.tensor("bool", (None, None), "mask")
    f = clgraph.function([x, i, mask], [x[mask, i[:, None]], T.inc_subtensor(x[1:, i, ::2], 1.0),
                                        T.set_subtensor(x[0, :, i], 2.0), T.inc_subtensor(x[0, i], 3.0)])
    sources.update((name, source) for name, source in kernel_source(f, "cuda").items()
                   if name.startswith(("gather", "scatter", "index")))
    ptx = nvcc.compile_ptx(sources)
    assert all(f".entry {name}(" in ptx for name in sources)


def test_basic_increments_keep_any_number_of_symbolic_bounds_on_the_host():
    ndim = 40   # 80 symbolic bounds: more inputs than any fixed list of positions
    value = np.zeros((2, 2, 2) + (1,) * (ndim - 3), "float32")
    x, bounds = T.tensor("float32", (None,) * ndim, "x"), T.ivector("bounds")
    key = tuple(slice(bounds[2 * k], bounds[2 * k + 1]) for k in range(ndim))
    f = clgraph.function([x, bounds], T.inc_subtensor(x[key], 5))
    assert nodes(f, GpuIncSubtensor)
    given = np.array([1, 2] + [0, 1] * (ndim - 1), dtype="int32")
    expected = value.copy()
    expected[(slice(1, 2),) + (slice(0, 1),) * (ndim - 1)] += 5
    same(f(value, given), expected)
