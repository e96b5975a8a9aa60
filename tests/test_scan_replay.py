"""Replaying a loop's step on a device (clgraph.scan_module.replay): once two traced steps
launched the same kernels, later steps launch them directly; steps that do more than
launch kernels run their step graph every time. Results compared with numpy."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context
from clgraph.scan_module import replay

pytestmark = pytest.mark.skipif(get_context().api == "cpu", reason="the default context is the host")
RNG = np.random.default_rng(3)


@pytest.fixture
def replays(monkeypatch):
    """Counts of the steps replayed and of the steps traced, by whether they could be."""
    counts = {"replayed": 0, "replayable": 0, "not replayable": 0}
    run, finish = replay.StepPlan.run, replay.StepPlan.finish

    def counted_run(plan, inputs, targets=()):
        counts["replayed"] += 1
        return run(plan, inputs, targets)

    def counted_finish(plan, results, enqueued):
        finish(plan, results, enqueued)
        counts["replayable" if plan.replayable else "not replayable"] += 1

    monkeypatch.setattr(replay.StepPlan, "run", counted_run)
    monkeypatch.setattr(replay.StepPlan, "finish", counted_finish)
    return counts


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_an_rnn_replays_its_step_after_two_alike_and_gives_every_step(replays):
    x, h0, W = T.ftensor3("x"), T.fmatrix("h0"), T.fmatrix("W")
    h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=h0, non_sequences=W)
    f = clgraph.function([x, h0, W], h)
    xv, h0v, Wv = floats(12, 3, 5), floats(3, 5), floats(5, 5) * 0.5
    expected, hv = [], h0v
    for xt in xv:
        hv = np.tanh(hv @ Wv + xt)
        expected.append(hv)
    np.testing.assert_allclose(f(xv, h0v, Wv), expected, rtol=1e-5, atol=1e-5)
    traced = replays["replayable"]
    assert 2 <= traced <= 4 and replays["replayed"] == 12 - traced and replays["not replayable"] == 0
    np.testing.assert_allclose(f(xv[:7] * 2, h0v, Wv)[-1], _rnn(xv[:7] * 2, h0v, Wv), rtol=1e-5, atol=1e-5)


def _rnn(x, h, W):
    for xt in x:
        h = np.tanh(h @ W + xt)
    return h


def test_replayed_steps_compute_their_results_where_the_loop_keeps_them(replays, monkeypatch):
    from clgraph.backends.context import Context

    copies = []
    copy = Context.copy
    monkeypatch.setattr(Context, "copy", lambda context, *args, **kw: copies.append(args) or copy(context, *args, **kw))
    x, W = T.ftensor3("x"), T.fmatrix("W")
    h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x,
                        outputs_info=T.zeros_like(x[0]), non_sequences=W)
    f = clgraph.function([x, W], h)
    xv, Wv = floats(20, 3, 5), floats(5, 5) * 0.5
    np.testing.assert_allclose(f(xv, Wv), np.stack(_steps(xv, np.zeros((3, 5)), Wv)), rtol=1e-5, atol=1e-5)
    assert replays["replayed"] == 20 - replays["replayable"]
    # the loop copies a step's result into its buffer after the traced steps only: a
    # replayed step computes it there (20 copies or more otherwise)
    assert len(copies) <= replays["replayable"] + 1


def _steps(x, h, W):
    hs = []
    for xt in x:
        h = np.tanh(h @ W + xt)
        hs.append(h)
    return hs


def test_the_gradient_loop_replays_too(replays):
    x, W = T.ftensor3("x"), T.fmatrix("W")
    h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x,
                        outputs_info=T.zeros_like(x[0]), non_sequences=W)
    f = clgraph.function([x, W], T.grad((h[-1] ** 2).sum(), W))
    xv, Wv = floats(10, 2, 4), floats(4, 4) * 0.5
    got = f(xv, Wv)
    eps, expected = 1e-3, np.zeros((4, 4))
    for index in np.ndindex(4, 4):
        plus, minus = Wv.astype(np.float64), Wv.astype(np.float64)
        plus[index] += eps
        minus[index] -= eps
        zeros = np.zeros((2, 4))
        expected[index] = ((_rnn(xv, zeros, plus) ** 2).sum() - (_rnn(xv, zeros, minus) ** 2).sum()) / (2 * eps)
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3)
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
