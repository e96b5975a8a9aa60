"""Matrix products on devices: the device implementations of Dot.

``GpuGemm`` computes matrix @ matrix, ``GpuGemv`` matrix @ vector and vector @ matrix,
``GpuDot`` (their base) vector @ vector, all with the kernels of codegen.gemm: on CPU
devices the family on vector types (register-blocked GEMM, row-wise GEMV, vector-matrix
product), elsewhere the local-memory tiled GEMM and the one-group-per-row GEMV. Inputs
may be transposed or strided views: the kernels take element strides, and each layout
goes to the kernel that reads it contiguously (the blocked GEMM first packs B into
contiguous panels unless it is small with contiguous rows). Products of dtypes other
than float32/float64 run on the host.
"""
import numpy as np

from clgraph.backends import empty, zeros
from clgraph.codegen import gemm
from clgraph.graph.basic import Apply
from clgraph.tensor.math import Dot, _dot, _not_aligned
from clgraph.tensor.transfer import DeviceTensorType

from .device_ops import DeviceOp
from .placement import register_device_implementation


def _ceil_div(n, d):
    return -(-n // d)


def _element_strides(x):
    return [np.int64(s // x.itemsize) for s in x.strides]


class GpuDot(DeviceOp):
    """numpy.dot of vectors and matrices on a device; as itself, the inner product of
    two vectors (a one-row matrix-vector product)."""

    __props__ = ()

    def __init__(self):
        self._built = {}   # (context, kernel name) -> Kernel

    def make_node(self, a, b):
        out = _dot.make_node(a, b).outputs[0].type
        return Apply(self, [a, b], [DeviceTensorType(out.dtype, out.shape, a.type.context)()])

    def infer_shape(self, node, input_shapes):
        return _dot.infer_shape(node, input_shapes)

    def perform(self, node, inputs):
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            raise ValueError(_not_aligned(str(self), "the first input", "the second", [a.ndim - 1], [0],
                                          a.shape, b.shape))
        dtype = np.dtype(node.outputs[0].type.dtype)
        a, b = (x if x.dtype == dtype else x.astype(dtype) for x in (a, b))
        shape = a.shape[:-1] + b.shape[1:]
        if a.shape[-1] == 0:   # an empty sum; the inputs may have no memory to pass
            return [zeros(shape, dtype, a.context)]
        out = empty(shape, dtype, a.context)
        if out.size == 0:
            return [out]
        if a.ndim == 2 and b.ndim == 2:
            self._gemm(out, a, b)
        elif a.ndim == 2:
            self._gemv(out, a, b)
        elif b.ndim == 2:
            self._gemv(out, b.T, a)           # x @ B == B.T @ x
        else:
            self._gemv(out.reshape(1), a[None, :], b)
        return [out]

    def sources(self, node, dialect, device):
        """{kernel name: source without the header} of the kernels this node may run."""
        return gemm.sources(dialect, device, node.outputs[0].type.dtype)

    # kernels ------------------------------------------------------------------------
    def _kernel(self, context, name_and_source):
        name, source = name_and_source
        kernel = self._built.get((context, name))
        if kernel is None:
            kernel = self._built[(context, name)] = context.build(source).kernel(name)
        return kernel

    def _gemm(self, c, a, b, alpha=1, beta=0):
        """c = alpha * a @ b + beta * c, for a C-contiguous c."""
        context, dtype = c.context, c.dtype
        (m, k), n = a.shape, b.shape[1]
        alpha, beta = dtype.type(alpha), dtype.type(beta)
        width = gemm.blocked_width(context.info, dtype)
        if not width:
            kernel = self._kernel(context, gemm.tiled_gemm(dtype))
            groups = (_ceil_div(n, gemm.TILE), _ceil_div(m, gemm.TILE))
            kernel(groups, (gemm.TILE_THREADS, gemm.TILE_THREADS), c, a, b, np.int64(m), np.int64(n),
                   np.int64(0), np.int64(k), *_element_strides(a), *_element_strides(b),
                   np.int64(c.strides[0] // c.itemsize), alpha, beta, outputs=[c])
            return
        name, source = gemm.blocked_gemm(dtype, width)
        kernel = self._kernel(context, (name, source))
        rows, cols = gemm.BLOCK_ROWS, gemm.BLOCK_VECTORS * width
        sb0, sb1 = _element_strides(b)
        if m >= gemm.PACK_MIN or (sb1 != 1 and n > 1):   # vector loads need contiguous rows of b
            b, sb0, sbp = self._pack_b(context, name, source, b, cols), cols, k * cols
        else:
            sbp = cols
        # PoCL runs a group's work-items in order on one thread: small groups, so that
        # the threads share out the blocks evenly, and in band order.
        group = min(4, kernel.max_group_size)
        groups = _ceil_div(_ceil_div(m, rows) * _ceil_div(n, cols), group)
        strides = [*_element_strides(a), np.int64(sb0), np.int64(sbp), np.int64(c.strides[0] // c.itemsize)]
        chunk = gemm.K_CHUNK if m >= gemm.PACK_MIN else k   # few rows: no reuse for chunks to keep
        for k0 in range(0, k, chunk):
            kernel(groups, group, c, a, b, np.int64(m), np.int64(n), np.int64(k0),
                   np.int64(min(k, k0 + chunk)), *strides, alpha,
                   beta if k0 == 0 else dtype.type(1), outputs=[c])

    def _pack_b(self, context, name, source, b, cols):
        """The panels of ``cols`` columns of matrix ``b`` that blocked_gemm reads."""
        (k, n), dtype = b.shape, b.dtype
        out = empty((_ceil_div(n, cols), k, cols), dtype, context)
        kernel = self._kernel(context, (name + "_pack_b", source))
        group = min(16, kernel.max_group_size)
        items = _ceil_div(k, gemm.PACK_ROWS) * _ceil_div(n, cols)
        groups = min(_ceil_div(items, group), 16 * context.info.compute_units)
        kernel(groups, group, out, b, np.int64(k), np.int64(n), *_element_strides(b), outputs=[out])
        return out

    def _gemv(self, y, a, x):
        """y = a @ x for a matrix a and vectors x, y (y C-contiguous)."""
        context, dtype = y.context, y.dtype
        m, k = a.shape
        one, zero = dtype.type(1), dtype.type(0)
        rows_contiguous = a.strides[1] == a.itemsize or k == 1
        columns_contiguous = a.strides[0] == a.itemsize or m == 1
        width = gemm.blocked_width(context.info, dtype)
        if width and (rows_contiguous or columns_contiguous):
            name, source = gemm.blocked_gemm(dtype, width)
            if rows_contiguous:   # a row of a times x per work-item
                kernel = self._kernel(context, (name + "_gemv", source))
                x = x if x.c_contiguous else x.copy()
                items, args = m, (a, x, np.int64(m), np.int64(k), _element_strides(a)[0])
                group = min(16, kernel.max_group_size)
            else:                 # x times rows of a.T, accumulated into a span of y per work-item
                kernel = self._kernel(context, (name + "_gevm", source))
                items = _ceil_div(m, gemm.GEVM_VECTORS * width)
                args = (x, a.T, np.int64(k), np.int64(m), *_element_strides(x), _element_strides(a)[1])
                group = 1     # few work-items, each a long one: a group each, for the threads to share
            kernel(_ceil_div(items, group), group, y, *args, *_element_strides(y), one, zero, outputs=[y])
            return
        if columns_contiguous and not rows_contiguous:
            # As the one-row product x @ a.T, the GEMM reads a.T by whole rows instead of a
            # by strided ones.
            self._gemm(y.reshape(1, m), x[None, :], a.T)
            return
        kernel = self._kernel(context, gemm.gemv(dtype))
        if width:   # a CPU device: a work-item per row, walking it in order
            group, groups = 1, min(m, 8 * context.info.compute_units)
        else:   # one group size whatever the shape: each size is another build on some drivers
            group = 1 << (min(gemm.GEMV_MAX_GROUP, kernel.max_group_size).bit_length() - 1)   # a power of two
            groups = min(m, 64 * context.info.compute_units)
        kernel(groups, group, y, a, x, np.int64(m), np.int64(k), *_element_strides(a),
               *_element_strides(x), *_element_strides(y), one, zero, outputs=[y])

    def __str__(self):
        return type(self).__name__


class GpuGemm(GpuDot):
    """matrix @ matrix on a device."""


class GpuGemv(GpuDot):
    """matrix @ vector and vector @ matrix on a device."""


_gpu_dot, _gpu_gemm, _gpu_gemv = GpuDot(), GpuGemm(), GpuGemv()


@register_device_implementation(Dot)
def _dot_on_device(node, inputs, context):
    dtypes = {v.type.dtype for v in node.inputs + node.outputs}
    if not all(gemm.supported(d) for d in dtypes):
        return None
    ndims = tuple(v.ndim for v in node.inputs)
    op = _gpu_gemm if ndims == (2, 2) else _gpu_dot if ndims == (1, 1) else _gpu_gemv
    return op.make_node(*inputs)
