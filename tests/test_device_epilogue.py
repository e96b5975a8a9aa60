"""GpuDotElemwise: a matrix product read only by an elementwise node is one blocked GEMM
applying that node's operation as it stores each result; calls whose values do not fit
the fused kernel run the product and the elementwise kernel one after the other."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context
from clgraph.backends.context import recording
from clgraph.codegen import gemm
from clgraph.compile.device_epilogue import GpuDotElemwise

pytestmark = pytest.mark.skipif(not gemm.blocked_width(get_context().info, np.dtype("float32")),
                                reason="the blocked GEMM runs on OpenCL CPU devices")
RNG = np.random.default_rng(11)


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def fused_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuDotElemwise)]


@pytest.mark.parametrize("m, k, n", [(32, 256, 256), (7, 5, 19), (1, 3, 4), (40, 700, 24), (3, 1000, 9)])
def test_an_elementwise_function_of_a_product_is_one_kernel_and_right(m, k, n):
    a, b, c = T.fmatrix("a"), T.fmatrix("b"), T.fmatrix("c")
    f = clgraph.function([a, b, c], T.exp(T.dot(a, b) * 0.1) * c)
    assert len(fused_nodes(f)) == 1
    av, bv, cv = floats(m, k), floats(k, n), floats(m, n)
    np.testing.assert_allclose(f(av, bv, cv), np.exp((av @ bv) * 0.1) * cv, rtol=1e-4, atol=1e-5)


def test_a_layer_with_a_bias_row_is_one_kernel():
    context = get_context()
    x, W, bias = (clgraph.shared(v) for v in (floats(33, 20), floats(20, 17), floats(17)))
    f = clgraph.function([], T.tanh(T.dot(x, W) + bias).transfer(context.name))
    assert len(fused_nodes(f)) == 1
    f().sync()
    with recording() as events:
        result = f()
    result.sync()
    assert len(events) == 1
    expected = np.tanh(x.get_value() @ W.get_value() + bias.get_value())
    np.testing.assert_allclose(result.get(), expected, rtol=1e-5, atol=1e-6)


def test_inputs_that_do_not_fit_run_the_two_kernels():
    a, b, c = T.fmatrix("a"), T.fmatrix("b"), T.fmatrix("c")
    f = clgraph.function([a, b, c], T.tanh(T.dot(a, b)) * c)
    av, bv = floats(6, 4), floats(4, 5)
    for cv in (floats(6, 1), floats(5, 6).T, floats(1, 5), floats(1, 1)):   # a column, strided; fused: row, one
        np.testing.assert_allclose(f(av, bv, cv), np.tanh(av @ bv) * cv, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        f(av, bv, floats(5, 5))   # the elementwise node's error, as without the fusion
    np.testing.assert_allclose(f(av, bv, floats(6, 5) * 0 + 2), np.tanh(av @ bv) * 2, rtol=1e-5)


def test_a_call_enqueues_one_command():
    context = get_context()
    values = [floats(32, 64), floats(64, 48), floats(32, 48)]
    a, b, c = (clgraph.shared(v) for v in values)   # on the device: no transfer
    f = clgraph.function([], (T.tanh(T.dot(a, b)) + c).transfer(context.name))
    f().sync()   # b's packed panels are made once
    with recording() as events:
        result = f()
    result.sync()
    assert len(events) == 1
    np.testing.assert_allclose(result.get(), np.tanh(values[0] @ values[1]) + values[2], rtol=1e-5, atol=1e-6)


def test_a_recurrent_step_runs_as_one_fused_gemm():
    x, W = T.ftensor3("x"), T.fmatrix("W")
    h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + T.dot(xt, W)), sequences=x,
                        outputs_info=T.zeros_like(x[0]), non_sequences=W)
    f = clgraph.function([x, W], h[-1])
    [scan] = [n for n in f.maker.fgraph.toposort() if "Scan" in str(n.op)]
    step = scan.op.host_op.inner_function(scan.op.context)
    assert [type(t.node.op) for t in step.thunks] == [GpuDotElemwise]
    xv, Wv = floats(5, 4, 8), floats(8, 8) * 0.3
    expected = np.zeros((4, 8), np.float32)
    for xt in xv:
        expected = np.tanh(expected @ Wv + xt @ Wv)
    np.testing.assert_allclose(f(xv, Wv), expected, rtol=1e-4, atol=1e-5)
