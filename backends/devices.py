"""Device discovery across every API, and the names users give devices.

Names: ``cpu`` (the numpy host), ``openclP:D`` (platform P, device D), ``opencl``
(the first OpenCL device), ``cudaN``, ``cuda`` (the first CUDA device); ``gpu``/``gpuN``
are Theano's spellings of ``cuda``/``cudaN``. An API whose binding or driver is missing
is reported as unavailable with the reason, never as an import error.
"""
import re
from dataclasses import dataclass, field, fields

import numpy as np

from .errors import DeviceError

_NAME_PATTERN = re.compile(r"^(cpu|opencl(\d+):(\d+)|opencl|cuda(\d+)|cuda|gpu(\d+)|gpu)$")


@dataclass
class DeviceInfo:
    """What a device is and whether it can be used; one row of ``clgraph devices``."""

    name: str                     # the name to use in flags: cpu, opencl0:0, cuda1
    api: str                      # cpu, opencl, cuda
    kind: str                     # CPU, GPU, ACCELERATOR
    vendor: str
    model: str
    compute_units: int
    global_mem_bytes: int
    max_alloc_bytes: int
    max_group_size: int
    fp64: bool
    fp16: bool
    driver_version: str
    platform: str = ""
    version: str = ""             # the device's own version string (names the target ISA on PoCL)
    preferred_float_vector_width: int = 1
    int64_atomics: bool = True    # atomic add on 64-bit integers (float64 adds build on them)
    usable: bool = True
    reason: str = ""              # why not usable
    handle: object = field(default=None, repr=False, compare=False)  # the API's device object

    def identity(self):
        """Strings that change whenever a compiled binary might stop being valid."""
        return (self.api, self.platform, self.vendor, self.model, self.version, self.driver_version)

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "handle"}

    def describe(self):
        return f"{self.name}: {self.model} ({self.vendor}, {self.platform or self.api})"


@dataclass
class ApiStatus:
    """One API's discovery result: its devices, or why it has none."""

    api: str
    devices: list
    available: bool
    reason: str = ""


def host_device():
    """The numpy host, always present: the reference device."""
    return DeviceInfo(
        name="cpu", api="cpu", kind="CPU", vendor="numpy", model=f"numpy {np.__version__} host",
        compute_units=1, global_mem_bytes=0, max_alloc_bytes=0, max_group_size=1, fp64=True,
        fp16=True, driver_version=np.__version__, platform="host",
    )


def discover():
    """Every API's status, in the order cpu, opencl, cuda; each binding imported lazily."""
    from . import cuda, opencl

    host = ApiStatus("cpu", [host_device()], True)
    return [host, opencl.discover(), cuda.discover()]


def parse_device_name(name):
    """Canonical (api, index) of a device name: ('opencl', (0, 1)), ('cuda', 0), ('cpu', None).

    An index of None means "the first device of that API".
    """
    match = _NAME_PATTERN.match(name or "")
    if not match:
        raise DeviceError(
            f"malformed device name {name!r}: expected cpu, opencl, openclP:D, cuda, cudaN "
            "(or Theano's gpu, gpuN)"
        )
    text, cl_p, cl_d, cu_n, gpu_n = match.groups()
    if text == "cpu":
        return "cpu", None
    if text.startswith("opencl"):
        return "opencl", None if cl_p is None else (int(cl_p), int(cl_d))
    number = cu_n if cu_n is not None else gpu_n
    return "cuda", None if number is None else int(number)


def resolve(name, statuses):
    """The DeviceInfo that ``name`` refers to; DeviceError listing what exists otherwise."""
    api, index = parse_device_name(name)
    status = next(s for s in statuses if s.api == api)
    candidates = status.devices if index is None else [
        d for d in status.devices if d.name == (f"opencl{index[0]}:{index[1]}" if api == "opencl" else f"cuda{index}")
    ]
    if not status.available:
        raise DeviceError(f"device {name!r} is not available: {status.reason}. {_existing(statuses)}")
    if not candidates:
        raise DeviceError(f"no device {name!r}. {_existing(statuses)}")
    device = candidates[0]
    if not device.usable:
        raise DeviceError(f"device {name!r} ({device.model}) is not usable: {device.reason}")
    return device


def _existing(statuses):
    names = [d.name for s in statuses for d in s.devices if d.usable]
    return "Devices present: " + ", ".join(names)
