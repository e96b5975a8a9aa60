"""The source documents' examples of tensors, graphs and operators, as they show them
(``theano`` renamed ``clgraph``). Each test follows one interactive session."""
import io

import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import config
from clgraph.printing import debugprint, pp

float32 = config.change_flags(floatX="float32")


def same(result, expected, dtype):
    """``result`` has exactly the values and dtype the document prints."""
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.dtype(dtype), (result.dtype, dtype)
    np.testing.assert_array_equal(result, np.asarray(expected, dtype=dtype))


def test_scalar_constructors_and_floatx():
    with config.change_flags(floatX="float32"):
        assert repr(T.scalar()) == "<TensorType(float32, scalar)>"
        assert repr(T.iscalar()) == "<TensorType(int32, scalar)>"
        assert repr(T.fscalar()) == "<TensorType(float32, scalar)>"
        assert repr(T.dscalar()) == "<TensorType(float64, scalar)>"
        assert repr(T.matrix()) == "<TensorType(float32, matrix)>"
    with config.change_flags(floatX="float64"):
        assert repr(T.scalar()) == "<TensorType(float64, scalar)>"
        assert repr(T.fscalar()) == "<TensorType(float32, scalar)>"
    with config.change_flags(floatX="float32"):
        assert repr(T.scalar()) == "<TensorType(float32, scalar)>"


@float32
def test_first_graph_addition():
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    assert clgraph.pp(z) == "(x + y)"
    same(z.eval({x: [[1, 2], [1, 3]], y: [[1, 0], [3, 4]]}), [[2, 2], [4, 7]], "float32")


@float32
def test_names_in_printed_graphs():
    a = T.matrix()
    b = T.matrix()
    assert pp(a + b) == "(<TensorType(float32, matrix)> + <TensorType(float32, matrix)>)"
    x = T.matrix("x")
    x = x + x
    assert pp(x) == "(x + x)"
    x, y, z = T.matrices("x", "y", "z")
    assert [v.name for v in (x, y, z)] == ["x", "y", "z"]


@float32
def test_ways_to_show_a_graph():
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    assert repr(z) == "Elemwise{add,no_inplace}.0"
    assert clgraph.pp(z) == "(x + y)"
    assert clgraph.printing.pprint(z) == "(x + y)"
    out = io.StringIO()
    debugprint(z, file=out)
    assert out.getvalue() == ("Elemwise{add,no_inplace} [id A] ''   \n"
                              " |x [id B]\n"
                              " |y [id C]\n")


@float32
def test_float64_data_into_a_float32_matrix_is_refused_with_both_fixes():
    x = T.matrix()
    y = T.matrix()
    with pytest.raises(TypeError) as caught:
        (x + y).eval({x: np.ones((2, 2)), y: np.zeros((2, 2))})
    message = str(caught.value)
    assert "index 0 (0-based)" in message
    assert ("TensorType(float32, matrix) cannot store a value of dtype float64 without risking "
            "loss of precision") in message
    assert "1) explicitly cast your data to float32" in message
    assert '2) set "allow_input_downcast=True"' in message
    same((x + y).eval({x: np.ones((2, 2), dtype=config.floatX), y: np.zeros((2, 2), dtype=config.floatX)}),
         np.ones((2, 2)), "float32")
    same((x + y).eval({x: np.ones((2, 2)).astype(config.floatX), y: np.diag((2, 3)).astype(config.floatX)}),
         [[3, 1], [1, 4]], "float32")


def test_creation_operators():
    a = T.zeros((2, 3))
    same(a.eval(), np.zeros((2, 3)), config.floatX)
    b = T.identity_like(a)
    same(b.eval(), [[1, 0, 0], [0, 1, 0]], config.floatX)
    c = T.arange(10)
    same(c.eval(), np.arange(10), "int64")
    assert c.ndim == 1
    assert c.dtype == "int64"
    assert repr(c.type) == "TensorType(int64, vector)"


def test_shape_is_computed_by_the_graph():
    a = T.matrix()
    assert repr(a.shape) == "Shape.0"
    same(a.shape.eval({a: [[1, 2], [1, 3]]}), [2, 2], "int64")
    n = T.iscalar()
    c = T.arange(n)
    same(c.shape.eval({n: 10}), [10], "int64")


