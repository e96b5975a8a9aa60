"""Sort and argsort on devices: GpuSort and GpuArgSort run SortOp and ArgSortOp with
the kernel of codegen.sort.

Whatever kind the graph asks for, the device sort is stable: argsort gives numpy's
``kind='stable'`` result (equal keys keep their order, so results are the same on every
device and every run), and sort keeps -0.0 and 0.0, and NaNs, in input order. NaNs sort
last, as in numpy.

Lines that fit a tile (a power of two of positions in local memory) are sorted there
by one launch, several short lines per work-group. A longer line is sorted tile by
tile into scratch (key, index) pairs, which the later stages of the bitonic network
merge: each launch runs up to log2(tile) consecutive steps of a stage on tiles whose
elements are the positions those steps compare (strided for the long distances), so
stage k costs ceil(log2(k) / log2(tile)) passes over memory; the last launch writes the
output. The axis (input 1) is a host value.
"""
import numpy as np

from clgraph.backends import empty
from clgraph.codegen.elemwise import collapse_dims
from clgraph.codegen.sort import SortKernel, index_type, key_kind, key_type, tile
from clgraph.tensor.shape_ops import normalize_axis
from clgraph.tensor.sort import ArgSortOp, SortOp

from .device_ops import OnDevice, output_array
from .placement import _keeps_on_host, register_device_implementation

_SCRATCH_DTYPES = {"ga_uint": np.uint32, "ga_ulong": np.uint64}
# PoCL ran short lines up to 1.8x faster in tiles of 512 than of 2048 (long lines
# alike); GPUs get the largest tile, for the fewest passes over memory.
_CPU_TILE = 512


class GpuSort(OnDevice):
    """A SortOp on a device: the values of each line in stable order."""

    argsort = False
    reuses_outputs = fresh_outputs = True

    def _kernel(self, context, itemsize, kept, padded):
        return self.built_kernel(context, (itemsize, kept, index_type(padded)),
                                 lambda: SortKernel(itemsize).source(kept, padded))

    def perform(self, node, inputs, previous=None):
        x, axis = inputs
        axis = normalize_axis(str(self), int(axis), x.ndim)
        out = output_array(previous, 0, x.shape, node.outputs[0].type.dtype, x.context)
        if out.size:
            self._sort(x, axis, out)
        return [out]

    def _sort(self, x, axis, out):
        context, n = x.context, x.shape[axis]
        others = [d for d in range(x.ndim) if d != axis]
        kdims, (kin, kout) = collapse_dims(
            [x.shape[d] for d in others],
            [[x.strides[d] // x.itemsize for d in others], [out.strides[d] // out.itemsize for d in others]])
        padded = 1 << (n - 1).bit_length()
        total = x.size // n * padded
        kernel = self._kernel(context, x.itemsize, len(kdims), padded)
        # 8 positions a work-item, at most what a group allows. One tile size (one group
        # size) whatever the shape: PoCL compiles a kernel again for each new group size.
        size = min(tile(x.itemsize, padded), 8 << (kernel.max_group_size.bit_length() - 1))
        if context.info.kind == "CPU":
            size = min(size, _CPU_TILE)
        tile_bits = size.bit_length() - 1
        fixed = [np.int64(v) for v in (n, padded, padded.bit_length() - 1, total)]
        layout = [np.int64(v) for v in (int(self.argsort), key_kind(x.dtype), x.strides[axis] // x.itemsize,
                                        out.strides[axis] // out.itemsize)]
        layout += [np.int64(v) for triple in zip(kdims, kin, kout) for v in triple]

        def launch(scratch, stride, k_first, k_last, j_top, from_input=0, to_output=0):
            kernel(-(-total // size), size // 8, out, x, *scratch, *fixed,
                   *map(np.int64, (size, tile_bits, stride.bit_length() - 1, k_first, k_last, j_top,
                                   from_input, to_output)), *layout,
                   outputs=[out, *scratch])

        if padded <= size:   # whole lines in a tile: one launch, no scratch
            launch((out, out), 1, 2, padded, 1, from_input=1, to_output=1)
            return
        scratch = (empty((total,), _SCRATCH_DTYPES[key_type(x.itemsize)], context),
                   empty((total,), _SCRATCH_DTYPES[index_type(padded)], context))
        launch(scratch, 1, 2, size, 1, from_input=1)
        for stage_bits in range(tile_bits + 1, padded.bit_length()):
            # Stage k's steps j = k/2 ... 1, a launch for each run of tile_bits of them
            # (a tile's elements span k or less), the last launch the remainder.
            left = stage_bits
            while left:
                run = min(tile_bits, left)
                stride = 1 << (left - run)
                launch(scratch, stride, 1 << stage_bits, 1 << stage_bits, 1 << (left - 1),
                       to_output=int(stride == 1 and 1 << stage_bits == padded))
                left -= run

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the kernels this node may run."""
        x = node.inputs[0]
        return SortKernel(np.dtype(x.type.dtype).itemsize).sources(x.ndim)

    def __str__(self):
        return f"{type(self).__name__}{{stable}}"


class GpuArgSort(GpuSort):
    """An ArgSortOp on a device: the int64 positions that sort each line, stably."""

    argsort = True


def _implementation(device_op):
    return _keeps_on_host([1], lambda node, inputs, context: device_op(node.op).make_node(*inputs))


register_device_implementation(SortOp)(_implementation(GpuSort))
register_device_implementation(ArgSortOp)(_implementation(GpuArgSort))
