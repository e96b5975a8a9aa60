"""clgraph.function: inputs, outputs, In/Param/Out, updates, givens, errors, modes.

The seeds' examples (Theano renamed clgraph) are the specification: Param defaults
(34.0, 35.0, 36.0), the accumulator/decrementor, skip_shared with givens, the downcast
error, In/Out with borrow, and the exp example of the borrow section.
"""
import re
import warnings

import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import In, Out, Param, function, shared
from conftest import OPENCL_DEVICES

needs_opencl = pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")
TARGETS = [None, "cpu"]   # None: the default placement (a device for float arrays)


def f32(*values):
    return np.array(values, dtype="float32")


def fvector(name):
    return T.vector(name, dtype="float32")


# ---------------------------------------------------------------- outputs and inputs

def test_single_output_returns_a_value_and_list_returns_a_list():
    x = fvector("x")
    single = function([x], x * 2)
    listed = function([x], [x * 2])
    several = function([x], [x * 2, x + 1])
    out = single(f32(1, 2))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [2, 4])
    out = listed(f32(1, 2))
    assert isinstance(out, list) and len(out) == 1
    np.testing.assert_array_equal(out[0], [2, 4])
    a, b = several(f32(1, 2))
    np.testing.assert_array_equal(a, [2, 4])
    np.testing.assert_array_equal(b, [2, 3])


def test_tuple_of_outputs_returns_a_list():
    x = fvector("x")
    out = function([x], (x * 2, x * 3))(f32(1))
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_array_equal(out[1], [3])


def test_no_outputs_with_updates_only():
    s = shared(np.int64(5), name="s")
    inc = T.lscalar("inc")
    f = function([inc], updates=[(s, s + inc)])
    assert f(3) == []
    assert s.get_value() == 8
    g = function([inc], [], updates={s: s - inc})
    assert g(8) == []
    assert s.get_value() == 0


def test_inputs_by_position_and_by_keyword_name():
    x, y = T.dscalars("x", "y")
    f = function([x, y], x - y)
    assert f(5, 3) == 2
    assert f(x=5, y=3) == 2
    assert f(y=3, x=5) == 2
    assert f(5, y=3) == 2


def test_single_input_not_in_a_list():
    x = T.dscalar("x")
    f = function(x, x * 3)
    assert f(2) == 6


def test_seed_param_default_and_name():
    # seed: f = function([x, Param(y, default=1, name='by_name')], z)
    x, y = T.dscalars("x", "y")
    z = x + y
    f = function([x, Param(y, default=1, name="by_name")], z)
    assert f(33) == 34.0
    assert f(33, 2) == 35.0
    assert f(33, by_name=3) == 36.0
    assert isinstance(f(33), np.ndarray) and f(33).dtype == np.float64


def test_in_value_and_name():
    x, y, w = T.dscalars("x", "y", "w")
    f = function([x, In(y, value=10), In(w, value=100, name="weight")], x + y * w)
    assert f(1) == 1 + 10 * 100
    assert f(1, 2) == 1 + 2 * 100
    assert f(1, weight=3) == 1 + 10 * 3
    assert f(1, y=2, weight=3) == 7
    # a default does not stick after a call that overrode it
    assert f(1) == 1001


