"""The VM: runs a compiled graph's thunks in order over one list of storage slots.

Every variable of the graph has a slot; a thunk reads its inputs' slots and fills its
outputs'. Slots of intermediate results are cleared after their last use when
``allow_gc`` is on, so memory can be reused; with it off they stay between calls.
"""
from clgraph.graph.basic import Constant
from clgraph.graph.evaluate import run_node


class HostThunk:
    """Runs one node's numpy reference implementation."""

    __slots__ = ("node", "inputs", "outputs")

    def __init__(self, node, inputs, outputs):
        self.node, self.inputs, self.outputs = node, inputs, outputs

    def __call__(self, storage):
        results = run_node(self.node, [storage[i] for i in self.inputs], check=False)
        for slot, result in zip(self.outputs, results):
            storage[slot] = result


class VM:
    """Runs the nodes of ``order`` (Apply nodes in topological order) from ``inputs`` to
    ``outputs`` (variables of the same graph)."""

    def __init__(self, order, inputs, outputs, allow_gc=True):
        slots = {}

        def slot(var):
            return slots.setdefault(id(var), len(slots))

        self.input_slots = [slot(v) for v in inputs]
        self.thunks = [HostThunk(node, [slot(v) for v in node.inputs], [slot(v) for v in node.outputs])
                       for node in order]
        self.output_slots = [slot(v) for v in outputs]
        self.template = [None] * len(slots)
        variables = {id(v): v for v in list(outputs) + [v for node in order for v in node.inputs]}
        for key, index in slots.items():
            if isinstance(variables.get(key), Constant):
                self.template[index] = variables[key].data
        self.gc_after = self._last_uses(allow_gc)

    def _last_uses(self, allow_gc):
        """For each thunk, the slots no later thunk nor any output needs."""
        if not allow_gc:
            return [()] * len(self.thunks)
        keep = set(self.output_slots) | set(self.input_slots) | {
            i for i, value in enumerate(self.template) if value is not None}
        last = {}
        for position, thunk in enumerate(self.thunks):
            for index in thunk.inputs:
                last[index] = position
        freed = [[] for _ in self.thunks]
        for index, position in last.items():
            if index not in keep:
                freed[position].append(index)
        return [tuple(f) for f in freed]

    def __call__(self, input_values):
        storage = list(self.template)
        for index, value in zip(self.input_slots, input_values):
            storage[index] = value
        for thunk, freed in zip(self.thunks, self.gc_after):
            thunk(storage)
            for index in freed:
                storage[index] = None
        return [storage[i] for i in self.output_slots]
