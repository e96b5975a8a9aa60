"""Rewrites that take work out of a loop.

``scan_drop_unused_outputs``: an output that is not fed back and that nothing reads is
not computed (a gradient loop's gradients for inputs nobody asked about).

``scan_push_out_invariants`` (Theano's PushOutNonSeqScan): what the step computes from
non-sequences and constants alone (a bias broadcast to rows, a transposed weight) is
computed once before the loop and read as a non-sequence.

``scan_push_out_products`` (Theano's PushOutSeqScan, for products): a step's
``dot(x_t, U)`` of a sequence entry and a non-sequence becomes one product of the whole
sequence before the loop, ``dot(x, U)``, whose entries the loop then reads as a
sequence. One large GEMM runs far faster than a small one per step, and each step
launches one kernel fewer.

``scan_push_out_sums``: a fed-back output that sums products of a sequence entry and a
step value over the steps, read only at its end, becomes one product after the loop.

``scan_carry_product_operands``: a fed-back output o_t = dot(X_t, B) (B a non-sequence,
o starting at zeros) is carried as X instead: the step reads o_{t-1} as dot(X_{t-1}, B),
which then starts the step (a gradient loop's o_t = dot(delta_t, W.T) becomes
delta_t = f(dot(delta_{t-1}, W.T), ...), a GEMM with an epilogue that runs whole loops,
scan_module.whole_loop), and the steps' o_t are products of the X_t after the loop.

They drop the sequences and non-sequences the step no longer reads.
"""

from clgraph.graph.basic import Constant, clone_replace, graph_inputs, io_toposort
from clgraph.rewrite.basic import _is_filled_with, _scalar_name
from clgraph.rewrite.db import register
from clgraph.tensor.elemwise import DimShuffle, beneath_dimshuffles
from clgraph.tensor.join import Join
from clgraph.tensor.math import Dot, dot
from clgraph.tensor.shape_ops import Alloc, get_scalar_constant_value
from clgraph.tensor.subtensor import Subtensor

from .memory import last_step_read
from .op import Scan, scan_nodes


@register("scan_drop_unused_outputs", 33, "fast_run")
def drop_unused_outputs(fgraph):
    for node in scan_nodes(fgraph):
        op = node.op
        kept = [j for j in range(op.n_outputs) if op.state_taps[j] or fgraph.clients(node.outputs[j])]
        if len(kept) < op.n_outputs:
            new = _rebuilt(node, [op.inner_outputs[j] for j in kept] + op.inner_outputs[op.n_outputs:], kept)
            fgraph.replace_all([(node.outputs[j], new.outputs[k]) for k, j in enumerate(kept)]
                               + list(zip(node.outputs[op.n_outputs:], new.outputs[len(kept):])), check=False)


def _each_loop_rebuilt(rebuild):
    """A pass putting ``rebuild(node)`` in place of each Scan node where it gives one."""
    def rewrite(fgraph):
        for node in scan_nodes(fgraph):
            new = rebuild(node)
            if new is not None:
                fgraph.replace_all(list(zip(node.outputs, new.outputs)), check=False)
    return rewrite


def _invariants_pushed_out(node):
    """A node of a Scan equal to ``node`` whose step reads what it computed from
    non-sequences and constants alone as new non-sequences computed before the loop;
    None if it computes nothing so."""
    op = node.op
    inner_others = op.inner_parts()[3]
    outer_others = op.outer_parts(node.inputs)[3]
    step = io_toposort(op.inner_inputs, op.inner_outputs)
    invariant = {id(v) for v in inner_others}
    fixed = set()   # what constants alone give: left in the step, where kernels inline constants
    computed = []   # the invariant nodes' outputs, in order
    for n in step:
        if not all(id(x) in invariant or id(x) in fixed or isinstance(x, Constant) for x in n.inputs):
            continue
        if any(id(x) in invariant for x in n.inputs):
            invariant.update(id(v) for v in n.outputs)
            computed += n.outputs
        else:
            fixed.update(id(v) for v in n.outputs)
    # those read by the rest of the step (or given out by it) become non-sequences
    read = {id(x) for n in step if not all(id(v) in invariant or id(v) in fixed for v in n.outputs)
            for x in n.inputs}
    read |= {id(v) for v in op.inner_outputs}
    frontier = [v for v in computed if id(v) in read]
    if not frontier:
        return None
    entries = [v.type() for v in frontier]
    inner_outputs = clone_replace(op.inner_outputs, dict(zip(frontier, entries)))
    values = clone_replace(frontier, dict(zip(inner_others, outer_others)))
    return _rebuilt(node, inner_outputs, range(op.n_outputs), new_others=(entries, values))


