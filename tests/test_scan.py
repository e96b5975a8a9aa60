"""clgraph.scan: the source documents' scan examples (``theano`` renamed ``clgraph``), taps,
go_backwards, n_steps, until, updates of shared variables, the helpers, the errors, and
on the device: the loop keeps its state there and compiles its step once.

Each example runs on the host reference (FAST_COMPILE) and on the default device
context (the default mode), compared with numpy.
"""
import builtins

import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import config
from clgraph.backends import get_context
from clgraph.backends.context import Context
from clgraph.printing import debugprint
from clgraph.compile import function as function_module

MODES = ["FAST_COMPILE", None]

on_a_device = pytest.mark.skipif(get_context().api == "cpu", reason="the default context is the host")


@pytest.fixture(params=MODES, ids=["host", "device"])
def mode(request):
    return request.param


def compiled(inputs, outputs, mode, **kwargs):
    return clgraph.function(inputs, outputs, mode=mode, **kwargs)


# the source documents' examples ------------------------------------------------------------

def test_power_a_to_the_k_keeps_the_last_step(mode):
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = clgraph.scan(fn=lambda prior_result, A: prior_result * A,
                                   outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    final_result = result[-1]
    power = compiled([A, k], final_result, mode, updates=updates)
    np.testing.assert_allclose(power(range(10), 2), np.arange(10.0) ** 2)
    np.testing.assert_allclose(power(range(10), 4), np.arange(10.0) ** 4)
    every_step = compiled([A, k], result, mode)
    np.testing.assert_allclose(every_step([1, 2, 3], 3), [[1, 2, 3], [1, 4, 9], [1, 8, 27]])


def test_polynomial_from_coefficients_and_arange(mode):
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000
    components, updates = clgraph.scan(
        fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
        outputs_info=None, sequences=[coefficients, T.arange(max_coefficients_supported)], non_sequences=x)
    polynomial = components.sum()
    calculate_polynomial = compiled([coefficients, x], polynomial, mode)
    test_coefficients = np.asarray([1, 0, 2], dtype=np.float32)
    assert calculate_polynomial(test_coefficients, 3) == pytest.approx(1.0 * (3 ** 0) + 0.0 * (3 ** 1) + 2.0 * (3 ** 2))


def test_triangular_numbers_by_accumulation(mode):
    up_to = T.iscalar("up_to")

    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val

    seq = T.arange(up_to)
    outputs_info = T.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, scan_updates = clgraph.scan(fn=accumulate_by_adding, outputs_info=outputs_info, sequences=seq)
    triangular_sequence = compiled([up_to], scan_result, mode)
    np.testing.assert_array_equal(triangular_sequence(15), [n * (n + 1) // 2 for n in range(15)])


def test_the_pitfall_an_initial_state_of_another_dtype_names_the_output_and_both_types():
    up_to = T.iscalar("up_to")
    seq = T.arange(up_to)
    with pytest.raises(TypeError) as error:
        clgraph.scan(fn=lambda arange_val, sum_to_date: sum_to_date + arange_val,
                     outputs_info=T.as_tensor_variable(0), sequences=seq)
    message = str(error.value)
    assert "scan output 0" in message and "outputs_info[0]" in message
    assert "TensorType(int8, scalar)" in message and "TensorType(int64, scalar)" in message


def test_an_initial_state_of_another_rank_is_refused():
    a = T.matrix("a")
    with pytest.raises(TypeError, match=r"scan output 0.*TensorType\(float64, scalar\).*TensorType\(float64, vector\)"):
        clgraph.scan(lambda row, prior: prior + row, sequences=a, outputs_info=T.constant(0.0))


def test_set_value_at_position_with_set_subtensor_in_the_step(mode):
    location = T.imatrix("location")
    values = T.vector("values")
    output_model = T.matrix("output_model")

    def set_value_at_position(a_location, a_value, output_model):
        zeros = T.zeros_like(output_model)
        zeros_subtensor = zeros[a_location[0], a_location[1]]
        return T.set_subtensor(zeros_subtensor, a_value)

    result, updates = clgraph.scan(fn=set_value_at_position, outputs_info=None,
                                   sequences=[location, values], non_sequences=output_model)
    assign_values_at_positions = compiled([location, values, output_model], result, mode)
    test_locations = np.asarray([[1, 1], [2, 3]], dtype=np.int32)
    test_values = np.asarray([42, 50], dtype=np.float32)
    test_output_model = np.zeros((5, 5), dtype=np.float32)
    expected = np.zeros((2, 5, 5))
    expected[0, 1, 1], expected[1, 2, 3] = 42, 50
    np.testing.assert_array_equal(assign_values_at_positions(test_locations, test_values, test_output_model),
                                  expected)


def test_updates_of_a_shared_variable_returned_by_the_step(mode):
    a = clgraph.shared(1)
    values, updates = clgraph.scan(lambda: {a: a + 1}, n_steps=10)
    assert values is None
    b = a + 1
    c = updates[a] + 1
    f = compiled([], [b, c], mode, updates=updates)
    assert [int(v) for v in f()] == [2, 12] and a.get_value() == 11
    assert [int(v) for v in f()] == [12, 22] and a.get_value() == 21
    a.set_value(1)
    without_updates = compiled([], [b, c], mode)
    assert [int(v) for v in without_updates()] == [2, 12] and a.get_value() == 1


def test_several_taps_recurrent_network_forward(mode):
    rng = np.random.RandomState(3)
    n_in, n_hid, n_out = 3, 4, 2
    W, W_in_1, W_in_2, W_feedback, W_out = [clgraph.shared(rng.uniform(-0.5, 0.5, shape)) for shape in [
        (n_hid, n_hid), (n_in, n_hid), (n_in, n_hid), (n_out, n_hid), (n_hid, n_out)]]

    def oneStep(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):
        x_t = T.tanh(clgraph.tensor.dot(x_tm1, W) + clgraph.tensor.dot(u_t, W_in_1)
                     + clgraph.tensor.dot(u_tm4, W_in_2) + clgraph.tensor.dot(y_tm1, W_feedback))
        y_t = clgraph.tensor.dot(x_tm3, W_out)
        return [x_t, y_t]

    u = T.matrix()    # it is a sequence of vectors
    x0 = T.matrix()   # initial state of x has to be a matrix, since it has to cover x[-3]
    y0 = T.vector()   # y0 is just a vector since scan has only to provide y[-1]
    ([x_vals, y_vals], updates) = clgraph.scan(fn=oneStep, sequences=dict(input=u, taps=[-4, -0]),
                                               outputs_info=[dict(initial=x0, taps=[-3, -1]), y0],
                                               non_sequences=[W, W_in_1, W_in_2, W_feedback, W_out], strict=True)
    f = compiled([u, x0, y0], [x_vals, y_vals], mode, updates=updates)
    u_v, x0_v, y0_v = rng.rand(9, n_in), rng.rand(3, n_hid), rng.rand(n_out)
    w, w1, w2, wf, wo = (s.get_value() for s in (W, W_in_1, W_in_2, W_feedback, W_out))
    xs, ys = list(x0_v), [y0_v]
    for t in range(9 - 4):
        xs.append(np.tanh(xs[-1] @ w + u_v[t + 4] @ w1 + u_v[t] @ w2 + ys[-1] @ wf))
        ys.append(xs[-4] @ wo)
    x_got, y_got = f(u_v, x0_v, y0_v)
    np.testing.assert_allclose(x_got, xs[3:], rtol=1e-10)
    np.testing.assert_allclose(y_got, ys[1:], rtol=1e-10)


def test_power_of_2_repeats_until_its_condition(mode):
    def power_of_2(previous_power, max_value):
        return previous_power * 2, clgraph.scan_module.until(previous_power * 2 > max_value)

    max_value = T.scalar()
    values, _ = clgraph.scan(power_of_2, outputs_info=T.constant(1.), non_sequences=max_value, n_steps=1024)
    f = compiled([max_value], values, mode)
    np.testing.assert_array_equal(f(45), [2, 4, 8, 16, 32, 64])
    np.testing.assert_array_equal(f(0.5), [2])
    assert clgraph.until is clgraph.scan_module.until


def test_the_book_examples_over_rows_and_with_a_non_sequence(mode):
    with config.change_flags(floatX="float32"):
        a = T.matrix()
        results, updates = clgraph.scan(lambda x: x + 1, sequences=a)
        f = compiled([a], results, mode, updates=updates)
        np.testing.assert_array_equal(f(np.ones((2, 3)).astype(config.floatX)), np.full((2, 3), 2, np.float32))

        a, s0 = T.vector(), T.scalar("s0")
        results, updates = clgraph.scan(fn=lambda current_element, prior: prior + current_element,
                                        outputs_info=s0, sequences=a)
        f = compiled([a, s0], results, mode, updates=updates)
        np.testing.assert_array_equal(f([0, 3, 5], 0), np.asarray([0, 3, 8], np.float32))

        a = T.matrix()
        results, updates = clgraph.scan(fn=lambda current_element, prior: prior + current_element.sum(),
                                        outputs_info=s0, sequences=a)
        f = compiled([a, s0], results, mode, updates=updates)
        np.testing.assert_array_equal(f(np.ones((20, 5)).astype(config.floatX), 0), np.arange(5, 101, 5))

        a = T.vector()
        results, updates = clgraph.scan(fn=lambda current_element, prior, non_seq: non_seq * prior + current_element,
                                        n_steps=10, sequences=a, outputs_info=T.constant(0.0), non_sequences=s0)
        f = compiled([a, s0], results, mode, updates=updates)
        expected = [1.0]
        for _ in range(9):
            expected.append(5 * expected[-1] + 1)
        np.testing.assert_allclose(f(np.ones(20).astype(config.floatX), 5), expected, rtol=1e-6)

        # the profiling section: the loop is one node of the profile
        f = clgraph.function([a, s0], results, profile=True, mode=mode)
        np.testing.assert_allclose(f(np.ones(20).astype(config.floatX), 5), expected, rtol=1e-6)
        assert "Scan{scan_fn}" in f.profile.summary()


def test_the_notes_cumulative_sums_of_a_vector_and_of_matrix_rows(mode):
    def fun(a, b):
        return a + b

    input = T.vector("input")
    output, update = clgraph.scan(fun, sequences=input, outputs_info=[T.as_tensor_variable(np.asarray(1, input.dtype))])
    out = compiled([input], output, mode)
    np.testing.assert_array_equal(out(np.array([1, 2, 3])), [2, 4, 7])

    input = T.matrix("input")
    output, update = clgraph.scan(fun, sequences=input,
                                  outputs_info=[T.as_tensor_variable(np.asarray([0, 0, 0], input.dtype))])
    out = compiled([input], output, mode)
    np.testing.assert_array_equal(out(np.array([[1, 2, 3], [4, 5, 6]])), [[1, 2, 3], [5, 7, 9]])


def test_jacobian_and_hessian_rows_by_scan(mode):
    x = T.dvector("x")
    y = x ** 2
    J, updates = clgraph.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x])
    f = compiled([x], J, mode, updates=updates)
    np.testing.assert_array_equal(f([4, 4]), [[8, 0], [0, 8]])
    cost = y.sum()
    gy = T.grad(cost, x)
    H, updates = clgraph.scan(lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]),
                              non_sequences=[gy, x])
    f = compiled([x], H, mode, updates=updates)
    np.testing.assert_array_equal(f([4, 4]), [[2, 0], [0, 2]])


