"""``clgraph.scan``: build a Scan node from a step function, as Theano's scan does.

The step function is called once, on fresh symbolic variables standing for one step's
values: a slice per sequence tap, a past value per output tap, then the non-sequences
themselves. What it returns (outputs, updates of shared variables, an ``until``
condition) is the step graph; the outer variables it uses without receiving them
(shared variables, tensors of the enclosing graph) become extra non-sequences. Shared
variables it reads that have a ``default_update`` (random states) are updated by the
loop at every step, as Theano collects them.
"""
import operator

import numpy as np

from clgraph.compile.sharedvalue import SharedVariable
from clgraph.graph.basic import Constant, Variable, clone_replace, graph_inputs
from clgraph.tensor.basic import as_tensor_variable, cast, minimum
from clgraph.tensor.type import TensorType

from .op import Scan, compatible_types
from .utils import split_step_result


def _as_list(items):
    if items is None:
        return []
    return list(items) if isinstance(items, (list, tuple)) else [items]


def _as_variable(value):
    return value if isinstance(value, Variable) else as_tensor_variable(value)


def _taps(given, what):
    try:
        taps = [operator.index(given)] if np.ndim(given) == 0 else [operator.index(k) for k in given]
    except TypeError:
        taps = []
    if not taps:
        raise ValueError(f"{what}: taps must be an int or a non-empty list of ints, got {given!r}")
    return taps


def _stand_in(var, name=None, drop_leading=False):
    """A fresh host variable of ``var``'s type (less its leading axis with
    ``drop_leading``): what the step graph reads in its place."""
    shape = var.type.shape[1:] if drop_leading else var.type.shape
    return TensorType(var.type.dtype, shape)(name if name is not None else var.name)


def _sequences(sequences, go_backwards):
    """(slices, stand-ins): for each sequence and tap, the outer array whose entry ``t``
    step ``t`` reads, and the variable standing for that entry in the step graph.

    With taps K, step ``t`` reads entry ``t + k + max(0, -min(K))`` of the sequence
    (reversed first with ``go_backwards``), so the lowest tap reads from entry 0."""
    slices, stand_ins = [], []
    for index, seq in enumerate(_as_list(sequences)):
        what = f"sequences[{index}]"
        if isinstance(seq, dict):
            if "input" not in seq:
                raise ValueError(f"{what}: a dict sequence needs the key 'input', got keys {sorted(seq)}")
            var, taps = _as_variable(seq["input"]), _taps(seq.get("taps", [0]) or [0], what)
        else:
            var, taps = _as_variable(seq), [0]
        if var.ndim < 1:
            raise TypeError(f"{what}: a sequence must have at least one dimension to loop over, got "
                            f"{var} of type {var.type}")
        source = var[::-1] if go_backwards else var
        first, last = max(0, -min(taps)), max(0, max(taps))
        for k in taps:
            start, stop = first + k, k - last
            slices.append(source if (start, stop) == (0, 0) else source[start:stop or None])
            stand_ins.append(_stand_in(var, f"{var.name}[t{k:+d}]" if var.name else None, drop_leading=True))
    return slices, stand_ins


def _states(outputs_info):
    """For each entry of outputs_info: (its initial value, its taps, whether that value
    is one state (taps [-1]) rather than past values along a leading axis), or
    (None, (), False) for an output that is not fed back."""
    states = []
    for index, info in enumerate(_as_list(outputs_info)):
        what = f"outputs_info[{index}]"
        if isinstance(info, dict):
            initial = info.get("initial")
            taps = info.get("taps", [-1])
            if initial is None or taps is None:
                states.append((None, (), False))
                continue
            taps = _taps(taps, what)
        elif info is None:
            states.append((None, (), False))
            continue
        else:
            initial, taps = info, [-1]
        if any(k >= 0 for k in taps):
            raise ValueError(f"{what}: an output can only read its past values (negative taps), got "
                             f"taps {taps}")
        initial = _as_variable(initial)
        single = taps == [-1]
        if not single and initial.ndim < 1:
            raise TypeError(f"{what}: with taps {taps} the initial state holds the {-min(taps)} "
                            f"past values along its first axis, got {initial} of type {initial.type}")
        states.append((initial, tuple(taps), single))
    return states


def _n_steps(n_steps, slices):
    if n_steps is None:
        if not slices:
            raise ValueError("scan needs n_steps or at least one sequence to know how many steps to run")
        lengths = [s.shape[0] for s in slices]
        count = lengths[0]
        for length in lengths[1:]:
            count = minimum(count, length)
        return count
    count = _as_variable(n_steps)
    if count.ndim != 0 or np.dtype(count.type.dtype).kind not in "iu":
        raise TypeError(f"scan: n_steps must be an integer scalar, got {count} of type {count.type}")
    return count if count.type.dtype == "int64" else cast(count, "int64")


def _check_state_types(states, stand_ins, outputs):
    """The seeds' pitfall: an initial state of another dtype or rank than the value the
    step returns for it is refused here, naming the output and both types."""
    for j, ((_, taps, _), output) in enumerate(zip(states, outputs)):
        if not taps:
            continue
        expected = stand_ins[j].type
        if not compatible_types(expected, output.type):
            name = f" ({output.name})" if output.name else ""
            raise TypeError(
                f"scan output {j}{name}: outputs_info[{j}] gives an initial state of type {expected} "
                f"(one step's value), but the step function returns a value of type {output.type} for it; "
                "the initial state must have the dtype and number of dimensions of the value the step "
                f"returns (e.g. T.as_tensor_variable(numpy.asarray(0, '{output.type.dtype}')) rather than "
                "T.as_tensor_variable(0))")


