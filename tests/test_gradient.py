"""grad, Lop and verify_grad: Theano's semantics, the source documents' examples, and
their logistic regression trained on the default device."""
import warnings

import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import function, pp
from clgraph.gradient import (DisconnectedInputError, DisconnectedType, GradientError, NullType,
                              NullTypeGradError, grad_undefined, verify_grad)
from clgraph.graph.basic import Apply
from clgraph.graph.op import Op

HOST = "FAST_COMPILE"


def evaluate(inputs, output, *values):
    return function(inputs, output, mode=HOST, on_unused_input="ignore")(*values)


# -- the source documents' examples ---------------------------------------------------

def test_seed_square_gradient_and_its_print():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert pp(gy) == ("((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * "
                      "(x ** (TensorConstant{2} - TensorConstant{1})))")
    f = function([x], gy)
    assert f(4) == pytest.approx(8.0)
    assert f(94.2) == pytest.approx(188.4)
    # after compilation the rewrites simplify it as the seed shows (on the host; a
    # device runs the same product as one kernel)
    on_host = function([x], gy, mode=clgraph.compile.mode.Mode(linker="py"))
    assert pp(on_host.maker.fgraph.outputs[0]) == "(TensorConstant{2.0} * x)"
    assert on_host(4) == 8.0
    assert "GpuElemwise{mul}" in pp(f.maker.fgraph.outputs[0])


