"""FunctionGraph: a graph between given inputs and outputs, with clients and replacement.

Rewrites work on a FunctionGraph; it owns a copy of the nodes so that rewriting never
changes the graph the user built. It keeps, for every variable, the nodes that use it
(its clients), so a replacement changes only the nodes that used the old variable, in
place, and nodes nothing uses any more leave the graph.
"""
from .basic import Apply, io_toposort


def _copy_graph(inputs, outputs):
    """Fresh inputs and a copy of every node between them and ``outputs`` (same ops and
    types); constants are immutable and shared."""
    memo = {v: v.clone() for v in inputs}
    for node in io_toposort(inputs, outputs):
        copies = [out.clone() for out in node.outputs]
        Apply(node.op, [memo.get(v, v) for v in node.inputs], copies)
        memo.update(zip(node.outputs, copies))
    return [memo[v] for v in inputs], [memo.get(v, v) for v in outputs]


def _is_constant(var):
    return hasattr(var, "data")   # constants, and any variable that carries its value


class FunctionGraph:
    def __init__(self, inputs, outputs, clone=True):
        if clone:
            inputs, outputs = _copy_graph(list(inputs), list(outputs))
        self._inputs = list(inputs)
        self._outputs = list(outputs)
        self._rebuild()

    # Inputs and outputs may be reassigned; the bookkeeping follows. (Reassigning one
    # and then the other passes through a mismatched state, so only __init__ checks.)
    @property
    def inputs(self):
        return self._inputs

    @inputs.setter
    def inputs(self, inputs):
        self._inputs = list(inputs)
        self._rebuild(check=False)

    @property
    def outputs(self):
        return self._outputs

    @outputs.setter
    def outputs(self, outputs):
        self._outputs = list(outputs)
        self._rebuild(check=False)

    def _rebuild(self, check=True):
        self._nodes = set()
        self._clients = {}   # variable -> [(node, input index)], in topological order
        order = io_toposort(self._inputs, self._outputs)
        self._import(order)
        if not check:
            return
        inputs = set(self._inputs)
        missing = []
        for var in [v for node in order for v in node.inputs] + self._outputs:
            if var.owner is None and var not in inputs and not _is_constant(var) and var not in missing:
                missing.append(var)
        if missing:
            raise ValueError(f"the outputs depend on {', '.join(map(str, missing))}, which "
                             "is not among the inputs")

    def _import(self, nodes):
        """Add ``nodes`` (in topological order) and register them as clients."""
        for node in nodes:
            self._nodes.add(node)
            for index, var in enumerate(node.inputs):
                self._clients.setdefault(var, []).append((node, index))

    def _new_part(self, var):
        """The nodes below ``var`` not yet in the graph (in topological order), and the
        variables without owner they need that are neither inputs nor constants."""
        inputs = set(self._inputs)
        order, free, seen = [], [], set()
        stack = [(var, False)]
        while stack:
            v, expanded = stack.pop()
            node = v.owner
            if expanded:
                order.append(node)
                continue
            if v in seen or v in inputs:
                continue
            seen.add(v)
            if node is None:
                if not _is_constant(v):
                    free.append(v)
            elif node not in self._nodes and node not in seen:
                seen.add(node)
                stack.append((v, True))
                stack.extend((inp, False) for inp in reversed(node.inputs))
        return order, free

    # queries -----------------------------------------------------------------------------
    def toposort(self):
        return io_toposort(self._inputs, self._outputs)

    @property
    def apply_nodes(self):
        return set(self._nodes)

    def __contains__(self, node):
        """Whether the Apply node ``node`` is (still) part of the graph."""
        return node in self._nodes

    def clients(self, var):
        """(node, input index) pairs that use ``var``; ('output', i) for graph outputs."""
        uses = list(self._clients.get(var, ()))
        return uses + [("output", i) for i, out in enumerate(self._outputs) if out is var]

    # replacement ---------------------------------------------------------------------------
    def replace(self, old, new, check=True):
        """Use ``new`` wherever ``old`` was used.

        ``check=False`` skips the search for a cycle (``new`` computed from ``old``); a
        rewrite that builds ``new`` from what ``old`` was computed from may skip it.
        """
        self.replace_all([(old, new)], check)

    def replace_all(self, pairs, check=True):
        """Several replacements, in order; types are checked before any is made."""
        pairs = [(old, new) for old, new in pairs if old is not new]
        for old, new in pairs:
            if old.type != new.type:
                raise TypeError(f"cannot replace {old} of type {old.type} by {new} of type {new.type}")
        for old, new in pairs:
            self._replace(old, new, check)

    def _replace(self, old, new, check):
        fresh, free = self._new_part(new)
        if free:
            raise ValueError(f"the replacement {new} depends on {', '.join(map(str, free))}, which "
                             "is not among the graph's inputs")
        uses = self._clients.pop(old, [])
        if check and self._computed_by(new, {node for node, _ in uses}):
            self._clients[old] = uses
            raise ValueError(f"replacing {old} by {new} would make a cycle: {new} is computed from {old}")
        for node, index in uses:
            node.inputs[index] = new
        self._outputs = [new if out is old else out for out in self._outputs]
        self._import(fresh)
        self._clients.setdefault(new, []).extend(uses)
        if old.owner is not None:
            self._prune(old.owner)

    def _computed_by(self, var, nodes):
        """Whether ``var`` is computed (directly or not) by one of ``nodes``."""
        inputs = set(self._inputs)
        seen, stack = set(), [var]
        while stack:
            v = stack.pop()
            if v in seen or v in inputs or v.owner is None:
                continue
            if v.owner in nodes:
                return True
            seen.add(v)
            stack.extend(v.owner.inputs)
        return False

    def _prune(self, node):
        """Remove ``node`` if nothing uses its outputs, and then its unused inputs' owners."""
        outputs = set(self._outputs)
        stack = [node]
        while stack:
            node = stack.pop()
            if node not in self._nodes or any(self._clients.get(o) or o in outputs for o in node.outputs):
                continue
            self._nodes.discard(node)
            for index, var in enumerate(node.inputs):
                uses = self._clients.get(var, [])
                uses.remove((node, index))
                if not uses:
                    self._clients.pop(var, None)
                    if var.owner is not None:
                        stack.append(var.owner)

    def clone(self):
        return FunctionGraph(self.inputs, self.outputs, clone=True)

    def __str__(self):
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"
