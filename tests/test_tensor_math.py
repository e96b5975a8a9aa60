"""Reductions, scans and linear algebra of clgraph.tensor.math against numpy."""
import numpy as np
import pytest

import clgraph.tensor as T
from clgraph import config
from clgraph.tensor.math import (CAReduce, CumOp, Dot, MatMul, MaxAndArgmax, NumberOfElements,
                                 TensorDot)

RNG = np.random.default_rng(42)
DTYPES = ["float32", "float64", "int32", "int64"]
AXES_3D = [None, 0, 1, 2, -1, -3, (0, 2), (2, 0), (-1, 1), (0, 1, 2), ()]


def data(shape, dtype, low=-3, high=4):
    """Random values of ``dtype``: small integers for int dtypes (products stay exact)."""
    dtype = np.dtype(dtype)
    if dtype == bool:
        return RNG.random(shape) > 0.5
    if dtype.kind in "iu":
        return RNG.integers(builtin_max(low, 0) if dtype.kind == "u" else low, high, shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


builtin_max = max


def var_of(value, name="x"):
    value = np.asarray(value)
    return T.tensor(str(value.dtype), (None,) * value.ndim, name=name)


def check(result, expected, dtype=None, rtol=None):
    """Same dtype (numpy's or ``dtype``), same shape, values close for the dtype."""
    expected = np.asarray(expected)
    assert isinstance(result, np.ndarray), type(result)
    assert result.dtype == np.dtype(dtype or expected.dtype), (result.dtype, dtype or expected.dtype)
    assert result.shape == expected.shape, (result.shape, expected.shape)
    if result.dtype.kind in "fc":
        rtol = rtol or (1e-5 if result.dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(result, expected.astype(result.dtype), rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(result, expected)


def run(build, *values):
    """``build`` applied to symbolic inputs of ``values``'s types, evaluated on them."""
    variables = [var_of(v, f"x{i}") for i, v in enumerate(values)]
    out = build(*variables)
    outs = out if isinstance(out, list) else [out]
    results = [o.eval(dict(zip(variables, values))) for o in outs]
    return results if isinstance(out, list) else results[0]


# ---------------------------------------------------------------------------------------
# the source document's examples

def test_seed_max_examples():
    with config.change_flags(floatX="float32"):
        a = T.matrix("a")
        check(T.max(a).eval({a: [[1, 2], [3, 4]]}), np.float32(4.0))
        check(T.max(a, axis=0).eval({a: [[1, 2], [3, 4]]}), np.float32([3, 4]))
        check(T.max(a, axis=1).eval({a: [[1, 2], [3, 4]]}), np.float32([2, 4]))
        assert repr(T.max(a).eval({a: [[1, 2], [3, 4]]})) == "array(4., dtype=float32)"


def test_seed_reductions_exist_and_agree():
    with config.change_flags(floatX="float32"):
        a = T.matrix("a")
        value = np.float32([[1, 2], [3, 4]])
        mx, amx = T.max_and_argmax(a)
        check(mx.eval({a: value}), np.float32(4))
        check(amx.eval({a: value}), np.int64(3))
        for name, expected in [("min", 1), ("sum", 10), ("prod", 24), ("mean", 2.5), ("var", 1.25),
                               ("std", np.sqrt(1.25)), ("ptp", 3)]:
            check(getattr(T, name)(a).eval({a: value}), np.float32(expected))
        check(T.argmin(a).eval({a: value}), np.int64(0))
        check(T.all(a).eval({a: value}), np.True_)
        check(T.any(a).eval({a: value}), np.True_)


# ---------------------------------------------------------------------------------------
# sum and prod

@pytest.mark.parametrize("dtype", DTYPES + ["int8", "uint8", "bool", "float16"])
@pytest.mark.parametrize("name", ["sum", "prod"])
def test_sum_prod_like_numpy(name, dtype):
    value = data((2, 3, 4), dtype, -2, 3)
    for axis in AXES_3D:
        for keepdims in (False, True):
            expected = getattr(np, name)(value, axis=axis, keepdims=keepdims)
            result = run(lambda x: getattr(T, name)(x, axis=axis, keepdims=keepdims), value)
            check(result, expected, rtol=1e-2 if dtype == "float16" else None)


def test_sum_and_prod_dtypes_follow_numpy():
    for dtype, want in [("bool", "int64"), ("int8", "int64"), ("int16", "int64"), ("int32", "int64"),
                        ("int64", "int64"), ("uint8", "uint64"), ("uint32", "uint64"),
                        ("float16", "float16"), ("float32", "float32"), ("float64", "float64")]:
        x = T.vector(dtype=dtype)
        assert T.sum(x).dtype == want == str(np.sum(np.zeros(1, dtype)).dtype), dtype
        assert T.prod(x).dtype == want, dtype


def test_sum_dtype_is_the_output_dtype():
    value = np.int8([100, 100, 100])
    x = var_of(value)
    check(T.sum(x).eval({x: value}), np.int64(300))
    check(T.sum(x, dtype="int8").eval({x: value}), np.sum(value, dtype="int8"))   # wraps as numpy
    check(T.sum(x, dtype="float32").eval({x: value}), np.float32(300))
    f = np.float32([1, 2, 3])
    y = var_of(f)
    check(T.sum(y, dtype="float64").eval({y: f}), np.float64(6))
    check(T.prod(y, dtype="int32").eval({y: f}), np.int32(6))
    assert T.sum(y, dtype="floatX").dtype == config.floatX


def test_acc_dtype_accumulates_then_casts():
    value = np.int8([100, 100])
    x = var_of(value)
    check(T.sum(x).eval({x: value}), np.int64(200))
    # accumulating in int8 wraps (200 -> -56), then the result is cast to int64
    check(T.sum(x, acc_dtype="int8").eval({x: value}), np.int64(-56))
    check(T.sum(x, acc_dtype="float64").eval({x: value}), np.int64(200))
    check(T.prod(x, acc_dtype="int16").eval({x: value}), np.int64(np.int16(10000)))
    big = np.float32([1e8, 1, -1e8])
    y = var_of(big)
    check(T.sum(y, acc_dtype="float64").eval({y: big}), np.float32(1))
    node = T.sum(y, acc_dtype="float64").owner
    assert node.op.output_dtypes("float32") == (np.float32, np.float64)


def test_acc_dtype_that_loses_precision_is_refused():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="Sum.*float64.*acc_dtype float32.*precision"):
        T.sum(x, acc_dtype="float32")
    with pytest.raises(TypeError, match="Prod.*int64.*acc_dtype int32"):
        T.prod(T.lvector(), acc_dtype="int32")
    with pytest.raises(TypeError, match="acc_dtype"):
        T.sum(T.fvector(), acc_dtype="int64")


def test_prod_no_zeros_in_input_is_a_prop():
    x = T.dvector()
    a, b = T.prod(x, no_zeros_in_input=True), T.prod(x)
    assert a.owner.op != b.owner.op
    assert "no_zeros_in_input=True" in str(a.owner.op)
    check(a.eval({x: np.float64([2, 3])}), np.float64(6))
    with pytest.raises(TypeError, match="Prod only"):
        CAReduce("add", (0,), no_zeros_in_input=True)


# ---------------------------------------------------------------------------------------
# max, min, argmax, argmin, all, any, ptp

@pytest.mark.parametrize("dtype", DTYPES + ["uint8", "bool"])
def test_max_min_all_any_like_numpy(dtype):
    value = data((3, 2, 4), dtype)
    for axis in AXES_3D:
        for keepdims in (False, True):
            for name in ("max", "min", "all", "any"):
                expected = getattr(np, name)(value, axis=axis, keepdims=keepdims)
                check(run(lambda x: getattr(T, name)(x, axis=axis, keepdims=keepdims), value), expected)
            if dtype != "bool":
                expected = np.ptp(value, axis=axis, keepdims=keepdims)
                check(run(lambda x: T.ptp(x, axis=axis, keepdims=keepdims), value), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax_argmin_like_numpy(dtype):
    value = data((3, 5, 4), dtype, -50, 50)
    for axis in [None, 0, 1, 2, -1, -2]:
        for keepdims in (False, True):
            for name in ("argmax", "argmin"):
                expected = getattr(np, name)(value, axis=axis, keepdims=keepdims).astype("int64")
                check(run(lambda x: getattr(T, name)(x, axis=axis, keepdims=keepdims), value), expected)
            mx, amx = run(lambda x: T.max_and_argmax(x, axis=axis, keepdims=keepdims), value)
            check(mx, np.max(value, axis=axis, keepdims=keepdims))
            check(amx, np.argmax(value, axis=axis, keepdims=keepdims).astype("int64"))


def test_argmax_over_a_tuple_of_axes_flattens_them():
    value = data((3, 4, 5), "float64")
    for axes in [(0, 2), (2, 0), (1, 2), (-1, 0), (0, 1, 2)]:
        normalized = sorted(a % 3 for a in axes)
        kept = [a for a in range(3) if a not in normalized]
        flat = np.transpose(value, kept + normalized).reshape(
            [value.shape[a] for a in kept] + [-1])
        check(run(lambda x: T.argmax(x, axis=axes), value), np.argmax(flat, -1).astype("int64"))
        check(run(lambda x: T.argmin(x, axis=axes), value), np.argmin(flat, -1).astype("int64"))
        mx, amx = run(lambda x: T.max_and_argmax(x, axis=axes), value)
        check(mx, np.max(value, axis=axes))
    # all axes: numpy's flat index
    check(run(lambda x: T.argmax(x, axis=(0, 1, 2)), value), np.int64(np.argmax(value)))


def test_max_and_argmax_ties_and_nan_as_numpy():
    value = np.float64([[1, 3, 3], [np.nan, 0, 5]])
    for axis in (None, 0, 1):
        check(run(lambda x: T.max(x, axis), value), np.max(value, axis))
        check(run(lambda x: T.min(x, axis), value), np.min(value, axis))
        check(run(lambda x: T.argmax(x, axis), value), np.argmax(value, axis).astype("int64"))
        check(run(lambda x: T.argmin(x, axis), value), np.argmin(value, axis).astype("int64"))


def test_all_any_of_numbers_test_nonzero():
    value = np.float32([[0.0, 0.5], [np.nan, 2.0]])
    for axis in (None, 0, 1):
        check(run(lambda x: T.all(x, axis), value), np.all(value, axis))
        check(run(lambda x: T.any(x, axis), value), np.any(value, axis))
    assert T.all(T.ivector()).dtype == "bool"


# ---------------------------------------------------------------------------------------
# mean, var, std, logsumexp

@pytest.mark.parametrize("dtype", DTYPES + ["bool"])
@pytest.mark.parametrize("floatX", ["float32", "float64"])
def test_mean_var_std_like_numpy(dtype, floatX):
    value = data((4, 3, 2), dtype)
    with config.change_flags(floatX=floatX):
        want = dtype if dtype.startswith("float") else floatX
        rtol = 1e-4 if want == "float32" else 1e-10
        for axis in AXES_3D[:-1]:
            for keepdims in (False, True):
                as_float = value.astype(want)
                check(run(lambda x: T.mean(x, axis=axis, keepdims=keepdims), value),
                      np.mean(as_float, axis=axis, keepdims=keepdims), want, rtol)
                for ddof in (0, 1):
                    for name in ("var", "std"):
                        expected = getattr(np, name)(as_float.astype("float64"), axis=axis,
                                                     keepdims=keepdims, ddof=ddof)
                        check(run(lambda x: getattr(T, name)(x, axis=axis, ddof=ddof, keepdims=keepdims),
                                  value), expected, want, rtol)


def test_mean_dtype_and_acc_dtype():
    value = np.float32([1, 2, 4])
    x = var_of(value)
    check(T.mean(x, dtype="float64").eval({x: value}), np.float64(7 / 3))
    check(T.mean(x, acc_dtype="float64").eval({x: value}), np.float32(7 / 3))
    with config.change_flags(floatX="float32"):
        assert T.mean(T.ivector()).dtype == "float32"
        assert T.mean(T.lmatrix(), axis=0).dtype == "float32"
    with config.change_flags(floatX="float64"):
        assert T.mean(T.ivector()).dtype == "float64"
        assert T.var(T.bvector()).dtype == "float64"


def test_mean_uses_the_static_count_or_counts_at_run_time():
    static = T.tensor("float64", (2, 3))
    counted = T.dmatrix()
    value = np.arange(6.0).reshape(2, 3)
    from clgraph.graph.basic import ancestors

    def counts(out):
        return [v.owner.op for v in ancestors([out]) if v.owner and isinstance(v.owner.op, NumberOfElements)]
    assert counts(T.mean(static, axis=1)) == []
    assert counts(T.mean(counted, axis=1)) == [NumberOfElements((1,))]
    check(T.mean(static, axis=1).eval({static: value}), value.mean(axis=1))
    check(T.mean(counted, axis=1).eval({counted: value}), value.mean(axis=1))
    x = T.tensor3()
    check(NumberOfElements((0, 2))(x).eval({x: np.zeros((2, 3, 4))}), np.int64(8))
    check(NumberOfElements(())(x).eval({x: np.zeros((2, 3, 4))}), np.int64(1))


def test_var_ddof_larger_than_count_is_inf_or_nan_as_numpy():
    value = np.float64([[1.0, 2.0]])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(value, axis=0, ddof=1)
    check(run(lambda x: T.var(x, axis=0, ddof=1), value), expected)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(value, axis=1, ddof=3)
    check(run(lambda x: T.var(x, axis=1, ddof=3), value), expected)


def reference_logsumexp(value, axis, keepdims):
    value = np.asarray(value, dtype="float64")
    top = np.max(value, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        result = np.log(np.sum(np.exp(value - top), axis=axis, keepdims=True)) + top
    return result if keepdims else np.squeeze(result, axis=axis)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_like_the_stable_reference(dtype):
    value = data((3, 4, 2), dtype)
    want = dtype if dtype.startswith("float") else config.floatX
    for axis in AXES_3D[:-1]:
        for keepdims in (False, True):
            check(run(lambda x: T.logsumexp(x, axis=axis, keepdims=keepdims), value),
                  reference_logsumexp(value, axis, keepdims), want, 1e-5)


def test_logsumexp_is_stable_and_handles_infinities():
    value = np.float32([[1000, 1000], [-1000, -1000], [-np.inf, -np.inf], [np.inf, 0], [-np.inf, 0]])
    result = run(lambda x: T.logsumexp(x, axis=1), value)
    check(result, np.float32([1000 + np.log(2), -1000 + np.log(2), -np.inf, np.inf, 0]), rtol=1e-6)
    check(run(lambda x: T.logsumexp(x, axis=1, keepdims=True), value), result[:, None])


# ---------------------------------------------------------------------------------------
# cumsum and cumprod

@pytest.mark.parametrize("dtype", DTYPES + ["int8", "uint8", "bool"])
def test_cumsum_cumprod_like_numpy(dtype):
    value = data((3, 4, 2), dtype, -2, 3)
    for axis in (None, 0, 1, 2, -1, -3):
        for name in ("cumsum", "cumprod"):
            check(run(lambda x: getattr(T, name)(x, axis=axis), value),
                  getattr(np, name)(value, axis=axis))


def test_cumsum_of_scalars_vectors_and_static_shapes():
    check(run(T.cumsum, np.float64(3)), np.cumsum(np.float64(3)))
    check(run(lambda x: x.cumprod(), np.int32([1, 2, 3])), np.int64([1, 2, 6]))
    assert T.cumsum(T.tensor("float32", (2, 3))).type.shape == (6,)
    assert T.cumsum(T.tensor("float32", (2, None))).type.shape == (None,)
    assert T.cumsum(T.tensor("float32", (2, None)), axis=1).type.shape == (2, None)
    assert str(T.cumsum(T.matrix(), axis=-1).owner.op) == "CumOp{1, add}"
    with pytest.raises(ValueError, match="cumsum: axis 2 is out of range for a tensor of 2 dimensions"):
        T.cumsum(T.matrix(), axis=2)
    with pytest.raises(TypeError, match="cumprod: axis must be None or an int"):
        T.cumprod(T.matrix(), axis=(0, 1))


# ---------------------------------------------------------------------------------------
# empty arrays and 0-d inputs

def test_reductions_of_empty_arrays():
    empty = np.zeros((0, 3), dtype="float64")
    for axis in (None, 0, 1):
        for name in ("sum", "prod", "all", "any", "mean"):
            with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if (
                    name == "mean" and axis != 1) else _no_warning():
                expected = getattr(np, name)(empty, axis=axis)
            check(run(lambda x: getattr(T, name)(x, axis=axis), empty), expected)
    check(run(lambda x: T.sum(x, axis=0), np.zeros((0, 2), "int32")), np.int64([0, 0]))
    check(run(lambda x: T.max(x, axis=1), empty), np.zeros((0,)))   # nothing to reduce per row
    check(run(lambda x: T.argmax(x, axis=1), empty), np.zeros((0,), "int64"))
    check(run(T.cumsum, empty), np.zeros((0,)))


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("build, name", [(T.max, "Max"), (T.min, "Min"), (T.ptp, "Max"),
                                         (lambda x: T.max(x, axis=0), "Max{axis=(0,)}"),
                                         (T.argmax, "MaxAndArgmax"), (T.argmin, "MinAndArgmin"),
                                         (lambda x: T.argmax(x, axis=0), "MaxAndArgmax{axis=(0,)}")])
def test_max_and_argmax_of_empty_raise_naming_the_op(build, name):
    x = T.dmatrix("x")
    with pytest.raises(ValueError) as caught:
        build(x).eval({x: np.zeros((0, 3))})
    message = str(caught.value)
    assert name in message and "empty" in message and "(0, 3)" in message, message


def test_zero_dimensional_inputs():
    for dtype in DTYPES:
        value = np.asarray(3, dtype=dtype)
        for name in ("sum", "prod", "max", "min", "argmax", "argmin", "all", "any", "mean", "ptp"):
            expected = getattr(np, name)(value)
            if name == "mean" and dtype.startswith("int"):
                expected = expected.astype(config.floatX)
            check(run(getattr(T, name), value), np.asarray(expected, dtype=np.asarray(expected).dtype
                                                           if name not in ("argmax", "argmin") else "int64"))
        check(run(lambda x: T.sum(x, keepdims=True), value), np.sum(value, keepdims=True))
        check(run(lambda x: T.sum(x, axis=()), value), np.sum(value, axis=()))
    with pytest.raises(ValueError, match="Sum: axis 0 is out of range for a tensor of 0 dimensions"):
        T.sum(T.scalar(), axis=0)


# ---------------------------------------------------------------------------------------
# axes: errors, normalization, static shapes, printing

@pytest.mark.parametrize("build, pattern", [
    (lambda x: T.sum(x, axis=3), r"Sum: axis 3 is out of range for a tensor of 3 dimensions"),
    (lambda x: T.sum(x, axis=-4), r"Sum: axis -4 is out of range for a tensor of 3 dimensions"),
    (lambda x: T.prod(x, axis=(0, 5)), r"Prod: axis 5 is out of range for a tensor of 3 dimensions"),
    (lambda x: T.max(x, axis=(1, 1)), r"Max: axis 1 is repeated in axis=\(1, 1\) \(ndim 3\)"),
    (lambda x: T.min(x, axis=(0, -3)), r"Min: axis 0 is repeated"),
    (lambda x: T.all(x, axis=7), r"All: axis 7 is out of range"),
    (lambda x: T.any(x, axis=(2, -1)), r"Any: axis 2 is repeated"),
    (lambda x: T.argmax(x, axis=3), r"MaxAndArgmax: axis 3 is out of range for a tensor of 3 dimensions"),
    (lambda x: T.argmin(x, axis=(0, 0)), r"MinAndArgmin: axis 0 is repeated"),
    (lambda x: T.mean(x, axis=-5), r"mean: axis -5 is out of range for a tensor of 3 dimensions"),
    (lambda x: T.var(x, axis=(1, 1)), r"var: axis 1 is repeated"),
    (lambda x: T.logsumexp(x, axis=3), r"logsumexp: axis 3 is out of range"),
    (lambda x: T.cumsum(x, axis=-4), r"cumsum: axis -4 is out of range for a tensor of 3 dimensions"),
])
def test_bad_axes_raise_at_build_time_naming_op_axis_and_ndim(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build(T.tensor3("x"))


def test_axis_must_be_an_int():
    with pytest.raises(TypeError, match="Sum: axis must be None, an int or a tuple of ints"):
        T.sum(T.matrix(), axis=1.0)
    with pytest.raises(TypeError, match="Sum: axis must be"):
        T.sum(T.matrix(), axis=True)
    check(run(lambda x: T.sum(x, axis=np.int64(1)), np.ones((2, 3))), np.full(2, 3.0))
    check(run(lambda x: T.sum(x, axis=[0, 1]), np.ones((2, 3))), np.float64(6))


def test_equal_reductions_are_equal_ops_and_print_as_theano():
    x = T.tensor3()
    assert T.sum(x, axis=(2, 0)).owner.op == T.sum(x, axis=(0, -1)).owner.op
    assert T.sum(x).owner.op == T.sum(x, axis=(0, 1, 2)).owner.op
    assert hash(T.max(x, 1).owner.op) == hash(T.max(x, -2).owner.op)
    assert T.sum(x, 1).owner.op != T.prod(x, 1).owner.op
    assert T.sum(x, 1).owner.op != T.sum(x, 1, dtype="float64").owner.op
    assert str(T.sum(x, axis=0).owner.op) == "Sum{axis=(0,)}"
    assert str(T.sum(x, axis=0, dtype="float64", acc_dtype="float64").owner.op) \
        == "Sum{axis=(0,), dtype=float64, acc_dtype=float64}"
    assert str(T.max(x, axis=(2, 1)).owner.op) == "Max{axis=(1, 2)}"
    assert str(T.argmax(x, axis=1).owner.op) == "MaxAndArgmax{axis=(1,)}"
    assert str(T.all(x).owner.op) == "All{axis=(0, 1, 2)}"
    assert str(T.dot(T.matrix(), T.matrix()).owner.op) == "Dot"
    assert isinstance(T.sum(x).owner.op, CAReduce) and isinstance(T.max(x).owner.op, CAReduce)
    assert T.max(x).owner.op.scalar_op.name == "maximum"


def test_static_shapes_of_results():
    x = T.tensor("float32", (2, None, 5))
    assert T.sum(x, axis=1).type.shape == (2, 5)
    assert T.sum(x, axis=1, keepdims=True).type.shape == (2, 1, 5)
    assert T.max(x, keepdims=True).type.shape == (1, 1, 1)
    assert T.argmax(x, axis=-1).type.shape == (2, None)
    assert T.argmax(x, axis=-1).dtype == "int64"
    assert T.mean(x, axis=(0, 2)).type.shape == (None,)
    assert T.logsumexp(x, axis=0).type.shape == (None, 5)
    assert T.dot(T.tensor("float32", (3, 4)), T.tensor("float32", (None, 6))).type.shape == (3, 6)
    assert T.dot(T.tensor("float32", (3, 4)), T.tensor("float32", (4,))).type.shape == (3,)
    assert T.matmul(T.tensor("float32", (1, 3, 4)), T.tensor("float32", (7, 4, 2))).type.shape == (7, 3, 2)
    assert T.tensordot(T.tensor("float32", (2, 3, 4)), T.tensor("float32", (4, 3, 5)),
                       [[1, 2], [1, 0]]).type.shape == (2, 5)
    assert T.batched_dot(T.tensor("float32", (None, 3, 4)),
                         T.tensor("float32", (8, 4, 5))).type.shape == (8, 3, 5)


def test_infer_shape():
    x = T.tensor3()
    assert T.sum(x, axis=(0, 2)).owner.op.infer_shape(None, [(2, 3, 4)]) == [(3,)]
    assert MaxAndArgmax((1,)).infer_shape(None, [(2, 3, 4)]) == [(2, 4), (2, 4)]
    assert CumOp(None).infer_shape(None, [(2, 3, 4)]) == [(24,)]
    assert Dot().infer_shape(None, [(2, 3), (3, 5)]) == [(2, 5)]
    assert MatMul().infer_shape(None, [(1, 3, 4), (6, 4, 5)]) == [(6, 3, 5)]
    assert MatMul().infer_shape(None, [(4,), (2, 6, 4, 5)]) == [(2, 6, 5)]
    assert MatMul().infer_shape(None, [(2, 3, 4), (4,)]) == [(2, 3)]
    assert TensorDot(((1,), (1,)), batched=True).infer_shape(None, [(7, 2, 3), (7, 2, 5)]) == [(7, 3, 5)]


def test_methods_and_operators():
    value = data((2, 3), "float64")
    x = var_of(value)
    check(x.sum(axis=0).eval({x: value}), value.sum(axis=0))
    check(x.prod().eval({x: value}), value.prod())
    check(x.max(axis=1, keepdims=True).eval({x: value}), value.max(axis=1, keepdims=True))
    check(x.argmin().eval({x: value}), np.int64(value.argmin()))
    check(x.mean(axis=1).eval({x: value}), value.mean(axis=1))
    check(x.std().eval({x: value}), value.std())
    check(x.cumsum(axis=1).eval({x: value}), value.cumsum(axis=1))
    check(x.ptp(axis=0).eval({x: value}), np.ptp(value, axis=0))
    y = T.dmatrix()
    other = data((3, 4), "float64")
    check((x @ y).eval({x: value, y: other}), value @ other)
    check(x.dot(y).eval({x: value, y: other}), value.dot(other))
    check(x.size.eval({x: value}), np.int64(6))


# ---------------------------------------------------------------------------------------
# dot, matmul, outer, tensordot

SHAPES_BY_NDIM = {0: (), 1: (4,), 2: (3, 4), 3: (2, 3, 4)}
RIGHT_BY_NDIM = {0: (), 1: (4,), 2: (4, 5), 3: (2, 4, 5)}


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float64"), ("int32", "int32"),
                                    ("int64", "int64"), ("int32", "float32"), ("float32", "float64"),
                                    ("int64", "float32")])
def test_dot_like_numpy_for_every_ndim(dtypes):
    for a_ndim in range(4):
        for b_ndim in range(4):
            a = data(SHAPES_BY_NDIM[a_ndim], dtypes[0])
            b = data(RIGHT_BY_NDIM[b_ndim], dtypes[1])
            expected = np.dot(a, b)
            check(run(T.dot, a, b), expected, rtol=1e-4 if "float32" in dtypes else None)


def test_dot_of_vectors_and_matrices_is_the_dot_op():
    assert isinstance(T.dot(T.vector(), T.vector()).owner.op, Dot)
    assert T.dot(T.vector(), T.vector()).ndim == 0
    assert isinstance(T.dot(T.matrix(), T.vector()).owner.op, Dot)
    assert isinstance(T.dot(T.tensor3(), T.matrix()).owner.op, TensorDot)
    assert T.dot(T.scalar(), T.matrix()).owner.op.scalar_op.name == "mul"


@pytest.mark.parametrize("a_shape, b_shape", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)),
                                              ((3,), (4, 2)), ((2, 2, 3), (4, 5))])
