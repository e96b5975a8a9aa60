"""pp and debugprint: the source documents' printouts (``theano`` renamed ``clgraph``),
and the printer's rules for every kind of node it knows."""
import io

import numpy as np
import pytest

import clgraph.tensor as T
from clgraph import config
from clgraph.graph import Apply, FunctionGraph, Op
from clgraph.printing import char_from_number, debugprint, pp, pprint, register_pp
from clgraph.tensor import DimShuffle, TensorType

float32 = config.change_flags(floatX="float32")


# -- pp: the documents' examples --------------------------------------------------------

@float32
def test_pp_of_unnamed_inputs_shows_their_type():
    a = T.matrix()
    b = T.matrix()
    assert pp(a + b) == "(<TensorType(float32, matrix)> + <TensorType(float32, matrix)>)"


@float32
def test_pp_of_x_plus_x_rebinding_the_python_name():
    x = T.matrix("x")
    x = x + x
    assert pp(x) == "(x + x)"


def test_pp_of_product_with_python_float_hides_the_broadcast():
    x = T.dmatrix("x")
    y = x * 2.
    assert pp(y) == "(x * TensorConstant{2.0})"


def test_pp_of_gradient_shaped_expression():
    # The seed's pp of T.grad(x ** 2, x), built by hand (same graph as the gradient).
    x = T.dscalar("x")
    two, one = T.constant(2), T.constant(1)
    gy = (T.second(x ** two, 1.0) * two) * (x ** (two - one))
    assert pp(gy) == ("((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2})"
                      " * (x ** (TensorConstant{2} - TensorConstant{1})))")
    assert pp(T.constant(2.0) * x) == "(TensorConstant{2.0} * x)"


def test_pp_of_power_with_python_int_shows_an_integer_constant():
    # The seed prints y = x ** 2 (x a dscalar) as (x ** TensorConstant{2}): a Python int
    # beside a float tensor stays an integer constant (Theano's int8), the output is float64.
    x = T.dscalar("x")
    y = x ** 2
    assert y.dtype == "float64"
    assert pp(y) == "(x ** TensorConstant{2})"


# -- pp: rules ------------------------------------------------------------------------------

