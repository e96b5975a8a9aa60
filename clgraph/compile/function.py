"""``clgraph.function``: compile a graph from inputs to outputs into a callable.

Building: inputs become In, outputs Out; ``givens`` replace variables (shared ones
included) in the outputs and updates; shared variables the graph uses become implicit
inputs; the graph is copied into a FunctionGraph, rewritten by the mode, and handed to
the VM. Calling: arguments are matched by position and name, defaults filled, each
checked against its type; outputs are computed, then every update is applied at once,
so a failed call changes no shared variable.
"""
import time
import warnings

import numpy as np

from clgraph.backends import get_context
from clgraph.configdefaults import config
from clgraph.graph.basic import Constant, Variable, clone_replace, graph_inputs
from clgraph.graph.evaluate import check_input
from clgraph.graph.fg import FunctionGraph

from .io import In, Out
from .mode import get_mode
from . import inplace  # noqa: F401  (registers the inplace rewrite)
from .placement import _location, place
from .prebuild import prebuild
from .profiling import ProfileStats
from .sharedvalue import SharedVariable
from .vm import VM


class UnusedInputError(ValueError):
    """An explicit input that no output or update depends on."""


def _as_list(items):
    if items is None:
        return []
    return list(items) if isinstance(items, (list, tuple)) else [items]


def _pairs(mapping, what):
    if mapping is None:
        return []
    pairs = list(mapping.items()) if isinstance(mapping, dict) else list(mapping)
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"{what} must be a dict or a list of (variable, expression) pairs, got {pair!r}")
    return [tuple(pair) for pair in pairs]


def _as_expression(value, like, what):
    """``value`` (a variable or data) as a variable of ``like``'s type."""
    from clgraph.tensor.basic import as_tensor_variable, cast

    if not isinstance(value, Variable):
        value = as_tensor_variable(np.asarray(value, dtype=like.type.dtype) if
                                   np.asarray(value).dtype.kind in "biuf" else value)
    if value.type == like.type:
        return value
    compatible = (getattr(value.type, "ndim", None) == like.type.ndim and
                  all(a is None or b is None or a == b for a, b in zip(value.type.shape, like.type.shape)))
    if compatible and value.type.dtype == like.type.dtype:
        return value
    if compatible and isinstance(value, Constant) and np.can_cast(value.type.dtype, like.type.dtype, "same_kind"):
        return cast(value, like.type.dtype)
    raise TypeError(f"{what}: {like} has type {like.type}, but the expression {value} has type "
                    f"{value.type}; they must match (cast the expression with T.cast, or use "
                    "T.unbroadcast/T.specify_shape for a difference in static shape)")


class FunctionMaker:
    """Everything decided when a function is built: its inputs, graph and VM."""

    def __init__(self, inputs, outputs, updates, givens, mode, on_unused_input, no_default_updates,
                 allow_input_downcast, profile=False):
        self.inputs = inputs
        self.outputs = outputs
        self.mode = get_mode(mode)
        explicit = [i.variable for i in inputs]
        for index, variable in enumerate(explicit):
            if isinstance(variable, SharedVariable):
                raise TypeError(f"input {index} ({variable}) is a shared variable; shared variables "
                                "are implicit inputs: use givens to replace one")
            if isinstance(variable, Constant):
                raise TypeError(f"input {index} ({variable}) is a constant and cannot be an input")
        if len({id(v) for v in explicit}) != len(explicit):
            raise ValueError("a variable appears twice among the inputs")

        replacements = {old: _as_expression(new, old, "givens") for old, new in _pairs(givens, "givens")}
        update_pairs = []
        for shared, expression in _pairs(updates, "updates"):
            if not isinstance(shared, SharedVariable):
                raise TypeError(f"updates: {shared} is not a shared variable; only shared variables "
                                "can be updated")
            update_pairs.append((shared, _as_expression(expression, shared, "updates")))
        if len({id(s) for s, _ in update_pairs}) != len(update_pairs):
            raise ValueError("a shared variable is updated twice in updates")
        results = [o.variable for o in outputs] + [e for _, e in update_pairs]
        results = clone_replace(results, replacements) if replacements else results
        defaults = self._default_updates(results, update_pairs, no_default_updates, replacements)
        update_pairs += defaults
        results += [e for _, e in defaults]
        self.updates = update_pairs

        used = graph_inputs(results)
        used_ids = {id(v) for v in used}
        unused = [v for v in explicit if id(v) not in used_ids]
        if unused:
            self._unused(unused, on_unused_input or config.on_unused_input)
        # explicit inputs are never shared variables (checked above)
        self.shared = [v for v in used if isinstance(v, SharedVariable)]
        for shared, _ in update_pairs:
            if all(shared is not s for s in self.shared):
                self.shared.append(shared)   # updated without being read
        # where each updated variable's storage is among the stored values of a call
        self.update_storage = [next(k for k, s in enumerate(self.shared) if s is shared) for shared, _ in update_pairs]
        self.on_devices = self.mode.linker != "py"
        placement = None
        if self.on_devices:
            placement = (["cpu"] * len(explicit) + [s.context_name for s in self.shared],
                         [_location(o.variable) for o in outputs] + [s.context_name for s, _ in update_pairs],
                         get_context().name)

        def with_update_targets(fgraph):
            fgraph.update_targets = _update_targets(len(explicit), self.update_storage, len(outputs), update_pairs)

        self.fgraph = optimized(FunctionGraph(explicit + self.shared, results), self.mode, placement,
                                with_update_targets)
        self.constants = [v.data for v in self.fgraph.outputs if isinstance(v, Constant)]
        self.vm = VM(_schedule(self.fgraph), self.fgraph.inputs, self.fgraph.outputs,
                     allow_gc=config.allow_gc and self.mode.linker != "vm_nogc",
                     borrowed=[k for k, o in enumerate(outputs) if o.borrow], profile=profile)
        self.allow_input_downcast = allow_input_downcast

    @staticmethod
    def _default_updates(results, update_pairs, no_default_updates, replacements):
        """Shared variables with a ``default_update`` (random states) get it applied."""
        if no_default_updates is True:
            return []
        skip = {id(s) for s, _ in update_pairs} | {id(v) for v in _as_list(no_default_updates)}
        return [(v, clone_replace([v.default_update], replacements)[0]) for v in graph_inputs(results)
                if isinstance(v, SharedVariable) and v.default_update is not None and id(v) not in skip]

    @staticmethod
    def _unused(unused, policy):
        names = ", ".join(str(v) for v in unused)
        message = (f"the function's outputs and updates do not depend on input {names}; to accept "
                   "it, pass on_unused_input='warn' or 'ignore' to function()")
        if policy == "raise":
            raise UnusedInputError(message)
        if policy == "warn":
            warnings.warn(message, stacklevel=4)


