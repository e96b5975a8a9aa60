"""The gemm rewrite: a sum of scaled terms holding one matrix product and a term of the
result's type, such as the update ``w - lr * (dot(x.T, g) + c * w)``, becomes one
``Gemv``/``Gemm`` (beta * z + alpha * dot(x, y)); terms left over are added after it.

The sum is read through add, sub, neg and multiplications by broadcast scalars; a
value used elsewhere is a term of its own (it is computed once anyway), and so is a
product used elsewhere. Identical terms are gathered (w - 0.1 * 0.02 * w is
0.998 * w). On devices the result is one kernel, written over z when the inplace
rewrite finds z free (a shared variable whose update this is included). A matrix sum
read only by another elementwise operation is left to elementwise fusion.
"""
import functools
import operator

import numpy as np

from clgraph.graph.basic import Constant, graph_inputs
from clgraph.tensor.blas import gemm, gemv
from clgraph.tensor.elemwise import DimShuffle
from clgraph.tensor.math import Dot

from .basic import _scalar_name
from .db import register

_SUMS = ("add", "sub", "neg")


def _is_scalar(var):
    return all(n == 1 for n in var.type.shape)


class _Terms:
    """The terms of the sum rooted at ``root``: (factors, variable) pairs, factors being
    -1 or broadcast scalar variables."""

    def __init__(self, fgraph, root):
        self.fgraph, self.dtype = fgraph, root.dtype
        self.outputs = {id(v) for v in fgraph.outputs}
        self.terms = []
        self._collect(root, (), root=True)

    def _private(self, var):
        """Whether ``var`` is used by one node only (and is no output of the graph)."""
        return id(var) not in self.outputs and len(self.fgraph.clients(var)) == 1

    def _collect(self, var, factors, root=False):
        name = _scalar_name(var.owner) if var.owner is not None and var.dtype == self.dtype else None
        if not root and not self._private(var):
            name = None
        if name == "add":
            for term in var.owner.inputs:
                self._collect(term, factors)
        elif name == "sub":
            a, b = var.owner.inputs
            self._collect(a, factors)
            self._collect(b, factors + (-1,))
        elif name == "neg":
            self._collect(var.owner.inputs[0], factors + (-1,))
        elif name == "mul" and sum(not _is_scalar(v) for v in var.owner.inputs) == 1:
            scales = tuple(v for v in var.owner.inputs if _is_scalar(v))
            (tensor,) = [v for v in var.owner.inputs if not _is_scalar(v)]
            self._collect(tensor, factors + scales)
        else:
            self.terms.append((factors, var))

    def product(self, out):
        """The index of a term computed by a Dot of z's type (operands of its dtype too)
        used here only; None if none."""
        for k, (_, var) in enumerate(self.terms):
            if (var.owner is not None and isinstance(var.owner.op, Dot) and var.type == out.type
                    and var.owner.inputs[0].ndim + var.owner.inputs[1].ndim == out.ndim + 2
                    and all(x.dtype == out.dtype for x in var.owner.inputs) and self._private(var)):
                return k
        return None


def _coefficient(factor_lists, dtype):
    """sum over the lists of the product of their factors, as a 0-d ``dtype`` variable
    (a constant when every factor is one)."""
    import clgraph.tensor as T

    one = T.constant(np.ones((), dtype))
    total = None
    for factors in factor_lists:
        scale = functools.reduce(operator.mul, [_as_0d(f, dtype) for f in factors], one)
        total = scale if total is None else total + scale
    total = T.cast(total, dtype)
    if all(isinstance(v, Constant) for v in graph_inputs([total])):
        return T.constant(np.asarray(total.eval(), dtype))   # known now: fold it
    return total


def _as_0d(factor, dtype):
    import clgraph.tensor as T

    if isinstance(factor, int):
        return T.constant(np.asarray(factor, dtype))
    return DimShuffle(factor.ndim, ())(factor) if factor.ndim else factor


@register("gemm", 35, "fast_run")
def fuse_products_into_gemm(fgraph):
    for node in reversed(fgraph.toposort()):   # whole sums first: their parts then go with them
        if node not in fgraph or _scalar_name(node) not in _SUMS:
            continue
        out = node.outputs[0]
        if out.dtype not in ("float32", "float64") or out.ndim not in (1, 2) or _fused_later(fgraph, out):
            continue
        replacement = _as_gemm(_Terms(fgraph, out), out)
        if replacement is not None:
            fgraph.replace(out, replacement, check=False)


def _fused_later(fgraph, out):
    """Whether the matrix sum ``out`` is read only by one elementwise operation (not a
    sum): elementwise fusion then makes them one kernel, which on CPU devices takes
    the product in as well (compile.device_epilogue); a Gemm would add a kernel."""
    clients = fgraph.clients(out)
    if out.ndim != 2 or len(clients) != 1 or clients[0][0] == "output":
        return False
    name = _scalar_name(clients[0][0])
    return name is not None and name not in _SUMS


def _as_gemm(terms, out):
    k = terms.product(out)
    if k is None:
        return None
    z = next((var for j, (_, var) in enumerate(terms.terms) if j != k and var.type == out.type
              and not isinstance(var, Constant)), None)
    if z is None:
        return None
    alpha_factors, dot = terms.terms[k]
    beta_factors = [factors for factors, var in terms.terms if var is z]
    rest = [(factors, var) for j, (factors, var) in enumerate(terms.terms) if j != k and var is not z]
    x, y = dot.owner.inputs
    if x.ndim == 1:   # x @ B == B.T @ x
        x, y = y.T, x
    op = gemm if out.ndim == 2 else gemv
    result = op(z, _coefficient([alpha_factors], out.dtype), x, y, _coefficient(beta_factors, out.dtype))
    for factors, var in rest:
        result = result + _coefficient([factors], out.dtype) * var
    return result if result.type == out.type else None
