"""The graph rewrites: merge (common subexpressions), constant folding, canonical
algebra, and elementwise fusion.

Every rewrite keeps types exactly: a variable is replaced only by one of the same dtype
and static shape, so the nodes that use it stay valid. Passes run in this order:
merge, canonicalize, constant_folding, merge_after_folding, elemwise_fusion,
merge_after_fusion (folding and fusion leave duplicates that a merge then shares).
"""
import heapq

import numpy as np

from clgraph.graph.basic import Constant
from clgraph.graph.evaluate import run_node
from clgraph.scalar import Composite
from clgraph.tensor.elemwise import DimShuffle, Elemwise, beneath_dimshuffles, broadcast_constant
from clgraph.tensor.shape_ops import Alloc
from clgraph.tensor.type import TensorType

from .db import register
from .local import apply_to_graph

# -- merge --------------------------------------------------------------------------------


def merge(fgraph):
    """Share identical constants (same dtype, shape and value) and identical nodes (equal
    ops applied to the same inputs)."""
    _merge_constants(fgraph)
    _merge_nodes(fgraph)


def _merge_constants(fgraph):
    first = {}
    for node in fgraph.toposort():
        for var in node.inputs:
            if not isinstance(var, Constant):
                continue
            try:
                key = var.signature()
                kept = first.setdefault(key, var)
            except TypeError:   # data that cannot be a key: left alone
                continue
            if kept is not var:
                fgraph.replace(var, kept, check=False)


def _merge_nodes(fgraph):
    seen = {}   # the ids of a node's inputs -> the nodes kept with those inputs
    for node in fgraph.toposort():
        if not node.inputs or node not in fgraph or _destructive(node.op):
            continue
        kept = seen.setdefault(tuple(map(id, node.inputs)), [])
        twin = next((other for other in kept if _same_op(other.op, node.op)
                     and [o.type for o in other.outputs] == [o.type for o in node.outputs]), None)
        if twin is None:
            kept.append(node)
        else:
            fgraph.replace_all(zip(node.outputs, twin.outputs), check=False)


def _destructive(op):
    """Ops that overwrite an input: two of them are two different writes."""
    return bool(getattr(op, "destroy_map", None) or getattr(op, "inplace", False))


def _same_op(a, b):
    try:
        return bool(a == b)
    except Exception:   # props that do not compare (arrays): not the same
        return False


for _name, _position in (("merge", 0), ("merge_after_folding", 30), ("merge_after_fusion", 50)):
    register(_name, _position, "fast_run", "fast_compile", "merge")(merge)

# -- constant folding ---------------------------------------------------------------------

MAX_FOLDED_SIZE = 1 << 20   # elements: larger results stay computed at run time
NOT_FOLDED = (Alloc,)       # broadcasts: a materialized constant would only waste memory


@register("constant_folding", 20, "fast_run", "fast_compile")
def constant_folding(fgraph):
    """Nodes whose inputs are all constants become constants of their results (same
    types), except broadcasts, large results, graph outputs and ops that fail."""
    outputs = set(fgraph.outputs)
    for node in fgraph.toposort():
        if node in fgraph and _foldable(node, outputs):
            try:
                results = run_node(node, [v.data for v in node.inputs])
            except Exception:   # an error is the compiled function's to raise, when it runs
                continue
            if all(isinstance(r, np.ndarray) and r.size <= MAX_FOLDED_SIZE for r in results):
                fgraph.replace_all([(out, out.type.constant_type(out.type, r))
                                    for out, r in zip(node.outputs, results)], check=False)


def _foldable(node, outputs):
    return (node.inputs and all(isinstance(v, Constant) for v in node.inputs)
            and not isinstance(node.op, NOT_FOLDED)
            and all(type(o.type) is TensorType and o not in outputs for o in node.outputs)
            and all(_static_size(o) <= MAX_FOLDED_SIZE for o in node.outputs))


