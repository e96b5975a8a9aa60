"""The gemm rewrite (sums holding one matrix product become Gemm/Gemv), the device's
GpuGemm/GpuGemv running them, in place over a shared variable whose update they compute,
and the ordering that keeps shared values whole when a call fails."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph import function, shared
from clgraph.tensor.blas import Gemm, Gemv, gemv
from conftest import OPENCL_DEVICES, run_python

HOST = "FAST_COMPILE"
HOST_REWRITTEN = clgraph.compile.mode.Mode(linker="py")   # every rewrite, host ops
needs_opencl = pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")


def rand(*shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def op_names(f):
    return [str(node.op) for node in f.maker.fgraph.toposort()]


def class_names(f):
    return [type(node.op).__name__ for node in f.maker.fgraph.toposort()]


def host_graph_of(inputs, output):
    """The graph the rewrites make, left on the host (no placement)."""
    return function(inputs, output, mode=HOST_REWRITTEN)


UPDATES = {   # name -> (expression of (z, a, x, lr), shapes of z, a, x, the op expected)
    "z - lr * dot(a, x)": (lambda z, a, x, lr: z - lr * T.dot(a, x), [(5,), (5, 7), (7,)], Gemv),
    "z - lr * dot(x, a)": (lambda z, a, x, lr: z - lr * T.dot(x, a), [(7,), (5, 7), (5,)], Gemv),
    "z + dot(a, x) * 2 - 0.5 * z": (lambda z, a, x, lr: z + T.dot(a, x) * 2 - 0.5 * z, [(5,), (5, 7), (7,)], Gemv),
    "Z - lr * dot(A.T, X)": (lambda z, a, x, lr: z - lr * T.dot(a.T, x), [(7, 3), (5, 7), (5, 3)], Gemm),
    "-(dot(A, X) + Z) + 1": (lambda z, a, x, lr: -(T.dot(a, x) + z) + 1, [(5, 3), (5, 7), (7, 3)], Gemm),
}


@pytest.mark.parametrize("mode", [None, HOST_REWRITTEN], ids=["device", "host"])
@pytest.mark.parametrize("name", sorted(UPDATES))
def test_sums_with_a_product_become_one_gemm_or_gemv(name, mode):
    build, shapes, op_class = UPDATES[name]
    z, a, x = (T.tensor("float32", (None,) * len(s), name=n) for s, n in zip(shapes, "zax"))
    lr = T.fscalar("lr")
    values = [rand(*s, seed=k) for k, s in enumerate(shapes)] + [np.float32(0.1)]
    f = function([z, a, x, lr], build(z, a, x, lr), mode=mode, on_unused_input="ignore")
    zv, av, xv, lrv = (v.astype("float64") for v in values)
    reference = build_numpy(name, zv, av, xv, lrv)
    np.testing.assert_allclose(f(*values), reference, rtol=1e-5, atol=1e-6)
    if mode is None:
        assert any(n.startswith("Gpu" + op_class.__name__ + "{") for n in op_names(f)), op_names(f)
    else:
        assert op_class.__name__ + "{no_inplace}" in op_names(f)


def build_numpy(name, z, a, x, lr):
    return {"z - lr * dot(a, x)": lambda: z - lr * a @ x,
            "z - lr * dot(x, a)": lambda: z - lr * x @ a,
            "z + dot(a, x) * 2 - 0.5 * z": lambda: z + (a @ x) * 2 - 0.5 * z,
            "Z - lr * dot(A.T, X)": lambda: z - lr * a.T @ x,
            "-(dot(A, X) + Z) + 1": lambda: -(a @ x + z) + 1}[name]()


def test_the_rewrite_reads_coefficients_and_gathers_terms():
    z, a, x = T.fvector("z"), T.fmatrix("a"), T.fvector("x")
    f = host_graph_of([z, a, x], z - 0.1 * (T.dot(a, x) + 0.02 * z))
    (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemv)]
    alpha, beta = node.inputs[1].data, node.inputs[4].data
    assert alpha == np.float32(-0.1) and beta == np.float32(1 - 0.1 * 0.02)
    assert len(f.maker.fgraph.toposort()) == 1


def test_a_product_used_elsewhere_is_computed_once():
    z, a, x = T.fvector("z"), T.fmatrix("a"), T.fvector("x")
    product = T.dot(a, x)
    f = host_graph_of([z, a, x], [z - product, product * 2])
    assert not any(isinstance(n.op, (Gemv, Gemm)) for n in f.maker.fgraph.toposort())


def test_no_accumulator_of_the_result_type_no_rewrite():
    a, x = T.fmatrix("a"), T.fvector("x")
    f = host_graph_of([a, x], T.dot(a, x) + T.constant(np.ones(3, "float32")))
    assert not any(isinstance(n.op, Gemv) for n in f.maker.fgraph.toposort())


@pytest.mark.parametrize("mode", [None, HOST_REWRITTEN], ids=["device", "host"])
def test_terms_that_broadcast_at_run_time_still_broadcast(mode):
    # z and the product may each have a length of 1 where the other does not, as numpy
    a, x, c = T.fmatrix("a"), T.fvector("x"), T.fvector("c")
    f = function([a, x, c], c - 0.5 * T.dot(a, x), mode=mode)
    assert any("Gemv" in name for name in op_names(f))
    for shapes in [((4, 3), (3,), (1,)), ((1, 3), (3,), (4,))]:
        av, xv, cv = (rand(*s, seed=k) for k, s in enumerate(shapes))
        np.testing.assert_allclose(f(av, xv, cv), cv - 0.5 * av @ xv, rtol=1e-6)
    with pytest.raises(ValueError, match=r"z has shape \(2,\) but dot\(x, y\) has shape \(4,\)"):
        f(rand(4, 3), rand(3), rand(2))
    np.testing.assert_allclose(f(rand(4, 3), rand(3), rand(4)), rand(4) - 0.5 * rand(4, 3) @ rand(3), rtol=1e-6)


def test_host_gemv_checks_its_operands():
    z, a, x = T.fvector("z"), T.fmatrix("a"), T.fvector("x")
    with pytest.raises(TypeError, match="Gemv: x must have 2 dimensions"):
        gemv(z, 1.0, x, x, 1.0)
    with pytest.raises(TypeError, match="share one float dtype"):
        gemv(z, 1.0, T.dmatrix(), x, 1.0)
    f = function([z, a, x], gemv(z, T.constant(np.float32(2)), a, x, T.constant(np.float32(1))), mode=HOST)
    with pytest.raises(ValueError, match=r"Gemv: z has shape \(4,\) but dot\(x, y\) has shape \(3,\)"):
        f(rand(4), rand(3, 2), rand(2))
    np.testing.assert_allclose(f(rand(3), rand(3, 2), rand(2)), rand(3) + 2 * rand(3, 2) @ rand(2), rtol=1e-6)


@needs_opencl
@pytest.mark.parametrize("shape_a", [(6, 0), (6, 5)])
def test_device_gemv_with_any_beta_and_an_empty_contraction(shape_a):
    z, a, x = T.fvector("z"), T.fmatrix("a"), T.fvector("x")
    for beta in (0.0, 1.0, 0.5):
        out = gemv(z, T.constant(np.float32(-2)), a, x, T.constant(np.float32(beta)))
        f = function([z, a, x], out)
        assert "GpuGemv{" in " ".join(op_names(f))
        zv, av, xv = rand(6, seed=1), rand(*shape_a, seed=2), rand(shape_a[1], seed=3)
        expected = -2 * av.astype("float64") @ xv + (beta * zv if beta else 0)
        np.testing.assert_allclose(f(zv, av, xv), expected, rtol=1e-5, atol=1e-6)


# -- in place over the shared variable it updates -------------------------------------------

def _descent(w, x, g):
    return w - 0.1 * T.dot(x.T, g)


@needs_opencl
def test_update_of_a_shared_variable_runs_in_place_over_its_storage():
    x, g = T.fmatrix("x"), T.fvector("g")
    w = shared(rand(4, seed=1), name="w")
    f = function([x, g], [], updates={w: _descent(w, x, g)})
    assert "GpuGemv{inplace}" in op_names(f)
    storage = w.get_value(borrow=True, return_internal_type=True)
    expected = w.get_value().astype("float64")
    for step in range(3):
        xv, gv = rand(3, 4, seed=10 + step), rand(3, seed=20 + step)
        f(xv, gv)
        expected = expected - 0.1 * xv.T @ gv
        np.testing.assert_allclose(w.get_value(), expected, rtol=1e-5)
    assert w.get_value(borrow=True, return_internal_type=True).block is storage.block


@needs_opencl
def test_an_output_of_the_old_value_is_the_old_value():
    x, g = T.fmatrix("x"), T.fvector("g")
    w = shared(rand(4, seed=1), name="w")
    old = w.get_value()
    xv, gv = rand(3, 4), rand(3)
    # returned to the host: the copy is read before the update overwrites w
    f = function([x, g], w * 1, updates={w: _descent(w, x, g)})
    np.testing.assert_array_equal(f(xv, gv), old)
    np.testing.assert_allclose(w.get_value(), old - 0.1 * xv.T @ gv, rtol=1e-5)
    # kept on the device, the output is w's storage itself: the update takes a new buffer
    keep = function([x, g], w.transfer(w.context_name), updates={w: _descent(w, x, g)})
    assert "GpuGemv{no_inplace}" in op_names(keep)
    before = w.get_value()
    np.testing.assert_array_equal(keep(xv, gv).get(), before)


@needs_opencl
def test_other_readers_of_the_old_value_run_before_it_is_overwritten():
    x, g = T.fmatrix("x"), T.fvector("g")
    w = shared(rand(4, seed=1), name="w")
    xv, gv = rand(3, 4), rand(3)
    # the sum of the old w is no input of the product: it still runs first
    h = function([x, g], T.sum(w ** 2), updates={w: _descent(w, x, g)})
    assert "GpuGemv{inplace}" in op_names(h)
    old = w.get_value().astype("float64")
    np.testing.assert_allclose(h(xv, gv), (old ** 2).sum(), rtol=1e-5)
    np.testing.assert_allclose(w.get_value(), old - 0.1 * xv.T @ gv, rtol=1e-5)
    # a reader that depends on an update value may run after the overwrite: a new buffer
    v = shared(rand(4, seed=2), name="v")
    v_new = T.sort(v)   # an update value computed apart from the reader
    k = function([x, g], T.sum(w * v_new), updates={w: _descent(w, x, g), v: v_new})
    assert "GpuGemv{no_inplace}" in op_names(k)
    old_w, old_v = w.get_value().astype("float64"), v.get_value().astype("float64")
    np.testing.assert_allclose(k(xv, gv), (old_w * np.sort(old_v)).sum(), rtol=1e-5)


@needs_opencl
def test_a_failing_call_leaves_the_shared_variables_as_they_were():
    x, g = T.fmatrix("x"), T.fvector("g")
    w = shared(rand(4, seed=1), name="w")
    b = shared(np.float32(0), name="b")
    # b's update fails when g does not fit x (an elementwise shape error) in a call
    # that would have computed w's update in place
    f = function([x, g], [], updates={w: _descent(w, x, T.dot(x, w) * 0 + g), b: b + T.sum(T.dot(x, w) + g)})
    assert "GpuGemv{inplace}" in op_names(f)
    before = w.get_value()
    with pytest.raises(ValueError):
        f(rand(3, 4), rand(2))
    np.testing.assert_array_equal(w.get_value(), before)
    assert b.get_value() == 0
    xv, gv = rand(3, 4), rand(3)
    f(xv, gv)
    np.testing.assert_allclose(w.get_value(), before - 0.1 * xv.T @ gv, rtol=1e-5)


def test_seed_training_graph_holds_gemv_on_the_host():
    # the source documents' check, on device=cpu: a Gemv in the training function
    code = """
