"""Replaying a loop's step on a device (clgraph.scan_module.replay): once two traced steps
launched the same kernels, later steps launch them directly; steps that do more than
launch kernels run their step graph every time. Results compared with numpy."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context
from clgraph.gradient import verify_grad
from clgraph.scan_module import replay

pytestmark = pytest.mark.skipif(get_context().api == "cpu", reason="the default context is the host")
RNG = np.random.default_rng(3)


@pytest.fixture
def replays(monkeypatch):
    """Counts of the steps replayed and of the steps traced, by whether they could be."""
    counts = {"replayed": 0, "replayable": 0, "not replayable": 0, "plans": []}
    run, finish = replay.StepPlan.run, replay.StepPlan.finish

    def counted_run(plan, inputs, targets=()):
        counts["replayed"] += 1
        return run(plan, inputs, targets)

    def counted_finish(plan, results, enqueued):
        finish(plan, results, enqueued)
        counts["replayable" if plan.replayable else "not replayable"] += 1
        counts["plans"].append(plan)

    monkeypatch.setattr(replay.StepPlan, "run", counted_run)
    monkeypatch.setattr(replay.StepPlan, "finish", counted_finish)
    return counts


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def residual_step(xt, hp, W):
    """An RNN's step that also reads h_{t-1} beside its product: no whole-loop kernel
    (scan_module.whole_loop) takes it, so its loop runs step by step."""
    return T.tanh(T.dot(hp, W) + xt) + hp


def rnn_steps(x, h, W):
    """Every h_t of residual_step, by numpy."""
    hs = []
    for xt in x:
        h = np.tanh(h @ W + xt) + h
        hs.append(h)
    return np.stack(hs)


def test_an_rnn_replays_its_step_after_two_alike_and_gives_every_step(replays):
    x, h0, W = T.ftensor3("x"), T.fmatrix("h0"), T.fmatrix("W")
    h, _ = clgraph.scan(residual_step, sequences=x, outputs_info=h0, non_sequences=W)
    f = clgraph.function([x, h0, W], h)
    xv, h0v, Wv = floats(12, 3, 5), floats(3, 5), floats(5, 5) * 0.5
    np.testing.assert_allclose(f(xv, h0v, Wv), rnn_steps(xv, h0v, Wv), rtol=1e-5, atol=1e-5)
    traced = replays["replayable"]
    assert 2 <= traced <= 4 and replays["replayed"] == 12 - traced and replays["not replayable"] == 0
    np.testing.assert_allclose(f(xv[:7] * 2, h0v, Wv)[-1], rnn_steps(xv[:7] * 2, h0v, Wv)[-1], rtol=1e-5, atol=1e-5)


def test_replayed_steps_compute_their_results_where_the_loop_keeps_them(replays, monkeypatch):
    from clgraph.backends.context import Context

    copies = []
    copy = Context.copy
    monkeypatch.setattr(Context, "copy", lambda context, *args, **kw: copies.append(args) or copy(context, *args, **kw))
    x, W = T.ftensor3("x"), T.fmatrix("W")
    h, _ = clgraph.scan(residual_step, sequences=x, outputs_info=T.zeros_like(x[0]), non_sequences=W)
    f = clgraph.function([x, W], h)
    xv, Wv = floats(20, 3, 5), floats(5, 5) * 0.5
    np.testing.assert_allclose(f(xv, Wv), rnn_steps(xv, np.zeros((3, 5)), Wv), rtol=1e-5, atol=1e-5)
    assert replays["replayed"] == 20 - replays["replayable"]
    # the loop copies a step's result into its buffer after the traced steps only: a
    # replayed step computes it there (20 copies or more otherwise)
    assert len(copies) <= replays["replayable"] + 1


def test_the_gradient_loop_replays_too(replays):
    def cost(x, W):
        h, _ = clgraph.scan(residual_step, sequences=x, outputs_info=T.zeros_like(x[0]), non_sequences=W)
        return (h[-1] ** 2).sum()

    verify_grad(cost, [RNG.standard_normal((10, 2, 4)), RNG.standard_normal((4, 4)) * 0.5], rng=RNG)
    assert replays["replayed"] >= 2 * (10 - 4)   # both loops, after at most 4 traced steps each


def test_a_step_reading_two_taps_of_one_buffer_runs_its_graph_every_step(replays):
    x0 = T.fvector("x0")
    out, _ = clgraph.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]), n_steps=9)
    f = clgraph.function([x0], out)
    fib = [1.0, 1.0]
    for _ in range(9):
        fib.append(fib[-1] + fib[-2])
    np.testing.assert_allclose(f(np.ones(2, np.float32)), np.asarray(fib[2:], np.float32))
    assert replays["replayed"] == 0 and replays["not replayable"] >= 1


def test_a_loop_ending_with_until_reads_its_condition_every_step(replays):
    x = T.fscalar("x")
    values, _ = clgraph.scan(lambda v: (v * 2, clgraph.scan_module.until(v * 2 > 1000)), outputs_info=x,
                             n_steps=100)
    f = clgraph.function([x], values)
    assert f(np.float32(1))[-1] == 1024
    assert replays["replayed"] == 0


def test_a_result_that_is_part_of_a_larger_array_is_not_computed_in_the_loop_buffer(replays):
    # the step's elementwise kernel writes all 64 rows; only row 0 is the result: were
    # the kernel pointed at the loop's slot of one row, it would write past it
    x, h0 = T.ftensor3("x"), T.fvector("h0")
    out, _ = clgraph.scan(lambda xt, hp: (T.tanh(xt + hp[None, :]))[0], sequences=x, outputs_info=h0)
    f = clgraph.function([x, h0], out)
    xv, h0v = floats(12, 64, 4), floats(4)
    expected, h = [], h0v
    for xt in xv:
        h = np.tanh(xt + h[None, :])[0]
        expected.append(h)
    np.testing.assert_allclose(f(xv, h0v), expected, rtol=1e-5, atol=1e-6)
    assert replays["replayed"] > 0
    assert all(plan.movable == [False] for plan in replays["plans"] if plan.replayable)


def test_steps_with_device_copies_and_fills_are_replayed(replays, monkeypatch):
    from clgraph.scan_module.replay import _Command

    kinds = []
    run = _Command.run
    monkeypatch.setattr(_Command, "run", lambda command, *args: kinds.append(command.kind) or run(command, *args))
    h0 = T.fvector("h0")
    # a shift (a join: device copies) plus the first row of an identity (a fill, then a kernel)
    out, _ = clgraph.scan(lambda hp: T.concatenate([T.zeros_like(hp[:1]), hp[:-1]])
                          + T.eye(hp.shape[0], dtype="float32")[0], outputs_info=h0, n_steps=10)
    f = clgraph.function([h0], out)
    expected, h = [], np.arange(5, dtype=np.float32)
    for _ in range(10):
        h = np.concatenate([[0], h[:-1]]) + np.eye(5, dtype=np.float32)[0]
        expected.append(h)
    np.testing.assert_array_equal(f(np.arange(5, dtype=np.float32)), expected)
    assert replays["replayed"] >= 6 and {"launch", "copy", "fill"} <= set(kinds)