# taps, directions and step counts ---------------------------------------------------------

def test_arguments_come_in_the_documented_order_of_taps(mode):
    """The notes' example: Sequence1[t-3], Sequence1[t+2], Sequence1[t-1], Sequence2[t],
    Sequence3[t+3], Output1[t-3], Output1[t-5], Output3[t-1], Argument1, Argument2."""
    weights = 10.0 ** np.arange(10)

    def step(s1_m3, s1_p2, s1_m1, s2, s3_p3, o1_m3, o1_m5, o3_m1, arg1, arg2):
        args = [s1_m3, s1_p2, s1_m1, s2, s3_p3, o1_m3, o1_m5, o3_m1, arg1, arg2]
        total = sum(w * v for w, v in zip(weights, args))
        return total, total * 2, total + o3_m1

    seq1, seq2, seq3 = T.vectors("seq1", "seq2", "seq3")
    out1, out2, out3, arg1, arg2 = T.vector("out1"), T.scalar("out2"), T.scalar("out3"), T.scalar(), T.scalar()
    results, _ = clgraph.scan(step, sequences=[dict(input=seq1, taps=[-3, 2, -1]), seq2, dict(input=seq3, taps=3)],
                              outputs_info=[dict(initial=out1, taps=[-3, -5]), dict(initial=out2, taps=None), out3],
                              non_sequences=[arg1, arg2])
    f = compiled([seq1, seq2, seq3, out1, out2, out3, arg1, arg2], results, mode, on_unused_input="ignore")
    s1, s2, s3 = np.arange(12) * 0.01, np.arange(12) * 0.1 + 1, np.arange(12) * 0.2 + 2
    o1, o3, a1, a2 = [0.5, 0.25, 0.125, 0.0625, 0.03125], 0.75, 3.0, 4.0
    hist1, hist3, outs = list(o1), [o3], [[], [], []]
    n_steps = min(12 - 5, 12, 12 - 3)   # seq1 spans taps -3..2; seq3 is read 3 ahead
    for t in range(n_steps):
        args = [s1[t], s1[t + 5], s1[t + 2], s2[t], s3[t + 3], hist1[-3], hist1[-5], hist3[-1], a1, a2]
        total = sum(w * v for w, v in zip(weights, args))
        for column, value in zip(outs, (total, total * 2, total + hist3[-1])):
            column.append(value)
        hist1.append(total)
        hist3.append(total + hist3[-1])
    for got, expected in zip(f(s1, s2, s3, o1, 0.0, o3, a1, a2), outs):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_go_backwards_runs_over_the_reversed_sequences(mode):
    x = T.vector("x")
    running, _ = clgraph.scan(lambda v, prior: prior * 10 + v, sequences=x, outputs_info=T.constant(0.0),
                              go_backwards=True)
    pairs, _ = clgraph.scan(lambda before, now: now - before, sequences=dict(input=x, taps=[-1, 0]), go_backwards=True)
    f = compiled([x], [running, pairs], mode)
    got_running, got_pairs = f([1, 2, 3])
    np.testing.assert_array_equal(got_running, [3, 32, 321])
    np.testing.assert_array_equal(got_pairs, [-1, -1])