@float32
def test_pp_parenthesizes_every_operator_application():
    x, y = T.matrices("x", "y")
    assert pp((x + y) * x) == "((x + y) * x)"
    assert pp(x + y * x) == "(x + (y * x))"
    assert pp(-x) == "(-x)"
    assert pp(-(x - y)) == "(-(x - y))"
    assert pp(x / y) == "(x / y)"
    assert pp(x // y) == "(x // y)"
    assert pp(x % y) == "(x % y)"
    assert pp(x > y) == "(x > y)"
    assert pp(T.eq(x, y)) == "(x == y)"
    assert pp(T.neq(x, y)) == "(x != y)"


def test_pp_of_bit_operators():
    i, j = T.imatrices("i", "j")
    assert pp(i & j) == "(i & j)"
    assert pp(i | j) == "(i | j)"
    assert pp(i ^ j) == "(i ^ j)"
    assert pp(~i) == "(~i)"


@float32
def test_pp_of_nary_add_and_mul_joins_all_inputs():
    a, b, c = T.matrices("a", "b", "c")
    assert pp(T.add(a, b, c)) == "(a + b + c)"
    assert pp(T.mul(a, b, a, b)) == "(a * b * a * b)"


@float32
def test_pp_of_function_style_elementwise_ops():
    x, y = T.matrices("x", "y")
    assert pp(T.exp(x)) == "exp(x)"
    assert pp(T.maximum(x, T.log(y))) == "maximum(x, log(y))"
    assert pp(T.switch(x > y, x, y)) == "switch((x > y), x, y)"
    assert pp(T.second(x, y)) == "fill(x, y)"   # the table's display name


@float32
def test_pp_of_constants():
    x = T.vector("x")
    assert pp(x + T.constant(1.0)) == "(x + TensorConstant{1.0})"
    assert pp(T.constant(2) - T.constant(1)) == "(TensorConstant{2} - TensorConstant{1})"
    assert pp(T.constant(3)) == "TensorConstant{3}"


@float32
def test_pp_of_dimshuffles():
    x = T.matrix("x")
    v = T.vector("v")
    assert pp(DimShuffle(2, (1, 0))(x)) == "x.T"
    assert pp(DimShuffle(2, (1, 0))(x + x)) == "(x + x).T"
    assert pp(DimShuffle(1, ("x", 0))(v)) == "v"   # a broadcast is not shown
    assert pp(x + v) == "(x + v)"
    assert pp(DimShuffle(2, (1, "x", 0))(x)) == "DimShuffle{1,x,0}(x)"
    assert pp(DimShuffle(1, (0, "x"))(v)) == "DimShuffle{0,x}(v)"


@float32
def test_pp_of_cast():
    x = T.matrix("x")
    assert pp(T.cast(x, "int32")) == "Cast{int32}(x)"
    assert pp(T.cast(x, "int32") + 1) == "(Cast{int32}(x) + TensorConstant{1})"


@float32
def test_pp_of_named_intermediate_prints_its_name():
    x, y = T.matrices("x", "y")
    z = x + y
    z.name = "z"
    assert pp(z * x) == "(z * x)"
    assert pp(z) == "(x + y)"   # the variable asked for is always expanded


class _Pair(Op):
    """Two outputs, no printing rule."""

    def make_node(self, x):
        return Apply(self, [x], [x.type(), x.type()])


class _Twice(Op):
    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        return Apply(self, [x], [x.type()])


@float32
def test_pp_of_ops_without_rule_and_registering_one():
    x = T.vector("x")
    assert pp(_Twice(3)(x) + 1.0) == "(_Twice{3}(x) + TensorConstant{1.0})"
    first, second = _Pair()(x)
    assert pp(second) == "_Pair(x)[1]"
    register_pp(_Twice, lambda show, node, out: f"({node.op.factor} times {show(node.inputs[0])})")
    try:
        assert pp(T.exp(_Twice(3)(x))) == "exp((3 times x))"
    finally:
        from clgraph.printing import PP_RULES
        del PP_RULES[_Twice]
    assert pp(_Twice(3)(x)) == "_Twice{3}(x)"


def test_pp_rejects_non_variables():
    with pytest.raises(TypeError, match="pp"):
        pp(3)


# -- debugprint ------------------------------------------------------------------------------

ADD_PRINTOUT = ("Elemwise{add,no_inplace} [id A] ''   \n"
                " |x [id B]\n"
                " |y [id C]\n")


@float32
def test_debugprint_of_addition_to_stdout(capsys):
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    assert debugprint(z) is None
    assert capsys.readouterr().out == ADD_PRINTOUT


@float32
def test_debugprint_to_a_string_and_to_a_file():
    x, y = T.matrices("x", "y")
    z = x + y
    assert debugprint(z, file="str") == ADD_PRINTOUT
    out = io.StringIO()
    assert debugprint(z, file=out) is out
    assert out.getvalue() == ADD_PRINTOUT


@float32
def test_debugprint_of_a_nested_graph_reusing_a_variable():
    x, y = T.matrices("x", "y")
    z = (x + y) * x
    assert debugprint(z, file="str") == ("Elemwise{mul,no_inplace} [id A] ''   \n"
                                         " |Elemwise{add,no_inplace} [id B] ''   \n"
                                         " | |x [id C]\n"
                                         " | |y [id D]\n"
                                         " |x [id C]\n")


@float32
def test_debugprint_shows_a_node_printed_before_without_its_children():
    x, y = T.matrices("x", "y")
    s = x + y
    s.name = "s"
    out = T.exp(s) * s
    assert debugprint(out, file="str") == ("Elemwise{mul,no_inplace} [id A] ''   \n"
                                           " |Elemwise{exp,no_inplace} [id B] ''   \n"
                                           " | |Elemwise{add,no_inplace} [id C] 's'   \n"
                                           " |   |x [id D]\n"
                                           " |   |y [id E]\n"
                                           " |Elemwise{add,no_inplace} [id C] 's'   \n")


@float32
def test_debugprint_last_child_subtree_is_indented_with_spaces():
    x, y = T.matrices("x", "y")
    z = T.exp(T.log(x) + y)
    assert debugprint(z, file="str") == ("Elemwise{exp,no_inplace} [id A] ''   \n"
                                         " |Elemwise{add,no_inplace} [id B] ''   \n"
                                         "   |Elemwise{log,no_inplace} [id C] ''   \n"
                                         "   | |x [id D]\n"
                                         "   |y [id E]\n")


@float32
def test_debugprint_print_type():
    x, y = T.matrices("x", "y")
    text = debugprint(x + y, file="str", print_type=True)
    assert text == ("Elemwise{add,no_inplace} [id A] <TensorType(float32, matrix)> ''   \n"
                    " |x [id B] <TensorType(float32, matrix)>\n"
                    " |y [id C] <TensorType(float32, matrix)>\n")


def test_debugprint_of_the_seed_product_with_constant():
    x = T.dmatrix("x")
    text = debugprint(x * 2., file="str")
    assert text == ("Elemwise{mul,no_inplace} [id A] ''   \n"
                    " |x [id B]\n"
                    " |InplaceDimShuffle{x,x} [id C] ''   \n"
                    "   |TensorConstant{2.0} [id D]\n")


@float32
def test_debugprint_of_unnamed_inputs():
    a, b = T.matrix(), T.vector()
    assert debugprint(a - b, file="str") == (
        "Elemwise{sub,no_inplace} [id A] ''   \n"
        " |<TensorType(float32, matrix)> [id B]\n"
        " |InplaceDimShuffle{x,0} [id C] ''   \n"
        "   |<TensorType(float32, vector)> [id D]\n")


@float32
def test_debugprint_of_a_list_shares_ids():
    x, y = T.matrices("x", "y")
    assert debugprint([x + y, x * y], file="str") == (
        "Elemwise{add,no_inplace} [id A] ''   \n"
        " |x [id B]\n"
        " |y [id C]\n"
        "Elemwise{mul,no_inplace} [id D] ''   \n"
        " |x [id B]\n"
        " |y [id C]\n")


@float32
def test_debugprint_done_dict_carries_ids_between_calls():
    x, y = T.matrices("x", "y")
    done = {}
    first = debugprint(x + y, file="str", done=done)
    second = debugprint(x * y, file="str", done=done)
    assert first == ADD_PRINTOUT
    assert second == ("Elemwise{mul,no_inplace} [id D] ''   \n"
                      " |x [id B]\n"
                      " |y [id C]\n")


@float32
def test_debugprint_of_an_apply_node():
    x, y = T.matrices("x", "y")
    assert debugprint((x + y).owner, file="str") == ADD_PRINTOUT


@float32
def test_debugprint_of_a_multi_output_node_numbers_the_output():
    x = T.vector("x")
    first, second = _Pair()(x)
    assert debugprint([first, second], file="str") == ("_Pair.0 [id A] ''   \n"
                                                      " |x [id B]\n"
                                                      "_Pair.1 [id A] ''   \n")


@float32
def test_debugprint_of_a_function_graph_shows_topological_positions():
    x, y = T.matrices("x", "y")
    z = (x + y) * x
    fg = FunctionGraph([x, y], [z])
    assert debugprint(fg, file="str") == ("Elemwise{mul,no_inplace} [id A] ''   1\n"
                                          " |Elemwise{add,no_inplace} [id B] ''   0\n"
                                          " | |x [id C]\n"
                                          " | |y [id D]\n"
                                          " |x [id C]\n")


@float32
def test_debugprint_of_anything_with_a_maker_fgraph():
    x, y = T.matrices("x", "y")
    fg = FunctionGraph([x, y], [T.exp(x) + y])

    class Maker:
        fgraph = fg

    class Compiled:
        maker = Maker()

    assert debugprint(Compiled(), file="str") == ("Elemwise{add,no_inplace} [id A] ''   1\n"
                                                  " |Elemwise{exp,no_inplace} [id B] ''   0\n"
                                                  " | |x [id C]\n"
                                                  " |y [id D]\n")


@float32
def test_debugprint_other_ids_and_depth():
    x, y = T.matrices("x", "y")
    z = T.exp(x + y)
    assert debugprint(z, file="str", ids="int") == ("Elemwise{exp,no_inplace} [id 0] ''   \n"
                                                    " |Elemwise{add,no_inplace} [id 1] ''   \n"
                                                    "   |x [id 2]\n"
                                                    "   |y [id 3]\n")
    assert debugprint(z, file="str", ids="") == ("Elemwise{exp,no_inplace} ''   \n"
                                                 " |Elemwise{add,no_inplace} ''   \n"
                                                 "   |x\n"
                                                 "   |y\n")
    assert debugprint(z, file="str", depth=2) == ("Elemwise{exp,no_inplace} [id A] ''   \n"
                                                  " |Elemwise{add,no_inplace} [id B] ''   \n")
    assert f"[id {id(x)}]" in debugprint(z, file="str", ids="id")


def test_char_ids_go_past_z():
    assert [char_from_number(n) for n in (0, 1, 25, 26, 27, 52)] == ["A", "B", "Z", "BA", "BB", "CA"]


def test_debugprint_rejects_other_objects():
    with pytest.raises(TypeError, match="debugprint"):
        debugprint(object(), file="str")
    with pytest.raises(ValueError, match="ids"):
        debugprint(T.dmatrix(), file="str", ids="hex")


@float32
def test_printing_does_not_change_the_graph_or_its_value():
    x, y = T.matrices("x", "y")
    z = (x + y) * 2.0
    before = pp(z)
    debugprint(z, file="str")
    assert pp(z) == before
    result = z.eval({x: np.ones((2, 2), "float32"), y: np.ones((2, 2), "float32")})
    np.testing.assert_array_equal(result, np.full((2, 2), 4.0, "float32"))
    assert isinstance(z.type, TensorType)