def _pushed_out(node):
    """A node of a Scan equal to ``node`` whose step reads its products of a sequence
    entry and a non-sequence as sequences computed before the loop; None if it has none."""
    op = node.op
    inner_seqs, _, _, inner_others = op.inner_parts()
    outer_seqs, _, _, outer_others = op.outer_parts(node.inputs)
    seq_at = {id(v): k for k, v in enumerate(inner_seqs)}
    other_at = {id(v): k for k, v in enumerate(inner_others)}
    products = [n for n in io_toposort(op.inner_inputs, op.inner_outputs)
                if isinstance(n.op, Dot) and id(n.inputs[0]) in seq_at and id(n.inputs[1]) in other_at
                and n.inputs[1].ndim == 2]
    if not products:
        return None
    entries = [p.outputs[0].type() for p in products]   # the step's entry of each product
    inner_outputs = clone_replace(op.inner_outputs, {p.outputs[0]: e for p, e in zip(products, entries)})
    n = node.inputs[0]   # the entries the loop reads: a sequence may be longer
    whole = [dot(outer_seqs[seq_at[id(p.inputs[0])]][:n], outer_others[other_at[id(p.inputs[1])]]) for p in products]
    return _rebuilt(node, inner_outputs, range(op.n_outputs), entries, whole)


push_out_invariants = register("scan_push_out_invariants", 33.5, "fast_run")(_each_loop_rebuilt(_invariants_pushed_out))
push_out_products = register("scan_push_out_products", 34, "fast_run")(_each_loop_rebuilt(_pushed_out))


@register("scan_carry_product_operands", 34.7, "fast_run")
def carry_product_operands(fgraph):
    for node in scan_nodes(fgraph):
        for _ in range(node.op.n_outputs):   # each output once at most
            if node is None or node.op.until or node.op.n_shared:
                break
            node = _operand_carried(fgraph, node)


