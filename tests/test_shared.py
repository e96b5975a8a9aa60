"""clgraph.shared: types, placement on contexts, get_value/set_value and borrow.

Placement: float shared variables (and integer arrays) live on the default device
context (a DeviceArray), integer/bool scalars on the host; ``target='cpu'`` keeps a
value on the host, ``target=<context name>`` places it there. On the host borrow
aliases; on a device it has no aliasing effect (seed 000, "Memory Model").
"""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import function, shared
from clgraph.backends import DeviceArray, DeviceError, get_context, to_device
from conftest import OPENCL_DEVICES, needs_two_opencl

needs_opencl = pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")
DEFAULT = OPENCL_DEVICES[0] if OPENCL_DEVICES else "cpu"
SECOND = OPENCL_DEVICES[1] if len(OPENCL_DEVICES) > 1 else None


def f32(*values):
    return np.array(values, dtype="float32")


def internal(s):
    return s.get_value(borrow=True, return_internal_type=True)


# ---------------------------------------------------------------- types

def test_seed_shared_zero_is_an_int64_scalar():
    state = shared(0)
    assert repr(state) == "<TensorType(int64, scalar)>"
    assert str(state.type) == "TensorType(int64, scalar)"
    value = state.get_value()
    assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == np.int64
    assert value == 0
    state.set_value(1)
    assert state.get_value() == 1
    assert repr(state.get_value()) == "array(1)"


def test_types_of_common_values():
    assert shared(np.ones(3, "float32")).type == T.TensorType("float32", (None,))
    assert repr(shared(np.ones(3, "float32"))) == "<TensorType(float32, vector)>"
    assert repr(shared(np.ones((2, 2)))) == "<TensorType(float64, matrix)>"
    assert repr(shared(np.int32(3))) == "<TensorType(int32, scalar)>"
    assert shared(1.5).type == T.TensorType("float64", ())
    assert shared(True).type.dtype == "bool"
    assert shared(np.arange(3)).type == T.TensorType("int64", (None,))
    assert shared([[1.0, 2.0]]).type == T.TensorType("float64", (None, None))


def test_name_is_used_in_repr():
    s = shared(f32(1), name="weights")
    assert s.name == "weights"
    assert str(s) == "weights"


def test_nothing_is_broadcastable_by_default():
    s = shared(np.ones((1, 3), "float32"))
    assert s.broadcastable == (False, False)
    assert s.type.shape == (None, None)
    assert shared(np.ones((1, 1, 1), "float32")).broadcastable == (False, False, False)
    # so a (1, 3) shared value does not broadcast against a (2, 3) matrix by its type
    m = T.matrix("m", dtype="float32")
    assert (s + m).type.shape == (None, None)


def test_shape_and_broadcastable_arguments():
    row = shared(np.ones((1, 3), "float32"), broadcastable=(True, False))
    assert row.broadcastable == (True, False)
    assert repr(row) == "<TensorType(float32, row)>"
    fixed = shared(np.ones((1, 3), "float32"), shape=(1, 3))
    assert fixed.type.shape == (1, 3)
    assert fixed.broadcastable == (True, False)
    m = T.matrix("m", dtype="float32")
    out = (row + m).eval({m: np.zeros((2, 3), "float32")})
    np.testing.assert_array_equal(out, np.ones((2, 3)))


def test_shape_argument_checks_the_value():
    with pytest.raises(TypeError, match=r"static shape \(1, 3\).*shape \(2, 3\)"):
        shared(np.ones((2, 3), "float32"), shape=(1, 3))
    with pytest.raises(TypeError, match=r"static shape \(1, None\).*shape \(2, 3\)"):
        shared(np.ones((2, 3), "float32"), broadcastable=(True, False))


def test_set_value_keeps_the_static_shape():
    s = shared(np.ones((1, 3), "float32"), shape=(1, 3), name="s")
    with pytest.raises(TypeError, match=r"static shape"):
        s.set_value(np.ones((2, 3), "float32"))
    np.testing.assert_array_equal(s.get_value(), np.ones((1, 3)))


@needs_opencl
def test_set_value_of_a_device_array_keeps_the_static_shape():
    s = shared(np.ones(3, "float32"), shape=(3,), name="s")
    with pytest.raises(TypeError):
        s.set_value(to_device(np.ones(2, "float32"), get_context(DEFAULT)))
    np.testing.assert_array_equal(s.get_value(), [1, 1, 1])


