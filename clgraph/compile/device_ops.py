"""Ops that run on device contexts: transfers, views and kernels.

Their values are DeviceArrays; ``perform`` enqueues work on the context's queue and
returns without waiting, so a compiled function synchronises only where a value goes to
the host. Names say where they run (GpuElemwise, GpuFromHost...), and none of them is an
Elemwise, so a graph's toposort tells host work from device work as the source
documents check it.
"""
import math

import numpy as np

from clgraph.backends import DeviceArray, empty, get_context, to_device
from clgraph.backends.array import CPU_RUN, c_strides, run_count
from clgraph.codegen.elemwise import collapse_dims
from clgraph.graph.basic import Apply
from clgraph.graph.op import Op
from clgraph.tensor.shape_ops import normalize_axis
from clgraph.tensor.transfer import DeviceTensorType, type_on
from clgraph.tensor.type import TensorType

_GROUP_SIZE = 256


class DeviceOp(Op):
    """An op whose inputs and outputs on devices are DeviceArrays.

    ``reuses_outputs``: perform takes ``previous`` (its outputs of the last call, which
    it may overwrite) and allocates through ``output_array``. ``fresh_outputs``: every
    output is a buffer of its own (no view of an input), so a later node may destroy it.
    """

    reuses_outputs = False
    fresh_outputs = False

    def built_kernel(self, context, key, rendering):
        """The kernel that ``rendering()`` ((name, source)) gives, built on ``context``:
        rendered and built on the first call for (context, key), then served from this
        op's cache, as rendering a template costs more than a launch."""
        cache = self.__dict__.setdefault("_kernel_cache", {})
        kernel = cache.get((context, key))
        if kernel is None:
            name, source = rendering()
            kernel = cache[(context, key)] = context.build(source).kernel(name)
        return kernel

    def likely_sources(self, node, context):
        """Sources (without the header) of the kernels the first call of ``node`` on
        ``context`` most likely builds, predicted from its types: a compiled function
        builds them before that call, together with its other nodes' (compile.prebuild).
        None predicted by default: the kernels build when first launched."""
        return []

    def planned(self, arrays, make):
        """``make()``, the launch plan for arrays of these layouts (shapes and strides on
        a context), made once per layout: planning costs more than a launch. At most
        64 layouts are kept (shapes that keep changing start the memo afresh)."""
        plans = self.__dict__.setdefault("_plans", {})
        key = (arrays[0].context, tuple((x.shape, x.strides) for x in arrays))
        plan = plans.get(key)
        if plan is None:
            if len(plans) > 64:
                plans.clear()
            plan = plans[key] = make()
        return plan

    def sharing_kernels(self, op):
        """``op``, another version of this op (inplace), given this op's kernel cache."""
        op._kernel_cache = self.__dict__.setdefault("_kernel_cache", {})
        return op


class Layout:
    """What kernel choices read of an array without its memory: its shape, dtype,
    C-contiguous strides and where it lives (a fused map's result that is never
    materialised, or a value predicted from its type before a first call)."""

    c_contiguous = True

    def __init__(self, shape, context, dtype):
        self.shape, self.ndim, self.context = tuple(shape), len(shape), context
        self.dtype = np.dtype(dtype)
        self.itemsize = self.dtype.itemsize
        self.size = math.prod(shape)
        self.strides = c_strides(shape, self.itemsize)


def likely_layouts(variables, context):
    """The Layouts that values of ``variables`` (inputs of one elementwise node) most
    likely have: C-contiguous, length 1 along their broadcastable axes, else the static
    length one of them knows, else 2 (a length no rule treats as special)."""
    known = {}
    for v in variables:
        for axis, n in enumerate(v.type.shape):
            if n is not None and n != 1:
                known.setdefault(axis, n)
    return [Layout([1 if b else known.get(axis, 2) for axis, b in enumerate(v.type.broadcastable)],
                   context, v.type.dtype) for v in variables]


