"""Kernels of elementwise nodes, rendered from the shared templates.

One node (a ScalarOp or a fused Composite, with its input and output dtypes) has
three kernel variants: ``flat`` for C-contiguous arrays of one shape (broadcast
one-element inputs allowed), ``vector`` (the same on OpenCL vector types, for CPU
devices, where PoCL vectorises nothing else), and ``strided`` for any strides and
broadcasting. All are rendered from the same C statements (codegen.scalar_c).
"""
import hashlib

import numpy as np

from clgraph.backends.array import collapse_dims
from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

from .scalar_c import NoDeviceCode, compute_type, render_steps
from .unravel import unravel

# Operations whose C expressions are valid, and numpy-exact, on OpenCL float vectors.
VECTOR_SAFE = frozenset("""add sub mul true_div neg sqr inv exp exp2 expm1 log log2 log10 log1p
    sqrt sin cos tan sinh cosh tanh arcsin arccos arctan arcsinh arccosh arctanh arctan2 abs
    floor ceil trunc round_half_to_even pow second erf erfc sigmoid softplus""".split())


# LLVM CPU names (PoCL reports its target as "...-gnu-<cpu>") whose float16 vectors
# are native; elsewhere a 16-wide vector passed to a builtin breaks PoCL's ABI.
_AVX512_CPUS = ("skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake", "tigerlake",
                "rocketlake", "sapphirerapids", "graniterapids", "emeraldrapids", "znver4", "znver5",
                "knl", "knm")


def _widest_native(device):
    """The widest float vector the device's builtins take: PoCL names its target CPU."""
    target = device.version.rsplit("-", 1)[-1] if "HSTR:" in device.version else ""
    if target and not target.startswith(_AVX512_CPUS):
        return 8
    return 16


def _steps(scalar_op):
    return [op for op, _, _ in scalar_op.body] if hasattr(scalar_op, "body") else [scalar_op]


