"""The OpenCL driver: discovery and the primitive operations a context needs.

All devices of a platform share one ``cl.Context``, so buffers can be copied between
them on the device and a queue can wait on another device's events; each device gets
its own in-order queue. pyopencl is imported here only, lazily.
"""
import numpy as np

from .devices import ApiStatus, DeviceInfo
from .errors import BuildError, LaunchError

_platform_contexts = {}   # platform index -> cl.Context over all its devices

# Error codes that mean "the device has no memory for this request".
_OOM_CODES = {-4, -5, -6, -61}   # MEM_OBJECT_ALLOCATION_FAILURE, OUT_OF_RESOURCES, OUT_OF_HOST_MEMORY, INVALID_BUFFER_SIZE


def _import():
    import pyopencl as cl
    return cl


def discover():
    try:
        cl = _import()
    except ImportError as exc:
        return ApiStatus("opencl", [], False, f"pyopencl is not installed ({exc})")
    try:
        platforms = cl.get_platforms()
    except cl.Error as exc:
        return ApiStatus("opencl", [], False, f"no OpenCL driver (ICD) found: {exc}")
    devices = []
    for p_index, platform in enumerate(platforms):
        try:
            platform_devices = platform.get_devices()
        except cl.Error:   # a platform with no devices raises DEVICE_NOT_FOUND
            continue
        for d_index, dev in enumerate(platform_devices):
            devices.append(_device_info(cl, f"opencl{p_index}:{d_index}", platform, dev))
    if not devices:
        return ApiStatus("opencl", [], False, "OpenCL platforms found, but no devices")
    return ApiStatus("opencl", devices, True)


def _device_info(cl, name, platform, dev):
    kinds = [k for k in ("GPU", "CPU", "ACCELERATOR") if dev.type & getattr(cl.device_type, k)]
    extensions = dev.extensions.split()
    reasons = [why for ok, why in ((dev.available, "device reports it is not available"),
                                   (dev.compiler_available, "device has no OpenCL C compiler"))
               if not ok]
    return DeviceInfo(
        name=name, api="opencl", kind=kinds[0] if kinds else "OTHER",
        vendor=dev.vendor.strip(), model=dev.name.strip(),
        compute_units=dev.max_compute_units, global_mem_bytes=dev.global_mem_size,
        max_alloc_bytes=dev.max_mem_alloc_size, max_group_size=dev.max_work_group_size,
        fp64="cl_khr_fp64" in extensions, fp16="cl_khr_fp16" in extensions,
        driver_version=dev.driver_version, platform=platform.name.strip(), version=dev.version.strip(),
        preferred_float_vector_width=dev.preferred_vector_width_float,
        int64_atomics="cl_khr_int64_base_atomics" in extensions,
        usable=not reasons, reason="; ".join(reasons), handle=(platform, dev),
    )


