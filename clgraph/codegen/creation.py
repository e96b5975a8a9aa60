"""Kernels of the creation ops arange and eye, rendered from the shared templates
clgraph/kernels/fill_arange.c and fill_eye.c: one variant per output dtype, one
work-item per element written and no loop (PoCL vectorises such kernels across
work-items; a grid-stride loop made the fill several times slower there).
"""
import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render


# The type arange steps in -> its product in CUDA, which must not fuse with the sum
# (OpenCL gets the same from FP_CONTRACT OFF).
_CUDA_PRODUCT = {"ga_ulong": "a * b", "ga_float": "__fmul_rn(a, b)", "ga_double": "__dmul_rn(a, b)"}


def _store(dtype, value, at="i"):
    """The statement writing ``value`` (of the compute type) to ``out[at]`` as ``dtype``."""
    if dtype == np.float16:
        return f"ga_store_half({value}, out + {at})"
    return f"out[{at}] = ({c_name(dtype)})({value})"


def _arange_step_dtype(dtype):
    """numpy dtype arange steps in for output ``dtype``: 64-bit unsigned integers
    (wrapping as numpy's fill does in its integer types) or the float compute type."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return np.dtype(np.uint64)
    if dtype.kind == "f":
        return np.dtype(np.float64 if dtype == np.float64 else np.float32)   # float16: as float
    raise ValueError(f"arange kernels fill integers and floats, not {dtype}")


def arange_source(dtype):
    """(kernel name, source) filling an array of ``dtype`` as numpy's arange does from
    its first two values (kernel arguments: out, n, first, second)."""
    dtype = np.dtype(dtype)
    step_type = c_name(_arange_step_dtype(dtype))
    name = f"fill_arange_{dtype}"
    return name, render("fill_arange.c", name=name, out_type=c_name(dtype), step_type=step_type,
                        cuda_product=_CUDA_PRODUCT[step_type], store=_store(dtype, "value"))


def arange_arguments(dtype, first, second):
    """The kernel's ``first`` and ``second`` arguments from those values of ``dtype``
    (numpy scalars): integers as their 64-bit two's complement patterns."""
    step = _arange_step_dtype(dtype)
    if step == np.uint64:
        return tuple(np.uint64(int(v) % 2 ** 64) for v in (first, second))
    return step.type(first), step.type(second)


def eye_source(dtype):
    """(kernel name, source) writing the ones of numpy's eye over an array of zeros of
    ``dtype`` (kernel arguments: out, the diagonal's length, its first element, the
    elements between two of its elements)."""
    dtype = np.dtype(dtype)
    name = f"fill_eye_{dtype}"
    one = "1.0f" if dtype == np.float16 else "1"
    return name, render("fill_eye.c", name=name, out_type=c_name(dtype), store=_store(dtype, one, "at"))
