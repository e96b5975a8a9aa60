"""Indexing: ``x[key]`` (basic and advanced, as numpy), set_subtensor / inc_subtensor,
nonzero and take.

A key is split, as in Theano, into a static part kept in the op (its ``idx_list``) and
symbolic inputs. ``idx_list`` holds one entry per index of the key:

- a Python int (a constant index), a slice whose start/stop/step are ints, None or
  placeholders, ``Ellipsis`` (advanced ops only: numpy places advanced axes by it);
- ``ScalarIndex(dtype)``: a placeholder for a symbolic 0-d integer (an input);
- ``ArrayIndex()``: a placeholder for an integer or boolean index array (an input;
  constant arrays are inputs too, TensorConstants).

The op's inputs are ``x`` (then ``y`` for the increment ops) followed by the tensors of
the placeholders in key order; :func:`get_idx_list` puts them back into a key. ``None``
(np.newaxis) in a key becomes a DimShuffle of ``x`` adding the broadcastable axes, then
a full slice, as Theano does (numpy places advanced axes the same way for both).
"""
from dataclasses import dataclass

import numpy as np

from clgraph.graph.basic import Apply, Constant, Variable
from clgraph.graph.op import Op

from .basic import as_tensor_variable, cast, constant
from .elemwise import DimShuffle, _sum_to_pattern, broadcast_static_shapes
from .type import TensorType


@dataclass(frozen=True)
class ScalarIndex:
    """Placeholder in an ``idx_list`` for a symbolic 0-d integer input of ``dtype``."""

    dtype: str

    def __str__(self):
        return self.dtype


@dataclass(frozen=True)
class ArrayIndex:
    """Placeholder in an ``idx_list`` for an integer or boolean index array input."""

    def __str__(self):
        return "array"


def _is_placeholder(entry):
    return isinstance(entry, (ScalarIndex, ArrayIndex))


def get_idx_list(inputs, idx_list):
    """The key of ``idx_list`` with its placeholders replaced, in order, by ``inputs``
    (variables or their values)."""
    values = iter(inputs)

    def fill(entry):
        if isinstance(entry, slice):
            return slice(fill(entry.start), fill(entry.stop), fill(entry.step))
        return next(values) if _is_placeholder(entry) else entry

    return tuple(fill(entry) for entry in idx_list)


def _placeholders(idx_list):
    """The placeholders of ``idx_list`` in input order."""
    found = []
    for entry in idx_list:
        parts = (entry.start, entry.stop, entry.step) if isinstance(entry, slice) else (entry,)
        found.extend(p for p in parts if _is_placeholder(p))
    return found


def _hashable(idx_list):
    return tuple(("slice", e.start, e.stop, e.step) if isinstance(e, slice) else e for e in idx_list)


def _str_entry(entry):
    if isinstance(entry, slice):
        parts = ["" if p is None else str(p) for p in (entry.start, entry.stop, entry.step)]
        return ":".join(parts if entry.step is not None else parts[:2])
    return "..." if entry is Ellipsis else str(entry)


def _format_key(idx_list):
    return ", ".join(map(_str_entry, idx_list))


# -- the indexing ops -----------------------------------------------------------------