class ElementwiseKernel:
    """The kernel sources of one elementwise operation on given dtypes."""

    def __init__(self, scalar_op, in_dtypes, out_dtypes, constants=None):
        """``constants``: {input index: value} of one-element inputs known when
        compiling; they become literals of the kernel instead of arguments."""
        self.scalar_op = scalar_op
        self.in_dtypes = [np.dtype(d) for d in in_dtypes]
        self.out_dtypes = [np.dtype(d) for d in out_dtypes]
        self.constants = dict(constants or {})
        self.arrays = [k for k in range(len(self.in_dtypes)) if k not in self.constants]
        self._statements()   # raises NoDeviceCode now if some step has no kernel code
        structure = scalar_op._key() if hasattr(scalar_op, "_key") else scalar_op.name   # not the
        # printed expression, which repeats shared steps and can grow exponentially
        description = f"{structure}|{self.in_dtypes}|{self.out_dtypes}|{sorted(self.constants.items())}"
        self.tag = "elemwise_" + hashlib.sha1(description.encode()).hexdigest()[:12]

    def _statements(self, type_name=None):
        inputs = [f"x{k}" for k in range(len(self.in_dtypes))]
        return render_steps(self.scalar_op, inputs, self.in_dtypes, self.out_dtypes, type_name)

    # pieces --------------------------------------------------------------------------
    def _params(self):
        names = [f"out{k}" for k in range(len(self.out_dtypes))] + [f"in{k}" for k in self.arrays]
        return ", ".join(f"GLOBAL_MEM char *{n}_base, ga_ssize {n}_off" for n in names)

    def _pointers(self):
        lines = [f"    GLOBAL_MEM {c_name(d)} *out{k} = (GLOBAL_MEM {c_name(d)} *)(out{k}_base + out{k}_off);"
                 for k, d in enumerate(self.out_dtypes)]
        return "\n".join(lines) + "\n" + self.input_pointers()

    def input_pointers(self):
        """Declarations of the typed pointers of the array inputs (in0, in1, ...)."""
        return "\n".join(f"    const GLOBAL_MEM {c_name(d)} *in{k} = (const GLOBAL_MEM {c_name(d)} *)(in{k}_base + in{k}_off);"
                          for k, d in enumerate(self.in_dtypes) if k not in self.constants)

    def _literal(self, k):
        value, dtype = self.constants[k], self.in_dtypes[k]
        if dtype.kind == "f":
            text = "NAN" if np.isnan(value) else ("INFINITY" if value > 0 else "-INFINITY") \
                if np.isinf(value) else repr(float(value))
        else:
            text = str(int(value))
        return f"(({compute_type(dtype)}){text})"

    def loads_and_statements(self, index_of_input):
        """(lines, result expressions): loads at index_of_input(k), the statements, and
        the results also named y0, y1, ..."""
        lines = []
        for k, dtype in enumerate(self.in_dtypes):
            at = index_of_input(k)
            load = f"ga_load_half(in{k} + {at})" if dtype == np.float16 else f"in{k}[{at}]"
            load = self._literal(k) if k in self.constants else load
            lines.append(f"{compute_type(dtype)} x{k} = {load};")
        statements, results = self._statements()
        lines += statements
        lines += [f"const {compute_type(d)} y{k} = {r};" for k, (d, r) in enumerate(zip(self.out_dtypes, results))]
        return lines, results

    def one_element(self, inputs):
        """For each input of the operation, whether it is one element: the compiled-in
        constants, and the array inputs (values or Layouts, in order) of size 1."""
        flags = [True] * len(self.in_dtypes)
        for k, x in zip(self.arrays, inputs):
            flags[k] = x.size == 1
        return tuple(flags)

    def epilogue(self, value, position, indices, vtype=None, load=None):
        """Statements replacing the variable ``value`` (of ``vtype``, or the compute
        type) by this operation's first output, ``value`` being its input ``position``
        and each other array input ``in{k}`` read at element ``indices[k]`` (vectors by
        ``load(pointer)``; "0": one element, broadcast): another kernel's last step (a
        GEMM's epilogue)."""
        kind = vtype or compute_type(self.in_dtypes[position])
        lines = []
        for k in range(len(self.in_dtypes)):
            if k == position:
                read = value
            elif k in self.constants:
                read = f"({kind})({self._literal(k)})"
            elif indices[k] == "0":
                read = f"({kind})(in{k}[0])"
            else:
                read = load(f"in{k} + {indices[k]}") if vtype else f"in{k}[{indices[k]}]"
            lines.append(f"{kind} x{k} = {read};")
        statements, results = self._statements(vtype)
        return lines + statements + [f"{value} = {results[0]};"]

    def _scalar_body(self, index_of_input, indent="        "):
        """Loads at index_of_input(k), the statements, and stores at i."""
        lines, results = self.loads_and_statements(index_of_input)
        for k, (dtype, result) in enumerate(zip(self.out_dtypes, results)):
            lines.append(f"ga_store_half({result}, out{k} + i);" if dtype == np.float16
                         else f"out{k}[i] = ({c_name(dtype)})({result});")
        return "\n".join(indent + line for line in lines)

    # variants ------------------------------------------------------------------------
    def flat(self, scalar_inputs):
        """(kernel name, source) for C-contiguous arrays; ``scalar_inputs[k]`` marks a
        one-element input read at index 0."""
        name = f"{self.tag}_flat_{''.join('s' if s else 'a' for s in scalar_inputs)}"
        body = self._scalar_body(lambda k: "0" if scalar_inputs[k] else "i")
        return name, render("elemwise_flat.c", name=name, params=self._params(),
                            pointers=self._pointers(), body=body)

    def vector_width(self, device):
        """The vector width to use on ``device`` (a DeviceInfo), or 0 for none."""
        steps = getattr(self.scalar_op, "body", ())
        dtypes = {self.in_dtypes[k] for k in self.arrays} | set(self.out_dtypes) | {
            np.dtype(dtype) for _, _, dtype in steps}
        if device.api != "opencl" or device.kind != "CPU" or dtypes != {np.dtype(np.float32)}:
            return 0
        if not all(op.name in VECTOR_SAFE for op in _steps(self.scalar_op)):
            return 0
        width = min(device.preferred_float_vector_width, _widest_native(device))
        return width if width in (2, 4, 8, 16) else 0

    def vector(self, scalar_inputs, width):
        """(kernel name, source) of the flat kernel on float vectors of ``width``."""
        name = f"{self.tag}_vec{width}_{''.join('s' if s else 'a' for s in scalar_inputs)}"
        vtype = f"float{width}"
        lines = [f"{vtype} x{k} = ({vtype})({self._literal(k)});" if k in self.constants else
                 f"{vtype} x{k} = ({vtype})(in{k}[0]);" if scalar else f"{vtype} x{k} = vload{width}(gid, in{k});"
                 for k, scalar in enumerate(scalar_inputs)]
        statements, results = self._statements(vtype)
        lines += statements
        lines += [f"vstore{width}({result}, gid, out{k});" for k, result in enumerate(results)]
        vector_body = "\n".join("        " + line for line in lines)
        body = self._scalar_body(lambda k: "0" if scalar_inputs[k] else "i")
        return name, render("elemwise_vector.c", name=name, params=self._params(), width=width,
                            pointers=self._pointers(), vector_body=vector_body, body=body)

    def steps(self, tap_input, scalar_inputs):
        """(kernel name, source) of a loop of this single-output operation in one launch
        (elemwise_steps.c): input ``tap_input`` is an earlier step's result, the other
        array inputs arguments (in{k}_base, in{k}_off, in{k}_step) after state_step;
        ``scalar_inputs[k]`` marks a one-element input read at index 0."""
        name = f"{self.tag}_steps_{tap_input}_{''.join('s' if s else 'a' for s in scalar_inputs)}"
        state_type = c_name(self.out_dtypes[0])
        others = [k for k in self.arrays if k != tap_input]
        input_params = "".join(f", GLOBAL_MEM char *in{k}_base, ga_ssize in{k}_off, ga_ssize in{k}_step"
                               for k in others)
        first_pointers = "\n".join(
            f"    const GLOBAL_MEM {c_name(self.in_dtypes[k])} *in{k}_first = "
            f"(const GLOBAL_MEM {c_name(self.in_dtypes[k])} *)(in{k}_base + in{k}_off);" for k in others)
        step_pointers = [f"const GLOBAL_MEM {state_type} *in{tap_input} = states + (first + t + tap) % length * state_step;"]
        step_pointers += [f"const GLOBAL_MEM {c_name(self.in_dtypes[k])} *in{k} = in{k}_first + t * in{k}_step;"
                          for k in others]
        return name, render("elemwise_steps.c", name=name, state_type=state_type, input_params=input_params,
                            first_pointers=first_pointers,
                            step_pointers="\n".join(" " * 12 + line for line in step_pointers),
                            body=self._scalar_body(lambda k: "0" if scalar_inputs[k] else "i", " " * 12))

    def strided(self, ndim, run=1, inner=None):
        """(kernel name, source) for inputs of any element strides over ``ndim`` dims,
        a work-item a ``run`` of elements along the innermost dim; arguments after n:
        the dims, then each input's stride per dim. ``inner``: per array input, its
        innermost stride as "1", "0" or "s" (the argument), a constant of the kernel
        where it is one (default: all "s")."""
        inner = inner or "s" * len(self.arrays)
        name = f"{self.tag}_strided{ndim}" + (f"_run{run}_{inner}" if run > 1 else "")
        last = ndim - 1
        dim_params = "".join(f", ga_ssize dim{d}" for d in range(ndim))
        dim_params += "".join(f", ga_ssize s{k}_{d}" for k in self.arrays for d in range(ndim))
        index_lines = unravel("rest", last, "dim{d}", [(f"o{k}", f"s{k}_{{d}}") for k in self.arrays], indent=8)
        steps = {k: f"s{k}_{last}" if kind == "s" else kind for k, kind in zip(self.arrays, inner)}
        advance = " ".join(f"o{k} += {step};" for k, step in steps.items() if step != "0")
        return name, render("elemwise_strided.c", name=name, params=self._params(), ndim=ndim, run=run, last=last,
                            pointers=self._pointers(), dim_params=dim_params,
                            offsets="".join(f", o{k} = j0 * {step}" for k, step in steps.items()),
                            index_lines=index_lines, body=self._scalar_body(lambda k: f"o{k}", " " * 16),
                            advance=" " * 16 + advance)


__all__ = ["ElementwiseKernel", "NoDeviceCode", "collapse_dims"]