import numpy as np, clgraph, clgraph.tensor as T
rng = np.random.RandomState(0)
x, y = T.matrix("x"), T.vector("y")
w = clgraph.shared(rng.randn(784), name="w"); b = clgraph.shared(0., name="b")
p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
cost = xent.mean() + 0.01 * (w ** 2).sum()
gw, gb = T.grad(cost, [w, b])
train = clgraph.function([x, y], [p_1 > 0.5, xent], updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
if any([n.op.__class__.__name__ in ['Gemv', 'CGemv', 'Gemm', 'CGemm'] for n in train.maker.fgraph.toposort()]):
    print('Used the cpu')
"""
    result = run_python(code, flags="device=cpu")
    assert result.returncode == 0, result.stderr
    assert "Used the cpu" in result.stdout


def test_products_of_other_dtypes_stay_dots():
    # an integer operand (a binomial sample) is converted by Dot, not by Gemv
    h, W, b = T.lvector("h"), T.dmatrix("W"), T.dvector("b")
    f = host_graph_of([h, W, b], T.dot(h, W.T) + b)
    assert not any(isinstance(n.op, (Gemv, Gemm)) for n in f.maker.fgraph.toposort())
    np.testing.assert_allclose(f(np.array([1, 0, 2]), np.ones((2, 3)), np.array([0.5, 1.0])), [3.5, 4.0])
