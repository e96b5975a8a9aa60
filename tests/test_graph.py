"""The graph core: variables, constants, Apply nodes, ops, traversals, FunctionGraph,
the tensor constructors, TensorType and its filter, and the errors of ``eval``."""
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import config
from clgraph.graph import (Apply, Constant, FunctionGraph, Op, Variable, ancestors, clone_replace,
                           graph_inputs, io_toposort)
from clgraph.tensor import DimShuffle, Elemwise, TensorConstant, TensorType, TensorVariable

float32 = config.change_flags(floatX="float32")


# -- Variable, Constant, Apply ---------------------------------------------------------------

@float32
def test_input_variable_attributes():
    x = T.matrix("x")
    assert isinstance(x, TensorVariable) and isinstance(x, Variable)
    assert x.name == "x"
    assert x.type == TensorType("float32", (None, None))
    assert x.owner is None and x.index is None
    assert isinstance(x.tag, SimpleNamespace)
    x.tag.test_value = 1
    assert x.tag.test_value == 1
    assert x.ndim == 2 and x.dtype == "float32" and x.broadcastable == (False, False)


@float32
def test_variable_reprs():
    x, y = T.matrix("x"), T.matrix("y")
    z = x + y
    assert repr(z) == str(z) == "Elemwise{add,no_inplace}.0"
    assert repr(T.scalar()) == "<TensorType(float32, scalar)>"
    assert repr(x) == "x"
    z.name = "z"
    assert repr(z) == "z"
    assert repr(T.constant(2.0)) == "TensorConstant{2.0}"
    assert repr(T.constant(2)) == "TensorConstant{2}"


@float32
def test_output_variable_has_owner_and_index():
    x, y = T.matrices("x", "y")
    z = x + y
    node = z.owner
    assert isinstance(node, Apply)
    assert node.outputs == [z] and z.index == 0
    assert node.inputs == [x, y]
    assert node.out is z
    assert node.nin == 2 and node.nout == 1
    assert isinstance(node.op, Elemwise)
    assert str(node) == "Elemwise{add,no_inplace}(x, y)"


def test_seed_graph_structure_of_x_times_a_python_float():
    x = T.dmatrix("x")
    y = x * 2.
    assert y.owner.op.name == "Elemwise{mul,no_inplace}"
    assert len(y.owner.inputs) == 2
    assert y.owner.inputs[0] is x
    assert str(y.owner.inputs[1]) == "InplaceDimShuffle{x,x}.0"
    assert repr(y.owner.inputs[1]) == "InplaceDimShuffle{x,x}.0"
    assert type(y.owner.inputs[1]) is TensorVariable
    assert type(y.owner.inputs[1].owner) is Apply
    assert isinstance(y.owner.inputs[1].owner.op, DimShuffle)
    assert repr(y.owner.inputs[1].owner.inputs) == "[TensorConstant{2.0}]"
    two = y.owner.inputs[1].owner.inputs[0]
    assert isinstance(two, TensorConstant) and two.owner is None
    assert two.dtype == "float64" and two.data == 2.0
    assert y.dtype == "float64"


class _Split(Op):
    """An op with two outputs."""

    def make_node(self, x):
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs):
        return [inputs[0] * 1, inputs[0] * 2]


def test_multi_output_apply():
    x = T.dvector("x")
    first, second = _Split()(x)
    assert first.owner is second.owner
    assert (first.index, second.index) == (0, 1)
    assert repr(second) == "_Split.1"
    with pytest.raises(ValueError, match="2 outputs"):
        first.owner.out
    np.testing.assert_array_equal(second.eval({x: np.array([1.0, 2.0])}), [2.0, 4.0])


def test_constant():
    c = T.constant(np.arange(3.0))
    assert isinstance(c, Constant) and isinstance(c, TensorConstant)
    assert c.owner is None
    np.testing.assert_array_equal(c.data, [0.0, 1.0, 2.0])
    assert c.type == TensorType("float64", (3,))
    twin = T.constant(np.arange(3.0))
    assert twin is not c and twin.signature() == c.signature()
    assert T.constant(np.arange(3)).signature() != c.signature()
    copy = c.clone()
    assert copy is not c and isinstance(copy, TensorConstant)
    np.testing.assert_array_equal(copy.data, c.data)
    assert T.constant(3, name="three").name == "three"
    assert str(T.constant(np.ones((2, 2)))) == "TensorConstant{(2, 2) of 1.0}"
    np.testing.assert_array_equal(c.eval(), [0.0, 1.0, 2.0])