def _check_updates(updates):
    pairs = []
    for shared, value in updates.items():
        if not isinstance(shared, SharedVariable):
            raise TypeError(f"scan: the step function returned an update of {shared}, which is not a "
                            "shared variable; only shared variables can be updated")
        value = _as_variable(value)
        if value.type.dtype != shared.type.dtype and isinstance(value, Constant):
            value = cast(value, shared.type.dtype)
        if not compatible_types(TensorType(shared.type.dtype, shared.type.shape), value.type):
            raise TypeError(f"scan: the update of shared variable {shared} has type {value.type}, but "
                            f"the variable has type {shared.type}; they must match")
        pairs.append((shared, value))
    return pairs


def _with_default_updates(updates, results):
    """``updates`` plus the ``default_update`` of every shared variable the step reads
    without updating it (random states), as Theano's scan collects them: each step then
    draws new numbers, and the final states come back among scan's updates."""
    updates = dict(updates)
    updated = {id(s) for s in updates}
    pending = list(results)
    while pending:
        found = [v for v in graph_inputs(pending) if isinstance(v, SharedVariable)
                 and v.default_update is not None and id(v) not in updated]
        for shared in found:
            updates[shared] = shared.default_update
            updated.add(id(shared))
        pending = [v.default_update for v in found]
    return updates


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False,
         return_list=False):
    """Run ``fn`` over steps: ``fn(sequence taps..., past output values..., non_sequences...)``.

    Returns (outputs, updates): each output stacked over the steps (one variable when
    there is one output, unless ``return_list``; None when there is none), and a dict
    giving the final value of each shared variable ``fn`` updates (pass it to
    ``function(..., updates=...)``), random states (shared variables with a
    ``default_update``) included. ``truncate_gradient``: the number of steps the
    gradient goes back through (-1: all); ``profile`` is accepted for Theano's
    signature; ``allow_gc`` frees the step's intermediates between steps.
    """
    slices, seq_stand_ins = _sequences(sequences, go_backwards)
    states = _states(outputs_info)
    non_seqs = []
    for value in map(_as_variable, _as_list(non_sequences)):
        if all(value is not v for v in non_seqs):
            non_seqs.append(value)

    tap_stand_ins, first_stand_ins = [], []
    for initial, taps, single in states:
        named = [_stand_in(initial, f"{initial.name}[t{k:+d}]" if initial.name else None, not single)
                 for k in taps]
        tap_stand_ins += named
        first_stand_ins.append(named[0] if named else None)
    result = fn(*seq_stand_ins, *tap_stand_ins, *non_seqs)
    outputs, updates, condition = split_step_result(result)

    if not states:
        states = [(None, (), False)] * len(outputs)
    elif len(states) != len(outputs):
        raise ValueError(f"scan: the step function returned {len(outputs)} outputs but outputs_info "
                         f"describes {len(states)}; give None in outputs_info for each output that is "
                         "not fed back")
    _check_state_types(states, first_stand_ins, outputs)
    results = outputs + list(updates.values()) + ([condition] if condition is not None else [])
    update_pairs = _check_updates(_with_default_updates(updates, results))

    # the step graph: outer variables it uses become inputs of the node
    shared_stand_ins = [_stand_in(s) for s, _ in update_pairs]
    replace = {s: stand for (s, _), stand in zip(update_pairs, shared_stand_ins)}
    given = [v for v in non_seqs if not isinstance(v, Constant) and v not in replace]
    replace.update((v, _stand_in(v)) for v in given)
    inner_outputs = outputs + [v for _, v in update_pairs] + ([condition] if condition is not None else [])
    inner_outputs = clone_replace(inner_outputs, replace)
    inner_inputs = seq_stand_ins + tap_stand_ins + shared_stand_ins + [replace[v] for v in given]
    known = {id(v) for v in inner_inputs}
    found = [v for v in graph_inputs(inner_outputs) if id(v) not in known and not isinstance(v, Constant)
             and not hasattr(v, "data")]
    if found and strict:
        raise ValueError(f"scan with strict=True: the step function uses {', '.join(map(str, found))}, "
                         "which it does not receive; pass them in non_sequences")
    found_stand_ins = [_stand_in(v) for v in found]
    inner_outputs = clone_replace(inner_outputs, dict(zip(found, found_stand_ins)))
    inner_inputs += found_stand_ins

    initials = []
    for initial, taps, single in states:
        if taps:
            initials.append(initial.dimshuffle("x", *range(initial.ndim)) if single else initial[:-min(taps)])
    op = Scan(inner_inputs, inner_outputs, len(slices), [taps for _, taps, _ in states], len(update_pairs),
              until=condition is not None, name=name, mode=mode, allow_gc=allow_gc,
              truncate_gradient=truncate_gradient)
    node = op.make_node(_n_steps(n_steps, slices), *slices, *initials, *[s for s, _ in update_pairs],
                        *given, *found)
    stacked = node.outputs[:len(outputs)]
    update_map = {s: final for (s, _), final in zip(update_pairs, node.outputs[len(outputs):])}
    step_values = {id(v) for v in seq_stand_ins + tap_stand_ins}
    for shared, final in update_map.items():
        if shared.default_update is not None and any(
                id(v) in step_values for v in graph_inputs([shared.default_update])):
            # a state drawn in the step's shapes: outside the loop, its update is the loop's
            shared.default_update = final
    if return_list:
        return stacked, update_map
    return (stacked[0] if len(stacked) == 1 else stacked or None), update_map
