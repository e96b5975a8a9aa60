"""Random streams: the Philox generator (known answers, host against device), the
distributions' shapes, ranges and statistics, the state's life (seeding, updates,
no_default_updates, get/set, copies between graphs), the source documents' examples,
and random variables inside scan."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc
from clgraph.codegen.random import ADVANCE, DISTRIBUTIONS, FROM_STATE, draw_source
from clgraph.compile.device_random import GpuRandomDraw
from clgraph.scan_module.device import GpuScan
from clgraph.tensor.random import RandomStreams, philox4x32_10

HOST = "FAST_COMPILE"   # the numpy reference


def test_philox_known_answers():
    # the known-answer vectors of the Random123 reference implementation
    cases = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
             ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
             ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
              (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]
    for counter, key, expected in cases:
        np.testing.assert_array_equal(philox4x32_10([[c] for c in counter], key)[:, 0], expected)


def test_namespaces():
    assert T.random.RandomStreams is T.shared_randomstreams.RandomStreams is RandomStreams


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_device_draws_equal_the_host_reference(dtype):
    srng = RandomStreams(seed=42)
    draws = [srng.uniform((7, 301), dtype=dtype), srng.normal((1001,), dtype=dtype)]
    device = clgraph.function([], draws)
    assert sum(isinstance(n.op, GpuRandomDraw) for n in device.maker.fgraph.toposort()) == 2
    host = clgraph.function([], draws, mode=HOST, no_default_updates=True)
    for _ in range(2):   # the second call starts from the counters the first advanced
        (u_host, n_host), (u_device, n_device) = host(), device()
        assert u_device.dtype == u_host.dtype == dtype
        np.testing.assert_array_equal(u_device, u_host)          # bit for bit
        np.testing.assert_allclose(n_device, n_host, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
        assert 0 <= u_device.min() and u_device.max() < 1


def test_statistics_of_many_draws():
    srng = RandomStreams(seed=7)
    n = 10 ** 5
    u = srng.uniform((n,), low=-1.0, high=3.0, dtype="float64")
    z = srng.normal((n,), avg=2.0, std=0.5, dtype="float32")
    b = srng.binomial((n,), n=5, p=0.3)
    i = srng.random_integers((n,), low=-2, high=2)
    j, k = srng.integers(-2, 2, (n,)), srng.integers(3, size=(n,))
    u_value, z_value, b_value, i_value, j_value, k_value = clgraph.function([], [u, z, b, i, j, k])()
    assert -1 <= u_value.min() and u_value.max() < 3
    assert abs(u_value.mean() - 1) < 0.02 and abs(u_value.var() - 16 / 12) < 0.02
    assert z_value.dtype == np.float32
    assert abs(z_value.mean() - 2) < 0.01 and abs(z_value.std() - 0.5) < 0.01
    assert b_value.dtype == np.int64 and set(np.unique(b_value)) <= set(range(6))
    assert abs(b_value.mean() - 1.5) < 0.02 and abs(b_value.var() - 1.05) < 0.03
    assert set(np.unique(i_value)) == {-2, -1, 0, 1, 2}
    assert np.all(np.abs(np.bincount(i_value + 2) / n - 0.2) < 0.01)
    assert set(np.unique(j_value)) == {-2, -1, 0, 1} and set(np.unique(k_value)) == {0, 1, 2}   # high excluded


def test_seed_determinism_and_successive_draws():
    def draws(seed):
        srng = RandomStreams(seed)
        f = clgraph.function([], [srng.uniform((5,)), srng.uniform((5,))])
        return [f() for _ in range(2)]

    first, again, other = draws(3), draws(3), draws(4)
    np.testing.assert_array_equal(np.array(first), np.array(again))
    assert not np.any(np.array(first) == np.array(other))
    (a0, b0), (a1, _) = first
    assert not np.any(a0 == b0) and not np.any(a0 == a1)   # two variables; two calls


def test_reseeding_the_stream_restarts_every_variable():
    srng = RandomStreams(seed=234)
    f = clgraph.function([], [srng.uniform((3,)), srng.normal((3,))])
    srng.seed(902340)
    expected = f()
    f()
    srng.seed(902340)
    for got, want in zip(f(), expected):
        np.testing.assert_array_equal(got, want)


def test_source_document_random_streams_example():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = clgraph.function([], rv_u)
    g = clgraph.function([], rv_n, no_default_updates=True)
    nearly_zeros = clgraph.function([], rv_u + rv_u - 2 * rv_u)

    assert not np.array_equal(f(), f())
    np.testing.assert_array_equal(g(), g())           # its state is kept
    np.testing.assert_array_equal(nearly_zeros(), np.zeros((2, 2)))   # one draw per call

    # seeding one variable through its state's value
    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    srng.seed(902340)

    # sharing streams between functions
    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()       # this affects rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()             # v2 != v1
    v3 = f()             # v3 == v1
    assert not np.array_equal(v1, v2)
    np.testing.assert_array_equal(v1, v3)


def test_source_document_copy_of_the_state_between_graphs():
    class Graph:
        def __init__(self, seed=123):
            self.rng = RandomStreams(seed)
            self.y = self.rng.uniform(size=(1,))

    g1 = Graph(seed=123)
    f1 = clgraph.function([], g1.y)
    g2 = Graph(seed=987)
    f2 = clgraph.function([], g2.y)
    assert f1() != f2()

    def copy_random_state(g1, g2):
        for (su1, su2) in zip(g1.rng.state_updates, g2.rng.state_updates):
            su2[0].set_value(su1[0].get_value())

    copy_random_state(g1, g2)
    np.testing.assert_array_equal(f1(), f2())


def test_state_get_and_set():
    srng = RandomStreams(seed=5)
    rv = srng.uniform((4,))
    f = clgraph.function([], rv)
    saved = rv.rng.get_value()
    assert saved.dtype == np.uint32 and saved.shape == (4,)
    first = f()
    assert not np.array_equal(rv.rng.get_value(), saved)    # the counter moved
    rv.rng.set_value(saved)
    np.testing.assert_array_equal(f(), first)
    with pytest.raises(TypeError, match="uint32 vector of 4 words"):
        rv.rng.get_value().set_state(np.zeros(3))


def test_binomial_with_tensor_probabilities():
    srng = RandomStreams(seed=11)
    p = T.dvector("p")
    b = srng.binomial(size=p.shape, n=1, p=p)
    f = clgraph.function([p], b)
    probabilities = np.tile([0.0, 1.0, 0.5], 2000)
    value = f(probabilities)
    assert value.dtype == np.int64 and value.shape == probabilities.shape
    assert np.all(value[0::3] == 0) and np.all(value[1::3] == 1)
    assert abs(value[2::3].mean() - 0.5) < 0.05
    floats = srng.binomial(p=p, dtype="float32")        # size from p
    assert clgraph.function([p], floats)(probabilities).dtype == np.float32


def test_permutation_and_choice():
    srng = RandomStreams(seed=13)
    perms = srng.permutation((4,), n=6)
    single = srng.permutation(n=5)
    population = np.array([10, 20, 30, 40], dtype=np.int64)
    picked = srng.choice(size=(50,), a=population)
    weighted = srng.choice(size=(2000,), a=4, p=[0.5, 0.0, 0.25, 0.25])
    distinct = srng.choice(size=(2, 2), a=population, replace=False)
    distinct_weighted = srng.choice(size=(3,), a=4, replace=False, p=[0.2, 0.0, 0.4, 0.4])
    values = clgraph.function([], [perms, single, picked, weighted, distinct, distinct_weighted])()
    perms_value, single_value, picked_value, weighted_value, distinct_value, distinct_weighted_value = values
    assert perms_value.shape == (4, 6)
    assert all(sorted(row) == list(range(6)) for row in perms_value)
    assert len({tuple(row) for row in perms_value}) > 1
    assert sorted(single_value) == list(range(5))
    assert set(picked_value) <= set(population)
    counts = np.bincount(weighted_value, minlength=4) / 2000
    assert counts[1] == 0 and abs(counts[0] - 0.5) < 0.05
    assert distinct_value.shape == (2, 2) and len(set(distinct_value.ravel())) == 4
    assert sorted(distinct_weighted_value) == [0, 2, 3]


def test_bad_arguments_are_named():
    srng = RandomStreams(seed=1)
    with pytest.raises(ValueError, match=r"RandomStreams\.uniform: ndim=3"):
        srng.uniform((2, 2), ndim=3)
    with pytest.raises(ValueError, match=r"RandomStreams\.binomial: ndim=2"):
        srng.binomial((3,), p=0.5, ndim=2)
    with pytest.raises(TypeError, match=r"RandomStreams\(seed\): the seed must be an integer, got 'abc'"):
        RandomStreams(seed="abc")
    with pytest.raises(TypeError, match=r"RandomStreams\.seed: the seed must be an integer"):
        srng.uniform((2,))
        srng.seed("abc")
    state = srng.integers(4, size=(2,)).rng
    assert state.name == "integers_rng"
    with pytest.raises(TypeError, match=r"the state's seed\(\): the seed must be an integer"):
        state.get_value(borrow=True).seed("abc")
    with pytest.raises(ValueError, match="cannot pick 5 elements out of 4"):
        srng.choice(size=(5,), a=4, replace=False)


def _gibbs_sampler(pass_shared):
    """The source documents' Gibbs sampling, on a small visible/hidden layer; with
    ``pass_shared``, their second version, giving the weights as non_sequences."""
    rng = np.random.default_rng(0)
    floatX = clgraph.config.floatX
    W = clgraph.shared(rng.normal(size=(6, 4)).astype(floatX))
    bvis = clgraph.shared(np.zeros(6, floatX))
    bhid = clgraph.shared(np.zeros(4, floatX))
    trng = T.shared_randomstreams.RandomStreams(1234)

    def OneStep(vsample, W=W, bvis=bvis, bhid=bhid):
        hmean = T.nnet.sigmoid(T.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = T.nnet.sigmoid(T.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype=floatX)

    sample = T.vector()
    if pass_shared:
        values, updates = clgraph.scan(fn=OneStep, outputs_info=sample, non_sequences=[W, bvis, bhid],
                                       n_steps=10)
    else:
        values, updates = clgraph.scan(OneStep, outputs_info=sample, n_steps=10)
    return sample, values, updates, trng


@pytest.mark.parametrize("mode,pass_shared", [(HOST, False), (None, False), (None, True)])
def test_gibbs_sampling_through_scan(mode, pass_shared):
    sample, values, updates, trng = _gibbs_sampler(pass_shared)
    states = [state for state, _ in trng.state_updates]
    assert all(any(state is s for s in updates) for state in states)   # scan returns them
    gibbs10 = clgraph.function([sample], values[-1], updates=updates, mode=mode)
    v0 = np.ones(6, clgraph.config.floatX)
    before = [s.get_value() for s in states]
    draws = [gibbs10(v0) for _ in range(3)]
    assert all(d.shape == (6,) and set(np.unique(d)) <= {0, 1} for d in draws)
    # 10 steps of 4 and 6 elements: the counters moved by 3 calls of 40 and 60
    moved = [int(s.get_value()[2]) - int(b[2]) for s, b in zip(states, before)]
    assert moved == [120, 180]
    # without scan's updates the states still move on: each call samples anew
    unchained = clgraph.function([sample], values[-1], mode=mode)
    unchained(v0)
    moved = [int(s.get_value()[2]) - int(b[2]) for s, b in zip(states, before)]
    assert moved == [160, 240]


def test_draws_from_a_state_on_the_device_inside_scan():
    def sampler(mode):
        srng = RandomStreams(seed=8)
        values, updates = clgraph.scan(lambda: [srng.uniform((5,), dtype="float64"), srng.normal((2, 3), dtype="float64")],
                                       n_steps=3)
        return clgraph.function([], values, updates=updates, mode=mode)

    device, host = sampler(None), sampler(HOST)
    (scan_node,) = [n for n in device.maker.fgraph.toposort() if isinstance(n.op, GpuScan)]
    step = [str(thunk.node.op) for thunk in scan_node.op.host_op.inner_function(scan_node.op.context).thunks]
    assert "GpuAdvanceState" in step and not any(name.startswith("HostFromGpu") for name in step), step
    for _ in range(2):
        (u_device, n_device), (u_host, n_host) = device(), host()
        np.testing.assert_array_equal(u_device, u_host)
        assert not np.array_equal(u_device[0], u_device[1])   # every step draws anew
        np.testing.assert_allclose(n_device, n_host, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_random_kernels_compiles():
    sources = dict(draw_source(d, dtype) for d in DISTRIBUTIONS for dtype in ("float32", "float64"))
    ptx = nvcc.compile_ptx(sources)
    assert all(f".entry {name}{suffix}(" in ptx for name in sources for suffix in ("", FROM_STATE, ADVANCE))
