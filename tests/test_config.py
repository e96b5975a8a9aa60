import os
import re

import pytest

from clgraph.configdefaults import config as global_config
from clgraph.configdefaults import make_config
from clgraph.configparser import Config, ConfigError, Flag, StrParam, UnknownFlagError


def fresh(tmp_path, rc=None, flags=None, **environ):
    """A Config built from a fake environment whose home is ``tmp_path``, so no real rc
    file is read; ``rc`` is the text of an rc file named by CLGRAPHRC."""
    environ = {"HOME": str(tmp_path), **environ}
    if rc is not None:
        environ["CLGRAPHRC"] = write(tmp_path / "clgraphrc", rc)
    if flags is not None:
        environ["CLGRAPH_FLAGS"] = flags
    return make_config(environ)


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.fixture
def config(tmp_path):
    return fresh(tmp_path)


# -- defaults and the global instance ----------------------------------------------------

def test_defaults(config, tmp_path):
    assert config.device == "auto"
    assert config.floatX == "float64"
    assert config.contexts == ""
    assert config.allocator.preallocate == 0.0
    assert config.allocator.max_bytes == 0
    assert config.allow_gc is True
    assert config.sync_launch is False
    assert config.cache.dir == os.path.join(str(tmp_path), ".cache", "clgraph")
    assert config.cache.enabled is True
    assert (config.mode, config.linker, config.optimizer) == ("Mode", "vm", "fast_run")
    assert config.on_unused_input == "raise"
    assert config.compute_test_value == "off"
    assert config.print_active_device is True
    assert not config.device_flags_locked
    assert {config.source_of(flag.name) for flag in config.flags()} == {"default"}


def test_cache_dir_follows_xdg_cache_home(tmp_path):
    config = fresh(tmp_path, XDG_CACHE_HOME="/xdg")
    assert config.cache.dir == os.path.join("/xdg", "clgraph")


def test_global_config_is_a_config():
    assert isinstance(global_config, Config)
    assert global_config.get("floatX") in ("float64", "float32", "float16")


def test_flags_describe_themselves(config):
    by_name = {flag.name: flag for flag in config.flags()}
    assert by_name["floatX"].allowed == "float64, float32, float16"
    assert by_name["floatX"].type == "enum"
    assert by_name["allocator.max_bytes"].type == "int"
    assert by_name["device"].mutable_after_init is False
    assert by_name["floatX"].mutable_after_init is True
    assert all(flag.doc for flag in by_name.values())


def test_str_lists_every_flag_with_value_source_and_doc(config):
    text = str(config)
    for flag in config.flags():
        assert f"\n{flag.name} = " in "\n" + text
    assert "floatX = float64    (default)" in text
    assert "allowed: float64, float32, float16" in text
    assert "contexts = ''    (default)" in text


def test_a_flag_named_like_a_config_attribute_is_refused():
    with pytest.raises(ConfigError, match="shadow Config attributes: flags"):
        Config([Flag("flags", StrParam(), "", "doc")])


# -- values of each type -------------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("true", True), ("False", False), ("1", True), ("0", False), ("YES", True),
    ("no", False), ("On", True), ("off", False), (" yes ", True),
    (True, True), (False, False), (1, True), (0, False),
])
def test_bool_values(config, given, expected):
    config.allow_gc = given
    assert config.allow_gc is expected


@pytest.mark.parametrize("given", ["maybe", "", "2", 2, 1.0, None])
def test_bad_bool_values(config, given):
    with pytest.raises(ConfigError, match=re.escape(
            f"bad value {given!r} for flag allow_gc (from code): allowed values are true/false")):
        config.allow_gc = given


@pytest.mark.parametrize("given, expected", [("1024", 1024), (" 7 ", 7), (4096, 4096), (0, 0)])
def test_int_values(config, given, expected):
    config.allocator.max_bytes = given
    assert config.allocator.max_bytes == expected


