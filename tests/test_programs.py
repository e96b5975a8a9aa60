"""Program building: the dialect header, build errors, and the memory and disk caches."""
import json
from pathlib import Path

import numpy as np
import pytest

from clgraph import config
from clgraph.backends import BuildError, dialect_header, to_device
from clgraph.backends.program import ProgramCache, render
from conftest import run_python

SCALE = """
KERNEL void scale(GLOBAL_MEM char *x_base, ga_ssize x_off, ga_float factor, ga_ssize n)
{
    GLOBAL_MEM ga_float *x = (GLOBAL_MEM ga_float *)(x_base + x_off);
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0)
        x[i] *= factor * SCALE_BIAS;
}
"""


def unique_source(tag):
    """SCALE under a kernel-name suffix no other test uses, so cache state is known."""
    return SCALE.replace("scale(", f"scale_{tag}(")


def cache_files(directory):
    return sorted(Path(directory, "programs").glob("*/*.bin"))


def test_program_runs_with_options_and_a_byte_offset(kernel_context):
    program = kernel_context.build(SCALE, ["-DSCALE_BIAS=2.0f"])
    data = to_device(np.arange(8, dtype=np.float32), kernel_context)
    view = data[3:]                                   # a nonzero byte offset
    program.scale(1, 4, view, np.float32(1.5), np.int64(view.size))
    assert np.array_equal(data.get(), np.r_[np.arange(3), np.arange(3, 8) * 3.0])


def test_program_source_is_the_header_then_the_kernel(kernel_context):
    program = kernel_context.build(SCALE, ["-DSCALE_BIAS=1.0f"])
    assert program.source == dialect_header(kernel_context.dialect) + "\n" + SCALE
    assert "CLUDA_HEADER_VERSION" in program.source


def test_memory_cache_returns_the_same_program(kernel_context):
    options = ["-DSCALE_BIAS=3.0f"]
    first = kernel_context.build(SCALE, options)
    hits = kernel_context.programs.counts["memory"]
    assert kernel_context.build(SCALE, options) is first
    assert kernel_context.programs.counts["memory"] == hits + 1
    assert kernel_context.build(SCALE, ["-DSCALE_BIAS=4.0f"]) is not first


def test_disk_cache_serves_a_fresh_cache_and_rebuilds_a_corrupt_entry(kernel_context, tmp_path):
    source, options = unique_source("disk"), ["-DSCALE_BIAS=1.0f"]
    with config.change_flags({"cache.dir": str(tmp_path)}):
        cold = ProgramCache(kernel_context)
        cold.get(source, options)
        assert cold.counts == {"memory": 0, "disk": 0, "built": 1}
        assert cache_files(tmp_path) == []   # binaries are saved later (at exit), not at the build
        cold.save()
        [entry] = cache_files(tmp_path)
        assert not list(entry.parent.glob(".tmp-*"))   # written by rename, no temp left

        warm = ProgramCache(kernel_context)
        program = warm.get(source, options)
        assert warm.counts == {"memory": 0, "disk": 1, "built": 0}
        data = to_device(np.ones(4, np.float32), kernel_context)
        program.kernel("scale_disk")(1, 4, data, np.float32(5), np.int64(4))
        assert np.array_equal(data.get(), np.full(4, 5.0))

        for damage in (b"garbage", entry.read_bytes()[:-10]):   # wrong format; truncated
            entry.write_bytes(damage)
            again = ProgramCache(kernel_context)
            again.get(source, options)
            assert again.counts == {"memory": 0, "disk": 0, "built": 1}
            again.save()
            assert ProgramCache(kernel_context).get(source, options) is not None   # rewritten, valid


