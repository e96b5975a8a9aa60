"""Graph rewrites: merge, constant folding, canonicalize, elementwise fusion, their
selection by optimizer names and flags, and the FunctionGraph bookkeeping they use.

Each rewritten graph is checked twice: its nodes, and its values against the reference
evaluation of the graph the user built (``Variable.eval``). Functions are compiled with
the host linker ("py") so that ``f.maker.fgraph`` is the rewritten graph itself, before
any placement on devices.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clgraph
import clgraph.tensor as T
from clgraph import config, function
from clgraph.graph import Apply, FunctionGraph, Op, ancestors, graph_inputs
from clgraph.rewrite import REWRITES
from clgraph.rewrite.basic import MAX_FOLDED_SIZE, MAX_FUSED_INPUTS, MAX_FUSED_STEPS
from clgraph.rewrite.db import selected
from clgraph.scalar import Composite
from clgraph.tensor.type import TensorType

float32 = config.change_flags(floatX="float32")


def compile_host(inputs, outputs, optimizer="fast_run"):
    return function(inputs, outputs, mode=clgraph.Mode(optimizer, "py"), on_unused_input="ignore")


def nodes(f):
    return f.maker.fgraph.toposort()


def op_names(f):
    return [str(node.op) for node in nodes(f)]


def reference(outputs, values):
    """Each output evaluated by the reference evaluator on the user's graph."""
    results = []
    for out in outputs:
        used = {id(v) for v in graph_inputs([out])}
        results.append(out.eval({var: value for var, value in values.items() if id(var) in used}))
    return results


def check_values(f, inputs, outputs, values, rtol=1e-7, atol=0.0):
    """``f`` (compiled from ``outputs``) agrees with the reference: dtypes, shapes, values."""
    got = f(*[values[v] for v in inputs])
    got = got if isinstance(got, list) else [got]
    for result, expected in zip(got, reference(outputs, values)):
        assert result.dtype == expected.dtype and result.shape == expected.shape
        np.testing.assert_allclose(result, expected, rtol=rtol, atol=atol)


def is_acyclic_in_order(fgraph):
    computed = set(map(id, fgraph.inputs))
    for node in fgraph.toposort():
        if any(v.owner is not None and id(v) not in computed for v in node.inputs):
            return False
        computed.update(map(id, node.outputs))
    return True


RNG = np.random.default_rng(7)


def rand(*shape, dtype="float64"):
    return RNG.uniform(-2, 2, size=shape).astype(dtype)


# -- the database -------------------------------------------------------------------------------

def test_passes_run_in_order_with_their_tags():
    assert [r.name for r in selected("fast_run")] == [
        "merge", "canonicalize", "stabilize", "constant_folding", "canonicalize_after_folding",
        "merge_after_folding", "scan_drop_unused_outputs", "scan_push_out_invariants", "scan_push_out_products",
        "scan_push_out_sums", "scan_carry_product_operands", "gemm",
        "scan_keep_last", "lazy_ifelse", "elemwise_fusion", "merge_after_fusion"]
    assert [r.name for r in selected("fast_compile")] == [
        "merge", "stabilize", "constant_folding", "merge_after_folding", "lazy_ifelse", "merge_after_fusion"]
    assert [r.name for r in selected("merge")] == ["merge", "merge_after_folding", "merge_after_fusion"]
    assert selected("None") == []
    merges = ("merge", "merge_after_folding", "merge_after_fusion")
    assert all({"merge", "fast_run", "fast_compile"} <= REWRITES[name].tags for name in merges)
    assert [r.name for r in selected("fast_run", excluding="merge:canonicalize")] == [
        "stabilize", "constant_folding", "scan_drop_unused_outputs", "scan_push_out_invariants",
        "scan_push_out_products", "scan_push_out_sums", "scan_carry_product_operands",
        "gemm", "scan_keep_last", "lazy_ifelse", "elemwise_fusion"]


# -- the seeds' fusion examples ------------------------------------------------------------

