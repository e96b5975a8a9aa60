"""Random draws on devices: GpuRandomDraw fills a new array with the Philox kernels of
codegen.random. The size stays a host value. A state on the host (a random variable's
shared variable) gives the key and counter as kernel arguments and is advanced on the
host (a few integers); a state on the device (inside a scan on the device) is read by
the kernels and advanced by one, so a loop reads nothing back.
"""
import numpy as np

from clgraph.backends import DeviceArray, get_context
from clgraph.codegen.random import ADVANCE, FROM_STATE, draw_source
from clgraph.graph.basic import Apply
from clgraph.tensor.random import AdvanceState, RandomDraw, split_state
from clgraph.tensor.transfer import type_on

from .device_creation import FillOnContext
from .device_ops import DeviceOp, GpuFromHost, output_array
from .placement import _keeps_on_host, register_device_implementation


def _suffixed(rendering, suffix):
    """The (name, source) of kernel ``name + suffix`` of the source ``rendering`` gives."""
    name, source = rendering
    return name + suffix, source


class GpuRandomDraw(FillOnContext):
    """A RandomDraw run on ``context``: the same numbers, written by one work-item each."""

    def kernel_source(self):
        return draw_source(self.host_op.distribution, self.host_op.dtype)

    def perform(self, node, inputs, previous=None):
        state, shape = inputs
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape):
            raise ValueError(f"{self}: negative length in size {shape}")
        out = self.output(previous, shape)
        if not isinstance(state, DeviceArray):
            key0, key1, base = split_state(state)
            self._fill(out, out.size, np.uint32(key0), np.uint32(key1), np.uint64(base))
        else:
            self._fill(out, out.size, state, key=FROM_STATE, rendering=lambda: _suffixed(self.kernel_source(), FROM_STATE))
        return [out]


class GpuAdvanceState(DeviceOp):
    """An AdvanceState of a state on ``context``, computed there by one work-item."""

    __props__ = ("context",)
    reuses_outputs = True
    fresh_outputs = True

    def __init__(self, context):
        self.context = context

    def make_node(self, state, shape):
        host = AdvanceState().make_node(state, shape)
        return Apply(self, [state, host.inputs[1]], [type_on(self.context, "uint32", (4,))()])

    @staticmethod
    def kernel_source():
        """(kernel name, source): the advance kernel lives with the generator."""
        return _suffixed(draw_source("uniform", "float32"), ADVANCE)

    def sources(self, node, dialect, device):
        """{kernel name: source without the header}, the same in both dialects."""
        return dict([self.kernel_source()])

    def perform(self, node, inputs, previous=None):
        state, shape = inputs
        count = int(np.prod(shape, dtype=np.int64))
        out = output_array(previous, 0, (4,), np.dtype(np.uint32), get_context(self.context))
        kernel = self.built_kernel(out.context, None, self.kernel_source)
        kernel(1, 1, out, state, np.uint64(count % 2 ** 64), outputs=[out])
        return [out]

    def __str__(self):
        return "GpuAdvanceState"


def _host_state(var):
    """The host variable a placed state was uploaded from; None for a state that lives
    on the device."""
    owner = var.owner
    return owner.inputs[0] if owner is not None and isinstance(owner.op, GpuFromHost) else None


def _draw_on_device(node, inputs, context):
    state, shape = inputs
    host = _host_state(state)
    return GpuRandomDraw(node.op, context).make_node(state if host is None else host, shape)


def _advance_on_device(node, inputs, context):
    # a host state advances on the host: its update goes back to the host anyway
    if _host_state(inputs[0]) is not None:
        return None
    return GpuAdvanceState(context).make_node(*inputs)


register_device_implementation(RandomDraw)(_keeps_on_host([1], _draw_on_device))
register_device_implementation(AdvanceState)(_keeps_on_host([1], _advance_on_device))
