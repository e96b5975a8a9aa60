"""The source document's exp benchmark ("testing Theano with GPU"), on the host and on
the device, with ``theano`` renamed ``clgraph``, ``sandbox...gpu_from_host(e)`` spelled
``e.transfer(x.context_name)``, and 5 iterations instead of 1000.

The document prints, for device=cpu:
    [Elemwise{exp,no_inplace}(<TensorType(float32, vector)>)]
    Result is [ 1.23178029  1.61879337  1.52278066 ...,  2.20771813  2.29967761  1.62323284]
    Used the cpu
and on a device a GpuElemwise followed by HostFromGpu(gpuarray), the same numbers within
float32 rounding, and 'Used the gpu'.
"""
import contextlib
import io
import time

import numpy
import pytest

import clgraph.tensor as T
from clgraph import Out, config, function, shared
from clgraph.backends import DeviceArray
from clgraph.compile.device_ops import HostFromGpu
from conftest import OPENCL_DEVICES, run_python

needs_opencl = pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")

VLEN = 10 * 30 * 768
ITERS = 5
FIRST = [1.23178029, 1.61879337, 1.52278066]
LAST = [2.20771813, 2.29967761, 1.62323284]


def seed_values():
    rng = numpy.random.RandomState(22)
    return numpy.asarray(rng.rand(VLEN), "float32")


def make_x():
    """The document's ``x = shared(numpy.asarray(rng.rand(vlen), config.floatX))``."""
    with config.change_flags(floatX="float32"):
        rng = numpy.random.RandomState(22)
        return shared(numpy.asarray(rng.rand(VLEN), config.floatX))


def used_the_cpu(f):
    """The document's second check (gpuarray section): a host Elemwise in the graph."""
    return numpy.any([isinstance(x.op, T.Elemwise) and ("Gpu" not in type(x.op).__name__)
                      for x in f.maker.fgraph.toposort()])


def run_program(f):
    """The document's loop and prints; returns (the last result, what was printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print(f.maker.fgraph.toposort())
        t0 = time.time()
        for _ in range(ITERS):
            r = f()
        t1 = time.time()
        print("Looping %d times took" % ITERS, t1 - t0, "seconds")
        print("Result is", numpy.asarray(r))
        print("Used the cpu" if used_the_cpu(f) else "Used the gpu")
    return r, out.getvalue()


CPU_PROGRAM = """
import numpy, time
from clgraph import function, config, shared
import clgraph.tensor as T

vlen = 10 * 30 * 768
iters = 5
rng = numpy.random.RandomState(22)
x = shared(numpy.asarray(rng.rand(vlen), config.floatX))
f = function([], T.exp(x))
print(f.maker.fgraph.toposort())
t0 = time.time()
for i in range(iters):
    r = f()
t1 = time.time()
print('Looping %d times took' % iters, t1 - t0, 'seconds')
print('Result is', r)
print('first', repr(r[:3].tolist()), 'last', repr(r[-3:].tolist()), 'type', type(r).__name__, r.dtype)
print('stored on', x.context_name)
if numpy.any([isinstance(x.op, T.Elemwise) for x in f.maker.fgraph.toposort()]):
    print('Used the cpu')
else:
    print('Used the gpu')