@float32
def test_seed_x_plus_y_times_x_is_one_composite_node():
    x, y = T.matrices("x", "y")
    z = (x + y) * x
    f = compile_host([x, y], z)
    (node,) = nodes(f)
    assert str(node.op) == "Elemwise{Composite{((i0 + i1) * i0)}}"
    assert node.inputs == f.maker.fgraph.inputs
    values = {x: rand(2, 3, dtype="float32"), y: rand(2, 3, dtype="float32")}
    check_values(f, [x, y], [z], values)
    # the user's graph is untouched
    assert str(z.owner.op) == "Elemwise{mul,no_inplace}"
    assert str(z.owner.inputs[0].owner.op) == "Elemwise{add,no_inplace}"


@float32
def test_seed_fusion_in_the_default_mode():
    x, y = T.matrices("x", "y")
    z = (x + y) * x
    f = function([x, y], z)   # placed on a device: GpuElemwise{...} between transfers, as in the seed
    elementwise = [str(node.op) for node in nodes(f) if "Elemwise{" in str(node.op)]
    assert len(elementwise) == 1
    # the uploaded copy of x is needed by nobody else: the kernel writes over it
    assert elementwise[0] == "GpuElemwise{Composite{((i0 + i1) * i0)}}[(0, 0)]"
    xv, yv = rand(2, 3, dtype="float32"), rand(2, 3, dtype="float32")
    np.testing.assert_allclose(f(xv, yv), (xv + yv) * xv, rtol=1e-6)


@float32
def test_seed_a_plus_a_pow_10_is_one_node():
    a = T.vector("a")
    b = a + a ** 10
    f = compile_host([a], b)
    (node,) = nodes(f)
    assert isinstance(node.op.scalar_op, Composite)
    assert str(node.op) == "Elemwise{Composite{(i0 + (i0 ** i1))}}"
    np.testing.assert_array_equal(f([0, 1, 2]), [0.0, 2.0, 1026.0])
    assert f([0, 1, 2]).dtype == np.float32


# -- elementwise fusion ----------------------------------------------------------------------

def test_a_chain_of_five_elementwise_ops_is_one_node():
    x = T.dmatrix("x")
    out = T.sin(T.cos(T.exp(T.tanh(-x))))
    f = compile_host([x], out)
    (node,) = nodes(f)
    assert str(node.op) == "Elemwise{Composite{sin(cos(exp(tanh((-i0)))))}}"
    assert len(node.op.scalar_op.body) == 5
    check_values(f, [x], [out], {x: rand(3, 4)})


def test_a_long_chain_is_cut_into_composites_of_bounded_size():
    x = T.dvector("x")
    out = x
    for _ in range(2 * MAX_FUSED_STEPS + 10):
        out = T.sin(out)
    f = compile_host([x], out)
    sizes = [len(node.op.scalar_op.body) for node in nodes(f)]
    assert len(sizes) == 3 and max(sizes) == MAX_FUSED_STEPS and sum(sizes) == 2 * MAX_FUSED_STEPS + 10
    assert all(str(node.op).startswith("Elemwise{Composite{sin(") for node in nodes(f))
    check_values(f, [x], [out], {x: rand(3)})


def test_a_composite_takes_a_bounded_number_of_inputs():
    xs = [T.dvector(f"x{k}") for k in range(MAX_FUSED_INPUTS + 8)]
    out = xs[0]
    for x in xs[1:]:
        out = T.tanh(out) + x
    f = compile_host(xs, out)
    assert len(nodes(f)) == 2 and max(node.nin for node in nodes(f)) == MAX_FUSED_INPUTS
    check_values(f, xs, [out], {x: rand(2) for x in xs}, rtol=1e-12)


def test_an_intermediate_also_returned_becomes_a_second_output():
    x, y = T.dmatrices("x", "y")
    a = T.exp(x) * y
    b = T.tanh(a) + 1
    f = compile_host([x, y], [b, a])
    (node,) = nodes(f)
    assert node.nout == 2
    assert f.maker.fgraph.outputs == node.outputs
    assert str(node.op) == "Elemwise{Composite{(tanh((exp(i0) * i1)) + i2), (exp(i0) * i1)}}"
    check_values(f, [x, y], [b, a], {x: rand(2, 3), y: rand(2, 3)})