def test_dimension_operators():
    a = T.arange(10)
    b = T.reshape(a, (5, 2))
    same(b.eval(), [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]], "int64")
    same(T.arange(10).reshape((5, 2))[::-1].T.eval(), [[8, 6, 4, 2, 0], [9, 7, 5, 3, 1]], "int64")


@float32
def test_elementwise_operators_and_broadcasting():
    a, b = T.matrices("a", "b")
    z = a * b
    same(z.eval({a: np.ones((2, 2)).astype(config.floatX), b: np.diag((3, 3)).astype(config.floatX)}),
         [[3, 0], [0, 3]], "float32")
    z = T.mul(a, b)
    assert z.owner.op == (a * b).owner.op
    z = T.mul(a, b, a, b)
    ones, diag = np.ones((2, 2), "float32"), np.diag((3, 3)).astype("float32")
    same(z.eval({a: ones, b: diag}), [[9, 0], [0, 9]], "float32")
    a = T.matrix()
    z = a ** 2
    same(z.eval({a: np.diag((3, 3)).astype(config.floatX)}), [[9, 0], [0, 9]], "float32")
    a = T.matrix()
    b = T.scalar()
    z = a * b
    # The document prints 6 here, which its own input (diag(3, 3) times 3) cannot give.
    same(z.eval({a: np.diag((3, 3)).astype(config.floatX), b: 3}), [[9, 0], [0, 9]], "float32")


@float32
def test_switch():
    cond = T.vector("cond")
    x, y = T.vectors("x", "y")
    z = T.switch(cond, x, y)
    same(z.eval({cond: [1, 0], x: [10, 10], y: [3, 2]}), [10, 2], "float32")


@float32
def test_reduction_operators():
    a = T.matrix("a")
    same(T.max(a).eval({a: [[1, 2], [3, 4]]}), 4.0, "float32")
    same(T.max(a, axis=0).eval({a: [[1, 2], [3, 4]]}), [3, 4], "float32")
    same(T.max(a, axis=1).eval({a: [[1, 2], [3, 4]]}), [2, 4], "float32")


def test_concatenate_stack_and_subtensor_updates():
    a = T.arange(10).reshape((5, 2))
    b = a[::-1]
    same(b.eval(), [[8, 9], [6, 7], [4, 5], [2, 3], [0, 1]], "int64")
    same(a.eval(), [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]], "int64")
    same(T.concatenate([a, b]).eval(),
         [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [8, 9], [6, 7], [4, 5], [2, 3], [0, 1]], "int64")
    same(T.concatenate([a, b], axis=1).eval(),
         [[0, 1, 8, 9], [2, 3, 6, 7], [4, 5, 4, 5], [6, 7, 2, 3], [8, 9, 0, 1]], "int64")
    same(T.stack([a, b]).eval(),
         [[[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]], [[8, 9], [6, 7], [4, 5], [2, 3], [0, 1]]], "int64")
    same(T.set_subtensor(a[3:], [-1, -1]).eval(), [[0, 1], [2, 3], [4, 5], [-1, -1], [-1, -1]], "int64")
    same(T.inc_subtensor(a[3:], [-1, -1]).eval(), [[0, 1], [2, 3], [4, 5], [5, 6], [7, 8]], "int64")
    same(a.eval(), [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]], "int64")   # a itself is unchanged


def test_graph_structure_of_a_product_with_a_python_float():
    x = T.dmatrix("x")
    y = x * 2.
    assert y.owner.op.name == "Elemwise{mul,no_inplace}"
    assert len(y.owner.inputs) == 2
    assert y.owner.inputs[0] is x
    assert repr(y.owner.inputs[1]) == "InplaceDimShuffle{x,x}.0"
    assert isinstance(y.owner.inputs[1], T.TensorVariable)
    assert isinstance(y.owner.inputs[1].owner, clgraph.graph.Apply)
    assert isinstance(y.owner.inputs[1].owner.op, T.DimShuffle)
    assert repr(y.owner.inputs[1].owner.inputs) == "[TensorConstant{2.0}]"
