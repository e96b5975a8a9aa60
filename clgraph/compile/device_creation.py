"""Creation ops on devices: GpuARange and GpuEye fill a new array with the kernels of
codegen.creation. Their arguments (start, stop, step; n, m, k) are host scalars: they
size the output, and the values are computed on the device.
"""
import math

import numpy as np

from clgraph.backends import get_context
from clgraph.codegen import creation
from clgraph.graph.basic import Apply
from clgraph.tensor.shape_ops import ARange, Eye
from clgraph.tensor.transfer import type_on

from .device_ops import DeviceOp, output_array
from .placement import _keeps_on_host, register_device_implementation

_GROUP_SIZE = 256


class FillOnContext(DeviceOp):
    """A host creation op whose inputs are all host scalars, run on ``context``: the
    same output type placed there, filled by the kernel ``make_source(dtype)`` gives."""

    __props__ = ("host_op", "context")
    reuses_outputs = True
    fresh_outputs = True

    def __init__(self, host_op, context):
        self.host_op = host_op
        self.context = context

    def make_node(self, *inputs):
        out = self.host_op.make_node(*inputs).outputs[0].type
        return Apply(self, list(inputs), [type_on(self.context, out.dtype, out.shape)()])

    def kernel_source(self):
        """(kernel name, source) of this op's dtype."""
        return self.make_source(self.host_op.dtype)

    def sources(self, node, dialect, device):
        """{kernel name: source without the header}: one kernel, the same in both dialects."""
        return dict([self.kernel_source()])

    def output(self, previous, shape):
        """The C-contiguous output array of ``shape`` (the previous call's when it fits)."""
        return output_array(previous, 0, shape, np.dtype(self.host_op.dtype), get_context(self.context))

    def _fill(self, out, count, *arguments, key=None, rendering=None):
        """Launch the kernel (another variant: ``key`` and its ``rendering``) with
        ``count`` work-items (one per element written) over ``out`` (C-contiguous),
        ``arguments`` after the count."""
        if count == 0:
            return
        context = out.context
        kernel = self.built_kernel(context, key, rendering or self.kernel_source)
        group = min(_GROUP_SIZE, kernel.max_group_size)
        kernel(-(-count // group), group, out, np.int64(count), *arguments, outputs=[out])

    def __str__(self):
        return "Gpu" + str(self.host_op)


class GpuARange(FillOnContext):
    """numpy's arange on a device: the length and the first two values are computed on
    the host as numpy computes them (from Python numbers), the fill on the device."""

    make_source = staticmethod(creation.arange_source)

    def perform(self, node, inputs, previous=None):
        start, stop, step = (v.item() for v in inputs)
        if step == 0:
            raise ValueError(f"{self}: step must not be 0")
        try:
            length = max(0, math.ceil((stop - start) / step))
        except (OverflowError, ValueError):
            raise ValueError(f"{self}: cannot compute the length of "
                             f"arange({start}, {stop}, {step})") from None
        out = self.output(previous, (length,))
        if length:
            # numpy converts the start, and the start plus one step when it stores that,
            # to the dtype (integers out of its range raise OverflowError)
            first = np.array(start, out.dtype)
            second = np.array(start + step, out.dtype) if length > 1 else first
            self._fill(out, length, *creation.arange_arguments(out.dtype, first, second))
        return [out]


class GpuEye(FillOnContext):
    """numpy's eye on a device: an n x m array of zeros (a fill of the driver's), then
    the kernel writes the ones of diagonal k."""

    make_source = staticmethod(creation.eye_source)

    def perform(self, node, inputs, previous=None):
        n, m, k = (int(v) for v in inputs)
        if n < 0 or m < 0:
            raise ValueError(f"{self}: negative size ({n}, {m})")
        out = self.output(previous, (n, m))
        if out.nbytes:
            out.context.fill_zero(out.block, out.offset, out.nbytes)
        row, column = max(0, -k), max(0, k)   # where the diagonal starts
        self._fill(out, max(0, min(n - row, m - column)), np.int64(row * m + column), np.int64(m + 1))
        return [out]


def _fill_on_device(device_op, kinds):
    """The placement function running nodes whose output dtype is of one of ``kinds``
    as ``device_op``; their three inputs stay host scalars."""
    def on_device(node, inputs, context):
        if np.dtype(node.outputs[0].type.dtype).kind not in kinds:
            return None
        return device_op(node.op, context).make_node(*inputs)
    return _keeps_on_host([0, 1, 2], on_device)


# numpy's arange of booleans stops at two elements: such nodes stay on the host.
register_device_implementation(ARange)(_fill_on_device(GpuARange, "iuf"))
register_device_implementation(Eye)(_fill_on_device(GpuEye, "biuf"))
