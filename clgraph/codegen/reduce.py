"""Kernels of reductions (sum, prod, max, min, all, any) over any axes, rendered from
the shared template clgraph/kernels/reduce.c.

A variant is chosen by the number of kept and of reduced dimensions (after collapsing
contiguous ones) and whether the reduced elements are contiguous, in which case the
inner loop runs on vector types where the dialect has them (OpenCL) and the operation
is a sum or a product of floats.
"""
import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

from .scalar_c import NoDeviceCode, compute_type
from .unravel import unravel

# scalar op name -> (identity, combining expression of acc and v); {T} is the accumulator
# type; float and integer forms differ where numpy propagates NaN.
_COMBINE = {
    "add": ("0", "acc + v", "acc + v"),
    "mul": ("1", "acc * v", "acc * v"),
    # NaN test as acc != acc: PoCL vectorises it, and not isnan() (6x slower loops)
    "maximum": ("MIN", "((acc > v || acc != acc) ? acc : v)", "(acc > v ? acc : v)"),
    "minimum": ("MAX", "((acc < v || acc != acc) ? acc : v)", "(acc < v ? acc : v)"),
    "and_": ("1", "(acc & (v != 0))", "(acc & (v != 0))"),
    "or_": ("0", "(acc | (v != 0))", "(acc | (v != 0))"),
}


def _limit(dtype, which):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return "-INFINITY" if which == "MIN" else "INFINITY"
    if dtype.kind == "b":
        return "0" if which == "MIN" else "1"
    info = np.iinfo(dtype)
    value = info.min if which == "MIN" else info.max
    suffix = "" if dtype.itemsize < 8 else ("LL" if dtype.kind == "i" else "ULL")
    # The most negative int64 has no literal: write it as an expression.
    return f"({value + 1}{suffix} - 1)" if value == np.iinfo(np.int64).min else f"{value}{suffix}"


