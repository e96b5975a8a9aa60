"""The CUDA driver: discovery and the primitive operations a context needs.

pycuda is imported here only, lazily: without it, or without a driver, the CUDA API is
reported unavailable with the reason. Each device uses its primary context, made
current around every call so several GPUs can be driven from one thread.
"""
from contextlib import contextmanager

import numpy as np

from .devices import ApiStatus, DeviceInfo
from .errors import BuildError, LaunchError


def _import():
    import pycuda.driver as drv
    return drv


def discover():
    try:
        drv = _import()
    except ImportError as exc:
        if exc.name in ("pycuda", "pycuda.driver"):
            return ApiStatus("cuda", [], False, "pycuda is not installed (install clgraph[cuda])")
        return ApiStatus("cuda", [], False, f"pycuda cannot load the CUDA driver: {exc}")
    except OSError as exc:
        return ApiStatus("cuda", [], False, f"pycuda cannot load the CUDA driver: {exc}")
    try:
        drv.init()
        count = drv.Device.count()
    except drv.Error as exc:
        return ApiStatus("cuda", [], False, f"the CUDA driver could not start: {exc}")
    if count == 0:
        return ApiStatus("cuda", [], False, "the CUDA driver reports no devices")
    return ApiStatus("cuda", [_device_info(drv, i, drv.Device(i)) for i in range(count)], True)


def _device_info(drv, index, dev):
    attr = drv.device_attribute
    major, minor = dev.compute_capability()
    driver = drv.get_driver_version()
    return DeviceInfo(
        name=f"cuda{index}", api="cuda", kind="GPU", vendor="NVIDIA", model=dev.name(),
        compute_units=dev.get_attribute(attr.MULTIPROCESSOR_COUNT),
        global_mem_bytes=dev.total_memory(), max_alloc_bytes=dev.total_memory(),
        max_group_size=dev.get_attribute(attr.MAX_THREADS_PER_BLOCK),
        fp64=True, fp16=(major, minor) >= (5, 3),
        driver_version=f"{driver // 1000}.{driver % 1000 // 10}",
        platform=f"CUDA sm_{major}{minor}", handle=dev,
    )


def _dim3(sizes):
    return tuple(sizes) + (1,) * (3 - len(sizes))


class CUDADriver:
    """Primitive operations on one CUDA device, through its stream."""

    api = "cuda"
    dialect = "cuda"

    def __init__(self, info, profiling=False):
        drv = self.drv = _import()
        self.info = info
        self.device = info.handle
        self.context = self.device.retain_primary_context()
        self.arch = "sm_%d%d" % self.device.compute_capability()
        self._event_flags = 0 if profiling else drv.event_flags.DISABLE_TIMING
        self.profiling = profiling
        self._starts = {}   # id(end event) -> (start event, end event), when profiling
        with self.current():
            self.stream = drv.Stream()

    @contextmanager
    def current(self):
        self.context.push()
        try:
            yield
        finally:
            self.drv.Context.pop()

    def _record(self):
        event = self.drv.Event(self._event_flags)
        event.record(self.stream)
        return event

    def _recorded(self):
        """The event ending the command just enqueued (paired with its start event
        when commands are timed)."""
        event = self._record()
        if self.profiling:
            if len(self._starts) >= 4096:   # timings nobody asked for: drop the oldest
                del self._starts[next(iter(self._starts))]
            self._starts[id(event)] = (self._start, event)
        return event

    def _wait(self, wait):
        """Every command starts here: the stream waits for ``wait``, then (when timing)
        records the command's start."""
        for event in wait or ():
            self.stream.wait_for_event(event)
        if self.profiling:
            self._start = self._record()

    # memory -------------------------------------------------------------------------
    def alloc(self, nbytes):
        with self.current():
            try:
                return self.drv.mem_alloc(nbytes)
            except self.drv.MemoryError as exc:
                raise MemoryError(str(exc)) from exc

    def release(self, handle):
        with self.current():
            handle.free()

    def write(self, handle, offset, host, wait):
        with self.current():
            self._wait(wait)
            self.drv.memcpy_htod_async(int(handle) + offset, host, self.stream)
            return self._recorded()

    def read(self, host, handle, offset, wait):
        with self.current():
            self._wait(wait)
            self.drv.memcpy_dtoh_async(host, int(handle) + offset, self.stream)
            return self._recorded()

    def copy(self, dst, dst_offset, src, src_offset, nbytes, src_driver, wait):
        with self.current():
            self._wait(wait)
            if src_driver is self:
                self.drv.memcpy_dtod_async(int(dst) + dst_offset, int(src) + src_offset, nbytes,
                                           self.stream)
            else:
                self.drv.memcpy_peer_async(int(dst) + dst_offset, int(src) + src_offset, nbytes,
                                           self.context, src_driver.context, self.stream)
            return self._recorded()

    def fill_zero(self, handle, offset, nbytes, wait):
        with self.current():
            self._wait(wait)
            self.drv.memset_d8_async(int(handle) + offset, 0, nbytes, self.stream)
            return self._recorded()

    # programs -----------------------------------------------------------------------
    def build(self, source, options):
        """Compile ``source`` with nvcc to a cubin; returns (module, a function giving
        the cubin)."""
        from pycuda.compiler import compile as nvcc_compile

        try:
            cubin = nvcc_compile(source, options=list(options), arch=self.arch, no_extern_c=True,
                                 cache_dir=False)
        except self.drv.CompileError as exc:
            raise BuildError("cuda", self.info.describe(), options, exc.stderr or str(exc), source) from None
        return self.load(cubin, options), lambda: cubin

    def load(self, binary, options):
        with self.current():
            return self.drv.module_from_buffer(binary)

    def get_kernel(self, program, name):
        return program.get_function(name)

    def max_group_size(self, kernel):
        return kernel.get_attribute(self.drv.function_attribute.MAX_THREADS_PER_BLOCK)

    def launch(self, kernel, n_groups, group_size, args, local_bytes, wait):
        args = [np.uintp(int(a)) if isinstance(a, self.drv.DeviceAllocation) else a for a in args]
        with self.current():
            self._wait(wait)
            try:
                kernel(*args, block=_dim3(group_size), grid=_dim3(n_groups), stream=self.stream,
                       shared=local_bytes)
            except self.drv.Error as exc:
                raise LaunchError(f"launch with {n_groups} groups of {group_size} on "
                                  f"{self.info.name} failed: {exc}") from exc
            return self._recorded()

    # events -------------------------------------------------------------------------
    def can_wait_on(self, other):
        return getattr(other, "api", None) == "cuda"

    @staticmethod
    def event_done(event):
        return event.query()

    @staticmethod
    def event_wait(event):
        event.synchronize()

    def event_seconds(self, event):
        pair = self._starts.pop(id(event), None)
        if pair is None:
            return None
        start, end = pair
        return end.time_since(start) * 1e-3   # milliseconds

    def synchronize(self):
        self.stream.synchronize()

    def toolchain(self):
        from .nvcc import nvcc_version
        return f"nvcc {nvcc_version()} {self.arch}"
