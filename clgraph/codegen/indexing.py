"""Kernels of indexing, rendered from the shared templates clgraph/kernels/index_region.c
(gather: x[key] with index arrays; scatter: a region of x set or incremented by y) and
index_check.c (an index array against the length of the axis it indexes).

A *region* is an n-d range of elements visited in C order, each work-item taking a
chunk of a row. Its elements address a strided *target* (x, or the array written
over): each target axis follows one region dim or takes its coordinate from an index
array, and the index arrays broadcast together over consecutive region dims, as numpy
places advanced indices. Lengths and strides are kernel arguments, so one rendering
serves every shape and layout with the same structure.
"""
from dataclasses import dataclass

import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

# dtypes whose repeated indices accumulate with the header's atomics: (function, the
# type it works on); unsigned ones use the signed function, as two's complement adds
# the same bits.
_ATOMIC_ADD = {
    "float32": ("ga_atomic_add_float", "ga_float"),
    "float64": ("ga_atomic_add_double", "ga_double"),
    "int32": ("ga_atomic_add_int", "ga_int"),
    "uint32": ("ga_atomic_add_int", "ga_int"),
    "int64": ("ga_atomic_add_long", "ga_long"),
    "uint64": ("ga_atomic_add_long", "ga_long"),
}
_NEEDS_INT64_ATOMICS = ("#ifndef GA_HAS_INT64_ATOMICS\n#error \"adding at repeated indices of {dtype} needs "
                        "64-bit atomics (cl_khr_int64_base_atomics)\"\n#endif")

SCATTER_MODES = ("set", "inc", "inc_atomic", "inc_from")


def can_accumulate(dtype, device):
    """Whether repeated indices of ``dtype`` accumulate on ``device`` (atomics, 64-bit
    ones where it has them; bool adds as logical or, which racing stores of 1 do
    exactly)."""
    dtype = np.dtype(dtype)
    if dtype.itemsize == 8 and not device.int64_atomics:
        return False
    return str(dtype) in _ATOMIC_ADD or dtype == np.bool_


def _storage_type(dtype):
    """The unsigned integer type of ``dtype``'s size: copies need no arithmetic."""
    return {1: "ga_ubyte", 2: "ga_ushort", 4: "ga_uint", 8: "ga_ulong"}[np.dtype(dtype).itemsize]