def test_disk_entry_that_the_driver_rejects_is_rebuilt(kernel_context, tmp_path):
    from clgraph.backends.program import _MAGIC
    import hashlib

    source, options = unique_source("reject"), ["-DSCALE_BIAS=1.0f"]
    with config.change_flags({"cache.dir": str(tmp_path)}):
        first = ProgramCache(kernel_context)
        first.get(source, options)
        first.save()
        [entry] = cache_files(tmp_path)
        bogus = b"not a device binary"
        entry.write_bytes(_MAGIC + hashlib.sha256(bogus).digest() + bogus)   # checksum is fine
        rebuilt = ProgramCache(kernel_context)
        rebuilt.get(source, options)
        assert rebuilt.counts["built"] == 1


def test_disabled_cache_writes_nothing_and_always_builds(kernel_context, tmp_path):
    source, options = unique_source("off"), ["-DSCALE_BIAS=1.0f"]
    with config.change_flags({"cache.dir": str(tmp_path), "cache.enabled": False}):
        for _ in range(2):
            fresh = ProgramCache(kernel_context)
            fresh.get(source, options)
            fresh.save()
            assert fresh.counts["built"] == 1
    assert cache_files(tmp_path) == []


def test_cache_key_covers_source_options_and_device(kernel_context, tmp_path):
    with config.change_flags({"cache.dir": str(tmp_path)}):
        cache = ProgramCache(kernel_context)
        cache.get(unique_source("key"), ["-DSCALE_BIAS=1.0f"])
        cache.get(unique_source("key"), ["-DSCALE_BIAS=2.0f"])
        cache.get(unique_source("key2"), ["-DSCALE_BIAS=1.0f"])
        cache.save()
        assert len(cache_files(tmp_path)) == 3


def test_second_process_builds_from_the_disk_cache(tmp_path):
    code = f"""
import json, time
from clgraph.backends import get_context
source = {unique_source("process")!r}
context = get_context()
start = time.perf_counter()
context.build(source, ["-DSCALE_BIAS=1.0f"]).kernel("scale_process")
print(json.dumps(dict(context.programs.counts, seconds=time.perf_counter() - start)))
"""
    flags = f"cache.dir={tmp_path}"
    cold, warm = (run_python(code, flags) for _ in range(2))
    assert cold.returncode == 0 and warm.returncode == 0, cold.stderr + warm.stderr
    cold, warm = json.loads(cold.stdout), json.loads(warm.stdout)
    assert (cold["built"], cold["disk"]) == (1, 0)
    assert (warm["built"], warm["disk"]) == (0, 1)


def test_build_failure_carries_dialect_device_options_log_and_numbered_source(kernel_context):
    broken = "KERNEL void broken(GLOBAL_MEM char *x_base, ga_ssize x_off)\n{\n    undeclared_name = 1;\n}\n"
    with pytest.raises(BuildError) as caught:
        kernel_context.build(broken, ["-DSOME_OPTION=1"])
    error = caught.value
    assert error.dialect == kernel_context.dialect
    assert error.options == ["-DSOME_OPTION=1"]
    assert "undeclared_name" in error.log
    header_lines = len(dialect_header(kernel_context.dialect).splitlines())
    message = str(error)
    assert f"{kernel_context.dialect} build failed on {kernel_context.info.name}" in message
    assert f"{header_lines + 4:4d} |     undeclared_name = 1;" in message
    assert "--- build log ---" in message and "-DSOME_OPTION=1" in message
    # the failure is not cached: the context still builds
    assert kernel_context.build(SCALE, ["-DSCALE_BIAS=1.0f"]) is not None


def test_render_fills_template_fields():
    source = render("strided_copy.c", name="copy", dst_type="ga_float", dim_params=", ga_ssize dim0, ga_ssize str0",
                    index_lines="", store="dst[i] = 1", run=1, inner_dim="dim0", inner_stride="str0")
    assert "GLOBAL_MEM ga_float *dst" in source and "${" not in source
    with pytest.raises(KeyError, match="store"):
        render("strided_copy.c", name="copy", dst_type="ga_float", dim_params="", index_lines="", run=1,
               inner_dim="dim0", inner_stride="str0")
