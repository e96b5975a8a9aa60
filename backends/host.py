"""The host driver: the ``cpu`` context keeps its buffers in numpy memory.

It lets DeviceArray, copies and the allocator behave the same on the reference device;
work there is done by numpy, so it builds no kernels. Every operation completes at
once, so its events are ``None``.
"""
import numpy as np

from .errors import DeviceError


class HostDriver:
    api = "cpu"
    dialect = None

    def __init__(self, info, profiling=False):
        self.info = info

    def alloc(self, nbytes):
        return np.empty(nbytes, dtype=np.uint8)

    def release(self, handle):
        pass   # numpy frees the memory when the last reference goes

    def write(self, handle, offset, host, wait):
        handle[offset:offset + host.nbytes] = host.reshape(-1).view(np.uint8)

    def read(self, host, handle, offset, wait):
        host.reshape(-1).view(np.uint8)[:] = handle[offset:offset + host.nbytes]

    def copy(self, dst, dst_offset, src, src_offset, nbytes, src_driver, wait):
        dst[dst_offset:dst_offset + nbytes] = src[src_offset:src_offset + nbytes]

    def fill_zero(self, handle, offset, nbytes, wait):
        handle[offset:offset + nbytes] = 0

    def build(self, source, options):
        raise DeviceError("the cpu context computes with numpy and builds no kernels; "
                          "use an opencl or cuda context to run kernels")

    load = build

    def can_wait_on(self, other):
        return False

    def synchronize(self):
        pass

    def toolchain(self):
        return f"numpy {np.__version__}"
