"""A loop whose step is one elementwise node (h + 1, prior * A, acc * decay + x_t) runs
as one launch of the elementwise loop kernel (clgraph.scan_module.whole_loop), on every
device; loops whose values it does not fit run step by step. Results compared with
numpy."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import get_context, nvcc
from clgraph.compile.device_ops import GpuElemwise

pytestmark = pytest.mark.skipif(get_context().api == "cpu", reason="loops on a device")
RNG = np.random.default_rng(23)


def loop_launches(names):
    return sum("_steps_" in name for name in names)


def test_a_counting_loop_runs_as_one_launch(launched):
    h0 = clgraph.shared(np.zeros(16, np.float32), name="h0")
    h, _ = clgraph.scan(lambda hp: hp + 1, outputs_info=h0, n_steps=1000)
    f = clgraph.function([], h[-1])
    np.testing.assert_array_equal(f(), np.full(16, 1000, np.float32))
    del launched[:]
    np.testing.assert_array_equal(f(), np.full(16, 1000, np.float32))
    assert loop_launches(launched) == 1 and len(launched) == 1


def test_the_seed_power_loop_gives_every_step(launched):
    A, k = T.fmatrix("A"), T.iscalar("k")
    result, _ = clgraph.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    f = clgraph.function([A, k], result)
    a = RNG.uniform(0.5, 1.5, (5, 7)).astype(np.float32)
    for steps in (1, 6):
        np.testing.assert_allclose(f(a, steps), np.stack([a ** (j + 1) for j in range(steps)]), rtol=1e-5)
    assert loop_launches(launched) == 2


@pytest.mark.parametrize("how", ["forward", "go_backwards", "fewer_steps", "last_only"])
def test_sequences_state_shaped_and_single_element_non_sequences(launched, how):
    x, w, decay, acc0 = T.fmatrix("x"), T.fvector("w"), T.fscalar("decay"), T.fvector("acc0")
    backwards = how == "go_backwards"
    n_steps = 5 if how == "fewer_steps" else None
    acc, _ = clgraph.scan(lambda xt, acc, w, decay: acc * decay + xt * w, sequences=x, outputs_info=acc0,
                          non_sequences=[w, decay], go_backwards=backwards, n_steps=n_steps)
    f = clgraph.function([x, w, decay, acc0], acc[-1] if how == "last_only" else acc)
    xv, wv, a0 = (RNG.standard_normal(shape).astype(np.float32) for shape in [(9, 70), 70, 70])
    entries = xv[::-1] if backwards else xv[:n_steps]
    expected, value = [], a0
    for xt in entries:
        value = value * np.float32(0.9) + xt * wv
        expected.append(value)
    expected = expected[-1] if how == "last_only" else np.stack(expected)
    np.testing.assert_allclose(f(xv, wv, np.float32(0.9), a0), expected, rtol=1e-5, atol=1e-6)
    assert loop_launches(launched) == 1


def test_a_tap_two_steps_back(launched):
    x0 = T.dmatrix("x0")   # the two initial entries
    out, _ = clgraph.scan(lambda a: a * 3 - 1, outputs_info=dict(initial=x0, taps=[-2]), n_steps=7)
    f = clgraph.function([x0], out)
    values = [np.array([1.0, 2.0]), np.array([-1.0, 0.5])]
    for _ in range(7):
        values.append(values[-2] * 3 - 1)
    np.testing.assert_allclose(f(np.stack(values[:2])), np.stack(values[2:]))
    assert loop_launches(launched) == 1


def test_an_integer_state(launched):
    n = T.iscalar("n")
    out, _ = clgraph.scan(lambda c: c * 2 + 1, outputs_info=T.zeros((3,), dtype="int32"), n_steps=n)
    np.testing.assert_array_equal(clgraph.function([n], out[-1])(20), np.full(3, 2 ** 20 - 1, np.int32))
    assert loop_launches(launched) == 1


def test_a_step_reading_the_state_reversed_runs_step_by_step(launched):
    # element i of the step reads element n-1-i of the state: the loop kernel, a
    # work-item per element, would be wrong; the step's graph (a view, then the add)
    # runs at every step (the benchmark's step-by-step loop)
    h0 = T.fvector("h0")
    h, _ = clgraph.scan(lambda hp: hp[::-1] * 0.5 + 1, outputs_info=h0, n_steps=5)
    f = clgraph.function([h0], h)
    value, expected = np.arange(4, dtype=np.float32), []
    for _ in range(5):
        value = value[::-1] * np.float32(0.5) + 1
        expected.append(value)
    np.testing.assert_allclose(f(np.arange(4, dtype=np.float32)), np.stack(expected), rtol=1e-6)
    assert loop_launches(launched) == 0


@pytest.mark.parametrize("how", ["broadcast_row", "two_outputs"])
def test_loops_the_kernel_does_not_fit_run_step_by_step(launched, how):
    h0, b = T.fmatrix("h0"), T.fvector("b")
    if how == "broadcast_row":   # b is neither of the state's shape nor one element
        h, _ = clgraph.scan(lambda hp, b: hp * 0.5 + b, outputs_info=h0, non_sequences=b, n_steps=4)
    else:
        (h, _), _ = clgraph.scan(lambda hp, b: (hp * 0.5 + b, hp + 1), outputs_info=[h0, None],
                                 non_sequences=b, n_steps=4)
    f = clgraph.function([h0, b], h)
    h0v, bv = RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    expected, value = [], h0v
    for _ in range(4):
        value = value * np.float32(0.5) + bv
        expected.append(value)
    np.testing.assert_allclose(f(h0v, bv), np.stack(expected), rtol=1e-6)
    assert loop_launches(launched) == 0


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_the_loop_kernel_compiles_with_nvcc():
    sources = {}
    for dtype in ("float32", "float64", "int32", "float16"):
        h, x, s = T.vector("h", dtype=dtype), T.vector("x", dtype=dtype), T.scalar("s", dtype=dtype)
        f = clgraph.function([h, x, s], h * s + x * 3)
        (op,) = [node.op for node in f.maker.fgraph.toposort() if isinstance(node.op, GpuElemwise)]
        kernel = op.kernel
        scalars = tuple(k == kernel.arrays[2] for k in range(len(kernel.in_dtypes)))
        sources.update([kernel.steps(kernel.arrays[0], scalars)])
    ptx = nvcc.compile_ptx(sources)
    for name in sources:
        assert f".entry {name}(" in ptx
