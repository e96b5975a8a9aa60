"""Indexing on devices: advanced indexing x[key] (a gather), and set_subtensor /
inc_subtensor of basic and advanced keys (a scatter into a copy of x, or into x itself
once the inplace rewrite allows it), with the kernels of codegen.indexing.

- Index arrays computed on the device stay there and the kernels read them; before any
  kernel uses them, a bounds-check kernel sets a device flag that is read back (one wait
  for the queue). Index arrays that come from the host are checked there, then
  uploaded; constants are uploaded once, and checked only when their known range does
  not fit the axis. An index out of bounds raises IndexError naming the op, the axis,
  the index and the length, before anything is written.
- Boolean masks are read on the host, where numpy's nonzero makes them integer arrays;
  the scalars of slices are host values too. Both are taken from the host when they
  come from there (constants, uploads), else read back.
- Repeated indices accumulate with the dialect headers' atomic adds (float32/64,
  int32/64 and their unsigned kinds; bool adds as logical or). Other dtypes (int8,
  int16, their unsigned kinds, float16) have no atomics: such increments stay on the
  host. Set (any one of the repeated values wins) and ``ignore_duplicates`` (the region
  is gathered first, then base + y stored: one increment per element, as numpy's
  x[key] += y) run on the device for every dtype.
"""
import copy
import sys
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from clgraph.backends import DeviceArray, get_context, to_device, zeros
from clgraph.codegen.indexing import (Addressing, can_accumulate, gather_kernel, index_check_kernel,
                                      scatter_kernel)
from clgraph.graph.basic import Constant
from clgraph.tensor.subtensor import AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, ScalarIndex

from .device_ops import GpuFromHost, OnDevice, launch_over, output_array
from .placement import _keeps_on_host, register_device_implementation


