"""The rewrites that take work out of loops (scan_drop_unused_outputs,
scan_push_out_invariants, scan_push_out_products, scan_push_out_sums,
scan_carry_product_operands) and the gradient loop reading the forward loop's results:
results unchanged, on the host reference and the default device, gradients included."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.gradient import verify_grad
from clgraph.graph.basic import Constant, graph_inputs, io_toposort
from clgraph.scan_module.op import Scan
from clgraph.tensor.math import Dot

RNG = np.random.default_rng(7)


@pytest.fixture(params=["FAST_RUN", None], ids=["host", "device"])
def mode(request):
    """FAST_RUN on the host (the rewrite is a fast_run pass), or the default mode on the
    default device."""
    if request.param == "FAST_RUN":
        return clgraph.compile.mode.Mode(linker="py", optimizer="fast_run")
    return None


def scans(f):
    """The compiled function's Scans (a GpuScan's host op on devices), in order."""
    return [getattr(n.op, "host_op", n.op) for n in f.maker.fgraph.toposort()
            if isinstance(getattr(n.op, "host_op", n.op), Scan)]


def the_scan(f):
    [op] = scans(f)
    return op


def step_products(op):
    """The step's products, as (first input's kind, second input's kind)."""
    seqs, others = op.inner_inputs[:op.n_seqs], op.inner_inputs[op.shared_start + op.n_shared:]
    kind = {**{id(v): "sequence" for v in seqs}, **{id(v): "non-sequence" for v in others}}
    return [tuple(kind.get(id(x), "other") for x in n.inputs)
            for n in io_toposort(op.inner_inputs, op.inner_outputs) if isinstance(n.op, Dot)]


def rnn(x, h0, W, U):
    return clgraph.scan(lambda xt, hp, W, U: T.tanh(T.dot(hp, W) + T.dot(xt, U)), sequences=x,
                        outputs_info=h0, non_sequences=[W, U])[0]


def numpy_rnn(x, h0, W, U):
    hs, h = [], h0
    for xt in x:
        h = np.tanh(h @ W + xt @ U)
        hs.append(h)
    return np.stack(hs)


def test_the_rnn_input_product_leaves_the_loop(mode):
    x, h0, W, U = T.tensor3("x"), T.matrix("h0"), T.matrix("W"), T.matrix("U")
    f = clgraph.function([x, h0, W, U], rnn(x, h0, W, U), mode=mode)
    op = the_scan(f)
    assert step_products(op) == [("other", "non-sequence")]   # dot(h, W) stays; dot(x_t, U) left
    assert op.n_seqs == 1 and op.n_nonseqs == 1                # x_t and U are no longer read
    values = [RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((6, 3, 4), (3, 5), (5, 5), (4, 5))]
    np.testing.assert_allclose(f(*values), numpy_rnn(*values), rtol=1e-4, atol=1e-5)
    values[0] = values[0][:2]   # other lengths: the same compiled loop
    np.testing.assert_allclose(f(*values), numpy_rnn(*values), rtol=1e-4, atol=1e-5)


def test_what_the_step_computes_from_non_sequences_alone_leaves_the_loop(mode):
    # bias[None, :], W.T and 2 * scale computed once; then x_t @ W.T leaves as a product;
    # what constants alone give (1.5 broadcast to a matrix) stays, for kernels to inline
    x, h0, W, bias, scale = T.tensor3("x"), T.matrix("h0"), T.matrix("W"), T.vector("bias"), T.scalar("scale")
    h, _ = clgraph.scan(lambda xt, hp, W, bias, scale: T.tanh(T.dot(hp, W) + T.dot(xt, W.T) + bias[None, :])
                        * (2 * scale) * (1.5 - hp * 0.5), sequences=x, outputs_info=h0, non_sequences=[W, bias, scale])
    f = clgraph.function([x, h0, W, bias, scale], h, mode=mode)
    op = the_scan(f)
    assert step_products(op) == [("other", "non-sequence")]
    assert op.n_nonseqs == 3 and all(v.dtype == clgraph.config.floatX for v in op.inner_inputs)   # W, bias row, 2 * scale
    invariant = {id(v) for v in op.inner_inputs[op.shared_start:]}
    step = io_toposort(op.inner_inputs, op.inner_outputs)
    assert not [n for n in step if any(id(x) in invariant for x in n.inputs)
                and all(id(x) in invariant or isinstance(x, Constant) for x in n.inputs)]
    xv, h0v, Wv, bv = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((5, 3, 4), (3, 4), (4, 4), (4,)))
    hs, hv = [], h0v
    for xt in xv:
        hv = np.tanh(hv @ Wv + xt @ Wv.T + bv) * 0.8 * (1.5 - hv * 0.5)
        hs.append(hv)
    np.testing.assert_allclose(f(xv, h0v, Wv, bv, np.asarray(0.4, clgraph.config.floatX)), hs, rtol=1e-4, atol=1e-5)
    verify_grad(lambda x, h0, W, bias: (clgraph.scan(
        lambda xt, hp, W, bias: T.tanh(T.dot(hp, W.T) + xt + bias[None, :] * 2), sequences=x, outputs_info=h0,
        non_sequences=[W, bias])[0][-1] ** 2).sum(),
        [RNG.standard_normal(s) * 0.5 for s in ((4, 2, 3), (2, 3), (3, 3), (3,))], rng=RNG, mode=mode)


