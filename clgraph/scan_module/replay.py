"""Replaying a loop's step on a device.

Every step of a loop runs the same compiled step graph on inputs of the same shapes:
views that move along the sequences and the outputs' buffers. Running its VM costs tens
of microseconds of Python per node, more than its kernels take on small steps. So the
first steps run the VM while their commands (kernel launches, device copies, fills) are
traced; once two steps in a row enqueued the same commands, but for where the step's
inputs lie, the later steps enqueue those commands directly, with the inputs' buffers
and offsets put in. A step is replayed only if it enqueues nothing else (no transfer
to or from the host) and every buffer a command touches either holds one input or is
the step's own (its intermediate results, held for the loop's length); otherwise the
VM runs every step.
"""
import numpy as np

from clgraph.backends import context as _context

_TRACED_STEPS = 4   # steps traced before giving up on finding two alike


class _Command:
    """One traced command: ``places`` are the (block, offset) it touches, each filled at
    replay from the step's own buffers (or the loop's, for a result computed in place) or
    from an input; ``writes``: whether it surely writes each place; ``spans``: the bytes
    of its block each place reaches, (low, high)."""

    __slots__ = ("context", "kind", "places", "writes", "spans", "fixed", "signature", "_launch")

    def __init__(self, context, kind, places, writes, spans, fixed, signature):
        self.context, self.kind, self.places, self.writes, self.spans = context, kind, places, writes, spans
        self.fixed, self.signature = fixed, signature
        self._launch = None

    def prepare(self, movable):
        """Fill in once what no step changes: a launch's arguments and blocks in the
        step's own buffers, but those of ``movable`` (ids of blocks a result may leave)."""
        if self.kind != "launch":
            return
        kernel, n_groups, group_size, raw, slots, written, local_bytes = self.fixed
        raw, varying, reads, writes = list(raw), [], [], {}
        for at, (k, block, offset), is_written in zip(slots, self.places, written):
            if k is None and id(block) not in movable:
                raw[at], raw[at + 1] = block.handle, np.int64(block.offset + offset)
                if is_written:
                    writes[id(block)] = block
                else:
                    reads.append(block)
            else:
                varying.append((at, k, block, offset, is_written))
        self._launch = (kernel, n_groups, group_size, raw, varying, reads, list(writes.values()), local_bytes)

    def run(self, inputs, moved):
        if self.kind == "launch":
            kernel, n_groups, group_size, raw, varying, reads, writes, local_bytes = self._launch
            raw, reads, writes = list(raw), list(reads), list(writes)
            for at, k, block, offset, is_written in varying:
                block, offset = _resolve(k, block, offset, inputs, moved)
                raw[at], raw[at + 1] = block.handle, np.int64(block.offset + offset)
                if not is_written:
                    reads.append(block)
                elif all(b is not block for b in writes):
                    writes.append(block)
            self.context.relaunch(kernel, n_groups, group_size, raw, reads, writes, local_bytes)
            return
        places = [_resolve(k, block, offset, inputs, moved) for k, block, offset in self.places]
        if self.kind == "copy":
            nbytes, src_context = self.fixed
            (dst, dst_offset), (src, src_offset) = places
            self.context.copy(dst, dst_offset, src, src_offset, nbytes, src_context)
        else:
            ((block, offset),) = places
            self.context.fill_zero(block, offset, self.fixed)


def _resolve(k, block, offset, inputs, moved):
    """(block, offset) of a traced place for a step on ``inputs``: in input ``k``'s
    buffer, or in the step's own ``block``, unless ``moved`` (id(own block) -> (block,
    shift)) puts that buffer where a result goes."""
    if k is not None:
        return inputs[k].block, inputs[k].offset + offset
    if id(block) in moved:
        target, shift = moved[id(block)]
        return target, offset + shift
    return block, offset


