"""A loop whose step is one GEMM with an elementwise epilogue, h_t = f(h_{t-1} @ W, ...),
runs as one launch of the loop kernel (clgraph.scan_module.whole_loop); loops it does
not fit run step by step. Results compared with numpy."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context
from clgraph.codegen import gemm
from clgraph.gradient import verify_grad

pytestmark = pytest.mark.skipif(not gemm.blocked_width(get_context().info, np.dtype("float32")),
                                reason="the blocked GEMM runs on OpenCL CPU devices")
RNG = np.random.default_rng(17)


def floats(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def loop_launches(names):
    return sum(name.endswith("_loop_steps") for name in names)


def numpy_loop(step, x, h):
    hs = []
    for xt in x:
        h = step(xt, h)
        hs.append(h)
    return np.stack(hs)


# (steps, rows, columns): an RNN's shape; blocks cut by both edges; several block rows
# of one block column; one block row
SHAPES = [(20, 32, 256), (9, 7, 19), (6, 40, 20), (5, 3, 16)]


@pytest.mark.parametrize("steps, rows, cols", SHAPES)
def test_an_rnn_runs_as_one_launch_and_gives_every_step(launched, steps, rows, cols):
    x, h0, W = T.ftensor3("x"), T.fmatrix("h0"), T.fmatrix("W")
    h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=h0, non_sequences=W)
    f = clgraph.function([x, h0, W], h)
    xv, h0v, Wv = floats(steps, rows, cols), floats(rows, cols), floats(cols, cols, scale=cols ** -0.5)
    expected = numpy_loop(lambda xt, hp: np.tanh(hp @ Wv + xt), xv, h0v)
    np.testing.assert_allclose(f(xv, h0v, Wv), expected, rtol=1e-4, atol=1e-5)
    del launched[:]
    np.testing.assert_allclose(f(xv, h0v, Wv), expected, rtol=1e-4, atol=1e-5)
    # the loop kernel once, and no product per step (W is packed again: it was uploaded)
    assert loop_launches(launched) == 1 and not any("gemm" in name and not name.endswith(("_loop_steps", "_pack_b"))
                                                     for name in launched)


def test_the_benchmark_rnn_with_its_product_pushed_out_of_the_loop(launched):
    # x_t @ U becomes one product before the loop; the step is then tanh(h @ W + xu_t)
    xv, Wv, Uv = floats(12, 32, 64), floats(64, 64, scale=0.125), floats(64, 64, scale=0.125)
    W, U, x = clgraph.shared(Wv, name="W"), clgraph.shared(Uv, name="U"), clgraph.shared(xv, name="x")
    h, _ = clgraph.scan(lambda xt, hp, W, U: T.tanh(T.dot(hp, W) + T.dot(xt, U)), sequences=x,
                        outputs_info=T.zeros((32, 64), dtype="float32"), non_sequences=[W, U])
    f = clgraph.function([], h[-1])
    expected = numpy_loop(lambda xt, hp: np.tanh(hp @ Wv + xt @ Uv), xv, np.zeros((32, 64), np.float32))[-1]
    np.testing.assert_allclose(f(), expected, rtol=1e-4, atol=1e-5)
    assert loop_launches(launched) == 1
    # new weights between calls: packed again, not the last call's panels
    W.set_value(Wv * 2)
    expected = numpy_loop(lambda xt, hp: np.tanh(hp @ (Wv * 2) + xt @ Uv), xv, np.zeros((32, 64), np.float32))[-1]
    np.testing.assert_allclose(f(), expected, rtol=1e-4, atol=1e-5)
    assert loop_launches(launched) == 2


def test_a_bias_row_and_one_element_read_by_every_step(launched):
    x, h0, W, bias, scale = T.ftensor3("x"), T.fmatrix("h0"), T.fmatrix("W"), T.fvector("bias"), T.fscalar("scale")
    h, _ = clgraph.scan(lambda xt, hp, W, bias, scale: T.tanh(T.dot(hp, W) + xt + bias) * scale, sequences=x,
                        outputs_info=h0, non_sequences=[W, bias, scale])
    f = clgraph.function([x, h0, W, bias, scale], h)
    xv, h0v, Wv, bv = floats(7, 10, 24), floats(10, 24), floats(24, 24, scale=0.2), floats(24)
    expected = numpy_loop(lambda xt, hp: np.tanh(hp @ Wv + xt + bv) * 0.9, xv, h0v)
    np.testing.assert_allclose(f(xv, h0v, Wv, bv, np.float32(0.9)), expected, rtol=1e-4, atol=1e-5)
    assert loop_launches(launched) == 1


@pytest.mark.parametrize("how", ["go_backwards", "fewer steps than the sequence", "last step only", "tap -2"])
def test_loop_layouts(launched, how):
    x, W = T.ftensor3("x"), T.fmatrix("W")
    xv, Wv = floats(11, 9, 12), floats(12, 12, scale=0.3)
    step = lambda xt, hp: np.tanh(hp @ Wv + xt)   # noqa: E731
    h0v = floats(9, 12)
    if how == "tap -2":   # h_t = f(h_{t-2}): two interleaved chains
        starts = floats(2, 9, 12)
        h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x,
                            outputs_info=dict(initial=T.constant(starts), taps=[-2]), non_sequences=W)
        hs = list(starts)
        for xt in xv:
            hs.append(step(xt, hs[-2]))
        expected = np.stack(hs[2:])
    else:
        h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=T.constant(h0v),
                            non_sequences=W, go_backwards=how == "go_backwards",
                            n_steps=6 if how == "fewer steps than the sequence" else None)
        inputs = xv[::-1] if how == "go_backwards" else xv[:6] if how.startswith("fewer") else xv
        expected = numpy_loop(step, inputs, h0v)
    if how == "last step only":
        h, expected = h[-1], expected[-1]
    f = clgraph.function([x, W], h)
    np.testing.assert_allclose(f(xv, Wv), expected, rtol=1e-4, atol=1e-5)
    assert loop_launches(launched) == 1


@pytest.mark.parametrize("how", ["a product longer than a K chunk", "the step reads h_{t-1} beside the product",
                                 "weights that are a sequence"])
def test_loops_the_kernel_does_not_fit_run_step_by_step(launched, how):
    x, W = T.ftensor3("x"), T.fmatrix("W")
    cols = gemm.K_CHUNK + 8 if how.startswith("a product") else 6
    xv, h0v = floats(4, 3, cols), floats(3, cols)
    if how.startswith("weights"):
        Ws = T.ftensor3("Ws")
        Wv = floats(4, cols, cols, scale=0.3)
        h, _ = clgraph.scan(lambda xt, Wt, hp: T.tanh(T.dot(hp, Wt) + xt), sequences=[x, Ws], outputs_info=T.constant(h0v))
        f = clgraph.function([x, Ws], h)
        expected = numpy_loop(lambda xw, hp: np.tanh(hp @ xw[1] + xw[0]), list(zip(xv, Wv)), h0v)
    else:
        Wv = floats(cols, cols, scale=cols ** -0.5)
        residual = how.startswith("the step")
        h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt) + (hp if residual else 0), sequences=x,
                            outputs_info=T.constant(h0v), non_sequences=W)
        f = clgraph.function([x, W], h)
        expected = numpy_loop(lambda xt, hp: np.tanh(hp @ Wv + xt) + (hp if residual else 0), xv, h0v)
    np.testing.assert_allclose(f(xv, Wv), expected, rtol=1e-4, atol=1e-5)
    assert loop_launches(launched) == 0


def test_the_gradient_through_a_whole_loop_matches_the_float64_one_step_by_step(launched):
    # float64 has no fused GEMM: its loops run step by step (numeric differences in
    # float32 are too coarse for verify_grad through six steps)
    values = [floats(6, 8, 10), floats(8, 10), floats(10, 10, scale=0.3)]
    results = {}
    for dtype in ("float32", "float64"):
        x, h0, W = T.tensor3("x", dtype=dtype), T.matrix("h0", dtype=dtype), T.matrix("W", dtype=dtype)
        h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=h0,
                            non_sequences=W)
        cost = (h ** 2).sum() + (h[-1] * h[0]).sum()
        f = clgraph.function([x, h0, W], T.grad(cost, [x, h0, W]))
        before = loop_launches(launched)
        results[dtype] = f(*(v.astype(dtype) for v in values))
        # the forward loop and the gradient loop, which carries the pre-activation's gradient
        assert loop_launches(launched) - before == (2 if dtype == "float32" else 0)
    for low, high in zip(results["float32"], results["float64"]):
        np.testing.assert_allclose(low, high, rtol=1e-4, atol=1e-5)


def test_the_step_is_matched_once_then_every_call_runs_the_whole_loop(launched, monkeypatch):
    from clgraph.scan_module import device

    matched = []
    match = device.whole_loop
    monkeypatch.setattr(device, "whole_loop", lambda op, step: matched.append(op) or match(op, step))
    x, h0, W = T.ftensor3("x"), T.fmatrix("h0"), T.fmatrix("W")
    h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=h0, non_sequences=W)
    f = clgraph.function([x, h0, W], h[-1])
    xv, h0v, Wv = floats(4, 6, 8), floats(6, 8), floats(8, 8, scale=0.3)
    expected = numpy_loop(lambda xt, hp: np.tanh(hp @ Wv + xt), xv, h0v)[-1]
    for _ in range(3):
        np.testing.assert_allclose(f(xv, h0v, Wv), expected, rtol=1e-4, atol=1e-5)
    assert len(matched) == 1 and loop_launches(launched) == 3
