"""Compiled graphs over two device contexts: shared variables placed by ``target``,
explicit ``.transfer`` between contexts (GpuToGpu), the DeviceError for a node mixing
contexts, updates landing on their shared variable's context, ``transfer('cpu')``, and
allow_gc=False.

The named contexts (``contexts=dev0->opencl0:0;dev1->opencl0:1``) are checked in one
subprocess whose results every test reads; the device names (opencl0:0, opencl0:1) as
targets are checked in this process.
"""
import json

import numpy as np
import pytest

import clgraph.tensor as T
from clgraph import Out, config, function, shared
from clgraph.backends import DeviceArray, DeviceError
from clgraph.compile.device_ops import GpuElemwise, GpuFromHost, GpuToGpu, HostFromGpu
from conftest import OPENCL_DEVICES, needs_two_opencl, run_python

pytestmark = needs_two_opencl

NAMED = "contexts=dev0->opencl0:0;dev1->opencl0:1"

PROGRAM = r"""
import json, traceback
import numpy as np
import clgraph.tensor as T
from clgraph import function, shared
from clgraph.backends import DeviceArray, DeviceError, get_context

results = {}

def check(name):
    def run(fn):
        try:
            results[name] = fn()
        except Exception as exc:
            results[name] = {"error": type(exc).__name__, "message": str(exc),
                             "trace": traceback.format_exc()}
    return run

def where(value):
    return value.context.name if isinstance(value, DeviceArray) else type(value).__name__

av = np.arange(4, dtype="float32")
bv = np.array([10, 20, 30, 40], dtype="float32")
a = shared(av, name="a", target="dev0")
b = shared(bv, name="b", target="dev1")

@check("setup")
def _():
    return {"default": get_context().name, "a": a.context_name, "b": b.context_name,
            "same": get_context("opencl0:1") is get_context("dev1")}

@check("transfer_add")
def _():
    f = function([], a.transfer("dev1") + b)
    r1, r2 = f(), f()
    return {"value": r1.tolist(), "again": r2.tolist(), "type": type(r1).__name__,
            "nodes": [str(n) for n in f.maker.fgraph.toposort()],
            "ops": [type(n.op).__name__ for n in f.maker.fgraph.toposort()],
            "transfer_from": str(f.maker.fgraph.toposort()[0].inputs[0].type),
            "kernel_on": [str(n.outputs[0].type) for n in f.maker.fgraph.toposort()
                          if type(n.op).__name__ == "GpuElemwise"]}

@check("mixed")
def _():
    function([], a + b)
    return "compiled"

@check("mixed_host_op")
def _():
    function([], T.dot(a, b))
    return "compiled"

@check("update_transferred")
def _():
    c = shared(np.zeros(4, "float32"), name="c", target="dev1")
    f = function([], [], updates={c: c + (a * 2).transfer("dev1")})
    f(); f()
    stored = c.get_value(borrow=True, return_internal_type=True)
    return {"value": c.get_value().tolist(), "where": where(stored), "c": c.context_name,
            "nodes": [str(n) for n in f.maker.fgraph.toposort()]}

@check("update_implicit")
def _():
    c = shared(np.zeros(4, "float32"), name="c", target="dev1")
    f = function([], [], updates={c: a * 3})
    f()
    stored = c.get_value(borrow=True, return_internal_type=True)
    return {"value": c.get_value().tolist(), "where": where(stored),
            "ops": [type(n.op).__name__ for n in f.maker.fgraph.toposort()]}

@check("to_cpu")
def _():
    y = T.exp(a.transfer("dev1") * b / 100)
    f = function([], [y.transfer("cpu"), y.transfer("dev1"), y.transfer("dev0"), y])
    outs = f()
    return {"where": [where(o) for o in outs], "values": [np.asarray(o).tolist() for o in outs],
            "last_op": type(function([], y.transfer("cpu")).maker.fgraph.toposort()[-1].op).__name__}

@check("host_input")
def _():
    x = T.vector("x", dtype="float32")
    f = function([x], (x + b).transfer("dev0") * a)
    return {"value": f(np.ones(4, "float32")).tolist(),
            "ops": [type(n.op).__name__ for n in f.maker.fgraph.toposort()]}

@check("device_name_alias")
def _():
    f = function([], a.transfer("opencl0:1") + b)
    return {"value": f().tolist()}

print("RESULTS" + json.dumps(results))
"""


