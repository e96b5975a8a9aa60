"""Gradients through scan (backpropagation through time) against finite differences, on
the host reference and the default device: recurrences of one and several taps,
sequences with past and future taps, outputs that are not fed back, go_backwards,
fewer steps than the sequence, shared variables the step uses without receiving them,
and the source documents' A**k; loops it cannot differentiate are named."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.gradient import NullTypeGradError, verify_grad

HOST = "FAST_COMPILE"
MODES = pytest.mark.parametrize("mode", [HOST, None], ids=["host", "device"])


def check(fn, shapes, mode, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    verify_grad(fn, [rng.normal(size=s) * scale for s in shapes], rng=rng, mode=mode)


@MODES
def test_tanh_rnn_with_matrix_weights(mode):
    def cost(x, W, U, h0):
        h, _ = clgraph.scan(lambda xt, hp, W, U: T.tanh(T.dot(hp, W) + T.dot(xt, U)), sequences=x,
                            outputs_info=h0, non_sequences=[W, U])
        return T.sum(h * np.arange(1.0, 5.0)[:, None, None]) + T.sum(h[-1] ** 2)
    check(cost, [(4, 2, 3), (3, 3), (3, 3), (2, 3)], mode, scale=0.5)


@MODES
def test_several_taps_of_outputs_and_sequences(mode):
    def cost(x, init):
        y, _ = clgraph.scan(lambda xm1, xp1, ym3, ym1: ym1 * 0.5 + ym3 * xm1 + xp1 ** 2,
                            sequences=dict(input=x, taps=[-1, 1]),
                            outputs_info=dict(initial=init, taps=[-3, -1]))
        return T.sum(y ** 2)
    check(cost, [(7,), (3,)], mode)


@MODES
def test_outputs_not_fed_back_beside_a_recurrence(mode):
    def cost(x, s0):
        (total, squares), _ = clgraph.scan(lambda xt, acc: (acc + xt, T.sin(xt) * acc), sequences=x,
                                           outputs_info=[s0, None])
        return T.sum(total) + T.sum(squares ** 2)
    check(cost, [(5, 2), (2,)], mode)


@MODES
def test_go_backwards_and_fewer_steps_than_the_sequence(mode):
    def cost(x, h0):
        h, _ = clgraph.scan(lambda xt, hp: hp * T.cos(xt) + xt, sequences=x, outputs_info=h0, n_steps=4,
                            go_backwards=True)
        return T.sum(h * np.array([1.0, -2.0, 3.0, 0.5]))
    check(cost, [(6,), ()], mode)


@MODES
def test_seed_power_by_scan_gradient(mode):
    A = T.dvector("A")
    k = T.iscalar("k")
    result, _ = clgraph.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    g = T.grad(result[-1].sum(), A)
    f = clgraph.function([A, k], g, mode=mode)
    value = np.array([0.5, 1.5, 2.0])
    np.testing.assert_allclose(f(value, 4), 4 * value ** 3)
    np.testing.assert_allclose(f(value, 1), np.ones(3))


@MODES
def test_shared_weights_found_in_the_step(mode):
    W = clgraph.shared(np.array([[0.5, -0.3], [0.2, 0.4]]), name="W")
    x = T.dmatrix("x")
    h, _ = clgraph.scan(lambda xt, hp: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=T.zeros(2))
    cost = T.sum(h[-1])
    gW, gx = T.grad(cost, [W, x])
    f = clgraph.function([x], [cost, gW, gx], mode=mode)
    xv = np.random.default_rng(3).normal(size=(3, 2))
    value, got_W, got_x = f(xv)
    eps = 1e-6   # the gradient wrt W against a central difference of the cost
    numeric = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            for sign in (1, -1):
                w = W.get_value()
                w[i, j] += sign * eps
                W.set_value(w)
                numeric[i, j] += sign * f(xv)[0] / (2 * eps)
                w[i, j] -= sign * eps
                W.set_value(w)
    np.testing.assert_allclose(got_W, numeric, rtol=1e-5, atol=1e-8)
    assert got_x.shape == xv.shape


def test_loops_it_cannot_differentiate_are_named():
    x = T.dvector("x")
    values, _ = clgraph.scan(lambda prior: (prior * 2, clgraph.until(prior > 10)), outputs_info=x[0], n_steps=8)
    with pytest.raises(NullTypeGradError, match="Scan.*until"):
        T.grad(values.sum(), x)
    a = clgraph.shared(np.float64(1.0), name="a")
    values, updates = clgraph.scan(lambda prior: (prior * a, {a: a + prior}), outputs_info=x[0], n_steps=3)
    with pytest.raises(NullTypeGradError, match="Scan.*updates shared variables"):
        T.grad(values.sum(), x)


@MODES
def test_truncated_backpropagation_goes_back_a_given_number_of_steps(mode):
    x = T.dvector("x")
    h0 = T.dscalar("h0")
    w = T.dscalar("w")
    h, _ = clgraph.scan(lambda xt, hp, w: hp * w + xt, sequences=x, outputs_info=h0, non_sequences=w,
                        truncate_gradient=2)
    gx, gh0, gw = T.grad(h[-1], [x, h0, w])
    f = clgraph.function([x, h0, w], [gx, gh0, gw], mode=mode)
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    got_x, got_h0, got_w = f(xv, 0.5, 3.0)
    # h_T depends on x_t through w ** (T - 1 - t); only the last 2 steps are followed
    np.testing.assert_allclose(got_x, [0, 0, 3, 1])
    assert got_h0 == 0
    hs = [0.5]
    for v in xv:
        hs.append(hs[-1] * 3 + v)
    np.testing.assert_allclose(got_w, hs[3] + 3 * hs[2])   # d h4/dw through steps 4 and 3
    # a truncation longer than the loop is the whole gradient
    h, _ = clgraph.scan(lambda xt, hp, w: hp * w + xt, sequences=x, outputs_info=h0, non_sequences=w,
                        truncate_gradient=10)
    gx, gh0 = T.grad(h[-1], [x, h0])
    got_x, got_h0 = clgraph.function([x, h0, w], [gx, gh0], mode=mode)(xv, 0.5, 3.0)
    np.testing.assert_allclose(got_x, [27, 9, 3, 1])
    assert got_h0 == 81
