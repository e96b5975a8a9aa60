"""The logistic regression of the source documents, trained on the device and on the
host reference, with the same start: both must end with the same predictions.

    python examples/logistic_regression.py [--steps 10000]
    CLGRAPH_FLAGS=device=opencl0:0 python examples/logistic_regression.py

The program is the seed's with theano renamed clgraph, in float32 (floatX); the
reference is the same graph run by the host implementations (mode FAST_COMPILE).
"""
import argparse
import time

import numpy as np

import clgraph
import clgraph.tensor as T


def train(data, initial_w, steps, mode=None):
    """Train from ``initial_w``; (final predictions, training accuracy, seconds per step,
    the training function)."""
    x = T.matrix("x")
    y = T.vector("y")
    w = clgraph.shared(initial_w.copy(), name="w")
    b = clgraph.shared(np.asarray(0., dtype=clgraph.config.floatX), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))   # probability that the target is 1
    prediction = p_1 > 0.5                      # the prediction, thresholded
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)   # cross-entropy loss
    cost = xent.mean() + 0.01 * (w ** 2).sum()           # the cost to minimize
    gw, gb = T.grad(cost, [w, b])
    train_step = clgraph.function(inputs=[x, y], outputs=[prediction, xent],
                                  updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)), name="train", mode=mode)
    predict = clgraph.function(inputs=[x], outputs=prediction, name="predict", mode=mode)
    train_step(*data)   # the first call builds the kernels: not timed
    start = time.perf_counter()
    for _ in range(steps - 1):
        pred, err = train_step(data[0], data[1])
    seconds = (time.perf_counter() - start) / max(steps - 1, 1)
    final = predict(data[0])
    return final, float((final == data[1]).mean()), seconds, train_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000, help="training steps (the seed's 10000)")
    args = parser.parse_args()
    clgraph.config.floatX = "float32"
    rng = np.random.RandomState(0)
    N, feats = 400, 784
    data = (rng.randn(N, feats).astype("float32"), rng.randint(size=N, low=0, high=2).astype("float32"))
    initial_w = rng.randn(feats).astype("float32")

    device = train(data, initial_w, args.steps)
    reference = train(data, initial_w, args.steps, mode="FAST_COMPILE")
    graph = device[3].maker.fgraph.toposort()
    if any(n.op.__class__.__name__ in ["Gemv", "CGemv", "Gemm", "CGemm"] for n in graph):
        print("Used the cpu")
    elif any(n.op.__class__.__name__ in ["GpuGemm", "GpuGemv"] for n in graph):
        print("Used the gpu")
    else:
        print("ERROR, not able to tell if clgraph used the cpu or the gpu")
    for label, (_, accuracy, seconds, _) in (("device", device), ("reference", reference)):
        print(f"{label:9s}: training accuracy {accuracy:.4f}, {seconds * 1e6:.0f} us per step")
    same = bool(np.array_equal(device[0], reference[0]))
    print("final predictions of the device and the reference agree:", same)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