@pytest.mark.parametrize("given, reason", [
    ("1k", ""), ("1.5", ""), ("1_000", ""), (1.0, ""), (True, ""),
    ("-1", "must be >= 0; "), (-5, "must be >= 0; "),
])
def test_bad_int_values(config, given, reason):
    with pytest.raises(ConfigError, match=re.escape(
            f"bad value {given!r} for flag allocator.max_bytes (from code): "
            f"{reason}allowed values are integers >= 0")):
        config.allocator.max_bytes = given


@pytest.mark.parametrize("given, expected", [("0.5", 0.5), ("-1", -1.0), (2, 2.0), (1.5, 1.5)])
def test_float_values(config, given, expected):
    config.allocator.preallocate = given
    assert config.allocator.preallocate == expected
    assert isinstance(config.allocator.preallocate, float)


@pytest.mark.parametrize("given", ["half", "nan", float("inf"), True, None])
def test_bad_float_values(config, given):
    with pytest.raises(ConfigError, match=re.escape(
            f"bad value {given!r} for flag allocator.preallocate (from code)")):
        config.allocator.preallocate = given


def test_enum_values(config):
    config.floatX = "float32"
    assert config.floatX == "float32"
    config.optimizer = "None"
    assert config.optimizer == "None"
    with pytest.raises(ConfigError, match=re.escape(
            "bad value 'float8' for flag floatX (from code): "
            "allowed values are float64, float32, float16")):
        config.floatX = "float8"
    with pytest.raises(ConfigError, match="bad value 'FLOAT32' for flag floatX"):
        config.floatX = "FLOAT32"


def test_str_values(config):
    config.optimizer_including = "fusion:inplace"
    assert config.optimizer_including == "fusion:inplace"
    with pytest.raises(ConfigError,
                       match="bad value 3 for flag optimizer_including .*expected a string"):
        config.optimizer_including = 3


def test_path_values_expand_home_and_variables(config, monkeypatch):
    monkeypatch.setenv("CLGRAPH_TEST_ROOT", "/somewhere")
    config.cache.dir = "$CLGRAPH_TEST_ROOT/kernels"
    assert config.cache.dir == "/somewhere/kernels"
    config.cache.dir = "~/kernels"
    assert config.cache.dir == os.path.join(os.path.expanduser("~"), "kernels")
    with pytest.raises(ConfigError, match="bad value 1 for flag cache.dir"):
        config.cache.dir = 1


@pytest.mark.parametrize("given, expected", [
    ("auto", "auto"), ("cpu", "cpu"), ("opencl", "opencl"), ("opencl0:1", "opencl0:1"),
    ("opencl12:3", "opencl12:3"), ("cuda", "cuda"), ("cuda3", "cuda3"),
    ("gpu", "cuda"), ("gpu1", "cuda1"),
])
def test_device_values(config, given, expected):
    config.device = given
    assert config.device == expected


@pytest.mark.parametrize("given", ["openc", "opencl0", "opencl0:", "opencl:1", "cuda-1",
                                   "gpux", "CPU", "cuda0 ", ""])
def test_bad_device_values(config, given):
    with pytest.raises(ConfigError, match=re.escape(
            f"bad value {given!r} for flag device (from code): "
            "allowed values are auto, cpu, opencl, openclP:D, cuda, cudaN, gpu, gpuN")):
        config.device = given


@pytest.mark.parametrize("given, expected", [
    ("", ""),
    ("dev0->cuda0", "dev0->cuda0"),
    ("dev0->cuda0;dev1->opencl0:0", "dev0->cuda0;dev1->opencl0:0"),
    ("_a1 -> gpu2; b->cpu", "_a1->cuda2;b->cpu"),
])
def test_contexts_values(config, given, expected):
    config.contexts = given
    assert config.contexts == expected


