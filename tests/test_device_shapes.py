"""Shape ops on devices: reshape (a view, or a copy of strided data) and alloc (a
broadcast copy), with the shape read as a host value."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.compile.device_ops import GpuAlloc, GpuReshape

x = T.fmatrix("x")
n = T.lscalar("n")
VALUE = np.arange(12, dtype="float32").reshape(3, 4)


def compiled(output):
    device = clgraph.function([x, n], output, on_unused_input="ignore")
    reference = clgraph.function([x, n], output, mode="FAST_COMPILE", on_unused_input="ignore")
    return device, reference


@pytest.mark.parametrize("make, op", [
    (lambda: x.reshape((4, 3)), GpuReshape),
    (lambda: x.reshape((n, -1)), GpuReshape),
    (lambda: x.T.reshape((-1,)), GpuReshape),          # strided data: a copy
    (lambda: T.alloc(x[0], 2, 3, 4), GpuAlloc),
    (lambda: T.alloc(np.float32(1.5), 2, n), GpuAlloc),
    (lambda: T.zeros((2, 3)) + x.sum(), GpuAlloc),
])
def test_shape_ops_run_on_the_device(make, op):
    output = make()
    device, reference = compiled(output)
    assert any(isinstance(node.op, op) for node in device.maker.fgraph.toposort())
    got, expected = device(VALUE, 2), reference(VALUE, 2)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_reshape_view_shares_the_device_memory_and_outputs_do_not():
    s = clgraph.shared(VALUE)
    f = clgraph.function([], s.reshape((12,)).transfer(s.context_name))
    out = f()
    assert out.block is not s.get_value(borrow=True, return_internal_type=True).block   # the caller's own
    np.testing.assert_array_equal(np.asarray(out), VALUE.ravel())


def test_bad_shapes_name_the_op_and_the_shapes():
    device, _ = compiled(x.reshape((n, 5)))
    with pytest.raises(ValueError, match=r"GpuReshape\{2\}: cannot reshape an array of shape \(3, 4\) "
                                         r"\(size 12\) into shape \(2, 5\)"):
        device(VALUE, 2)
    device, _ = compiled(T.alloc(x, 3, n))
    with pytest.raises(ValueError, match=r"GpuAlloc: cannot broadcast a value of shape \(3, 4\) to "
                                         r"shape \(3, 2\)"):
        device(VALUE, 2)
    assert device(VALUE, 4).shape == (3, 4)   # the function still works


def test_basic_indexing_with_symbolic_indices_is_a_device_view():
    from clgraph.compile.device_ops import GpuSubtensor

    i = T.lscalar("i")
    for output in [x[i:], x[::-1, i], T.exp(x[i, 1:]), x[-i]]:
        device = clgraph.function([x, i], output)
        assert any(isinstance(node.op, GpuSubtensor) for node in device.maker.fgraph.toposort())
        reference = clgraph.function([x, i], output, mode="FAST_COMPILE")
        np.testing.assert_allclose(device(VALUE, 1), reference(VALUE, 1), rtol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack_run_on_the_device(axis):
    from clgraph.compile.device_ops import GpuJoin

    y = T.dmatrix("y")
    for output in [T.concatenate([x, x[::-1], x * 2], axis=axis), T.concatenate([x, y], axis=axis),
                   T.stack([x, x + 1], axis=axis)]:
        device = clgraph.function([x, y], output, on_unused_input="ignore")
        assert any(isinstance(node.op, GpuJoin) for node in device.maker.fgraph.toposort())
        reference = clgraph.function([x, y], output, mode="FAST_COMPILE", on_unused_input="ignore")
        other = np.arange(12.0).reshape(3, 4) * 10
        got, expected = device(VALUE, other), reference(VALUE, other)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    bad = clgraph.function([x, y], T.concatenate([x, y.T], axis=axis))
    with pytest.raises(ValueError, match=r"GpuJoin: cannot join arrays of shapes \(3, 4\), \(4, 3\)"):
        bad(VALUE, np.zeros((3, 4)))


def test_scalar_arithmetic_on_shapes_stays_on_the_host():
    # the 1 / n of a mean's gradient: computed by numpy from the length, then used by
    # the device kernel, not a launch of its own on an uploaded length
    from clgraph.compile.device_ops import DeviceOp
    from clgraph.tensor.math import NumberOfElements

    x = T.fvector("x")
    f = clgraph.function([x], T.grad(T.mean(x ** 2), x))
    nodes = f.maker.fgraph.toposort()
    (count,) = [n for n in nodes if isinstance(n.op, NumberOfElements)]
    (scale,) = [n for n in nodes if count.outputs[0] in n.inputs]
    assert not isinstance(scale.op, DeviceOp) and scale.outputs[0].ndim == 0
    value = np.array([1.0, 2.0, 4.0], "float32")
    np.testing.assert_allclose(f(value), 2 * value / 3, rtol=1e-6)
