"""Shape ops: reshape and flatten, axis moves (over DimShuffle), broadcast flags, shape
assertions, tile/repeat/roll, and the creation ops (alloc, zeros, ones, eye, arange,
mgrid/ogrid).

Shapes given to these ops may be Python ints, tuples or lists mixing ints and symbolic
integer scalars, or symbolic integer vectors; they become one int64 vector input.
Whatever is known when the graph is built (constants, static lengths) is checked then
and given to the output's static shape; the rest is checked when the graph runs.
"""
import math

import numpy as np

from clgraph.configdefaults import config
from clgraph.graph.basic import Apply, Constant, Variable
from clgraph.graph.op import Op
from clgraph.scalar import upcast

from .basic import Shape, as_tensor_variable, cast, constant, second
from .elemwise import DimShuffle, Elemwise, _sum_to_pattern
from .type import TensorType


class AxisError(ValueError, IndexError):
    """An axis argument out of range for the tensor it applies to (numpy's AxisError)."""


# ---------------------------------------------------------------------------------------
# helpers shared by the shape, join and sort modules


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def normalize_axis(op, axis, ndim, extra=0):
    """``axis`` in [0, ndim + extra); negative counts from the end; AxisError naming ``op``.

    ``extra=1`` is for axes that insert a dimension (stack, shape_padaxis)."""
    if not _is_int(axis):
        raise TypeError(f"{op}: axis must be an integer, got {axis!r}")
    size = ndim + extra
    if not -size <= axis < size:
        raise AxisError(f"{op}: axis {axis} is out of range for a tensor of {ndim} dimensions "
                        f"(allowed: {-size} to {size - 1})")
    return int(axis) % size if size else 0


def _normalize_axes(op, axes, ndim):
    """A tuple of distinct normalized axes (an int or a sequence of ints), in the given order."""
    items = (axes,) if _is_int(axes) else tuple(axes)
    normalized = []
    for a in items:
        a = normalize_axis(op, a, ndim)
        if a in normalized:
            raise ValueError(f"{op}: axis {a} is repeated in axis={axes!r} (ndim {ndim})")
        normalized.append(a)
    return tuple(normalized)


def get_scalar_constant_value(var):
    """The value of a 0-d variable known when the graph is built (a constant, a cast of
    one, a static length read by Shape_i or ``x.shape[i]``), or None."""
    if isinstance(var, (int, float, np.integer, np.floating)) and not isinstance(var, bool):
        return var
    if not isinstance(var, Variable):
        return None
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        return data.item() if data.size == 1 else None
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Elemwise) and node.op.scalar_op.name == "identity":
        value = get_scalar_constant_value(node.inputs[0])
        return None if value is None else np.asarray(value, dtype=var.dtype).item()
    if isinstance(node.op, DimShuffle) and var.ndim == 0:
        return get_scalar_constant_value(node.inputs[0])
    if isinstance(node.op, Shape_i):
        return node.inputs[0].type.shape[node.op.i]
    idx_list = getattr(node.op, "idx_list", None)
    if type(node.op).__name__ == "Subtensor" and len(node.inputs) == 1 and idx_list is not None \
            and len(idx_list) == 1 and _is_int(idx_list[0]) and node.inputs[0].ndim == 1:
        values = get_vector_constant_values(node.inputs[0])   # e.g. x.shape[0]
        if values is not None and -len(values) <= idx_list[0] < len(values):
            return values[idx_list[0]]
    return None


def get_vector_constant_values(var):
    """The entries of a 1-d variable known when the graph is built: a list (None where an
    entry is unknown), or None when its length is unknown."""
    if isinstance(var, Constant):
        return [int(v) if np.asarray(v).dtype.kind in "iub" else v for v in np.asarray(var.data)]
    if var.type.shape[0] is None:
        return None
    node = var.owner
    if node is not None:
        if isinstance(node.op, Elemwise) and node.op.scalar_op.name == "identity":
            return get_vector_constant_values(node.inputs[0])
        if isinstance(node.op, Shape):
            return list(node.inputs[0].type.shape)
        if type(node.op).__name__ == "MakeVector":
            return [get_scalar_constant_value(v) for v in node.inputs]
    return [None] * var.type.shape[0]


def _check_int_dtype(op, var, what):
    if np.dtype(var.dtype).kind not in "iu":
        raise TypeError(f"{op}: {what} must be of an integer dtype, got {var} of dtype {var.dtype}")


def _as_int_scalar(op, value, what="the size"):
    """``value`` (a Python int or a symbolic 0-d integer) as an int64 0-d variable."""
    if _is_int(value):
        return constant(np.int64(value))
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        return constant(value.astype(np.int64))
    if isinstance(value, (float, complex, bool, np.floating, np.bool_)):
        raise TypeError(f"{op}: {what} must be an integer, got {value!r}")
    var = as_tensor_variable(value)
    if var.ndim != 0:
        raise TypeError(f"{op}: {what} must be a scalar, got {var} with {var.ndim} dimensions")
    _check_int_dtype(op, var, what)
    return cast(var, "int64")


