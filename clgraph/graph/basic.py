"""Variables, constants and Apply nodes, and the traversals every pass uses.

A Variable is a value in a graph: an input (no owner), a constant, or output ``index``
of the Apply node ``owner``. An Apply node is one use of an Op on input variables.
"""
from types import SimpleNamespace


class Variable:
    """A symbolic value of a given Type."""

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = SimpleNamespace()

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            suffix = f".{self.index}"
            return f"{self.owner.op}{suffix}"
        return f"<{self.type}>"

    __repr__ = __str__

    def clone(self):
        """A new input variable of the same type and name (no owner)."""
        copy = type(self)(self.type, None, None, self.name)
        copy.tag = SimpleNamespace(**vars(self.tag))
        return copy

    def eval(self, inputs_to_values=None):
        """The value of this variable given values of the graph's inputs (a dict)."""
        from .evaluate import evaluate

        return evaluate([self], inputs_to_values or {})[0]


class Constant(Variable):
    """A variable whose value is fixed when the graph is built."""

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = data

    def signature(self):
        """What makes two constants interchangeable (used to merge duplicates)."""
        return (self.type, self.data)

    def clone(self):
        return type(self)(self.type, self.data, self.name)


class Apply:
    """One application of ``op`` to ``inputs``, producing ``outputs``."""

    def __init__(self, op, inputs, outputs):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        for index, output in enumerate(self.outputs):
            output.owner, output.index = self, index

    @property
    def out(self):
        """The only output of a single-output node."""
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def __str__(self):
        return f"{self.op}({', '.join(map(str, self.inputs))})"

    __repr__ = __str__

    def clone_with_new_inputs(self, inputs):
        """The same op applied to ``inputs`` (rebuilt through make_node, so types follow)."""
        return self.op.make_node(*inputs)


def ancestors(outputs, blockers=()):
    """Every variable the ``outputs`` depend on, outputs included (depth first)."""
    seen, order, stack = set(), [], list(reversed(outputs))
    blocked = set(map(id, blockers))
    while stack:
        var = stack.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        order.append(var)
        if var.owner is not None and id(var) not in blocked:
            stack.extend(reversed(var.owner.inputs))
    return order


def graph_inputs(outputs, blockers=()):
    """The variables without owner (inputs and constants) the outputs depend on."""
    blocked = set(map(id, blockers))
    return [v for v in ancestors(outputs, blockers) if v.owner is None or id(v) in blocked]


def io_toposort(inputs, outputs):
    """Apply nodes between ``inputs`` and ``outputs``, each after the nodes it needs."""
    done = set(map(id, inputs))
    order, visiting = [], set()
    for output in outputs:
        stack = [(output, False)]
        while stack:
            var, expanded = stack.pop()
            node = var.owner
            if node is None or id(var) in done or id(node) in done:
                continue
            if expanded:
                visiting.discard(id(node))
                done.add(id(node))
                order.append(node)
                continue
            if id(node) in visiting:
                continue
            visiting.add(id(node))
            stack.append((var, True))
            stack.extend((inp, False) for inp in reversed(node.inputs))
    return order


def clone_replace(outputs, replace=None):
    """Copies of ``outputs`` with ``replace`` (old variable -> new) applied below them."""
    memo = {id(old): new for old, new in (replace or {}).items()}
    for node in io_toposort(list((replace or {}).keys()), outputs):
        new_inputs = [memo.get(id(v), v) for v in node.inputs]
        if any(new is not old for new, old in zip(new_inputs, node.inputs)):
            new_node = node.clone_with_new_inputs(new_inputs)
            for old, new in zip(node.outputs, new_node.outputs):
                new.name = old.name
                memo[id(old)] = new
    return [memo.get(id(v), v) for v in outputs]