class _IndexingOp(Op):
    """What the four indexing ops share: the ``idx_list``, its validation and hashing, the
    checks of the index inputs, and the numpy key given their values."""

    advanced = False   # whether index arrays and Ellipsis may appear in idx_list

    def _init_idx_list(self, idx_list):
        def static(entry, in_slice):
            if isinstance(entry, (bool, np.bool_)):
                raise TypeError(f"{type(self).__name__}: boolean {entry!r} is not an index entry")
            if isinstance(entry, (int, np.integer)):
                return int(entry)
            if isinstance(entry, ScalarIndex) or (entry is None and in_slice):
                return entry
            if not in_slice and self.advanced and (isinstance(entry, ArrayIndex) or entry is Ellipsis):
                return entry
            raise TypeError(f"{type(self).__name__}: invalid idx_list entry {entry!r}")

        self.idx_list = tuple(
            slice(static(e.start, True), static(e.stop, True), static(e.step, True))
            if isinstance(e, slice) else static(e, False) for e in idx_list)

    def __hash__(self):
        return hash((type(self), _hashable(self.idx_list), self._props()[1:]))

    def _index_inputs(self, x, inputs):
        """``inputs`` as tensors matching the placeholders, and the static shape of
        ``x[key]`` (with every build-time check of the key)."""
        placeholders = _placeholders(self.idx_list)
        if len(inputs) != len(placeholders):
            raise TypeError(f"{self} takes {len(placeholders)} index inputs after x, got {len(inputs)}")
        inputs = [as_tensor_variable(v) for v in inputs]
        for place, var in zip(placeholders, inputs):
            kind = np.dtype(var.dtype).kind
            if isinstance(place, ScalarIndex):
                if var.ndim != 0 or kind not in "iu" or var.dtype != place.dtype:
                    raise TypeError(f"{self}: index input {var} of type {var.type} is not a 0-d "
                                    f"{place.dtype} scalar")
            elif var.ndim == 0 or kind not in "biu":
                raise TypeError(f"{self}: index array {var} of type {var.type} must be an integer "
                                "or boolean array of at least one dimension")
        key = get_idx_list(inputs, self.idx_list)
        return inputs, _indexed_shape(self, x, key, any(isinstance(e, ArrayIndex) for e in self.idx_list))

    def _key(self, values):
        """The numpy key given the values of the index inputs."""
        return get_idx_list([int(v) if np.ndim(v) == 0 else v for v in values], self.idx_list)