def test_vector_entries_and_a_sequence_still_read_stay_right(mode):
    x, W = T.matrix("x"), T.matrix("W")
    out, _ = clgraph.scan(lambda xt, acc, W: acc + T.dot(xt, W) * xt.sum(), sequences=x,
                          outputs_info=T.zeros_like(W[0]), non_sequences=W)
    f = clgraph.function([x, W], out, mode=mode)
    op = the_scan(f)
    assert step_products(op) == [] and op.n_seqs == 2   # x_t still read by xt.sum()
    xv, Wv = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((5, 3), (3, 3)))
    expected = np.cumsum([(xt @ Wv) * xt.sum() for xt in xv], axis=0)
    np.testing.assert_allclose(f(xv, Wv), expected, rtol=1e-4, atol=1e-5)


def test_a_product_with_the_sequence_second_is_left_in_the_loop(mode):
    x, W = T.matrix("x"), T.matrix("W")
    out, _ = clgraph.scan(lambda xt, W: T.dot(W, xt), sequences=x, non_sequences=W)
    f = clgraph.function([x, W], out, mode=mode)
    assert step_products(the_scan(f)) == [("non-sequence", "sequence")]
    xv, Wv = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((4, 3), (3, 3)))
    np.testing.assert_allclose(f(xv, Wv), xv @ Wv.T, rtol=1e-4, atol=1e-5)


def test_the_gradient_through_the_rewritten_loop(mode):
    # the product of x_t and U leaves the forward loop; the sums for W and U leave the
    # gradient loop
    verify_grad(lambda x, h0, W, U: (rnn(x, h0, W, U)[-1] ** 2).sum(),
                [RNG.standard_normal(s) * 0.5 for s in ((5, 2, 3), (2, 4), (4, 4), (3, 4))], rng=RNG, mode=mode)


def test_an_output_nothing_reads_is_not_computed(mode):
    x = T.vector("x")
    (doubled, total), _ = clgraph.scan(lambda xt, acc: [xt * 2, acc + xt], sequences=x,
                                       outputs_info=[None, T.zeros_like(x[0])])
    only_total = clgraph.function([x], total, mode=mode)
    assert the_scan(only_total).n_outputs == 1
    both = clgraph.function([x], [doubled, total], mode=mode)
    assert the_scan(both).n_outputs == 2
    xv = np.arange(5, dtype=clgraph.config.floatX)
    np.testing.assert_allclose(only_total(xv), np.cumsum(xv))
    np.testing.assert_allclose(both(xv)[0], 2 * xv)


def test_the_gradient_loop_reads_what_the_forward_loop_computed(mode):
    x, h0, W, U = T.tensor3("x"), T.matrix("h0"), T.matrix("W"), T.matrix("U")
    gW, gU = T.grad((rnn(x, h0, W, U)[-1] ** 2).sum(), [W, U])
    *_, backward = [n for n in io_toposort(graph_inputs([gW]), [gW]) if isinstance(n.op, Scan)]   # the last
    step = io_toposort(backward.op.inner_inputs, backward.op.inner_outputs)
    assert not [n for n in step if "tanh" in str(n.op)]   # tanh's gradient reads h_t: no tanh again
    f = clgraph.function([x, h0, W, U], [gW, gU], mode=mode)
    forward, gradient = scans(f)
    # the gradient at the step's pre-activation, carried (what goes back to h_{t-1} is
    # its product with W.T, which the next step computes), which the sums over the steps
    # for W and U read after the loop; x's gradient, not asked for, is not computed
    assert gradient.state_taps == ((-1,),)