def _store_sum(dtype, dst, a, b):
    """C storing at pointer ``dst`` the sum of the values at pointers ``a`` and ``b``,
    as numpy adds ``dtype`` (wrapping integers, float16 computed in float, bool as or)."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return f"ga_store_half(ga_load_half({a}) + ga_load_half({b}), {dst});"
    if dtype == np.bool_:
        return f"*({dst}) = *({a}) | *({b});"
    if dtype.kind == "i":   # through unsigned: signed overflow is undefined in C
        unsigned = c_name(np.dtype(f"u{dtype.itemsize}"))
        return f"*({dst}) = ({c_name(dtype)})(({unsigned})*({a}) + ({unsigned})*({b}));"
    return f"*({dst}) = *({a}) + *({b});"


def _pointer(name, ctype):
    """The typed read-only pointer ``name`` to the (base, offset) pair of that name."""
    return f"    const GLOBAL_MEM {ctype} *{name} = (const GLOBAL_MEM {ctype} *)({name}_base + {name}_off);"


def _array_param(name):
    return f", GLOBAL_MEM char *{name}_base, ga_ssize {name}_off"


@dataclass(frozen=True)
class Addressing:
    """How the elements of a region of ``region_ndim`` dims address a target: ``axes``
    has, per target axis, ("dim", r) (it follows region dim r) or ("index", k) (index
    array k gives its coordinate); the index arrays, of ``index_dtypes``, broadcast over
    the region dims ``index_dims``. Kernels walk rows of the last region dim (a 0-d
    region is one row of one element)."""

    region_ndim: int
    axes: tuple
    index_dtypes: tuple = ()
    index_dims: tuple = ()

    @property
    def _dims(self):
        return max(self.region_ndim, 1)

    def signature(self):
        """A short name of the structure, unique per rendering."""
        axes = "".join(f"{'d' if kind == 'dim' else 'i'}{which}" for kind, which in self.axes)
        indices = "".join(f"_{np.dtype(d).char}" for d in self.index_dtypes)
        place = f"_at{self.index_dims[0]}x{len(self.index_dims)}" if self.index_dims else ""
        return f"r{self.region_ndim}_{axes or 'scalar'}{indices}{place}"

    def _index_axes(self):
        return [a for a, (kind, _) in enumerate(self.axes) if kind == "index"]

    @staticmethod
    def work_items(region_shape, chunk):
        """How many work-items walk ``region_shape`` in chunks of ``chunk`` elements of
        its rows."""
        shape = tuple(region_shape) or (1,)
        return int(np.prod(shape[:-1], dtype=np.int64)) * -(-shape[-1] // chunk)

    def arguments(self, region_shape, target_strides, target_lengths, index_strides, chunk):
        """The integer kernel arguments after the arrays: the number of rows, the chunk,
        the region's lengths, the target's element strides, the lengths of the axes that
        index arrays address (to wrap negative indices), and each index array's element
        strides over ``index_dims`` (0 where it broadcasts)."""
        shape = tuple(region_shape) or (1,)
        values = [np.prod(shape[:-1], dtype=np.int64), chunk, *shape, *target_strides]
        values += [target_lengths[a] for a in self._index_axes()]
        values += [s for strides in index_strides for s in strides]
        return [np.int64(v) for v in values]

    def fields(self):
        """The template fields of the region walk and the addressing of the target."""
        params = [f"rd{r}" for r in range(self._dims)] + [f"ts{a}" for a in range(len(self.axes))]
        params += [f"tn{a}" for a in self._index_axes()]
        params += [f"is{k}_{j}" for k in range(len(self.index_dtypes)) for j in range(len(self.index_dims))]
        last = self._dims - 1
        rows = ["        ga_ssize rest = row;"] if last else []
        rows += [f"        const ga_ssize c{r} = rest % rd{r}; rest /= rd{r};"
                 for r in range(last - 1, 0, -1)]
        rows += ["        const ga_ssize c0 = rest;"] if last else []
        return dict(
            index_params="".join(_array_param(f"ix{k}") for k in range(len(self.index_dtypes))),
            index_pointers="\n".join(_pointer(f"ix{k}", c_name(d)) for k, d in enumerate(self.index_dtypes)),
            dim_params="".join(f", ga_ssize {p}" for p in params), row_length=f"rd{last}", column=f"c{last}",
            row_coordinates="\n".join(rows), locate=self._locate())

    def _locate(self):
        """C computing ``at``, the target element of the region element at c0...
        (the compiler hoists what does not change along a row)."""
        lines, terms = [], []
        for a, (kind, which) in enumerate(self.axes):
            if kind == "dim":
                terms.append(f"c{which} * ts{a}")
                continue
            element = " + ".join(f"c{r} * is{which}_{j}" for j, r in enumerate(self.index_dims)) or "0"
            lines.append(f"            ga_ssize v{a} = (ga_ssize)ix{which}[{element}];")
            lines.append(f"            if (v{a} < 0) v{a} += tn{a};")
            terms.append(f"v{a} * ts{a}")
        lines.append(f"            const ga_ssize at = {' + '.join(terms) or '0'};")
        return "\n".join(lines)


def gather_kernel(addressing, dtype):
    """(kernel name, source) of out = target[region] for ``dtype`` elements."""
    name = f"gather_{np.dtype(dtype).itemsize * 8}_{addressing.signature()}"
    return name, render("index_region.c", name=name, type=_storage_type(dtype), requires="", written="out",
                        read="x", body="out[i] = x[at];", **addressing.fields())


def scatter_kernel(addressing, dtype, mode):
    """(kernel name, source) of the update of target[region] by y for ``mode``:
    "set" (a plain store), "inc" (read, add, store: for regions without repeated
    elements), "inc_atomic" (repeated elements accumulate; see ``can_accumulate``) or
    "inc_from" (store base[i] + y; base: the region's values, C-contiguous). The integer
    arguments are ``addressing.arguments(...)`` followed by y's element strides over the
    region dims (0 where y broadcasts)."""
    if mode not in SCATTER_MODES:
        raise ValueError(f"scatter mode must be one of {', '.join(SCATTER_MODES)}, got {mode!r}")
    dtype = np.dtype(dtype)
    requires = ""
    if mode == "set":   # copies: by the bits
        ctype, update = _storage_type(dtype), "x[at] = y[y_at];"
    elif mode == "inc_atomic":
        ctype = c_name(dtype)
        if dtype == np.bool_:
            update = "if (y[y_at]) x[at] = 1;"
        elif str(dtype) in _ATOMIC_ADD:
            function, ctype_atomic = _ATOMIC_ADD[str(dtype)]
            update = f"{function}((GLOBAL_MEM {ctype_atomic} *)(x + at), ({ctype_atomic})y[y_at]);"
            if dtype.itemsize == 8:
                requires = _NEEDS_INT64_ATOMICS.format(dtype=dtype)
        else:
            raise ValueError(f"no atomic add for {dtype} on devices: its repeated indices cannot "
                             "accumulate there")
    else:
        ctype = c_name(dtype)
        update = _store_sum(dtype, "x + at", "x + at" if mode == "inc" else "base + i", "y + y_at")
    fields = addressing.fields()
    if mode == "inc_from":
        fields["index_params"] = _array_param("base") + fields["index_params"]
        fields["index_pointers"] = _pointer("base", ctype) + "\n" + fields["index_pointers"]
    fields["dim_params"] += "".join(f", ga_ssize ys{r}" for r in range(addressing.region_ndim))
    name = f"scatter_{mode}_{dtype if mode != 'set' else dtype.itemsize * 8}_{addressing.signature()}"
    y_at = " + ".join(f"c{r} * ys{r}" for r in range(addressing.region_ndim)) or "0"
    return name, render("index_region.c", name=name, type=ctype, requires=requires, written="x", read="y",
                        body=f"const ga_ssize y_at = {y_at}; {update}", **fields)


def index_check_kernel(index_dtype):
    """(kernel name, source) of the bounds check of a contiguous index array of
    ``index_dtype``; its arguments: the flag, the array, its size and the length of the
    axis it indexes."""
    dtype = np.dtype(index_dtype)
    if dtype.kind == "u":
        value, bad = "ga_ulong", "v >= (ga_ulong)length"
    else:
        value, bad = "ga_ssize", "v < -length || v >= length"
    name = f"index_check_{dtype}"
    return name, render("index_check.c", name=name, index_type=c_name(dtype), value_type=value,
                        out_of_bounds=bad)
