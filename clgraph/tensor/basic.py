"""Turning data into tensors, constants and casts, the elementwise functions of the
scalar table, and the Shape op.

dtype rules: tensors promote as numpy does; Python scalars are weak (``x * 2.0``
keeps float32 for a float32 ``x``, ``i8 + 1000`` widens to int16 because 1000 does not
fit int8); a Python scalar alone is an int of the smallest width that holds it, or a
float of ``floatX``; integer division by ``/`` and the float functions of integers give
``floatX``.
"""
import numpy as np

from clgraph.configdefaults import config
from clgraph.graph.basic import Apply, Variable
from clgraph.graph.op import Op
from clgraph.scalar import SCALAR_OPS, upcast

from .elemwise import Elemwise
from .type import TensorType
from .variable import TensorConstant

_INT_WIDTHS = [np.dtype(d) for d in ("int8", "int16", "int32", "int64")]


def _is_python_scalar(x):
    return type(x) in (bool, int, float)


def _smallest_int(value):
    for dtype in _INT_WIDTHS:
        info = np.iinfo(dtype)
        if info.min <= value <= info.max:
            return dtype
    if 0 <= value <= np.iinfo(np.uint64).max:
        return np.dtype(np.uint64)
    raise OverflowError(f"Python int {value} does not fit any integer dtype")


def _weak_dtype(value, base):
    """The dtype of a Python scalar used beside tensors whose promoted dtype is ``base``."""
    if type(value) is bool:
        return np.dtype(bool) if base is None else base
    if type(value) is int:
        own = _smallest_int(value)
        if base is None or base.kind == "b" or upcast(base, own) == base:
            return own   # a small int constant, as Theano prints it; the result keeps base
        if base.kind == "f" or _fits(value, base):
            return base
        return upcast(base, own)
    if base is None or base.kind in "biu":
        return np.dtype(config.floatX) if base is None else upcast(base, config.floatX)
    return base


def _fits(value, dtype):
    info = np.iinfo(dtype)
    return info.min <= value <= info.max


def constant(x, name=None, ndim=None, dtype=None):
    """A TensorConstant holding ``x``; Python ints get the smallest int dtype that holds
    them, Python floats (and lists of them) ``floatX``."""
    if dtype is None:
        if type(x) is int:
            dtype = _smallest_int(x)
        elif type(x) is float or (isinstance(x, (list, tuple)) and np.asarray(x).dtype == np.float64):
            dtype = config.floatX
    data = np.asarray(x, dtype=dtype)
    if data.dtype == object:
        raise TypeError(f"cannot make a tensor constant of {type(x).__name__} {x!r}")
    if ndim is not None and data.ndim != ndim:
        data = data.reshape((1,) * (ndim - data.ndim) + data.shape) if data.ndim < ndim else data
        if data.ndim != ndim:
            raise ValueError(f"constant {x!r} has {data.ndim} dimensions, {ndim} asked")
    if np.asarray(x).dtype.kind == "f" and data.dtype.kind in "iub" and not np.array_equal(data, x):
        raise TypeError(f"constant {x!r} cannot be {data.dtype} without changing its values")
    return TensorConstant(TensorType(data.dtype, data.shape), data, name)


def as_tensor_variable(x, name=None, ndim=None):
    """``x`` as a tensor variable: variables pass through, data becomes a constant, a
    list holding variables is stacked."""
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"{x} of type {x.type} is not a tensor")
        if ndim is not None and x.ndim != ndim:
            raise TypeError(f"{x} has {x.ndim} dimensions, {ndim} expected")
        return x
    if isinstance(x, Apply):
        return as_tensor_variable(x.out, name, ndim)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Variable) for v in _flatten(x)):
        from .join import stack   # a list that holds variables: stack its elements
        return stack([as_tensor_variable(v) for v in x])
    return constant(x, name=name, ndim=ndim)


