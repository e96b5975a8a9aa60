"""The BLAS updates z' = beta * z + alpha * dot(x, y) that the gemm rewrite
(clgraph.rewrite.blas) makes of expressions such as ``w - lr * dot(x.T, g)``: ``Gemm``
for matrices, ``Gemv`` for a matrix times a vector. Users write dots and sums; these
ops appear in compiled graphs, where a device runs each as one kernel, in place over z
when the inplace rewrite finds z free to overwrite.

z, x and y have one float dtype; alpha and beta are 0-d (any numeric dtype, taken in
z's). With beta == 0, z is not read (it may hold anything), as in BLAS.
"""
import numpy as np

from clgraph.graph.basic import Apply
from clgraph.graph.op import Op

from .basic import as_tensor_variable
from .math import _not_aligned


class _ScaledProductUpdate(Op):
    """beta * z + alpha * dot(x, y) for an x matrix and a y of ``z_ndim`` dimensions."""

    __props__ = ()
    z_ndim = None

    def make_node(self, z, alpha, x, y, beta):
        z, alpha, x, y, beta = map(as_tensor_variable, (z, alpha, x, y, beta))
        name = type(self).__name__
        for label, var, ndim in (("z", z, self.z_ndim), ("alpha", alpha, 0), ("x", x, 2), ("y", y, self.z_ndim),
                                 ("beta", beta, 0)):
            if var.ndim != ndim:
                raise TypeError(f"{name}: {label} must have {ndim} dimensions, got {var} with {var.ndim}")
        if z.dtype not in ("float32", "float64") or x.dtype != z.dtype or y.dtype != z.dtype:
            raise TypeError(f"{name}: z, x and y must share one float dtype, got {z.dtype}, {x.dtype} and "
                            f"{y.dtype}")
        error = _not_aligned(name, x, y, [1], [0], x.type.shape, y.type.shape)
        if error:
            raise ValueError(error)
        return Apply(self, [z, alpha, x, y, beta], [z.type()])

    def perform(self, node, inputs):
        return [scaled_product_update(type(self).__name__, *inputs)]

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def __str__(self):
        return f"{type(self).__name__}{{no_inplace}}"


def scaled_product_update(name, z, alpha, x, y, beta):
    """beta * z + alpha * dot(x, y) in numpy, in z's dtype; z and the product broadcast
    against each other (lengths of 1) as they would in the sum the op replaces."""
    if x.shape[1] != y.shape[0]:
        raise ValueError(_not_aligned(name, "x", "y", [1], [0], x.shape, y.shape))
    product_shape = x.shape[:1] + y.shape[1:]
    try:
        shape = np.broadcast_shapes(z.shape, product_shape)
    except ValueError:
        raise ValueError(f"{name}: z has shape {z.shape} but dot(x, y) has shape {product_shape}") from None
    dtype = z.dtype
    product = dtype.type(alpha) * np.dot(x, y)
    result = product if beta == 0 else dtype.type(beta) * z + product
    return np.array(np.broadcast_to(result, shape), dtype=dtype)


class Gemm(_ScaledProductUpdate):
    """beta * z + alpha * dot(x, y) for matrices."""

    z_ndim = 2


class Gemv(_ScaledProductUpdate):
    """beta * z + alpha * dot(x, y) for a matrix x and vectors y, z."""

    z_ndim = 1


gemm, gemv = Gemm(), Gemv()
