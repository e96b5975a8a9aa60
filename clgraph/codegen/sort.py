"""The kernel of stable sort and argsort along an axis, rendered from the shared
template clgraph/kernels/sort.c. It reads elements as bits and makes their sort keys
with integer operations, so one kernel serves every dtype of an element size, for sort
and argsort alike (launch arguments choose): a program per size, not per dtype.

A variant is chosen by the element size, the number of kept axes (after collapsing)
and the width of the line positions (32 bits unless a padded line has more than 2**32
positions).
"""
import numpy as np

from clgraph.backends.program import render

from .unravel import unravel

_TILE_BYTES = 24 * 1024     # local memory of one tile of (key, index) pairs
_BITS_TYPES = {1: "ga_ubyte", 2: "ga_ushort", 4: "ga_uint", 8: "ga_ulong"}


def key_type(itemsize):
    """The unsigned type of the sort keys of elements of ``itemsize`` bytes."""
    return "ga_ulong" if itemsize == 8 else "ga_uint"


def index_type(padded):
    """The type of line positions for lines padded to ``padded`` positions."""
    return "ga_uint" if padded <= 2 ** 32 else "ga_ulong"


def tile(itemsize, padded):
    """Positions of a tile in local memory: the largest power of two whose pairs fit."""
    pair = (8 if key_type(itemsize) == "ga_ulong" else 4) + (8 if index_type(padded) == "ga_ulong" else 4)
    return 1 << ((_TILE_BYTES // pair).bit_length() - 1)


# Per element size: the sign bit and the bit pattern of +infinity of floats that size.
_SIGNS = {1: "0x80u", 2: "0x8000u", 4: "0x80000000u", 8: "((ga_ulong)1 << 63)"}
_INFINITIES = {1: "0u", 2: "0x7c00u", 4: "0x7f800000u", 8: "((ga_ulong)0x7ff << 52)"}


def key_kind(dtype):
    """The launch argument telling the kernel how ``dtype``'s bits become sort keys."""
    return {"b": 0, "u": 0, "i": 1, "f": 2}[np.dtype(dtype).kind]


class SortKernel:
    """Sort and argsort of lines of elements of ``itemsize`` bytes: the kernel reads
    their bits, so one kernel serves every dtype of that size."""

    def __init__(self, itemsize):
        self.itemsize = itemsize

    def source(self, kept, padded):
        """(kernel name, source) for ``kept`` axes (at least 1) and lines padded to
        ``padded`` positions."""
        index = index_type(padded)
        name = f"sort_{8 * self.itemsize}bit_k{kept}_{'i32' if index == 'ga_uint' else 'i64'}"
        walks = {arrays: unravel("rest", kept, "kdim{d}", [(f"{a}_at", f"k{a}{{d}}") for a in arrays],
                                 indent=12, outer_bounded=False)
                 for arrays in (("in",), ("in", "out"))}
        return name, render(
            "sort.c", name=name, bits=8 * self.itemsize, tile=tile(self.itemsize, padded),
            key_type=key_type(self.itemsize), index_type=index, bits_type=_BITS_TYPES[self.itemsize],
            sign=_SIGNS[self.itemsize], infinity=_INFINITIES[self.itemsize],
            kept_params="".join(f", ga_ssize kdim{d}, ga_ssize kin{d}, ga_ssize kout{d}" for d in range(kept)),
            kept_in=walks[("in",)], kept_in_out=walks[("in", "out")])

    def sources(self, ndim):
        """{kernel name: source} of every variant an ``ndim``-d input may run: each
        number of kept axes, with 32-bit and 64-bit line positions."""
        return dict(self.source(kept, padded) for kept in range(1, max(2, ndim))
                    for padded in (2, 2 ** 33))


__all__ = ["SortKernel", "index_type", "key_kind", "key_type", "tile"]