def _operand_carried(fgraph, node):
    """Carry the first output of ``node`` that scan_carry_product_operands can; the new
    Scan node, or None if there is none."""
    import clgraph.tensor as T

    op = node.op
    _, initials, _, outer_others = op.outer_parts(node.inputs)
    other_at = {id(v): k for k, v in enumerate(op.inner_parts()[3])}
    fed = [j for j, taps in enumerate(op.state_taps) if taps]
    for initial_at, j in enumerate(fed):
        wraps, product = _unwrapped(op.inner_outputs[j])
        if (op.state_taps[j] != (-1,) or op.last_only[j] or product.owner is None
                or not isinstance(product.owner.op, Dot) or not _is_zeros(initials[initial_at])):
            continue
        x, b = product.owner.inputs
        if (x.ndim != 2 or b.ndim != 2 or id(b) not in other_at or x.dtype != product.dtype
                or (x.owner is not None and isinstance(x.owner.op, Dot))):   # a product of products: no gain
            continue
        b_outer = outer_others[other_at[id(b)]]
        prev, prev_x = op.inner_inputs[op.first_tap[j]], x.type()
        *inner_outputs, new_x = clone_replace(op.inner_outputs + [x], {prev: _wrapped(wraps, dot(prev_x, b))})
        inner_outputs[j] = new_x
        # outputs that are X already: the carried X serves them
        twins = [k for k in range(op.n_outputs) if not op.state_taps[k] and op.inner_outputs[k] is x]
        kept = [k for k in range(op.n_outputs) if k not in twins]
        rows = initials[initial_at].shape[1 + _product_axis(wraps)]   # o_0 is zeros of dot(X_0, B)'s shape
        start = T.zeros((rows, x.type.shape[1] or b_outer.shape[0]), dtype=x.dtype)
        new = _rebuilt(node, [inner_outputs[k] for k in kept] + inner_outputs[op.n_outputs:], kept,
                       carried=(j, prev_x, start[None]))
        xs = new.outputs[kept.index(j)]
        pairs = [(node.outputs[k], new.outputs[at]) for at, k in enumerate(kept) if k != j]
        pairs += [(node.outputs[k], _as_type(xs, node.outputs[k].type)) for k in twins]
        pairs += list(zip(node.outputs[op.n_outputs:], new.outputs[len(kept):]))
        # the steps' o_t, as products of the X_t: the last one only where only it is read
        out = node.outputs[j]
        reads = [last_step_read(client, out) for client, _ in fgraph.clients(out)]
        if reads and all(reads):
            for (client, _), read in zip(fgraph.clients(out), reads):
                value = (_wrapped(wraps, dot(xs[-1], b_outer)) if read == "item"
                         else _wrapped(wraps, T.tensordot(xs[-1:], b_outer, axes=[[2], [0]]), lead=1))
                pairs.append((client.outputs[0], _as_type(value, client.outputs[0].type)))
        elif reads:
            pairs.append((out, _as_type(_wrapped(wraps, T.tensordot(xs, b_outer, axes=[[2], [0]]), lead=1),
                                        out.type)))
        if any(value is None for _, value in pairs):
            return None
        fgraph.replace_all(pairs, check=False)
        return new
    return None


def _unwrapped(var):
    """(the DimShuffles that only insert axes around ``var``'s value, outermost first;
    what they wrap)."""
    wraps = []
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        order = var.owner.op.new_order
        if [a for a in order if a != "x"] != list(range(var.owner.op.input_ndim)):
            break
        wraps.append(var.owner.op)
        var = var.owner.inputs[0]
    return wraps, var


def _wrapped(wraps, var, lead=0):
    """``var`` in ``wraps`` (from _unwrapped), past its first ``lead`` axes."""
    for op in reversed(wraps):
        order = tuple(range(lead)) + tuple(a if a == "x" else a + lead for a in op.new_order)
        var = DimShuffle(op.input_ndim + lead, order)(var)
    return var


def _product_axis(wraps):
    """Where the wrapped value's first axis lies in what ``wraps`` make of it."""
    axis = 0
    for op in reversed(wraps):
        axis = op.new_order.index(axis)
    return axis


def _is_zeros(var):
    """Whether ``var`` is zeros by construction: a constant, a fill or an allocation of
    one (broadcast by DimShuffles or not, or a part of one)."""
    var = beneath_dimshuffles(var)
    while var.owner is not None and isinstance(var.owner.op, Subtensor):
        var = beneath_dimshuffles(var.owner.inputs[0])
    node = var.owner
    if node is not None and _scalar_name(node) == "second":
        var = node.inputs[1]
    elif node is not None and isinstance(node.op, Alloc):
        var = node.inputs[0]
    return _is_filled_with(var, 0)


