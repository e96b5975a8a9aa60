"""Kernels of the random draws, rendered from the shared template clgraph/kernels/philox.c:
one variant per (distribution, dtype), one work-item per element. The expressions here
turn Philox words into numbers exactly as the host reference (clgraph.tensor.random)
does, so uniform draws agree bit for bit and normal ones up to the ulps of log/cos.
"""
import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

DISTRIBUTIONS = ("uniform", "normal")


def _unit(dtype, first_word, open_at_zero=False):
    """C expression of a uniform number in [0, 1) of ``dtype`` made from the Philox words
    ``w.v[first_word]`` (float32: its top 24 bits) or ``w.v[first_word]`` and the next
    (float64: 53 bits); with ``open_at_zero``, in (0, 1] instead (log's argument)."""
    one = " + 1u" if open_at_zero else ""
    if np.dtype(dtype) == np.float32:
        return f"((ga_float)((w.v[{first_word}] >> 8){one}) * 5.9604644775390625e-08f)"
    bits = f"(((ga_ulong)w.v[{first_word}] << 21) | (ga_ulong)(w.v[{first_word + 1}] >> 11))"
    one = " + 1ul" if open_at_zero else ""
    return f"((ga_double)({bits}{one}) * 1.1102230246251565e-16)"


def _value(distribution, dtype):
    """C expression of one element of ``distribution`` (standard uniform or normal)."""
    if distribution == "uniform":
        return _unit(dtype, 0)
    # Box-Muller: the second unit number gives the angle, the first the radius
    words = 1 if np.dtype(dtype) == np.float32 else 2
    ctype = c_name(dtype)
    return (f"sqrt(({ctype})-2 * log({_unit(dtype, 0, open_at_zero=True)})) * "
            f"cos(({ctype})6.283185307179586 * {_unit(dtype, words)})")


# The source of a draw holds two more kernels, named by these suffixes: the draw with the
# state read from device memory (arguments: out, n, state), and the state moved past n
# elements on the device (arguments: new state, state, n).
FROM_STATE = "_from_state"
ADVANCE = "_advance"


def draw_source(distribution, dtype):
    """(kernel name, source) filling an array of ``dtype`` (float32 or float64) with
    standard ``distribution`` draws (kernel arguments: out, n, key0, key1, base
    counter)."""
    dtype = np.dtype(dtype)
    if distribution not in DISTRIBUTIONS or dtype not in (np.float32, np.float64):
        raise ValueError(f"random draws are uniform or normal float32/float64, not {distribution} {dtype}")
    name = f"philox_{distribution}_{dtype}"
    return name, render("philox.c", name=name, out_type=c_name(dtype), value=_value(distribution, dtype))