@pytest.mark.parametrize("given, bad_item", [
    ("dev0=>cuda0", "dev0=>cuda0"),
    ("->cuda0", "->cuda0"),
    ("dev0->auto", "dev0->auto"),
    ("dev0->cuda0;;dev1->cpu", ""),
    ("dev0->cuda0;", ""),
    ("dev0->cuda0->cpu", "dev0->cuda0->cpu"),
    ("0dev->cpu", "0dev->cpu"),
    ("dev-0->cpu", "dev-0->cpu"),
    ("dev0->openc", "dev0->openc"),
])
def test_bad_contexts_values(config, given, bad_item):
    with pytest.raises(ConfigError, match=re.escape(
            f"bad value {given!r} for flag contexts (from code): "
            f"item {bad_item!r} is not name->device; allowed values are '' or name->device")):
        config.contexts = given


# -- access ---------------------------------------------------------------------------------

def test_generic_and_section_access(config):
    config.set("allocator.preallocate", 0.5)
    assert config.get("allocator.preallocate") == 0.5
    assert config.allocator.preallocate == 0.5
    assert config.source_of("allocator.preallocate") == "code"
    config.allocator.max_bytes = 1024
    assert config.get("allocator.max_bytes") == 1024
    assert config.source_of("allocator.max_bytes") == "code"


def test_alias_names_the_same_flag(config):
    config.set("gpuarray.preallocate", 1)
    assert config.allocator.preallocate == 1.0
    assert config.gpuarray.preallocate == 1.0
    config.gpuarray.preallocate = 2
    assert config.get("allocator.preallocate") == 2.0
    assert config.source_of("gpuarray.preallocate") == "code"


def test_unknown_flag_in_code(config):
    with pytest.raises(UnknownFlagError, match=re.escape(
            "unknown clgraph flag 'flaotX' (from code); "
            "did you mean 'floatX'? Known flags: device, ")):
        config.flaotX
    with pytest.raises(AttributeError, match="unknown clgraph flag 'flaotX'"):
        config.flaotX = "float32"
    with pytest.raises(ConfigError,
                       match="unknown clgraph flag 'allocator.max_byte' .*'allocator.max_bytes'"):
        config.allocator.max_byte = 1
    with pytest.raises(ConfigError,
                       match=r"unknown clgraph flag 'zzz' \(from code\)\. Known flags"):
        config.get("zzz")
    assert not hasattr(config, "flaotX")
    assert config.floatX == "float64"


def test_unknown_flag_without_section_suggests_the_dotted_name(config):
    with pytest.raises(UnknownFlagError, match="did you mean 'allocator.preallocate'"):
        config.set("preallocate", 1)


# -- sources and precedence -----------------------------------------------------------------

def test_precedence_rc_then_env_then_code(tmp_path):
    config = fresh(tmp_path,
                   rc="[global]\nfloatX = float32\ndevice = cpu\nlinker = py\n",
                   flags="floatX=float16, device=cuda0")
    rc_source = f"rc file {tmp_path / 'clgraphrc'}"
    assert (config.linker, config.source_of("linker")) == ("py", rc_source)
    assert (config.device, config.source_of("device")) == ("cuda0", "CLGRAPH_FLAGS")
    assert (config.floatX, config.source_of("floatX")) == ("float16", "CLGRAPH_FLAGS")
    assert config.source_of("mode") == "default"
    config.floatX = "float64"
    assert (config.floatX, config.source_of("floatX")) == ("float64", "code")
    text = str(config)
    assert "floatX = float64    (code)" in text
    assert "device = cuda0    (CLGRAPH_FLAGS)" in text
    assert f"linker = py    ({rc_source})" in text
    assert "mode = Mode    (default)" in text


