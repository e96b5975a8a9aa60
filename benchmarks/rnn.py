"""B6: a tanh RNN through scan, clgraph beside its peers.

    h_t = tanh(h_{t-1} @ W + x_t @ U),  h_0 = 0,  t = 1..100, batch 32, hidden 256, float32

Two cases: the forward pass (h_T), and the forward pass with the gradient of
sum(h_T ** 2) with respect to W and U (backpropagation through time); and a table of a
loop's cost per step: 1000 steps of h + 1, and of h[::-1] + 1, on 16 floats (time per
step). Peers: numpy (a Python loop; the gradient written by hand), clgraph on its
default context (scan, its gradient, W, U and x in shared variables, results kept on
the device and waited for), PyTensor (scan, C backend and its default mode) and JAX
(lax.scan, jit, jax.grad), all checked against numpy's results. Times are medians per
call after warm-up, the peers' samples taken in turns (peers.Benchmark).
Run: python benchmarks/rnn.py [--quick]
"""
import argparse
import os
import warnings

import numpy as np

from peers import Benchmark, Case, PerCall, adapted, load_peers, print_machine

STEPS, BATCH, HIDDEN = 100, 32, 256


class Problem:
    def __init__(self, steps):
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(steps, BATCH, HIDDEN)).astype(np.float32)
        scale = np.float32(1 / np.sqrt(HIDDEN))
        self.W = (rng.normal(size=(HIDDEN, HIDDEN)) * scale).astype(np.float32)
        self.U = (rng.normal(size=(HIDDEN, HIDDEN)) * scale).astype(np.float32)


OVERHEAD_STEPS = 1000   # steps of the loops whose cost per step is measured
# Trivial steps, many times: their cost is the loop's. clgraph runs the first as one
# kernel for the whole loop (an elementwise step); the second's step is two nodes (a
# reversed view, then the addition), which it runs step by step.
OVERHEAD_STEPS_OF = {"h + 1": lambda h: h + 1, "h[::-1] + 1": lambda h: h[::-1] + 1}


def numpy_rnn(x, W, U, with_grad):
    """h_T, or the gradients of sum(h_T ** 2) wrt W and U stacked, by hand."""
    hs = [np.zeros((x.shape[1], W.shape[0]), x.dtype)]
    for xt in x:
        hs.append(np.tanh(hs[-1] @ W + xt @ U))
    if not with_grad:
        return hs[-1]
    gW, gU, gh = np.zeros_like(W), np.zeros_like(U), 2 * hs[-1]
    for t in range(len(x) - 1, -1, -1):
        gz = gh * (1 - hs[t + 1] ** 2)
        gW += hs[t].T @ gz
        gU += x[t].T @ gz
        gh = gz @ W.T
    return np.stack([gW, gU])


class NumpyRNN:
    name = "numpy"

    def case(self, problem, arrays, with_grad, c_expression=None):
        if isinstance(with_grad, str):   # the cost of a step: OVERHEAD_STEPS_OF[with_grad]
            step = OVERHEAD_STEPS_OF[with_grad]

            def count():
                h = np.zeros(16, np.float32)
                for _ in range(OVERHEAD_STEPS):
                    h = step(h)
                return h
            return Case(count)
        return Case(lambda: numpy_rnn(problem.x, problem.W, problem.U, with_grad))


