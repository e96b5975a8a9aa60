"""Kernels of the maximum or minimum over some axes together with its index (argmax,
argmin), rendered from the shared template clgraph/kernels/argreduce.c.

Dimensions and strides follow codegen.reduce: after the output and index arrays and the
input come the task count and chunking, then (length, element stride) pairs of the kept
dimensions and of the reduced ones, both collapsed (codegen.elemwise.collapse_dims), so
the reduced index r is numpy's index into the reduced axes flattened in C order. A
variant is chosen by the number of kept and reduced dimensions, whether it reduces the
(value, index) partials of a first launch, and whether work-items may share a line.
"""
import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

from .scalar_c import compute_type
from .unravel import unravel

MAX_GROUP = 256   # the local-memory tree's size: the most work-items sharing one line

_COMPARISON = {"maximum": ">", "minimum": "<"}
_NOT_BETTER = {"maximum": "<=", "minimum": ">="}


class ArgReduceKernel:
    """The kernels of the maximum (``op_name`` 'maximum') or minimum ('minimum') of
    ``dtype`` values and its int64 index."""

    def __init__(self, op_name, dtype):
        if op_name not in _COMPARISON:
            raise ValueError(f"an arg-reduction takes the maximum or the minimum, not {op_name}")
        self.op_name = op_name
        self.dtype = np.dtype(dtype)

    def _better(self):
        """C expression: v replaces the best value b so far (a strict improvement, so
        the earlier of equal values stays); a NaN beats all and is never beaten. NaN
        tests are written as comparisons: isnan is a slow call on some CPU devices."""
        if self.dtype.kind != "f":
            return f"(v) {_COMPARISON[self.op_name]} (b)"
        # not (v <= b) holds when v is greater or NaN; b == b when b is not NaN
        return f"(b) == (b) && !((v) {_NOT_BETTER[self.op_name]} (b))"

    def source(self, kept, reduced, partials=False, tree=False):
        """(kernel name, source) for ``kept`` and ``reduced`` dimensions; ``partials``:
        the input is a first launch's partial values, with their indices as one more
        array argument (in the same layout) after it; ``tree``: several work-items
        (lanes) may share a line, meeting in a local-memory tree (otherwise lanes is 1)."""
        name = (f"arg{self.op_name}_{self.dtype}_k{kept}_r{reduced}" + ("_partials" if partials else "")
                + ("_tree" if tree else ""))
        in_type = c_name(self.dtype)
        value_type = compute_type(self.dtype)
        half = self.dtype == np.float16
        dim_params = "".join(f", ga_ssize kdim{d}, ga_ssize ks{d}" for d in range(kept))
        dim_params += "".join(f", ga_ssize rdim{d}, ga_ssize rs{d}" for d in range(reduced))
        kept_lines = unravel("rest", kept, "kdim{d}", [("base", "ks{d}")], indent=12)
        locate = unravel("rr", reduced, "rdim{d}", [("at", "rs{d}")], indent=16, outer_bounded=False)
        return name, render(
            "argreduce.c", name=name, extremum=self.op_name, max_group=MAX_GROUP, shared_lanes=int(tree),
            better=self._better(), in_type=in_type, value_type=value_type, out_type=in_type,
            dim_params=dim_params, kept_lines=kept_lines, locate=locate,
            index_params=", GLOBAL_MEM char *in_index_base, ga_ssize in_index_off" if partials else "",
            index_pointer=("    const GLOBAL_MEM ga_long *in_index = "
                           "(const GLOBAL_MEM ga_long *)(in_index_base + in_index_off);") if partials else "",
            index_of="in_index[at]" if partials else "r",
            load="ga_load_half(in + at)" if half else "in[at]",
            store="ga_store_half(best, value + w);" if half else "value[w] = best;")
