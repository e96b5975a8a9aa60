"""The table of scalar operations.

Each row gives an operation's name, its number of inputs, its numpy implementation (the
reference), its C expression for kernels (``{0}``, ``{1}``... are the inputs; n-ary
operations join their inputs with ``joiner``), the rule that gives its output dtype,
and how ``pp`` shows it. Elementwise tensor ops, the kernel renderer and the printer
all read this table; nothing else lists the operations.
"""
import math
from dataclasses import dataclass

import numpy as np

from clgraph.configdefaults import config

_FLOAT_KINDS = "fc"


def upcast(*dtypes):
    """numpy's promotion of ``dtypes`` (bool < ints < floats)."""
    return np.result_type(*[np.dtype(d) for d in dtypes])


def upgrade_to_float(dtype):
    """Floats stay; bools and integers become floatX (so int / int is floatX)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in _FLOAT_KINDS else np.dtype(config.floatX)


def _rule_upcast(dtypes):
    return upcast(*dtypes)


def _rule_float(dtypes):
    return upgrade_to_float(upcast(*dtypes))


def _rule_bool(dtypes):
    return np.dtype(bool)


def _rule_switch(dtypes):
    return upcast(*dtypes[1:])


def _rule_second(dtypes):
    return np.dtype(dtypes[1])


def _rule_numeric(dtypes):
    dtype = upcast(*dtypes)
    if dtype.kind == "b":
        raise TypeError("needs numeric inputs, got booleans (use invert or xor for logic)")
    return dtype


def _rule_integer(dtypes):
    dtype = upcast(*dtypes)
    if dtype.kind not in "biu":
        raise TypeError(f"needs integer or boolean inputs, got {', '.join(map(str, dtypes))}")
    return dtype


_RULES = {"upcast": _rule_upcast, "float": _rule_float, "bool": _rule_bool,
          "switch": _rule_switch, "second": _rule_second, "integer": _rule_integer,
          "numeric": _rule_numeric}


def _elementwise_python(function):
    """A numpy-style wrapper of a Python float function (math.erf has no numpy twin)."""
    vectorized = np.frompyfunc(function, 1, 1)
    return lambda x: np.asarray(vectorized(x)).astype(np.result_type(x, np.float32))


def _int_safe_power(x, y):
    # numpy refuses negative integer powers of integers; Theano (and C) truncate them.
    if np.result_type(x, y).kind in "iu" and np.any(np.asarray(y) < 0):
        return np.trunc(np.power(np.asarray(x, float), y)).astype(np.result_type(x, y))
    return np.power(x, y)


@dataclass(frozen=True, eq=False)
class ScalarOp:
    name: str
    nin: int              # -1: two or more (add, mul)
    impl: object          # numpy implementation
    c: str                # C expression over {0}, {1}, ... ({t}: the type it computes in)
    output: str = "upcast"
    symbol: str = ""      # infix (or prefix, for one input) symbol in pp
    precedence: int = 0   # binding strength of the symbol in pp
    joiner: str = ""      # C operator joining the inputs of an n-ary op
    display: str = ""     # the name pp shows, when not ``name``

    nout = 1

    def output_dtype(self, dtypes):
        return _RULES[self.output](dtypes)

    def output_dtypes(self, dtypes):
        return [self.output_dtype(dtypes)]

    def L_op(self, T, inputs, output, gz):
        """The gradients of the inputs (tensors built with the namespace ``T``) given
        ``gz``, that of ``output``."""
        return GRADIENTS[self.name](T, inputs, output, gz)

    def __str__(self):
        return self.name


def _table():
    rows = [
        # arithmetic
        ScalarOp("add", -1, lambda *xs: sum(xs[1:], xs[0]), "", symbol="+", precedence=-1, joiner=" + "),
        ScalarOp("sub", 2, np.subtract, "({0} - {1})", "numeric", "-", -1),
        ScalarOp("mul", -1, lambda *xs: math.prod(xs[1:], start=xs[0]), "", symbol="*", precedence=0,
                 joiner=" * "),
        ScalarOp("true_div", 2, np.true_divide, "({0} / {1})", "float", "/", 0),
        ScalarOp("int_div", 2, np.floor_divide, "floor_div({0}, {1})", symbol="//", precedence=0),
        ScalarOp("mod", 2, np.mod, "py_mod({0}, {1})", symbol="%", precedence=0),
        ScalarOp("pow", 2, _int_safe_power, "pow({0}, {1})", symbol="**", precedence=1),
        ScalarOp("neg", 1, np.negative, "(-{0})", "numeric", "-", 0),
        ScalarOp("abs", 1, np.abs, "fabs({0})"),
        ScalarOp("sgn", 1, np.sign, "(({0} > 0) - ({0} < 0))"),
        ScalarOp("sqr", 1, np.square, "({0} * {0})"),
        ScalarOp("inv", 1, lambda x: np.true_divide(1, x), "(1 / {0})", "float"),
        ScalarOp("minimum", 2, np.minimum, "min({0}, {1})"),
        ScalarOp("maximum", 2, np.maximum, "max({0}, {1})"),
        ScalarOp("clip", 3, np.clip, "min(max({0}, {1}), {2})"),
        ScalarOp("switch", 3, np.where, "({0} != 0 ? {1} : {2})", "switch"),
        # second(a, b): b broadcast to the shape of a (Theano's fill)
        ScalarOp("second", 2, lambda a, b: np.array(np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape))),
                 "{1}", "second", display="fill"),
        # exponentials, logarithms, roots
        ScalarOp("sqrt", 1, np.sqrt, "sqrt({0})", "float"),
        ScalarOp("exp", 1, np.exp, "exp({0})", "float"),
        ScalarOp("exp2", 1, np.exp2, "exp2({0})", "float"),
        ScalarOp("expm1", 1, np.expm1, "expm1({0})", "float"),
        ScalarOp("log", 1, np.log, "log({0})", "float"),
        ScalarOp("log2", 1, np.log2, "log2({0})", "float"),
        ScalarOp("log10", 1, np.log10, "log10({0})", "float"),
        ScalarOp("log1p", 1, np.log1p, "log1p({0})", "float"),
        # the logistic function and log(1 + exp(x)), both finite for any finite x
        ScalarOp("sigmoid", 1, lambda x: 1 / (1 + np.exp(-x)), "(({t})1 / (({t})1 + exp(-{0})))", "float"),
        ScalarOp("softplus", 1, lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),
                 "(fmax({0}, ({t})0) + log1p(exp(-fabs({0}))))", "float"),
        ScalarOp("erf", 1, _elementwise_python(math.erf), "erf({0})", "float"),
        ScalarOp("erfc", 1, _elementwise_python(math.erfc), "erfc({0})", "float"),
        # trigonometry
        ScalarOp("cos", 1, np.cos, "cos({0})", "float"),
        ScalarOp("sin", 1, np.sin, "sin({0})", "float"),
        ScalarOp("tan", 1, np.tan, "tan({0})", "float"),
        ScalarOp("arccos", 1, np.arccos, "acos({0})", "float"),
        ScalarOp("arcsin", 1, np.arcsin, "asin({0})", "float"),
        ScalarOp("arctan", 1, np.arctan, "atan({0})", "float"),
        ScalarOp("arctan2", 2, np.arctan2, "atan2({0}, {1})", "float"),
        ScalarOp("cosh", 1, np.cosh, "cosh({0})", "float"),
        ScalarOp("sinh", 1, np.sinh, "sinh({0})", "float"),
        ScalarOp("tanh", 1, np.tanh, "tanh({0})", "float"),
        ScalarOp("arccosh", 1, np.arccosh, "acosh({0})", "float"),
        ScalarOp("arcsinh", 1, np.arcsinh, "asinh({0})", "float"),
        ScalarOp("arctanh", 1, np.arctanh, "atanh({0})", "float"),
        # rounding: round is half to even, as numpy's
        ScalarOp("floor", 1, np.floor, "floor({0})", "float"),
        ScalarOp("ceil", 1, np.ceil, "ceil({0})", "float"),
        ScalarOp("round_half_to_even", 1, np.rint, "rint({0})", "float"),
        ScalarOp("trunc", 1, np.trunc, "trunc({0})", "float"),
        # logic and bits
        ScalarOp("and_", 2, np.bitwise_and, "({0} & {1})", "integer", "&", -3),
        ScalarOp("or_", 2, np.bitwise_or, "({0} | {1})", "integer", "|", -5),
        ScalarOp("xor", 2, np.bitwise_xor, "({0} ^ {1})", "integer", "^", -4),
        ScalarOp("invert", 1, lambda x: np.logical_not(x) if x.dtype == bool else np.invert(x),
                 "(~{0})", "integer", "~", 0),
        # comparisons
        ScalarOp("gt", 2, np.greater, "({0} > {1})", "bool", ">", -2),
        ScalarOp("lt", 2, np.less, "({0} < {1})", "bool", "<", -2),
        ScalarOp("ge", 2, np.greater_equal, "({0} >= {1})", "bool", ">=", -2),
        ScalarOp("le", 2, np.less_equal, "({0} <= {1})", "bool", "<=", -2),
        ScalarOp("eq", 2, np.equal, "({0} == {1})", "bool", "==", -2),
        ScalarOp("neq", 2, np.not_equal, "({0} != {1})", "bool", "!=", -2),
        ScalarOp("isnan", 1, np.isnan, "isnan({0})", "bool"),
        ScalarOp("isinf", 1, np.isinf, "isinf({0})", "bool"),
        # conversion: the output dtype is the Cast op's own
        ScalarOp("identity", 1, lambda x: x, "{0}"),
    ]
    return {row.name: row for row in rows}


SCALAR_OPS = _table()


# ---------------------------------------------------------------------------------------
# gradients: rule(T, inputs, output, gz) -> one gradient per input (None: the output does
# not depend on that input). Rules see tensors (Elemwise sums them over broadcast axes
# afterwards) and are written with clgraph.tensor passed in as T, which imports this module.

def _zero(T, inputs, z, gz):
    """Piecewise-constant outputs (rounding, sign, comparisons, bits): zero gradients."""
    return [T.zeros_like(x) for x in inputs]


def _mul(T, inputs, z, gz):
    others = lambda i: [x for j, x in enumerate(inputs) if j != i]
    return [gz * (rest[0] if len(rest) == 1 else T.mul(*rest)) for rest in map(others, range(len(inputs)))]


def _pow(T, inputs, z, gz):
    x, y = inputs
    # where x == 0 the y-gradient x**y * log(x) is 0 * -inf: Theano's rule gives nan too
    return [gz * y * x ** (y - 1), gz * T.log(x) * z]


def _extremum(T, inputs, z, gz):
    """minimum / maximum: the gradient goes to every input equal to the result (ties share
    it, as Theano)."""
    return [gz * T.eq(z, x) for x in inputs]


_LOG_2, _LOG_10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

GRADIENTS = {
    "add": lambda T, xs, z, gz: [gz for _ in xs],
    "sub": lambda T, xs, z, gz: [gz, -gz],
    "mul": _mul,
    "true_div": lambda T, xs, z, gz: [gz / xs[1], -gz * xs[0] / (xs[1] * xs[1])],
    "int_div": _zero,
    "mod": lambda T, xs, z, gz: [gz, -gz * T.floor(xs[0] / xs[1])],
    "pow": _pow,
    "neg": lambda T, xs, z, gz: [-gz],
    "abs": lambda T, xs, z, gz: [gz * T.sgn(xs[0])],
    "sgn": _zero,
    "sqr": lambda T, xs, z, gz: [gz * 2 * xs[0]],
    "inv": lambda T, xs, z, gz: [-gz / (xs[0] * xs[0])],
    "minimum": _extremum,
    "maximum": _extremum,
    "clip": lambda T, xs, z, gz: [gz * ((xs[0] >= xs[1]) & (xs[0] <= xs[2])),
                                  gz * (xs[0] < xs[1]), gz * (xs[0] > xs[2])],
    "switch": lambda T, xs, z, gz: [T.zeros_like(xs[0]), T.switch(xs[0], gz, T.zeros_like(gz)),
                                    T.switch(xs[0], T.zeros_like(gz), gz)],
    # fill(a, b) uses only the shape of a
    "second": lambda T, xs, z, gz: [None, gz],
    "sqrt": lambda T, xs, z, gz: [gz * 0.5 / z],
    "exp": lambda T, xs, z, gz: [gz * z],
    "exp2": lambda T, xs, z, gz: [gz * z * _LOG_2],
    "expm1": lambda T, xs, z, gz: [gz * (z + 1)],
    "log": lambda T, xs, z, gz: [gz / xs[0]],
    "log2": lambda T, xs, z, gz: [gz / (xs[0] * _LOG_2)],
    "log10": lambda T, xs, z, gz: [gz / (xs[0] * _LOG_10)],
    "log1p": lambda T, xs, z, gz: [gz / (xs[0] + 1)],
    "sigmoid": lambda T, xs, z, gz: [gz * z * (1 - z)],
    "softplus": lambda T, xs, z, gz: [gz * T.sigmoid(xs[0])],
    "erf": lambda T, xs, z, gz: [gz * _TWO_OVER_SQRT_PI * T.exp(-xs[0] * xs[0])],
    "erfc": lambda T, xs, z, gz: [-gz * _TWO_OVER_SQRT_PI * T.exp(-xs[0] * xs[0])],
    "cos": lambda T, xs, z, gz: [-gz * T.sin(xs[0])],
    "sin": lambda T, xs, z, gz: [gz * T.cos(xs[0])],
    "tan": lambda T, xs, z, gz: [gz * (z * z + 1)],
    "arccos": lambda T, xs, z, gz: [-gz / T.sqrt(1 - xs[0] * xs[0])],
    "arcsin": lambda T, xs, z, gz: [gz / T.sqrt(1 - xs[0] * xs[0])],
    "arctan": lambda T, xs, z, gz: [gz / (xs[0] * xs[0] + 1)],
    "arctan2": lambda T, xs, z, gz: [gz * xs[1] / (xs[0] * xs[0] + xs[1] * xs[1]),
                                     -gz * xs[0] / (xs[0] * xs[0] + xs[1] * xs[1])],
    "cosh": lambda T, xs, z, gz: [gz * T.sinh(xs[0])],
    "sinh": lambda T, xs, z, gz: [gz * T.cosh(xs[0])],
    "tanh": lambda T, xs, z, gz: [gz * (1 - z * z)],
    "arccosh": lambda T, xs, z, gz: [gz / T.sqrt(xs[0] * xs[0] - 1)],
    "arcsinh": lambda T, xs, z, gz: [gz / T.sqrt(xs[0] * xs[0] + 1)],
    "arctanh": lambda T, xs, z, gz: [gz / (1 - xs[0] * xs[0])],
    "identity": lambda T, xs, z, gz: [gz],
    **{name: _zero for name in ("floor", "ceil", "round_half_to_even", "trunc", "and_", "or_", "xor",
                                "invert", "gt", "lt", "ge", "le", "eq", "neq", "isnan", "isinf")},
}
