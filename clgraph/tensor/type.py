"""TensorType: a dtype and a static shape (None where unknown), and its constructors.

A dimension of static length 1 is broadcastable (Theano's broadcastable flags).
"""
import warnings

import numpy as np

from clgraph.configdefaults import config
from clgraph.graph.type import Type

_NAMED_SHAPES = {(): "scalar", (None,): "vector", (None, None): "matrix", (1, None): "row",
                 (None, 1): "col", (None,) * 3: "tensor3", (None,) * 4: "tensor4",
                 (None,) * 5: "tensor5"}

DOWNCAST_HELP = ('If you do not mind this loss, you can: 1) explicitly cast your data to {dtype}, '
                 'or 2) set "allow_input_downcast=True" when calling "function".')


def _shape_of(shape=None, broadcastable=None):
    if broadcastable is not None:
        return tuple(1 if b else None for b in broadcastable)
    return tuple(None if s is None else int(s) for s in shape)


def _check_float64(name):
    """The warn_float64 flag: warn or raise where a float64 variable is made."""
    if config.warn_float64 == "ignore":
        return
    message = (f"creating a float64 variable{f' {name!r}' if name else ''} while warn_float64="
               f"{config.warn_float64!r}; give the variable a dtype (or set floatX) to keep float32")
    if config.warn_float64 == "raise":
        raise TypeError(message)
    warnings.warn(message, stacklevel=4)


class TensorType(Type):
    """Values: numpy arrays of ``dtype`` with ``ndim`` dimensions matching ``shape``."""

    def __init__(self, dtype, shape=None, broadcastable=None):
        try:
            self.dtype = str(np.dtype(dtype))
        except TypeError:
            raise TypeError(f"{dtype!r} is not a dtype") from None
        if shape is not None and broadcastable is not None:
            raise TypeError("give shape or broadcastable, not both")
        self.shape = _shape_of(() if shape is None and broadcastable is None else shape, broadcastable)
        if any(s is not None and s < 0 for s in self.shape):
            raise ValueError(f"negative static dimension in shape {self.shape}")

    def make_variable(self, name=None):
        if self.dtype == "float64":
            _check_float64(name)
        return super().make_variable(name)

    ndim = property(lambda self: len(self.shape))
    broadcastable = property(lambda self: tuple(s == 1 for s in self.shape))

    def clone(self, dtype=None, shape=None):
        return TensorType(dtype or self.dtype, self.shape if shape is None else shape)

    def __eq__(self, other):
        return type(other) is type(self) and (self.dtype, self.shape) == (other.dtype, other.shape)

    def __hash__(self):
        return hash((type(self), self.dtype, self.shape))

    def __str__(self):
        named = _NAMED_SHAPES.get(self.shape)
        return f"TensorType({self.dtype}, {named or 'shape=' + repr(self.shape)})"

    __repr__ = __str__

    def filter(self, value, strict=False, allow_downcast=None):
        """``value`` as an ndarray of this type; TypeError saying why not.

        ndarrays of another dtype are accepted when the cast is safe (or allowed);
        Python data (lists, scalars) when converting it changes no value.
        """
        if type(value) is np.ndarray and value.dtype == self.dtype:
            converted = value    # the common case of a call: nothing to convert
        elif strict:
            if not isinstance(value, np.ndarray) or str(value.dtype) != self.dtype:
                raise TypeError(f"{self} expects an ndarray of dtype {self.dtype}, got "
                                f"{type(value).__name__} of dtype {getattr(value, 'dtype', '?')}")
            converted = value
        elif isinstance(value, (np.ndarray, np.generic)) and str(value.dtype) != self.dtype:
            if allow_downcast or np.can_cast(value.dtype, self.dtype, "safe"):
                with np.errstate(all="ignore"):
                    converted = np.asarray(value, dtype=self.dtype)
            else:
                raise TypeError(f"{self} cannot store a value of dtype {value.dtype} without risking "
                                f"loss of precision. " + DOWNCAST_HELP.format(dtype=self.dtype))
        else:
            converted = self._from_python(value, allow_downcast)
        if converted.ndim != self.ndim:
            raise TypeError(f"{self} expects {self.ndim} dimensions, got a value with {converted.ndim} "
                            f"(shape {converted.shape})")
        for axis, (want, got) in enumerate(zip(self.shape, converted.shape)):
            if want is not None and want != got:
                raise TypeError(f"{self} has static shape {self.shape}, got a value of shape "
                                f"{converted.shape} (axis {axis} is {got}, expected {want})")
        return converted

    def _from_python(self, value, allow_downcast):
        original = np.asarray(value)
        if original.dtype == object:
            raise TypeError(f"{self} cannot store {type(value).__name__} data {value!r}")
        with np.errstate(all="ignore"):   # a value that does not fit is refused below
            converted = np.asarray(original, dtype=self.dtype)
        if allow_downcast is None and original.dtype == np.float64 and self.dtype == config.floatX:
            allow_downcast = True   # Python float literals are weak: they take floatX
        if not allow_downcast and original.dtype != converted.dtype:
            same = np.array_equal(converted, original, equal_nan=converted.dtype.kind == "f")
            if not same:
                raise TypeError(f"{self} cannot store {value!r} (of dtype {original.dtype}) without "
                                f"changing its values. " + DOWNCAST_HELP.format(dtype=self.dtype))
        return converted


def tensor(dtype=None, shape=None, name=None, broadcastable=None):
    """A symbolic tensor: ``T.tensor('float32', (None, 3))`` or with ``broadcastable``."""
    if isinstance(dtype, (tuple, list)) and shape is None:   # T.tensor(shape) form
        dtype, shape = None, dtype
    if shape is not None and all(isinstance(s, (bool, np.bool_)) for s in shape) and shape:
        shape, broadcastable = None, shape
    return TensorType(dtype or config.floatX, shape, broadcastable)(name)


_PATTERNS = {"scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None),
             "col": (None, 1), "tensor3": (None,) * 3, "tensor4": (None,) * 4, "tensor5": (None,) * 5}
_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64",
             "c": "complex64", "z": "complex128"}
_PLURALS = {"scalar": "scalars", "vector": "vectors", "matrix": "matrices", "row": "rows",
            "col": "cols", "tensor3": "tensor3s", "tensor4": "tensor4s", "tensor5": "tensor5s"}


def _constructor(kind, fixed_dtype):
    shape = _PATTERNS[kind]

    def make(name=None, dtype=None):
        return TensorType(fixed_dtype or dtype or config.floatX, shape)(name)

    make.__name__ = kind if fixed_dtype is None else next(p for p, d in _PREFIXES.items() if d == fixed_dtype) + kind
    make.__doc__ = f"A symbolic {kind} of dtype {fixed_dtype or 'config.floatX (or dtype=)'}."
    return make


def _plural(single):
    def make(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):   # T.matrices(3): three unnamed
            names = (None,) * names[0]
        return [single(name, dtype) if single.__name__ in _PATTERNS else single(name) for name in names]

    make.__name__ = _PLURALS.get(single.__name__, single.__name__ + "s")
    return make


def _constructors():
    made = {}
    for kind in _PATTERNS:
        for prefix, dtype in [("", None)] + [(p, d) for p, d in _PREFIXES.items() if d[0] != "c"]:
            single = _constructor(kind, dtype)
            made[prefix + kind] = single
            made[prefix + _PLURALS[kind]] = _plural(single)
    return made


CONSTRUCTORS = _constructors()
globals().update(CONSTRUCTORS)
