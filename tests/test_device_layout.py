"""Layout ops on the default device context against the numpy reference: split,
flatten, specify_shape, rebroadcast (views), tile, repeat and roll (copies of views),
over dtypes, negative axes, strided inputs and empty results."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc, to_device
from clgraph.compile import device_layout as layout
from clgraph.printing import kernel_source

VALUE = np.arange(12, dtype="float32").reshape(3, 4) - 5
LAYOUTS = {"contiguous": VALUE, "transposed": np.ascontiguousarray(VALUE.T).T,
           "sliced": np.arange(24, dtype="float32").reshape(3, 8)[:, ::2] - 5}


def device_and_reference(inputs, outputs):
    outputs = outputs if isinstance(outputs, list) else [outputs]
    device = clgraph.function(inputs, outputs, on_unused_input="ignore")
    reference = clgraph.function(inputs, outputs, mode="FAST_COMPILE", on_unused_input="ignore")
    return device, reference


def device_ops(f):
    return {type(node.op) for node in f.maker.fgraph.toposort()}


def assert_same(got, expected):
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


x = T.fmatrix("x")
n = T.lscalar("n")
counts = T.lvector("counts")

CASES = {
    layout.GpuSplit: lambda: T.split(x, [1, n, 3 - n], 3, axis=-1) + T.split(x, [2, 1], 2, axis=0),
    layout.GpuFlatten: lambda: [T.flatten(x), T.flatten(x[None, :, :], 2) * 2],
    layout.GpuSpecifyShape: lambda: [T.specify_shape(x, (3, None)) + 1, T.specify_shape(x, (None, 4))],
    layout.GpuRebroadcast: lambda: [T.addbroadcast(x[:1], 0) - x, T.unbroadcast(x[:1], 0) * 2],
    layout.GpuTile: lambda: [T.tile(x, (2, n)), T.tile(x, (n,)), T.tile(x, (2, 1, n)), T.tile(x, (0, n))],
    layout.GpuRepeat: lambda: [T.repeat(x, n, axis=0), T.repeat(x, n, axis=-1), T.repeat(x, n),
                               T.repeat(x, counts[:1], axis=1), T.repeat(x, counts, axis=0),
                               T.repeat(x, counts[::-1], axis=-2), T.repeat(x, 0, axis=1),
                               T.repeat(x[:, 0], counts)],
    layout.GpuRoll: lambda: [T.roll(x, n, axis=0), T.roll(x, -n, axis=-1), T.roll(x, n),
                             T.roll(x, 3 * n + 1, axis=1), T.roll(x, 0, axis=0)],
}


@pytest.mark.parametrize("op", CASES, ids=lambda op: op.__name__)
@pytest.mark.parametrize("value", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_layout_ops_match_the_reference(op, value):
    device, reference = device_and_reference([x, n, counts], CASES[op]())
    assert op in device_ops(device)
    for arguments in [(2, [2, 0, 3]), (1, [1, 1, 1]), (0, [0, 0, 0])]:
        assert_same(device(value, *arguments), reference(value, *arguments))


DTYPES = ["bool", "int8", "uint64", "float16", "float64"]   # float32: the tests above


@pytest.mark.parametrize("dtype", DTYPES)
def test_layout_ops_keep_every_dtype(dtype):
    y = T.tensor(dtype, (None, None))
    outputs = [T.tile(y, (2, 1)), T.repeat(y, n, axis=1), T.repeat(y, counts, axis=0), T.roll(y, n, axis=-1),
               T.split(y, [1, 2], 2, axis=0)[1], T.flatten(y.T)]
    device, reference = device_and_reference([y, n, counts], outputs)
    ops = {layout.GpuTile, layout.GpuRepeat, layout.GpuRoll, layout.GpuSplit, layout.GpuFlatten}
    assert ops <= device_ops(device)
    value = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    assert_same(device(value, 2, [2, 0, 1]), reference(value, 2, [2, 0, 1]))


def test_three_dimensional_and_scalar_inputs():
    y = T.ftensor3("y")
    s = T.fscalar("s")
    outputs = [T.tile(y, (2, 1, n)), T.repeat(y, counts, axis=1), T.repeat(y, n, axis=-2),
               T.roll(y, n, axis=1), T.roll(y, -n), T.flatten(y, 2), T.split(y, [1, 2], 2, axis=-1)[1] * 2,
               T.tile(s, (n, 2)), T.roll(s, n), T.repeat(s, n)]
    device, reference = device_and_reference([y, s, n, counts], outputs)
    value = np.arange(24, dtype="float32").reshape(2, 3, 4).transpose(2, 0, 1)[:, ::-1]   # (4, 2, 3), strided
    for arguments in [(np.float32(1.5), 2, [1, 0]), (np.float32(-1), 3, [3, 1])]:
        assert_same(device(value, *arguments), reference(value, *arguments))


def test_gather_kernels_are_listed_and_their_cuda_rendering_compiles():
    f = clgraph.function([x, n, counts], [T.repeat(x, counts, axis=1), T.roll(x, n), T.roll(x.T, n, axis=0),
                                          T.repeat(x, n, axis=0)])   # one count: no gather
    sources = kernel_source(f, "cuda")
    assert len(sources) == 3 and all(name.startswith("gather_") for name in sources)
    if nvcc.find_nvcc() is not None:
        ptx = nvcc.compile_ptx(sources)
        assert all(f".entry {name}(" in ptx for name in sources)


def test_complex_values_stay_on_the_host():
    z = T.tensor("complex128", (None, None))
    outputs = [T.flatten(z), T.tile(z, (2, 1)), T.roll(z, n), T.repeat(z, counts, axis=0),
               T.split(z, [1, 2], 2)[0]]
    device, reference = device_and_reference([z, n, counts], outputs)
    assert not any(str(node.op).startswith("Gpu") for node in device.maker.fgraph.toposort())
    value = np.arange(9).reshape(3, 3) * (1 + 2j)
    assert_same(device(value, 1, [1, 0, 2]), reference(value, 1, [1, 0, 2]))


def test_empty_inputs_give_empty_results():
    outputs = [T.tile(x, (2, 3)), T.repeat(x, 2, axis=0), T.repeat(x, counts, axis=0), T.roll(x, 1, axis=0),
               T.roll(x, n), T.flatten(x), T.split(x, [0, 0], 2, axis=0)[1] + 1]
    device, reference = device_and_reference([x, n, counts], outputs)
    empty = np.zeros((0, 4), "float32")
    assert_same(device(empty, 3, []), reference(empty, 3, []))


def test_split_pieces_feed_further_computation():
    first, second = T.split(x, [1, 3], 2, axis=1)
    outputs = [T.concatenate([second, first * 10], axis=1), first.sum(), (second - 1).T, first, second]
    device, reference = device_and_reference([x], outputs)
    assert layout.GpuSplit in device_ops(device)
    assert_same(device(VALUE), reference(VALUE))


def test_views_share_the_input_memory_and_copies_do_not(kernel_context):
    data = to_device(VALUE, kernel_context)

    def run(device_op, output, *inputs):
        return device_op(output.owner.op).perform(output.owner, list(inputs))

    views = [*run(layout.GpuSplit, T.split(x, [1, 2], 2)[0], data, np.int64(0), np.array([1, 2])),
             *run(layout.GpuFlatten, T.flatten(x), data),
             *run(layout.GpuSpecifyShape, T.specify_shape(x, (3, 4)), data, np.array([3, 4])),
             *run(layout.GpuRebroadcast, T.addbroadcast(x[:1], 0), data[:1])]
    assert all(view.block is data.block for view in views)
    copies = [*run(layout.GpuTile, T.tile(x, (2, 2)), data, np.array([2, 2])),
              *run(layout.GpuRoll, T.roll(x, 1, axis=0), data, np.int64(1))]
    assert all(copy.block is not data.block for copy in copies)


BAD_VALUES = [  # outputs, error, message, bad (n, counts), good (n, counts)
    (lambda: T.split(x, [1, n], 2, axis=1), ValueError,
     r"GpuSplit\{2\}: the split sizes \[1, 5\] sum to 6, but axis 1 of the input \(shape \(3, 4\)\) has "
     r"length 4", (5, []), (3, [])),
    (lambda: T.specify_shape(x, (n, 4)), AssertionError,
     r"GpuSpecifyShape: expected shape \(5, 4\), got an array of shape \(3, 4\)", (5, []), (3, [])),
    (lambda: T.addbroadcast(x[:n], 0) + 1, ValueError,
     r"GpuRebroadcast\{1\}: axis 0 of the input was declared broadcastable but has length 3",
     (3, []), (1, [])),
    (lambda: T.tile(x, (n, 2)), ValueError, r"GpuTile\{2\}: bad repetitions \(-1, 2\)", (-1, []), (2, [])),
    (lambda: T.repeat(x, counts, axis=0), ValueError,
     r"GpuRepeat\{0\}: 2 repeats for an axis of length 3", (0, [1, 2]), (0, [1, 2, 3])),
    (lambda: T.repeat(x, counts, axis=1), ValueError,
     r"GpuRepeat\{1\}: negative repeats \(1, -2, 1, 1\)", (0, [1, -2, 1, 1]), (0, [1, 2, 1, 1])),
]


@pytest.mark.parametrize("make, error, message, bad, good", BAD_VALUES,
                         ids=["split", "specify_shape", "rebroadcast", "tile", "repeat_length",
                              "repeat_negative"])
def test_bad_values_raise_errors_naming_the_op_and_the_function_still_works(make, error, message, bad, good):
    device, reference = device_and_reference([x, n, counts], make())
    with pytest.raises(error, match=message):
        device(VALUE, *bad)
    assert_same(device(VALUE, *good), reference(VALUE, *good))
