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


def commands_of_a_call(f):
    """The commands one call enqueues (after a first call, which packs b once)."""
    f().sync()
    with recording() as events:
        result = f()
    result.sync()
    return len(events), result.get()


# (shape of a, of b, of c); the commands a call enqueues: one fused GEMM (two for a
# product of two K chunks), two where the operands do not fit it
CASES = [((32, 256), (256, 256), (32, 256), 1),    # an RNN step
         ((7, 5), (5, 19), (7, 19), 1),             # blocks cut by the edges
         ((33, 20), (20, 17), (17,), 1),            # a bias row
         ((6, 4), (4, 5), (), 1),                   # one element
         ((40, 700), (700, 24), (40, 24), 2),       # K cut into two chunks: the last one applies it
         ((6, 4), (4, 5), (6, 1), 2),               # a column: the two kernels
         ((1, 3), (3, 4), (1, 4), 2)]               # one row: a matrix-vector product, then the map


@pytest.mark.parametrize("a_shape, b_shape, c_shape, commands", CASES)
def test_an_elementwise_function_of_a_product_is_one_kernel_where_it_fits(a_shape, b_shape, c_shape, commands):
    context = get_context()
    values = [floats(*a_shape), floats(*b_shape), floats(*c_shape)]
    a, b, c = (clgraph.shared(v) for v in values)   # on the device: no transfer
    f = clgraph.function([], (T.tanh(T.dot(a, b) * 0.1) * c).transfer(context.name))
    assert len(fused_nodes(f)) == 1
    enqueued, result = commands_of_a_call(f)
    assert enqueued == commands
    np.testing.assert_allclose(result, np.tanh((values[0] @ values[1]) * 0.1) * values[2], rtol=1e-4, atol=1e-5)


def test_the_same_function_fuses_or_not_call_by_call():
    a, b, c = T.fmatrix("a"), T.fmatrix("b"), T.fmatrix("c")
    f = clgraph.function([a, b, c], T.tanh(T.dot(a, b)) * c)
    av, bv = floats(6, 4), floats(4, 5)
    for cv in (floats(6, 1), floats(6, 5), floats(1, 5), floats(6, 1), floats(1, 1)):
        np.testing.assert_allclose(f(av, bv, cv), np.tanh(av @ bv) * cv, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="broadcast"):
        f(av, bv, floats(5, 5))   # the elementwise node's error, as without the fusion
    np.testing.assert_allclose(f(av, bv, np.full((6, 5), 2, np.float32)), np.tanh(av @ bv) * 2, rtol=1e-5)


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