def test_seed_single_in_and_single_out_with_borrow():
    # seed: f = theano.function(theano.In(x, borrow=True), theano.Out(y, borrow=True))
    x = T.matrix()
    y = 2 * x
    f = function(In(x, borrow=True), Out(y, borrow=True))
    data = np.arange(6, dtype=clgraph.config.floatX).reshape(2, 3)
    out = f(data)
    assert isinstance(out, np.ndarray)          # a single Out: one value, not a list
    np.testing.assert_array_equal(out, 2 * np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(f(data + 1), 2 * (np.arange(6).reshape(2, 3) + 1))


def test_out_borrow_in_a_list():
    x = fvector("x")
    f = function([x], [Out(x * 2, borrow=True), x + 1])
    a, b = f(f32(1, 2))
    np.testing.assert_array_equal(a, [2, 4])
    np.testing.assert_array_equal(b, [2, 3])


# ---------------------------------------------------------------- updates

def test_seed_accumulator_and_decrementor():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    assert accumulator(1) == 0                  # outputs see the value before the update
    assert state.get_value() == 1
    accumulator(300)
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1
    assert state.get_value() == 2
    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert decrementor(2) == 2
    assert state.get_value() == 0


def test_seed_skip_shared_with_givens():
    state = shared(0)
    inc = T.iscalar("inc")
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0
    state.set_value(10)
    assert skip_shared(1, 3) == 7               # the shared value is not read at all
    assert state.get_value() == 10


def test_givens_replace_an_input_variable():
    x, y = T.dscalars("x", "y")
    z = x + y
    f = function([x], z, givens={y: x * 10})
    assert f(2) == 22
    g = function([x], z, givens=[(y, 5.0)])
    assert g(2) == 7


@pytest.mark.parametrize("target", TARGETS)
def test_updates_dict_and_list_forms(target):
    a = shared(f32(1, 2), name="a", target=target)
    b = shared(f32(10, 20), name="b", target=target)
    f = function([], [], updates={a: a + 1, b: b * 2})
    f()
    np.testing.assert_array_equal(a.get_value(), [2, 3])
    np.testing.assert_array_equal(b.get_value(), [20, 40])
    g = function([], [], updates=[(a, a - 1), (b, b / 2)])
    g()
    np.testing.assert_array_equal(a.get_value(), [1, 2])
    np.testing.assert_array_equal(b.get_value(), [10, 20])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("form", ["plain", "a_computed", "b_computed"])
def test_updates_are_applied_all_at_once_swap(target, form):
    a = shared(f32(1, 2), name="a", target=target)
    b = shared(f32(3, 4), name="b", target=target)
    new_a, new_b = {"plain": (b, a), "a_computed": (b * 1, a), "b_computed": (b, a * 1)}[form]
    swap = function([], [], updates={a: new_a, b: new_b})
    swap()
    np.testing.assert_array_equal(a.get_value(), [3, 4])
    np.testing.assert_array_equal(b.get_value(), [1, 2])
    swap()
    np.testing.assert_array_equal(a.get_value(), [1, 2])
    np.testing.assert_array_equal(b.get_value(), [3, 4])


@pytest.mark.parametrize("target", TARGETS)
def test_outputs_see_values_before_the_updates(target):
    a = shared(f32(1, 2), name="a", target=target)
    b = shared(f32(10, 20), name="b", target=target)
    f = function([], [a + b, a * 2, b], updates=[(a, a + 100), (b, a)])
    s, d, old_b = f()
    np.testing.assert_array_equal(s, [11, 22])
    np.testing.assert_array_equal(d, [2, 4])
    np.testing.assert_array_equal(old_b, [10, 20])
    np.testing.assert_array_equal(a.get_value(), [101, 102])
    np.testing.assert_array_equal(b.get_value(), [1, 2])


def test_shared_variables_updated_by_two_functions():
    state = shared(0)
    inc = T.iscalar("inc")
    up = function([inc], [], updates={state: state + inc})
    down = function([inc], [], updates={state: state - inc})
    up(5)
    down(2)
    up(10)
    assert state.get_value() == 13


@pytest.mark.parametrize("target", TARGETS)
def test_update_does_not_alias_another_shared_variable(target):
    # seed (memory model): the memory of a shared variable is its own; it is never
    # given to another shared variable.
    a = shared(f32(1, 2), name="a", target=target)
    b = shared(f32(3, 4), name="b", target=target)
    copy = function([], [], updates={a: b})
    copy()
    np.testing.assert_array_equal(a.get_value(), [3, 4])
    if target == "cpu":
        assert not np.shares_memory(a.get_value(borrow=True), b.get_value(borrow=True))
    else:
        assert (a.get_value(borrow=True, return_internal_type=True) is not
                b.get_value(borrow=True, return_internal_type=True))
    b.set_value(f32(7, 8))
    np.testing.assert_array_equal(a.get_value(), [3, 4])


@pytest.mark.parametrize("target", TARGETS)
def test_update_from_an_input_does_not_alias_the_callers_array(target):
    # In(x) without borrow: the caller's array stays the caller's.
    a = shared(f32(0, 0), name="a", target=target)
    x = fvector("x")
    f = function([x], [], updates={a: x})
    data = f32(5, 6)
    f(data)
    data += 1
    np.testing.assert_array_equal(a.get_value(), [5, 6])


# ---------------------------------------------------------------- returned arrays

@pytest.mark.parametrize("target", TARGETS)
def test_returned_array_of_a_shared_variable_is_the_callers(target):
    s = shared(f32(1, 2, 3), name="s", target=target)
    f = function([], s)
    out = f()
    out[:] = 99
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])
    np.testing.assert_array_equal(f(), [1, 2, 3])


