"""The operator suite through clgraph.function on the device context.

Every graph is compiled twice: with the default mode (placed on the default device
context: elementwise kernels and dimshuffles on the device, every other node on the
host with transfers inserted) and with FAST_COMPILE (the reference: no placement, the
host implementations). Both results must agree with each other and with numpy, in
values, shape and dtype. Inputs cover float32 and float64 (int32 where meaningful),
empty arrays and 0-d arrays.
"""
import numpy as np
import pytest

import clgraph
import clgraph.rewrite
import clgraph.tensor as T
from clgraph import function, shared
from clgraph.compile.device_ops import DeviceOp, GpuElemwise, HostFromGpu
from conftest import OPENCL_DEVICES

pytestmark = pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")

FLOATS = ["float32", "float64"]
NUMBERS = FLOATS + ["int32"]
RTOL = {"float32": 2e-5, "float64": 1e-12}


def _data(shape, dtype, seed=0, low=-2.0, high=2.0):
    rng = np.random.RandomState(seed)
    if np.dtype(dtype).kind == "i":
        return rng.randint(-5, 6, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def _var(value, name=None):
    value = np.asarray(value)
    return T.tensor(str(value.dtype), (None,) * value.ndim, name=name)


def _same(got, expected, dtype_hint=None, what=""):
    expected = np.asarray(expected)
    assert isinstance(got, np.ndarray), (what, type(got))
    assert got.dtype == expected.dtype, (what, got.dtype, expected.dtype)
    assert got.shape == expected.shape, (what, got.shape, expected.shape)
    if expected.dtype.kind == "f":
        rtol = RTOL.get(str(expected.dtype), 1e-6)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def compare(inputs, outputs, values, expected):
    """Compile ``outputs`` on the device (default mode) and with FAST_COMPILE; both give
    ``expected`` (numpy's results). Returns the device function."""
    single = not isinstance(outputs, (list, tuple))
    outs = [outputs] if single else list(outputs)
    expected = [expected] if single else list(expected)
    on_device = function(inputs, outs)
    reference = function(inputs, outs, mode="FAST_COMPILE")
    assert on_device.maker.on_devices and not reference.maker.on_devices
    got_device = on_device(*values)
    got_reference = reference(*values)
    for index, (d, r, e) in enumerate(zip(got_device, got_reference, expected)):
        _same(r, e, what=f"reference output {index}")
        _same(d, e, what=f"device output {index}")
    # a second call gives the same results (buffers reused or freed correctly)
    for index, (d, e) in enumerate(zip(on_device(*values), expected)):
        _same(d, e, what=f"device output {index}, second call")
    return on_device


def _nodes(f):
    return f.maker.fgraph.toposort()


def _host_float_elemwise(f):
    """Host Elemwise nodes computing floats in a device-compiled function."""
    return [n for n in _nodes(f) if isinstance(n.op, T.Elemwise)
            and any(o.type.dtype in FLOATS for o in n.outputs)]


# ------------------------------------------------------------------------ elementwise

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rows", [3, 0])
def test_elementwise_chain_with_broadcasting(dtype, rows):
    x, y = _data((rows, 4), dtype, 1), _data((4,), dtype, 2)
    xv, yv = _var(x, "x"), _var(y, "y")
    out = T.exp(xv) * yv + T.sqrt(abs(xv)) - 2 * xv / (1 + yv ** 2)
    expected = np.exp(x) * y + np.sqrt(abs(x)) - dtype_cast(2, dtype) * x / (1 + y ** 2)
    f = compare([xv, yv], out, [x, y], expected.astype(dtype))
    assert not _host_float_elemwise(f), _nodes(f)
    assert any(isinstance(n.op, GpuElemwise) for n in _nodes(f))
    assert isinstance(_nodes(f)[-1].op, HostFromGpu)


def dtype_cast(value, dtype):
    return np.asarray(value, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_elementwise_on_0d_inputs(dtype):
    a, b = np.asarray(1.5, dtype), np.asarray(-0.25, dtype)
    av, bv = _var(a, "a"), _var(b, "b")
    expected = (np.tanh(a) * b - np.log1p(a * a)).astype(dtype)
    f = compare([av, bv], T.tanh(av) * bv - T.log1p(av * av), [a, b], expected)
    assert not _host_float_elemwise(f)


def test_elementwise_column_row_broadcast_and_shared_operand():
    col = _data((5, 1), "float32", 3)
    row = _data((1, 6), "float32", 4)
    s = shared(_data((6,), "float32", 5), name="s")
    assert s.context_name == OPENCL_DEVICES[0]
    cv = T.tensor("float32", (None, 1), name="col")
    rv = T.tensor("float32", (1, None), name="row")
    expected = (col * row + s.get_value()) / (1 + np.abs(col))
    compare([cv, rv], (cv * rv + s) / (1 + abs(cv)), [col, row], expected.astype("float32"))


def test_integer_elementwise():
    x, y = _data((3, 4), "int32", 6), _data((4,), "int32", 7)
    xv, yv = _var(x), _var(y)
    expected = x * 3 + y - np.minimum(x, y)
    compare([xv, yv], xv * 3 + yv - T.minimum(xv, yv), [x, y], expected.astype("int32"))


@pytest.mark.parametrize("dtype", FLOATS)
def test_clip_and_switch(dtype):
    x, y = _data((4, 5), dtype, 8), _data((4, 5), dtype, 9)
    xv, yv = _var(x), _var(y)
    expected = [np.clip(x, -0.5, 0.5), np.where(x > 0, x, y * 2), np.where(x > y, x - y, 0 * x)]
    compare([xv, yv], [T.clip(xv, -0.5, 0.5), T.switch(xv > 0, xv, yv * 2),
                       T.switch(T.gt(xv, yv), xv - yv, T.zeros_like(xv))],
            [x, y], [e.astype(dtype) for e in expected])


def test_clip_and_switch_on_empty_and_0d():
    e = np.zeros((0, 3), "float32")
    z = np.asarray(-3.0, "float32")
    ev, zv = _var(e), _var(z)
    compare([ev, zv], [T.clip(ev, -1, 1), T.switch(zv > 0, zv, -zv), T.clip(zv, -1, 1)], [e, z],
            [e, np.asarray(3.0, "float32"), np.asarray(-1.0, "float32")])


# ------------------------------------------------------------------------- reductions

@pytest.mark.parametrize("dtype", NUMBERS)
def test_reductions_over_axes(dtype):
    x = _data((3, 4, 5), dtype, 10)
    xv = _var(x)
    outs = [T.sum(xv, axis=0), T.sum(xv, axis=(0, 2)), T.sum(xv), T.max(xv, axis=-1),
            T.argmax(xv, axis=0), T.argmax(xv, axis=2)]
    expected = [x.sum(axis=0), x.sum(axis=(0, 2)), x.sum(), x.max(axis=-1),
                x.argmax(axis=0), x.argmax(axis=2)]
    results = function([xv], outs)(x)
    reference = function([xv], outs, mode="FAST_COMPILE")(x)
    for index, (got, ref, exp) in enumerate(zip(results, reference, expected)):
        # dtypes follow the library's reference (accumulator rules), values numpy's
        assert got.dtype == ref.dtype and got.shape == exp.shape, (index, got.dtype, ref.dtype)
        np.testing.assert_allclose(got, exp, rtol=RTOL.get(dtype, 0), atol=1e-5, err_msg=str(index))
        np.testing.assert_allclose(ref, exp, rtol=RTOL.get(dtype, 0), atol=1e-5, err_msg=str(index))


@pytest.mark.parametrize("dtype", FLOATS)
def test_mean_over_axes(dtype):
    x = _data((4, 6), dtype, 11)
    xv = _var(x)
    compare([xv], [T.mean(xv, axis=0), T.mean(xv, axis=1), T.mean(xv)],
            [x], [x.mean(axis=0), x.mean(axis=1), x.mean().astype(dtype)])


@pytest.mark.parametrize("dtype", FLOATS)
def test_reductions_of_empty_and_0d(dtype):
    e = np.zeros((0, 4), dtype)
    z = np.asarray(2.5, dtype)
    ev, zv = _var(e), _var(z)
    compare([ev, zv], [T.sum(ev, axis=0), T.sum(ev), T.sum(zv), T.max(zv), T.mean(ev, axis=1)],
            [e, z], [np.zeros(4, dtype), np.asarray(0, dtype), z, z, np.zeros(0, dtype)])


# --------------------------------------------------------------------------------- dot

@pytest.mark.parametrize("dtype", NUMBERS)
def test_dot_matrix_matrix_vector(dtype):
    a, b, v = _data((3, 4), dtype, 12), _data((4, 5), dtype, 13), _data((4,), dtype, 14)
    av, bv, vv = _var(a), _var(b), _var(v)
    outs = [T.dot(av, bv), T.dot(av, vv), T.dot(vv, vv), T.dot(av * 2, bv)]
    expected = [a @ b, a @ v, np.asarray(v @ v), (a * 2) @ b]
    compare([av, bv, vv], outs, [a, b, v], [np.asarray(e).astype(dtype) for e in expected])


@pytest.mark.parametrize("dtype", FLOATS)
def test_dot_with_an_empty_inner_dimension(dtype):
    a, b = np.zeros((3, 0), dtype), np.zeros((0, 2), dtype)
    av, bv = _var(a), _var(b)
    compare([av, bv], T.dot(av, bv) + 1, [a, b], np.ones((3, 2), dtype))


# ---------------------------------------------------------------------- shape and views

@pytest.mark.parametrize("dtype", FLOATS)
def test_reshape_transpose_dimshuffle_flatten(dtype):
    x = _data((3, 4), dtype, 15)
    xv = _var(x)
    outs = [xv.reshape((4, 3)), xv.T, xv.dimshuffle(1, "x", 0), T.flatten(xv),
            xv.dimshuffle(1, 0) * xv.T, T.flatten(xv.T) * 2, xv.reshape((2, 6)).T]
    expected = [x.reshape(4, 3), x.T, x.T[:, None, :], x.ravel(), x.T * x.T, x.T.ravel() * 2,
                x.reshape(2, 6).T]
    f = compare([xv], outs, [x], [e.astype(dtype) for e in expected])
    assert not _host_float_elemwise(f)


def test_device_dimshuffle_of_a_shared_matrix_feeds_a_strided_kernel():
    value = _data((5, 7), "float32", 16)
    s = shared(value, name="s")
    f = compare([], [s.T * 2, s.dimshuffle("x", 1, 0).sum(axis=0)], [],
                [value.T * 2, value.T])
    names = [type(n.op).__name__ for n in _nodes(f)]
    assert "GpuDimShuffle" in names, names


def test_shape_ops_on_empty_and_0d():
    e = np.zeros((0, 3), "float64")
    z = np.asarray(7.0, "float64")
    ev, zv = _var(e), _var(z)
    compare([ev, zv], [ev.T, T.flatten(ev), ev.reshape((3, 0)), zv.dimshuffle("x", "x") * 2,
                       zv.reshape((1,))],
            [e, z], [e.T, e.ravel(), e.reshape(3, 0), np.full((1, 1), 14.0), np.array([7.0])])


# --------------------------------------------------------------------------- subtensor

@pytest.mark.parametrize("dtype", NUMBERS)
def test_basic_subtensor(dtype):
    x = _data((5, 6), dtype, 17)
    xv = _var(x)
    outs = [xv[1:, ::2], xv[-1], xv[::-1, 1], xv[2, 3], xv[1:4, 2:5] * 2, xv[:, -2:].T * 2]
    expected = [x[1:, ::2], x[-1], x[::-1, 1], np.asarray(x[2, 3]), x[1:4, 2:5] * 2, x[:, -2:].T * 2]
    compare([xv], outs, [x], [np.asarray(e).astype(dtype) for e in expected])


@pytest.mark.parametrize("dtype", NUMBERS)
def test_advanced_subtensor(dtype):
    x = _data((5, 6), dtype, 18)
    idx = np.array([0, 2, 2, 4], "int64")
    xv, iv = _var(x), T.lvector("i")
    outs = [xv[iv], xv[[0, 1], [1, 2]], xv[iv, 1:3], xv[:, iv] * 2, xv[[]], xv[iv][::-1]]
    expected = [x[idx], x[[0, 1], [1, 2]], x[idx, 1:3], x[:, idx] * 2, x[np.array([], "int64")],
                x[idx][::-1]]
    compare([xv, iv], outs, [x, idx], [e.astype(dtype) for e in expected])


@pytest.mark.parametrize("dtype", NUMBERS)
def test_set_and_inc_subtensor_with_repeated_indices(dtype):
    x = _data((5, 3), dtype, 19)
    y = _data((4, 3), dtype, 20)
    idx = np.array([0, 2, 0, 0], "int64")
    xv, yv, iv = _var(x), _var(y), T.lvector("i")
    inc = x.copy()
    np.add.at(inc, idx, y)
    row_inc = x.copy()
    np.add.at(row_inc, (idx, 1), y[:, 0])
    set_basic = x.copy()
    set_basic[1:3] = y[:2]
    set_adv = x.copy()
    set_adv[[1, 3]] = y[:2]
    outs = [T.inc_subtensor(xv[iv], yv), T.inc_subtensor(xv[iv, 1], yv[:, 0]),
            T.set_subtensor(xv[1:3], yv[:2]), T.set_subtensor(xv[[1, 3]], yv[:2]),
            T.inc_subtensor(xv[iv], yv) * 2]
    compare([xv, yv, iv], outs, [x, y, idx], [inc, row_inc, set_basic, set_adv, inc * 2])


def test_inc_subtensor_into_a_shared_device_matrix_via_updates():
    value = np.zeros((4, 2), "float32")
    s = shared(value.copy(), name="acc")
    iv = T.lvector("i")
    f = function([iv], [], updates={s: T.inc_subtensor(s[iv], T.ones_like(s[iv]) * 2)})
    f(np.array([1, 1, 3], "int64"))
    f(np.array([1], "int64"))
    np.testing.assert_array_equal(s.get_value(), [[0, 0], [6, 6], [0, 0], [2, 2]])
    assert s.context_name == OPENCL_DEVICES[0]


def test_subtensor_of_empty_and_0d_results():
    x = _data((4, 3), "float32", 21)
    xv = _var(x)
    empty_idx = np.zeros(0, "int64")
    iv = T.lvector("i")
    compare([xv, iv], [xv[2:2], xv[iv], T.inc_subtensor(xv[iv], 1.0), xv[3, 2] * 2],
            [x, empty_idx], [x[2:2], x[empty_idx], x, np.asarray(x[3, 2] * 2)])


# -------------------------------------------------------------------------------- join

@pytest.mark.parametrize("dtype", NUMBERS)
def test_concatenate_stack_split(dtype):
    a, b = _data((2, 3), dtype, 22), _data((4, 3), dtype, 23)
    av, bv = _var(a), _var(b)
    p1, p2, p3 = T.split(bv, [1, 2, 1], 3, axis=0)
    outs = [T.concatenate([av, bv], axis=0), T.concatenate([av.T, bv.T], axis=1),
            T.stack([av, av * 2]), T.stack([av[0], bv[0]], axis=1), p1, p2 * 2, p3,
            T.concatenate([av, av], axis=1) * 2]
    expected = [np.concatenate([a, b]), np.concatenate([a.T, b.T], axis=1), np.stack([a, a * 2]),
                np.stack([a[0], b[0]], axis=1), b[:1], b[1:3] * 2, b[3:],
                np.concatenate([a, a], axis=1) * 2]
    compare([av, bv], outs, [a, b], [e.astype(dtype) for e in expected])


def test_join_with_empty_pieces_and_stack_of_0d():
    a, e = _data((2, 3), "float64", 24), np.zeros((0, 3), "float64")
    s1, s2 = np.asarray(1.0), np.asarray(-2.0)
    av, ev, v1, v2 = _var(a), _var(e), _var(s1), _var(s2)
    first, second = T.split(av, [0, 2], 2, axis=0)
    compare([av, ev, v1, v2], [T.concatenate([ev, av, ev]), T.stack([v1, v2 * 2]), first, second * 2],
            [a, e, s1, s2], [a, np.array([1.0, -4.0]), a[:0], a * 2])


# -------------------------------------------------------------------------------- sort

@pytest.mark.parametrize("dtype", NUMBERS)
def test_sort_and_argsort(dtype):
    x = _data((4, 6), dtype, 25) if dtype != "int32" else np.random.RandomState(25).permutation(
        24).reshape(4, 6).astype("int32")
    xv = _var(x)
    outs = [T.sort(xv), T.sort(xv, axis=0), T.argsort(xv), T.argsort(xv, axis=0), T.sort(xv * 2),
            T.sort(xv, axis=None)]
    expected = [np.sort(x), np.sort(x, axis=0), np.argsort(x), np.argsort(x, axis=0),
                np.sort(x * 2), np.sort(x, axis=None)]
    compare([xv], outs, [x], expected)


def test_sort_of_empty_and_single_element():
    e = np.zeros(0, "float32")
    one = np.array([3.0], "float32")
    ev, ov = _var(e), _var(one)
    compare([ev, ov], [T.sort(ev), T.argsort(ev), T.sort(ov * 2)], [e, one],
            [e, np.argsort(e), one * 2])


# -------------------------------------------------------------------- creation and cumsum

@pytest.mark.parametrize("dtype", NUMBERS)
def test_arange_alloc_eye_zeros_like(dtype):
    n = T.iscalar("n")
    x = _data((3, 3), dtype, 26)
    xv = _var(x)
    v = np.asarray(x[0, 0])
    vv = _var(v)
    outs = [T.arange(n, dtype=dtype), T.arange(1, n, 2, dtype=dtype), T.alloc(vv, 2, 4),
            T.alloc(vv, n, 2), T.eye(n, dtype=dtype), T.eye(3, dtype=dtype) * xv,
            T.zeros_like(xv) + xv, T.ones_like(xv)]
    expected = [np.arange(5, dtype=dtype), np.arange(1, 5, 2, dtype=dtype), np.full((2, 4), v),
                np.full((5, 2), v), np.eye(5, dtype=dtype), np.eye(3, dtype=dtype) * x, x,
                np.ones((3, 3), dtype)]
    compare([n, xv, vv], outs, [np.int32(5), x, v], [np.asarray(e).astype(dtype) for e in expected])


def test_creation_with_zero_lengths():
    n = T.iscalar("n")
    compare([n], [T.arange(n, dtype="float32"), T.eye(n, dtype="float64"),
                  T.alloc(np.float32(1.5), n, 3) * 2, T.zeros_like(T.arange(n, dtype="float64"))],
            [np.int32(0)], [np.zeros(0, "float32"), np.zeros((0, 0)), np.zeros((0, 3), "float32"),
                            np.zeros(0)])


@pytest.mark.parametrize("dtype", NUMBERS)
def test_cumsum(dtype):
    x = _data((3, 4), dtype, 27)
    xv = _var(x)
    compare([xv], [T.cumsum(xv, axis=0), T.cumsum(xv, axis=1), T.cumsum(xv), T.cumsum(xv * 2, axis=-1)],
            [x], [np.cumsum(x, axis=0), np.cumsum(x, axis=1), np.cumsum(x), np.cumsum(x * 2, axis=-1)])


def test_cumsum_of_empty_and_0d():
    e = np.zeros((0, 2), "float32")
    z = np.asarray(4.0, "float32")
    ev, zv = _var(e), _var(z)
    compare([ev, zv], [T.cumsum(ev, axis=0), T.cumsum(ev), T.cumsum(zv)], [e, z],
            [np.cumsum(e, axis=0), np.cumsum(e), np.cumsum(z)])


# ------------------------------------------------------------------ a mixed larger graph

def test_mixed_graph_host_and_device_nodes_with_transfers():
    """Device work around a host-only node (an integer power, which numpy refuses for
    negative exponents): transfers both ways, the result still right."""
    w = shared(_data((4, 3), "float32", 28), name="w")
    b = shared(_data((3,), "float32", 29), name="b")
    xv = T.matrix("x", dtype="float32")
    hidden = T.tanh(T.dot(xv, w) + b)
    squares = T.cast(hidden * 4, "int16") ** 2
    out = T.concatenate([T.sort(hidden, axis=1), hidden[:, ::-1] * squares], axis=1).sum(axis=0) / 3
    x = _data((5, 4), "float32", 30)
    h = np.tanh(x @ w.get_value() + b.get_value())
    s = (h * 4).astype("int16") ** 2
    expected = (np.concatenate([np.sort(h, axis=1), h[:, ::-1] * s], axis=1).sum(axis=0) / 3)
    f = compare([xv], out, [x], expected.astype("float32"))
    names = [type(n.op).__name__ for n in _nodes(f)]
    assert "GpuElemwise" in names and "HostFromGpu" in names, names
    device = sum(isinstance(n.op, DeviceOp) for n in _nodes(f))
    assert 0 < device < len(names)


# -------------------------------------------------------------------------- fusion

def test_chain_of_five_elementwise_ops_is_one_kernel():
    x = T.vector("x", dtype="float32")
    out = T.exp(T.sqrt(abs(x) + 1) * 3)      # five ops: abs, add, sqrt, mul, exp
    f = function([x], out)
    value = _data((100,), "float32", 31)
    np.testing.assert_allclose(f(value), np.exp(np.sqrt(np.abs(value) + 1) * 3), rtol=2e-6)
    kernels = [n for n in _nodes(f) if isinstance(n.op, GpuElemwise)]
    if len(kernels) != 1 and "elemwise_fusion" not in clgraph.rewrite.REWRITES:
        pytest.xfail("fusion pass not available yet")
    assert len(kernels) == 1, _nodes(f)
    assert not _host_float_elemwise(f)