def test_variable_clone_is_a_fresh_input():
    x = T.dmatrix("x")
    x.tag.note = "kept"
    y = x + 1
    copy = y.clone()
    assert copy.owner is None and copy.name == y.name and copy.type == y.type
    xc = x.clone()
    assert xc is not x and xc.name == "x" and xc.tag.note == "kept"
    xc.tag.note = "changed"
    assert x.tag.note == "kept"


def test_apply_clone_with_new_inputs_follows_types():
    x, y = T.dvector("x"), T.dvector("y")
    node = (x + y).owner
    f = T.fvector("f")
    new = node.clone_with_new_inputs([f, f])
    assert new is not node and new.op == node.op
    assert new.inputs == [f, f]
    assert new.outputs[0].dtype == "float32"


# -- Op --------------------------------------------------------------------------------------

class _Scale(Op):
    __props__ = ("factor", "axis")

    def __init__(self, factor, axis=None):
        self.factor, self.axis = factor, axis

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        return [inputs[0] * self.factor]


class _Bare(Op):
    pass


def test_op_equality_and_hash_come_from_props():
    assert _Scale(2) == _Scale(2) and hash(_Scale(2)) == hash(_Scale(2))
    assert _Scale(2) != _Scale(3)
    assert _Scale(2, 0) != _Scale(2, 1)
    assert _Bare() == _Bare() and hash(_Bare()) == hash(_Bare())
    assert _Bare() != _Scale(2)
    assert str(_Scale(2, 0)) == "_Scale{2, 0}" and _Scale(2, 0).name == "_Scale{2, 0}"
    assert str(_Bare()) == "_Bare"
    assert Elemwise("add") == Elemwise("add") and hash(Elemwise("add")) == hash(Elemwise("add"))
    assert Elemwise("add") != Elemwise("mul")
    assert Elemwise("identity", "int32") != Elemwise("identity", "int64")
    assert DimShuffle(2, (1, 0)) == DimShuffle(2, [1, 0])
    assert DimShuffle(2, (1, 0)) != DimShuffle(2, (0, 1))
    assert (T.dvector() + T.dvector()).owner.op == (T.dvector() + T.dvector()).owner.op


def test_op_call_and_unimplemented_methods():
    x = T.dvector("x")
    y = _Scale(3)(x)
    assert y.owner.op == _Scale(3)
    np.testing.assert_array_equal(y.eval({x: np.array([1.0, 2.0])}), [3.0, 6.0])
    with pytest.raises(NotImplementedError, match="_Bare"):
        _Bare()(x)
    with pytest.raises(NotImplementedError):
        _Bare().perform(None, [])
    with pytest.raises(NotImplementedError):
        _Scale(1).infer_shape(None, [])


def test_failing_perform_is_named_with_shapes_and_dtypes():
    class _Broken(_Scale):
        def perform(self, node, inputs):
            raise ValueError("boom")

    x = T.dmatrix("x")
    with pytest.raises(ValueError) as caught:
        _Broken(1)(x).eval({x: np.ones((2, 3))})
    message = str(caught.value)
    assert "_Broken" in message and "(2, 3)" in message and "float64" in message and "boom" in message


def test_dimshuffle_validation():
    with pytest.raises(ValueError, match="not valid"):
        DimShuffle(2, (0, 0))
    with pytest.raises(ValueError, match="not valid"):
        DimShuffle(2, (2, 0))
    with pytest.raises(ValueError, match="drops"):
        DimShuffle(2, (1,))(T.dmatrix())
    with pytest.raises(TypeError, match="dimensions"):
        DimShuffle(2, (1, 0))(T.dvector())
    r = T.drow("r")
    out = DimShuffle(2, (1,))(r)
    assert out.type.shape == (None,)
    np.testing.assert_array_equal(out.eval({r: np.array([[1.0, 2.0]])}), [1.0, 2.0])
    m = T.dtensor3("m")
    out = DimShuffle(3, (2, "x", 0, 1))(m)
    value = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(out.eval({m: value}), value.transpose(2, 0, 1)[:, None])


# -- traversals --------------------------------------------------------------------------------