def as_shape_vector(op, shape, allow_none=False):
    """``shape`` as ``(int64 vector variable, static entries)``.

    ``shape``: an int, a sequence mixing ints and symbolic integer scalars, or a symbolic
    integer vector. The static entries are a list (None where unknown) or None when the
    length of a symbolic vector is unknown. With ``allow_none`` an entry may be None
    (stored as -1: no constraint)."""
    if isinstance(shape, Variable) or (isinstance(shape, np.ndarray) and shape.ndim == 1):
        var = as_tensor_variable(shape)
        if var.ndim == 0:
            return as_shape_vector(op, [var], allow_none)
        if var.ndim != 1:
            raise TypeError(f"{op}: a shape must be a vector, got {var} with {var.ndim} dimensions")
        _check_int_dtype(op, var, "a shape vector")
        var = cast(var, "int64")
        return var, get_vector_constant_values(var)
    if not isinstance(shape, (list, tuple)):
        shape = [shape]
    entries = []
    for item in shape:
        if item is None and allow_none:
            entries.append(-1)
        elif item is None:
            raise TypeError(f"{op}: shape {tuple(shape)} has None; give every length")
        elif _is_int(item):
            entries.append(int(item))
        else:
            entries.append(_as_int_scalar(op, item, "each shape entry"))
    if all(isinstance(e, int) for e in entries):
        return constant(np.asarray(entries, dtype=np.int64).reshape(len(entries))), list(entries)
    from .join import MakeVector

    scalars = [constant(np.int64(e)) if isinstance(e, int) else e for e in entries]
    var = MakeVector("int64")(*scalars)
    return var, get_vector_constant_values(var)


def _shape_entry(vector, index, static):
    """Entry ``index`` of a shape vector: the static int when known, else ``vector[index]``."""
    if static is not None and static[index] is not None and static[index] >= 0:
        return static[index]
    return vector[index]


def _show_shape(entries):
    """A shape as text, ``?`` for unknown entries: ``(?, 4, 2)``."""
    shown = ["?" if e is None else str(e) for e in entries]
    return f"({', '.join(shown)}{',' if len(shown) == 1 else ''})"


def _product(values):
    result = 1
    for v in values:
        result = result * v
    return result


# ---------------------------------------------------------------------------------------
# Shape_i


class Shape_i(Op):
    """The length of axis ``i`` of a tensor, as an int64 scalar."""

    __props__ = ("i",)
    reads_shape_only = True

    def __init__(self, i):
        self.i = int(i)

    def make_node(self, x):
        x = as_tensor_variable(x)
        normalize_axis(str(self), self.i, x.ndim)
        return Apply(self, [x], [TensorType("int64", ())()])

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape[self.i], dtype=np.int64)]

    def infer_shape(self, node, input_shapes):
        return [()]

    def connection_pattern(self, node):
        return [[False]]   # a length does not depend on the values


def shape_i(x, i):
    """Length of axis ``i`` of ``x``: the static length when known, else a Shape_i node."""
    x = as_tensor_variable(x)
    i = normalize_axis("shape_i", i, x.ndim)
    if x.type.shape[i] is not None:
        return constant(np.int64(x.type.shape[i]))
    return Shape_i(i)(x)


# ---------------------------------------------------------------------------------------
# reshape and flatten


