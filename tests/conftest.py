"""Test set-up: two real PoCL devices, a private kernel cache, and fixtures that run a
test body on every present context (the numpy host, PoCL, CUDA when there is a GPU)."""
import os
import tempfile

# Before pyopencl or clgraph is imported: two PoCL devices for cross-context tests, and
# a kernel cache the tests own (shared by every test of the run, as a user's would be).
os.environ.setdefault("POCL_DEVICES", "pthread pthread")
os.environ.setdefault("CLGRAPH_FLAGS", "print_active_device=False,cache.dir="
                      + os.path.join(tempfile.mkdtemp(prefix="clgraph-test-cache-"), "cache"))

import pytest  # noqa: E402

from clgraph.backends import registry  # noqa: E402


def _present(api):
    return [d.name for d in registry.devices() if d.api == api and d.usable]


OPENCL_DEVICES = _present("opencl")
CUDA_DEVICES = _present("cuda")
DEVICE_NAMES = ["cpu"] + OPENCL_DEVICES[:1] + CUDA_DEVICES[:1]
KERNEL_DEVICE_NAMES = OPENCL_DEVICES[:1] + CUDA_DEVICES[:1]

needs_two_opencl = pytest.mark.skipif(len(OPENCL_DEVICES) < 2, reason="needs two OpenCL devices")


@pytest.fixture(params=DEVICE_NAMES)
def context(request):
    """A context of each present device (cpu, first OpenCL, first CUDA)."""
    return registry.get(request.param)


@pytest.fixture(params=KERNEL_DEVICE_NAMES)
def kernel_context(request):
    """A context of each present device that runs kernels."""
    return registry.get(request.param)


@pytest.fixture
def launched(monkeypatch):
    """The names of the kernels launched, in order."""
    names = []
    from clgraph.backends.context import Context

    launch = Context.launch

    def counted(context, kernel, *args, **kw):
        names.append(kernel.name)
        return launch(context, kernel, *args, **kw)

    monkeypatch.setattr(Context, "launch", counted)
    return names


def run_python(code, flags="", pocl_devices="pthread pthread", timeout=120):
    """Run ``code`` in a fresh interpreter with CLGRAPH_FLAGS extended by ``flags``."""
    import subprocess
    import sys

    env = dict(os.environ, POCL_DEVICES=pocl_devices)
    env["CLGRAPH_FLAGS"] = ",".join(filter(None, [os.environ["CLGRAPH_FLAGS"], flags]))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)


def pytest_sessionfinish(session, exitstatus):
    """The tests' profiles are checked by the tests; none is printed when the run exits."""
    from clgraph.compile import profiling

    profiling._profiles.clear()
