"""Placement: every node of a compiled graph gets a context, and transfers are inserted.

A node runs where its pinned inputs are: values the user placed (shared variables on a
context, explicit transfers) and what is computed from them on that context; a node
whose pinned inputs live on two device contexts is an error naming both (transfer one
of them first). Other nodes run on the default context, and their values move freely. A node runs on a device when it has a device
implementation for its dtypes there, on the host otherwise. Transfers are inserted
where a value crosses from one context to another, once per value and destination;
constants are uploaded once, when the function is built.
"""
import sys

import numpy as np

from clgraph.backends import SUPPORTED_DTYPES, DeviceError, get_context, to_device
from clgraph.codegen.scalar_c import NoDeviceCode
from clgraph.graph.basic import Constant
from clgraph.graph.fg import FunctionGraph
from clgraph.tensor.elemwise import DimShuffle, Elemwise, broadcast_constant
from clgraph.tensor.join import Join, MakeVector
from clgraph.tensor.shape_ops import Alloc, Reshape
from clgraph.tensor.subtensor import Subtensor
from clgraph.tensor.transfer import DeviceTensorType, Transfer, type_on
from clgraph.tensor.variable import TensorConstant

from .device_ops import (GpuAlloc, GpuDimShuffle, GpuElemwise, GpuJoin, GpuReshape, GpuSubtensor,
                         transfer_op)


def _location(var):
    return var.type.context if isinstance(var.type, DeviceTensorType) else "cpu"


def _has_dtypes(node, context):
    """Whether device ``context`` can hold every value of ``node`` (float64 needs fp64;
    complex values stay on the host)."""
    if context == "cpu":
        return False
    dtypes = {v.type.dtype for v in node.inputs + node.outputs}
    return (all(np.dtype(d) in SUPPORTED_DTYPES for d in dtypes)
            and ("float64" not in dtypes or get_context(context).info.fp64))


def _small_integer(var):
    return var.ndim <= 1 and np.dtype(var.type.dtype).kind in "biu"


def _reads_shape_only(op):
    """Ops that read only their input's shape (``reads_shape_only``) take it where it
    lives (a DeviceArray has a shape too) and give a host value, moving no data."""
    return getattr(op, "reads_shape_only", False)


def scalar_constant(var):
    """The value of a one-element constant (as a Python number), also through the
    DimShuffle broadcasting it; None for anything else."""
    value = broadcast_constant(var)
    return None if value is None else value.item()


def _elemwise_on_device(node, inputs, context):
    from clgraph.codegen.elemwise import ElementwiseKernel

    constants = {k: value for k, value in enumerate(map(scalar_constant, node.inputs)) if value is not None}
    try:
        kernel = ElementwiseKernel(node.op.scalar_op, [v.type.dtype for v in node.inputs],
                                   [v.type.dtype for v in node.outputs], constants)
    except NoDeviceCode:
        return None
    if not kernel.arrays:
        return None   # constant folding's job
    return GpuElemwise(node.op, kernel, [v.type for v in node.outputs]).make_node(
        *[inputs[k] for k in kernel.arrays])


def _keeps_on_host(positions, function):
    """``function`` receiving the inputs at ``positions`` (any container of input
    positions: a list, or a range for "every input from here on") on the host (shapes,
    indices: values the device op reads on the host to size and launch its work)."""
    function.host_inputs = positions
    return function


def _takes_where_they_are(positions, function):
    """``function`` receiving the inputs at ``positions`` where they already are, on the
    host or on the context (values the device op reads either way: class indices it
    checks)."""
    function.inputs_where_they_are = positions
    return function


# Op class -> function(node, inputs already on the context, context name) -> the device
# Apply node, or None when this node (its dtypes, its parameters) has no device code.
DEVICE_IMPLEMENTATIONS = {
    Reshape: _keeps_on_host([1], lambda node, inputs, context: GpuReshape(node.op).make_node(*inputs)),
    Alloc: _keeps_on_host([1], lambda node, inputs, context: GpuAlloc(node.op).make_node(*inputs)),
    Join: _keeps_on_host([0], lambda node, inputs, context: GpuJoin(node.op).make_node(*inputs)),
    Elemwise: _elemwise_on_device,
    DimShuffle: lambda node, inputs, context: GpuDimShuffle(node.op).make_node(*inputs),
    # basic indexing: a view; the symbolic indices (inputs 1...) stay on the host
    Subtensor: _keeps_on_host(range(1, sys.maxsize),
                              lambda node, inputs, context: GpuSubtensor(node.op).make_node(*inputs)),
}


def register_device_implementation(op_class):
    """Decorator: ``function(node, inputs, context)`` runs nodes of ``op_class`` on
    devices (modules with device ops register themselves when imported)."""
    def register(function):
        DEVICE_IMPLEMENTATIONS[op_class] = function
        return function
    return register


