"""DeviceArray: creation, host round trips, views that copy nothing, copies and casts,
transfers between contexts, sync, and the dtype checks."""
import gc
import re

import numpy as np
import pytest

from clgraph.backends import SUPPORTED_DTYPES, DeviceArray, empty, registry, to_device, zeros
from clgraph.backends import array as array_module
from conftest import needs_two_opencl


def sample(shape, dtype):
    """Distinct values that every dtype can hold exactly (bools alternate)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == np.bool_:
        return (np.arange(n) % 3 == 1).reshape(shape)
    values = np.arange(n) % 100
    if dtype.kind in "if":
        values = values - 40          # negatives too
    if dtype.kind == "f":
        values = values * 0.5         # and halves, exact in float16
    return values.astype(dtype).reshape(shape)


def numpy_offset(view, base):
    return view.__array_interface__["data"][0] - base.__array_interface__["data"][0]


def allocator_counts(context):
    stats = context.allocator.stats()
    return stats["device_allocations"], stats["in_use"]


# creation and round trips ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", SUPPORTED_DTYPES, ids=str)
def test_round_trip_of_every_supported_dtype(context, dtype):
    for host in (sample((2, 3, 5), dtype), sample((), dtype), sample((0, 3), dtype),
                 sample((4, 6), dtype)[::2, ::-3]):         # non-contiguous numpy input
        a = to_device(host, context)
        assert a.dtype == dtype and a.shape == host.shape and a.context is context
        back = a.get()
        assert back.dtype == dtype and back.shape == host.shape
        np.testing.assert_array_equal(back, host)
        np.testing.assert_array_equal(np.asarray(a), host)


def test_attributes_are_numpy_style_in_bytes(context):
    host = sample((2, 3, 4), "float32")
    a = to_device(host, context)
    assert isinstance(a, DeviceArray)
    assert a.shape == (2, 3, 4) and a.strides == (48, 16, 4) == host.strides
    assert a.dtype == np.float32 and a.offset == 0 and a.context is context
    assert (a.size, a.nbytes, a.ndim, a.itemsize, len(a)) == (24, 96, 3, 4, 2)
    assert a.c_contiguous
    assert a.block.size >= a.nbytes and a.block.offset % 64 == 0
    assert np.asarray(a, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), host.astype(np.float64))


def test_zero_dimensional_and_empty_arrays(context):
    scalar = to_device(np.float32(3.5), context)
    assert scalar.shape == () and scalar.strides == () and scalar.size == 1 and scalar.nbytes == 4
    assert scalar.get().shape == () and scalar.get() == np.float32(3.5)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d DeviceArray"):
        len(scalar)
    hollow = to_device(np.zeros((0, 3), np.int16), context)
    assert hollow.size == 0 and hollow.nbytes == 0 and hollow.shape == (0, 3)
    assert hollow.get().shape == (0, 3) and hollow.get().dtype == np.int16


def test_context_by_name_or_by_context(context):
    host = sample((5,), "int32")
    by_name = to_device(host, context.name)
    by_object = to_device(host, context)
    assert by_name.context is context and by_object.context is context
    np.testing.assert_array_equal(by_name.get(), host)
    assert empty(3, "int32", context.name).context is context


def test_upload_copies_the_source_at_once(context):
    host = np.arange(1 << 16, dtype=np.float32)
    expected = host.copy()
    a = to_device(host, context)
    host[:] = -1.0          # right after the (async) upload was enqueued
    del host
    gc.collect()
    np.testing.assert_array_equal(a.get(), expected)


@pytest.mark.parametrize("dtype", ["float32", "int8", "uint64", "float16", "bool"])
def test_zeros_gives_zeros_even_in_reused_memory(context, dtype):
    garbage = to_device(np.full(1000, 7, dtype), context)
    del garbage
    gc.collect()
    z = zeros((10, 100), dtype, context)
    assert z.dtype == dtype and z.shape == (10, 100)
    np.testing.assert_array_equal(z.get(), np.zeros((10, 100), dtype))


def test_empty_shapes_and_negative_dimensions(context):
    assert empty(5, "float32", context).shape == (5,)
    assert empty((), "float32", context).shape == ()
    assert empty((2, 0), "uint8", context).size == 0
    with pytest.raises(ValueError, match=re.escape("negative dimension in shape (2, -1)")):
        empty((2, -1), "float32", context)


# views ----------------------------------------------------------------------------------

BASE_SHAPE = (4, 3, 6)

VIEWS = {
    "reshape": lambda x: x.reshape(12, 6),
    "reshape_tuple": lambda x: x.reshape((2, 6, 6)),
    "reshape_minus_one": lambda x: x.reshape(-1),
    "reshape_minus_one_middle": lambda x: x.reshape(2, -1, 3),
    "reshape_of_contiguous_slice": lambda x: x[1:3].reshape(6, 6),
    "reshape_of_row": lambda x: x[2].reshape(-1),
    "transpose": lambda x: x.transpose(),
    "T": lambda x: x.T,
    "transpose_axes": lambda x: x.transpose(1, 0, 2),
    "transpose_tuple_negative": lambda x: x.transpose((-1, 0, 1)),
    "reverse_first": lambda x: x[::-1],
    "negative_steps": lambda x: x[:, ::-2, 5:0:-2],
    "slices": lambda x: x[1:, 1:3, ::3],
    "integer": lambda x: x[1],
    "negative_integers": lambda x: x[-1, -2],
    "ellipsis": lambda x: x[..., 4],
    "ellipsis_middle": lambda x: x[2, ..., 1:],
    "none": lambda x: x[None, ..., None],
    "none_between": lambda x: x[1, None, ::-1],
    "slice_of_transpose": lambda x: x.T[::2, 1],
    "scalar": lambda x: x[3, 2, 5, ...],   # numpy gives a 0-d view only with the Ellipsis
}


@pytest.mark.parametrize("name", VIEWS)
def test_views_share_memory_and_match_numpy(context, name):
    host = sample(BASE_SHAPE, "float32")
    a = to_device(host, context)
    before = allocator_counts(context)
    view = VIEWS[name](a)
    expected = VIEWS[name](host)
    assert allocator_counts(context) == before          # no allocation, no copy
    assert view.block is a.block and view.context is context
    assert view.shape == expected.shape and view.dtype == np.float32
    assert view.strides == expected.strides
    assert view.offset == numpy_offset(expected, host)
    result = view.get()
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)


def test_dimshuffle_adds_broadcastable_axes_and_drops_length_one_axes(context):
    host = sample((2, 1, 4), "int32")
    a = to_device(host, context)
    before = allocator_counts(context)
    added = a.dimshuffle(0, "x", 1, 2)
    dropped = a.dimshuffle(2, "x", 0)
    listed = a.dimshuffle([2, 0])
    assert allocator_counts(context) == before
    assert added.block is a.block and dropped.block is a.block
    assert added.shape == (2, 1, 1, 4) and added.strides == (16, 0, 16, 4)
    np.testing.assert_array_equal(added.get(), host[:, None, :, :])
    assert dropped.shape == (4, 1, 2) and dropped.strides == (4, 0, 16)
    np.testing.assert_array_equal(dropped.get(), host[:, 0, :].T[:, None, :])
    np.testing.assert_array_equal(listed.get(), host[:, 0, :].T)


def test_view_of_a_view_keeps_the_byte_offset(context):
    host = sample((6, 8), "int16")
    a = to_device(host, context)
    v = a[2:][1:, ::-1][1]            # row 4, reversed
    assert v.offset == numpy_offset(host[2:][1:, ::-1][1], host) == 4 * 16 + 7 * 2
    np.testing.assert_array_equal(v.get(), host[4, ::-1])
    np.testing.assert_array_equal(v[::2].copy().get(), host[4, ::-1][::2])
    element = a[-1, 3]
    assert element.shape == () and element.offset == 5 * 16 + 3 * 2
    assert element.get() == host[-1, 3]


def test_empty_slices(context):
    host = sample(BASE_SHAPE, "float32")
    a = to_device(host, context)
    for key in (np.s_[2:2], np.s_[:, 5:], np.s_[..., 3:1]):
        view = a[key]
        assert view.block is a.block and view.shape == host[key].shape and view.size == 0
        assert view.get().shape == host[key].shape
        assert view.copy().shape == host[key].shape


def test_reshape_of_a_non_contiguous_view_copies(context):
    host = sample(BASE_SHAPE, "float32")
    a = to_device(host, context)
    for make in (lambda x: x.T.reshape(-1), lambda x: x[:, ::-1].reshape(12, 6),
                 lambda x: x[:, 1].reshape(2, 2, 6)):
        r = make(a)
        assert r.block is not a.block and r.c_contiguous
        np.testing.assert_array_equal(r.get(), make(host))


def test_view_errors(context):
    a = to_device(sample((2, 3, 4), "float32"), context)
    with pytest.raises(ValueError, match=re.escape("cannot reshape DeviceArray of shape (2, 3, 4) into shape (5, 5)")):
        a.reshape(5, 5)
    with pytest.raises(ValueError, match=re.escape("into shape (-1, -1)")):
        a.reshape(-1, -1)
    with pytest.raises(ValueError, match=re.escape("into shape (5, -1)")):
        a.reshape(5, -1)
    with pytest.raises(ValueError, match=re.escape("into shape (-2, -12)")):
        a.reshape(-2, -12)
    with pytest.raises(ValueError, match=re.escape("axes (0, 0, 1) are not a permutation of the 3 axes of (2, 3, 4)")):
        a.transpose(0, 0, 1)
    with pytest.raises(ValueError, match="are not a permutation of the 3 axes"):
        a.transpose(1, 0)
    with pytest.raises(ValueError, match=re.escape("dimshuffle pattern (0,) drops axes [1, 2] of shape (2, 3, 4)")):
        a.dimshuffle(0)
    with pytest.raises(ValueError, match="dimshuffle pattern .* is invalid for 3 dimensions"):
        a.dimshuffle(0, 1, 1, 2)
    with pytest.raises(ValueError, match="dimshuffle pattern .* is invalid for 3 dimensions"):
        a.dimshuffle(0, 1, 3)


@pytest.mark.parametrize("axes", [(0, 1, 5), (0, 1, -4), (3, 0, 1)], ids=str)
def test_transpose_refuses_axes_out_of_range(context, axes):
    # numpy raises AxisError here; an out-of-range axis must not be wrapped around.
    a = to_device(sample((2, 3, 4), "float32"), context)
    with pytest.raises(ValueError, match="are not a permutation of the 3 axes"):
        a.transpose(*axes)


def test_indexing_errors(context):
    a = to_device(sample((2, 3, 4), "float32"), context)
    with pytest.raises(IndexError, match="index 2 is out of bounds for axis 0 with size 2"):
        a[2]
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 1 with size 3"):
        a[0, -4]
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 2 with size 4"):
        a[..., 4]
    with pytest.raises(IndexError, match=re.escape("too many indices (4) for a DeviceArray of shape (2, 3, 4)")):
        a[0, 0, 0, 0]
    with pytest.raises(IndexError, match="supports basic indexing only .* got list for axis 0"):
        a[[0, 1]]
    with pytest.raises(IndexError, match="supports basic indexing only .* got ndarray for axis 1"):
        a[:, np.array([0, 2])]
    with pytest.raises(IndexError, match="supports basic indexing only .* got float for axis 0"):
        a[1.0]


# copies and casts -----------------------------------------------------------------------

COPY_SOURCES = {
    "contiguous": lambda x: x,
    "negative_strides": lambda x: x[::-1, ::-2],
    "transposed_3d": lambda x: x.reshape(2, 3, 4).transpose(2, 0, 1),
    "offset_slice": lambda x: x[1:, 2:5],
}


@pytest.mark.parametrize("name", COPY_SOURCES)
def test_copy_is_contiguous_and_independent(context, name):
    host = sample((4, 6), "float32")
    a = to_device(host, context)
    src, expected = COPY_SOURCES[name](a), COPY_SOURCES[name](host)
    c = src.copy()
    assert c.block is not a.block and c.c_contiguous and c.offset == 0
    assert c.shape == expected.shape and c.dtype == np.float32
    assert c.strides == np.ascontiguousarray(expected).strides
    np.testing.assert_array_equal(c.get(), expected)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_copies_of_long_rows_in_runs(context, dtype):
    """Rows longer than a CPU work-item's run of elements and not a multiple of it: whole
    runs, then the rest of the row; the innermost axis contiguous or not, and cast."""
    host = sample((3, 5, 2 * 32 + 7), dtype)
    a = to_device(host, context)
    for make in (lambda x: x[::-1], lambda x: x[:, 1::2, 3:], lambda x: x.transpose(1, 2, 0),
                 lambda x: x[..., ::-3]):
        np.testing.assert_array_equal(make(a).copy().get(), make(host))
        np.testing.assert_array_equal(make(a).astype("float64").get(), make(host).astype("float64"))


def test_a_strided_copy_renders_its_kernel_once(context, monkeypatch):
    from clgraph.backends import array

    a = to_device(sample((3, 40), "float32"), context)
    a[::-1].copy()
    renders = []
    render = array.render
    monkeypatch.setattr(array, "render", lambda *args, **kw: renders.append(args) or render(*args, **kw))
    np.testing.assert_array_equal(a[::-1].copy().get(), sample((3, 40), "float32")[::-1])
    assert renders == []   # the second copy of that layout is served its rendering


ASTYPE_CASES = [
    ("float16", "float32", [-2.5, 0.0, 1e-4, 65504.0, 3.140625, -0.0]),
    ("float32", "float16", [1.0, -2.5, 2049.0, 2051.0, 4097.0, 1e-8, 65520.0, -1e6, np.nan]),
    ("float32", "int32", [-2.7, -0.5, 0.0, 3.5, 1e9, -2147483520.0]),
    ("int64", "float64", [0, -1, 2 ** 53 + 1, -(2 ** 62) - 3, 123456789012345]),
    ("bool", "float32", [True, False, True]),
    ("float32", "bool", [0.0, -0.0, 0.5, -3.0, np.inf, np.nan]),
    ("uint8", "float32", [0, 1, 127, 128, 255]),
]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("src_dtype, dst_dtype, values", ASTYPE_CASES,
                         ids=[f"{s}->{d}" for s, d, _ in ASTYPE_CASES])
def test_astype_matches_numpy(context, src_dtype, dst_dtype, values):
    host = np.array(values, dtype=src_dtype)
    host = np.stack([host, host[::-1]])             # 2-d: one kernel per pair
    a = to_device(host, context)
    for src, expected in ((a, host), (a[::-1, ::-1], host[::-1, ::-1])):
        out = src.astype(dst_dtype)
        assert out.dtype == dst_dtype and out.shape == expected.shape and out.c_contiguous
        assert out.block is not a.block
        np.testing.assert_array_equal(out.get(), expected.astype(dst_dtype))


def test_astype_to_float16_rounds_to_nearest_even(context):
    host = np.array([[2049.0, 2051.0, 2053.0, 1.00048828125, -2049.0]], np.float32)
    out = to_device(host, context).astype("float16").get()
    np.testing.assert_array_equal(out, np.array([[2048.0, 2052.0, 2052.0, 1.0, -2048.0]], np.float16))
    np.testing.assert_array_equal(out, host.astype(np.float16))


def test_astype_float64_to_float16_rounds_once(context):
    # 2049.0000001 lies just above the float16 tie 2049: numpy gives 2050. Going through
    # float32 first rounds it to exactly 2049, and the tie then goes to 2048.
    host = np.array([[2049.0000001, -2049.0000001, 2051.0000001, 1.0004882812500002]], np.float64)
    out = to_device(host, context).astype("float16").get()
    np.testing.assert_array_equal(out, host.astype(np.float16))


def test_astype_of_an_empty_array(context):
    a = to_device(np.zeros((0, 4), np.float32), context)
    out = a.astype("int32")
    assert out.shape == (0, 4) and out.dtype == np.int32 and out.get().shape == (0, 4)


# transfers ------------------------------------------------------------------------------

def test_transfer_between_cpu_and_opencl_goes_through_the_host():
    cpu, ocl = registry.get("cpu"), registry.get("opencl0:0")
    host = sample((3, 5), "int32")
    on_cpu = to_device(host, cpu)
    on_ocl = on_cpu.transfer(ocl)
    assert on_ocl.context is ocl and on_ocl.block is not on_cpu.block
    np.testing.assert_array_equal(on_ocl.get(), host)
    back = on_ocl.transfer("cpu")
    assert back.context is cpu
    np.testing.assert_array_equal(back.get(), host)
    strided = on_ocl[::-1, 1::2].transfer(cpu)      # a non-contiguous source
    assert strided.context is cpu and strided.c_contiguous
    np.testing.assert_array_equal(strided.get(), host[::-1, 1::2])


@needs_two_opencl
def test_transfer_between_opencl_devices_is_device_to_device():
    first, second = registry.get("opencl0:0"), registry.get("opencl0:1")
    host = sample((4, 6), "float32")
    a = to_device(host, first)
    b = a.transfer("opencl0:1")
    assert b.context is second and b.shape == (4, 6) and b.dtype == np.float32
    # a device copy enqueued on the target's queue, not an upload through the host
    assert b.block.write_event.context is second
    assert a.block.read_events[-1].context is second
    np.testing.assert_array_equal(b.get(), host)
    t = a.T[::-1].transfer(second)                    # non-contiguous source
    assert t.context is second and t.c_contiguous
    np.testing.assert_array_equal(t.get(), host.T[::-1])
    np.testing.assert_array_equal(to_device(b, first).get(), host)   # to_device of a DeviceArray


@needs_two_opencl
def test_transfer_refuses_float64_to_a_device_without_fp64(monkeypatch):
    first, second = registry.get("opencl0:0"), registry.get("opencl0:1")
    a = to_device(np.arange(4.0), first)
    monkeypatch.setattr(second.info, "fp64", False)
    with pytest.raises(TypeError, match=f"context {re.escape(repr(second.name))} .*has no float64 support"):
        a.transfer(second)


def test_transfer_to_the_same_context_is_the_same_array(context):
    a = to_device(sample((3,), "float32"), context)
    assert a.transfer(context) is a
    assert a.transfer(context.name) is a
    assert to_device(a, context) is a


def test_sync_returns_the_array_once_its_writes_landed(context):
    host = np.arange(8 << 20, dtype=np.float32)     # 32 MiB
    a = to_device(host, context)
    assert a.sync() is a
    assert a.block.write_event.done()
    view = a[::1024]
    assert view.sync() is view
    np.testing.assert_array_equal(view.get(), host[::1024])


# dtype checks ---------------------------------------------------------------------------

def test_float64_is_refused_on_a_device_without_fp64(context, monkeypatch):
    monkeypatch.setattr(context.info, "fp64", False)
    message = (f"context {re.escape(repr(context.name))} .*has no float64 support .*"
               "float64 arrays are refused there")
    with pytest.raises(TypeError, match=message):
        array_module.empty((3,), "float64", context)
    with pytest.raises(TypeError, match=message):
        zeros(4, np.float64, context)
    with pytest.raises(TypeError, match=message):
        to_device(np.arange(3.0), context)
    a = to_device(np.arange(3, dtype=np.float32), context)     # float32 still works
    with pytest.raises(TypeError, match=message):
        a.astype("float64")
    np.testing.assert_array_equal(a.get(), np.arange(3, dtype=np.float32))


@pytest.mark.parametrize("dtype, shown", [("complex64", "complex64"), (object, "object"), (">f4", ">f4")])
def test_unsupported_dtypes_are_refused_naming_the_dtype(context, dtype, shown):
    message = f"dtype {re.escape(shown)} is not supported on devices; supported dtypes: bool, int8"
    with pytest.raises(TypeError, match=message):
        empty(3, dtype, context)
    with pytest.raises(TypeError, match=message):
        to_device(np.zeros(3, dtype), context)
    with pytest.raises(TypeError, match=message):
        to_device(np.zeros(3, np.float32), context).astype(dtype)


def test_cuda_array_interface_only_on_cuda(context):
    if context.api == "cuda":
        a = to_device(np.arange(6, dtype=np.float32).reshape(2, 3), context)
        face = a.__cuda_array_interface__
        assert face["shape"] == (2, 3) and face["typestr"] == "<f4" and face["strides"] is None
        return
    a = to_device(np.arange(3, dtype=np.float32), context)
    with pytest.raises(AttributeError, match=f"CUDA arrays only; this array lives on context "
                                             f"{re.escape(repr(context.name))} \\({context.api}\\)"):
        a.__cuda_array_interface__
    assert not hasattr(a, "__cuda_array_interface__")
