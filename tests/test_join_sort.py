"""Joining, stacking and splitting (clgraph.tensor.join), sorting (clgraph.tensor.sort)."""
import numpy as np
import pytest

import clgraph.tensor as T
from clgraph import config
from clgraph.tensor.join import Join, MakeVector, Split
from clgraph.tensor.shape_ops import AxisError
from clgraph.tensor.sort import ArgSortOp, SortOp
from tensor_checks import check, var_like

DTYPES = ["float32", "float64", "int32", "int64"]


def data(shape, dtype, seed=0):
    values = np.random.default_rng(seed).integers(-20, 20, size=shape)
    return values.astype(dtype)


# ------------------------------------------------------------------ seed examples


def test_seed_concatenate_and_stack():
    a = T.arange(10).reshape((5, 2))
    a_value = np.arange(10).reshape(5, 2)
    try:
        b, b_value = a[::-1], a_value[::-1]
    except Exception:                      # indexing is another module: use the same values
        b = T.constant(a_value[::-1].copy())
        b_value = a_value[::-1]
    check(T.concatenate([a, b]).eval(), np.concatenate([a_value, b_value]), "int64")
    check(T.concatenate([a, b], axis=1).eval(),
          [[0, 1, 8, 9], [2, 3, 6, 7], [4, 5, 4, 5], [6, 7, 2, 3], [8, 9, 0, 1]], "int64")
    check(T.stack([a, b]).eval(), np.stack([a_value, b_value]), "int64")
    assert T.stack([a, b]).type.shape == (2, 5, 2)


# ------------------------------------------------------------------ concatenate / join


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_concatenate_matches_numpy(dtype, axis):
    shapes = [(2, 3), (2, 3), (2, 3)]
    shapes = [tuple(n + i if a == axis % 2 else n for a, n in enumerate(s)) for i, s in enumerate(shapes)]
    values = [data(s, dtype, i) for i, s in enumerate(shapes)]
    xs = [var_like(v) for v in values]
    y = T.concatenate(xs, axis=axis)
    assert y.dtype == dtype
    check(y.eval(dict(zip(xs, values))), np.concatenate(values, axis=axis), dtype)
    static = T.concatenate([var_like(v, static=True) for v in values], axis=axis)
    assert static.type.shape == np.concatenate(values, axis=axis).shape
    check(T.join(axis, *xs).eval(dict(zip(xs, values))), np.concatenate(values, axis=axis), dtype)


def test_concatenate_empty_mixed_dtypes_and_static_shapes():
    a = np.zeros((0, 3), "float32")
    b = data((2, 3), "float32")
    x, y = var_like(a), var_like(b)
    check(T.concatenate([x, y]).eval({x: a, y: b}), np.concatenate([a, b]), "float32")
    i = data((1, 3), "int32")
    z = var_like(i)
    mixed = T.concatenate([y, z])
    assert mixed.dtype == "float64"                  # upcast of float32 and int32
    check(mixed.eval({y: b, z: i}), np.concatenate([b, i]), "float64")
    assert T.concatenate([T.ivector(), T.lvector()]).dtype == "int64"
    p, q = T.tensor("float32", (None, 3)), T.tensor("float32", (2, None))
    assert T.concatenate([p, q]).type.shape == (None, 3)
    assert T.concatenate([p, q], axis=1).type.shape == (2, None)
    assert T.concatenate([T.tensor("float32", (2, 3)), T.tensor("float32", (4, None))]).type.shape == (6, 3)
    j = T.concatenate([p, q])
    assert str(j.owner.op) == "Join" and isinstance(j.owner.op, Join)
    v = T.vector()
    assert T.concatenate([v]) is v
    assert T.join(0, v) is v
    check(T.concatenate([[1, 2], np.array([3], "int64")]).eval(), [1, 2, 3], "int64")


