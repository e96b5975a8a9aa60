"""The source documents' ifelse/switch comparison as a benchmark: z = switch(a < b,
mean(x), mean(y)) computes both means; z = ifelse(a < b, mean(x), mean(y)) only the
chosen one. x, y: 10000x1000 float32, as the seed's big_mat1, big_mat2.

Run: python benchmarks/ifelse.py [--quick]. Each function is timed with the matrices
passed at each call, as in the seed (both are uploaded to the device whatever the
condition: they are arguments), and with the matrices in shared variables (givens: on
the device, or on the host for the reference), on the default context and on the host
reference (mode FAST_COMPILE). x holds ones and y twos, so both functions are first
checked to give mean(x) = 1. Times are medians per call, the two functions' samples
taken in turns (peers.in_turns).
"""
import argparse

import numpy as np

import clgraph
import clgraph.tensor as T
from clgraph.ifelse import ifelse
from peers import Case, PerCall, in_turns


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
    shape, target_s, repeat = ((1000, 1000), 0.1, 3) if args.quick else ((10000, 1000), 0.5, 5)
    big = (np.ones(shape, "float32"), np.full(shape, 2, "float32"))
    print(f"x, y: {shape[0]}x{shape[1]} float32; median per call of {repeat} samples of about {target_s} s\n")
    print("| where | data | switch (both means) | ifelse (one mean) | ifelse / switch |")
    print("|---|---|---|---|---|")
    for where, mode in (("default context", None), ("host reference", "FAST_COMPILE")):
        for data_in_shared, data in ((False, "passed per call"), (True, "shared variables")):
            made = functions(mode, data_in_shared, big)
            for label, call in made.items():
                assert float(call()) == 1.0, f"{label} ({where}, {data}) did not give mean(x)"
            times = in_turns(PerCall(target_s, repeat), {label: Case(call) for label, call in made.items()})
            switch, lazy = times["switch"], times["ifelse"]
            print(f"| {where} | {data} | {switch * 1e3:.2f} ms | {lazy * 1e3:.2f} ms | {lazy / switch:.2f} |")


if __name__ == "__main__":
    main()