def _graph():
    x, y = T.dmatrices("x", "y")
    s = x + y
    e = T.exp(s)
    out = e * x
    return x, y, s, e, out


def test_ancestors_and_graph_inputs():
    x, y, s, e, out = _graph()
    found = ancestors([out])
    assert found[0] is out
    assert {id(v) for v in found} == {id(v) for v in (out, e, s, x, y)}
    assert len(found) == 5
    assert graph_inputs([out]) == [x, y]
    assert graph_inputs([out], blockers=[s]) == [s, x]
    assert {id(v) for v in ancestors([out], blockers=[e])} == {id(out), id(e), id(x)}
    c = T.constant(2.0)
    assert graph_inputs([x * c]) == [x, c]


def test_io_toposort_orders_each_node_after_its_inputs():
    x, y, s, e, out = _graph()
    order = io_toposort([x, y], [out])
    assert order == [s.owner, e.owner, out.owner]
    assert io_toposort([s], [out]) == [e.owner, out.owner]
    assert io_toposort([x, y], [x]) == []
    # a node reached along two paths appears once
    t = s * s + s
    nodes = io_toposort([x, y], [t])
    assert len(nodes) == 3 and nodes[0] is s.owner and nodes[-1] is t.owner


def test_io_toposort_with_multi_output_nodes():
    x = T.dvector("x")
    a, b = _Split()(x)
    out = T.exp(b) + a
    order = io_toposort([x], [out])
    assert order[0] is a.owner and len(order) == 3


def test_clone_replace():
    x, y, s, e, out = _graph()
    w = T.dmatrix("w")
    (new,) = clone_replace([out], {x: w})
    assert new is not out
    assert graph_inputs([new]) == [w, y]
    assert graph_inputs([out]) == [x, y]     # the original graph is untouched
    assert s.owner.inputs == [x, y]
    (same,) = clone_replace([out], {})
    assert same is out
    s.name = "s"
    (new,) = clone_replace([out], {y: w})
    assert new.owner.inputs[0].owner.inputs[0].name == "s"   # names are kept
    (typed,) = clone_replace([out], {x: T.fmatrix("f")})
    assert typed.dtype == "float64"
    xv, yv = np.ones((1, 2)), np.full((1, 2), 2.0)
    (new,) = clone_replace([out], {s: y})
    np.testing.assert_allclose(new.eval({x: xv, y: yv}), np.exp(yv) * xv)


# -- FunctionGraph -----------------------------------------------------------------------------

def test_function_graph_clones_and_keeps_the_users_graph():
    x, y, s, e, out = _graph()
    fg = FunctionGraph([x, y], [out])
    assert fg.inputs[0] is not x and fg.inputs[0].name == "x"
    assert fg.outputs[0] is not out
    assert all(node not in (s.owner, e.owner, out.owner) for node in fg.toposort())
    assert graph_inputs(fg.outputs) == fg.inputs
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{add,no_inplace}", "Elemwise{exp,no_inplace}",
                                                  "Elemwise{mul,no_inplace}"]
    assert str(fg) == "FunctionGraph(Elemwise{mul,no_inplace}.0)"
    assert fg.apply_nodes == set(fg.toposort())


def test_function_graph_without_clone_uses_the_given_variables():
    x, y, s, e, out = _graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    assert fg.inputs == [x, y] and fg.outputs == [out]
    assert fg.toposort() == [s.owner, e.owner, out.owner]


def test_function_graph_clients():
    x, y, s, e, out = _graph()
    fg = FunctionGraph([x, y], [out, s], clone=False)
    assert fg.clients(x) == [(s.owner, 0), (out.owner, 1)]
    assert fg.clients(y) == [(s.owner, 1)]
    assert fg.clients(s) == [(e.owner, 0), ("output", 1)]
    assert fg.clients(out) == [("output", 0)]