def test_join_symbolic_axis():
    a, b = data((2, 3), "float64"), data((2, 1), "float64", 1)
    x, y = var_like(a), var_like(b)
    axis = T.lscalar("axis")
    j = T.join(axis, x, y)
    assert j.type.shape == (None, None)
    check(j.eval({x: a, y: b, axis: 1}), np.concatenate([a, b], axis=1))
    check(j.eval({x: a, y: b, axis: -1}), np.concatenate([a, b], axis=1))
    with pytest.raises(AxisError, match="Join: axis 2 is out of range for a tensor of 2 dimensions"):
        j.eval({x: a, y: b, axis: 2})
    with pytest.raises(ValueError, match=r"Join: cannot join arrays of shapes \(2, 3\), \(2, 1\) along axis 0: "
                                         "they differ on axis 1"):
        j.eval({x: a, y: b, axis: 0})


def test_join_errors():
    m, v = T.matrix(), T.vector()
    with pytest.raises(TypeError, match=r"Join: all tensors must have the same number of dimensions .* got 2, 1 "
                                        r"dimensions \(static shapes \(None, None\), \(None,\)\)"):
        T.concatenate([m, v])
    with pytest.raises(TypeError, match="Join: .*use stack for scalars"):
        T.concatenate([T.scalar(), T.scalar()])
    with pytest.raises(TypeError, match="Join: cannot join scalars"):
        T.concatenate([T.scalar()])
    with pytest.raises(ValueError, match=r"Join: cannot join tensors of static shapes \(2, 3\), \(2, 4\) along "
                                         "axis 0: they differ on axis 1"):
        T.concatenate([T.tensor("float64", (2, 3)), T.tensor("float64", (2, 4))])
    with pytest.raises(AxisError, match="Join: axis 2 is out of range for a tensor of 2 dimensions"):
        T.concatenate([m, m], axis=2)
    with pytest.raises(AxisError, match="Join: axis -3 is out of range for a tensor of 2 dimensions"):
        T.concatenate([m], axis=-3)
    with pytest.raises(TypeError, match="concatenate: tensor_list must be a list or tuple"):
        T.concatenate(m, m)
    with pytest.raises(ValueError, match="concatenate: needs at least one tensor"):
        T.concatenate([])
    with pytest.raises(TypeError, match=r"join\(axis, \*tensors\) takes the tensors as separate arguments"):
        T.join(0, [m, m])
    with pytest.raises(TypeError, match=r"Join: axis must be an integer, got 0\.5"):
        T.join(0.5, m, m)
    with pytest.raises(ValueError, match=r"Join: cannot join arrays of shapes \(2, 3\), \(1, 2\) along axis 0: "
                                         "they differ on axis 1"):
        T.concatenate([m, v.dimshuffle("x", 0)]).eval({m: np.zeros((2, 3)), v: np.zeros(2)})


# ------------------------------------------------------------------ stack, stacklist


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_matches_numpy(dtype, axis):
    values = [data((2, 3), dtype, i) for i in range(3)]
    xs = [var_like(v) for v in values]
    y = T.stack(xs, axis=axis)
    check(y.eval(dict(zip(xs, values))), np.stack(values, axis=axis), dtype)
    assert T.stack([var_like(v, static=True) for v in values], axis).type.shape == \
        np.stack(values, axis=axis).shape


def test_stack_forms():
    a, b = data((2,), "int32"), data((2,), "int32", 1)
    x, y = var_like(a), var_like(b)
    check(T.stack(x, y).eval({x: a, y: b}), np.stack([a, b]), "int32")                 # Theano's old form
    check(T.stack([x, y], 1).eval({x: a, y: b}), np.stack([a, b], 1), "int32")
    check(T.stack((x,)).eval({x: a}), a[None], "int32")
    empty = np.zeros((0, 2), "float32")
    e = var_like(empty)
    check(T.stack([e, e], axis=-1).eval({e: empty}), np.stack([empty, empty], -1), "float32")


