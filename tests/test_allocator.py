"""The per-context memory pool: best fit with split and coalesce, 64-byte alignment,
stats, free_cache, preallocation, the max_bytes cap and out-of-memory handling.

Pools here run over the real drivers of real contexts (numpy host, PoCL, CUDA)."""
import gc
import json
import re

import numpy as np
import pytest

from clgraph import config
from clgraph.backends import PoolAllocator, empty, registry, to_device
from clgraph.backends.allocator import ALIGNMENT, MIN_CHUNK_BYTES
from clgraph.backends.context import preallocation_bytes
from clgraph.backends.opencl import OpenCLDriver
from conftest import run_python

MiB = 1 << 20


def make_pool(context, **kwargs):
    return PoolAllocator(lambda: "t", context.driver.alloc, context.driver.release,
                         context.info.max_alloc_bytes, **kwargs)


def stats(pool, *keys):
    s = pool.stats()
    return tuple(s[k] for k in keys)


# the pool's logic, over real drivers -----------------------------------------------------

def test_blocks_are_64_byte_aligned_and_packed(context):
    pool = make_pool(context)
    a, b, c, d = pool.allocate(1), pool.allocate(65), pool.allocate(64), pool.allocate(0)
    assert ALIGNMENT == 64
    assert [(x.offset, x.size) for x in (a, b, c, d)] == [(0, 64), (64, 128), (192, 64), (256, 64)]
    assert a.chunk is b.chunk is c.chunk is d.chunk
    assert pool.stats() == {"held": MIN_CHUNK_BYTES, "in_use": 320, "peak": 320,
                            "largest_free": MIN_CHUNK_BYTES - 320, "device_allocations": 1,
                            "chunks": 1}


def test_blocks_do_not_overlap_on_the_device(context):
    pool = make_pool(context)
    blocks = [pool.allocate(100) for _ in range(3)]
    hosts = [np.full(25, i + 1, np.float32) for i in range(3)]
    for block, host in zip(blocks, hosts):
        context.upload(block, 0, host)
    for block, host in zip(blocks, hosts):
        out = np.empty(25, np.float32)
        context.download(out, block, 0).wait()
        np.testing.assert_array_equal(out, host)


def test_best_fit_and_split(context):
    pool = make_pool(context)
    a, b, c, d = pool.allocate(256), pool.allocate(64), pool.allocate(512), pool.allocate(64)
    assert [x.offset for x in (a, b, c, d)] == [0, 256, 320, 832]
    del a, c
    gc.collect()
    assert pool.stats()["in_use"] == 128
    small = pool.allocate(200)           # 256: the exact hole at 0, not the 512 one
    assert (small.offset, small.size) == (0, 256)
    mid = pool.allocate(300)             # 320 out of the 512 hole, which splits
    assert (mid.offset, mid.size) == (320, 320)
    rest = pool.allocate(192)            # the 192 left of that hole
    assert (rest.offset, rest.size) == (640, 192)
    tail = pool.allocate(64)             # no hole left before d: the chunk's tail
    assert tail.offset == 896
    assert stats(pool, "device_allocations", "chunks") == (1, 1)


def test_freed_blocks_coalesce_with_both_neighbours(context):
    pool = make_pool(context)
    x, y, z, w = (pool.allocate(64) for _ in range(4))
    assert [v.offset for v in (x, y, z, w)] == [0, 64, 128, 192]
    del x, z
    gc.collect()
    assert pool.stats()["largest_free"] == MIN_CHUNK_BYTES - 256
    del y                                 # merges with x before and z after
    gc.collect()
    merged = pool.allocate(192)
    assert (merged.offset, merged.size) == (0, 192)
    del merged, w                         # everything free: one region, the whole chunk
    gc.collect()
    assert stats(pool, "in_use", "largest_free", "held") == (0, MIN_CHUNK_BYTES, MIN_CHUNK_BYTES)
    whole = pool.allocate(MIN_CHUNK_BYTES)
    assert whole.offset == 0 and pool.stats()["device_allocations"] == 1