class Reshape(Op):
    """``x`` reshaped to ``shape`` (an int64 vector of ``ndim`` entries, -1 at most once)."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def make_node(self, x, shape):
        x = as_tensor_variable(x)
        shape, static = as_shape_vector(str(self), shape)
        if shape.type.shape[0] is not None and shape.type.shape[0] != self.ndim:
            raise ValueError(f"{self}: the new shape has {shape.type.shape[0]} entries, {self.ndim} "
                             "expected")
        static = static if static is not None else [None] * self.ndim
        out = self._static_shape(x, static)
        return Apply(self, [x, shape], [TensorType(x.dtype, out)()])

    def _static_shape(self, x, static):
        shown = _show_shape(static)
        if any(s is not None and s < -1 for s in static):
            raise ValueError(f"{self}: negative length in the new shape {shown}")
        if sum(s == -1 for s in static) > 1:
            raise ValueError(f"{self}: the new shape {shown} has -1 more than once")
        out = [None if s is None or s < 0 else s for s in static]
        known = [s for s in out if s is not None]
        if any(n is None for n in x.type.shape):
            return tuple(out)
        size = math.prod(x.type.shape)
        wanted = math.prod(known)
        unknown = sum(s is None for s in static)
        message = (f"{self}: cannot reshape a tensor of static shape {x.type.shape} (size {size}) "
                   f"into shape {shown}")
        if -1 in static and unknown == 0:
            if wanted == 0 or size % wanted:
                raise ValueError(message)
            out[static.index(-1)] = size // wanted
        elif -1 not in static and unknown == 0 and wanted != size:
            raise ValueError(message)
        elif size and (wanted == 0 or size % wanted):
            raise ValueError(message)
        return tuple(out)

    def perform(self, node, inputs):
        x, shape = inputs
        shape = tuple(int(s) for s in shape)
        error = ValueError(f"{self}: cannot reshape an array of shape {x.shape} (size {x.size}) into "
                           f"shape {shape}")
        if len(shape) != self.ndim or any(s < -1 for s in shape) or shape.count(-1) > 1:
            raise error
        if -1 in shape:
            rest = math.prod(s for s in shape if s != -1)
            if rest == 0 or x.size % rest:
                raise error
            shape = tuple(x.size // rest if s == -1 else s for s in shape)
        if math.prod(shape) != x.size:
            raise error
        return [x.reshape(shape)]

    def infer_shape(self, node, input_shapes):
        x, shape = node.inputs
        out = node.outputs[0].type.shape
        static = get_vector_constant_values(shape)
        if all(n is not None for n in out):
            return [out]
        if static is not None and -1 in static:
            minus = static.index(-1)
            rest = _product(_shape_entry(shape, i, static) for i in range(self.ndim) if i != minus)
            missing = _product(input_shapes[0]) // rest
            return [tuple(missing if i == minus else _shape_entry(shape, i, static)
                          for i in range(self.ndim))]
        if static is None or any(s is None for s in static):
            # an entry unknown when built may be -1 at run time: recompute it from the size
            from .basic import lt, maximum, switch
            entries = [shape[i] for i in range(self.ndim)]
            known = _product([maximum(e, 1) for e in entries])
            size = _product(input_shapes[0])
            return [tuple(out[i] if out[i] is not None else switch(lt(e, 0), size // known, e)
                          for i, e in enumerate(entries))]
        return [tuple(static)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [reshape(output_grads[0], x.shape, ndim=x.ndim), None]


def reshape(x, newshape, ndim=None):
    """``x`` with shape ``newshape`` (numpy's reshape; one -1 entry is inferred).

    ``newshape``: an int, a sequence of ints and symbolic integer scalars, or a symbolic
    integer vector (then ``ndim`` is needed when its length is not static)."""
    x = as_tensor_variable(x)
    shape, _ = as_shape_vector("Reshape", newshape)
    length = shape.type.shape[0]
    if ndim is None:
        if length is None:
            raise ValueError(f"Reshape: the length of the new shape {newshape} is not known when the "
                             "graph is built; pass ndim")
        ndim = length
    elif not _is_int(ndim) or ndim < 0:
        raise ValueError(f"Reshape: ndim must be a non-negative integer, got {ndim!r}")
    elif length is not None and length != ndim:
        raise ValueError(f"Reshape: ndim={ndim} but the new shape has {length} entries")
    return Reshape(ndim)(x, shape)


class Flatten(Op):
    """Keeps the first ``outdim - 1`` axes and joins the others into the last one."""

    __props__ = ("outdim",)
    view_map = {0: [0]}

    def __init__(self, outdim=1):
        self.outdim = int(outdim)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.outdim < 1 or (self.outdim > 1 and self.outdim > x.ndim):
            raise ValueError(f"{self}: ndim {self.outdim} is out of range for a tensor of {x.ndim} "
                             f"dimensions (1 <= ndim <= {max(x.ndim, 1)})")
        kept = x.type.shape[:self.outdim - 1]
        rest = x.type.shape[self.outdim - 1:]
        last = math.prod(rest) if all(n is not None for n in rest) else None
        return Apply(self, [x], [TensorType(x.dtype, kept + (last,))()])

    def perform(self, node, inputs):
        (x,) = inputs
        kept = x.shape[:self.outdim - 1]
        return [x.reshape(kept + (math.prod(x.shape[self.outdim - 1:]),))]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(shape[:self.outdim - 1]) + (_product(shape[self.outdim - 1:]),)]

    def L_op(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [reshape(output_grads[0], x.shape, ndim=x.ndim)]


def flatten(x, ndim=1, outdim=None):
    """``x`` with its axes from ``ndim - 1`` on joined into one (Theano's flatten):
    ``ndim=1`` gives a vector, ``ndim=2`` a matrix keeping the first axis."""
    return Flatten(ndim if outdim is None else outdim)(x)


# ---------------------------------------------------------------------------------------
# axis moves, over DimShuffle


def dimshuffle(x, pattern):
    """``x.dimshuffle(pattern)``: input axes in a new order, 'x' for new broadcastable
    axes; axes left out must have static length 1."""
    x = as_tensor_variable(x)
    if isinstance(pattern, (str, int, np.integer)):
        pattern = (pattern,)
    pattern = tuple(p if p == "x" else (int(p) if _is_int(p) else p) for p in pattern)
    return DimShuffle(x.ndim, pattern)(x)


def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed when ``axes`` is None), as numpy's."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    elif _is_int(axes):
        axes = (axes,)
    axes = tuple(axes)
    if len(axes) != x.ndim:
        raise ValueError(f"transpose: axes {axes} do not match a tensor of {x.ndim} dimensions")
    normalized = _normalize_axes("transpose", axes, x.ndim)
    return DimShuffle(x.ndim, normalized)(x)


def swapaxes(x, axis1, axis2):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged."""
    x = as_tensor_variable(x)
    a = normalize_axis("swapaxes", axis1, x.ndim)
    b = normalize_axis("swapaxes", axis2, x.ndim)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return DimShuffle(x.ndim, order)(x)


def squeeze(x, axis=None):
    """``x`` without its axes of static length 1 (or only those of ``axis``, which must
    have static length 1)."""
    x = as_tensor_variable(x)
    if axis is None:
        axes = tuple(a for a, n in enumerate(x.type.shape) if n == 1)
    else:
        axes = _normalize_axes("squeeze", axis, x.ndim)
        wrong = [a for a in axes if x.type.shape[a] != 1]
        if wrong:
            raise ValueError(f"squeeze: cannot remove axis {wrong[0]} of {x}, whose static shape "
                             f"{x.type.shape} does not make it length 1 (use specify_shape or "
                             "addbroadcast first)")
    return DimShuffle(x.ndim, [a for a in range(x.ndim) if a not in axes])(x)


def shape_padleft(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable axes added in front."""
    x = as_tensor_variable(x)
    if not _is_int(n_ones) or n_ones < 0:
        raise ValueError(f"shape_padleft: n_ones must be a non-negative integer, got {n_ones!r}")
    return DimShuffle(x.ndim, ["x"] * n_ones + list(range(x.ndim)))(x)


def shape_padright(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable axes added at the end."""
    x = as_tensor_variable(x)
    if not _is_int(n_ones) or n_ones < 0:
        raise ValueError(f"shape_padright: n_ones must be a non-negative integer, got {n_ones!r}")
    return DimShuffle(x.ndim, list(range(x.ndim)) + ["x"] * n_ones)(x)


def shape_padaxis(x, axis):
    """``x`` with a broadcastable axis inserted at ``axis`` (numpy's expand_dims)."""
    x = as_tensor_variable(x)
    axis = normalize_axis("shape_padaxis", axis, x.ndim, extra=1)
    order = list(range(x.ndim))
    order.insert(axis, "x")
    return DimShuffle(x.ndim, order)(x)


# ---------------------------------------------------------------------------------------
# broadcast flags and shape assertions


class Rebroadcast(Op):
    """``x`` with the static length of some axes set to 1 (checked when run) or forgotten.

    Built with ``(axis, broadcastable)`` pairs."""

    __props__ = ("axis",)
    view_map = {0: [0]}

    def __init__(self, *axis):
        self.axis = tuple(sorted((int(a), bool(b)) for a, b in dict(axis).items()))

    def make_node(self, x):
        x = as_tensor_variable(x)
        shape = list(x.type.shape)
        for a, flag in self.axis:
            if a >= x.ndim:
                raise AxisError(f"{self}: axis {a} is out of range for {x} with {x.ndim} dimensions")
            if flag:
                if shape[a] not in (None, 1):
                    raise ValueError(f"{self}: axis {a} of {x} has static length {shape[a]}, "
                                     "it cannot be made broadcastable")
                shape[a] = 1
            elif shape[a] == 1:
                shape[a] = None
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def perform(self, node, inputs):
        (x,) = inputs
        for a, flag in self.axis:
            if flag and x.shape[a] != 1:
                raise ValueError(f"{self}: axis {a} of the input was declared broadcastable but has "
                                 f"length {x.shape[a]} (shape {x.shape})")
        return [x]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        flags = dict(self.axis)
        return [tuple(1 if flags.get(a) else n for a, n in enumerate(shape))]

    def L_op(self, inputs, outputs, output_grads):
        return [patternbroadcast(output_grads[0], inputs[0].broadcastable)]

    def __str__(self):
        pattern = ["?"] * (1 + max((a for a, _ in self.axis), default=-1))
        for a, flag in self.axis:
            pattern[a] = str(int(flag))
        return f"Rebroadcast{{{','.join(pattern)}}}"


def _rebroadcast(name, x, pairs):
    x = as_tensor_variable(x)
    pairs = [(normalize_axis(name, a, x.ndim), flag) for a, flag in pairs]
    if all(x.type.broadcastable[a] == flag for a, flag in pairs):
        return x
    return Rebroadcast(*pairs)(x)


def addbroadcast(x, *axes):
    """``x`` with ``axes`` marked broadcastable (static length 1, checked when run)."""
    return _rebroadcast("addbroadcast", x, [(a, True) for a in axes])


def unbroadcast(x, *axes):
    """``x`` with ``axes`` no longer broadcastable (their static length 1 forgotten)."""
    return _rebroadcast("unbroadcast", x, [(a, False) for a in axes])


def patternbroadcast(x, broadcastable):
    """``x`` with the broadcastable flags ``broadcastable`` (one per axis)."""
    x = as_tensor_variable(x)
    if len(broadcastable) != x.ndim:
        raise ValueError(f"patternbroadcast: pattern {tuple(broadcastable)} does not match {x} with "
                         f"{x.ndim} dimensions")
    return _rebroadcast("patternbroadcast", x, list(enumerate(map(bool, broadcastable))))


class SpecifyShape(Op):
    """``x`` unchanged, asserting its shape (an int64 vector; -1 means any length)."""

    view_map = {0: [0]}

    def make_node(self, x, shape):
        x = as_tensor_variable(x)
        shape, static = as_shape_vector(str(self), shape, allow_none=True)
        if shape.type.shape[0] is not None and shape.type.shape[0] != x.ndim:
            raise ValueError(f"{self}: shape has {shape.type.shape[0]} entries but {x} has {x.ndim} "
                             "dimensions")
        static = static if static is not None else [None] * x.ndim
        out = []
        for axis, (have, want) in enumerate(zip(x.type.shape, static)):
            want = None if want is None or want < 0 else want
            if have is not None and want is not None and have != want:
                raise ValueError(f"{self}: {x} has static shape {x.type.shape}, which cannot have "
                                 f"length {want} on axis {axis}")
            out.append(want if want is not None else have)
        return Apply(self, [x, shape], [TensorType(x.dtype, out)()])

    def perform(self, node, inputs):
        x, shape = inputs
        expected = tuple(None if s < 0 else int(s) for s in shape)
        if len(expected) != x.ndim or any(e is not None and e != n for e, n in zip(expected, x.shape)):
            raise AssertionError(f"{self}: expected shape {_show_shape(expected)}, got an array of "
                                 f"shape {x.shape}")
        return [x]

    def infer_shape(self, node, input_shapes):
        out = node.outputs[0].type.shape
        return [tuple(n if n is not None else s for n, s in zip(out, input_shapes[0]))]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0], None]


_specify_shape = SpecifyShape()


def specify_shape(x, shape):
    """``x``, asserting when run that its shape is ``shape`` (ints, symbolic scalars, or
    None for any length); the constant lengths become static."""
    return _specify_shape(x, shape)


# ---------------------------------------------------------------------------------------
# tile, repeat, roll


class Tile(Op):
    """numpy's tile: ``x`` repeated ``reps`` times along each axis (``ndim`` output axes)."""

    __props__ = ("ndim",)

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def make_node(self, x, reps):
        x = as_tensor_variable(x)
        reps, static = as_shape_vector(str(self), reps)
        if reps.type.shape[0] is None:
            raise ValueError(f"{self}: the number of repetitions {reps} must have a static length")
        if self.ndim != max(x.ndim, reps.type.shape[0]):
            raise ValueError(f"{self}: {x.ndim}-d input and {reps.type.shape[0]} repetitions give "
                             f"{max(x.ndim, reps.type.shape[0])} dimensions, not {self.ndim}")
        if any(r is not None and r < 0 for r in static):
            raise ValueError(f"{self}: negative repetitions {_show_shape(static)}")
        xs = (1,) * (self.ndim - x.ndim) + x.type.shape
        rs = [1] * (self.ndim - len(static)) + list(static)
        out = [None if n is None or r is None else n * r for n, r in zip(xs, rs)]
        out = [0 if r == 0 or n == 0 else o for o, n, r in zip(out, xs, rs)]
        return Apply(self, [x, reps], [TensorType(x.dtype, out)()])

    def perform(self, node, inputs):
        x, reps = inputs
        reps = [int(r) for r in reps]
        if len(reps) != node.inputs[1].type.shape[0] or any(r < 0 for r in reps):
            raise ValueError(f"{self}: bad repetitions {_show_shape(reps)}")
        return [np.array(np.tile(x, reps), dtype=x.dtype)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        # axis i of the output is (reps[i], length[i]) flattened: sum over the repetitions
        from .math import sum as sum_

        x, reps = inputs
        lengths = [1] * (self.ndim - x.ndim) + [shape_i(x, a) for a in range(x.ndim)]
        counts = [1] * (self.ndim - reps.type.shape[0]) + [reps[k] for k in range(reps.type.shape[0])]
        pairs = reshape(output_grads[0], [n for pair in zip(counts, lengths) for n in pair])
        g = sum_(pairs, tuple(range(0, 2 * self.ndim, 2)))
        return [reshape(g, x.shape, ndim=x.ndim) if self.ndim != x.ndim else g, None]


def tile(x, reps, ndim=None):
    """numpy's tile: ``x`` repeated ``reps`` times along each axis (an int repeats the last
    axis)."""
    x = as_tensor_variable(x)
    if _is_int(reps) or (isinstance(reps, Variable) and reps.ndim == 0):
        reps = [reps]
    reps_var, _ = as_shape_vector("Tile", reps)
    if reps_var.type.shape[0] is None:
        raise ValueError(f"Tile: the number of repetitions {reps} must have a static length")
    out_ndim = max(x.ndim, reps_var.type.shape[0])
    if ndim is not None and ndim != out_ndim:
        raise ValueError(f"Tile: ndim={ndim}, but the input and repetitions give {out_ndim} dimensions")
    return Tile(out_ndim)(x, reps_var)


class Repeat(Op):
    """numpy's repeat: each element repeated ``repeats`` times along ``axis`` (None:
    the flattened input)."""

    __props__ = ("axis",)

    def __init__(self, axis=None):
        self.axis = axis

    def make_node(self, x, repeats):
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        _check_int_dtype(str(self), repeats, "repeats")
        if repeats.ndim > 1:
            raise TypeError(f"{self}: repeats must be a scalar or a vector, got {repeats.ndim} "
                            "dimensions")
        repeats = cast(repeats, "int64")
        if self.axis is None:
            length = math.prod(x.type.shape) if all(n is not None for n in x.type.shape) else None
            shape = (length,)
        else:
            if not 0 <= self.axis < x.ndim:
                raise AxisError(f"{self}: axis {self.axis} is out of range for {x.ndim} dimensions")
            length = x.type.shape[self.axis]
            shape = x.type.shape
        if repeats.ndim == 0:
            count = get_scalar_constant_value(repeats)
            if count is not None and count < 0:
                raise ValueError(f"{self}: negative repeats {count}")
            new = None if count is None or length is None else length * count
        else:
            values = get_vector_constant_values(repeats)
            n = repeats.type.shape[0]
            if n is not None and n != 1 and length is not None and n != length:
                raise ValueError(f"{self}: {n} repeats for an axis of static length {length}")
            if values is not None and any(v is not None and v < 0 for v in values):
                raise ValueError(f"{self}: negative repeats {_show_shape(values)}")
            if values is not None and None not in values and (n != 1 or length is not None):
                new = sum(values) if n != 1 else values[0] * length
            else:
                new = None
        axis = 0 if self.axis is None else self.axis
        out = shape[:axis] + (new,) + shape[axis + 1:]
        return Apply(self, [x, repeats], [TensorType(x.dtype, out)()])

    def perform(self, node, inputs):
        x, repeats = inputs
        return [np.repeat(x, repeats, axis=self.axis)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        from .math import sum as sum_

        x, repeats = inputs
        (gz,) = output_grads
        flat_x = x if self.axis is not None else flatten(x)
        axis = 0 if self.axis is None else self.axis
        if repeats.ndim:
            # each output element adds to the element it repeats: a scatter-add of gz
            # at the source index of every output position (repeats of 0 get nothing)
            from .subtensor import inc_subtensor

            length = shape_i(flat_x, axis)
            sources = Repeat(0)(arange(length), repeats)
            key = (slice(None),) * axis + (sources,)
            g = inc_subtensor(zeros_like(flat_x)[key], gz)
        else:   # axis ``axis`` of the output is (length, repeats) flattened: sum the repeats
            lengths = [shape_i(flat_x, a) for a in range(flat_x.ndim)]
            split = reshape(gz, lengths[:axis] + [lengths[axis], repeats] + lengths[axis + 1:])
            g = sum_(split, axis + 1)
        return [g if self.axis is not None else reshape(g, x.shape, ndim=x.ndim), None]


def repeat(x, repeats, axis=None):
    """numpy's repeat: elements of ``x`` repeated ``repeats`` times (an int or one count
    per element) along ``axis`` (None: of the flattened ``x``)."""
    x = as_tensor_variable(x)
    if axis is not None:
        axis = normalize_axis("Repeat", axis, x.ndim)
    return Repeat(axis)(x, repeats)


class Roll(Op):
    """numpy's roll: elements shifted by ``shift`` along ``axis`` (None: the flattened input)."""

    __props__ = ("axis",)

    def __init__(self, axis=None):
        self.axis = axis

    def make_node(self, x, shift):
        x = as_tensor_variable(x)
        if self.axis is not None and not 0 <= self.axis < x.ndim:
            raise AxisError(f"{self}: axis {self.axis} is out of range for {x.ndim} dimensions")
        shift = _as_int_scalar(str(self), shift, "shift")
        return Apply(self, [x, shift], [TensorType(x.dtype, x.type.shape)()])

    def perform(self, node, inputs):
        x, shift = inputs
        return [np.roll(x, int(shift), axis=self.axis)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        return [Roll(self.axis)(output_grads[0], -inputs[1]), None]


def roll(x, shift, axis=None):
    """numpy's roll: ``x`` shifted by ``shift`` along ``axis``, elements wrapping around."""
    x = as_tensor_variable(x)
    if axis is not None:
        axis = normalize_axis("Roll", axis, x.ndim)
    return Roll(axis)(x, shift)


# ---------------------------------------------------------------------------------------
# creation


class Alloc(Op):
    """``value`` broadcast to ``shape`` (an int64 vector), in a new array."""

    def make_node(self, value, shape):
        value = as_tensor_variable(value)
        shape, static = as_shape_vector(str(self), shape)
        ndim = shape.type.shape[0]
        if ndim is None:
            raise ValueError(f"{self}: the length of the shape {shape} must be known when the graph "
                             "is built")
        if value.ndim > ndim:
            raise ValueError(f"{self}: a value of {value.ndim} dimensions (static shape "
                             f"{value.type.shape}) cannot be broadcast to {ndim} dimensions")
        if any(s is not None and s < 0 for s in static):
            raise ValueError(f"{self}: negative length in shape {_show_shape(static)}")
        vshape = (None,) * (ndim - value.ndim) + value.type.shape
        out = []
        for want, have in zip(static, vshape):
            if want is not None and have is not None and have != 1 and have != want:
                raise ValueError(f"{self}: cannot broadcast a value of static shape "
                                 f"{value.type.shape} to shape {_show_shape(static)}")
            out.append(want if want is not None else (have if have not in (None, 1) else None))
        return Apply(self, [value, shape], [TensorType(value.dtype, out)()])

    def perform(self, node, inputs):
        value, shape = inputs
        shape = tuple(int(s) for s in shape)
        try:
            result = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(f"{self}: cannot broadcast a value of shape {value.shape} to shape "
                             f"{shape}") from None
        return [np.array(result, dtype=node.outputs[0].dtype)]

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[1]
        static = get_vector_constant_values(shape)
        return [tuple(_shape_entry(shape, i, static) for i in range(shape.type.shape[0]))]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        # the value was repeated along the new leading axes and its length-1 axes
        return [_sum_to_pattern(output_grads[0], inputs[0]), None]


_alloc = Alloc()


def alloc(value, *shape):
    """``value`` broadcast to ``shape`` (lengths as separate arguments, or one sequence
    or symbolic vector)."""
    if len(shape) == 1 and (isinstance(shape[0], (list, tuple))
                            or (isinstance(shape[0], Variable) and shape[0].ndim == 1)):
        shape = shape[0]
    return _alloc(value, list(shape) if isinstance(shape, tuple) else shape)


def _dtype(dtype):
    if dtype is None or dtype == "floatX":
        return config.floatX
    return str(np.dtype(dtype))


def zeros(shape, dtype=None):
    """An array of zeros of ``shape`` (dtype floatX unless given)."""
    return _alloc(constant(np.zeros((), dtype=_dtype(dtype))), shape)


def ones(shape, dtype=None):
    """An array of ones of ``shape`` (dtype floatX unless given)."""
    return _alloc(constant(np.ones((), dtype=_dtype(dtype))), shape)


def fill(model, value):
    """``value`` broadcast to the shape of ``model`` (Theano's fill, the ``second`` op)."""
    return second(model, value)


def zeros_like(x, dtype=None):
    """Zeros of the shape of ``x`` (and its dtype unless given)."""
    x = as_tensor_variable(x)
    return fill(x, constant(np.zeros((), dtype=x.dtype if dtype is None else _dtype(dtype))))


def ones_like(x, dtype=None):
    """Ones of the shape of ``x`` (and its dtype unless given)."""
    x = as_tensor_variable(x)
    return fill(x, constant(np.ones((), dtype=x.dtype if dtype is None else _dtype(dtype))))


class Eye(Op):
    """numpy's eye: an ``n`` x ``m`` array with ones on diagonal ``k``."""

    __props__ = ("dtype",)

    def __init__(self, dtype=None):
        self.dtype = _dtype(dtype)

    def make_node(self, n, m, k):
        n, m, k = (_as_int_scalar(str(self), v, what) for v, what in
                   ((n, "n"), (m, "m"), (k, "k")))
        static = [get_scalar_constant_value(v) for v in (n, m)]
        for value, what in zip(static, "nm"):
            if value is not None and value < 0:
                raise ValueError(f"{self}: negative size {what}={value}")
        return Apply(self, [n, m, k], [TensorType(self.dtype, static)()])

    def perform(self, node, inputs):
        n, m, k = (int(v) for v in inputs)
        if n < 0 or m < 0:
            raise ValueError(f"{self}: negative size ({n}, {m})")
        return [np.eye(n, m, k, dtype=self.dtype)]

    def infer_shape(self, node, input_shapes):
        return [tuple(node.outputs[0].type.shape[i] if node.outputs[0].type.shape[i] is not None
                      else node.inputs[i] for i in range(2))]


def eye(n, m=None, k=0, dtype=None):
    """numpy's eye: ones on diagonal ``k`` of an ``n`` x ``m`` array (m defaults to n)."""
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x):
    """The identity (ones on the main diagonal) of the shape and dtype of matrix ``x``."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"identity_like: {x} has {x.ndim} dimensions, a matrix is needed")
    return eye(shape_i(x, 0), shape_i(x, 1), 0, dtype=x.dtype)


class ARange(Op):
    """numpy's arange of ``dtype`` from start, stop and step scalars."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = str(np.dtype(dtype))

    def make_node(self, start, stop, step):
        inputs = []
        for value, what in ((start, "start"), (stop, "stop"), (step, "step")):
            var = as_tensor_variable(value)
            if var.ndim != 0:
                raise TypeError(f"{self}: {what} must be a scalar, got {var} with {var.ndim} "
                                "dimensions")
            if np.dtype(var.dtype).kind not in "biuf":
                raise TypeError(f"{self}: {what} must be real, got dtype {var.dtype}")
            inputs.append(var)
        values = [get_scalar_constant_value(v) for v in inputs]
        if values[2] is not None and values[2] == 0:
            raise ValueError(f"{self}: step must not be 0")
        # Theano's type: a vector without static length, even for constant arguments (so
        # ``arange(10).type`` is ``TensorType(int64, vector)``); infer_shape knows the length.
        return Apply(self, inputs, [TensorType(self.dtype, (None,))()])

    @staticmethod
    def _length(start, stop, step):
        if all(_is_int(v) for v in (start, stop, step)):
            return max(0, -((start - stop) // step))
        return max(0, math.ceil((float(stop) - float(start)) / float(step)))

    def perform(self, node, inputs):
        start, stop, step = (v.item() for v in inputs)
        if step == 0:
            raise ValueError(f"{self}: step must not be 0")
        return [np.arange(start, stop, step, dtype=self.dtype)]

    def infer_shape(self, node, input_shapes):
        start, stop, step = node.inputs
        values = [get_scalar_constant_value(v) for v in node.inputs]
        if None not in values:
            return [(self._length(*values),)]
        from .basic import ceil, maximum
        return [(cast(maximum(ceil((stop - start) / step), 0), "int64"),)]

    def __str__(self):
        return f"ARange{{dtype='{self.dtype}'}}"


def arange(start, stop=None, step=1, dtype=None):
    """numpy's arange: ``start, start + step, ...`` below ``stop``.

    The dtype is int64 for integer arguments, floatX for Python floats, else the upcast of
    the arguments' dtypes."""
    if stop is None:
        start, stop = 0, start
    values = [as_tensor_variable(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = upcast(*[v.dtype for v in values])
        dtype = "int64" if dtype.kind in "biu" else str(dtype)
    return ARange(_dtype(dtype))(*values)


class _NdGrid:
    """``mgrid[...]`` / ``ogrid[...]``: one arange per slice, broadcast (mgrid) or left
    open (ogrid) along the axis of its slice; several slices give a list of tensors."""

    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, key):
        name = "ogrid" if self.sparse else "mgrid"
        single = isinstance(key, slice)
        slices = (key,) if single else tuple(key)
        for sl in slices:
            if not isinstance(sl, slice):
                raise TypeError(f"{name}: index with slices (start:stop:step), got {sl!r}")
            if isinstance(sl.step, complex) or sl.stop is None:
                raise NotImplementedError(f"{name}: slices need a stop and a real step, got {sl}")
        ranges = [arange(0 if sl.start is None else sl.start, sl.stop, 1 if sl.step is None else sl.step)
                  for sl in slices]
        if single:
            return ranges[0]
        dtype = str(upcast(*[r.dtype for r in ranges]))
        ndim = len(ranges)
        lengths = [shape_i(r, 0) for r in ranges]
        ranges = [DimShuffle(1, ["x"] * j + [0] + ["x"] * (ndim - 1 - j))(cast(r, dtype))
                  for j, r in enumerate(ranges)]
        if self.sparse:
            return ranges
        return [_alloc(r, lengths) for r in ranges]

    def __repr__(self):
        return "ogrid" if self.sparse else "mgrid"


mgrid = _NdGrid(sparse=False)
ogrid = _NdGrid(sparse=True)


__all__ = [
    "ARange", "Alloc", "AxisError", "Eye", "Flatten", "Rebroadcast", "Repeat", "Reshape", "Roll",
    "Shape_i", "SpecifyShape", "Tile",
    "addbroadcast", "alloc", "arange", "as_shape_vector", "dimshuffle", "eye", "fill", "flatten",
    "get_scalar_constant_value", "get_vector_constant_values", "identity_like", "mgrid",
    "normalize_axis", "ogrid", "ones", "ones_like", "patternbroadcast", "repeat", "reshape", "roll",
    "shape_i", "shape_padaxis", "shape_padleft", "shape_padright", "specify_shape", "squeeze",
    "swapaxes", "tile", "transpose", "unbroadcast", "zeros", "zeros_like",
]
