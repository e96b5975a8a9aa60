"""Layout ops on devices: views where the result is one, copies of views otherwise.

GpuSplit, GpuFlatten, GpuSpecifyShape and GpuRebroadcast give views of their input
(Flatten copies strided data first, as reshape does). GpuTile and GpuRepeat copy a view
with zero-stride axes (each element read as often as it is repeated) into a new array,
which a reshape merges back. GpuRoll copies the two stretches of a contiguous input
into place; GpuRoll of other inputs and GpuRepeat with one count per element gather
the input's elements at an index vector along the axis (codegen.indexing's gather
kernel), computed on the host. Axes, sizes, repetitions and shifts are host values.
"""
import numpy as np

from clgraph.backends import DeviceArray, empty, to_device
from clgraph.codegen.elemwise import collapse_dims
from clgraph.codegen.indexing import Addressing, gather_kernel
from clgraph.graph.basic import Apply
from clgraph.tensor.join import Split
from clgraph.tensor.shape_ops import Flatten, Rebroadcast, Repeat, Roll, SpecifyShape, Tile, normalize_axis
from clgraph.tensor.transfer import type_on

from .device_indexing import row_chunk
from .device_ops import OnDevice, launch_over
from .placement import _keeps_on_host, register_device_implementation


class ShapeCheckOnDevice(OnDevice):
    """A host op whose perform only reads its input's shape and returns the input or a
    reshape of it, which a DeviceArray does as well: it runs as it is, with its errors
    naming the device op."""

    def perform(self, node, inputs):
        try:
            return self.host_op.perform(node, inputs)
        except (AssertionError, ValueError) as exc:
            raise type(exc)(str(exc).replace(str(self.host_op), str(self), 1)) from None


class GpuFlatten(ShapeCheckOnDevice):
    """Flatten on a device: a view of C-contiguous data, a copy otherwise."""


class GpuSpecifyShape(ShapeCheckOnDevice):
    """SpecifyShape on a device: the input itself, once its shape is checked."""


class GpuRebroadcast(ShapeCheckOnDevice):
    """Rebroadcast on a device: the input itself, once the lengths of the axes made
    broadcastable are checked."""


class GpuSplit(OnDevice):
    """Split on a device: the pieces are views of the input."""

    def make_node(self, x, axis, splits):
        pieces = self.host_op.make_node(x, axis, splits).outputs
        return Apply(self, [x, axis, splits], [type_on(x.type.context, p.type.dtype, p.type.shape)()
                                               for p in pieces])

    def perform(self, node, inputs):
        x, axis, splits = inputs
        axis = normalize_axis(str(self), int(axis), x.ndim)
        sizes = [int(s) for s in splits]
        if len(sizes) != self.host_op.len_splits:
            raise ValueError(f"{self}: {len(sizes)} split sizes given for {self.host_op.len_splits} pieces")
        if any(s < 0 for s in sizes) or sum(sizes) != x.shape[axis]:
            raise ValueError(f"{self}: the split sizes {sizes} sum to {sum(sizes)}, but axis {axis} of "
                             f"the input (shape {x.shape}) has length {x.shape[axis]}")
        ends = np.cumsum(sizes)
        lead = (slice(None),) * axis
        return [x[lead + (slice(int(end - size), int(end)),)] for size, end in zip(sizes, ends)]


def _copied_through(x, shape, strides):
    """A new C-contiguous array of the elements of the view of ``x``'s memory with
    ``shape`` and byte ``strides`` (zero strides read an element again), copied through
    the view's fewest dimensions (the copy kernel's index arithmetic costs per
    dimension)."""
    dims, (steps,) = collapse_dims(shape, [strides])
    return DeviceArray(x.context, x.block, dims, x.dtype, steps, x.offset).copy().reshape(shape)


class GpuTile(OnDevice):
    """numpy's tile on a device: the input seen as (reps[0], x.shape[0], reps[1], ...)
    with zero strides on the repetitions, copied, then merged pairwise."""

    fresh_outputs = True

    def perform(self, node, inputs):
        x, reps = inputs
        reps = [int(r) for r in reps]
        if len(reps) != node.inputs[1].type.shape[0] or any(r < 0 for r in reps):
            raise ValueError(f"{self}: bad repetitions {tuple(reps)}")
        ndim = self.host_op.ndim
        shape = (1,) * (ndim - x.ndim) + x.shape
        strides = (0,) * (ndim - x.ndim) + x.strides
        reps = [1] * (ndim - len(reps)) + reps
        copied = _copied_through(x, [n for pair in zip(reps, shape) for n in pair],
                                 [s for stride in strides for s in (0, stride)])
        return [copied.reshape([r * n for r, n in zip(reps, shape)])]