def test_function_graph_replace():
    x, y, s, e, out = _graph()
    fg = FunctionGraph([x, y], [out])
    fx, fy = fg.inputs
    fs = fg.toposort()[0].outputs[0]
    fg.replace(fs, fx * fy)
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{mul,no_inplace}", "Elemwise{exp,no_inplace}",
                                                  "Elemwise{mul,no_inplace}"]
    xv, yv = np.full((1, 2), 2.0), np.full((1, 2), 3.0)
    np.testing.assert_allclose(fg.outputs[0].eval({fx: xv, fy: yv}), np.exp(xv * yv) * xv)
    # the user's graph still computes exp(x + y) * x
    assert str(out.owner.inputs[0].owner.inputs[0].owner.op) == "Elemwise{add,no_inplace}"
    np.testing.assert_allclose(out.eval({x: xv, y: yv}), np.exp(xv + yv) * xv)
    with pytest.raises(TypeError, match="cannot replace"):
        fg.replace(fx, T.fmatrix())


def test_function_graph_requires_every_input():
    x, y, s, e, out = _graph()
    with pytest.raises(ValueError, match="y"):
        FunctionGraph([x], [out])
    fg = FunctionGraph([x], [x * T.constant(2.0)])   # constants need not be listed
    assert len(fg.toposort()) == 2


def test_function_graph_clone_is_independent():
    x, y, s, e, out = _graph()
    fg = FunctionGraph([x, y], [out])
    copy = fg.clone()
    assert copy.inputs[0] is not fg.inputs[0]
    assert not set(copy.toposort()) & set(fg.toposort())
    copy.replace(copy.toposort()[0].outputs[0], copy.inputs[0])
    assert len(fg.toposort()) == 3 and len(copy.toposort()) == 2


def test_function_graph_of_an_intermediate_input():
    x, y, s, e, out = _graph()
    fg = FunctionGraph([s, x], [out])
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{exp,no_inplace}", "Elemwise{mul,no_inplace}"]


# -- constructors ----------------------------------------------------------------------------

KINDS = {"scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None), "col": (None, 1),
         "tensor3": (None,) * 3, "tensor4": (None,) * 4, "tensor5": (None,) * 5}
PLURALS = {"scalar": "scalars", "vector": "vectors", "matrix": "matrices", "row": "rows",
           "col": "cols", "tensor3": "tensor3s", "tensor4": "tensor4s", "tensor5": "tensor5s"}
PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64"}
NAMED = {(): "scalar", (None,): "vector", (None, None): "matrix", (1, None): "row", (None, 1): "col",
         (None,) * 3: "tensor3", (None,) * 4: "tensor4", (None,) * 5: "tensor5"}