def test_an_intermediate_used_by_another_op_becomes_a_second_output():
    x = T.dmatrix("x")
    a = T.exp(x) * 2
    out = T.tanh(a) + T.dot(a, x.T).sum()
    f = compile_host([x], out)
    composites = [n for n in nodes(f) if isinstance(getattr(n.op, "scalar_op", None), Composite)]
    assert is_acyclic_in_order(f.maker.fgraph)
    assert len(composites) >= 1 and all(len(n.op.scalar_op.body) >= 2 for n in composites)
    check_values(f, [x], [out], {x: rand(3, 3)}, rtol=1e-12)


def test_fusion_never_makes_a_cycle_through_a_reduction():
    x = T.dmatrix("x")
    a = T.exp(x)
    out = a + a.sum()   # exp and add cannot be one node: the sum needs exp first
    f = compile_host([x], out)
    assert is_acyclic_in_order(f.maker.fgraph)
    assert any(name.startswith("Sum") for name in op_names(f))
    check_values(f, [x], [out], {x: rand(2, 3)}, rtol=1e-12)


def test_fusion_of_mixed_dtypes_keeps_every_step_dtype():
    x = T.dmatrix("x")
    i = T.imatrix("i")
    out = T.cast(T.exp(x), "float32") * T.switch(i > 0, 2, 3) + i
    f = compile_host([x, i], out)
    assert sum(isinstance(getattr(n.op, "scalar_op", None), Composite) for n in nodes(f)) == 1
    assert len(nodes(f)) == 1 + sum(name.startswith("InplaceDimShuffle") for name in op_names(f))
    values = {x: rand(2, 3), i: RNG.integers(-2, 3, size=(2, 3)).astype("int32")}
    check_values(f, [x, i], [out], values)


def test_fusion_takes_broadcast_inputs_but_not_broadcast_intermediates():
    x = T.dmatrix("x")
    v = T.dvector("v")
    times = T.exp(x) * v          # v is broadcast: an input of the fused node
    plus = T.exp(v) + x           # exp(v) has another shape than the sum: stays apart
    f = compile_host([x, v], [times, plus])
    composites = [n for n in nodes(f) if isinstance(getattr(n.op, "scalar_op", None), Composite)]
    assert [str(n.op) for n in composites] == ["Elemwise{Composite{(exp(i0) * i1)}}"]
    assert "Elemwise{exp,no_inplace}" in op_names(f) and "Elemwise{add,no_inplace}" in op_names(f)
    check_values(f, [x, v], [times, plus], {x: rand(2, 3), v: rand(3)})


def test_fusion_keeps_a_node_of_a_smaller_static_shape_apart():
    x = T.dmatrix("x")
    r = T.drow("r")
    out = T.exp(r) + x            # exp once per column, not once per element
    f = compile_host([x, r], out)
    assert op_names(f) == ["Elemwise{exp,no_inplace}", "Elemwise{add,no_inplace}"]
    check_values(f, [x, r], [out], {x: rand(2, 3), r: rand(1, 3)})


def test_a_fused_node_joins_a_later_group():
    x = T.dmatrix("x")
    a = T.exp(x)
    b, c = a * 2, a + 1
    f = compile_host([x], [c, b])   # b's group takes exp; then c's group takes that node
    (node,) = nodes(f)
    assert str(node.op) == "Elemwise{Composite{(exp(i0) + i2), (exp(i0) * i1)}}"
    assert [op.name for op, _, _ in node.op.scalar_op.body] == ["exp", "mul", "add"]
    check_values(f, [x], [c, b], {x: rand(2, 3)})


def test_fusion_never_takes_other_ops():
    x = T.dmatrix("x")
    out = T.exp(T.exp(x).T)
    f = compile_host([x], out)
    assert op_names(f) == ["Elemwise{exp,no_inplace}", "InplaceDimShuffle{1,0}", "Elemwise{exp,no_inplace}"]
    check_values(f, [x], [out], {x: rand(2, 3)})