def test_freed_memory_is_reused_without_a_device_allocation(context):
    pool = make_pool(context)
    first = pool.allocate(1000)
    offset = first.offset
    del first
    gc.collect()
    for _ in range(10):
        again = pool.allocate(1000)
        assert again.offset == offset
        del again
    assert stats(pool, "device_allocations", "in_use", "peak") == (1, 0, 1024)


def test_large_requests_get_their_own_chunk_and_free_cache_drops_free_chunks(context):
    pool = make_pool(context)
    small = pool.allocate(64)
    big = pool.allocate(2 * MiB + 1)
    assert big.chunk is not small.chunk and big.offset == 0
    assert stats(pool, "held", "device_allocations", "chunks") == (3 * MiB + 64, 2, 2)
    assert pool.free_cache() == 0            # both chunks are in use
    del big
    gc.collect()
    assert pool.stats()["held"] == 3 * MiB + 64   # freed, but the pool keeps it
    assert pool.free_cache() == 2 * MiB + 64      # only the fully free chunk
    assert stats(pool, "held", "chunks", "in_use") == (MiB, 1, 64)
    assert pool.stats()["largest_free"] == MiB - 64
    del small
    gc.collect()
    assert pool.free_cache() == MiB
    assert pool.stats() == {"held": 0, "in_use": 0, "peak": 2 * MiB + 64 + 64, "largest_free": 0,
                            "device_allocations": 2, "chunks": 0}
    again = pool.allocate(10)                # the pool still works after emptying
    assert again.offset == 0 and pool.stats()["device_allocations"] == 3


def test_peak_and_in_use(context):
    pool = make_pool(context)
    blocks = [pool.allocate(1000) for _ in range(3)]
    assert stats(pool, "in_use", "peak") == (3 * 1024, 3 * 1024)
    blocks.pop()
    gc.collect()
    assert stats(pool, "in_use", "peak") == (2 * 1024, 3 * 1024)
    blocks.clear()
    gc.collect()
    one = pool.allocate(64)
    assert stats(pool, "in_use", "peak") == (64, 3 * 1024)
    del one


def test_without_a_pool_every_block_is_its_own_allocation_freed_at_once(context):
    pool = make_pool(context, pool=False)
    a = pool.allocate(100)
    b = pool.allocate(100)
    assert a.chunk is not b.chunk and a.offset == b.offset == 0
    assert stats(pool, "held", "in_use", "device_allocations", "chunks") == (256, 256, 2, 2)
    del a
    gc.collect()
    assert stats(pool, "held", "in_use", "device_allocations", "chunks") == (128, 128, 2, 1)
    del b
    gc.collect()
    assert stats(pool, "held", "in_use", "chunks") == (0, 0, 0)
    c = pool.allocate(100)
    assert pool.stats()["device_allocations"] == 3     # no reuse
    del c


def test_preallocate_reserves_at_once(context):
    pool = make_pool(context)
    pool.preallocate(8 * MiB)
    assert stats(pool, "held", "device_allocations", "chunks", "in_use") == (8 * MiB, 1, 1, 0)
    blocks = [pool.allocate(2 * MiB - 100) for _ in range(3)] + [pool.allocate(1000)]
    assert stats(pool, "held", "device_allocations") == (8 * MiB, 1)
    assert all(b.chunk is blocks[0].chunk for b in blocks)
    odd = make_pool(context)
    odd.preallocate(1000)                 # rounded up to the alignment
    assert odd.stats()["held"] == 1024


def test_preallocate_splits_into_chunks_the_device_accepts(context):
    pool = PoolAllocator(lambda: "t", context.driver.alloc, context.driver.release, 3 * MiB)
    pool.preallocate(8 * MiB)
    assert stats(pool, "held", "device_allocations", "chunks") == (8 * MiB, 3, 3)
    assert pool.stats()["largest_free"] == 3 * MiB


# the pools of real contexts ---------------------------------------------------------------

def test_context_pool_reuses_freed_memory(context):
    allocator = context.allocator
    gc.collect()
    a = empty(1000, "float32", context)
    assert a.block.pool is allocator and a.block.offset % 64 == 0 and a.kernel_offset % 64 == 0
    del a
    gc.collect()
    before = allocator.stats()
    for i in range(50):
        a = to_device(np.full(1000, i, np.float32), context)
        assert a.get()[0] == i
        del a
    after = allocator.stats()
    assert after["device_allocations"] == before["device_allocations"]
    assert after["in_use"] <= before["in_use"]


