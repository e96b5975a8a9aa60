"""Training benchmarks: Theano's logistic-regression example, clgraph beside its peers.

The model is the seed program of Theano's documentation, in float32: 400 samples of 784
features, p = 1 / (1 + exp(-x·w - b)), prediction = p > 0.5,
xent = -y·log(p) - (1 - y)·log(1 - p), cost = mean(xent) + 0.01·sum(w²), and one gradient
step of 0.1 on w and b; w starts from a standard normal draw, b from 0.

  B5  one training step, timed over 1000 steps: prediction and xent come back to the host
      and w, b are updated, for every peer. Twice: with the data passed at each call, as
      in the seed, and with the data kept where each peer keeps it (clgraph and PyTensor:
      shared variables given for x and y; JAX and pyopencl: device arrays). Peers:
      clgraph, PyTensor (C backend and its default mode), JAX jit on the CPU, a
      hand-written numpy step (forward, gradient, update), and the step as two
      hand-written pyopencl kernels on clgraph's device (the floor of any compiler that
      emits kernels for it there). Before timing, every peer trains for CHECK_STEPS steps
      from the same start and its weights are compared with a float64 numpy run.
  B7  compile time of the seed's training function: building the graph, compiling it and
      its first call, in a fresh interpreter (imports and device start-up excluded).
      Cold: empty caches (clgraph: its cache.dir and PoCL's own kernel cache; PyTensor:
      its base_compiledir); warm: a second interpreter on the caches the first one
      filled. A second clgraph row turns PoCL's cache off, to show clgraph's cache alone.
      JAX: jit + first call (it keeps no cache across processes unless asked to).

Times are medians after warm-up; ratios are time / numpy's time (below 1: faster).
Run: python benchmarks/training.py [--quick]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from peers import (
    PEER_MAKERS, Benchmark, Case, ClgraphPeer, Loop, adapted, load_peers, print_machine,
    show_time,
)

LEARNING_RATE = 0.1
REGULARISATION = 0.01
CHECK_STEPS = 20
# Weights after CHECK_STEPS steps agree with the float64 run within this (w is O(1)).
WEIGHT_TOLERANCE = 1e-4


class LogisticRegression:
    """The seed program's data and starting weights, float32."""

    def __init__(self, seed=0, samples=400, features=784):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((samples, features), dtype=np.float32)
        self.y = rng.integers(0, 2, samples).astype(np.float32)
        self.w0 = rng.standard_normal(features, dtype=np.float32)
        self.b0 = np.float32(0)

    @property
    def data(self):
        return [self.x, self.y]

    def reference_weights(self, steps):
        """w and b after ``steps`` hand-written steps in float64."""
        x, y = self.x.astype(np.float64), self.y.astype(np.float64)
        w, b = self.w0.astype(np.float64), np.float64(self.b0)
        for _ in range(steps):
            _, _, w, b = numpy_step(x, y, w, b)
        return w, b


class TrainingCase(Case):
    """A training step; ``weights()`` reads the current w and b back to the host."""

    def __init__(self, step, weights, graph=None):
        super().__init__(step, graph=graph)
        self.weights = weights


# the model, once per way of writing it -------------------------------------------------

def seed_training_graph(T, x, y, w, b):
    """The seed program in a Theano-like tensor module T: (outputs, updates)."""
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + REGULARISATION * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    return [prediction, xent], [(w, w - LEARNING_RATE * gw), (b, b - LEARNING_RATE * gb)]


def numpy_step(x, y, w, b):
    """One hand-written step in the dtype of its arguments: (prediction, xent, w, b)."""
    z = x @ w + b
    with np.errstate(over="ignore"):   # exp(-z) overflows to inf for z << 0, and p is 0 then
        p = 1 / (1 + np.exp(-z))
    xent = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
    dz = (p - y) / len(y)
    return (p > 0.5, xent, w - LEARNING_RATE * (x.T @ dz + 2 * REGULARISATION * w),
            b - LEARNING_RATE * dz.sum())


