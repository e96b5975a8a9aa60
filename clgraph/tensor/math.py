"""Reductions, scans and linear algebra.

Every reduction is one op, CAReduce, parametrized by a scalar op of the table (add, mul,
maximum, minimum, and_, or_) and the axes it reduces; ``keepdims`` is a DimShuffle
after it, and mean, var, std, ptp and logsumexp are graphs of reductions and
elementwise ops, so rewrites see (and can fuse) their parts. Axes follow numpy: None
(all), an int, a negative int or a tuple; reduced axes are stored sorted and
non-negative, so equal reductions are equal ops.

dtypes follow numpy: sums and products of bools and narrow ints are int64 (uint64 for
unsigned), floats keep theirs; ``acc_dtype`` is the accumulator (Theano's), by default
the output dtype with float16 widened to float32. Linear algebra outputs the upcast of
its inputs.
"""
import builtins
import math

import numpy as np

from clgraph.configdefaults import config
from clgraph.graph.basic import Apply
from clgraph.graph.op import Op
from clgraph.scalar import SCALAR_OPS, upcast, upgrade_to_float

from .basic import (as_tensor_variable, cast, constant, exp, isinf, log, mul, neq, sqr, sqrt, sub,
                    switch, true_div)
from .basic import maximum as elementwise_maximum
from .elemwise import DimShuffle, _sum_to_pattern, broadcast_static_shapes
from .shape_ops import _is_int, _normalize_axes
from .type import TensorType

# Reducible scalar ops: the name reductions show, and the numpy ufunc of the reference.
REDUCTIONS = {"add": ("Sum", np.add), "mul": ("Prod", np.multiply),
              "maximum": ("Max", np.maximum), "minimum": ("Min", np.minimum),
              "and_": ("All", np.bitwise_and), "or_": ("Any", np.bitwise_or)}

_INT64, _UINT64, _FLOAT32 = np.dtype("int64"), np.dtype("uint64"), np.dtype("float32")


# ---------------------------------------------------------------------------------------
# helpers

def _scalar_op(scalar_op):
    op = SCALAR_OPS[scalar_op] if isinstance(scalar_op, str) else scalar_op
    if op.name not in REDUCTIONS:
        raise ValueError(f"cannot reduce with scalar op {op.name}: reducible ops are "
                         f"{', '.join(REDUCTIONS)}")
    return op


def normalize_axes(who, axis, ndim):
    """``axis`` (None, int or sequence, numpy style) as a sorted tuple of non-negative axes;
    errors name ``who``, the axis and ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not builtins.all(_is_int(a) for a in items):
        raise TypeError(f"{who}: axis must be None, an int or a tuple of ints, got {axis!r}")
    return tuple(sorted(_normalize_axes(who, axis, ndim)))


def _dtype(dtype):
    return np.dtype(config.floatX if isinstance(dtype, str) and dtype == "floatX" else dtype)


def _widened(dtype):
    """numpy's dtype of a sum or product: narrow ints and bools widen to 64 bits."""
    if dtype.kind in "bi" and dtype.itemsize < 8:
        return _INT64
    if dtype.kind == "u" and dtype.itemsize < 8:
        return _UINT64
    return dtype


def _keep_dims(out, ndim, axes):
    """``out`` (reduced over ``axes`` of an ``ndim`` tensor) with those axes back, length 1."""
    kept = iter(range(out.ndim))
    return DimShuffle(out.ndim, ["x" if a in axes else next(kept) for a in range(ndim)])(out)


def _drop_dims(out, axes):
    """``out`` without its ``axes`` (of static length 1)."""
    return DimShuffle(out.ndim, [a for a in range(out.ndim) if a not in axes])(out)


def _product(lengths):
    """The product of static ints or symbolic lengths."""
    result = 1
    for n in lengths:
        result = n * result if not isinstance(n, (int, np.integer)) else result * int(n)
    return result


def _static_product(lengths):
    return None if builtins.any(n is None for n in lengths) else math.prod(lengths)


def _broadcast_static(who, a_shape, b_shape, a, b):
    """Static broadcast of two batch shapes (right aligned), ValueError naming ``who``."""
    n = builtins.max(len(a_shape), len(b_shape))
    a_shape, b_shape = (1,) * (n - len(a_shape)) + a_shape, (1,) * (n - len(b_shape)) + b_shape
    shape, conflict = broadcast_static_shapes([a_shape, b_shape])
    if conflict:
        x, y = a_shape[conflict[0]], b_shape[conflict[0]]
        raise ValueError(f"{who}: batch dimensions of {a} (static shape {a.type.shape}) and {b} "
                         f"(static shape {b.type.shape}) do not broadcast: {x} != {y}")
    return shape