def test_n_steps_symbolic_and_shorter_than_the_sequences(mode):
    x = T.vector("x")
    n = T.lscalar("n")
    doubled, _ = clgraph.scan(lambda v: v * 2, sequences=x, n_steps=n)
    f = compiled([x, n], doubled, mode)
    np.testing.assert_array_equal(f([1, 2, 3, 4], 2), [2, 4])
    np.testing.assert_array_equal(f([1, 2, 3, 4], 0), np.zeros(0))
    with pytest.raises(ValueError, match="sequence 0 has 4 entries.*fewer than the 5 steps"):
        f([1, 2, 3, 4], 5)


def test_the_shortest_sequence_sets_the_number_of_steps(mode):
    x, y = T.vectors("x", "y")
    sums, _ = clgraph.scan(lambda a, b: a + b, sequences=[x, y])
    np.testing.assert_array_equal(compiled([x, y], sums, mode)([1, 2, 3], [10, 20]), [11, 22])


def test_a_step_changing_its_shape_names_the_output_and_the_step(mode):
    x = T.vector("x")
    grown, _ = clgraph.scan(lambda prior: T.concatenate([prior, prior]), outputs_info=x, n_steps=3)
    with pytest.raises(ValueError, match=r"scan output 0: step 0 gave a value of shape \(4,\).*shape \(2,\)"):
        compiled([x], grown, mode)([1, 2])


