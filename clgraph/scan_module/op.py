"""The Scan op: a loop whose body is a compiled inner graph (the step).

Outer inputs, in order: the number of steps (an int64 scalar), the sequences (one
array per sequence and tap, already sliced so that step ``t`` reads entry ``t``), the
initial states (for each output fed back: an array whose leading entries are its past
values, as many as its deepest tap reaches), the current values of the shared
variables the step updates, and the non-sequences (those given and those found in the
step's graph). Inner inputs follow the same order: one slice per sequence tap, one past
value per output tap, the shared values, the non-sequences. Inner outputs: the new value
of each output, the new value of each updated shared variable, and the stop condition
when the step ends in ``until``. Outer outputs: each output stacked over the steps (the
new entries only, as Theano), then the final value of each updated shared variable.

The loop itself (``run_loop``) is written once over a storage strategy, so the host
reference (numpy) and the device version (DeviceArrays, copies on the device) share it.
"""
import numpy as np

from clgraph.graph.basic import Apply
from clgraph.graph.op import InnerGraphOp
from clgraph.tensor.type import TensorType


def scan_nodes(fgraph):
    """The Scan nodes of ``fgraph`` in order, each while still in the graph (a rewrite
    of the loop replaces them as it goes)."""
    for node in fgraph.toposort():
        if node in fgraph and isinstance(node.op, Scan):
            yield node


def compatible_types(a, b):
    """Whether values of TensorTypes ``a`` and ``b`` may be the same (dtype, ndim, and
    static lengths where both know them)."""
    return a.dtype == b.dtype and a.ndim == b.ndim and all(
        x is None or y is None or x == y for x, y in zip(a.shape, b.shape))


def _merged_shape(a, b):
    return tuple(x if x is not None else y for x, y in zip(a.shape, b.shape))