# -- merge -----------------------------------------------------------------------------------

def test_merge_shares_identical_subexpressions():
    x = T.dmatrix("x")
    out = T.exp(x) + T.exp(x)
    f = compile_host([x], out, optimizer="merge")
    assert op_names(f) == ["Elemwise{exp,no_inplace}", "Elemwise{add,no_inplace}"]
    (add,) = [n for n in nodes(f) if str(n.op) == "Elemwise{add,no_inplace}"]
    assert add.inputs[0] is add.inputs[1]
    check_values(f, [x], [out], {x: rand(2, 2)})
    # under fast_run the merged exp is one step of the fused node
    (node,) = nodes(compile_host([x], out))
    assert [op.name for op, _, _ in node.op.scalar_op.body] == ["exp", "add"]


def test_merge_shares_equal_constants_and_keeps_different_ones():
    x = T.dvector("x")
    out = (x + np.float64(2)) * (x + np.float64(2)) + (x + np.float32(2))
    f = compile_host([x], out, optimizer="merge")
    adds = [n for n in nodes(f) if str(n.op) == "Elemwise{add,no_inplace}"]
    assert len(adds) == 3   # x + 2.0 (float64) shared, x + 2.0 (float32) kept, the final sum
    check_values(f, [x], [out], {x: rand(4)})


def test_merge_of_duplicate_outputs():
    x = T.dvector("x")
    f = compile_host([x], [T.exp(x), T.exp(x)], optimizer="merge")
    assert len(nodes(f)) == 1
    a, b = f(np.array([0.0, 1.0]))
    np.testing.assert_allclose(a, np.exp([0.0, 1.0]))
    np.testing.assert_allclose(b, np.exp([0.0, 1.0]))


# -- constant folding ------------------------------------------------------------------------

def test_constant_subexpressions_are_folded_with_their_types():
    x = T.dmatrix("x")
    c = T.exp(T.constant(2.0, dtype="float64")) * 3
    out = x + c
    f = compile_host([x], out, optimizer="fast_compile")
    (node,) = nodes(f)
    assert str(node.op) == "Elemwise{add,no_inplace}"
    folded = node.inputs[1]
    assert isinstance(folded, T.TensorConstant) and folded.type == TensorType("float64", (1, 1))
    np.testing.assert_allclose(folded.data, [[np.exp(2.0) * 3]])
    check_values(f, [x], [out], {x: rand(2, 3)})


def test_folding_keeps_broadcasts_large_results_and_outputs():
    x = T.dmatrix("x")
    zeros = T.zeros((3, 4))                      # an Alloc: not materialized
    big = T.constant(np.ones(MAX_FOLDED_SIZE + 1)) * 2
    f = compile_host([x], [x + zeros, big.sum(), T.constant(3.0) * 2], optimizer="fast_compile")
    names = op_names(f)
    assert any(name.startswith("Alloc") for name in names)
    assert "Elemwise{mul,no_inplace}" in names
    a, s, six = f(np.ones((3, 4)))
    np.testing.assert_array_equal(a, np.ones((3, 4)))
    assert s == 2 * (MAX_FOLDED_SIZE + 1) and six == 6.0


class _Fails(Op):
    """An op that always fails when it runs."""

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        raise ValueError("this op always fails")


def test_folding_leaves_failing_nodes_to_fail_when_called():
    x = T.dvector("x")
    f = compile_host([x], x + _Fails()(T.constant(np.arange(3.0))))
    assert "_Fails" in op_names(f)
    with pytest.raises(ValueError, match="always fails"):
        f(np.ones(3))


# -- canonicalize ----------------------------------------------------------------------------

def _double_dimshuffle(x, y):
    return x.dimshuffle(1, 0).dimshuffle(1, 0)