def test_a_too_short_initial_state_is_refused(mode):
    x0 = T.vector("x0")
    out, _ = clgraph.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-3, -1]), n_steps=2)
    f = compiled([x0], out, mode)
    np.testing.assert_array_equal(f([1, 2, 3]), [4, 6])   # x[t] = x[t-3] + x[t-1]
    with pytest.raises(ValueError, match="scan output 0: the initial state needs 3 entries"):
        f([1, 2])


# inner graphs, helpers, printing --------------------------------------------------------------

def test_shared_variables_and_outer_tensors_used_without_being_passed_are_found(mode):
    W = clgraph.shared(np.asarray([1.0, 2.0]), name="W")
    offset = T.scalar("offset")
    x = T.matrix("x")
    out, _ = clgraph.scan(lambda row: row * W + offset, sequences=x)
    f = compiled([x, offset], out, mode)
    np.testing.assert_array_equal(f([[1, 1], [2, 2]], 1), [[2, 3], [3, 5]])
    W.set_value(np.asarray([0.0, 1.0]))
    np.testing.assert_array_equal(f([[1, 1], [2, 2]], 0), [[0, 1], [0, 2]])
    with pytest.raises(ValueError, match="strict=True: the step function uses W"):
        clgraph.scan(lambda row: row * W, sequences=x, strict=True)


