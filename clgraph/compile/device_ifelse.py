"""IfElse on a device: the condition is read on the host, then the chosen branch's graph,
compiled once for the node's context, runs on the device values of its inputs."""
from clgraph.ifelse import IfElse

from .device_ops import OnContext
from .placement import _keeps_on_host, register_device_implementation


class GpuIfElse(OnContext):
    """An IfElse node whose branches run on device context ``context``."""

    def perform(self, node, inputs):
        branch, values = self.host_op.chosen(inputs)
        return list(self.host_op.compiled(branch, self.context)(values))


register_device_implementation(IfElse)(_keeps_on_host(
    [0], lambda node, inputs, context: GpuIfElse(node.op, context).make_node(*inputs)))