@pytest.mark.parametrize("build", [
    lambda x, y: x * 1, lambda x, y: 1 * x * 1, lambda x, y: x + 0, lambda x, y: 0 + x,
    lambda x, y: x - 0, lambda x, y: x / 1, lambda x, y: x ** 1, lambda x, y: x * y.sum() / y.sum(),
    lambda x, y: -(-x), _double_dimshuffle, lambda x, y: x.dimshuffle(0, 1),
    lambda x, y: T.Elemwise("identity", "float64")(x), lambda x, y: -(-(x * 1)) + 0,
], ids=["x*1", "1*x*1", "x+0", "0+x", "x-0", "x/1", "x**1", "x*s/s", "--x", "dimshuffle2",
        "identity-dimshuffle", "same-cast", "nested"])
def test_canonical_rewrites_give_back_the_input(build):
    x, y = T.dmatrices("x", "y")
    out = build(x, y)
    f = compile_host([x, y], out)
    assert nodes(f) == [] and f.maker.fgraph.outputs[0] is f.maker.fgraph.inputs[0]
    values = {x: rand(2, 3), y: rand(2, 3)}
    result = f(values[x], values[y])
    np.testing.assert_allclose(result, reference([out], values)[0], rtol=1e-14)
    assert result is not values[x]   # an output that is an input is still the caller's own


def test_x_times_y_over_y_keeps_the_broadcast_shape():
    x, y = T.dmatrices("x", "y")
    out = x * y / y                     # y may broadcast x at run time: x is filled to its shape
    f = compile_host([x, y], out)
    assert op_names(f) == ["Elemwise{second,no_inplace}"]
    check_values(f, [x, y], [out], {x: rand(1, 3), y: rand(2, 3)})
    fixed = T.tensor("float64", (2, 3), name="fixed")
    out = fixed * y / y                 # here y cannot make the result larger: just x
    f = compile_host([fixed, y], out)
    assert nodes(f) == [] and f.maker.fgraph.outputs[0] is f.maker.fgraph.inputs[0]
    check_values(f, [fixed, y], [out], {fixed: rand(2, 3), y: rand(2, 3)})


def test_canonical_rewrites_of_part_of_a_product():
    x, y, z = T.dmatrices("x", "y", "z")
    out = (x * z * y) / y + x * 1 * z   # y may broadcast x * z: (x * z) filled to y's shape
    f = compile_host([x, y, z], out, optimizer="fast_run")
    (node,) = nodes(f)
    # x * z * y / y and x * 1 * z both become x * z, which merge then shares
    assert [op.name for op, _, _ in node.op.scalar_op.body] == ["mul", "second", "add"]
    assert str(node.op) == "Elemwise{Composite{(fill(i2, (i0 * i1)) + (i0 * i1))}}"
    values = {x: rand(2, 3), y: rand(2, 3), z: rand(2, 3)}
    check_values(f, [x, y, z], [out], values, rtol=1e-12)


def test_an_index_into_an_inserted_axis_is_dropped_with_the_axis():
    x = T.dmatrix("x")
    out = x.dimshuffle("x", 0, 1)[0] + x.dimshuffle("x", 1, 0)[-1].T
    with config.change_flags(optimizer_excluding="elemwise_fusion"):
        f = compile_host([x], out)
    assert not [name for name in op_names(f) if "Subtensor" in name]
    check_values(f, [x], [out], {x: rand(3, 3)})


def test_dimshuffles_compose_into_one():
    x = T.dmatrix("x")
    out = x.dimshuffle(1, "x", 0).dimshuffle(2, 1, 0)
    with config.change_flags(optimizer_excluding="elemwise_fusion"):
        f = compile_host([x], out)
    assert op_names(f) == ["InplaceDimShuffle{0,x,1}"]
    check_values(f, [x], [out], {x: rand(2, 3)})


