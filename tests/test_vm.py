"""The VM's memory and timing: inplace kernels, buffers reused between calls with
allow_gc off (never one the caller holds), intermediates freed after their last use,
and per-node device timing with events."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context
from clgraph.compile import profiling
from clgraph.compile.device_blas import GpuDot
from clgraph.compile.device_epilogue import GpuDotElemwise
from clgraph.compile.device_ops import GpuElemwise
from clgraph.configdefaults import config

from conftest import run_python

N = 256
VALUE = (np.arange(N * N, dtype="float32").reshape(N, N) % 7) / 7
BUFFER = N * N * 4


def peak_of_a_call(f):
    allocator = get_context().allocator
    allocator.reset_peak()
    before = allocator.in_use
    f()
    get_context().synchronize()
    return allocator.stats()["peak"] - before


def slot_of(f, predicate):
    """The value a node's output holds in a VM kept between calls (allow_gc off)."""
    vm = f.maker.vm
    for thunk in vm.thunks:
        if predicate(thunk.node):
            return vm.storage[thunk.outputs[0]]
    raise AssertionError("no such node")


def test_an_elementwise_kernel_writes_over_an_intermediate_nobody_else_needs():
    x = clgraph.shared(VALUE)
    y = T.exp(T.concatenate([x, x]))
    f = clgraph.function([], y.transfer(x.context_name))
    names = [str(n.op) for n in f.maker.fgraph.toposort()]
    assert "GpuElemwise{exp}[(0, 0)]" in names
    np.testing.assert_allclose(np.asarray(f()), np.exp(np.concatenate([VALUE, VALUE])), rtol=1e-6)
    np.testing.assert_array_equal(x.get_value(), VALUE)   # the shared input is never destroyed
    with config.change_flags(optimizer_excluding="inplace"):
        g = clgraph.function([], y.transfer(x.context_name))
    assert "GpuElemwise{exp,no_inplace}" in [str(n.op) for n in g.maker.fgraph.toposort()]
    f(), g()   # kernels built, pool warmed
    assert peak_of_a_call(f) == 2 * BUFFER < peak_of_a_call(g) == 4 * BUFFER   # the joined copy, and exp's


def test_inputs_outputs_and_values_with_other_clients_are_not_destroyed():
    x = T.fmatrix("x")
    s = clgraph.shared(VALUE)
    a = T.dot(s, s)
    f = clgraph.function([x], [T.exp(a), T.log1p(a), T.tanh(x), T.exp(s)])
    inplace = [str(n.op) for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuElemwise) and n.op.inplace]
    assert inplace == ["GpuElemwise{tanh}[(0, 0)]"]   # only the upload of x, used once
    host = VALUE + 1
    results = f(host)
    np.testing.assert_array_equal(host, VALUE + 1)
    np.testing.assert_allclose(results[0], np.exp(VALUE @ VALUE), rtol=1e-5)
    np.testing.assert_allclose(results[1], np.log1p(VALUE @ VALUE), rtol=1e-5)
    np.testing.assert_allclose(results[2], np.tanh(host), rtol=1e-6)
    np.testing.assert_array_equal(s.get_value(), VALUE)


def test_an_inplace_kernel_given_a_broadcast_input_allocates_instead():
    x, row = T.fmatrix("x"), T.fmatrix("row")
    f = clgraph.function([x, row], T.exp(row) + x)   # the upload of row, (1, N) at run time, is destroyable
    assert any(isinstance(n.op, GpuElemwise) and n.op.inplace for n in f.maker.fgraph.toposort())
    np.testing.assert_allclose(f(VALUE, VALUE[:1]), np.exp(VALUE[:1]) + VALUE, rtol=1e-6)


@config.change_flags(allow_gc=False)
@pytest.mark.parametrize("expression", [lambda np_or_T, x: np_or_T.exp(np_or_T.dot(x, x)).sum(),   # a GEMM with exp
                                        lambda np_or_T, x: (0.5 * np_or_T.dot(x, x) + x).sum()],   # Gemm, z copied
                         ids=["exp of a product", "gemm"])