@pytest.mark.parametrize("target", TARGETS)
def test_returned_view_of_a_shared_variable_is_the_callers(target):
    s = shared(f32(1, 2, 3), name="s", target=target)
    f = function([], [s[1:], s * 2])
    view, doubled = f()
    view[:] = 99
    doubled[:] = 99
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])
    a, b = f()
    np.testing.assert_array_equal(a, [2, 3])
    np.testing.assert_array_equal(b, [2, 4, 6])


def test_returned_computed_array_does_not_change_the_next_result():
    x = fvector("x")
    f = function([x], x * 2)
    out = f(f32(1, 2))
    out[:] = 0
    np.testing.assert_array_equal(f(f32(1, 2)), [2, 4])


def test_returned_constant_output_is_the_callers():
    x = fvector("x")
    c = T.constant(np.arange(3, dtype="float32"))
    f = function([x], [x * 2, c * 2, c], on_unused_input="ignore")
    _, doubled, const = f(f32(1, 1, 1))
    doubled[:] = 99
    const[:] = 99
    _, doubled, const = f(f32(1, 1, 1))
    np.testing.assert_array_equal(doubled, [0, 2, 4])
    np.testing.assert_array_equal(const, [0, 1, 2])


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_constant_output_has_its_value(mode):
    x = fvector("x")
    c = T.constant(np.arange(3, dtype="float32"))
    doubled, const = function([x], [x * 2, c], mode=mode, on_unused_input="ignore")(f32(1, 2))
    np.testing.assert_array_equal(doubled, [2, 4])
    np.testing.assert_array_equal(const, [0, 1, 2])
    np.testing.assert_array_equal(function([], c, mode=mode)(), [0, 1, 2])


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_update_to_a_constant_value(mode):
    state = shared(0)
    function([], [], updates={state: 5}, mode=mode)()
    assert state.get_value() == 5
    s = shared(np.zeros(3, "float32"), name="s")
    function([], [], updates={s: np.ones(3, "float32")}, mode=mode)()
    np.testing.assert_array_equal(s.get_value(), [1, 1, 1])


def test_output_that_is_an_input_or_its_view_is_copied():
    x = fvector("x")
    f = function([x], [x, x[1:], x.dimshuffle("x", 0)])
    data = f32(1, 2, 3)
    same, tail, row = f(data)
    for out in (same, tail, row):
        assert not np.shares_memory(out, data)
    same[:] = 0
    tail[:] = 0
    row[:] = 0
    np.testing.assert_array_equal(data, [1, 2, 3])


# ---------------------------------------------------------------- errors

def test_seed_downcast_error_names_the_function_and_index():
    # seed: TypeError: ('Bad input argument to theano function with name "<stdin>:1"
    #   at index 0(0-based)', 'TensorType(float32, matrix) cannot store a value of dtype
    #   float64 without risking loss of precision. ...')
    x = T.matrix(dtype="float32")
    y = T.matrix(dtype="float32")
    addition = function([x, y], [x + y], name="addition")
    with pytest.raises(TypeError) as info:
        addition(np.ones((2, 2)), np.zeros((2, 2)))
    message = str(info.value)
    assert re.search(r'Bad input argument to clgraph function with name "addition"\s*at index 0\s*\(0-based\)',
                     message), message
    assert ("TensorType(float32, matrix) cannot store a value of dtype float64 without risking loss "
            "of precision") in message
    assert 'set "allow_input_downcast=True" when calling "function"' in message