class Scan(InnerGraphOp):
    """A loop over ``n_steps`` steps of the step graph ``inner_inputs -> inner_outputs``.

    ``state_taps``: for each output, the (negative) taps at which the step reads its
    past values, () for an output that is not fed back. ``n_seqs``: sequence slices;
    ``n_shared``: shared variables the step updates; ``until``: whether the last inner
    output is a stop condition. Two Scan ops are equal only when they are the same
    object (each has its own step graph)."""

    def __init__(self, inner_inputs, inner_outputs, n_seqs, state_taps, n_shared, until=False,
                 name=None, mode=None, allow_gc=None, truncate_gradient=-1):
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)
        self.n_seqs = n_seqs
        self.state_taps = tuple(tuple(taps) for taps in state_taps)
        self.n_shared = n_shared
        self.until = until
        self.scan_name = name or "scan_fn"
        self.mode = mode
        self.allow_gc = bool(allow_gc)
        self.truncate_gradient = int(truncate_gradient)   # steps backpropagated through (-1: all)
        self._inner_functions = {}   # context name (None: the host) -> compiled step
        self.last_only = (False,) * len(self.state_taps)   # outputs of which only the last step is kept
        n_taps = sum(len(taps) for taps in self.state_taps)
        self.n_outputs = len(self.state_taps)
        self.n_initials = sum(1 for taps in self.state_taps if taps)
        self.n_nonseqs = len(self.inner_inputs) - n_seqs - n_taps - n_shared
        self.first_tap, at = [], n_seqs   # per output: where its taps start among the inner inputs
        for taps in self.state_taps:
            self.first_tap.append(at if taps else None)
            at += len(taps)
        self.shared_start = at
        self.state_types = [self.inner_inputs[k].type if k is not None else self.inner_outputs[j].type
                            for j, k in enumerate(self.first_tap)]
        self.output_types = [
            TensorType(t.dtype, (None,) + _merged_shape(t, self.inner_outputs[j].type))
            for j, t in enumerate(self.state_types)] + [
            TensorType(v.type.dtype, v.type.shape) for v in self.inner_inputs[at:at + n_shared]]

    def __str__(self):
        return f"Scan{{{self.scan_name}}}"

    def outer_parts(self, inputs):
        """(sequences, initial states, updated shared values, non-sequences) of the
        node's inputs (or their shapes) after n_steps."""
        at = 1 + self.n_seqs
        shared_at = at + self.n_initials
        return (list(inputs[1:at]), list(inputs[at:shared_at]), list(inputs[shared_at:shared_at + self.n_shared]),
                list(inputs[shared_at + self.n_shared:]))

    def inner_parts(self):
        """(sequence entries, past values read by taps, shared values, non-sequences)
        among the step graph's inputs."""
        inner = self.inner_inputs
        return (inner[:self.n_seqs], inner[self.n_seqs:self.shared_start],
                inner[self.shared_start:self.shared_start + self.n_shared], inner[self.shared_start + self.n_shared:])

    def keeping_last(self, last_only):
        """This loop, keeping of output j only its last step where ``last_only[j]``
        (that output is then an array of one step): its buffer holds just the past
        values its taps read, so memory does not grow with the number of steps."""
        op = Scan(self.inner_inputs, self.inner_outputs, self.n_seqs, self.state_taps, self.n_shared, self.until,
                  self.scan_name, self.mode, self.allow_gc, self.truncate_gradient)
        op.last_only = tuple(last_only)
        op._inner_functions = self._inner_functions   # the same step graph
        return op

    # the outer node ------------------------------------------------------------------
    def expected_inputs(self):
        """(what it is, TensorType) of each outer input after n_steps."""
        stacked = [(f"sequence {k}", self.inner_inputs[k].type, 1) for k in range(self.n_seqs)]
        initials = [(f"the initial state of output {j}", t, 1)
                    for j, (t, taps) in enumerate(zip(self.state_types, self.state_taps)) if taps]
        rest = self.inner_inputs[self.shared_start:]
        shared = [(f"updated shared value {k}", v.type, 0) for k, v in enumerate(rest[:self.n_shared])]
        others = [(f"non-sequence {k}", v.type, 0) for k, v in enumerate(rest[self.n_shared:])]
        return stacked + initials + shared + others

    def make_node(self, n_steps, *inputs):
        if n_steps.ndim != 0 or np.dtype(n_steps.type.dtype).kind not in "iu":
            raise TypeError(f"{self}: n_steps must be an integer scalar, got {n_steps} of type {n_steps.type}")
        expected = self.expected_inputs()
        if len(inputs) != len(expected):
            raise TypeError(f"{self} takes {len(expected) + 1} inputs, got {len(inputs) + 1}")
        for var, (what, inner, lead) in zip(inputs, expected):
            want = TensorType(inner.dtype, (None,) * lead + inner.shape)
            if not compatible_types(var.type, want):
                raise TypeError(f"{self}: {what} must be of type {want}, got {var} of type {var.type}")
        return Apply(self, [n_steps, *inputs], [t() for t in self.output_types])

    def infer_shape(self, node, input_shapes):
        if self.until or not all(self.state_taps):
            raise NotImplementedError(f"{self}: the number of steps or a step's shape is known only "
                                      "when it runs")
        from clgraph.tensor.basic import minimum

        _, initials, shared, _ = self.outer_parts(input_shapes)
        steps = [minimum(node.inputs[0], 1) if last else node.inputs[0] for last in self.last_only]
        return [(n,) + tuple(shape[1:]) for n, shape in zip(steps, initials)] + list(shared)

    # running -------------------------------------------------------------------------
    def inner_function(self, context=None):
        """The compiled step, for the host (None) or device ``context``: compiled once."""
        function = self._inner_functions.get(context)
        if function is None:
            outputs = None if context is None else (
                [context] * (len(self.inner_outputs) - self.until) + ["cpu"] * self.until)
            from clgraph.compile.function import compile_graph

            function = self._inner_functions[context] = compile_graph(
                self.inner_inputs, self.inner_outputs, self.mode, self.allow_gc, context, outputs)
        return function

    def perform(self, node, inputs):
        step = self.inner_function()
        return run_loop(self, inputs, HostStorage, lambda values, targets: step(values))

    # gradients -----------------------------------------------------------------------
    def L_op(self, inputs, outputs, output_grads):
        """Backpropagation through time: a scan over the steps in reverse order whose
        step is the vector-Jacobian product of this step graph. Its state carries, for
        each fed-back output, the gradients later steps sent to its past values (one
        entry per step back, as deep as its deepest tap) and, for each non-sequence, the
        sum of its gradients so far."""
        from clgraph.gradient import grad_not_implemented

        if self.until or self.n_shared:
            why = ("(a loop that ends with until)" if self.until
                   else "(a loop that updates shared variables)")
            return [None] + [grad_not_implemented(self, k, x, why) for k, x in enumerate(inputs) if k]
        return _backpropagation_through_time(self, inputs, outputs, output_grads)