class Function:
    """A compiled function; call it with the inputs' values, by position or name."""

    def __init__(self, maker, name, single_output):
        self.maker = maker
        self.name = name
        self._single = single_output
        self._names = {i.name: index for index, i in enumerate(maker.inputs) if i.name is not None}
        self._defaults = [i.value if i.has_default else _MISSING for i in maker.inputs]
        # what checking an argument needs, decided once: (variable, allow_downcast, strict)
        self._checks = [(i.variable, maker.allow_input_downcast if i.allow_downcast is None else i.allow_downcast,
                         i.strict) for i in maker.inputs]
        self.profile = ProfileStats(name) if maker.vm.profile else None

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, name):   # the label errors name the function by, made once per name
        self._name = name
        self._label = f'clgraph function with name "{name}"' if name else "clgraph function"

    def __call__(self, *args, **kwargs):
        maker = self.maker
        if len(args) > len(maker.inputs):
            raise TypeError(f"{self._label} takes {len(maker.inputs)} inputs, got {len(args)}")
        values = list(self._defaults)
        values[:len(args)] = args
        for key, value in kwargs.items():
            index = self._names.get(key)
            if index is None:
                raise TypeError(f"{self._label} got an unknown keyword argument {key!r}; its named "
                                f"inputs are {', '.join(map(repr, self._names)) or 'none'}")
            if index < len(args):
                raise TypeError(f"{self._label} got input {key!r} both by position and by name")
            values[index] = value
        missing = [maker.inputs[i].variable for i, v in enumerate(values) if v is _MISSING]
        if missing:
            raise TypeError(f"{self._label} is missing a value for input "
                            f"{', '.join(map(str, missing))}")
        checked = [check_input(index, variable, value, downcast, strict, self._label)
                   for index, ((variable, downcast, strict), value) in enumerate(zip(self._checks, values))]
        stored = [s.get_value(borrow=True, return_internal_type=maker.on_devices) for s in maker.shared]
        inputs = checked + stored
        if self.profile is None:
            results = maker.vm(inputs)
        else:
            start = time.perf_counter()
            results = maker.vm(inputs)
            for value in results:   # the call is timed up to its device work's end
                getattr(value, "sync", lambda: None)()
            self.profile.add_call(time.perf_counter() - start, maker.vm.timings())
        n_out = len(maker.outputs)
        inputs += maker.constants   # results must not alias these either
        # an update may be its variable's old storage, written in place; no other input's
        prepared = [shared.prepare_value(_unaliased(value, inputs, own=stored[position]), borrow=True)
                    for (shared, _), position, value in zip(maker.updates, maker.update_storage, results[n_out:])]
        for (shared, _), value in zip(maker.updates, prepared):   # all or none
            shared._value = value
        outputs = []
        for out, value in zip(maker.outputs, results[:n_out]):   # each output the caller's own
            outputs.append(value if out.borrow else _unaliased(value, inputs + outputs))
        return outputs[0] if self._single else outputs

    def __repr__(self):
        return f"<Function {self.name or ''} {self.maker.fgraph}>"


