"""The softmax family on devices: GpuSoftmaxFamily runs Softmax, LogSoftmax, their
gradients and the categorical cross-entropies (and theirs) with the one-pass-per-line
kernels of codegen.softmax, from inputs of any strides.

Class indices are taken where they are. On the host they are checked (an IndexError
naming the op, the row and the index, before any launch) and uploaded; on the device
they are read back for the check, unless the same values passed it at the last call
(their buffer not written since), and used in place.
"""
from functools import partial

import numpy as np

from clgraph.backends import DeviceArray, to_device, while_unwritten
from clgraph.codegen.elemwise import collapse_dims
from clgraph.codegen.softmax import SoftmaxKernel
from clgraph.tensor.nnet.softmax import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                                         CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx, LogSoftmax,
                                         LogSoftmaxGrad, Softmax, SoftmaxGrad, check_class_indices)

from .device_ops import OnDevice, launch_over, output_array
from .placement import _takes_where_they_are, register_device_implementation

# host op class -> kernel mode
_MODES = {Softmax: "softmax", LogSoftmax: "log_softmax", SoftmaxGrad: "softmax_grad",
          LogSoftmaxGrad: "log_softmax_grad", CrossentropyCategorical1Hot: "xent_1hot",
          CrossentropyCategorical1HotGrad: "xent_1hot_dx", CrossentropySoftmax1Hot: "xent_softmax",
          CrossentropySoftmax1HotDx: "xent_softmax_dx"}


def _element_strides(array):
    return [s // array.itemsize for s in array.strides]


class GpuSoftmaxFamily(OnDevice):
    """An op of the softmax family on a device: a C-contiguous output from one kernel
    launch, one work-item per line."""

    reuses_outputs = fresh_outputs = True

    def __init__(self, host_op, dtype, index_dtype=None):
        super().__init__(host_op)
        self.kernel = SoftmaxKernel(_MODES[type(host_op)], dtype, index_dtype)

    @property
    def axis(self):
        """The axis of the lines: the op's, or the classes of a cross-entropy's rows."""
        return getattr(self.host_op, "axis", 1)

    def _checked_inputs(self, inputs):
        """{kernel array: value}, class indices checked and uploaded; ValueError when
        the arrays do not fit together."""
        arrays = dict(zip(self.kernel.inputs, inputs))
        lines = arrays["a"]
        context = lines.context
        if "b" in arrays and arrays["b"].shape != lines.shape:
            raise ValueError(f"{self}: dy and the op's output must have the same shape, got {lines.shape} "
                             f"and {arrays['b'].shape}")
        if "g" in arrays and arrays["g"].shape != lines.shape[:1]:
            raise ValueError(f"{self}: g_nll must have one value per row ({lines.shape[0]} rows), got shape "
                             f"{arrays['g'].shape}")
        if "idx" in arrays:
            arrays["idx"] = self._class_indices(arrays["idx"], lines.shape, context)
        return arrays

    def _class_indices(self, idx, shape, context):
        """The class indices on the device, checked. Indices on the device are read
        back for the check, unless these very values (their buffer not written since)
        passed it before: a training loop's labels are read once."""
        if not isinstance(idx, DeviceArray):
            return to_device(check_class_indices(self, idx, *shape), context)
        while_unwritten(idx, ("class indices in range", tuple(shape)),
                        lambda: check_class_indices(self, idx.get(), *shape) is not None)
        return idx

    def perform(self, node, inputs, previous=None):
        kernel = self.kernel
        arrays = self._checked_inputs(inputs)
        lines_of = arrays["a"]
        context = lines_of.context
        shape = lines_of.shape[:1] if kernel.per_row_output else lines_of.shape
        out = arrays["out"] = output_array(previous, 0, shape, node.outputs[0].type.dtype, context)
        if out.size == 0:
            return [out]
        ordered = [arrays[a] for a in kernel.arrays]
        built, lines, sizes = self.planned(ordered, lambda: self._plan(context, arrays))
        launch_over(built, lines, *ordered, *sizes, outputs=[out])
        return [out]

    def _plan(self, context, arrays):
        """(kernel, lines, its size arguments) for arrays of these layouts."""
        kernel, axis, lines_of = self.kernel, self.axis, arrays["a"]
        kept = [d for d in range(lines_of.ndim) if d != axis]
        per_line = set(kernel.arrays) - set(kernel.line_arrays)
        strides = [_element_strides(arrays[a]) if a in per_line else
                   [_element_strides(arrays[a])[d] for d in kept] for a in kernel.arrays]
        kdims, kstrides = collapse_dims([lines_of.shape[d] for d in kept], strides)
        lines = int(np.prod(kdims))
        steps = [_element_strides(arrays[a])[axis] for a in kernel.line_arrays]
        dims = [v for d, n in enumerate(kdims) for v in [n] + [s[d] for s in kstrides]]
        width = kernel.vector_width(context.info) if all(step == 1 for step in steps) else 1
        built = self.built_kernel(context, (len(kdims), width), lambda: kernel.source(len(kdims), width))
        return built, lines, [np.int64(v) for v in [lines, lines_of.shape[axis], *steps, *dims]]

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the kernels this node may run:
        on OpenCL CPU devices also the one on vectors."""
        kept = max(1, node.inputs[self.kernel.inputs.index("a")].ndim - 1)
        widths = {1, self.kernel.vector_width(device) if dialect == "opencl" else 1}
        return dict(self.kernel.source(kept, width) for width in widths)


# ops with class indices -> the position of the indices (taken where they are)
_INDEXED = {CrossentropyCategorical1Hot: 1, CrossentropySoftmax1Hot: 1, CrossentropyCategorical1HotGrad: 2,
            CrossentropySoftmax1HotDx: 2}


def _on_device(node, inputs, context):
    position = _INDEXED.get(type(node.op))
    index_dtype = None if position is None else node.inputs[position].type.dtype
    return GpuSoftmaxFamily(node.op, node.outputs[0].type.dtype, index_dtype).make_node(*inputs)


for _op_class in _MODES:
    _implementation = _on_device if _op_class not in _INDEXED else _takes_where_they_are(
        [_INDEXED[_op_class]], partial(_on_device))
    register_device_implementation(_op_class)(_implementation)