@pytest.mark.parametrize("prefix", list(PREFIXES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_prefixed_constructors(prefix, kind):
    dtype = PREFIXES[prefix]
    make = getattr(T, prefix + kind)
    v = make()
    assert isinstance(v, TensorVariable)
    assert v.type == TensorType(dtype, KINDS[kind])
    assert v.name is None
    assert repr(v) == f"<TensorType({dtype}, {NAMED[KINDS[kind]]})>"
    assert make("v").name == "v"
    with config.change_flags(floatX="float64"):
        assert make().dtype == dtype
    many = getattr(T, prefix + PLURALS[kind])("a", "b", "c")
    assert [m.name for m in many] == ["a", "b", "c"]
    assert all(m.type == v.type for m in many)
    assert len({id(m) for m in many}) == 3
    unnamed = getattr(T, prefix + PLURALS[kind])(2)
    assert len(unnamed) == 2 and all(m.name is None and m.type == v.type for m in unnamed)


@pytest.mark.parametrize("kind", list(KINDS))
def test_unprefixed_constructors_follow_floatx(kind):
    for floatx in ("float32", "float64"):
        with config.change_flags(floatX=floatx):
            v = getattr(T, kind)()
            assert v.type == TensorType(floatx, KINDS[kind])
            assert repr(v) == f"<TensorType({floatx}, {NAMED[KINDS[kind]]})>"
            assert [m.dtype for m in getattr(T, PLURALS[kind])("a", "b")] == [floatx, floatx]
    assert getattr(T, kind)("n", dtype="int16").dtype == "int16"
    assert [m.dtype for m in getattr(T, PLURALS[kind])("a", "b", dtype="int8")] == ["int8", "int8"]


def test_tensor_constructor():
    v = T.tensor("int16", (None, 3), name="v")
    assert v.type.shape == (None, 3) and v.dtype == "int16" and v.name == "v"
    assert repr(T.tensor("int16", (None, 3))) == "<TensorType(int16, shape=(None, 3))>"
    b = T.tensor("float32", broadcastable=(True, False))
    assert b.type == TensorType("float32", (1, None)) and b.broadcastable == (True, False)
    assert repr(b) == "<TensorType(float32, row)>"
    assert T.tensor("int8", (False, True)).type.shape == (None, 1)
    assert T.tensor("float64", ()).ndim == 0
    with config.change_flags(floatX="float32"):
        assert T.tensor((None, 1)).type == TensorType("float32", (None, 1))
        assert T.tensor(shape=(2,)).type == TensorType("float32", (2,))
    assert T.tensor("float32", (1, 0)).type.shape == (1, 0)


# -- TensorType -----------------------------------------------------------------------------

def test_tensor_type_str_eq_hash():
    t = TensorType("float32", (None, None))
    assert str(t) == repr(t) == "TensorType(float32, matrix)"
    assert str(TensorType("int64", (None,))) == "TensorType(int64, vector)"
    assert str(TensorType("float64", (2, None, 1))) == "TensorType(float64, shape=(2, None, 1))"
    assert str(TensorType("bool", ())) == "TensorType(bool, scalar)"
    assert t == TensorType(np.float32, [None, None]) and hash(t) == hash(TensorType("float32", (None, None)))
    assert t != TensorType("float64", (None, None))
    assert t != TensorType("float32", (1, None))
    assert t != TensorType("float32", (None,))
    assert t != "TensorType(float32, matrix)"
    assert len({t, TensorType("float32", (None, None)), TensorType("float32", (None,))}) == 2
    assert t.ndim == 2 and t.broadcastable == (False, False)
    assert TensorType("float32", broadcastable=(True, False)).shape == (1, None)
    assert t.clone(dtype="int8") == TensorType("int8", (None, None))
    assert t.clone(shape=(3, 4)) == TensorType("float32", (3, 4))
    x = t("x")
    assert isinstance(x, TensorVariable) and x.type is t and x.name == "x"


def test_tensor_type_rejects_bad_arguments():
    with pytest.raises(TypeError, match="foo"):
        TensorType("foo", ())
    with pytest.raises(ValueError, match="negative"):
        TensorType("float32", (-1,))
    with pytest.raises(TypeError, match="not both"):
        TensorType("float32", (None,), broadcastable=(False,))


# -- filter ------------------------------------------------------------------------------------

F32_MATRIX = TensorType("float32", (None, None))


def test_filter_accepts_exact_and_safely_upcast_arrays():
    value = np.ones((2, 2), "float32")
    assert F32_MATRIX.filter(value) is value or np.array_equal(F32_MATRIX.filter(value), value)
    for dtype in ("int8", "int16", "uint8", "bool"):
        result = F32_MATRIX.filter(np.ones((1, 2), dtype))
        assert result.dtype == np.float32
    assert TensorType("float64", (None,)).filter(np.ones(2, "float32")).dtype == np.float64
    assert TensorType("int64", (None,)).filter(np.ones(2, "int32")).dtype == np.int64


def test_filter_refuses_unsafe_arrays_with_both_fixes():
    for dtype in ("float64", "int32", "int64"):
        with pytest.raises(TypeError) as caught:
            F32_MATRIX.filter(np.ones((2, 2), dtype))
        message = str(caught.value)
        assert (f"TensorType(float32, matrix) cannot store a value of dtype {dtype} without risking "
                "loss of precision") in message
        assert "1) explicitly cast your data to float32" in message
        assert '2) set "allow_input_downcast=True"' in message
    result = F32_MATRIX.filter(np.full((2, 2), 0.1), allow_downcast=True)
    assert result.dtype == np.float32
    with pytest.raises(TypeError, match="dtype float64"):
        F32_MATRIX.filter(np.float64(1.0).reshape(1, 1))


@pytest.mark.filterwarnings("ignore:overflow encountered")   # see the test below
def test_filter_of_python_data_accepts_exact_values_only():
    result = F32_MATRIX.filter([[1, 2], [3.5, -0.25]])
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, [[1, 2], [3.5, -0.25]])
    np.testing.assert_array_equal(F32_MATRIX.filter([[np.nan]]), [[np.nan]])
    with pytest.raises(TypeError, match="without changing its values"):
        F32_MATRIX.filter([[1e40]])
    ints = TensorType("int32", (None,))
    np.testing.assert_array_equal(ints.filter([1, 2, 3]), [1, 2, 3])
    np.testing.assert_array_equal(ints.filter([1.0, 2.0]), [1, 2])
    with pytest.raises(TypeError, match="without changing its values"):
        ints.filter([1.5, 2])
    with pytest.raises(TypeError, match="without changing its values"):
        ints.filter([2 ** 40])
    np.testing.assert_array_equal(ints.filter([1.5], allow_downcast=True), [1])
    with pytest.raises(TypeError, match="cannot store"):
        ints.filter(["a", None])


def test_filter_refusing_out_of_range_data_warns_nothing():
    # the refusal is the TypeError alone, without numpy's "overflow encountered in cast"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="without changing its values"):
            F32_MATRIX.filter([[1e40]])


def test_filter_checks_ndim_and_static_shape():
    with pytest.raises(TypeError, match="expects 2 dimensions, got a value with 1"):
        F32_MATRIX.filter([1.0, 2.0])
    with pytest.raises(TypeError, match="expects 0 dimensions"):
        TensorType("float64", ()).filter([1.0])
    static = TensorType("int32", (2, None))
    with pytest.raises(TypeError) as caught:
        static.filter(np.ones((3, 4), "int32"))
    assert "(2, None)" in str(caught.value) and "(3, 4)" in str(caught.value)
    row = TensorType("float64", (1, None))
    assert row.filter(np.ones((1, 5))).shape == (1, 5)
    with pytest.raises(TypeError, match="static shape"):
        row.filter(np.ones((2, 5)))


def test_filter_strict():
    value = np.ones(2, "int32")
    assert TensorType("int32", (None,)).filter(value, strict=True) is value
    with pytest.raises(TypeError, match="int64"):
        TensorType("int32", (None,)).filter(value.astype("int64"), strict=True)
    with pytest.raises(TypeError):
        TensorType("int32", (None,)).filter([1, 2], strict=True)


def test_filter_python_float_into_a_floatx_scalar():
    # Theano lets a Python float literal (a learning rate, say) be stored in a floatX
    # variable even when floatX is float32: 0.1 is not exactly a float32.
    with config.change_flags(floatX="float32"):
        s = T.scalar("s")
        result = (s * 2).eval({s: 0.1})
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, 0.2, rtol=1e-6)


