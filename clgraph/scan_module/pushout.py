"""The ``scan_push_out_products`` rewrite (Theano's PushOutSeqScan, for products): a
step's ``dot(x_t, U)`` of a sequence entry and a non-sequence becomes one product of the
whole sequence before the loop, ``dot(x, U)``, whose entries the loop then reads as a
sequence. One large GEMM runs far faster than a small one per step, and each step
launches one kernel fewer. Sequences and non-sequences the step no longer reads are
dropped from the loop."""
from clgraph.graph.basic import clone_replace, graph_inputs, io_toposort
from clgraph.rewrite.db import register
from clgraph.tensor.math import Dot, dot

from .op import Scan


@register("scan_push_out_products", 34, "fast_run")
def push_out_products(fgraph):
    for node in fgraph.toposort():
        if node in fgraph and isinstance(node.op, Scan):
            pushed = _pushed_out(node)
            if pushed is not None:
                fgraph.replace_all(list(zip(node.outputs, pushed.outputs)), check=False)


def _pushed_out(node):
    """A node of a Scan equal to ``node`` whose step reads its products of a sequence
    entry and a non-sequence as sequences computed before the loop; None if it has none."""
    op = node.op
    n_states = op.n_initials
    inner_seqs, inner_others = op.inner_inputs[:op.n_seqs], op.inner_inputs[op.shared_start + op.n_shared:]
    outer_seqs = node.inputs[1:1 + op.n_seqs]
    outer_others = node.inputs[1 + op.n_seqs + n_states + op.n_shared:]
    seq_at = {id(v): k for k, v in enumerate(inner_seqs)}
    other_at = {id(v): k for k, v in enumerate(inner_others)}
    products = [n for n in io_toposort(op.inner_inputs, op.inner_outputs)
                if isinstance(n.op, Dot) and id(n.inputs[0]) in seq_at and id(n.inputs[1]) in other_at
                and n.inputs[1].ndim == 2]
    if not products:
        return None
    entries = [p.outputs[0].type() for p in products]   # the step's entry of each product
    inner_outputs = clone_replace(op.inner_outputs, {p.outputs[0]: e for p, e in zip(products, entries)})
    read = {id(v) for v in graph_inputs(inner_outputs)}
    kept_seqs = [k for k, v in enumerate(inner_seqs) if id(v) in read]
    kept_others = [k for k, v in enumerate(inner_others) if id(v) in read]
    state_and_shared = op.inner_inputs[op.n_seqs:op.shared_start + op.n_shared]
    inner_inputs = ([inner_seqs[k] for k in kept_seqs] + entries + state_and_shared
                    + [inner_others[k] for k in kept_others])
    new = Scan(inner_inputs, inner_outputs, len(kept_seqs) + len(entries), op.state_taps, op.n_shared,
               op.until, op.scan_name, op.mode, op.allow_gc, op.truncate_gradient)
    new.last_only = op.last_only
    whole = [dot(outer_seqs[seq_at[id(p.inputs[0])]], outer_others[other_at[id(p.inputs[1])]]) for p in products]
    outer_states = node.inputs[1 + op.n_seqs:1 + op.n_seqs + n_states + op.n_shared]
    return new.make_node(node.inputs[0], *[outer_seqs[k] for k in kept_seqs], *whole, *outer_states,
                         *[outer_others[k] for k in kept_others])