# the max_bytes cap and out of memory --------------------------------------------------

def test_request_above_the_cap_names_context_request_and_pool_state(context):
    pool = PoolAllocator(lambda: "capped", context.driver.alloc, context.driver.release,
                         context.info.max_alloc_bytes, max_bytes=lambda: config.allocator.max_bytes)
    keep = pool.allocate(1000)
    with config.change_flags({"allocator.max_bytes": 4 * MiB}):
        with pytest.raises(MemoryError) as info:
            pool.allocate(5 * MiB)
        message = str(info.value)
        assert message.startswith("out of memory on context 'capped': requested 5.0 MiB")
        assert "allocator.max_bytes=4194304 would be exceeded" in message
        assert ("pool holds 1.0 MiB in 1 chunks, 1.0 KiB in use, peak 1.0 KiB, largest free block "
                "1023.0 KiB, allocator.max_bytes=4194304") in message
        small = pool.allocate(2000)            # still usable
        assert small.chunk is keep.chunk and small.offset == 1024
    assert pool.allocate(5 * MiB).size == 5 * MiB    # cap lifted


def test_full_cap_frees_held_chunks_and_retries(context):
    pool = PoolAllocator(lambda: "capped", context.driver.alloc, context.driver.release,
                         context.info.max_alloc_bytes, max_bytes=lambda: config.allocator.max_bytes)
    with config.change_flags({"allocator.max_bytes": 4 * MiB}):
        blocks = [pool.allocate(MiB) for _ in range(4)]
        assert stats(pool, "held", "device_allocations", "chunks") == (4 * MiB, 4, 4)
        with pytest.raises(MemoryError, match="requested 64 B"):
            pool.allocate(1)                  # nothing is free: freeing the cache cannot help
        assert stats(pool, "held", "in_use") == (4 * MiB, 4 * MiB)
        blocks.clear()
        gc.collect()
        assert stats(pool, "held", "in_use") == (4 * MiB, 0)
        two = pool.allocate(2 * MiB)          # fits only once the free chunks are given back
        assert two.size == 2 * MiB and two.offset == 0
        assert stats(pool, "held", "device_allocations", "chunks", "in_use") == (2 * MiB, 5, 1, 2 * MiB)


def capped_pool(context):
    return PoolAllocator(lambda: "capped", context.driver.alloc, context.driver.release,
                         context.info.max_alloc_bytes, max_bytes=lambda: config.allocator.max_bytes)


def test_cap_rounds_a_shared_chunk_down_to_what_is_left(context):
    pool = capped_pool(context)
    with config.change_flags({"allocator.max_bytes": 1024}):
        a = pool.allocate(100)
        assert stats(pool, "held", "chunks") == (1024, 1)   # not a whole 1 MiB chunk
        b = pool.allocate(896)
        assert stats(pool, "held", "chunks", "in_use") == (1024, 1, 1024) and b.offset == 128
        with pytest.raises(MemoryError, match="requested 64 B"):
            pool.allocate(1)
        del a, b


def test_cap_that_is_not_a_multiple_of_the_alignment_still_serves_what_fits(context):
    # 128 bytes fit under a 1000-byte cap; the shared chunk must not be rounded up past it.
    pool = capped_pool(context)
    with config.change_flags({"allocator.max_bytes": 1000}):
        a = pool.allocate(100)
        assert a.size == 128 and pool.stats()["held"] <= 1000