# -- eval ----------------------------------------------------------------------------------

@float32
def test_eval_error_names_the_index_of_the_bad_input():
    x, y = T.matrices("x", "y")
    with pytest.raises(TypeError) as caught:
        (x + y).eval({x: np.ones((2, 2), "float32"), y: np.zeros((2, 2))})
    assert "index 1 (0-based)" in str(caught.value) and "variable y" in str(caught.value)


@float32
def test_seed_first_graph_eval():
    x, y = T.matrix("x"), T.matrix("y")
    result = (x + y).eval({x: [[1, 2], [1, 3]], y: [[1, 0], [3, 4]]})
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, [[2, 2], [4, 7]])


def test_eval_errors():
    x, y = T.dmatrices("x", "y")
    out = x * 2
    with pytest.raises(ValueError, match="missing input values for x"):
        out.eval()
    with pytest.raises(ValueError, match="missing input values for y"):
        (x + y).eval({x: np.ones((1, 1))})
    with pytest.raises(ValueError, match="does not use"):
        out.eval({x: np.ones((1, 1)), y: np.ones((1, 1))})
    with pytest.raises(TypeError, match="must be variables"):
        out.eval({"x": np.ones((1, 1))})
    with pytest.raises(TypeError, match="expects 2 dimensions"):
        out.eval({x: np.ones(3)})


def test_eval_of_constant_graphs_and_shared_subgraphs():
    assert (T.constant(2) + 3).eval() == 5
    x = T.dvector("x")
    s = x + 1
    out = s * s - s
    np.testing.assert_array_equal(out.eval({x: np.array([1.0, 2.0])}), [2.0, 6.0])
    np.testing.assert_array_equal(x.eval({x: np.array([1.0])}), [1.0])


def test_eval_does_not_modify_inputs():
    x = T.dvector("x")
    value = np.array([1.0, 2.0])
    (x * 3 + 1).eval({x: value})
    np.testing.assert_array_equal(value, [1.0, 2.0])


def test_clgraph_exposes_tensor_and_config():
    assert clgraph.tensor is T
    assert clgraph.config is config