class TheanoLikeRNN:
    """clgraph and PyTensor: scan over x with W and U shared; ``keep`` puts the result
    on clgraph's device (it is waited for)."""

    def __init__(self, name, lib, T, keep=False, **function_options):
        self.name, self.lib, self.T, self.keep, self.options = name, lib, T, keep, function_options

    def case(self, problem, arrays, with_grad, c_expression=None):
        lib, T = self.lib, self.T
        if isinstance(with_grad, str):   # the cost of a step: OVERHEAD_STEPS_OF[with_grad]
            h0 = lib.shared(np.zeros(16, np.float32), name="h0")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                h, _ = lib.scan(OVERHEAD_STEPS_OF[with_grad], outputs_info=h0, n_steps=OVERHEAD_STEPS)
            return self._case(lib.function([], self._kept(h[-1], h0), **self.options))
        W, U = lib.shared(problem.W, name="W"), lib.shared(problem.U, name="U")
        x = lib.shared(problem.x, name="x")
        h0 = T.zeros((BATCH, HIDDEN), dtype="float32")
        with warnings.catch_warnings():   # PyTensor announces a new return signature of scan
            warnings.simplefilter("ignore", DeprecationWarning)
            h, _ = lib.scan(lambda xt, hp, W, U: T.tanh(T.dot(hp, W) + T.dot(xt, U)), sequences=x,
                            outputs_info=h0, non_sequences=[W, U])
        out = T.stack(T.grad(T.sum(h[-1] ** 2), [W, U])) if with_grad else h[-1]
        return self._case(lib.function([], self._kept(out, W), **self.options))

    def _kept(self, out, shared):
        return out.transfer(shared.context_name) if self.keep else out

    def _case(self, fn):
        if self.keep:
            return Case(fn, wait=lambda result: result.sync(), to_host=lambda result: result.get())
        return Case(fn)


class JaxRNN:
    name = "JAX jit"

    def __init__(self, peer):
        self.jax, self.jnp = peer.jax, peer.jnp

    def case(self, problem, arrays, with_grad, c_expression=None):
        jax, jnp = self.jax, self.jnp

        def last(W, U, x):
            def step(h, xt):
                h = jnp.tanh(h @ W + xt @ U)
                return h, None
            h, _ = jax.lax.scan(step, jnp.zeros((BATCH, HIDDEN), jnp.float32), x)
            return h

        if isinstance(with_grad, str):
            step = OVERHEAD_STEPS_OF[with_grad]

            def count(h):
                return jax.lax.scan(lambda h, _: (step(h), None), h, None, length=OVERHEAD_STEPS)[0]
            fn, inputs = jax.jit(count), [jax.device_put(np.zeros(16, np.float32))]
            return Case(lambda: fn(*inputs), wait=lambda result: result.block_until_ready())
        if with_grad:
            gradient = jax.grad(lambda W, U, x: jnp.sum(last(W, U, x) ** 2), argnums=(0, 1))
            fn = jax.jit(lambda W, U, x: jnp.stack(gradient(W, U, x)))
        else:
            fn = jax.jit(last)
        inputs = [jax.device_put(a) for a in (problem.W, problem.U, problem.x)]
        return Case(lambda: fn(*inputs), wait=lambda result: result.block_until_ready())


def rnn_peer(name, peer):
    return adapted(name, peer, lambda name, lib, T, clgraph, **options: TheanoLikeRNN(
        name, lib, T, keep=clgraph is not None, **options), JaxRNN)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 steps, fewer repetitions")
    args = parser.parse_args()
    steps, target_s, repeat = (10, 0.1, 3) if args.quick else (STEPS, 0.5, 5)
    peers = load_peers()
    print(f"command: python benchmarks/rnn.py{' --quick' if args.quick else ''}")
    print_machine(peers)
    runners = {"numpy": NumpyRNN()}
    runners.update((name, rnn_peer(name, peers[name])) for name in ("clgraph", "PyTensor C", "PyTensor default",
                                                                    "JAX jit"))
    problem = Problem(steps)
    b6 = Benchmark(f"B6: tanh RNN, {steps} steps, batch {BATCH}, hidden {HIDDEN}, float32 (time per call)",
                   runners, PerCall(target_s, repeat), dict(rtol=2e-3, atol=2e-3))
    for with_grad, label in ((False, "forward (h_T)"), (True, "forward + gradient wrt W, U")):
        b6.row(label, problem, [], with_grad, reference=numpy_rnn(problem.x, problem.W, problem.U, with_grad))
    b6.print()
    per_step = Benchmark(f"A loop's cost per step: {OVERHEAD_STEPS} steps on 16 float32 (time per step)",
                         runners, PerCall(target_s, repeat, scale=1 / OVERHEAD_STEPS),
                         dict(rtol=0, atol=0))
    for label in OVERHEAD_STEPS_OF:
        per_step.row(label, problem, [], label, reference=np.full(16, OVERHEAD_STEPS, np.float32))
    per_step.print()
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
