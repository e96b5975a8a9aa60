"""softmax, log_softmax, their gradients and the categorical cross-entropies on every
context (the numpy reference, PoCL, CUDA when present) against numpy: axes, strided
inputs, extreme inputs, gradients (fused ops, checked by verify_grad), class indices
out of range, and the CUDA rendering of the kernels."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc
from clgraph.codegen.softmax import MODES, SoftmaxKernel
from clgraph.compile.device_softmax import GpuSoftmaxFamily
from clgraph.compile.mode import Mode
from clgraph.gradient import verify_grad
from clgraph.tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                                 CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx, LogSoftmax,
                                 LogSoftmaxGrad, Softmax, SoftmaxGrad, categorical_crossentropy,
                                 crossentropy_softmax_1hot, log_softmax, softmax)
from conftest import OPENCL_DEVICES

TOLERANCE = {"float16": 2e-3, "float32": 2e-5, "float64": 1e-12}


# -- numpy references, written independently of the ops' ----------------------------------

def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_one_hot(idx, classes):
    return np.eye(classes)[idx]


# -- helpers ------------------------------------------------------------------------------

def compiled(context, inputs, build):
    """A function of ``build(*inputs)`` running on ``context``: the reference linker for
    cpu, else with the float inputs transferred there (so every node runs there)."""
    if context.name == "cpu":
        return clgraph.function(inputs, build(*inputs), mode=Mode(linker="py"))
    placed = [x.transfer(context.name) if x.dtype.startswith("float") else x for x in inputs]
    return clgraph.function(inputs, build(*placed))


def assert_ops(f, context, *names):
    """``f``'s graph has the ops called ``names`` (their Gpu versions on devices)."""
    present = {str(n.op).split("{")[0] for n in f.maker.fgraph.toposort()}
    prefix = "" if context.name == "cpu" else "Gpu"
    missing = {prefix + name for name in names} - present
    assert not missing, (missing, f.maker.fgraph.toposort())


