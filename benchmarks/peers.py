"""clgraph side by side with the tools a user would pick instead, in one process.

Peers: clgraph on its default context (PoCL here), numpy, PyTensor (C backend and its
default mode), JAX jit on the CPU, and hand-written pyopencl kernels (the floor for
launch overhead and for elementwise kernels). Benchmarks:

  B1  the exp loop of the source documents: 1000 calls of exp(x), x of 230,400 floats,
      result returned to the host, and result kept on the device (synced at the end);
  B2  y = exp(-(a*a + b*b + 2*a*b)) * tanh(a) at N = 1e4, 1e6, 1e7, output kept on the
      device, plus clgraph's per-call overhead at 1e4 against bare pyopencl launches;
  B3  sum over all / axis 0 / axis 1 of a 4096x4096 matrix, result to the host;
  B4  1024x1024 matrix product, output kept on the device, in GFLOP/s.

float32 throughout; inputs live where each peer keeps data (clgraph/PyTensor shared
variables, JAX device arrays, pyopencl buffers). Every timed call waits for its result.
Times are medians after warm-up; ratios are time / numpy's time (below 1: faster).
Run: python benchmarks/peers.py [--quick]
"""
import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("JAX_PLATFORMS", "cpu")

NOT_INSTALLED = "not installed"


class Case:
    """One compiled computation: ``step()`` starts a call and returns its result,
    ``wait(result)`` blocks until that result is complete; ``graph`` describes what a
    compiler made of it."""

    def __init__(self, step, wait=None, to_host=np.asarray, graph=None):
        self.step = step
        self.wait = wait or (lambda result: result)
        self.to_host = to_host
        self.graph = graph

    def call(self):
        result = self.step()
        self.wait(result)
        return result


# peers ------------------------------------------------------------------------------
# Each takes (expression, arrays, keep_on_device, c_expression): expression(lib, *inputs)
# builds the computation with lib (numpy, clgraph.tensor, pytensor.tensor, jax.numpy);
# c_expression is the same elementwise computation in OpenCL C over x0, x1, ... for the
# hand-written kernels (None where there is none).

class NumpyPeer:
    name = "numpy"

    def case(self, expression, arrays, keep_on_device, c_expression):
        return Case(lambda: expression(np, *arrays))


class ClgraphPeer:
    name = "clgraph"

    def __init__(self):
        import clgraph
        import clgraph.tensor as T
        from clgraph.backends import get_context

        clgraph.config.floatX = "float32"
        self.clgraph, self.T, self.context = clgraph, T, get_context()

    def case(self, expression, arrays, keep_on_device, c_expression):
        inputs = [self.clgraph.shared(a) for a in arrays]
        output = expression(self.T, *inputs)
        if keep_on_device:
            output = output.transfer(inputs[0].context_name)
        fn = self.clgraph.function([], output)
        wait = (lambda result: result.sync()) if keep_on_device else None
        return Case(fn, wait, graph=self.describe(fn))

    def vector_width(self, node):
        """The float vector width of a GpuElemwise node's kernel here (0: scalar), or
        None for other nodes."""
        kernel = getattr(node.op, "kernel", None)
        width = getattr(kernel, "vector_width", None)
        return width(self.context.info) if callable(width) else None

    def exp_vector_width(self):
        """The vector width of clgraph's exp kernel here (0: none, or it failed)."""
        try:
            x = self.clgraph.shared(np.ones(16, np.float32))
            nodes = self.clgraph.function([], self.T.exp(x)).maker.fgraph.toposort()
        except Exception:   # a compiler mid-change must not stop the other peers
            return 0
        return next((w for w in map(self.vector_width, nodes) if w is not None), 0)

    def describe(self, fn):
        """The compiled graph's steps, those computed on the host marked."""
        from clgraph.compile.device_ops import DeviceOp

        steps = []
        for node in fn.maker.fgraph.toposort():
            label = str(node.op)
            width = self.vector_width(node)
            if width is not None:
                label += f" [float{width} vectors]" if width else " [one float per work-item]"
            if not isinstance(node.op, DeviceOp):
                label += " (HOST)"
            steps.append(label)
        return ", ".join(steps)


