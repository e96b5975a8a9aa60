"""The per-context memory pool: best fit over device chunks, with split and coalesce.

Device allocations are slow and, on some drivers, synchronising; the pool asks the
driver for chunks and hands out 64-byte aligned blocks from them. Kernels take a buffer
as (handle, byte offset), so a block is simply a chunk plus an offset. Freed blocks
merge with free neighbours; chunks stay held until ``free_cache()``.
"""
import bisect

ALIGNMENT = 64
MIN_CHUNK_BYTES = 1 << 20    # small requests share a chunk of at least this size
MiB = 1 << 20


def _aligned(nbytes):
    return max(ALIGNMENT, -(-nbytes // ALIGNMENT) * ALIGNMENT)


def _size(nbytes):
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"


class Block:
    """A piece of device memory: ``handle`` + ``offset``, ``size`` bytes.

    It remembers the last event that wrote it and the events that read it since, so
    work on another queue or context waits for them. It returns itself to the pool when
    the last array using it goes away.
    """

    __slots__ = ("pool", "chunk", "offset", "size", "write_event", "read_events", "__weakref__")

    def __init__(self, pool, chunk, offset, size, events=()):
        self.pool = pool
        self.chunk = chunk
        self.offset = offset
        self.size = size
        self.write_event = None
        self.read_events = list(events)   # pending work of a previous owner

    @property
    def handle(self):
        return self.chunk.handle

    def pending_events(self):
        return ([self.write_event] if self.write_event is not None else []) + self.read_events

    def __del__(self):
        pool = self.pool
        if pool is not None:
            self.pool = None
            pool.release(self)


class _Chunk:
    __slots__ = ("handle", "size", "index", "free_starts", "free_ends", "used")

    def __init__(self, handle, size, index):
        self.handle = handle
        self.size = size
        self.index = index
        self.free_starts = {}   # offset -> (size, events of the block freed there)
        self.free_ends = {}     # end offset -> start offset
        self.used = 0


class PoolAllocator:
    """Best-fit pool of one context.

    ``context_name()`` names the owner in messages. ``raw_alloc(nbytes)`` /
    ``raw_free(handle)`` are the driver's; ``raw_alloc`` raises
    MemoryError when the device is out of memory. ``pool=False`` gives every block its
    own device allocation, freed at once (``allocator.preallocate < 0``). ``max_bytes``
    returns the current cap on held bytes (0: none). ``keep_event(event)`` tells which
    pending events of a freed block its next owner must still wait for.
    """

    def __init__(self, context_name, raw_alloc, raw_free, max_alloc_bytes, pool=True,
                 max_bytes=lambda: 0, keep_event=lambda event: True):
        self.context_name = context_name
        self._raw_alloc = raw_alloc
        self._raw_free = raw_free
        self.max_alloc_bytes = max_alloc_bytes
        self.pool = pool
        self._max_bytes = max_bytes
        self._keep_event = keep_event
        self._chunks = {}
        self._free = []          # sorted (size, chunk index, offset) of every free region
        self._next_index = 0
        self.held = 0
        self.in_use = 0
        self.peak = 0
        self.device_allocations = 0

    # public -------------------------------------------------------------------------
    def allocate(self, nbytes):
        size = _aligned(nbytes)
        if self.max_alloc_bytes and size > self.max_alloc_bytes:
            raise MemoryError(
                f"context {self.context_name()!r} cannot allocate {nbytes} bytes: the device's "
                f"largest single allocation is {self.max_alloc_bytes} bytes")
        found = self._take_free(size)
        if found is None:
            self._add_chunk(size)
            found = self._take_free(size)
        chunk, offset, events = found
        chunk.used += size
        self.in_use += size
        self.peak = max(self.peak, self.in_use)
        return Block(self, chunk, offset, size, events)

    def preallocate(self, nbytes):
        """Reserve ``nbytes`` at once, in chunks the device accepts."""
        while nbytes > 0:
            step = min(nbytes, self.max_alloc_bytes or nbytes)
            self._add_chunk(_aligned(step), exact=True)
            nbytes -= step

    def free_cache(self):
        """Give every completely free chunk back to the device; returns the bytes freed."""
        freed = 0
        for chunk in [c for c in self._chunks.values() if c.used == 0]:
            self._drop_chunk(chunk)
            freed += chunk.size
        return freed

    def reset_peak(self):
        """Start measuring the peak from the bytes in use now."""
        self.peak = self.in_use

    def stats(self):
        return {
            "held": self.held, "in_use": self.in_use, "peak": self.peak,
            "largest_free": self._free[-1][0] if self._free else 0,
            "device_allocations": self.device_allocations, "chunks": len(self._chunks),
        }

    def describe(self):
        s = self.stats()
        cap = self._max_bytes()
        return (f"pool holds {_size(s['held'])} in {s['chunks']} chunks, {_size(s['in_use'])} in use, "
                f"peak {_size(s['peak'])}, largest free block {_size(s['largest_free'])}, "
                f"allocator.max_bytes={cap or 'none'}")

    def release(self, block):
        chunk = block.chunk
        chunk.used -= block.size
        self.in_use -= block.size
        if not self.pool:
            self._drop_chunk(chunk)
            return
        offset, size = block.offset, block.size
        events = [e for e in block.pending_events() if self._keep_event(e)]
        start = chunk.free_ends.get(offset)
        if start is not None:                      # merge with the free region before
            prev_size, prev_events = self._remove_free(chunk, start)
            offset, size, events = start, size + prev_size, prev_events + events
        if offset + size in chunk.free_starts:     # merge with the free region after
            next_size, next_events = self._remove_free(chunk, offset + size)
            size, events = size + next_size, events + next_events
        self._insert_free(chunk, offset, size, events)

    # internals ----------------------------------------------------------------------
    def _take_free(self, size):
        i = bisect.bisect_left(self._free, (size, -1, -1))
        if i == len(self._free):
            return None
        _, index, offset = self._free[i]
        chunk = self._chunks[index]
        region, events = self._remove_free(chunk, offset)
        if region - size >= ALIGNMENT:
            self._insert_free(chunk, offset + size, region - size, events)
        return chunk, offset, events

    def _insert_free(self, chunk, offset, size, events):
        chunk.free_starts[offset] = (size, events)
        chunk.free_ends[offset + size] = offset
        bisect.insort(self._free, (size, chunk.index, offset))

    def _remove_free(self, chunk, offset):
        size, events = chunk.free_starts.pop(offset)
        del chunk.free_ends[offset + size]
        self._free.pop(bisect.bisect_left(self._free, (size, chunk.index, offset)))
        return size, events

    def _add_chunk(self, request, exact=False):
        """Get a chunk for ``request`` bytes; on failure free held chunks and retry once."""
        for attempt in (1, 2):
            size = request
            if self.pool and not exact:   # round small requests up to a shared chunk
                size = max(request, min(MIN_CHUNK_BYTES, self.max_alloc_bytes or MIN_CHUNK_BYTES))
            cap = self._max_bytes()
            if cap:                       # never round up past the cap
                room = max(cap - self.held, 0) // ALIGNMENT * ALIGNMENT
                size = max(request, min(size, room))
            try:
                if cap and self.held + size > cap:
                    raise MemoryError(f"allocator.max_bytes={cap} would be exceeded")
                handle = self._raw_alloc(size)
                break
            except MemoryError as exc:
                if attempt == 2 or not self.free_cache():
                    raise MemoryError(
                        f"out of memory on context {self.context_name()!r}: requested "
                        f"{_size(request)} ({exc}); {self.describe()}") from None
        chunk = _Chunk(handle, size, self._next_index)
        self._next_index += 1
        self._chunks[chunk.index] = chunk
        self.held += size
        self.device_allocations += 1
        self._insert_free(chunk, 0, size, [])

    def _drop_chunk(self, chunk):
        if chunk.free_starts:
            self._remove_free(chunk, 0)
        del self._chunks[chunk.index]
        self.held -= chunk.size
        self._raw_free(chunk.handle)