def _flatten(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def as_tensor_variables_weak(inputs):
    """Inputs of an elementwise op as tensors, Python scalars typed by the others."""
    strong = [as_tensor_variable(x) for x in inputs if not _is_python_scalar(x)]
    base = upcast(*[v.dtype for v in strong]) if strong else None
    strong_iter = iter(strong)
    return [constant(x, dtype=_weak_dtype(x, base)) if _is_python_scalar(x) else next(strong_iter)
            for x in inputs]


def cast(x, dtype):
    """``x`` converted to ``dtype`` (numpy's astype); ``x`` itself if already that dtype."""
    if dtype == "floatX":
        dtype = config.floatX
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"cast: {dtype!r} is not a dtype") from None
    if dtype.kind not in "biuf":
        raise TypeError(f"cast: dtype {dtype} is not supported (bool, integers and floats are)")
    x = as_tensor_variable(x)
    if x.dtype == str(dtype):
        return x
    return Elemwise("identity", str(dtype))(x)


def _elementwise(name, doc):
    op = Elemwise(SCALAR_OPS[name])

    def apply(*inputs):
        return op(*inputs)

    apply.__name__ = name
    apply.__doc__ = doc
    return apply


_DOCS = {
    "add": "x + y + ...", "sub": "x - y", "mul": "x * y * ...", "true_div": "x / y (floats)",
    "int_div": "x // y (floor division)", "mod": "x % y (sign of y, as Python)", "pow": "x ** y",
    "neg": "-x", "abs": "|x|", "sgn": "sign of x (-1, 0, 1)", "sqr": "x * x", "inv": "1 / x",
    "minimum": "elementwise minimum", "maximum": "elementwise maximum",
    "clip": "x limited to [low, high]", "switch": "where cond, x, else y (both computed)",
    "round_half_to_even": "x rounded, halves to even (numpy.round)",
    "and_": "x & y (bitwise, logical for bools)", "or_": "x | y", "xor": "x ^ y", "invert": "~x",
    "gt": "x > y", "lt": "x < y", "ge": "x >= y", "le": "x <= y", "eq": "x == y", "neq": "x != y",
}
ELEMENTWISE = {name: _elementwise(name, _DOCS.get(name, f"elementwise {name}"))
               for name in SCALAR_OPS if name != "identity"}
globals().update(ELEMENTWISE)

# Other names the source documents and numpy users reach for.
ALIASES = {"abs_": "abs", "truediv": "true_div", "intdiv": "int_div", "floor_div": "int_div",
           "reciprocal": "inv", "round": "round_half_to_even", "sign": "sgn", "power": "pow",
           "bitwise_and": "and_", "bitwise_or": "or_", "bitwise_xor": "xor", "bitwise_not": "invert"}
globals().update({alias: ELEMENTWISE[name] for alias, name in ALIASES.items()})


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """numpy.isclose: |a - b| <= atol + rtol * |b| for finite b; infinities close only
    to themselves."""
    a, b = as_tensor_variables_weak([a, b])
    abs_ = ELEMENTWISE["abs"]
    within = ELEMENTWISE["le"](abs_(a - b), atol + rtol * abs_(b)) & ~ELEMENTWISE["isinf"](b)
    close = ELEMENTWISE["or_"](ELEMENTWISE["eq"](a, b), within)
    if equal_nan:
        close = close | (ELEMENTWISE["isnan"](a) & ELEMENTWISE["isnan"](b))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    from .math import all as all_

    return all_(isclose(a, b, rtol, atol, equal_nan))


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    reads_shape_only = True   # placement lets it read a device value's shape in place

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))()])

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape, dtype=np.int64)]

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[0].ndim,)]

    def connection_pattern(self, node):
        return [[False]]   # the shape does not depend on the values


_shape = Shape()


def shape(x):
    """The symbolic shape of ``x``: an int64 vector (``x.shape``)."""
    return _shape(x)


def maximum_of_lengths(lengths):
    """The broadcast length of several symbolic or static lengths."""
    lengths = [n for n in lengths if not (isinstance(n, (int, np.integer)) and n == 1)] or [1]
    known = [n for n in lengths if isinstance(n, (int, np.integer))]
    if known:
        return known[0]
    result = lengths[0]
    for n in lengths[1:]:
        result = ELEMENTWISE["maximum"](result, n)
    return result


__all__ = ["ALIASES", "ELEMENTWISE", "Shape", "allclose", "as_tensor_variable", "cast", "constant",
           "isclose", "shape", *ELEMENTWISE, *ALIASES]