class PyTensorPeer:
    def __init__(self, c_backend):
        import pytensor
        from pytensor.compile.mode import Mode, get_default_mode
        import pytensor.tensor as pt

        self.pytensor, self.pt = pytensor, pt
        pytensor.config.floatX = "float32"   # float32 throughout: float constants too
        self.mode = Mode(linker="cvm") if c_backend else get_default_mode()
        self.name = "PyTensor C" if c_backend else "PyTensor default"

    def case(self, expression, arrays, keep_on_device, c_expression):
        inputs = [self.pytensor.shared(a) for a in arrays]   # the host is its device
        return Case(self.pytensor.function([], expression(self.pt, *inputs), mode=self.mode))


class JaxPeer:
    name = "JAX jit"

    def __init__(self):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp

    def case(self, expression, arrays, keep_on_device, c_expression):
        fn = self.jax.jit(lambda *xs: expression(self.jnp, *xs))
        inputs = [self.jax.device_put(a) for a in arrays]
        if keep_on_device:
            return Case(lambda: fn(*inputs), wait=lambda result: result.block_until_ready())
        return Case(lambda: np.asarray(fn(*inputs)))


class PyOpenCLPeer:
    """Hand-written kernels on clgraph's device: one work-item per float vector of the
    width clgraph's elementwise kernels use there (8 if they use none)."""

    name = "pyopencl"

    def __init__(self, device, width):
        import pyopencl as cl

        self.cl, self.width = cl, width or 8
        self.context = cl.Context([device])
        self.queue = cl.CommandQueue(self.context)

    def _buffer(self, array):
        flags = self.cl.mem_flags.READ_ONLY | self.cl.mem_flags.COPY_HOST_PTR
        return self.cl.Buffer(self.context, flags, hostbuf=array)

    def case(self, expression, arrays, keep_on_device, c_expression):
        if c_expression is None:
            return None
        cl, queue, width, n = self.cl, self.queue, self.width, arrays[0].size
        if n % width:
            raise ValueError(f"the hand-written kernel needs a size divisible by {width}, got {n}")
        vector = f"float{width}"
        params = "".join(f"__global const {vector} *in{k}, " for k in range(len(arrays)))
        loads = "".join(f"    const {vector} x{k} = in{k}[i];\n" for k in range(len(arrays)))
        source = (f"__kernel void elementwise({params}__global {vector} *out) {{\n"
                  f"    const size_t i = get_global_id(0);\n{loads}    out[i] = {c_expression};\n}}\n")
        kernel = cl.Program(self.context, source).build().elementwise
        inputs = [self._buffer(a) for a in arrays]
        out = cl.Buffer(self.context, cl.mem_flags.READ_WRITE, arrays[0].nbytes)

        def to_host(buffer):
            host = np.empty(arrays[0].shape, np.float32)
            cl.enqueue_copy(queue, host, buffer, is_blocking=True)
            return host

        def launch():
            kernel(queue, (n // width,), None, *inputs, out)
            return out

        if keep_on_device:
            return Case(launch, wait=lambda result: queue.finish(), to_host=to_host)
        return Case(lambda: to_host(launch()), to_host=lambda host: host)

    def empty_launch(self):
        """Enqueue of a kernel that does nothing, and finish: the launch floor."""
        kernel = self.cl.Program(self.context, "__kernel void nothing(__global float *y) {}").build().nothing
        out = self.cl.Buffer(self.context, self.cl.mem_flags.READ_WRITE, 4)
        return Case(lambda: kernel(self.queue, (1,), None, out), wait=lambda result: self.queue.finish())


# How each compiling peer is made (an ImportError: not installed), in table order.
PEER_MAKERS = {
    "clgraph": ClgraphPeer,
    "PyTensor C": lambda: PyTensorPeer(True),
    "PyTensor default": lambda: PyTensorPeer(False),
    "JAX jit": JaxPeer,
}


def adapted(name, peer, theano_like, jax_like):
    """A peer of load_peers as a benchmark's own peer: ``theano_like(name, library,
    tensor module, the clgraph peer or None, **function options)`` for clgraph and
    PyTensor, ``jax_like(peer)`` for JAX; a missing peer's reason as it is."""
    if isinstance(peer, str):
        return peer
    if isinstance(peer, ClgraphPeer):
        return theano_like(name, peer.clgraph, peer.T, peer)
    if isinstance(peer, PyTensorPeer):
        return theano_like(name, peer.pytensor, peer.pt, None, mode=peer.mode)
    return jax_like(peer)


def load_peers():
    """{name: peer, or the reason it is missing}, in table order."""
    peers = {"numpy": NumpyPeer()}
    for name, make in PEER_MAKERS.items():
        try:
            peers[name] = make()
        except ImportError:
            peers[name] = NOT_INSTALLED
    clgraph = peers["clgraph"]
    if isinstance(clgraph, str) or clgraph.context.api != "opencl":
        peers["pyopencl"] = "no OpenCL context"
    else:
        try:
            peers["pyopencl"] = PyOpenCLPeer(clgraph.context.driver.device, clgraph.exp_vector_width())
        except ImportError:
            peers["pyopencl"] = NOT_INSTALLED
    return peers


# timing -----------------------------------------------------------------------------

class PerCall:
    """Seconds per call (each call waited for), times ``scale``: calls are grouped so
    that each of ``repeat`` samples lasts about ``target_s``."""

    def __init__(self, target_s, repeat, scale=1.0):
        self.target_s, self.repeat, self.scale = target_s, repeat, scale

    def prepare(self, case):
        """Warm up; the number of calls per sample."""
        for _ in range(2):
            case.call()
        start = time.perf_counter()
        case.call()
        return max(1, int(self.target_s / max(time.perf_counter() - start, 1e-7)))

    def sample(self, case, number):
        start = time.perf_counter()
        for _ in range(number):
            case.call()
        return (time.perf_counter() - start) / number * self.scale


class Loop:
    """Seconds of ``calls`` calls in a row, waiting only for the last one (the source
    documents' loop), times ``scale``; after a warm-up of a tenth as many."""

    def __init__(self, calls, repeat, scale=1.0):
        self.calls, self.repeat, self.scale = calls, repeat, scale

    def prepare(self, case):
        for _ in range(max(1, self.calls // 10)):
            case.step()
        case.wait(case.step())

    def sample(self, case, _):
        start = time.perf_counter()
        for _ in range(self.calls):
            result = case.step()
        case.wait(result)
        return (time.perf_counter() - start) * self.scale


def measured(sampler, case):
    """The median of ``sampler``'s samples of ``case`` alone."""
    state = sampler.prepare(case)
    return statistics.median(sampler.sample(case, state) for _ in range(sampler.repeat))


# Pause before each sample: the threads of the case sampled before (OpenBLAS's, XLA's)
# spin a while after their work, on the cores the next case needs.
SETTLE_S = 0.2


def in_turns(sampler, cases):
    """{key: the median of ``sampler``'s samples of ``cases[key]``, or the exception one
    of its samples raised}, the samples taken in turns (sample 1 of every case, then
    sample 2...), pausing before each: a change in the machine's speed (runs here differ
    by 20% and more) reaches every case alike."""
    states, samples, failed = {}, {key: [] for key in cases}, {}
    for turn in range(sampler.repeat + 1):   # turn 0 warms each case up
        for key, case in cases.items():
            if key in failed:
                continue
            try:
                if turn:
                    time.sleep(SETTLE_S)
                    samples[key].append(sampler.sample(case, states[key]))
                else:
                    states[key] = sampler.prepare(case)
            except Exception as exc:   # that case is reported, the others still run
                failed[key] = exc
    return {key: failed.get(key) or statistics.median(samples[key]) for key in cases}


def show_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


class Benchmark:
    """Rows of one table: each row runs every peer on one case, the peers' samples taken
    in turns (in_turns); each peer's time is the median of its samples."""

    def __init__(self, title, peers, sampler, tolerance, show=show_time):
        self.title, self.peers, self.sampler, self.tolerance, self.show = title, peers, sampler, tolerance, show
        self.rows, self.notes, self.graphs = [], [], []

    def row(self, label, expression, arrays, keep_on_device, c_expression=None, reference=None):
        """Time every peer; a result that differs from ``reference`` is marked ≠."""
        cells, cases = {}, {}
        for name, peer in self.peers.items():
            if isinstance(peer, str):
                cells[name] = (None, peer)
                continue
            try:
                case = peer.case(expression, arrays, keep_on_device, c_expression)
                if case is None:
                    cells[name] = (None, "—")
                    continue
                result = case.call()
                close = reference is None or np.allclose(case.to_host(result), reference, **self.tolerance)
            except Exception as exc:   # a peer that fails is reported, the others still run
                self._failed(cells, name, label, exc)
                continue
            cases[name], cells[name] = case, (None, "" if close else " ≠")
            if not close:
                self.notes.append(f"{name}, {label}: result differs from numpy's beyond {self.tolerance}")
            if case.graph:
                self.graphs.append(f"{label}: {case.graph}")
        for name, seconds in in_turns(self.sampler, cases).items():
            if isinstance(seconds, Exception):
                self._failed(cells, name, label, seconds)
            else:
                cells[name] = (seconds, cells[name][1])
        self.rows.append((label, cells))
        return cells

    def _failed(self, cells, name, label, exc):
        cells[name] = (None, "failed")
        self.notes.append(f"{name}, {label}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")

    def print(self):
        names = list(self.peers)
        print(f"\n### {self.title}\n")
        print("| case | " + " | ".join(names) + " | clgraph / JAX |")
        print("|---" * (len(names) + 2) + "|")
        for label, cells in self.rows:
            base = cells["numpy"][0]
            shown = []
            for name in names:
                seconds, mark = cells[name]
                if seconds is None:
                    shown.append(mark)
                else:
                    ratio = f" ({seconds / base:.2f}x)" if base else ""
                    shown.append(f"{self.show(seconds)}{ratio}{mark}")
            clgraph, jax = cells.get("clgraph", (None,))[0], cells.get("JAX jit", (None,))[0]
            versus = f"{clgraph / jax:.2f}" if clgraph and jax else "—"
            print(f"| {label} | " + " | ".join(shown) + f" | {versus} |")
        if self.graphs:
            print("\nclgraph's compiled graphs (steps in order; HOST: computed by numpy on the host):\n")
            for line in self.graphs:
                print(f"- {line}")
        if self.notes:
            print("\nNotes:\n")
            for line in self.notes:
                print(f"- {line}")


# the benchmarks ---------------------------------------------------------------------

def fused(lib, a, b):
    return lib.exp(-(a * a + b * b + 2 * a * b)) * lib.tanh(a)


FUSED_C = "exp(-(x0 * x0 + x1 * x1 + 2.0f * x0 * x1)) * tanh(x0)"


def print_machine(peers):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start; "
          f"Python {platform.python_version()}")
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    print(f"numpy {np.__version__} ({blas.get('name', '?')} {blas.get('version', '')})")
    clgraph = peers["clgraph"]
    if not isinstance(clgraph, str):
        info = clgraph.context.info
        print(f"clgraph {clgraph.clgraph.__version__} on {info.describe()}; {info.version}; "
              f"{info.compute_units} compute units, preferred float vector width "
              f"{info.preferred_float_vector_width}; clgraph's exp kernel uses "
              + (f"float{width} vectors" if (width := clgraph.exp_vector_width()) else "one float per work-item"))
    for name in ("PyTensor C", "PyTensor default"):
        peer = peers[name]
        print(f"{name}: " + (peer if isinstance(peer, str) else
                             f"pytensor {peer.pytensor.__version__}, linker {type(peer.mode.linker).__name__}"))
    jax = peers["JAX jit"]
    print("JAX jit: " + (jax if isinstance(jax, str) else f"jax {jax.jax.__version__} on {jax.jax.devices()[0]}"))
    opencl = peers["pyopencl"]
    print("pyopencl: " + (opencl if isinstance(opencl, str) else
                          f"pyopencl {opencl.cl.VERSION_TEXT}, hand-written kernels on float{opencl.width} vectors"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repetitions (a smoke run)")
    args = parser.parse_args()
    calls, repeat, target = (100, 3, 0.03) if args.quick else (1000, 5, 0.2)
    rng = np.random.default_rng(22)
    peers = load_peers()
    print(f"command: python {' '.join(sys.argv)}")
    print_machine(peers)
    per_call = PerCall(target, repeat)

    x = rng.random(230_400, dtype=np.float32)
    b1 = Benchmark(f"B1: {calls} calls of exp(x), x of 230,400 float32 (total time of the loop)",
                   peers, Loop(calls, max(3, repeat - 2)), dict(rtol=1e-5))
    for keep_on_device in (False, True):
        b1.row("result on device" if keep_on_device else "result to host", lambda lib, x: lib.exp(x), [x],
               keep_on_device, "exp(x0)", np.exp(x))
    b1.print()

    b2 = Benchmark("B2: y = exp(-(a*a + b*b + 2*a*b)) * tanh(a), float32, output kept on the device "
                   "(time per call)", peers, per_call, dict(rtol=1e-4, atol=1e-6))
    for n in (10_000, 1_000_000, 10_000_000):
        a, b = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
        cells = b2.row(f"N=1e{round(np.log10(n))}", fused, [a, b], True, FUSED_C, fused(np, a.astype(np.float64), b))
        if n == 10_000:
            small = cells
    b2.print()
    opencl = peers["pyopencl"]
    if not isinstance(opencl, str) and small["clgraph"][0] and small["pyopencl"][0]:
        empty = measured(per_call, opencl.empty_launch())
        clgraph_s, kernel_s = small["clgraph"][0], small["pyopencl"][0]
        print("\nPer-call cost at N=1e4 (µs per call, each call waited for):\n")
        print("| what | µs |")
        print("|---|---|")
        print(f"| pyopencl: empty kernel, enqueue + finish | {empty * 1e6:.1f} |")
        print(f"| pyopencl: the fused kernel, enqueue + finish | {kernel_s * 1e6:.1f} |")
        print(f"| clgraph: the fused function, call + sync | {clgraph_s * 1e6:.1f} |")
        print(f"| clgraph overhead over the hand-written kernel | {(clgraph_s - kernel_s) * 1e6:.1f} |")
        print(f"| clgraph overhead over an empty launch | {(clgraph_s - empty) * 1e6:.1f} |")

    m = rng.random((4096, 4096), dtype=np.float32)
    b3 = Benchmark("B3: sums of a 4096x4096 float32 matrix, result to host (time per call)", peers, per_call,
                   dict(rtol=1e-3))
    for label, axis in (("sum all", None), ("sum axis 0", 0), ("sum axis 1", 1)):
        b3.row(label, lambda lib, m, axis=axis: m.sum(axis=axis), [m], False,
               reference=m.sum(axis=axis, dtype=np.float64))
    b3.print()
    del m

    n = 1024
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    flops = 2 * n ** 3
    b4 = Benchmark(f"B4: {n}x{n} float32 matrix product, output kept on the device (GFLOP/s)", peers, per_call,
                   dict(rtol=1e-3, atol=1e-2), show=lambda seconds: f"{flops / seconds / 1e9:.1f} GFLOP/s")
    b4.row("dot(a, b)", lambda lib, a, b: lib.dot(a, b), [a, b], True,
           reference=a.astype(np.float64) @ b.astype(np.float64))
    b4.print()
    print("\n(B4: ratios are time / numpy's time, so 2.00x is half numpy's GFLOP/s.)")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