def sum_of_products(n_steps=None):
    """acc_T of acc_t = acc_{t-1} + dot(x_t.T, tanh(x_t @ V)) from acc_0, and the scan's
    outputs."""
    x, V, acc0 = T.tensor3("x"), T.matrix("V"), T.matrix("acc0")
    acc, _ = clgraph.scan(lambda xt, acc, V: acc + T.dot(xt.T, T.tanh(T.dot(xt, V))), sequences=x,
                          outputs_info=acc0, non_sequences=V, n_steps=n_steps)
    return (x, V, acc0), acc


def numpy_sums(x, V, acc0, steps):
    return [acc0 + sum((xt.T @ np.tanh(xt @ V) for xt in x[:n]), np.zeros_like(acc0)) for n in steps]


@pytest.mark.parametrize("read", ["item", "slice"])
def test_a_sum_of_products_over_the_steps_is_one_product_after_the_loop(mode, read):
    n = T.iscalar("n")
    inputs, acc = sum_of_products(n)
    f = clgraph.function([*inputs, n], acc[-1] if read == "item" else acc[-1:], mode=mode)
    op = the_scan(f)
    assert op.state_taps == ((),) and step_products(op) == []   # both products left the loop
    values = [RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((6, 3, 4), (4, 2), (4, 2))]
    for steps in (6, 4, 0):   # all entries, fewer than the sequence has, none
        expected = numpy_sums(*values, [steps])[0]
        got = f(*values, steps)
        if read == "slice":
            assert got.shape == ((1, 4, 2) if steps else (0, 4, 2))
            expected = expected[None][:1 if steps else 0]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_a_sum_from_zeros_is_the_product_alone(mode):
    # a gradient loop's sums start at zeros: nothing is added to the product after the
    # loop (no fill of zeros, no add), and no step still gives zeros
    x, V, n = T.tensor3("x"), T.matrix("V"), T.iscalar("n")
    acc, _ = clgraph.scan(lambda xt, acc, V: acc + T.dot(xt.T, T.tanh(T.dot(xt, V))), sequences=x,
                          outputs_info=T.zeros((4, 2)), non_sequences=V, n_steps=n)
    f = clgraph.function([x, V, n], acc[-1], mode=mode)
    assert the_scan(f).state_taps == ((),)
    assert not [node for node in f.maker.fgraph.toposort() if "add" in str(node.op) or "second" in str(node.op)]
    xv, Vv = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((6, 3, 4), (4, 2)))
    for steps in (6, 0):
        expected = numpy_sums(xv, Vv, np.zeros((4, 2), xv.dtype), [steps])[0]
        np.testing.assert_allclose(f(xv, Vv, steps), expected, rtol=1e-4, atol=1e-4)


def test_a_gradient_loop_s_final_sums_are_the_products(mode):
    # BPTT gives a weight's gradient as join(zeros, its sum's last step)[-1] (zeros after
    # no step): with the sum pushed out from zeros, that is the product itself, no join
    x, W, h0 = T.tensor3("x"), T.matrix("W"), T.matrix("h0")
    h, _ = clgraph.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=h0, non_sequences=W)
    f = clgraph.function([x, h0, W], T.grad((h[-1] ** 2).sum(), W), mode=mode)
    fgraph = f.maker.fgraph
    assert not [node for node in fgraph.toposort() if "Join" in str(node.op) and all(
        "Subtensor{-1}" in str(client.op) for client, _ in fgraph.clients(node.outputs[0]) if client != "output")]
    xv, h0v, Wv = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((5, 2, 3), (2, 3), (3, 3)))
    hs, gW = [h0v], np.zeros_like(Wv)
    for xt in xv:
        hs.append(np.tanh(hs[-1] @ Wv + xt))
    gh = 2 * hs[-1]
    for t in range(len(xv) - 1, -1, -1):
        gz = gh * (1 - hs[t + 1] ** 2)
        gW, gh = gW + hs[t].T @ gz, gz @ Wv.T
    np.testing.assert_allclose(f(xv, h0v, Wv), gW, rtol=1e-4, atol=1e-4)


def test_a_sum_read_at_every_step_stays_in_the_loop(mode):
    inputs, acc = sum_of_products()
    f = clgraph.function(inputs, acc, mode=mode)
    assert the_scan(f).state_taps == ((-1,),)
    values = [RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((5, 3, 4), (4, 2), (4, 2))]
    np.testing.assert_allclose(f(*values), numpy_sums(*values, range(1, 6)), rtol=1e-4, atol=1e-4)