def test_context_allocator_cap_error_and_recovery(context):
    allocator = context.allocator
    host = np.arange(1000, dtype=np.float32)
    old = to_device(host, context)
    gc.collect()
    cap = allocator.held + 4 * MiB
    with config.change_flags({"allocator.max_bytes": cap}):
        with pytest.raises(MemoryError) as info:
            empty(cap // 4 + MiB, "float32", context)
        message = str(info.value)
        assert message.startswith(f"out of memory on context {context.name!r}: requested ")
        assert re.search(r"requested \d+\.\d MiB \(allocator\.max_bytes=\d+ would be exceeded\)", message)
        assert re.search(r"pool holds .* in \d+ chunks, .* in use, peak .*, largest free block .*, "
                         rf"allocator\.max_bytes={cap}$", message)
        # the pool stays usable, and what it held before is intact
        small = to_device(np.ones(10, np.float32), context)
        np.testing.assert_array_equal(small.get(), np.ones(10, np.float32))
        np.testing.assert_array_equal(old.get(), host)
        # fill the cap, free it all, then a request that fits only after free_cache
        arrays = [to_device(np.full(MiB // 4, i, np.float32), context) for i in range(3)]
        assert [a.get()[-1] for a in arrays] == [0, 1, 2]
        assert allocator.held <= cap
        del arrays
        gc.collect()
        two = to_device(np.full(MiB // 2, 7, np.float32), context)
        assert allocator.held <= cap
        np.testing.assert_array_equal(two.get()[::1000], 7)
        np.testing.assert_array_equal(old.get(), host)


def test_request_above_the_largest_single_allocation(kernel_context):
    largest = kernel_context.info.max_alloc_bytes
    with pytest.raises(MemoryError, match=re.escape(
            f"context {kernel_context.name!r} cannot allocate {largest + 1} bytes: the device's "
            f"largest single allocation is {largest} bytes")):
        empty(largest + 1, "uint8", kernel_context)
    before = kernel_context.allocator.stats()["device_allocations"]
    assert empty(100, "uint8", kernel_context).size == 100
    assert kernel_context.allocator.stats()["device_allocations"] - before <= 1


def test_opencl_driver_refusal_is_a_memory_error():
    context = registry.get("opencl0:0")
    assert isinstance(context.driver, OpenCLDriver)
    too_big = context.info.max_alloc_bytes * 2
    with pytest.raises(MemoryError):
        context.driver.alloc(too_big)
    pool = PoolAllocator(lambda: "nolimit", context.driver.alloc, context.driver.release, 0)
    keep = pool.allocate(100)
    with pytest.raises(MemoryError, match=re.escape(
            f"out of memory on context 'nolimit': requested {too_big / (1 << 30):.1f} GiB (")
            + ".*; pool holds 1.0 MiB in 1 chunks, 128 B in use"):
        pool.allocate(too_big)
    assert pool.stats()["held"] == MiB              # the chunk in use was not dropped
    again = pool.allocate(100)
    assert again.chunk is keep.chunk


# preallocate ------------------------------------------------------------------------------

@pytest.mark.parametrize("preallocate, expected", [
    (-1, 0), (0, 0), (0.5, 500_000_000), (1.0, 950_000_000), (2.0, 2 * MiB), (64, 64 * MiB),
    (1.5, int(1.5 * MiB)),
])
def test_preallocation_bytes_has_theanos_meaning(preallocate, expected):
    assert preallocation_bytes(preallocate, 1_000_000_000) == expected


_SHOW_POOL = """
import gc, json
import numpy as np
from clgraph.backends import registry, empty
ctx = registry.get()
first = dict(ctx.allocator.stats())
a = empty(1000, "float32")
during = dict(ctx.allocator.stats())
del a
gc.collect()
print(json.dumps([ctx.name, first, during, dict(ctx.allocator.stats())]))
"""


def test_context_preallocates_megabytes():
    done = run_python(_SHOW_POOL, "allocator.preallocate=4,print_active_device=False")
    assert done.returncode == 0, done.stderr
    name, first, during, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert name == "opencl0:0"
    assert first["held"] == 4 * MiB and first["device_allocations"] == 1 and first["in_use"] == 0
    assert during["device_allocations"] == 1 and during["in_use"] == 4032
    assert after["held"] == 4 * MiB and after["in_use"] == 0


def test_context_without_a_pool_releases_freed_memory():
    done = run_python(_SHOW_POOL, "allocator.preallocate=-1,print_active_device=False")
    assert done.returncode == 0, done.stderr
    name, first, during, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert first["held"] == 0 and first["device_allocations"] == 0
    assert during["held"] == 4032 and during["device_allocations"] == 1
    assert after["held"] == 0 and after["in_use"] == 0