class OpenCLDriver:
    """Primitive operations on one OpenCL device, through its in-order queue."""

    api = "opencl"
    dialect = "opencl"

    def __init__(self, info, profiling=False):
        cl = self.cl = _import()
        platform, self.device = info.handle
        key = platform.int_ptr
        if key not in _platform_contexts:
            _platform_contexts[key] = cl.Context(platform.get_devices())
        self.cl_context = _platform_contexts[key]
        props = cl.command_queue_properties.PROFILING_ENABLE if profiling else 0
        self.queue = cl.CommandQueue(self.cl_context, self.device, properties=props)
        self.profiling = profiling
        self.info = info
        self._typed = {}   # id -> kernel whose scalar argument dtypes are set (held: ids stay unique)

    # memory -------------------------------------------------------------------------
    def alloc(self, nbytes):
        cl = self.cl
        try:
            buf = cl.Buffer(self.cl_context, cl.mem_flags.READ_WRITE, nbytes)
            # Migrating forces the allocation now, so out-of-memory surfaces here and
            # not later inside some kernel.
            cl.enqueue_migrate_mem_objects(
                self.queue, [buf], flags=cl.mem_migration_flags.CONTENT_UNDEFINED)
            return buf
        except cl.Error as exc:
            if exc.code in _OOM_CODES:
                raise MemoryError(str(exc)) from exc
            raise

    def release(self, handle):
        handle.release()

    def write(self, handle, offset, host, wait):
        return self.cl.enqueue_copy(self.queue, handle, host, dst_offset=offset,
                                    is_blocking=False, wait_for=wait)

    def read(self, host, handle, offset, wait):
        return self.cl.enqueue_copy(self.queue, host, handle, src_offset=offset,
                                    is_blocking=False, wait_for=wait)

    def copy(self, dst, dst_offset, src, src_offset, nbytes, src_driver, wait):
        # Devices of one platform share the cl.Context: the runtime moves the data.
        return self.cl.enqueue_copy(self.queue, dst, src, byte_count=nbytes, src_offset=src_offset,
                                    dst_offset=dst_offset, wait_for=wait)

    def fill_zero(self, handle, offset, nbytes, wait):
        return self.cl.enqueue_fill_buffer(self.queue, handle, np.uint8(0), offset, nbytes,
                                           wait_for=wait)

    # programs -----------------------------------------------------------------------
    def build(self, source, options):
        """Compile ``source``; returns (program, a function giving its binary for the
        disk cache). PoCL compiles every kernel of a program again when asked for the
        binary, so the cache asks for it only when it saves, at exit."""
        cl = self.cl
        program = cl.Program(self.cl_context, source)
        try:
            program.build(options=list(options), devices=[self.device], cache_dir=False)
        except cl.Error as exc:
            log = program.get_build_info(self.device, cl.program_build_info.LOG)
            raise BuildError("opencl", self.info.describe(), options, log or str(exc), source) from None
        return program, lambda: program.get_info(cl.program_info.BINARIES)[0]

    def load(self, binary, options):
        program = self.cl.Program(self.cl_context, [self.device], [binary])
        return program.build(options=list(options), devices=[self.device])

    def get_kernel(self, program, name):
        return getattr(program, name)

    def max_group_size(self, kernel):
        return kernel.get_work_group_info(self.cl.kernel_work_group_info.WORK_GROUP_SIZE, self.device)

    def launch(self, kernel, n_groups, group_size, args, local_bytes, wait):
        cl = self.cl
        if local_bytes:
            args = list(args) + [cl.LocalMemory(local_bytes)]
        global_size = tuple(g * l for g, l in zip(n_groups, group_size))
        if id(kernel) not in self._typed:
            # Declared once, the scalar dtypes spare pyopencl inferring them at every call
            # (tens of microseconds per launch otherwise).
            kernel.set_scalar_arg_dtypes([None if isinstance(a, (cl.MemoryObjectHolder, cl.LocalMemory))
                                          else np.asarray(a).dtype for a in args])
            self._typed[id(kernel)] = kernel
        try:
            kernel.set_args(*args)
            return cl.enqueue_nd_range_kernel(self.queue, kernel, global_size, group_size,
                                              wait_for=wait)
        except cl.Error as exc:
            raise LaunchError(f"launch of {kernel.function_name} with {n_groups} groups of "
                              f"{group_size} on {self.info.name} failed: {exc}") from exc

    # events -------------------------------------------------------------------------
    def can_wait_on(self, other):
        """Whether this queue can wait on ``other``'s events without the host."""
        return getattr(other, "cl_context", None) is self.cl_context

    @staticmethod
    def event_done(event):
        return event.command_execution_status == 0   # CL_COMPLETE

    @staticmethod
    def event_wait(event):
        event.wait()

    def event_seconds(self, event):
        if not self.profiling:
            return None
        return (event.profile.end - event.profile.start) * 1e-9

    def synchronize(self):
        self.queue.finish()

    def toolchain(self):
        return f"pyopencl {self.cl.VERSION_TEXT}"