# -- the key, statically ----------------------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    """One entry of an advanced key once Ellipsis is spelled out, indexing x from
    ``axis``: "slice" (``source``: its parts, ints, None or ("input", p)), "fixed" (an
    integer known on the host: an int or ("input", p)), "array" (an integer index
    array, input ``source``, kernel index array ``k``) or "mask" (a boolean array of
    ``ndim`` dims, input ``source``, read on the host: kernel index arrays k, k+1...)."""

    kind: str
    axis: int
    source: object = None
    k: int = -1
    ndim: int = 1


@dataclass(frozen=True)
class KeyLayout:
    """A key as kernels address it: its entries, the addressing of the region x[key]
    (numpy's placement of the advanced axes), the region dim of each slice entry, and
    per index input the range of its values when it is a constant (else None)."""

    entries: tuple
    addressing: Addressing
    basic_region_dims: tuple
    ranges: tuple = ()

    @classmethod
    def of(cls, idx_list, x_ndim, index_types, on_host, ranges):
        """The layout of an advanced ``idx_list`` over x of ``x_ndim`` dims, given its
        index inputs' (dtype, ndim), the set of those the op receives as host values,
        and their known ``ranges``."""
        items, p = [], 0   # (kind, what): slices with their parts, fixed ints, inputs, Ellipsis
        for entry in idx_list:
            if isinstance(entry, slice):
                parts = []
                for part in (entry.start, entry.stop, entry.step):
                    parts.append(("input", p) if isinstance(part, ScalarIndex) else part)
                    p += isinstance(part, ScalarIndex)
                items.append(("slice", tuple(parts)))
            elif entry is Ellipsis:
                items.append(("ellipsis", None))
            elif isinstance(entry, int):
                items.append(("fixed", entry))
            else:
                items.append(("input", p))
                p += 1
        consumed = sum(index_types[what][1] if kind == "input" and index_types[what][0] == "bool"
                       else kind != "ellipsis" for kind, what in items)
        entries, advanced, axis, k = [], [], 0, 0
        for position, (kind, what) in enumerate(items):
            if kind in ("slice", "ellipsis"):
                count = 1 if kind == "slice" else x_ndim - consumed
                parts = what if kind == "slice" else (None, None, None)
                entries += [_Entry("slice", a, parts) for a in range(axis, axis + count)]
                axis += count
                continue
            advanced.append(position)
            dtype, ndim = index_types[what] if kind == "input" else ("int64", 0)
            if kind == "fixed" or (ndim == 0 and what in on_host):
                entries.append(_Entry("fixed", axis, what if kind == "fixed" else ("input", what)))
                axis += 1
            elif dtype == "bool":
                entries.append(_Entry("mask", axis, what, k, ndim))
                axis, k = axis + ndim, k + ndim
            else:
                entries.append(_Entry("array", axis, what, k, ndim))
                axis, k = axis + 1, k + 1
        entries += [_Entry("slice", a, (None, None, None)) for a in range(axis, x_ndim)]
        # numpy: advanced entries next to each other keep their place; apart, they go first
        adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
        return cls._placed(tuple(entries), index_types, adjacent, tuple(ranges))

    @classmethod
    def _placed(cls, entries, index_types, adjacent, ranges):
        index_dtypes, index_ndim = [], 0
        for e in entries:
            if e.kind == "array":
                index_dtypes.append(index_types[e.source][0])
                index_ndim = max(index_ndim, e.ndim)
            elif e.kind == "mask":
                index_dtypes += ["int64"] * e.ndim
                index_ndim = max(index_ndim, 1)
        first = next(i for i, e in enumerate(entries) if e.kind != "slice")
        before = first if adjacent else 0   # slices whose region dims come before the index arrays'
        slices = sum(e.kind == "slice" for e in entries)
        basic_dims = tuple(r if r < before else r + index_ndim for r in range(slices))
        axes, s = [], 0
        for e in entries:
            if e.kind == "slice":
                axes.append(("dim", basic_dims[s]))
                s += 1
            elif e.kind in ("array", "mask"):
                axes += [("index", e.k + d) for d in range(e.ndim if e.kind == "mask" else 1)]
        addressing = Addressing(slices + index_ndim, tuple(axes), tuple(index_dtypes),
                                tuple(range(before, before + index_ndim)))
        return cls(entries, addressing, basic_dims, ranges)

    def bind(self, op, x, values):
        """The key applied to the DeviceArray ``x`` given the index inputs' ``values``
        (numpy arrays or DeviceArrays)."""
        view_key, arrays, checks = [], [], []
        for e in self.entries:
            if e.kind == "slice":
                view_key.append(slice(*(_host_int(values, p) for p in e.source)))
            elif e.kind == "fixed":
                index, length = _host_int(values, e.source), x.shape[e.axis]
                if not -length <= index < length:
                    raise _out_of_bounds(op, index, e.axis, length)
                view_key.append(index)
            elif e.kind == "array":
                value = values[e.source]
                if isinstance(value, DeviceArray):
                    array = value if value.c_contiguous else value.copy()
                    checks.append(_IndexCheck(array, e.axis, x.shape[e.axis], self.ranges[e.source]))
                else:
                    array = to_device(value, x.context)
                    checks.append(_IndexCheck(array, e.axis, x.shape[e.axis], None, np.asarray(value)))
                arrays.append(array)
                view_key.append(slice(None))
            else:
                for rows in _mask_rows(op, x, e, values[e.source]):
                    arrays.append(to_device(rows, x.context))
                    view_key.append(slice(None))
        return _Bound(self, op, x, tuple(view_key), arrays, checks)


def _host_int(values, part):
    """A slice part or fixed index: an int or None, or an index input's value (numpy
    on the host, or a 0-d DeviceArray read back)."""
    if not isinstance(part, tuple):
        return part
    value = values[part[1]]
    return int(value.get() if isinstance(value, DeviceArray) else value)


def _mask_rows(op, x, entry, mask):
    """The integer index arrays of a boolean mask (numpy.nonzero), after numpy's check
    of its shape against the axes it covers."""
    mask = mask.get() if isinstance(mask, DeviceArray) else np.asarray(mask)
    covered = x.shape[entry.axis:entry.axis + entry.ndim]
    for d, (want, got) in enumerate(zip(covered, mask.shape)):
        if want != got:
            raise IndexError(f"{op}: boolean index did not match indexed array along axis {entry.axis + d}; "
                             f"size of axis is {want} but size of corresponding boolean axis is {got}")
    return [rows.astype(np.int64) for rows in np.nonzero(mask)]


def _out_of_bounds(op, index, axis, length):
    return IndexError(f"{op}: index {index} is out of bounds for axis {axis} with length {length}")


class _IndexCheck(NamedTuple):
    """An index array to check against the ``length`` of x's ``axis``: on the device,
    with the ``known`` range of a constant's values, or with its ``host`` values."""

    array: DeviceArray
    axis: int
    length: int
    known: tuple = None
    host: np.ndarray = None

    def known_in_bounds(self):
        return self.known is not None and -self.length <= self.known[0] and self.known[1] < self.length

    def raise_out_of_bounds(self, op):
        """IndexError naming this array's first index out of bounds, if it has one."""
        values, n = (self.host if self.host is not None else self.array.get()), self.length
        bad = values[values >= n] if values.dtype.kind == "u" else values[(values < -n) | (values >= n)]
        if bad.size:
            raise _out_of_bounds(op, bad.flat[0], self.axis, n)


