"""Every elementwise function of clgraph.tensor (and its aliases), cast and isclose,
checked against numpy through the reference evaluator (``.eval``): values, output
dtypes, broadcasting, empty and 0-d arrays, and the weak Python scalar rules."""
import math

import numpy as np
import pytest

import clgraph.tensor as T
from clgraph import config
from clgraph.tensor import DimShuffle, Elemwise
from clgraph.tensor.basic import ALIASES, ELEMENTWISE

FLOATX = "float32"   # every test runs with floatX=float32, so "ints give floatX" is visible
DTYPES = ["float32", "float64", "int32", "int64"]


@pytest.fixture(autouse=True)
def _floatx():
    with config.change_flags(floatX=FLOATX):
        yield


def sym(dtype, ndim=1, name=None):
    return T.tensor(dtype, (None,) * ndim, name=name)


def expected_dtype(kind, dtypes):
    """The output dtype the documented rules give for inputs of ``dtypes``."""
    up = np.result_type(*[np.dtype(d) for d in dtypes])
    if kind == "float":
        return str(up) if up.kind == "f" else FLOATX
    if kind == "bool":
        return "bool"
    if kind == "switch":
        return str(np.result_type(*dtypes[1:]))
    if kind == "second":
        return str(np.dtype(dtypes[1]))
    return str(up)


_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])


# name: (numpy reference, output kind, domain of each input)
# domains: any, pos (> 0), nz (not 0), unit ([-1, 1]), ge1 (>= 1), small (small exponents)
SPECS = {
    "add": (lambda a, b: a + b, "upcast", ("any", "any")),
    "sub": (np.subtract, "upcast", ("any", "any")),
    "mul": (lambda a, b: a * b, "upcast", ("any", "any")),
    "true_div": (np.true_divide, "float", ("any", "nz")),
    "int_div": (np.floor_divide, "upcast", ("any", "nz")),
    "mod": (np.mod, "upcast", ("any", "nz")),
    "pow": (np.power, "upcast", ("pos", "small")),
    "neg": (np.negative, "upcast", ("any",)),
    "abs": (np.abs, "upcast", ("any",)),
    "sgn": (np.sign, "upcast", ("any",)),
    "sqr": (np.square, "upcast", ("any",)),
    "inv": (lambda a: 1.0 / a.astype(float), "float", ("nz",)),
    "minimum": (np.minimum, "upcast", ("any", "any")),
    "maximum": (np.maximum, "upcast", ("any", "any")),
    "clip": (np.clip, "upcast", ("any", "lo", "hi")),
    "switch": (np.where, "switch", ("any", "any", "any")),
    "second": (lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)), "second",
               ("any", "any")),
    "sqrt": (np.sqrt, "float", ("pos",)),
    "exp": (np.exp, "float", ("any",)),
    "exp2": (np.exp2, "float", ("any",)),
    "expm1": (np.expm1, "float", ("any",)),
    "log": (np.log, "float", ("pos",)),
    "log2": (np.log2, "float", ("pos",)),
    "log10": (np.log10, "float", ("pos",)),
    "log1p": (np.log1p, "float", ("pos",)),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-np.asarray(x, "float64"))), "float", ("any",)),
    "softplus": (lambda x: np.logaddexp(0, np.asarray(x, "float64")), "float", ("any",)),
    "erf": (_erf, "float", ("any",)),
    "erfc": (_erfc, "float", ("any",)),
    "cos": (np.cos, "float", ("any",)),
    "sin": (np.sin, "float", ("any",)),
    "tan": (np.tan, "float", ("unit",)),
    "arccos": (np.arccos, "float", ("unit",)),
    "arcsin": (np.arcsin, "float", ("unit",)),
    "arctan": (np.arctan, "float", ("any",)),
    "arctan2": (np.arctan2, "float", ("any", "nz")),
    "cosh": (np.cosh, "float", ("any",)),
    "sinh": (np.sinh, "float", ("any",)),
    "tanh": (np.tanh, "float", ("any",)),
    "arccosh": (np.arccosh, "float", ("ge1",)),
    "arcsinh": (np.arcsinh, "float", ("any",)),
    "arctanh": (np.arctanh, "float", ("open_unit",)),
    "floor": (np.floor, "float", ("any",)),
    "ceil": (np.ceil, "float", ("any",)),
    "round_half_to_even": (np.rint, "float", ("halves",)),
    "trunc": (np.trunc, "float", ("any",)),
    "and_": (np.bitwise_and, "integer", ("any", "any")),
    "or_": (np.bitwise_or, "integer", ("any", "any")),
    "xor": (np.bitwise_xor, "integer", ("any", "any")),
    "invert": (np.invert, "integer", ("any",)),
    "gt": (np.greater, "bool", ("any", "any")),
    "lt": (np.less, "bool", ("any", "any")),
    "ge": (np.greater_equal, "bool", ("any", "any")),
    "le": (np.less_equal, "bool", ("any", "any")),
    "eq": (np.equal, "bool", ("any", "any")),
    "neq": (np.not_equal, "bool", ("any", "any")),
    "isnan": (np.isnan, "bool", ("special",)),
    "isinf": (np.isinf, "bool", ("special",)),
}