# ---------------------------------------------------------------------------------------
# reductions

class CAReduce(Op):
    """A commutative, associative scalar op reduced over ``axis`` (a sorted tuple).

    ``dtype`` is the output dtype and ``acc_dtype`` the accumulator's (None: the
    defaults, resolved in make_node); ``no_zeros_in_input`` is Theano's promise for the
    gradient of a product.
    """

    __props__ = ("scalar_op", "axis", "dtype", "acc_dtype", "no_zeros_in_input")

    def __init__(self, scalar_op, axis, dtype=None, acc_dtype=None, no_zeros_in_input=False):
        self.scalar_op = _scalar_op(scalar_op)
        self.axis = tuple(sorted(int(a) for a in axis))
        if len(set(self.axis)) != len(self.axis) or builtins.any(a < 0 for a in self.axis):
            raise ValueError(f"{self.title}: axes {axis} must be distinct and non-negative")
        self.dtype = None if dtype is None else str(_dtype(dtype))
        self.acc_dtype = None if acc_dtype is None else str(_dtype(acc_dtype))
        if (self.dtype or self.acc_dtype) and self.scalar_op.name not in ("add", "mul"):
            raise TypeError(f"{self.title} has no dtype or acc_dtype (only Sum and Prod have)")
        if no_zeros_in_input and self.scalar_op.name != "mul":
            raise TypeError(f"{self.title}: no_zeros_in_input applies to Prod only")
        self.no_zeros_in_input = bool(no_zeros_in_input)

    @property
    def title(self):
        return REDUCTIONS[self.scalar_op.name][0]

    def output_dtypes(self, input_dtype):
        """The (output, accumulator) dtypes for an input of ``input_dtype``."""
        input_dtype = np.dtype(input_dtype)
        if self.scalar_op.name not in ("add", "mul"):
            return input_dtype, input_dtype
        out = np.dtype(self.dtype) if self.dtype else _widened(input_dtype)
        if self.acc_dtype is None:
            acc = _FLOAT32 if out == np.float16 else out
        else:
            acc = np.dtype(self.acc_dtype)
            if not (acc.kind == "f" and input_dtype.kind in "biu") and upcast(input_dtype, acc) != acc:
                raise TypeError(
                    f"Cannot build {self} node with input dtype {input_dtype} and acc_dtype {acc}, "
                    f"as precision would be lost. Leave acc_dtype out, use an acc_dtype at least as "
                    f"precise as {input_dtype}, or give dtype= (the result is cast to it at the end).")
        return out, acc

    def make_node(self, x):
        x = as_tensor_variable(x)
        bad = [a for a in self.axis if a >= x.ndim]
        if bad:
            raise ValueError(f"{self}: axis {bad[0]} is out of range for {x} with ndim {x.ndim}")
        out_dtype, _ = self.output_dtypes(x.dtype)
        shape = tuple(n for a, n in enumerate(x.type.shape) if a not in self.axis)
        return Apply(self, [x], [TensorType(out_dtype, shape)()])

    def perform(self, node, inputs):
        (x,) = inputs
        out_dtype, acc_dtype = self.output_dtypes(x.dtype)
        ufunc = REDUCTIONS[self.scalar_op.name][1]
        try:
            with np.errstate(all="ignore"):
                result = ufunc.reduce(x, axis=self.axis, dtype=acc_dtype)
        except ValueError:
            if x.size == 0 and ufunc.identity is None:
                raise ValueError(f"cannot take the {self.title.lower()} over axes {self.axis} of an "
                                 f"empty array of shape {x.shape}: it has no identity") from None
            raise
        return [np.asarray(result, dtype=out_dtype)]

    def infer_shape(self, node, input_shapes):
        return [tuple(n for a, n in enumerate(input_shapes[0]) if a not in self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        import clgraph.tensor as T

        (x,), (out,), (gz,) = inputs, outputs, output_grads
        gz = _keep_dims(gz, x.ndim, self.axis)
        name = self.scalar_op.name
        if name == "add":
            return [T.second(x, gz)]
        if name == "mul":
            return [_prod_grad(x, _keep_dims(out, x.ndim, self.axis), gz, self.axis,
                               self.no_zeros_in_input)]
        if name in ("maximum", "minimum"):
            return [_extremum_grad(x, _keep_dims(out, x.ndim, self.axis), gz)]
        return [T.zeros_like(x)]   # all / any: boolean

    def __str__(self):
        shown = [f"axis={self.axis}"]
        shown += [f"{name}={getattr(self, name)}" for name in ("dtype", "acc_dtype") if getattr(self, name)]
        if self.no_zeros_in_input:
            shown.append("no_zeros_in_input=True")
        return f"{self.title}{{{', '.join(shown)}}}"


def _extremum_grad(x, extremum, gz):
    """The gradient of max / min: to every element equal to the extremum (ties share it)."""
    import clgraph.tensor as T

    return gz * T.eq(extremum, x)


def _prod_grad(x, product, gz, axes, no_zeros):
    """The gradient of prod, as Theano's: product / x where the reduced slice has no zero;
    with exactly one zero, only that element gets the product of the others; with more
    zeros, nothing."""
    import clgraph.tensor as T

    if no_zeros:
        return gz * product / x
    zero = T.constant(np.zeros((), dtype=x.dtype))
    is_zero = T.eq(x, 0)
    zeros = sum(is_zero, axes, keepdims=True)
    others = prod(T.switch(is_zero, T.constant(np.ones((), dtype=x.dtype)), x), axes, keepdims=True)
    one_zero = T.switch(is_zero, gz * others, zero)
    return T.switch(T.eq(zeros, 0), gz * product / x, T.switch(T.eq(zeros, 1), one_zero, zero))


def _reduce(scalar_op, x, axis, keepdims, **props):
    x = as_tensor_variable(x)
    axes = normalize_axes(REDUCTIONS[scalar_op][0], axis, x.ndim)
    out = CAReduce(scalar_op, axes, **props)(x)
    return _keep_dims(out, x.ndim, axes) if keepdims else out


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over ``axis``; ints and bools sum to int64 (uint64), as numpy."""
    return _reduce("add", x, axis, keepdims, dtype=dtype, acc_dtype=acc_dtype)


def prod(x, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):
    """Product over ``axis``; dtypes as ``sum``."""
    return _reduce("mul", x, axis, keepdims, dtype=dtype, acc_dtype=acc_dtype,
                   no_zeros_in_input=no_zeros_in_input)


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis`` (an error at run time for an empty reduction)."""
    return _reduce("maximum", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``."""
    return _reduce("minimum", x, axis, keepdims)


def _as_bool(x):
    x = as_tensor_variable(x)
    return x if x.dtype == "bool" else neq(x, 0)


def all(x, axis=None, keepdims=False):
    """Whether every element over ``axis`` is true (nonzero): bool."""
    return _reduce("and_", _as_bool(x), axis, keepdims)


def any(x, axis=None, keepdims=False):
    """Whether some element over ``axis`` is true (nonzero): bool."""
    return _reduce("or_", _as_bool(x), axis, keepdims)


class MaxAndArgmax(Op):
    """The maximum over ``axis`` and its index (int64); over several axes, the index into
    those axes flattened in C order (so all axes give numpy's flat index). With
    ``scalar_op`` minimum it is MinAndArgmin."""

    __props__ = ("scalar_op", "axis")

    def __init__(self, axis, scalar_op="maximum"):
        self.scalar_op = SCALAR_OPS[scalar_op] if isinstance(scalar_op, str) else scalar_op
        if self.scalar_op.name not in ("maximum", "minimum"):
            raise ValueError(f"MaxAndArgmax reduces with maximum or minimum, not {self.scalar_op}")
        self.axis = tuple(sorted(int(a) for a in axis))

    def make_node(self, x):
        x = as_tensor_variable(x)
        bad = [a for a in self.axis if a >= x.ndim]
        if bad:
            raise ValueError(f"{self}: axis {bad[0]} is out of range for {x} with ndim {x.ndim}")
        shape = tuple(n for a, n in enumerate(x.type.shape) if a not in self.axis)
        return Apply(self, [x], [TensorType(x.dtype, shape)(), TensorType("int64", shape)()])

    def perform(self, node, inputs):
        (x,) = inputs
        kept = [a for a in range(x.ndim) if a not in self.axis]
        kept_shape = tuple(x.shape[a] for a in kept)
        length = math.prod(x.shape[a] for a in self.axis)
        if length == 0:
            raise ValueError(f"cannot take the {'max' if self.scalar_op.name == 'maximum' else 'min'} "
                             f"and its index over axes {self.axis} of an empty array of shape {x.shape}")
        flat = np.transpose(x, kept + list(self.axis)).reshape(kept_shape + (length,))
        index = (np.argmax if self.scalar_op.name == "maximum" else np.argmin)(flat, axis=-1)
        extremum = np.take_along_axis(flat, index[..., None], axis=-1)[..., 0]
        return [np.asarray(extremum, dtype=x.dtype), np.asarray(index, dtype=np.int64)]

    def infer_shape(self, node, input_shapes):
        shape = tuple(n for a, n in enumerate(input_shapes[0]) if a not in self.axis)
        return [shape, shape]

    def connection_pattern(self, node):
        return [[True, False]]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (extremum, _) = inputs, outputs
        return [_extremum_grad(x, _keep_dims(extremum, x.ndim, self.axis),
                               _keep_dims(output_grads[0], x.ndim, self.axis))]

    def __str__(self):
        name = "MaxAndArgmax" if self.scalar_op.name == "maximum" else "MinAndArgmin"
        return f"{name}{{axis={self.axis}}}"


def _max_and_argmax(scalar_op, x, axis, keepdims):
    x = as_tensor_variable(x)
    axes = normalize_axes("MaxAndArgmax" if scalar_op == "maximum" else "MinAndArgmin", axis, x.ndim)
    outs = MaxAndArgmax(axes, scalar_op)(x)
    return [_keep_dims(out, x.ndim, axes) for out in outs] if keepdims else outs


def max_and_argmax(x, axis=None, keepdims=False):
    """[max, argmax] over ``axis`` (None: all axes; a tuple: those axes flattened)."""
    return _max_and_argmax("maximum", x, axis, keepdims)


def argmax(x, axis=None, keepdims=False):
    """Index (int64) of the maximum over ``axis``; None: into the flattened array."""
    return _max_and_argmax("maximum", x, axis, keepdims)[1]


def argmin(x, axis=None, keepdims=False):
    """Index (int64) of the minimum over ``axis``; None: into the flattened array."""
    return _max_and_argmax("minimum", x, axis, keepdims)[1]


class NumberOfElements(Op):
    """How many elements of a tensor lie along ``axis``: the int64 product of those lengths."""

    __props__ = ("axis",)
    reads_shape_only = True

    def __init__(self, axis):
        self.axis = tuple(sorted(int(a) for a in axis))

    def make_node(self, x):
        x = as_tensor_variable(x)
        if builtins.any(a >= x.ndim for a in self.axis):
            raise ValueError(f"{self}: axes out of range for {x} with ndim {x.ndim}")
        return Apply(self, [x], [TensorType("int64", ())()])

    def perform(self, node, inputs):
        return [np.asarray(math.prod(inputs[0].shape[a] for a in self.axis), dtype=np.int64)]

    def infer_shape(self, node, input_shapes):
        return [()]

    def connection_pattern(self, node):
        return [[False]]   # a count of elements does not depend on their values

    def __str__(self):
        return f"NumberOfElements{{axis={self.axis}}}"


def _count(x, axes, dtype):
    """The number of elements along ``axes`` of ``x`` as a ``dtype`` scalar (a constant
    when the static shape knows it)."""
    static = _static_product([x.type.shape[a] for a in axes])
    if static is not None:
        return constant(np.asarray(static, dtype=dtype))
    return cast(NumberOfElements(axes)(x), dtype)


def mean(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum / number of elements; integers and bools give floatX (or ``dtype``)."""
    x = as_tensor_variable(x)
    axes = normalize_axes("mean", axis, x.ndim)
    out_dtype = _dtype(dtype) if dtype is not None else upgrade_to_float(x.dtype)
    total = sum(x, axes, dtype=out_dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    return cast(true_div(total, _count(x, axes, total.dtype)), out_dtype)


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance (mean squared deviation, divided by N - ddof), as numpy.var."""
    x = as_tensor_variable(x)
    axes = normalize_axes("var", axis, x.ndim)
    x = cast(x, upgrade_to_float(x.dtype))
    deviation = sub(x, mean(x, axes, keepdims=True))
    total = sum(sqr(deviation), axes, keepdims=keepdims)
    count = _count(x, axes, "int64")
    if ddof:
        count = elementwise_maximum(sub(count, ddof), 0)
    return true_div(total, cast(count, x.dtype))


def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation: the square root of ``var``."""
    return sqrt(var(x, axis, ddof=ddof, keepdims=keepdims))


def ptp(x, axis=None, keepdims=False):
    """Range of values (max - min) over ``axis``."""
    return sub(max(x, axis, keepdims), min(x, axis, keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed stably: shifted by the maximum (where it is finite), so
    rows of -inf give -inf and large values do not overflow."""
    x = as_tensor_variable(x)
    axes = normalize_axes("logsumexp", axis, x.ndim)
    x = cast(x, upgrade_to_float(x.dtype))
    top = max(x, axes, keepdims=True)
    shift = switch(isinf(top), constant(np.asarray(0, dtype=x.dtype)), top)
    result = log(sum(exp(sub(x, shift)), axes, keepdims=True)) + shift
    return result if keepdims else _drop_dims(result, axes)


# ---------------------------------------------------------------------------------------
# cumulative sums and products

class CumOp(Op):
    """Running reduction (add: cumsum, mul: cumprod) along ``axis``; axis None runs over
    the flattened input (a vector), as numpy."""

    __props__ = ("axis", "mode")

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp mode must be 'add' or 'mul', got {mode!r}")
        self.axis = None if axis is None else int(axis)
        self.mode = mode

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            shape = (_static_product(x.type.shape),)
        elif not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x} with ndim {x.ndim}")
        else:
            shape = x.type.shape
        return Apply(self, [x], [TensorType(_widened(np.dtype(x.dtype)), shape)()])

    def perform(self, node, inputs):
        (x,) = inputs
        out_dtype = node.outputs[0].dtype
        ufunc = REDUCTIONS[self.mode][1]
        with np.errstate(all="ignore"):
            result = ufunc.accumulate(x.reshape(-1) if self.axis is None else x,
                                      axis=0 if self.axis is None else self.axis, dtype=out_dtype)
        return [np.asarray(result, dtype=out_dtype)]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [(_product(shape),)] if self.axis is None else [tuple(shape)]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (z,), (gz,) = inputs, outputs, output_grads
        # each input element adds to the outputs after it: a cumulative sum from the end;
        # for products, of gz * z / x (Theano's: not defined where x has zeros)
        axis = 0 if self.axis is None else self.axis
        reverse = tuple(slice(None, None, -1) if a == axis else slice(None) for a in range(gz.ndim))
        if self.mode == "mul":
            g = CumOp(axis, "add")((gz * z)[reverse])[reverse] / (x.flatten() if self.axis is None else x)
        else:
            g = CumOp(axis, "add")(gz[reverse])[reverse]
        return [g.reshape(x.shape, ndim=x.ndim) if self.axis is None else g]

    def __str__(self):
        return f"CumOp{{{self.axis}, {self.mode}}}"


def _cumulative(who, mode, x, axis):
    x = as_tensor_variable(x)
    if axis is not None:
        if isinstance(axis, (list, tuple)):
            raise TypeError(f"{who}: axis must be None or an int, got {axis!r}")
        (axis,) = normalize_axes(who, axis, x.ndim)
    return CumOp(axis, mode)(x)


def cumsum(x, axis=None):
    """Running sum along ``axis`` (None: of the flattened input); ints widen as numpy."""
    return _cumulative("cumsum", "add", x, axis)


def cumprod(x, axis=None):
    """Running product along ``axis`` (None: of the flattened input)."""
    return _cumulative("cumprod", "mul", x, axis)


# ---------------------------------------------------------------------------------------
# linear algebra

def _not_aligned(who, a, b, a_axes, b_axes, a_shape, b_shape):
    pairs = [(i, j) for i, j in zip(a_axes, b_axes)
             if a_shape[i] is not None and b_shape[j] is not None and a_shape[i] != b_shape[j]]
    if pairs:
        i, j = pairs[0]
        return (f"{who}: shapes {tuple(a_shape)} and {tuple(b_shape)} are not aligned: axis {i} of "
                f"{a} has length {a_shape[i]} but axis {j} of {b} has length {b_shape[j]}")
    return None


class Dot(Op):
    """numpy.dot of vectors and matrices: inner product, matrix-vector, matrix product."""

    __props__ = ()

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise TypeError(f"Dot takes vectors and matrices, got {a} and {b} with {a.ndim} and "
                            f"{b.ndim} dimensions (use dot, tensordot or matmul)")
        error = _not_aligned("Dot", a, b, [a.ndim - 1], [0], a.type.shape, b.type.shape)
        if error:
            raise ValueError(error)
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(upcast(a.dtype, b.dtype), shape)()])

    def perform(self, node, inputs):
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            raise ValueError(_not_aligned("Dot", "the first input", "the second", [a.ndim - 1], [0],
                                          a.shape, b.shape))
        return [np.asarray(np.dot(a, b), dtype=node.outputs[0].dtype)]

    def infer_shape(self, node, input_shapes):
        a, b = input_shapes
        return [tuple(a[:-1]) + tuple(b[1:])]

    def L_op(self, inputs, outputs, output_grads):
        (a, b), (gz,) = inputs, output_grads
        if a.ndim == 1 and b.ndim == 1:   # inner product: gz is a scalar
            return [mul(gz, b), mul(gz, a)]
        if b.ndim == 1:   # matrix . vector
            return [outer(gz, b), _dot(a.T, gz)]
        if a.ndim == 1:   # vector . matrix
            return [_dot(gz, b.T), outer(a, gz)]
        return [_dot(gz, b.T), _dot(a.T, gz)]


_dot = Dot()


class MatMul(Op):
    """numpy.matmul: stacks of matrices (batch dimensions broadcast); a vector operand
    gets a length-1 axis that the result then drops."""

    __props__ = ()

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim == 0 or b.ndim == 0:
            raise TypeError(f"MatMul does not take scalars ({a} has {a.ndim} dimensions, {b} has "
                            f"{b.ndim}); use mul")
        a_shape = (1,) + a.type.shape if a.ndim == 1 else a.type.shape
        b_shape = b.type.shape + (1,) if b.ndim == 1 else b.type.shape
        error = _not_aligned("MatMul", a, b, [len(a_shape) - 1], [len(b_shape) - 2], a_shape, b_shape)
        if error:
            raise ValueError(error)
        batch = _broadcast_static("MatMul", a_shape[:-2], b_shape[:-2], a, b)
        shape = batch + (a_shape[-2:-1] if a.ndim > 1 else ()) + (b_shape[-1:] if b.ndim > 1 else ())
        return Apply(self, [a, b], [TensorType(upcast(a.dtype, b.dtype), shape)()])

    def perform(self, node, inputs):
        a, b = inputs
        k_a, k_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise ValueError(f"shapes {a.shape} and {b.shape} are not aligned: the last axis of the "
                             f"first has length {k_a}, the contracted axis of the second {k_b}")
        return [np.asarray(np.matmul(a, b), dtype=node.outputs[0].dtype)]

    def infer_shape(self, node, input_shapes):
        from .basic import maximum_of_lengths

        a, b = (tuple(s) for s in input_shapes)
        a_batch, b_batch = a[:-2], b[:-2]
        n = builtins.max(len(a_batch), len(b_batch))
        a_batch, b_batch = (1,) * (n - len(a_batch)) + a_batch, (1,) * (n - len(b_batch)) + b_batch
        batch = tuple(maximum_of_lengths(pair) for pair in zip(a_batch, b_batch))
        return [batch + (a[-2:-1] if len(a) > 1 else ()) + (b[-1:] if len(b) > 1 else ())]

    def L_op(self, inputs, outputs, output_grads):
        # as matrices (a vector gets its length-1 axis back), then summed over the batch
        # axes each input was broadcast along
        (a, b), (gz,) = inputs, output_grads
        a2 = DimShuffle(1, ["x", 0])(a) if a.ndim == 1 else a
        b2 = DimShuffle(1, [0, "x"])(b) if b.ndim == 1 else b
        if a.ndim == 1:   # the row axis a2 has and gz lacks: before gz's last axis
            gz = DimShuffle(gz.ndim, list(range(gz.ndim - 1)) + ["x", gz.ndim - 1])(gz)
        if b.ndim == 1:
            gz = DimShuffle(gz.ndim, list(range(gz.ndim)) + ["x"])(gz)
        ga = _sum_to_pattern(matmul(gz, _swap_last(b2)), a2)
        gb = _sum_to_pattern(matmul(_swap_last(a2), gz), b2)
        return [_drop_dims(ga, (0,)) if a.ndim == 1 else ga, _drop_dims(gb, (1,)) if b.ndim == 1 else gb]

    def __str__(self):
        return "MatMul"


def _swap_last(x):
    return DimShuffle(x.ndim, list(range(x.ndim - 2)) + [x.ndim - 1, x.ndim - 2])(x)


_matmul = MatMul()


def dot(a, b):
    """numpy.dot: a product with a scalar, the inner product of vectors, matrix products,
    and for more dimensions the sum over the last axis of ``a`` and the second to last of
    ``b`` (tensordot)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [builtins.max(0, b.ndim - 2)]])


def matmul(a, b):
    """numpy.matmul (the ``@`` operator), batch dimensions broadcast."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim in (1, 2) and b.ndim in (1, 2):
        return _dot(a, b)
    return _matmul(a, b)


def outer(x, y):
    """The outer product of ``x`` and ``y`` flattened (numpy.outer): a matrix."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    x, y = [DimShuffle(0, ["x"])(v) if v.ndim == 0 else v if v.ndim == 1 else v.flatten() for v in (x, y)]
    return mul(DimShuffle(1, [0, "x"])(x), DimShuffle(1, ["x", 0])(y))


class TensorDot(Op):
    """numpy.tensordot over ``axes`` (a pair of tuples of contracted axes); ``batched``:
    axis 0 of both inputs is a batch axis and each pair of slices is contracted
    (Theano's batched_tensordot). The result's axes: (batch,) free axes of the first
    input, then free axes of the second."""

    __props__ = ("axes", "batched")

    def __init__(self, axes, batched=False):
        self.axes = (tuple(int(a) for a in axes[0]), tuple(int(a) for a in axes[1]))
        self.batched = bool(batched)

    @property
    def title(self):
        return "BatchedTensorDot" if self.batched else "TensorDot"

    def _free(self, ndim, axes):
        return [a for a in range(1 if self.batched else 0, ndim) if a not in axes]

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for v, axes in zip((a, b), self.axes):
            if builtins.any(not 0 <= i < v.ndim for i in axes) or (self.batched and (v.ndim == 0 or 0 in axes)):
                raise ValueError(f"{self}: axes {axes} do not fit {v} with ndim {v.ndim}")
        a_axes, b_axes = list(self.axes[0]), list(self.axes[1])
        if self.batched:
            a_axes, b_axes = [0] + a_axes, [0] + b_axes
        error = _not_aligned(self.title, a, b, a_axes, b_axes, a.type.shape, b.type.shape)
        if error:
            raise ValueError(error)
        shape = ((a.type.shape[0] if a.type.shape[0] is not None else b.type.shape[0],) if self.batched else ()) \
            + tuple(a.type.shape[i] for i in self._free(a.ndim, self.axes[0])) \
            + tuple(b.type.shape[i] for i in self._free(b.ndim, self.axes[1]))
        return Apply(self, [a, b], [TensorType(upcast(a.dtype, b.dtype), shape)()])

    def perform(self, node, inputs):
        a, b = inputs
        a_axes, b_axes = list(self.axes[0]), list(self.axes[1])
        checked = ([0] + a_axes, [0] + b_axes) if self.batched else (a_axes, b_axes)
        error = _not_aligned(self.title, "the first input", "the second", *checked, a.shape, b.shape)
        if error:
            raise ValueError(error)
        dtype = node.outputs[0].dtype
        if not self.batched:
            return [np.asarray(np.tensordot(a, b, (a_axes, b_axes)), dtype=dtype)]
        # (B, free of a, contracted) @ (B, contracted, free of b), then unflattened
        a_free, b_free = self._free(a.ndim, a_axes), self._free(b.ndim, b_axes)
        batch = a.shape[0]
        size = math.prod(a.shape[i] for i in a_axes)
        left = np.transpose(a, [0] + a_free + a_axes).reshape(
            batch, math.prod(a.shape[i] for i in a_free), size)
        right = np.transpose(b, [0] + b_axes + b_free).reshape(
            batch, size, math.prod(b.shape[i] for i in b_free))
        shape = (batch,) + tuple(a.shape[i] for i in a_free) + tuple(b.shape[i] for i in b_free)
        return [np.asarray(np.matmul(left, right).reshape(shape), dtype=dtype)]

    def infer_shape(self, node, input_shapes):
        a, b = input_shapes
        return [((a[0],) if self.batched else ()) + tuple(a[i] for i in self._free(len(a), self.axes[0]))
                + tuple(b[i] for i in self._free(len(b), self.axes[1]))]

    def L_op(self, inputs, outputs, output_grads):
        # each gradient is gz contracted with the other input over that input's free axes,
        # then transposed back into the input's axis order
        (a, b), (gz,) = inputs, output_grads
        a_axes, b_axes = self.axes
        first = 1 if self.batched else 0
        free_a, free_b = self._free(a.ndim, a_axes), self._free(b.ndim, b_axes)
        gz_free_b = tuple(range(first + len(free_a), gz.ndim))
        ga = TensorDot((gz_free_b, tuple(free_b)), self.batched)(gz, b)
        gb = TensorDot((tuple(free_a), tuple(range(first, first + len(free_a)))), self.batched)(a, gz)
        # where each input axis landed: batch first, then free axes and contracted ones
        a_from = {j: first + i for i, j in enumerate(free_a)}
        a_from.update({a_axes[k]: first + len(free_a) + sorted(b_axes).index(b_axes[k])
                       for k in range(len(a_axes))})
        b_from = {j: first + len(a_axes) + i for i, j in enumerate(free_b)}
        b_from.update({b_axes[k]: first + sorted(a_axes).index(a_axes[k]) for k in range(len(b_axes))})
        if self.batched:
            a_from[0] = b_from[0] = 0
        return [DimShuffle(a.ndim, [a_from[j] for j in range(a.ndim)])(ga),
                DimShuffle(b.ndim, [b_from[j] for j in range(b.ndim)])(gb)]

    def __str__(self):
        return f"{self.title}{{axes={[list(self.axes[0]), list(self.axes[1])]}}}"


def _tensordot_axes(who, a, b, axes, first):
    """``axes`` (an int n or a pair of axis lists) as two tuples of non-negative axes;
    ``first`` is the first axis an int may contract (1 past a batch axis)."""
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= builtins.min(a.ndim, b.ndim) - first:
            raise ValueError(f"{who}: cannot contract {n} axes of {a} (ndim {a.ndim}) and {b} "
                             f"(ndim {b.ndim})")
        return tuple(range(a.ndim - n, a.ndim)), tuple(range(first, first + n))
    try:
        a_axes, b_axes = axes
    except (TypeError, ValueError):
        raise TypeError(f"{who}: axes must be an int or a pair of axis lists, got {axes!r}") from None
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    if len(a_axes) != len(b_axes):
        raise ValueError(f"{who}: axes {a_axes} and {b_axes} must have the same length")
    # keep the pairing: normalize each axis without sorting
    a_norm = [normalize_axes(who, i, a.ndim)[0] for i in a_axes]
    b_norm = [normalize_axes(who, i, b.ndim)[0] for i in b_axes]
    for norm, v in ((a_norm, a), (b_norm, b)):
        if len(set(norm)) != len(norm):
            raise ValueError(f"{who}: an axis is repeated in {norm} (axes of {v}, ndim {v.ndim})")
        if first and 0 in norm:
            raise ValueError(f"{who}: axis 0 of {v} is the batch axis and cannot be contracted")
    return tuple(a_norm), tuple(b_norm)


def tensordot(a, b, axes=2):
    """numpy.tensordot: ``axes`` an int n (the last n axes of ``a`` with the first n of
    ``b``) or a pair of axis lists contracted pairwise."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    a_axes, b_axes = _tensordot_axes("tensordot", a, b, axes, 0)
    if a.ndim in (1, 2) and b.ndim in (1, 2) and a_axes == (a.ndim - 1,) and b_axes == (0,):
        return _dot(a, b)
    return TensorDot((a_axes, b_axes))(a, b)


def batched_tensordot(x, y, axes=2):
    """tensordot of each pair x[i], y[i] (axis 0 is the batch): ``axes`` an int n (the
    last n axes of x with axes 1..n of y) or a pair of lists of axes numbered on the
    full tensors (axis 0 cannot be contracted). The result is (batch, free axes of x,
    free axes of y)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    for v in (x, y):
        if v.ndim == 0:
            raise TypeError(f"batched_tensordot: {v} is a scalar, it needs a batch axis")
    x_axes, y_axes = _tensordot_axes("batched_tensordot", x, y, axes, 1)
    return TensorDot((x_axes, y_axes), batched=True)(x, y)


def batched_dot(a, b):
    """dot of each pair a[i], b[i] (axis 0 is the batch), as Theano: (B,n,m)·(B,m,p) ->
    (B,n,p), (B,n)·(B,n) -> (B,); a vector (B,) scales the other input's slices."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(f"batched_dot: {a if a.ndim == 0 else b} is a scalar, it needs a batch axis")
    if a.ndim == 1:
        return mul(DimShuffle(1, [0] + ["x"] * (b.ndim - 1))(a), b)
    if b.ndim == 1:
        return mul(a, DimShuffle(1, [0] + ["x"] * (a.ndim - 1))(b))
    return batched_tensordot(a, b, [[a.ndim - 1], [builtins.max(1, b.ndim - 2)]])


__all__ = ["CAReduce", "CumOp", "Dot", "MatMul", "MaxAndArgmax", "NumberOfElements", "REDUCTIONS",
           "TensorDot", "all", "any", "argmax", "argmin", "batched_dot", "batched_tensordot",
           "cumprod", "cumsum", "dot", "logsumexp", "matmul", "max", "max_and_argmax", "mean", "min",
           "normalize_axes", "outer", "prod", "ptp", "std", "sum", "tensordot", "var"]
