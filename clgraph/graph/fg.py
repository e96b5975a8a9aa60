"""FunctionGraph: a graph between given inputs and outputs, with clients and replacement.

Rewrites work on a FunctionGraph; it owns a copy of the nodes so that rewriting never
changes the graph the user built.
"""
from .basic import clone_replace, graph_inputs, io_toposort


class FunctionGraph:
    def __init__(self, inputs, outputs, clone=True):
        if clone:   # every node that depends on an input is rebuilt over its copy
            fresh = {v: v.clone() for v in inputs}
            outputs = clone_replace(outputs, fresh)
            inputs = list(fresh.values())
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        missing = [v for v in graph_inputs(self.outputs)
                   if not hasattr(v, "data") and all(v is not i for i in self.inputs)]
        if missing:
            raise ValueError(f"the outputs depend on {', '.join(map(str, missing))}, which "
                             "is not among the inputs")

    def toposort(self):
        return io_toposort(self.inputs, self.outputs)

    @property
    def apply_nodes(self):
        return set(self.toposort())

    def clients(self, var):
        """(node, input index) pairs that use ``var``; ('output', i) for graph outputs."""
        uses = [(node, i) for node in self.toposort() for i, inp in enumerate(node.inputs) if inp is var]
        return uses + [("output", i) for i, out in enumerate(self.outputs) if out is var]

    def replace(self, old, new):
        """Use ``new`` wherever ``old`` was used."""
        if old.type != new.type:
            raise TypeError(f"cannot replace {old} of type {old.type} by {new} of type {new.type}")
        self.outputs = clone_replace(self.outputs, {old: new})

    def clone(self):
        return FunctionGraph(self.inputs, self.outputs, clone=True)

    def __str__(self):
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"

