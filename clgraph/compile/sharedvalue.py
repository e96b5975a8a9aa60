"""Shared variables: symbolic variables with a value that lives between calls.

A shared tensor's value lives on a context: floats (and integer arrays) on the default
device context, integer and boolean scalars on the host, as in Theano; ``target``
names another context ('cpu' for the host). ``borrow`` follows the source documents:
on the host, ``shared(a, borrow=True)`` and ``set_value(a, borrow=True)`` alias ``a``;
everything else copies. ``get_value(return_internal_type=True)`` gives the stored
object itself (a DeviceArray on a device).
"""
import numpy as np

from clgraph.backends import DeviceArray, get_context, to_device
from clgraph.graph.basic import Variable
from clgraph.tensor.type import TensorType
from clgraph.tensor.variable import _TensorOperators


class SharedVariable(Variable):
    """A variable whose value is stored, used by every function that mentions it."""

    def __init__(self, type, value, name=None, context=None, strict=False, allow_downcast=None,
                 borrow=False):
        super().__init__(type, None, None, name)
        self.context = context          # None: the host
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.default_update = None      # an expression applied after every call, if set
        self._value = None
        self._value = self._stored(value, borrow)

    @property
    def context_name(self):
        return "cpu" if self.context is None else self.context.name

    def _stored(self, value, borrow):
        """``value`` checked against the type and placed where this variable lives."""
        if isinstance(value, DeviceArray):
            if value.dtype != np.dtype(self.type.dtype) or value.ndim != self.type.ndim or any(
                    want is not None and want != got for want, got in zip(self.type.shape, value.shape)):
                raise TypeError(f"a DeviceArray of dtype {value.dtype} and shape {value.shape} "
                                f"cannot be a value of {self.type}")
            if self.context is None:
                return value.get()
            if value.context is not self.context:
                return value.transfer(self.context)     # a new array on this context
            return value if borrow else value.copy()
        host = self.type.filter(value, strict=self.strict, allow_downcast=self.allow_downcast)
        if self.context is None:
            return host if borrow and host is value else np.array(host, copy=True)
        current = self._value
        if isinstance(current, DeviceArray) and current.shape == host.shape and current.c_contiguous:
            # Same size: overwrite the device buffer in place (upload of a private copy).
            current.context.upload(current.block, current.offset, np.array(host, order="C"))
            return current
        return to_device(host, self.context)

    def get_value(self, borrow=False, return_internal_type=False):
        value = self._value
        if isinstance(value, DeviceArray):
            if return_internal_type:
                return value if borrow else value.copy()
            return value.get()
        return value if borrow else value.copy()

    def set_value(self, value, borrow=False):
        self._value = self.prepare_value(value, borrow)

    def prepare_value(self, value, borrow=False):
        """``value`` as this variable would store it; TypeError naming the variable if it
        cannot be. Functions prepare every update before storing any."""
        try:
            return self._stored(value, borrow)
        except TypeError as exc:
            raise TypeError(f"shared variable {self}: {exc}") from None

    def clone(self):
        """Inside a compiled graph the shared variable is a plain input of its type."""
        return self.type.make_variable(self.name)


class TensorSharedVariable(_TensorOperators, SharedVariable):
    """A shared tensor: usable in expressions like any tensor variable."""


def _default_context(value, target):
    if target is not None:
        return None if target == "cpu" else get_context(target)
    if isinstance(value, DeviceArray):
        return value.context
    context = get_context()
    if context.api == "cpu":
        return None
    dtype = np.asarray(value).dtype
    if dtype.kind in "biu" and np.ndim(value) == 0:
        return None                       # integer scalars stay on the host (counters, indices)
    if dtype == np.float64 and not context.info.fp64:
        return None
    return context


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, target=None,
           shape=None, broadcastable=None):
    """A shared variable holding ``value`` (copied unless ``borrow=True`` on the host)."""
    if isinstance(value, SharedVariable):
        raise TypeError(f"shared() of the shared variable {value}: use it directly")
    if isinstance(value, DeviceArray):
        dtype, ndim = value.dtype, value.ndim
    else:
        array = np.asarray(value)
        if array.dtype == object or array.dtype.kind not in "biuf":
            raise TypeError(f"shared() needs numeric data, got {type(value).__name__} of dtype {array.dtype}")
        dtype, ndim = array.dtype, array.ndim
    if shape is None and broadcastable is None:
        shape = (None,) * ndim             # Theano: nothing is broadcastable unless asked
    return TensorSharedVariable(TensorType(dtype, shape, broadcastable), value, name,
                                _default_context(value, target), strict, allow_downcast, borrow)
