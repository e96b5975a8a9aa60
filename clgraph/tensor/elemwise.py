"""Elementwise ops over the scalar table, and DimShuffle (axis permutation and broadcast).

Elemwise applies one ScalarOp to inputs broadcast against each other: inputs with fewer
dimensions are padded on the left by a DimShuffle with broadcastable 'x' axes, as
Theano does, so every input of the node has the output's number of dimensions.
"""
import numpy as np

from clgraph.graph.basic import Apply, Constant
from clgraph.graph.op import Op
from clgraph.scalar import SCALAR_OPS, Composite

from .type import TensorType


class DimShuffle(Op):
    """Reorders axes, drops broadcastable ones and inserts new ones ('x').

    ``new_order`` lists input axes and 'x'; input axes left out must have static length 1.
    The output is a view of the input, hence Theano's name InplaceDimShuffle.
    """

    __props__ = ("input_ndim", "new_order")

    def __init__(self, input_ndim, new_order):
        self.input_ndim = input_ndim
        self.new_order = tuple(new_order)
        kept = [a for a in self.new_order if a != "x"]
        if any(not isinstance(a, (int, np.integer)) or not 0 <= a < input_ndim for a in kept) \
                or len(set(kept)) != len(kept):
            raise ValueError(f"DimShuffle pattern {self.new_order} is not valid for {input_ndim} "
                             "dimensions: use each axis at most once, and 'x' for new axes")
        self.dropped = tuple(a for a in range(input_ndim) if a not in kept)

    def make_node(self, x):
        from .basic import as_tensor_variable

        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise TypeError(f"{self} expects {self.input_ndim} dimensions, got {x} with {x.ndim}")
        not_one = [a for a in self.dropped if x.type.shape[a] != 1]
        if not_one:
            raise ValueError(f"{self} drops axes {not_one} of {x}, whose static shape {x.type.shape} "
                             "does not make them length 1")
        shape = tuple(1 if a == "x" else x.type.shape[a] for a in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def perform(self, node, inputs):
        (x,) = inputs
        kept = [a for a in self.new_order if a != "x"]
        view = np.transpose(x.reshape([n for a, n in enumerate(x.shape) if a not in self.dropped]),
                            np.argsort(np.argsort(kept)))
        return [view.reshape([1 if a == "x" else x.shape[a] for a in self.new_order])]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(1 if a == "x" else shape[a] for a in self.new_order)]

    def L_op(self, inputs, outputs, output_grads):
        # new axes ('x') have length 1: drop them; dropped input axes come back as 'x'
        (gz,) = output_grads
        order = ["x"] * self.input_ndim
        for position, axis in enumerate(self.new_order):
            if axis != "x":
                order[axis] = position
        kept = [a for a in range(len(self.new_order)) if self.new_order[a] != "x"]
        if len(kept) != gz.ndim:
            gz = DimShuffle(gz.ndim, kept)(gz)
        back = [kept.index(a) if a != "x" else "x" for a in order]
        return [gz if back == list(range(gz.ndim)) else DimShuffle(gz.ndim, back)(gz)]

    def __str__(self):
        return f"InplaceDimShuffle{{{','.join(map(str, self.new_order))}}}"


