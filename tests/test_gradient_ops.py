"""Each op's gradient against central finite differences (verify_grad), on the host
reference (FAST_COMPILE), and a representative set on the default device."""
import numpy as np
import pytest

import clgraph.tensor as T
from clgraph.gradient import verify_grad
from clgraph.scalar import SCALAR_OPS, Composite
from clgraph.tensor.elemwise import Elemwise

HOST = "FAST_COMPILE"


def points(*shapes, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, shape) for shape in shapes]


def check(fn, pts, mode=HOST, **kwargs):
    verify_grad(fn, pts, rng=np.random.default_rng(1), mode=mode, **kwargs)


# -- elementwise ----------------------------------------------------------------------

UNARY_DOMAINS = {  # name -> (low, high) where the function is smooth
    "neg": (-2, 2), "abs": (0.2, 2), "sqr": (-2, 2), "inv": (0.5, 2), "sqrt": (0.5, 2),
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.5, 2), "log2": (0.5, 2),
    "log10": (0.5, 2), "log1p": (-0.5, 2), "erf": (-2, 2), "erfc": (-2, 2), "cos": (-2, 2),
    "sin": (-2, 2), "tan": (-1, 1), "arccos": (-0.9, 0.9), "arcsin": (-0.9, 0.9),
    "arctan": (-2, 2), "cosh": (-2, 2), "sinh": (-2, 2), "tanh": (-2, 2), "arccosh": (1.5, 3),
    "arcsinh": (-2, 2), "arctanh": (-0.9, 0.9),
}


@pytest.mark.parametrize("name", sorted(UNARY_DOMAINS))
def test_unary(name):
    low, high = UNARY_DOMAINS[name]
    check(getattr(T, name), points((3, 4), low=low, high=high))


def test_abs_of_negative_values():
    check(T.abs, points((5,), low=-2, high=-0.2))


BINARY = {  # name -> function, (low, high) of both inputs
    "add": (T.add, (-2, 2)), "sub": (T.sub, (-2, 2)), "mul": (T.mul, (-2, 2)),
    "true_div": (T.true_div, (0.5, 2)), "pow": (T.pow, (0.5, 2)), "arctan2": (T.arctan2, (0.5, 2)),
    "maximum": (T.maximum, (-2, 2)), "minimum": (T.minimum, (-2, 2)),
    "mod": (lambda x, y: T.mod(x, y + 2.0), (0.1, 0.9)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name):
    fn, (low, high) = BINARY[name]
    check(fn, points((3, 4), (3, 4), low=low, high=high))


def test_nary_add_and_mul():
    check(lambda x, y, z: x * y * z + x + y + z, points((2, 3), (2, 3), (2, 3)))


def test_broadcasting_sums_over_broadcast_axes():
    check(lambda x, row, col, v, s: x * row + col * v - s, points((3, 4), (1, 4), (3, 1), (4,), ()))


def test_clip_gradient_goes_to_the_active_bound():
    check(T.clip, [np.array([-3.0, -0.5, 0.4, 2.5]), np.array([-1.0] * 4), np.array([1.0] * 4)])


def test_switch_branches_get_the_gradient():
    check(lambda x, y: T.switch(x > 0, x * 3, y ** 2), [np.array([-1.0, 2.0, -0.5, 1.5]), points((4,))[0]])


def test_cast_and_second():
    check(lambda x: T.cast(x, "float64") ** 2, [np.array([0.5, -1.5, 2.0], dtype="float32")])
    check(lambda x, y: T.fill(x, y) * x, points((3, 4), (4,)))


def test_composite_node():
    body = [(SCALAR_OPS["mul"], [("i", 0), ("i", 1)], "float64"), (SCALAR_OPS["exp"], [("t", 0)], "float64")]
    fused = Elemwise(Composite(2, body, [("t", 1)]))
    check(lambda x, y: fused(x, y), points((2, 3), (2, 3), low=-1, high=1))


def test_non_differentiable_ops_give_zero():
    fn = lambda x: (T.floor(x) + T.round(x) + T.sgn(x) + T.ceil(x) + T.trunc(x)) * x
    check(fn, [np.array([0.3, -1.2, 2.6])])


# -- shapes, reductions, linear algebra -----------------------------------------------

def test_dimshuffle_and_transpose():
    check(lambda x: x.dimshuffle(1, "x", 0) * T.arange(3), points((3, 4)))
    check(lambda x: x.T * T.arange(3), points((3, 4)))
    check(lambda c: c.dimshuffle(0) * 2.0, points((3, 1)))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
def test_sum_mean_var(axis):
    check(lambda x: T.sum(x ** 2, axis=axis), points((2, 3, 4)))
    check(lambda x: T.mean(x, axis=axis, keepdims=True) * x, points((2, 3, 4)))
    check(lambda x: T.var(x, axis=axis), points((2, 3, 4)))
    check(lambda x: T.std(x, axis=axis), points((2, 3, 4)))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_with_and_without_zeros(axis):
    check(lambda x: T.prod(x, axis=axis), points((3, 4)))
    with_zeros = np.array([[0.0, 2.0, 3.0, 0.5], [1.5, 0.0, 0.0, 2.0], [1.0, 2.0, -1.0, 0.5]])
    check(lambda x: T.prod(x, axis=axis), [with_zeros])
    check(lambda x: T.prod(x, axis=axis, no_zeros_in_input=True), points((3, 4), low=0.5))


@pytest.mark.parametrize("reduce", [T.max, T.min, lambda x, axis: T.max_and_argmax(x, axis)[0]])
def test_max_min(reduce):
    x = np.random.default_rng(3).permutation(12).reshape(3, 4) * 0.5
    for axis in (None, 0, 1):
        check(lambda v: reduce(v, axis=axis), [x])


@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3, 4), (4,)), ((3,), (3, 4)), ((3, 4), (4, 2))])
def test_dot(shapes):
    check(T.dot, points(*shapes))