def test_a_step_returning_a_non_sequence_or_a_constant_as_is(mode):
    x = T.vector("x")
    c = T.vector("c")
    (same, constant), _ = clgraph.scan(lambda v, c: [c, T.constant(7.0)], sequences=x, non_sequences=c)
    f = compiled([x, c], [same, constant], mode, on_unused_input="ignore")
    got_same, got_constant = f([1, 2, 3], [5, 6])
    np.testing.assert_array_equal(got_same, [[5, 6]] * 3)
    np.testing.assert_array_equal(got_constant, [7, 7, 7])


def test_map_reduce_foldl_foldr(mode):
    x = T.vector("x")
    squares, _ = clgraph.map(lambda v: v ** 2, x)
    total, _ = clgraph.reduce(lambda v, acc: acc + v, x, T.constant(0.0))
    left, _ = clgraph.foldl(lambda v, acc: acc * 10 + v, x, T.constant(0.0))
    right, _ = clgraph.foldr(lambda v, acc: acc * 10 + v, x, T.constant(0.0))
    f = compiled([x], [squares, total, left, right], mode)
    got = f([1, 2, 3])
    np.testing.assert_array_equal(got[0], [1, 4, 9])
    assert [float(v) for v in got[1:]] == [6, 123, 321]
    assert clgraph.map is not builtins.map and "map" not in clgraph.__all__   # import * keeps the builtins


def test_eval_and_return_list():
    x = T.vector("x")
    out, updates = clgraph.scan(lambda v: v + 1, sequences=x, return_list=True)
    assert isinstance(out, list) and updates == {}
    np.testing.assert_array_equal(out[0].eval({x: np.asarray([1.0, 2.0])}), [2, 3])


