"""A compiled function's kernels built before its first call, as one program per context;
the disk cache saved at exit."""
import json

import numpy as np
import pytest

from clgraph.backends import BuildError, to_device
from clgraph.backends.program import ProgramCache
from conftest import OPENCL_DEVICES, run_python

SCALE = """
KERNEL void scale_{tag}(GLOBAL_MEM char *x_base, ga_ssize x_off, ga_float factor, ga_ssize n)
{{
    GLOBAL_MEM ga_float *x = (GLOBAL_MEM ga_float *)(x_base + x_off);
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0)
        x[i] *= factor;
}}
"""
BROKEN = "KERNEL void broken_together(GLOBAL_MEM char *x_base, ga_ssize x_off) { undeclared = 1; }\n"


def test_sources_built_together_are_one_program_serving_each(kernel_context):
    cache = ProgramCache(kernel_context)
    first, second = SCALE.format(tag="first"), SCALE.format(tag="second")
    cache.get_together([first, second, first])   # a source twice is one part
    assert cache.counts == {"memory": 0, "disk": 0, "built": 1}
    program = cache.get(first)
    assert cache.get(second) is program and cache.counts["built"] == 1
    data = to_device(np.arange(4, dtype=np.float32), kernel_context)
    program.kernel("scale_first")(1, 4, data, np.float32(2), np.int64(4))
    program.kernel("scale_second")(1, 4, data, np.float32(3), np.int64(4))
    assert np.array_equal(data.get(), np.arange(4) * 6.0)
    cache.get_together([first, second])   # all built: nothing to do
    assert cache.counts["built"] == 1


def test_sources_defining_the_same_kernel_are_left_to_build_alone(kernel_context):
    cache = ProgramCache(kernel_context)
    first, second, other = SCALE.format(tag="twice"), SCALE.format(tag="twice") + "\n", SCALE.format(tag="once")
    third = SCALE.format(tag="also")
    cache.get_together([first, second, other, third])   # first and second both define scale_twice
    assert cache.counts["built"] == 1
    assert cache.get(other) is cache.get(third) and cache.counts["built"] == 1
    assert cache.get(first) is not cache.get(other) and cache.counts["built"] == 2


def test_a_source_that_fails_leaves_each_to_build_alone_with_its_own_error(kernel_context):
    cache = ProgramCache(kernel_context)
    good = SCALE.format(tag="beside_broken")
    cache.get_together([good, BROKEN])
    assert cache.counts["built"] == 0
    cache.get(good).kernel("scale_beside_broken")
    assert cache.counts["built"] == 1
    with pytest.raises(BuildError, match="undeclared"):
        cache.get(BROKEN)


_TRAIN = """
import json, numpy as np, clgraph, clgraph.tensor as T
from clgraph.backends import get_context
rng = np.random.default_rng(0)
x, y = T.matrix("x"), T.vector("y")
w = clgraph.shared(rng.standard_normal(20).astype("float32"), name="w")
b = clgraph.shared(np.float32(0), name="b")
p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
cost = xent.mean() + 0.01 * (w ** 2).sum()
gw, gb = T.grad(cost, [w, b])
train = clgraph.function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
compiled = dict(get_context().programs.counts)
data = rng.standard_normal((30, 20)).astype("float32"), (rng.random(30) > 0.5).astype("float32")
train(*data)
transposed = clgraph.function([x], T.exp(x.T) + 1)   # a strided input: a kernel not predicted
transposed(data[0])
print(json.dumps(dict(compiled=compiled, called=dict(get_context().programs.counts))))
"""


@pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")
def test_the_seed_training_function_builds_one_program_then_saves_it_at_exit(tmp_path):
    flags = f"device={OPENCL_DEVICES[0]},floatX=float32,cache.dir={tmp_path}"
    done = run_python(_TRAIN, flags)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.splitlines()[-1])
    # compiling built the training function's kernels; its first call built none
    assert counts["compiled"]["built"] == 1
    assert counts["called"]["built"] == 2   # and the transposed function its strided kernel
    saved = sorted(tmp_path.glob("programs/*/*.bin"))
    assert len(saved) == counts["called"]["built"]   # written when the process exited

    again = json.loads(run_python(_TRAIN, flags).stdout.splitlines()[-1])
    assert again["called"]["built"] == 0 and again["called"]["disk"] == counts["called"]["built"]


def test_cuda_sources_built_together_keep_their_helpers_apart():
    # program.together, as the CUDA driver and nvcc's batches build sources together
    from clgraph.backends import nvcc

    if nvcc.find_nvcc() is None:
        pytest.skip("needs nvcc")
    helper = """
DEVICE_FUNC INLINE ga_float twice(ga_float v) {{ return {factor} * v; }}
KERNEL void scale_{tag}(GLOBAL_MEM char *x_base, ga_ssize x_off) {{
    GLOBAL_MEM ga_float *x = (GLOBAL_MEM ga_float *)(x_base + x_off);
    x[GLOBAL_ID_0] = twice(x[GLOBAL_ID_0]);
}}
"""
    ptx = nvcc.compile_ptx({"a.c": helper.format(factor=2, tag="a"), "b.c": helper.format(factor=3, tag="b")})
    assert ".entry scale_a(" in ptx and ".entry scale_b(" in ptx   # both define twice()
