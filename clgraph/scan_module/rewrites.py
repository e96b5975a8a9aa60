"""Rewrites that take work out of a loop.

``scan_drop_unused_outputs``: an output that is not fed back and that nothing reads is
not computed (a gradient loop's gradients for inputs nobody asked about).

``scan_push_out_products`` (Theano's PushOutSeqScan, for products): a step's
``dot(x_t, U)`` of a sequence entry and a non-sequence becomes one product of the whole
sequence before the loop, ``dot(x, U)``, whose entries the loop then reads as a
sequence. One large GEMM runs far faster than a small one per step, and each step
launches one kernel fewer.

Both drop the sequences and non-sequences the step no longer reads.
"""
from clgraph.graph.basic import clone_replace, graph_inputs, io_toposort
from clgraph.rewrite.db import register
from clgraph.tensor.math import Dot, dot

from .op import Scan


@register("scan_drop_unused_outputs", 33, "fast_run")
def drop_unused_outputs(fgraph):
    outputs = {id(v) for v in fgraph.outputs}
    for node in fgraph.toposort():
        if node not in fgraph or not isinstance(node.op, Scan):
            continue
        op = node.op
        kept = [j for j in range(op.n_outputs) if op.state_taps[j] or id(node.outputs[j]) in outputs
                or fgraph.clients(node.outputs[j])]
        if len(kept) < op.n_outputs:
            new = _rebuilt(node, [op.inner_outputs[j] for j in kept] + op.inner_outputs[op.n_outputs:], kept)
            fgraph.replace_all([(node.outputs[j], new.outputs[k]) for k, j in enumerate(kept)]
                               + list(zip(node.outputs[op.n_outputs:], new.outputs[len(kept):])), check=False)


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
    inner_seqs, inner_others = op.inner_inputs[:op.n_seqs], op.inner_inputs[op.shared_start + op.n_shared:]
    outer_seqs, outer_others = _outer_sequences(node), _outer_others(node)
    seq_at = {id(v): k for k, v in enumerate(inner_seqs)}
    other_at = {id(v): k for k, v in enumerate(inner_others)}
    products = [n for n in io_toposort(op.inner_inputs, op.inner_outputs)
                if isinstance(n.op, Dot) and id(n.inputs[0]) in seq_at and id(n.inputs[1]) in other_at
                and n.inputs[1].ndim == 2]
    if not products:
        return None
    entries = [p.outputs[0].type() for p in products]   # the step's entry of each product
    inner_outputs = clone_replace(op.inner_outputs, {p.outputs[0]: e for p, e in zip(products, entries)})
    whole = [dot(outer_seqs[seq_at[id(p.inputs[0])]], outer_others[other_at[id(p.inputs[1])]]) for p in products]
    return _rebuilt(node, inner_outputs, range(op.n_outputs), entries, whole)


def _outer_sequences(node):
    return node.inputs[1:1 + node.op.n_seqs]


def _outer_others(node):
    op = node.op
    return node.inputs[1 + op.n_seqs + op.n_initials + op.n_shared:]


def _rebuilt(node, inner_outputs, kept_outputs, new_entries=(), new_sequences=()):
    """A node of a Scan like ``node``'s with the step graph's outputs ``inner_outputs``
    (its outputs ``kept_outputs``, then its shared updates), and sequences
    ``new_sequences`` whose entries are ``new_entries``; sequences and non-sequences
    the step no longer reads are dropped."""
    op = node.op
    inner_seqs, inner_others = op.inner_inputs[:op.n_seqs], op.inner_inputs[op.shared_start + op.n_shared:]
    read = {id(v) for v in graph_inputs(inner_outputs)}
    seqs = [k for k, v in enumerate(inner_seqs) if id(v) in read]
    others = [k for k, v in enumerate(inner_others) if id(v) in read]
    states_and_shared = op.inner_inputs[op.n_seqs:op.shared_start + op.n_shared]
    inner_inputs = ([inner_seqs[k] for k in seqs] + list(new_entries) + states_and_shared
                    + [inner_others[k] for k in others])
    new = Scan(inner_inputs, inner_outputs, len(seqs) + len(new_entries), [op.state_taps[j] for j in kept_outputs],
               op.n_shared, op.until, op.scan_name, op.mode, op.allow_gc, op.truncate_gradient)
    new.last_only = tuple(op.last_only[j] for j in kept_outputs)
    outer_seqs, outer_others = _outer_sequences(node), _outer_others(node)
    outer_states = node.inputs[1 + op.n_seqs:1 + op.n_seqs + op.n_initials + op.n_shared]
    return new.make_node(node.inputs[0], *[outer_seqs[k] for k in seqs], *new_sequences, *outer_states,
                         *[outer_others[k] for k in others])