_FLOAT_DOMAINS = {
    "any": [-2.5, -1.0, -0.5, 0.0, 0.75, 1.0, 2.25],
    "pos": [0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5],
    "nz": [-3.0, -1.5, -0.5, 0.5, 1.25, 2.0, 4.0],
    "unit": [-1.0, -0.75, -0.25, 0.0, 0.25, 0.5, 1.0],
    "open_unit": [-0.9, -0.75, -0.25, 0.0, 0.25, 0.5, 0.9],
    "ge1": [1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 8.5],
    "small": [-2.0, -1.5, 0.0, 0.5, 1.0, 2.0, 3.0],
    "lo": [-1.0] * 7,
    "hi": [1.5] * 7,
    "halves": [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.7],
    "special": [np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, np.nan],
}
_INT_DOMAINS = {
    "any": [-5, -2, -1, 0, 1, 3, 7],
    "pos": [1, 2, 3, 4, 5, 6, 7],
    "nz": [-3, -2, -1, 1, 2, 3, 5],
    "unit": [-1, -1, 0, 0, 0, 1, 1],
    "open_unit": [0, 0, 0, 0, 0, 0, 0],
    "ge1": [1, 1, 2, 3, 4, 5, 9],
    "small": [0, 1, 2, 3, 0, 1, 2],
    "lo": [-1] * 7,
    "hi": [2] * 7,
    "halves": [-3, -2, -1, 0, 1, 2, 3],
    "special": [0, 1, -1, 5, 7, -9, 3],
}


def data(domain, dtype, shift=0):
    values = (_FLOAT_DOMAINS if np.dtype(dtype).kind == "f" else _INT_DOMAINS)[domain]
    return np.roll(np.asarray(values, dtype=dtype), shift)


def check_close(result, expected, dtype):
    assert isinstance(result, np.ndarray), type(result)
    assert str(result.dtype) == dtype, (result.dtype, dtype)
    assert result.shape == np.shape(expected)
    if np.dtype(dtype).kind == "f":
        tolerance = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(result, np.asarray(expected, dtype=float), rtol=tolerance,
                                   atol=tolerance)
    else:
        np.testing.assert_array_equal(result, np.asarray(expected))


def reference(name, arrays, out_dtype):
    ref, kind, _ = SPECS[name]
    if kind == "float":
        arrays = [a.astype(np.float64) for a in arrays]
    with np.errstate(all="ignore"):
        return np.asarray(ref(*arrays))


def run(name, arrays, function=None):
    variables = [sym(str(a.dtype), a.ndim) for a in arrays]
    out = (function or ELEMENTWISE[name])(*variables)
    return out, out.eval(dict(zip(variables, arrays)))


def test_spec_table_covers_every_elementwise_function():
    assert set(SPECS) == set(ELEMENTWISE)


CASES = [(name, dtype) for name in SPECS for dtype in DTYPES
         if not (SPECS[name][1] == "integer" and dtype[0] == "f")]


@pytest.mark.parametrize("name,dtype", CASES)
def test_elementwise_against_numpy(name, dtype):
    _, kind, domains = SPECS[name]
    arrays = [data(domain, dtype, shift=i) for i, domain in enumerate(domains)]
    out, result = run(name, arrays)
    want = expected_dtype(kind, [dtype] * len(arrays))
    assert out.dtype == want
    assert out.type.shape == (None,)
    check_close(result, reference(name, arrays, want), want)


