"""Random streams: ``RandomStreams(seed)`` makes random variables, as Theano's does.

Numbers come from Philox4x32-10, a counter-based generator: element ``i`` of a draw is
a function of a key and the counter ``base + i`` alone, so the host reference here and
the device kernels (clgraph/kernels/philox.c) give the same numbers in any order.

Each random variable owns a shared variable, its state: the uint32 vector
``[key0, key1, counter_lo, counter_hi]``. Its value is a ``PhiloxState`` (an ndarray
with numpy RandomState's ``seed``/``get_state``/``set_state``), and its
``default_update`` advances the counter past the elements one call draws, so each call
of a function draws new numbers once, however often the variable appears.
Distributions other than the standard uniform and normal draws are expressions of those
(scaled, compared, sorted), so they run wherever the expressions do.
"""
import numpy as np

from clgraph.compile.sharedvalue import TensorSharedVariable
from clgraph.configdefaults import config
from clgraph.graph.basic import Apply, Variable
from clgraph.graph.op import Op

from .basic import as_tensor_variable, cast, floor, ge, log, lt, minimum
from .math import cumsum
from .math import sum as tensor_sum
from .shape_ops import _product, _shape_entry, as_shape_vector, get_vector_constant_values
from .sort import argsort
from .type import TensorType

_MULTIPLIERS = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_WEYL = (np.uint64(0x9E3779B9), np.uint64(0xBB67AE85))
_LOW32 = np.uint64(0xFFFFFFFF)
_STATE_TYPE = TensorType("uint32", (4,))