def test_seed_logistic_gradient():
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    dlogistic = function([x], T.grad(s, x))
    value = np.array([[0, 1], [-1, -2]], dtype=float)
    logistic = 1 / (1 + np.exp(-value))
    np.testing.assert_allclose(dlogistic(value), logistic * (1 - logistic), rtol=1e-12)
    np.testing.assert_allclose(dlogistic(value), [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


def test_seed_lop():
    W, v, x = T.dmatrix("W"), T.dvector("v"), T.dvector("x")
    VJ = T.Lop(T.dot(x, W), W, v)
    np.testing.assert_array_equal(function([v, x], VJ)([2, 2], [0, 1]), [[0, 0], [2, 2]])


@pytest.mark.parametrize("mode", [None, HOST], ids=["device", "host"])
def test_jacobian_and_hessian_functions(mode):
    x, m = T.dvector("x"), T.dmatrix("m")
    assert T.jacobian is clgraph.gradient.jacobian and T.hessian is clgraph.gradient.hessian
    value = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(function([x], T.jacobian(x ** 2, x), mode=mode)(value), np.diag(2 * value))
    # several variables, a matrix expression (its elements, flattened) and a matrix variable
    y = T.dot(m, x) * T.sum(x)
    jm, jx = T.jacobian(y, [m, x])
    mv = np.arange(6.0).reshape(2, 3)
    got_m, got_x = function([m, x], [jm, jx], mode=mode)(mv, value)
    s, mx = value.sum(), mv @ value
    np.testing.assert_allclose(got_x, mv * s + mx[:, None])
    expected_m = np.zeros((2, 2, 3))
    for i in range(2):
        expected_m[i, i] = value * s
    np.testing.assert_allclose(got_m, expected_m)
    np.testing.assert_allclose(function([m], T.jacobian(m * 2, m), mode=mode)(mv).shape, (6, 2, 3))
    # a scalar expression: its gradient
    np.testing.assert_allclose(function([x], T.jacobian(T.sum(x ** 3), x), mode=mode)(value), 3 * value ** 2)
    # the Hessian of a cost, also of several vectors
    a = T.dvector("a")
    cost = T.sum(x ** 3) + T.sum(x * a) ** 2
    hx, ha = T.hessian(cost, [x, a])
    got_x, got_a = function([x, a], [hx, ha], mode=mode)(value, value[::-1].copy())
    np.testing.assert_allclose(got_x, np.diag(6 * value) + 2 * np.outer(value[::-1], value[::-1]))
    np.testing.assert_allclose(got_a, 2 * np.outer(value, value))


def test_hessian_refuses_non_scalar_costs_and_matrices():
    x, m = T.dvector("x"), T.dmatrix("m")
    with pytest.raises(TypeError, match="hessian: cost must be a scalar"):
        T.hessian(x ** 2, x)
    with pytest.raises(TypeError, match="hessian: wrt must be vectors"):
        T.hessian(T.sum(m ** 2), m)


def test_seed_logistic_regression_trains_on_the_device_as_on_the_host():
    with clgraph.config.change_flags(floatX="float32"):
        rng = np.random.RandomState(0)
        N, feats = 400, 784
        D = (rng.randn(N, feats).astype("float32"), rng.randint(size=N, low=0, high=2).astype("float32"))
        initial_w = rng.randn(feats).astype("float32")   # the seed's: logits of +-100 and more
        results = {}
        for mode in (None, HOST):
            x, y = T.matrix("x"), T.vector("y")
            w = clgraph.shared(initial_w.copy(), name="w")
            b = clgraph.shared(np.asarray(0., dtype="float32"), name="b")
            p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
            prediction = p_1 > 0.5
            xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
            cost = T.cast(xent.mean(), "float32") + 0.01 * (w ** 2).sum()
            gw, gb = T.grad(cost, [w, b])
            assert (gw.dtype, gb.dtype) == ("float32", "float32")
            train = function([x, y], [prediction, xent], updates={w: w - 0.1 * gw, b: b - 0.1 * gb},
                             name="train", mode=mode)
            if mode is None:   # the seed's check of the device graph: the update is one GEMV
                assert any(n.op.__class__.__name__ in ["GpuGemm", "GpuGemv"] for n in train.maker.fgraph.toposort())
                assert "GpuGemv{inplace}" in [str(n.op) for n in train.maker.fgraph.toposort()]
            predict = function([x], prediction, name="predict", mode=mode)
            cost_of = function([x, y], cost, mode=mode)
            costs = [cost_of(*D)]
            initial_accuracy = (predict(D[0]) == D[1]).mean()
            for _ in range(50):
                pred, err = train(D[0], D[1])
                assert np.all(np.isfinite(err))
                costs.append(cost_of(*D))
            results[mode] = (np.array(costs), predict(D[0]), w.get_value())
        device_costs, device_prediction, device_w = results[None]
        host_costs, host_prediction, host_w = results[HOST]
        assert np.all(np.diff(device_costs) < 0)
        assert device_costs[-1] < 0.8 * device_costs[0]
        np.testing.assert_array_equal(device_prediction, host_prediction)
        np.testing.assert_allclose(device_costs, host_costs, rtol=1e-4)
        np.testing.assert_allclose(device_w, host_w, rtol=1e-3, atol=1e-5)
        assert (device_prediction == D[1]).mean() > initial_accuracy + 0.1


# -- grad's semantics -----------------------------------------------------------------

def test_names_and_structure():
    assert T.grad is clgraph.grad is clgraph.gradient.grad
    x, y = T.dvectors("x", "y")
    cost = (x * y).sum()
    assert isinstance(T.grad(cost, [x, y]), list)
    assert isinstance(T.grad(cost, (x, y)), tuple)
    gx = T.grad(cost, x)
    np.testing.assert_array_equal(evaluate([x, y], gx, [1, 2], [3, 4]), [3, 4])


def test_paths_are_summed():
    x = T.dvector("x")
    g = T.grad((x * x + x + T.exp(x)).sum(), x)
    value = np.array([0.5, -1.0])
    np.testing.assert_allclose(evaluate([x], g, value), 2 * value + 1 + np.exp(value))


def test_gradient_of_the_cost_itself_and_of_an_intermediate():
    x = T.dscalar("x")
    y = x * 3
    cost = y ** 2
    gy, gx, gc = T.grad(cost, [y, x, cost])
    assert evaluate([x], gy, 2.0) == pytest.approx(12.0)
    assert evaluate([x], gx, 2.0) == pytest.approx(36.0)
    assert evaluate([x], gc, 2.0) == pytest.approx(1.0)


def test_non_scalar_cost_is_a_type_error():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="cost must be a scalar"):
        T.grad(x ** 2, x)


def test_disconnected_inputs():
    x, z = T.dvector("x"), T.dvector("z")
    cost = (x ** 2).sum()
    with pytest.raises(DisconnectedInputError, match="not part of the computational graph.*: z"):
        T.grad(cost, [x, z])
    with pytest.warns(UserWarning, match="z"):
        gz = T.grad(cost, z, disconnected_inputs="warn")
    np.testing.assert_array_equal(evaluate([z], gz, [1.0, 2.0]), [0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert T.grad(cost, z, disconnected_inputs="ignore", return_disconnected="None") is None
        marker = T.grad(cost, z, disconnected_inputs="ignore", return_disconnected="Disconnected")
    assert isinstance(marker.type, DisconnectedType)
    with pytest.raises(ValueError, match="disconnected_inputs"):
        T.grad(cost, x, disconnected_inputs="loud")


def test_shape_and_fill_do_not_connect():
    x = T.dvector("x")
    with pytest.raises(DisconnectedInputError):
        T.grad(T.cast(x.shape[0], "float64") + T.fill(x, 1.0).sum(), x)
    cost = (x * T.arange(x.shape[0])).sum()   # the arange of a length: not differentiated
    np.testing.assert_array_equal(evaluate([x], T.grad(cost, x), [5.0, 6.0, 7.0]), [0, 1, 2])


def test_consider_constant():
    x = T.dscalar("x")
    c = x * 2
    g = T.grad(c * x, x, consider_constant=[c])
    assert evaluate([x], g, 3.0) == pytest.approx(6.0)
    assert evaluate([x], T.grad(c * x, x), 3.0) == pytest.approx(12.0)


def test_known_grads_with_and_without_cost():
    x = T.dvector("x")
    y = x ** 2
    g = T.dvector("g")
    gx = T.grad(None, x, known_grads={y: g})
    np.testing.assert_allclose(evaluate([x, g], gx, [1.0, 3.0], [1.0, 10.0]), [2.0, 60.0])
    both = T.grad(x.sum(), x, known_grads={y: g})
    np.testing.assert_allclose(evaluate([x, g], both, [1.0, 3.0], [1.0, 10.0]), [3.0, 61.0])
    with pytest.raises(ValueError, match="cost or known_grads"):
        T.grad(None, x)


def test_integer_inputs_and_outputs():
    i, x = T.lvector("i"), T.dvector("x")
    gi = T.grad((i * x).sum(), i)
    assert gi.dtype == clgraph.config.floatX
    np.testing.assert_array_equal(evaluate([i, x], gi, [1, 2], [3.0, 4.0]), [0, 0])
    gx = T.grad(T.sum(x > 0) + T.floor(x).sum(), x)   # comparisons and rounding: zero
    np.testing.assert_array_equal(evaluate([x], gx, [1.0, -2.0]), [0, 0])
    assert T.grad(T.cast(x, "int32").sum(), x).dtype == "float64"


def test_float32_gradients_stay_float32():
    x = T.fvector("x")
    g = T.grad((x * 0.5 + T.cast(x, "float64") ** 2).sum(), x)
    assert g.dtype == "float32"


class _Undefined(Op):
    """x + y whose gradient with respect to y is undefined."""

    def make_node(self, x, y):
        x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
        return Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs):
        return [inputs[0] + inputs[1]]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0], grad_undefined(self, 1, inputs[1], "it is a test")]