_MISSING = object()


def _update_targets(n_explicit, update_storage, n_outputs, update_pairs):
    """{fgraph input position: output position} of the shared variables whose storage
    their update may overwrite (the inplace rewrite decides where it does); none when an
    update value could still be refused after the graph ran (its shape is not known to
    fit its variable's): the storage of the others would then be written already."""
    if not all(len(s.type.shape) == len(e.type.shape) and all(
            n is None or n == m for n, m in zip(s.type.shape, e.type.shape)) for s, e in update_pairs):
        return {}
    return {n_explicit + position: n_outputs + k for k, position in enumerate(update_storage)}


def _schedule(fgraph):
    """The nodes in a topological order where those that overwrite a shared variable's
    storage (its update computed in place), and the nodes after them, come last: an
    error raised by any other node leaves every shared value as it was."""
    order = fgraph.toposort()
    shared = {id(fgraph.inputs[i]) for i in getattr(fgraph, "update_targets", {})}
    late = set()
    for node in order:
        destroyed = [node.inputs[p] for positions in getattr(node.op, "destroy_map", {}).values()
                     for p in positions]
        if any(id(v) in shared for v in destroyed) or any(
                v.owner is not None and id(v.owner) in late for v in node.inputs):
            late.add(id(node))
    return [n for n in order if id(n) not in late] + [n for n in order if id(n) in late]


def _unaliased(value, inputs, own=None):
    """``value``, copied if it may share memory with an input or a shared variable's
    storage (a view, or the same array): results must be the caller's own. ``own``: the
    storage an update replaces, which it may be (computed in place over it)."""
    if isinstance(value, np.ndarray):
        return value.copy() if value.base is not None or any(value is i for i in inputs if i is not own) else value
    block = getattr(value, "block", None)
    if block is not None and any(getattr(i, "block", None) is block for i in inputs if i is not own):
        return value.copy()
    return value


def optimized(fgraph, mode, placement=None, placed=None):
    """``fgraph`` rewritten by ``mode``'s graph stage, then, with ``placement`` (the
    inputs' contexts, the outputs' contexts, the default context), placed on devices,
    told what ``placed(fgraph)`` adds, rewritten by the device stage, and its kernels
    built (compile.prebuild)."""
    mode.optimize(fgraph)
    if placement is None:
        return fgraph
    fgraph = place(fgraph, *placement)
    if placed is not None:
        placed(fgraph)
    mode.optimize(fgraph, stage="device")
    prebuild(fgraph)
    return fgraph


def compile_graph(inputs, outputs, mode, allow_gc, context=None, output_contexts=None):
    """A VM running the graph from ``inputs`` to ``outputs`` (a loop's step, a branch):
    on the host, or with every input on device ``context`` and outputs placed at
    ``output_contexts``. Its outputs are the VM's to overwrite at its next call: the
    caller copies them out (scan) or keeps no storage (``allow_gc``)."""
    mode = get_mode(mode)
    placement = None if context is None else ([context] * len(inputs), output_contexts, context)
    fgraph = optimized(FunctionGraph(inputs, outputs), mode, placement)
    return VM(fgraph.toposort(), fgraph.inputs, fgraph.outputs, allow_gc=allow_gc, borrowed=range(len(outputs)))


def function(inputs, outputs=None, updates=None, givens=None, allow_input_downcast=None, mode=None,
             profile=None, name=None, on_unused_input=None, no_default_updates=False):
    """Compile ``outputs`` as a function of ``inputs`` (variables or In).

    ``outputs``: a variable or Out (the call returns one value), a list (a list), or
    None (nothing; for updates). ``updates``: shared variable -> new value, applied after
    all outputs are computed. ``givens``: variable -> replacement in the whole graph.
    ``profile``: time every call per node (``f.profile``; default: the profile flag).
    """
    inputs = [i if isinstance(i, In) else In(i) for i in _as_list(inputs)]
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    outputs = [o if isinstance(o, Out) else Out(_as_output(o)) for o in _as_list(outputs)]
    maker = FunctionMaker(inputs, outputs, updates, givens, mode, on_unused_input, no_default_updates,
                          allow_input_downcast, bool(config.profile if profile is None else profile))
    return Function(maker, name, single)


def _as_output(value):
    from clgraph.tensor.basic import as_tensor_variable

    return value if isinstance(value, Variable) else as_tensor_variable(value)
