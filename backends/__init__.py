"""clgraph's runtime: devices, named contexts, device arrays, memory pools, queues and
kernel builds, for OpenCL and CUDA. It imports numpy and, lazily, pyopencl and pycuda;
nothing of the symbolic layer."""
from .allocator import PoolAllocator
from .array import DeviceArray, empty, to_device, while_unwritten, zeros
from .context import Context, Event
from .devices import DeviceInfo, parse_device_name
from .dtypes import SUPPORTED_DTYPES, c_name, dtype_info
from .errors import BuildError, DeviceError, LaunchError
from .program import dialect_header, render
from .registry import ContextRegistry, get_context, parse_contexts, registry

__all__ = [
    "BuildError", "Context", "ContextRegistry", "DeviceArray", "DeviceError", "DeviceInfo",
    "Event", "LaunchError", "PoolAllocator", "SUPPORTED_DTYPES", "c_name", "dialect_header",
    "dtype_info", "empty", "get_context", "parse_contexts", "parse_device_name", "registry",
    "render", "to_device", "while_unwritten", "zeros",
]