def test_rc_sections_and_alias(tmp_path):
    config = fresh(tmp_path, rc=(
        "[global]\nfloatX = float32\ncontexts = dev0->cuda0;dev1->opencl0:0\n"
        "[allocator]\nmax_bytes = 4096\n"
        "[gpuarray]\npreallocate = 1\n"
        "[cache]\nenabled = no\ndir = /tmp/kernel%cache\n"))
    assert config.floatX == "float32"
    assert config.contexts == "dev0->cuda0;dev1->opencl0:0"
    assert config.allocator.max_bytes == 4096
    assert config.allocator.preallocate == 1.0
    assert config.cache.enabled is False
    assert config.cache.dir == "/tmp/kernel%cache"
    assert config.source_of("allocator.preallocate").startswith("rc file ")


def test_home_rc_file_is_read_when_clgraphrc_is_unset(tmp_path):
    write(tmp_path / ".clgraphrc", "[global]\nlinker = py\n")
    config = fresh(tmp_path)
    assert config.linker == "py"
    assert config.source_of("linker") == f"rc file {tmp_path / '.clgraphrc'}"


def test_clgraphrc_lists_files_and_later_ones_win(tmp_path):
    first = write(tmp_path / "first", "[global]\nfloatX = float32\nlinker = py\n")
    second = write(tmp_path / "second", "[global]\nfloatX = float16\n")
    write(tmp_path / ".clgraphrc", "[global]\nmode = FAST_RUN\n")
    config = make_config({"HOME": str(tmp_path), "CLGRAPHRC": os.pathsep.join([first, second])})
    assert config.floatX == "float16"
    assert config.source_of("floatX") == f"rc file {second}"
    assert config.source_of("linker") == f"rc file {first}"
    assert config.mode == "Mode"  # CLGRAPHRC replaces ~/.clgraphrc


def test_clgraphrc_naming_a_missing_file(tmp_path):
    missing = str(tmp_path / "missing.rc")
    with pytest.raises(ConfigError,
                       match=re.escape(f"rc file {missing} named in CLGRAPHRC does not exist")):
        make_config({"HOME": str(tmp_path), "CLGRAPHRC": missing})


def test_unparsable_rc_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read rc file .*clgraphrc"):
        fresh(tmp_path, rc="floatX = float32\n")


def test_unknown_flag_in_rc_file(tmp_path):
    with pytest.raises(UnknownFlagError, match=re.escape(
            f"unknown clgraph flag 'flaotX' (from rc file {tmp_path / 'clgraphrc'}); "
            "did you mean 'floatX'?")):
        fresh(tmp_path, rc="[global]\nflaotX = float32\n")
    with pytest.raises(UnknownFlagError, match="unknown clgraph flag 'allocator.prealocate' .*"
                                               "did you mean 'allocator.preallocate'"):
        fresh(tmp_path, rc="[allocator]\nprealocate = 1\n")


def test_bad_value_in_rc_file_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(
            f"bad value 'float8' for flag floatX (from rc file {tmp_path / 'clgraphrc'})")):
        fresh(tmp_path, rc="[global]\nfloatX = float8\n")


def test_flags_string_items(tmp_path):
    config = fresh(tmp_path,
                   flags=" floatX = float32 ,, allocator.max_bytes=64,gpuarray.preallocate=0.5,")
    assert config.floatX == "float32"
    assert config.allocator.max_bytes == 64
    assert config.allocator.preallocate == 0.5
    assert config.source_of("allocator.preallocate") == "CLGRAPH_FLAGS"


def test_flags_string_item_without_equals(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("item 'profile' in CLGRAPH_FLAGS has no '='")):
        fresh(tmp_path, flags="floatX=float32,profile")


def test_unknown_flag_and_bad_value_in_flags_string(tmp_path):
    with pytest.raises(UnknownFlagError, match=re.escape(
            "unknown clgraph flag 'flaotX' (from CLGRAPH_FLAGS); "
            "did you mean 'floatX'? Known flags:")):
        fresh(tmp_path, flags="flaotX=float32")
    with pytest.raises(ConfigError, match=re.escape(
            "bad value 'sometimes' for flag profile (from CLGRAPH_FLAGS)")):
        fresh(tmp_path, flags="profile=sometimes")


