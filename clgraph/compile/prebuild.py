"""Building a compiled graph's kernels before its first call, one program per context.

A driver's cost per program can dwarf the cost per kernel (PoCL: about 0.1 s to build
any program, a few hundredths of that per kernel in it), so the kernels that each node
predicts it will launch (DeviceOp.likely_sources) are built together when the graph is
compiled; a node whose first call needs another kernel builds it then, as before.
"""
from clgraph.backends import get_context
from clgraph.tensor.transfer import DeviceTensorType

from .device_ops import DeviceOp


def prebuild(fgraph):
    """Build the likely kernels of ``fgraph``'s device nodes, a program per context."""
    by_context = {}
    for node in fgraph.toposort():
        out = node.outputs[0].type if node.outputs else None
        if not isinstance(node.op, DeviceOp) or not isinstance(out, DeviceTensorType):
            continue
        context = get_context(out.context)
        try:
            sources = node.op.likely_sources(node, context)
        except ValueError:   # types that no value fits: the first call will say so
            continue
        by_context.setdefault(context, []).extend(sources)
    for context, sources in by_context.items():
        context.programs.get_together(sources)
