"""A two-layer perceptron trained by gradient descent on synthetic data, in float32 on
the default device (an OpenCL device when there is one).

    python examples/mlp.py [--steps 300] [--hidden 64]

The data: points of 20 features in 4 classes, each class a Gaussian blob around its
own centre, and a held-out set drawn the same way. The model: tanh hidden layer,
softmax output, mean categorical cross-entropy with class indices plus a small L2
penalty; every parameter is a shared variable updated by the compiled step, and the
data live on the device as shared variables (givens), so a step moves no data.
"""
import argparse
import time

import numpy as np

import clgraph
import clgraph.tensor as T


def blobs(rng, n, features, classes, centres):
    labels = rng.randint(0, classes, size=n)
    points = centres[labels] + rng.randn(n, features)
    return points.astype("float32"), labels.astype("int64")


def build(features, hidden, classes, rng, lr=0.1, l2=1e-4):
    """(train step, accuracy function, the shared data variables)."""
    x, y = T.matrix("x"), T.lvector("y")
    data_x = clgraph.shared(np.zeros((1, features), "float32"), name="data_x")
    data_y = clgraph.shared(np.zeros(1, "int64"), name="data_y")

    def layer(n_in, n_out, name):
        scale = np.sqrt(6.0 / (n_in + n_out))   # Glorot's uniform range
        W = clgraph.shared(rng.uniform(-scale, scale, (n_in, n_out)).astype("float32"), name="W" + name)
        b = clgraph.shared(np.zeros(n_out, "float32"), name="b" + name)
        return W, b

    W1, b1 = layer(features, hidden, "1")
    W2, b2 = layer(hidden, classes, "2")
    h = T.tanh(T.dot(x, W1) + b1)
    p_y = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = T.nnet.categorical_crossentropy(p_y, y).mean() + l2 * ((W1 ** 2).sum() + (W2 ** 2).sum())
    params = [W1, b1, W2, b2]
    grads = T.grad(loss, params)
    train = clgraph.function([], loss, updates=[(p, p - lr * g) for p, g in zip(params, grads)],
                             givens={x: data_x, y: data_y}, name="train")
    accuracy = clgraph.function([], T.mean(T.eq(T.argmax(p_y, axis=1), y)), givens={x: data_x, y: data_y},
                                name="accuracy")
    return train, accuracy, data_x, data_y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    clgraph.config.floatX = "float32"
    rng = np.random.RandomState(1234)
    features, classes = 20, 4
    centres = rng.randn(classes, features) * 1.2
    train_set = blobs(rng, 2000, features, classes, centres)
    test_set = blobs(rng, 1000, features, classes, centres)

    train, accuracy, data_x, data_y = build(features, args.hidden, classes, rng)

    def use(data):
        data_x.set_value(data[0])
        data_y.set_value(data[1])

    use(train_set)
    first_loss = float(train())
    start = time.perf_counter()
    for _ in range(args.steps - 1):
        loss = train()
    seconds = (time.perf_counter() - start) / max(args.steps - 1, 1)
    train_accuracy = float(accuracy())
    use(test_set)
    test_accuracy = float(accuracy())
    print(f"loss {first_loss:.4f} -> {float(loss):.4f} in {args.steps} steps ({seconds * 1e6:.0f} us per step)")
    print(f"accuracy: training {train_accuracy:.3f}, held out {test_accuracy:.3f}")
    print("train step:", ", ".join(str(node.op) for node in train.maker.fgraph.toposort()))
    return 0 if test_accuracy > 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