def grid_stride_groups(kernel, n, group_size=_GROUP_SIZE):
    """(groups, group size) for ``n`` work-items of a kernel with grid-stride loops:
    enough groups to fill the device, no more."""
    group = min(group_size, kernel.max_group_size)
    return max(1, min(-(-n // group), max(64, kernel.context.info.compute_units * 32))), group


def launch_over(kernel, n, *args, outputs, group_size=_GROUP_SIZE):
    """Launch ``kernel`` over ``n`` work-items in grid-stride loops."""
    groups, group = grid_stride_groups(kernel, n, group_size)
    kernel(groups, group, *args, outputs=outputs)


def output_array(previous, index, shape, dtype, context):
    """A C-contiguous array for output ``index``: the previous call's when it fits,
    else a new one."""
    old = previous[index] if previous else None
    if (old is not None and old.shape == tuple(shape) and old.dtype == dtype and old.context is context
            and old.c_contiguous):
        return old
    return empty(shape, dtype, context)


class GpuFromHost(DeviceOp):
    """A copy onto the device context ``context``."""

    __props__ = ("context",)
    fresh_outputs = True

    def __init__(self, context):
        self.context = context

    def make_node(self, x):
        return Apply(self, [x], [DeviceTensorType(x.type.dtype, x.type.shape, self.context)()])

    def perform(self, node, inputs):
        return [to_device(inputs[0], get_context(self.context))]   # numpy or another device's array

    def __str__(self):
        return f"{type(self).__name__}<{self.context}>"


class HostFromGpu(DeviceOp):
    def make_node(self, x):
        return Apply(self, [x], [TensorType(x.type.dtype, x.type.shape)()])

    def perform(self, node, inputs):
        return [inputs[0].get()]

    def __str__(self):
        return "HostFromGpu(gpuarray)"


class GpuToGpu(GpuFromHost):
    """A copy from one device context to another."""


def transfer_op(source, target):
    """The op moving a value from context ``source`` to ``target`` ('cpu': the host)."""
    if source == "cpu":
        return GpuFromHost(target)
    return HostFromGpu() if target == "cpu" else GpuToGpu(target)


class OnDevice(DeviceOp):
    """A host op run on a device: the same inputs, the same output type placed on the
    context of its device input; subclasses give ``perform`` on DeviceArrays."""

    __props__ = ("host_op",)

    def __init__(self, host_op):
        self.host_op = host_op

    def make_node(self, *inputs):
        out = self.host_op.make_node(*inputs).outputs[0].type
        context = next(v.type.context for v in inputs if isinstance(v.type, DeviceTensorType))
        return Apply(self, list(inputs), [type_on(context, out.dtype, out.shape)()])

    def __str__(self):
        return "Gpu" + str(self.host_op).replace("Inplace", "")


class OnContext(DeviceOp):
    """A host op with graphs of its own (a loop, a conditional) run for device context
    ``context``: the host node's inputs, its outputs placed on that context."""

    __props__ = ("host_op", "context")

    def __init__(self, host_op, context):
        self.host_op = host_op
        self.context = context

    def make_node(self, *inputs):
        host = self.host_op.make_node(*inputs)
        return Apply(self, host.inputs, [type_on(self.context, o.type.dtype, o.type.shape)() for o in host.outputs])

    def __str__(self):
        return "Gpu" + str(self.host_op)


class GpuDimShuffle(OnDevice):
    """A DimShuffle on the device: a view, no kernel."""

    def perform(self, node, inputs):
        return [inputs[0].dimshuffle(*self.host_op.new_order)]


class GpuSubtensor(OnDevice):
    """Basic indexing on the device: a view. Symbolic indices (inputs after x) are host
    values."""

    def perform(self, node, inputs):
        x, *indices = inputs
        return [x[self.host_op._key(indices)]]


class GpuReshape(OnDevice):
    """Reshape on the device: a view of C-contiguous data, a copy otherwise. The new
    shape is a host value (input 1)."""

    def perform(self, node, inputs):
        x, shape = inputs
        shape = tuple(int(n) for n in shape)
        try:
            return [x.reshape(shape)]
        except ValueError:
            raise ValueError(f"{self}: cannot reshape an array of shape {x.shape} (size {x.size}) "
                             f"into shape {shape}") from None


class GpuAlloc(OnDevice):
    """Alloc on the device: the value broadcast to the shape (a host value, input 1) and
    copied by the strided copy kernel from a view with zero strides."""

    def perform(self, node, inputs):
        value, shape = inputs
        shape = tuple(int(n) for n in shape)
        lead = len(shape) - value.ndim
        if lead < 0 or any(n not in (1, want) for n, want in zip(value.shape, shape[lead:])):
            raise ValueError(f"{self}: cannot broadcast a value of shape {value.shape} to shape {shape}")
        strides = (0,) * lead + tuple(0 if n == 1 else s for n, s in zip(value.shape, value.strides))
        view = DeviceArray(value.context, value.block, shape, value.dtype, strides, value.offset)
        return [view.copy()]


class GpuJoin(OnDevice):
    """Concatenation on the device: with the join axis moved first (views), each input
    is copied, contiguous, into its stretch of the output's memory; the output is the
    view with the axis back in place. The axis (input 0) is a host value."""

    fresh_outputs = True

    def perform(self, node, inputs):
        axis, *tensors = inputs
        ndim = tensors[0].ndim
        axis = normalize_axis(str(self), int(axis), ndim)
        rest = [[t.shape[a] for a in range(ndim) if a != axis] for t in tensors]
        if any(r != rest[0] for r in rest):
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{self}: cannot join arrays of shapes {shapes} along axis {axis}")
        order = [axis] + [a for a in range(ndim) if a != axis]
        dtype = node.outputs[0].type.dtype
        context = tensors[0].context
        out = empty([sum(t.shape[axis] for t in tensors)] + rest[0], dtype, context)
        at = 0
        for t in tensors:
            piece = t.transpose(order)
            if not piece.c_contiguous or piece.dtype != out.dtype:
                piece = piece.astype(dtype)
            if piece.nbytes:
                context.copy(out.block, out.offset + at, piece.block, piece.offset, piece.nbytes)
            at += piece.nbytes
        return [out.transpose(list(np.argsort(order)))]


def _broadcast(op, shapes):
    shape = []
    for axis, lengths in enumerate(zip(*shapes)):
        known = {n for n in lengths if n != 1}
        if len(known) > 1:
            raise ValueError(f"{op} cannot broadcast inputs of shapes {', '.join(map(str, shapes))}: "
                             f"axis {axis} has lengths {sorted(known)}")
        shape.append(known.pop() if known else 1)
    return tuple(shape)


class GpuElemwise(DeviceOp):
    """An elementwise node (maybe fused) computed by a kernel from the shared templates.

    ``inplace``: (output, input) pairs; that output is written over that input (its
    position among the node's inputs) when their shapes and dtypes agree at run time,
    as each work-item reads its elements before writing them."""

    __props__ = ("elemwise", "inplace")
    reuses_outputs = True
    fresh_outputs = True   # new, or the exclusively held input it destroyed

    def __init__(self, elemwise, kernel, output_types, inplace=()):
        self.elemwise = elemwise          # the host Elemwise it replaces
        self.kernel = kernel              # codegen.elemwise.ElementwiseKernel
        self.output_types = output_types  # the host node's output TensorTypes
        self.inplace = tuple(inplace)
        self._widths = {}                 # context -> vector width used there

    @property
    def destroy_map(self):
        return {out: [position] for out, position in self.inplace}

    def inplace_candidates(self, node):
        """(output, input) pairs that could share a buffer: same dtype and ndim."""
        return [(k, i) for k, out in enumerate(node.outputs) for i, x in enumerate(node.inputs)
                if x.type.dtype == out.type.dtype and x.ndim == out.ndim]

    def with_inplace(self, pairs):
        op = GpuElemwise(self.elemwise, self.kernel, self.output_types, pairs)
        op._widths, op._plans = self._widths, self.__dict__.setdefault("_plans", {})
        return self.sharing_kernels(op)

    def _outputs(self, inputs, shape, previous):
        context = inputs[0].context
        outputs = []
        destroyed = dict(self.inplace)
        for k, out in enumerate(self.output_types):
            x = inputs[destroyed[k]] if k in destroyed else None
            if x is not None and x.shape == shape and x.dtype == out.dtype and x.c_contiguous and all(
                    y.block is not x.block or (y.offset == x.offset and y.strides == x.strides)
                    for y in inputs):
                outputs.append(x)
            else:
                outputs.append(output_array(previous, k, shape, out.dtype, context))
        return outputs

    def make_node(self, *inputs):
        """Inputs: the host node's inputs that are not compiled-in constants."""
        context = inputs[0].type.context
        return Apply(self, inputs, [DeviceTensorType(t.dtype, t.shape, context)() for t in self.output_types])

    def perform(self, node, inputs, previous=None):
        shape, launch = self.planned(inputs, lambda: self._plan(inputs[0].context, inputs))
        outputs = self._outputs(inputs, shape, previous)
        if launch is not None:
            kernel, groups, group, extra = launch
            kernel(groups, group, *outputs, *inputs, *extra, outputs=outputs)
        return outputs

    def loop(self, states, first, tap, steps, tap_at, others):
        """Run ``steps`` steps of a loop whose step is this node, in one launch
        (elemwise_steps.c): step t writes ``states[(first + t) % len(states)]`` from its
        input ``tap_at`` = ``states[(first + t + tap) % len(states)]`` and its other
        inputs ``others``, each as (its value at step 0, the elements between two steps'
        values; 0: the same value). Returns whether it ran; where the values do not fit
        (several outputs, states that are not C-contiguous, an input neither of one
        C-contiguous state's shape nor of one element), nothing ran."""
        kernel = self.kernel
        if len(self.output_types) != 1 or not states.c_contiguous or states.dtype != kernel.out_dtypes[0]:
            return False
        shape, n = states.shape[1:], math.prod(states.shape[1:])
        scalars, arguments = [False] * len(kernel.in_dtypes), []
        for j, (value, step) in zip([j for j in range(len(kernel.arrays)) if j != tap_at], others):
            one = value.size == 1
            if not (one or (value.shape == shape and value.c_contiguous)):
                return False
            scalars[kernel.arrays[j]] = one
            arguments += [value, np.int64(step)]
        tap_input, scalars = kernel.arrays[tap_at], tuple(scalars)
        launch = self.built_kernel(states.context, ("steps", tap_input, scalars),
                                   lambda: kernel.steps(tap_input, scalars))
        groups, group = grid_stride_groups(launch, n)
        sizes = (n, steps, first, tap, len(states), n)
        launch(groups, group, states, *map(np.int64, sizes), *arguments, outputs=[states])
        return True

    def _plan(self, context, inputs):
        """(output shape, (kernel, groups, group size, trailing arguments) or None when
        there is nothing to compute) for inputs of these shapes and strides."""
        shape = _broadcast(self, [x.shape for x in inputs])
        n = math.prod(shape)
        if n == 0:
            return shape, None
        variant, items, width, extra = self._variant(context, shape, inputs)
        kernel = self.built_kernel(context, variant, lambda: self._rendering(variant))
        if width:   # a vector per work-item, no loop
            group = min(_GROUP_SIZE, kernel.max_group_size)
            groups = max(1, -(-items // group))
        else:
            groups, group = grid_stride_groups(kernel, items)
        return shape, (kernel, groups, group, (np.int64(n),) + extra)

    def _variant(self, context, shape, inputs):
        """(kernel variant, work-items, vector width, trailing arguments) for inputs of
        these layouts and a result of ``shape``."""
        n = math.prod(shape)
        if all(x.c_contiguous and (x.shape == shape or x.size == 1) for x in inputs):
            scalars = self.kernel.one_element(inputs)
            width = self._widths.get(context)
            if width is None:
                width = self._widths[context] = self.kernel.vector_width(context.info)
            if width:
                return ("vector", scalars, width), max(n // width, n % width), width, ()
            return ("flat", scalars), n, 0, ()
        strides = [[0 if x.shape[d] == 1 and shape[d] != 1 else x.strides[d] // x.itemsize
                    for d in range(len(shape))] for x in inputs]
        dims, strides = collapse_dims(shape, strides)
        extra = tuple(np.int64(v) for v in dims) + tuple(np.int64(v) for s in strides for v in s)
        if context.info.kind != "CPU":
            return ("strided", len(dims)), n, 0, extra
        inner = "".join(str(s[-1]) if s[-1] in (0, 1) else "s" for s in strides)
        return ("strided", len(dims), CPU_RUN, inner), run_count(n, dims[-1], CPU_RUN), 0, extra

    def likely_sources(self, node, context):
        inputs = likely_layouts(node.inputs, context)
        variant = self._variant(context, _broadcast(self, [x.shape for x in inputs]), inputs)[0]
        return [self._rendering(variant)[1]]

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of this node for ``dialect``: the
        flat and strided variants, and on OpenCL CPU devices the vector one."""
        ndim = max(1, node.outputs[0].ndim)
        arrays = tuple(k not in self.kernel.constants for k in range(len(self.kernel.in_dtypes)))
        everything = tuple(not a for a in arrays)
        run = CPU_RUN if dialect == "opencl" and device.kind == "CPU" else 1
        variants = [self.kernel.flat(everything), self.kernel.strided(ndim, run)]
        width = self.kernel.vector_width(device) if dialect == "opencl" else 0
        if width:
            variants.append(self.kernel.vector(everything, width))
        return dict(variants)

    def _rendering(self, variant):
        kind, *parameters = variant
        return getattr(self.kernel, kind)(*parameters)

    def __str__(self):
        if self.inplace:   # Theano's spelling: Elemwise{exp}[(0, 0)]
            return "Gpu" + str(self.elemwise).replace(",no_inplace}", "}") + str(list(self.inplace))
        return "Gpu" + str(self.elemwise)
