"""The source documents' ifelse/switch comparison as a benchmark: z = switch(a < b,
mean(x), mean(y)) computes both means; z = ifelse(a < b, mean(x), mean(y)) only the
chosen one. x, y: 10000x1000 float32, as the seed's big_mat1, big_mat2.

Run: python benchmarks/ifelse.py [--quick]. Each function is timed with the matrices
passed at each call, as in the seed (both are uploaded to the device whatever the
condition: they are arguments), and with the matrices in shared variables (givens: on
the device, or on the host for the reference), on the default context and on the host
reference (mode FAST_COMPILE). Times are medians
of repeated calls after warm-up.
"""
import argparse
import statistics
import time

import numpy as np

import clgraph
import clgraph.tensor as T
from clgraph.ifelse import ifelse


def median_seconds(call, repeat):
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def functions(mode, data_in_shared, big):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    made = {}
    for label, z in (("switch", T.switch(T.lt(a, b), T.mean(x), T.mean(y))),
                     ("ifelse", ifelse(T.lt(a, b), T.mean(x), T.mean(y)))):
        if data_in_shared:
            target = "cpu" if mode == "FAST_COMPILE" else None   # the reference reads host values
            givens = {x: clgraph.shared(big[0], target=target), y: clgraph.shared(big[1], target=target)}
            f = clgraph.function([a, b], z, givens=givens, mode=mode)
            made[label] = lambda f=f: f(0.0, 1.0)
        else:
            f = clgraph.function([a, b, x, y], z, mode=mode)
            made[label] = lambda f=f: f(0.0, 1.0, *big)
    return made


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller matrices, fewer calls")
    args = parser.parse_args()
    clgraph.config.floatX = "float32"
    shape, repeat = ((1000, 1000), 3) if args.quick else ((10000, 1000), 10)
    big = (np.ones(shape, "float32"), np.ones(shape, "float32"))
    print(f"x, y: {shape[0]}x{shape[1]} float32; median of {repeat} calls\n")
    print("| where | data | switch (both means) | ifelse (one mean) | ifelse / switch |")
    print("|---|---|---|---|---|")
    for where, mode in (("default context", None), ("host reference", "FAST_COMPILE")):
        for data_in_shared, data in ((False, "passed per call"), (True, "shared variables")):
            made = functions(mode, data_in_shared, big)
            switch, lazy = (median_seconds(made[k], repeat) for k in ("switch", "ifelse"))
            print(f"| {where} | {data} | {switch * 1e3:.2f} ms | {lazy * 1e3:.2f} ms | {lazy / switch:.2f} |")


if __name__ == "__main__":
    main()
