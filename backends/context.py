"""A context: one device in use, with its driver, in-order queue, memory pool and programs.

Every enqueue returns an Event. Blocks of memory remember the last event that wrote
them and the events that read them since; work is ordered for free on the context's
own in-order queue, so only events of other queues are waited for: natively when the
driver can (same OpenCL platform, CUDA), on the host otherwise. Host memory of an
upload in flight is kept alive until the upload lands.

``recording()`` collects the events enqueued on every context while it is active, so a
caller (the VM, per node) can later read how long each command ran on its device.
"""
import sys
from contextlib import contextmanager

from clgraph.configdefaults import config

from .allocator import MiB, PoolAllocator
from .cuda import CUDADriver
from .errors import DeviceError, LaunchError
from .host import HostDriver
from .opencl import OpenCLDriver
from .program import ProgramCache

_DRIVERS = {"cpu": HostDriver, "opencl": OpenCLDriver, "cuda": CUDADriver}


class Event:
    """A point in a context's queue; ``raw`` is the driver's event (None: already done)."""

    __slots__ = ("context", "raw")

    def __init__(self, context, raw):
        self.context = context
        self.raw = raw

    def done(self):
        return self.raw is None or self.context.driver.event_done(self.raw)

    def wait(self):
        if self.raw is not None:
            self.context.driver.event_wait(self.raw)

    def seconds(self):
        """How long the command ran on its device (waits for it); 0.0 for work the host
        did at once, None when the context's queue does not time commands (the
        ``profile`` flag was off when it was created) or, on CUDA, when more than 4096
        newer commands were timed before this one was read (the VM reads after each call)."""
        if self.raw is None:
            return 0.0
        self.wait()
        return self.context.driver.event_seconds(self.raw)


_recorders = []   # lists collecting the events of active recording() blocks
_launch_tracers = []   # objects told of every launch, device copy and fill (a loop's step traced)


@contextmanager
def recording():
    """Within the block, every command enqueued on any context appends its Event to
    the list this yields."""
    events = []
    _recorders.append(events)
    try:
        yield events
    finally:
        _recorders.remove(events)


def preallocation_bytes(preallocate, device_bytes):
    """Theano's ``preallocate``: <=0 nothing, (0, 1] a fraction (at most 0.95), >1 MiB."""
    if preallocate <= 0:
        return 0
    if preallocate <= 1:
        return int(min(preallocate, 0.95) * device_bytes)
    return int(preallocate * MiB)


