"""The maximum (or minimum) and its index on devices: GpuMaxAndArgmax runs a
MaxAndArgmax (max_and_argmax, argmax, argmin) with the kernels of codegen.argreduce.

Many short lines, or any lines on a CPU: one work-item per line. Few long lines on
other devices: a work-group per line (a tree of (value, index) pairs in local memory).
With too few lines to keep every compute unit busy, each line is split into chunks
whose partials a second launch reduces.
"""
import math

import numpy as np

from clgraph.backends import empty
from clgraph.codegen.argreduce import MAX_GROUP, ArgReduceKernel
from clgraph.codegen.elemwise import collapse_dims
from clgraph.graph.basic import Apply
from clgraph.tensor.math import MaxAndArgmax
from clgraph.tensor.transfer import type_on

from .device_ops import DeviceOp, output_array
from .placement import register_device_implementation

_LINE_GROUP = 64        # work-items of a group when each handles its own line
_CHUNK = 16384          # the shortest chunk of a line worth a task of its own
_GROUPS_PER_UNIT = 4    # chunked lines: work-groups per compute unit


def _power_of_two_at_most(n):
    return 1 << (int(n).bit_length() - 1)


class GpuMaxAndArgmax(DeviceOp):
    """A MaxAndArgmax (or MinAndArgmin) on a device: both outputs from one pass."""

    __props__ = ("host_op",)
    reuses_outputs = fresh_outputs = True

    def __init__(self, host_op, dtype):
        self.host_op = host_op
        self.kernel = ArgReduceKernel(host_op.scalar_op.name, dtype)

    def make_node(self, x):
        outputs = self.host_op.make_node(x).outputs
        return Apply(self, [x], [type_on(x.type.context, o.type.dtype, o.type.shape)() for o in outputs])

    def _kernel(self, context, kept, reduced, partials=False, tree=False):
        key = (kept, reduced, partials, tree)
        return self.built_kernel(context, key, lambda: self.kernel.source(*key))

    def _launch(self, values, indices, arrays, kept, reduced, chunk, lanes, partials=False):
        """``values``, ``indices`` (flat) from ``arrays`` (the input; or partial values
        and indices) over ``kept`` and ``reduced`` (dims, strides): a result per
        ``chunk`` of each line, ``lanes`` work-items per chunk."""
        context = values.context
        (kdims, kstrides), (rdims, rstrides) = kept, reduced
        kernel = self._kernel(context, len(kdims), len(rdims), partials, tree=lanes > 1)
        R = math.prod(rdims)
        tasks = values.size
        group = max(lanes, min(_LINE_GROUP, _power_of_two_at_most(kernel.max_group_size)))
        groups = max(1, min(-(-tasks * lanes // group), context.info.compute_units * 64))
        args = [np.int64(v) for pair in zip(kdims, kstrides) for v in pair]
        args += [np.int64(v) for pair in zip(rdims, rstrides) for v in pair]
        kernel(groups, group, values, indices, *arrays, np.int64(tasks), np.int64(R), np.int64(-(-R // chunk)),
               np.int64(chunk), np.int64(lanes), *args, outputs=[values, indices])

    def perform(self, node, inputs, previous=None):
        (x,) = inputs
        context = x.context
        axes = self.host_op.axis
        kept = [d for d in range(x.ndim) if d not in axes]
        R = math.prod(x.shape[d] for d in axes)
        if R == 0:
            raise ValueError(f"{self}: cannot take the {'max' if self.kernel.op_name == 'maximum' else 'min'} "
                             f"and its index over axes {axes} of an empty array of shape {x.shape}")
        values = output_array(previous, 0, [x.shape[d] for d in kept], x.dtype, context)
        indices = output_array(previous, 1, values.shape, np.int64, context)
        if values.size == 0:
            return [values, indices]
        element = [s // x.itemsize for s in x.strides]
        kdims, (kstrides,) = collapse_dims([x.shape[d] for d in kept], [[element[d] for d in kept]])
        rdims, (rstrides,) = collapse_dims([x.shape[d] for d in axes], [[element[d] for d in axes]])
        lines, flat = values.size, (values.reshape(-1), indices.reshape(-1))
        units = context.info.compute_units
        lanes = 1
        # A CPU walks contiguous memory best alone; a GPU shares long lines in groups.
        if context.info.kind != "CPU" and lines < units * _LINE_GROUP:
            tree = self._kernel(context, len(kdims), len(rdims), tree=True)
            lanes = _power_of_two_at_most(min(MAX_GROUP, tree.max_group_size))
            lanes = lanes if R >= 2 * lanes else 1
        # Few lines: split each into chunks so that every compute unit gets work.
        busy = units * (_GROUPS_PER_UNIT if lanes > 1 else _LINE_GROUP)
        chunk = -(-R // max(1, min(R // _CHUNK, -(-busy // lines))))
        if chunk == R:
            self._launch(*flat, [x], (kdims, kstrides), (rdims, rstrides), R, lanes)
            return [values, indices]
        chunks = -(-R // chunk)
        partials = empty((lines * chunks,), x.dtype, context), empty((lines * chunks,), np.int64, context)
        self._launch(*partials, [x], (kdims, kstrides), (rdims, rstrides), chunk, lanes)
        # The partials form C-contiguous (lines, chunks) arrays: reduce their rows.
        self._launch(*flat, partials, ([lines], [chunks]), ([chunks], [1]), chunks, 1, partials=True)
        return [values, indices]

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the kernels this node may run."""
        kept, reduced = max(1, node.outputs[0].ndim), max(1, len(self.host_op.axis))
        return dict([self.kernel.source(kept, reduced), self.kernel.source(kept, reduced, tree=True),
                     self.kernel.source(1, 1, partials=True)])

    def __str__(self):
        return "Gpu" + str(self.host_op)


@register_device_implementation(MaxAndArgmax)
def _max_and_argmax_on_device(node, inputs, context):
    return GpuMaxAndArgmax(node.op, node.inputs[0].type.dtype).make_node(*inputs)
