"""Reductions on devices: GpuCAReduce runs a CAReduce (sum, prod, max, min, all, any
over any axes) with the kernels of codegen.reduce."""
import numpy as np

from clgraph.backends import empty, get_context
from clgraph.codegen.elemwise import collapse_dims
from clgraph.codegen.reduce import ReduceKernel
from clgraph.codegen.scalar_c import NoDeviceCode
from clgraph.graph.basic import Apply
from clgraph.tensor.math import CAReduce
from clgraph.tensor.transfer import DeviceTensorType

from .device_ops import DeviceOp
from .placement import register_device_implementation

_GROUP_SIZE = 64
_CHUNK = 16384          # elements one work-item reduces when outputs are too few to keep
                        # every compute unit busy; partials are then reduced again


class GpuCAReduce(DeviceOp):
    __props__ = ("careduce",)

    def __init__(self, careduce, in_dtype):
        self.careduce = careduce
        out_dtype, acc_dtype = careduce.output_dtypes(in_dtype)
        name = careduce.scalar_op.name
        self.first = ReduceKernel(name, in_dtype, acc_dtype, acc_dtype)      # to partials
        self.whole = ReduceKernel(name, in_dtype, acc_dtype, out_dtype)      # in one pass
        self.last = ReduceKernel(name, acc_dtype, acc_dtype, out_dtype)      # partials to out
        self._built = {}

    def make_node(self, x):
        host = self.careduce.make_node(x)
        out = host.outputs[0].type
        return Apply(self, [x], [DeviceTensorType(out.dtype, out.shape, x.type.context)()])

    def _kernel(self, context, which, kept, reduced, width):
        key = (context, which, kept, reduced, width)
        if key not in self._built:
            name, source = getattr(self, which).source(kept, reduced, width)
            self._built[key] = context.build(source).kernel(name)
        return self._built[key]

    def _launch(self, context, which, out, x, kept, reduced, chunks):
        """One launch: ``out`` (flat) from ``x`` over ``kept`` and ``reduced`` (dims, strides)."""
        (kdims, kstrides), (rdims, rstrides) = kept, reduced
        R = int(np.prod(rdims, dtype=np.int64))
        outputs = int(np.prod(kdims, dtype=np.int64))
        kernel_maker = getattr(self, which)
        width = kernel_maker.vector_width(context.info) if len(rdims) == 1 and rstrides[0] == 1 else 0
        kernel = self._kernel(context, which, len(kdims), len(rdims), width)
        chunk = -(-R // chunks) if R else 0
        args = [np.int64(v) for pair in zip(kdims, kstrides) for v in pair]
        args += [np.int64(v) for pair in zip(rdims, rstrides) for v in pair]
        group = min(_GROUP_SIZE, kernel.max_group_size)
        groups = max(1, min(-(-outputs * chunks // group), context.info.compute_units * 64))
        kernel(groups, group, out, x, np.int64(outputs), np.int64(R), np.int64(chunks), np.int64(chunk),
               *args, outputs=[out])

    def perform(self, node, inputs):
        (x,) = inputs
        context = x.context
        axes = self.careduce.axis
        kept = [d for d in range(x.ndim) if d not in axes]
        out = empty([x.shape[d] for d in kept], node.outputs[0].type.dtype, context)
        R = int(np.prod([x.shape[d] for d in axes], dtype=np.int64))
        if R == 0 and self.careduce.scalar_op.name in ("maximum", "minimum") and x.size == 0:
            raise ValueError(f"cannot take the {self.careduce.title.lower()} over axes {axes} of an "
                             f"empty array of shape {x.shape}: it has no identity")
        if out.size == 0:
            return [out]
        element = [s // x.itemsize for s in x.strides]
        kdims, (kstrides,) = collapse_dims([x.shape[d] for d in kept], [[element[d] for d in kept]])
        rdims, (rstrides,) = collapse_dims([x.shape[d] for d in axes], [[element[d] for d in axes]])
        if not axes:
            rdims, rstrides = [1], [0]
        width = self.whole.vector_width(context.info)
        if width and len(kdims) == 1 and kstrides == [1] and len(rdims) == 1 and rdims[0] > 1:
            self._columns(context, width, out.reshape(-1), x, kdims[0], rdims[0], rstrides[0])
            return [out]
        busy = context.info.compute_units * 64
        chunks = max(1, min(R // _CHUNK, busy // out.size)) if out.size < busy else 1
        if chunks == 1:
            self._launch(context, "whole", out.reshape(-1), x, (kdims, kstrides), (rdims, rstrides), 1)
            return [out]
        partial = empty((out.size * chunks,), self.first.acc_dtype, context)
        self._launch(context, "first", partial, x, (kdims, kstrides), (rdims, rstrides), chunks)
        # The partials form a C-contiguous (outputs, chunks) array: reduce its rows.
        self._launch(context, "last", out.reshape(-1), partial, ([out.size], [chunks]), ([chunks], [1]), 1)
        return [out]

    def _vector_kernel(self, context, variant, width):
        key = (context, variant, width)
        if key not in self._built:
            name, source = getattr(self.whole, variant)(width)
            self._built[key] = context.build(source).kernel(name)
        return self._built[key]

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

    def __str__(self):
        return "Gpu" + str(self.careduce)


@register_device_implementation(CAReduce)
def _careduce_on_device(node, inputs, context):
    dtypes = {node.inputs[0].type.dtype, node.outputs[0].type.dtype,
              str(node.op.output_dtypes(node.inputs[0].type.dtype)[1])}
    if "float64" in dtypes and not get_context(context).info.fp64:
        return None
    try:
        return GpuCAReduce(node.op, node.inputs[0].type.dtype).make_node(*inputs)
    except NoDeviceCode:
        return None
