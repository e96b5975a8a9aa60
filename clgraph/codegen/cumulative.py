"""Kernels of cumulative sums and products along one axis, rendered from the shared
template clgraph/kernels/cumulative.c.

Each work-item scans a block of a line in order. A few long lines are cut into blocks
scanned at once: the blocks' totals (a reduction by codegen.reduce), their running
totals (a scan of those), then each block's scan starting from the running total of
the blocks before it, the ``carried`` variant. The kept dimensions come collapsed
(codegen.elemwise.collapse_dims) as (length, input stride, output stride) triples.
"""
import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

from .reduce import ReduceKernel
from .scalar_c import compute_type
from .unravel import unravel

# mode (also the scalar op of the blocks' totals) -> C operator
_OPERATORS = {"add": "+", "mul": "*"}


class CumulativeKernel:
    """Running sums (``mode`` 'add') or products ('mul') of ``in_dtype`` values into
    ``out_dtype``."""

    def __init__(self, mode, in_dtype, out_dtype):
        if mode not in _OPERATORS:
            raise ValueError(f"a cumulative op adds or multiplies, not {mode!r}")
        self.mode = mode
        self.in_dtype, self.out_dtype = np.dtype(in_dtype), np.dtype(out_dtype)
        # Block totals of float16 are kept in float32: the reduction kernel writes its
        # output with a C cast, which half takes only where the device has fp16.
        self.carry_dtype = np.dtype(np.float32) if self.out_dtype == np.float16 else self.out_dtype

    def _identity(self):
        if self.mode == "mul":
            return "1"
        # -0.0 + x is x for every x, -0.0 too (0.0 + -0.0 would lose the sign)
        return "-0.0f" if self.out_dtype.kind == "f" else "0"

    def scan(self, kept, carried=False):
        """(kernel name, source) over ``kept`` dimensions; ``carried``: each block
        starts from the running total of the blocks before it, read from one more
        array argument (C-contiguous (lines, blocks), of ``carry_dtype``)."""
        name = (f"cumulative_{self.mode}_{self.in_dtype}_{self.out_dtype}_k{kept}"
                + ("_carried" if carried else ""))
        acc_type = compute_type(self.out_dtype)
        out_type = c_name(self.out_dtype)
        identity = f"({acc_type})({self._identity()})"
        if self.out_dtype == np.float16:
            # numpy rounds every partial result to float16: store it, and go on from what was stored
            store = "ga_store_half(acc, out + out_at); acc = ga_load_half(out + out_at);"
        else:
            store = "out[out_at] = acc;"
        carry_type = c_name(self.carry_dtype)
        return name, render(
            "cumulative.c", name=name, mode=self.mode, operator=_OPERATORS[self.mode],
            in_type=c_name(self.in_dtype), out_type=out_type, acc_type=acc_type,
            load="ga_load_half(in + in_at)" if self.in_dtype == np.float16 else "in[in_at]",
            store=store,
            dim_params="".join(f", ga_ssize kdim{d}, ga_ssize ks{d}, ga_ssize kos{d}" for d in range(kept)),
            kept_lines=unravel("rest", kept, "kdim{d}", [("in_at", "ks{d}"), ("out_at", "kos{d}")], indent=8),
            carry_doc=("A block starts from the running total of the blocks before it (carries)."
                       if carried else "A block starts from the identity."),
            carry_params=", GLOBAL_MEM char *carry_base, ga_ssize carry_off" if carried else "",
            carry_pointer=(f"    const GLOBAL_MEM {carry_type} *carries = "
                           f"(const GLOBAL_MEM {carry_type} *)(carry_base + carry_off);") if carried else "",
            start=f"b > 0 ? ({acc_type})(carries[j * blocks + b - 1]) : {identity}" if carried else identity)

    def totals(self, kept):
        """(kernel name, source) of the blocks' totals: codegen.reduce's kernel over one
        reduced dimension, with chunks for blocks."""
        reduction = ReduceKernel(self.mode, self.in_dtype, self.carry_dtype, self.carry_dtype)
        return reduction.source(kept, 1)

    def of_totals(self):
        """The kernels scanning the block totals themselves."""
        return CumulativeKernel(self.mode, self.carry_dtype, self.carry_dtype)
