"""Joining and splitting tensors: concatenate/join, stack (MakeVector for scalars),
stacklist, split.

The result dtype is the upcast of the inputs'. Static lengths that disagree on an axis
that is not joined, or sizes that cannot add up, are errors when the graph is built;
what is only known at run time is checked then, with errors naming the op and shapes.
"""
import numpy as np

from clgraph.graph.basic import Apply, Variable
from clgraph.graph.op import Op
from clgraph.scalar import upcast

from .basic import as_tensor_variable
from .shape_ops import (_as_int_scalar, _show_shape, as_shape_vector, get_scalar_constant_value,
                        normalize_axis, shape_padaxis)
from .type import TensorType


def _shapes(tensors):
    return ", ".join(str(t.type.shape) for t in tensors)


class MakeVector(Op):
    """A vector of ``dtype`` from scalars (Theano's MakeVector)."""

    __props__ = ("dtype",)

    def __init__(self, dtype="int64"):
        self.dtype = str(np.dtype(dtype))

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(v) for v in inputs]
        for v in inputs:
            if v.ndim != 0:
                raise TypeError(f"{self}: inputs must be scalars, got {v} with {v.ndim} dimensions")
            if str(upcast(v.dtype, self.dtype)) != self.dtype:
                raise TypeError(f"{self}: input {v} of dtype {v.dtype} does not fit {self.dtype}")
        return Apply(self, inputs, [TensorType(self.dtype, (len(inputs),))()])

    def perform(self, node, inputs):
        return [np.array([np.asarray(v).item() for v in inputs], dtype=self.dtype).reshape(len(inputs))]

    def infer_shape(self, node, input_shapes):
        return [(len(node.inputs),)]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0][i] for i in range(len(inputs))]

    def __str__(self):
        return f"MakeVector{{dtype='{self.dtype}'}}"


def _as_axis(op, axis):
    """(axis variable, its value when known)."""
    if isinstance(axis, Variable):
        axis = _as_int_scalar(op, axis, "axis")
        return axis, get_scalar_constant_value(axis)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{op}: axis must be an integer, got {axis!r}")
    return _as_int_scalar(op, axis, "axis"), int(axis)


class Join(Op):
    """Tensors of the same number of dimensions concatenated along an axis (its first
    input, a scalar)."""

    def make_node(self, axis, *tensors):
        if not tensors:
            raise ValueError("Join: needs at least one tensor to join")
        tensors = [as_tensor_variable(t) for t in tensors]
        ndim = tensors[0].ndim
        if ndim == 0 or any(t.ndim != ndim for t in tensors):
            raise TypeError(f"Join: all tensors must have the same number of dimensions (at least "
                            f"one; use stack for scalars), got {', '.join(str(t.ndim) for t in tensors)} "
                            f"dimensions (static shapes {_shapes(tensors)})")
        axis, value = _as_axis("Join", axis)
        dtype = str(upcast(*[t.dtype for t in tensors]))
        if value is None:
            shape = (None,) * ndim
        else:
            value = normalize_axis("Join", value, ndim)
            shape = []
            for a, lengths in enumerate(zip(*(t.type.shape for t in tensors))):
                if a == value:
                    shape.append(None if None in lengths else sum(lengths))
                    continue
                known = {n for n in lengths if n is not None}
                if len(known) > 1:
                    raise ValueError(f"Join: cannot join tensors of static shapes {_shapes(tensors)} "
                                     f"along axis {value}: they differ on axis {a}")
                shape.append(known.pop() if known else None)
        return Apply(self, [axis, *tensors], [TensorType(dtype, shape)()])

    def perform(self, node, inputs):
        axis, *tensors = inputs
        ndim = tensors[0].ndim
        axis = normalize_axis("Join", int(axis), ndim)
        dtype = node.outputs[0].dtype
        for a in range(ndim):
            if a != axis and len({t.shape[a] for t in tensors}) > 1:
                shapes = ", ".join(str(t.shape) for t in tensors)
                raise ValueError(f"Join: cannot join arrays of shapes {shapes} along axis {axis}: "
                                 f"they differ on axis {a}")
        return [np.concatenate([np.asarray(t, dtype=dtype) for t in tensors], axis=axis)]

    def infer_shape(self, node, input_shapes):
        axis = get_scalar_constant_value(node.inputs[0])
        if axis is None:
            raise NotImplementedError("Join: cannot infer shapes with a symbolic axis")
        shapes = input_shapes[1:]
        axis = int(axis) % len(shapes[0])
        total = shapes[0][axis]
        for shape in shapes[1:]:
            total = total + shape[axis]
        return [tuple(total if a == axis else n for a, n in enumerate(shapes[0]))]

    def connection_pattern(self, node):
        return [[False]] + [[True]] * (len(node.inputs) - 1)

    def L_op(self, inputs, outputs, output_grads):
        # each input's gradient is its piece of the output's, cut where they were joined
        from .shape_ops import shape_i

        axis, *tensors = inputs
        value = get_scalar_constant_value(axis)
        if value is None:
            raise NotImplementedError("Join: the gradient needs a constant axis")
        value = normalize_axis("Join", int(value), tensors[0].ndim)
        sizes = MakeVector("int64")(*[shape_i(t, value) for t in tensors])
        return [None] + split(output_grads[0], sizes, len(tensors), value)