# ---------------------------------------------------------------- placement

@needs_opencl
def test_default_placement():
    assert shared(np.ones(3, "float32")).context_name == DEFAULT
    assert shared(np.ones((2, 2), "float32")).context_name == DEFAULT
    assert shared(np.float32(1.5)).context_name == DEFAULT           # a float scalar
    assert shared(np.arange(3, dtype="int32")).context_name == DEFAULT   # an integer array
    assert shared(0).context_name == "cpu"                            # integer scalars: host
    assert shared(np.int32(3)).context_name == "cpu"
    assert shared(True).context_name == "cpu"
    assert isinstance(internal(shared(np.ones(3, "float32"))), DeviceArray)
    assert isinstance(internal(shared(0)), np.ndarray)


@needs_opencl
def test_device_value_is_a_device_array_on_the_default_context():
    s = shared(f32(1, 2, 3))
    value = internal(s)
    assert isinstance(value, DeviceArray)
    assert value.context is get_context(DEFAULT)
    assert value.context is s.context
    assert value.shape == (3,) and value.dtype == np.float32
    np.testing.assert_array_equal(value.get(), [1, 2, 3])


def test_target_cpu_keeps_the_value_on_the_host():
    s = shared(f32(1, 2, 3), target="cpu")
    assert s.context_name == "cpu"
    assert s.context is None
    assert type(internal(s)) is np.ndarray


@needs_two_opencl
def test_target_second_device():
    s = shared(f32(1, 2, 3), target=SECOND)
    assert s.context_name == SECOND
    value = internal(s)
    assert isinstance(value, DeviceArray) and value.context is get_context(SECOND)
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])
    s.set_value(f32(4, 5, 6, 7))
    assert internal(s).context is get_context(SECOND)
    np.testing.assert_array_equal(s.get_value(), [4, 5, 6, 7])
    # a function reads it wherever it lives
    np.testing.assert_array_equal(function([], s * 2)(), [8, 10, 12, 14])


@needs_opencl
def test_target_int_scalar_on_a_device():
    s = shared(np.int64(7), target=DEFAULT)
    assert s.context_name == DEFAULT
    assert isinstance(internal(s), DeviceArray)
    assert s.get_value() == 7


def test_unknown_target_raises_naming_it():
    with pytest.raises(DeviceError, match="no_such_context"):
        shared(f32(1), target="no_such_context")


@needs_two_opencl
def test_device_array_value_keeps_its_context():
    da = to_device(np.arange(4, dtype="float32"), get_context(SECOND))
    s = shared(da)
    assert s.context_name == SECOND
    assert s.type == T.TensorType("float32", (None,))
    assert internal(s).context is get_context(SECOND)
    assert internal(s) is not da                       # copied without borrow
    np.testing.assert_array_equal(s.get_value(), [0, 1, 2, 3])
    borrowed = shared(da, borrow=True)
    assert internal(borrowed) is da
    # an explicit target moves it
    moved = shared(da, target=DEFAULT)
    assert moved.context_name == DEFAULT and internal(moved).context is get_context(DEFAULT)
    np.testing.assert_array_equal(moved.get_value(), [0, 1, 2, 3])
    host = shared(da, target="cpu")
    assert host.context_name == "cpu" and type(internal(host)) is np.ndarray
    np.testing.assert_array_equal(host.get_value(), [0, 1, 2, 3])


@needs_two_opencl
def test_set_value_with_a_device_array_of_another_context_stays_on_its_own():
    s = shared(f32(1, 2, 3))
    other = to_device(f32(7, 8, 9), get_context(SECOND))
    s.set_value(other)
    assert internal(s).context is get_context(DEFAULT)
    np.testing.assert_array_equal(s.get_value(), [7, 8, 9])


@needs_opencl
def test_set_value_with_a_device_array_of_a_bad_dtype_names_the_variable():
    s = shared(f32(1, 2, 3), name="weights")
    bad = to_device(np.arange(3, dtype="int32"), get_context(DEFAULT))
    with pytest.raises(TypeError, match=r"weights.*int32"):
        s.set_value(bad)
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])


# ---------------------------------------------------------------- get_value