def test_step_results_are_told_apart_as_theano_does(mode):
    a = clgraph.shared(0.0)
    x = T.vector("x")
    with pytest.raises(ValueError, match="in the order \\(outputs, updates, until\\)"):
        clgraph.scan(lambda v: ({a: a + v}, v), sequences=x)
    (out, updates) = clgraph.scan(lambda v: (v * 2, {a: a + v}, clgraph.until(v > 1)), sequences=x)
    f = compiled([x], out, mode, updates=updates)
    np.testing.assert_array_equal(f([1, 2, 3]), [2, 4])
    assert a.get_value() == 3


def test_nested_scans_and_a_closure_over_the_outer_step(mode):
    X = T.matrix("X")
    s = T.scalar("s")

    def scaled_running_sum(row):
        sums, _ = clgraph.scan(lambda v, prior: prior + v * s, sequences=row, outputs_info=T.constant(0.0))
        return sums

    out, _ = clgraph.scan(scaled_running_sum, sequences=X)
    np.testing.assert_array_equal(compiled([X, s], out, mode)([[1, 2, 3], [4, 5, 6]], 2), [[2, 6, 12], [8, 18, 30]])


def test_infer_shape_of_fed_back_outputs():
    A = T.vector("A")
    k = T.lscalar("k")
    result, _ = clgraph.scan(lambda prior: prior * 2, outputs_info=A, n_steps=k)
    node = result.owner
    length = A.shape[0]
    assert node.op.infer_shape(node, [(), (1, length)]) == [(k, length)]


def test_debugprint_shows_the_scan_node(mode):
    x = T.vector("x")
    out, _ = clgraph.scan(lambda v: v + 1, sequences=x, name="plus_one")
    text = debugprint(compiled([x], out, mode), file="str")
    assert "Scan{plus_one}" in text


# on the device -------------------------------------------------------------------------------

@on_a_device
def test_the_loop_state_stays_on_the_device_and_the_step_is_compiled_once(monkeypatch):
    compilations, transfers = [], []
    compile_graph = function_module.compile_graph
    monkeypatch.setattr(function_module, "compile_graph",
                        lambda *a, **k: compilations.append(a) or compile_graph(*a, **k))
    for name in ("upload", "download"):
        method = getattr(Context, name)
        monkeypatch.setattr(Context, name, lambda self, *a, _method=method, _name=name: transfers.append(_name)
                            or _method(self, *a))
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = clgraph.scan(lambda prior, A: prior * A + 1, outputs_info=T.ones_like(A), non_sequences=A,
                                   n_steps=k)
    f = clgraph.function([A, k], result[-1], updates=updates)
    assert any("GpuScan" in str(node.op) for node in f.maker.fgraph.toposort())
    counts = []
    for steps in (3, 2, 50):   # the first call also uploads the step's constants, once
        transfers.clear()
        expected = np.ones(3)
        for _ in range(steps):
            expected = expected * [1, 2, 3] + 1
        np.testing.assert_allclose(f([1, 2, 3], steps), expected)
        counts.append(len(transfers))
    assert counts[1] == counts[2] == 2   # the argument up, the result down
    assert len(compilations) == 1


@on_a_device
def test_a_shared_variable_updated_by_the_loop_stays_on_the_device(monkeypatch):
    transfers = []
    for name in ("upload", "download"):
        method = getattr(Context, name)
        monkeypatch.setattr(Context, name, lambda self, *a, _method=method, _name=name: transfers.append(_name)
                            or _method(self, *a))
    w = clgraph.shared(np.zeros(3), name="w")
    x = T.matrix("x")
    _, updates = clgraph.scan(lambda row: {w: w * 0.5 + row}, sequences=x)
    f = clgraph.function([x], [], updates=updates)
    assert any("GpuScan" in str(node.op) for node in f.maker.fgraph.toposort())
    f(np.ones((2, 3)))
    transfers.clear()
    f(np.ones((40, 3)))
    assert transfers == ["upload"]   # the argument; the new value of w stays on the device
    expected = np.zeros(3)
    for _ in range(42):
        expected = expected * 0.5 + 1
    np.testing.assert_allclose(w.get_value(), expected)