def beneath_dimshuffles(var):
    """``var`` without the DimShuffles (broadcasts, transposes) applied to it."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var


def broadcast_constant(var):
    """The value of a constant holding one value, also through the DimShuffles that
    broadcast it, as a 0-d array of its dtype; None for anything else."""
    var = beneath_dimshuffles(var)
    if isinstance(var, Constant) and np.size(var.data) == 1:
        return np.asarray(var.data).reshape(())
    return None


def broadcast_static_shapes(shapes):
    """The broadcast of static shapes of one length (None: a length known at run time),
    and the first conflict: None, or (axis, the static lengths other than 1 that disagree)."""
    shape = []
    for axis, lengths in enumerate(zip(*shapes)):
        known = {n for n in lengths if n is not None and n != 1}
        if len(known) > 1:
            return None, (axis, sorted(known))
        if known:
            shape.append(known.pop())
        elif all(n == 1 for n in lengths):
            shape.append(1)
        else:
            shape.append(None)
    return tuple(shape), None


def _broadcast_shape(op, inputs):
    """The static output shape; ValueError when two static lengths (not 1) disagree."""
    shape, conflict = broadcast_static_shapes([v.type.shape for v in inputs])
    if conflict:
        shapes = ", ".join(str(v.type.shape) for v in inputs)
        raise ValueError(f"{op} cannot broadcast inputs of static shapes {shapes}: axis {conflict[0]} "
                         f"has lengths {conflict[1]}")
    return shape


class Elemwise(Op):
    """One scalar op applied elementwise with numpy broadcasting."""

    __props__ = ("scalar_op", "output_dtype")

    def __init__(self, scalar_op, output_dtype=None):
        self.scalar_op = SCALAR_OPS[scalar_op] if isinstance(scalar_op, str) else scalar_op
        self.output_dtype = output_dtype   # fixed by Cast; else the scalar op's rule

    def make_node(self, *inputs):
        from .basic import as_tensor_variables_weak

        nin = self.scalar_op.nin
        if (nin == -1 and len(inputs) < 2) or (nin not in (-1, len(inputs))):
            expected = "at least 2" if nin == -1 else nin
            raise TypeError(f"{self} takes {expected} inputs, got {len(inputs)}")
        inputs = as_tensor_variables_weak(inputs)
        ndim = max(v.ndim for v in inputs)
        inputs = [v if v.ndim == ndim else DimShuffle(v.ndim, ["x"] * (ndim - v.ndim) + list(range(v.ndim)))(v)
                  for v in inputs]
        try:
            dtypes = ([self.output_dtype] if self.output_dtype else
                      self.scalar_op.output_dtypes([v.dtype for v in inputs]))
        except TypeError as exc:
            raise TypeError(f"{self}: {exc}") from None
        shape = _broadcast_shape(self, inputs)
        return Apply(self, inputs, [TensorType(dtype, shape)() for dtype in dtypes])

    def perform(self, node, inputs):
        with np.errstate(all="ignore"):   # inf and nan are results, as in C
            result = self.scalar_op.impl(*inputs)
            results = result if self.scalar_op.nout > 1 else (result,)
            return [np.asarray(r, dtype=out.dtype) for r, out in zip(results, node.outputs)]

    def infer_shape(self, node, input_shapes):
        from .basic import maximum_of_lengths

        shape = tuple(maximum_of_lengths(lengths) for lengths in zip(*input_shapes))
        return [shape] * len(node.outputs)

    def connection_pattern(self, node):
        if getattr(self.scalar_op, "name", None) == "second":   # fill(a, b) reads only a's shape
            return [[False], [True]]
        return [[True] * len(node.outputs) for _ in node.inputs]

    def L_op(self, inputs, outputs, output_grads):
        import clgraph.tensor as T

        if isinstance(self.scalar_op, Composite):
            return _composite_grads(self.scalar_op, inputs, output_grads)
        grads = self.scalar_op.L_op(T, inputs, outputs[0], output_grads[0])
        return [None if g is None else _sum_to_pattern(g, x) for g, x in zip(grads, inputs)]

    def __str__(self):
        if self.output_dtype is not None and self.scalar_op.name == "identity":
            return f"Elemwise{{Cast{{{self.output_dtype}}}}}"
        if self.scalar_op.nout > 1 or not hasattr(self.scalar_op, "symbol"):   # a Composite
            return f"Elemwise{{{self.scalar_op.name}}}"
        return f"Elemwise{{{self.scalar_op.name},no_inplace}}"


def _sum_to_pattern(g, x):
    """``g`` summed over the axes along which ``x`` was broadcast: the leading axes ``x``
    lacks, then those of static length 1 in ``x`` (kept, length 1)."""
    import clgraph.tensor as T

    if g.ndim > x.ndim:
        g = T.sum(g, tuple(range(g.ndim - x.ndim)))
    axes = [a for a, (n, m) in enumerate(zip(x.type.shape, g.type.shape)) if n == 1 and m != 1]
    return T.sum(g, axes, keepdims=True) if axes else g


def _composite_grads(composite, inputs, output_grads):
    """Gradients of a fused node: its steps replayed as elementwise nodes, differentiated."""
    from clgraph.gradient import Lop

    temps = []
    for scalar_op, args, dtype in composite.body:
        values = [inputs[i] if kind == "i" else temps[i] for kind, i in args]
        temps.append(Elemwise(scalar_op, dtype if scalar_op.name == "identity" else None)(*values))
    outputs = [inputs[i] if kind == "i" else temps[i] for kind, i in composite.outputs]
    return Lop(outputs, list(inputs), list(output_grads), disconnected_inputs="ignore")