def test_stack_scalars_make_a_vector():
    s, t = T.iscalar("s"), T.lscalar("t")
    v = T.stack([s, t, 3])
    assert isinstance(v.owner.op, MakeVector)
    assert str(v.owner.op) == "MakeVector{dtype='int64'}"
    assert v.type.shape == (3,)
    check(v.eval({s: 1, t: 2}), [1, 2, 3], "int64")
    check(T.stack([s, 1]).eval({s: 4}), [4, 1], "int32")
    check(T.stack(1.5, 2.5).eval(), [1.5, 2.5], config.floatX)
    with config.change_flags(floatX="float32"):
        f = T.scalar()
        check(T.stack([f, f]).eval({f: 2}), [2, 2], "float32")
    check(T.stack([s], axis=-1).eval({s: 7}), [7], "int32")
    stacked = T.as_tensor_variable([s, 5])                  # as_tensor_variable of a list with variables
    check(stacked.eval({s: 6}), [6, 5], "int32")
    check(MakeVector("int64")().eval(), np.zeros(0), "int64")
    with pytest.raises(TypeError, match="MakeVector{dtype='int32'}: input .* of dtype int64 does not fit int32"):
        MakeVector("int32")(t)
    with pytest.raises(TypeError, match="MakeVector{dtype='int64'}: inputs must be scalars"):
        MakeVector("int64")(T.lvector())


def test_stack_errors():
    m, v = T.matrix(), T.vector()
    with pytest.raises(TypeError, match="stack: all tensors must have the same number of dimensions, got 2, 1"):
        T.stack([m, v])
    with pytest.raises(TypeError, match="stack: all tensors must have the same number of dimensions, got 0, 1"):
        T.stack([T.scalar(), v])
    with pytest.raises(ValueError, match=r"stack: all tensors must have the same shape, got static shapes "
                                         r"\(2, 3\), \(2, 4\) \(they differ on axis 1\)"):
        T.stack([T.tensor("float64", (2, 3)), T.tensor("float64", (2, 4))])
    with pytest.raises(AxisError, match="stack: axis 3 is out of range for a tensor of 2 dimensions"):
        T.stack([m, m], axis=3)
    with pytest.raises(AxisError, match="stack: axis -4 is out of range for a tensor of 2 dimensions"):
        T.stack([m, m], axis=-4)
    with pytest.raises(AxisError, match="stack: axis 1 is out of range for a tensor of 0 dimensions"):
        T.stack([T.scalar(), T.scalar()], axis=1)
    with pytest.raises(ValueError, match="stack: needs at least one tensor"):
        T.stack([])
    with pytest.raises(TypeError, match="stack.*too many arguments"):
        T.stack([m], 0, 1)
    with pytest.raises(ValueError, match=r"Join: cannot join arrays of shapes \(1, 2, 3\), \(1, 3, 2\)"):
        T.stack([m, m.T]).eval({m: np.zeros((2, 3))})


def test_stacklist():
    a, b, c, d = T.scalars("a", "b", "c", "d")
    x = T.stacklist([[a, b], [c, d]])
    assert x.ndim == 2
    check(x.eval({a: 1, b: 2, c: 3, d: 4}), [[1, 2], [3, 4]], config.floatX)
    v, w = T.ivector(), T.ivector()
    y = T.stacklist([[v, w], [w, v]])
    assert y.type.shape == (2, 2, None)
    check(y.eval({v: [1, 2], w: [3, 4]}), [[[1, 2], [3, 4]], [[3, 4], [1, 2]]], "int32")
    assert T.stacklist(v) is v


# ------------------------------------------------------------------ split


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_split_matches_numpy(dtype, axis):
    value = data((5, 6), dtype)
    length = value.shape[axis]
    sizes = [1, 0, length - 3, 2]
    x = var_like(value)
    pieces = T.split(x, sizes, 4, axis=axis)
    assert isinstance(pieces, list) and len(pieces) == 4
    expected = np.split(value, np.cumsum(sizes)[:-1], axis=axis)
    for piece, want in zip(pieces, expected):
        check(piece.eval({x: value}), want, dtype)
    static = T.split(var_like(value, static=True), sizes, 4, axis=axis)
    assert [p.type.shape for p in static] == [w.shape for w in expected]
    assert str(pieces[0].owner.op) == "Split{4}"


