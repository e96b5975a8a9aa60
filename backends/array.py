"""DeviceArray: an n-d array in a context's memory, with numpy-style views.

An array is a Block of memory plus shape, byte strides and a byte offset, so reshape
of contiguous data, transpose/dimshuffle and basic slicing are views that copy nothing.
Kernels receive it as (buffer handle, byte offset).
"""
import math
import operator
import weakref
from functools import lru_cache

import numpy as np

from .dtypes import c_name, dtype_info
from .errors import DeviceError
from .program import render
from .registry import get_context

_COPY_GROUP_SIZE = 256
_COPY_MAX_GROUPS = 1024
# Elements per work-item of the strided kernels on CPUs (strided_copy.c and
# elemwise_strided.c; GPUs take one each): on PoCL a 3-d stack reversed along its first
# axis copied 4.7 times faster than at one each, a bias row added to a 3200 x 256 matrix
# 8 times.
CPU_RUN = 32


def run_count(size, inner, run):
    """The work-items of a strided kernel over ``size`` elements in rows of ``inner``,
    each taking a run of up to ``run`` elements of one row."""
    return size // inner * -(-inner // run) if size else 0


def c_strides(shape, itemsize):
    """Byte strides of a C-contiguous array of ``shape``."""
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _context(context):
    return context if hasattr(context, "allocator") else get_context(context)


def _check_dtype(context, dtype):
    info = dtype_info(dtype)
    if info.capability == "fp64" and not context.info.fp64:
        raise TypeError(f"context {context.name!r} ({context.info.model}) has no float64 support "
                        f"(cl_khr_fp64): {info.dtype} arrays are refused there; use float32 "
                        "(floatX=float32)")
    return info.dtype


_ALL = slice(None)
_MEMOS = weakref.WeakKeyDictionary()   # block -> {(view, key): (its last write, value)}
_MEMOS_PER_BUFFER = 4                   # views of one buffer (a loop's slices): a few


def while_unwritten(array, key, compute, keep=lambda value: True):
    """``compute()``, a value that depends on ``array``'s contents (``key`` names which),
    computed again only after a command wrote ``array``'s buffer: a packed copy of
    weights, a check of indices, done once while the data stay the same. A value
    ``keep`` accepts lives as long as the buffer does."""
    block = array.block
    written = block.write_event
    entries = _MEMOS.setdefault(block, {})
    full_key = (array.offset, array.shape, array.strides, key)
    kept = entries.get(full_key)
    if kept is not None and written is not None and kept[0] is written:
        return kept[1]
    value = compute()
    entries.pop(full_key, None)
    if written is not None and keep(value):
        entries[full_key] = (written, value)
        while len(entries) > _MEMOS_PER_BUFFER:
            entries.pop(next(iter(entries)))
    return value