class ReduceKernel:
    """Reductions by one scalar op from ``in_dtype`` to ``out_dtype``, accumulating in
    ``acc_dtype``."""

    def __init__(self, op_name, in_dtype, acc_dtype, out_dtype, map_kernel=None):
        """``map_kernel``: an ElementwiseKernel (one output, of ``in_dtype``) applied to
        the inputs' elements before reducing, in the same kernel."""
        if op_name not in _COMBINE:
            raise NoDeviceCode(f"reduction by {op_name}")
        self.op_name = op_name
        self.map = map_kernel
        self.in_dtype, self.acc_dtype, self.out_dtype = map(np.dtype, (in_dtype, acc_dtype, out_dtype))
        identity, float_form, int_form = _COMBINE[op_name]
        self.identity = _limit(self.acc_dtype, identity) if identity in ("MIN", "MAX") else identity
        self.combine = float_form if self.acc_dtype.kind == "f" else int_form

    def _load(self, at):
        value = (f"ga_load_half(in + {at})" if self.in_dtype == np.float16 else f"in[{at}]")
        return f"({compute_type(self.acc_dtype)})({value})"

    def _step(self, at, scalars):
        """The statement folding the value at element offset ``at`` into acc."""
        acc_type = compute_type(self.acc_dtype)
        if self.map is None:
            return f"{{ const {acc_type} v = {self._load(at)}; acc = {self.combine}; }}"
        body = " ".join(self.map.loads_and_statements(lambda k: "0" if scalars[k] else at)[0])
        return f"{{ {body} const {acc_type} v = ({acc_type})(y0); acc = {self.combine}; }}"

    def _inputs(self):
        """(params, pointers) of the kernel's inputs: one array, or the map's arrays."""
        if self.map is None:
            return (", GLOBAL_MEM char *in_base, ga_ssize in_off",
                    f"    const GLOBAL_MEM {c_name(self.in_dtype)} *in = "
                    f"(const GLOBAL_MEM {c_name(self.in_dtype)} *)(in_base + in_off);")
        params = "".join(f", GLOBAL_MEM char *in{k}_base, ga_ssize in{k}_off" for k in self.map.arrays)
        return params, self.map.input_pointers()

    def source(self, kept, reduced, vector_width=0, scalars=()):
        """(kernel name, source) for ``kept`` and ``reduced`` dimensions; with
        ``vector_width`` the reduced elements must be contiguous (one reduced dim);
        ``scalars[k]``: the map's input k has one element."""
        fused = "" if self.map is None else f"_{self.map.tag}_{''.join('s' if s else 'a' for s in scalars)}"
        name = (f"reduce_{self.op_name}_{self.in_dtype}_{self.acc_dtype}_{self.out_dtype}{fused}_"
                f"k{kept}_r{reduced}" + (f"_v{vector_width}" if vector_width else ""))
        acc_type = compute_type(self.acc_dtype)
        dim_params = "".join(f", ga_ssize kdim{d}, ga_ssize ks{d}" for d in range(kept))
        dim_params += "".join(f", ga_ssize rdim{d}, ga_ssize rs{d}" for d in range(reduced))
        kept_lines = unravel("rest", kept, "kdim{d}", [("base", "ks{d}")], indent=8)
        in_params, pointers = self._inputs()
        # half is a storage type on devices without cl_khr_fp16: stored through a float
        store = ("ga_store_half((float)(acc), out + w)" if self.out_dtype == np.float16
                 else f"out[w] = ({c_name(self.out_dtype)})(acc)")
        return name, render("reduce.c", name=name, combine=self.op_name, out_type=c_name(self.out_dtype),
                            store=store, acc_type=acc_type, identity=self.identity, in_params=in_params,
                            pointers=pointers, dim_params=dim_params, kept_lines=kept_lines,
                            loop=self._loop(reduced, vector_width, scalars))

    def _loop(self, reduced, width, scalars):
        if width and self.map is None:   # contiguous: four vector accumulators, to overlap their latencies
            vtype, op = f"float{width}", "+" if self.op_name == "add" else "*"
            lanes = f" {op} ".join(f"v0.s{k:x}" for k in range(width))
            loads = " ".join(f"v{a} = v{a} {op} vload{width}({a}, in + base + r);" for a in range(4))
            return "\n".join([
                "        ga_ssize r = first;",
                f"        {vtype} " + ", ".join(f"v{a} = ({vtype})({self.identity})" for a in range(4)) + ";",
                f"        for (; r + {4 * width} <= last; r += {4 * width}) {{ {loads} }}",
                f"        v0 = (v0 {op} v1) {op} (v2 {op} v3);",
                f"        acc = {lanes};",
                "        for (; r < last; r++) " + self._step("base + r", scalars),
            ])
        if reduced == 1:
            return "        for (ga_ssize r = first; r < last; r++) " + self._step("base + r * rs0", scalars)
        return "\n".join([
            "        for (ga_ssize r = first; r < last; r++) {",
            "            ga_ssize rr = r, at = base;",
            unravel("rr", reduced, "rdim{d}", [("at", "rs{d}")], indent=12, outer_bounded=False),
            "            " + self._step("at", scalars),
            "        }",
        ])

    def columns(self, width, lanes=4):
        """(kernel name, source) of the row-of-vectors kernel (float32 sums and products
        over the rows of a matrix with contiguous columns)."""
        op = "+" if self.op_name == "add" else "*"
        name = f"reduce_columns_{self.op_name}_v{width}x{lanes}"
        vtype = f"float{width}"
        return name, render(
            "reduce_columns.c", name=name, per_item=width * lanes, lanes=lanes, identity=self.identity,
            operator=op,
            declare="\n".join(f"        {vtype} a{k} = ({vtype})({self.identity});" for k in range(lanes)),
            accumulate="\n".join(f"            a{k} = a{k} {op} vload{width}({k}, row);" for k in range(lanes)),
            store="\n".join(f"        vstore{width}(a{k}, {k}, out + j0);" for k in range(lanes)))

    def rows_stream(self, width):
        """(kernel name, source) of the kernel streaming chunks of rows into partial rows."""
        name = f"reduce_rows_stream_{self.op_name}_v{width}"
        return name, render("reduce_rows_stream.c", name=name, width=width, identity=self.identity,
                            operator="+" if self.op_name == "add" else "*")

    def vector_width(self, device):
        """The vector width for contiguous float32 sums and products on ``device``."""
        from .elemwise import _widest_native

        if (device.api != "opencl" or self.op_name not in ("add", "mul")
                or {self.in_dtype, self.acc_dtype} != {np.dtype(np.float32)}):
            return 0
        return min(device.preferred_float_vector_width, _widest_native(device), 16)