def test_reshape_and_flatten():
    check(lambda x: T.reshape(x, (4, 3)) * T.arange(3), points((2, 6)))
    check(lambda x: T.flatten(x) * T.arange(12), points((3, 4)))
    check(lambda x: T.flatten(x, 2), points((2, 3, 2)))


def test_alloc_and_rebroadcast():
    check(lambda v: T.alloc(v, 2, 3, 4), points((4,)))
    check(lambda v: T.alloc(v, 3, 4), points((1, 4)))
    check(lambda x: T.addbroadcast(x, 0) * T.ones((3, 4)), points((1, 4)))


# -- indexing and joining -------------------------------------------------------------

def test_basic_subtensor():
    check(lambda x: x[1:3, ::2], points((4, 5)))
    check(lambda x: x[1], points((4, 5)))
    check(lambda x: x[-1, 2:], points((4, 5)))


def test_advanced_subtensor_accumulates_repeated_indices():
    check(lambda x: x[[0, 2, 0]], points((4, 3)))
    check(lambda x: x[:, [1, 1, 0]], points((4, 3)))


def test_set_and_inc_subtensor():
    check(lambda x, y: T.set_subtensor(x[1:3], y), points((4, 3), (2, 3)))
    check(lambda x, y: T.inc_subtensor(x[1:3], y), points((4, 3), (3,)))
    check(lambda x, y: T.inc_subtensor(x[[0, 0, 2]], y), points((4, 3), (3, 3)))
    check(lambda x, y: T.set_subtensor(x[[1, 3]], y), points((4, 3), (1, 3)))


def test_join_stack_split():
    check(lambda x, y: T.concatenate([x, y], axis=1), points((2, 3), (2, 2)))
    check(lambda x, y: T.concatenate([x, y, x]), points((2, 3), (1, 3)))
    check(lambda a, b: T.stack([a, b]) * T.arange(2), points((), ()))
    check(lambda x: T.split(x, [1, 3], 2, axis=1)[1], points((2, 4)))


# -- on the default device ------------------------------------------------------------