def _backpropagation_through_time(op, inputs, outputs, output_grads):
    import clgraph.tensor as T
    from clgraph.gradient import Lop
    from clgraph.graph.basic import clone_replace

    from .scan import scan

    n = inputs[0]
    # truncated backpropagation: through the last ``truncate_gradient`` steps only
    back = n if op.truncate_gradient < 0 else T.minimum(n, op.truncate_gradient)
    sequences, initials, shared, others = op.outer_parts(inputs)
    non_sequences = shared + others   # no shared updates here: L_op refused them
    fed = [j for j, taps in enumerate(op.state_taps) if taps]
    depths = [-min(op.state_taps[j]) for j in fed]
    n_taps = sum(len(taps) for taps in op.state_taps)
    # what each step read, last step first: sequence entries, the outputs' past values
    # (the initial entries, then the steps'), and the gradients of its outputs
    backward = [s[:n][::-1] for s in sequences]
    for j, initial, depth in zip(fed, initials, depths):
        values = T.concatenate([initial, outputs[j]])
        backward += [values[depth + k:depth + k + n][::-1] for k in op.state_taps[j]]
    backward += [g[::-1] for g in output_grads[:op.n_outputs]]
    # and what each step computed of the fed-back outputs: their gradients (tanh's,
    # sigmoid's...) read them instead of computing the step again
    backward += [outputs[j][:n][::-1] for j in fed]
    step_entries, step_taps, _, step_others = op.inner_parts()
    forward_inputs = step_entries + step_taps + step_others

    def step(*args):
        entries, taps = list(args[:op.n_seqs]), list(args[op.n_seqs:op.n_seqs + n_taps])
        rest = args[op.n_seqs + n_taps:]
        output_grads_t, rest = rest[:op.n_outputs], rest[op.n_outputs:]
        computed, rest = rest[:len(fed)], rest[len(fed):]
        pending, rest = rest[:len(fed)], rest[len(fed):]
        sums, values = rest[:len(non_sequences)], list(rest[len(non_sequences):])
        incoming = list(output_grads_t)
        for j, waiting in zip(fed, pending):
            incoming[j] = incoming[j] + waiting[0]
        expressions = clone_replace(op.inner_outputs[:op.n_outputs],
                                    dict(zip(forward_inputs, entries + taps + values)))
        grads = Lop(expressions, entries + taps + values, incoming, disconnected_inputs="ignore")
        grads = clone_replace(grads, {expressions[j]: y for j, y in zip(fed, computed)})
        entry_grads, tap_grads, value_grads = (grads[:op.n_seqs], grads[op.n_seqs:op.n_seqs + n_taps],
                                               grads[op.n_seqs + n_taps:])
        new_pending, at = [], 0
        for j, waiting, depth in zip(fed, pending, depths):
            sent = dict(zip(op.state_taps[j], tap_grads[at:at + len(op.state_taps[j])]))
            at += len(op.state_taps[j])
            now = T.stack([sent.get(-(m + 1), T.zeros_like(waiting[0])) for m in range(depth)])
            # what was sent to steps further back moves one entry nearer (none at depth 1)
            new_pending.append(now if depth == 1 else now + T.concatenate([waiting[1:], T.zeros_like(waiting[:1])]))
        return entry_grads + new_pending + [total + g for total, g in zip(sums, value_grads)]

    starts = [T.zeros_like(initial) for initial in initials] + [T.zeros_like(v) for v in non_sequences]
    results, _ = scan(step, sequences=backward, outputs_info=[None] * op.n_seqs + starts,
                      non_sequences=non_sequences, n_steps=back, return_list=True)
    entry_grads = [T.set_subtensor(T.zeros_like(s)[n - back:n], r[::-1]) for s, r in zip(sequences, results)]
    # each carried value's last step (the start after no step): the loop keeps no other
    finals = [T.concatenate([start[None], stacked[-1:]])[-1] for start, stacked in zip(starts, results[op.n_seqs:])]
    # the last state holds what the first steps sent to the initial entries, nearest
    # first; a truncated backward pass does not reach them
    initial_grads = [final[::-1] if op.truncate_gradient < 0 else T.switch(T.eq(back, n), final[::-1], 0)
                     for final in finals[:len(fed)]]
    return [None] + entry_grads + initial_grads + finals[len(fed):]


class HostStorage:
    """The loop's buffers as numpy arrays (the device version: scan_module.device)."""

    @staticmethod
    def empty(shape, dtype):
        return np.empty(shape, dtype)

    @staticmethod
    def write(target, value):
        target[...] = value

    @staticmethod
    def entry(array, i):
        return array[i, ...]   # a view, 0-d ones too