def test_downcast_error_without_name_gives_the_index():
    x = T.matrix("x", dtype="float32")
    y = T.matrix("y", dtype="float32")
    addition = function([x, y], [x + y])
    with pytest.raises(TypeError, match=r"Bad input argument to clgraph function.*at index 1 \(0-based\)"
                                        r".*variable y.*cannot store a value of dtype float64"):
        addition(np.ones((2, 2), dtype="float32"), np.zeros((2, 2)))
    # the right dtype works (seed), and so does the same function afterwards
    out = addition(np.ones((2, 2), dtype="float32"), np.diag((2, 3)).astype("float32"))
    assert isinstance(out, list)
    np.testing.assert_array_equal(out[0], [[3, 1], [1, 4]])
    assert out[0].dtype == np.float32


def test_seed_allow_input_downcast():
    x = T.matrix(dtype="float32")
    y = T.matrix(dtype="float32")
    addition = function([x, y], [x + y], allow_input_downcast=True)
    out = addition(np.ones((2, 2)), np.zeros((2, 2)))
    assert out[0].dtype == np.float32
    np.testing.assert_array_equal(out[0], np.ones((2, 2)))


def test_in_allow_downcast_per_input():
    x = fvector("x")
    y = fvector("y")
    f = function([In(x, allow_downcast=True), y], x + y)
    np.testing.assert_array_equal(f(np.ones(2), f32(1, 1)), [2, 2])
    with pytest.raises(TypeError, match="at index 1"):
        f(np.ones(2), np.ones(2))


def test_wrong_ndim_error():
    x = T.matrix("x", dtype="float32")
    f = function([x], x * 2)
    with pytest.raises(TypeError, match=r"at index 0 \(0-based\), variable x.*expects 2 dimensions, "
                                        r"got a value with 1"):
        f(f32(1, 2))


def test_wrong_static_shape_error():
    z = T.tensor("float32", (2, None), "z")
    f = function([z], z * 2)
    with pytest.raises(TypeError, match=r"variable z.*static shape \(2, None\).*shape \(3, 2\)"):
        f(np.ones((3, 2), dtype="float32"))
    np.testing.assert_array_equal(f(np.ones((2, 5), dtype="float32")), 2 * np.ones((2, 5)))


def test_call_argument_errors():
    x, y = T.dscalars("x", "y")
    f = function([x, y], x + y, name="adder")
    with pytest.raises(TypeError, match=r"unknown keyword argument 'foo'.*'x', 'y'"):
        f(1, 2, foo=3)
    with pytest.raises(TypeError, match=r"input 'x' both by position and by name"):
        f(1, 2, x=3)
    with pytest.raises(TypeError, match=r"missing a value for input y"):
        f(1)
    with pytest.raises(TypeError, match=r"missing a value for input x"):
        f(y=1)
    with pytest.raises(TypeError, match=r"takes 2 inputs, got 3"):
        f(1, 2, 3)
    with pytest.raises(TypeError, match='"adder"'):
        f(1, 2, 3)
    assert f(1, 2) == 3


def test_param_name_replaces_the_variable_name():
    x, y = T.dscalars("x", "y")
    f = function([x, Param(y, default=1, name="by_name")], x + y)
    with pytest.raises(TypeError, match="unknown keyword argument 'y'"):
        f(1, y=2)


def test_same_variable_twice_among_inputs():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="appears twice among the inputs"):
        function([x, x], x * 2)


def test_shared_variable_as_explicit_input():
    s = shared(f32(1, 2), name="s")
    with pytest.raises(TypeError, match=r"input 0 \(s\) is a shared variable.*givens"):
        function([s], s * 2)


def test_update_of_a_non_shared_variable():
    x = fvector("x")
    with pytest.raises(TypeError, match=r"updates: x is not a shared variable"):
        function([x], x, updates=[(x, x * 2)])