def jax_step(w, b, x, y):
    """The seed's step in JAX: (w, b, prediction, xent). log(p) and log(1 - p) are written
    as log_sigmoid(±z), the form PyTensor's rewrites give the seed's expression; written
    literally, 1 - p rounds to 0 in float32 for z > 17 and the gradient becomes NaN."""
    import jax

    def cost(w, b):
        z = x @ w + b
        xent = -y * jax.nn.log_sigmoid(z) - (1 - y) * jax.nn.log_sigmoid(-z)
        return xent.mean() + REGULARISATION * (w ** 2).sum(), (z, xent)

    (_, (z, xent)), (gw, gb) = jax.value_and_grad(cost, argnums=(0, 1), has_aux=True)(w, b)
    return w - LEARNING_RATE * gw, b - LEARNING_RATE * gb, jax.nn.sigmoid(z) > 0.5, xent


# training peers: peers.py's peers, asked for a training step --------------------------
# case(problem, arrays, data_on_device, c_expression) as Benchmark.row calls it; arrays
# are the data [x, y]; c_expression is unused (there is no hand-written kernel).

class NumpyTraining:
    name = "numpy"

    def case(self, problem, arrays, data_on_device, c_expression=None):
        x, y = arrays
        state = [problem.w0.copy(), problem.b0]

        def step():
            prediction, xent, *state[:] = numpy_step(x, y, *state)
            return prediction, xent

        return TrainingCase(step, weights=lambda: tuple(state))


class TheanoLikeTraining:
    """clgraph and PyTensor run the seed program as written: w and b shared, the data
    passed per call or given from shared variables."""

    def __init__(self, name, lib, tensor, describe=None, **function_options):
        self.name, self.lib, self.tensor, self.describe = name, lib, tensor, describe
        self.function_options = function_options

    def case(self, problem, arrays, data_on_device, c_expression=None):
        lib, T = self.lib, self.tensor
        x, y = T.fmatrix("x"), T.fvector("y")
        w, b = lib.shared(problem.w0.copy(), name="w"), lib.shared(problem.b0, name="b")
        outputs, updates = seed_training_graph(T, x, y, w, b)
        if data_on_device:
            givens = {x: lib.shared(arrays[0], name="data_x"), y: lib.shared(arrays[1], name="data_y")}
            train = step = lib.function([], outputs, updates=updates, givens=givens, **self.function_options)
        else:
            train = lib.function([x, y], outputs, updates=updates, **self.function_options)
            step = lambda: train(*arrays)   # noqa: E731
        return TrainingCase(step, weights=lambda: (np.asarray(w.get_value()), np.asarray(b.get_value())),
                            graph=self.describe(train) if self.describe else None)


class JaxTraining:
    name = "JAX jit"

    def __init__(self, peer):
        self.jax = peer.jax
        self.jax.devices()   # start the runtime here, outside any timing

    def case(self, problem, arrays, data_on_device, c_expression=None):
        jax = self.jax
        train = jax.jit(jax_step)   # a new jit per case: its first call compiles
        data = [jax.device_put(a) for a in arrays] if data_on_device else arrays
        state = [jax.device_put(problem.w0), jax.device_put(problem.b0)]

        def step():
            w, b, prediction, xent = train(*state, *data)
            state[:] = w, b
            return np.asarray(prediction), np.asarray(xent)

        return TrainingCase(step, weights=lambda: tuple(np.asarray(v) for v in state))


# The floor: the step as two hand-written kernels (forward with the loss and dz, then the
# update of w and b), each on float8 vectors, as a kernel generator at its best would emit.
PYOPENCL_STEP = """
float softplus(float t) { return fmax(t, 0.0f) + log1p(exp(-fabs(t))); }

__kernel void forward(__global const float8 *x, __global const float *y, __global const float8 *w,
                      __global const float *b, __global float *dz, __global float *xent,
                      __global char *prediction, int vectors, float inv_n)
{
    const int i = get_global_id(0);
    float8 acc = 0;
    for (int k = 0; k < vectors; ++k)
        acc += x[i * vectors + k] * w[k];
    const float z = acc.s0 + acc.s1 + acc.s2 + acc.s3 + acc.s4 + acc.s5 + acc.s6 + acc.s7 + b[0];
    const float p = 1.0f / (1.0f + exp(-z));
    prediction[i] = p > 0.5f;
    xent[i] = y[i] * softplus(-z) + (1.0f - y[i]) * softplus(z);
    dz[i] = (p - y[i]) * inv_n;
}

__kernel void update(__global const float8 *x, __global const float *dz, __global float8 *w,
                     __global float *b, int rows, int vectors, float lr, float decay)
{
    const int j = get_global_id(0);
    float8 g = 0;
    for (int i = 0; i < rows; ++i)
        g += x[i * vectors + j] * dz[i];
    w[j] -= lr * (g + decay * w[j]);
    if (j == 0) {
        float total = 0;
        for (int i = 0; i < rows; ++i)
            total += dz[i];
        b[0] -= lr * total;
    }
}
"""


