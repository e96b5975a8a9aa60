"""Scan on a device: the loop's state stays in device memory.

The step graph is compiled once for the node's context with every inner input on that
context. Each step calls it with views (a sequence's entry, a past value inside the
output buffer) and copies its results into the preallocated output buffers on the
device, so no value crosses to the host per step; only n_steps comes from the host, and
an ``until`` condition is read back after each step. Once two steps launched the same
kernels, later steps launch them directly (scan_module.replay); a step that is one
GEMM with an epilogue runs the whole loop in one launch (scan_module.whole_loop).
"""
from clgraph.backends import empty, get_context
from clgraph.compile.device_ops import OnContext
from clgraph.compile.placement import _keeps_on_host, register_device_implementation

from .op import Scan, run_loop
from .replay import ReplayedStep
from .whole_loop import whole_loop


class DeviceStorage:
    """The loop's buffers as DeviceArrays on one context."""

    def __init__(self, context):
        self.context = context

    def empty(self, shape, dtype):
        return empty(shape, dtype, self.context)

    @staticmethod
    def write(target, value):
        if value.block is not target.block or value.offset != target.offset or value.strides != target.strides:
            value.copy_into(target)

    @staticmethod
    def entry(array, i):
        """array[i] for 0 <= i < len(array), made directly (once per step and buffer)."""
        return array._view(array.shape[1:], array.strides[1:], array.offset + i * array.strides[0])


class GpuScan(OnContext):
    """A Scan node run on device context ``context`` (n_steps, input 0, is a host value)."""

    _whole = None   # (the step's whole-loop function, or None), matched at the first call

    def perform(self, node, inputs):
        op = self.host_op
        step = op.inner_function(self.context)   # compiled once: the match holds for every call
        if self._whole is None:
            self._whole = (whole_loop(op, step),)
        return run_loop(op, inputs, DeviceStorage(get_context(self.context)), ReplayedStep(step), self._whole[0])


register_device_implementation(Scan)(_keeps_on_host(
    [0], lambda node, inputs, context: GpuScan(node.op, context).make_node(*inputs)))