_join = Join()


def join(axis, *tensors):
    """Theano's join: ``tensors`` (separate arguments) concatenated along ``axis``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        raise TypeError("join(axis, *tensors) takes the tensors as separate arguments; use "
                        "concatenate(tensor_list, axis) for a list")
    if len(tensors) == 1:
        (tensor,) = tensors
        tensor = as_tensor_variable(tensor)
        if tensor.ndim == 0:
            raise TypeError(f"Join: cannot join scalars ({tensor} has 0 dimensions); use stack")
        if not isinstance(axis, Variable):
            normalize_axis("Join", axis, tensor.ndim)
        return tensor
    return _join(axis, *tensors)


def concatenate(tensor_list, axis=0):
    """numpy's concatenate: the tensors of ``tensor_list`` joined along ``axis``."""
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError("concatenate: tensor_list must be a list or tuple of tensors (did you forget "
                        f"the [] around the arguments?), got {tensor_list!r}")
    if not tensor_list:
        raise ValueError("concatenate: needs at least one tensor")
    return join(axis, *tensor_list)


def _is_scalar_like(t):
    if isinstance(t, Variable):
        return getattr(t.type, "ndim", None) == 0
    return isinstance(t, (int, float, np.number)) or (isinstance(t, np.ndarray) and t.ndim == 0)


def stack(tensors, *more, axis=0):
    """numpy's stack: ``tensors`` (same shapes) joined along a new axis ``axis``.

    Also accepts Theano's older form ``stack(a, b, c)``; ``stack([a, b], 1)`` gives the
    axis positionally."""
    if isinstance(tensors, (list, tuple)):
        if len(more) > 1:
            raise TypeError(f"stack(tensors, axis=0): too many arguments {more!r}")
        if more:
            axis = more[0]
        tensors = list(tensors)
    else:
        tensors = [tensors, *more]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    if all(_is_scalar_like(t) for t in tensors):
        tensors = [as_tensor_variable(t) for t in tensors]
        normalize_axis("stack", axis, 0, extra=1)
        return MakeVector(upcast(*[t.dtype for t in tensors]))(*tensors)
    tensors = [as_tensor_variable(t) for t in tensors]
    ndim = tensors[0].ndim
    if any(t.ndim != ndim for t in tensors):
        raise TypeError(f"stack: all tensors must have the same number of dimensions, got "
                        f"{', '.join(str(t.ndim) for t in tensors)} (static shapes {_shapes(tensors)})")
    for a, lengths in enumerate(zip(*(t.type.shape for t in tensors))):
        if len({n for n in lengths if n is not None}) > 1:
            raise ValueError(f"stack: all tensors must have the same shape, got static shapes "
                             f"{_shapes(tensors)} (they differ on axis {a})")
    axis = normalize_axis("stack", axis, ndim, extra=1)
    return join(axis, *[shape_padaxis(t, axis) for t in tensors])