class Context:
    """One device in use. Several user names may map to it; ``name`` is the first,
    or the device's name if it has none."""

    def __init__(self, info):
        self.info = info
        self.names = []
        self.driver = _DRIVERS[info.api](info, profiling=config.profile)
        preallocate = config.allocator.preallocate
        self.allocator = PoolAllocator(
            lambda: self.name, self.driver.alloc, self.driver.release, info.max_alloc_bytes,
            pool=preallocate >= 0, max_bytes=lambda: config.allocator.max_bytes,
            keep_event=self._is_pending_elsewhere)
        nbytes = preallocation_bytes(preallocate, info.global_mem_bytes)
        if nbytes:
            if config.print_active_device:
                print(f"Preallocating {nbytes // MiB}/{info.global_mem_bytes // MiB} MiB "
                      f"({preallocate:g}) on {info.name}", file=sys.stderr)
            self.allocator.preallocate(nbytes)
        self.programs = ProgramCache(self)
        self._in_flight = []   # (event, host array) of transfers not known to have landed

    @property
    def name(self):
        return self.names[0] if self.names else self.info.name

    @property
    def api(self):
        return self.info.api

    @property
    def dialect(self):
        return self.driver.dialect

    def __repr__(self):
        return f"<Context {self.name!r} on {self.info.describe()}>"

    # dependencies -------------------------------------------------------------------
    def _is_pending_elsewhere(self, event):
        return event.context is not self and not event.done()

    def _wait_list(self, blocks, writing):
        """Raw events this queue must wait for before touching ``blocks``."""
        wait = []
        for block in blocks:
            events = block.pending_events() if writing else [block.write_event]
            for event in events:
                if event is None or event.context is self:
                    continue
                if self.driver.can_wait_on(event.context.driver):
                    wait.append(event.raw)
                else:
                    event.wait()
        return [raw for raw in wait if raw is not None]

    def _enqueue(self, operation, reads, writes, *args):
        """Run ``operation(*args, wait)`` after what it depends on; record its event."""
        wait = self._wait_list(reads, False) + self._wait_list(writes, True)
        event = Event(self, operation(*args, wait))
        for events in _recorders:
            events.append(event)
        for block in reads:
            block.read_events = [e for e in block.read_events if e.context is not self] + [event]
        for block in writes:
            block.write_event = event
            block.read_events = []
        return event

    def _keep_alive(self, event, host):
        self._in_flight = [(e, h) for e, h in self._in_flight if not e.done()]
        if event.raw is not None:
            self._in_flight.append((event, host))

    # operations ---------------------------------------------------------------------
    def allocate(self, nbytes):
        return self.allocator.allocate(nbytes)

    def upload(self, block, offset, host):
        """Copy the contiguous numpy array ``host`` into ``block`` at ``offset`` (async)."""
        event = self._enqueue(self.driver.write, [], [block], block.handle, block.offset + offset, host)
        self._keep_alive(event, host)
        return event

    def download(self, host, block, offset):
        """Copy from ``block`` at ``offset`` into the contiguous numpy array ``host`` (async)."""
        event = self._enqueue(self.driver.read, [block], [], host, block.handle, block.offset + offset)
        self._keep_alive(event, host)
        return event

    def copy(self, dst, dst_offset, src, src_offset, nbytes, src_context=None):
        """Device copy on this queue; ``src`` may live on another context of this API."""
        for tracer in _launch_tracers:
            tracer.copied(self, dst, dst_offset, src, src_offset, nbytes, src_context)
        src_driver = (src_context or self).driver
        return self._enqueue(self.driver.copy, [src], [dst], dst.handle, dst.offset + dst_offset,
                             src.handle, src.offset + src_offset, nbytes, src_driver)

    def fill_zero(self, block, offset, nbytes):
        for tracer in _launch_tracers:
            tracer.filled(self, block, offset, nbytes)
        return self._enqueue(self.driver.fill_zero, [], [block], block.handle, block.offset + offset, nbytes)

    def build(self, source, options=()):
        """The Program of ``source`` (without the header), from the caches if possible."""
        return self.programs.get(source, options)

    def launch(self, kernel, n_groups, group_size, args, outputs=None, local_bytes=0):
        """Enqueue ``kernel`` on (number of groups, group size); arrays go as (handle, offset).

        ``outputs`` are the arrays the kernel writes; None means every array argument.
        """
        n_groups = tuple(n_groups) if isinstance(n_groups, (tuple, list)) else (n_groups,)
        group_size = tuple(group_size) if isinstance(group_size, (tuple, list)) else (group_size,)
        raw_args, arrays = [], []
        for index, arg in enumerate(args):
            block = getattr(arg, "block", None)
            if block is None:
                raw_args.append(arg)
                continue
            if arg.context is not self:
                raise DeviceError(f"kernel {kernel.name} runs on context {self.name!r} but its "
                                  f"argument {index} lives on context {arg.context.name!r}; "
                                  "transfer it first")
            raw_args += [block.handle, arg.kernel_offset]
            arrays.append(arg)
        written = {id(a.block) for a in (arrays if outputs is None else outputs)}
        reads = [a.block for a in arrays if id(a.block) not in written]
        writes = list({id(a.block): a.block for a in arrays if id(a.block) in written}.values())
        for tracer in _launch_tracers:
            tracer.launched(self, kernel, n_groups, group_size, args, written, outputs is not None, local_bytes)
        return self.relaunch(kernel, n_groups, group_size, raw_args, reads, writes, local_bytes)

    def relaunch(self, kernel, n_groups, group_size, raw_args, reads, writes, local_bytes=0):
        """``launch`` with its arguments resolved: the raw arguments (tuples of group
        counts and sizes), the blocks read and those written."""
        event = self._enqueue(
            lambda *a: self.driver.launch(kernel.raw, *a), reads, writes,
            n_groups, group_size, raw_args, local_bytes)
        if config.sync_launch:
            try:
                event.wait()
            except Exception as exc:
                raise LaunchError(f"kernel {kernel.name} ({n_groups} groups of {group_size}) "
                                  f"failed on context {self.name!r}: {exc}") from exc
        return event

    def synchronize(self):
        self.driver.synchronize()
        self._in_flight.clear()