class DeviceArray:
    """An array on a context. Build one with ``to_device``, ``empty`` or ``zeros``."""

    def __init__(self, context, block, shape, dtype, strides=None, offset=0):
        self.context = context
        self.block = block
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.strides = tuple(strides) if strides is not None else c_strides(self.shape, self.dtype.itemsize)
        self.offset = int(offset)

    # description --------------------------------------------------------------------
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))
    itemsize = property(lambda self: self.dtype.itemsize)
    nbytes = property(lambda self: math.prod(self.shape) * self.dtype.itemsize)
    kernel_offset = property(lambda self: np.int64(self.block.offset + self.offset))

    @property
    def c_contiguous(self):
        contiguous = self.__dict__.get("_c_contiguous")   # shape and strides never change
        if contiguous is None:
            contiguous = self._c_contiguous = self.size <= 1 or all(
                n == 1 or s == c for n, s, c in zip(self.shape, self.strides, c_strides(self.shape, self.itemsize)))
        return contiguous

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d DeviceArray")
        return self.shape[0]

    def __repr__(self):
        return (f"DeviceArray(shape={self.shape}, dtype={self.dtype}, strides={self.strides}, "
                f"offset={self.offset}, context={self.context.name!r})")

    def _byte_span(self):
        """(lowest, highest + itemsize) byte offsets this view touches, relative to the block."""
        low = high = self.offset
        for n, s in zip(self.shape, self.strides):
            reach = (n - 1) * s
            low, high = (low + reach, high) if s < 0 else (low, high + reach)
        return low, high + self.itemsize

    # host transfer ------------------------------------------------------------------
    def get(self):
        """A numpy copy of the data (waits for the work that writes it)."""
        if self.size == 0:
            return np.empty(self.shape, self.dtype)
        if self.c_contiguous:
            host = np.empty(self.shape, self.dtype)
            self.context.download(host, self.block, self.offset).wait()
            return host
        low, high = self._byte_span()
        span = np.empty(high - low, np.uint8)
        self.context.download(span, self.block, low).wait()
        view = np.ndarray(self.shape, self.dtype, buffer=span, offset=self.offset - low, strides=self.strides)
        return np.ascontiguousarray(view)

    def __array__(self, dtype=None, copy=None):
        host = self.get()
        return host if dtype is None else host.astype(dtype, copy=False)

    def sync(self):
        """Wait until every pending write to this array's memory has landed."""
        if self.block.write_event is not None:
            self.block.write_event.wait()
        return self

    # copies -------------------------------------------------------------------------
    def copy(self):
        """A C-contiguous copy on the same context."""
        return self.astype(self.dtype)

    def astype(self, dtype):
        """A C-contiguous copy converted to ``dtype``, computed on the device."""
        out = empty(self.shape, _check_dtype(self.context, dtype), self.context)
        self.copy_into(out)
        return out

    def copy_into(self, out):
        """Write this array's values into ``out`` (an array of the same shape on the same
        context, C-contiguous, a view of a larger buffer too), converted to out's dtype,
        on the device."""
        if self.size == 0:
            return
        if out.dtype == self.dtype and self.c_contiguous:
            self.context.copy(out.block, out.offset, self.block, self.offset, self.nbytes)
        elif self.context.api == "cpu":
            out._host_view()[...] = self._host_view()
        else:
            _strided_copy(out, self)

    def _host_view(self):
        """On the cpu context, the numpy view of this array's memory."""
        return np.ndarray(self.shape, self.dtype, buffer=self.block.handle,
                          offset=self.block.offset + self.offset, strides=self.strides)

    def transfer(self, context):
        """This array on ``context`` (a name or a Context): device to device within an
        API where the driver allows it, through the host otherwise."""
        target = _context(context)
        if target is self.context:
            return self
        source = self if self.c_contiguous else self.copy()
        if target.api != "cpu" and target.driver.can_wait_on(self.context.driver):
            out = empty(self.shape, _check_dtype(target, self.dtype), target)
            if self.size:
                target.copy(out.block, 0, source.block, source.offset, self.nbytes, src_context=self.context)
            return out
        return to_device(source.get(), target)

    # views --------------------------------------------------------------------------
    def _view(self, shape, strides, offset):
        # the hot path of every view: fields copied, not validated again as in __init__
        view = object.__new__(type(self))
        view.context, view.block, view.dtype = self.context, self.block, self.dtype
        view.shape, view.strides, view.offset = tuple(shape), tuple(strides), int(offset)
        return view

    def reshape(self, *shape):
        """A view when the data is C-contiguous; a contiguous copy first otherwise."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = tuple(operator.index(n) for n in shape)
        unknown = [i for i, n in enumerate(shape) if n == -1]
        known = math.prod(n for n in shape if n != -1)
        if len(unknown) > 1 or any(n < -1 for n in shape) or (
                unknown and (known == 0 or self.size % known)) or (not unknown and known != self.size):
            raise ValueError(f"cannot reshape DeviceArray of shape {self.shape} into shape {shape}")
        if unknown:
            shape = shape[:unknown[0]] + (self.size // known,) + shape[unknown[0] + 1:]
        source = self if self.c_contiguous else self.copy()
        return source._view(shape, c_strides(shape, self.itemsize), source.offset)

    def transpose(self, *axes):
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = axes or tuple(reversed(range(self.ndim)))
        if (any(not -self.ndim <= a < self.ndim for a in axes)
                or sorted(a % self.ndim for a in axes) != list(range(self.ndim))):
            raise ValueError(f"axes {axes} are not a permutation of the {self.ndim} axes of {self.shape}")
        axes = [a % self.ndim for a in axes]
        return self._view([self.shape[a] for a in axes], [self.strides[a] for a in axes], self.offset)

    T = property(transpose)

    def dimshuffle(self, *pattern):
        """Theano's dimshuffle: a permutation of axes with 'x' for new broadcastable axes;
        axes left out must have length 1."""
        pattern = tuple(pattern[0]) if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)) else pattern
        kept = [p for p in pattern if p != "x"]
        if sorted(kept) != sorted(set(kept)) or any(not 0 <= p < self.ndim for p in kept):
            raise ValueError(f"dimshuffle pattern {pattern} is invalid for {self.ndim} dimensions")
        dropped = [a for a in range(self.ndim) if a not in kept and self.shape[a] != 1]
        if dropped:
            raise ValueError(f"dimshuffle pattern {pattern} drops axes {dropped} of shape {self.shape}, "
                             "which are not of length 1")
        shape = [1 if p == "x" else self.shape[p] for p in pattern]
        strides = [0 if p == "x" else self.strides[p] for p in pattern]
        return self._view(shape, strides, self.offset)

    def __getitem__(self, key):
        """Basic indexing: integers, slices (any step), Ellipsis and None."""
        key = key if type(key) is tuple else (key,)
        ndim = len(self.shape)
        used, at = 0, None   # indices that take an axis; where the Ellipsis is
        for position, k in enumerate(key):
            if k is Ellipsis:
                at = position
            elif k is not None:
                used += 1
        if used > ndim:
            raise IndexError(f"too many indices ({len(key)}) for a DeviceArray of shape {self.shape}")
        rest = (_ALL,) * (ndim - used)
        key = key + rest if at is None else key[:at] + rest + key[at + 1:]
        shape, strides, offset, axis = [], [], self.offset, 0
        for k in key:
            if k is None:
                shape.append(1)
                strides.append(0)
                continue
            n, s = self.shape[axis], self.strides[axis]
            if type(k) is slice:
                start, stop, step = k.indices(n)
                count = len(range(start, stop, step))
                offset += start * s if count else 0
                shape.append(count)
                strides.append(s * step)
            else:
                try:
                    i = operator.index(k)
                except TypeError:
                    raise IndexError(f"DeviceArray supports basic indexing only (int, slice, None, "
                                     f"Ellipsis), got {type(k).__name__} for axis {axis}") from None
                if not -n <= i < n:
                    raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
                offset += (i % n) * s
            axis += 1
        return self._view(shape, strides, offset)

    # interop ------------------------------------------------------------------------
    @property
    def __cuda_array_interface__(self):
        if self.context.api != "cuda":
            raise AttributeError(f"__cuda_array_interface__ exists on CUDA arrays only; this array "
                                 f"lives on context {self.context.name!r} ({self.context.api})")
        self.sync()
        return {
            "shape": self.shape, "typestr": self.dtype.str, "version": 3,
            "data": (int(self.block.handle) + int(self.kernel_offset), False),
            "strides": None if self.c_contiguous else self.strides,
        }


def empty(shape, dtype="float32", context=None):
    """An uninitialised C-contiguous array on ``context`` (default: the default context)."""
    context = _context(context)
    dtype = _check_dtype(context, dtype)
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    if any(int(n) < 0 for n in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return DeviceArray(context, context.allocate(math.prod(shape) * dtype.itemsize), shape, dtype)


def zeros(shape, dtype="float32", context=None):
    out = empty(shape, dtype, context)
    if out.nbytes:
        out.context.fill_zero(out.block, 0, out.nbytes)
    return out


def to_device(array, context=None):
    """A copy of a numpy array (or anything numpy accepts) on ``context`` (async upload)."""
    if isinstance(array, DeviceArray):
        return array.transfer(_context(context))
    host = np.array(array, order="C")   # a private copy: the caller may change theirs at once
    out = empty(host.shape, host.dtype, context)
    if out.nbytes:
        out.context.upload(out.block, 0, host)
    return out


@lru_cache(maxsize=None)   # rendered once: every strided copy asks for it
def strided_copy_source(ndim, src_dtype, dst_dtype, run=1, contiguous_inner=False):
    """(kernel name, source) of the kernel that copies an ``ndim``-d strided view of
    ``src_dtype`` into a C-contiguous array of ``dst_dtype``, a work-item a ``run`` of
    elements along the innermost dimension; ``contiguous_inner``: that dimension's
    stride is the itemsize (a constant of the kernel: runs compile to vector moves)."""
    src_dtype, dst_dtype = np.dtype(src_dtype), np.dtype(dst_dtype)
    value = ("ga_load_half((const GLOBAL_MEM ga_half *)(src + at))" if src_dtype == np.float16
             else f"*(const GLOBAL_MEM {c_name(src_dtype)} *)(src + at)")
    if dst_dtype == np.float16:   # from double directly: rounding through float would round twice
        wide = "double" if src_dtype == np.float64 else "float"
        store = f"ga_store_half(({wide})({value}), dst + i)"
    elif dst_dtype == np.bool_:
        store = f"dst[i] = ({value}) != 0"
    else:
        store = f"dst[i] = ({c_name(dst_dtype)})({value})"
    index_lines = "\n".join(   # the outer dimensions; the innermost is the run's
        f"        at += rest * str{d};" if d == 0 else
        f"        at += (rest % dim{d}) * str{d}; rest /= dim{d};"
        for d in range(ndim - 2, -1, -1))
    name = f"strided_copy_{ndim}d_{src_dtype}_{dst_dtype}" + (f"_run{run}" if run > 1 else "") + (
        "_c" if contiguous_inner else "")
    return name, render(
        "strided_copy.c", name=name, dst_type=c_name(dst_dtype), index_lines=index_lines, store=store,
        run=run, inner_dim=f"dim{ndim - 1}",
        inner_stride=str(src_dtype.itemsize) if contiguous_inner else f"str{ndim - 1}",
        dim_params="".join(f", ga_ssize dim{d}, ga_ssize str{d}" for d in range(ndim)))


def collapse_dims(shape, strides_per_array):
    """Fewest dimensions that walk the same elements: length-1 axes dropped, and an axis
    merged into the next when every array steps over both contiguously.

    ``strides_per_array``: each array's strides, in one unit (elements or bytes; 0 along
    broadcast axes); returns (shape, strides_per_array), with at least one dimension.
    """
    keep = [d for d, n in enumerate(shape) if n != 1]
    shape = [shape[d] for d in keep] or [1]
    strides = [[s[d] for d in keep] or [0] for s in strides_per_array]
    for d in range(len(shape) - 1, 0, -1):
        if all(s[d - 1] == s[d] * shape[d] for s in strides):
            shape[d - 1] *= shape[d]
            del shape[d]
            for s in strides:
                s[d - 1] = s[d]
                del s[d]
    return shape, strides


def _strided_copy(out, src):
    """``out`` (C-contiguous) = ``src`` converted to out's dtype, by a device kernel."""
    if any(s % src.itemsize for s in src.strides):
        raise DeviceError(f"cannot copy a view whose byte strides {src.strides} are not "
                          f"multiples of its itemsize {src.itemsize}")
    shape, (strides,) = collapse_dims(src.shape, [list(src.strides)])   # fewer index divisions
    dims = list(zip(shape, strides))
    run = CPU_RUN if src.context.info.kind == "CPU" else 1
    name, source = strided_copy_source(len(dims), src.dtype, out.dtype, run, strides[-1] == src.itemsize)
    kernel = src.context.build(source).kernel(name)
    group = min(_COPY_GROUP_SIZE, kernel.max_group_size)
    groups = max(1, min(_COPY_MAX_GROUPS, -(-run_count(src.size, shape[-1], run) // group)))
    args = [np.int64(v) for dim in dims for v in dim]
    kernel(groups, group, out, src, np.int64(src.size), *args, outputs=[out])