@pytest.mark.parametrize("build", [
    lambda x: x * T.constant(np.ones((3, 4), "float32")),   # the constant broadcasts x
    lambda x: x * 1.5 / np.float64(1.5),           # float32 * 1.5 / float64 1.5 is float64
    lambda x: T.cast(x, "int8") * 1,               # int8 * int8 stays, only the mul goes
    lambda x: x + np.float64(0.0),                 # float32 + float64 0: the dtype changes
])
def test_canonical_rewrites_that_would_change_the_type_are_skipped(build):
    x = T.row("x", dtype="float32")
    out = build(x)
    f = compile_host([x], out, optimizer="fast_run")
    assert nodes(f) and f.maker.fgraph.outputs[0].type == out.type
    check_values(f, [x], [out], {x: rand(1, 4, dtype="float32")}, rtol=1e-6)


def test_integer_division_is_not_cancelled():
    x, y = T.imatrices("x", "y")
    out = x * y // y
    f = compile_host([x, y], out)
    assert nodes(f)
    values = {x: np.array([[3, -4]], "int32"), y: np.array([[2, 5]], "int32")}
    check_values(f, [x, y], [out], values)


# -- selection by optimizer names and flags --------------------------------------------------

def _selection_graph():
    x = T.dmatrix("x")
    return x, T.exp(x * 1) + T.exp(x * 1)


def test_optimizer_none_leaves_the_graph_alone():
    x, out = _selection_graph()
    f = compile_host([x], out, optimizer="None")
    assert len(nodes(f)) == 7   # two DimShuffles of 1, two muls, two exps, the add
    check_values(f, [x], [out], {x: rand(2, 2)})


def test_excluding_fusion_by_flag():
    x, out = _selection_graph()
    with config.change_flags(optimizer_excluding="elemwise_fusion"):
        f = compile_host([x], out)
    assert op_names(f) == ["Elemwise{exp,no_inplace}", "Elemwise{add,no_inplace}"]
    check_values(f, [x], [out], {x: rand(2, 2)})
    (node,) = nodes(compile_host([x], out))   # the flag was restored
    assert str(node.op) == "Elemwise{Composite{(exp(i0) + exp(i0))}}"


def test_excluding_canonicalize_and_merge_by_flag():
    x, out = _selection_graph()
    with config.change_flags(optimizer_excluding="canonicalize:merge"):
        f = compile_host([x], out)
    (node,) = nodes(f)
    body = [op.name for op, _, _ in node.op.scalar_op.body]
    assert body == ["mul", "exp", "mul", "exp", "add"]
    check_values(f, [x], [out], {x: rand(2, 2)})


def test_including_a_pass_by_name():
    x, out = _selection_graph()
    with config.change_flags(optimizer_including="canonicalize"):
        f = compile_host([x], out, optimizer="merge")
    assert op_names(f) == ["Elemwise{exp,no_inplace}", "Elemwise{add,no_inplace}"]
    with config.change_flags(optimizer="merge", optimizer_including="elemwise_fusion"):
        f = function([x], out, mode=clgraph.Mode(linker="py"))
    dimshuffle, node = nodes(f)   # no constant folding: the 1 stays DimShuffled
    assert str(dimshuffle.op) == "InplaceDimShuffle{x,x}"
    assert [op.name for op, _, _ in node.op.scalar_op.body] == ["mul", "exp", "add"]
    check_values(f, [x], [out], {x: rand(2, 2)})


def test_unknown_tag_is_an_error():
    x, out = _selection_graph()
    with config.change_flags(optimizer_excluding="no_such_pass"):
        with pytest.raises(ValueError, match="no_such_pass"):
            compile_host([x], out)


# -- FunctionGraph bookkeeping ---------------------------------------------------------------

def test_replace_changes_the_clients_in_place_and_prunes():
    x, y = T.dmatrices("x", "y")
    fg = FunctionGraph([x, y], [T.exp(x + y) * x])
    fx, fy = fg.inputs
    add, exp, mul = fg.toposort()
    fg.replace(add.outputs[0], fx * fy)
    assert exp.inputs[0].owner.op == mul.op and exp in fg and mul in fg and add not in fg
    assert fg.clients(fy) == [(exp.inputs[0].owner, 1)]
    assert fg.apply_nodes == set(fg.toposort()) and len(fg.apply_nodes) == 3
    fg.replace(exp.outputs[0], fx)
    assert fg.toposort() == [mul] and fg.clients(fy) == []
    assert sorted(index for _, index in fg.clients(fx)) == [0, 1]