class GatherAlongAxis(OnDevice):
    """An op along ``host_op.axis`` (None: of the flattened input) that may copy the
    input's elements at an index vector along that axis, with the gather kernel of
    codegen.indexing, into a new C-contiguous array."""

    fresh_outputs = True

    @staticmethod
    def _rendering(ndim, axis, dtype):
        """(addressing, (kernel name, source)) of the gather along ``axis`` of an
        ``ndim``-d array of ``dtype`` by one int64 index vector."""
        addressing = Addressing(ndim, tuple(("index", 0) if a == axis else ("dim", a) for a in range(ndim)),
                                ("int64",), (axis,))
        return addressing, gather_kernel(addressing, dtype)

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the gather."""
        x = node.inputs[0]
        ndim, axis = (1, 0) if self.host_op.axis is None else (x.ndim, self.host_op.axis)
        return dict([self._rendering(ndim, axis, x.type.dtype)[1]])

    def along(self, x):
        """(``x``, flattened when the op has no axis, and the axis to work along)."""
        return (x.reshape(-1), 0) if self.host_op.axis is None else (x, self.host_op.axis)

    def gather(self, x, axis, index):
        """x's elements at the host integer vector ``index`` along ``axis``."""
        out = empty(x.shape[:axis] + (len(index),) + x.shape[axis + 1:], x.dtype, x.context)
        if out.size == 0:
            return out
        addressing, (name, source) = self._rendering(x.ndim, axis, x.dtype)
        kernel = self.built_kernel(x.context, name, lambda: (name, source))
        chunk = row_chunk(x.context)
        arguments = addressing.arguments(out.shape, [s // x.itemsize for s in x.strides], x.shape, [[1]], chunk)
        index = to_device(np.asarray(index, np.int64), x.context)
        launch_over(kernel, Addressing.work_items(out.shape, chunk), out, x, index, *arguments, outputs=[out])
        return out


class GpuRepeat(GatherAlongAxis):
    """numpy's repeat on a device. One count for every element: the input seen with a
    zero-stride axis of that length after the axis, copied, then merged with the axis.
    One count per element (a host value): the gather of the elements at
    numpy.repeat(arange(length), counts)."""

    def sources(self, node, dialect, device):
        """The gather's, when the counts may be one per element (a vector)."""
        return super().sources(node, dialect, device) if node.inputs[1].ndim else {}

    def perform(self, node, inputs):
        x, repeats = inputs
        counts = np.asarray(repeats, dtype=np.int64).reshape(-1)
        x, axis = self.along(x)
        length = x.shape[axis]
        if counts.size not in (1, length):
            raise ValueError(f"{self}: {counts.size} repeats for an axis of length {length} "
                             f"(input shape {x.shape})")
        if (counts < 0).any():
            raise ValueError(f"{self}: negative repeats {tuple(counts.tolist())}")
        if (counts[1:] == counts[:1]).all():   # one count for every element
            count = int(counts[0]) if counts.size else 0
            copied = _copied_through(x, x.shape[:axis + 1] + (count,) + x.shape[axis + 1:],
                                     x.strides[:axis + 1] + (0,) + x.strides[axis + 1:])
            return [copied.reshape(x.shape[:axis] + (length * count,) + x.shape[axis + 1:])]
        return [self.gather(x, axis, np.repeat(np.arange(length), counts))]


class GpuRoll(GatherAlongAxis):
    """numpy's roll on a device. When the rows along the axis are stretches of memory
    (the axis leads a C-contiguous input), the last ``shift`` rows then the others are
    copied into the two stretches of the output; otherwise a gather of the elements at
    (arange(length) - shift) % length."""

    def perform(self, node, inputs):
        x, shift = inputs
        flat, axis = self.along(x)
        length = flat.shape[axis]
        shift = int(shift) % length if length else 0
        rows = flat.transpose([axis] + [a for a in range(flat.ndim) if a != axis])
        if not rows.c_contiguous:
            return [self.gather(flat, axis, (np.arange(length) - shift) % length).reshape(x.shape)]
        out = empty(x.shape, x.dtype, x.context)   # the same memory order as rows
        at = 0
        for piece in (rows[length - shift:], rows[:length - shift]):
            if piece.nbytes:
                x.context.copy(out.block, out.offset + at, piece.block, piece.offset, piece.nbytes)
            at += piece.nbytes
        return [out]


def _on_device(host_op_class, device_op_class, host_inputs=()):
    """Nodes of ``host_op_class`` run as ``device_op_class`` (placement keeps complex
    dtypes on the host), the inputs at ``host_inputs`` read on the host."""
    def on_device(node, inputs, context):
        return device_op_class(node.op).make_node(*inputs)
    register_device_implementation(host_op_class)(_keeps_on_host(host_inputs, on_device))


_on_device(Split, GpuSplit, [1, 2])
_on_device(Flatten, GpuFlatten)
_on_device(SpecifyShape, GpuSpecifyShape, [1])
_on_device(Rebroadcast, GpuRebroadcast)
_on_device(Tile, GpuTile, [1])
_on_device(Repeat, GpuRepeat, [1])
_on_device(Roll, GpuRoll, [1])
