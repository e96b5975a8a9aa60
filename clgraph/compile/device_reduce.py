"""Reductions on devices: GpuCAReduce runs a CAReduce (sum, prod, max, min, all, any
over any axes) with the kernels of codegen.reduce."""
import math

import numpy as np

from clgraph.backends import empty, get_context
from clgraph.codegen.elemwise import collapse_dims
from clgraph.codegen.reduce import ReduceKernel
from clgraph.codegen.scalar_c import NoDeviceCode
from clgraph.graph.basic import Apply
from clgraph.rewrite import register
from clgraph.tensor.math import CAReduce
from clgraph.tensor.transfer import DeviceTensorType

from .device_ops import DeviceOp, GpuElemwise, Layout, _broadcast, launch_over, likely_layouts, output_array
from .placement import register_device_implementation

_GROUP_SIZE = 64
_CHUNK = 16384          # elements one work-item reduces when outputs are too few to keep
                        # every compute unit busy; partials are then reduced again


class GpuCAReduce(DeviceOp):
    """A reduction on a device; with ``map`` (a GpuElemwise of one output), the reduction
    of that map of the inputs, computed in one kernel when the inputs are contiguous."""

    __props__ = ("careduce", "map")
    reuses_outputs = True
    fresh_outputs = True

    def __init__(self, careduce, in_dtype, map=None):
        self.careduce = careduce
        self.map = map
        out_dtype, acc_dtype = careduce.output_dtypes(in_dtype)
        name = careduce.scalar_op.name
        self.first = ReduceKernel(name, in_dtype, acc_dtype, acc_dtype)      # to partials
        self.whole = ReduceKernel(name, in_dtype, acc_dtype, out_dtype)      # in one pass
        self.last = ReduceKernel(name, acc_dtype, acc_dtype, out_dtype)      # partials to out
        self.fused = {which: ReduceKernel(name, in_dtype, acc_dtype, out, map.kernel)
                      for which, out in (("first", acc_dtype), ("whole", out_dtype))} if map else {}

    def make_node(self, *inputs):
        """One input, or the map's inputs."""
        context = inputs[0].type.context
        out = self.careduce.make_node(self.map.output_types[0]() if self.map else inputs[0]).outputs[0].type
        return Apply(self, list(inputs), [DeviceTensorType(out.dtype, out.shape, context)()])

    def _kernel(self, context, maker, kept, reduced, width, scalars=()):
        return self.built_kernel(context, (id(maker), kept, reduced, width, scalars),
                                 lambda: maker.source(kept, reduced, width, scalars))

    def _launch(self, context, which, out, x, kept, reduced, chunks, mapped=None):
        """One launch: ``out`` (flat) from ``x`` over ``kept`` and ``reduced`` (dims,
        strides); with ``mapped`` (the map's inputs), from the map of those instead."""
        (kdims, kstrides), (rdims, rstrides) = kept, reduced
        R = math.prod(rdims)
        outputs = math.prod(kdims)
        if mapped is None:
            maker, scalars, arrays = getattr(self, which), (), [x]
            width = maker.vector_width(context.info) if len(rdims) == 1 and rstrides[0] == 1 else 0
        else:
            maker, arrays, width = self.fused[which], mapped, 0
            scalars = self.map.kernel.one_element(mapped)
        kernel = self._kernel(context, maker, len(kdims), len(rdims), width, scalars)
        chunk = -(-R // chunks) if R else 0
        args = [np.int64(v) for pair in zip(kdims, kstrides) for v in pair]
        args += [np.int64(v) for pair in zip(rdims, rstrides) for v in pair]
        launch_over(kernel, outputs * chunks, out, *arrays, np.int64(outputs), np.int64(R), np.int64(chunks),
                    np.int64(chunk), *args, outputs=[out], group_size=_GROUP_SIZE)

    def perform(self, node, inputs, previous=None):
        mapped = None
        if self.map is not None:
            shape = _broadcast(self, [a.shape for a in inputs])
            if all(a.c_contiguous and (a.shape == shape or a.size == 1) for a in inputs):
                mapped = inputs   # fused: x stands for the map's result (shape, strides)
                x = Layout(shape, inputs[0].context, self.whole.in_dtype)
            else:               # strided or broadcast inputs: the map, then the reduction
                x = self.map.perform(None, inputs)[0]
        else:
            (x,) = inputs
        context = x.context
        axes = self.careduce.axis
        kept = [d for d in range(x.ndim) if d not in axes]
        out = output_array(previous, 0, [x.shape[d] for d in kept], node.outputs[0].type.dtype, context)
        R = math.prod(x.shape[d] for d in axes)
        if R == 0 and self.careduce.scalar_op.name in ("maximum", "minimum") and x.size == 0:
            raise ValueError(f"cannot take the {self.careduce.title.lower()} over axes {axes} of an "
                             f"empty array of shape {x.shape}: it has no identity")
        if out.size == 0:
            return [out]
        (kdims, kstrides), (rdims, rstrides) = self._collapsed(x)
        width = self._columns_width(context, mapped is not None, kdims, kstrides, rdims)
        if width:
            self._columns(context, width, out.reshape(-1), x, kdims[0], rdims[0], rstrides[0])
            return [out]
        busy = context.info.compute_units * 64
        chunks = max(1, min(R // _CHUNK, busy // out.size)) if out.size < busy else 1
        if chunks == 1:
            self._launch(context, "whole", out.reshape(-1), x, (kdims, kstrides), (rdims, rstrides), 1, mapped)
            return [out]
        partial = empty((out.size * chunks,), self.first.acc_dtype, context)
        self._launch(context, "first", partial, x, (kdims, kstrides), (rdims, rstrides), chunks, mapped)
        # The partials form a C-contiguous (outputs, chunks) array: reduce its rows.
        self._launch(context, "last", out.reshape(-1), partial, ([out.size], [chunks]), ([chunks], [1]), 1)
        return [out]

    def _collapsed(self, x):
        """(kept dims, their strides), (reduced dims, their strides) of ``x``, in
        elements, with the axes that can be walked as one collapsed."""
        axes = self.careduce.axis
        element = [s // x.itemsize for s in x.strides]
        kept = [d for d in range(x.ndim) if d not in axes]
        kdims, (kstrides,) = collapse_dims([x.shape[d] for d in kept], [[element[d] for d in kept]])
        rdims, (rstrides,) = collapse_dims([x.shape[d] for d in axes], [[element[d] for d in axes]])
        return (kdims, kstrides), (([1], [0]) if not axes else (rdims, rstrides))

    def _columns_width(self, context, mapped, kdims, kstrides, rdims):
        """The vector width of the column kernels where they reduce these dims, else 0."""
        width = self.whole.vector_width(context.info) if not mapped else 0
        return width if width and len(kdims) == 1 and kstrides == [1] and len(rdims) == 1 and rdims[0] > 1 else 0

    def likely_sources(self, node, context):
        """One pass and two passes (partials, then their reduction) of contiguous
        inputs: which one runs depends on lengths the types may not know."""
        if self.map is None:
            [x], makers, scalars = likely_layouts(node.inputs, context), (self.whole, self.first), ()
        else:
            inputs = likely_layouts(node.inputs, context)
            x = Layout(_broadcast(self, [v.shape for v in inputs]), context, self.whole.in_dtype)
            makers = (self.fused["whole"], self.fused["first"])
            scalars = self.map.kernel.one_element(inputs)
        (kdims, kstrides), (rdims, rstrides) = self._collapsed(x)
        width = self._columns_width(context, self.map is not None, kdims, kstrides, rdims)
        if width:
            return [self.whole.rows_stream(width)[1], self.whole.columns(width)[1]]
        contiguous = self.map is None and len(rdims) == 1 and rstrides[0] == 1
        return [maker.source(len(kdims), len(rdims), maker.vector_width(context.info) if contiguous else 0,
                             scalars)[1] for maker in makers] + [
            self.last.source(1, 1, self.last.vector_width(context.info))[1]]

    def _vector_kernel(self, context, variant, width):
        return self.built_kernel(context, (variant, width), lambda: getattr(self.whole, variant)(width))

    def _columns(self, context, width, out, x, K, R, rs):
        """Reduce the R rows (stride rs) of K contiguous columns: chunks of rows are
        streamed into partial rows, whose few rows are then reduced column-wise."""
        chunks = min(max(1, R // 64), context.info.compute_units * 2)
        if chunks > 1:
            partial = empty((chunks, K), x.dtype, context)
            stream = self._vector_kernel(context, "rows_stream", width)
            stream(chunks, 1, partial, x, np.int64(K), np.int64(R), np.int64(rs),
                   np.int64(-(-R // chunks)), outputs=[partial])
            x, R, rs = partial, chunks, K
        kernel = self._vector_kernel(context, "columns", width)
        items = -(-K // (width * 4))
        group = min(_GROUP_SIZE, kernel.max_group_size)
        kernel(-(-items // group), group, out, x, np.int64(K), np.int64(R), np.int64(rs), outputs=[out])

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the kernels this node may run:
        one pass and two passes (partials, then their reduction) for its numbers of kept
        and reduced axes, collapsed or not; on OpenCL CPU devices the vector kernels of
        contiguous sums and products too."""
        kept_counts = {1, max(1, node.outputs[0].ndim)}
        reduced_counts = {1, max(1, len(self.careduce.axis))}
        if self.map is None:
            makers, scalars = (self.whole, self.first), ()
        else:
            makers = (self.fused["whole"], self.fused["first"])
            scalars = tuple(k in self.map.kernel.constants for k in range(len(self.map.kernel.in_dtypes)))
        kernels = [maker.source(kept, reduced, 0, scalars)
                   for maker in makers for kept in kept_counts for reduced in reduced_counts]
        kernels.append(self.last.source(1, 1))
        width = self.whole.vector_width(device) if dialect == "opencl" and self.map is None else 0
        if width:
            kernels += [self.whole.source(kept, 1, width) for kept in kept_counts]
            kernels += [self.whole.columns(width), self.whole.rows_stream(width)]
        return dict(kernels)

    def __str__(self):
        if self.map is not None:
            return f"Gpu{self.careduce}{{{self.map.kernel.scalar_op}}}"
        return "Gpu" + str(self.careduce)


@register("fuse_maps_into_reductions", 110, "fast_run", "fast_compile", stage="device")
def fuse_maps_into_reductions(fgraph):
    """A GpuCAReduce whose input only an elementwise map produces and uses takes the map
    in (sum(x ** 2) becomes one kernel)."""
    for node in fgraph.toposort():
        if not isinstance(node.op, GpuCAReduce) or node.op.map is not None:
            continue
        producer = node.inputs[0].owner
        if (producer is None or not isinstance(producer.op, GpuElemwise) or len(producer.outputs) != 1
                or len(fgraph.clients(node.inputs[0])) != 1):
            continue
        fused = GpuCAReduce(node.op.careduce, node.inputs[0].type.dtype, producer.op)
        fgraph.replace(node.outputs[0], fused.make_node(*producer.inputs).outputs[0])


@register_device_implementation(CAReduce)
def _careduce_on_device(node, inputs, context):
    accumulator = node.op.output_dtypes(node.inputs[0].type.dtype)[1]
    if accumulator == np.float64 and not get_context(context).info.fp64:
        return None   # placement checked the node's own dtypes; this one is internal
    try:
        return GpuCAReduce(node.op, node.inputs[0].type.dtype).make_node(*inputs)
    except NoDeviceCode:
        return None