@pytest.fixture(scope="module")
def named():
    proc = run_python(PROGRAM, NAMED)
    assert proc.returncode == 0, proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULTS"))
    return json.loads(line[len("RESULTS"):])


def ok(result):
    assert not (isinstance(result, dict) and "error" in result), result.get("trace", result)
    return result


def test_named_contexts_place_the_shared_variables(named):
    assert ok(named["setup"]) == {"default": "dev0", "a": "dev0", "b": "dev1", "same": True}


def test_transfer_between_named_contexts_runs_a_gpu_to_gpu_copy(named):
    r = ok(named["transfer_add"])
    assert r["value"] == [10, 21, 32, 43] and r["again"] == r["value"] and r["type"] == "ndarray"
    assert r["nodes"][0] == "GpuToGpu<dev1>(a)"
    assert r["transfer_from"] == "DeviceTensorType<dev0>(float32, vector)"
    assert r["ops"] == ["GpuToGpu", "GpuElemwise", "HostFromGpu"]
    assert r["kernel_on"] == ["DeviceTensorType<dev1>(float32, vector)"]


def test_mixing_named_contexts_without_a_transfer_is_a_device_error(named):
    for key in ["mixed", "mixed_host_op"]:
        r = named[key]
        assert isinstance(r, dict) and r.get("error") == "DeviceError", (key, r)
        assert "'dev0'" in r["message"] and "'dev1'" in r["message"], r["message"]
        assert ".transfer(" in r["message"]


def test_update_from_a_transferred_value_lands_on_the_shared_variables_context(named):
    r = ok(named["update_transferred"])
    assert r["value"] == [0, 4, 8, 12]
    assert r["where"] == "dev1" and r["c"] == "dev1"
    assert any(n.startswith("GpuToGpu<dev1>") for n in r["nodes"]), r["nodes"]


def test_update_computed_on_another_context_is_moved_to_the_shared_variables(named):
    r = ok(named["update_implicit"])
    assert r["value"] == [0, 3, 6, 9] and r["where"] == "dev1"
    assert "GpuToGpu" in r["ops"] and "HostFromGpu" not in r["ops"], r["ops"]


def test_transfer_to_cpu_forces_a_host_result(named):
    r = ok(named["to_cpu"])
    assert r["where"] == ["ndarray", "dev1", "dev0", "ndarray"]
    expected = np.exp(np.arange(4, dtype="float32") * np.array([10, 20, 30, 40], "float32") / 100)
    for values in r["values"]:
        np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert r["last_op"] == "HostFromGpu"


def test_host_input_joins_the_context_of_its_partner(named):
    r = ok(named["host_input"])
    assert r["value"] == [0, 21, 62, 123]
    assert r["ops"][0] == "GpuFromHost" and "GpuToGpu" in r["ops"], r["ops"]
    assert r["ops"][-1] == "HostFromGpu" and r["ops"].count("GpuElemwise") >= 1, r["ops"]


def test_device_name_and_its_context_name_are_the_same_context(named):
    assert ok(named["device_name_alias"])["value"] == [10, 21, 32, 43]


# ------------------------------------------------------------ in process: device names

DEV0, DEV1 = OPENCL_DEVICES[:2] if len(OPENCL_DEVICES) >= 2 else ("opencl0:0", "opencl0:1")


def _pair():
    a = shared(np.arange(6, dtype="float32").reshape(2, 3), name="a", target=DEV0)
    b = shared(np.full((2, 3), 0.5, "float32"), name="b", target=DEV1)
    return a, b


def _ops(f):
    return [type(n.op).__name__ for n in f.maker.fgraph.toposort()]