def philox4x32_10(counter, key):
    """The four uint32 words of Philox4x32-10 for each counter: ``counter`` is four
    arrays (c0..c3, broadcast together), ``key`` two ints; uint64 arithmetic holds the
    32x32->64-bit products."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in counter)
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for _ in range(10):
        p0, p1 = _MULTIPLIERS[0] * c0, _MULTIPLIERS[1] * c2
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & _LOW32, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & _LOW32
        k0, k1 = (k0 + _WEYL[0]) & _LOW32, (k1 + _WEYL[1]) & _LOW32
    return np.stack(np.broadcast_arrays(c0, c1, c2, c3)).astype(np.uint32)


def initial_state(seed, index=0, who="seed"):
    """The state of random variable ``index`` of a stream seeded with ``seed``: its key
    is Philox of ``(index, 0, 0, 0)`` under the seed, so nearby seeds and indices give
    unrelated keys; the counter starts at 0. ``who`` names the caller in errors."""
    try:
        seed = int(seed) % 2 ** 64
    except (TypeError, ValueError):
        raise TypeError(f"{who}: the seed must be an integer, got {seed!r}") from None
    words = philox4x32_10(([index], [0], [0], [0]), (seed & 0xFFFFFFFF, seed >> 32))[:, 0]
    return np.array([words[0], words[1], 0, 0], dtype=np.uint32)


def split_state(state):
    """(key0, key1, base counter) of a state vector."""
    state = np.asarray(state, dtype=np.uint32)
    return int(state[0]), int(state[1]), int(state[2]) | int(state[3]) << 32


def philox_words(state, n):
    """The 4 x ``n`` words of the next ``n`` elements drawn from ``state``."""
    key0, key1, base = split_state(state)
    counters = (np.uint64(base) + np.arange(n, dtype=np.uint64))   # wraps as the device's
    return philox4x32_10((counters & _LOW32, counters >> np.uint64(32), 0, 0), (key0, key1))


def _unit(words, dtype, first, open_at_zero=False):
    """Uniform numbers in [0, 1) (in (0, 1] with ``open_at_zero``) of ``dtype`` from
    words ``first`` (float32: its top 24 bits) and ``first + 1`` (float64: 53 bits), as
    the kernels compute them (exactly: the products are by powers of two)."""
    if dtype == np.float32:
        bits = (words[first] >> np.uint32(8)).astype(np.float32) + np.float32(open_at_zero)
        return bits * np.float32(2.0 ** -24)
    bits = (words[first].astype(np.uint64) << np.uint64(21)) | (words[first + 1] >> np.uint32(11))
    return (bits.astype(np.float64) + open_at_zero) * 2.0 ** -53


def draw(distribution, dtype, state, n):
    """``n`` standard ``distribution`` ('uniform' or 'normal') draws of ``dtype`` from
    ``state``: the host reference of the device kernels."""
    dtype = np.dtype(dtype)
    words = philox_words(state, n)
    if distribution == "uniform":
        return _unit(words, dtype, 0)
    radius = np.sqrt(dtype.type(-2) * np.log(_unit(words, dtype, 0, open_at_zero=True)))
    angle = dtype.type(2 * np.pi) * _unit(words, dtype, 1 if dtype == np.float32 else 2)
    return radius * np.cos(angle)


def advanced_state(state, n):
    """``state`` with its counter moved past ``n`` elements."""
    key0, key1, base = split_state(state)
    base = (base + n) % 2 ** 64
    return np.array([key0, key1, base & 0xFFFFFFFF, base >> 32], dtype=np.uint32)


class PhiloxState(np.ndarray):
    """The value of a random variable's state (``rv.rng.get_value()``): a uint32 vector
    [key0, key1, counter_lo, counter_hi] with the methods of numpy's RandomState that
    the source documents call, changing the vector in place."""

    def seed(self, seed=0):
        """Restart from ``seed``: a new key, the counter at 0."""
        self[...] = initial_state(seed, who="the state's seed()")

    def get_state(self):
        """A copy of the state, for ``set_state``."""
        return np.array(self, dtype=np.uint32)

    def set_state(self, state):
        """Go back to a state that ``get_state`` gave."""
        state = np.asarray(state)
        if state.shape != (4,) or state.dtype != np.uint32:
            raise TypeError(f"set_state expects a uint32 vector of 4 words (from get_state), got "
                            f"dtype {state.dtype} and shape {state.shape}")
        self[...] = state


class RandomStateSharedVariable(TensorSharedVariable):
    """The shared variable holding a random variable's state: on the host, and read back
    as a ``PhiloxState``."""

    def __init__(self, value, name=None):
        super().__init__(_STATE_TYPE, np.asarray(value, dtype=np.uint32), name)

    def get_value(self, borrow=False, return_internal_type=False):
        return np.asarray(super().get_value(borrow, return_internal_type)).view(PhiloxState)


def _shape_of(who, size):
    """(int64 shape vector, number of dimensions) of a draw's ``size``."""
    shape, _ = as_shape_vector(who, size)
    ndim = shape.type.shape[0]
    if ndim is None:
        raise ValueError(f"{who}: the length of size {size} must be known when the graph is built")
    return shape, ndim


class RandomDraw(Op):
    """Standard ``distribution`` ('uniform' or 'normal') numbers of ``dtype`` in the shape
    of input 1, drawn from the state (input 0). Every call with the same state gives the
    same numbers: the state's update moves on."""

    __props__ = ("distribution", "dtype")

    def __init__(self, distribution, dtype):
        if distribution not in ("uniform", "normal") or np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"RandomDraw: draws are uniform or normal, float32 or float64; got "
                             f"{distribution!r} of dtype {dtype}")
        self.distribution = distribution
        self.dtype = str(np.dtype(dtype))

    def make_node(self, state, shape):
        state = as_tensor_variable(state)
        shape, _ = _shape_of(str(self), shape)
        static = get_vector_constant_values(shape)
        return Apply(self, [state, shape], [TensorType(self.dtype, [s if s is None or s >= 0 else None
                                                                    for s in static])()])

    def perform(self, node, inputs):
        state, shape = inputs
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape):
            raise ValueError(f"{self}: negative length in size {shape}")
        return [draw(self.distribution, self.dtype, state, int(np.prod(shape, dtype=np.int64))).reshape(shape)]

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[1]
        static = get_vector_constant_values(shape)
        return [tuple(_shape_entry(shape, i, static) for i in range(shape.type.shape[0]))]

    def connection_pattern(self, node):
        return [[False], [False]]   # numbers drawn: no gradient flows to the state or size