def _static_size(var):
    """The number of elements a variable's static shape promises (unknown lengths: 1)."""
    return int(np.prod([1 if n is None else n for n in var.type.shape], dtype=np.float64))

# -- canonicalize -------------------------------------------------------------------------


def canonicalize(fgraph):
    """Local algebraic simplifications, repeated until none applies: x * 1, x + 0,
    x - 0, x / 1, x ** 1 -> x; x * y / y -> x for floats (x filled to y's shape where y
    may broadcast it); -(-x) -> x; a DimShuffle of a DimShuffle -> one DimShuffle; an
    identity DimShuffle, a cast to the same dtype, or an index into the axis a DimShuffle
    inserted -> its input; nested sums and
    products flattened, their constants combined into one; fills (Theano's
    broadcasts by ``second``) dropped where another input gives the shape anyway. A
    result replaces a variable only when their types are identical. It runs again after
    constant folding, which leaves new constants to combine."""
    apply_to_graph(fgraph, LOCAL_REWRITES)


for _name, _position in (("canonicalize", 10), ("canonicalize_after_folding", 25)):
    register(_name, _position, "fast_run", "canonicalize")(canonicalize)


def _scalar_name(node):
    """The scalar op's name of a plain Elemwise node (not a cast, not a Composite)."""
    op = node.op
    if type(op) is Elemwise and op.output_dtype is None and not isinstance(op.scalar_op, Composite):
        return op.scalar_op.name
    return None


def _owner_scalar_name(var):
    return _scalar_name(var.owner) if var.owner is not None else None


def _is_filled_with(var, value):
    """Whether ``var`` is a non-empty constant (possibly DimShuffled) of only ``value``."""
    var = beneath_dimshuffles(var)
    if not isinstance(var, Constant):
        return False
    data = np.asarray(var.data)
    return data.size > 0 and data.dtype.kind in "biuf" and bool(np.all(data == value))


# scalar op -> (neutral value, input positions where it may be dropped; None: any)
_NEUTRAL = {"add": (0, None), "mul": (1, None), "sub": (0, (1,)), "true_div": (1, (1,)),
            "pow": (1, (1,))}


def _drop_neutral(node):
    name = _scalar_name(node)
    if name not in _NEUTRAL:
        return None
    value, positions = _NEUTRAL[name]
    if positions is not None:
        return node.inputs[0] if _is_filled_with(node.inputs[1], value) else None
    kept = [v for v in node.inputs if not _is_filled_with(v, value)]
    if not kept or len(kept) == len(node.inputs):
        return None
    return kept[0] if len(kept) == 1 else node.op(*kept)


_FILL = Elemwise("second")   # second(y, x): x broadcast to the shape of both (fill)


def _cancel_division(node):
    """(x * y) / y -> x (Theano does it for floats: x * y may round or overflow); x
    broadcast to y's shape (Theano's fill) when y may be larger than x at run time."""
    if _scalar_name(node) != "true_div" or node.outputs[0].dtype[0] != "f":
        return None
    product, divisor = node.inputs
    if _owner_scalar_name(product) != "mul":
        return None
    factors = list(product.owner.inputs)
    for i, factor in enumerate(factors):
        if factor is divisor:
            rest = factors[:i] + factors[i + 1:]
            result = rest[0] if len(rest) == 1 else product.owner.op(*rest)
            return result if _covers(result, divisor) else _FILL(divisor, result)
    return None


def _covers(x, y):
    """Whether broadcasting ``x`` against ``y`` surely keeps x's shape: on every axis y
    has length 1 or x has a static length other than 1 (unknown lengths of 1
    broadcast at run time, as numpy's)."""
    return all(b == 1 or a not in (None, 1) for a, b in zip(x.type.shape, y.type.shape))


def _double_negation(node):
    if _scalar_name(node) == "neg" and _owner_scalar_name(node.inputs[0]) == "neg":
        return node.inputs[0].owner.inputs[0]
    return None