def test_device_names_as_targets():
    a, b = _pair()
    assert (a.context_name, b.context_name) == (DEV0, DEV1)
    assert isinstance(b.get_value(borrow=True, return_internal_type=True), DeviceArray)
    f = function([], a.transfer(DEV1) * b + 1)
    np.testing.assert_allclose(f(), np.arange(6).reshape(2, 3) * 0.5 + 1)
    nodes = f.maker.fgraph.toposort()
    assert str(nodes[0]).startswith(f"GpuToGpu<{DEV1}>(")
    assert isinstance(nodes[0].op, GpuToGpu) and nodes[0].op.context == DEV1
    assert all(n.outputs[0].type.context == DEV1 for n in nodes if isinstance(n.op, GpuElemwise))
    assert isinstance(nodes[-1].op, HostFromGpu)


def test_mixing_device_names_is_a_device_error_naming_both():
    a, b = _pair()
    with pytest.raises(DeviceError) as info:
        function([], a * b)
    assert f"'{DEV0}'" in str(info.value) and f"'{DEV1}'" in str(info.value)
    with pytest.raises(DeviceError, match=f"'{DEV0}'.*'{DEV1}'"):
        function([], T.exp(a.T) + b.T)


def test_transfers_both_ways_and_a_device_result_on_the_second_context():
    a, b = _pair()
    out = (a.transfer(DEV1) + b).transfer(DEV0) * a
    f = function([], [out, Out((b * 2).transfer(DEV1), borrow=True), (b * 2).transfer("cpu")])
    r, on1, host = f()
    expected = (np.arange(6).reshape(2, 3) + 0.5) * np.arange(6).reshape(2, 3)
    np.testing.assert_allclose(r, expected)
    assert isinstance(on1, DeviceArray) and on1.context.name == DEV1
    np.testing.assert_array_equal(np.asarray(on1), np.ones((2, 3)))
    assert type(host) is np.ndarray
    np.testing.assert_array_equal(host, np.ones((2, 3)))
    ops = _ops(f)
    assert ops.count("GpuToGpu") == 2, ops


def test_update_on_the_second_device_from_the_first():
    a, b = _pair()
    f = function([], (b * 1).sum(), updates={b: b + a.transfer(DEV1)})
    first = f()
    second = f()
    assert first == pytest.approx(3.0) and second == pytest.approx(3.0 + 15.0)
    stored = b.get_value(borrow=True, return_internal_type=True)
    assert isinstance(stored, DeviceArray) and stored.context.name == DEV1
    np.testing.assert_allclose(b.get_value(), 0.5 + 2 * np.arange(6).reshape(2, 3))
    assert a.get_value(borrow=True, return_internal_type=True).context.name == DEV0


def test_host_only_subgraph_feeding_a_second_context_value():
    """A host-only node (dot) of values on DEV1, then elementwise work with another DEV1
    value: nothing in the graph is on DEV0, so it must not fail by placing the
    intermediate elementwise/dimshuffle nodes on the default context DEV0."""
    b = shared(np.array([1, 2, 3], "float32"), name="b", target=DEV1)
    f = function([], T.exp(T.dot(b, b) / 14) + b)
    np.testing.assert_allclose(f(), np.e + np.array([1, 2, 3]), rtol=1e-6)


@pytest.mark.parametrize("target", [DEV0, DEV1])
def test_allow_gc_false_gives_the_right_results_over_several_calls(target):
    value = np.linspace(-1, 1, 12).astype("float32").reshape(3, 4)
    s = shared(value, name="s", target=target)
    x = T.matrix("x", dtype="float32")
    with config.change_flags(allow_gc=False):
        f = function([x], [T.tanh(x * s + 1).sum(axis=1), (s.T * 2).transfer(target)],
                     updates={s: s * 2})
    assert f.maker.vm.gc_after == [()] * len(f.maker.vm.thunks)
    current = value.copy()
    for call in range(4):
        data = np.full((3, 4), call, "float32")
        out, on_device = f(data)
        np.testing.assert_allclose(out, np.tanh(data * current + 1).sum(axis=1), rtol=1e-5)
        assert isinstance(on_device, DeviceArray) and on_device.context.name == target
        np.testing.assert_allclose(np.asarray(on_device), current.T * 2)
        current = current * 2
    np.testing.assert_allclose(s.get_value(), current)
    assert s.get_value(borrow=True, return_internal_type=True).context.name == target


