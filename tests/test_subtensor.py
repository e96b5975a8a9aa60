"""Indexing against numpy: basic and advanced keys, set/inc_subtensor, nonzero and take,
and the errors they give at build time and at run time."""
import itertools

import numpy as np
import pytest

import clgraph.tensor as T
from clgraph.graph.basic import ancestors, clone_replace
from clgraph.printing import pp
from clgraph.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor,
                                      Nonzero, ScalarIndex, Subtensor)

DTYPES = ["float32", "float64", "int32", "int64"]


def data(shape, dtype, seed=0):
    values = np.random.default_rng(seed).integers(-9, 10, size=shape)
    return values.astype(dtype) if dtype != "float32" else (values / 4).astype(dtype)


def check(result, expected):
    """``result`` is exactly numpy's ``expected``: values, dtype and shape."""
    expected = np.asarray(expected)
    assert isinstance(result, np.ndarray)
    assert result.dtype == expected.dtype, (result.dtype, expected.dtype)
    assert result.shape == expected.shape, (result.shape, expected.shape)
    np.testing.assert_array_equal(result, expected)


def check_static(var, value):
    """The static shape of ``var`` agrees with its value."""
    assert var.ndim == value.ndim
    assert all(s is None or s == n for s, n in zip(var.type.shape, value.shape)), \
        (var.type.shape, value.shape)