def test_a_sum_the_step_also_reads_stays_in_the_loop(mode):
    x, g = T.tensor3("x"), T.tensor3("g")
    acc0 = T.matrix("acc0")

    def step(xt, gt, acc):
        total = acc + T.dot(xt.T, gt)
        return total, total.sum()   # the new sum read again in the step

    (acc, sums), _ = clgraph.scan(step, sequences=[x, g], outputs_info=[acc0, None])
    f = clgraph.function([x, g, acc0], [acc[-1], sums], mode=mode)
    assert the_scan(f).state_taps[0] == (-1,)
    xv, gv, a0 = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((4, 3, 2), (4, 3, 5), (2, 5)))
    totals = np.cumsum([xt.T @ gt for xt, gt in zip(xv, gv)], axis=0) + a0
    last, got_sums = f(xv, gv, a0)
    np.testing.assert_allclose(last, totals[-1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_sums, totals.sum(axis=(1, 2)), rtol=1e-4, atol=1e-3)


def test_a_product_pushed_out_of_a_shorter_loop_reads_only_its_steps(mode):
    x, W, n = T.matrix("x"), T.matrix("W"), T.iscalar("n")
    out, _ = clgraph.scan(lambda xt, W: T.tanh(T.dot(xt, W)), sequences=x, non_sequences=W, n_steps=n)
    f = clgraph.function([x, W, n], out, mode=mode)
    [product] = [node for node in f.maker.fgraph.toposort() if "Dot" in str(node.op) or "Gemm" in str(node.op)]
    assert any("Subtensor" in str(v.owner.op) for v in product.inputs if v.owner is not None)   # x[:n]
    xv, Wv = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((50, 3), (3, 4)))
    np.testing.assert_allclose(f(xv, Wv, 2), np.tanh(xv[:2] @ Wv), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("read", ["every step", "the last step", "the last step as a slice"])
def test_an_output_that_is_a_product_is_carried_as_its_operand(mode, read):
    # o_t = dot(tanh(o_{t-1} + x_t), B) from zeros: the loop carries d_t = tanh(o_{t-1} + x_t)
    # and reads o_{t-1} as dot(d_{t-1}, B); the o_t are products of the d_t after the loop
    x, B = T.tensor3("x"), T.matrix("B")
    o, _ = clgraph.scan(lambda xt, op, B: T.dot(T.tanh(op + xt), B), sequences=x,
                        outputs_info=T.zeros((x.shape[1], x.shape[2]), dtype=x.dtype), non_sequences=B)
    out = {"every step": o, "the last step": o[-1], "the last step as a slice": o[-1:]}[read]
    f = clgraph.function([x, B], out, mode=mode)
    op = the_scan(f)
    assert step_products(op) == [("other", "non-sequence")]   # dot(d_{t-1}, B), read by tanh
    inner = io_toposort(op.inner_inputs, op.inner_outputs)
    assert op.inner_outputs[0].owner in inner and "tanh" in str(op.inner_outputs[0].owner.op)
    xv, Bv = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((5, 3, 4), (4, 4)))
    hs, ov = [], np.zeros((3, 4), xv.dtype)
    for xt in xv:
        ov = np.tanh(ov + xt) @ Bv
        hs.append(ov)
    expected = {"every step": np.stack(hs), "the last step": hs[-1], "the last step as a slice": hs[-1:]}[read]
    np.testing.assert_allclose(f(xv, Bv), expected, rtol=1e-4, atol=1e-5)
    if read != "the last step":
        assert f(xv[:0], Bv).shape == (0, 3, 4)   # no step: no o_t


def test_a_product_output_that_does_not_start_at_zeros_stays(mode):
    x, B, o0 = T.tensor3("x"), T.matrix("B"), T.matrix("o0")
    o, _ = clgraph.scan(lambda xt, op, B: T.dot(T.tanh(op + xt), B), sequences=x, outputs_info=o0, non_sequences=B)
    f = clgraph.function([x, B, o0], o, mode=mode)
    assert step_products(the_scan(f)) == [("other", "non-sequence")]
    assert the_scan(f).inner_outputs[0].owner.op.__class__ is Dot
    xv, Bv, o0v = (RNG.standard_normal(s).astype(clgraph.config.floatX) for s in ((4, 3, 4), (4, 4), (3, 4)))
    hs, ov = [], o0v
    for xt in xv:
        ov = np.tanh(ov + xt) @ Bv
        hs.append(ov)
    np.testing.assert_allclose(f(xv, Bv, o0v), hs, rtol=1e-4, atol=1e-5)