def test_allow_gc_false_with_a_cross_context_graph():
    a, b = _pair()
    with config.change_flags(allow_gc=False):
        f = function([], T.exp(a.transfer(DEV1) / 5) - b)
    assert "GpuToGpu" in _ops(f)
    results = [f() for _ in range(3)]
    for r in results:
        np.testing.assert_allclose(r, np.exp(np.arange(6).reshape(2, 3) / 5) - 0.5, rtol=1e-6)
    assert results[0] is not results[1]


def test_host_value_is_uploaded_to_the_context_of_the_device_operand():
    _, b = _pair()
    x = T.matrix("x", dtype="float32")
    f = function([x], x * b)
    ops = _ops(f)
    assert ops == ["GpuFromHost", "GpuElemwise", "HostFromGpu"], ops
    assert f.maker.fgraph.toposort()[0].op == GpuFromHost(DEV1)
    np.testing.assert_allclose(f(np.full((2, 3), 4, "float32")), np.full((2, 3), 2.0))


def test_basic_indexing_with_many_symbolic_indices_is_a_device_view():
    """Every index input of a Subtensor stays on the host, however many there are."""
    from clgraph.compile.device_ops import GpuSubtensor

    ndim = 40   # 80 distinct symbolic bounds: more inputs than any fixed list of positions
    value = np.arange(8, dtype="float32").reshape((2, 2, 2) + (1,) * (ndim - 3))
    x = shared(value)
    bounds = T.ivector("bounds")
    y = x[tuple(slice(bounds[2 * k], bounds[2 * k + 1]) for k in range(ndim))]
    assert len(y.owner.inputs) == 1 + 2 * ndim
    f = function([bounds], Out(y.transfer(x.context_name), borrow=True))
    assert any(isinstance(n.op, GpuSubtensor) for n in f.maker.fgraph.toposort())
    given = np.array([1, 2] + [0, 1] * (ndim - 1), dtype="int32")
    np.testing.assert_array_equal(np.asarray(f(given)), value[(slice(1, 2),) + (slice(0, 1),) * (ndim - 1)])


def test_shapes_are_read_in_place_and_their_arithmetic_stays_on_the_host():
    from clgraph.compile.device_ops import DeviceOp, HostFromGpu
    from clgraph.tensor.elemwise import Elemwise

    x, n = T.fmatrix("x"), T.lscalar("n")
    y = T.exp(x)
    flat = y.reshape((y.shape[0] * y.shape[1],))            # shape of a device value
    f = function([x, n], [flat, T.mean(y), T.arange(n + 1) * 2])
    order = f.maker.fgraph.toposort()
    downloads = [node for node in order if isinstance(node.op, HostFromGpu)]
    assert len(downloads) == 3                              # the three outputs, nothing else
    shape_reads = [node for node in order if getattr(node.op, "reads_shape_only", False)]
    assert any(isinstance(node.inputs[0].owner.op, DeviceOp) for node in shape_reads if node.inputs[0].owner)
    host_integer_work = [node for node in order if isinstance(node.op, Elemwise)]
    assert host_integer_work and all(o.dtype == "int64" and o.ndim == 0
                                     for node in host_integer_work for o in node.outputs)
    assert any(str(node.op).startswith("GpuARange") for node in order)   # a new sequence: on the device
    value = np.arange(6, dtype="float32").reshape(2, 3) / 6
    got = f(value, 4)
    np.testing.assert_allclose(got[0], np.exp(value).ravel(), rtol=1e-6)
    np.testing.assert_allclose(got[1], np.exp(value).mean(), rtol=1e-6)
    np.testing.assert_array_equal(got[2], np.arange(5) * 2)
