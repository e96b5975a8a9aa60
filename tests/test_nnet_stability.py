"""T.nnet's activations and binary cross-entropies, and the stabilizing rewrites: values
on the device and the host reference against numpy, gradients by verify_grad, and the
compositions the rewrites keep finite for logits up to 1e4 in float32 (forward and
gradient), the source documents' cross-entropy included."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import function, pp
from clgraph.gradient import verify_grad
from clgraph.rewrite import REWRITES

HOST = "FAST_COMPILE"
MODES = [None, HOST]   # the default device, and the host reference
EXTREMES = np.array([-1e4, -100, -30, -1, -1e-3, 0, 1e-3, 1, 30, 100, 1e4], "float32")


def _logistic(x):
    x = np.asarray(x, "float64")
    return np.exp(-np.logaddexp(0, -x))


def _softplus(x):
    return np.logaddexp(0, np.asarray(x, "float64"))


ACTIVATIONS = {   # name -> (clgraph function, numpy reference in float64)
    "sigmoid": (T.nnet.sigmoid, _logistic),
    "softplus": (T.nnet.softplus, _softplus),
    "relu": (T.nnet.relu, lambda x: np.maximum(x, 0)),
    "leaky relu": (lambda x: T.nnet.relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": (T.nnet.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
}


@pytest.mark.parametrize("mode", MODES, ids=["device", "host"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_including_extreme_inputs(name, dtype, mode):
    fn, reference = ACTIVATIONS[name]
    x = T.vector("x", dtype=dtype)
    got = function([x], fn(x), mode=mode)(EXTREMES.astype(dtype))
    assert got.dtype == dtype and np.all(np.isfinite(got))
    np.testing.assert_allclose(got, reference(EXTREMES.astype("float64")), rtol=3e-7 if dtype == "float32" else 1e-14,
                               atol=1e-37)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients(name):
    fn, _ = ACTIVATIONS[name]
    points = [np.random.default_rng(0).uniform(-3, 3, (4, 5))]
    points[0][np.abs(points[0]) < 0.1] = 0.5   # away from the kinks of relu and elu
    verify_grad(fn, points, rng=np.random.default_rng(1), mode=HOST)


def test_gradients_of_sigmoid_and_softplus_are_finite_at_extremes():
    x = T.fvector("x")
    g_sigmoid, g_softplus = (T.grad(T.sum(f(x)), x) for f in (T.nnet.sigmoid, T.nnet.softplus))
    got_sigmoid, got_softplus = function([x], [g_sigmoid, g_softplus])(EXTREMES)
    s = _logistic(EXTREMES)
    np.testing.assert_allclose(got_sigmoid, s * (1 - s), rtol=1e-5, atol=1e-12)   # z * (1 - z) rounds near 1
    np.testing.assert_allclose(got_softplus, s, rtol=1e-6, atol=1e-37)


def test_binary_crossentropies_against_numpy():
    x, t = T.dvector("x"), T.dvector("t")
    rng = np.random.default_rng(2)
    logits, targets = rng.uniform(-4, 4, 20), rng.integers(0, 2, 20).astype(float)
    p = _logistic(logits)
    expected = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    f = function([x, t], [T.nnet.binary_crossentropy(T.nnet.sigmoid(x), t),
                          T.nnet.sigmoid_binary_crossentropy(x, t)])
    for got in f(logits, targets):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    verify_grad(lambda x: T.nnet.binary_crossentropy(T.nnet.sigmoid(x), targets), [logits],
                rng=np.random.default_rng(3), mode=HOST)
    verify_grad(lambda x: T.nnet.sigmoid_binary_crossentropy(x, targets), [logits],
                rng=np.random.default_rng(3), mode=HOST)


# -- the stabilizing rewrites ------------------------------------------------------------

def _stable_forms(x):
    """(expression, float64 reference) pairs the rewrites keep finite."""
    return {
        "log(sigmoid(x))": (T.log(T.nnet.sigmoid(x)), lambda v: -_softplus(-v)),
        "log(1 - sigmoid(x))": (T.log(1 - T.nnet.sigmoid(x)), lambda v: -_softplus(v)),
        "log(1 + exp(x))": (T.log(1 + T.exp(x)), _softplus),
        "log1p(exp(x))": (T.log1p(T.exp(x)), _softplus),
        "log(1 / (1 + exp(-x)))": (T.log(1 / (1 + T.exp(-x))), lambda v: -_softplus(-v)),
        "log(1 - 1 / (1 + exp(-x)))": (T.log(1 - 1 / (1 + T.exp(-x))), lambda v: -_softplus(v)),
        "binary_crossentropy(sigmoid)": (T.nnet.binary_crossentropy(T.nnet.sigmoid(x), 0.25),
                                        lambda v: 0.25 * _softplus(-v) + 0.75 * _softplus(v)),
    }


@pytest.mark.parametrize("mode", MODES, ids=["device", "host"])
@pytest.mark.parametrize("form", sorted(_stable_forms(T.fvector())))
def test_stabilized_forms_stay_finite_in_float32(form, mode):
    x = T.fvector("x")
    expression, reference = _stable_forms(x)[form]
    f = function([x], [expression, T.grad(T.sum(expression), x)], mode=mode)
    value, gradient = f(EXTREMES)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient)), (value, gradient)
    np.testing.assert_allclose(value, reference(EXTREMES), rtol=2e-6, atol=1e-6)
    step = 1e-3   # the gradient against a central difference of the float64 reference
    numeric = (reference(EXTREMES.astype("float64") + step) - reference(EXTREMES.astype("float64") - step)) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-3, atol=1e-6)


def test_without_the_rewrites_the_written_forms_overflow():
    # what the rewrites are for: the same graph, stabilize excluded, is not finite
    x = T.fvector("x")
    with clgraph.config.change_flags(optimizer_excluding="stabilize"):
        value = function([x], T.log(1 - 1 / (1 + T.exp(-x))), mode=HOST)(EXTREMES)
    assert not np.all(np.isfinite(value))


@pytest.mark.parametrize("mode", MODES, ids=["device", "host"])
def test_log_of_softmax_and_the_cross_entropy_of_softmax_stay_finite(mode):
    # log(softmax(x)) becomes LogSoftmax, the categorical cross-entropy of softmax(x)
    # with class indices CrossentropySoftmax1Hot; written out, both overflow at 1e4
    x, idx = T.fmatrix("x"), T.lvector("idx")
    logits, classes = np.array([[1e4, 0, -1e4], [-1e4, 0, 1e4]], "float32"), np.array([2, 0])
    forms = [T.log(T.nnet.softmax(x)), T.nnet.categorical_crossentropy(T.nnet.softmax(x), idx)]
    f = function([x, idx], forms, mode=mode)
    names = " ".join(str(n.op) for n in f.maker.fgraph.toposort())
    assert "LogSoftmax" in names and "CrossentropySoftmax1Hot" in names
    log_sm, xent = f(logits, classes)
    shifted = logits.astype("float64") - logits.max(axis=1, keepdims=True)
    reference = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(log_sm, reference, rtol=1e-6)
    np.testing.assert_allclose(xent, -reference[[0, 1], classes], rtol=1e-6)
    with clgraph.config.change_flags(optimizer_excluding="stabilize"):
        written = function([x, idx], forms, mode=mode)(logits, classes)
    assert not all(np.all(np.isfinite(v)) for v in written)


def test_stabilize_leaves_the_users_graph_as_written():
    x = T.dvector("x")
    cost = T.sum(T.log(1 / (1 + T.exp(-x))))
    before = pp(cost)
    g = T.grad(cost, x)
    function([x], [cost, g])
    assert pp(cost) == before
    assert "sigmoid" in pp(g) and "sigmoid" not in before


def test_gradient_with_respect_to_an_intermediate_is_taken_as_written():
    # wrt a node inside a pattern: grad does not rewrite (it would bypass the node)
    x = T.dvector("x")
    e = T.exp(-x)
    cost = T.sum(T.log(1 / (1 + e)))
    g_e, g_x = T.grad(cost, [e, x])
    value = np.array([-1.0, 0.5, 2.0])
    got_e, got_x = function([x], [g_e, g_x], mode=HOST)(value)
    np.testing.assert_allclose(got_e, -1 / (1 + np.exp(-value)), rtol=1e-12)
    np.testing.assert_allclose(got_x, 1 - _logistic(value), rtol=1e-12)


def test_naming_an_intermediate_elsewhere_keeps_the_rest_stabilized():
    # h is named (wrt, consider_constant, known_grads) but lies outside the sigmoid
    # pattern: the pattern is still rewritten, so its gradient stays finite at -1e3
    x, w = T.dvector("x"), T.dscalar("w")
    h = T.tanh(x)
    cost = T.sum(T.log(1 / (1 + T.exp(-x * w)))) + T.sum(h)
    value = np.array([-1e3, 2.0])
    expected = np.sum(value * (1 - _logistic(value)))   # d/dw at w = 1
    for g_w in (T.grad(cost, [w, h])[0], T.grad(cost, w, consider_constant=[h]),
                T.grad(cost, w, known_grads={h: T.ones_like(h)})):
        np.testing.assert_allclose(function([x, w], g_w, mode=HOST)(value, 1.0), expected, rtol=1e-12)


def test_seed_cross_entropy_and_gradient_finite_for_huge_logits():
    # the source documents' cost with logits of 1e4: finite, and its gradient right
    x, y = T.fmatrix("x"), T.fvector("y")
    w = clgraph.shared(np.array([1e4, -1e4], "float32"), name="w")
    b = clgraph.shared(np.float32(0), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    gw, gb = T.grad(xent.mean(), [w, b])
    data = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], "float32")
    labels = np.array([1, 1, 0, 0], "float32")   # right, wrong, wrong, right
    for mode in MODES:
        got_xent, got_gw, got_gb = function([x, y], [xent, gw, gb], mode=mode)(data, labels)
        np.testing.assert_allclose(got_xent, [0, 1e4, 1e4, 0], rtol=1e-6)
        np.testing.assert_allclose(got_gw, [0.25, -0.25], rtol=1e-6)   # mean of (p - y) * x
        np.testing.assert_allclose(got_gb, 0, atol=1e-6)


def test_stabilize_is_a_registered_pass_with_its_tag():
    assert {"stabilize", "fast_run"} <= REWRITES["stabilize"].tags