def test_undefined_gradients():
    x, y = T.dscalars("x", "y")
    cost = _Undefined()(x, y) * 2
    assert evaluate([x, y], T.grad(cost, x), 1.0, 5.0) == pytest.approx(2.0)
    with pytest.raises(NullTypeGradError, match="_Undefined.*input 1.*it is a test"):
        T.grad(cost, y)
    assert isinstance(T.grad(cost, y, null_gradients="return").type, NullType)


class _NoGradient(Op):
    """An op that defines no gradient."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        return [inputs[0] + 1]


def test_op_without_gradient_is_named():
    x = T.dvector("x")
    with pytest.raises(NotImplementedError, match="_NoGradient.*no gradient.*input 0 \\(x\\)"):
        T.grad(_NoGradient()(x)[0], x)


# -- verify_grad ----------------------------------------------------------------------

class _WrongSquare(Op):
    """x ** 2 with the gradient of x ** 3."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        return [inputs[0] ** 2]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * 3 * inputs[0] ** 2]


def test_verify_grad_accepts_correct_and_rejects_wrong_gradients():
    rng = np.random.default_rng(0)
    verify_grad(lambda a, b: T.dot(a, b) ** 2, [rng.random((2, 3)), rng.random((3,))], rng=rng, mode=HOST)
    with pytest.raises(GradientError, match="input 1.*abs. error.*rel. error"):
        verify_grad(lambda a, b: a + _WrongSquare()(b), [rng.random(3), rng.random(3) + 1], rng=rng,
                    mode=HOST)
    with pytest.raises(TypeError, match="floating point"):
        verify_grad(lambda a: a * 2, [np.arange(3)], rng=rng)


def test_readme_gradients_example_runs(capsys):
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text[text.index("## Gradients"):text.index("## Devices and contexts")]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("((fill((x ** TensorConstant{2}), TensorConstant{1.0})")
    assert printed[1] == "8.0"
    w = np.array(printed[2].strip("[] ").split(), dtype=float)
    assert np.dot([1, 2, 3], w) == pytest.approx(1, abs=1e-5)




def test_second_derivatives():
    x = T.dvector("x")
    gy = T.grad((x ** 3).sum(), x)
    hessian_diagonal = T.grad(gy.sum(), x)
    np.testing.assert_allclose(evaluate([x], hessian_diagonal, [1.0, 2.0]), [6.0, 12.0])
    rows = [T.grad(gy[i], x) for i in range(2)]   # the Hessian row by row, as the seeds' scan does
    np.testing.assert_allclose(evaluate([x], T.stack(rows), [4.0, 4.0]), [[24.0, 0.0], [0.0, 24.0]])