@pytest.mark.parametrize("target", [None, "cpu"])
def test_get_value_returns_a_copy(target):
    s = shared(f32(1, 2, 3), target=target)
    value = s.get_value()
    assert type(value) is np.ndarray and value.dtype == np.float32
    value[:] = 0
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])
    assert s.get_value() is not s.get_value()


def test_get_value_borrow_on_the_host_returns_the_stored_array():
    s = shared(f32(1, 2, 3), target="cpu")
    first = s.get_value(borrow=True)
    assert first is s.get_value(borrow=True)
    assert first is internal(s)
    state = shared(0)
    assert state.get_value(borrow=True) is state.get_value(borrow=True)
    assert state.get_value() is not state.get_value(borrow=True)


@needs_opencl
def test_get_value_borrow_on_a_device_returns_a_host_copy():
    s = shared(f32(1, 2, 3))
    value = s.get_value(borrow=True)
    assert type(value) is np.ndarray
    value[:] = 0
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])


@needs_opencl
def test_return_internal_type():
    s = shared(f32(1, 2, 3))
    same = s.get_value(borrow=True, return_internal_type=True)
    assert isinstance(same, DeviceArray)
    assert same is s.get_value(borrow=True, return_internal_type=True)
    copy = s.get_value(return_internal_type=True)
    assert isinstance(copy, DeviceArray)
    assert copy is not same and copy.block is not same.block
    assert copy.context is same.context
    np.testing.assert_array_equal(copy.get(), [1, 2, 3])
    s.set_value(f32(4, 5, 6))                   # in place: the copy keeps the old data
    np.testing.assert_array_equal(copy.get(), [1, 2, 3])
    np.testing.assert_array_equal(same.get(), [4, 5, 6])


def test_return_internal_type_on_the_host():
    s = shared(f32(1, 2), target="cpu")
    assert s.get_value(borrow=True, return_internal_type=True) is s.get_value(borrow=True)
    copy = s.get_value(return_internal_type=True)
    assert type(copy) is np.ndarray and copy is not s.get_value(borrow=True)


# ---------------------------------------------------------------- set_value

def test_set_value_copies_on_the_host_unless_borrowed():
    s = shared(f32(1, 2), target="cpu")
    data = f32(5, 6)
    s.set_value(data)
    data += 1
    np.testing.assert_array_equal(s.get_value(), [5, 6])
    assert s.get_value(borrow=True) is not data
    s.set_value(data, borrow=True)
    assert s.get_value(borrow=True) is data
    data += 1
    np.testing.assert_array_equal(s.get_value(), [7, 8])


@needs_opencl
def test_set_value_borrow_on_a_device_does_not_alias():
    s = shared(f32(1, 2))
    data = f32(5, 6)
    s.set_value(data, borrow=True)
    data += 1
    np.testing.assert_array_equal(s.get_value(), [5, 6])


@needs_opencl
def test_set_value_of_the_same_shape_overwrites_in_place():
    s = shared(f32(1, 2, 3))
    before = internal(s)
    block = before.block
    s.set_value(f32(4, 5, 6))
    after = internal(s)
    assert after is before
    assert after.block is block
    np.testing.assert_array_equal(s.get_value(), [4, 5, 6])
    np.testing.assert_array_equal(before.get(), [4, 5, 6])


@needs_opencl
def test_set_value_of_another_shape_replaces_the_device_array():
    s = shared(f32(1, 2, 3))
    before = internal(s)
    s.set_value(f32(4, 5, 6, 7))
    after = internal(s)
    assert after is not before
    assert isinstance(after, DeviceArray) and after.shape == (4,)
    assert after.context is before.context
    np.testing.assert_array_equal(s.get_value(), [4, 5, 6, 7])
    np.testing.assert_array_equal(before.get(), [1, 2, 3])


@pytest.mark.parametrize("target", [None, "cpu"])
def test_set_value_with_python_data(target):
    s = shared(f32(1, 2), target=target)
    s.set_value([3, 4])
    value = s.get_value()
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, [3, 4])


@pytest.mark.parametrize("target", [None, "cpu"])
def test_set_value_with_a_bad_dtype_or_ndim_raises_and_keeps_the_value(target):
    s = shared(f32(1, 2, 3), name="s", target=target)
    with pytest.raises(TypeError, match=r"TensorType\(float32, vector\) cannot store a value of dtype "
                                        r"float64"):
        s.set_value(np.ones(3))
    with pytest.raises(TypeError, match=r"TensorType\(float32, vector\) expects 1 dimensions, got a "
                                        r"value with 2"):
        s.set_value(np.ones((3, 3), "float32"))
    with pytest.raises(TypeError):
        s.set_value([1.5, object()])
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])