class _GetItem(_IndexingOp):
    """``x[key]``: the part of the key known when building is ``idx_list``; the symbolic
    scalars and index arrays are inputs after ``x``."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self._init_idx_list(idx_list)

    def make_node(self, x, *inputs):
        x = as_tensor_variable(x)
        inputs, shape = self._index_inputs(x, inputs)
        return Apply(self, [x, *inputs], [TensorType(x.dtype, shape)()])

    def perform(self, node, inputs):
        x, *values = inputs
        return [np.asarray(x[self._key(values)])]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)   # indices select, they are not values

    def L_op(self, inputs, outputs, output_grads):
        # the selected elements' gradients added into zeros (repeated indices accumulate)
        from .shape_ops import zeros_like

        x, *indices = inputs
        increment = (AdvancedIncSubtensor if self.advanced else IncSubtensor)(self.idx_list)
        return [increment(zeros_like(x), output_grads[0], *indices)] + [None] * len(indices)


class Subtensor(_GetItem):
    """Basic indexing ``x[key]``: integers and slices (a numpy view of ``x``)."""

    view_map = {0: [0]}

    def infer_shape(self, node, input_shapes):
        key = get_idx_list(node.inputs[1:], self.idx_list)
        shape, out = input_shapes[0], []
        for axis, entry in enumerate(key):
            if isinstance(entry, slice):
                static = node.outputs[0].type.shape[len(out)]
                out.append(static if static is not None else _slice_length(entry, shape[axis]))
        return [tuple(out) + tuple(shape[len(key):])]

    def __str__(self):
        return f"Subtensor{{{_format_key(self.idx_list)}}}"


class AdvancedSubtensor(_GetItem):
    """Advanced indexing ``x[key]`` with integer or boolean index arrays, as numpy
    (the result is a copy)."""

    advanced = True

    def __str__(self):
        return "AdvancedSubtensor"


class _IncrementOp(_IndexingOp):
    """x with ``x[key]`` replaced by (or incremented by) ``y``; inputs (x, y, *indices)."""

    def make_node(self, x, y, *inputs):
        x = as_tensor_variable(x)
        inputs, region = self._index_inputs(x, inputs)
        y = _update_value(self, x, y)
        if y.ndim > len(region) or any(
                ys is not None and ys != 1 and rs is not None and rs != ys
                for ys, rs in zip(reversed(y.type.shape), reversed(region))):
            raise ValueError(f"{self}: cannot broadcast y of static shape {y.type.shape} to the "
                             f"indexed region of static shape {region} (x has static shape "
                             f"{x.type.shape})")
        return Apply(self, [x, y, *inputs], [TensorType(x.dtype, x.type.shape)()])

    def perform(self, node, inputs):
        x, y, *values = inputs
        out = x.copy()   # the reference never writes its inputs, even when inplace
        self._update(out, self._key(values), y)
        return [out]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    @property
    def destroy_map(self):
        return {0: [0]} if self.inplace else {}

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)

    def L_op(self, inputs, outputs, output_grads):
        x, y, *indices = inputs
        (gz,) = output_grads
        get = (AdvancedSubtensor if self.advanced else Subtensor)(self.idx_list)
        if self.set_instead_of_inc:   # the overwritten elements of x do not reach the output
            setter = (AdvancedIncSubtensor if self.advanced else IncSubtensor)(self.idx_list,
                                                                            set_instead_of_inc=True)
            gx = setter(gz, constant(np.zeros((), dtype=gz.dtype)), *indices)
        else:
            gx = gz
        # y was broadcast to the selection
        return [gx, _sum_to_pattern(get(gz, *indices), y)] + [None] * len(indices)


class IncSubtensor(_IncrementOp):
    """``x[key] = y`` (set_instead_of_inc) or ``x[key] += y`` for a basic key, as a new value."""

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False):
        self._init_idx_list(idx_list)
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def _update(self, out, key, y):
        if self.set_instead_of_inc:
            out[key] = y
        else:
            out[key] += y

    def __str__(self):
        mode = ("Inplace" if self.inplace else "") + ("Set" if self.set_instead_of_inc else "Inc")
        return f"IncSubtensor{{{mode};{_format_key(self.idx_list)}}}"


class AdvancedIncSubtensor(_IncrementOp):
    """``x[key] = y`` or ``x[key] += y`` for an advanced key, as a new value. Repeated
    indices accumulate (numpy.add.at) unless ``ignore_duplicates`` (then each repeated
    element receives one of the increments, as numpy's ``x[key] += y``)."""

    __props__ = ("idx_list", "set_instead_of_inc", "inplace", "ignore_duplicates")
    advanced = True

    def __init__(self, idx_list, set_instead_of_inc=False, inplace=False, ignore_duplicates=False):
        self._init_idx_list(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.inplace = bool(inplace)
        self.ignore_duplicates = bool(ignore_duplicates)

    def _update(self, out, key, y):
        if self.set_instead_of_inc:
            out[key] = y
        elif self.ignore_duplicates:
            out[key] += y
        else:
            np.add.at(out, key, y)

    def __str__(self):
        flags = ["inplace"] if self.inplace else []
        flags.append("set" if self.set_instead_of_inc else "inc")
        if self.ignore_duplicates and not self.set_instead_of_inc:
            flags.append("ignore_duplicates")
        return f"AdvancedIncSubtensor{{{','.join(flags)}}}"


# -- static shapes and checks ---------------------------------------------------------

def _constant_value(var):
    return np.asarray(var.data) if isinstance(var, Constant) else None


def _slice_length(entry, length):
    """Length of ``range(length)[entry]``: an int when everything is static, else a
    symbolic int64 scalar (numpy's clamping of start and stop)."""
    start, stop, step = entry.start, entry.stop, entry.step
    parts = (start, stop, step, length)
    if all(p is None or isinstance(p, (int, np.integer)) for p in parts):
        return None if length is None else len(range(*slice(start, stop, step).indices(int(length))))
    if length is None:
        return None
    from .basic import int_div, maximum, minimum, switch

    def where(cond, a, b):
        return (a if cond else b) if isinstance(cond, (bool, np.bool_)) else switch(cond, a, b)

    def clamp(i, low, high):
        i = where(i < 0, i + length, i)
        return minimum(maximum(i, low), high)

    step = 1 if step is None else step
    # step > 0: start in [0, n] (default 0), stop in [0, n] (default n)
    up_start = 0 if start is None else clamp(start, 0, length)
    up_stop = length if stop is None else clamp(stop, 0, length)
    up = maximum(int_div(up_stop - up_start + step - 1, step), 0)
    # step < 0: start in [-1, n-1] (default n-1), stop in [-1, n-1] (default -1: past the front)
    down_start = length - 1 if start is None else clamp(start, -1, length - 1)
    down_stop = -1 if stop is None else clamp(stop, -1, length - 1)
    down = maximum(int_div(down_start - down_stop - step - 1, -step), 0)
    return cast(where(step > 0, up, down), "int64")


def _broadcast_index_shapes(op, shapes):
    """Static broadcast of the index arrays' shapes (numpy's IndexError when they clash)."""
    ndim = max(map(len, shapes))
    shape, conflict = broadcast_static_shapes([(1,) * (ndim - len(s)) + tuple(s) for s in shapes])
    if conflict:
        raise IndexError(f"{op}: shape mismatch: indexing arrays could not be broadcast together "
                         f"with static shapes {' '.join(map(str, shapes))}")
    return shape


def _consumed(entry):
    """How many axes of x an entry of a key indexes."""
    if entry is Ellipsis or entry is None:
        return 0
    if isinstance(entry, Variable) and entry.dtype == "bool":
        return entry.ndim
    return 1


def _check_count(op, x, key):
    used = sum(map(_consumed, key))
    if used > x.ndim:
        raise IndexError(f"{op}: too many indices for {x} of static shape {x.type.shape}: it has "
                         f"{x.ndim} dimensions but {used} were indexed")
    return used


def _check_in_bounds(op, x, axis, index):
    length = x.type.shape[axis]
    index = np.asarray(index)
    if length is None or index.size == 0:
        return
    bad = index[(index < -length) | (index >= length)]
    if bad.size:
        raise IndexError(f"{op}: index {bad.flat[0]} is out of bounds for axis {axis} with length "
                         f"{length} (x of static shape {x.type.shape})")


def _indexed_shape(op, x, key, advanced):
    """The static shape of ``x[key]`` (key: ints, slices, 0-d and array variables,
    Ellipsis), numpy's placement of advanced axes included; raises on what is knowably
    wrong: too many indices, constant indices out of static bounds, boolean masks whose
    static shape differs from x's, a zero slice step."""
    shape = x.type.shape
    span = x.ndim - _check_count(op, x, key)
    basic = []                    # (key position, static length) of each slice-made axis
    index_shapes, positions = [], []
    axis = 0
    for position, entry in enumerate(key):
        if entry is Ellipsis:
            basic.extend((position, n) for n in shape[axis:axis + span])
            axis += span
        elif isinstance(entry, slice):
            if isinstance(entry.step, int) and entry.step == 0:
                raise ValueError(f"{op}: slice step cannot be zero (axis {axis})")
            symbolic = any(isinstance(p, Variable) for p in (entry.start, entry.stop, entry.step))
            basic.append((position, None if symbolic else _slice_length(entry, shape[axis])))
            axis += 1
        elif isinstance(entry, int) or entry.ndim == 0:
            if isinstance(entry, int):
                _check_in_bounds(op, x, axis, entry)
            if advanced:   # numpy: integers beside index arrays are index arrays
                index_shapes.append(())
                positions.append(position)
            axis += 1
        elif entry.dtype == "bool":
            mask_shape = entry.type.shape
            value = _constant_value(entry)
            for k, (want, got) in enumerate(zip(shape[axis:], mask_shape)):
                if want is not None and got is not None and want != got:
                    raise IndexError(f"{op}: boolean index did not match indexed array along axis "
                                     f"{axis + k}; size of axis is {want} but size of corresponding "
                                     f"boolean axis is {got} (x of static shape {shape})")
            index_shapes.append((None if value is None else int(value.sum()),))
            positions.append(position)
            axis += entry.ndim
        else:
            value = _constant_value(entry)
            if value is not None:
                _check_in_bounds(op, x, axis, value)
            index_shapes.append(entry.type.shape)
            positions.append(position)
            axis += 1
    basic.extend((len(key), n) for n in shape[axis:])
    if not positions:
        return tuple(n for _, n in basic)
    broadcast = _broadcast_index_shapes(op, index_shapes)
    if positions == list(range(positions[0], positions[-1] + 1)):   # adjacent: they stay there
        before = tuple(n for p, n in basic if p < positions[0])
        return before + broadcast + tuple(n for p, n in basic if p > positions[0])
    return broadcast + tuple(n for _, n in basic)


# -- building keys --------------------------------------------------------------------

def _holds_variable(data):
    """Whether nested lists or tuples ``data`` hold a variable (they are then stacked)."""
    return isinstance(data, Variable) or (
        isinstance(data, (list, tuple)) and any(_holds_variable(v) for v in data))


def _index_error_name(key):
    return "AdvancedSubtensor" if any(isinstance(e, Variable) and e.ndim > 0 for e in key) else "Subtensor"


def _scalar_entry(value, where):
    """An int, None or a symbolic 0-d integer: the scalar parts of a key."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: boolean scalar {value!r} is not a valid index; use an integer, "
                        "or a boolean array as a mask")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        raise TypeError(f"{where}: float index {value!r}: indices must be integers")
    if isinstance(value, Variable):
        value = as_tensor_variable(value)
        kind = np.dtype(value.dtype).kind
        if value.ndim == 0 and kind in "iu":
            const = _constant_value(value)
            return value if const is None else int(const)
        if kind in "fc":
            raise TypeError(f"{where}: index {value} of dtype {value.dtype}: indices must be integers")
        if value.ndim == 0:
            raise TypeError(f"{where}: boolean scalar {value} is not a valid index; use a "
                            "boolean array as a mask")
    return NotImplemented


def _parse_entry(entry):
    """One entry of a user's key: Ellipsis, None, an int, a slice, a 0-d integer variable
    or an index array variable (integer or boolean, ndim >= 1)."""
    if entry is Ellipsis or entry is None:
        return entry
    if isinstance(entry, slice):
        parts = [_scalar_entry(p, "slice") for p in (entry.start, entry.stop, entry.step)]
        if any(p is NotImplemented or (isinstance(p, Variable) and p.ndim) for p in parts):
            raise TypeError(f"slice {entry!r}: start, stop and step must be integers, None or "
                            "symbolic integer scalars")
        return slice(*parts)
    scalar = _scalar_entry(entry, "subtensor")
    if scalar is not NotImplemented:
        return scalar
    if isinstance(entry, Variable):
        return entry
    if _holds_variable(entry):
        array = as_tensor_variable(entry)   # a list holding variables is stacked
    else:
        data = np.asarray(entry)
        if data.dtype == object or data.dtype.kind not in "biuf":
            raise TypeError(f"subtensor: {type(entry).__name__} {entry!r} is not a valid index")
        if data.size == 0 and data.dtype.kind == "f":   # numpy reads [] as an empty int array
            data = data.astype(np.int64)
        if data.ndim == 0:
            return _parse_entry(data.item())
        array = constant(data)
    if np.dtype(array.dtype).kind not in "biu":
        raise TypeError(f"subtensor: index array {array} of dtype {array.dtype}: indices must be "
                        "integers or booleans")
    return array


def _to_idx_list(key):
    """(idx_list, inputs) of a parsed key without None."""
    inputs = []

    def static(part):
        if isinstance(part, Variable):
            inputs.append(part)
            return ScalarIndex(part.dtype) if part.ndim == 0 else ArrayIndex()
        return part

    idx_list = [slice(static(e.start), static(e.stop), static(e.step)) if isinstance(e, slice)
                else static(e) for e in key]
    return idx_list, inputs


def subtensor(x, key):
    """``x[key]`` with numpy's rules: integers, slices (negative steps included), Ellipsis,
    None (np.newaxis), symbolic integer scalars, and integer or boolean index arrays."""
    x = as_tensor_variable(x)
    key = [_parse_entry(e) for e in (key if isinstance(key, tuple) else (key,))]
    if sum(e is Ellipsis for e in key) > 1:
        raise IndexError(f"{_index_error_name(key)}: an index can only have a single ellipsis ('...')")
    used = _check_count(_index_error_name(key), x, key)
    if any(e is None for e in key):   # new axes: index a DimShuffle of x adding them
        pattern, axis = [], 0
        for entry in key:
            count = x.ndim - used if entry is Ellipsis else _consumed(entry)
            pattern.extend(["x"] if entry is None else range(axis, axis + count))
            axis += count
        pattern.extend(range(axis, x.ndim))
        view = DimShuffle(x.ndim, pattern)(x)
        view.tag.newaxis_view_of = x   # lets set_subtensor give back a value of x's type
        x, key = view, [slice(None) if e is None else e for e in key]
    advanced = any(isinstance(e, Variable) and e.ndim > 0 for e in key)
    if not advanced and Ellipsis in key:   # basic keys spell the axes out
        at = key.index(Ellipsis)
        key[at:at + 1] = [slice(None)] * (x.ndim - sum(map(_consumed, key)))
    idx_list, inputs = _to_idx_list(key)
    return (AdvancedSubtensor if advanced else Subtensor)(idx_list)(x, *inputs)


# -- set_subtensor / inc_subtensor ----------------------------------------------------

def _update_value(op, x, y):
    """``y`` as a tensor of x's dtype: symbolic y when the cast is safe; data when the
    cast is safe or changes no value (Python floats into float x are weak, as in x * 0.1)."""
    if _holds_variable(y):
        y = as_tensor_variable(y)
        if y.dtype != x.dtype and not np.can_cast(y.dtype, x.dtype, "safe"):
            raise TypeError(f"{op}: cannot store y of dtype {y.dtype} in x of dtype {x.dtype} "
                            f"without risking loss of precision; cast y explicitly "
                            f"(y.astype('{x.dtype}'))")
        return cast(y, x.dtype)
    data = np.asarray(y)
    if data.dtype == object or data.dtype.kind not in "biuf":
        raise TypeError(f"{op}: y {y!r} is not numeric data")
    target = np.dtype(x.dtype)
    converted = data.astype(target)
    weak_float = data.dtype.kind == "f" == target.kind and not isinstance(y, (np.ndarray, np.generic))
    if not (np.can_cast(data.dtype, target, "safe") or weak_float
            or np.array_equal(converted, data, equal_nan=target.kind == "f")):
        raise TypeError(f"{op}: cannot store y of dtype {data.dtype} in x of dtype {x.dtype} without "
                        f"changing its values; convert y explicitly (numpy.asarray(y, dtype="
                        f"'{x.dtype}'))")
    return constant(converted)


def inc_subtensor(x_sub, y, inplace=False, set_instead_of_inc=False,
                  tolerate_inplace_aliasing=False, ignore_duplicates=False):
    """The value of ``x`` after ``x[key] += y`` (or ``= y``), where ``x_sub`` is ``x[key]``.

    ``x`` itself is unchanged (the graph is functional): use the returned variable. ``y``
    broadcasts to ``x[key]`` and is cast to x's dtype when that is safe. With advanced
    keys, repeated indices accumulate unless ``ignore_duplicates``; with
    ``set_instead_of_inc`` the last write wins, as in numpy. ``inplace`` marks the op as
    one that may overwrite ``x`` in compiled graphs (do not use it by hand).
    """
    name = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    node = getattr(x_sub, "owner", None)
    if node is None or not isinstance(node.op, (Subtensor, AdvancedSubtensor)):
        raise TypeError(f"{name} needs the result of indexing a tensor (x[...]) as its first "
                        f"argument, got {x_sub}{'' if node is None else ' computed by ' + str(node.op)}")
    x, indices = node.inputs[0], node.inputs[1:]
    if isinstance(node.op, Subtensor):
        op = IncSubtensor(node.op.idx_list, inplace, set_instead_of_inc)
    else:
        op = AdvancedIncSubtensor(node.op.idx_list, set_instead_of_inc, inplace, ignore_duplicates)
    if tolerate_inplace_aliasing:
        op.destroyhandler_tolerate_aliased = [(0, 1)]
    result = op(x, y, *indices)
    original = getattr(x.tag, "newaxis_view_of", None)
    if original is not None:   # x was x_orig with new axes: drop them again
        kept = [i for i, a in enumerate(x.owner.op.new_order) if a != "x"]
        result = DimShuffle(x.ndim, kept)(result)
    return result


def set_subtensor(x_sub, y, inplace=False, tolerate_inplace_aliasing=False):
    """The value of ``x`` after ``x[key] = y``, where ``x_sub`` is ``x[key]`` (numpy's
    ``a[5:] = 5`` is ``T.set_subtensor(a[5:], 5)``); ``x`` itself is unchanged."""
    return inc_subtensor(x_sub, y, inplace, set_instead_of_inc=True,
                         tolerate_inplace_aliasing=tolerate_inplace_aliasing)


# -- nonzero and take -----------------------------------------------------------------

class Nonzero(Op):
    """The indices of the nonzero elements of ``a``, as an int64 matrix of shape
    (a.ndim, number of nonzero elements) (numpy.nonzero, stacked)."""

    def make_node(self, a):
        a = as_tensor_variable(a)
        if a.ndim == 0:
            raise ValueError(f"Nonzero needs an array of at least one dimension, got the scalar {a}")
        return Apply(self, [a], [TensorType("int64", (a.ndim, None))()])

    def perform(self, node, inputs):
        (a,) = inputs
        return [np.array(np.nonzero(a), dtype=np.int64).reshape(a.ndim, -1)]


def nonzero(a, return_matrix=False):
    """The indices of the nonzero elements of ``a``: a tuple of int64 vectors, one per
    dimension (numpy.nonzero), or with ``return_matrix`` one (a.ndim, N) matrix."""
    matrix = Nonzero()(a)
    if return_matrix:
        return matrix
    return tuple(matrix[i] for i in range(matrix.type.shape[0]))


def _at_least_1d(a):
    a = as_tensor_variable(a)
    return DimShuffle(0, ["x"])(a) if a.ndim == 0 else a


def flatnonzero(a):
    """The indices of the nonzero elements of ``a`` flattened (numpy.flatnonzero)."""
    a = _at_least_1d(a)
    rows = nonzero(a)
    flat, stride = rows[-1], 1
    for axis in range(a.ndim - 2, -1, -1):
        length = a.type.shape[axis + 1]
        stride = stride * (a.shape[axis + 1] if length is None else length)
        flat = flat + rows[axis] * stride
    return flat


def nonzero_values(a):
    """The nonzero elements of ``a``, in C order (``a[a != 0]``)."""
    from .basic import neq

    a = _at_least_1d(a)
    return a[neq(a, 0)]


def take(a, indices, axis=None):
    """numpy.take: ``a`` indexed by ``indices`` along ``axis`` (along the flattened ``a``
    when axis is None)."""
    a = as_tensor_variable(a)
    if axis is None:
        a, axis = (_at_least_1d(a) if a.ndim < 2 else a.flatten()), 0
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"take: axis {axis} is out of range for {a} with {a.ndim} dimensions")
    return a[(slice(None),) * (axis % a.ndim) + (indices,)]


def take_along_axis(arr, indices, axis):
    """numpy.take_along_axis: ``arr`` indexed along ``axis`` by ``indices`` (of arr's
    ndim; other axes broadcast); axis None: along the flattened ``arr``."""
    from .shape_ops import arange, normalize_axis

    arr, indices = as_tensor_variable(arr), as_tensor_variable(indices)
    if axis is None:
        arr, axis = arr.flatten(), 0
    if indices.ndim != arr.ndim:
        raise ValueError(f"take_along_axis: indices must have the ndim of arr ({arr.ndim}), got {indices} with "
                         f"{indices.ndim}")
    axis = normalize_axis("take_along_axis", axis, arr.ndim)
    key = tuple(indices if d == axis else
                arange(arr.shape[d]).dimshuffle(*["x" if e != d else 0 for e in range(arr.ndim)])
                for d in range(arr.ndim))
    return arr[key]


# -- printing -------------------------------------------------------------------------

def _register_pp():
    from clgraph.printing import register_pp

    def rule(show, node, output):
        key = get_idx_list(node.inputs[1:], node.op.idx_list)

        def part(entry):
            if isinstance(entry, slice):
                parts = ["" if p is None else part(p) for p in (entry.start, entry.stop, entry.step)]
                return ":".join(parts if entry.step is not None else parts[:2])
            return show(entry) if isinstance(entry, Variable) else _str_entry(entry)

        return f"{show(node.inputs[0])}[{', '.join(map(part, key))}]"

    register_pp(Subtensor, rule)
    register_pp(AdvancedSubtensor, rule)


_register_pp()


__all__ = ["AdvancedIncSubtensor", "AdvancedSubtensor", "ArrayIndex", "IncSubtensor", "Nonzero",
           "ScalarIndex", "Subtensor", "flatnonzero", "get_idx_list", "inc_subtensor", "nonzero",
           "nonzero_values", "set_subtensor", "subtensor", "take", "take_along_axis"]