def _rebuilt(node, inner_outputs, kept_outputs, new_entries=(), new_sequences=(), unfed=(), new_others=((), ()),
             carried=None):
    """A node of a Scan like ``node``'s with the step graph's outputs ``inner_outputs``
    (its outputs ``kept_outputs``, then its shared updates), sequences ``new_sequences``
    whose entries are ``new_entries``, the outputs ``unfed`` no longer fed back (no
    taps, no initial state), ``new_others``: (the step's inputs, their values) of new
    non-sequences, and ``carried``: (an output of one tap, its new tap input, its new
    initial state); sequences and non-sequences the step no longer reads are dropped."""
    op = node.op
    inner_seqs, _, shared, inner_others = op.inner_parts()
    outer_seqs, outer_initials, outer_shared, outer_others = op.outer_parts(node.inputs)
    read = {id(v) for v in graph_inputs(inner_outputs)}
    seqs = [k for k, v in enumerate(inner_seqs) if id(v) in read]
    others = [k for k, v in enumerate(inner_others) if id(v) in read]
    fed = [j for j, taps in enumerate(op.state_taps) if taps]   # the outputs of the initial states
    kept_fed = [j for j in fed if j in kept_outputs and j not in unfed]
    taps = {j: op.inner_inputs[op.first_tap[j]:op.first_tap[j] + len(op.state_taps[j])] for j in kept_fed}
    initials = {j: outer_initials[fed.index(j)] for j in kept_fed}
    if carried is not None:
        taps[carried[0]], initials[carried[0]] = [carried[1]], carried[2]
    tap_inputs = [v for j in kept_fed for v in taps[j]]
    inner_inputs = ([inner_seqs[k] for k in seqs] + list(new_entries) + tap_inputs + shared
                    + [inner_others[k] for k in others] + list(new_others[0]))
    new = Scan(inner_inputs, inner_outputs, len(seqs) + len(new_entries),
               [() if j in unfed else op.state_taps[j] for j in kept_outputs],
               op.n_shared, op.until, op.scan_name, op.mode, op.allow_gc, op.truncate_gradient)
    new.last_only = tuple(op.last_only[j] and j not in unfed for j in kept_outputs)
    return new.make_node(node.inputs[0], *[outer_seqs[k] for k in seqs], *new_sequences,
                         *[initials[j] for j in kept_fed], *outer_shared,
                         *[outer_others[k] for k in others], *new_others[1])


@register("scan_push_out_sums", 34.5, "fast_run")
def push_out_sums(fgraph):
    """A fed-back output read only through its last step whose step is
    ``acc + dot(e_t.T, g_t)`` (e_t a sequence entry; acc and the new sum read nowhere
    else in the step) is a sum over the steps: the loop gives the g_t instead, and one
    product after it sums them, ``acc_0 + tensordot(e, g, [[0, 1], [0, 1]])`` (a
    gradient loop's sums for the weights, from acc_0 = zeros: the product alone), as
    one matrix product of the steps' rows."""
    for node in scan_nodes(fgraph):
        while node is not None and not node.op.until:
            found = _sum_of_products(fgraph, node)
            if found is None:
                break
            node = _summed_after(fgraph, node, *found)
            if node is None:   # a read whose type the sum cannot take
                break


def _sum_of_products(fgraph, node):
    """(output, its initial's index, sequence index, g_t) of the first output of
    ``node`` that is a sum of products over the steps, or None."""
    op = node.op
    step = io_toposort(op.inner_inputs, op.inner_outputs)
    readers = {}
    for n in step:
        for x in n.inputs:
            readers[id(x)] = readers.get(id(x), 0) + 1
    for v in op.inner_outputs:
        readers[id(v)] = readers.get(id(v), 0) + 1
    seq_at = {id(v): k for k, v in enumerate(op.inner_parts()[0])}
    fed = [j for j, taps in enumerate(op.state_taps) if taps]
    for initial_at, j in enumerate(fed):
        taps, prev, out = op.state_taps[j], op.inner_inputs[op.first_tap[j]], node.outputs[j]
        if taps != (-1,) or not all(last_step_read(c, out) for c, _ in fgraph.clients(out)):
            continue
        total = op.inner_outputs[j]
        if total.owner is None or _scalar_name(total.owner) != "add" or len(total.owner.inputs) != 2 \
                or readers.get(id(prev)) != 1 or readers.get(id(total)) != 1 or prev not in total.owner.inputs:
            continue
        product = total.owner.inputs[1] if total.owner.inputs[0] is prev else total.owner.inputs[0]
        if product.owner is None or not isinstance(product.owner.op, Dot) or product.dtype != total.dtype:
            continue
        a, g = product.owner.inputs
        if (a.owner is None or not isinstance(a.owner.op, DimShuffle) or a.owner.op.new_order != (1, 0)
                or id(a.owner.inputs[0]) not in seq_at or g.ndim != 2):
            continue
        return j, initial_at, seq_at[id(a.owner.inputs[0])], g
    return None