# -- change_flags ---------------------------------------------------------------------------

def test_change_flags_restores_value_and_source(tmp_path):
    config = fresh(tmp_path, flags="floatX=float32")
    with config.change_flags(floatX="float16", profile=True):
        assert (config.floatX, config.source_of("floatX")) == ("float16", "code")
        assert config.profile is True
    assert (config.floatX, config.source_of("floatX")) == ("float32", "CLGRAPH_FLAGS")
    assert (config.profile, config.source_of("profile")) == (False, "default")


def test_change_flags_restores_after_an_exception(config):
    with pytest.raises(KeyError):
        with config.change_flags(linker="py"):
            raise KeyError("inside")
    assert (config.linker, config.source_of("linker")) == ("vm", "default")


def test_change_flags_as_decorator(config):
    @config.change_flags({"allocator.max_bytes": 4096}, floatX="float32")
    def inside(depth):
        assert (config.allocator.max_bytes, config.floatX) == (4096, "float32")
        config.floatX = "float16"
        if depth:
            inside(depth - 1)
            assert config.floatX == "float16"  # the inner call restored what it found
        return depth

    assert inside(2) == 2
    assert (config.allocator.max_bytes, config.floatX) == (0, "float64")
    assert config.source_of("floatX") == "default"


def test_change_flags_with_dotted_names_and_aliases(config):
    with config.change_flags({"allocator.max_bytes": "4096", "gpuarray.preallocate": 0.25}):
        assert config.allocator.max_bytes == 4096
        assert config.allocator.preallocate == 0.25
    assert (config.allocator.max_bytes, config.allocator.preallocate) == (0, 0.0)


def test_change_flags_is_all_or_nothing(config):
    with pytest.raises(ConfigError, match="bad value 'float8' for flag floatX"):
        with config.change_flags(linker="py", floatX="float8"):
            pytest.fail("the block must not run")
    with pytest.raises(UnknownFlagError, match="unknown clgraph flag 'lnker'"):
        with config.change_flags(profile=True, lnker="py"):
            pytest.fail("the block must not run")
    assert (config.linker, config.profile) == ("vm", False)
    assert config.source_of("linker") == "default"


# -- the device lock ------------------------------------------------------------------------

@pytest.mark.parametrize("name, current, other", [
    ("device", "opencl0:0", "cpu"),
    ("contexts", "dev0->cpu", "dev0->cuda0"),
    ("allocator.preallocate", 0.0, 0.5),
    ("print_active_device", True, False),
])
def test_locked_device_flags_cannot_change(config, name, current, other):
    config.set(name, current)
    config.lock_device_flags()
    assert config.device_flags_locked
    message = re.escape(f"flag {name} cannot change after a device is in use "
                        f"(it is {current!r}, asked {other!r} from code); "
                        "set it before the first device is used, in CLGRAPH_FLAGS or the rc file")
    with pytest.raises(ConfigError, match=message):
        config.set(name, other)
    with pytest.raises(ConfigError, match=message):
        with config.change_flags({name: other}):
            pytest.fail("the block must not run")
    config.set(name, current)  # the same value is allowed
    assert config.get(name) == current


def test_lock_compares_converted_values(config):
    config.device = "cuda1"
    config.lock_device_flags()
    config.device = "gpu1"
    config.set("gpuarray.preallocate", "0")
    with pytest.raises(ConfigError, match="flag allocator.preallocate cannot change"):
        config.gpuarray.preallocate = 1


def test_mutable_flags_still_change_after_the_lock(config):
    config.lock_device_flags()
    config.floatX = "float32"
    config.allocator.max_bytes = 1024
    with config.change_flags(sync_launch=True):
        assert config.sync_launch is True
    assert config.floatX == "float32"
    assert config.allocator.max_bytes == 1024
    assert config.sync_launch is False
