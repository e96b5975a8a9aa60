"""The inplace rewrite: a device op writes its output over an input buffer nobody else
needs, sparing an allocation and the memory of one intermediate.

An input may be destroyed when it is computed in the graph by an op that gives it a
buffer of its own (``fresh_outputs``: not a view of something else), is not an output
of the function, and has no other client. A shared variable's storage may be destroyed
by the node that computes its update (``fgraph.update_targets``: input position ->
output position), when it is no output and every other node reading it runs before:
an ancestor of that node, or a node that depends on no update value (the function
runs the nodes that overwrite shared storage, and what depends on them, after all
others). Its old value is then needed by nobody (Theano's Gemv{inplace} on w). Arguments and constants are never destroyed. Ops that can work
in place give ``inplace_candidates(node)`` ((output, input) pairs) and
``with_inplace(pairs)``.
"""
from clgraph.graph.basic import ancestors
from clgraph.rewrite import register


def _destroyable(fgraph, node, out, position, outputs):
    var = node.inputs[position]
    owner = var.owner
    if owner is None:
        return _updated_in_place(fgraph, node, out, var, outputs)
    return (getattr(owner.op, "fresh_outputs", False) and id(var) not in outputs
            and len(fgraph.clients(var)) == 1)


def _updated_in_place(fgraph, node, out, var, outputs):
    """Whether ``var``, a graph input, is shared storage whose update is ``node``'s
    output ``out``, read elsewhere only by nodes that run before ``node``."""
    targets = getattr(fgraph, "update_targets", {})
    index = next((i for i, v in enumerate(fgraph.inputs) if v is var), None)
    if index not in targets or fgraph.outputs[targets[index]] is not node.outputs[out] or id(var) in outputs:
        return False
    before = {id(v.owner) for v in ancestors(node.inputs) if v.owner is not None}
    updates = {id(fgraph.outputs[k]) for k in targets.values()}
    others = [client for client, _ in fgraph.clients(var) if client is not node]
    return sum(v is var for v in node.inputs) == 1 and all(
        id(client) in before or not any(id(v) in updates for v in ancestors(client.outputs)) for client in others)


@register("inplace", 120, "fast_run", stage="device")
def destroy_inputs_in_place(fgraph):
    outputs = {id(v) for v in fgraph.outputs}
    for node in fgraph.toposort():
        candidates = getattr(node.op, "inplace_candidates", None)
        if candidates is None or getattr(node.op, "inplace", None):
            continue
        pairs = []   # each output over at most one input, each input under at most one output
        for out, position in candidates(node):
            if all(out != o and position != p for o, p in pairs) and _destroyable(
                    fgraph, node, out, position, outputs):
                pairs.append((out, position))
        if pairs:
            new = node.op.with_inplace(tuple(pairs)).make_node(*node.inputs)
            for old_var, new_var in zip(node.outputs, new.outputs):
                new_var.name = old_var.name
            fgraph.replace_all(list(zip(node.outputs, new.outputs)))