class _Placer:
    def __init__(self, default):
        self.default = default
        self.moved = {}      # (id(var), context) -> the var on that context
        self.pinned = set()  # ids of variables whose context the user chose
        self.shape_values = set()   # ids of host integers computed from shapes

    def _is_shape_arithmetic(self, node, inputs):
        """Integer work on shapes, constants and 0-d integers (sizes, indices), and
        elementwise 0-d arithmetic on shapes (the 1 / n of a mean's gradient): the host
        does it, sparing launches and read-backs of numbers the host needs anyway."""
        if self._is_scalar_of_shapes(node, inputs):
            return True
        if not all(_small_integer(v) for v in node.outputs) or not all(
                id(v) in self.shape_values or (_location(v) == "cpu" and _small_integer(v)
                                               and (v.ndim == 0 or isinstance(v, Constant)))
                for v in inputs):
            return False
        # vectors: shapes and their parts, not new sequences (arange of a length)
        return (all(v.ndim == 0 for v in node.outputs) or isinstance(node.op, MakeVector)
                or any(v.ndim == 1 and id(v) in self.shape_values for v in inputs))

    def _is_scalar_of_shapes(self, node, inputs):
        return (isinstance(node.op, Elemwise) and all(v.ndim == 0 for v in node.outputs)
                and any(id(v) in self.shape_values for v in inputs)
                and all(id(v) in self.shape_values or (isinstance(v, Constant) and v.ndim == 0) for v in inputs))

    def move(self, var, context):
        """``var`` on ``context``, through a transfer made once."""
        if _location(var) == context:
            return var
        key = (id(var), context)
        if key not in self.moved:
            if isinstance(var, Constant) and context != "cpu":
                data = to_device(var.data, get_context(context))
                self.moved[key] = TensorConstant(type_on(context, var.type.dtype, var.type.shape), data, str(var))
            else:
                self.moved[key] = transfer_op(_location(var), context)(var)
        return self.moved[key]

    def place(self, node, inputs):
        """The new node's outputs for ``node`` given its ``inputs`` (already placed)."""
        if isinstance(node.op, Transfer):
            moved = self.move(inputs[0], node.op.target)
            self.pinned.add(id(moved))
            return [moved]
        devices = sorted({_location(v) for v in inputs if id(v) in self.pinned} - {"cpu"})
        if len(devices) > 1:
            raise DeviceError(
                f"{node.op} mixes values on contexts {devices[0]!r} and {devices[1]!r} "
                f"(inputs {', '.join(str(v) for v in node.inputs)}); transfer one of them to the "
                "other's context first with .transfer(context)")
        shape_only = _reads_shape_only(node.op)
        if shape_only or self._is_shape_arithmetic(node, inputs):
            outputs = node.op.make_node(*[v if shape_only else self.move(v, "cpu") for v in inputs]).outputs
            self.shape_values.update(id(v) for v in outputs)
            return outputs
        context = devices[0] if devices else self.default
        implementation = DEVICE_IMPLEMENTATIONS.get(type(node.op)) if _has_dtypes(node, context) else None
        if implementation is not None:
            host = getattr(implementation, "host_inputs", ())
            as_they_are = getattr(implementation, "inputs_where_they_are", ())
            moved = [v if i in as_they_are and _location(v) in ("cpu", context) else
                     self.move(v, "cpu" if i in host else context) for i, v in enumerate(inputs)]
            device_node = implementation(node, moved, context)
            if device_node is not None:
                if devices:
                    self.pinned.update(id(v) for v in device_node.outputs)
                return device_node.outputs
        return node.op.make_node(*[self.move(v, "cpu") for v in inputs]).outputs


def place(fgraph, input_contexts, output_contexts, default):
    """``fgraph`` made ready to run: a new FunctionGraph whose inputs are typed where
    their values live (``input_contexts``), each node placed, and outputs moved to
    ``output_contexts``."""
    placer = _Placer(default)
    new = {}
    inputs = []
    for var, context in zip(fgraph.inputs, input_contexts):
        placed = var if context == "cpu" else type_on(context, var.type.dtype, var.type.shape)(var.name)
        if context != "cpu":
            placer.pinned.add(id(placed))
        new[id(var)] = placed
        inputs.append(placed)
    for node in fgraph.toposort():
        outputs = placer.place(node, [new.get(id(v), v) for v in node.inputs])
        for old, placed in zip(node.outputs, outputs):
            placed.name = old.name
            new[id(old)] = placed
    outputs = [placer.move(new.get(id(v), v), context) for v, context in zip(fgraph.outputs, output_contexts)]
    return FunctionGraph(inputs, outputs, clone=False)


# Modules of device ops for other op families register themselves on import.
from . import (device_argmax, device_blas, device_creation, device_cumulative, device_epilogue,  # noqa: E402,F401
               device_ifelse, device_indexing, device_layout, device_random, device_reduce, device_softmax,
               device_sort)
from clgraph.scan_module import device as scan_device  # noqa: E402,F401