def test_dot_static_shape_mismatch_raises_at_build_time(a_shape, b_shape):
    a, b = T.tensor("float64", a_shape, "a"), T.tensor("float64", b_shape, "b")
    with pytest.raises(ValueError) as caught:
        T.dot(a, b)
    message = str(caught.value)
    assert str(a_shape) in message and str(b_shape) in message and "not aligned" in message, message


def test_dot_shape_mismatch_raises_at_run_time_naming_the_op():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    with pytest.raises(ValueError, match=r"Dot.*\(2, 3\).*\(4, 5\).*not aligned"):
        T.dot(a, b).eval({a: np.ones((2, 3)), b: np.ones((4, 5))})
    x, y = T.dtensor3("x"), T.dtensor3("y")
    with pytest.raises(ValueError, match=r"MatMul.*\(2, 3, 4\).*\(2, 5, 6\)"):
        T.matmul(x, y).eval({x: np.ones((2, 3, 4)), y: np.ones((2, 5, 6))})
    with pytest.raises(ValueError, match=r"TensorDot.*not aligned"):
        T.tensordot(x, y, 1).eval({x: np.ones((2, 3, 4)), y: np.ones((5, 2, 6))})
    with pytest.raises(ValueError, match=r"BatchedTensorDot.*not aligned"):
        T.batched_dot(x, y).eval({x: np.ones((2, 3, 4)), y: np.ones((3, 4, 6))})


