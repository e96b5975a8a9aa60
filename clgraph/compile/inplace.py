"""The inplace rewrite: a device op writes its output over an input buffer nobody else
needs, sparing an allocation and the memory of one intermediate.

An input may be destroyed when it is computed in the graph by an op that gives it a
buffer of its own (``fresh_outputs``: not a view of something else), is not an output
of the function, and has no other client. Graph inputs (arguments, shared variables'
storage) and constants are never destroyed. Ops that can work in place give
``inplace_candidates(node)`` ((output, input) pairs) and ``with_inplace(pairs)``.
"""
from clgraph.rewrite import register


def _destroyable(fgraph, var, outputs):
    owner = var.owner
    return (owner is not None and getattr(owner.op, "fresh_outputs", False) and id(var) not in outputs
            and len(fgraph.clients(var)) == 1)


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
                    fgraph, node.inputs[position], outputs):
                pairs.append((out, position))
        if pairs:
            new = node.op.with_inplace(tuple(pairs)).make_node(*node.inputs)
            for old_var, new_var in zip(node.outputs, new.outputs):
                new_var.name = old_var.name
            fgraph.replace_all(list(zip(node.outputs, new.outputs)))