BASIC_KEYS = [
    0, -1, 3, (1, 2), (1, 2, 3), (-1, -1, -1), slice(1, 3), slice(None, None, -1),
    (slice(None), slice(None, None, -2)), (slice(3, 0, -1), 1, slice(None, 2)),
    (slice(-2, None), slice(None, -1)), (slice(None, -10),), slice(10, 20), slice(3, 1),
    (slice(None), slice(1, 1)), (Ellipsis, 0), (0, Ellipsis), (1, Ellipsis, slice(None, None, -1)),
    Ellipsis, (), None, (None, 0, None), (slice(1, None), None, Ellipsis, slice(None, 2)),
    (Ellipsis, None), (np.int64(2), np.int32(-1)), (slice(np.int64(1), np.int8(4), 2),),
    (slice(-100, 100, 3), slice(100, -100, -2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_basic_indexing_matches_numpy(dtype):
    value = data((4, 5, 6), dtype)
    x = T.tensor(dtype, (None, None, None), "x")
    xs = T.tensor(dtype, (4, 5, 6), "xs")   # static shape: static result shapes
    for key in BASIC_KEYS:
        for var in (x, xs):
            out = var[key]
            assert isinstance(out.owner.op, Subtensor)
            result = out.eval({var: value})
            check(result, value[key])
            check_static(out, result)
        assert None not in xs[key].type.shape, (key, xs[key].type.shape)


def test_basic_indexing_of_constants_scalars_and_vectors():
    c = T.constant(np.arange(10).reshape(5, 2))
    check(c[::-1].eval(), np.arange(10).reshape(5, 2)[::-1])
    s = T.dscalar("s")
    check(s[()].eval({s: 2.5}), np.float64(2.5) * np.ones(()))
    check(s[None].eval({s: 2.5}), np.array([2.5]))
    check(s[...].eval({s: 2.5}), np.array(2.5))
    v = T.ivector("v")
    value = np.arange(7, dtype="int32")
    check(v[2].eval({v: value}), value[2])
    assert v[2].ndim == 0 and v[2].dtype == "int32"


def test_static_shapes():
    x = T.tensor("float32", (4, None), "x")
    i = T.lscalar("i")
    assert x[1:3].type.shape == (2, None)
    assert x[::-1].type.shape == (4, None)
    assert x[i:].type.shape == (None, None)
    assert x[i].type.shape == (None,)
    assert x[None, :, 0].type.shape == (1, 4)
    assert x[10:].type.shape == (0, None)
    assert x[[0, 1, 1]].type.shape == (3, None)
    assert x[np.array([True, False, True, True])].type.shape == (3, None)
    assert x[T.bvector() > 0].type.shape == (None, None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_symbolic_start_stop_step(dtype):
    value = data((7, 3), dtype)
    x = T.tensor(dtype, (None, None), "x")
    start, stop, step = T.iscalar("start"), T.lscalar("stop"), T.iscalar("step")
    full = x[start:stop:step]
    assert str(full.owner.op) == "Subtensor{int32:int64:int32}"
    for a in (-9, -3, 0, 2, 6, 9):
        for b in (-9, -2, 0, 3, 7, 20):
            for c in (-3, -1, 1, 2):
                check(full.eval({x: value, start: a, stop: b, step: c}), value[a:b:c])
    for c in (-2, 1, 3):
        check(x[::step].eval({x: value, step: c}), value[::c])
    check(x[1:, start].eval({x: value, start: -1}), value[1:, -1])
    check(x[start, stop].eval({x: value, start: -2, stop: 1}), value[-2, 1])
    check(x[T.constant(2)].eval({x: value}), value[2])
    check(x[:, T.constant(np.int64(-1)):].eval({x: value}), value[:, -1:])


def test_symbolic_shape_entries():
    x = T.matrix("x")
    t = T.tensor3("t", dtype="int32")
    value = np.zeros((3, 5), x.dtype)
    for key, expected in [(0, 3), (-1, 5), (1, 5), (-2, 3)]:
        out = x.shape[key]
        assert out.ndim == 0 and out.dtype == "int64"
        check(out.eval({x: value}), np.int64(expected) * np.ones((), "int64"))
    check(t.shape[-1].eval({t: np.zeros((2, 3, 4), "int32")}), np.array(4))
    check(x[: x.shape[0] - 1].eval({x: value}), value[:2])
    check(x[x.shape[0] - 1].eval({x: np.arange(15.).reshape(3, 5).astype(x.dtype)}),
          np.arange(10., 15.).astype(x.dtype))


def test_infer_shape_of_slices_matches_numpy():
    x = T.matrix("x")
    a, b, c = T.lscalars("a", "b", "c")
    keys = [lambda a, b, c: (slice(a, b, c), 1), lambda a, b, c: (slice(None, None, c), slice(a, None)),
            lambda a, b, c: (slice(a, None, -1),), lambda a, b, c: (slice(-2, b), slice(None, None, 2))]
    for make in keys:
        out = x[make(a, b, c)]
        node = out.owner
        (shape,) = node.op.infer_shape(node, [(x.shape[0], x.shape[1])] + [()] * (node.nin - 1))
        assert len(shape) == out.ndim
        for n in (0, 1, 5):
            value = np.zeros((n, 4), x.dtype)
            for av, bv, cv in itertools.product((-7, -1, 0, 2, 9), (-6, -1, 0, 3, 8), (-2, -1, 1, 3)):
                given = {x: value, a: av, b: bv, c: cv}
                got = tuple(length if isinstance(length, int) else
                            int(length.eval({k: v for k, v in given.items() if k in ancestors([length])}))
                            for length in shape)
                assert got == value[make(av, bv, cv)].shape, (make(av, bv, cv), n, got)


ADVANCED_KEYS = [
    [0, 2, 2, -1], np.array([3, 0]), np.array([[0, 1], [2, 3]]), ([0, 1], [1, 2]),
    (slice(None), [4, 0, 0]), (slice(1, None), [0, -1], 2), (0, slice(None), [1, 2]),
    ([0, 1], slice(None), [1, 2]), (Ellipsis, [1, 0]), ([1, 0], Ellipsis, [2, 3]),
    ([0, 1], None, [0, 1]), (None, [0, 1], [1, 2]), (slice(None, None, -1), np.array([[1], [2]]), [0, 1, 2]),
    [], (np.array([True, False, True, False]),), (np.array([[True, False, True, False, True]] * 4),),
    (slice(None), np.array([False, True, True, False, False]), 1),
    (np.array([1, 3]), np.array([True, False, False, True, False])),
    (Ellipsis, np.array([True, False, True, True, False, False])),
    (slice(None), [0, 1], None, [0, 1]), (slice(1, 4), 0, Ellipsis, [1, 2]),   # advanced axes first
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_advanced_indexing_with_constant_indices(dtype):
    value = data((4, 5, 6), dtype)
    x = T.tensor(dtype, (None, None, None), "x")
    xs = T.tensor(dtype, (4, 5, 6), "xs")
    for key in ADVANCED_KEYS:
        numpy_key = tuple(np.asarray(k) if isinstance(k, list) and k else k for k in
                          (key if isinstance(key, tuple) else (key,)))
        numpy_key = tuple(np.array([], dtype=int) if isinstance(k, list) else k for k in numpy_key)
        for var in (x, xs):
            out = var[key]
            assert isinstance(out.owner.op, AdvancedSubtensor)
            result = out.eval({var: value})
            check(result, value[numpy_key])
            check_static(out, result)


@pytest.mark.parametrize("dtype", DTYPES)
def test_advanced_indexing_with_symbolic_indices(dtype):
    value = data((4, 5, 6), dtype)
    x = T.tensor(dtype, (None, None, None), "x")
    iv, lm, i = T.ivector("iv"), T.lmatrix("lm"), T.lscalar("i")
    mask, mask2 = T.tensor("bool", (None,), "mask"), T.tensor("bool", (None, None), "mask2")
    ivv, lmv = np.array([3, 0, -1, 3], "int32"), np.array([[0, 3], [1, -2]], "int64")
    mv = np.array([True, False, False, True])
    m2v = np.arange(20).reshape(4, 5) % 3 == 0
    cases = [
        (x[iv], {iv: ivv}, value[ivv]), (x[lm], {lm: lmv}, value[lmv]),
        (x[:, lm], {lm: lmv}, value[:, lmv]),
        (x[iv, :, lm[0]], {iv: ivv[:2], lm: lmv}, value[ivv[:2], :, lmv[0]]),
        (x[i, :, iv], {i: -1, iv: ivv}, value[-1, :, ivv]),
        (x[1:, iv[:2], i], {iv: ivv, i: 2}, value[1:, ivv[:2], 2]),
        (x[mask], {mask: mv}, value[mv]), (x[mask2], {mask2: m2v}, value[m2v]),
        (x[mask, 1:3], {mask: mv}, value[mv, 1:3]),
        (x[mask, :, iv[:2]], {mask: mv, iv: ivv}, value[mv, :, ivv[:2]]),
        (x[x > 0], {}, value[value > 0]), (x[T.gt(x[:, :, 0], 0)], {}, value[value[:, :, 0] > 0]),
        (x[[i, 0]], {i: 2}, value[[2, 0]]),
    ]
    for out, given, expected in cases:
        assert isinstance(out.owner.op, AdvancedSubtensor), out.owner.op
        result = out.eval({x: value, **given})
        check(result, expected)
        check_static(out, result)


def test_advanced_indexing_empty_results():
    x = T.matrix("x")
    value = np.arange(12.).reshape(3, 4).astype(x.dtype)
    check(x[[]].eval({x: value}), value[np.array([], int)])
    check(x[np.zeros(3, bool)].eval({x: value}), value[np.zeros(3, bool)])
    check(x[:, np.array([], "int32")].eval({x: value}), value[:, np.array([], "int32")])


def test_op_strings_and_pp():
    x, i = T.matrix("x"), T.lscalar("i")
    assert str(x[::-1].owner.op) == "Subtensor{::-1}"
    assert str(x[i:].owner.op) == "Subtensor{int64:}"
    assert str(x[3:].owner.op) == "Subtensor{3:}"
    assert str(x[1, :, ].owner.op) == "Subtensor{1, :}"
    assert str(x[0:i:2, -1].owner.op) == "Subtensor{0:int64:2, -1}"
    assert str(T.set_subtensor(x[i:], 0).owner.op) == "IncSubtensor{Set;int64:}"
    assert str(T.inc_subtensor(x[2], 1).owner.op) == "IncSubtensor{Inc;2}"
    assert str(x[[0, 1]].owner.op) == "AdvancedSubtensor"
    assert str(T.inc_subtensor(x[[0, 1]], 1).owner.op) == "AdvancedIncSubtensor{inc}"
    assert str(T.set_subtensor(x[[0, 1]], 1).owner.op) == "AdvancedIncSubtensor{set}"
    assert pp(x[i:, ::-1]) == "x[i:, ::-1]"
    assert pp(x[0, 1:3:2]) == "x[0, 1:3:2]"


def test_ops_compare_by_idx_list_and_rebuild_over_new_inputs():
    x, y = T.matrix("x"), T.matrix("y")
    i = T.lscalar("i")
    a, b = x[1:3, i], y[1:3, i]
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert x[1:3].owner.op != x[1:4].owner.op
    assert a.owner.op.idx_list == (slice(1, 3, None), ScalarIndex("int64"))
    assert len({a.owner.op, b.owner.op, x[::-1].owner.op}) == 2
    (c,) = clone_replace([T.set_subtensor(a, 5.0)], {x: y})
    value = np.arange(12.).reshape(4, 3).astype(x.dtype)
    expected = value.copy()
    expected[1:3, 2] = 5
    check(c.eval({y: value, i: 2}), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_set_and_inc_subtensor_basic(dtype):
    value = data((5, 4), dtype)
    x = T.tensor(dtype, (None, None), "x")
    i = T.iscalar("i")
    y_row = data((4,), dtype, seed=1)
    for key, y in [(slice(1, 3), y_row), (slice(None, None, -2), 7), ((0, slice(None)), y_row),
                   ((slice(None), -1), data((5,), dtype, 2)), ((2, 3), 5), (Ellipsis, 1),
                   ((slice(3, 1, -1), slice(1, 3)), data((2, 1), dtype, 3)), (slice(9, 20), 4)]:
        for set_ in (True, False):
            out = (T.set_subtensor if set_ else T.inc_subtensor)(x[key], y)
            assert isinstance(out.owner.op, IncSubtensor)
            assert out.type == x.type
            expected = value.copy()
            if set_:
                expected[key] = y
            else:
                expected[key] += np.asarray(y, dtype)
            check(out.eval({x: value}), expected)
    before = value.copy()
    out = T.inc_subtensor(x[i:, i], 2)
    expected = value.copy()
    expected[-2:, -2] += 2
    check(out.eval({x: value, i: -2}), expected)
    np.testing.assert_array_equal(value, before)   # the input array is never written
    check(x.eval({x: value}), before)


def test_source_document_examples():
    a = T.constant(np.arange(10).reshape(5, 2))
    check(a[::-1].eval(), [[8, 9], [6, 7], [4, 5], [2, 3], [0, 1]])
    check(T.set_subtensor(a[3:], [-1, -1]).eval(),
          np.array([[0, 1], [2, 3], [4, 5], [-1, -1], [-1, -1]]))
    check(T.inc_subtensor(a[3:], [-1, -1]).eval(), np.array([[0, 1], [2, 3], [4, 5], [5, 6], [7, 8]]))
    check(a.eval(), np.arange(10).reshape(5, 2))   # the graph is functional
    b = T.lmatrix("b")
    value = np.arange(10).reshape(5, 2)
    check(T.set_subtensor(b[3:], [-1, -1]).eval({b: value}),
          np.array([[0, 1], [2, 3], [4, 5], [-1, -1], [-1, -1]]))
    check(T.inc_subtensor(b[3:], [-1, -1]).eval({b: value}),
          np.array([[0, 1], [2, 3], [4, 5], [5, 6], [7, 8]]))
    check(value, np.arange(10).reshape(5, 2))
    small = T.imatrix("small")   # a Python list fits an int32 x too
    check(T.set_subtensor(small[3:], [-1, -1]).eval({small: value.astype("int32")}),
          np.array([[0, 1], [2, 3], [4, 5], [-1, -1], [-1, -1]], "int32"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_set_and_inc_subtensor_advanced(dtype):
    value = data((5, 4), dtype)
    x = T.tensor(dtype, (None, None), "x")
    iv = T.lvector("iv")
    mask = T.tensor("bool", (None,), "mask")
    repeated = np.array([1, 3, 1, 1, -1])
    ones = np.ones((5, 4), dtype)
    # repeated indices accumulate in inc_subtensor
    out = T.inc_subtensor(x[iv], ones)
    assert isinstance(out.owner.op, AdvancedIncSubtensor)
    expected = value.copy()
    np.add.at(expected, repeated, ones)
    check(out.eval({x: value, iv: repeated}), expected)
    assert out.eval({x: value, iv: repeated})[1, 0] == value[1, 0] + 3
    # ... unless ignore_duplicates: numpy's x[idx] += y
    out = T.inc_subtensor(x[iv], ones, ignore_duplicates=True)
    expected = value.copy()
    expected[repeated] += ones
    check(out.eval({x: value, iv: repeated}), expected)
    # set_subtensor with repeated indices: numpy's last write wins
    y = data((5, 4), dtype, seed=4)
    out = T.set_subtensor(x[iv], y)
    expected = value.copy()
    expected[repeated] = y
    check(out.eval({x: value, iv: repeated}), expected)
    np.testing.assert_array_equal(out.eval({x: value, iv: repeated})[1], y[3])
    # broadcast y, masks, slices, integers beside arrays: (symbolic key, numpy key, y, inputs)
    positive = value[:, 0] > 0
    for key, numpy_key, yv, given in [
            ((iv, 2), (repeated, 2), 5, {iv: repeated}),
            ((slice(1, None), [0, 0, 3]), (slice(1, None), [0, 0, 3]), data((3,), dtype), {}),
            (mask, positive, data((4,), dtype, 5), {mask: positive}),
            ((slice(None), [1, 1]), (slice(None), [1, 1]), data((1,), dtype, 6), {}),
            ((iv[:, None], [[0, 1]]), (repeated[:, None], [[0, 1]]), 1, {iv: repeated}),
            (x > 0, value > 0, 2, {})]:
        for set_ in (True, False):
            out = (T.set_subtensor if set_ else T.inc_subtensor)(x[key], yv)
            assert isinstance(out.owner.op, AdvancedIncSubtensor) and out.type == x.type
            expected = value.copy()
            if set_:
                expected[numpy_key] = yv
            else:
                np.add.at(expected, numpy_key, np.asarray(yv, dtype))
            check(out.eval({x: value, **given}), expected)


def test_set_subtensor_through_new_axes_and_on_scalars():
    x = T.dvector("x")
    value = np.arange(4.)
    out = T.set_subtensor(x[None, 1:3], [[7., 8.]])
    assert out.type == x.type
    check(out.eval({x: value}), np.array([0., 7., 8., 3.]))
    out = T.inc_subtensor(x[[0, 0], None], [[1.], [2.]])
    assert out.type == x.type
    check(out.eval({x: value}), np.array([3., 1., 2., 3.]))
    s = T.dscalar("s")
    check(T.set_subtensor(s[()], 4).eval({s: 1.}), np.array(4.))
    check(T.inc_subtensor(s[...], 4).eval({s: 1.}), np.array(5.))


def test_y_dtypes_and_casts():
    xf, xi = T.fmatrix("xf"), T.imatrix("xi")
    fv, iv = np.ones((2, 2), "float32"), np.ones((2, 2), "int32")
    check(T.set_subtensor(xf[0], 0.1).eval({xf: fv}), np.array([[0.1, 0.1], [1, 1]], "float32"))
    check(T.inc_subtensor(xf[0], np.int8(3)).eval({xf: fv}), np.array([[4, 4], [1, 1]], "float32"))
    b = T.bvector("b")
    check(T.inc_subtensor(xi[:, 1], b).eval({xi: iv, b: np.array([2, 3], "int8")}),
          np.array([[1, 3], [1, 4]], "int32"))
    check(T.set_subtensor(xi[0], [2.0, 3.0]).eval({xi: iv}), np.array([[2, 3], [1, 1]], "int32"))
    with pytest.raises(TypeError, match=r"set_subtensor|IncSubtensor.*float64.*float32"):
        T.set_subtensor(xf[0], T.dvector("d"))
    with pytest.raises(TypeError, match=r"IncSubtensor\{Inc;0\}: cannot store y of dtype float32 in x "
                                        r"of dtype int32"):
        T.inc_subtensor(xi[0], T.fvector())
    with pytest.raises(TypeError, match=r"IncSubtensor.*dtype float64 in x of dtype int32"):
        T.set_subtensor(xi[0], [1.5, 2.0])
    with pytest.raises(TypeError, match=r"AdvancedIncSubtensor\{set\}.*int64 in x of dtype int32"):
        T.set_subtensor(xi[[0]], np.array([2 ** 40, 1]))
    with pytest.raises(TypeError, match="not numeric"):
        T.set_subtensor(xi[0], "a")


def test_errors_at_build_time():
    x = T.tensor("float64", (3, None), "x")
    with pytest.raises(IndexError, match=r"Subtensor: too many indices for x .*2 dimensions but 3"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"AdvancedSubtensor: too many indices"):
        x[[0], 0, :]
    with pytest.raises(IndexError, match=r"too many indices"):
        x.shape[0, 1]
    with pytest.raises(IndexError, match=r"Subtensor\{3\}: index 3 is out of bounds for axis 0 "
                                         r"with length 3"):
        x[3]
    with pytest.raises(IndexError, match=r"Subtensor\{-4, :\}: index -4 is out of bounds for axis 0"):
        x[-4, :]
    with pytest.raises(IndexError, match=r"Subtensor\{:, 2\}: index 2 is out of bounds for axis 1 with "
                                         r"length 2 \(x of static shape \(None, 2\)\)"):
        T.tensor("int32", (None, 2))[:, 2]
    x[:, 100]   # no static length: checked at run time
    with pytest.raises(IndexError, match=r"Subtensor\{2\}: index 2 is out of bounds for axis 0 "
                                         r"with length 2"):
        T.matrix().shape[2]
    with pytest.raises(IndexError, match=r"AdvancedSubtensor: index -5 is out of bounds for "
                                         r"axis 0 with length 3"):
        x[[0, -5]]
    with pytest.raises(IndexError, match=r"AdvancedSubtensor: boolean index did not match.*axis 0.*3.*2"):
        x[np.array([True, False])]
    with pytest.raises(IndexError, match=r"shape mismatch"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    for bad in [1.0, np.float32(0), T.dscalar(), slice(0, 1.5), slice(T.fscalar(), None),
                [0.5, 1.0], np.array([1.0]), T.fvector(), True]:
        with pytest.raises(TypeError, match=r"float|integer|boolean"):
            x[bad]
    with pytest.raises(TypeError, match="not a valid index"):
        x["a"]


def test_set_subtensor_errors():
    x = T.dmatrix("x")
    xs = T.tensor("float64", (4, 3), "xs")
    for function in (T.set_subtensor, T.inc_subtensor):
        with pytest.raises(TypeError, match=r"(set|inc)_subtensor needs the result of indexing"):
            function(x, 1.0)
        with pytest.raises(TypeError, match=r"needs the result of indexing.*Elemwise"):
            function(x + 1, 1.0)
    with pytest.raises(ValueError, match=r"IncSubtensor\{Set;1:3\}: cannot broadcast y of static "
                                         r"shape \(2,\) to the indexed region of static shape \(2, 3\)"):
        T.set_subtensor(xs[1:3], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"cannot broadcast y of static shape \(3, 3\)"):
        T.inc_subtensor(xs[1:3], np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"AdvancedIncSubtensor\{inc\}: cannot broadcast y"):
        T.inc_subtensor(xs[[0, 1, 1]], np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cannot broadcast y of static shape \(1, 1, 1\)"):
        T.set_subtensor(x[0], np.ones((1, 1, 1)))
    # unknown static lengths: numpy's error at run time, naming the op
    out = T.set_subtensor(x[1:3], T.dvector("y"))
    with pytest.raises(ValueError, match=r"IncSubtensor\{Set;1:3\} failed on inputs of shapes"):
        out.eval({x: np.zeros((4, 3)), out.owner.inputs[1]: np.ones(2)})


def test_errors_at_run_time_name_the_op():
    x, i = T.dmatrix("x"), T.lscalar("i")
    with pytest.raises(IndexError, match=r"Subtensor\{int64\} failed on inputs of shapes "
                                         r"\(2, 3\), \(\).*out of bounds"):
        x[i].eval({x: np.zeros((2, 3)), i: 5})
    with pytest.raises(IndexError, match=r"AdvancedSubtensor failed.*out of bounds"):
        x[:, [0, 7]].eval({x: np.zeros((2, 3))})
    iv = T.lvector("iv")
    with pytest.raises(IndexError, match=r"AdvancedIncSubtensor\{inc\} failed"):
        T.inc_subtensor(x[iv], 1.0).eval({x: np.zeros((2, 3)), iv: np.array([0, 2])})


def test_direct_op_construction_checks_its_inputs():
    x = T.dmatrix("x")
    op = Subtensor([slice(ScalarIndex("int64"), None)])
    with pytest.raises(TypeError, match=r"takes 1 index inputs"):
        op(x)
    with pytest.raises(TypeError, match=r"is not a 0-d int64 scalar"):
        op(x, T.iscalar())
    with pytest.raises(TypeError, match="invalid idx_list entry"):
        Subtensor([Ellipsis])
    check(op(x, T.constant(np.int64(1))).eval({x: np.eye(3)}), np.eye(3)[1:])


@pytest.mark.parametrize("dtype", DTYPES + ["bool"])
def test_nonzero_family(dtype):
    values = [data((3, 4), dtype) if dtype != "bool" else data((3, 4), "int32") > 0,
              np.zeros((2, 0, 3), dtype), np.array([0, 3, 0, 1], dtype)]
    for value in values:
        x = T.tensor(dtype, (None,) * value.ndim, "x")
        rows = T.nonzero(x)
        assert len(rows) == value.ndim and all(r.dtype == "int64" and r.ndim == 1 for r in rows)
        for row, expected in zip(rows, np.nonzero(value)):
            check(row.eval({x: value}), expected.astype("int64"))
        matrix = T.nonzero(x, return_matrix=True)
        assert isinstance(matrix.owner.op, Nonzero) and matrix.type.shape == (value.ndim, None)
        check(matrix.eval({x: value}), np.array(np.nonzero(value), "int64").reshape(value.ndim, -1))
        check(T.flatnonzero(x).eval({x: value}), np.flatnonzero(value).astype("int64"))
        check(T.nonzero_values(x).eval({x: value}), value[value != 0])
        check(x.nonzero()[0].eval({x: value}), np.nonzero(value)[0].astype("int64"))
    s = T.scalar("s", dtype=dtype if dtype != "bool" else "int8")
    check(T.flatnonzero(s).eval({s: 3}), np.flatnonzero(3).astype("int64"))
    with pytest.raises(ValueError, match="Nonzero needs an array of at least one dimension"):
        T.nonzero(s)


@pytest.mark.parametrize("dtype", DTYPES)
def test_take(dtype):
    value = data((3, 4, 2), dtype)
    x = T.tensor(dtype, (None, None, None), "x")
    iv = T.lvector("iv")
    for indices in ([2, 0, -1], np.array([[1, 1], [0, 2]]), 1):
        for axis in (0, 1, -1, -3):
            if np.max(np.abs(indices)) < value.shape[axis]:
                check(T.take(x, indices, axis=axis).eval({x: value}), np.take(value, indices, axis=axis))
    check(T.take(x, iv, axis=1).eval({x: value, iv: np.array([3, 3, 0])}),
          np.take(value, [3, 3, 0], axis=1))
    v = T.tensor(dtype, (None,), "v")
    check(T.take(v, [3, -1]).eval({v: value[0, :, 0]}), np.take(value[0, :, 0], [3, -1]))
    if hasattr(T, "flatten"):
        check(T.take(x, [[5, 23], [0, -2]]).eval({x: value}), np.take(value, [[5, 23], [0, -2]]))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        T.take(x, [0], axis=3)