# ---------------------------------------------------------------------------------- Rop

def test_seed_rop_of_a_product_and_hessian_times_vector():
    W, V, x = T.dmatrix("W"), T.dmatrix("V"), T.dvector("x")
    f = clgraph.function([W, V, x], T.Rop(T.dot(x, W), W, V))
    np.testing.assert_allclose(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])
    x, v = T.dvector("x"), T.dvector("v")
    hv = clgraph.function([x, v], T.Rop(T.grad(T.sum(x ** 2), x), x, v))
    np.testing.assert_allclose(hv([4, 4], [2, 2]), [4.0, 4.0])


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-7), ("float32", 2e-3)])
def test_rop_equals_the_directional_derivative(dtype, tolerance):
    W, x = T.matrix("W", dtype=dtype), T.vector("x", dtype=dtype)
    V, v = T.matrix("V", dtype=dtype), T.vector("v", dtype=dtype)
    y = T.tanh(T.dot(W, x)) * x.sum()
    jv = clgraph.function([W, x, V, v], T.Rop(y, [W, x], [V, v]))
    forward = clgraph.function([W, x], y)
    rng = np.random.default_rng(7)
    w, xv, dw, dx = (rng.standard_normal(s).astype(dtype) for s in [(3, 4), (4,), (3, 4), (4,)])
    step = 1e-6 if dtype == "float64" else 1e-2
    numeric = (forward(w + step * dw, xv + step * dx).astype("float64")
               - forward(w - step * dw, xv - step * dx)) / (2 * step)
    got = jv(w, xv, dw, dx)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, numeric, rtol=tolerance, atol=tolerance)


def test_rop_checks_its_evaluation_points():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="Rop: 1 variables to differentiate by but 2 evaluation points"):
        T.Rop(x * 2, x, [x, x])
    with pytest.raises(TypeError, match="the evaluation point .* must have its ndim \\(1\\), got 2"):
        T.Rop(x * 2, x, T.dmatrix("m"))


def test_rop_of_an_output_that_does_not_depend_on_wrt():
    x, z, c, v = T.dvector("x"), T.dvector("z"), T.dvector("c"), T.dvector("v")
    with pytest.raises(DisconnectedInputError, match=r"Rop: output 1 \(.*\) does not depend on x"):
        T.Rop([x * 2, c * 3], x, v)
    for policy in ("ignore", "warn"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            jv, zero = T.Rop([x * 2, c * 3], x, v, disconnected_outputs=policy)
        assert len(caught) == (policy == "warn")
        got = function([x, c, v], [jv, zero])(np.ones(2), np.ones(3), np.array([1.0, 2.0]))
        np.testing.assert_array_equal(got[0], [2, 4])
        np.testing.assert_array_equal(got[1], np.zeros(3))
    # a wrt that f does not use contributes nothing: not an error of the outputs
    np.testing.assert_array_equal(function([x, z, v], T.Rop(x * 2, [x, z], [v, v]))(
        np.ones(2), np.ones(2), np.array([1.0, 2.0])), [2, 4])
    with pytest.raises(ValueError, match="disconnected_outputs"):
        T.Rop(x * 2, x, v, disconnected_outputs="sometimes")


def test_stabilizing_a_long_cost_walks_its_graph_once(monkeypatch):
    # grad rewrites a copy of the cost keeping the variables it is asked about: which
    # of them each node is computed from is carried along the graph, not searched for
    # again at every node (quadratic: 10 s for a chain of 1500 nodes)
    from clgraph.rewrite import local

    searches = []
    ancestors = local.ancestors
    monkeypatch.setattr(local, "ancestors", lambda *a: searches.append(1) or ancestors(*a))
    x = T.dvector("x")
    h = x
    for _ in range(200):
        h = T.tanh(h * 1.01 + x)
    g = T.grad(h.sum(), x)
    assert len(searches) < 10   # only where a rewrite is taken
    value = np.array([0.3, -0.2])
    hs = [value]   # d h_200 / dx of h_t = tanh(1.01 h_{t-1} + x), forward
    for _ in range(200):
        hs.append(np.tanh(hs[-1] * 1.01 + value))
    dh = np.zeros(2)
    for h_t in hs[1:]:
        dh = (1 - h_t ** 2) * (1.01 * dh + 1)
    np.testing.assert_allclose(function([x], g, mode=HOST)(value), dh, rtol=1e-10)