MIXED = [("float32", "float64"), ("int32", "float32"), ("int64", "float32"), ("int32", "int64"),
         ("int8", "int16"), ("float64", "int32")]
BINARY = [name for name, (_, kind, domains) in SPECS.items() if len(domains) == 2 and kind != "integer"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtypes", MIXED, ids="-".join)
def test_binary_mixed_dtypes(name, dtypes):
    _, kind, domains = SPECS[name]
    arrays = [data(domain, dtype, shift=i) for i, (domain, dtype) in enumerate(zip(domains, dtypes))]
    out, result = run(name, arrays)
    want = expected_dtype(kind, dtypes)
    assert out.dtype == want
    check_close(result, reference(name, arrays, want), want)


@pytest.mark.parametrize("name", ["and_", "or_", "xor", "invert"])
@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16"])
def test_bit_operators_on_bools_and_small_ints(name, dtype):
    _, _, domains = SPECS[name]
    if dtype == "bool":
        arrays = [np.array([True, False, True, False]), np.array([True, True, False, False])][:len(domains)]
    else:
        arrays = [np.array([0, 1, 5, 12], dtype), np.array([3, 1, 6, 10], dtype)][:len(domains)]
    out, result = run(name, arrays)
    assert out.dtype == dtype
    expected = np.logical_not(arrays[0]) if name == "invert" and dtype == "bool" else SPECS[name][0](*arrays)
    check_close(result, expected, dtype)


def test_invert_of_bools_is_logical_not():
    b = T.tensor("bool", (None,))
    np.testing.assert_array_equal((~b).eval({b: np.array([True, False])}), [False, True])


@pytest.mark.parametrize("name", ["and_", "or_", "xor", "invert"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bit_operators_on_floats_raise_naming_the_op(name, dtype):
    inputs = [sym(dtype), sym("int32")][:len(SPECS[name][2])]
    with pytest.raises(TypeError, match=name):
        ELEMENTWISE[name](*inputs)


def test_bit_operator_symbols_on_floats_raise():
    x, i = T.fvector("x"), T.ivector("i")
    for make in (lambda: x & i, lambda: i | x, lambda: x ^ x, lambda: ~x, lambda: x & 1):
        with pytest.raises(TypeError, match=r"Elemwise\{(and_|or_|xor|invert)"):
            make()


def test_pow_of_ints_with_negative_exponents_truncates():
    a, b = T.ivector("a"), T.ivector("b")
    result = (a ** b).eval({a: np.array([2, -2, 1, -1, 3, 2], "int32"),
                            b: np.array([-1, -1, -2, -3, 2, 0], "int32")})
    assert result.dtype == "int32"
    np.testing.assert_array_equal(result, [0, 0, 1, -1, 9, 1])


def test_mod_and_int_div_follow_python_signs():
    a, b = T.ivector("a"), T.ivector("b")
    av, bv = np.array([7, -7, 7, -7], "int32"), np.array([2, 2, -2, -2], "int32")
    np.testing.assert_array_equal((a % b).eval({a: av, b: bv}), [7 % 2, -7 % 2, 7 % -2, -7 % -2])
    np.testing.assert_array_equal((a // b).eval({a: av, b: bv}), [7 // 2, -7 // 2, 7 // -2, -7 // -2])
    x = T.dvector("x")
    np.testing.assert_array_equal((x % 2.0).eval({x: np.array([-0.5, 2.5])}), [1.5, 0.5])


def test_round_is_half_to_even():
    x = T.fvector("x")
    np.testing.assert_array_equal(T.round(x).eval({x: np.array([0.5, 1.5, 2.5, -0.5, -1.5], "float32")}),
                                  [0, 2, 2, -0, -2])


def test_inf_and_nan_are_results_not_errors():
    x = T.dvector("x")
    with np.errstate(all="raise"):
        result = T.log(x).eval({x: np.array([0.0, -1.0, 1.0])})
        div = (1.0 / x).eval({x: np.array([0.0])})
    assert result[0] == -np.inf and np.isnan(result[1]) and result[2] == 0
    assert div[0] == np.inf


# -- aliases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("alias,name", sorted(ALIASES.items()))
def test_aliases_are_the_same_functions(alias, name):
    assert getattr(T, alias) is ELEMENTWISE[name]
    assert getattr(T, name) is ELEMENTWISE[name]
    dtype = "int32" if SPECS[name][1] == "integer" else "float64"
    arrays = [data(domain, dtype, shift=i) for i, domain in enumerate(SPECS[name][2])]
    out, result = run(alias, arrays, function=getattr(T, alias))
    assert out.owner.op == Elemwise(name)
    check_close(result, reference(name, arrays, out.dtype), out.dtype)


def test_operators_build_the_table_ops():
    x, y = T.dmatrices("x", "y")
    i = T.imatrix("i")
    pairs = [(x + y, "add"), (x - y, "sub"), (x * y, "mul"), (x / y, "true_div"), (x // y, "int_div"),
             (x % y, "mod"), (x ** y, "pow"), (-x, "neg"), (abs(x), "abs"), (x < y, "lt"),
             (x <= y, "le"), (x > y, "gt"), (x >= y, "ge"), (i & i, "and_"), (i | i, "or_"),
             (i ^ i, "xor"), (~i, "invert"), (2 - x, "sub"), (2 / x, "true_div"), (2 ** x, "pow")]
    for out, name in pairs:
        assert out.owner.op == Elemwise(name), (out, name)
    assert (+x) is x


def test_arity_is_checked():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="at least 2"):
        T.add(x)
    with pytest.raises(TypeError, match=r"exp.*takes 1"):
        T.exp(x, x)
    with pytest.raises(TypeError, match=r"clip.*takes 3"):
        T.clip(x, x)


# -- broadcasting, empty and 0-d arrays ------------------------------------------------------

BROADCAST_CASES = [
    ("matrix-vector", (None, None), (2, 3), (None,), (3,)),
    ("row-col", (1, None), (1, 4), (None, 1), (3, 1)),
    ("matrix-scalar", (None, None), (2, 3), (), ()),
    ("scalar-tensor3", (), (), (None, None, None), (2, 1, 3)),
    ("vector-0d-empty", (None,), (0,), (), ()),
    ("empty-matrix-vector", (None, None), (0, 3), (None,), (3,)),
]


@pytest.mark.parametrize("name", ["add", "sub", "mul", "true_div", "pow", "maximum", "arctan2", "lt",
                                  "second"])
@pytest.mark.parametrize("case", BROADCAST_CASES, ids=lambda c: c[0])
def test_broadcasting_binary(name, case):
    _, static_a, shape_a, static_b, shape_b = case
    ref, kind, domains = SPECS[name]
    a, b = T.tensor("float32", static_a, name="a"), T.tensor("float64", static_b, name="b")
    size_a, size_b = int(np.prod(shape_a)), int(np.prod(shape_b))
    av = np.resize(data(domains[0], "float32"), size_a).reshape(shape_a)
    bv = np.resize(data(domains[1], "float64", shift=3), size_b).reshape(shape_b)
    out = ELEMENTWISE[name](a, b)
    want_shape = np.broadcast_shapes(shape_a, shape_b)
    assert out.ndim == len(want_shape)
    result = out.eval({a: av, b: bv})
    want = expected_dtype(kind, ["float32", "float64"])
    check_close(result, reference(name, [av, bv], want), want)


def test_lower_rank_inputs_are_dimshuffled_on_the_left():
    m, v, s = T.fmatrix("m"), T.fvector("v"), T.fscalar("s")
    out = T.clip(m, v, s)
    padded = out.owner.inputs
    assert padded[0] is m
    assert isinstance(padded[1].owner.op, DimShuffle) and padded[1].owner.op.new_order == ("x", 0)
    assert padded[2].owner.op.new_order == ("x", "x")
    assert out.type.shape == (None, None)


def test_static_shapes_propagate():
    a = T.tensor("float32", (2, None, 1))
    b = T.tensor("float32", (1, 3, 1))
    assert (a + b).type.shape == (2, 3, 1)
    assert T.exp(T.row()).type.shape == (1, None)
    assert (T.row() + T.col()).type.shape == (None, None)
    assert (T.row() + T.row()).broadcastable == (True, False)


def test_static_broadcast_mismatch_raises_at_build_time():
    a = T.tensor("float32", (2, 3), name="a")
    b = T.tensor("float32", (3, 3), name="b")
    with pytest.raises(ValueError) as caught:
        a + b
    message = str(caught.value)
    assert "add" in message and "(2, 3)" in message and "(3, 3)" in message


def test_run_time_broadcast_mismatch_names_op_and_shapes():
    a, b = T.fmatrix("a"), T.fmatrix("b")
    with pytest.raises(ValueError) as caught:
        T.mul(a, b).eval({a: np.ones((2, 3), "float32"), b: np.ones((3, 2), "float32")})
    message = str(caught.value)
    assert "mul" in message and "(2, 3)" in message and "(3, 2)" in message


UNARY = [name for name, (_, _, domains) in SPECS.items() if len(domains) == 1]


@pytest.mark.parametrize("name", UNARY)
def test_unary_on_0d(name):
    _, kind, (domain,) = SPECS[name]
    dtype = "int32" if kind == "integer" else "float64"
    x = T.tensor(dtype, ())
    value = np.asarray(data(domain, dtype)[4])
    result = ELEMENTWISE[name](x).eval({x: value})
    want = expected_dtype(kind, [dtype])
    check_close(result, reference(name, [value], want), want)


@pytest.mark.parametrize("name", UNARY)
def test_unary_on_empty(name):
    kind = SPECS[name][1]
    dtype = "int64" if kind == "integer" else "float32"
    x = T.tensor(dtype, (None, None))
    result = ELEMENTWISE[name](x).eval({x: np.zeros((0, 3), dtype)})
    assert result.shape == (0, 3)
    assert str(result.dtype) == expected_dtype(kind, [dtype])


def test_ternary_ops_broadcast():
    cond, x, y = T.bvector("cond"), T.fmatrix("x"), T.fscalar("y")
    out = T.switch(cond, x, y)
    assert out.dtype == "float32"
    xv = np.arange(6, dtype="float32").reshape(2, 3)
    cv = np.array([1, 0, 1], "int8")
    np.testing.assert_array_equal(out.eval({cond: cv, x: xv, y: np.float32(-1)}), np.where(cv, xv, -1))
    lo, hi = T.fvector("lo"), T.fscalar("hi")
    out = T.clip(x, lo, hi)
    lv = np.array([0, 2, 4], "float32")
    np.testing.assert_array_equal(out.eval({x: xv, lo: lv, hi: np.float32(4.5)}), np.clip(xv, lv, 4.5))


# -- weak Python scalars --------------------------------------------------------------------

def test_python_float_beside_float32_stays_float32():
    x = T.fmatrix("x")
    for out in (x * 2.0, 2.0 * x, x + 0.1, x / 3.0, x ** 2.0, x - 1, x * 2):
        assert out.dtype == "float32", out
    result = (x * 2.0).eval({x: np.ones((1, 2), "float32")})
    assert result.dtype == "float32"


def test_python_float_beside_float64_is_float64():
    assert (T.dvector() * 2.0).dtype == "float64"
    assert (T.dvector() + 1).dtype == "float64"


def test_python_int_widens_small_ints_only_when_needed():
    b = T.bvector("b")
    assert (b + 1).dtype == "int8"
    assert (b + 127).dtype == "int8"
    assert (b + 1000).dtype == "int16"
    assert (b + 100000).dtype == "int32"
    assert (b + 2 ** 40).dtype == "int64"
    assert (b - 1000).dtype == "int16"
    result = (b + 1000).eval({b: np.array([127, -128], "int8")})
    assert result.dtype == "int16"
    np.testing.assert_array_equal(result, [1127, 872])
    assert (T.ivector() + 1).dtype == "int32"
    assert (T.lvector() * 3).dtype == "int64"


def test_python_int_beside_unsigned():
    u = T.tensor("uint8", (None,))
    assert (u + 1).dtype == "uint8"
    assert (u + 300).dtype == "int16"    # 300 is an int16; uint8 with int16 is int16
    assert (u + (-1)).dtype == "int16"


def test_python_float_beside_ints_gives_floats():
    assert (T.bvector() + 1.5).dtype == FLOATX
    assert (T.wvector() * 0.5).dtype == FLOATX
    assert (T.ivector() + 1.5).dtype == "float64"   # int32 with float32 promotes to float64
    with config.change_flags(floatX="float64"):
        assert (T.bvector() + 1.5).dtype == "float64"


def test_python_bool_beside_tensors():
    assert (T.bvector() + True).dtype == "int8"
    assert (T.fvector() * False).dtype == "float32"
    b = T.tensor("bool", (None,))
    assert (b & True).dtype == "bool"
    assert (b + 1).dtype == "int8"


def test_int_divided_by_int_is_floatx():
    i, j = T.ivector("i"), T.ivector("j")
    assert (i / j).dtype == FLOATX
    assert (i / 2).dtype == FLOATX
    assert (1 / i).dtype == FLOATX
    result = (i / j).eval({i: np.array([1, 3], "int32"), j: np.array([2, 4], "int32")})
    assert result.dtype == FLOATX
    np.testing.assert_allclose(result, [0.5, 0.75])
    with config.change_flags(floatX="float64"):
        assert (T.ivector() / T.ivector()).dtype == "float64"
    assert (i // j).dtype == "int32"


def test_python_scalars_alone_get_the_smallest_int_or_floatx():
    assert T.constant(3).dtype == "int8"
    assert T.constant(-129).dtype == "int16"
    assert T.constant(300).dtype == "int16"
    assert T.constant(70000).dtype == "int32"
    assert T.constant(2 ** 40).dtype == "int64"
    assert T.constant(1.5).dtype == FLOATX
    assert T.constant([1.5, 2.0]).dtype == FLOATX
    assert T.constant(True).dtype == "bool"
    assert T.as_tensor_variable(3).dtype == "int8"
    assert T.add(1, 2).dtype == "int8"
    assert T.add(1, 2.5).dtype == FLOATX
    with config.change_flags(floatX="float64"):
        assert T.constant(1.5).dtype == "float64"


def test_numpy_scalars_are_strong():
    assert (T.fvector() * np.float64(2)).dtype == "float64"
    assert (T.fvector() * np.float32(2)).dtype == "float32"
    assert (T.bvector() + np.int16(1)).dtype == "int16"
    assert (T.fvector() + np.int64(1)).dtype == "float64"
    assert T.constant(np.int64(3)).dtype == "int64"
    assert T.constant(np.float64(1.5)).dtype == "float64"


def test_numpy_arrays_are_strong():
    assert (T.fvector() + np.ones(3)).dtype == "float64"
    assert (T.bvector() + np.ones(3, "int8")).dtype == "int8"


# -- cast -----------------------------------------------------------------------------------

CAST_TARGETS = ["bool", "int8", "uint8", "int16", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("source", DTYPES)
@pytest.mark.parametrize("target", CAST_TARGETS)
def test_cast_against_astype(source, target):
    x = T.tensor(source, (None,), name="x")
    values = np.array([0, 1.5, 2.75, 3, 7.25, 100], dtype=source)
    out = T.cast(x, target)
    assert out.dtype == target
    result = out.eval({x: values})
    assert str(result.dtype) == target
    np.testing.assert_array_equal(result, values.astype(target))
    if source == target:
        assert out is x
    else:
        assert str(out.owner.op) == f"Elemwise{{Cast{{{target}}}}}"


def test_cast_truncates_negative_floats_toward_zero():
    x = T.dvector("x")
    np.testing.assert_array_equal(T.cast(x, "int32").eval({x: np.array([-1.7, 2.7, -0.2])}), [-1, 2, 0])


def test_cast_floatx_and_astype():
    i = T.ivector("i")
    assert T.cast(i, "floatX").dtype == FLOATX
    assert i.astype("float64").dtype == "float64"
    assert T.cast([1, 2], "float64").dtype == "float64"


@pytest.mark.parametrize("bad", ["foo", "floaty32", "complex64", "object"])
def test_cast_to_unknown_or_unsupported_dtype_names_it(bad):
    with pytest.raises(TypeError, match=bad):
        T.cast(T.fvector(), bad)


# -- isclose / allclose -----------------------------------------------------------------------

ISCLOSE_A = [1.0, np.inf, 1.0, np.inf, -np.inf, np.nan, 0.0, 1e-9, 1.0, 100.0, 1.0, np.nan]
ISCLOSE_B = [np.inf, 1.0, 1.0, np.inf, np.inf, np.nan, 1e-9, 0.0, 1.000001, 100.01, -np.inf, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_against_numpy(dtype, equal_nan):
    a, b = T.tensor(dtype, (None,)), T.tensor(dtype, (None,))
    av, bv = np.array(ISCLOSE_A, dtype), np.array(ISCLOSE_B, dtype)
    out = T.isclose(a, b, equal_nan=equal_nan)
    assert out.dtype == "bool"
    np.testing.assert_array_equal(out.eval({a: av, b: bv}), np.isclose(av, bv, equal_nan=equal_nan))


def test_isclose_with_tolerances_and_ints():
    a, b = T.dvector("a"), T.dvector("b")
    av, bv = np.array([1.0, 1.0, 1.0]), np.array([1.05, 1.2, 0.91])
    np.testing.assert_array_equal(T.isclose(a, b, rtol=0.1, atol=0).eval({a: av, b: bv}),
                                  np.isclose(av, bv, rtol=0.1, atol=0))
    i, j = T.ivector("i"), T.ivector("j")
    iv, jv = np.array([1, 2, 3], "int32"), np.array([1, 3, 3], "int32")
    np.testing.assert_array_equal(T.isclose(i, j).eval({i: iv, j: jv}), np.isclose(iv, jv))


def test_allclose():
    a, b = T.dvector("a"), T.dvector("b")
    out = T.allclose(a, b)
    assert out.ndim == 0 and out.dtype == "bool"
    assert bool(out.eval({a: np.array([1.0, 2.0]), b: np.array([1.0, 2.0 + 1e-9])}))
    assert not bool(out.eval({a: np.array([1.0, 2.0]), b: np.array([1.0, 2.1])}))


# -- bools in arithmetic ---------------------------------------------------------------------

def test_subtracting_or_negating_bools_is_refused_when_building():
    # numpy refuses '-' on bools; a graph that type-checks must not fail only when run.
    b = T.tensor("bool", (None,), name="b")
    with pytest.raises(TypeError, match="sub"):
        b - b
    with pytest.raises(TypeError, match="neg"):
        -b


# -- the source documents' examples ------------------------------------------------------------

def test_seed_product_of_two_matrices():
    a, b = T.matrices("a", "b")
    z = a * b
    result = z.eval({a: np.ones((2, 2)).astype(config.floatX), b: np.diag((3, 3)).astype(config.floatX)})
    assert result.dtype == "float32"
    np.testing.assert_array_equal(result, [[3, 0], [0, 3]])
    z = T.mul(a, b)
    assert z.owner.op == (a * b).owner.op
    z = T.mul(a, b, a, b)
    assert len(z.owner.inputs) == 4
    result = z.eval({a: np.ones((2, 2), "float32"), b: np.diag((3, 3)).astype("float32")})
    np.testing.assert_array_equal(result, [[9, 0], [0, 9]])


def test_seed_square_of_a_matrix():
    a = T.matrix()
    z = a ** 2
    result = z.eval({a: np.diag((3, 3)).astype(config.floatX)})
    assert result.dtype == "float32"
    np.testing.assert_array_equal(result, [[9, 0], [0, 9]])


def test_seed_matrix_times_scalar_fed_a_python_int():
    a = T.matrix()
    b = T.scalar()
    z = a * b
    result = z.eval({a: np.diag((3, 3)).astype(config.floatX), b: 3})
    assert result.dtype == "float32"
    np.testing.assert_array_equal(result, [[9, 0], [0, 9]])


def test_seed_switch():
    cond = T.vector("cond")
    x, y = T.vectors("x", "y")
    z = T.switch(cond, x, y)
    result = z.eval({cond: [1, 0], x: [10, 10], y: [3, 2]})
    assert result.dtype == "float32"
    np.testing.assert_array_equal(result, [10.0, 2.0])
