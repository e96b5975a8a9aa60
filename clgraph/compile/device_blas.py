"""Matrix products on devices: the device implementations of Dot, MatMul and TensorDot.

``GpuGemm`` computes matrix @ matrix, ``GpuGemv`` matrix @ vector and vector @ matrix,
``GpuDot`` (their base) vector @ vector, all with the kernels of codegen.gemm: on CPU
devices the family on vector types (register-blocked GEMM, row-wise GEMV, vector-matrix
product), elsewhere the local-memory tiled GEMM and the one-group-per-row GEMV. Inputs
may be transposed or strided views: the kernels take element strides, and each layout
goes to the kernel that reads it contiguously (the blocked GEMM first packs B into
contiguous panels unless it is small with contiguous rows).

Every kernel also computes a stack of products in one launch (a batch axis with a
stride per operand, 0 for an operand the stack shares; on CPU devices, a stack of large
products launches the one-product GEMM for each instead), which ``GpuMatMul``
(numpy.matmul, batch axes broadcast) and ``GpuTensorDot`` (tensordot and
batched_tensordot) reduce to: tensordot views each operand as (batch, free, contracted)
or (batch, contracted, free) matrices, copying an operand only where its axes cannot be
merged by strides; matmul folds the batch axes along which B does not change into the
rows of A, so a stack times one matrix is one GEMM. Products whose output dtype is not
float32/float64 run on the host; other input dtypes are converted on the device first,
as numpy does.
"""
import math

import numpy as np

from clgraph.backends import DeviceArray, empty, to_device, while_unwritten, zeros
from clgraph.codegen import gemm
from clgraph.graph.basic import Apply
from clgraph.tensor.blas import Gemm, Gemv, scaled_product_update
from clgraph.tensor.math import Dot, MatMul, TensorDot, _dot, _matmul, _not_aligned
from clgraph.tensor.transfer import DeviceTensorType

from .device_ops import DeviceOp, output_array
from .placement import _keeps_on_host, register_device_implementation


_PACK_KEPT_BYTES = 4 << 20   # the largest packed operand kept for reuse


