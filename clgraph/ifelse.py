"""Lazy conditionals (Theano's ``clgraph.ifelse.ifelse``): of two branches, only the one
the scalar condition chooses is computed. ``T.switch`` is elementwise and computes both.

An IfElse node holds each branch as a graph of its own (its inputs -> the branch's
values). As ``ifelse`` builds it, a branch graph only passes its inputs through: they
are the branch values, computed before the node like any op's inputs. When a function
is compiled, the ``lazy_ifelse`` rewrite moves into a branch every node computed only
for that branch, so the node computes them only when the condition chooses it. Each
branch graph is compiled once, for the host or for the node's device context (as scan
compiles its step), and the condition is read on the host.
"""
import numpy as np

from clgraph.graph.basic import Apply, Constant, clone_replace, io_toposort
from clgraph.graph.op import InnerGraphOp
from clgraph.rewrite.db import register
from clgraph.tensor.basic import as_tensor_variable
from clgraph.tensor.type import TensorType

THEN, ELSE = 0, 1


class IfElse(InnerGraphOp):
    """``outputs = then_graph(then inputs) if condition else else_graph(else inputs)``.

    ``branches``: for each branch, (inner inputs, inner outputs), one inner output per
    output of the node. Node inputs: the condition, then the outer values of the then
    branch's inner inputs, then the else branch's. Two IfElse ops are equal only when
    they are the same object (each has its own branch graphs)."""

    def __init__(self, branches, name=None):
        self.branches = [(list(inputs), list(outputs)) for inputs, outputs in branches]
        self.name_ = name or "ifelse"
        then_outputs, else_outputs = (outputs for _, outputs in self.branches)
        self.output_types = [_joined_type(self, k, a.type, b.type)
                             for k, (a, b) in enumerate(zip(then_outputs, else_outputs))]
        self._compiled = {}   # (branch, context name or None for the host) -> compiled graph

    def __str__(self):
        return f"IfElse{{{self.name_}}}"

    @property
    def n_then(self):
        return len(self.branches[THEN][0])

    def make_node(self, condition, *inputs):
        condition = as_tensor_variable(condition)
        if condition.ndim != 0:
            raise TypeError(f"{self}: the condition must be a scalar, got {condition} with {condition.ndim} "
                            "dimensions (T.switch chooses element by element)")
        expected = [v.type for inner, _ in self.branches for v in inner]
        if len(inputs) != len(expected):
            raise TypeError(f"{self} takes {len(expected) + 1} inputs, got {len(inputs) + 1}")
        inputs = [as_tensor_variable(v) for v in inputs]
        for k, (var, want) in enumerate(zip(inputs, expected)):
            if (var.type.dtype, var.ndim) != (want.dtype, want.ndim):
                raise TypeError(f"{self}: input {k + 1} must be of type {want}, got {var} of type {var.type}")
        return Apply(self, [condition, *inputs], [t() for t in self.output_types])

    def branch_inputs(self, node, branch):
        start = 1 if branch == THEN else 1 + self.n_then
        return node.inputs[start:start + len(self.branches[branch][0])]

    def chosen(self, inputs):
        """(branch, its input values) for the node's input values."""
        branch = THEN if bool(np.asarray(inputs[0])) else ELSE
        start = 1 if branch == THEN else 1 + self.n_then
        return branch, inputs[start:start + len(self.branches[branch][0])]

    def compiled(self, branch, context=None):
        """The branch graph compiled for the host (None) or device ``context``, once."""
        from clgraph.compile.function import compile_graph

        key = (branch, context)
        if key not in self._compiled:
            inner_inputs, inner_outputs = self.branches[branch]
            outputs = None if context is None else [context] * len(inner_outputs)
            self._compiled[key] = compile_graph(inner_inputs, inner_outputs, None, True, context, outputs)
        return self._compiled[key]

    def perform(self, node, inputs):
        branch, values = self.chosen(inputs)
        results = self.compiled(branch)(values)
        return [np.asarray(r, dtype=t.dtype) for r, t in zip(results, self.output_types)]

    def infer_shape(self, node, input_shapes):
        raise NotImplementedError(f"{self}: the shapes depend on the branch the condition chooses")

    def L_op(self, inputs, outputs, output_grads):
        """Each branch input gets the output gradients when its branch is chosen, zeros
        otherwise (through the branch graph; as ``ifelse`` builds it, the identity)."""
        from clgraph.gradient import Lop
        from clgraph.tensor.shape_ops import zeros_like

        condition = inputs[0]
        grads = [None]
        for branch in (THEN, ELSE):
            inner_inputs, inner_outputs = self.branches[branch]
            outer = self.branch_inputs(outputs[0].owner, branch)
            expressions = clone_replace(inner_outputs, dict(zip(inner_inputs, outer)))
            pulled = Lop(expressions, list(outer), list(output_grads), disconnected_inputs="ignore")
            for var, g in zip(outer, pulled):
                zero = zeros_like(var)
                chosen = (g, zero) if branch == THEN else (zero, g)
                grads.append(ifelse(condition, *chosen))
        return grads