@pytest.mark.parametrize("target", [None, "cpu"])
def test_set_value_error_names_the_variable(target):
    s = shared(f32(1, 2, 3), name="my_weights", target=target)
    with pytest.raises(TypeError, match=r"shared variable my_weights.*dtype float64"):
        s.set_value(np.ones(3))
    with pytest.raises(TypeError, match=r"shared variable my_weights.*expects 1 dimensions"):
        s.set_value(np.ones((3, 3), "float32"))
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])


def test_set_value_downcast_with_allow_downcast():
    s = shared(f32(1, 2), allow_downcast=True, target="cpu")
    s.set_value(np.array([1.5, 2.5]))
    assert s.get_value().dtype == np.float32
    np.testing.assert_array_equal(s.get_value(), [1.5, 2.5])


# ---------------------------------------------------------------- the seed's borrow example

def test_seed_borrow_example_on_the_host():
    np_array = np.ones(2, dtype="float32")
    s_default = shared(np_array, target="cpu")
    s_false = shared(np_array, borrow=False, target="cpu")
    s_true = shared(np_array, borrow=True, target="cpu")
    np_array += 1
    np.testing.assert_array_equal(s_default.get_value(), [1.0, 1.0])
    np.testing.assert_array_equal(s_false.get_value(), [1.0, 1.0])
    np.testing.assert_array_equal(s_true.get_value(), [2.0, 2.0])


@needs_opencl
def test_seed_borrow_example_on_a_device():
    np_array = np.ones(2, dtype="float32")
    s_default = shared(np_array)
    s_false = shared(np_array, borrow=False)
    s_true = shared(np_array, borrow=True)
    assert s_true.context_name == DEFAULT
    np_array += 1
    for s in (s_default, s_false, s_true):
        np.testing.assert_array_equal(s.get_value(), [1.0, 1.0])


def test_seed_manual_update_form():
    # seed: s.set_value(some_inplace_fn(s.get_value(borrow=True)), borrow=True)
    for target in ([None, "cpu"] if OPENCL_DEVICES else ["cpu"]):
        s = shared(f32(1, 2), target=target)
        s.set_value(np.multiply(s.get_value(borrow=True), 3, out=s.get_value(borrow=True)), borrow=True)
        np.testing.assert_array_equal(s.get_value(), [3, 6])


# ---------------------------------------------------------------- errors and graphs

@pytest.mark.parametrize("value", ["abc", None, [object()], {"a": 1}, 1 + 2j])
def test_shared_of_non_numeric_data_raises(value):
    with pytest.raises(TypeError, match="numeric"):
        shared(value)


def test_shared_of_a_shared_variable_raises():
    s = shared(f32(1), name="s")
    with pytest.raises(TypeError, match="shared variable s"):
        shared(s)


@pytest.mark.parametrize("target", [None, "cpu"])
def test_shared_variables_in_eval_use_their_value(target):
    s = shared(f32(1, 2, 3), name="s", target=target)
    np.testing.assert_array_equal((s * 2).eval(), [2, 4, 6])
    s.set_value(f32(4, 5, 6))
    np.testing.assert_array_equal((s * 2).eval(), [8, 10, 12])
    v = T.vector("v", dtype="float32")
    np.testing.assert_array_equal((s + v).eval({v: f32(1, 1, 1)}), [5, 6, 7])
    # a value given to eval replaces the shared value for that evaluation only
    np.testing.assert_array_equal((s + v).eval({v: f32(0, 0, 0), s: f32(1, 1, 1)}), [1, 1, 1])
    np.testing.assert_array_equal(s.get_value(), [4, 5, 6])


def test_int_scalar_shared_in_eval():
    state = shared(0)
    state.set_value(5)
    assert (state + 1).eval() == 6


def test_shared_value_is_a_copy_at_creation():
    data = f32(1, 2)
    for target in ([None, "cpu"] if OPENCL_DEVICES else ["cpu"]):
        s = shared(data, target=target)
        data[0] = 100
        np.testing.assert_array_equal(s.get_value(), [1, 2])
        data[0] = 1


def test_clgraph_exports():
    assert clgraph.shared is shared
    assert clgraph.function is function