def _merge_dimshuffles(node):
    (var,) = node.inputs if isinstance(node.op, DimShuffle) else (None,)
    if var is None or var.owner is None or not isinstance(var.owner.op, DimShuffle):
        return None
    inner = var.owner.op.new_order
    order = ["x" if axis == "x" else inner[axis] for axis in node.op.new_order]
    source = var.owner.inputs[0]
    if order == list(range(source.ndim)):
        return source
    return DimShuffle(source.ndim, order)(source)


def _identity_dimshuffle(node):
    if isinstance(node.op, DimShuffle) and node.op.new_order == tuple(range(node.op.input_ndim)):
        return node.inputs[0]
    return None


def _index_of_inserted_axis(node):
    """x.dimshuffle("x", ...)[0] -> x: an index into the first axis, which a DimShuffle inserted."""
    from clgraph.tensor.shape_ops import get_scalar_constant_value
    from clgraph.tensor.subtensor import Subtensor, get_idx_list

    var = node.inputs[0] if isinstance(node.op, Subtensor) else None
    if var is None or var.owner is None or not isinstance(var.owner.op, DimShuffle) \
            or var.owner.op.new_order[0] != "x":
        return None
    key = get_idx_list(node.inputs[1:], node.op.idx_list)
    if len(key) != 1 or isinstance(key[0], slice) or get_scalar_constant_value(key[0]) not in (0, -1):
        return None
    order, source = var.owner.op.new_order[1:], var.owner.inputs[0]
    return source if list(order) == list(range(source.ndim)) else DimShuffle(source.ndim, order)(source)


def _useless_cast(node):
    op = node.op
    if (type(op) is Elemwise and op.output_dtype is not None and op.scalar_op.name == "identity"
            and node.inputs[0].dtype == op.output_dtype):
        return node.inputs[0]
    return None


def _constant_value(var):
    """broadcast_constant, for numeric values only."""
    value = broadcast_constant(var)
    return value if value is not None and value.dtype.kind in "biuf" else None


def _flatten(node):
    """add(add(a, b), c) -> add(a, b, c), and so for mul, where the inner op computes in
    the outer's dtype (no rounding or wrapping between them is lost)."""
    name = _scalar_name(node)
    if name not in ("add", "mul"):
        return None
    dtype = node.outputs[0].dtype
    flat, changed = [], False
    for var in node.inputs:
        inner = var.owner
        if (_owner_scalar_name(var) == name and var.dtype == dtype
                and all(v.dtype == dtype or _constant_value(v) is not None for v in inner.inputs)):
            flat.extend(inner.inputs)
            changed = True
        else:
            flat.append(var)
    return node.op(*flat) if changed else None


def _combine_constants(node):
    """The constants of a sum or product (of a numeric dtype) combined into one of the
    output's dtype, where the first was: 2 * x * 3.0 -> 6.0 * x, as Theano's canonical
    form prints it. Only values the output dtype holds exactly are combined."""
    name = _scalar_name(node)
    out = node.outputs[0]
    if name not in ("add", "mul") or np.dtype(out.dtype).kind not in "iuf":
        return None
    values = [_constant_value(v) for v in node.inputs]
    constants = [v for v in values if v is not None]
    rest = [var for var, v in zip(node.inputs, values) if v is None]
    if not constants or not rest or (len(constants) == 1 and constants[0].dtype == out.dtype):
        return None
    dtype = np.dtype(out.dtype)
    if any(np.asarray(v.astype(dtype), dtype=v.dtype) != v for v in constants):
        return None
    with np.errstate(all="ignore"):
        combined = (np.add if name == "add" else np.multiply).reduce([v.astype(dtype) for v in constants])
    constant = out.type.constant_type(out.type.clone(shape=(1,) * out.ndim),
                                      np.full((1,) * out.ndim, combined, dtype))
    first = next(k for k, v in enumerate(values) if v is not None)
    return node.op(*rest[:first], constant, *rest[first:])