def _joined_type(op, k, a, b):
    if (a.dtype, a.ndim) != (b.dtype, b.ndim):
        raise TypeError(f"{op}: output {k} of the then branch is of type {a} but that of the else branch "
                        f"is of type {b}; both branches must give the same dtype and number of dimensions")
    return TensorType(a.dtype, tuple(x if x == y else None for x, y in zip(a.shape, b.shape)))


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` if the scalar ``condition`` is true, else ``else_branch``; each a
    variable or a list of them (the same number), computing only the chosen one."""
    single = not isinstance(then_branch, (list, tuple))
    then_values = [as_tensor_variable(v) for v in ([then_branch] if single else then_branch)]
    else_values = [as_tensor_variable(v) for v in ([else_branch] if single else else_branch)]
    if len(then_values) != len(else_values):
        raise ValueError(f"ifelse: the then branch has {len(then_values)} outputs but the else branch has "
                         f"{len(else_values)}")
    branches = []
    for values in (then_values, else_values):
        stand_ins = [v.type() for v in values]
        branches.append((stand_ins, stand_ins))
    outputs = IfElse(branches, name)(condition, *then_values, *else_values)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return outputs[0] if single else outputs


# -- the rewrite that makes branches lazy ------------------------------------------------------

@register("lazy_ifelse", 38, "fast_run", "fast_compile")
def lazy_ifelse(fgraph):
    """Move into each IfElse branch the nodes computed only for that branch."""
    for node in fgraph.toposort():
        if node in fgraph and isinstance(node.op, IfElse):
            _absorb(fgraph, node)


def _absorb(fgraph, node):
    op = node.op
    outputs = {id(v) for v in fgraph.outputs}
    branches, outer_inputs = [], []
    for branch in (THEN, ELSE):
        inner_inputs, inner_outputs = op.branches[branch]
        outer = op.branch_inputs(node, branch)
        region = _region(fgraph, node, outer, outputs)
        # the branch's values in terms of the graph, then cut at what the region reads
        expressions = clone_replace(inner_outputs, dict(zip(inner_inputs, outer)))
        made = {id(v) for n in region for v in n.outputs}
        leaves = []
        for var in [v for n in io_toposort([], expressions) if n in region for v in n.inputs] + list(outer):
            if id(var) not in made and not isinstance(var, Constant) and all(var is not v for v in leaves):
                leaves.append(var)
        stand_ins = [v.type() for v in leaves]
        branches.append((stand_ins, clone_replace(expressions, dict(zip(leaves, stand_ins)))))
        outer_inputs.append(leaves)
    if [len(b[0]) for b in branches] == [len(b[0]) for b in op.branches] and all(
            a is b for a, b in zip(outer_inputs[THEN] + outer_inputs[ELSE], node.inputs[1:])):
        return   # nothing moved
    new = IfElse(branches, op.name_).make_node(node.inputs[0], *outer_inputs[THEN], *outer_inputs[ELSE])
    fgraph.replace_all(list(zip(node.outputs, new.outputs)), check=False)


def _region(fgraph, node, outer, outputs):
    """The nodes whose every use is by this branch of ``node`` or by nodes of the region:
    grown from the branch's inputs towards the graph's inputs. In reverse topological
    order every client of a node is decided before the node."""
    other = {id(v) for v in node.inputs} - {id(v) for v in outer}
    region = set()
    for candidate in reversed(io_toposort([], list(outer))):
        if any(id(v) in outputs or id(v) in other for v in candidate.outputs):
            continue
        uses = [client for v in candidate.outputs for client, _ in fgraph.clients(v)]
        if uses and all(client in region or (client is node and _only_in(node, candidate, outer))
                        for client in uses):
            region.add(candidate)
    return region


def _only_in(node, candidate, outer):
    """Whether ``node`` reads ``candidate``'s outputs only among ``outer``."""
    ids = {id(v) for v in outer}
    return all(id(v) in ids for v in node.inputs if v.owner is candidate) and any(
        v.owner is candidate for v in outer)


__all__ = ["IfElse", "ifelse"]