class _Buffer:
    """Where one fed-back value lives: ``length`` entries used as a ring (for outputs the
    ring never wraps: it holds the past values and every step; for updated shared
    variables it holds the current and the next value). Step ``t`` writes entry
    ``(depth + t) % length`` and reads tap ``k`` at ``(depth + t + k) % length``."""

    def __init__(self, what, array, depth, storage):
        self.what, self.array, self.depth, self.storage = what, array, depth, storage
        self.length = array.shape[0]

    def read(self, t, tap):
        return self.storage.entry(self.array, (self.depth + t + tap) % self.length)

    def slot(self, t):
        """Where step ``t``'s value goes."""
        return self.storage.entry(self.array, (self.depth + t) % self.length)

    def write(self, t, value, target=None):
        """Put step ``t``'s value in its slot (``target``, when the caller has it)."""
        target = self.slot(t) if target is None else target
        if tuple(value.shape) != tuple(target.shape):
            raise ValueError(f"{self.what}: step {t} gave a value of shape {tuple(value.shape)}, but its "
                             f"initial state or earlier steps have shape {tuple(target.shape)}; every "
                             "step must give the same shape")
        self.storage.write(target, value)


def _initial_buffer(storage, what, initial, depth, extra):
    """A buffer holding the ``depth`` entries of ``initial`` and room for ``extra`` more."""
    if initial.shape[0] != depth:
        raise ValueError(f"{what}: the initial state needs {depth} entries (for its taps), got an "
                         f"array of shape {tuple(initial.shape)}")
    array = storage.empty((depth + extra,) + tuple(initial.shape[1:]), initial.dtype)
    if depth:
        storage.write(array[:depth], initial)
    return _Buffer(what, array, depth, storage)


def run_loop(op, inputs, storage, step, whole=None):
    """The outputs of ``op`` for ``inputs``, calling ``step(inputs, targets)`` once per
    step (the compiled step graph; ``targets``: where each result goes, None while
    unknown, so that a step may compute a result there); ``storage`` allocates the
    buffers and copies values into them (not a value already in place). ``whole``:
    a function ``(n_steps, sequences, buffers, non_sequences)`` that runs every step at
    once where it can, and says whether it did (scan_module.whole_loop)."""
    n_steps = int(inputs[0])
    if n_steps < 0:
        raise ValueError(f"{op}: n_steps must not be negative, got {n_steps}")
    sequences, initials, shared, non_sequences = op.outer_parts(inputs)
    for k, seq in enumerate(sequences):
        if seq.shape[0] < n_steps:
            raise ValueError(f"{op}: sequence {k} has {seq.shape[0]} entries (after its taps), fewer "
                             f"than the {n_steps} steps to run")
    initials = iter(initials)
    names = [f"scan output {j}" for j in range(op.n_outputs)]
    # an output of which only the last step is kept has room for one step beyond its taps
    buffers = [_initial_buffer(storage, names[j], next(initials), -min(taps), 1 if op.last_only[j] else n_steps)
               if taps else None for j, taps in enumerate(op.state_taps)]
    states = [_initial_buffer(storage, f"the update of shared value {k}", value[None, ...], 1, 1)
              for k, value in enumerate(shared)]
    done = n_steps
    ran = whole is not None and n_steps > 0 and whole(n_steps, sequences, buffers, non_sequences)
    for t in range(0 if ran else n_steps):
        args = [storage.entry(seq, t) for seq in sequences]
        for buffer, taps in zip(buffers, op.state_taps):
            args += [buffer.read(t, k) for k in taps]
        args += [state.read(t, -1) for state in states]
        targets = [b.slot(t) if b is not None else None for b in buffers] + [s.slot(t) for s in states]
        results = step(args + non_sequences, targets)
        for j, value in enumerate(results[:op.n_outputs]):
            if buffers[j] is None:   # an output not fed back: its shape is the first step's
                length = 1 if op.last_only[j] else n_steps
                array = storage.empty((length,) + tuple(value.shape), op.output_types[j].dtype)
                buffers[j] = _Buffer(names[j], array, 0, storage)
            buffers[j].write(t, value, targets[j])
        for state, value, target in zip(states, results[op.n_outputs:], targets[op.n_outputs:]):
            state.write(t, value, target)
        # the condition is read back on the host at every step: the loop cannot know
        # whether to go on otherwise
        if op.until and bool(np.asarray(results[-1])):
            done = t + 1
            break
    outputs = []
    for j, buffer in enumerate(buffers):
        if buffer is None:   # no step ran: nothing tells the shape but the static one
            shape = tuple(0 if n is None else n for n in op.output_types[j].shape[1:])
            outputs.append(storage.empty((0,) + shape, op.output_types[j].dtype))
        elif op.last_only[j]:
            last = (buffer.depth + done - 1) % buffer.length
            outputs.append(buffer.array[last:last + 1] if done else buffer.array[:0])
        else:
            outputs.append(buffer.array[buffer.depth:buffer.depth + done])
    return outputs + [state.read(done, -1) for state in states]