def test_without_gc_a_node_writes_into_its_buffer_of_the_last_call(expression):
    x = T.fmatrix("x")
    f = clgraph.function([x], expression(T, x))
    product = lambda node: isinstance(node.op, (GpuDot, GpuDotElemwise))  # noqa: E731
    f(VALUE)
    first = slot_of(f, product)
    allocations = get_context().allocator.stats()["device_allocations"]
    for scale in (2, 3):
        x_value = VALUE / scale
        np.testing.assert_allclose(f(x_value), expression(np, x_value), rtol=1e-4)
        assert slot_of(f, product) is first
    assert get_context().allocator.stats()["device_allocations"] == allocations


@config.change_flags(allow_gc=False)
def test_without_gc_a_result_the_caller_holds_is_never_overwritten_unless_borrowed():
    s = clgraph.shared(VALUE)
    kept = (s * 2).transfer(s.context_name)
    f = clgraph.function([], kept)
    first = f()
    s.set_value(VALUE + 1)
    second = f()
    np.testing.assert_array_equal(np.asarray(first), VALUE * 2)
    np.testing.assert_array_equal(np.asarray(second), (VALUE + 1) * 2)
    # Out(borrow=True): the caller lets the next call reuse the buffer (Theano's borrow)
    g = clgraph.function([], clgraph.Out(kept, borrow=True))
    first = g()
    s.set_value(VALUE)
    second = g()
    assert second.block is first.block
    np.testing.assert_array_equal(np.asarray(first), VALUE * 2)


@config.change_flags(allow_gc=False)
def test_without_gc_updates_stay_correct_over_many_calls():
    w = clgraph.shared(VALUE.copy())
    step = clgraph.function([], (w * w).sum(), updates={w: w * 0.5 + 1})
    expected = VALUE.astype("float64")
    for _ in range(4):
        np.testing.assert_allclose(step(), (expected ** 2).sum(), rtol=1e-4)
        expected = expected * 0.5 + 1
    np.testing.assert_allclose(w.get_value(), expected, rtol=1e-6)


def test_with_gc_intermediates_go_back_to_the_pool_after_their_last_use():
    x = clgraph.shared(VALUE)
    chain = x
    for _ in range(6):   # no two of these fuse: each product is a new buffer
        chain = T.dot(chain, x) * 0.01
    f = clgraph.function([], chain.sum())
    f()
    assert peak_of_a_call(f) <= 3 * BUFFER + 4096
    with config.change_flags(allow_gc=False):
        kept = clgraph.function([], chain.sum())
    allocator = get_context().allocator
    before = allocator.in_use
    kept()
    assert allocator.in_use - before >= 6 * BUFFER   # every product stays for the next call


def test_profile_times_every_node_on_the_host_and_says_when_the_device_cannot():
    x = T.fvector("x")
    f = clgraph.function([x], T.exp(x) * 2, profile=True, name="timed")
    for _ in range(3):
        f(np.ones(1000, dtype="float32"))
    assert f.profile.calls == 3 and f.profile.call_seconds > 0
    ops = [node.op for node, _, _ in f.profile.nodes.values()]
    assert any(isinstance(op, GpuElemwise) for op in ops)
    assert all(host > 0 for _, host, _ in f.profile.nodes.values())
    summary = f.profile.summary()
    assert "Function profile: timed" in summary and "3 calls" in summary
    if config.profile is False:   # the queues of this process do not time commands
        assert "n/a" in summary
    assert clgraph.function([x], x + 1).profile is None
    profiling._profiles.remove(f.profile)   # printed at exit otherwise


def test_profile_flag_times_device_work_with_events_and_prints_at_exit():
    result = run_python(
        "import numpy as np, clgraph, clgraph.tensor as T\n"
        "x = T.fvector('x')\n"
        "f = clgraph.function([x], T.tanh(T.exp(x) * x).sum(), name='probe')\n"
        "for _ in range(2): f(np.ones(200000, dtype='float32'))\n"
        "device = [d for n, h, d in f.maker.vm.timings() if str(n.op).startswith('GpuSum')]\n"
        "assert device and device[0] > 0, device\n"
        "print('ok')\n", flags="profile=True")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert "Function profile: probe" in result.stderr and "2 calls" in result.stderr
    assert "n/a" not in result.stderr