def test_split_symbolic_sizes_and_single_piece():
    value = data((4, 3), "float32")
    x = var_like(value)
    n = T.lscalar("n")
    first, second = T.split(x, [n, 4 - n], 2)
    assert first.type.shape == (None, None)
    check(first.eval({x: value, n: 1}), value[:1], "float32")
    check(second.eval({x: value, n: 1}), value[1:], "float32")
    sizes = T.ivector()
    pieces = T.split(x, T.specify_shape(sizes, (2,)), 2, axis=1)
    check(pieces[1].eval({x: value, sizes: [1, 2]}), value[:, 1:], "float32")
    (whole,) = T.split(x, [4], 1)
    check(whole.eval({x: value}), value, "float32")
    result = whole.eval({x: value})
    assert not np.shares_memory(result, value)
    assert isinstance(whole.owner.op, Split)


def test_split_errors():
    x = T.matrix()
    with pytest.raises(ValueError, match=r"Split\{2\}: the split sizes \(1, 2\) sum to 3, but axis 0 of .* "
                                         r"\(static shape \(4, None\)\) has length 4"):
        T.split(T.tensor("float64", (4, None)), [1, 2], 2)
    with pytest.raises(ValueError, match=r"Split\{3\}: 2 split sizes given for 3 pieces"):
        T.split(x, [1, 2], 3)
    with pytest.raises(ValueError, match=r"Split\{2\}: negative split size in \(-1, 2\)"):
        T.split(x, [-1, 2], 2)
    with pytest.raises(AxisError, match=r"Split\{2\}: axis 2 is out of range for a tensor of 2 dimensions"):
        T.split(x, [1, 2], 2, axis=2)
    with pytest.raises(TypeError, match=r"Split\{1\}: cannot split the scalar"):
        T.split(T.scalar(), [1], 1)
    with pytest.raises(ValueError, match="Split: n_splits must be a positive integer, got 0"):
        T.split(x, [], 0)
    n = T.lscalar()
    pieces = T.split(x, [n, 1], 2, axis=1)
    with pytest.raises(ValueError, match=r"Split\{2\}: the split sizes \[1, 1\] sum to 2, but axis 1 of the "
                                         r"input \(shape \(2, 3\)\) has length 3"):
        pieces[0].eval({x: np.zeros((2, 3)), n: 1})
    v = T.lvector()
    with pytest.raises(ValueError, match=r"Split\{2\}: 3 split sizes given for 2 pieces"):
        T.split(x, v, 2)[0].eval({x: np.zeros((2, 3)), v: [1, 1, 0]})


# ------------------------------------------------------------------ sort, argsort


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, -3, 2])
def test_sort_argsort_match_numpy(dtype, axis):
    value = data((3, 4, 5), dtype)
    x = var_like(value)
    s = T.sort(x, axis)
    a = T.argsort(x, axis)
    check(s.eval({x: value}), np.sort(value, axis=axis), dtype)
    check(a.eval({x: value}), np.argsort(value, axis=axis, kind="stable"), "int64")
    assert a.dtype == "int64"
    static = var_like(value, static=True)
    assert T.sort(static, axis).type.shape == np.sort(value, axis=axis).shape


@pytest.mark.parametrize("kind", ["quicksort", "mergesort", "heapsort", "stable"])
def test_sort_kinds_methods_and_special_values(kind):
    value = np.array([[3.0, np.nan, -1.0, 2.0, -np.inf], [0.0, -0.5, np.inf, 2.0, 2.0]])
    x = T.matrix()
    check(T.sort(x, kind=kind).eval({x: value}), np.sort(value, kind=kind))
    stable = np.array([2, 1, 2, 1, 1, 2], "int32")
    v = T.ivector()
    if kind in ("mergesort", "stable"):
        check(T.argsort(v, kind=kind).eval({v: stable}), [1, 3, 4, 0, 2, 5], "int64")
    check(x.sort().eval({x: value}), np.sort(value))
    check(x.argsort(0).eval({x: value}), np.argsort(value, 0), "int64")
    assert str(T.sort(x, kind=kind).owner.op) == f"SortOp{{{kind}}}"
    assert str(T.argsort(x, kind=kind).owner.op) == f"ArgSortOp{{{kind}}}"


