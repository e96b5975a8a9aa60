"""Queues and events: async enqueues, ordering across queues and contexts, host memory
kept alive during uploads, and sync_launch."""
import gc

import numpy as np
import pytest

from clgraph import config
from clgraph.backends import DeviceError, Event, LaunchError, empty, get_context, to_device
from conftest import needs_two_opencl

# Fills out[i] = value after a busy loop, so the work is still running when the host
# enqueues what depends on it. 0 * acc keeps the loop (it is not folded without
# fast-math, since acc could be infinite).
SPIN_FILL = """
KERNEL void spin_fill(GLOBAL_MEM char *out_base, ga_ssize out_off, ga_float value, ga_int spins)
{
    GLOBAL_MEM ga_float *out = (GLOBAL_MEM ga_float *)(out_base + out_off);
    ga_float acc = 0.0f;
    for (ga_int k = 0; k < spins; k++)
        acc = acc * 0.5f + (ga_float)k;
    out[GLOBAL_ID_0] = value + 0.0f * acc;
}
"""
N = 4096
SPINS = 20000


def spin_fill(context, out, value, spins=SPINS):
    kernel = context.build(SPIN_FILL).kernel("spin_fill")
    group = min(64, kernel.max_group_size)
    return kernel(N // group, group, out, np.float32(value), np.int32(spins), outputs=[out])


def test_every_operation_returns_an_event(kernel_context):
    a = empty(N, "float32", kernel_context)
    event = spin_fill(kernel_context, a, 3.0)
    assert isinstance(event, Event) and event.context is kernel_context
    host = np.empty(N, np.float32)
    read = kernel_context.download(host, a.block, 0)
    read.wait()
    assert read.done() and np.all(host == 3.0)


def test_buffer_remembers_its_last_write_and_reads(kernel_context):
    a = empty(N, "float32", kernel_context)
    write = spin_fill(kernel_context, a, 1.0)
    assert a.block.write_event is write and a.block.read_events == []
    b = a.copy()
    assert a.block.read_events[-1].context is kernel_context
    assert b.block.write_event is not None and b.block.write_event is not write
    assert np.all(b.get() == 1.0)


def test_in_order_queue_orders_dependent_work(kernel_context):
    a = empty(N, "float32", kernel_context)
    spin_fill(kernel_context, a, 1.0)
    spin_fill(kernel_context, a, 2.0, spins=1)   # must not overtake the slow fill
    assert np.all(a.get() == 2.0)


@needs_two_opencl
def test_second_context_waits_for_the_first_contexts_write():
    first, second = get_context("opencl0:0"), get_context("opencl0:1")
    a = empty(N, "float32", first)
    write = spin_fill(first, a, 7.0)
    b = a.transfer(second)                 # enqueued on the second queue at once
    assert b.context is second
    assert np.all(b.get() == 7.0)
    assert write.done()
    assert a.block.read_events[-1].context is second   # the first context's next writer waits for it


@needs_two_opencl
def test_writer_on_one_context_waits_for_readers_on_another():
    first, second = get_context("opencl0:0"), get_context("opencl0:1")
    a = to_device(np.full(N, 5.0, np.float32), first)
    copies = [a.transfer(second) for _ in range(3)]
    spin_fill(first, a, 9.0, spins=1)      # a writer after foreign reads
    assert all(np.all(c.get() == 5.0) for c in copies)
    assert np.all(a.get() == 9.0)


def test_host_memory_of_an_upload_stays_alive_until_it_lands(kernel_context):
    data = np.random.default_rng(0).random(1 << 20).astype(np.float32)
    expected = data.copy()
    a = to_device(data, kernel_context)
    in_flight = [host for _, host in kernel_context._in_flight]
    del data
    gc.collect()
    assert np.array_equal(a.get(), expected)
    kernel_context.synchronize()
    assert kernel_context._in_flight == []
    assert len(in_flight) <= 1   # the upload's private host copy, while it was in flight


def test_sync_launch_waits_after_every_launch(kernel_context):
    a = empty(N, "float32", kernel_context)
    with config.change_flags(sync_launch=True):
        event = spin_fill(kernel_context, a, 4.0)
        assert event.done()
    assert np.all(a.get() == 4.0)


def test_bad_launch_geometry_names_the_kernel(kernel_context):
    a = empty(N, "float32", kernel_context)
    kernel = kernel_context.build(SPIN_FILL).kernel("spin_fill")
    too_big = kernel.max_group_size * 2
    with pytest.raises(LaunchError, match=f"spin_fill.*{too_big}"):
        kernel(1, too_big, a, np.float32(0), np.int32(1))
    spin_fill(kernel_context, a, 6.0, spins=1)   # the context still works
    assert np.all(a.get() == 6.0)


@needs_two_opencl
def test_argument_on_another_context_is_an_error_naming_both():
    first, second = get_context("opencl0:0"), get_context("opencl0:1")
    kernel = first.build(SPIN_FILL).kernel("spin_fill")
    foreign = empty(N, "float32", second)
    with pytest.raises(DeviceError, match="runs on context 'opencl0:0' but its argument 0 lives on "
                                          "context 'opencl0:1'"):
        kernel(N // 64, 64, foreign, np.float32(0), np.int32(1))


def test_work_still_queued_at_exit_is_waited_for(kernel_context):
    from clgraph.backends import registry
    from conftest import run_python

    a = empty(N, "float32", kernel_context)
    event = spin_fill(kernel_context, a, 5.0)
    registry.finish_all()
    assert event.done()
    # a process that used a context synchronizes it as it exits
    code = """
from clgraph.backends import get_context
from clgraph.backends.context import Context
get_context()
Context.synchronize = lambda self: print('synchronized', self.name)
"""
    result = run_python(code)
    assert result.returncode == 0 and "synchronized" in result.stdout, result.stderr


def test_values_kept_while_a_buffer_is_unwritten(kernel_context):
    import weakref

    from clgraph.backends import while_unwritten

    a = to_device(np.arange(N, dtype=np.float32), kernel_context)
    calls = []

    def total():
        calls.append(1)
        return float(a.get().sum())

    first = total()
    calls.clear()
    assert while_unwritten(a, "sum", total) == first and while_unwritten(a, "sum", total) == first
    assert len(calls) == 1                                     # the same data: computed once
    while_unwritten(a[2:], "sum", total)
    assert len(calls) == 2                                     # another view, another value
    spin_fill(kernel_context, a, 1.0, spins=1)                 # a kernel writes the buffer
    assert while_unwritten(a, "sum", total) == N and len(calls) == 3   # computed again after it
    assert while_unwritten(a, "sum", total) == N and len(calls) == 3
    assert while_unwritten(a, "other", lambda: 5, keep=lambda value: False) == 5
    block = weakref.ref(a.block)
    del a
    assert block() is None   # the values kept do not keep the buffer alive