class _Bound:
    """A key applied to an array x: the key of the view it indexes, the region's
    shape, the index arrays on the device and the checks they need."""

    def __init__(self, layout, op, x, view_key, arrays, checks):
        self.layout, self.view_key, self.arrays, self.checks = layout, view_key, arrays, checks
        addressing = layout.addressing
        shapes = [a.shape for a in arrays]
        try:
            index_shape = np.broadcast_shapes(*shapes) if shapes else ()
        except ValueError:
            raise IndexError(f"{op}: shape mismatch: indexing arrays could not be broadcast together "
                             f"with shapes {' '.join(map(str, shapes))}") from None
        view = x[view_key]
        region = [0] * addressing.region_ndim
        for r, n in zip(addressing.index_dims, index_shape):
            region[r] = n
        basic_axes = [a for a, (kind, _) in enumerate(addressing.axes) if kind == "dim"]
        for r, a in zip(layout.basic_region_dims, basic_axes):
            region[r] = view.shape[a]
        self.region_shape = tuple(region)
        self.size = int(np.prod(region, dtype=np.int64))
        self.index_size = int(np.prod(index_shape, dtype=np.int64))
        ndim = len(addressing.index_dims)
        self.index_strides = []   # in elements over the index dims, 0 where an array broadcasts
        for shape in shapes:
            padded = (1,) * (ndim - len(shape)) + tuple(shape)
            strides = np.cumprod((1,) + padded[:0:-1])[::-1]
            self.index_strides.append([0 if n == 1 else int(s) for n, s in zip(padded, strides)])

    def arguments(self, view, chunk):
        """The kernels' integer arguments for ``view`` (the key's view of the target)."""
        return self.layout.addressing.arguments(self.region_shape, [s // view.itemsize for s in view.strides],
                                                view.shape, self.index_strides, chunk)


def row_chunk(context):
    """Elements of a row each work-item takes: long chunks on CPUs, so that dividing
    positions into coordinates is rare, one on GPUs, so that neighbouring work-items
    touch neighbouring elements."""
    return 64 if context.info.kind == "CPU" else 1


def _y_strides(op, y, region_shape):
    """y's element strides over the region's dims, 0 where y broadcasts; ValueError if
    y does not broadcast to the region."""
    lead = len(region_shape) - y.ndim
    if lead < 0 or any(n not in (1, want) for n, want in zip(y.shape, region_shape[lead:])):
        raise ValueError(f"{op}: cannot broadcast y of shape {y.shape} to the indexed region of shape "
                         f"{region_shape}")
    strides = [0] * lead + [0 if n == 1 else s // y.itemsize for n, s in zip(y.shape, y.strides)]
    return [np.int64(s) for s in strides]


# -- the device ops ---------------------------------------------------------------------

class _KernelOp(OnDevice):
    """What the indexing ops share: the host op with the static layout of its key and
    x's dtype, the kernels (built once per context) and the bounds checks."""

    __props__ = ("host_op", "layout", "dtype")
    fresh_outputs = True

    def __init__(self, host_op, layout, dtype):
        super().__init__(host_op)
        self.layout = layout
        self.dtype = str(dtype)

    @property
    def addressing(self):
        return self.layout.addressing

    def _kernel(self, context, which):
        return self.built_kernel(context, which, lambda: self.renderings[which])

    def sources(self, node, dialect, device):
        """{kernel name: source}: the same for both dialects."""
        return dict(self.renderings.values())

    def _index_checks(self):
        dtypes = {self.addressing.index_dtypes[e.k] for e in self.layout.entries if e.kind == "array"}
        return {("check", dtype): index_check_kernel(dtype) for dtype in dtypes}

    def _check_bounds(self, bound, context):
        """IndexError if an index is out of bounds (none is when the index arrays
        broadcast to nothing, as numpy has it): host values are checked on the host,
        device arrays by kernels setting a flag read back here, unless known in bounds."""
        if not bound.index_size:
            return
        on_device = []
        for check in bound.checks:
            if check.host is not None:
                check.raise_out_of_bounds(self)
            elif check.array.size and not check.known_in_bounds():
                on_device.append(check)
        if not on_device:
            return
        flag = zeros((1,), "int32", context)
        for check in on_device:
            launch_over(self._kernel(context, ("check", str(check.array.dtype))), check.array.size, flag,
                    check.array, np.int64(check.array.size), np.int64(check.length), outputs=[flag])
        if flag.get()[0]:
            for check in on_device:
                check.raise_out_of_bounds(self)

    def _gather(self, context, out, view, bound):
        chunk = row_chunk(context)
        launch_over(self._kernel(context, "gather"), Addressing.work_items(bound.region_shape, chunk), out, view,
                *bound.arrays, *bound.arguments(view, chunk), outputs=[out])


class _IncrementOnDevice(_KernelOp):
    """An increment op; output 0 may be written over input 0 (x)."""

    @property
    def inplace(self):
        return self.host_op.inplace

    @property
    def destroy_map(self):
        return {0: [0]} if self.inplace else {}

    def inplace_candidates(self, node):
        return [(0, 0)]

    def with_inplace(self, pairs):
        return self.sharing_kernels(type(self)(_with_inplace_flag(self.host_op, bool(pairs)), self.layout,
                                               self.dtype))

    def _scatter(self, context, mode, view, y, y_strides, region_shape, arguments, *arrays):
        """Launch the ``mode`` kernel; ``arguments`` for chunks of ``row_chunk(context)``."""
        launch_over(self._kernel(context, mode), Addressing.work_items(region_shape, row_chunk(context)), view, y,
                *arrays, *arguments, *y_strides, outputs=[view])


def _with_inplace_flag(host_op, inplace):
    op = copy.copy(host_op)
    op.inplace = inplace
    return op


class GpuAdvancedSubtensor(_KernelOp):
    """x[key] with index arrays: a gather into a new C-contiguous array."""

    reuses_outputs = True

    @cached_property
    def renderings(self):
        return {**self._index_checks(), "gather": gather_kernel(self.addressing, self.dtype)}

    def perform(self, node, inputs, previous=None):
        x, *values = inputs
        bound = self.layout.bind(self, x, values)
        self._check_bounds(bound, x.context)
        out = output_array(previous, 0, bound.region_shape, x.dtype, x.context)
        if bound.size:
            self._gather(x.context, out, x[bound.view_key], bound)
        return [out]


class GpuAdvancedIncSubtensor(_IncrementOnDevice):
    """x with x[key] (advanced) set or incremented by y, in a copy of x or in x itself."""

    @property
    def mode(self):
        if self.host_op.set_instead_of_inc:
            return "set"
        return "inc_from" if self.host_op.ignore_duplicates else "inc_atomic"

    @cached_property
    def renderings(self):
        kernels = {**self._index_checks(), self.mode: scatter_kernel(self.addressing, self.dtype, self.mode)}
        if self.mode == "inc_from":
            kernels["gather"] = gather_kernel(self.addressing, self.dtype)
        return kernels

    def perform(self, node, inputs):
        x, y, *values = inputs
        context = x.context
        bound = self.layout.bind(self, x, values)
        y_strides = _y_strides(self, y, bound.region_shape)
        self._check_bounds(bound, context)   # before anything is written
        out = x if self.inplace else x.copy()
        if not bound.size:
            return [out]
        view = out[bound.view_key]
        base = []
        if self.mode == "inc_from":   # the region as it is before any write
            base = [output_array(None, 0, bound.region_shape, x.dtype, context)]
            self._gather(context, base[0], view, bound)
        self._scatter(context, self.mode, view, y, y_strides, bound.region_shape,
                      bound.arguments(view, row_chunk(context)), *base, *bound.arrays)
        return [out]


class GpuIncSubtensor(_IncrementOnDevice):
    """x with x[key] (basic) set or incremented by y: the region is a strided view of a
    copy of x (or of x itself), updated by a kernel. Symbolic indices are host values."""

    @cached_property
    def renderings(self):
        mode = "set" if self.host_op.set_instead_of_inc else "inc"
        return {mode: scatter_kernel(self.addressing, self.dtype, mode)}

    def perform(self, node, inputs):
        x, y, *scalars = inputs
        key = self.host_op._key(scalars)
        for axis, entry in enumerate(key):   # checked before anything is written
            if not isinstance(entry, slice) and not -x.shape[axis] <= entry < x.shape[axis]:
                raise _out_of_bounds(self, entry, axis, x.shape[axis])
        region = x[key].shape
        y_strides = _y_strides(self, y, region)
        out = x if self.inplace else x.copy()
        if all(region):
            view = out[key]
            strides = [s // view.itemsize for s in view.strides]
            arguments = self.addressing.arguments(region, strides, region, [], row_chunk(x.context))
            (mode,) = self.renderings
            self._scatter(x.context, mode, view, y, y_strides, region, arguments)
        return [out]


# -- placement --------------------------------------------------------------------------

def _host_value(host_var, placed):
    """The host version of an index input, when there is one: a constant, or what was
    uploaded to make ``placed``; None when it is computed on the device."""
    if isinstance(host_var, Constant):
        return host_var
    owner = placed.owner
    if owner is not None and type(owner.op) is GpuFromHost:
        return owner.inputs[0]
    return None


def _known_range(var):
    """(min, max) of a constant integer index array, None for anything else."""
    data = np.asarray(var.data) if isinstance(var, Constant) else None
    if data is None or data.dtype.kind not in "iu":
        return None
    return (int(data.min()), int(data.max())) if data.size else (0, 0)


def _on_device(node, inputs, first_index, make_op):
    """The device node of an advanced indexing node: index inputs that come from the
    host are taken from there, except constant integer arrays (uploaded once)."""
    x = node.inputs[0]
    host_inputs, placed = node.inputs[first_index:], inputs[first_index:]
    chosen, on_host = [], set()
    for p, (host_var, var) in enumerate(zip(host_inputs, placed)):
        integer_array = host_var.type.ndim and host_var.type.dtype != "bool"
        host = None if integer_array and isinstance(host_var, Constant) else _host_value(host_var, var)
        if host is not None:
            on_host.add(p)
        chosen.append(var if host is None else host)
    index_types = [(v.type.dtype, v.type.ndim) for v in host_inputs]
    layout = KeyLayout.of(node.op.idx_list, x.type.ndim, index_types, on_host, map(_known_range, host_inputs))
    op = make_op(layout, x.type.dtype)
    return None if op is None else op.make_node(*inputs[:first_index], *chosen)


@register_device_implementation(AdvancedSubtensor)
def _advanced_subtensor_on_device(node, inputs, context):
    return _on_device(node, inputs, 1, lambda layout, dtype: GpuAdvancedSubtensor(node.op, layout, dtype))


@register_device_implementation(AdvancedIncSubtensor)
def _advanced_inc_subtensor_on_device(node, inputs, context):
    host_op = _with_inplace_flag(node.op, False)   # set by the inplace rewrite, which checks it is safe

    def make(layout, dtype):
        accumulates = not (host_op.set_instead_of_inc or host_op.ignore_duplicates)
        if accumulates and not can_accumulate(dtype, get_context(context).info):
            return None   # no atomic add for this dtype: the host accumulates
        return GpuAdvancedIncSubtensor(host_op, layout, dtype)

    return _on_device(node, inputs, 2, make)


def _inc_subtensor_on_device(node, inputs, context):
    x = node.inputs[0]
    region_ndim = x.type.ndim - sum(not isinstance(e, slice) for e in node.op.idx_list)
    addressing = Addressing(region_ndim, tuple(("dim", r) for r in range(region_ndim)))
    layout = KeyLayout((), addressing, tuple(range(region_ndim)))
    return GpuIncSubtensor(_with_inplace_flag(node.op, False), layout, x.type.dtype).make_node(*inputs)


# basic keys: the symbolic indices (inputs 2...) are host values
register_device_implementation(IncSubtensor)(_keeps_on_host(range(2, sys.maxsize), _inc_subtensor_on_device))
