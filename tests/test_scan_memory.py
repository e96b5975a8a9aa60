"""Scan keeps only the last step of an output used only as ``result[-1]`` (the
``scan_keep_last`` rewrite): the device's peak memory does not grow with the number of
steps, and the values are those of the whole loop."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context
from clgraph.scan_module import Scan
from conftest import OPENCL_DEVICES

HOST_REWRITTEN = clgraph.compile.mode.Mode(linker="py")   # every rewrite, host ops


def power(A, k):
    result, updates = clgraph.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A,
                                   n_steps=k)
    return result, updates


def scan_op(f):
    (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(getattr(n.op, "host_op", n.op), Scan)]
    return getattr(node.op, "host_op", node.op)


@pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")
def test_seed_power_keeps_one_step_and_memory_does_not_grow():
    A, k = T.vector("A"), T.iscalar("k")
    result, updates = power(A, k)
    f = clgraph.function([A, k], result[-1], updates=updates)
    assert scan_op(f).last_only == (True,)
    context = get_context()
    a = np.full(50000, 1.0001, clgraph.config.floatX)
    peaks = []
    for steps in (10, 500):
        f(a, 2)
        context.allocator.reset_peak()
        np.testing.assert_allclose(f(a, steps), a ** steps, rtol=1e-4)
        peaks.append(context.allocator.stats()["peak"])
    assert peaks[1] == peaks[0]   # a whole loop's output of 500 steps would take 100 MB more


@pytest.mark.parametrize("mode", [None, HOST_REWRITTEN], ids=["device", "host"])
def test_taps_and_outputs_not_fed_back_keep_their_last_step(mode):
    x = T.vector("x")
    (fib, squares), _ = clgraph.scan(lambda xt, a, b: (a + b, xt ** 2), sequences=x,
                                     outputs_info=[dict(initial=T.ones(2), taps=[-2, -1]), None])
    f = clgraph.function([x], [fib[-1], squares[-1]], mode=mode)
    assert scan_op(f).last_only == (True, True)
    value = np.arange(1, 8, dtype=clgraph.config.floatX)
    sequence = [1, 1]
    for _ in value:
        sequence.append(sequence[-1] + sequence[-2])
    last, square = f(value)
    assert last == sequence[-1] and square == value[-1] ** 2


@pytest.mark.parametrize("mode", [None, HOST_REWRITTEN], ids=["device", "host"])
def test_outputs_used_whole_are_kept_whole(mode):
    A, k = T.vector("A"), T.iscalar("k")
    result, updates = power(A, k)
    f = clgraph.function([A, k], [result[-1], result.sum(axis=0)], updates=updates, mode=mode)
    assert scan_op(f).last_only == (False,)
    value = np.array([1.0, 2.0], clgraph.config.floatX)
    last, total = f(value, 3)
    np.testing.assert_allclose(last, value ** 3)
    np.testing.assert_allclose(total, value + value ** 2 + value ** 3)