def _shape_source(var):
    """The variable whose shape ``var`` surely has: through elementwise ops of one
    non-broadcast input (x ** 2, 2 * x), down to the first other variable."""
    while (var.owner is not None and type(var.owner.op) is Elemwise
           and len(var.owner.outputs) == 1):
        sized = [v for v in var.owner.inputs if any(n != 1 for n in v.type.shape)]
        if len(sized) != 1 or sized[0].ndim != var.ndim:
            break
        var = sized[0]
    return var


def _same_shape(a, b):
    """Whether ``a`` and ``b`` surely have the same shape at run time."""
    if a.ndim != b.ndim:
        return False
    if a.ndim == 0 or (None not in a.type.shape and a.type.shape == b.type.shape):
        return True
    return _shape_source(a) is _shape_source(b)


def _drop_fill(node):
    """fill(a, b) (Theano's ``second``: b broadcast to a's shape) -> b where that shape
    comes anyway: b has it, or another input of the elementwise op using the fill has
    it (x * fill(x ** 2, g) -> x * g)."""
    if type(node.op) is not Elemwise or isinstance(node.op.scalar_op, Composite):
        return None
    if _scalar_name(node) == "second":
        a, b = node.inputs
        return b if _same_shape(a, b) else None
    for k, var in enumerate(node.inputs):
        if _owner_scalar_name(var) == "second":
            a, b = var.owner.inputs
            others = node.inputs[:k] + node.inputs[k + 1:]
            if any(_same_shape(a, other) for other in others):
                return node.op(*others[:k], b, *others[k:])
    return None


LOCAL_REWRITES = (_drop_neutral, _cancel_division, _double_negation, _merge_dimshuffles,
                  _identity_dimshuffle, _index_of_inserted_axis, _useless_cast, _flatten, _combine_constants, _drop_fill)

# -- elementwise fusion -------------------------------------------------------------------

MAX_FUSED_INPUTS = 32   # kernels take each input as arguments; stay well inside the limits
MAX_FUSED_STEPS = 128   # scalar steps of one composite (its description is recursive)


@register("elemwise_fusion", 40, "fast_run")
def elemwise_fusion(fgraph):
    """Maximal groups of Elemwise nodes of one output shape become one
    Elemwise(Composite) node.

    A group grows from its last node (the root) towards the inputs. A node joins when
    its outputs have the root's static shape (broadcasting then happens only at the
    group's inputs, which fused kernels take broadcast) and when no path leaves the
    group from it and comes back (that would make a cycle). Its outputs used outside the
    group become extra outputs of the composite.
    """
    done = set()
    order = fgraph.toposort()
    position = {node: k for k, node in enumerate(order)}
    i = len(order)
    while i > 0:
        i -= 1
        root = order[i]
        if root in done or not _fusable(root):
            continue
        group = _grow(fgraph, root, position)
        done.update(group)
        fused = _fuse(fgraph, root, sorted(group, key=position.get)) if len(group) > 1 else None
        if fused is not None:
            done.add(fused)
            slot = _slot(fgraph, fused, position)
            if slot is None:   # no position between its inputs and its clients: sort again
                order = fgraph.toposort()
                position = {node: k for k, node in enumerate(order)}
                i = len(order)
            else:
                position[fused] = slot


def _slot(fgraph, node, position):
    """A position for a new node after its inputs' owners and before its clients, so
    that positions stay a topological order; None if there is none."""
    if any(v.owner is not None and v.owner not in position for v in node.inputs):
        return None
    after = max((position[v.owner] for v in node.inputs if v.owner is not None), default=-1.0)
    before = min((position[client] for out in node.outputs for client, _ in fgraph.clients(out)
                  if client != "output"), default=after + 1.0)
    middle = (after + before) / 2
    return middle if after < middle < before else None