def test_update_type_mismatch_names_both_types():
    s = shared(f32(1, 2), name="s")
    x = fvector("x")
    with pytest.raises(TypeError) as info:
        function([x], x, updates=[(s, T.cast(x, "float64"))])
    message = str(info.value)
    assert "updates: s has type TensorType(float32, vector)" in message
    assert "TensorType(float64, vector)" in message
    m = T.matrix("m", dtype="float32")
    with pytest.raises(TypeError, match=r"s has type TensorType\(float32, vector\).*"
                                        r"TensorType\(float32, matrix\)"):
        function([m], [], updates={s: m})


def test_shared_variable_updated_twice():
    s = shared(f32(1, 2), name="s")
    with pytest.raises(ValueError, match="updated twice"):
        function([], [], updates=[(s, s + 1), (s, s + 2)])


def test_updates_of_a_bad_form():
    s = shared(f32(1, 2), name="s")
    with pytest.raises(TypeError, match="list of"):
        function([], [], updates=[s])


def test_unused_input_raise_warn_ignore():
    v, w = fvector("v"), fvector("w")
    with pytest.raises(ValueError, match=r"do not depend on input w.*on_unused_input"):
        function([v, w], v * 2)
    with pytest.raises(ValueError, match=r"input w"):
        function([v, w], v * 2, on_unused_input="raise")
    with pytest.warns(UserWarning, match=r"do not depend on input w"):
        f = function([v, w], v * 2, on_unused_input="warn")
    np.testing.assert_array_equal(f(f32(1, 2), f32(0)), [2, 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = function([v, w], v * 2, on_unused_input="ignore")
    np.testing.assert_array_equal(g(f32(1), f32(5, 5)), [2])


def test_input_used_only_by_an_update_is_used():
    s = shared(f32(0, 0), name="s")
    x = fvector("x")
    f = function([x], [], updates={s: s + x})
    f(f32(1, 2))
    np.testing.assert_array_equal(s.get_value(), [1, 2])


def test_unknown_mode_name():
    x = fvector("x")
    with pytest.raises(ValueError, match=r"unknown mode 'NO_SUCH_MODE'"):
        function([x], x * 2, mode="NO_SUCH_MODE")


# ---------------------------------------------------------------- failed calls change nothing

@pytest.mark.parametrize("target", TARGETS)
def test_failed_argument_check_leaves_shared_unchanged(target):
    s = shared(f32(1, 2), name="s", target=target)
    x = fvector("x")
    f = function([x], s + x, updates={s: s + x})
    with pytest.raises(TypeError):
        f(np.ones(2))            # float64 into float32
    with pytest.raises(TypeError):
        f(f32(1, 2), f32(1))     # too many arguments
    np.testing.assert_array_equal(s.get_value(), [1, 2])
    np.testing.assert_array_equal(f(f32(1, 1)), [2, 3])
    np.testing.assert_array_equal(s.get_value(), [2, 3])


@pytest.mark.parametrize("target", TARGETS)
def test_run_time_failure_leaves_shared_unchanged(target):
    s = shared(f32(1, 2), name="s", target=target)
    n = shared(np.int64(0), name="n")
    v, w = fvector("v"), fvector("w")
    f = function([v, w], v + w, updates=[(n, n + 1), (s, s * 2)])
    with pytest.raises(ValueError, match=r"shapes \(2,\), \(3,\)"):
        f(f32(1, 2), f32(1, 2, 3))
    np.testing.assert_array_equal(s.get_value(), [1, 2])
    assert n.get_value() == 0
    np.testing.assert_array_equal(f(f32(1, 2), f32(3, 4)), [4, 6])
    np.testing.assert_array_equal(s.get_value(), [2, 4])
    assert n.get_value() == 1


@pytest.mark.parametrize("target", TARGETS)
def test_update_value_refused_by_its_shared_changes_no_other_shared(target):
    # The update of b computes fine but its value does not fit b's static shape:
    # the call fails, and no shared variable (a included) may change.
    a = shared(np.zeros(3, "float32"), name="a", target=target)
    b = shared(np.zeros(3, "float32"), name="b", shape=(3,), target=target)
    x = fvector("x")
    f = function([x], [], updates=[(a, a + 1), (b, x)])
    with pytest.raises(Exception):
        f(f32(1, 1))
    np.testing.assert_array_equal(a.get_value(), [0, 0, 0])
    np.testing.assert_array_equal(b.get_value(), [0, 0, 0])
    f(f32(1, 1, 1))
    np.testing.assert_array_equal(a.get_value(), [1, 1, 1])
    np.testing.assert_array_equal(b.get_value(), [1, 1, 1])


# ---------------------------------------------------------------- modes and the graph

def _mode_graph():
    x = T.matrix("x", dtype="float32")
    s = shared(np.arange(3, dtype="float32"), name="s")
    return x, s, [T.exp(x) * s + 1, (x * 2).sum(), x.T]


def test_fast_compile_and_fast_run_agree():
    data = np.arange(6, dtype="float32").reshape(2, 3) / 5
    results = {}
    for mode in ["FAST_COMPILE", "FAST_RUN", None, clgraph.Mode()]:
        x, s, outs = _mode_graph()
        results[str(mode)] = function([x], outs, mode=mode)(data)
    expected = [np.exp(data) * np.arange(3, dtype="float32") + 1, (data * 2).sum(), data.T]
    for name, got in results.items():
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-6, err_msg=name)


def test_fast_compile_mode_name_is_kept():
    x = fvector("x")
    f = function([x], x * 2, mode="FAST_COMPILE")
    assert f.maker.mode.name == "FAST_COMPILE"
    assert function([x], x * 2, mode="FAST_RUN").maker.mode.name == "FAST_RUN"


def test_toposort_lists_the_nodes():
    x = fvector("x")
    f = function([x], T.exp(x) + x)
    nodes = f.maker.fgraph.toposort()
    assert nodes and all(hasattr(node, "op") and node.outputs for node in nodes)
    assert len(nodes) == len(set(map(id, nodes)))
    # the last node computes the output
    assert f.maker.fgraph.outputs[0].owner is nodes[-1]
    # topological: every node's inputs are computed by an earlier node or are graph inputs
    seen = set(map(id, f.maker.fgraph.inputs))
    for node in nodes:
        for inp in node.inputs:
            assert id(inp) in seen or inp.owner is None
        seen.update(map(id, node.outputs))


def test_seed_exp_example_with_a_shared_vector():
    vlen = 10 * 30 * 768
    assert vlen == 230400
    rng = np.random.RandomState(22)
    x = shared(np.asarray(rng.rand(vlen), "float32"))
    f1 = function([], T.exp(x))
    f2 = function([], Out(T.exp(x), borrow=True))
    r1, r2 = f1(), f2()
    assert r1.shape == (vlen,) and r1.dtype == np.float32
    np.testing.assert_allclose(r1[:3], [1.23178029, 1.61879337, 1.52278066], rtol=1e-6)
    np.testing.assert_allclose(r2, r1, rtol=1e-6)
    # the seed's test of where it ran; with a device it prints 'Used the gpu'
    used_the_cpu = np.any([isinstance(node.op, T.Elemwise) and "Gpu" not in type(node.op).__name__
                           for node in f1.maker.fgraph.toposort()])
    assert used_the_cpu == (not OPENCL_DEVICES)


@needs_opencl
def test_device_shared_value_in_a_function_on_the_default_context():
    s = shared(f32(1, 2, 3), name="s")
    assert s.context_name == OPENCL_DEVICES[0]
    f = function([], s * 2, updates={s: s + 1})
    first = f()
    assert type(first) is np.ndarray and first.dtype == np.float32
    np.testing.assert_array_equal(first, [2, 4, 6])
    np.testing.assert_array_equal(f(), [4, 6, 8])
    np.testing.assert_array_equal(s.get_value(), [3, 4, 5])
    assert s.context_name == OPENCL_DEVICES[0]


def test_function_repr_and_name():
    x = fvector("x")
    f = function([x], x * 2, name="doubler")
    assert f.name == "doubler"
    assert "doubler" in repr(f)
