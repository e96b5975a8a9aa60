"""IfElse on a device: the condition is read on the host, then the chosen branch's graph,
compiled once for the node's context, runs on the device values of its inputs."""
from clgraph.graph.basic import Apply
from clgraph.ifelse import IfElse
from clgraph.tensor.transfer import type_on

from .device_ops import DeviceOp
from .placement import _keeps_on_host, register_device_implementation


class GpuIfElse(DeviceOp):
    """An IfElse node whose branches run on device context ``context``."""

    __props__ = ("ifelse", "context")

    def __init__(self, ifelse, context):
        self.ifelse = ifelse
        self.context = context

    def make_node(self, condition, *inputs):
        host = self.ifelse.make_node(condition, *inputs)
        return Apply(self, host.inputs, [type_on(self.context, t.dtype, t.shape)() for t in self.ifelse.output_types])

    def perform(self, node, inputs):
        branch, values = self.ifelse.chosen(inputs)
        return list(self.ifelse.compiled(branch, self.context)(values))

    def __str__(self):
        return "Gpu" + str(self.ifelse)


register_device_implementation(IfElse)(_keeps_on_host(
    [0], lambda node, inputs, context: GpuIfElse(node.op, context).make_node(*inputs)))
