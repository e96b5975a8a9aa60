"""Local rewrites: functions ``node -> replacement variable or None`` for a node of one
output.

A replacement is taken only when its type is exactly that of the output it replaces, so
the nodes using it stay valid. The same rewrites serve two ways: in place on a
FunctionGraph being compiled (``apply_to_graph``), and on an expression, rebuilding the
nodes that change and leaving the caller's graph as it was (``apply_to_expressions``;
gradient.grad differentiates a stabilized copy of the cost that way).
"""
from clgraph.graph.basic import ancestors, io_toposort

MAX_SWEEPS = 100   # each sweep removes or simplifies nodes, so few are needed


def _rewritten(node, rewrites):
    """The first replacement a rewrite gives for ``node``'s output; None if none does."""
    if len(node.outputs) != 1:
        return None
    for rewrite in rewrites:
        result = rewrite(node)
        if result is not None and result is not node.outputs[0] and result.type == node.outputs[0].type:
            return result
    return None


def apply_to_graph(fgraph, rewrites):
    """Apply ``rewrites`` to the nodes of ``fgraph`` until none applies."""
    for _ in range(MAX_SWEEPS):
        changed = False
        for node in fgraph.toposort():
            if node not in fgraph:
                continue
            result = _rewritten(node, rewrites)
            if result is not None:
                fgraph.replace(node.outputs[0], result, check=False)
                changed = True
        if not changed:
            return


def apply_to_expressions(outputs, rewrites, keep=()):
    """``outputs`` computed by rewritten graphs: nodes are rebuilt where an input or the
    node itself changes; the graph of ``outputs`` is not modified. The variables of
    ``keep`` stay in the result's graph as themselves: their nodes are not rebuilt, and
    a rewrite that would compute past one of them is not taken (grad differentiates
    with respect to them)."""
    kept = {id(v) for v in keep}
    new = {}   # id of an original variable -> the variable standing for it
    reaching = {}   # id of an original variable -> the ids of the kept variables it is computed from
    for node in io_toposort([], outputs):
        originals = node.outputs
        reached = frozenset().union(*(reaching.get(id(v), {id(v)} & kept) for v in node.inputs)) if kept else ()
        reaching.update((id(v), reached | ({id(v)} & kept)) for v in originals)
        if any(id(v) in kept for v in originals):
            continue
        inputs = [new.get(id(v), v) for v in node.inputs]
        if any(a is not b for a, b in zip(inputs, node.inputs)):
            rebuilt = node.clone_with_new_inputs(inputs)
            if [o.type for o in rebuilt.outputs] != [o.type for o in originals]:
                continue   # a type changed: keep the original node and what depends on it
            for old, var in zip(originals, rebuilt.outputs):
                var.name = old.name
            new.update((id(old), var) for old, var in zip(originals, rebuilt.outputs))
            node = rebuilt
        for _ in range(MAX_SWEEPS):
            result = _rewritten(node, rewrites)
            if result is None or (reached and not reached <= {id(v) for v in ancestors([result])}):
                break
            new[id(originals[0])] = result
            if result.owner is None:
                break
            node = result.owner
    return [new.get(id(v), v) for v in outputs]
