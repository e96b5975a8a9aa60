"""A matrix product whose one reader is an elementwise node, computed with that node's
operation as the GEMM's epilogue: ``tanh(h @ W + x_t U)`` in one kernel instead of two
(a launch and a pass over the result fewer; a recurrent step's whole work).

The ``fuse_products_into_elementwise`` rewrite makes the node where the blocked GEMM
runs (OpenCL CPU devices, float32, elementwise operations that run on vectors). The
other inputs are read as arrays of the result's shape, as rows broadcast down it (a
bias) or as one element; a call whose values do not fit (another layout, a product of
one row or column) runs the product and the elementwise kernel one after the other. A
product cut into K chunks applies the operation as it stores the last one.
"""
import numpy as np

from clgraph.backends import get_context
from clgraph.codegen import gemm
from clgraph.graph.basic import Apply
from clgraph.rewrite import register
from clgraph.tensor.transfer import DeviceTensorType

from .device_blas import GpuDot, GpuGemm, GpuMatMul, _stacked
from .device_ops import DeviceOp, GpuElemwise, Layout, likely_layouts, output_array


class GpuDotElemwise(DeviceOp):
    """``elemwise`` (a GpuElemwise of one output) of its inputs with input ``at`` being
    ``dot(a, b)`` of two matrices. Inputs: a, b, then the elementwise node's other
    inputs in their order."""

    __props__ = ("elemwise", "at")
    reuses_outputs = True
    fresh_outputs = True

    def __init__(self, elemwise, at):
        self.elemwise, self.at = elemwise, at
        self.dot = GpuDot()

    def make_node(self, a, b, *others):
        out = self.elemwise.output_types[0]
        return Apply(self, [a, b, *others], [DeviceTensorType(out.dtype, out.shape, a.type.context)()])

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0], input_shapes[1][1])]

    def _kernel_inputs(self, values, product):
        """The elementwise node's inputs with ``product`` at its place."""
        return list(values[:self.at]) + [product] + list(values[self.at:])

    def _reads(self, inputs, out_shape):
        """How the GEMM reads each input of the elementwise operation ("a" an array of
        the result's shape, "r" a row broadcast down it (a bias), "s" one element) for
        its ``inputs`` (the product among them; values or Layouts); None if one is none
        of these."""
        kernel = self.elemwise.kernel
        reads = ["s" if one else None for one in kernel.one_element(inputs)]
        reads[kernel.arrays[self.at]] = "a"
        for k, x in zip(kernel.arrays, inputs):
            if reads[k] is None and x.c_contiguous:
                shape = tuple(x.shape)
                reads[k] = "a" if shape == tuple(out_shape) else "r" if shape == (1, out_shape[1]) else None
        return None if None in reads else tuple(reads)

    def _plan(self, node, a, b, others):
        """(result shape, how the GEMM reads each input, or None: the two kernels)."""
        shape = self.dot._output_shape(a, b)[0]
        out = Layout(shape, a.context, node.outputs[0].type.dtype)
        if not self.dot.epilogue_fits(a.context, out, a, b):
            return shape, None
        return shape, self._reads(self._kernel_inputs(others, out), shape)

    def perform(self, node, inputs, previous=None):
        a, b, others = inputs[0], inputs[1], inputs[2:]
        shape, reads = self.planned(inputs, lambda: self._plan(node, a, b, others))
        if reads is None:
            product = self.dot.perform(node, [a, b])[0]
            return self.elemwise.perform(None, self._kernel_inputs(others, product), previous)
        out = output_array(previous, 0, shape, node.outputs[0].type.dtype, a.context)
        kernel = self.elemwise.kernel
        position = kernel.arrays[self.at]
        arrays = [x for k, x in zip(kernel.arrays, self._kernel_inputs(others, out)) if k != position]
        self.dot._gemm(out, a, b, epilogue=(kernel, position, reads, arrays))
        return [out]

    def loop(self, states, first, tap, steps, b, others):
        """Run ``steps`` steps of a loop whose step is this node on a = an earlier step's
        result, in one launch (gemm_blocked.c's loop kernel): step t writes
        ``states[(first + t) % len(states)]`` from a = ``states[(first + t + tap) %
        len(states)]``, ``b`` and the elementwise node's other inputs ``others``, each
        as (its value at step 0, the elements between two steps' values; 0: the same
        value). Returns whether it ran; where the values do not fit (what ``perform``
        would run as two kernels, a product longer than a K chunk, a tap that is not one
        step's array), nothing ran."""
        length, m, n = states.shape
        context, dtype = states.context, states.dtype
        slot = states[0]
        values = [x for x, _ in others]
        if not (states.c_contiguous and tuple(b.shape) == (n, n) and 0 < n <= gemm.K_CHUNK
                and self.dot.epilogue_fits(context, slot, slot, b)):
            return False
        reads = self._reads(self._kernel_inputs(values, slot), (m, n))
        if reads is None:
            return False
        kernel, width = self.elemwise.kernel, gemm.blocked_width(context.info, dtype)
        position = kernel.arrays[self.at]
        name, source = gemm.blocked_gemm(dtype, width, epilogue=(kernel, position, reads), loop=True)
        launch = self.dot._kernel(context, (name + "_steps", source))
        cols = gemm.BLOCK_VECTORS * width
        row_blocks, col_blocks = -(-m // gemm.BLOCK_ROWS), -(-n // cols)
        # a group per block row, owning it for the whole loop: the device's threads take
        # groups as they come, so one that starts late still finds some (with a group per
        # thread, a late one left the whole loop to the other, at half the speed)
        groups, size = row_blocks, col_blocks
        if size > launch.max_group_size:
            return False
        packed, _ = self.dot._packed(context, name, source, _stacked(b, 2), cols)
        arrays = []
        for k, pair in zip(kernel.arrays, self._kernel_inputs(others, None)):
            if k != position:
                arrays += [pair[0], np.int64(pair[1])]
        sizes = (m, n, n, steps, first, tap, length, m * n, n, n * cols)
        launch((groups,), (size,), states, packed, *map(np.int64, sizes), *arrays, outputs=[states])
        return True

    def likely_sources(self, node, context):
        """The plain GEMM program (the first K chunks of a long product, and packing)
        and the one with this epilogue."""
        layouts = likely_layouts(node.outputs[:1] + node.inputs[2:], context)
        reads = self._reads(self._kernel_inputs(layouts[1:], layouts[0]), layouts[0].shape)
        dtype = node.outputs[0].type.dtype
        width = gemm.blocked_width(context.info, np.dtype(dtype))
        if reads is None or not width:
            return []
        epilogue = (self.elemwise.kernel, self.elemwise.kernel.arrays[self.at], reads)
        return [gemm.blocked_gemm(dtype, width)[1], gemm.blocked_gemm(dtype, width, epilogue=epilogue)[1]]

    def sources(self, node, dialect, device):
        """{kernel name: source without the header}: the fused GEMM where it runs, and
        the product's and the elementwise node's kernels of the unfused calls."""
        sources = {**self.dot.sources(node, dialect, device), **self.elemwise.sources(node, dialect, device)}
        width = gemm.blocked_width(device, np.dtype(node.outputs[0].type.dtype)) if dialect == "opencl" else 0
        if width:   # every input an array of the result's shape
            kernel = self.elemwise.kernel
            reads = tuple("s" if k in kernel.constants else "a" for k in range(len(kernel.in_dtypes)))
            name, source = gemm.blocked_gemm(node.outputs[0].type.dtype, width,
                                             epilogue=(kernel, kernel.arrays[self.at], reads))
            sources[name] = source
        return sources

    def __str__(self):
        return f"GpuDot+{self.elemwise}"


_PRODUCTS = (GpuDot, GpuGemm, GpuMatMul)   # of two inputs, all dot(a, b) for matrices


@register("fuse_products_into_elementwise", 105, "fast_run", stage="device")
def fuse_products_into_elementwise(fgraph):
    """An elementwise node of one float32 output reading a matrix product nothing else
    reads, on a device with the blocked GEMM, becomes a GpuDotElemwise."""
    for node in fgraph.toposort():
        op = node.op
        if node not in fgraph or type(op) is not GpuElemwise or op.inplace or len(node.outputs) != 1:
            continue
        out = node.outputs[0]
        info = get_context(out.type.context).info
        if out.dtype != "float32" or out.ndim != 2 or not gemm.blocked_width(info, np.dtype("float32")) \
                or not op.kernel.vector_width(info):
            continue
        for at, x in enumerate(node.inputs):
            product = x.owner
            if (product is None or type(product.op) not in _PRODUCTS or len(product.inputs) != 2
                    or len(fgraph.clients(x)) != 1
                    or x.type.broadcastable != out.type.broadcastable
                    or any(v.ndim != 2 or v.dtype != "float32" for v in product.inputs)):
                continue
            others = [v for i, v in enumerate(node.inputs) if i != at]
            fused = GpuDotElemwise(op, at).make_node(*product.inputs, *others)
            fgraph.replace(out, fused.outputs[0], check=False)
            break
