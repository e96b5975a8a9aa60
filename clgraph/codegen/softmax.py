"""Kernels of the softmax family (softmax, log_softmax, their gradients, the categorical
cross-entropies and their gradients), rendered from the shared template
clgraph/kernels/softmax.c, one work-item per line.

Each mode names its input arrays in the order of its op's inputs: line arrays ``a``
and ``b`` hold whole lines, per-row arrays ``g`` (a gradient per row) and ``idx`` (the
class indices) one element per line. The kernel's arguments: the output, the inputs,
the line count and length, the element step along the line of each line array (the
output first, unless it has one value per row), then per kept dimension (collapsed by
codegen.elemwise.collapse_dims) its length and each array's element stride, the
output's first.

On OpenCL CPU devices, float32 lines of unit step run their exp loops on float vectors
(``width``): the CPU compilers vectorize no loop that calls exp by themselves.
"""
from typing import NamedTuple

import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

from .elemwise import _widest_native
from .scalar_c import compute_type
from .unravel import unravel


class Mode(NamedTuple):
    inputs: tuple         # the kernel's input arrays, in the op's input order
    per_row_output: bool  # one output value per line (the cross-entropies) or a whole line
    calls_exp: bool       # its line loops call exp: worth vectors on CPU devices


MODES = {
    "softmax": Mode(("a",), False, True),
    "log_softmax": Mode(("a",), False, True),
    "softmax_grad": Mode(("a", "b"), False, False),
    "log_softmax_grad": Mode(("a", "b"), False, True),
    "xent_1hot": Mode(("a", "idx"), True, False),
    "xent_1hot_dx": Mode(("g", "a", "idx"), False, False),
    "xent_softmax": Mode(("a", "idx"), True, True),
    "xent_softmax_dx": Mode(("g", "a", "idx"), False, True),
}

PER_ROW_INPUTS = ("g", "idx")


class SoftmaxKernel:
    """The kernel of ``mode`` (a key of MODES) over ``dtype`` values (float16, computed
    in float, float32 or float64), with class indices of ``index_dtype`` where the mode
    takes them."""

    def __init__(self, mode, dtype, index_dtype=None):
        if mode not in MODES:
            raise ValueError(f"a softmax kernel computes one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"the {mode} kernel computes floats, got dtype {self.dtype}")
        if ("idx" in MODES[mode].inputs) != (index_dtype is not None):
            raise TypeError(f"the {mode} kernel {'needs' if index_dtype is None else 'takes no'} class "
                            f"indices (index_dtype {index_dtype})")
        self.index_dtype = None if index_dtype is None else np.dtype(index_dtype)

    @property
    def inputs(self):
        return MODES[self.mode].inputs

    @property
    def per_row_output(self):
        return MODES[self.mode].per_row_output

    @property
    def arrays(self):
        """Every array of the kernel, the output first: the order of their strides."""
        return ("out",) + self.inputs

    @property
    def line_arrays(self):
        """The arrays with a step along the line, in the order of their steps."""
        per_row = PER_ROW_INPUTS + (("out",) if self.per_row_output else ())
        return tuple(a for a in self.arrays if a not in per_row)

    def _pointer(self, array):
        value_type = c_name(self.index_dtype if array == "idx" else self.dtype)
        return (f"    const GLOBAL_MEM {value_type} *{array} = "
                f"(const GLOBAL_MEM {value_type} *)({array}_base + {array}_off);")

    def vector_width(self, device):
        """The float vector width for lines of unit step on ``device`` (a DeviceInfo):
        float32 modes calling exp on OpenCL CPU devices; 1 (no vectors) otherwise."""
        if (device.api != "opencl" or device.kind != "CPU" or self.dtype != np.float32
                or not MODES[self.mode].calls_exp):
            return 1
        width = min(device.preferred_float_vector_width, _widest_native(device))
        return width if width in (2, 4, 8, 16) else 1

    def source(self, kept, width=1):
        """(kernel name, source) over ``kept`` dimensions besides the line; ``width``
        > 1: on float vectors of that width, for lines of unit step (OpenCL only)."""
        if width > 1 and self.dtype != np.float32:
            raise ValueError(f"the {self.mode} kernel runs on float32 vectors only, not on {self.dtype}")
        index = f"_{self.index_dtype}" if self.index_dtype is not None else ""
        name = f"softmax_{self.mode}_{self.dtype}{index}_k{kept}" + (f"_v{width}" if width > 1 else "")
        half = self.dtype == np.float16
        acc_type = compute_type(self.dtype)
        lane_max = "(v).s0"
        for k in range(1, width):
            lane_max = f"fmax({lane_max}, (v).s{k:x})"
        return name, render(
            "softmax.c", name=name, mode=self.mode, acc_type=acc_type, out_type=c_name(self.dtype),
            width=width, vector_type=f"float{width}", lane_max=lane_max,
            lane_sum=" + ".join(f"(v).s{k:x}" for k in range(width)),
            load="ga_load_half((p) + (at))" if half else f"(({acc_type})(p)[at])",
            store="ga_store_half((v), out + (at))" if half else "out[at] = (v)",
            array_params="".join(f", GLOBAL_MEM char *{a}_base, ga_ssize {a}_off" for a in self.inputs),
            pointers="\n".join(self._pointer(a) for a in self.inputs),
            step_params="".join(f", ga_ssize {a}_step" for a in self.line_arrays),
            dim_params="".join(f", ga_ssize kdim{d}" + "".join(f", ga_ssize {a}_s{d}" for a in self.arrays)
                               for d in range(kept)),
            offsets="".join(f", {a}_at = 0" for a in self.arrays),
            kept_lines=unravel("rest", kept, "kdim{d}", [(f"{a}_at", f"{a}_s{{d}}") for a in self.arrays],
                               indent=8))