ON_DEVICE = {
    "logistic": (lambda x: 1 / (1 + T.exp(-x)), [(3, 4)]),
    "broadcasting": (lambda x, row, s: T.tanh(x * row) + s, [(3, 4), (1, 4), ()]),
    "dot_and_sum": (lambda a, b: T.sum(T.dot(a, b), axis=0), [(3, 4), (4, 2)]),
    "reductions": (lambda x: T.max(x, axis=1) + T.prod(x, axis=0).sum() + T.mean(x), [(3, 4)]),
    "indexing": (lambda x: x[1:, ::2] * x[[0, 2, 0]][:2, ::2], [(3, 4)]),
    "join_reshape": (lambda x, y: T.concatenate([x, y]).reshape((2, 10)), [(2, 4), (3, 4)]),
    "sort_cumprod_repeat": (lambda x: T.sort(x, axis=1) * np.arange(1.0, 5.0) + T.cumprod(x, axis=0)
                            + T.repeat(x, [2, 0, 1], axis=0)[:3], [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(ON_DEVICE))
def test_on_default_device(name):
    fn, shapes = ON_DEVICE[name]
    check(fn, points(*shapes, low=0.5), mode=None)


def test_cumsum_and_roll():
    check(lambda x: T.cumsum(x, axis=1), points((3, 4)))
    check(lambda x: T.cumsum(x) * T.arange(12), points((3, 4)))
    check(lambda x: T.roll(x, 1, axis=0) * T.arange(4), points((3, 4)))
    check(lambda x: T.roll(x, -5) * T.arange(4), points((3, 4)))


@pytest.mark.parametrize("shapes", [((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (4,)),
                                    ((4,), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (2, 4, 2))])
def test_matmul(shapes):
    check(T.matmul, points(*shapes))


def test_every_scalar_op_has_a_gradient_rule():
    from clgraph.scalar.basic import GRADIENTS

    assert set(GRADIENTS) == set(SCALAR_OPS)


@pytest.mark.parametrize("shapes, axes", [(((2, 3, 4), (4, 3, 5)), [[1, 2], [1, 0]]),
                                          (((2, 3), (3, 2, 4)), [[0, 1], [1, 0]]),
                                          (((2, 3), (4,)), 0),
                                          (((3, 2, 4), (2, 3)), [[1], [0]])])
def test_tensordot(shapes, axes):
    check(lambda a, b: T.tensordot(a, b, axes), points(*shapes))


@pytest.mark.parametrize("shapes", [((2, 3, 4), (2, 4, 5)), ((2, 3), (2, 3)), ((2, 3, 4), (2, 4)),
                                    ((2, 3, 4, 2), (2, 2, 3))])
def test_batched_dot(shapes):
    check(T.batched_dot, points(*shapes))


def test_tile_and_repeat():
    check(lambda x: T.tile(x, (2, 3)), points((2, 3)))
    check(lambda x: T.tile(x, (2, 1, 2)), points((2, 3)))
    check(lambda x: T.tile(x, 3), points((2, 3)))
    check(lambda x: T.repeat(x, 3, axis=1), points((2, 3)))
    check(lambda x: T.repeat(x, 2), points((2, 3)))


def test_repeat_with_one_count_per_element():
    weights = np.arange(1.0, 8.0)   # so each repeat's gradient differs
    check(lambda x: T.repeat(x, [1, 0, 3, 2]) * weights[:6], points((4,)))
    check(lambda x: T.repeat(x, [2, 1], axis=0) * weights[:3, None], points((2, 3)))
    check(lambda x: T.repeat(x, np.array([3, 0, 1]), axis=1) * weights[:4], points((2, 3)))
    check(lambda x: T.repeat(x, [1, 2, 1, 0, 1, 2]) * weights[:7], points((2, 3)))
    check(lambda x: T.repeat(x, [2], axis=1) * weights[:6], points((2, 3)))   # one count for all


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_sort(axis):
    weights = np.arange(1.0, 13.0).reshape(3, 4)   # each sorted place has its own weight
    check(lambda x: T.sort(x, axis=axis) * (weights if axis is not None else weights.ravel()),
          points((3, 4)))
    x = T.dmatrix("x")
    zero = function_of([x], T.grad(T.sum(T.argsort(x) * 1.5), x))(np.arange(12.0).reshape(3, 4)[:, ::-1])
    np.testing.assert_array_equal(zero, np.zeros((3, 4)))   # integer positions: no gradient


def test_take_along_axis_matches_numpy():
    x, i = T.dmatrix("x"), T.lmatrix("i")
    value = np.arange(12.0).reshape(3, 4)
    for axis, index in [(1, [[3, 0, 1], [2, 2, 0], [0, 0, 3]]), (-1, [[1], [3], [0]]), (0, [[2, 0, 1, 1]]),
                        (None, [[11, 0, 5]])]:
        index = np.array(index)
        got = function_of([x, i], T.take_along_axis(x, i if axis is not None else i[0], axis))(value, index)
        np.testing.assert_array_equal(got, np.take_along_axis(value, index if axis is not None else index[0], axis))


def function_of(inputs, output):
    import clgraph

    return clgraph.function(inputs, output, mode=HOST)


def test_cumprod():
    check(lambda x: T.cumprod(x, axis=1), points((3, 4), low=0.5, high=2))
    check(lambda x: T.cumprod(x) * T.arange(12), points((3, 4), low=0.5, high=2))
