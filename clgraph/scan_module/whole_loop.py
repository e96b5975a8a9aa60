"""Running a whole loop on a device as one kernel, where its step allows.

A recurrent layer's step, h_t = f(h_{t-1} @ W, x_t, ...), compiles to one node: a GEMM
with an elementwise epilogue (compile.device_epilogue). Row i of h_t then reads row i
of h_{t-1} only, so the steps need not wait for each other across the device: one
launch runs them all, each group of work-items owning its rows for every step
(gemm_blocked.c's loop kernel). A step that is one elementwise node (h + 1, prior * A)
reads element i of the state for element i: a work-item then runs every step of its
elements (elemwise_steps.c, on every device). That spares a launch, and the host's
work, per step.

``whole_loop`` gives the function run_loop calls for this where the loop's step graph
is that one node: one output fed back at one tap, read once (as the product's left
operand where there is one); the product's right operand a non-sequence; the node's
other inputs sequence entries or non-sequences; no shared updates, no ``until``. Where
the values do not fit (see GpuDotElemwise.loop, GpuElemwise.loop), the loop runs step
by step.
"""
from clgraph.compile.device_epilogue import GpuDotElemwise
from clgraph.compile.device_ops import GpuElemwise


def whole_loop(op, step):
    """For Scan ``op`` and its compiled step ``step`` (a VM), a function
    ``run(n_steps, sequences, buffers, non_sequences)`` that runs every step at once
    and says whether it did; None where the step graph is not one that can."""
    if op.until or op.n_shared or op.n_outputs != 1 or len(op.state_taps[0]) != 1 or len(step.thunks) != 1:
        return None
    thunk = step.thunks[0]
    node_op = thunk.node.op
    if not isinstance(node_op, (GpuDotElemwise, GpuElemwise)) or step.output_slots != thunk.outputs:
        return None
    inner = {slot: k for k, slot in enumerate(step.input_slots)}   # slot -> index of the step's input
    if any(slot not in inner for slot in thunk.inputs):
        return None
    inputs = [inner[slot] for slot in thunk.inputs]
    tap_input, non_sequences_start = op.first_tap[0], op.shared_start
    if inputs.count(tap_input) != 1:
        return None
    (tap,) = op.state_taps[0]
    at = inputs.index(tap_input)
    if isinstance(node_op, GpuDotElemwise):   # the product's operands come first: a = the tap
        a, b, *others = inputs
        if at != 0 or b < non_sequences_start:
            return None
    else:
        others = inputs[:at] + inputs[at + 1:]

    def run(n_steps, sequences, buffers, non_sequences):
        def value(k):   # (value at step 0, elements between steps) of the step's input k
            if k < op.n_seqs:
                seq = sequences[k]
                return seq[0], seq.strides[0] // seq.dtype.itemsize
            return non_sequences[k - non_sequences_start], 0

        buffer, values = buffers[0], [value(k) for k in others]
        if isinstance(node_op, GpuDotElemwise):
            return node_op.loop(buffer.array, buffer.depth, tap, n_steps, non_sequences[b - non_sequences_start],
                                values)
        return node_op.loop(buffer.array, buffer.depth, tap, n_steps, at, values)

    return run