@pytest.mark.parametrize("a_shape, b_shape", [
    ((3, 4), (4, 5)), ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)),
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (6, 4, 5)),
    ((6, 1, 3, 4), (7, 4, 2)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((0, 3, 4), (4, 2))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_like_numpy(a_shape, b_shape, dtype):
    a, b = data(a_shape, dtype), data(b_shape, dtype)
    check(run(T.matmul, a, b), np.matmul(a, b), rtol=1e-4 if dtype == "float32" else None)
    check(run(lambda x, y: x @ y, a, b), a @ b, rtol=1e-4 if dtype == "float32" else None)


def test_matmul_errors():
    with pytest.raises(TypeError, match="MatMul does not take scalars"):
        T.matmul(T.scalar(), T.tensor3())
    with pytest.raises(ValueError, match=r"MatMul.*\(2, 3, 4\).*\(2, 5, 6\).*not aligned"):
        T.matmul(T.tensor("float64", (2, 3, 4)), T.tensor("float64", (2, 5, 6)))
    with pytest.raises(ValueError, match=r"MatMul: batch dimensions .* do not broadcast: 2 != 3"):
        T.matmul(T.tensor("float64", (2, 3, 4)), T.tensor("float64", (3, 4, 6)))


def test_outer_like_numpy():
    for dtype in DTYPES:
        x, y = data((3,), dtype), data((4,), dtype)
        check(run(T.outer, x, y), np.outer(x, y))
    check(run(T.outer, np.float64(2), np.float64([1, 2])), np.outer(2.0, [1.0, 2.0]))
    check(run(T.outer, np.int32([1, 2]), np.float32([1, 2, 3])), np.outer(np.int32([1, 2]), np.float32([1, 2, 3])))


def test_outer_flattens_matrices():
    x, y = data((2, 3), "float64"), data((2, 2), "float64")
    try:
        result = run(T.outer, x, y)
    except (AttributeError, NotImplementedError) as exc:   # flatten lives in shape_ops
        pytest.skip(f"flatten is not available yet: {exc}")
    check(result, np.outer(x, y))


@pytest.mark.parametrize("a_shape, b_shape, axes", [
    ((3, 4, 5), (4, 5, 2), 2), ((3, 4), (4, 2), 1), ((3, 4), (5, 2), 0), ((2, 3), (2, 3), 2),
    ((3, 4, 5), (5, 4, 2), [[1, 2], [1, 0]]), ((3, 4, 5), (2, 3), [[0], [1]]),
    ((3, 4, 5), (5, 3), [[-1, 0], [0, -1]]), ((3, 4), (3, 4), ([0, 1], [0, 1])),
    ((3, 4, 5), (5,), (2, 0)), ((4,), (4, 3), 1)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_tensordot_like_numpy(a_shape, b_shape, axes, dtype):
    a, b = data(a_shape, dtype), data(b_shape, dtype)
    check(run(lambda x, y: T.tensordot(x, y, axes), a, b), np.tensordot(a, b, axes),
          rtol=1e-4 if dtype == "float32" else None)


def test_tensordot_errors():
    a, b = T.tensor("float64", (3, 4, 5), "a"), T.tensor("float64", (4, 6), "b")
    with pytest.raises(ValueError, match=r"TensorDot: shapes \(3, 4, 5\) and \(4, 6\) are not aligned"):
        T.tensordot(a, b, [[2], [0]])
    with pytest.raises(ValueError, match="tensordot: cannot contract 3 axes"):
        T.tensordot(a, b, 3)
    with pytest.raises(ValueError, match="same length"):
        T.tensordot(a, b, [[1, 2], [0]])
    with pytest.raises(ValueError, match="tensordot: axis 3 is out of range for a tensor of 3 dimensions"):
        T.tensordot(a, b, [[3], [0]])
    with pytest.raises(ValueError, match="tensordot: an axis is repeated"):
        T.tensordot(a, T.dmatrix(), [[1, 1], [0, 1]])
    with pytest.raises(TypeError, match="tensordot: axes must be an int or a pair"):
        T.tensordot(a, b, "x")


# ---------------------------------------------------------------------------------------
# batched_dot and batched_tensordot

def batched_reference(a, b, axes):
    return np.stack([np.tensordot(a[i], b[i], axes) for i in range(a.shape[0])])


@pytest.mark.parametrize("a_shape, b_shape", [
    ((5, 3, 4), (5, 4, 2)), ((5, 4), (5, 4)), ((5, 3, 4), (5, 4)), ((5, 4), (5, 4, 3)),
    ((5, 2, 3, 4), (5, 4, 6)), ((5, 3, 4), (5, 2, 4, 6)), ((0, 3, 4), (0, 4, 2))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_dot_is_dot_per_batch(a_shape, b_shape, dtype):
    a, b = data(a_shape, dtype), data(b_shape, dtype)
    if a.shape[0]:
        expected = np.stack([np.dot(a[i], b[i]) for i in range(a.shape[0])])
    else:
        expected = np.zeros((0, 3, 2), dtype)
    check(run(T.batched_dot, a, b), expected, rtol=1e-4 if dtype == "float32" else None)


def test_batched_dot_with_a_vector_scales_slices():
    a, b = data((5,), "float64"), data((5, 3, 2), "float64")
    check(run(T.batched_dot, a, b), a[:, None, None] * b)
    check(run(T.batched_dot, b, a), b * a[:, None, None])
    with pytest.raises(TypeError, match="batched_dot: .* is a scalar"):
        T.batched_dot(T.scalar(), T.matrix())


@pytest.mark.parametrize("a_shape, b_shape, axes, per_batch", [
    ((4, 3, 5), (4, 5, 2), 1, 1),
    ((4, 3, 5, 6), (4, 5, 6, 2), 2, 2),
    ((4, 3, 5, 6), (4, 6, 2, 5), [[2, 3], [3, 1]], [[1, 2], [2, 0]]),
    ((4, 3, 5), (4, 2, 3), [[1], [2]], [[0], [1]]),
    ((4, 3, 5), (4, 2, 3), [[-2], [-1]], [[0], [1]]),
    ((4, 5), (4, 5), [[1], [1]], [[0], [0]])])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_batched_tensordot_like_per_batch_tensordot(a_shape, b_shape, axes, per_batch, dtype):
    a, b = data(a_shape, dtype), data(b_shape, dtype)
    check(run(lambda x, y: T.batched_tensordot(x, y, axes), a, b), batched_reference(a, b, per_batch))


def test_batched_tensordot_errors():
    x, y = T.tensor("float64", (4, 3, 5), "x"), T.tensor("float64", (6, 5, 2), "y")
    with pytest.raises(ValueError, match=r"BatchedTensorDot: shapes \(4, 3, 5\) and \(6, 5, 2\) are not aligned: "
                                         r"axis 0 of x has length 4 but axis 0 of y has length 6"):
        T.batched_tensordot(x, y, [[2], [1]])
    with pytest.raises(ValueError, match="batched_tensordot: axis 0 of .* is the batch axis"):
        T.batched_tensordot(T.tensor3(), T.tensor3(), [[0], [1]])
    with pytest.raises(ValueError, match="batched_tensordot: cannot contract 3 axes"):
        T.batched_tensordot(T.tensor3(), T.tensor3(), 3)
    with pytest.raises(TypeError, match="batched_tensordot: .* is a scalar"):
        T.batched_tensordot(T.scalar(), T.tensor3(), 1)


def test_linear_algebra_dtype_is_the_upcast():
    assert T.dot(T.imatrix(), T.fmatrix()).dtype == "float64"
    assert T.dot(T.bmatrix(), T.imatrix()).dtype == "int32"
    assert T.matmul(T.ftensor3(), T.ftensor3()).dtype == "float32"
    assert T.tensordot(T.ltensor3(), T.dtensor3()).dtype == "float64"
    assert T.batched_dot(T.ftensor3(), T.dtensor3()).dtype == "float64"
