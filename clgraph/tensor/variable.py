"""TensorVariable and TensorConstant: symbolic arrays with numpy's operators and methods.

Every operator builds a node through the functions of clgraph.tensor, imported when
first called (those modules import this one).
"""
import numpy as np

from clgraph.graph.basic import Constant, Variable

from .type import TensorType


def _T():
    import clgraph.tensor as T
    return T


class _TensorOperators:
    """Operators and methods shared by tensor variables and constants."""

    ndim = property(lambda self: self.type.ndim)
    dtype = property(lambda self: self.type.dtype)
    broadcastable = property(lambda self: self.type.broadcastable)
    shape = property(lambda self: _T().shape(self))
    size = property(lambda self: _T().prod(self.shape))
    T = property(lambda self: _T().transpose(self))

    # arithmetic
    def __add__(self, other): return _T().add(self, other)
    def __radd__(self, other): return _T().add(other, self)
    def __sub__(self, other): return _T().sub(self, other)
    def __rsub__(self, other): return _T().sub(other, self)
    def __mul__(self, other): return _T().mul(self, other)
    def __rmul__(self, other): return _T().mul(other, self)
    def __truediv__(self, other): return _T().true_div(self, other)
    def __rtruediv__(self, other): return _T().true_div(other, self)
    def __floordiv__(self, other): return _T().int_div(self, other)
    def __rfloordiv__(self, other): return _T().int_div(other, self)
    def __mod__(self, other): return _T().mod(self, other)
    def __rmod__(self, other): return _T().mod(other, self)
    def __pow__(self, other): return _T().pow(self, other)
    def __rpow__(self, other): return _T().pow(other, self)
    def __matmul__(self, other): return _T().matmul(self, other)
    def __rmatmul__(self, other): return _T().matmul(other, self)
    def __neg__(self): return _T().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _T().abs(self)

    # comparisons and bits; == stays identity so variables can be dict keys (use T.eq)
    def __lt__(self, other): return _T().lt(self, other)
    def __le__(self, other): return _T().le(self, other)
    def __gt__(self, other): return _T().gt(self, other)
    def __ge__(self, other): return _T().ge(self, other)
    def __and__(self, other): return _T().and_(self, other)
    def __rand__(self, other): return _T().and_(other, self)
    def __or__(self, other): return _T().or_(self, other)
    def __ror__(self, other): return _T().or_(other, self)
    def __xor__(self, other): return _T().xor(self, other)
    def __rxor__(self, other): return _T().xor(other, self)
    def __invert__(self): return _T().invert(self)

    def __bool__(self):
        raise TypeError(f"the truth value of symbolic {self} is unknown until the graph runs; "
                        "use T.switch or clgraph.ifelse for conditions")

    def __len__(self):
        raise TypeError(f"len() of symbolic {self} is unknown until the graph runs; use .shape[0]")

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError(f"cannot iterate over the scalar {self}")
        static = self.type.shape[0]
        if static is None:
            raise TypeError(f"cannot iterate over {self}: its first dimension has no static length")
        return (self[i] for i in range(static))

    def __getitem__(self, key):
        return _T().subtensor(self, key)

    # methods, as numpy's
    def astype(self, dtype): return _T().cast(self, dtype)
    def reshape(self, *shape, ndim=None):
        return _T().reshape(self, shape[0] if len(shape) == 1 else shape, ndim=ndim)
    def dimshuffle(self, *pattern):
        return _T().dimshuffle(self, pattern[0] if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)) else pattern)
    def transpose(self, *axes):
        return _T().transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (list, tuple)) else (axes or None))
    def flatten(self, ndim=1): return _T().flatten(self, ndim)
    def ravel(self): return _T().flatten(self, 1)
    def squeeze(self, axis=None): return _T().squeeze(self, axis)
    def swapaxes(self, a, b): return _T().swapaxes(self, a, b)
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().sum(self, axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().prod(self, axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().mean(self, axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    def var(self, axis=None, ddof=0, keepdims=False): return _T().var(self, axis, ddof=ddof, keepdims=keepdims)
    def std(self, axis=None, ddof=0, keepdims=False): return _T().std(self, axis, ddof=ddof, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return _T().max(self, axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return _T().min(self, axis, keepdims=keepdims)
    def argmax(self, axis=None, keepdims=False): return _T().argmax(self, axis, keepdims=keepdims)
    def argmin(self, axis=None, keepdims=False): return _T().argmin(self, axis, keepdims=keepdims)
    def all(self, axis=None, keepdims=False): return _T().all(self, axis, keepdims=keepdims)
    def any(self, axis=None, keepdims=False): return _T().any(self, axis, keepdims=keepdims)
    def ptp(self, axis=None, keepdims=False): return _T().ptp(self, axis, keepdims=keepdims)
    def cumsum(self, axis=None): return _T().cumsum(self, axis)
    def cumprod(self, axis=None): return _T().cumprod(self, axis)
    def dot(self, other): return _T().dot(self, other)
    def sort(self, axis=-1): return _T().sort(self, axis)
    def argsort(self, axis=-1): return _T().argsort(self, axis)
    def clip(self, low, high): return _T().clip(self, low, high)
    def round(self): return _T().round(self)
    def repeat(self, repeats, axis=None): return _T().repeat(self, repeats, axis)
    def nonzero(self): return _T().nonzero(self)
    def transfer(self, target): return _T().transfer(self, target)


class TensorVariable(_TensorOperators, Variable):
    """A symbolic array (an input of a graph or an intermediate result)."""


class TensorConstant(_TensorOperators, Constant):
    """A constant array in a graph."""

    def __str__(self):
        if self.name is not None:
            return self.name
        data = np.asarray(self.data)
        if data.ndim == 0:
            shown = repr(data.item()) if data.dtype.kind in "fc" else str(data.item())
        elif data.size and np.all(data == data.flat[0]):
            shown = f"{data.shape} of {data.flat[0]}"
        elif data.size <= 10:
            shown = np.array2string(data, separator=", ").replace("\n", "")
        else:
            shown = "..."
        return f"TensorConstant{{{shown}}}"

    __repr__ = __str__

    def signature(self):
        data = np.asarray(self.data)
        return (self.type, data.tobytes(), data.shape)


TensorType.variable_type = TensorVariable
TensorType.constant_type = TensorConstant