def _ceil_div(n, d):
    return -(-n // d)


def _element_strides(x):
    return [np.int64(s // x.itemsize) for s in x.strides]


def _stacked(x, ndim):
    """``x`` (``ndim`` axes, or ``ndim`` + 1 with a leading batch axis) as a stack."""
    return x if x.ndim > ndim else x._view((1,) + x.shape, (0,) + x.strides, x.offset)   # x[None], directly


def _swap_last(x):
    """The transposes of the matrices of ``x`` (its last two axes swapped): a view."""
    return x.transpose(*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)


def _as_matrices(a, b):
    """numpy's promotion of vector operands (views): a row on the left, a column on the right."""
    return a[None, :] if a.ndim == 1 else a, b[:, None] if b.ndim == 1 else b


def _view(x, shape, strides, offset):
    return DeviceArray(x.context, x.block, shape, x.dtype, strides, offset)


def _merged(outer, inner):
    """Two adjacent axes, each (length, (stride of each array along it)), as one axis that
    every array walks with a single stride; None where one of them cannot."""
    (n_outer, s_outer), (n_inner, s_inner) = outer, inner
    if n_inner == 1:
        return outer
    if n_outer == 1:
        return inner
    if all(so == si * n_inner for so, si in zip(s_outer, s_inner)):
        return n_outer * n_inner, s_inner
    return None


def _as_stack(x, groups):
    """``x`` as a 3-d array whose axes each gather the axes of one of ``groups`` (in that
    order; an empty group is an axis of length 1): a view where each group's strides
    walk it as one axis, else a contiguous copy of ``x`` transposed into that order."""
    axes = []
    for group in groups:
        axis = (1, (0,))
        for a in group:
            axis = axis and _merged(axis, (x.shape[a], (x.strides[a],)))
        axes.append(axis)
    if None in axes:
        copy = x.transpose([a for group in groups for a in group]).copy()
        return copy.reshape([math.prod(x.shape[a] for a in group) for group in groups])
    return _view(x, [n for n, _ in axes], [s for _, (s,) in axes], x.offset)


class GpuDot(DeviceOp):
    """numpy.dot of vectors and matrices on a device; as itself, the inner product of
    two vectors (a one-row matrix-vector product)."""

    __props__ = ()
    host_op = _dot
    fresh_outputs = True   # a buffer of its own
    reuses_outputs = True

    def make_node(self, a, b):
        out = self.host_op.make_node(a, b).outputs[0].type
        return Apply(self, [a, b], [DeviceTensorType(out.dtype, out.shape, a.type.context)()])

    def infer_shape(self, node, input_shapes):
        return self.host_op.infer_shape(node, input_shapes)

    def perform(self, node, inputs, previous=None):
        a, b = inputs
        shape, k = self._output_shape(a, b)
        dtype = np.dtype(node.outputs[0].type.dtype)
        if k == 0:   # an empty sum; the inputs may have no memory to pass
            return [zeros(shape, dtype, a.context)]
        out = output_array(previous, 0, shape, dtype, a.context)
        if out.size:
            a, b = (x if x.dtype == dtype else x.astype(dtype) for x in (a, b))
            self._compute(out, a, b)
        return [out]

    def _output_shape(self, a, b):
        """(shape of a @ b, length of the contracted axis); a ValueError naming the op
        where the operands do not fit."""
        if a.shape[-1] != b.shape[0]:
            raise ValueError(_not_aligned(str(self), "the first input", "the second", [a.ndim - 1], [0],
                                          a.shape, b.shape))
        return a.shape[:-1] + b.shape[1:], a.shape[-1]

    def _compute(self, out, a, b, alpha=1, beta=0):
        """out = alpha * a @ b + beta * out, for a C-contiguous out and inputs of its dtype."""
        a, b = _as_matrices(a, b)
        self._products(out.reshape(a.shape[0], b.shape[1]), a, b, alpha, beta)

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the kernels this node may run."""
        return gemm.sources(dialect, device, node.outputs[0].type.dtype)

    def likely_sources(self, node, context):
        out = node.outputs[0].type
        return gemm.likely_sources(context.dialect, context.info, out.dtype, vectors=out.ndim < 2)

    # kernels ------------------------------------------------------------------------
    def _kernel(self, context, name_and_source):
        """The kernel ``name`` of a rendering of codegen.gemm (memoised there)."""
        return self.built_kernel(context, name_and_source[0], lambda: name_and_source)

    def _products(self, c, a, b, alpha=1, beta=0):
        """c = alpha * a @ b + beta * c for matrices, or so for c[z], a[z], b[z] along
        the leading axis of stacks of them (c with unit column stride): matrix-vector
        products where c has one column or one row, a GEMM otherwise."""
        if c.ndim == 3 and c.shape[0] == 1:
            c, a, b = c[0], a[0], b[0]
        m, n = c.shape[-2:]
        if n == 1:
            self._gemv(c[..., 0], a, b[..., 0], alpha, beta)
        elif m == 1:
            self._gemv(c[..., 0, :], _swap_last(b), a[..., 0, :], alpha, beta)   # x @ B == B.T @ x
        else:
            self._gemm(c, a, b, alpha, beta)

    def _gemm(self, c, a, b, alpha=1, beta=0, epilogue=None):
        """c = alpha * a @ b + beta * c for matrices, or for stacks of them along a
        leading batch axis (any batch strides, 0 included); c has unit column stride.
        ``epilogue``: (ElementwiseKernel, the input the product is, how each input is
        read, the other array inputs) applied to c as the blocked GEMM stores the last of
        its K chunks, for one C-contiguous product (see epilogue_fits)."""
        c, a, b = (_stacked(x, 2) for x in (c, a, b))
        context, dtype = c.context, c.dtype
        batches, m, n = c.shape
        k = a.shape[2]
        alpha, beta = dtype.type(alpha), dtype.type(beta)
        (sa_batch, sa0, sa1), (sb_batch, sb0, sb1), (sc_batch, sc0, _) = map(_element_strides, (a, b, c))
        width = gemm.blocked_width(context.info, dtype)
        if not width:
            name, source = gemm.tiled_gemm(dtype)
            groups, group = (_ceil_div(n, gemm.TILE), _ceil_div(m, gemm.TILE)), (gemm.TILE_THREADS,) * 2
            sizes = (np.int64(m), np.int64(n), np.int64(0), np.int64(k), sa0, sa1, sb0, sb1, sc0)
            if batches == 1:
                self._kernel(context, (name, source))(groups, group, c, a, b, *sizes, alpha, beta, outputs=[c])
                return
            kernel = self._kernel(context, (name + "_batched", source))
            for z in range(0, batches, gemm.MAX_GRID_BATCHES):   # the stack along the third grid axis
                part = slice(z, z + gemm.MAX_GRID_BATCHES)
                kernel(groups + (len(c[part]),), group + (1,), c[part], a[part], b[part], *sizes,
                       sa_batch, sb_batch, sc_batch, alpha, beta, outputs=[c])
            return
        if batches > 1 and m * n * k >= gemm.STACK_MAX_WORK:
            for z in range(batches):
                self._gemm(c[z], a[z], b[z], alpha, beta)
            return
        name, source = gemm.blocked_gemm(dtype, width)
        kernel = last = self._kernel(context, (name if batches == 1 else name + "_batched", source))
        extra = ()
        if epilogue:
            last, extra = self._kernel(context, gemm.blocked_gemm(dtype, width, epilogue=epilogue[:3])), epilogue[3]
        rows, cols = gemm.BLOCK_ROWS, gemm.BLOCK_VECTORS * width
        if m >= gemm.PACK_MIN or (sb1 != 1 and n > 1):   # vector loads need contiguous rows of b
            b, sb_batch = self._packed(context, name, source, b, cols)
            sb0, sbp = np.int64(cols), np.int64(k * cols)
        else:
            sbp = np.int64(cols)
        # PoCL runs a group's work-items in order on one thread: small groups, so that
        # the threads share out the blocks evenly, and in band order; a stack along the
        # second grid axis.
        group = min(4, kernel.max_group_size)
        groups = _ceil_div(_ceil_div(m, rows) * _ceil_div(n, cols), group)
        launch = (groups, group) if batches == 1 else ((groups, batches), (group, 1))
        strides = (sa0, sa1, sb0, sbp, sc0) + ((sa_batch, sb_batch, sc_batch) if batches > 1 else ())
        chunk = gemm.K_CHUNK if m >= gemm.PACK_MIN else k   # few rows: no reuse for chunks to keep
        for k0 in range(0, max(k, 1), max(chunk, 1)):   # k == 0 too: c = beta * c
            final = k0 + chunk >= k
            (last if final else kernel)(*launch, c, a, b, np.int64(m), np.int64(n), np.int64(k0),
                                        np.int64(min(k, k0 + chunk)), *strides, alpha,
                                        beta if k0 == 0 else dtype.type(1), *(extra if final else ()), outputs=[c])

    @staticmethod
    def epilogue_fits(context, out, a, b):
        """Whether ``_gemm`` can apply an epilogue to ``out`` = a @ b: float32 matrices
        (not matrix-vector products: one row or column) on a device with the blocked
        GEMM, and a C-contiguous result."""
        return (a.ndim == b.ndim == 2 and out.c_contiguous and a.shape[0] > 1 and b.shape[1] > 1 and a.shape[1] > 0
                and a.dtype == b.dtype == out.dtype == np.float32 and bool(gemm.blocked_width(context.info, out.dtype)))

    def _packed(self, context, name, source, b, cols):
        """_pack_b's panels of ``b``, packed again only when ``b`` was written since the
        last time (weights used by many products, a loop's step at every step, are
        packed once); a small packed copy lives as long as ``b``'s buffer does."""
        return while_unwritten(b, ("packed panels", cols), lambda: self._pack_b(context, name, source, b, cols),
                               keep=lambda packed: packed[0].nbytes <= _PACK_KEPT_BYTES)

    def _pack_b(self, context, name, source, b, cols):
        """The panels of ``cols`` columns of the stack of matrices ``b`` that blocked_gemm
        reads, and their stride along the stack (0: one set, where the stack shares b)."""
        if b.strides[0] == 0:
            b = b[:1]
        (batches, k, n), dtype = b.shape, b.dtype
        panels = _ceil_div(n, cols)
        out = empty((batches, panels, k, cols), dtype, context)
        kernel = self._kernel(context, (name + "_pack_b", source))
        group = min(16, kernel.max_group_size)
        items = _ceil_div(k, gemm.PACK_ROWS) * panels
        groups = min(_ceil_div(items, group), 16 * context.info.compute_units)
        sb_batch, sb0, sb1 = _element_strides(b)
        kernel((groups, batches), (group, 1), out, b, np.int64(k), np.int64(n), sb0, sb1, sb_batch,
               outputs=[out])
        return out, np.int64(panels * k * cols if batches > 1 else 0)

    def _gemv(self, y, a, x, alpha=1, beta=0):
        """y = alpha * a @ x + beta * y for a matrix a and vectors x, y, or so for y[z],
        a[z], x[z] along the leading axis of stacks of them (any batch strides); y has
        unit stride."""
        y, a, x = _stacked(y, 1), _stacked(a, 2), _stacked(x, 1)
        context, dtype = y.context, y.dtype
        batches, m, k = a.shape
        alpha, beta = dtype.type(alpha), dtype.type(beta)
        (sa_batch, sa0, sa1), (sx_batch, sx), (sy_batch, sy) = map(_element_strides, (a, x, y))
        rows_contiguous = sa1 == 1 or k == 1
        columns_contiguous = sa0 == 1 or m == 1
        width = gemm.blocked_width(context.info, dtype)
        if width and (rows_contiguous or columns_contiguous):
            name, source = gemm.blocked_gemm(dtype, width, vectors_only=True)
            if rows_contiguous:   # a row of a times x per work-item
                kernel = self._kernel(context, (name + "_gemv", source))
                if sx != 1 and k > 1:
                    x, sx_batch = x.copy(), np.int64(k)
                items = m
                args = (a, x, np.int64(m), np.int64(k), sa0, sy, sa_batch, sx_batch, sy_batch)
                group = min(16, kernel.max_group_size)
            else:                 # x times rows of a.T, accumulated into a span of y per work-item
                kernel = self._kernel(context, (name + "_gevm", source))
                items = _ceil_div(m, gemm.GEVM_VECTORS * width)
                args = (x, a, np.int64(k), np.int64(m), sx, sa1, sy, sx_batch, sa_batch, sy_batch)
                group = 1     # few work-items, each a long one: a group each, for the threads to share
            kernel((_ceil_div(items, group), batches), (group, 1), y, *args, alpha, beta, outputs=[y])
            return
        if columns_contiguous and not rows_contiguous:
            # As the one-row products x @ a.T, the GEMM reads a.T by whole rows instead of
            # a by strided ones.
            self._gemm(y[:, None, :], x[:, None, :], _swap_last(a), alpha, beta)
            return
        kernel = self._kernel(context, gemm.gemv(dtype))
        if width:   # a CPU device: a work-item per row, walking it in order
            group, groups = 1, min(batches * m, 8 * context.info.compute_units)
        else:   # one group size whatever the shape: each size is another build on some drivers
            group = 1 << (min(gemm.GEMV_MAX_GROUP, kernel.max_group_size).bit_length() - 1)   # a power of two
            groups = min(batches * m, 64 * context.info.compute_units)
        kernel(groups, group, y, a, x, np.int64(m), np.int64(k), sa0, sa1, sx, sy, np.int64(batches),
               sa_batch, sx_batch, sy_batch, alpha, beta, outputs=[y])

    def __str__(self):
        return type(self).__name__


class _GpuScaledProduct(GpuDot):
    """A product on a device, in two forms. ``inplace=None``: dot(a, b) of two inputs.
    Otherwise the host Gemm/Gemv's beta * z + alpha * dot(x, y) of five (z, alpha, x,
    y, beta; alpha and beta host scalars), written over z when ``inplace`` (the inplace
    rewrite sets it where z is free to overwrite), else into a copy of z."""

    __props__ = ("inplace",)

    def __init__(self, inplace=None):
        self.inplace = inplace

    @property
    def destroy_map(self):
        return {0: [0]} if self.inplace else {}

    def inplace_candidates(self, node):
        return [] if self.inplace is None else [(0, 0)]

    def with_inplace(self, pairs):
        return self.sharing_kernels(type(self)(bool(pairs)))

    def make_node(self, *inputs):
        if self.inplace is None:
            return super().make_node(*inputs)
        z = inputs[0]
        return Apply(self, list(inputs), [DeviceTensorType(z.type.dtype, z.type.shape, z.type.context)()])

    def infer_shape(self, node, input_shapes):
        return super().infer_shape(node, input_shapes) if self.inplace is None else [input_shapes[0]]

    def perform(self, node, inputs, previous=None):
        if self.inplace is None:
            return super().perform(node, inputs, previous)
        z, alpha, x, y, beta = inputs
        shape, _ = self._output_shape(x, y)
        if z.shape != shape:   # z or the product broadcast (a length of 1): rare, on the host
            result = scaled_product_update(str(self), z.get(), alpha, x.get(), y.get(), beta)
            return [to_device(result, z.context)]
        alpha, beta = float(alpha), float(beta)
        if self.inplace and z.c_contiguous and all(v.block is not z.block for v in (x, y)):
            out = z
        else:   # the last call's buffer, holding z where it is read
            out = output_array(previous, 0, shape, z.dtype, z.context)
            if beta != 0:
                z.copy_into(out)
        if out.size:
            self._compute(out, x, y, alpha, beta)
        return [out]

    def __str__(self):
        name = type(self).__name__
        return name if self.inplace is None else f"{name}{{{'inplace' if self.inplace else 'no_inplace'}}}"


class GpuGemm(_GpuScaledProduct):
    """matrix @ matrix on a device, and the host Gemm."""


class GpuGemv(_GpuScaledProduct):
    """matrix @ vector and vector @ matrix on a device, and the host Gemv."""


class GpuMatMul(GpuDot):
    """numpy.matmul on a device, for any numbers of axes: a vector operand is a one-row
    (left) or one-column (right) matrix, batch axes broadcast (stride 0)."""

    host_op = _matmul

    def _output_shape(self, a, b):
        (m, k), (k_b, n) = (x.shape[-2:] for x in _as_matrices(a, b))
        if k != k_b:
            raise ValueError(f"{self}: shapes {a.shape} and {b.shape} are not aligned: the last axis of "
                             f"the first has length {k}, the contracted axis of the second {k_b}")
        a_batch, b_batch = a.shape[:-2], b.shape[:-2]
        width = max(len(a_batch), len(b_batch))
        batch = []
        for i, j in zip((1,) * (width - len(a_batch)) + a_batch, (1,) * (width - len(b_batch)) + b_batch):
            if i != j and 1 not in (i, j):
                raise ValueError(f"{self}: the batch axes of shapes {a.shape} and {b.shape} do not "
                                 f"broadcast: {i} != {j}")
            batch.append(j if i == 1 else i)
        return tuple(batch) + (m,) * (a.ndim > 1) + (n,) * (b.ndim > 1), k

    def _compute(self, out, a, b):
        batch = out.shape[:out.ndim - (a.ndim > 1) - (b.ndim > 1)]
        a, b = _as_matrices(a, b)
        self._stacks(out.reshape(batch + (a.shape[-2], b.shape[-1])), self._broadcast(a, batch),
                     self._broadcast(b, batch))

    @staticmethod
    def _broadcast(x, batch):
        """The stack of matrices ``x`` broadcast to the batch axes ``batch``: a view."""
        lead = len(batch) - (x.ndim - 2)
        strides = [0] * lead + [0 if n == 1 else s for n, s in zip(x.shape[:-2], x.strides[:-2])]
        return _view(x, batch + x.shape[-2:], strides + list(x.strides[-2:]), x.offset)

    def _stacks(self, c, a, b):
        """c[i] = a[i] @ b[i] for every index i of the common batch axes (c C-contiguous),
        in as few launches as the strides allow: the batch axes along which b does not
        change and that a and c walk as they walk rows fold into the rows; the others
        merge where their strides allow, the longest is the kernels' stack and the host
        loops over the rest."""
        rows = (c.shape[-2], (a.strides[-2], 0, c.strides[-2]))
        batch = [(c.shape[i], (a.strides[i], b.strides[i], c.strides[i])) for i in range(c.ndim - 2)]
        while batch:
            folded = _merged(batch[-1], rows)
            if folded is None or folded[1][1] != 0:
                break
            rows = folded
            batch.pop()
        kept = []
        for axis in batch:
            merged = _merged(kept[-1], axis) if kept else None
            if merged is None:
                kept.append(axis)
            else:
                kept[-1] = merged
        kept = [axis for axis in kept if axis[0] != 1] or [(1, (0, 0, 0))]
        inner = max(range(len(kept)), key=lambda i: kept[i][0])
        outer = kept[:inner] + kept[inner + 1:]
        (batches, stack_strides), (m, row_strides) = kept[inner], rows
        k, n = a.shape[-1], b.shape[-1]
        shapes = [(batches, m, k), (batches, k, n), (batches, m, n)]
        strides = [(stack_strides[0], row_strides[0], a.strides[-1]), (stack_strides[1],) + b.strides[-2:],
                   (stack_strides[2], row_strides[2], c.strides[-1])]
        for index in np.ndindex(*(length for length, _ in outer)):
            offsets = [sum(i * s[j] for i, (_, s) in zip(index, outer)) for j in range(3)]
            a_z, b_z, c_z = (_view(x, shape, stride, x.offset + offset)
                             for x, shape, stride, offset in zip((a, b, c), shapes, strides, offsets))
            self._products(c_z, a_z, b_z)


class GpuTensorDot(GpuDot):
    """numpy.tensordot (and batched_tensordot) on a device: one stack of products of
    (batch, free, contracted) @ (batch, contracted, free) matrices."""

    __props__ = ("host_op",)

    def __init__(self, host_op):
        self.host_op = host_op

    def _output_shape(self, a, b):
        op = self.host_op
        a_axes, b_axes = list(op.axes[0]), list(op.axes[1])
        checked = ([0] + a_axes, [0] + b_axes) if op.batched else (a_axes, b_axes)
        error = _not_aligned(str(self), "the first input", "the second", *checked, a.shape, b.shape)
        if error:
            raise ValueError(error)
        shape = (a.shape[:1] if op.batched else ()) + tuple(a.shape[i] for i in op._free(a.ndim, a_axes)) \
            + tuple(b.shape[i] for i in op._free(b.ndim, b_axes))
        return shape, math.prod(a.shape[i] for i in a_axes)

    def _compute(self, out, a, b):
        op = self.host_op
        batch = [0] if op.batched else []
        a = _as_stack(a, [batch, op._free(a.ndim, op.axes[0]), op.axes[0]])
        b = _as_stack(b, [batch, op.axes[1], op._free(b.ndim, op.axes[1])])
        self._products(out.reshape(a.shape[0], a.shape[1], b.shape[2]), a, b)

    def __str__(self):
        return f"Gpu{self.host_op}"


_gpu_dot, _gpu_gemm, _gpu_gemv, _gpu_matmul = GpuDot(), GpuGemm(), GpuGemv(), GpuMatMul()


def _has_kernels(node):
    """Whether the kernels compute ``node``'s product: its inputs are converted to the
    output dtype first, so that is the one that needs kernels."""
    return gemm.supported(node.outputs[0].type.dtype)


@register_device_implementation(Dot)
def _dot_on_device(node, inputs, context):
    if not _has_kernels(node):
        return None
    ndims = tuple(v.ndim for v in node.inputs)
    op = _gpu_gemm if ndims == (2, 2) else _gpu_dot if ndims == (1, 1) else _gpu_gemv
    return op.make_node(*inputs)


def _update_on_device(op):
    def on_device(node, inputs, context):
        return op.make_node(*inputs) if _has_kernels(node) else None
    return _keeps_on_host([1, 4], on_device)   # alpha and beta: kernel arguments


register_device_implementation(Gemm)(_update_on_device(GpuGemm(inplace=False)))
register_device_implementation(Gemv)(_update_on_device(GpuGemv(inplace=False)))


@register_device_implementation(MatMul)
def _matmul_on_device(node, inputs, context):
    return _gpu_matmul.make_node(*inputs) if _has_kernels(node) else None


@register_device_implementation(TensorDot)
def _tensordot_on_device(node, inputs, context):
    return GpuTensorDot(node.op).make_node(*inputs) if _has_kernels(node) else None
