"""Sorting: sort and argsort along an axis (None: of the flattened tensor), as numpy's."""
import numpy as np

from clgraph.graph.basic import Apply, Variable
from clgraph.graph.op import Op

from .basic import as_tensor_variable
from .shape_ops import _as_int_scalar, flatten, get_scalar_constant_value, normalize_axis
from .type import TensorType

KINDS = ("quicksort", "mergesort", "heapsort", "stable")


class SortOp(Op):
    """numpy's sort of ``a`` along ``axis`` (its second input, a scalar) by ``kind``."""

    __props__ = ("kind",)
    output_dtype = None   # None: the input's

    def __init__(self, kind="quicksort"):
        if kind not in KINDS:
            raise ValueError(f"{type(self).__name__}: kind {kind!r} is not one of {', '.join(KINDS)}")
        self.kind = kind

    def make_node(self, a, axis=-1):
        a = as_tensor_variable(a)
        if isinstance(axis, Variable):
            axis = _as_int_scalar(str(self), axis, "axis")
            value = get_scalar_constant_value(axis)
        else:
            value = axis
            axis = _as_int_scalar(str(self), axis, "axis")
        if value is not None:
            normalize_axis(str(self), value, a.ndim)
        dtype = self.output_dtype or a.dtype
        return Apply(self, [a, axis], [TensorType(dtype, a.type.shape)()])

    def _run(self, a, axis):
        return np.sort(a, axis=axis, kind=self.kind)

    def perform(self, node, inputs):
        a, axis = inputs
        axis = normalize_axis(str(self), int(axis), a.ndim)
        return [np.asarray(self._run(a, axis), dtype=node.outputs[0].dtype)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        """Each element's gradient is that of the place it was sorted to: gz read at the
        rank of every element (the inverse of the sorting permutation)."""
        from clgraph.gradient import grad_not_implemented

        from .subtensor import take_along_axis

        a, axis = inputs
        value = get_scalar_constant_value(axis)
        if value is None:
            return [grad_not_implemented(self, 0, a, "(with a symbolic axis)"), None]
        axis = normalize_axis(str(self), value, a.ndim)
        rank = ArgSortOp("stable")(ArgSortOp("stable")(a, axis), axis)
        return [take_along_axis(output_grads[0], rank, axis), None]

    def __str__(self):
        return f"{type(self).__name__}{{{self.kind}}}"


class ArgSortOp(SortOp):
    """numpy's argsort: int64 indices that sort ``a`` along ``axis``."""

    output_dtype = "int64"

    def _run(self, a, axis):
        # stable whatever the kind: ties keep their order, as on every device
        return np.argsort(a, axis=axis, kind="stable")

    def L_op(self, inputs, outputs, output_grads):
        from .shape_ops import zeros_like

        return [zeros_like(inputs[0]), None]   # integer positions: piecewise constant


def _prepare(a, axis):
    a = as_tensor_variable(a)
    if axis is None:
        return flatten(a, 1), 0
    return a, axis


def sort(a, axis=-1, kind="quicksort", order=None):
    """numpy's sort: ``a`` sorted along ``axis`` (None: flattened first)."""
    if order is not None:
        raise NotImplementedError("SortOp: order (structured arrays) is not supported")
    a, axis = _prepare(a, axis)
    return SortOp(kind)(a, axis)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """numpy's argsort: int64 indices sorting ``a`` along ``axis`` (None: flattened first).
    Stable whatever ``kind``: equal elements keep their order, on every device."""
    if order is not None:
        raise NotImplementedError("ArgSortOp: order (structured arrays) is not supported")
    a, axis = _prepare(a, axis)
    return ArgSortOp(kind)(a, axis)


__all__ = ["ArgSortOp", "KINDS", "SortOp", "argsort", "sort"]