def _fusable(node):
    return type(node.op) is Elemwise


def _grow(fgraph, root, position):
    shape = root.outputs[0].type.shape
    group, leaves, steps = {root}, set(root.inputs), _steps(root)
    rejected, reaches = set(), {}
    candidates = [(-position[v.owner], id(v.owner), v.owner) for v in root.inputs if v.owner is not None]
    heapq.heapify(candidates)
    # Candidates come out latest first: every client of one that could be in the group
    # comes later in topological order, so it has been decided already.
    while candidates:
        _, _, node = heapq.heappop(candidates)
        if node in group or node in rejected:
            continue
        new_leaves = (leaves - set(node.outputs)) | set(node.inputs)
        outside = [client for out in node.outputs for client, _ in fgraph.clients(out)
                   if client != "output" and client not in group]
        if (not _fusable(node) or any(out.type.shape != shape for out in node.outputs)
                or len(new_leaves) > MAX_FUSED_INPUTS or steps + _steps(node) > MAX_FUSED_STEPS
                or any(_reaches(fgraph, client, group, position, position[root], reaches)
                       for client in outside)):
            rejected.add(node)
            continue
        group.add(node)
        leaves, steps = new_leaves, steps + _steps(node)
        for var in node.inputs:
            if var.owner is not None:
                heapq.heappush(candidates, (-position[var.owner], id(var.owner), var.owner))
    return group


def _steps(node):
    """The scalar steps an Elemwise node brings to a composite."""
    return len(getattr(node.op.scalar_op, "body", ())) or 1


def _reaches(fgraph, start, group, position, limit, memo):
    """Whether a path of nodes leads from ``start`` (outside the group) into ``group``.

    Only nodes up to position ``limit`` (the root's) can lead into the group."""
    stack = [start]
    path = []
    while stack:
        node = stack.pop()
        if node in memo:
            if memo[node]:
                break
            continue
        if node in group:
            memo[node] = True
            break
        memo[node] = False   # provisional: set to True below if a path is found
        path.append(node)
        stack.extend(client for out in node.outputs for client, _ in fgraph.clients(out)
                     if client != "output" and position.get(client, limit + 1) <= limit)
    else:
        return False
    # a path was found; the nodes visited on the way may lead to it, so forget them
    for node in path:
        del memo[node]
    memo[start] = True
    return True


def _fuse(fgraph, root, members):
    """Replace ``members`` (in topological order) by one Elemwise(Composite) node; None
    when types would differ."""
    group = set(members)
    refs, leaves, body = {}, [], []

    def ref(var):
        if var not in refs:
            refs[var] = ("i", len(leaves))
            leaves.append(var)
        return refs[var]

    for node in members:
        args = [ref(var) for var in node.inputs]
        scalar = node.op.scalar_op
        if isinstance(scalar, Composite):   # inline an earlier fusion's body
            offset = len(body)

            def moved(r, args=args, offset=offset):
                return args[r[1]] if r[0] == "i" else ("t", r[1] + offset)

            body.extend((op, tuple(map(moved, step_args)), dtype) for op, step_args, dtype in scalar.body)
            results = [moved(r) for r in scalar.outputs]
        else:
            body.append((scalar, tuple(args), node.outputs[0].dtype))
            results = [("t", len(body) - 1)]
        refs.update(zip(node.outputs, results))

    exported = [out for node in [root] + [m for m in members if m is not root] for out in node.outputs
                if any(client == "output" or client not in group for client, _ in fgraph.clients(out))]
    if not exported:
        return None
    composite = Composite(len(leaves), body, [refs[out] for out in exported])
    fused = Elemwise(composite).make_node(*leaves)
    if any(new.type != old.type for new, old in zip(fused.outputs, exported)):
        return None
    fgraph.replace_all(zip(exported, fused.outputs), check=False)
    return fused

