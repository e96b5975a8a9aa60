"""Device discovery, device names, the contexts flag and the registry of contexts."""
import json
import warnings

import numpy as np
import pytest

from clgraph.backends import (
    ContextRegistry, DeviceError, get_context, parse_contexts, parse_device_name, registry, to_device,
)
from clgraph.backends.devices import resolve
from conftest import OPENCL_DEVICES, needs_two_opencl, run_python


def test_discovery_lists_every_api_and_the_host():
    statuses = {s.api: s for s in registry.statuses()}
    assert set(statuses) == {"cpu", "opencl", "cuda"}
    assert [d.name for d in statuses["cpu"].devices] == ["cpu"]
    assert statuses["opencl"].available
    pocl = statuses["opencl"].devices[0]
    assert pocl.name == "opencl0:0" and pocl.api == "opencl" and pocl.kind == "CPU"
    assert pocl.compute_units >= 1 and pocl.global_mem_bytes > 0 and pocl.max_group_size >= 1
    assert pocl.platform == "Portable Computing Language"


def test_unavailable_api_is_reported_with_a_reason_not_an_error():
    cuda = next(s for s in registry.statuses() if s.api == "cuda")
    if cuda.available:
        pytest.skip("CUDA is present here")
    assert cuda.devices == [] and "pycuda" in cuda.reason


@needs_two_opencl
def test_every_opencl_device_gets_a_platform_device_name():
    assert OPENCL_DEVICES[:2] == ["opencl0:0", "opencl0:1"]


@pytest.mark.parametrize("name, parsed", [
    ("cpu", ("cpu", None)), ("opencl", ("opencl", None)), ("opencl1:2", ("opencl", (1, 2))),
    ("cuda", ("cuda", None)), ("cuda3", ("cuda", 3)), ("gpu", ("cuda", None)), ("gpu1", ("cuda", 1)),
])
def test_device_names_parse(name, parsed):
    assert parse_device_name(name) == parsed


@pytest.mark.parametrize("name", ["openc", "opencl0", "opencl:1", "cuda-1", "", "CPU"])
def test_malformed_device_name_is_an_error_listing_the_forms(name):
    with pytest.raises(DeviceError, match="malformed device name .*expected cpu, opencl, openclP:D, cuda, cudaN"):
        parse_device_name(name)


@pytest.mark.parametrize("name", ["opencl7:0", "opencl0:9"])
def test_absent_device_lists_the_devices_that_exist(name):
    with pytest.raises(DeviceError, match=f"no device '{name}'. Devices present: cpu, opencl0:0"):
        resolve(name, registry.statuses())


def test_device_of_an_unavailable_api_says_why():
    if next(s for s in registry.statuses() if s.api == "cuda").available:
        pytest.skip("CUDA is present here")
    with pytest.raises(DeviceError, match="device 'cuda0' is not available: pycuda.*Devices present: cpu"):
        resolve("cuda0", registry.statuses())


def test_contexts_spec_parses():
    assert parse_contexts("dev0->cuda0; dev1 -> opencl0:0") == [("dev0", "cuda0"), ("dev1", "opencl0:0")]
    assert parse_contexts("") == []


@pytest.mark.parametrize("spec, message", [
    ("dev0=>cuda0", "malformed contexts item 'dev0=>cuda0'"),
    ("->cuda0", "malformed contexts item '->cuda0'"),
    ("dev0->", "malformed contexts item 'dev0->'"),
    ("cpu->opencl0:0", "context name 'cpu' .* is reserved"),
    ("cuda1->opencl0:0", "context name 'cuda1' .* is reserved"),
    ("dev0->opencl0:0;dev0->opencl0:1", "context name 'dev0' appears twice"),
    ("1dev->opencl0:0", "must be an identifier"),
    ("dev0->openc", "malformed device name 'openc'"),
])
def test_bad_contexts_spec_is_an_error_naming_the_item(spec, message):
    with pytest.raises(DeviceError, match=message):
        parse_contexts(spec)


def test_default_context_is_the_first_opencl_device():
    assert get_context().info.name == "opencl0:0"
    assert registry.default_device()[0].name == "opencl0:0"


def test_device_names_and_aliases_give_one_context_per_device():
    assert get_context("opencl") is get_context("opencl0:0") is get_context()
    assert get_context("cpu").api == "cpu"


def test_unknown_context_name_lists_the_defined_ones():
    with pytest.raises(DeviceError, match="unknown context 'dev9'; contexts defined: .*cpu"):
        get_context("dev9")


@needs_two_opencl
def test_two_real_contexts_are_independent_devices():
    first, second = get_context("opencl0:0"), get_context("opencl0:1")
    assert first is not second and first.driver.queue is not second.driver.queue
    a = to_device(np.arange(10.0, dtype=np.float32), second)
    assert a.context is second and np.array_equal(a.get(), np.arange(10.0))


def test_named_contexts_share_one_context_per_physical_device():
    code = """
import json
from clgraph.backends import get_context, registry
a, b, c = get_context("dev0"), get_context("dev1"), get_context("dev2")
print(json.dumps({"same": a is b, "names": a.names, "other": c.info.name, "default": get_context().name,
                  "active": len(registry.active())}))
"""
    done = run_python(code, "contexts=dev0->opencl0:0;dev1->opencl0:0;dev2->opencl0:1")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {"same": True, "names": ["dev0", "dev1"], "other": "opencl0:1",
                      "default": "dev0", "active": 2}


def test_theano_style_mapping_message_is_printed():
    done = run_python("from clgraph.backends import get_context; get_context('dev1')",
                      "contexts=dev1->opencl0:1,print_active_device=True")
    assert done.returncode == 0, done.stderr
    assert "Mapped name dev1 to device opencl0:1: pthread" in done.stderr


def test_bad_contexts_flag_fails_at_first_device_use_naming_the_item():
    done = run_python("from clgraph.backends import get_context; get_context()", "contexts=dev0->opencl5:0")
    assert done.returncode != 0
    assert "no device 'opencl5:0'. Devices present: cpu, opencl0:0" in done.stderr


def test_explicit_absent_device_is_an_error():
    done = run_python("from clgraph.backends import get_context; get_context()", "device=opencl3:0")
    assert "DeviceError: no device 'opencl3:0'" in done.stderr


def test_without_opencl_devices_auto_falls_back_to_cpu_with_a_warning():
    code = """
import warnings
warnings.simplefilter("always")
from clgraph.backends import get_context
print(get_context().name)
"""
    done = run_python(code, pocl_devices="none")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cpu"
    assert "RuntimeWarning: device=auto found no OpenCL device (OpenCL platforms found, but no devices); using cpu" in done.stderr


def test_device_flags_lock_once_a_device_is_in_use():
    from clgraph import config
    from clgraph.configparser import ConfigError

    get_context()
    assert config.device_flags_locked
    with pytest.raises(ConfigError, match="flag device cannot change after a device is in use"):
        config.device = "cpu"
    with pytest.raises(ConfigError, match="flag contexts cannot change"):
        config.contexts = "dev5->opencl0:0"
    config.floatX = config.floatX   # mutable flags still change


def test_a_fresh_registry_discovers_the_same_devices():
    fresh = ContextRegistry()
    assert [d.name for d in fresh.devices()] == [d.name for d in registry.devices()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fresh.default_device() == (registry.devices()[1], "")
