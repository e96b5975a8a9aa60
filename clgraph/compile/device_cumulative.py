"""Cumulative sums and products on devices: GpuCumOp runs a CumOp (cumsum, cumprod)
with the kernels of codegen.cumulative.

Lines run in parallel, one work-item per line. With too few lines to keep the device
busy, lines are cut into blocks scanned in parallel: the blocks' totals, a scan of those
totals (the same procedure, so very long lines recurse), then every block's scan from
the running total before it.
"""
import math

import numpy as np

from clgraph.backends import empty
from clgraph.codegen.cumulative import CumulativeKernel
from clgraph.codegen.elemwise import collapse_dims
from clgraph.tensor.math import CumOp

from .device_ops import OnDevice, launch_over, output_array
from .placement import register_device_implementation

_GROUP_SIZE = 64
_MIN_BLOCK = 4096   # the shortest block worth a work-item of its own: each costs three passes


class GpuCumOp(OnDevice):
    """A CumOp on a device: the output (C-contiguous) from an input of any strides."""

    reuses_outputs = fresh_outputs = True

    def __init__(self, host_op, in_dtype, out_dtype):
        super().__init__(host_op)
        self.kernels = CumulativeKernel(host_op.mode, in_dtype, out_dtype)

    def _kernel(self, context, kernels, which, *parameters):
        """``kernels``' kernel ``which`` (scan, totals) for ``parameters``."""
        return self.built_kernel(context, (kernels is self.kernels, which, *parameters),
                                 lambda: getattr(kernels, which)(*parameters))

    def perform(self, node, inputs, previous=None):
        (x,) = inputs
        axis = self.host_op.axis
        if axis is None:
            x, axis = x.reshape(-1), 0    # a view, or a C-contiguous copy of a strided input
        out = output_array(previous, 0, x.shape, node.outputs[0].type.dtype, x.context)
        if out.size:
            self._scan(self.kernels, out, x, axis)
        return [out]

    def _scan(self, kernels, out, x, axis):
        """``out`` = the running op of ``x`` along ``axis`` (``kernels``: their dtypes)."""
        context = x.context
        kept = [d for d in range(x.ndim) if d != axis]
        in_element = [s // x.itemsize for s in x.strides]
        out_element = [s // out.itemsize for s in out.strides]
        kdims, (ks, kos) = collapse_dims([x.shape[d] for d in kept], [[in_element[d] for d in kept],
                                                                      [out_element[d] for d in kept]])
        N, lines = x.shape[axis], math.prod(kdims)
        busy = context.info.compute_units * _GROUP_SIZE
        blocks = 1 if lines >= busy else min(-(-busy // lines), N // _MIN_BLOCK) or 1
        block = -(-N // blocks)
        blocks = -(-N // block)
        kept_args = [np.int64(v) for triple in zip(kdims, ks, kos) for v in triple]
        line_args = [np.int64(v) for v in (lines * blocks, blocks, block, N, in_element[axis],
                                            out_element[axis])]
        if blocks == 1:
            scan = self._kernel(context, kernels, "scan", len(kdims))
            launch_over(scan, lines, out, x, *line_args, *kept_args, outputs=[out], group_size=_GROUP_SIZE)
            return
        totals = empty((lines, blocks), kernels.carry_dtype, context)
        reduce = self._kernel(context, kernels, "totals", len(kdims))
        launch_over(reduce, lines * blocks, totals, x, np.int64(lines), np.int64(N), np.int64(blocks),
                     np.int64(block), *[np.int64(v) for pair in zip(kdims, ks) for v in pair],
                     np.int64(N), np.int64(in_element[axis]), outputs=[totals], group_size=_GROUP_SIZE)
        self._scan(kernels.of_totals(), totals, totals, 1)   # in place: running totals
        scan = self._kernel(context, kernels, "scan", len(kdims), True)
        launch_over(scan, lines * blocks, out, x, totals, *line_args, *kept_args, outputs=[out],
                    group_size=_GROUP_SIZE)

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the kernels this node may run."""
        kept = max(1, node.inputs[0].ndim - 1) if self.host_op.axis is not None else 1
        totals = self.kernels.of_totals()
        return dict([self.kernels.scan(kept), self.kernels.scan(kept, carried=True), self.kernels.totals(kept),
                     totals.scan(1), totals.scan(1, carried=True), totals.totals(1)])


@register_device_implementation(CumOp)
def _cumop_on_device(node, inputs, context):
    return GpuCumOp(node.op, node.inputs[0].type.dtype, node.outputs[0].type.dtype).make_node(*inputs)
