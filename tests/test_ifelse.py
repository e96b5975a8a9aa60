"""Lazy ifelse: the source documents' examples, only the chosen branch computed (its
graph is the only one compiled and run), nodes shared with the rest of the graph left
outside the branches, several outputs, gradients, errors; on the default device and on
the host reference."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.ifelse import IfElse, ifelse

HOST = "FAST_COMPILE"
MODES = pytest.mark.parametrize("mode", [None, HOST], ids=["device", "host"])


def ifelse_op(f):
    (node,) = [n for n in f.maker.fgraph.toposort() if "IfElse" in type(n.op).__name__]
    return getattr(node.op, "host_op", node.op)


def test_seed_scalar_ifelse():
    z = ifelse(1, 5, 4)
    value = z.eval()
    assert value == 5 and value.dtype == np.int8
    assert clgraph.ifelse.ifelse is ifelse


@MODES
def test_seed_ifelse_against_switch_computes_one_branch(mode):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = clgraph.function([a, b, x, y], z_switch, mode=mode)
    f_lazy = clgraph.function([a, b, x, y], z_lazy, mode=mode)
    big_mat1, big_mat2 = np.ones((100, 30), "float32"), np.full((100, 30), 3, "float32")
    assert f_switch(0, 1, big_mat1, big_mat2) == f_lazy(0, 1, big_mat1, big_mat2) == 1
    # the means moved into the branches: only the condition is computed outside
    assert not any("Mean" in str(n.op) or "Sum" in str(n.op) for n in f_lazy.maker.fgraph.toposort())
    op = ifelse_op(f_lazy)
    assert [branch for branch, _ in op._compiled] == [0]   # the else branch was never compiled
    assert f_lazy(1, 0, big_mat1, big_mat2) == 3
    compiled = dict(op._compiled)
    assert sorted(branch for branch, _ in compiled) == [0, 1]
    assert f_lazy(0, 1, big_mat1, big_mat2) == 1 and op._compiled == compiled   # each compiled once
    if mode is None:   # on the device: the node and its branches' graphs are the device ones
        assert any(type(n.op).__name__ == "GpuIfElse" for n in f_lazy.maker.fgraph.toposort())
        for branch in compiled.values():
            assert any(str(t.node.op).startswith("Gpu") for t in branch.thunks)


@MODES
def test_only_the_chosen_branch_runs(mode, monkeypatch):
    from clgraph.compile import vm

    x = T.vector("x")
    c = T.iscalar("c")
    out = ifelse(c, T.exp(x) * T.sum(x), T.sort(x)[::-1] * T.log(x + 3))
    f = clgraph.function([c, x], out, mode=mode)
    ran = []
    run = vm.Thunk.__call__
    monkeypatch.setattr(vm.Thunk, "__call__", lambda self, *a: ran.append(str(self.node.op)) or run(self, *a))
    value = np.array([0.5, 1.0, 2.0], clgraph.config.floatX)
    np.testing.assert_allclose(f(1, value), np.exp(value) * value.sum(), rtol=1e-6)
    assert not any("Sort" in name for name in ran)
    ran.clear()
    np.testing.assert_allclose(f(0, value), np.sort(value)[::-1] * np.log(value + 3), rtol=1e-6)
    assert any("Sort" in name for name in ran) and not any("Sum" in name for name in ran)


@MODES
def test_values_used_outside_stay_outside_and_several_outputs(mode):
    x, y = T.vectors("x", "y")
    c = T.iscalar("c")
    shared_part = T.exp(x)   # also an output: computed once, outside the branches
    first, second = ifelse(c, [shared_part * 2, y + 1], [y * 3, shared_part - 1])
    f = clgraph.function([c, x, y], [first, second, shared_part], mode=mode)
    xv, yv = np.array([0.0, 1.0], clgraph.config.floatX), np.array([2.0, 3.0], clgraph.config.floatX)
    for cv in (1, 0):
        got = f(cv, xv, yv)
        expected = [np.exp(xv) * 2, yv + 1] if cv else [yv * 3, np.exp(xv) - 1]
        for g, e in zip(got[:2], expected):
            np.testing.assert_allclose(g, e, rtol=1e-6)
        np.testing.assert_allclose(got[2], np.exp(xv), rtol=1e-6)
    outside = [n for n in f.maker.fgraph.toposort() if "exp" in str(n.op)]
    assert len(outside) == 1


@MODES
def test_gradient_goes_to_the_chosen_branch(mode):
    x, y = T.dvectors("x", "y")
    c = T.iscalar("c")
    cost = T.sum(ifelse(c, x ** 2, y ** 3))
    gx, gy = T.grad(cost, [x, y])
    f = clgraph.function([c, x, y], [gx, gy], mode=mode)
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    got_x, got_y = f(1, xv, yv)
    np.testing.assert_allclose(got_x, 2 * xv)
    np.testing.assert_allclose(got_y, 0)
    got_x, got_y = f(0, xv, yv)
    np.testing.assert_allclose(got_x, 0)
    np.testing.assert_allclose(got_y, 3 * yv ** 2)


def test_errors_name_the_problem():
    x, m = T.dvector("x"), T.dmatrix("m")
    with pytest.raises(TypeError, match="condition must be a scalar"):
        ifelse(x, x, x)
    with pytest.raises(TypeError, match="output 0 of the then branch is of type .* but that of the else"):
        ifelse(1, x, m)
    with pytest.raises(TypeError, match="same dtype"):
        ifelse(1, x, T.fvector())
    with pytest.raises(ValueError, match="then branch has 2 outputs but the else branch has 1"):
        ifelse(1, [x, x], [x])
    assert isinstance(ifelse(1, x, x).owner.op, IfElse)


@MODES
def test_nested_ifelse_and_branches_of_different_lengths(mode):
    x = T.vector("x")
    a, b = T.iscalars("a", "b")
    out = ifelse(a, ifelse(b, x[:2], x * 2), x[::-1])
    f = clgraph.function([a, b, x], out, mode=mode)
    xv = np.arange(4, dtype=clgraph.config.floatX)
    np.testing.assert_array_equal(f(1, 1, xv), xv[:2])
    np.testing.assert_array_equal(f(1, 0, xv), xv * 2)
    np.testing.assert_array_equal(f(0, 1, xv), xv[::-1])