def _summed_after(fgraph, node, j, initial_at, seq_at, g):
    """Rewrite output ``j`` of ``node`` as found by _sum_of_products; the new Scan node."""
    import clgraph.tensor as T

    op = node.op
    # g_t as an output of its own, or one the loop gives already (sums read the same g_t)
    given = next((k for k in range(op.n_outputs) if not op.state_taps[k] and op.inner_outputs[k] is g), None)
    if given is None:
        inner_outputs = list(op.inner_outputs)
        inner_outputs[j] = g
        new = _rebuilt(node, inner_outputs, range(op.n_outputs), unfed={j})
        kept, stacked = list(range(op.n_outputs)), new.outputs[j]
    else:
        kept = [k for k in range(op.n_outputs) if k != j]
        new = _rebuilt(node, [op.inner_outputs[k] for k in kept] + op.inner_outputs[op.n_outputs:], kept)
        stacked = new.outputs[kept.index(given)]
    n = node.inputs[0]
    sequences, initials, _, _ = op.outer_parts(node.inputs)
    initial = initials[initial_at]
    # the steps' entries and g_t as rows: sum over steps and rows of e_t.T @ g_t (with
    # no step the loop knows no shape for g: its rows are read at the sum's width)
    entries = sequences[seq_at][:n]
    rows = entries.reshape((-1, entries.shape[-1]))
    total = dot(rows.T, stacked.reshape((rows.shape[0], initial.shape[-1])))
    from_zeros = _is_zeros(initial)
    if not from_zeros:   # a gradient loop's sums start at zeros: nothing to add
        total = initial[-1] + total
    total = T.cast(total, node.outputs[j].dtype)
    pairs = [(node.outputs[k], new.outputs[at]) for at, k in enumerate(kept) if k != j]
    pairs += list(zip(node.outputs[op.n_outputs:], new.outputs[len(kept):]))
    for client, _ in fgraph.clients(node.outputs[j]):
        read = last_step_read(client, node.outputs[j])
        last = _as_type(total if read == "item" else T.shape_padleft(total)[:n], client.outputs[0].type)
        if last is None:
            return None
        pairs.append((client.outputs[0], last))
        if read == "slice" and from_zeros:
            pairs += _last_of_joined(fgraph, client.outputs[0], total)
    fgraph.replace_all(pairs, check=False)
    return new


def _last_of_joined(fgraph, steps, total):
    """(variable, ``total``) for each ``join(0, zeros, steps)[-1]`` of the last step
    ``steps`` (a slice of at most one entry) of a sum from zeros: that is ``total``
    whether the loop ran steps or none (a product over no rows is zeros), and the join
    is not built (a gradient loop's final sums, scan_module.op)."""
    found = []
    for join, _ in fgraph.clients(steps):
        if (join == "output" or not isinstance(join.op, Join) or len(join.inputs) != 3 or join.inputs[2] is not steps
                or get_scalar_constant_value(join.inputs[0]) != 0 or not _is_zeros(join.inputs[1])):
            continue
        for last, _ in fgraph.clients(join.outputs[0]):
            value = _as_type(total, last.outputs[0].type) if last_step_read(last, join.outputs[0]) == "item" else None
            if value is not None:
                found.append((last.outputs[0], value))
    return found


def _as_type(var, type):
    """``var`` as a variable of ``type`` (its static lengths asserted), or None if
    ``var`` knows a length ``type`` does not."""
    import clgraph.tensor as T

    if var.type == type:
        return var
    if var.dtype != type.dtype or var.ndim != type.ndim or any(
            have is not None and want != have for have, want in zip(var.type.shape, type.shape)):
        return None
    return T.specify_shape(var, type.shape)