def test_replace_that_would_make_a_cycle_is_refused():
    x = T.dmatrix("x")
    fg = FunctionGraph([x], [T.exp(T.exp(x))])
    inner, outer = fg.toposort()
    with pytest.raises(ValueError, match="cycle"):
        fg.replace(inner.outputs[0], outer.outputs[0])
    assert fg.toposort() == [inner, outer] and fg.clients(inner.outputs[0]) == [(outer, 0)]
    fx = fg.inputs[0]
    fg.replace(fx, fx + 1)   # not a cycle: the new node reads the old variable
    assert [str(n.op) for n in fg.toposort()][-2:] == ["Elemwise{exp,no_inplace}"] * 2


def test_replace_needs_known_inputs():
    x = T.dmatrix("x")
    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.raises(ValueError, match="stranger"):
        fg.replace(fg.outputs[0], T.dmatrix("stranger"))


def test_reassigned_outputs_update_the_clients():
    x = T.dmatrix("x")
    fg = FunctionGraph([x], [T.exp(x)])
    fx = fg.inputs[0]
    fg.outputs = [T.sin(fx)]
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{sin,no_inplace}"]
    assert fg.clients(fx) == [(fg.toposort()[0], 0)]


# -- random elementwise graphs: rewritten and reference agree ------------------------------------

UNARY = {
    "neg": lambda a: -a, "abs": abs, "tanh": T.tanh, "sin": T.sin, "exp_tanh": lambda a: T.exp(T.tanh(a)),
    "double_neg": lambda a: -(-a), "times_one": lambda a: a * 1, "plus_zero": lambda a: 0 + a,
    "plus_sum": lambda a: a + a.sum(), "transpose_twice": lambda a: a.T.T,
    "to_float32": lambda a: T.cast(a, "float32"), "to_float64": lambda a: T.cast(a, "float64"),
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "maximum": T.maximum, "div": lambda a, b: a / (b * b + 1),
    "cancel": lambda a, b: a * (b * b + 1) / (b * b + 1),
    # a threshold, not a > b: x * y / y and x may differ by a rounding, and so compare
    "switch": lambda a, b: T.switch(a > 0.5, a, b * 2),
}


@st.composite
def elementwise_graphs(draw):
    ndim = draw(st.sampled_from([2, 1, 3, 0]))
    full = draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim))
    inputs, values = [], {}
    for k in range(draw(st.integers(1, 3))):
        own = draw(st.integers(0, ndim))
        shape = [draw(st.sampled_from([n, 1])) for n in full[ndim - own:]]
        static = [1 if n == 1 and draw(st.booleans()) else None for n in shape]
        dtype = draw(st.sampled_from(["float32", "float64"]))
        var = TensorType(dtype, static)(f"in{k}")
        inputs.append(var)
        values[var] = np.random.default_rng(k).uniform(-2, 2, size=shape).astype(dtype)
    pool = list(inputs)
    for _ in range(draw(st.integers(2, 8))):
        if draw(st.booleans()):
            pool.append(UNARY[draw(st.sampled_from(sorted(UNARY)))](draw(st.sampled_from(pool))))
        else:
            a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
            pool.append(BINARY[draw(st.sampled_from(sorted(BINARY)))](a, b))
    extra = draw(st.lists(st.sampled_from(pool[len(inputs):]), max_size=2))
    return inputs, [pool[-1]] + extra, values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elementwise_graphs())
def test_random_elementwise_graphs_agree_with_the_reference(graph):
    inputs, outputs, values = graph
    f = compile_host(inputs, outputs)
    assert is_acyclic_in_order(f.maker.fgraph)
    assert [o.type for o in f.maker.fgraph.outputs] == [o.type for o in outputs]
    float32_involved = any(v.dtype == "float32" for v in ancestors(outputs))
    tolerance = 1e-4 if float32_involved else 1e-10
    check_values(f, inputs, outputs, values, rtol=tolerance, atol=tolerance)