"""


def test_seed_exp_program_with_device_cpu():
    proc = run_python(CPU_PROGRAM, "device=cpu,floatX=float32")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "[Elemwise{exp,no_inplace}(<TensorType(float32, vector)>)]"
    assert lines[1].startswith("Looping 5 times took ") and lines[1].endswith(" seconds")
    assert lines[2].startswith("Result is [1.2317803 1.6187934 1.5227807 ... ")
    first, last = lines[3].split(" last ")
    numpy.testing.assert_allclose(eval(first.split(" ", 1)[1]), FIRST, rtol=1e-6)
    numpy.testing.assert_allclose(eval(last.split(" type ")[0]), LAST, rtol=1e-6)
    assert lines[3].endswith("type ndarray float32")
    assert lines[4] == "stored on cpu"
    assert lines[-1] == "Used the cpu"
    assert "Used the gpu" not in proc.stdout


@needs_opencl
def test_seed_exp_program_on_the_device():
    x = make_x()
    assert x.context_name == OPENCL_DEVICES[0] and str(x.type) == "TensorType(float32, vector)"
    f = function([], T.exp(x))
    nodes = f.maker.fgraph.toposort()
    assert str(nodes) == (f"[GpuElemwise{{exp,no_inplace}}(<DeviceTensorType<{OPENCL_DEVICES[0]}>"
                          "(float32, vector)>), HostFromGpu(gpuarray)(GpuElemwise{exp,no_inplace}.0)]")
    assert [type(n.op).__name__ for n in nodes] == ["GpuElemwise", "HostFromGpu"]
    r, printed = run_program(f)
    lines = printed.splitlines()
    assert lines[0].startswith("[GpuElemwise{exp,no_inplace}(")
    assert lines[2].startswith("Result is [1.2317803 1.6187934 1.5227807 ... ")
    assert lines[-1] == "Used the gpu"
    assert type(r) is numpy.ndarray and r.dtype == numpy.float32 and r.shape == (VLEN,)
    numpy.testing.assert_allclose(r[:3], FIRST, rtol=1e-6)
    numpy.testing.assert_allclose(r[-3:], LAST, rtol=1e-6)
    numpy.testing.assert_allclose(r, numpy.exp(seed_values()), rtol=2e-7 * 8)
    # the document's first check (CUDA section) also says gpu: no node is an Elemwise
    assert not numpy.any([isinstance(n.op, T.Elemwise) for n in nodes])


@needs_opencl
def test_seed_returning_the_device_allocated_result():
    x = make_x()
    f = function([], T.exp(x).transfer(x.context_name))
    nodes = f.maker.fgraph.toposort()
    assert str(nodes) == (f"[GpuElemwise{{exp,no_inplace}}(<DeviceTensorType<{OPENCL_DEVICES[0]}>"
                          "(float32, vector)>)]")
    assert not any(isinstance(n.op, HostFromGpu) for n in nodes)
    r, printed = run_program(f)
    assert isinstance(r, DeviceArray)
    assert r.context.name == OPENCL_DEVICES[0] and r.shape == (VLEN,) and r.dtype == numpy.float32
    assert printed.splitlines()[-1] == "Used the gpu"
    host = numpy.asarray(r)
    assert type(host) is numpy.ndarray and host.dtype == numpy.float32
    numpy.testing.assert_allclose(host[:3], FIRST, rtol=1e-6)
    numpy.testing.assert_allclose(host[-3:], LAST, rtol=1e-6)
    # the result is the caller's: a later call with a new value does not change it
    x.set_value(numpy.zeros(VLEN, "float32"))
    again = f()
    numpy.testing.assert_array_equal(numpy.asarray(again)[:3], [1, 1, 1])
    numpy.testing.assert_allclose(numpy.asarray(r)[:3], FIRST, rtol=1e-6)


@needs_opencl
def test_seed_device_result_of_the_shared_value_itself_is_a_copy():
    x = make_x()
    f = function([], x.transfer(x.context_name))
    r = f()
    stored = x.get_value(borrow=True, return_internal_type=True)
    assert isinstance(r, DeviceArray) and r.block is not stored.block
    x.set_value(numpy.ones(VLEN, "float32"))
    numpy.testing.assert_allclose(numpy.asarray(r)[:3], seed_values()[:3])


@needs_opencl
def test_seed_borrow_example_f1_and_f2():
    x = make_x()
    f1 = function([], T.exp(x).transfer(x.context_name))
    f2 = function([], Out(T.exp(x).transfer(x.context_name), borrow=True))
    t0 = time.time()
    for _ in range(ITERS):
        r1 = f1()
    no_borrow = time.time() - t0
    t0 = time.time()
    for _ in range(ITERS):
        r2 = f2()
    with_borrow = time.time() - t0
    assert no_borrow >= 0 and with_borrow >= 0
    for r in (r1, r2):
        assert isinstance(r, DeviceArray) and r.context.name == OPENCL_DEVICES[0]
        numpy.testing.assert_allclose(numpy.asarray(r)[:3], FIRST, rtol=1e-6)
        numpy.testing.assert_allclose(numpy.asarray(r)[-3:], LAST, rtol=1e-6)
    assert [str(n) for n in f2.maker.fgraph.toposort()] == [str(n) for n in f1.maker.fgraph.toposort()]
    assert not used_the_cpu(f1) and not used_the_cpu(f2)
    # a borrowed result still follows the shared value on the next call
    x.set_value(numpy.zeros(VLEN, "float32"))
    numpy.testing.assert_array_equal(numpy.asarray(f2())[:3], [1, 1, 1])


@needs_opencl
def test_seed_borrowed_host_result_of_the_device_function():
    x = make_x()
    f = function([], Out(T.exp(x), borrow=True))
    r = f()
    assert type(r) is numpy.ndarray
    numpy.testing.assert_allclose(r[:3], FIRST, rtol=1e-6)
    assert [type(n.op).__name__ for n in f.maker.fgraph.toposort()] == ["GpuElemwise", "HostFromGpu"]


@needs_opencl
@pytest.mark.parametrize("transfer", [False, True])
def test_seed_gpu_check_is_false_on_the_device_and_true_on_the_host(transfer):
    x = make_x()
    out = T.exp(x).transfer(x.context_name) if transfer else T.exp(x)
    assert not used_the_cpu(function([], out))
    host_x = shared(seed_values(), target="cpu")
    g = function([], T.exp(host_x))
    # host inputs: the exp still goes to the default device context
    assert not used_the_cpu(g)
    numpy.testing.assert_allclose(g()[:3], FIRST, rtol=1e-6)
    # the reference linker keeps the host Elemwise: the check says cpu
    assert used_the_cpu(function([], T.exp(x), mode="FAST_COMPILE"))
