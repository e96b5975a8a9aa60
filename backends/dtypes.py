"""The dtype registry: numpy dtypes and the C names both dialect headers give them.

Kernels are written against the ``ga_*`` names that kernels_cl/cluda.h and
kernels_cu/cluda.h both define, so one table serves both dialects; ``native`` is the
spelling each dialect would use without the header (for messages and interop).
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DtypeInfo:
    dtype: np.dtype
    ga_name: str          # name in kernel sources, same in both dialects
    opencl: str           # the OpenCL C spelling
    cuda: str             # the CUDA C spelling
    capability: str = ""  # device capability its arithmetic needs ("fp64", "fp16")


_TABLE = [
    DtypeInfo(np.dtype(np.bool_), "ga_bool", "uchar", "unsigned char"),
    DtypeInfo(np.dtype(np.int8), "ga_byte", "char", "signed char"),
    DtypeInfo(np.dtype(np.uint8), "ga_ubyte", "uchar", "unsigned char"),
    DtypeInfo(np.dtype(np.int16), "ga_short", "short", "short"),
    DtypeInfo(np.dtype(np.uint16), "ga_ushort", "ushort", "unsigned short"),
    DtypeInfo(np.dtype(np.int32), "ga_int", "int", "int"),
    DtypeInfo(np.dtype(np.uint32), "ga_uint", "uint", "unsigned int"),
    DtypeInfo(np.dtype(np.int64), "ga_long", "long", "long long"),
    DtypeInfo(np.dtype(np.uint64), "ga_ulong", "ulong", "unsigned long long"),
    DtypeInfo(np.dtype(np.float16), "ga_half", "half", "__half", "fp16"),
    DtypeInfo(np.dtype(np.float32), "ga_float", "float", "float"),
    DtypeInfo(np.dtype(np.float64), "ga_double", "double", "double", "fp64"),
]
_BY_DTYPE = {info.dtype: info for info in _TABLE}

SUPPORTED_DTYPES = tuple(info.dtype for info in _TABLE)


def dtype_info(dtype):
    """The registry entry of ``dtype``; TypeError naming the dtype if it has none."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{dtype!r} is not a numpy dtype") from exc
    info = _BY_DTYPE.get(dt) if dt.isnative else None
    if info is None:
        names = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(f"dtype {dt} is not supported on devices; supported dtypes: {names}")
    return info


def c_name(dtype):
    """The ``ga_*`` type name kernels use for ``dtype``."""
    return dtype_info(dtype).ga_name