def stacklist(tensor_list):
    """Nested lists of tensors stacked into one tensor, one new axis per nesting level:
    ``stacklist([[a, b], [c, d]])`` has shape (2, 2) + a's shape."""
    if isinstance(tensor_list, (list, tuple)):
        return stack([stacklist(item) for item in tensor_list])
    return tensor_list


class Split(Op):
    """``x`` cut along an axis into ``len_splits`` pieces of the given sizes (the inputs:
    x, the axis, the sizes as an int64 vector)."""

    __props__ = ("len_splits",)

    def __init__(self, len_splits):
        self.len_splits = int(len_splits)

    def make_node(self, x, axis, splits):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"{self}: cannot split the scalar {x}")
        axis, value = _as_axis(str(self), axis)
        splits, sizes = as_shape_vector(str(self), splits)
        if splits.type.shape[0] is not None and splits.type.shape[0] != self.len_splits:
            raise ValueError(f"{self}: {splits.type.shape[0]} split sizes given for "
                             f"{self.len_splits} pieces")
        sizes = sizes if sizes is not None else [None] * self.len_splits
        if any(s is not None and s < 0 for s in sizes):
            raise ValueError(f"{self}: negative split size in {_show_shape(sizes)}")
        if value is None:
            shapes = [(None,) * x.ndim] * self.len_splits
        else:
            value = normalize_axis(str(self), value, x.ndim)
            length = x.type.shape[value]
            if None not in sizes and length is not None and sum(sizes) != length:
                raise ValueError(f"{self}: the split sizes {tuple(sizes)} sum to {sum(sizes)}, but axis "
                                 f"{value} of {x} (static shape {x.type.shape}) has length {length}")
            shapes = [x.type.shape[:value] + (s,) + x.type.shape[value + 1:] for s in sizes]
        outputs = [TensorType(x.dtype, shape)() for shape in shapes]
        return Apply(self, [x, axis, splits], outputs)

    def perform(self, node, inputs):
        x, axis, splits = inputs
        axis = normalize_axis(str(self), int(axis), x.ndim)
        sizes = [int(s) for s in splits]
        if len(sizes) != self.len_splits:
            raise ValueError(f"{self}: {len(sizes)} split sizes given for {self.len_splits} pieces")
        if any(s < 0 for s in sizes) or sum(sizes) != x.shape[axis]:
            raise ValueError(f"{self}: the split sizes {sizes} sum to {sum(sizes)}, but axis {axis} of "
                             f"the input (shape {x.shape}) has length {x.shape[axis]}")
        pieces = np.split(x, np.cumsum(sizes)[:-1], axis=axis) if sizes else []
        return [piece.copy() for piece in pieces]

    def infer_shape(self, node, input_shapes):
        x, axis, splits = node.inputs
        axis = get_scalar_constant_value(axis)
        if axis is None:
            raise NotImplementedError(f"{self}: cannot infer shapes with a symbolic axis")
        axis = int(axis) % x.ndim
        shape = input_shapes[0]
        return [tuple(((out.type.shape[a] if out.type.shape[a] is not None else splits[i])
                       if a == axis else n) for a, n in enumerate(shape))
                for i, out in enumerate(node.outputs)]

    def connection_pattern(self, node):
        return [[True] * self.len_splits, [False] * self.len_splits, [False] * self.len_splits]

    def L_op(self, inputs, outputs, output_grads):
        return [join(inputs[1], *output_grads), None, None]


def split(x, splits_size, n_splits, axis=0):
    """Theano's split: ``x`` cut along ``axis`` into ``n_splits`` pieces of lengths
    ``splits_size`` (which must add up to the axis length); a list of tensors."""
    if not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ValueError(f"Split: n_splits must be a positive integer, got {n_splits!r}")
    node = Split(n_splits).make_node(x, axis, splits_size)
    return list(node.outputs)


__all__ = ["Join", "MakeVector", "Split", "concatenate", "join", "split", "stack", "stacklist"]