def test_sort_empty_0d_and_symbolic_axis():
    empty = np.zeros((0, 3), "float32")
    e = var_like(empty)
    check(T.sort(e, 0).eval({e: empty}), empty, "float32")
    check(T.argsort(e).eval({e: empty}), np.zeros((0, 3)), "int64")
    s = T.lscalar()
    check(T.sort(s, None).eval({s: 4}), [4], "int64")
    assert T.sort(s, None).type.shape == (1,)
    value = data((3, 4), "float64")
    x = var_like(value)
    axis = T.iscalar("axis")
    check(T.sort(x, axis).eval({x: value, axis: 0}), np.sort(value, 0))
    check(T.argsort(x, axis).eval({x: value, axis: -1}), np.argsort(value, -1), "int64")
    assert isinstance(T.sort(x).owner.op, SortOp) and isinstance(T.argsort(x).owner.op, ArgSortOp)
    assert SortOp("quicksort") == SortOp("quicksort") and SortOp("quicksort") != ArgSortOp("quicksort")


def test_sort_errors():
    x = T.matrix()
    with pytest.raises(AxisError, match=r"SortOp\{quicksort\}: axis 2 is out of range for a tensor of 2 dimensions"):
        T.sort(x, 2)
    with pytest.raises(AxisError, match=r"ArgSortOp\{quicksort\}: axis -3 is out of range"):
        T.argsort(x, -3)
    with pytest.raises(AxisError, match=r"SortOp\{quicksort\}: axis -1 is out of range for a tensor of 0 dimensions"):
        T.sort(T.scalar())
    with pytest.raises(ValueError, match="SortOp: kind 'bubble' is not one of quicksort, mergesort, heapsort, stable"):
        T.sort(x, kind="bubble")
    with pytest.raises(ValueError, match="ArgSortOp: kind 'bubble' is not one of"):
        T.argsort(x, kind="bubble")
    with pytest.raises(TypeError, match=r"SortOp\{quicksort\}: axis must be of an integer dtype, got .* float64"):
        T.sort(x, T.dscalar())
    with pytest.raises(NotImplementedError, match="SortOp: order"):
        T.sort(x, order="f")
    axis = T.lscalar()
    with pytest.raises(AxisError, match=r"SortOp\{quicksort\}: axis 5 is out of range for a tensor of 2 dimensions"):
        T.sort(x, axis).eval({x: np.zeros((2, 2)), axis: 5})


def test_nodes_rebuild_with_the_same_types_and_infer_shape():
    x = T.tensor("float32", (None, 3))
    n = T.lscalar("n")
    outputs = [T.concatenate([x, x]), T.stack([x, x], 1), T.stack([n, 2]), T.sort(x, 0), T.argsort(x)]
    outputs += T.split(x, [n, 1], 2)
    for out in outputs:
        node = out.owner
        rebuilt = node.clone_with_new_inputs(node.inputs)
        assert rebuilt.op == node.op
        assert [o.type for o in rebuilt.outputs] == [o.type for o in node.outputs]
    node = T.concatenate([x, T.tensor("float32", (2, 3))]).owner
    (shape,) = node.op.infer_shape(node, [(), (n, 3), (2, 3)])
    assert shape[1] == 3 and int(shape[0].eval({n: 4})) == 6
    node = T.split(T.tensor("float32", (5, 3)), [2, 3], 2)[0].owner
    assert node.op.infer_shape(node, [(5, 3), (), (2,)]) == [(2, 3), (3, 3)]
    node = T.stack([n, n, n]).owner
    assert node.op.infer_shape(node, [(), (), ()]) == [(3,)]