class PyOpenCLTraining:
    """The step as two hand-written kernels on clgraph's OpenCL device (peers.py's
    pyopencl peer): what any compiler emitting kernels per step pays on this device."""

    name = "pyopencl"

    def __init__(self, peer):
        self.cl, self.context, self.queue = peer.cl, peer.context, peer.queue
        program = self.cl.Program(self.context, PYOPENCL_STEP).build()
        self.forward, self.update = program.forward, program.update
        self.forward.set_scalar_arg_dtypes([None] * 7 + [np.int32, np.float32])
        self.update.set_scalar_arg_dtypes([None] * 4 + [np.int32, np.int32, np.float32, np.float32])

    def case(self, problem, arrays, data_on_device, c_expression=None):
        cl, queue = self.cl, self.queue
        x, y = arrays
        rows, features = x.shape
        vectors = features // 8
        flags = cl.mem_flags

        def buffer(array):
            return cl.Buffer(self.context, flags.READ_WRITE | flags.COPY_HOST_PTR, hostbuf=array)

        x_d, y_d, w_d, b_d = buffer(x), buffer(y), buffer(problem.w0.copy()), buffer(np.array([problem.b0]))
        dz_d, xent_d = (cl.Buffer(self.context, flags.READ_WRITE, rows * 4) for _ in range(2))
        prediction_d = cl.Buffer(self.context, flags.READ_WRITE, rows)
        forward, update = self.forward, self.update

        def step():
            if not data_on_device:
                cl.enqueue_copy(queue, x_d, x, is_blocking=False)
                cl.enqueue_copy(queue, y_d, y, is_blocking=False)
            forward(queue, (rows,), None, x_d, y_d, w_d, b_d, dz_d, xent_d, prediction_d, vectors,
                    np.float32(1 / rows))
            update(queue, (vectors,), None, x_d, dz_d, w_d, b_d, rows, vectors, np.float32(LEARNING_RATE),
                   np.float32(2 * REGULARISATION))
            prediction, xent = np.empty(rows, np.bool_), np.empty(rows, np.float32)
            cl.enqueue_copy(queue, prediction, prediction_d, is_blocking=False)
            cl.enqueue_copy(queue, xent, xent_d, is_blocking=True)
            return prediction, xent

        def weights():
            w, b = np.empty_like(problem.w0), np.empty(1, np.float32)
            cl.enqueue_copy(queue, w, w_d)
            cl.enqueue_copy(queue, b, b_d, is_blocking=True)
            return w, b[0]

        return TrainingCase(step, weights=weights)


def training_peer(name, peer):
    """The training peer for one of peers.py's peers (or the reason it is missing)."""
    return adapted(name, peer, lambda name, lib, T, clgraph, **options: TheanoLikeTraining(
        name, lib, T, describe=clgraph.describe if clgraph else None, **options), JaxTraining)


def kernel_counts(peer):
    """clgraph's kernel builds so far: {"built": n, "disk": n, "memory": n}; {} for others."""
    return dict(peer.context.programs.counts) if isinstance(peer, ClgraphPeer) else {}


# B5: agreement and time per step -------------------------------------------------------

VARIANTS = ((False, "data passed per call"), (True, "data in shared variables"))