def assert_close(got, expected, dtype):
    for g, e in zip(got, expected):
        assert g.dtype == np.dtype(dtype) and g.shape == e.shape, (g.dtype, g.shape, e.shape)
        np.testing.assert_allclose(g, e, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def random(shape, dtype="float64", seed=0, scale=2.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


# -- values -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_softmax_and_log_softmax_along_every_axis_and_of_strided_inputs(context, dtype):
    x, v = T.tensor(dtype, (None, None, None), name="x"), T.tensor(dtype, (None,), name="v")

    def build(x, v):
        strided = [x.dimshuffle(2, 0, 1), x[:, ::2, ::-1]]
        return ([softmax(x, a) for a in (0, 1, -1)] + [log_softmax(x, a) for a in (0, -2, 2)]
                + [softmax(s, 1) for s in strided] + [log_softmax(s, -1) for s in strided]
                + [softmax(v), log_softmax(v)])
    f = compiled(context, [x, v], build)
    assert_ops(f, context, "Softmax", "LogSoftmax")
    xv, vv = random((4, 5, 6), dtype), random((7,), dtype, seed=1)
    wide = xv.astype("float64")
    strided = [wide.transpose(2, 0, 1), wide[:, ::2, ::-1]]
    expected = ([np_softmax(wide, a) for a in (0, 1, -1)] + [np_log_softmax(wide, a) for a in (0, -2, 2)]
                + [np_softmax(s, 1) for s in strided] + [np_log_softmax(s, -1) for s in strided]
                + [np_softmax(vv.astype("float64")), np_log_softmax(vv.astype("float64"))])
    assert_close(f(xv, vv), expected, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_grad_ops(context, dtype):
    dy, y = T.tensor(dtype, (None, None), name="dy"), T.tensor(dtype, (None, None), name="y")
    f = compiled(context, [dy, y], lambda dy, y: [
        SoftmaxGrad(-1)(dy, y), SoftmaxGrad(0)(dy.T, y.T), LogSoftmaxGrad(1)(dy, y),
        LogSoftmaxGrad(0)(dy[::2], y[1::2])])
    assert_ops(f, context, "SoftmaxGrad", "LogSoftmaxGrad")
    dyv, yv = random((6, 5), dtype, 2), random((6, 5), dtype, 3, scale=0.5)
    dyw, yw = dyv.astype("float64"), yv.astype("float64")

    def grad(dy, sm, axis):
        return (dy - (dy * sm).sum(axis=axis, keepdims=True)) * sm

    def log_grad(dy, lsm, axis):
        return dy - np.exp(lsm) * dy.sum(axis=axis, keepdims=True)
    expected = [grad(dyw, yw, 1), grad(dyw.T, yw.T, 0), log_grad(dyw, yw, 1), log_grad(dyw[::2], yw[1::2], 0)]
    assert_close(f(dyv, yv), expected, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropies_and_their_gradient_ops(context, dtype):
    x, p, g = T.tensor(dtype, (None, None), name="x"), T.tensor(dtype, (None, None), name="p"), \
        T.tensor(dtype, (None,), name="g")
    idx = T.lvector("idx")

    def build(x, p, g, idx):
        return [CrossentropyCategorical1Hot()(p, idx), CrossentropyCategorical1HotGrad()(g, p, idx),
                CrossentropySoftmax1Hot()(x[:, ::2], idx), CrossentropySoftmax1HotDx()(g[::-1], p.T, idx)]
    f = compiled(context, [x, p, g, idx], build)
    assert_ops(f, context, "CrossentropyCategorical1Hot", "CrossentropyCategorical1HotGrad",
               "CrossentropySoftmax1Hot", "CrossentropySoftmax1HotDx")
    xv, gv = random((5, 10), dtype, 4), random((5,), dtype, 5)
    pv = np_softmax(random((5, 5), dtype, 6)).astype(dtype)
    iv = np.array([0, 4, 2, 2, 1])
    xw, pw, gw = xv.astype("float64"), pv.astype("float64"), gv.astype("float64")
    rows = np.arange(5)
    one_hot_grad = np.zeros((5, 5))
    one_hot_grad[rows, iv] = -gw / pw[rows, iv]
    expected = [-np.log(pw[rows, iv]), one_hot_grad, -np_log_softmax(xw[:, ::2])[rows, iv],
                (np_softmax(pw.T) - np_one_hot(iv, 5)) * gw[::-1, None]]
    assert_close(f(xv, pv, gv, iv), expected, dtype)


def test_long_lines_on_vectors_and_their_tails(context):
    # float32 lines of unit step run on vectors on CPU devices: 37 classes are whole
    # vectors and a tail, and the true classes lie in both
    x, dy, g, idx = T.fmatrix("x"), T.fmatrix("dy"), T.fvector("g"), T.lvector("idx")

    def build(x, dy, g, idx):
        return [softmax(x), log_softmax(x), LogSoftmaxGrad(1)(dy, log_softmax(x)),
                CrossentropySoftmax1Hot()(x, idx),
                CrossentropySoftmax1HotDx()(g, x, idx)]
    f = compiled(context, [x, dy, g, idx], build)
    xv, dyv, gv = random((5, 37), "float32", 14), random((5, 37), "float32", 15), random((5,), "float32", 16)
    iv = np.array([0, 20, 36, 33, 15])
    xw, dyw, gw = xv.astype("float64"), dyv.astype("float64"), gv.astype("float64")
    expected = [np_softmax(xw), np_log_softmax(xw), dyw - np_softmax(xw) * dyw.sum(1, keepdims=True),
                -np_log_softmax(xw)[np.arange(5), iv], (np_softmax(xw) - np_one_hot(iv, 37)) * gw[:, None]]
    assert_close(f(xv, dyv, gv, iv), expected, "float32")
    if context.name != "cpu":
        width = SoftmaxKernel("softmax", "float32").vector_width(context.info)
        built = {kernel.name for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuSoftmaxFamily)
                 for kernel in n.op.__dict__.get("_kernel_cache", {}).values()}
        assert all(any(name.startswith(f"softmax_{mode}_") and name.endswith(f"_v{width}") for name in built)
                   for mode in ("softmax", "log_softmax", "log_softmax_grad", "xent_softmax",
                                "xent_softmax_dx")) or width == 1, built


def test_categorical_crossentropy_of_indices_and_of_distributions(context):
    p, idx, true = T.dmatrix("p"), T.ivector("idx"), T.dmatrix("true")
    f = compiled(context, [p, true, idx], lambda p, true, idx: [categorical_crossentropy(p, idx),
                                                                categorical_crossentropy(p, true)])
    pv = np_softmax(random((4, 3), seed=7))
    iv = np.array([2, 0, 1, 1], dtype="int32")
    expected = -np.log(pv[np.arange(4), iv])
    assert_close(f(pv, np_one_hot(iv, 3), iv), [expected, expected], "float64")
    soft = np_softmax(random((4, 3), seed=8))
    assert_close(f(pv, soft, iv)[1:], [-(soft * np.log(pv)).sum(axis=1)], "float64")
    with pytest.raises(TypeError, match="true_dist"):
        categorical_crossentropy(p, T.tensor3())


@pytest.mark.parametrize("repeat", [1, 7], ids=["short lines", "lines on vectors"])
def test_extreme_inputs_give_finite_results(context, repeat):
    x, idx = T.fmatrix("x"), T.lvector("idx")

    def build(x, idx):
        nll, sm = crossentropy_softmax_1hot(x, idx)
        return [sm, log_softmax(x), nll, T.grad(nll.sum(), x), softmax(x, 0)]
    f = compiled(context, [x, idx], build)
    xv = np.tile(np.array([[1e4, 0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, -np.inf], [-np.inf, 3, -np.inf]],
                          "float32"), (1, repeat))
    iv = np.array([2, 0, 1, 1]) + 3 * (repeat - 1)
    sm, lsm, nll, dx, sm0 = f(xv, iv)
    wide = xv.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = [np_softmax(wide), np_log_softmax(wide), -np_log_softmax(wide)[np.arange(4), iv],
                    np_softmax(wide) - np_one_hot(iv, 3 * repeat), np_softmax(wide, 0)]
    for got, want in zip([sm, lsm, nll, dx, sm0], expected):
        assert np.array_equal(np.isfinite(got), np.isfinite(want)), (got, want)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert np.isfinite(sm).all() and np.isfinite(dx).all()
    assert np.array_equal(np.isfinite(lsm), np.isfinite(xv)) and np.isneginf(lsm[~np.isfinite(xv)]).all()
    assert nll[0] == pytest.approx(2e4 + np.log(repeat)) and np.isfinite(nll).all()


def test_empty_inputs(context):
    x = T.fmatrix("x")
    f = compiled(context, [x], lambda x: [softmax(x), log_softmax(x, 0)])
    for shape in [(0, 4), (3, 0)]:
        assert [g.shape for g in f(np.zeros(shape, "float32"))] == [shape, shape]


# -- gradients ----------------------------------------------------------------------------

def test_gradients_are_the_fused_grad_ops(context):
    x, w, idx = T.dmatrix("x"), T.dmatrix("w"), T.lvector("idx")

    def build(x, w, idx):
        return T.grad(T.sum(softmax(x) * w) + T.sum(log_softmax(x, 0) * w)
                      + T.sum(crossentropy_softmax_1hot(x, idx)[0] * w[:, 0]), x)
    f = compiled(context, [x, w, idx], build)
    assert_ops(f, context, "SoftmaxGrad", "LogSoftmaxGrad", "CrossentropySoftmax1HotDx")
    xv, wv, iv = random((4, 3), seed=9), random((4, 3), seed=10), np.array([1, 0, 2, 2])
    sm, sm0 = np_softmax(xv), np_softmax(xv, 0)
    expected = ((wv - (wv * sm).sum(1, keepdims=True)) * sm + wv - sm0 * wv.sum(0, keepdims=True)
                + (sm - np_one_hot(iv, 3)) * wv[:, :1])
    assert_close([f(xv, wv, iv)], [expected], "float64")


VERIFIED = {
    "softmax": (lambda x: softmax(x), [(3, 4)]),
    "softmax axis 0 of a 3-d tensor": (lambda x: softmax(x, 0), [(3, 2, 4)]),
    "log_softmax": (lambda x: log_softmax(x), [(3, 4)]),
    "log_softmax axis 1 of a transpose": (lambda x: log_softmax(x.T, 1), [(3, 4)]),
    "categorical_crossentropy of indices": (
        lambda p: categorical_crossentropy(softmax(p), [2, 0, 1]), [(3, 4)]),
    "categorical_crossentropy of distributions": (
        lambda p, q: categorical_crossentropy(softmax(p), softmax(q)), [(3, 4), (3, 4)]),
    "crossentropy_softmax_1hot": (lambda x: crossentropy_softmax_1hot(x, [3, 0, 1])[0], [(3, 4)]),
    "CrossentropyCategorical1Hot": (lambda p: CrossentropyCategorical1Hot()(T.exp(p), [3, 0, 1]), [(3, 4)]),
    "SoftmaxGrad": (lambda dy, y: SoftmaxGrad(-1)(dy, y), [(3, 4), (3, 4)]),
    "SoftmaxGrad axis 0": (lambda dy, y: SoftmaxGrad(0)(dy, y), [(3, 4), (3, 4)]),
    "LogSoftmaxGrad": (lambda dy, y: LogSoftmaxGrad(1)(dy, y), [(3, 4), (3, 4)]),
    "CrossentropyCategorical1HotGrad": (
        lambda g, p: CrossentropyCategorical1HotGrad()(g, T.exp(p), [3, 0, 1]), [(3,), (3, 4)]),
    "CrossentropySoftmax1HotDx": (lambda g, x: CrossentropySoftmax1HotDx()(g, x, [3, 0, 1]), [(3,), (3, 4)]),
    "second derivative of log_softmax": (lambda x: T.grad(T.sum(log_softmax(x, 0) ** 2), x), [(3, 4)]),
    "second derivative of crossentropy_softmax_1hot": (
        lambda x: T.grad(T.sum(crossentropy_softmax_1hot(x, [3, 0, 1])[0] ** 2), x), [(3, 4)]),
}


@pytest.mark.parametrize("mode", [Mode(linker="py"), None], ids=["reference", "device"])
@pytest.mark.parametrize("name", list(VERIFIED))
def test_verify_grad(name, mode):
    fn, shapes = VERIFIED[name]
    points = [random(shape, seed=11 + k, scale=0.7) for k, shape in enumerate(shapes)]
    verify_grad(fn, points, rng=np.random.default_rng(12), mode=mode)


# -- errors, names ------------------------------------------------------------------------

def test_out_of_range_class_index_names_the_op_row_and_index_and_the_function_goes_on(context):
    x, idx = T.dmatrix("x"), T.lvector("idx")
    f = compiled(context, [x, idx], lambda x, idx: [CrossentropySoftmax1Hot()(x, idx),
                                                    CrossentropyCategorical1Hot()(x, idx)])
    xv = np_softmax(random((3, 4), seed=13))
    for bad, row in [([0, 4, 1], 1), ([0, 1, -1], 2)]:
        with pytest.raises(IndexError, match=rf"CrossentropySoftmax1Hot: class index {bad[row]} of row {row} "
                                             r"is out of range for 4 classes"):
            f(xv, np.array(bad))
    got = f(xv, np.array([3, 0, 1]))
    expected = [-np_log_softmax(xv)[np.arange(3), [3, 0, 1]], -np.log(xv[np.arange(3), [3, 0, 1]])]
    assert_close(got, expected, "float64")


def test_inputs_must_be_floats_and_indices_integer_vectors():
    with pytest.raises(TypeError, match=r"Softmax\{axis=-1\}: x must be a tensor of floats, got .* int32"):
        softmax(T.imatrix())
    with pytest.raises(TypeError, match="true_idx must be a vector of integer class indices"):
        crossentropy_softmax_1hot(T.dmatrix(), T.dvector())
    with pytest.raises(TypeError, match="x must be a matrix"):
        CrossentropySoftmax1Hot()(T.dtensor3(), T.lvector())
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        softmax(T.dmatrix(), 2)


def test_axes_are_normalized_and_ops_print_their_axis():
    x = T.dmatrix("x")
    assert softmax(x).owner.op == Softmax(1) and str(softmax(x).owner.op) == "Softmax{axis=1}"
    assert str(log_softmax(x, -2).owner.op) == "LogSoftmax{axis=0}" and LogSoftmax(0) != Softmax(0)
    f = clgraph.function([x], softmax(x))
    assert "GpuSoftmax{axis=1}" in clgraph.printing.debugprint(f, file="str")


def test_infer_shape():
    x, dy, g, idx = T.dtensor3("x"), T.dtensor3("dy"), T.dvector("g"), T.lvector("idx")
    m = x[0]
    cases = [(softmax(x, 1), [(2, 3, 4)], (2, 3, 4)),
             (LogSoftmaxGrad(0)(dy, x), [(2, 3, 4), (2, 3, 4)], (2, 3, 4)),
             (CrossentropySoftmax1Hot()(m, idx), [(3, 4), (3,)], (3,)),
             (CrossentropyCategorical1HotGrad()(g, m, idx), [(3,), (3, 4), (3,)], (3, 4))]
    for out, shapes, expected in cases:
        assert tuple(out.owner.op.infer_shape(out.owner, shapes)[0]) == expected, out


def test_kernel_sources_of_a_function():
    x, idx = T.fmatrix("x"), T.lvector("idx")
    f = clgraph.function([x, idx], T.grad(crossentropy_softmax_1hot(x, idx)[0].sum(), x))
    names = set(clgraph.printing.kernel_source(f, "opencl"))
    assert {"softmax_xent_softmax_float32_int64_k1", "softmax_xent_softmax_dx_float32_int64_k1"} <= names
    width = SoftmaxKernel("xent_softmax", "float32", "int64").vector_width(clgraph.backends.get_context().info)
    assert width == 1 or f"softmax_xent_softmax_float32_int64_k1_v{width}" in names


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_softmax_kernels_compiles():
    sources = {}
    for mode in MODES:
        indices = ["int64", "int32", "uint8"] if "idx" in MODES[mode].inputs else [None]
        for dtype in ("float16", "float32", "float64"):
            for index_dtype in indices:
                for kept in (1, 3):
                    sources.update([SoftmaxKernel(mode, dtype, index_dtype).source(kept)])
    ptx = nvcc.compile_ptx(sources)
    assert all(f".entry {name}(" in ptx for name in sources)


@pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")
def test_class_indices_on_the_device_are_checked_once_while_unchanged(monkeypatch):
    from clgraph.backends import DeviceArray

    x = T.fmatrix("x")
    labels = clgraph.shared(np.array([0, 2, 1], "int64"), name="labels")   # on the device
    f = clgraph.function([x], T.nnet.categorical_crossentropy(T.nnet.softmax(x), labels))
    (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuSoftmaxFamily)]
    assert hasattr(node.inputs[1].type, "context")   # the labels used where they are, on the device
    value = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    reads = []
    get = DeviceArray.get
    monkeypatch.setattr(DeviceArray, "get", lambda self: reads.append(self.dtype) or get(self))
    expected = -np.log(np.exp(value) / np.exp(value).sum(1, keepdims=True))[[0, 1, 2], [0, 2, 1]]
    for _ in range(3):
        np.testing.assert_allclose(f(value), expected, rtol=1e-5)
    assert reads.count(np.dtype("int64")) == 1   # read back for the check once
    labels.set_value(np.array([0, 4, 1], "int64"))
    with pytest.raises(IndexError, match="class index 4 of row 1 is out of range for 4 classes"):
        f(value)
    labels.set_value(np.array([0, 2, 1], "int64"))
    np.testing.assert_allclose(f(value), expected, rtol=1e-5)