class AdvanceState(Op):
    """The state (input 0) after a draw in the shape of input 1: the counter moved past
    its elements (one Philox block each)."""

    def make_node(self, state, shape):
        state = as_tensor_variable(state)
        shape, _ = _shape_of(str(self), shape)
        return Apply(self, [state, shape], [_STATE_TYPE()])

    def perform(self, node, inputs):
        state, shape = inputs
        return [advanced_state(state, int(np.prod(shape, dtype=np.int64)))]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[False], [False]]


_advance = AdvanceState()


def _float_dtype(dtype, *params):
    """``dtype``, or for None the float dtype of the parameters that are tensors
    (floatX when none is a float)."""
    if dtype is not None:
        return str(np.dtype(dtype))
    floats = [p.dtype for p in params if isinstance(p, Variable) and np.dtype(p.dtype).kind == "f"]
    return str(np.result_type(*floats)) if floats else config.floatX


def _is_value(param, value):
    return not isinstance(param, Variable) and np.ndim(param) == 0 and param == value


class RandomStreams:
    """A source of random variables seeded with ``seed``: each method returns a new
    random variable ``rv`` whose state ``rv.rng`` (a shared variable) is updated by every
    function that uses it (``state_updates`` lists the (state, update) pairs)."""

    def __init__(self, seed=None):
        self.default_seed = 0 if seed is None else seed
        self.state_updates = []
        initial_state(self.default_seed, who="RandomStreams(seed)")   # a bad seed fails here, not at a draw

    def seed(self, seed=None):
        """Reseed every random variable made so far from ``seed`` (default: the seed the
        stream was made with)."""
        seed = self.default_seed if seed is None else seed
        for index, (state, _) in enumerate(self.state_updates):
            state.set_value(initial_state(seed, index, who="RandomStreams.seed"), borrow=True)

    def updates(self):
        """The (state, update) pairs of every random variable made so far."""
        return list(self.state_updates)

    def _draw(self, distribution, size, dtype, name=None):
        """A new standard draw in ``size`` with a state of its own, for the method
        ``name`` (default: the distribution's), which errors and the state's name say."""
        name = name or distribution
        shape, _ = _shape_of(f"RandomStreams.{name}", size)
        state = RandomStateSharedVariable(initial_state(self.default_seed, len(self.state_updates)),
                                          name=f"{name}_rng")
        state.default_update = _advance(state, shape)
        self.state_updates.append((state, state.default_update))
        return RandomDraw(distribution, dtype)(state, shape), state

    @staticmethod
    def _variable(result, state, ndim, who):
        """``result`` as the random variable of ``state``, its number of dimensions
        checked against ``ndim``."""
        if ndim is not None and result.ndim != ndim:
            raise ValueError(f"RandomStreams.{who}: ndim={ndim} was asked for, but the size gives {result.ndim} "
                             "dimensions")
        result.rng = state
        result.update = (state, state.default_update)
        return result

    def _size(self, size, *params):
        """``size``, or for None the broadcast shape of the tensor parameters."""
        if size is not None:
            return size
        tensors = [as_tensor_variable(p) for p in params]
        total = tensors[0]
        for t in tensors[1:]:
            total = total + t
        return total.shape

    def uniform(self, size=(), low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform numbers in [low, high)."""
        dtype = _float_dtype(dtype, low, high)
        unit, state = self._draw("uniform", self._size(size, low, high), dtype)
        result = unit if _is_value(low, 0) and _is_value(high, 1) else cast(low + (high - low) * unit, dtype)
        return self._variable(result, state, ndim, "uniform")

    def normal(self, size=(), avg=0.0, std=1.0, ndim=None, dtype=None):
        """Normal numbers of mean ``avg`` and standard deviation ``std``."""
        dtype = _float_dtype(dtype, avg, std)
        z, state = self._draw("normal", self._size(size, avg, std), dtype)
        result = z if _is_value(avg, 0) and _is_value(std, 1) else cast(avg + std * z, dtype)
        return self._variable(result, state, ndim, "normal")

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64"):
        """Numbers of successes in ``n`` trials of probability ``p`` (a number or a tensor
        broadcast to ``size``, elementwise)."""
        size = self._size(size, p)
        shape, ndim_of_size = _shape_of("RandomStreams.binomial", size)
        unit_dtype = _float_dtype(None, p)
        if _is_value(n, 1):
            unit, state = self._draw("uniform", shape, unit_dtype, "binomial")
            result = cast(lt(unit, p), dtype)
        else:
            # n trials along a new leading axis, counted
            entries = [n] + [_shape_entry(shape, i, get_vector_constant_values(shape)) for i in range(ndim_of_size)]
            unit, state = self._draw("uniform", entries, unit_dtype, "binomial")
            result = tensor_sum(lt(unit, p), axis=0, dtype=dtype)
        return self._variable(result, state, ndim, "binomial")

    def integers(self, low, high=None, size=(), ndim=None, dtype="int64"):
        """Integers in [low, high) (in [0, low) without ``high``), as numpy's Generator."""
        if high is None:
            low, high = 0, low
        unit, state = self._draw("uniform", self._size(size, low, high), "float64", "integers")
        span = high - low
        # u * span < span in exact arithmetic; rounding can reach span, hence the minimum
        result = cast(low + minimum(floor(unit * span), span - 1), dtype)
        return self._variable(result, state, ndim, "integers")

    def random_integers(self, size=(), low=0, high=1, ndim=None, dtype="int64"):
        """Integers in [low, high], both ends included (Theano's)."""
        return self.integers(low, high + 1, size, ndim, dtype)

    def permutation(self, size=(), n=1, ndim=None, dtype="int64"):
        """Permutations of 0..n-1: one for each entry of ``size``, along a last axis of
        length ``n`` (the ranks of uniform keys)."""
        shape, ndim_of_size = _shape_of("RandomStreams.permutation", size)
        static = get_vector_constant_values(shape)
        entries = [_shape_entry(shape, i, static) for i in range(ndim_of_size)] + [n]
        keys, state = self._draw("uniform", entries, "float64", "permutation")
        result = cast(argsort(keys, axis=-1), dtype)
        return self._variable(result, state, None if ndim is None else ndim + 1, "permutation")

    def choice(self, size=(), a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Elements of ``a`` (a vector, or an int n for 0..n-1) picked at random, with
        probabilities ``p`` (a vector; default: equal), with or without replacement."""
        population = None if np.ndim(a) == 0 and not isinstance(a, Variable) else as_tensor_variable(a)
        if population is not None and population.ndim == 0:
            count, population = population, None
        else:
            count = a if population is None else population.shape[0]
        shape, ndim_of_size = _shape_of("RandomStreams.choice", size)
        if p is not None:
            p = as_tensor_variable(p)
            if p.ndim != 1:
                raise ValueError(f"RandomStreams.choice: p must be a vector of probabilities, got {p} "
                                 f"with {p.ndim} dimensions")
        if replace:
            unit, state = self._draw("uniform", shape, "float64", "choice")
            if p is None:
                picked = minimum(floor(unit * count), count - 1)
            else:
                # inverse CDF: how many cumulative probabilities the number passes
                cdf = cumsum(p) / tensor_sum(p)
                passed = tensor_sum(ge(unit.dimshuffle(*range(ndim_of_size), "x"), cdf), axis=-1)
                picked = minimum(passed, count - 1)
        else:
            keys, state = self._draw("uniform", [count], "float64", "choice")
            if p is not None:
                # weighted order without replacement (Efraimidis-Spirakis): smallest -log(u) / p first
                keys = -log(keys) / p
            static = get_vector_constant_values(shape)
            length = _product([_shape_entry(shape, i, static) for i in range(ndim_of_size)])
            if isinstance(length, int) and isinstance(count, int) and length > count:
                raise ValueError(f"RandomStreams.choice: cannot pick {length} elements out of {count} "
                                 "without replacement")
            picked = argsort(keys)[:length].reshape(shape, ndim=ndim_of_size)
        picked = cast(picked, "int64")
        result = cast(picked if population is None else population[picked], dtype)
        return self._variable(result, state, ndim, "choice")


__all__ = ["AdvanceState", "PhiloxState", "RandomDraw", "RandomStateSharedVariable", "RandomStreams",
           "philox4x32_10"]