def check_agreement(peers, problem, steps):
    """Print how far each peer's weights are, after ``steps`` steps from the same start,
    from a float64 numpy run (max |difference| over w and b)."""
    w64, b64 = problem.reference_weights(steps)
    print(f"\n### B5 check: weights after {steps} steps against a float64 numpy run\n")
    print("| peer | " + " | ".join(label for _, label in VARIANTS) + " |")
    print("|---" * (len(VARIANTS) + 1) + "|")
    for name, peer in peers.items():
        cells = []
        for data_on_device, _ in VARIANTS:
            if isinstance(peer, str):
                cells.append(peer)
                continue
            try:
                case = peer.case(problem, problem.data, data_on_device)
                for _ in range(steps):
                    case.call()
                w, b = case.weights()
                error = max(np.max(np.abs(w - w64)), abs(float(b) - b64))
            except Exception as exc:   # a peer that fails is reported, the others still run
                cells.append(f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
                continue
            verdict = "agrees" if error <= WEIGHT_TOLERANCE else "DIFFERS"
            nans = int(np.isnan(w).sum() + np.isnan(b))
            cells.append(f"{error:.1e} ({verdict}" + (f", {nans} NaN weights)" if nans else ")"))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\n(agrees: within {WEIGHT_TOLERANCE:g}; w is of order 1.)")


def time_steps(peers, problem, steps, repeat):
    """B5: the Benchmark of both variants, µs per step."""
    per_step = Loop(steps, repeat, scale=1 / steps)
    b5 = Benchmark(f"B5: logistic-regression training step, {steps} steps, 400x784 float32, "
                   "prediction and xent to the host (time per step)",
                   peers, per_step, {}, show=lambda seconds: f"{seconds * 1e6:.0f} µs")
    for data_on_device, label in VARIANTS:
        b5.row(label, problem, problem.data, data_on_device)
    b5.print()
    return {label: {name: seconds for name, (seconds, _) in cells.items()} for label, cells in b5.rows}


# B7: compile time in fresh interpreters ------------------------------------------------

def first_call(name):
    """In a fresh interpreter: make the peer, then time graph + function + first call of
    the seed's training function; print the result as JSON."""
    peer = PEER_MAKERS[name]()
    trainer, problem = training_peer(name, peer), LogisticRegression()
    start = time.perf_counter()
    trainer.case(problem, problem.data, False).call()
    seconds = time.perf_counter() - start
    print(json.dumps(dict(seconds=seconds, kernels=kernel_counts(peer))))


def with_flags(variable, *settings):
    """``variable`` of the environment with ``settings`` appended (later settings win)."""
    return {variable: ",".join(filter(None, [os.environ.get(variable), *settings]))}


def clgraph_cache(cache_dir, pocl_cache=True):
    """The environment of a clgraph process whose kernel cache is in ``cache_dir``, and
    PoCL's own cache (the work-group functions PoCL generates at a kernel's first launch)
    there too, or off."""
    pocl = (dict(POCL_KERNEL_CACHE="1", POCL_CACHE_DIR=os.path.join(cache_dir, "pocl")) if pocl_cache
            else dict(POCL_KERNEL_CACHE="0"))
    return dict(os.environ, **pocl,
                **with_flags("CLGRAPH_FLAGS", "print_active_device=False", f"cache.dir={cache_dir}"))


def pytensor_cache(cache_dir):
    """The environment of a PyTensor process whose compiled modules (C and Numba) are kept
    in ``cache_dir``."""
    return dict(os.environ, **with_flags("PYTENSOR_FLAGS", f"base_compiledir={cache_dir}"))


# B7's rows: (label, peer, the environment of a process on a given cache directory, or
# None for a peer that keeps no cache across processes).
COMPILE_ROWS = [
    ("clgraph", "clgraph", clgraph_cache),
    ("clgraph, PoCL's own cache off", "clgraph", lambda cache_dir: clgraph_cache(cache_dir, pocl_cache=False)),
    ("PyTensor C", "PyTensor C", pytensor_cache),
    ("PyTensor default", "PyTensor default", pytensor_cache),
    ("JAX jit", "JAX jit", None),
]


def exit_status(returncode):
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def run_first_call(name, env):
    """The timing a fresh first-call process printed, with how it ended when not cleanly
    (a crash at exit, after the timing, leaves the timing valid)."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--first-call", name], env=env,
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        errors = done.stderr.strip().splitlines() or ["no output"]
        raise RuntimeError(f"the first-call process ended with {exit_status(done.returncode)} before "
                           f"printing its time: {errors[-1][:200]}")
    result = json.loads(lines[-1])
    result["ended"] = None
    if done.returncode:
        said = done.stderr.strip().splitlines()
        result["ended"] = exit_status(done.returncode) + (f" (stderr ends: {said[-1][:120]})" if said else "")
    return result


def compile_times(name, environment, repeat):
    """(cold seconds, warm seconds or None, note) for one peer, medians of ``repeat``
    cold/warm pairs, each pair on a new empty cache."""
    cold, warm = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache_dir:
            env = environment(cache_dir) if environment else os.environ
            cold.append(run_first_call(name, env))
            if environment:
                warm.append(run_first_call(name, env))
    notes = []
    if cold[-1]["kernels"]:
        notes.append("kernels: cold {built} built".format(**cold[-1]["kernels"]))
        if warm:
            notes.append("warm {disk} from the disk cache, {built} built".format(**warm[-1]["kernels"]))
    crashes = [run["ended"] for run in cold + warm if run["ended"]]
    if crashes:
        notes.append(f"{len(crashes)} of {len(cold + warm)} processes {crashes[0]} at exit, "
                     "after printing their time")
    median = lambda runs: statistics.median(run["seconds"] for run in runs) if runs else None   # noqa: E731
    return median(cold), median(warm), "; ".join(notes)


def time_compiles(peers, repeat):
    """B7 table; {label: (cold, warm)} of the rows that ran."""
    print(f"\n### B7: compile time of the training function (graph + function + first call, "
          f"fresh interpreter, median of {repeat})\n")
    print("| peer | cold (empty cache) | warm cache | notes |")
    print("|---|---|---|---|")
    times = {}
    for label, name, environment in COMPILE_ROWS:
        if isinstance(peers.get(name), str):
            print(f"| {label} | {peers[name]} | | |")
            continue
        try:
            cold, warm, note = compile_times(name, environment, repeat)
        except Exception as exc:   # reported; the other rows still run
            print(f"| {label} | failed | | {type(exc).__name__}: {exc} |")
            continue
        if warm is None:
            note = note or "no cache across processes by default: every process compiles"
        times[label] = (cold, warm)
        print(f"| {label} | {show_time(cold)} | {show_time(warm) if warm is not None else '—'} | {note} |")
    return times


# targets -------------------------------------------------------------------------------

def print_targets(step_times, compile_seconds):
    """The issue's targets against this run's numbers."""
    rows = []

    def compare(target, mine, theirs, peer, floor=None):
        if mine is None or theirs is None:
            rows.append((target, "not measured", "—", "—"))
            return
        shown = show_time(mine) + f" vs {peer} " + show_time(theirs)
        floor_shown = "—" if floor is None else f"{show_time(floor)}: " + ("meets it" if floor < theirs else "misses it")
        rows.append((target, f"{shown} ({mine / theirs:.2f}x)", "yes" if mine < theirs else "no", floor_shown))

    on_device, per_call = step_times.get(VARIANTS[1][1], {}), step_times.get(VARIANTS[0][1], {})
    compare("B5 data on the device faster than JAX", on_device.get("clgraph"), on_device.get("JAX jit"), "JAX",
            on_device.get("pyopencl"))
    compare("B5 data passed per call faster than PyTensor C", per_call.get("clgraph"),
            per_call.get("PyTensor C"), "PyTensor C", per_call.get("pyopencl"))
    cold, warm = compile_seconds.get("clgraph", (None, None))
    compare("B7 cold under 1 s", cold, 1.0, "target")
    compare("B7 warm under JAX's jit + first call", warm, compile_seconds.get("JAX jit", (None,))[0], "JAX")
    print("\n### Targets against this run\n")
    print("| target | this run | met | the hand-written pyopencl step |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repetitions (a smoke run)")
    parser.add_argument("--first-call", metavar="PEER", choices=list(PEER_MAKERS),
                        help="internal: time one peer's compile + first call in this process")
    args = parser.parse_args()
    if args.first_call:
        return first_call(args.first_call)
    steps, repeat, compiles = (100, 3, 1) if args.quick else (1000, 5, 3)
    peers = load_peers()
    print(f"command: python {' '.join(sys.argv)}")
    print_machine(peers)
    trainers = {"numpy": NumpyTraining()}
    trainers.update((name, training_peer(name, peers[name])) for name in PEER_MAKERS)
    pyopencl = peers.get("pyopencl")
    trainers["pyopencl"] = PyOpenCLTraining(pyopencl) if not isinstance(pyopencl, (str, type(None))) else pyopencl
    problem = LogisticRegression()
    check_agreement(trainers, problem, CHECK_STEPS)
    step_times = time_steps(trainers, problem, steps, repeat)
    compile_seconds = time_compiles(peers, compiles)
    print_targets(step_times, compile_seconds)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