class StepPlan:
    """The commands of one traced step, and where its results lie."""

    def __init__(self, inputs):
        self.inputs = inputs
        self.layouts = [(x.shape, x.strides, x.dtype, x.context) for x in inputs]
        self.commands = []
        self.results = None
        self.replayable = all(getattr(x, "block", None) is not None for x in inputs)
        self._own = {}   # id(block) -> order of first use: how two plans' own buffers correspond

    def _place(self, block, offset):
        """(input index, offset from that input, its signature) of a place in an input's
        buffer, (None, offset, signature) in the step's own; None where two inputs share
        the buffer (which one the place moves with is unclear)."""
        sharing = [k for k, x in enumerate(self.inputs) if x.block is block]
        if len(sharing) > 1:
            return None
        if sharing:
            k = sharing[0]
            return k, offset - self.inputs[k].offset, ("input", k, offset - self.inputs[k].offset)
        return None, offset, ("own", self._own.setdefault(id(block), len(self._own)), offset)

    def _record(self, context, kind, placed, writes, fixed, signature):
        """Keep a command touching ``placed`` ((block, offset, (low, high) bytes it
        reaches) triples; ``writes``: whether it writes each); the plan is not
        replayable if one cannot be placed."""
        places = []
        for block, offset, _ in placed:
            place = self._place(block, offset)
            if place is None:
                self.replayable = False
                return
            k, where, mark = place
            places.append((k, block if k is None else None, where))
            signature.append(mark)
        self.commands.append(_Command(context, kind, places, writes, [span for *_, span in placed], fixed,
                                      (kind, id(context), *signature)))

    # what the context reports while the step is traced --------------------------------
    def launched(self, context, kernel, n_groups, group_size, args, written, declared, local_bytes):
        """``written``: ids of the blocks the launch may write; ``declared``: whether the
        kernel named them (else every array counts as written, maybe only read)."""
        if not self.replayable:
            return
        raw, slots, placed, is_written = [], [], [], []
        signature = [id(kernel), n_groups, group_size, local_bytes]
        for arg in args:
            block = getattr(arg, "block", None)
            if block is None:
                raw.append(arg)
                signature.append((type(arg), np.asarray(arg).tobytes()))
                continue
            slots.append(len(raw))
            raw += [None, None]
            placed.append((block, arg.offset, arg._byte_span()))
            is_written.append(id(block) in written)
        signature.append(tuple(is_written))
        self._record(context, "launch", placed, [w and declared for w in is_written],
                     (kernel, n_groups, group_size, raw, slots, is_written, local_bytes), signature)

    def copied(self, context, dst, dst_offset, src, src_offset, nbytes, src_context):
        if self.replayable:
            self._record(context, "copy", [(dst, dst_offset, (dst_offset, dst_offset + nbytes)),
                                           (src, src_offset, (src_offset, src_offset + nbytes))], [True, False],
                         (nbytes, src_context), [nbytes, id(src_context)])

    def filled(self, context, block, offset, nbytes):
        if self.replayable:
            self._record(context, "fill", [(block, offset, (offset, offset + nbytes))], [True], nbytes, [nbytes])

    def finish(self, results, enqueued):
        """Record the step's ``results``; ``enqueued``: how many commands it enqueued."""
        if enqueued != len(self.commands):   # a transfer to or from the host
            self.replayable = False
        self.results = []
        for value in results:
            place = self._place(value.block, value.offset) if getattr(value, "block", None) is not None else None
            if place is None:
                self.replayable = False
                return
            k, where, mark = place
            self.results.append((value, k, where, mark))
        self.movable = [k is None and self._movable(value) for value, k, _, _ in self.results]
        movable = {id(value.block) for (value, *_), can in zip(self.results, self.movable) if can}
        for command in self.commands:
            command.prepare(movable)

    def _movable(self, value):
        """Whether the step can compute result ``value`` (in its own buffer) wherever the
        loop puts it: the buffer holds no other result, every command reaches only
        ``value``'s bytes of it (a result that is part of a larger array is not), and the
        first one that touches it writes it."""
        if not value.c_contiguous or not value.size or sum(v.block is value.block for v, *_ in self.results) > 1:
            return False
        touches = [(span, written) for command in self.commands
                   for (k, block, _), written, span in zip(command.places, command.writes, command.spans)
                   if block is value.block]
        return bool(touches) and touches[0][1] and all(
            value.offset <= low and high <= value.offset + value.nbytes for (low, high), _ in touches)

    def signature(self):
        return (tuple(self.layouts), tuple(command.signature for command in self.commands),
                tuple((mark, value.shape, value.strides) for value, _, _, mark in self.results))

    # replaying ------------------------------------------------------------------------
    def fits(self, inputs):
        return len(inputs) == len(self.layouts) and all(
            getattr(x, "block", None) is not None and (x.shape, x.strides, x.dtype, x.context) == layout
            for x, layout in zip(inputs, self.layouts))

    def run(self, inputs, targets=()):
        """The step on ``inputs``: its commands with the inputs' places filled in; a
        result computed in its own buffer is computed in its target instead where the
        plan allows (``targets``: where each result goes, or None)."""
        moved, results = {}, []
        for r, (value, k, where, _) in enumerate(self.results):
            target = targets[r] if r < len(targets) else None
            if (self.movable[r] and target is not None and target.shape == value.shape
                    and target.dtype == value.dtype and target.strides == value.strides):   # contiguous too
                moved[id(value.block)] = (target.block, target.offset - value.offset)
                results.append(target)
            elif k is None:
                results.append(value)
            else:
                results.append(inputs[k]._view(value.shape, value.strides, inputs[k].offset + where))
        for command in self.commands:
            command.run(inputs, moved)
        return results


class ReplayedStep:
    """A loop's compiled step (a VM) called once per step, replayed once two traced
    steps agree. One per run of the loop: the plan holds the step's buffers, and what
    the step's first calls found holds for this run only (weights packed once for the
    GEMM are packed again if they changed between runs)."""

    def __init__(self, step):
        self.step = step
        self.plan = None
        self.previous = None   # the last traced step's signature
        self.traced = 0

    def __call__(self, inputs, targets=()):
        if self.plan is not None and self.plan.fits(inputs):
            return self.plan.run(inputs, targets)
        if self.traced >= _TRACED_STEPS:
            return self.step(inputs)
        self.traced += 1
        plan = StepPlan(inputs)
        _context._launch_tracers.append(plan)
        try:
            with _context.recording() as events:
                results = self.step(inputs)
        finally:
            _context._launch_tracers.remove(plan)
        plan.finish(results, len(events))
        if plan.replayable:
            signature = plan.signature()
            if signature == self.previous:
                self.plan = plan
            self.previous = signature
        return results
