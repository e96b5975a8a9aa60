"""The VM: runs a compiled graph's thunks in order over one list of storage slots.

Every variable of the graph has a slot; a thunk reads its inputs' slots and fills its
outputs'. Memory for intermediates is planned from liveness: with ``allow_gc`` each
slot is cleared right after its last use, and the block it held goes back to its
context's pool, where the next allocation of that size takes it (device work is
ordered on the context's queue, so the reuse is safe while the last reader is still
queued). With ``allow_gc`` off the slots stay filled between calls, and an op that
allocates its outputs (``reuses_outputs``) writes the next call's result into the
buffer of its previous one, unless that buffer escaped to the caller.

With ``profile``, each node's run is timed on the host and its device commands are
recorded as events, so ``timings()`` can say how long each ran on its device.
"""
import time

from clgraph.backends.context import recording
from clgraph.graph.basic import Constant
from clgraph.graph.evaluate import run_node


class Thunk:
    """Runs one node's ``perform``; ``previous`` are its outputs of the last call that
    it may overwrite (None: allocate new ones). ``reuses``: whether it is given them
    (its op writes into given outputs, and the VM keeps them between calls)."""

    __slots__ = ("node", "inputs", "outputs", "reuses")

    def __init__(self, node, inputs, outputs, keeps_storage):
        self.node, self.inputs, self.outputs = node, inputs, outputs
        self.reuses = keeps_storage and getattr(node.op, "reuses_outputs", False)

    def __call__(self, storage, previous=None):
        args = [storage[i] for i in self.inputs]
        if previous is None:
            results = run_node(self.node, args, check=False)
        else:
            results = run_node(self.node, args, check=False, previous=previous)
        for slot, result in zip(self.outputs, results):
            storage[slot] = result


def _block_ids(values):
    return {id(block) for block in (getattr(v, "block", None) for v in values) if block is not None}


class VM:
    """Runs the nodes of ``order`` (Apply nodes in topological order) from ``inputs`` to
    ``outputs`` (variables of the same graph). ``borrowed``: positions of outputs the
    caller lets the next call overwrite (Out(borrow=True))."""

    def __init__(self, order, inputs, outputs, allow_gc=True, borrowed=(), profile=False):
        slots = {}

        def slot(var):
            return slots.setdefault(id(var), len(slots))

        self.input_slots = [slot(v) for v in inputs]
        self.thunks = [Thunk(node, [slot(v) for v in node.inputs], [slot(v) for v in node.outputs], not allow_gc)
                       for node in order]
        self.output_slots = [slot(v) for v in outputs]
        self.template = [None] * len(slots)
        variables = {id(v): v for v in list(outputs) + [v for node in order for v in node.inputs]}
        for key, index in slots.items():
            if isinstance(variables.get(key), Constant):
                self.template[index] = variables[key].data
        self.gc_after = self._last_uses(allow_gc)
        self._steps = list(zip(self.thunks, self.gc_after))   # what a call walks
        self.storage = None if allow_gc else list(self.template)   # kept between calls
        self.borrowed = frozenset(borrowed)
        self._escaped = set()   # ids of blocks the last call handed out
        self.profile = profile
        self.records = []       # of the last call, with profile: (node, host seconds, events)

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

    def _previous(self, storage, thunk):
        """The outputs of ``thunk``'s last call (its op reuses outputs) it may write
        into, or None."""
        previous = [storage[slot] for slot in thunk.outputs]
        if all(value is None for value in previous):
            return None
        return [None if getattr(v, "block", None) is None or id(v.block) in self._escaped else v
                for v in previous]

    def __call__(self, input_values):
        storage = self.storage if self.storage is not None else list(self.template)
        for index, value in zip(self.input_slots, input_values):
            storage[index] = value
        records = self.records = [] if self.profile else None
        for thunk, freed in self._steps:
            previous = self._previous(storage, thunk) if thunk.reuses else None
            if records is None:
                thunk(storage, previous)
            else:
                start = time.perf_counter()
                with recording() as events:
                    thunk(storage, previous)
                records.append((thunk.node, time.perf_counter() - start, events))
            for index in freed:
                storage[index] = None
        results = [storage[i] for i in self.output_slots]
        if self.storage is not None:
            self._escaped = _block_ids(r for k, r in enumerate(results) if k not in self.borrowed)
        return results

    def timings(self):
        """(node, host seconds, device seconds) of every node of the last call, device
        seconds summed over its commands (waits for them; None where a queue does not
        time commands)."""
        timed = []
        for node, host, events in self.records:
            seconds = [event.seconds() for event in events]
            timed.append((node, host, None if None in seconds else sum(seconds)))
        return timed
